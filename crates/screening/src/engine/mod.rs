//! The screening engine: an index built once over one or more watchlists, and the
//! screening of a text against it. Pure and synchronous; shared by the bot, the `test`
//! command and `sanctions-watch screen`.
//!
//! # Index
//!
//! Every name, alias and weak alias is tokenised ([`super::normalize`]) and its tokens
//! interned to integer ids in one vocabulary (a hash table of ids over a single string
//! arena). A name is a *pattern*: a slice of an arena of token ids plus a few flags.
//! Short parts written together or apart ("Kim Jong-un" / "Kim Jongun") get a joined
//! variant pattern. Each pattern is filed under one *anchor* token: the rarer of its
//! first and last core tokens (legal forms such as "Ltd" are not core). Every way a
//! name can match (exact, reordered, middle name missing, near spellings) contains
//! both of those, so looking up each token of a text in the anchor postings (a CSR
//! array indexed by token id) finds every candidate without scanning the list. A
//! symmetric-deletion index over the anchor tokens ([`super::fuzzy`]) finds anchors
//! spelt nearly like a word of the text. IMO and MMSI numbers are a map of their own.
//!
//! # Screening a text
//!
//! The text is tokenised and its words looked up in the vocabulary, through a small
//! per-thread cache of recent short words that answers most lookups (the words it
//! lacks are looked up together afterwards, so that their reads overlap). Words
//! that may stand for a name part (in the vocabulary, initials, words eligible for
//! near spellings) are *marked*; candidates come from the postings of marked words
//! and of the anchors near eligible words (remembered per thread for words seen
//! lately; the words of a text not remembered are looked up in the deletion index
//! together, so that their scattered reads overlap), and a candidate is kept only
//! if the other end of its name is among the marked words within reach (for the
//! postings found through a near spelling, the marks around the word are summed up
//! first, which rules most of them out at once). A near
//! spelling of a one-word name that cannot reach the threshold, whatever legal
//! forms follow it, is not a candidate.
//!
//! # Rules a candidate must pass
//!
//! - **Exact**: the pattern's tokens appear consecutively (a text word may also stand
//!   for two name parts written together, and two text words for one). Names and
//!   aliases score 1.0 ("name, exact", "alias, exact"); weak aliases match only this
//!   way ("weak alias, exact").
//! - **Aligned**: otherwise the name parts are aligned with the words around the
//!   anchor. Each part matches a word exactly or, with fuzzy matching on, within an
//!   edit bound relative to its length ([`super::fuzzy::max_edits`]); the score is the
//!   length-weighted similarity of the aligned parts, less small penalties. People's
//!   names may come in any order and one side may carry middle names the other lacks,
//!   but the first and last parts of the listed name must both be there, so a single
//!   shared given name never counts. Other names must keep their order and may only
//!   drop or add legal forms. Numbers only ever match exactly.
//! - **Numbers are identity**: a name followed directly by a number it does not have
//!   ("Maia-2" for a listed "Maia") is a different name.
//! - **Vessel context**: a vessel whose name is a single word ("Maria", "Angara")
//!   scores at most 0.4 (below any sensible threshold) unless a vessel word (ship,
//!   tanker, cargo, IMO, flag...) is within 12 words, or its IMO/MMSI is in the text.
//! - **IMO/MMSI**: "IMO 9179484", "IMO: 9179484", "IMO No. 9179484" (and MMSI the same
//!   way) match the vessel with that number whatever name is printed beside it.
//!
//! Hits below the engine's threshold are dropped; of overlapping hits of one entry the
//! best is kept.
//!
//! # Where it lives
//!
//! This file holds the options, the engine's public methods and the steps of
//! [`ScreeningEngine::screen_text`] in order; each step has a file of its own:
//!
//! - `index.rs`: the index and its build ([`EngineBuilder`]): the vocabulary, the
//!   patterns, the anchor postings and the records near spellings are checked
//!   against.
//! - `candidates.rs`: a text made ready (its words looked up in the vocabulary, the
//!   words that may be name parts marked) and the tests that rule a posting out
//!   before its pattern is read.
//! - `near.rs`: the anchors spelt nearly like a word of the text, from the deletion
//!   index, and their postings.
//! - `word_memory.rs`: what a thread remembers of words from one text to the next
//!   ([`forget_recent_words`] makes it forget).
//! - `verify.rs`: the rules above, and the hits made of the candidates that pass.

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use crate::fuzzy::DeletionIndex;
use crate::{EntryKind, Hit, Screener, WatchEntry};

