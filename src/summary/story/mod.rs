//! Stories: deciding that items from different feeds report the same announcement.
//! Pure (no store). This file fingerprints items ([`fingerprint`]) and scores them
//! ([`similarity`], [`best_story`]); [`index`] finds the reports worth scoring and
//! holds the one placement routine, [`index::StoryShelf`], which the pipeline's
//! recent stories and the `stories` command's [`index::StoryGrouper`] both use.
//!
//! A [`Fingerprint`] holds, for one item: the hashed content words of its title and
//! lead (stop words and generic sanctions vocabulary removed, light stemming, number
//! words as digits), the hashed *names* of its text (capitalised words that are not
//! sentence-initial, countries or common words — the people, companies, ships and
//! places that make an announcement distinctive), the watchlist entries it matched,
//! the recognised action and authority, its source and time.
//!
//! Two items are the same story when, within a time window, their names and words
//! overlap enough, taking the smaller item as the measure (a wire rewrite names a
//! subset of what the release lists). Items from the same feed are never merged (a
//! feed publishes one item per announcement); different acting authorities or
//! different specific actions weigh heavily against, so "Japan sanctions the same
//! ships" and "OFAC issues a licence the same day" stay apart.
//!
//! The word lists fingerprints read (stop words, days and months, capitalised words
//! that are not names, number words) are data in [`word_lists`] (reading an item's
//! words is [`super::words`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub mod index;
pub mod word_lists;

use super::recognise::{Action, Recognition, is_all_caps, is_title_case, recognise_text};
use super::words::{ItemText, Words};
use word_lists::WORD_LISTS;

/// Scores at or above this make two items one story.
pub const SAME_STORY_THRESHOLD: f32 = 0.42;

/// Items further apart than this are never one story.
pub const WINDOW_HOURS: i64 = 72;

/// Within this many hours no time penalty applies.
const FULL_WEIGHT_HOURS: i64 = 36;

/// Items this close count as "the same day" for [`SAME_ACTION_BONUS`].
const SAME_DAY_HOURS: f32 = 24.0;

/// What a score is multiplied by when the two items name different authorities.
pub const OTHER_AUTHORITY_FACTOR: f32 = 0.35;

/// Added when the same authority takes the same kind of action within a day.
const SAME_ACTION_BONUS: f32 = 0.1;

/// Sentences of the text read for content words (names come from more of it).
const LEAD_SENTENCES: usize = 3;

/// Characters of text read for names.
const NAME_SCAN_CHARS: usize = 4000;

/// What one item brings to story grouping.
#[derive(Debug, Clone, Copy)]
pub struct StoryInput<'a> {
    /// The feed (or source name) it came from.
    pub source: &'a str,
    /// The title.
    pub title: &'a str,
    /// The plain-text summary or content.
    pub text: &'a str,
    /// When it was published (or first seen).
    pub published: DateTime<Utc>,
    /// Watchlist entries it matched (`list/entry`), if screened.
    pub watched: &'a [String],
}

/// The compact, storable description of an item used to compare it with others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The source.
    pub source: String,
    /// When.
    pub published: DateTime<Utc>,
    /// Recognised action.
    pub action: Action,
    /// Recognised authority code (`US`, `GB`, `EU`, ...).
    pub authority: Option<String>,
    /// Hashed content words of title and lead, sorted.
    pub words: Vec<u64>,
    /// Hashed names found in title and text, sorted.
    pub names: Vec<u64>,
    /// Matched watchlist entries, sorted.
    #[serde(default)]
    pub watched: Vec<String>,
}

