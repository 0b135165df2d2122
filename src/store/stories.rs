//! The store's part of stories, digests and search: stories (a record with the
//! reports it began with, and each later report with its fingerprint stored apart
//! under the story id and its position, so a report joining a story writes only
//! itself), the post each room got for a story (and, once
//! delivered, its event id, so later reports can be threaded under it), the link
//! from an outbox entry to its story, each room's story and digest settings, the
//! digest lines waiting for a room's next digest, and a bounded list of recent
//! items for `search` (a fetch's items in a few records, not one each). Everything
//! an item adds is written in the same transaction that marks it seen
//! ([`Store::commit_batch`]).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::{
    OutboxEntry, Store, StoreError, TxResult, composite, decode, encode, prefix, tx_error,
};
use crate::summary::Fingerprint;

/// Recent items kept for `search`; the oldest are dropped beyond this.
pub const RECENT_ITEMS_CAP: usize = 20_000;

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
struct StoredReportRef<'a> {
    member: &'a StoryMember,
    fingerprint: &'a Fingerprint,
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

/// A `recent_items` record holds items of one fetch up to about this many bytes.
/// sled writes a whole leaf of up to 16 records at a time, and writes leaves over
/// 128 KiB as separate files (blobs).
const RECENT_RECORD_BYTES: usize = 8 * 1024;

/// A fetch's items for `search`, already encoded as `recent_items` records: JSON
/// arrays of consecutive items, each up to `RECENT_RECORD_BYTES` unless a single
/// item is larger. Encoding is most of the cost of keeping them, so the pipeline does
/// it before it takes the story lock, and the commit only inserts.
#[derive(Debug, Clone, Default)]
pub struct RecentRecords {
    records: Vec<Vec<u8>>,
    items: usize,
}

impl RecentRecords {
    /// Encodes `items`, in the order given (`search` reads them back in reverse).
    pub fn new(items: &[RecentItem]) -> RecentRecords {
        let mut records = Vec::new();
        let mut current: Vec<u8> = Vec::new();
        for item in items {
            let encoded = encode(item);
            if !current.is_empty() && current.len() + encoded.len() + 2 > RECENT_RECORD_BYTES {
                current.push(b']');
                records.push(std::mem::take(&mut current));
            }
            current.push(if current.is_empty() { b'[' } else { b',' });
            current.extend_from_slice(&encoded);
        }
        if !current.is_empty() {
            current.push(b']');
            records.push(current);
        }
        RecentRecords {
            records,
            items: items.len(),
        }
    }

    /// How many items the records hold.
    pub fn len(&self) -> usize {
        self.items
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.items == 0
    }
}

/// The items of a `recent_items` record: consecutive items of one fetch (schema 2),
/// or a single item (schema 1).
fn decode_recent(value: &[u8]) -> Result<Vec<RecentItem>, StoreError> {
    if value.first() == Some(&b'[') {
        decode("recent_items", value)
    } else {
        Ok(vec![decode("recent_items", value)?])
    }
}

/// How many items a `recent_items` record holds, without decoding them (none for
/// an unreadable record, which `search` reports when it reaches it).
fn count_recent(value: &[u8]) -> usize {
    if value.first() == Some(&b'[') {
        serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(value).map_or(0, |items| items.len())
    } else {
        1
    }
}

/// The `story_reports` key of a story's report at `position`: positions are
/// zero-padded, so a story's reports sort in order under its id.
fn report_key(story: &str, position: usize) -> Vec<u8> {
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

/// What an outbox entry is in its story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxLink {
    /// The room.
    pub room_id: String,
    /// The story.
    pub story: String,
    /// True for an "also reported by" reply under the story's post.
    pub reply: bool,
}

/// A recently seen item, kept for `search`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentItem {
    /// The feed.
    pub feed_id: String,
    /// The feed's display name.
    pub source: String,
    /// The title.
    pub title: String,
    /// The link.
    pub link: Option<String>,
    /// When it was published, if the feed said.
    pub published: Option<DateTime<Utc>>,
    /// When the bot first saw it.
    pub seen: DateTime<Utc>,
    /// Case-folded words of title and text, space-separated, for matching.
    pub words: String,
}

