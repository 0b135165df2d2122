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

use std::collections::HashSet;
use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::{FxHashMap, FxHasher};

use super::fuzzy::{
    DeletionIndex, bounded_distance, may_be_near, pair_bound, signature, similarity,
};
use super::normalize::{RawToken, Tokenizer};
use super::{EntryKind, Hit, Screener, WatchEntry, identifier_digits};

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
/// Longest name (in tokens) that is aligned; longer ones only match exactly.
const MAX_ALIGNED: usize = 8;
/// Words either side of a one-word vessel name searched for vessel context.
const CONTEXT_WINDOW: usize = 12;

// Token flags.
const T_NUMERIC: u8 = 1;
const T_LEGAL: u8 = 2;
const T_NATIVE: u8 = 4;

// Pattern flags.
const P_PERSON: u8 = 1;
const P_NEEDS_CONTEXT: u8 = 2;
const P_VARIANT: u8 = 4;

/// Legal forms and articles that company names may carry or drop.
const LEGAL_FORMS: &[&str] = &[
    "ag", "ao", "bv", "cjsc", "co", "corp", "fzc", "fzco", "fze", "gmbh", "inc", "jsc", "llc",
    "llp", "lp", "ltd", "nv", "oao", "ojsc", "ooo", "pao", "pjsc", "plc", "pte", "pvt", "sa",
    "sarl", "srl", "the", "zao",
];

/// Words that make a one-word vessel name count.
const VESSEL_WORDS: &[&str] = &[
    "boat",
    "bulker",
    "captain",
    "cargo",
    "carrier",
    "container",
    "crew",
    "docked",
    "dwt",
    "ferried",
    "ferry",
    "flag",
    "flagged",
    "flags",
    "freighter",
    "hull",
    "imo",
    "mmsi",
    "moored",
    "mt",
    "mv",
    "port",
    "reflagged",
    "sailed",
    "sailing",
    "ship",
    "shipping",
    "ships",
    "tanker",
    "tankers",
    "tonnage",
    "vessel",
    "vessels",
    "yacht",
];

/// Particles inside people's names that one spelling has and another drops.
const NAME_PARTICLES: &[&str] = &[
    "abu", "al", "bin", "bint", "da", "de", "del", "der", "di", "du", "el", "ibn", "la", "le",
    "van", "von",
];

/// Letters the parts found must add up to when a listed middle name is missing from
/// the text: "Vladimir Putin" carries a name, "Kim Jong" (for "Kim Yo Jong") does not.
const MIN_LETTERS_WITHOUT_MIDDLE: usize = 8;

/// How much an initial is worth against the name part it abbreviates.
const INITIAL_SIMILARITY: f32 = 0.85;

/// Taken off the score of a near spelling of a one-word name, which has nothing
/// else to vouch for it.
const ONE_WORD_FUZZY_PENALTY: f32 = 0.05;

fn is_legal_form(s: &str) -> bool {
    LEGAL_FORMS.binary_search(&s).is_ok()
}

fn is_vessel_word(s: &str) -> bool {
    VESSEL_WORDS.binary_search(&s).is_ok()
}

/// Folds a 128-bit product to 64 bits: every bit of either factor reaches every bit
/// of the result.
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The hash of a word, for the vocabulary and the tables of text words. Words are
/// short, so it reads at most two (overlapping) 8-byte or 4-byte pieces of a word up
/// to 16 bytes, and 8 bytes at a time beyond that, with no loop over single bytes.
fn hash_str(s: &str) -> u64 {
    const K0: u64 = 0x243f_6a88_85a3_08d3;
    const K1: u64 = 0x1319_8a2e_0370_7344;
    const K2: u64 = 0xa409_3822_299f_31d0;
    let b = s.as_bytes();
    let n = b.len();
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u64::from(u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes")));
    let (lo, hi) = if n >= 8 {
        let mut lo = u64_at(0);
        let mut i = 8;
        while i + 8 < n {
            lo = fold_mul(lo ^ K2, u64_at(i) ^ K1);
            i += 8;
        }
        (lo, u64_at(n - 8))
    } else if n >= 4 {
        (u32_at(0), u32_at(n - 4))
    } else if n > 0 {
        let (a, m, z) = (b[0], b[n / 2], b[n - 1]);
        (u64::from(a) << 16 | u64::from(m) << 8 | u64::from(z), 0)
    } else {
        (0, 0)
    };
    fold_mul(lo ^ K0, hi ^ K1 ^ (n as u64).wrapping_mul(K2))
}

/// Interned token strings: a hash table of ids over one string arena.
#[derive(Default)]
struct Vocab {
    table: HashTable<u32>,
    text: String,
    ends: Vec<u32>,
    flags: Vec<u8>,
}

#[inline]
fn vocab_str<'a>(text: &'a str, ends: &[u32], id: u32) -> &'a str {
    let i = id as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &text[start..ends[i] as usize]
}

impl Vocab {
    fn str(&self, id: u32) -> &str {
        vocab_str(&self.text, &self.ends, id)
    }

    fn get(&self, s: &str) -> u32 {
        self.get_hashed(s, hash_str(s))
    }

    /// [`Vocab::get`] with the hash of `s` already computed.
    fn get_hashed(&self, s: &str, hash: u64) -> u32 {
        let (text, ends) = (&self.text, &self.ends);
        self.table
            .find(hash, |&id| vocab_str(text, ends, id) == s)
            .copied()
            .unwrap_or(NONE)
    }

    fn intern(&mut self, s: &str, flags: u8) -> u32 {
        let found = self.get(s);
        if found != NONE {
            return found;
        }
        let id = self.ends.len() as u32;
        self.text.push_str(s);
        self.ends.push(self.text.len() as u32);
        self.flags.push(flags);
        let (text, ends) = (&self.text, &self.ends);
        self.table
            .insert_unique(hash_str(s), id, |&x| hash_str(vocab_str(text, ends, x)));
        id
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn heap_bytes(&self) -> usize {
        self.table.capacity() * 5 + self.text.capacity() + self.ends.capacity() * 5
    }
}

/// Where a pattern came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Name,
    Alias,
    Weak,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Name => "name",
            Source::Alias => "alias",
            Source::Weak => "weak alias",
        }
    }
}

/// One name as a slice of the token arena.
#[derive(Debug, Clone, Copy)]
struct Pattern {
    entry: u32,
    tok_start: u32,
    len: u8,
    anchor: u8,
    source: Source,
    flags: u8,
}

/// A pattern filed under its anchor token, with what it takes to rule it out
/// without reading the pattern: the token at the other end of the name (its first
/// or last core part) and that token's [`signature`].
#[derive(Clone, Copy, Default)]
struct Posting {
    pattern: u32,
    /// `NONE` when the anchor is the name's only core part.
    other_end: u32,
    /// [`EXACT_ONLY`] for numbers and native-script parts, which never match nearly.
    other_sig: u32,
    /// How far from the anchor the other end may be, in words.
    reach: u8,
    /// The letter an initial standing for the other end would be; 0 unless the name
    /// is a person's (see [`INITIAL_SIMILARITY`]).
    initial: u8,
    /// Letters in the name's legal forms ([`NO_LEGAL_LEN`] if too many to count).
    legal_len: u8,
}

/// The letter an initial for name part `part` would be: its first letter, if it has
/// more than one ([`ScreeningEngine::part_similarity`]); else 0.
fn initial_letter(part: &str) -> u8 {
    match part.as_bytes() {
        [first, _, ..] if first.is_ascii_lowercase() => *first,
        _ => 0,
    }
}

/// A [`Posting::legal_len`] too large for a `u8`.
const NO_LEGAL_LEN: u8 = u8::MAX;

/// A [`Posting::other_sig`] for a part that only matches exactly.
const EXACT_ONLY: u32 = u32::MAX;

/// Builds a [`ScreeningEngine`] entry by entry.
#[derive(Default)]
pub struct EngineBuilder {
    lists: Vec<String>,
    vocab: Vocab,
    patterns: Vec<Pattern>,
    tokens: Vec<u32>,
    entry_text: String,
    entry_ends: Vec<(u32, u32)>,
    entry_kinds: Vec<EntryKind>,
    entry_lists: Vec<u16>,
    identifiers: FxHashMap<(IdScheme, u64), Vec<u32>>,
    tokenizer: Tokenizer,
    scratch_ids: Vec<u32>,
    scratch_seqs: Vec<u64>,
}

/// Kinds of vessel identifier found in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum IdScheme {
    Imo,
    Mmsi,
}