mod candidates;
mod index;
mod near;
mod verify;
mod word_memory;

use candidates::{Doc, Mark, MarksAround, SCRATCH, Scratch, mark_words};
pub use index::EngineBuilder;
use index::{AnchorWord, IdScheme, Pattern, Posting, Vocab};
use verify::RawHit;
pub use word_memory::forget_recent_words;

/// The threshold used when a list sets none.
pub const DEFAULT_THRESHOLD: f32 = 0.8;

/// How an engine screens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineOptions {
    /// Hits scoring below this are not reported.
    pub threshold: f32,
    /// Whether near spellings are matched (otherwise only exact name parts).
    pub fuzzy: bool,
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions {
            threshold: DEFAULT_THRESHOLD,
            fuzzy: true,
        }
    }
}

const NONE: u32 = u32::MAX;

/// An index over watchlist entries that screens text (see the module docs).
pub struct ScreeningEngine {
    /// This engine's own number (see [`RecentWords`](word_memory::RecentWords)).
    serial: u64,
    options: EngineOptions,
    lists: Vec<String>,
    vocab: Vocab,
    patterns: Vec<Pattern>,
    tokens: Vec<u32>,
    anchor_offsets: Vec<u32>,
    anchor_postings: Vec<Posting>,
    deletions: DeletionIndex,
    /// [`signature`](crate::fuzzy::signature) of each vocabulary word, when fuzzy
    /// matching is on.
    signatures: Vec<u32>,
    /// [`AnchorWord`] of each vocabulary word, when fuzzy matching is on (read only
    /// for the words [`Self::deletions`] indexes).
    anchor_words: Vec<AnchorWord>,
    entry_text: String,
    entry_ends: Vec<(u32, u32)>,
    entry_kinds: Vec<EntryKind>,
    entry_lists: Vec<u16>,
    identifiers: FxHashMap<(IdScheme, u64), Vec<u32>>,
}

/// Sizes of a built index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineStats {
    /// Entries indexed.
    pub entries: usize,
    /// Names, aliases and their variants.
    pub patterns: usize,
    /// Distinct name parts.
    pub vocabulary: usize,
    /// Entries of the near-spelling index.
    pub deletion_entries: usize,
    /// Threads that built the near-spelling index (1 when there is none).
    pub deletion_build_threads: usize,
    /// Approximate heap bytes held by the index.
    pub heap_bytes: usize,
}