/// A room's daily digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestSetting {
    /// Hour (UTC).
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// True if the digest replaces live posts; false if it comes besides them.
    pub only: bool,
    /// The last UTC day a digest was due and handled.
    pub last_sent: Option<NaiveDate>,
}

/// A room's choices about stories and digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomSettings {
    /// Group reports of one announcement under one post (default on).
    #[serde(default = "default_true")]
    pub stories: bool,
    /// The daily digest, if any.
    #[serde(default)]
    pub digest: Option<DigestSetting>,
}

fn default_true() -> bool {
    true
}

impl Default for RoomSettings {
    fn default() -> Self {
        RoomSettings {
            stories: true,
            digest: None,
        }
    }
}

/// One story waiting for a room's next digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestLine {
    /// The story.
    pub story: String,
    /// The first report's title.
    pub title: String,
    /// Who did what ("OFAC (US Treasury) · new designations").
    pub what: String,
    /// Watched names matched, across reports.
    pub names: Vec<String>,
    /// Sources, first first.
    pub sources: Vec<String>,
    /// The first report's link.
    pub link: Option<String>,
    /// When the first report was published.
    pub published: DateTime<Utc>,
}

/// Everything one fetch adds besides seen items, posts and feed state.
#[derive(Debug, Clone, Default)]
pub struct ItemBatch {
    /// Stories created or extended: their new reports (and records, when new).
    pub stories: Vec<StoryAddition>,
    /// First posts of stories in rooms: (room, story, post).
    pub story_posts: Vec<(String, String, StoryPost)>,
    /// Story links of the enqueued posts, by transaction id.
    pub links: Vec<(String, OutboxLink)>,
    /// Items for `search`.
    pub recent: RecentRecords,
    /// Digest lines, by room (written over an earlier line of the same story).
    pub digest_lines: Vec<(String, DigestLine)>,
}

/// The trees this part of the store uses.
#[derive(Clone)]
pub(super) struct StoryTrees {
    pub(super) stories: sled::Tree,
    pub(super) story_reports: sled::Tree,
    pub(super) story_posts: sled::Tree,
    pub(super) links: sled::Tree,
    pub(super) recent: sled::Tree,
    /// About how many items `recent` holds: counted once at open, then kept up to
    /// date by [`Store::commit_batch`] (sled counts a tree by walking all of it).
    /// Writers that bypass it (a restore) are counted at the next open.
    pub(super) recent_len: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub(super) settings: sled::Tree,
    pub(super) digest_lines: sled::Tree,
}

impl StoryTrees {
    pub(super) fn open(db: &sled::Db) -> Result<StoryTrees, StoreError> {
        let recent = db.open_tree("recent_items")?;
        let mut recent_items = 0;
        for value in recent.iter().values() {
            recent_items += count_recent(&value?);
        }
        Ok(StoryTrees {
            stories: db.open_tree("stories")?,
            story_reports: db.open_tree("story_reports")?,
            story_posts: db.open_tree("story_posts")?,
            links: db.open_tree("outbox_story_links")?,
            recent_len: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(recent_items)),
            recent,
            settings: db.open_tree("room_settings")?,
            digest_lines: db.open_tree("digest_lines")?,
        })
    }
}

impl Store {
    /// A new story id, increasing with time.
    pub fn new_story_id(&self) -> Result<String, StoreError> {
        Ok(format!("s{:016x}", self.db.generate_id()?))
    }