/// FNV-1a, stable across builds and platforms (fingerprints are stored).
fn hash_word(word: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in word.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A content word's comparable form: number words as digits, a plural `s` dropped.
fn content_form(norm: &str) -> Option<&str> {
    if let Some(digits) = WORD_LISTS.numbers.get(norm) {
        return Some(digits);
    }
    if WORD_LISTS.not_content.contains(norm) {
        return None;
    }
    if norm.len() < 2 && !norm.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let stem = if norm.len() > 4 && norm.ends_with('s') && !norm.ends_with("ss") {
        &norm[..norm.len() - 1]
    } else {
        norm
    };
    Some(stem)
}

/// The hashed content words of one title or sentence, added to `out`.
fn content_words(words: &Words, out: &mut Vec<u64>) {
    out.extend(words.norms().filter_map(content_form).map(hash_word));
}

/// Names in one sentence: capitalised words other than the first, not in
/// [`NOT_NAMES`](word_lists::NOT_NAMES). A sentence in capitals gives none (case says nothing there).
fn sentence_names(sentence: &str, words: &Words, out: &mut Vec<u64>) {
    if is_all_caps(sentence) {
        return;
    }
    for i in 0..words.len() {
        let norm = words.norm(i);
        let original = &sentence[words.span(i)];
        let first = original.chars().next().unwrap_or(' ');
        let capitalised = first.is_uppercase();
        let has_digit_and_letter = original.chars().any(|c| c.is_ascii_digit())
            && original.chars().any(|c| c.is_alphabetic());
        if (i == 0 && !has_digit_and_letter) || WORD_LISTS.not_names.contains(norm) {
            continue;
        }
        if (capitalised && norm.chars().count() >= 2) || has_digit_and_letter {
            out.push(hash_word(norm));
        }
    }
}

/// Builds the fingerprint of an item.
pub fn fingerprint(input: &StoryInput) -> Fingerprint {
    recognise_and_fingerprint(input, input.source).1
}

/// Recognises an item's action and authority (reading the feed's name as
/// `source_name`, as [`fn@super::recognise`] does) and builds its fingerprint with
/// them, reading its words once for both.
pub fn recognise_and_fingerprint(
    input: &StoryInput,
    source_name: &str,
) -> (Recognition, Fingerprint) {
    let item = ItemText::new(input.title, input.text);
    let recognition = recognise_text(&item, source_name);
    let fp = fingerprint_text(
        input,
        &item,
        recognition.action,
        recognition.authority.map(|a| a.code.to_string()),
    );
    (recognition, fp)
}

/// Builds the fingerprint of an item whose words are read and whose action and
/// authority are known.
fn fingerprint_text(
    input: &StoryInput,
    item: &ItemText,
    action: Action,
    authority: Option<String>,
) -> Fingerprint {
    let mut words = Vec::new();
    content_words(item.title_words(), &mut words);
    for k in 0..item.sentences.len().min(LEAD_SENTENCES) {
        content_words(item.sentence_words(k), &mut words);
    }
    let mut names = Vec::new();
    // A headline in Title Case capitalises every word; its names show in the text.
    if !is_title_case(input.title) {
        sentence_names(input.title, item.title_words(), &mut names);
    }
    for (k, r) in item.sentences.iter().enumerate() {
        if r.start > NAME_SCAN_CHARS {
            break;
        }
        sentence_names(item.sentence(k), item.sentence_words(k), &mut names);
    }
    // Sorted, without repeats.
    words.sort_unstable();
    words.dedup();
    names.sort_unstable();
    names.dedup();
    let mut watched: Vec<String> = input.watched.to_vec();
    watched.sort();
    watched.dedup();
    Fingerprint {
        source: input.source.to_string(),
        published: input.published,
        action,
        authority,
        words,
        names,
        watched,
    }
}

/// Size of the intersection of two sorted slices.
fn shared<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Overlap measured on the smaller set, shrunk for small sets (one shared word out
/// of one is weak evidence).
fn overlap(a: &[u64], b: &[u64], prior: f32) -> f32 {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return 0.0;
    }
    (shared(a, b) as f32 / (smaller as f32 + prior)).min(1.0)
}

fn is_specific(action: Action) -> bool {
    action != Action::Other
}

/// True if two reports were published within [`WINDOW_HOURS`] of each other,
/// measured in whole minutes: outside it they are never one story.
pub(crate) fn within_window(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).num_minutes().abs() <= WINDOW_HOURS * 60
}