impl ScreeningEngine {
    /// Builds an engine over the entries of one list.
    pub fn for_list<'a>(
        list: &str,
        entries: impl IntoIterator<Item = &'a WatchEntry>,
        options: EngineOptions,
    ) -> ScreeningEngine {
        let mut b = EngineBuilder::new();
        let l = b.add_list(list);
        for e in entries {
            b.add(l, e);
        }
        b.finish(options)
    }

    /// The options it was built with.
    pub fn options(&self) -> EngineOptions {
        self.options
    }

    /// Sizes of the index.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            entries: self.entry_kinds.len(),
            patterns: self.patterns.len(),
            vocabulary: self.vocab.len(),
            deletion_entries: self.deletions.len(),
            deletion_build_threads: self.deletions.build_threads(),
            heap_bytes: self.vocab.heap_bytes()
                + self.patterns.capacity() * std::mem::size_of::<Pattern>()
                + (self.tokens.capacity() + self.anchor_offsets.capacity()) * 4
                + self.anchor_postings.capacity() * std::mem::size_of::<Posting>()
                + self.deletions.heap_bytes()
                + self.signatures.capacity() * 4
                + self.anchor_words.capacity() * std::mem::size_of::<AnchorWord>()
                + self.entry_text.capacity()
                + self.entry_ends.capacity() * 8
                + self.entry_kinds.capacity()
                + self.entry_lists.capacity() * 2
                + self.identifiers.capacity() * 48,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entry_kinds.len()
    }

    /// True when there is nothing to screen for.
    pub fn is_empty(&self) -> bool {
        self.entry_kinds.is_empty()
    }

    /// Screens `text` and returns every hit at or above the threshold, by position.
    pub fn screen_text(&self, text: &str) -> Vec<Hit> {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                let hits = self.screen_with(text, &mut scratch);
                scratch.trim();
                hits
            }
            Err(_) => self.screen_with(text, &mut Scratch::default()),
        })
    }

    fn screen_with(&self, text: &str, scratch: &mut Scratch) -> Vec<Hit> {
        let identifier_word = self.prepare(text, scratch);
        let Scratch {
            tok,
            slots,
            cands,
            marks,
            first_mark,
            recent,
            ..
        } = scratch;
        cands.clear();
        mark_words(slots, marks, first_mark);
        let doc = Doc {
            text,
            tok,
            slots,
            marks,
            first_mark,
        };
        let mut raw: Vec<RawHit> = Vec::new();
        let ids_in_doc = if identifier_word {
            self.identifier_hits(&doc, &mut raw)
        } else {
            HashSet::new()
        };

        // Candidates: (pattern, slot where its anchor was seen). Only marked words
        // are name parts.
        for m in doc.marks {
            for id in [m.id, m.native, m.join] {
                for posting in self.postings(id) {
                    if self.other_end_may_be_near(&doc, m.at as usize, posting) {
                        cands.push((posting.pattern, m.at));
                    }
                }
            }
        }
        if self.options.fuzzy && !self.deletions.is_empty() {
            // The postings of the words near each eligible word of the text (the
            // marked words with a signature).
            let eligible: Vec<&Mark> = doc.marks.iter().filter(|m| m.sig != 0).collect();
            let words: Vec<&str> = (eligible.iter())
                .map(|m| doc.folded(m.at as usize))
                .collect();
            recent.near_postings_of(self, &words, |k, near| {
                if near.is_empty() {
                    return;
                }
                let (i, join) = (eligible[k].at as usize, eligible[k].join);
                let around = MarksAround::new(&doc, i);
                for near in near {
                    if near.too_far && near.word != join {
                        continue;
                    }
                    if around.may_hold(&near.posting)
                        && self.other_end_may_be_near(&doc, i, &near.posting)
                    {
                        cands.push((near.posting.pattern, i as u32));
                    }
                }
            });
        }
        cands.sort_unstable();
        cands.dedup();

        // Read every candidate's pattern, then its tokens and entry kind, then
        // where the tokens' spellings are, then the spellings, in loops of
        // independent reads that overlap, so that verifying finds them in cache
        // instead of waiting on each in turn.
        let mut touched = 0u32;
        for &(p, _) in cands.iter() {
            touched ^= self.patterns[p as usize].tok_start;
        }
        for &(p, _) in cands.iter() {
            let pat = &self.patterns[p as usize];
            touched ^= self.pattern_tokens(pat)[0];
            touched ^= self.entry_kinds[pat.entry as usize] as u32;
        }
        for &(p, _) in cands.iter() {
            for &t in self.pattern_tokens(&self.patterns[p as usize]) {
                touched ^= self.vocab.ends[t as usize];
            }
        }
        for &(p, _) in cands.iter() {
            for &t in self.pattern_tokens(&self.patterns[p as usize]) {
                let end = self.vocab.ends[t as usize] as usize;
                touched ^= u32::from(self.vocab.text.as_bytes()[end - 1]);
            }
        }
        std::hint::black_box(touched);

        for &(p, s) in cands.iter() {
            if let Some(hit) = self.verify(&doc, p, s as usize) {
                raw.push(hit);
            }
        }
        self.finish_hits(&doc, raw, &ids_in_doc)
    }
}