    /// In one transaction: marks `item_keys` seen, enqueues `posts`, saves the feed
    /// state, and writes `batch` (stories, story posts, links, recent items, digest
    /// lines). Then drops recent items beyond [`RECENT_ITEMS_CAP`].
    pub fn commit_batch(
        &self,
        feed_id: &str,
        item_keys: &[String],
        posts: &[OutboxEntry],
        state: &super::FeedState,
        batch: &ItemBatch,
    ) -> Result<(), StoreError> {
        let now = encode(&Utc::now());
        let mut ids = Vec::with_capacity(posts.len());
        for _ in posts {
            ids.push(self.db.generate_id()?);
        }
        let mut recent_records = Vec::with_capacity(batch.recent.records.len());
        for record in &batch.recent.records {
            recent_records.push((self.db.generate_id()?, record.as_slice()));
        }
        // Everything is encoded before the transaction: while it runs, sled holds
        // every other reader and writer of the store.
        let outbox_values: Vec<(u64, Vec<u8>)> = ids
            .iter()
            .zip(posts)
            .map(|(id, post)| (*id, encode(post)))
            .collect();
        let mut story_values: Vec<(&[u8], Vec<u8>)> = Vec::new();
        let mut report_values: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for added in &batch.stories {
            if added.first == 0 {
                let (members, fingerprints) = added.reports.iter().cloned().unzip();
                let record = StoryRecord {
                    id: added.id.clone(),
                    created: added.created,
                    members,
                    fingerprints,
                };
                story_values.push((added.id.as_bytes(), encode(&record)));
                continue;
            }
            for (offset, (member, fingerprint)) in added.reports.iter().enumerate() {
                let report = StoredReportRef {
                    member,
                    fingerprint,
                };
                report_values.push((report_key(&added.id, added.first + offset), encode(&report)));
            }
        }
        let state_value = encode(state);
        let story_post_values: Vec<(Vec<u8>, Vec<u8>)> = (batch.story_posts.iter())
            .map(|(room, story, post)| (composite(room, story), encode(post)))
            .collect();
        let link_values: Vec<(&[u8], Vec<u8>)> = (batch.links.iter())
            .map(|(txn, link)| (txn.as_bytes(), encode(link)))
            .collect();
        let digest_values: Vec<(Vec<u8>, Vec<u8>)> = (batch.digest_lines.iter())
            .map(|(room, line)| (composite(room, &line.story), encode(line)))
            .collect();
        let t = &self.story_trees;
        let result: TxResult<()> = (
            &self.seen,
            &self.outbox,
            &self.feed_state,
            &t.stories,
            &t.story_reports,
            &t.story_posts,
            &t.links,
            &t.recent,
            &t.digest_lines,
        )
            .transaction(
                |(
                    seen,
                    outbox,
                    feed_state,
                    stories,
                    reports,
                    story_posts,
                    links,
                    recent,
                    digest,
                )| {
                    for key in item_keys {
                        seen.insert(composite(feed_id, key), now.clone())?;
                    }
                    for (id, value) in &outbox_values {
                        outbox.insert(&id.to_be_bytes(), value.as_slice())?;
                    }
                    feed_state.insert(feed_id.as_bytes(), state_value.as_slice())?;
                    for (key, value) in &story_values {
                        stories.insert(*key, value.as_slice())?;
                    }
                    for (key, value) in &report_values {
                        reports.insert(key.as_slice(), value.as_slice())?;
                    }
                    for (key, value) in &story_post_values {
                        if story_posts.get(key)?.is_none() {
                            story_posts.insert(key.as_slice(), value.as_slice())?;
                        }
                    }
                    for (key, value) in &link_values {
                        links.insert(*key, value.as_slice())?;
                    }
                    for (id, record) in &recent_records {
                        recent.insert(&id.to_be_bytes(), *record)?;
                    }
                    for (key, value) in &digest_values {
                        digest.insert(key.as_slice(), value.as_slice())?;
                    }
                    Ok::<(), ConflictableTransactionError<()>>(())
                },
            );
        result.map_err(tx_error)?;
        use std::sync::atomic::Ordering;
        let len = t
            .recent_len
            .fetch_add(batch.recent.len(), Ordering::Relaxed)
            + batch.recent.len();
        let mut excess = len.saturating_sub(RECENT_ITEMS_CAP);
        // The oldest fetches go whole, so a little more than the excess may go.
        while excess > 0 {
            let Some((key, _)) = t.recent.first()? else {
                break;
            };
            if let Some(value) = t.recent.remove(key)? {
                let removed = count_recent(&value);
                t.recent_len.fetch_sub(removed, Ordering::Relaxed);
                excess = excess.saturating_sub(removed);
            }
        }
        Ok(())
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
                            super::printable_key(&key)
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

    /// The story link of an outbox entry, if it has one.
    pub fn outbox_link(&self, txn_id: &str) -> Result<Option<OutboxLink>, StoreError> {
        match self.story_trees.links.get(txn_id.as_bytes())? {
            Some(v) => Ok(Some(decode("outbox_story_links", &v)?)),
            None => Ok(None),
        }
    }

    /// After a delivery: a story's first post remembers its event id (so replies
    /// can be threaded under it), and the entry's link is dropped.
    pub fn record_delivered(&self, txn_id: &str, event_id: Option<&str>) -> Result<(), StoreError> {
        let Some(link) = self.outbox_link(txn_id)? else {
            return Ok(());
        };
        if !link.reply
            && let Some(event_id) = event_id
        {
            let key = composite(&link.room_id, &link.story);
            let post = StoryPost {
                txn_id: txn_id.to_string(),
                event_id: Some(event_id.to_string()),
            };
            let current: Option<StoryPost> = match self.story_trees.story_posts.get(&key)? {
                Some(v) => Some(decode("story_posts", &v)?),
                None => None,
            };
            if current.is_none_or(|c| c.txn_id == txn_id) {
                self.story_trees.story_posts.insert(key, encode(&post))?;
            }
        }
        self.story_trees.links.remove(txn_id.as_bytes())?;
        Ok(())
    }

    /// The most recent items (newest first, at most `limit`) whose words contain
    /// every one of `words` (case-folded tokens), and how many items were scanned.
    pub fn search_recent(
        &self,
        words: &[String],
        limit: usize,
    ) -> Result<(Vec<RecentItem>, usize), StoreError> {
        let mut found = Vec::new();
        let mut scanned = 0;
        for value in self.story_trees.recent.iter().values().rev() {
            let value = value?;
            // Cheap pre-check on the raw bytes before decoding.
            let raw = String::from_utf8_lossy(&value);
            if !words.iter().all(|w| raw.contains(w.as_str())) {
                scanned += count_recent(&value);
                continue;
            }
            for item in decode_recent(&value)?.into_iter().rev() {
                scanned += 1;
                let item_words: Vec<&str> = item.words.split(' ').collect();
                if words.iter().all(|w| {
                    // Whole words; a phrase of several words must appear in order.
                    let parts: Vec<&str> = w.split(' ').collect();
                    item_words
                        .windows(parts.len())
                        .any(|win| win == parts.as_slice())
                }) {
                    found.push(item);
                    if found.len() >= limit {
                        return Ok((found, scanned));
                    }
                }
            }
        }
        Ok((found, scanned))
    }

    /// About how many items are kept for `search`.
    pub fn recent_item_count(&self) -> usize {
        self.story_trees
            .recent_len
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A room's story and digest settings (defaults when never set).
    pub fn room_settings(&self, room: &str) -> Result<RoomSettings, StoreError> {
        match self.story_trees.settings.get(room.as_bytes())? {
            Some(v) => decode("room_settings", &v),
            None => Ok(RoomSettings::default()),
        }
    }

    /// Saves a room's settings.
    pub fn put_room_settings(&self, room: &str, settings: &RoomSettings) -> Result<(), StoreError> {
        self.story_trees
            .settings
            .insert(room.as_bytes(), encode(settings))?;
        Ok(())
    }

    /// Every room that has a digest set.
    pub fn digest_rooms(&self) -> Result<Vec<(String, RoomSettings)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.story_trees.settings.iter() {
            let (k, v) = kv?;
            let settings: RoomSettings = decode("room_settings", &v)?;
            if settings.digest.is_some() {
                out.push((String::from_utf8_lossy(&k).into_owned(), settings));
            }
        }
        Ok(out)
    }

    /// The digest lines waiting for `room`, oldest story first.
    pub fn digest_lines(&self, room: &str) -> Result<Vec<DigestLine>, StoreError> {
        self.story_trees
            .digest_lines
            .scan_prefix(prefix(room))
            .values()
            .map(|v| decode("digest_lines", &v?))
            .collect()
    }

    /// In one transaction: takes `room`'s digest lines, enqueues `digest` (if any),
    /// and marks the digest of `day` handled, so a restart neither doubles nor
    /// loses it. Returns false (and changes nothing) if that day was already handled.
    pub fn complete_digest(
        &self,
        room: &str,
        day: NaiveDate,
        digest: Option<&OutboxEntry>,
        lines: &[DigestLine],
    ) -> Result<bool, StoreError> {
        let id = self.db.generate_id()?;
        let t = &self.story_trees;
        let result: Result<bool, sled::transaction::TransactionError<()>> =
            (&t.settings, &t.digest_lines, &self.outbox).transaction(
                |(settings, pending, outbox)| {
                    let mut current: RoomSettings = match settings.get(room.as_bytes())? {
                        Some(v) => serde_json::from_slice(&v).unwrap_or_default(),
                        None => return Ok(false),
                    };
                    let Some(d) = current.digest.as_mut() else {
                        return Ok(false);
                    };
                    if d.last_sent.is_some_and(|last| last >= day) {
                        return Ok(false);
                    }
                    d.last_sent = Some(day);
                    settings.insert(room.as_bytes(), encode(&current))?;
                    for line in lines {
                        pending.remove(composite(room, &line.story))?;
                    }
                    if let Some(entry) = digest {
                        outbox.insert(&id.to_be_bytes(), encode(entry))?;
                    }
                    Ok::<bool, ConflictableTransactionError<()>>(true)
                },
            );
        result.map_err(tx_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FeedState;
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

    fn recent(title: &str) -> RecentItem {
        RecentItem {
            feed_id: "f".into(),
            source: "Source".into(),
            title: title.into(),
            link: None,
            published: None,
            seen: Utc::now(),
            words: title.to_lowercase(),
        }
    }

    #[test]
    fn recent_items_are_stored_per_fetch_and_searched_newest_first_with_schema_1_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // Schema 1: one record per item.
        let id = store.db.generate_id().unwrap();
        store
            .insert_raw(
                "recent_items",
                &id.to_be_bytes(),
                &encode(&recent("lady r old")),
            )
            .unwrap();
        let batch = ItemBatch {
            recent: RecentRecords::new(&[
                recent("lady r first"),
                recent("maia 1"),
                recent("lady r second"),
            ]),
            ..ItemBatch::default()
        };
        store
            .commit_batch("f", &[], &[], &FeedState::default(), &batch)
            .unwrap();
        assert_eq!(
            store.story_trees.recent.len(),
            2,
            "one record for the fetch"
        );

        let (found, scanned) = store
            .search_recent(&["lady".into(), "r".into()], 10)
            .unwrap();
        let found: Vec<&str> = found.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(found, ["lady r second", "lady r first", "lady r old"]);
        assert_eq!(scanned, 4);
        let (found, _) = store.search_recent(&["lady r".into()], 1).unwrap();
        assert_eq!(found[0].title, "lady r second");
    }

    #[test]
    fn a_large_fetch_is_kept_in_records_of_a_few_kilobytes_in_order() {
        let long = "word ".repeat(200);
        let mut items: Vec<RecentItem> = (0..20)
            .map(|i| recent(&format!("item{i} {long}")))
            .collect();
        items[7].words = "huge ".repeat(4_000);
        let encoded = RecentRecords::new(&items);
        assert_eq!(encoded.len(), items.len());
        let records = encoded.records;
        assert!(records.len() > 3, "{} records", records.len());
        let mut decoded = Vec::new();
        for record in &records {
            let in_record = decode_recent(record).unwrap();
            assert_eq!(count_recent(record), in_record.len());
            assert!(
                record.len() <= RECENT_RECORD_BYTES || in_record.len() == 1,
                "a record of {} bytes holds {} items",
                record.len(),
                in_record.len()
            );
            decoded.extend(in_record);
        }
        assert_eq!(decoded, items);
        assert!(RecentRecords::new(&[]).records.is_empty());
    }

    #[test]
    fn the_oldest_fetches_are_dropped_beyond_the_cap_and_counted_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let per_fetch = 1_000;
        for fetch in 0..(RECENT_ITEMS_CAP / per_fetch + 2) {
            let batch = ItemBatch {
                recent: RecentRecords::new(
                    &(0..per_fetch)
                        .map(|i| recent(&format!("fetch{fetch} item{i}")))
                        .collect::<Vec<_>>(),
                ),
                ..ItemBatch::default()
            };
            store
                .commit_batch("f", &[], &[], &FeedState::default(), &batch)
                .unwrap();
        }
        assert_eq!(store.recent_item_count(), RECENT_ITEMS_CAP);
        let (found, _) = store.search_recent(&["fetch1".into()], 10).unwrap();
        assert!(found.is_empty(), "the oldest fetches are gone");
        let (found, _) = store.search_recent(&["fetch2".into()], 10).unwrap();
        assert_eq!(found.len(), 10);
        drop(store);
        let store = crate::store::tests::reopen(dir.path());
        assert_eq!(store.recent_item_count(), RECENT_ITEMS_CAP);
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
