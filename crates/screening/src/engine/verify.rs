//! The rules a candidate must pass (see "Rules a candidate must pass" in the
//! [module docs](super)) and the hits made of those that do: exact matching
//! ([`forward`], [`backward`]), aligned matching with near spellings, initials,
//! reordering and middle names ([`ScreeningEngine::align`]), IMO and MMSI numbers
//! ([`ScreeningEngine::identifier_hits`]), and then numbers as identity, vessel
//! context and one hit per entry where hits overlap
//! ([`ScreeningEngine::finish_hits`]).

use std::collections::HashSet;

use super::candidates::Doc;
use super::index::{
    IdScheme, P_NEEDS_CONTEXT, P_PERSON, Pattern, Source, T_LEGAL, T_NATIVE, T_NUMERIC,
    is_legal_form,
};
use super::{NONE, ScreeningEngine};
use crate::fuzzy::{bounded_distance, may_be_near, pair_bound, similarity};
use crate::{EntryKind, Hit};

/// Longest name (in tokens) that is aligned; longer ones only match exactly.
const MAX_ALIGNED: usize = 8;

/// Words either side of a one-word vessel name searched for vessel context.
const CONTEXT_WINDOW: usize = 12;

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
pub(super) const INITIAL_SIMILARITY: f32 = 0.85;

/// Taken off the score of a near spelling of a one-word name, which has nothing
/// else to vouch for it.
pub(super) const ONE_WORD_FUZZY_PENALTY: f32 = 0.05;

pub(super) fn is_vessel_word(s: &str) -> bool {
    VESSEL_WORDS.binary_search(&s).is_ok()
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
pub(super) struct RawHit {
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
    /// IMO and MMSI numbers in the text; returns the entries they name.
    pub(super) fn identifier_hits(&self, doc: &Doc, raw: &mut Vec<RawHit>) -> HashSet<u32> {
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

    pub(super) fn verify(&self, doc: &Doc, p: u32, s: usize) -> Option<RawHit> {
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

    pub(super) fn finish_hits(
        &self,
        doc: &Doc,
        mut raw: Vec<RawHit>,
        ids_in_doc: &HashSet<u32>,
    ) -> Vec<Hit> {
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