impl Screener for ScreeningEngine {
    fn screen(&self, text: &str) -> Vec<Hit> {
        self.screen_text(text)
    }
}

#[cfg(test)]
mod tests {
    use super::word_memory::{RECENT_WORD_BYTES, RECENT_WORDS};
    use super::*;

    fn entry(name: &str, kind: EntryKind, aliases: &[&str]) -> WatchEntry {
        WatchEntry::new(name, kind, aliases.iter().map(|a| a.to_string()).collect())
    }

    fn engine(entries: &[WatchEntry]) -> ScreeningEngine {
        ScreeningEngine::for_list("list", entries, EngineOptions::default())
    }

    fn texts(e: &ScreeningEngine, text: &str) -> Vec<String> {
        e.screen(text).into_iter().map(|h| h.matched_text).collect()
    }

    #[test]
    fn engines_screening_one_text_in_turn_find_what_each_finds_alone() {
        let vessels = engine(&[entry("Lady R", EntryKind::Vessel, &[])]);
        let people = engine(&[entry("Kim Jong Un", EntryKind::Person, &[])]);
        let first = "Kim Jong Un watched the cargo ship Lady R dock.";
        let second = "The tanker Lady R sailed; Kim Jong-un stayed.";
        // Alone, each on a thread of its own (nothing tokenized before).
        let alone = |e: &ScreeningEngine, t: &str| {
            std::thread::scope(|s| s.spawn(|| texts(e, t)).join().unwrap())
        };
        let expected = [
            alone(&vessels, first),
            alone(&people, first),
            alone(&vessels, second),
            alone(&people, second),
        ];
        assert_eq!(expected[0], ["Lady R"]);
        assert_eq!(expected[3], ["Kim Jong-un"]);
        // In turn on this thread: the second engine reuses the first's tokens, and a
        // new text (of the same length, too) is tokenized again.
        let same_length = "The tanker Lady X sailed; Kim Jong-un stayed.";
        assert_eq!(same_length.len(), second.len());
        assert_eq!(texts(&vessels, first), expected[0]);
        assert_eq!(texts(&people, first), expected[1]);
        assert_eq!(texts(&vessels, second), expected[2]);
        assert_eq!(texts(&people, second), expected[3]);
        assert!(texts(&vessels, same_length).is_empty());
        assert_eq!(texts(&people, same_length), expected[3]);
    }

    #[test]
    fn case_punctuation_hyphens_and_spacing() {
        let e = engine(&[entry("Maia-1", EntryKind::Vessel, &[])]);
        for t in ["the vessel MAIA 1", "the vessel Maia1", "the vessel maia-1"] {
            let hits = e.screen(t);
            assert_eq!(hits.len(), 1, "{t}");
            assert_eq!(hits[0].reason, "name, exact");
            assert_eq!(hits[0].score, 1.0);
        }
        let hits = e.screen("The cargo ship MAIA 1 left port.");
        assert_eq!((hits[0].start, hits[0].end), (15, 21));
    }

    #[test]
    fn joined_and_split_name_parts() {
        let split = engine(&[entry("Kim Jong Un", EntryKind::Person, &[])]);
        let joined = engine(&[entry("Kim Jongun", EntryKind::Person, &[])]);
        for e in [&split, &joined] {
            for t in ["Kim Jong-un said", "Kim Jong Un said", "Kim Jongun said"] {
                assert_eq!(e.screen(t).len(), 1, "{t}");
            }
        }
        assert_eq!(texts(&split, "Kim Jong Un's regime"), ["Kim Jong Un"]);
    }

    #[test]
    fn diacritics_other_scripts_and_native_aliases() {
        let e = engine(&[
            entry("Vladimir Putin", EntryKind::Person, &[]),
            entry("Kim Jong Un", EntryKind::Person, &["김정은"]),
            entry("Jose Perez", EntryKind::Person, &[]),
        ]);
        assert_eq!(texts(&e, "Владимир Путин заявил"), ["Владимир Путин"]);
        assert_eq!(texts(&e, "위원장 김정은은"), ["김정은"]);
        assert_eq!(texts(&e, "Sr. José Pérez"), ["José Pérez"]);
    }

