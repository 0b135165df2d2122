//! Text normalisation shared by watchlists and screening: splitting text into
//! case-folded word tokens that remember where they came from, so a match can be
//! reported as the exact span of the original text.

/// A word of the text: a maximal run of letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The case-folded form compared against names.
    pub norm: String,
    /// Byte offset of the first character in the original text.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
}

/// Splits `text` into tokens. Punctuation, hyphens, apostrophes and spaces all
/// separate tokens, so "Maia-1" and "MAIA 1" give the same tokens, and a token never
/// starts inside a word ("reed" is not a token of "agreed").
pub fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            let (_, norm) = current.get_or_insert_with(|| (i, String::new()));
            norm.extend(c.to_lowercase());
        } else if let Some((start, norm)) = current.take() {
            out.push(Token {
                norm,
                start,
                end: i,
            });
        }
    }
    if let Some((start, norm)) = current {
        out.push(Token {
            norm,
            start,
            end: text.len(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norms(s: &str) -> Vec<String> {
        tokens(s).into_iter().map(|t| t.norm).collect()
    }

    #[test]
    fn punctuation_and_case_separate_and_fold() {
        assert_eq!(norms("Maia-1"), norms("MAIA 1"));
        assert_eq!(
            norms("Kim Jong Un's regime"),
            ["kim", "jong", "un", "s", "regime"]
        );
        assert_eq!(norms("  "), Vec::<String>::new());
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "Ship «Lady R» sailed";
        let t = tokens(text);
        assert_eq!(&text[t[1].start..t[1].end], "Lady");
        assert_eq!(&text[t[2].start..t[2].end], "R");
        assert_eq!(t[3].end, text.len());
    }

    #[test]
    fn non_latin_letters_are_words() {
        assert_eq!(norms("김정은, Ким Чен Ын"), ["김정은", "ким", "чен", "ын"]);
    }
}
