//! The extractive summary: the one to three sentences of an item's own text that
//! carry the news — the ones naming the acting authority, the action and the watched
//! names, preferring the lead — with page furniture ([`super::furniture`]: repeats
//! of the title, section labels, timestamps, bylines, datelines, photo captions,
//! "read more", disclaimers) left out, kept short enough for a phone screen. Also makes a title written in capitals readable.

use std::ops::Range;

use super::furniture::article_sentences;
use super::recognise::{Action, recognise};
use crate::screening::normalize::tokens;

/// Longest summary, in characters, not counting the title and the quoted hits.
pub const MAX_SUMMARY_CHARS: usize = 420;

/// Sentences shorter than this (in characters) are not worth a line of their own.
const MIN_SENTENCE_CHARS: usize = 30;

/// Share of `a`'s words found in `b`.
fn word_overlap(a: &str, b: &str) -> f32 {
    let wa: Vec<String> = tokens(a).into_iter().map(|t| t.norm).collect();
    if wa.is_empty() {
        return 0.0;
    }
    let wb: std::collections::HashSet<String> = tokens(b).into_iter().map(|t| t.norm).collect();
    wa.iter().filter(|w| wb.contains(*w)).count() as f32 / wa.len() as f32
}

/// Chooses up to `max_sentences` sentences of `text` (byte ranges, in text order)
/// that carry the news of an item titled `title`. Sentences overlapping any of
/// `skip` (e.g. those already quoted for a hit) are left out.
pub fn summary_sentences(
    title: &str,
    text: &str,
    max_sentences: usize,
    skip: &[Range<usize>],
) -> Vec<Range<usize>> {
    let sentences = article_sentences(title, text);
    let mut scored: Vec<(f32, usize, Range<usize>)> = Vec::new();
    for (i, r) in sentences.iter().enumerate() {
        let sentence = &text[r.clone()];
        let chars = sentence.chars().count();
        if skip.iter().any(|s| s.start < r.end && r.start < s.end)
            || (chars < MIN_SENTENCE_CHARS && sentences.len() > 1)
            || word_overlap(sentence, title) > 0.8
        {
            continue;
        }
        let recognised = recognise(sentence, "", "");
        let mut score = 0.0;
        if recognised.action != Action::Other {
            score += 2.0;
        }
        if recognised.authority.is_some() {
            score += 1.5;
        }
        score += match i {
            0 => 1.5,
            1 => 0.75,
            _ => 0.0,
        };
        if chars > 300 {
            score -= 1.0;
        }
        if sentence.starts_with(['"', '“', '\'']) {
            score -= 0.5;
        }
        scored.push((score, i, r.clone()));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<(usize, Range<usize>)> = Vec::new();
    let mut used = 0;
    for (score, i, r) in scored {
        if chosen.len() >= max_sentences {
            break;
        }
        // Only sentences that say something about the action, authority or lead.
        if score <= 0.0 && !chosen.is_empty() {
            break;
        }
        let chars = text[r.clone()].chars().count();
        if used + chars > MAX_SUMMARY_CHARS && !chosen.is_empty() {
            continue;
        }
        used += chars;
        chosen.push((i, r));
    }
    chosen.sort_by_key(|(i, _)| *i);
    chosen.into_iter().map(|(_, r)| r).collect()
}

/// Short words kept in capitals when a shouting title is made readable.
const ACRONYMS: &[&str] = &[
    "US", "USA", "UK", "EU", "UN", "OFAC", "OFSI", "FCDO", "BIS", "SDN", "DPRK", "ROK", "UAE",
    "GL", "LLC", "LTD", "JSC", "PJSC", "OOO", "IRGC", "FSB", "GRU", "CEO", "NATO", "G7", "HM",
    "II", "III", "IV",
];

/// Small words written in lower case inside a title.
const SMALL_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to", "with",
    "from", "over",
];

/// A title written entirely in capitals, in title case (acronyms and words with
/// digits kept); any other title unchanged.
pub fn readable_title(title: &str) -> String {
    let letters: Vec<char> = title.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() < 8 || letters.iter().any(|c| c.is_lowercase()) {
        return title.to_string();
    }
    let mut out = String::with_capacity(title.len());
    let mut word = String::new();
    let mut first = true;
    let flush = |word: &mut String, out: &mut String, first: &mut bool| {
        if word.is_empty() {
            return;
        }
        let keep = ACRONYMS.contains(&word.as_str()) || word.chars().any(|c| c.is_ascii_digit());
        if keep {
            out.push_str(word);
        } else {
            let lower = word.to_lowercase();
            if !*first && SMALL_WORDS.contains(&lower.as_str()) {
                out.push_str(&lower);
            } else {
                let mut chars = lower.chars();
                if let Some(c) = chars.next() {
                    out.extend(c.to_uppercase());
                    out.push_str(chars.as_str());
                }
            }
        }
        *first = false;
        word.clear();
    };
    for c in title.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out, &mut first);
            out.push(c);
        }
    }
    flush(&mut word, &mut out, &mut first);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str =
        include_str!("../../crates/screening/tests/data/seed-article-2024-05-25.txt");

    fn chosen<'a>(title: &str, text: &'a str, n: usize) -> Vec<&'a str> {
        summary_sentences(title, text, n, &[])
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn seed_article_summary_leads_with_the_news_and_skips_furniture() {
        let (title, body) = SEED.split_once('\n').unwrap();
        let got = chosen(title, body, 3);
        assert!(!got.is_empty() && got.len() <= 3, "{got:?}");
        assert!(
            got[0].starts_with("South Korea has sanctioned seven North Korean nationals"),
            "{got:?}"
        );
        assert!(
            got.iter()
                .all(|s| !s.contains("Disclaimer") && !s.contains("Post At")),
            "{got:?}"
        );
        let total: usize = got.iter().map(|s| s.chars().count()).sum();
        assert!(total <= MAX_SUMMARY_CHARS, "{total}");
    }

    #[test]
    fn empty_and_title_only_text_give_nothing() {
        assert!(chosen("Russia-related Designations", "", 3).is_empty());
        assert!(
            chosen(
                "Russia-related Designations",
                "Russia-related Designations",
                3
            )
            .is_empty()
        );
        let one = "The Department of the Treasury's Office of Foreign Assets Control today designated three vessels.";
        assert_eq!(chosen("Russia-related Designations", one, 3), [one]);
    }

    #[test]
    fn shouting_titles_become_readable() {
        assert_eq!(
            readable_title("TREASURY SANCTIONS DPRK NETWORK AND THE MAIA-1"),
            "Treasury Sanctions DPRK Network and the Maia-1"
        );
        assert_eq!(
            readable_title("OFAC: Russia-related"),
            "OFAC: Russia-related"
        );
    }
}
