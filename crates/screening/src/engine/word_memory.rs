//! What a screening thread remembers of words from one text to the next: what the
//! vocabulary says of short words ([`WordCache`]) and the postings of the anchors
//! spelt nearly like words seen lately ([`RecentWords`]). Each answer is filed under
//! the serial of the engine that gave it ([`NEXT_ENGINE_SERIAL`]), so engines that
//! screen a text in turn never take each other's. [`forget_recent_words`] forgets
//! the near words.

use hashbrown::HashTable;

use super::candidates::SCRATCH;
use super::index::{fold_mul, hash_str};
use super::near::{NearLookup, NearPosting};
use super::{NONE, ScreeningEngine};

/// A word of up to [`SHORT_WORD`] bytes as two little-endian integers, zero-padded,
/// and its length: compared and hashed without reading the word again.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct ShortWord {
    a: u64,
    b: u64,
    pub(super) len: u64,
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
    pub(super) fn new(bytes: &[u8], start: usize, end: usize) -> Option<ShortWord> {
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
    pub(super) fn bytes(&self) -> [u8; SHORT_WORD] {
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
pub(super) struct WordInfo {
    /// Its vocabulary id, `NONE` if it is no name part.
    pub(super) id: u32,
    /// See [`Slot::vessel_word`](super::candidates::Slot::vessel_word).
    pub(super) vessel_word: bool,
}

impl WordInfo {
    pub(super) const NONE: WordInfo = WordInfo {
        id: NONE,
        vessel_word: false,
    };
}

/// [`WordInfo`] of short words (see
/// [`Scratch::words`](super::candidates::Scratch::words)): a two-way set-associative
/// cache, the most recent word of a set first. Each entry belongs to one engine (its
/// serial), so that screening one text against several lists in turn, as the bot
/// does, neither mixes their answers nor empties the cache at each switch.
pub(super) struct WordCache {
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
    pub(super) fn get(&mut self, serial: u64, word: ShortWord) -> Option<WordInfo> {
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
    pub(super) fn put(&mut self, serial: u64, word: ShortWord, info: WordInfo) {
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
pub(super) struct RecentWords {
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

/// Words [`RecentWords`] holds before it starts over.
pub(super) const RECENT_WORDS: usize = 8192;

/// Postings [`RecentWords`] holds before it starts over (24 bytes each: 6 MB per
/// screening thread at most).
const RECENT_POSTINGS: usize = 1 << 18;

/// Bytes of words [`RecentWords`] holds before it starts over.
pub(super) const RECENT_WORD_BYTES: usize = 1 << 18;

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
    pub(super) fn near_postings_of(
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
pub(super) static NEXT_ENGINE_SERIAL: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(1);
