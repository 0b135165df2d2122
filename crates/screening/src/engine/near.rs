//! Near spellings: the anchor tokens spelt nearly like each of some words of a text
//! (not the words themselves), found in the deletion index ([`crate::fuzzy`]) and
//! checked against their [`AnchorWord`] records, and the postings filed under them.
//! [`RecentWords`](super::word_memory::RecentWords) asks for them and remembers the
//! answers.

use super::index::{AnchorWord, INLINE_WORD, NO_LEGAL_LEN, Posting};
use super::verify::ONE_WORD_FUZZY_PENALTY;
use super::{NONE, ScreeningEngine};
use crate::fuzzy::{bounded_distance, may_be_near, pair_bound, signature, similarity};

/// Buffers of [`ScreeningEngine::near_postings`], reused so that looking words up
/// allocates only the answers.
#[derive(Default)]
pub(super) struct NearLookup {
    /// Deletion fingerprints of the words (see
    /// [`DeletionIndex::candidates_of_many`](crate::fuzzy::DeletionIndex::candidates_of_many)).
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
pub(super) struct NearPosting {
    /// The anchor token.
    pub(super) word: u32,
    /// True when the name is sure to score below the threshold unless the text has
    /// the anchor exactly after all, written apart
    /// ([`Slot::join`](super::candidates::Slot::join)); see
    /// [`ScreeningEngine::one_word_may_pass`].
    pub(super) too_far: bool,
    pub(super) posting: Posting,
}

impl NearLookup {
    /// The postings of word `i` of the last [`ScreeningEngine::near_postings`].
    pub(super) fn postings_of(&self, i: usize) -> &[NearPosting] {
        let ends = &self.posting_ends;
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        &self.postings[start..ends[i] as usize]
    }
}

impl ScreeningEngine {
    /// The postings of the anchor tokens within the edit bound of each of `words`
    /// (not the word itself, which is looked up exactly). The answer is left in
    /// `lookup.postings`, word by word as `lookup.posting_ends` says.
    pub(super) fn near_postings(&self, words: &[&str], lookup: &mut NearLookup) {
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
}
