//! Near spellings: the edit distance between two name parts (optimal string
//! alignment: insertions, deletions, substitutions and swaps of neighbours), the edit
//! bound allowed for a part of a given length, the similarity that turns a distance
//! into a score, and a symmetric-deletion index over the name-part vocabulary so that
//! finding the parts near a word does not scan the vocabulary.
//!
//! Symmetric deletion (as in SymSpell): every indexed word is stored under each string
//! obtained by deleting up to its edit bound of characters; a query word generates its
//! own deletions and looks them up. Two words within `k` edits always share a deletion
//! string, so the lookup finds every candidate; candidates are then checked with the
//! real distance. Entries are 32-bit fingerprints packed with the word id in one sorted
//! `u64` array with a directory over the top bits: compact, and a false positive only
//! costs one check. Each directory bucket also carries a 32-bit filter of its
//! fingerprints, so most lookups of deletions no word shares (the large majority)
//! cost one read, not two; the filter never rules out a fingerprint that is there.
//! Large indexes are built on one thread per core (up to four): the words split
//! among them, then the entries sorted in parts split by their top bits.

use std::hash::Hasher;

use rustc_hash::FxHasher;

/// Edits allowed in a name part of `len` bytes: none below 4, one up to 7, two from 8.
pub fn max_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// The edit bound for comparing two parts: the bound of the shorter one.
pub fn pair_bound(a: usize, b: usize) -> usize {
    max_edits(a.min(b))
}

/// Longest name part compared by [`bounded_distance`], plus one.
const ROW: usize = 65;