impl EngineBuilder {
    /// An empty builder.
    pub fn new() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Registers a watchlist name; entries are then added under the returned index.
    pub fn add_list(&mut self, name: &str) -> usize {
        if let Some(i) = self.lists.iter().position(|l| l == name) {
            return i;
        }
        self.lists.push(name.to_string());
        self.lists.len() - 1
    }

    /// Adds one entry of list `list` (an index from [`EngineBuilder::add_list`]).
    pub fn add(&mut self, list: usize, entry: &WatchEntry) {
        let index = self.entry_kinds.len() as u32;
        self.entry_text.push_str(&entry.id);
        let id_end = self.entry_text.len() as u32;
        self.entry_text.push_str(&entry.name);
        self.entry_ends.push((id_end, self.entry_text.len() as u32));
        self.entry_kinds.push(entry.kind);
        self.entry_lists.push(list as u16);
        for (scheme, values, digits) in [
            (IdScheme::Imo, &entry.imo, 7),
            (IdScheme::Mmsi, &entry.mmsi, 9),
        ] {
            for v in values {
                if let Some(d) = identifier_digits(v, digits) {
                    let n: u64 = d.parse().expect("digits");
                    let entries = self.identifiers.entry((scheme, n)).or_default();
                    if !entries.contains(&index) {
                        entries.push(index);
                    }
                }
            }
        }
        self.scratch_seqs.clear();
        self.add_name(index, entry.kind, &entry.name, Source::Name);
        for a in &entry.aliases {
            self.add_name(index, entry.kind, a, Source::Alias);
        }
        for a in &entry.weak_aliases {
            self.add_name(index, entry.kind, a, Source::Weak);
        }
    }

    fn add_name(&mut self, entry: u32, kind: EntryKind, name: &str, source: Source) {
        self.tokenizer.tokenize(name);
        let mut ids = std::mem::take(&mut self.scratch_ids);
        ids.clear();
        for t in &self.tokenizer.tokens {
            let (s, flags) = match self.tokenizer.native_of(t) {
                Some(native) => (native, T_NATIVE),
                None => {
                    let f = self.tokenizer.folded_of(t);
                    let flags = if t.numeric {
                        T_NUMERIC
                    } else if is_legal_form(f) {
                        T_LEGAL
                    } else {
                        0
                    };
                    (f, flags)
                }
            };
            if !s.is_empty() {
                ids.push(self.vocab.intern(s, flags));
            }
        }
        if ids.is_empty() || ids.len() > u8::MAX as usize {
            self.scratch_ids = ids;
            return;
        }
        self.push_pattern(entry, kind, &ids, source, 0);
        // Short parts written together: "Jong Un" also as "Jongun", "Al Rashid" as
        // "Alrashid". The text side covers the reverse (see `Doc`).
        if source != Source::Weak && (2..=5).contains(&ids.len()) {
            let mut joined = String::new();
            for i in 0..ids.len() - 1 {
                let (a, b) = (ids[i], ids[i + 1]);
                if !self.joinable(a, b) {
                    continue;
                }
                joined.clear();
                joined.push_str(self.vocab.str(a));
                joined.push_str(self.vocab.str(b));
                let j = self.vocab.intern(&joined, 0);
                let mut variant = Vec::with_capacity(ids.len() - 1);
                variant.extend_from_slice(&ids[..i]);
                variant.push(j);
                variant.extend_from_slice(&ids[i + 2..]);
                self.push_pattern(entry, kind, &variant, source, P_VARIANT);
            }
        }
        self.scratch_ids = ids;
    }

    /// Two name parts that may be written as one word: both alphabetic, one short.
    fn joinable(&self, a: u32, b: u32) -> bool {
        let (fa, fb) = (self.vocab.flags[a as usize], self.vocab.flags[b as usize]);
        let mask = T_NUMERIC | T_NATIVE | T_LEGAL;
        fa & mask == 0
            && fb & mask == 0
            && (self.vocab.str(a).len() <= 3 || self.vocab.str(b).len() <= 3)
    }

