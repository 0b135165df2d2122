//! Sentence boundaries good enough to quote the sentence around a hit: a sentence
//! ends at `.`, `!` or `?` followed by space and a capital, digit or quote, unless the
//! word before is a known abbreviation; line breaks always end one.

use std::ops::Range;

/// Longest quote, in bytes (roughly); longer sentences are cut around the hit.
pub const MAX_SENTENCE_BYTES: usize = 320;

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "no", "nos", "jr", "sr", "gen", "col", "lt", "sgt", "capt",
    "gov", "sen", "rep", "inc", "ltd", "co", "corp", "vs", "etc", "e.g", "i.e", "u.s", "u.k",
    "u.n", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "approx", "fig",
];

fn is_boundary(text: &str, dot: usize) -> bool {
    let after = &text[dot + 1..];
    let mut chars = after.chars();
    match chars.next() {
        None => return true,
        Some(c) if !c.is_whitespace() => return false,
        _ => {}
    }
    let next = after.trim_start().chars().next();
    if !next.is_some_and(|c| {
        c.is_uppercase() || c.is_ascii_digit() || matches!(c, '"' | '“' | '\'' | '‘' | '(')
    }) {
        return false;
    }
    if &text[dot..dot + 1] != "." {
        return true;
    }
    let word_start = text[..dot]
        .rfind(|c: char| c.is_whitespace() || c == '(')
        .map_or(0, |i| i + 1);
    // A single capital before the dot is taken as the end of a name ("the Lady R."),
    // not an initial: vessel names end that way more often than quotes split on one.
    let word = &text[word_start..dot];
    let abbreviation = if word.is_ascii() {
        // The list is lower-case ASCII: no need to lower-case a copy.
        ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
    } else {
        ABBREVIATIONS.contains(&word.to_lowercase().as_str())
    };
    !abbreviation
}

/// The byte range of the sentence containing `hit` (trimmed).
pub fn sentence_around(text: &str, hit: Range<usize>) -> Range<usize> {
    let mut start = 0;
    for (i, c) in text[..hit.start].char_indices().rev() {
        if c == '\n' || (matches!(c, '.' | '!' | '?') && is_boundary(text, i)) {
            start = i + c.len_utf8();
            break;
        }
    }
    let mut end = text.len();
    for (i, c) in text[hit.end..].char_indices() {
        let at = hit.end + i;
        if c == '\n' {
            end = at;
            break;
        }
        if matches!(c, '.' | '!' | '?') && is_boundary(text, at) {
            end = at + 1;
            break;
        }
    }
    let slice = &text[start..end];
    let lead = slice.len() - slice.trim_start().len();
    let trail = slice.len() - slice.trim_end().len();
    start + lead..end - trail
}

/// The byte ranges of every sentence of `text` (trimmed, non-empty), in order.
pub fn split_sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let push = |from: usize, to: usize, out: &mut Vec<Range<usize>>| {
        let slice = &text[from..to];
        let lead = slice.len() - slice.trim_start().len();
        let trail = slice.len() - slice.trim_end().len();
        if from + lead < to - trail {
            out.push(from + lead..to - trail);
        }
    };
    for (i, c) in text.char_indices() {
        if c == '\n' {
            push(start, i, &mut out);
            start = i + 1;
        } else if matches!(c, '.' | '!' | '?') && is_boundary(text, i) {
            push(start, i + 1, &mut out);
            start = i + 1;
        }
    }
    push(start, text.len(), &mut out);
    out
}

/// The sentence around `hit`, cut to about [`MAX_SENTENCE_BYTES`] around the hit with
/// `…` where cut. Returns the quote and the hit's range within it.
pub fn quote_around(text: &str, hit: Range<usize>) -> (String, Range<usize>) {
    let s = sentence_around(text, hit.clone());
    let (mut from, mut to) = (s.start, s.end);
    if to - from > MAX_SENTENCE_BYTES {
        let room = MAX_SENTENCE_BYTES.saturating_sub(hit.end - hit.start) / 2;
        from = from.max(hit.start.saturating_sub(room));
        to = to.min(hit.end + room);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        while !text.is_char_boundary(to) {
            to += 1;
        }
    }
    let mut quote = String::new();
    if from > s.start {
        quote.push('…');
    }
    let offset = quote.len();
    quote.push_str(&text[from..to]);
    if to < s.end {
        quote.push('…');
    }
    (quote, hit.start - from + offset..hit.end - from + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn around<'a>(text: &'a str, needle: &str) -> &'a str {
        let start = text.find(needle).unwrap();
        let r = sentence_around(text, start..start + needle.len());
        &text[r]
    }

    #[test]
    fn splits_all_sentences() {
        let text = "South Korea acted. Mr. Kim said so!\nNew line here";
        let got: Vec<&str> = split_sentences(text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            got,
            ["South Korea acted.", "Mr. Kim said so!", "New line here"]
        );
        assert!(split_sentences("  ").is_empty());
    }

    #[test]
    fn finds_the_sentence() {
        let text = "South Korea acted. The vessels included the Maia-1 and Maria. Japan followed.";
        assert_eq!(
            around(text, "Maia-1"),
            "The vessels included the Maia-1 and Maria."
        );
    }

    #[test]
    fn abbreviations_and_initials_do_not_split() {
        let text = "Officials said the U.S. Treasury named Mr. Kim and the Lady R. It was Friday.";
        assert_eq!(
            around(text, "Lady R"),
            "Officials said the U.S. Treasury named Mr. Kim and the Lady R."
        );
    }

    #[test]
    fn lines_end_sentences_and_long_ones_are_cut() {
        assert_eq!(
            around("Title line\nThe Angara sailed", "Angara"),
            "The Angara sailed"
        );
        let long = format!("{} Angara {}.", "word ".repeat(200), "word ".repeat(200));
        let start = long.find("Angara").unwrap();
        let (quote, r) = quote_around(&long, start..start + 6);
        assert!(quote.len() <= MAX_SENTENCE_BYTES + 8, "{}", quote.len());
        assert!(quote.starts_with('…') && quote.ends_with('…'));
        assert_eq!(&quote[r], "Angara");
    }
}
