//! The index (see "Index" in the [module docs](super)): the vocabulary of name
//! parts ([`Vocab`]), the names as patterns over one arena of token ids
//! ([`Pattern`]), the anchor postings ([`Posting`]), the records near spellings are
//! checked against ([`AnchorWord`]), the vessel numbers, and the [`EngineBuilder`]
//! that builds them all; with the few readers of them that the other steps share.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::{FxHashMap, FxHasher};

use super::word_memory::NEXT_ENGINE_SERIAL;
use super::{EngineOptions, NONE, ScreeningEngine};
use crate::fuzzy::{DeletionIndex, signature};
use crate::normalize::Tokenizer;
use crate::{EntryKind, WatchEntry, identifier_digits};

// Token flags.
pub(super) const T_NUMERIC: u8 = 1;
pub(super) const T_LEGAL: u8 = 2;
pub(super) const T_NATIVE: u8 = 4;

// Pattern flags.
pub(super) const P_PERSON: u8 = 1;
pub(super) const P_NEEDS_CONTEXT: u8 = 2;
const P_VARIANT: u8 = 4;

/// Legal forms and articles that company names may carry or drop.
const LEGAL_FORMS: &[&str] = &[
    "ag", "ao", "bv", "cjsc", "co", "corp", "fzc", "fzco", "fze", "gmbh", "inc", "jsc", "llc",
    "llp", "lp", "ltd", "nv", "oao", "ojsc", "ooo", "pao", "pjsc", "plc", "pte", "pvt", "sa",
    "sarl", "srl", "the", "zao",
];

pub(super) fn is_legal_form(s: &str) -> bool {
    LEGAL_FORMS.binary_search(&s).is_ok()
}

/// Folds a 128-bit product to 64 bits: every bit of either factor reaches every bit
/// of the result.
pub(super) fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The hash of a word, for the vocabulary and the tables of text words. Words are
/// short, so it reads at most two (overlapping) 8-byte or 4-byte pieces of a word up
/// to 16 bytes, and 8 bytes at a time beyond that, with no loop over single bytes.
pub(super) fn hash_str(s: &str) -> u64 {
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
pub(super) struct Vocab {
    table: HashTable<u32>,
    pub(super) text: String,
    pub(super) ends: Vec<u32>,
    pub(super) flags: Vec<u8>,
}

#[inline]
fn vocab_str<'a>(text: &'a str, ends: &[u32], id: u32) -> &'a str {
    let i = id as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &text[start..ends[i] as usize]
}

impl Vocab {
    pub(super) fn str(&self, id: u32) -> &str {
        vocab_str(&self.text, &self.ends, id)
    }

    pub(super) fn get(&self, s: &str) -> u32 {
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

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.table.capacity() * 5 + self.text.capacity() + self.ends.capacity() * 5
    }
}

/// Where a pattern came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Name,
    Alias,
    Weak,
}

impl Source {
    pub(super) fn label(self) -> &'static str {
        match self {
            Source::Name => "name",
            Source::Alias => "alias",
            Source::Weak => "weak alias",
        }
    }
}

/// One name as a slice of the token arena.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pattern {
    pub(super) entry: u32,
    pub(super) tok_start: u32,
    len: u8,
    pub(super) anchor: u8,
    pub(super) source: Source,
    pub(super) flags: u8,
}

/// A pattern filed under its anchor token, with what it takes to rule it out
/// without reading the pattern: the token at the other end of the name (its first
/// or last core part) and that token's [`signature`].
#[derive(Clone, Copy, Default)]
pub(super) struct Posting {
    pub(super) pattern: u32,
    /// `NONE` when the anchor is the name's only core part.
    pub(super) other_end: u32,
    /// [`EXACT_ONLY`] for numbers and native-script parts, which never match nearly.
    pub(super) other_sig: u32,
    /// How far from the anchor the other end may be, in words.
    pub(super) reach: u8,
    /// The letter an initial standing for the other end would be; 0 unless the name
    /// is a person's (see
    /// [`INITIAL_SIMILARITY`](super::verify::INITIAL_SIMILARITY)).
    pub(super) initial: u8,
    /// Letters in the name's legal forms ([`NO_LEGAL_LEN`] if too many to count).
    pub(super) legal_len: u8,
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
pub(super) const NO_LEGAL_LEN: u8 = u8::MAX;

/// A [`Posting::other_sig`] for a part that only matches exactly.
pub(super) const EXACT_ONLY: u32 = u32::MAX;

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
pub(super) enum IdScheme {
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

/// What checking an anchor token against a text word needs, in one 32-byte record
/// so that it costs one memory read: the token's [`signature`], its postings' range
/// in [`ScreeningEngine::anchor_postings`] and, for a token of up to
/// [`INLINE_WORD`] bytes, its spelling (longer ones are read from the vocabulary).
#[derive(Clone, Copy, Default)]
#[repr(C, align(32))]
pub(super) struct AnchorWord {
    pub(super) sig: u32,
    pub(super) postings: (u32, u32),
    pub(super) len: u8,
    pub(super) bytes: [u8; INLINE_WORD],
}

/// Longest anchor token an [`AnchorWord`] spells out.
pub(super) const INLINE_WORD: usize = 19;

impl ScreeningEngine {
    pub(super) fn entry_id(&self, e: u32) -> &str {
        let i = e as usize;
        let start = if i == 0 {
            0
        } else {
            self.entry_ends[i - 1].1 as usize
        };
        &self.entry_text[start..self.entry_ends[i].0 as usize]
    }

    pub(super) fn entry_name(&self, e: u32) -> &str {
        let (id_end, name_end) = self.entry_ends[e as usize];
        &self.entry_text[id_end as usize..name_end as usize]
    }

    pub(super) fn pattern_tokens(&self, p: &Pattern) -> &[u32] {
        &self.tokens[p.tok_start as usize..][..p.len as usize]
    }

    pub(super) fn postings(&self, id: u32) -> &[Posting] {
        if id == NONE {
            return &[];
        }
        let (a, b) = (
            self.anchor_offsets[id as usize] as usize,
            self.anchor_offsets[id as usize + 1] as usize,
        );
        &self.anchor_postings[a..b]
    }
}