    #[test]
    fn person_name_order_and_middle_names() {
        let e = engine(&[
            entry("Kim Jong Un", EntryKind::Person, &[]),
            entry("Vladimir Vladimirovich Putin", EntryKind::Person, &[]),
            entry("Ivan Petrov", EntryKind::Person, &[]),
        ]);
        let hits = e.screen("Jong Un Kim arrived");
        assert_eq!(hits.len(), 1);
        assert!(hits[0].reason.contains("order"), "{}", hits[0].reason);
        assert_eq!(texts(&e, "PUTIN, Vladimir met"), ["PUTIN, Vladimir"]);
        assert_eq!(texts(&e, "Vladimir Putin met"), ["Vladimir Putin"]);
        assert_eq!(
            texts(&e, "Ivan Sergeyevich Petrov"),
            ["Ivan Sergeyevich Petrov"]
        );
        // A single shared given name is not a hit.
        assert!(e.screen("Vladimir Zelensky and Ivan Ivanov").is_empty());
        assert!(e.screen("Kim Yo Jong spoke").is_empty());
        assert!(e.screen("Vladimir Vladimirovich spoke").is_empty());
    }

    #[test]
    fn initials_particles_and_swapped_middle_names() {
        let e = engine(&[
            entry("Vladimir Vladimirovich Putin", EntryKind::Person, &[]),
            entry("Muammar Gaddafi", EntryKind::Person, &[]),
            entry("Kim Yo Jong", EntryKind::Person, &[]),
        ]);
        assert_eq!(texts(&e, "Vladimir V. Putin spoke"), ["Vladimir V. Putin"]);
        assert_eq!(
            texts(&e, "Muammar al-Gaddafi ruled"),
            ["Muammar al-Gaddafi"]
        );
        // Too little left once the middle part is gone, or a different middle part.
        assert!(e.screen("Kim Jong spoke").is_empty());
        assert!(e.screen("Jong Un Kim spoke").is_empty());
    }

    #[test]
    fn remembered_near_spellings_answer_as_a_fresh_lookup() {
        let people = engine(&[
            entry("Mohammed bin Salman", EntryKind::Person, &[]),
            entry("Sergei Kovalenko", EntryKind::Person, &[]),
        ]);
        let firms = engine(&[entry("Rosoboronexport", EntryKind::Organization, &[])]);
        let text = "Muhammad bin Salman met Sergey Kowalenko; Rosoboroneksport signed.";
        let fresh = |e: &ScreeningEngine| {
            std::thread::scope(|s| s.spawn(|| e.screen(text)).join().unwrap())
        };
        let (expected_people, expected_firms) = (fresh(&people), fresh(&firms));
        assert_eq!(expected_people.len(), 2);
        assert_eq!(expected_firms.len(), 1);
        std::thread::scope(|s| {
            s.spawn(|| {
                // Looked up, then remembered; each engine keeps its own answers.
                for _ in 0..2 {
                    assert_eq!(people.screen(text), expected_people);
                    assert_eq!(firms.screen(text), expected_firms);
                }
                // More distinct words than the memory holds, and one very long word:
                // it starts over, and answers as before.
                let word = |n: usize| {
                    let mut w = String::from("Q");
                    for k in 0..4 {
                        w.push((b'a' + (n / 26usize.pow(k) % 26) as u8) as char);
                    }
                    w
                };
                let many: Vec<String> = (0..RECENT_WORDS + 100).map(word).collect();
                for chunk in many.chunks(500) {
                    people.screen(&chunk.join(" "));
                }
                people.screen(&format!("The {} said", "Xy".repeat(RECENT_WORD_BYTES)));
                assert_eq!(people.screen(text), expected_people);
                assert_eq!(firms.screen(text), expected_firms);
            });
        });
    }

