//! Stories: a story's record with the reports it began with (`stories`), each later
//! report with its fingerprint stored apart under the story id and its position
//! (`story_reports`), so a report joining a story writes only itself, and the post
//! each room got for a story (`story_posts`: once delivered, with its event id, so
//! later reports can be threaded under it). What a fetch adds to stories is written
//! by the one commit ([`Store::commit_batch`]), in the transaction that marks its
//! items seen.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::db::{Store, StoreError, composite, decode, prefix};
use crate::summary::story::Fingerprint;

/// One report in a story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryMember {
    /// The feed.
    pub feed_id: String,
    /// The item's key in that feed.
    pub item_key: String,
    /// The feed's display name.
    pub source: String,
    /// The item's title.
    pub title: String,
    /// The item's link.
    pub link: Option<String>,
    /// When it was published (or seen).
    pub published: DateTime<Utc>,
}

/// A story: reports of one announcement from different feeds.
///
/// Stored in `stories` with the reports it began with (those of the fetch that
/// created it), and each later report in `story_reports` under the story id and its
/// position ([`StoredReport`]): a story is read as its record's reports followed by
/// its stored reports in order. Schema 1 rewrote the whole record for each report;
/// such records read the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryRecord {
    /// `s` and 16 hex digits, increasing with creation.
    pub id: String,
    /// When the first report arrived.
    pub created: DateTime<Utc>,
    /// The reports, first first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<StoryMember>,
    /// Their fingerprints, in the same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprints: Vec<Fingerprint>,
}

/// One report of a story as `story_reports` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReport {
    /// The report.
    pub member: StoryMember,
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
}

/// [`StoredReport`] by reference, for writing.
#[derive(Serialize)]
pub(super) struct StoredReportRef<'a> {
    pub(super) member: &'a StoryMember,
    pub(super) fingerprint: &'a Fingerprint,
}

/// What one fetch adds to a story.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryAddition {
    /// The story's id.
    pub id: String,
    /// When the story was created.
    pub created: DateTime<Utc>,
    /// The position of the first added report among all the story's reports: 0
    /// for a new story, whose record is written with these reports in it (a
    /// stored story has at least one report).
    pub first: usize,
    /// The added reports, in order, with their fingerprints.
    pub reports: Vec<(StoryMember, Fingerprint)>,
}

/// The `story_reports` key of a story's report at `position`: positions are
/// zero-padded, so a story's reports sort in order under its id.
pub(super) fn report_key(story: &str, position: usize) -> Vec<u8> {
    composite(story, &format!("{position:010}"))
}

/// The post a room got for a story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryPost {
    /// The outbox transaction id of the post.
    pub txn_id: String,
    /// The delivered event id, once known (Matrix; the console has none).
    pub event_id: Option<String>,
}

impl Store {
    /// A new story id, increasing with time.
    pub fn new_story_id(&self) -> Result<String, StoreError> {
        Ok(format!("s{:016x}", self.db.generate_id()?))
    }

    /// Stories created at or after `since`, newest first, with all their reports.
    pub fn recent_stories(&self, since: DateTime<Utc>) -> Result<Vec<StoryRecord>, StoreError> {
        let mut out = Vec::new();
        for value in self.story_trees.stories.iter().values().rev() {
            let mut story: StoryRecord = decode("stories", &value?)?;
            if story.created < since {
                break;
            }
            for kv in self
                .story_trees
                .story_reports
                .scan_prefix(prefix(&story.id))
            {
                let (key, value) = kv?;
                let position = story.members.len();
                if key != report_key(&story.id, position) {
                    return Err(StoreError::Corrupt {
                        tree: "story_reports",
                        message: format!(
                            "story {} has no report at position {position} but one under {}",
                            story.id,
                            super::db::printable_key(&key)
                        ),
                    });
                }
                let report: StoredReport = decode("story_reports", &value)?;
                story.members.push(report.member);
                story.fingerprints.push(report.fingerprint);
            }
            out.push(story);
        }
        Ok(out)
    }

