//! Finding the reports an item could share a story with, without comparing it with
//! every recent report: [`StoryIndex`] files each story's reports under their
//! content words and names, and answers with the few reports worth scoring with
//! [`super::similarity`], grouped by story. The pipeline's recent stories and
//! the `stories` command's [`StoryGrouper`] both use it, so a file
//! grouped by the command groups as the bot would.
//!
//! Three rules decide the candidates:
//! - **Authority** (exact): a different acting authority multiplies a score, which
//!   is at most one, by [`OTHER_AUTHORITY_FACTOR`], and that keeps the pair below
//!   [`SAME_STORY_THRESHOLD`]; such reports are not candidates.
//! - **Time** (exact): reports further apart than
//!   [`WINDOW_HOURS`](super::WINDOW_HOURS) score 0.
//! - **Shared terms** (rarity-weighted): bonuses add at most 0.2, so a pair reaching
//!   the threshold shares a name, or at least two content words, or one when either
//!   side has at most two. Only *distinctive* terms count for this: a word or name
//!   filed under more than a tenth of the recent reports (and more than
//!   [`COMMON_MIN_REPORTS`]) is boilerplate ("cargo", "officials", a country in the
//!   news all week) and finds no candidates on its own. It still counts in the score
//!   of the candidates that distinctive terms found. Without this, a week of news in
//!   which most items share a few words made every item a candidate for most stories,
//!   and placing an item cost time in proportion to the whole week.
//!
//! Reports are scored rather than whole stories: a story of hundreds of reports (one
//! per feed of a large deployment) holds nearly every term, and would otherwise be a
//! candidate for everything and cost time in proportion to its size.

use std::collections::HashMap;

use super::{Fingerprint, OTHER_AUTHORITY_FACTOR, SAME_STORY_THRESHOLD, best_story, within_window};

/// Content words at or under which a single shared word can make a story.
const SHORT_WORDS: usize = 2;

/// A term filed under more than this share of the reports (as 1/N) is common.
const COMMON_SHARE_DIVISOR: usize = 10;

/// ... but only once it is filed under more reports than this: with few reports,
/// every term counts.
pub const COMMON_MIN_REPORTS: usize = 50;

/// What the index keeps of one report.
#[derive(Debug, Clone)]
struct IndexedReport {
    story: u32,
    /// Its position in the story.
    member: u32,
    short: bool,
    authority: Option<String>,
    published: chrono::DateTime<chrono::Utc>,
}

/// Reports, numbered in the order they were indexed, filed under their terms.
#[derive(Debug, Clone, Default)]
pub struct StoryIndex {
    /// Content word → reports having it, ascending.
    by_word: HashMap<u64, Vec<u32>>,
    /// Name → reports having it, ascending.
    by_name: HashMap<u64, Vec<u32>>,
    reports: Vec<IndexedReport>,
}

/// The reports of one story worth scoring an item against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The story (as numbered by the caller).
    pub story: usize,
    /// Positions of the reports in the story, ascending.
    pub members: Vec<usize>,
}

impl StoryIndex {
    /// An empty index.
    pub fn new() -> StoryIndex {
        StoryIndex::default()
    }

    /// Indexes `report`, member number `member` of story `story`.
    pub fn add_member(&mut self, story: usize, member: usize, report: &Fingerprint) {
        let id = self.reports.len() as u32;
        self.reports.push(IndexedReport {
            story: story as u32,
            member: member as u32,
            short: report.words.len() <= SHORT_WORDS,
            authority: report.authority.clone(),
            published: report.published,
        });
        for &w in &report.words {
            self.by_word.entry(w).or_default().push(id);
        }
        for &n in &report.names {
            self.by_name.entry(n).or_default().push(id);
        }
    }

    /// How many reports a term may be filed under and still find candidates.
    fn distinctive_up_to(&self) -> usize {
        (self.reports.len() / COMMON_SHARE_DIVISOR).max(COMMON_MIN_REPORTS)
    }

    /// The reports `fp` could share a story with (see the module docs), by story,
    /// stories ascending.
    pub fn candidates(&self, fp: &Fingerprint) -> Vec<Candidate> {
        let limit = self.distinctive_up_to();
        // One entry per (shared word, report): a report's run length is how many
        // distinctive words it shares.
        let mut by_words: Vec<u32> = fp
            .words
            .iter()
            .flat_map(|w| distinctive(&self.by_word, w, limit))
            .copied()
            .collect();
        by_words.sort_unstable();
        let fp_short = fp.words.len() <= SHORT_WORDS;
        let mut found: Vec<u32> = by_words
            .chunk_by(|a, b| a == b)
            .filter(|run| run.len() >= 2 || fp_short || self.reports[run[0] as usize].short)
            .map(|run| run[0])
            .collect();
        found.extend(
            fp.names
                .iter()
                .flat_map(|n| distinctive(&self.by_name, n, limit)),
        );
        found.sort_unstable();
        found.dedup();
        let mut by_story: Vec<(usize, usize)> = found
            .into_iter()
            .map(|id| &self.reports[id as usize])
            .filter(|r| within_window(r.published, fp.published))
            .filter(|r| could_share_authority(&r.authority, &fp.authority))
            .map(|r| (r.story as usize, r.member as usize))
            .collect();
        by_story.sort_unstable();
        by_story
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| Candidate {
                story: run[0].0,
                members: run.iter().map(|&(_, m)| m).collect(),
            })
            .collect()
    }
}