    fn push_pattern(
        &mut self,
        entry: u32,
        kind: EntryKind,
        ids: &[u32],
        source: Source,
        flags: u8,
    ) {
        let mut h = FxHasher::default();
        for id in ids {
            h.write_u32(*id);
        }
        let key = h.finish();
        if self.scratch_seqs.contains(&key) {
            return;
        }
        self.scratch_seqs.push(key);
        let mut flags = flags;
        if kind == EntryKind::Person {
            flags |= P_PERSON;
        }
        let core: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|&id| self.vocab.flags[id as usize] & T_LEGAL == 0)
            .collect();
        if kind == EntryKind::Vessel
            && core.len() == 1
            && self.vocab.flags[core[0] as usize] & T_NUMERIC == 0
        {
            flags |= P_NEEDS_CONTEXT;
        }
        self.patterns.push(Pattern {
            entry,
            tok_start: self.tokens.len() as u32,
            len: ids.len() as u8,
            anchor: 0,
            source,
            flags,
        });
        self.tokens.extend_from_slice(ids);
    }

    /// Finishes the index.
    pub fn finish(self, options: EngineOptions) -> ScreeningEngine {
        let EngineBuilder {
            lists,
            vocab,
            mut patterns,
            tokens,
            entry_text,
            entry_ends,
            entry_kinds,
            entry_lists,
            identifiers,
            ..
        } = self;
        // How many names use each token: anchors go to the rarer end of a name.
        let mut df = vec![0u32; vocab.len()];
        for p in patterns.iter().filter(|p| p.flags & P_VARIANT == 0) {
            for &t in &tokens[p.tok_start as usize..][..p.len as usize] {
                df[t as usize] += 1;
            }
        }
        let mut counts = vec![0u32; vocab.len() + 1];
        for p in &mut patterns {
            let toks = &tokens[p.tok_start as usize..][..p.len as usize];
            let core: Vec<usize> = (0..toks.len())
                .filter(|&i| vocab.flags[toks[i] as usize] & T_LEGAL == 0)
                .collect();
            let (first, last) = match (core.first(), core.last()) {
                (Some(&f), Some(&l)) => (f, l),
                _ => (0, toks.len() - 1),
            };
            let anchor = if df[toks[first] as usize] < df[toks[last] as usize] {
                first
            } else {
                last
            };
            p.anchor = anchor as u8;
            counts[toks[anchor] as usize + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let anchor_offsets = counts;
        let mut fill = anchor_offsets.clone();
        let mut anchor_postings = vec![Posting::default(); patterns.len()];
        for (pi, p) in patterns.iter().enumerate() {
            let toks = &tokens[p.tok_start as usize..][..p.len as usize];
            let anchor = p.anchor as usize;
            let core = |j: &usize| vocab.flags[toks[*j] as usize] & T_LEGAL == 0;
            let first = (0..toks.len()).find(core).unwrap_or(0);
            let last = (0..toks.len()).rev().find(core).unwrap_or(toks.len() - 1);
            let other = if anchor == first { last } else { first };
            let (other_end, other_sig) = if other == anchor {
                (NONE, EXACT_ONLY)
            } else {
                let id = toks[other];
                let sig = if vocab.flags[id as usize] & (T_NUMERIC | T_NATIVE) != 0 {
                    EXACT_ONLY
                } else {
                    signature(vocab.str(id).as_bytes())
                };
                (id, sig)
            };
            let t = toks[anchor] as usize;
            let legal_len: usize = toks
                .iter()
                .filter(|&&id| vocab.flags[id as usize] & T_LEGAL != 0)
                .map(|&id| vocab.str(id).chars().count())
                .sum();
            anchor_postings[fill[t] as usize] = Posting {
                pattern: pi as u32,
                other_end,
                other_sig,
                reach: (p.len as usize + 2).min(u8::MAX as usize) as u8,
                initial: if p.flags & P_PERSON != 0 && other_sig != EXACT_ONLY {
                    initial_letter(vocab.str(other_end))
                } else {
                    0
                },
                legal_len: legal_len.min(NO_LEGAL_LEN as usize) as u8,
            };
            fill[t] += 1;
        }
        drop(fill);
        drop(df);
        let deletions = if options.fuzzy {
            DeletionIndex::build((0..vocab.len() as u32).filter_map(|id| {
                let has_postings = anchor_offsets[id as usize + 1] > anchor_offsets[id as usize];
                let flags = vocab.flags[id as usize];
                (has_postings && flags & (T_NUMERIC | T_NATIVE) == 0)
                    .then(|| (id, vocab.str(id).as_bytes()))
            }))
        } else {
            DeletionIndex::default()
        };
        let signatures: Vec<u32> = if options.fuzzy {
            (0..vocab.len() as u32)
                .map(|id| signature(vocab.str(id).as_bytes()))
                .collect()
        } else {
            Vec::new()
        };
        let anchor_words = if options.fuzzy {
            (0..vocab.len())
                .map(|id| {
                    let word = vocab.str(id as u32).as_bytes();
                    let mut bytes = [0u8; INLINE_WORD];
                    if word.len() <= INLINE_WORD {
                        bytes[..word.len()].copy_from_slice(word);
                    }
                    AnchorWord {
                        sig: signatures[id],
                        postings: (anchor_offsets[id], anchor_offsets[id + 1]),
                        len: word.len().min(u8::MAX as usize) as u8,
                        bytes,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        ScreeningEngine {
            serial: NEXT_ENGINE_SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            options,
            lists,
            vocab,
            patterns,
            tokens,
            anchor_offsets,
            anchor_postings,
            deletions,
            signatures,
            anchor_words,
            entry_text,
            entry_ends,
            entry_kinds,
            entry_lists,
            identifiers,
        }
    }
}

/// An index over watchlist entries that screens text (see the module docs).
pub struct ScreeningEngine {
    /// This engine's own number (see [`RecentWords`]).
    serial: u64,
    options: EngineOptions,
    lists: Vec<String>,
    vocab: Vocab,
    patterns: Vec<Pattern>,
    tokens: Vec<u32>,
    anchor_offsets: Vec<u32>,
    anchor_postings: Vec<Posting>,
    deletions: DeletionIndex,
    /// [`signature`] of each vocabulary word, when fuzzy matching is on.
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

/// One text word: its token ids (folded, as written, joined with the next word).
#[derive(Clone, Copy)]
struct Slot {
    id: u32,
    native: u32,
    join: u32,
    /// The folded word's [`signature`] when fuzzy matching is on and the word is
    /// worth a near spelling ([`word_fuzzy_eligible`]; four letters or more, so the
    /// signature is never 0), else 0.
    sig: u32,
    /// For a one-letter word (an initial), its letter, else 0.
    initial: u8,
    /// True for a word that gives a one-word vessel name its context.
    vessel_word: bool,
}

/// A text prepared for screening.
struct Doc<'t> {
    text: &'t str,
    tok: &'t Tokenizer,
    slots: &'t [Slot],
    /// The words that may be the end of a name ([`Mark`]), in text order.
    marks: &'t [Mark],
    /// For each word (and the end of the text), the first of `marks` at or after it.
    first_mark: &'t [u32],
}

/// A word of the text that may stand for a name part: one in the vocabulary (as
/// folded, written or joined with the next), an initial, or a word eligible for near
/// spellings. Most words of a text are none of these; the test for the other end of
/// a name reads only these.
#[derive(Clone, Copy)]
struct Mark {
    /// Its slot.
    at: u32,
    id: u32,
    native: u32,
    join: u32,
    sig: u32,
    initial: u8,
}

/// Buffers reused from one screening to the next on a thread, so that screening a
/// text allocates little beyond its hits.
#[derive(Default)]
struct Scratch {
    tok: Tokenizer,
    /// The text `tok` holds the tokens of, when it holds any: a text screened by
    /// several engines in turn (one per watchlist) is tokenized once.
    tokenized: Option<String>,
    slots: Vec<Slot>,
    /// Vocabulary ids of short words looked up lately, so a word that comes again
    /// (in this text or the next) is not looked up in the vocabulary again.
    words: WordCache,
    joined: String,
    cands: Vec<(u32, u32)>,
    /// See [`Doc::marks`].
    marks: Vec<Mark>,
    /// See [`Doc::first_mark`].
    first_mark: Vec<u32>,
    recent: RecentWords,
    /// Words the cache of words did not have, with the slot each is for and whether
    /// it is the slot's word or its word joined with the next (see
    /// [`ScreeningEngine::prepare`]).
    uncached: Vec<(u32, bool, ShortWord)>,
    /// What the vocabulary says of them.
    uncached_info: Vec<WordInfo>,
}

/// A word of up to [`SHORT_WORD`] bytes as two little-endian integers, zero-padded,
/// and its length: compared and hashed without reading the word again.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct ShortWord {
    a: u64,
    b: u64,
    len: u64,
}

/// Longest word a [`ShortWord`] holds.
const SHORT_WORD: usize = 16;

/// The low `n` bytes of `x` (all of it from 8 on).
fn low_bytes(x: u64, n: usize) -> u64 {
    match n {
        0 => 0,
        1..=7 => x & (u64::MAX >> (64 - 8 * n)),
        _ => x,
    }
}

impl ShortWord {
    /// The word `bytes[start..end]`, if short enough. Reads 16 bytes at once when
    /// the buffer has them, else byte by byte.
    fn new(bytes: &[u8], start: usize, end: usize) -> Option<ShortWord> {
        let n = end - start;
        if n == 0 || n > SHORT_WORD {
            return None;
        }
        let (a, b) = match bytes.get(start..start + SHORT_WORD) {
            Some(w) => (
                u64::from_le_bytes(w[..8].try_into().expect("8 bytes")),
                u64::from_le_bytes(w[8..].try_into().expect("8 bytes")),
            ),
            None => {
                let mut w = [0u8; SHORT_WORD];
                for (d, s) in w.iter_mut().zip(&bytes[start..end]) {
                    *d = *s;
                }
                (
                    u64::from_le_bytes(w[..8].try_into().expect("8 bytes")),
                    u64::from_le_bytes(w[8..].try_into().expect("8 bytes")),
                )
            }
        };
        Some(ShortWord {
            a: low_bytes(a, n),
            b: low_bytes(b, n.saturating_sub(8)),
            len: n as u64,
        })
    }

    /// The word's bytes.
    fn bytes(&self) -> [u8; SHORT_WORD] {
        let mut w = [0u8; SHORT_WORD];
        w[..8].copy_from_slice(&self.a.to_le_bytes());
        w[8..].copy_from_slice(&self.b.to_le_bytes());
        w
    }

    fn hash(&self) -> u64 {
        fold_mul(
            self.a ^ 0x243f_6a88_85a3_08d3,
            self.b ^ self.len.wrapping_mul(0x1319_8a2e_0370_7344),
        )
    }
}

/// What screening needs to know of a text word, apart from where it is.
#[derive(Clone, Copy)]
struct WordInfo {
    /// Its vocabulary id, `NONE` if it is no name part.
    id: u32,
    /// See [`Slot::vessel_word`].
    vessel_word: bool,
}

impl WordInfo {
    const NONE: WordInfo = WordInfo {
        id: NONE,
        vessel_word: false,
    };
}

/// [`WordInfo`] of short words (see [`Scratch::words`]): a two-way set-associative
/// cache, the most recent word of a set first. Each entry belongs to one engine (its
/// serial), so that screening one text against several lists in turn, as the bot
/// does, neither mixes their answers nor empties the cache at each switch.
struct WordCache {
    sets: Vec<[CachedWord; 2]>,
}

/// An entry of [`WordCache`]: the engine's serial (0 for none), the word, and what
/// that engine knows of it.
type CachedWord = (u64, ShortWord, WordInfo);

/// Sets of [`WordCache`] (a power of two): room for the words of many texts.
const WORD_CACHE_SETS: usize = 4096;

impl Default for WordCache {
    fn default() -> WordCache {
        WordCache {
            sets: vec![[(0, ShortWord::default(), WordInfo::NONE); 2]; WORD_CACHE_SETS],
        }
    }
}

impl WordCache {
    /// The set `word` of the engine numbered `serial` belongs to.
    fn set(&mut self, serial: u64, word: &ShortWord) -> &mut [CachedWord; 2] {
        let hash = word.hash() ^ serial.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        &mut self.sets[hash as usize & (WORD_CACHE_SETS - 1)]
    }

    /// What the engine numbered `serial` knows of `word`, if the cache has it.
    fn get(&mut self, serial: u64, word: ShortWord) -> Option<WordInfo> {
        let set = self.set(serial, &word);
        if set[0].0 == serial && set[0].1 == word {
            return Some(set[0].2);
        }
        if set[1].0 == serial && set[1].1 == word {
            set.swap(0, 1);
            return Some(set[0].2);
        }
        None
    }

    /// Remembers what the engine numbered `serial` knows of `word`, unless the
    /// cache has it already.
    fn put(&mut self, serial: u64, word: ShortWord, info: WordInfo) {
        let set = self.set(serial, &word);
        if set.iter().any(|e| e.0 == serial && e.1 == word) {
            return;
        }
        set[1] = set[0];
        set[0] = (serial, word, info);
    }
}

/// Words this thread screened lately and the postings of the indexed words near
/// each, per engine. Capitalised words recur from one news item to the next
/// ("Treasury", "Moscow", "Tuesday"), and finding the words near one and their
/// postings costs dozens of reads scattered over a large index; this remembers the
/// answer, in one piece. Bounded: emptied when it holds [`RECENT_WORDS`] words,
/// [`RECENT_WORD_BYTES`] bytes of them or [`RECENT_POSTINGS`] postings. The words
/// and their postings are kept in two buffers, so remembering a word allocates
/// nothing once they have grown.
#[derive(Default)]
struct RecentWords {
    table: HashTable<RememberedWord>,
    /// The words remembered, one after the other.
    words: String,
    /// Their postings, word after word.
    postings: Vec<NearPosting>,
    /// Buffers for looking words up, kept from one text to the next.
    lookup: NearLookup,
    /// The words of a text not remembered, each once: their key hashes and their
    /// index among the text's words (see [`RecentWords::near_postings_of`]).
    missing: Vec<(u64, u32)>,
    /// Each word not remembered and its index in `missing`.
    pending: Vec<(u32, u32)>,
}

/// A word [`RecentWords`] remembers: the engine's serial, and where the word's
/// spelling and its postings are in [`RecentWords::words`] and
/// [`RecentWords::postings`].
struct RememberedWord {
    serial: u64,
    word: (u32, u32),
    postings: (u32, u32),
}

impl RememberedWord {
    fn word<'a>(&self, words: &'a str) -> &'a str {
        &words[self.word.0 as usize..self.word.1 as usize]
    }
}

/// Buffers of [`ScreeningEngine::near_postings`], reused so that looking words up
/// allocates only the answers.
#[derive(Default)]
struct NearLookup {
    /// Deletion fingerprints of the words (see [`DeletionIndex::candidates_of_many`]).
    keys: Vec<u64>,
    /// Candidates from the deletion index: the word's index in the high half, the
    /// candidate's id in the low half.
    ids: Vec<u64>,
    /// Their [`AnchorWord`]s.
    records: Vec<AnchorWord>,
    /// The candidates within the edit bound, word by word.
    near: Vec<NearWord>,
    /// Where each word's near candidates end in `near`.
    near_ends: Vec<u32>,
    /// Their postings, word by word.
    postings: Vec<NearPosting>,
    /// Where each word's postings end in `postings`.
    posting_ends: Vec<u32>,
}

/// What checking an anchor token against a text word needs, in one 32-byte record
/// so that it costs one memory read: the token's [`signature`], its postings' range
/// in [`ScreeningEngine::anchor_postings`] and, for a token of up to
/// [`INLINE_WORD`] bytes, its spelling (longer ones are read from the vocabulary).
#[derive(Clone, Copy, Default)]
#[repr(C, align(32))]
struct AnchorWord {
    sig: u32,
    postings: (u32, u32),
    len: u8,
    bytes: [u8; INLINE_WORD],
}

/// Longest anchor token an [`AnchorWord`] spells out.
const INLINE_WORD: usize = 19;

/// An anchor token spelt nearly like a word of the text (not the word itself).
#[derive(Clone, Copy)]
struct NearWord {
    id: u32,
    /// Its postings' range in [`ScreeningEngine::anchor_postings`].
    postings: (u32, u32),
    /// Its [`similarity`] to the text word.
    sim: f32,
    /// Its length.
    len: u32,
}

/// A posting of an anchor token spelt nearly like a word of the text.
#[derive(Clone, Copy)]
struct NearPosting {
    /// The anchor token.
    word: u32,
    /// True when the name is sure to score below the threshold unless the text has
    /// the anchor exactly after all, written apart ([`Slot::join`]); see
    /// [`ScreeningEngine::one_word_may_pass`].
    too_far: bool,
    posting: Posting,
}

/// Words [`RecentWords`] holds before it starts over.
const RECENT_WORDS: usize = 8192;

/// Postings [`RecentWords`] holds before it starts over (24 bytes each: 6 MB per
/// screening thread at most).
const RECENT_POSTINGS: usize = 1 << 18;

/// Bytes of words [`RecentWords`] holds before it starts over.
const RECENT_WORD_BYTES: usize = 1 << 18;

/// Words of one text looked up in the deletion index together, at most (see
/// [`RecentWords::near_postings_of`]).
const LOOKUP_WORDS: usize = 64;

/// The key under which [`RecentWords`] files `word` for the engine numbered `serial`.
fn recent_key_hash(serial: u64, word: &str) -> u64 {
    hash_str(word) ^ serial.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl RecentWords {
    /// Calls `each` with the index of each of `words` (the eligible words of one
    /// text, in order) and the postings of the anchor tokens near it (see
    /// [`NearPosting`]). Remembered words are answered at once; the others are
    /// looked up together, [`LOOKUP_WORDS`] at a time, each once, and remembered:
    /// the reads of the deletion index and of the near words' records and postings
    /// of different words overlap instead of waiting word by word. The answers are
    /// the same as one word at a time.
    fn near_postings_of(
        &mut self,
        engine: &ScreeningEngine,
        words: &[&str],
        mut each: impl FnMut(usize, &[NearPosting]),
    ) {
        let serial = engine.serial;
        for start in (0..words.len()).step_by(LOOKUP_WORDS) {
            let end = (start + LOOKUP_WORDS).min(words.len());
            self.missing.clear();
            self.pending.clear();
            for (i, &word) in words.iter().enumerate().take(end).skip(start) {
                let hash = recent_key_hash(serial, word);
                let remembered = self
                    .table
                    .find(hash, |r| r.serial == serial && r.word(&self.words) == word);
                if let Some(&RememberedWord {
                    postings: (a, b), ..
                }) = remembered
                {
                    each(i, &self.postings[a as usize..b as usize]);
                    continue;
                }
                let same = |&(h, w): &(u64, u32)| h == hash && words[w as usize] == word;
                let j = self.missing.iter().position(same).unwrap_or_else(|| {
                    self.missing.push((hash, i as u32));
                    self.missing.len() - 1
                });
                self.pending.push((i as u32, j as u32));
            }
            if self.missing.is_empty() {
                continue;
            }
            let batch: Vec<&str> = (self.missing.iter())
                .map(|&(_, w)| words[w as usize])
                .collect();
            engine.near_postings(&batch, &mut self.lookup);
            for &(i, j) in &self.pending {
                each(i as usize, self.lookup.postings_of(j as usize));
            }
            self.make_room(batch.len());
            for (j, &(hash, w)) in self.missing.iter().enumerate() {
                let word_start = self.words.len() as u32;
                self.words.push_str(words[w as usize]);
                let postings_start = self.postings.len() as u32;
                self.postings.extend_from_slice(self.lookup.postings_of(j));
                let remembered = RememberedWord {
                    serial,
                    word: (word_start, self.words.len() as u32),
                    postings: (postings_start, self.postings.len() as u32),
                };
                let spellings = &self.words;
                self.table.insert_unique(hash, remembered, |r| {
                    recent_key_hash(r.serial, r.word(spellings))
                });
            }
        }
    }

    /// Starts over if `more` words would not fit. Keeps the buffers, unless very
    /// long words made the one of words large.
    fn make_room(&mut self, more: usize) {
        if self.table.len() + more > RECENT_WORDS
            || self.postings.len() >= RECENT_POSTINGS
            || self.words.len() >= RECENT_WORD_BYTES
        {
            self.table.clear();
            self.words.clear();
            self.words.shrink_to(RECENT_WORD_BYTES);
            self.postings.clear();
        }
    }
}

impl NearLookup {
    /// The postings of word `i` of the last [`ScreeningEngine::near_postings`].
    fn postings_of(&self, i: usize) -> &[NearPosting] {
        let ends = &self.posting_ends;
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        &self.postings[start..ends[i] as usize]
    }
}

/// Forgets the near words the engine remembers on this thread, so the next
/// screening looks every word up afresh (for measuring that cost).
pub fn forget_recent_words() {
    SCRATCH.with(|cell| {
        if let Ok(mut scratch) = cell.try_borrow_mut() {
            scratch.recent = RecentWords::default();
        }
    });
}

/// Gives each engine a number of its own, so remembered words of one engine are
/// never taken for another's.
static NEXT_ENGINE_SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Scratch {
    /// Lets go of buffers a very long text made large.
    fn trim(&mut self) {
        const KEEP: usize = 1 << 20;
        if self.tok.folded.capacity() > KEEP || self.slots.capacity() > KEEP / 8 {
            *self = Scratch::default();
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

impl Doc<'_> {
    fn folded(&self, i: usize) -> &str {
        self.tok.folded_of(&self.tok.tokens[i])
    }

    fn matches(&self, i: usize, id: u32) -> bool {
        let s = &self.slots[i];
        s.id == id || s.native == id
    }

    /// The characters between word `i` and word `i + 1`.
    fn gap_after(&self, i: usize) -> &str {
        let t = &self.tok.tokens;
        &self.text[t[i].end as usize..t[i + 1].start as usize]
    }
}

/// What the marked words within [`AROUND`] words of a word (not the word itself)
/// hold, summed up so that most postings found through that word are ruled out
/// without reading the words one by one: a common word spelt nearly like many
/// indexed anchors brings hundreds of postings to [`ScreeningEngine::other_end_may_be_near`],
/// and nearly all fail it.
struct MarksAround {
    /// A bit for each id a mark has (as folded, written or joined), picked by
    /// [`id_bit`]: an id whose bit is clear is none of them.
    ids: u64,
    /// A bit for the letter of each initial.
    initials: u32,
    /// The [`Mark::sig`]s of the words eligible for near spellings (the first
    /// [`AROUND_SIGS`] of them).
    sigs: [u32; AROUND_SIGS],
    /// How many of `sigs` are set, or `usize::MAX` if the words had more: then
    /// nothing is ruled out.
    sig_count: usize,
}

/// Words either side that [`MarksAround`] sums up: the reach of a name of up to
/// four parts ([`Posting::reach`]). Postings that reach farther are not ruled out.
const AROUND: usize = 6;

/// Eligible words [`MarksAround`] keeps.
const AROUND_SIGS: usize = 6;

/// The bit standing for vocabulary id `id` in [`MarksAround::ids`].
fn id_bit(id: u32) -> u64 {
    1 << (id.wrapping_mul(0x9e37_79b9) >> 26)
}

impl MarksAround {
    /// The marks within [`AROUND`] words of word `s` of `doc`, but `s`.
    fn new(doc: &Doc, s: usize) -> MarksAround {
        let lo = s.saturating_sub(AROUND);
        let hi = (s + AROUND + 1).min(doc.slots.len());
        let mut around = MarksAround {
            ids: 0,
            initials: 0,
            sigs: [0; AROUND_SIGS],
            sig_count: 0,
        };
        for m in &doc.marks[doc.first_mark[lo] as usize..doc.first_mark[hi] as usize] {
            if m.at as usize == s {
                continue;
            }
            for id in [m.id, m.native, m.join] {
                if id != NONE {
                    around.ids |= id_bit(id);
                }
            }
            if m.initial.is_ascii_lowercase() {
                around.initials |= 1 << (m.initial - b'a');
            }
            if m.sig != 0 && around.sig_count != usize::MAX {
                if around.sig_count == AROUND_SIGS {
                    around.sig_count = usize::MAX;
                } else {
                    around.sigs[around.sig_count] = m.sig;
                    around.sig_count += 1;
                }
            }
        }
        around
    }

    /// False when [`ScreeningEngine::other_end_may_be_near`] is sure to be false
    /// for `posting`, found through the word these marks are around: no mark
    /// within reach can be the other end, its initial or, by [`signature`], a near
    /// spelling of it. (Each test is one that method makes, or implied by one.)
    fn may_hold(&self, posting: &Posting) -> bool {
        let part = posting.other_end;
        if part == NONE || posting.reach as usize > AROUND || self.sig_count == usize::MAX {
            return true;
        }
        if self.ids & id_bit(part) != 0 {
            return true;
        }
        let sig = posting.other_sig;
        if sig == EXACT_ONLY {
            return false;
        }
        if posting.initial.is_ascii_lowercase()
            && self.initials & (1 << (posting.initial - b'a')) != 0
        {
            return true;
        }
        let other_len = (sig >> 26) as usize;
        self.sigs[..self.sig_count].iter().any(|&m| {
            let bound = pair_bound((m >> 26) as usize, other_len);
            bound > 0 && may_be_near(m, sig, bound)
        })
    }
}

/// How a candidate matched, before it becomes a [`Hit`].
#[derive(Debug, Clone, Copy)]
enum Basis {
    Exact,
    Aligned {
        fuzzy_sim: Option<f32>,
        reordered: bool,
        missing_middle: usize,
        extra_middle: usize,
        legal_differs: bool,
    },
    Identifier(IdScheme),
}

#[derive(Debug, Clone, Copy)]
struct RawHit {
    entry: u32,
    pattern: u32,
    source: Source,
    start: usize,
    end: usize,
    score: f32,
    basis: Basis,
    no_context: bool,
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

    fn entry_id(&self, e: u32) -> &str {
        let i = e as usize;
        let start = if i == 0 {
            0
        } else {
            self.entry_ends[i - 1].1 as usize
        };
        &self.entry_text[start..self.entry_ends[i].0 as usize]
    }

    fn entry_name(&self, e: u32) -> &str {
        let (id_end, name_end) = self.entry_ends[e as usize];
        &self.entry_text[id_end as usize..name_end as usize]
    }

    fn pattern_tokens(&self, p: &Pattern) -> &[u32] {
        &self.tokens[p.tok_start as usize..][..p.len as usize]
    }

    fn postings(&self, id: u32) -> &[Posting] {
        if id == NONE {
            return &[];
        }
        let (a, b) = (
            self.anchor_offsets[id as usize] as usize,
            self.anchor_offsets[id as usize + 1] as usize,
        );
        &self.anchor_postings[a..b]
    }

    /// Tokenizes `text` into `scratch` (unless it holds that text's tokens already)
    /// and looks its words up in the vocabulary. Returns whether the text has a word
    /// that introduces an identifier (IMO, MMSI).
    fn prepare(&self, text: &str, scratch: &mut Scratch) -> bool {
        let Scratch {
            tok,
            tokenized,
            slots,
            words,
            joined,
            uncached,
            uncached_info,
            ..
        } = scratch;
        if tokenized.as_deref() != Some(text) {
            tok.tokenize(text);
            let held = tokenized.get_or_insert_with(String::new);
            held.clear();
            held.push_str(text);
        }
        slots.clear();
        uncached.clear();
        let mut identifier_word = false;
        let folded = tok.folded.as_bytes();
        for t in &tok.tokens {
            let (start, end) = (t.folded.0 as usize, t.folded.1 as usize);
            let f = &tok.folded[start..end];
            identifier_word |= matches!(f.len(), 3 | 4) && matches!(f, "imo" | "mmsi");
            let look_up = || WordInfo {
                id: self.vocab.get(f),
                vessel_word: is_vessel_word(f),
            };
            let info = match ShortWord::new(folded, start, end) {
                Some(w) => words.get(self.serial, w).unwrap_or_else(|| {
                    uncached.push((slots.len() as u32, false, w));
                    WordInfo::NONE
                }),
                None if f.is_empty() => WordInfo::NONE,
                None => look_up(),
            };
            let native = tok.native_of(t).map_or(NONE, |n| self.vocab.get(n));
            let sig = if self.options.fuzzy && word_fuzzy_eligible(t, tok.cased) {
                signature(f.as_bytes())
            } else {
                0
            };
            let initial = match f.as_bytes() {
                &[b] if b.is_ascii_lowercase() => b,
                _ => 0,
            };
            slots.push(Slot {
                id: info.id,
                native,
                join: NONE,
                sig,
                initial,
                vessel_word: info.vessel_word,
            });
        }
        // Name parts written apart in the text but together in a list ("Jong Un" for
        // a listed "Jongun"). In a text that uses case, one of the two is capitalised
        // ("Jong-un", "al-Assad"); prose pairs ("of the") are not looked up.
        for (i, pair) in tok.tokens.windows(2).enumerate() {
            let (a, b) = (&pair[0], &pair[1]);
            if a.numeric || b.numeric || a.ideographic || b.ideographic {
                continue;
            }
            if tok.cased && !a.capitalised && !b.capitalised {
                continue;
            }
            let (fa, fb) = (tok.folded_of(a), tok.folded_of(b));
            if fa.is_empty() || fb.is_empty() || (fa.len() > 3 && fb.len() > 3) {
                continue;
            }
            let gap = &text[a.end as usize..b.start as usize];
            if !matches!(gap, "-" | " " | "\u{2010}" | "\u{2011}") {
                continue;
            }
            joined.clear();
            joined.push_str(fa);
            joined.push_str(fb);
            let joined = joined.as_str();
            let look_up = || WordInfo {
                id: self.vocab.get(joined),
                vessel_word: is_vessel_word(joined),
            };
            slots[i].join = match ShortWord::new(joined.as_bytes(), 0, joined.len()) {
                Some(w) => words.get(self.serial, w).map_or_else(
                    || {
                        uncached.push((i as u32, true, w));
                        NONE
                    },
                    |info| info.id,
                ),
                None => look_up().id,
            };
        }
        // The words the cache did not have, looked up in a loop of their own: the
        // lookups are independent, so their scattered reads overlap instead of
        // waiting word by word.
        uncached_info.clear();
        uncached_info.extend(uncached.iter().map(|(_, _, w)| {
            let bytes = w.bytes();
            let word = std::str::from_utf8(&bytes[..w.len as usize]).expect("a whole &str");
            WordInfo {
                id: self.vocab.get(word),
                vessel_word: is_vessel_word(word),
            }
        }));
        for (&(i, join, w), &info) in uncached.iter().zip(uncached_info.iter()) {
            words.put(self.serial, w, info);
            let slot = &mut slots[i as usize];
            if join {
                slot.join = info.id;
            } else {
                slot.id = info.id;
                slot.vessel_word = info.vessel_word;
            }
        }
        identifier_word
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

    /// The postings of the anchor tokens within the edit bound of each of `words`
    /// (not the word itself, which is looked up exactly). The answer is left in
    /// `lookup.postings`, word by word as `lookup.posting_ends` says.
    fn near_postings(&self, words: &[&str], lookup: &mut NearLookup) {
        self.near_words(words, lookup);
        let NearLookup {
            near,
            near_ends,
            postings: out,
            posting_ends,
            ..
        } = lookup;
        // The first posting of each near word, read ahead in a loop of independent
        // reads that overlap.
        let mut touched = 0u32;
        for w in near.iter() {
            if let Some(p) = self.anchor_postings.get(w.postings.0 as usize) {
                touched ^= p.pattern;
            }
        }
        std::hint::black_box(touched);
        out.clear();
        posting_ends.clear();
        let mut start = 0;
        for &end in near_ends.iter() {
            for w in &near[start..end as usize] {
                let (first, last) = w.postings;
                for posting in &self.anchor_postings[first as usize..last as usize] {
                    out.push(NearPosting {
                        word: w.id,
                        too_far: posting.other_end == NONE
                            && !self.one_word_may_pass(w, posting.legal_len),
                        posting: *posting,
                    });
                }
            }
            posting_ends.push(out.len() as u32);
            start = end as usize;
        }
    }

    /// Anchor tokens within the edit bound of each of `words`, other than the word
    /// itself, into `lookup.near`, word by word as `lookup.near_ends` says.
    fn near_words(&self, words: &[&str], lookup: &mut NearLookup) {
        let NearLookup {
            keys,
            ids,
            records,
            near,
            near_ends,
            ..
        } = lookup;
        ids.clear();
        let queries: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        self.deletions.candidates_of_many(&queries, keys, |q, id| {
            ids.push(u64::from(q) << 32 | u64::from(id))
        });
        ids.sort_unstable();
        ids.dedup();
        // The candidates' records first, in a loop of independent reads that
        // overlap, then the checks.
        records.clear();
        records.extend(ids.iter().map(|&x| self.anchor_words[x as u32 as usize]));
        near.clear();
        near_ends.clear();
        let mut at = 0;
        for (q, word) in words.iter().enumerate() {
            let query = signature(word.as_bytes());
            let end = at + ids[at..].partition_point(|&x| (x >> 32) as usize == q);
            near.extend(
                ids[at..end]
                    .iter()
                    .zip(&records[at..end])
                    .filter_map(|(&x, r)| {
                        let id = x as u32;
                        let bound = pair_bound(word.len(), (r.sig >> 26) as usize);
                        if !may_be_near(query, r.sig, bound) {
                            return None;
                        }
                        let len = usize::from(r.len);
                        let w = if len <= INLINE_WORD {
                            &r.bytes[..len]
                        } else {
                            self.vocab.str(id).as_bytes()
                        };
                        let d = bounded_distance(word.as_bytes(), w, bound)?;
                        (d > 0).then_some(NearWord {
                            id,
                            postings: r.postings,
                            sim: similarity(word.len(), w.len(), d),
                            len: w.len() as u32,
                        })
                    }),
            );
            near_ends.push(near.len() as u32);
            at = end;
        }
    }

    /// False when a name whose only core part is `near` (a near spelling of the
    /// text word, not the word itself), with `legal_len` letters of legal forms, is
    /// sure to score below the threshold: at best every legal form matches exactly,
    /// and a near spelling of a one-word name loses [`ONE_WORD_FUZZY_PENALTY`] (see
    /// [`Self::align`]). A small margin keeps rounding on the safe side.
    fn one_word_may_pass(&self, near: &NearWord, legal_len: u8) -> bool {
        if legal_len == NO_LEGAL_LEN {
            return true;
        }
        let (len, legal) = (near.len as f32, f32::from(legal_len));
        let best = (len * near.sim + legal) / (len + legal) - ONE_WORD_FUZZY_PENALTY;
        best >= self.options.threshold - 1e-3
    }

    /// IMO and MMSI numbers in the text; returns the entries they name.
    fn identifier_hits(&self, doc: &Doc, raw: &mut Vec<RawHit>) -> HashSet<u32> {
        let mut found = HashSet::new();
        if self.identifiers.is_empty() {
            return found;
        }
        let n = doc.slots.len();
        for i in 0..n {
            let scheme = match doc.folded(i) {
                "imo" => IdScheme::Imo,
                "mmsi" => IdScheme::Mmsi,
                _ => continue,
            };
            let mut j = i + 1;
            while j < n && j <= i + 2 && matches!(doc.folded(j), "no" | "nr" | "number" | "num") {
                j += 1;
            }
            if j >= n || !doc.tok.tokens[j].numeric {
                continue;
            }
            let digits = doc.folded(j);
            let want = if scheme == IdScheme::Imo { 7 } else { 9 };
            if digits.len() != want {
                continue;
            }
            let Ok(number) = digits.parse::<u64>() else {
                continue;
            };
            for &e in self
                .identifiers
                .get(&(scheme, number))
                .into_iter()
                .flatten()
            {
                found.insert(e);
                raw.push(RawHit {
                    entry: e,
                    pattern: NONE,
                    source: Source::Name,
                    start: i,
                    end: j + 1,
                    score: 1.0,
                    basis: Basis::Identifier(scheme),
                    no_context: false,
                });
            }
        }
        found
    }

    fn verify(&self, doc: &Doc, p: u32, s: usize) -> Option<RawHit> {
        let pat = &self.patterns[p as usize];
        let toks = self.pattern_tokens(pat);
        let k = pat.anchor as usize;
        let anchor = toks[k];
        let hit = |start, end, score, basis| RawHit {
            entry: pat.entry,
            pattern: p,
            source: pat.source,
            start,
            end,
            score,
            basis,
            no_context: false,
        };
        // Exact: consecutive tokens, the anchor one word or two written apart.
        for width in [1usize, 2] {
            let at_anchor = if width == 1 {
                doc.matches(s, anchor)
            } else {
                doc.slots[s].join == anchor
            };
            if !at_anchor {
                continue;
            }
            if let (Some(end), Some(start)) = (
                forward(doc, &toks[k + 1..], s + width),
                backward(doc, &toks[..k], s),
            ) {
                return Some(hit(start, end, 1.0, Basis::Exact));
            }
        }
        if pat.source == Source::Weak || toks.len() > MAX_ALIGNED {
            return None;
        }
        self.align(doc, pat, toks, s)
            .map(|(start, end, score, basis)| hit(start, end, score, basis))
    }

    /// False when the name of `posting`, its anchor seen at word `s`, surely cannot
    /// match: every way to match needs both ends of the name (its first and last core
    /// parts), and no word within reach is the other end, its initial or (with fuzzy
    /// matching) a near spelling of it. Reads the marked words of the text and the
    /// posting, and the other end's spelling only for a word whose [`signature`] is
    /// near; [`Self::verify`] decides.
    fn other_end_may_be_near(&self, doc: &Doc, s: usize, posting: &Posting) -> bool {
        let part = posting.other_end;
        if part == NONE {
            return true;
        }
        let reach = posting.reach as usize;
        let lo = s.saturating_sub(reach);
        let hi = (s + reach + 1).min(doc.slots.len());
        let marks = &doc.marks[doc.first_mark[lo] as usize..doc.first_mark[hi] as usize];
        let sig = posting.other_sig;
        let s = s as u32;
        let is_part = |m: &Mark| m.id == part || m.native == part || m.join == part;
        if sig == EXACT_ONLY {
            return marks.iter().any(|m| m.at != s && is_part(m));
        }
        let other_len = (sig >> 26) as usize;
        marks.iter().any(|m| {
            if m.at == s {
                return false;
            }
            // An initial for the other end ("Vladimir V. Putin").
            if is_part(m) || (m.initial != 0 && m.initial == posting.initial) {
                return true;
            }
            // `sig` is 0 unless fuzzy matching is on and the word is eligible.
            // The same test as in `part_similarity`, signatures first.
            m.sig != 0 && {
                let bound = pair_bound((m.sig >> 26) as usize, other_len);
                bound > 0
                    && may_be_near(m.sig, sig, bound)
                    && bounded_distance(
                        doc.folded(m.at as usize).as_bytes(),
                        self.vocab.str(part).as_bytes(),
                        bound,
                    )
                    .is_some()
            }
        })
    }

    /// Similarity of text word `i` to name part `part`: 1 if equal, the near-spelling
    /// similarity within the edit bound when fuzzy matching is on, else 0.
    fn part_similarity(&self, doc: &Doc, i: usize, part: u32, person: bool) -> f32 {
        if doc.matches(i, part) {
            return 1.0;
        }
        let flags = self.vocab.flags[part as usize];
        if person && flags & (T_NUMERIC | T_NATIVE) == 0 {
            // An initial stands for a name part: "Vladimir V. Putin".
            let (word, name) = (doc.folded(i).as_bytes(), self.vocab.str(part).as_bytes());
            if word.len() == 1 && name.len() > 1 && name[0] == word[0] {
                return INITIAL_SIMILARITY;
            }
        }
        // A signature is set only for words worth a near spelling, with fuzzy on.
        if doc.slots[i].sig == 0 || self.vocab.flags[part as usize] & (T_NUMERIC | T_NATIVE) != 0 {
            return 0.0;
        }
        // Signatures rule out most pairs before either word is read.
        // (The lengths in signatures are capped at 63, which gives the same bound.)
        let (word_sig, part_sig) = (doc.slots[i].sig, self.signatures[part as usize]);
        let bound = pair_bound((word_sig >> 26) as usize, (part_sig >> 26) as usize);
        if bound == 0 || !may_be_near(word_sig, part_sig, bound) {
            return 0.0;
        }
        let (a, b) = (doc.folded(i).as_bytes(), self.vocab.str(part).as_bytes());
        bounded_distance(a, b, bound).map_or(0.0, |d| similarity(a.len(), b.len(), d))
    }

    /// Aligns the name parts with the words around slot `s` (see the module docs).
    fn align(
        &self,
        doc: &Doc,
        pat: &Pattern,
        toks: &[u32],
        s: usize,
    ) -> Option<(usize, usize, f32, Basis)> {
        let n = toks.len();
        let person = pat.flags & P_PERSON != 0;
        let vessel = self.entry_kinds[pat.entry as usize] == EntryKind::Vessel;
        let mut slot_of = [usize::MAX; MAX_ALIGNED];
        let mut sims = [0f32; MAX_ALIGNED];
        // The best free name part for word `i`; on equal similarity, the part that
        // continues the name's order from part `from` in direction `dir`.
        let best = |i: usize,
                    slot_of: &[usize; MAX_ALIGNED],
                    ok: &dyn Fn(usize) -> bool,
                    from: usize,
                    dir: isize| {
            let mut best: Option<(usize, f32, usize)> = None;
            for j in 0..n {
                if slot_of[j] != usize::MAX || !ok(j) {
                    continue;
                }
                let sim = self.part_similarity(doc, i, toks[j], person);
                let in_order = (dir > 0 && j > from) || (dir < 0 && j < from);
                let closeness = if in_order { n - j.abs_diff(from) } else { 0 };
                if sim > 0.0 && best.is_none_or(|(_, b, c)| sim > b || (sim == b && closeness > c))
                {
                    best = Some((j, sim, closeness));
                }
            }
            best.map(|(j, sim, _)| (j, sim))
        };
        let k = pat.anchor as usize;
        let seed = match self.part_similarity(doc, s, toks[k], person) {
            sim if sim > 0.0 => (k, sim),
            _ => best(s, &slot_of, &|_| true, k, 0)?,
        };
        slot_of[seed.0] = s;
        sims[seed.0] = seed.1;
        let (mut lo, mut hi) = (s, s);
        let (mut min_j, mut max_j) = (seed.0, seed.0);
        let mut extra_middle = 0usize;
        let mut extra_legal = 0usize;
        let max_extra_middle = usize::from(person);
        // A text word between name parts that the name does not have.
        let extra_kind = |i: usize| -> Option<bool> {
            let t = &doc.tok.tokens[i];
            let f = doc.folded(i);
            if t.numeric || vessel {
                return None;
            }
            if !person && is_legal_form(f) {
                return Some(false);
            }
            let particle = NAME_PARTICLES.binary_search(&f).is_ok();
            (person && (f.len() == 1 || t.capitalised || particle)).then_some(true)
        };
        for dir in [1isize, -1] {
            loop {
                let edge = if dir > 0 { hi } else { lo };
                let next = edge as isize + dir;
                if next < 0 || next as usize >= doc.slots.len() {
                    break;
                }
                let t = next as usize;
                let ordered_ok = |j: usize| person || if dir > 0 { j > max_j } else { j < min_j };
                let from = (0..n).find(|&j| slot_of[j] == edge).unwrap_or(k);
                if let Some((j, sim)) = best(t, &slot_of, &ordered_ok, from, dir) {
                    slot_of[j] = t;
                    sims[j] = sim;
                    min_j = min_j.min(j);
                    max_j = max_j.max(j);
                    if dir > 0 {
                        hi = t
                    } else {
                        lo = t
                    }
                    continue;
                }
                // Skip one word the name lacks, if a name part follows it.
                let beyond = next + dir;
                if beyond < 0 || beyond as usize >= doc.slots.len() {
                    break;
                }
                let Some(middle) = extra_kind(t) else { break };
                if (middle && extra_middle >= max_extra_middle) || (!middle && extra_legal >= 2) {
                    break;
                }
                let t2 = beyond as usize;
                let Some((j, sim)) = best(t2, &slot_of, &ordered_ok, from, dir) else {
                    break;
                };
                slot_of[j] = t2;
                sims[j] = sim;
                min_j = min_j.min(j);
                max_j = max_j.max(j);
                if middle {
                    extra_middle += 1;
                } else {
                    extra_legal += 1;
                }
                if dir > 0 { hi = t2 } else { lo = t2 }
            }
        }
        // Coverage.
        let legal = |j: usize| self.vocab.flags[toks[j] as usize] & T_LEGAL != 0;
        let matched: Vec<usize> = (0..n).filter(|&j| slot_of[j] != usize::MAX).collect();
        let mut missing_middle = 0usize;
        let mut missing_legal = 0usize;
        for j in (0..n).filter(|&j| slot_of[j] == usize::MAX) {
            if legal(j) {
                missing_legal += 1;
            } else if person && j != 0 && j != n - 1 {
                missing_middle += 1;
            } else {
                return None;
            }
        }
        if !matched.iter().any(|&j| !legal(j)) {
            return None;
        }
        if person && n >= 2 && matched.len() < 2 {
            return None;
        }
        if missing_middle > 0 {
            // A middle name swapped for another is a different person.
            if extra_middle > 0 {
                return None;
            }
            let letters: usize = matched
                .iter()
                .map(|&j| {
                    self.vocab
                        .str(toks[j])
                        .len()
                        .min(doc.folded(slot_of[j]).len())
                })
                .sum();
            if letters < MIN_LETTERS_WITHOUT_MIDDLE {
                return None;
            }
        }
        let reordered = matched.windows(2).any(|w| slot_of[w[0]] > slot_of[w[1]]);
        let mut weight = 0f32;
        let mut total = 0f32;
        let mut fuzzy = false;
        for &j in &matched {
            let len = self.vocab.str(toks[j]).chars().count() as f32;
            weight += len * sims[j];
            total += len;
            fuzzy |= sims[j] < 1.0;
        }
        let sim = weight / total;
        let penalty = 0.06 * missing_middle as f32
            + 0.04 * extra_middle as f32
            + 0.01 * (missing_legal + extra_legal) as f32
            + if reordered { 0.03 } else { 0.0 }
            + if fuzzy && matched.iter().filter(|&&j| !legal(j)).count() == 1 {
                ONE_WORD_FUZZY_PENALTY
            } else {
                0.0
            };
        let score = (sim - penalty).clamp(0.0, 1.0);
        let basis = if !fuzzy
            && !reordered
            && missing_middle + extra_middle + missing_legal + extra_legal == 0
        {
            Basis::Exact
        } else {
            Basis::Aligned {
                fuzzy_sim: fuzzy.then_some(sim),
                reordered,
                missing_middle,
                extra_middle,
                legal_differs: missing_legal + extra_legal > 0,
            }
        };
        Some((lo, hi + 1, score, basis))
    }

    fn finish_hits(&self, doc: &Doc, mut raw: Vec<RawHit>, ids_in_doc: &HashSet<u32>) -> Vec<Hit> {
        let n = doc.slots.len();
        raw.retain_mut(|h| {
            if matches!(h.basis, Basis::Identifier(_)) {
                return true;
            }
            // Numbers are identity: "Maia-2" is not a listed "Maia".
            if h.end < n && doc.tok.tokens[h.end].numeric && !doc.tok.tokens[h.end - 1].numeric {
                let gap = doc.gap_after(h.end - 1);
                let digits = doc.folded(h.end).len();
                if gap.is_empty() || gap == "-" || (gap == " " && digits <= 3) {
                    return false;
                }
            }
            let needs_context = self.needs_context(h);
            if needs_context && !ids_in_doc.contains(&h.entry) && !has_vessel_context(doc, h) {
                h.no_context = true;
                h.score = h.score.min(0.4);
            }
            true
        });
        // Best first; then keep, per entry, hits that do not overlap a better one.
        raw.sort_by(|a, b| {
            a.entry
                .cmp(&b.entry)
                .then(b.score.total_cmp(&a.score))
                .then((b.end - b.start).cmp(&(a.end - a.start)))
                .then(a.start.cmp(&b.start))
        });
        let mut kept: Vec<RawHit> = Vec::new();
        for h in raw {
            if h.score < self.options.threshold {
                continue;
            }
            let overlaps = kept
                .iter()
                .rev()
                .take_while(|k| k.entry == h.entry)
                .any(|k| h.start < k.end && k.start < h.end);
            if !overlaps {
                kept.push(h);
            }
        }
        kept.sort_by(|a, b| a.start.cmp(&b.start).then(a.entry.cmp(&b.entry)));
        // What the hits are made of, read ahead in loops of independent reads.
        let mut touched = 0u32;
        for h in &kept {
            let e = h.entry as usize;
            touched ^= self.entry_ends[e].0 ^ u32::from(self.entry_lists[e]);
            touched ^= self.entry_kinds[e] as u32;
        }
        for h in &kept {
            let at = self.entry_ends[h.entry as usize].0 as usize;
            touched ^= u32::from(self.entry_text.as_bytes().get(at).copied().unwrap_or(0));
        }
        std::hint::black_box(touched);
        kept.into_iter().map(|h| self.to_hit(doc, &h)).collect()
    }

    /// True for a vessel matched through a one-word name ("Maria").
    fn needs_context(&self, h: &RawHit) -> bool {
        h.pattern != NONE && self.patterns[h.pattern as usize].flags & P_NEEDS_CONTEXT != 0
    }

    fn to_hit(&self, doc: &Doc, h: &RawHit) -> Hit {
        let start = doc.tok.tokens[h.start].start as usize;
        let end = doc.tok.tokens[h.end - 1].end as usize;
        let mut reason = match h.basis {
            Basis::Exact => format!("{}, exact", h.source.label()),
            Basis::Identifier(scheme) => format!(
                "{} {}",
                if scheme == IdScheme::Imo {
                    "IMO"
                } else {
                    "MMSI"
                },
                doc.folded(h.end - 1)
            ),
            Basis::Aligned {
                fuzzy_sim,
                reordered,
                missing_middle,
                extra_middle,
                legal_differs,
            } => {
                let mut r = match fuzzy_sim {
                    Some(sim) => format!("{} parts aligned {sim:.2}", h.source.label()),
                    None => h.source.label().to_string(),
                };
                if reordered {
                    r.push_str(", order differs");
                }
                if missing_middle > 0 {
                    r.push_str(", middle name not in text");
                }
                if extra_middle > 0 {
                    r.push_str(", extra middle name in text");
                }
                if legal_differs {
                    r.push_str(", legal form differs");
                }
                r
            }
        };
        if h.no_context {
            reason.push_str(", no vessel context");
        }
        Hit {
            list: self.lists[self.entry_lists[h.entry as usize] as usize].clone(),
            entry_id: self.entry_id(h.entry).to_string(),
            name: self.entry_name(h.entry).to_string(),
            kind: self.entry_kinds[h.entry as usize],
            matched_text: doc.text[start..end].to_string(),
            start,
            end,
            score: (h.score * 1000.0).round() / 1000.0,
            reason,
        }
    }
}

/// A word of the text worth a near-spelling lookup: alphabetic, four letters or
/// more, and capitalised (unless the text does not use case, `cased` being
/// [`Tokenizer::cased`]).
fn word_fuzzy_eligible(t: &RawToken, cased: bool) -> bool {
    !t.numeric && !t.ideographic && (t.capitalised || !cased) && (t.folded.1 - t.folded.0) >= 4
}

/// The [`Mark`]s of the words `slots` into `marks`, and [`Doc::first_mark`] into
/// `first_mark`.
fn mark_words(slots: &[Slot], marks: &mut Vec<Mark>, first_mark: &mut Vec<u32>) {
    marks.clear();
    first_mark.clear();
    for (i, s) in slots.iter().enumerate() {
        first_mark.push(marks.len() as u32);
        if s.id != NONE || s.native != NONE || s.join != NONE || s.sig != 0 || s.initial != 0 {
            marks.push(Mark {
                at: i as u32,
                id: s.id,
                native: s.native,
                join: s.join,
                sig: s.sig,
                initial: s.initial,
            });
        }
    }
    first_mark.push(marks.len() as u32);
}

/// True if a vessel word is within [`CONTEXT_WINDOW`] words of the hit.
fn has_vessel_context(doc: &Doc, h: &RawHit) -> bool {
    let lo = h.start.saturating_sub(CONTEXT_WINDOW);
    let hi = (h.end + CONTEXT_WINDOW).min(doc.slots.len());
    doc.slots[lo..h.start].iter().any(|s| s.vessel_word)
        || doc.slots[h.end.min(hi)..hi].iter().any(|s| s.vessel_word)
}

/// Matches `parts` consecutively from word `i`; returns the end (exclusive).
fn forward(doc: &Doc, parts: &[u32], i: usize) -> Option<usize> {
    let Some((&first, rest)) = parts.split_first() else {
        return Some(i);
    };
    if i >= doc.slots.len() {
        return None;
    }
    if doc.matches(i, first)
        && let Some(end) = forward(doc, rest, i + 1)
    {
        return Some(end);
    }
    if doc.slots[i].join == first {
        return forward(doc, rest, i + 2);
    }
    None
}

/// Matches `parts` consecutively ending just before word `end`; returns the start.
fn backward(doc: &Doc, parts: &[u32], end: usize) -> Option<usize> {
    let Some((&last, rest)) = parts.split_last() else {
        return Some(end);
    };
    if end >= 1
        && doc.matches(end - 1, last)
        && let Some(start) = backward(doc, rest, end - 1)
    {
        return Some(start);
    }
    if end >= 2 && doc.slots[end - 2].join == last {
        return backward(doc, rest, end - 2);
    }
    None
}

impl Screener for ScreeningEngine {
    fn screen(&self, text: &str) -> Vec<Hit> {
        self.screen_text(text)
    }
}

#[cfg(test)]
mod tests {
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