    /// The post `room` got for `story`, if any.
    pub fn story_post(&self, room: &str, story: &str) -> Result<Option<StoryPost>, StoreError> {
        match self.story_trees.story_posts.get(composite(room, story))? {
            Some(v) => Ok(Some(decode("story_posts", &v)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::encode;
    use crate::store::{FeedState, ItemBatch};
    use crate::summary::Action;

    fn report(n: usize) -> (StoryMember, Fingerprint) {
        let published = Utc::now();
        let member = StoryMember {
            feed_id: format!("f{n}"),
            item_key: format!("v1:g:{n}"),
            source: format!("Source {n}"),
            title: format!("Report {n}"),
            link: None,
            published,
        };
        let fingerprint = Fingerprint {
            source: member.source.clone(),
            published,
            action: Action::Designation,
            authority: Some("US".into()),
            words: vec![n as u64, 1_000 + n as u64],
            names: vec![7],
            watched: vec![],
        };
        (member, fingerprint)
    }

    fn add(store: &Store, id: &str, first: usize, reports: Vec<usize>) {
        let batch = ItemBatch {
            stories: vec![StoryAddition {
                id: id.into(),
                created: Utc::now(),
                first,
                reports: reports.into_iter().map(report).collect(),
            }],
            ..ItemBatch::default()
        };
        store
            .commit_batch("f", &[], &[], &FeedState::default(), &batch)
            .unwrap();
    }

    fn titles(story: &StoryRecord) -> Vec<&str> {
        story.members.iter().map(|m| m.title.as_str()).collect()
    }

    #[test]
    fn a_story_keeps_the_reports_it_began_with_and_stores_later_ones_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = store.new_story_id().unwrap();
        add(&store, &id, 0, vec![0, 1]);
        add(&store, &id, 2, vec![2]);
        add(&store, &id, 3, vec![3, 4]);

        let record: StoryRecord = decode(
            "stories",
            &store.story_trees.stories.get(&id).unwrap().unwrap(),
        )
        .unwrap();
        assert_eq!(titles(&record), ["Report 0", "Report 1"]);
        assert_eq!(store.story_trees.story_reports.len(), 3);

        let stories = store
            .recent_stories(Utc::now() - chrono::Duration::hours(1))
            .unwrap();
        assert_eq!(stories.len(), 1);
        assert_eq!(
            titles(&stories[0]),
            ["Report 0", "Report 1", "Report 2", "Report 3", "Report 4"]
        );
        assert_eq!(stories[0].fingerprints[2].words, [2, 1_002]);
        assert!(store.check().problems.is_empty());
    }

    #[test]
    fn a_story_stored_whole_by_schema_1_keeps_its_reports_and_takes_more() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = store.new_story_id().unwrap();
        let (members, fingerprints) = [0, 1].into_iter().map(report).unzip();
        let whole = StoryRecord {
            id: id.clone(),
            created: Utc::now(),
            members,
            fingerprints,
        };
        let schema_1 = encode(&whole);
        assert!(String::from_utf8_lossy(&schema_1).contains("\"members\":[{"));
        store
            .insert_raw("stories", id.as_bytes(), &schema_1)
            .unwrap();

        add(&store, &id, 2, vec![2, 3]);

        let stories = store
            .recent_stories(Utc::now() - chrono::Duration::hours(1))
            .unwrap();
        assert_eq!(
            titles(&stories[0]),
            ["Report 0", "Report 1", "Report 2", "Report 3"]
        );
        assert_eq!(stories[0].fingerprints.len(), 4);
        assert!(store.check().problems.is_empty());
    }

    #[test]
    fn a_missing_report_position_is_reported_with_the_story() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = store.new_story_id().unwrap();
        add(&store, &id, 0, vec![0]);
        add(&store, &id, 2, vec![2]);
        match store.recent_stories(Utc::now() - chrono::Duration::hours(1)) {
            Err(StoreError::Corrupt { tree, message }) => {
                assert_eq!(tree, "story_reports");
                assert!(
                    message.contains(&id) && message.contains("position 1"),
                    "{message}"
                );
            }
            other => panic!("expected a corrupt store, got {other:?}"),
        }
    }
}
