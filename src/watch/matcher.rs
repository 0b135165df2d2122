//! The exact-token matcher: a name or alias matches where its normalised tokens appear
//! consecutively in the text's tokens. Whole words only, case- and
//! punctuation-insensitive. Built once per watchlist; screening is a single pass.

use std::collections::HashMap;

use super::normalize::{Token, tokens};
use super::{Hit, Screener, WatchEntry};

struct Pattern {
    tokens: Vec<String>,
    entry: usize,
    is_alias: bool,
}

/// Screens text against the entries of one or more watchlists.
pub struct ExactMatcher {
    entries: Vec<(String, WatchEntry)>,
    by_first_token: HashMap<String, Vec<Pattern>>,
}

impl ExactMatcher {
    /// Builds the matcher from `(list name, entry)` pairs.
    pub fn new(entries: impl IntoIterator<Item = (String, WatchEntry)>) -> ExactMatcher {
        let entries: Vec<_> = entries.into_iter().collect();
        let mut by_first_token: HashMap<String, Vec<Pattern>> = HashMap::new();
        for (index, (_, entry)) in entries.iter().enumerate() {
            for (n, name) in entry.names().enumerate() {
                let toks: Vec<String> = tokens(name).into_iter().map(|t| t.norm).collect();
                let Some(first) = toks.first().cloned() else {
                    continue;
                };
                let patterns = by_first_token.entry(first).or_default();
                if !patterns
                    .iter()
                    .any(|p| p.entry == index && p.tokens == toks)
                {
                    patterns.push(Pattern {
                        tokens: toks,
                        entry: index,
                        is_alias: n > 0,
                    });
                }
            }
        }
        for patterns in by_first_token.values_mut() {
            // Longest first, so "Kim Jong Un" wins over "Kim" at the same place.
            patterns.sort_by_key(|p| std::cmp::Reverse(p.tokens.len()));
        }
        ExactMatcher {
            entries,
            by_first_token,
        }
    }

    /// Number of entries screened.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is nothing to screen for.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn matches_at(pattern: &Pattern, text_tokens: &[Token], at: usize) -> bool {
        text_tokens.len() >= at + pattern.tokens.len()
            && pattern
                .tokens
                .iter()
                .zip(&text_tokens[at..])
                .all(|(p, t)| *p == t.norm)
    }
}

impl Screener for ExactMatcher {
    fn screen(&self, text: &str) -> Vec<Hit> {
        let text_tokens = tokens(text);
        let mut hits = Vec::new();
        for at in 0..text_tokens.len() {
            let Some(patterns) = self.by_first_token.get(&text_tokens[at].norm) else {
                continue;
            };
            let mut seen_entries = Vec::new();
            for pattern in patterns {
                if seen_entries.contains(&pattern.entry)
                    || !Self::matches_at(pattern, &text_tokens, at)
                {
                    continue;
                }
                seen_entries.push(pattern.entry);
                let (list, entry) = &self.entries[pattern.entry];
                let start = text_tokens[at].start;
                let end = text_tokens[at + pattern.tokens.len() - 1].end;
                hits.push(Hit {
                    list: list.clone(),
                    entry_id: entry.id.clone(),
                    name: entry.name.clone(),
                    kind: entry.kind,
                    matched_text: text[start..end].to_string(),
                    start,
                    end,
                    score: 1.0,
                    reason: if pattern.is_alias {
                        "alias, exact"
                    } else {
                        "name, exact"
                    }
                    .to_string(),
                });
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::EntryKind;

    fn matcher(entries: &[(&str, EntryKind, &[&str])]) -> ExactMatcher {
        ExactMatcher::new(entries.iter().map(|(name, kind, aliases)| {
            (
                "list".to_string(),
                WatchEntry::new(name, *kind, aliases.iter().map(|a| a.to_string()).collect()),
            )
        }))
    }

    #[test]
    fn hyphens_case_and_spacing_do_not_matter() {
        let m = matcher(&[("Maia-1", EntryKind::Vessel, &[])]);
        let hits = m.screen("The cargo ship MAIA 1 left port.");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].matched_text, "MAIA 1");
        assert_eq!((hits[0].start, hits[0].end), (15, 21));
    }

    #[test]
    fn whole_words_only() {
        let m = matcher(&[("Reed", EntryKind::Person, &[])]);
        assert!(m.screen("The parties agreed to talks.").is_empty());
        assert_eq!(m.screen("Mr. Reed agreed.").len(), 1);
    }

    #[test]
    fn aliases_match_and_say_so() {
        let m = matcher(&[("Kim Jong Un", EntryKind::Person, &["Kim Jong-un"])]);
        let hits = m.screen("Leader Kim Jong-un, and later Kim Jong Un's regime.");
        assert_eq!(hits.len(), 2);
        assert!(hits.iter().all(|h| h.name == "Kim Jong Un"));
        // Both spellings normalise to the same tokens, so the first listed (the name) wins.
        assert_eq!(hits[1].matched_text, "Kim Jong Un");
    }

    #[test]
    fn longest_name_wins_at_one_place_but_entries_are_separate() {
        let m = matcher(&[
            ("Lady R", EntryKind::Vessel, &[]),
            ("Lady", EntryKind::Any, &[]),
        ]);
        let hits = m.screen("the Lady R docked");
        assert_eq!(hits.len(), 2, "each entry reports its own hit");
        assert_eq!(hits[0].matched_text, "Lady R");
    }

    #[test]
    fn partial_name_does_not_match() {
        let m = matcher(&[("Lady R", EntryKind::Vessel, &[])]);
        assert!(m.screen("a lady rode by").is_empty());
        assert!(m.screen("at the end: Lady").is_empty());
    }
}
