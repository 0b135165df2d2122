//! A text made ready for screening, and the tests that rule candidates out before
//! they are verified: the buffers a thread reuses from one text to the next
//! ([`Scratch`]), the text's words looked up in the vocabulary
//! ([`ScreeningEngine::prepare`]), the words that may stand for a name part marked
//! ([`Mark`], [`mark_words`]), and the test for the other end of a name near the
//! anchor ([`ScreeningEngine::other_end_may_be_near`], summed up first by
//! [`MarksAround`] for postings found through a near spelling). The loop that
//! collects the candidates is [`ScreeningEngine::screen_with`]'s, in `mod.rs`.

use super::index::{EXACT_ONLY, Posting};
use super::verify::is_vessel_word;
use super::word_memory::{RecentWords, ShortWord, WordCache, WordInfo};
use super::{NONE, ScreeningEngine};
use crate::fuzzy::{bounded_distance, may_be_near, pair_bound, signature};
use crate::normalize::{RawToken, Tokenizer};

/// One text word: its token ids (folded, as written, joined with the next word).
#[derive(Clone, Copy)]
pub(super) struct Slot {
    id: u32,
    native: u32,
    pub(super) join: u32,
    /// The folded word's [`signature`] when fuzzy matching is on and the word is
    /// worth a near spelling ([`word_fuzzy_eligible`]; four letters or more, so the
    /// signature is never 0), else 0.
    pub(super) sig: u32,
    /// For a one-letter word (an initial), its letter, else 0.
    initial: u8,
    /// True for a word that gives a one-word vessel name its context.
    pub(super) vessel_word: bool,
}

/// A text prepared for screening.
pub(super) struct Doc<'t> {
    pub(super) text: &'t str,
    pub(super) tok: &'t Tokenizer,
    pub(super) slots: &'t [Slot],
    /// The words that may be the end of a name ([`Mark`]), in text order.
    pub(super) marks: &'t [Mark],
    /// For each word (and the end of the text), the first of `marks` at or after it.
    pub(super) first_mark: &'t [u32],
}

/// A word of the text that may stand for a name part: one in the vocabulary (as
/// folded, written or joined with the next), an initial, or a word eligible for near
/// spellings. Most words of a text are none of these; the test for the other end of
/// a name reads only these.
#[derive(Clone, Copy)]
pub(super) struct Mark {
    /// Its slot.
    pub(super) at: u32,
    pub(super) id: u32,
    pub(super) native: u32,
    pub(super) join: u32,
    pub(super) sig: u32,
    initial: u8,
}

/// Buffers reused from one screening to the next on a thread, so that screening a
/// text allocates little beyond its hits.
#[derive(Default)]
pub(super) struct Scratch {
    pub(super) tok: Tokenizer,
    /// The text `tok` holds the tokens of, when it holds any: a text screened by
    /// several engines in turn (one per watchlist) is tokenized once.
    tokenized: Option<String>,
    pub(super) slots: Vec<Slot>,
    /// Vocabulary ids of short words looked up lately, so a word that comes again
    /// (in this text or the next) is not looked up in the vocabulary again.
    words: WordCache,
    joined: String,
    pub(super) cands: Vec<(u32, u32)>,
    /// See [`Doc::marks`].
    pub(super) marks: Vec<Mark>,
    /// See [`Doc::first_mark`].
    pub(super) first_mark: Vec<u32>,
    pub(super) recent: RecentWords,
    /// Words the cache of words did not have, with the slot each is for and whether
    /// it is the slot's word or its word joined with the next (see
    /// [`ScreeningEngine::prepare`]).
    uncached: Vec<(u32, bool, ShortWord)>,
    /// What the vocabulary says of them.
    uncached_info: Vec<WordInfo>,
}

impl Scratch {
    /// Lets go of buffers a very long text made large.
    pub(super) fn trim(&mut self) {
        const KEEP: usize = 1 << 20;
        if self.tok.folded.capacity() > KEEP || self.slots.capacity() > KEEP / 8 {
            *self = Scratch::default();
        }
    }
}

thread_local! {
    pub(super) static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

impl Doc<'_> {
    pub(super) fn folded(&self, i: usize) -> &str {
        self.tok.folded_of(&self.tok.tokens[i])
    }

    pub(super) fn matches(&self, i: usize, id: u32) -> bool {
        let s = &self.slots[i];
        s.id == id || s.native == id
    }

    /// The characters between word `i` and word `i + 1`.
    pub(super) fn gap_after(&self, i: usize) -> &str {
        let t = &self.tok.tokens;
        &self.text[t[i].end as usize..t[i + 1].start as usize]
    }
}

/// What the marked words within [`AROUND`] words of a word (not the word itself)
/// hold, summed up so that most postings found through that word are ruled out
/// without reading the words one by one: a common word spelt nearly like many
/// indexed anchors brings hundreds of postings to [`ScreeningEngine::other_end_may_be_near`],
/// and nearly all fail it.
pub(super) struct MarksAround {
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
    pub(super) fn new(doc: &Doc, s: usize) -> MarksAround {
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
    pub(super) fn may_hold(&self, posting: &Posting) -> bool {
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

impl ScreeningEngine {
    /// Tokenizes `text` into `scratch` (unless it holds that text's tokens already)
    /// and looks its words up in the vocabulary. Returns whether the text has a word
    /// that introduces an identifier (IMO, MMSI).
    pub(super) fn prepare(&self, text: &str, scratch: &mut Scratch) -> bool {
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

    /// False when the name of `posting`, its anchor seen at word `s`, surely cannot
    /// match: every way to match needs both ends of the name (its first and last core
    /// parts), and no word within reach is the other end, its initial or (with fuzzy
    /// matching) a near spelling of it. Reads the marked words of the text and the
    /// posting, and the other end's spelling only for a word whose [`signature`] is
    /// near; [`Self::verify`] decides.
    pub(super) fn other_end_may_be_near(&self, doc: &Doc, s: usize, posting: &Posting) -> bool {
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
}

/// A word of the text worth a near-spelling lookup: alphabetic, four letters or
/// more, and capitalised (unless the text does not use case, `cased` being
/// [`Tokenizer::cased`]).
fn word_fuzzy_eligible(t: &RawToken, cased: bool) -> bool {
    !t.numeric && !t.ideographic && (t.capitalised || !cased) && (t.folded.1 - t.folded.0) >= 4
}

/// The [`Mark`]s of the words `slots` into `marks`, and [`Doc::first_mark`] into
/// `first_mark`.
pub(super) fn mark_words(slots: &[Slot], marks: &mut Vec<Mark>, first_mark: &mut Vec<u32>) {
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