/// False when both name an authority and they differ: such pairs cannot reach the
/// threshold (see the module docs).
fn could_share_authority(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The reports filed under `term`, or none when it is filed under more than `limit`
/// (a common term).
fn distinctive<'a>(postings: &'a HashMap<u64, Vec<u32>>, term: &u64, limit: usize) -> &'a [u32] {
    match postings.get(term) {
        Some(reports) if reports.len() <= limit => reports,
        _ => &[],
    }
}

// The authority rule relies on this: a score is at most 1 before the factor.
const _: () = assert!(OTHER_AUTHORITY_FACTOR < SAME_STORY_THRESHOLD);

/// A story as [`StoryShelf`] keeps it: something holding its reports' fingerprints,
/// oldest first.
pub trait StoryReports {
    /// The reports' fingerprints, oldest first.
    fn reports(&self) -> &[Fingerprint];
    /// Adds a report's fingerprint as the newest.
    fn push_report(&mut self, fp: Fingerprint);
}

impl StoryReports for (String, Vec<Fingerprint>) {
    fn reports(&self) -> &[Fingerprint] {
        &self.1
    }

    fn push_report(&mut self, fp: Fingerprint) {
        self.1.push(fp);
    }
}

/// Stories, oldest first, with a [`StoryIndex`] of their reports: the one placement
/// routine, shared by the pipeline's recent stories and the `stories` command's
/// [`StoryGrouper`]. [`StoryShelf::find`] says which story an item
/// joins, scoring it only against the reports the index finds worth it;
/// [`StoryShelf::add_report`] and [`StoryShelf::push`] keep the index in step.
#[derive(Debug)]
pub struct StoryShelf<S> {
    stories: Vec<S>,
    index: StoryIndex,
}

impl<S> Default for StoryShelf<S> {
    fn default() -> Self {
        StoryShelf {
            stories: Vec::new(),
            index: StoryIndex::default(),
        }
    }
}

impl<S: StoryReports> StoryShelf<S> {
    /// A shelf of `stories` (oldest first), their reports indexed.
    pub fn new(stories: Vec<S>) -> StoryShelf<S> {
        let mut shelf = StoryShelf::default();
        for story in stories {
            shelf.push(story);
        }
        shelf
    }

    /// The stories, oldest first.
    pub fn stories(&self) -> &[S] {
        &self.stories
    }

    /// Story `i`, to change what it holds besides its reports (add a report with
    /// [`StoryShelf::add_report`], so that the index sees it).
    pub fn story_mut(&mut self, i: usize) -> &mut S {
        &mut self.stories[i]
    }

    /// The stories, giving up the index.
    pub fn into_stories(self) -> Vec<S> {
        self.stories
    }

    /// The story an item fingerprinted `fp` joins, with its score: the best candidate
    /// of [`StoryIndex::candidates`] by [`best_story`]. `None`: it starts a story.
    pub fn find(&self, fp: &Fingerprint) -> Option<(usize, f32)> {
        let candidates = self.index.candidates(fp);
        let scored = candidates.iter().map(|c| {
            (
                c.story,
                self.stories[c.story].reports(),
                c.members.as_slice(),
            )
        });
        best_story(fp, scored)
    }

    /// Adds `fp` as the newest report of story `i`.
    pub fn add_report(&mut self, i: usize, fp: Fingerprint) {
        let member = self.stories[i].reports().len();
        self.index.add_member(i, member, &fp);
        self.stories[i].push_report(fp);
    }

    /// Adds a new story (with the reports it holds); returns its position.
    pub fn push(&mut self, story: S) -> usize {
        let i = self.stories.len();
        for (member, fp) in story.reports().iter().enumerate() {
            self.index.add_member(i, member, fp);
        }
        self.stories.push(story);
        i
    }
}

/// Groups items in memory, oldest first; used by the `stories` command and tests.
/// Places them as the pipeline does, on a [`StoryShelf`].
#[derive(Debug, Default)]
pub struct StoryGrouper {
    shelf: StoryShelf<(String, Vec<Fingerprint>)>,
}

impl StoryGrouper {
    /// An empty grouper.
    pub fn new() -> StoryGrouper {
        StoryGrouper::default()
    }