/// How alike two items are as reports of one announcement, in [0, 1]. Zero when they
/// come from the same source or lie further apart than [`WINDOW_HOURS`].
pub fn similarity(a: &Fingerprint, b: &Fingerprint) -> f32 {
    if a.source == b.source || !within_window(a.published, b.published) {
        return 0.0;
    }
    let hours = (a.published - b.published).num_minutes().abs() as f32 / 60.0;
    let words = overlap(&a.words, &b.words, 2.0);
    let mut score = if a.names.is_empty() || b.names.is_empty() {
        words
    } else if shared(&a.names, &b.names) > 0 {
        0.5 * overlap(&a.names, &b.names, 1.0) + 0.5 * words
    } else if a.names.len().min(b.names.len()) >= 3 {
        // Both name several people, firms or ships, and none in common.
        0.5 * words
    } else {
        0.8 * words
    };
    // The same authority taking the same kind of action within a day.
    if let (Some(x), Some(y)) = (&a.authority, &b.authority)
        && x == y
        && a.action == b.action
        && is_specific(a.action)
        && hours <= SAME_DAY_HOURS
    {
        score += SAME_ACTION_BONUS;
    }
    if !a.watched.is_empty() && !b.watched.is_empty() {
        if shared(&a.watched, &b.watched) > 0 {
            score = (score + 0.1).min(1.0);
        } else {
            score *= 0.7;
        }
    }
    if let (Some(x), Some(y)) = (&a.authority, &b.authority)
        && x != y
    {
        score *= OTHER_AUTHORITY_FACTOR;
    }
    if is_specific(a.action) && is_specific(b.action) && a.action != b.action {
        score *= 0.6;
    }
    if hours > FULL_WEIGHT_HOURS as f32 {
        score *= 0.8;
    }
    score
}

/// The candidate story `fp` belongs to, if any. Each candidate is a story's key, all
/// its reports, and the positions of the reports worth scoring (see
/// [`index::StoryIndex::candidates`]); the answer is the story whose best scored report
/// reaches [`SAME_STORY_THRESHOLD`] with the highest score, with that score.
pub fn best_story<'a, K>(
    fp: &Fingerprint,
    candidates: impl IntoIterator<Item = (K, &'a [Fingerprint], &'a [usize])>,
) -> Option<(K, f32)> {
    let mut best: Option<(K, f32)> = None;
    for (key, members, scored) in candidates {
        // One item per source in a story: a second item from a feed already in the
        // story is a different announcement.
        if members.iter().any(|m| m.source == fp.source) {
            continue;
        }
        let score = scored
            .iter()
            .map(|&i| similarity(fp, &members[i]))
            .fold(0.0f32, f32::max);
        if score >= SAME_STORY_THRESHOLD && best.as_ref().is_none_or(|(_, s)| score > *s) {
            best = Some((key, score));
        }
    }
    best
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The fingerprint of an item published `hours` after a fixed time.
    pub(crate) fn fp(source: &str, title: &str, text: &str, hours: i64) -> Fingerprint {
        let published = DateTime::parse_from_rfc3339("2024-05-24T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::hours(hours);
        fingerprint(&StoryInput {
            source,
            title,
            text,
            published,
            watched: &[],
        })
    }

    #[test]
    fn names_skip_sentence_starts_countries_and_capitals() {
        let f = fp(
            "s",
            "SOUTH KOREA SANCTIONS MAIA-1",
            "The ships Maia-1 and Maria were named. Seoul acted.",
            0,
        );
        let mut expected: Vec<u64> = ["maia", "maria"].iter().map(|w| hash_word(w)).collect();
        expected.sort();
        assert_eq!(f.names, expected);
    }

    #[test]
    fn one_authority_s_template_naming_other_firms_is_another_story() {
        let a = fp(
            "a",
            "South Korea sanctions Luxvikden Trading over Belarus front companies",
            "South Korea designated Luxvikden Trading and Velkorta Holdings, part of the \
             front companies serving Belarus. The cargo ship Tanmirsol carried their goods.",
            0,
        );
        let b = fp(
            "b",
            "South Korea sanctions Solsollux Holdings over Iran mining firms",
            "South Korea designated Solsollux Holdings and Denlux Logistics, part of the \
             mining firms serving Iran. The cargo ship Zenhal carried their goods.",
            0,
        );
        assert!(similarity(&a, &b) < SAME_STORY_THRESHOLD);
        let wire = fp(
            "c",
            "Seoul blacklists Luxvikden Trading",
            "Luxvikden Trading and Velkorta Holdings were sanctioned by South Korea.",
            2,
        );
        assert!(similarity(&a, &wire) >= SAME_STORY_THRESHOLD);
    }

    #[test]
    fn same_source_and_far_apart_never_match() {
        let a = fp("a", "Seoul sanctions Maia-1 and Maria", "", 0);
        let b = fp("a", "Seoul sanctions Maia-1 and Maria", "", 1);
        assert_eq!(similarity(&a, &b), 0.0);
        let c = fp("c", "Seoul sanctions Maia-1 and Maria", "", 24 * 10);
        assert_eq!(similarity(&a, &c), 0.0);
        let d = fp("d", "Seoul sanctions Maia-1 and Maria", "", 3);
        assert!(similarity(&a, &d) > SAME_STORY_THRESHOLD);
    }
}