    #[test]
    fn near_spellings_within_the_edit_bound() {
        let e = engine(&[
            entry("Mohammed bin Salman", EntryKind::Person, &[]),
            entry("Rosoboronexport", EntryKind::Organization, &[]),
            entry("Lee Kim", EntryKind::Person, &[]),
        ]);
        let hits = e.screen("Crown prince Muhammad bin Salman");
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].reason.starts_with("name parts aligned 0."),
            "{}",
            hits[0].reason
        );
        assert!(hits[0].score < 1.0 && hits[0].score >= DEFAULT_THRESHOLD);
        assert_eq!(texts(&e, "Rosoboroneksport said"), ["Rosoboroneksport"]);
        // One-word names need a close spelling; short parts get no edits.
        assert!(e.screen("Rosoboronexxpirrt said").is_empty());
        assert!(e.screen("Lea Kim").is_empty());
        assert!(e.screen("Rostelecom said").is_empty());
        let exact_only = ScreeningEngine::for_list(
            "l",
            &[entry("Rosoboronexport", EntryKind::Organization, &[])],
            EngineOptions {
                fuzzy: false,
                ..EngineOptions::default()
            },
        );
        assert!(exact_only.screen("Rosoboroneksport said").is_empty());
    }

    #[test]
    fn numbers_are_identity() {
        let e = engine(&[
            entry("Maia-1", EntryKind::Vessel, &[]),
            entry("Sparta", EntryKind::Any, &[]),
        ]);
        assert!(e.screen("the ship Maia-2 sailed").is_empty());
        assert!(e.screen("the ship Maia-12 sailed").is_empty());
        assert!(e.screen("the ship Sparta-4 sailed").is_empty());
        assert_eq!(texts(&e, "Sparta, 2 days later"), ["Sparta"]);
    }

    #[test]
    fn token_boundaries() {
        let e = engine(&[entry("Reed", EntryKind::Person, &[])]);
        assert!(e.screen("The parties agreed to talks.").is_empty());
        assert_eq!(texts(&e, "Mr. Reed agreed."), ["Reed"]);
    }

    #[test]
    fn one_word_vessels_need_vessel_context() {
        let e = engine(&[
            entry("Maria", EntryKind::Vessel, &[]),
            entry("Lady R", EntryKind::Vessel, &[]),
        ]);
        assert!(e.screen("Maria Zakharova told reporters.").is_empty());
        assert_eq!(texts(&e, "the cargo ship Maria left"), ["Maria"]);
        assert_eq!(texts(&e, "Lady R docked"), ["Lady R"]);
        let low = ScreeningEngine::for_list(
            "l",
            &[entry("Maria", EntryKind::Vessel, &[])],
            EngineOptions {
                threshold: 0.3,
                ..EngineOptions::default()
            },
        );
        let hits = low.screen("Maria Zakharova told reporters.");
        assert_eq!(hits[0].reason, "name, exact, no vessel context");
        assert_eq!(hits[0].score, 0.4);
    }

    #[test]
    fn weak_aliases_only_match_exactly() {
        let mut kim = entry("Kim Jong Un", EntryKind::Person, &[]);
        kim.weak_aliases = vec!["Supreme Leader".into()];
        let e = engine(&[kim]);
        assert_eq!(
            e.screen("the Supreme Leader said")[0].reason,
            "weak alias, exact"
        );
        assert!(e.screen("the Supreme Leeder said").is_empty());
        assert!(e.screen("the Leader Supreme said").is_empty());
    }

    #[test]
    fn imo_numbers_match_whatever_the_name() {
        let mut angara = entry("Angara", EntryKind::Vessel, &[]);
        angara.imo = vec!["9179484".into()];
        let e = engine(&[angara]);
        for t in ["Sparta IV (IMO 9179484)", "IMO: 9179484", "IMO No. 9179484"] {
            let hits = e.screen(t);
            assert_eq!(hits.len(), 1, "{t}");
            assert_eq!(hits[0].reason, "IMO 9179484");
            assert!(hits[0].matched_text.starts_with("IMO"));
        }
        assert!(e.screen("IMO 9179485").is_empty());
        // The identifier also gives a one-word name its context.
        assert_eq!(e.screen("Angara. IMO 9179484").len(), 2);
    }

    #[test]
    fn threshold_decides_what_is_reported() {
        let entries = [entry("Rosoboronexport", EntryKind::Organization, &[])];
        let strict = ScreeningEngine::for_list(
            "l",
            &entries,
            EngineOptions {
                threshold: 0.99,
                ..EngineOptions::default()
            },
        );
        assert!(strict.screen("Rosoboroneksport").is_empty());
        assert_eq!(strict.screen("Rosoboronexport").len(), 1);
    }

    #[test]
    fn legal_forms_may_differ_for_companies() {
        let e = engine(&[entry(
            "Korea Ryonbong General Corporation",
            EntryKind::Organization,
            &[],
        )]);
        assert_eq!(
            texts(&e, "Korea Ryonbong General Corp. was named"),
            ["Korea Ryonbong General Corp"]
        );
        let hits = e.screen("Korea Ryonbong General was named");
        assert_eq!(hits.len(), 1);
        assert!(hits[0].reason.contains("legal form"));
        // Company names keep their order.
        assert!(e.screen("General Ryonbong Korea").is_empty());
    }

    #[test]
    fn marks_around_rule_out_only_what_the_other_end_test_rules_out() {
        let mut kim = entry("Kim Jong Un", EntryKind::Person, &["김정은"]);
        kim.weak_aliases = vec!["Supreme Leader".into()];
        let e = engine(&[
            entry("Vladimir Vladimirovich Putin", EntryKind::Person, &[]),
            entry("Muammar Gaddafi", EntryKind::Person, &["Gaddafi Muammar"]),
            entry("Ivan Petrov", EntryKind::Person, &["Иван Петров"]),
            entry("Mohammed bin Salman", EntryKind::Person, &[]),
            entry(
                "Korea Ryonbong General Corporation",
                EntryKind::Organization,
                &[],
            ),
            entry("Lady R", EntryKind::Vessel, &[]),
            entry("Maia-1", EntryKind::Vessel, &[]),
            kim,
        ]);
        let texts = [
            "Vladimir V. Putin met Ivan Petrov, Kim Jong-un and Muhammad bin Salman in Moscow.",
            "Muammar al-Gaddafi and GADDAFI, Muammar; Vladimir Putim; Petrov I. spoke.",
            "Korea Ryonbong General Corp. and the ship Lady R, then Maia 1, and Korea Ryonbong.",
            "Владимир Путин и Иван Петров; 위원장 김정은은; the Supreme Leader said.",
            "vladimir vladimirovich putin met ivan petrova in kim's house near maia-1",
        ];
        for text in texts {
            let mut scratch = Scratch::default();
            e.prepare(text, &mut scratch);
            let (mut marks, mut first_mark) = (Vec::new(), Vec::new());
            mark_words(&scratch.slots, &mut marks, &mut first_mark);
            let doc = Doc {
                text,
                tok: &scratch.tok,
                slots: &scratch.slots,
                marks: &marks,
                first_mark: &first_mark,
            };
            let (mut held, mut ruled_out) = (0, 0);
            for s in 0..doc.slots.len() {
                let around = MarksAround::new(&doc, s);
                for posting in &e.anchor_postings {
                    let may_hold = around.may_hold(posting);
                    if e.other_end_may_be_near(&doc, s, posting) {
                        assert!(may_hold, "{text:?}, word {s}, pattern {}", posting.pattern);
                        held += 1;
                    } else if !may_hold {
                        ruled_out += 1;
                    }
                }
            }
            assert!(held > 0 && ruled_out > 0, "{text:?}: {held} {ruled_out}");
        }
    }

    #[test]
    fn overlapping_hits_of_one_entry_are_one_hit() {
        let e = engine(&[entry(
            "Kim Jong Un",
            EntryKind::Person,
            &["Kim Jong-un", "Jong Un Kim"],
        )]);
        let hits = e.screen("Kim Jong-un and Kim Jong Un");
        assert_eq!(hits.len(), 2);
        assert!(hits[0].start < hits[1].start);
    }
}