/// Optimal-string-alignment distance between `a` and `b`, or `None` when it exceeds
/// `bound` (also when `b` has 65 bytes or more, or `a` 255 or more, which an edit
/// bound of at most 2 never lets through).
pub fn bounded_distance(a: &[u8], b: &[u8], bound: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    if a == b {
        return Some(0);
    }
    let n = b.len();
    if n >= ROW {
        return None;
    }
    if a.len() <= 64 {
        let d = bit_parallel_distance(a, b);
        return (d <= bound).then_some(d);
    }
    if bound <= BANDED {
        return banded_distance(a, b, bound);
    }
    // Three rows on the stack: two back (for swaps), previous and current. Bytes
    // suffice: no value exceeds the longer length, and `a` is at most `b.len() +
    // bound` long, which the caller keeps small (an edit bound is at most 2).
    if a.len() >= 255 {
        return None;
    }
    let mut prev2 = [0u8; ROW];
    let mut prev = [0u8; ROW];
    for (j, v) in prev.iter_mut().enumerate().take(n + 1) {
        *v = j as u8;
    }
    let mut cur = [0u8; ROW];
    let bound8 = bound.min(254) as u8;
    for i in 1..=a.len() {
        cur[0] = i as u8;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > bound8 {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = usize::from(prev[n]);
    (d <= bound).then_some(d)
}

/// The optimal-string-alignment distance between `a` (at most 64 bytes) and `b`,
/// computed a column of the table at a time as bit vectors (Hyyrö's extension for
/// swaps of Myers' algorithm, "A bit-vector algorithm for computing
/// Levenshtein and Damerau edit distances", 2003): a few word operations per byte
/// of `b` instead of a cell per pair of bytes. Bit `i` of a column stands for row
/// `i + 1` of the table: `vp`/`vn` mark where a cell is one more/less than the one
/// above it, `d0` where a cell equals the one diagonally before it.
fn bit_parallel_distance(a: &[u8], b: &[u8]) -> usize {
    let m = a.len();
    debug_assert!(m <= 64);
    if m == 0 {
        return b.len();
    }
    // The rows of `a` holding each lower-case letter, when both words are made of
    // them (as nearly all are), else found byte by byte.
    let mut letters = [0u64; 32];
    let lower = a.iter().chain(b).all(u8::is_ascii_lowercase);
    if lower {
        for (i, &x) in a.iter().enumerate() {
            letters[usize::from(x & 31)] |= 1 << i;
        }
    }
    let rows_of = |c: u8| {
        if lower {
            return letters[usize::from(c & 31)];
        }
        let mut bits = 0u64;
        for (i, &x) in a.iter().enumerate() {
            bits |= u64::from(x == c) << i;
        }
        bits
    };
    let last = 1u64 << (m - 1);
    let (mut vp, mut vn, mut d0, mut prev_eq) = (u64::MAX, 0u64, 0u64, 0u64);
    let mut dist = m;
    for &c in b {
        let eq = rows_of(c);
        // A swap: this byte matches the row above, and the previous byte this row.
        let swap = ((!d0 & eq) << 1) & prev_eq;
        d0 = ((((eq & vp).wrapping_add(vp)) ^ vp) | eq | vn) | swap;
        let hp = vn | !(d0 | vp);
        let hn = d0 & vp;
        if hp & last != 0 {
            dist += 1;
        } else if hn & last != 0 {
            dist -= 1;
        }
        let hp = (hp << 1) | 1;
        let hn = hn << 1;
        vp = hn | !(d0 | hp);
        vn = hp & d0;
        prev_eq = eq;
    }
    dist
}

/// Largest bound [`banded_distance`] takes.
const BANDED: usize = 4;

/// [`bounded_distance`] for a small `bound` (at most [`BANDED`]), `a` and `b` at most
/// `bound` bytes apart in length and `b` shorter than [`ROW`]. Only the cells of the
/// table within `bound` of its diagonal are computed: every cell off that band is
/// more than `bound` (a cell is at least the difference of its row and column), and
/// all values are capped at `bound + 1`, which changes neither whether the distance
/// is within the bound nor its value when it is, nor when a row is all over it.
fn banded_distance(a: &[u8], b: &[u8], bound: usize) -> Option<usize> {
    let (m, n) = (a.len(), b.len());
    let cap = bound as u8 + 1;
    // Rows `i - 2` (for swaps), `i - 1` and `i` in turn, as `rows[i % 3]` (turning
    // round, not copied); each row holds its band and one capped cell on either side,
    // which is all the next rows read.
    let mut rows = [[cap; ROW]; 3];
    for (j, v) in rows[0].iter_mut().enumerate().take(n + 1) {
        *v = (j as u8).min(cap);
    }
    for i in 1..=m {
        let [r0, r1, r2] = &mut rows;
        let (prev2, prev, cur) = match i % 3 {
            0 => (&*r1, &*r2, r0),
            1 => (&*r2, &*r0, r1),
            _ => (&*r0, &*r1, r2),
        };
        let lo = i.saturating_sub(bound).max(1);
        let hi = (i + bound).min(n);
        cur[lo - 1] = if lo == 1 {
            i.min(cap as usize) as u8
        } else {
            cap
        };
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            v = v.min(cap);
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if hi < n {
            cur[hi + 1] = cap;
        }
        if usize::from(row_min) > bound {
            return None;
        }
    }
    let d = usize::from(rows[m % 3][n]);
    (d <= bound).then_some(d)
}

/// Similarity in [0, 1] of two parts `distance` edits apart: 1 - distance / longer length.
pub fn similarity(a_len: usize, b_len: usize, distance: usize) -> f32 {
    let longest = a_len.max(b_len).max(1);
    1.0 - distance as f32 / longest as f32
}

/// A 32-bit fingerprint of a deletion string (the high, well-mixed half of a product).
fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(bytes);
    h.finish().wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32
}

/// Longest word given deletions; longer words are only indexed as themselves.
const MAX_WORD: usize = 64;

/// Calls `f` with every string obtained from `word` by deleting up to `k` bytes
/// (`word` itself included; a string may come more than once). Allocates nothing.
pub fn for_each_deletion(word: &[u8], k: usize, mut f: impl FnMut(&[u8])) {
    f(word);
    let n = word.len();
    if k == 0 || !(2..=MAX_WORD).contains(&n) {
        return;
    }
    let mut buf = [0u8; MAX_WORD];
    for i in 0..n {
        buf[..i].copy_from_slice(&word[..i]);
        buf[i..n - 1].copy_from_slice(&word[i + 1..]);
        f(&buf[..n - 1]);
        if k >= 2 && n > 2 {
            let one = buf;
            // Delete a second byte after position i (earlier ones were covered).
            for j in i..n - 1 {
                let mut two = [0u8; MAX_WORD];
                two[..j].copy_from_slice(&one[..j]);
                two[j..n - 2].copy_from_slice(&one[j + 1..n - 1]);
                f(&two[..n - 2]);
            }
        }
    }
}

/// Deletion fingerprints looked up together (see [`DeletionIndex::candidates_of_many`]).
const LOOKUP_BATCH: usize = 128;

/// A word's length and the set of letters in it, packed: a cheap test that rules out
/// most words farther than an edit bound without reading them (see [`may_be_near`]).
pub fn signature(word: &[u8]) -> u32 {
    let mut letters = 0u32;
    for &b in word {
        if b.is_ascii_lowercase() {
            letters |= 1 << (b - b'a');
        }
    }
    (word.len().min(63) as u32) << 26 | letters
}

/// False when two words with these [`signature`]s are surely more than `bound` edits
/// apart: their lengths differ by more, or more than two letters per edit are in one
/// and not the other (an edit adds or removes at most two letters from the set).
pub fn may_be_near(a: u32, b: u32, bound: usize) -> bool {
    let letters = (1u32 << 26) - 1;
    (a >> 26).abs_diff(b >> 26) as usize <= bound
        && ((a ^ b) & letters).count_ones() as usize <= 2 * bound
}

/// The symmetric-deletion index: deletion fingerprint → word ids.
#[derive(Debug, Default)]
pub struct DeletionIndex {
    bits: u32,
    /// Per bucket of the top `bits` bits of the fingerprint: where its entries start
    /// (low 32 bits; the next bucket's start is where they end) and, in the high 32
    /// bits, a one-hash Bloom filter of the bucket's fingerprints ([`filter_bit`]), so
    /// that most lookups of a deletion no word has read no entries at all.
    directory: Vec<u64>,
    /// Sorted `fingerprint << 32 | word id`.
    entries: Vec<u64>,
    /// Threads the build used.
    build_threads: usize,
}

/// The bit of a directory filter standing for entry or key `key` (a fingerprint in
/// the top 32 bits): picked by the fingerprint's low five bits, which lie below the
/// bucket bits (at most 24), so the bits of one bucket's keys are spread over all 32.
fn filter_bit(key: u64) -> u64 {
    1 << (32 + ((key >> 32) & 31))
}

/// How many strings [`for_each_deletion`] gives for a word of `n` bytes.
fn deletion_count(n: usize, k: usize) -> usize {
    if k == 0 || !(2..=MAX_WORD).contains(&n) {
        1
    } else if k == 1 || n == 2 {
        1 + n
    } else {
        1 + n + n * (n - 1) / 2
    }
}

/// The most threads [`DeletionIndex::build`] uses (a power of two).
pub const BUILD_THREADS: usize = 4;

/// Threads [`DeletionIndex::build`] uses for an index of `entries` entries: one per
/// core up to [`BUILD_THREADS`] (rounded down to a power of two), and one for small
/// indexes, where starting threads costs more than it saves.
pub fn build_threads(entries: usize) -> usize {
    if entries < 1 << 20 {
        return 1;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.clamp(1, BUILD_THREADS);
    1 << (usize::BITS - 1 - threads.leading_zeros())
}

/// Sorts `entries` on `threads` threads (a power of two): split in place by bit
/// `bit` (fingerprints are well mixed, so into about equal halves), the halves
/// sorted at once, each the same way with half the threads and the next bit down.
fn sort_entries(entries: &mut [u64], bit: u32, threads: usize) {
    if threads <= 1 || bit < 32 {
        entries.sort_unstable();
        return;
    }
    let mask = 1u64 << bit;
    // Hoare's partition: zeros of the bit to the front, ones to the back.
    let (mut lo, mut hi) = (0, entries.len());
    loop {
        while lo < hi && entries[lo] & mask == 0 {
            lo += 1;
        }
        while lo < hi && entries[hi - 1] & mask != 0 {
            hi -= 1;
        }
        if lo >= hi {
            break;
        }
        entries.swap(lo, hi - 1);
        lo += 1;
        hi -= 1;
    }
    let (zeros, ones) = entries.split_at_mut(lo);
    std::thread::scope(|scope| {
        scope.spawn(|| sort_entries(ones, bit - 1, threads / 2));
        sort_entries(zeros, bit - 1, threads / 2);
    });
}

impl DeletionIndex {
    /// Indexes `words` (id and ASCII bytes), each under its deletions up to its own
    /// [`max_edits`] bound. Words shorter than 4 bytes get no entries. Uses up to
    /// [`BUILD_THREADS`] threads when the machine has the cores ([`build_threads`]).
    pub fn build<'a>(words: impl Iterator<Item = (u32, &'a [u8])>) -> DeletionIndex {
        Self::build_on_threads(words, build_threads)
    }

    /// [`Self::build`] on `threads(entries)` threads (a power of two).
    fn build_on_threads<'a>(
        words: impl Iterator<Item = (u32, &'a [u8])>,
        threads: impl FnOnce(usize) -> usize,
    ) -> DeletionIndex {
        let words: Vec<(u32, &[u8], usize)> = words
            .filter_map(|(id, w)| match max_edits(w.len()) {
                0 => None,
                k => Some((id, w, deletion_count(w.len(), k))),
            })
            .collect();
        let total: usize = words.iter().map(|&(_, _, n)| n).sum();
        let threads = threads(total);
        // Each thread fills the part of `entries` that its share of the words needs.
        let mut entries = vec![0u64; total];
        std::thread::scope(|scope| {
            let mut rest = entries.as_mut_slice();
            for share in words.chunks(words.len().div_ceil(threads).max(1)) {
                let len = share.iter().map(|&(_, _, n)| n).sum();
                let (out, after) = std::mem::take(&mut rest).split_at_mut(len);
                rest = after;
                scope.spawn(move || {
                    let mut at = 0;
                    for &(id, w, _) in share {
                        for_each_deletion(w, max_edits(w.len()), |d| {
                            out[at] = (fingerprint(d) << 32) | u64::from(id);
                            at += 1;
                        });
                    }
                    debug_assert_eq!(at, out.len());
                });
            }
        });
        drop(words);
        sort_entries(&mut entries, 63, threads);
        entries.dedup();
        entries.shrink_to_fit();
        let bits = (usize::BITS - entries.len().max(1).leading_zeros()).clamp(4, 24);
        // Entries are sorted, so buckets are filled in order: a bucket starts where
        // the entries before it end. The start goes in the low half, the bucket's
        // filter in the high half.
        let mut directory = vec![0u64; (1usize << bits) + 1];
        let mut next = 0usize;
        for (i, &e) in entries.iter().enumerate() {
            let bucket = (e >> (64 - bits)) as usize;
            while next <= bucket {
                directory[next] = i as u64;
                next += 1;
            }
            directory[bucket] |= filter_bit(e);
        }
        for d in &mut directory[next..] {
            *d = entries.len() as u64;
        }
        DeletionIndex {
            bits,
            directory,
            entries,
            build_threads: threads,
        }
    }

    /// Calls `found` with every word id sharing a deletion fingerprint with `query`
    /// (up to the query's own bound). Ids may repeat and include words farther away
    /// than the bound: check them with [`bounded_distance`].
    pub fn candidates(&self, query: &[u8], mut found: impl FnMut(u32)) {
        self.candidates_of_many(&[query], &mut Vec::new(), |_, id| found(id));
    }

    /// [`Self::candidates`] of several words at once: calls `found` with the index
    /// of a query in `queries` and a word id. The deletion fingerprints of all the
    /// queries are gathered in `keys` (a buffer kept by the caller) and looked up
    /// together, so that the memory reads of different words overlap too.
    pub fn candidates_of_many(
        &self,
        queries: &[&[u8]],
        keys: &mut Vec<u64>,
        mut found: impl FnMut(u32, u32),
    ) {
        keys.clear();
        if self.entries.is_empty() {
            return;
        }
        for (q, query) in queries.iter().enumerate() {
            let k = max_edits(query.len());
            if k == 0 {
                continue;
            }
            // The fingerprint in the high half, the query in the low half.
            for_each_deletion(query, k, |d| keys.push(fingerprint(d) << 32 | q as u64));
        }
        // Looked up in batches, each in passes (directory, a first read of each
        // range of entries, then the search), so the memory reads of a batch, which
        // are independent of each other, overlap instead of waiting one by one.
        for batch in keys.chunks(LOOKUP_BATCH) {
            self.look_up(batch, &mut found);
        }
    }

    fn look_up(&self, keys: &[u64], found: &mut impl FnMut(u32, u32)) {
        let mut ranges = [(0u32, 0u32); LOOKUP_BATCH];
        for (r, &key) in ranges.iter_mut().zip(keys) {
            let bucket = (key >> (64 - self.bits)) as usize;
            let (here, next) = (self.directory[bucket], self.directory[bucket + 1]);
            // An empty range when the bucket's filter rules the key out.
            let end = if here & filter_bit(key) != 0 {
                next
            } else {
                here
            };
            *r = (here as u32, end as u32);
        }
        let ranges = &ranges[..keys.len()];
        // The first entry of each range, read ahead of the searches, which branch
        // on what they read and so would otherwise wait for each range in turn.
        let mut touched = 0u64;
        for &(lo, hi) in ranges {
            if lo != hi {
                touched ^= self.entries[lo as usize];
            }
        }
        std::hint::black_box(touched);
        for (&(lo, hi), &key) in ranges.iter().zip(keys) {
            if lo == hi {
                continue;
            }
            let fp = key >> 32;
            let slice = &self.entries[lo as usize..hi as usize];
            let first = slice.partition_point(|&x| x >> 32 < fp);
            for &e in slice[first..].iter().take_while(|&&x| x >> 32 == fp) {
                found(key as u32, e as u32);
            }
        }
    }

    /// Number of (deletion, word) entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Threads the build used (at least 1).
    pub fn build_threads(&self) -> usize {
        self.build_threads.max(1)
    }

    /// Bytes held by the index.
    pub fn heap_bytes(&self) -> usize {
        (self.directory.capacity() + self.entries.capacity()) * 8
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn signatures_never_rule_out_a_word_within_the_bound() {
        let words: &[&[u8]] = &[
            b"lukashenko",
            b"lukashenka",
            b"putin",
            b"putim",
            b"kovberlo",
            b"kovberto",
            b"jongun",
            b"jungun",
            b"abcdefgh",
            b"badcfehg",
            b"petrov",
            b"petrova",
            b"maia",
            b"mai",
            b"xyzzy",
            b"zzyzx",
        ];
        for a in words {
            for b in words {
                let bound = pair_bound(a.len(), b.len()).max(1);
                if bounded_distance(a, b, bound).is_some() {
                    assert!(
                        may_be_near(signature(a), signature(b), bound),
                        "{:?} / {:?}",
                        std::str::from_utf8(a),
                        std::str::from_utf8(b)
                    );
                }
            }
        }
        assert!(!may_be_near(signature(b"putin"), signature(b"xyzzy"), 1));
        assert!(!may_be_near(signature(b"put"), signature(b"putinov"), 2));
    }

    #[test]
    fn the_index_built_on_several_threads_is_the_one_built_on_one() {
        // Words of random lengths from 1 to 70 (some past MAX_WORD), of six letters so
        // that their deletions collide, some sharing an id, in no order.
        let mut rng = StdRng::seed_from_u64(1);
        let words: Vec<Vec<u8>> = (0..600)
            .map(|_| {
                let len = rng.random_range(1..=70);
                (0..len).map(|_| rng.random_range(b'a'..=b'f')).collect()
            })
            .collect();
        let ids = || {
            words
                .iter()
                .enumerate()
                .map(|(i, w)| (i as u32 % 500, w.as_slice()))
        };
        let one = DeletionIndex::build_on_threads(ids(), |_| 1);
        for threads in [2, 4, 8] {
            let many = DeletionIndex::build_on_threads(ids(), |_| threads);
            assert_eq!(many.entries, one.entries, "{threads} threads");
            assert_eq!(many.directory, one.directory, "{threads} threads");
            assert_eq!(many.bits, one.bits);
            assert_eq!(many.build_threads(), threads);
        }
        assert!(
            one.entries.windows(2).all(|w| w[0] < w[1]),
            "sorted, no repeats"
        );
        // No words, and words that get no entries.
        let none = DeletionIndex::build_on_threads(std::iter::empty(), |_| 4);
        assert!(none.is_empty());
        let short = DeletionIndex::build_on_threads([(0, &b"abc"[..])].into_iter(), |_| 4);
        assert!(short.is_empty());
    }

    #[test]
    fn sorting_on_threads_sorts() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut values: Vec<u64> = (0..10_000).map(|_| rng.random()).collect();
        values.extend([0, u64::MAX, 1 << 63, (1 << 63) - 1]);
        let mut expected = values.clone();
        expected.sort_unstable();
        for threads in [1, 2, 4] {
            let mut sorted = values.clone();
            sort_entries(&mut sorted, 63, threads);
            assert_eq!(sorted, expected, "{threads} threads");
        }
        // All on one side of the split bit.
        let mut low: Vec<u64> = (0..100).rev().collect();
        sort_entries(&mut low, 63, 4);
        assert_eq!(low, (0..100).collect::<Vec<_>>());
    }

    /// The full table, for comparing with the band.
    fn full_distance(a: &[u8], b: &[u8]) -> usize {
        let (m, n) = (a.len(), b.len());
        let mut d = vec![vec![0usize; n + 1]; m + 1];
        for i in 0..=m {
            for j in 0..=n {
                d[i][j] = if i == 0 || j == 0 {
                    i + j
                } else {
                    let cost = usize::from(a[i - 1] != b[j - 1]);
                    let mut v = (d[i - 1][j] + 1)
                        .min(d[i][j - 1] + 1)
                        .min(d[i - 1][j - 1] + cost);
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        v = v.min(d[i - 2][j - 2] + 1);
                    }
                    v
                };
            }
        }
        d[m][n]
    }

    /// A seeded pseudo-random source: each call gives a number below its argument.
    fn random_below(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut x = seed;
        move |m| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % m
        }
    }

    #[test]
    fn banded_distance_agrees_with_the_full_table() {
        let mut next = random_below(7);
        for _ in 0..50_000 {
            let la = next(12) as usize;
            let lb = next(12) as usize;
            let a: Vec<u8> = (0..la).map(|_| b'a' + next(3) as u8).collect();
            let b: Vec<u8> = (0..lb).map(|_| b'a' + next(3) as u8).collect();
            let full = full_distance(&a, &b);
            assert_eq!(bit_parallel_distance(&a, &b), full, "{a:?} {b:?}");
            for bound in 0..=BANDED + 1 {
                let expected = (full <= bound).then_some(full);
                assert_eq!(
                    bounded_distance(&a, &b, bound),
                    expected,
                    "{a:?} {b:?} {bound}"
                );
                if a.len().abs_diff(b.len()) <= bound && bound <= BANDED {
                    assert_eq!(banded_distance(&a, &b, bound), expected, "{a:?} {b:?}");
                }
            }
        }
    }

    #[test]
    fn bit_parallel_distance_agrees_with_the_full_table_up_to_64_bytes() {
        let mut next = random_below(11);
        for _ in 0..3_000 {
            // Lower-case letters only, or not (two ways of finding a byte's rows).
            let alphabet: &[u8] = if next(2) == 0 { b"abcd" } else { b"ab1Z" };
            let la = next(65) as usize;
            let a: Vec<u8> = (0..la).map(|_| alphabet[next(4) as usize]).collect();
            // Another word, or a few edits of this one.
            let b: Vec<u8> = if next(2) == 0 {
                let lb = next(65);
                (0..lb).map(|_| alphabet[next(4) as usize]).collect()
            } else {
                let mut b = a.clone();
                for _ in 0..next(4) {
                    let i = next(b.len() as u64 + 1) as usize;
                    match next(4) {
                        0 if i < b.len() => {
                            b.remove(i);
                        }
                        1 if i + 1 < b.len() => b.swap(i, i + 1),
                        2 if i < b.len() => b[i] = alphabet[next(4) as usize],
                        _ => b.insert(i, alphabet[next(4) as usize]),
                    }
                }
                b
            };
            assert_eq!(
                bit_parallel_distance(&a, &b),
                full_distance(&a, &b),
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn distance_counts_edits_and_swaps() {
        assert_eq!(bounded_distance(b"angara", b"angarra", 2), Some(1));
        assert_eq!(bounded_distance(b"putin", b"ptuin", 2), Some(1));
        assert_eq!(bounded_distance(b"mohammed", b"muhammad", 2), Some(2));
        assert_eq!(bounded_distance(b"maria", b"maria", 0), Some(0));
        assert_eq!(bounded_distance(b"reed", b"agreed", 1), None);
        assert_eq!(bounded_distance(b"kim", b"kym", 0), None);
    }

    #[test]
    fn edit_bound_grows_with_length() {
        assert_eq!(max_edits(3), 0);
        assert_eq!(max_edits(4), 1);
        assert_eq!(max_edits(7), 1);
        assert_eq!(max_edits(8), 2);
        assert_eq!(pair_bound(3, 10), 0);
    }

    #[test]
    fn similarity_is_relative_to_length() {
        assert!((similarity(6, 7, 1) - 0.857).abs() < 0.01);
        assert_eq!(similarity(5, 5, 0), 1.0);
    }

    #[test]
    fn deletions_cover_one_and_two_bytes() {
        let mut seen = Vec::new();
        for_each_deletion(b"abcd", 2, |d| seen.push(d.to_vec()));
        seen.sort();
        seen.dedup();
        // abcd; 4 one-byte deletions; 6 two-byte deletions.
        assert_eq!(seen.len(), 1 + 4 + 6);
        assert!(seen.contains(&b"ad".to_vec()) && seen.contains(&b"abc".to_vec()));
    }

    #[test]
    fn deletion_index_finds_near_words_only() {
        let words: Vec<(u32, &[u8])> = vec![
            (0, b"angara"),
            (1, b"rosoboronexport"),
            (2, b"kim"),
            (3, b"maria"),
        ];
        let index = DeletionIndex::build(words.iter().copied());
        let near = |q: &[u8]| {
            let mut found = Vec::new();
            index.candidates(q, |id| found.push(id));
            found.sort_unstable();
            found.dedup();
            found.retain(|&id| {
                let w = words[id as usize].1;
                bounded_distance(q, w, pair_bound(q.len(), w.len())).is_some()
            });
            found
        };
        assert_eq!(near(b"angarra"), [0]);
        assert_eq!(near(b"rosoboroneksport"), [1]);
        assert_eq!(near(b"marya"), [3]);
        assert!(near(b"london").is_empty());
    }
}