    /// Adds an item and returns its story id: the id of the story's first item.
    pub fn add(&mut self, id: &str, fp: Fingerprint) -> String {
        let index = match self.shelf.find(&fp) {
            Some((i, _)) => {
                self.shelf.add_report(i, fp);
                i
            }
            None => self.shelf.push((id.to_string(), vec![fp])),
        };
        self.shelf.stories()[index].0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::story::tests::fp as fp_at;
    use crate::summary::story::{WINDOW_HOURS, similarity};

    fn fp(source: &str, title: &str, text: &str) -> Fingerprint {
        fp_at(source, title, text, 0)
    }

    fn stories(candidates: &[Candidate]) -> Vec<usize> {
        candidates.iter().map(|c| c.story).collect()
    }

    /// A made-up ship name of letters only, different for each `i`.
    fn ship(i: usize) -> String {
        let letters: String = [i / 26, i % 26]
            .iter()
            .map(|&d| char::from(b'a' + d as u8))
            .collect();
        format!("Zor{letters}ino")
    }

    #[test]
    fn a_report_sharing_a_name_is_a_candidate() {
        let mut index = StoryIndex::new();
        let a = fp(
            "a",
            "Treasury sanctions shipping network",
            "The vessel Maia-1 was designated.",
        );
        index.add_member(0, 0, &a);
        let b = fp("b", "Vessel blocked", "Officials named Maia-1 on Friday.");
        assert_eq!(
            index.candidates(&b),
            vec![Candidate {
                story: 0,
                members: vec![0]
            }]
        );
    }

    #[test]
    fn a_different_authority_rules_a_report_out_and_could_not_have_scored() {
        let text = "The vessel Maia-1 and the tanker Lady R were designated.";
        let us = fp("a", "Treasury sanctions Maia-1 and Lady R", text);
        let uk = fp("b", "OFSI sanctions Maia-1 and Lady R", text);
        assert!(us.authority.is_some() && uk.authority.is_some());
        assert_ne!(us.authority, uk.authority);
        assert!(similarity(&us, &uk) < SAME_STORY_THRESHOLD);
        let mut index = StoryIndex::new();
        index.add_member(0, 0, &us);
        assert!(index.candidates(&uk).is_empty());
        // A report naming no authority may still join it.
        let wire = fp("c", "Maia-1 and Lady R sanctioned", text);
        assert!(wire.authority.is_none());
        assert_eq!(stories(&index.candidates(&wire)), vec![0]);
    }

    #[test]
    fn reports_outside_the_window_are_not_candidates() {
        let text = "The vessel Maia-1 and the tanker Lady R were designated.";
        let mut index = StoryIndex::new();
        index.add_member(0, 0, &fp_at("a", "Maia-1 sanctioned", text, 0));
        let late = fp_at("b", "Maia-1 sanctioned", text, WINDOW_HOURS + 1);
        assert!(index.candidates(&late).is_empty());
        let in_time = fp_at("b", "Maia-1 sanctioned", text, WINDOW_HOURS - 1);
        assert_eq!(stories(&index.candidates(&in_time)), vec![0]);
    }

    #[test]
    fn boilerplate_shared_by_most_reports_finds_no_candidates_but_names_do() {
        let mut index = StoryIndex::new();
        let boilerplate = "Officials said the cargo ships carried goods for the network.";
        let n = COMMON_MIN_REPORTS * 3;
        let mut members = Vec::new();
        for i in 0..n {
            let member = fp(
                &format!("feed{i}"),
                &format!("Vessel {} blocked", ship(i)),
                &format!("The tanker {} was named. {boilerplate}", ship(i)),
            );
            index.add_member(i, 0, &member);
            members.push(member);
        }
        let probe = fp(
            "probe",
            "Ship Quintana blocked",
            &format!("The tanker Quintana was named. {boilerplate}"),
        );
        assert!(index.candidates(&probe).is_empty());
        let about_one = fp(
            "probe",
            &format!("Ship {} blocked", ship(7)),
            &format!("The tanker {} was named. {boilerplate}", ship(7)),
        );
        assert_eq!(stories(&index.candidates(&about_one)), vec![7]);
        assert!(similarity(&about_one, &members[7]) >= SAME_STORY_THRESHOLD);
    }

    #[test]
    fn with_few_reports_every_shared_word_counts() {
        let mut index = StoryIndex::new();
        for i in 0..COMMON_MIN_REPORTS {
            let member = fp(
                &format!("feed{i}"),
                "Cargo network goods",
                "Officials said the cargo ships carried goods for the network.",
            );
            index.add_member(i, 0, &member);
        }
        let probe = fp(
            "probe",
            "Cargo network goods",
            "The cargo ships carried goods.",
        );
        assert_eq!(index.candidates(&probe).len(), COMMON_MIN_REPORTS);
    }

    #[test]
    fn only_the_reports_sharing_terms_are_scored_in_a_large_story() {
        let mut index = StoryIndex::new();
        for member in 0..40 {
            let report = fp(
                &format!("feed{member}"),
                &format!("Vessel {} blocked", ship(member)),
                &format!("The tanker {} was named.", ship(member)),
            );
            index.add_member(0, member, &report);
        }
        let probe = fp(
            "probe",
            &format!("{} detained", ship(12)),
            &format!("Port officials held {} at anchor.", ship(12)),
        );
        let found = index.candidates(&probe);
        assert_eq!(
            found,
            vec![Candidate {
                story: 0,
                members: vec![12]
            }]
        );
    }
}
