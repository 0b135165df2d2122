//! The only owner of sled. One tree per kind of record, typed accessors that speak in
//! the bot's own types (JSON values, so a store can be inspected and exported), the
//! one transaction that marks items seen and enqueues their posts together, and flush.
//!
//! This file opens the store (refusing a store in use or written by a newer schema)
//! and checks every record (`state check`); [`db`] is the database handle, its
//! trees, flushing and the helpers that build keys and encode values. Each family of
//! records has its own file, with its types and an `impl Store` block of its
//! accessors: feeds, seen items, watchlists, rooms (subscriptions, settings and
//! digests), the outbox, stories, search, and the one commit that writes what a fetch
//! adds. Every public type is re-exported here; the families import each other and
//! [`db`] directly, never this file, so the imports form no cycle.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::config::is_room_target;
use crate::screening::WatchEntry;

pub mod backup;
mod commit;
pub mod db;
mod feeds;
mod follows;
mod outbox;
mod rooms;
mod search;
mod seen;
mod stories;
mod watchlists;

pub use commit::ItemBatch;
pub use feeds::{FeedDisabled, FeedMoved, FeedOrigin, FeedRecord, FeedState};
pub use follows::{Follow, FollowMode, RoomRecords};
pub use outbox::{OutboxEntry, OutboxLink, new_txn_id};
pub use rooms::{
    DigestLine, DigestSetting, RoomCarried, RoomForgotten, RoomSettings, Subscription,
};
pub use search::{RECENT_ITEMS_CAP, RecentItem, RecentRecords};
pub use stories::{StoredReport, StoryAddition, StoryMember, StoryPost, StoryRecord};
pub use watchlists::{ListRecord, PutEntriesReport};

pub use db::{RawRecord, SCHEMA_VERSION, Store, StoreCounts, StoreError, printable_key};

use db::{SEP, StoryTrees};

impl Store {
    /// Opens (or creates) the store under `data_dir/sled`, upgrading a store written
    /// by an earlier schema.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let store = Store::open_as_is(data_dir)?;
        match store.check_schema()? {
            Some(found) if found < SCHEMA_VERSION => store.upgrade(found)?,
            _ => {}
        }
        store.record_schema()?;
        Ok(store)
    }

    /// Brings a store written by schema `from` to the current one; idempotent.
    pub(crate) fn upgrade(&self, from: u32) -> Result<(), StoreError> {
        if from < 3 {
            let follows = self.upgrade_to_room_follows()?;
            tracing::info!(
                from,
                follows,
                "store upgraded: rooms now follow feeds; each feed added by command is followed by the room that added it"
            );
        }
        Ok(())
    }

    /// Opens the store's files and trees, changing no record.
    fn open_as_is(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join("sled");
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Sled(e.into()))?;
        let db = sled::Config::new()
            .path(&path)
            // sled's default page cache is a gigabyte. The bot's working set (feed
            // states, the seen marks being checked, the outbox) is small: the
            // recent stories are kept decoded in memory anyway, and search reads
            // the recent items rarely. The whole bot's anonymous memory should
            // stay within 30 MiB (docs/performance.md).
            .cache_capacity(2 * 1024 * 1024)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(|e| match e {
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("lock") =>
                {
                    StoreError::Locked(path.clone())
                }
                other => StoreError::Sled(other),
            })?;
        let store = Store {
            feeds: db.open_tree("feeds")?,
            feed_state: db.open_tree("feed_state")?,
            seen: db.open_tree("seen")?,
            lists: db.open_tree("watchlists")?,
            entries: db.open_tree("watch_entries")?,
            subscriptions: db.open_tree("subscriptions")?,
            follows: db.open_tree("follows")?,
            outbox: db.open_tree("outbox")?,
            dead_letters: db.open_tree("outbox_dead")?,
            story_trees: open_story_trees(&db)?,
            quarantine: db.open_tree("quarantine")?,
            rooms_cache: Default::default(),
            db,
            path,
        };
        Ok(store)
    }

    /// Opens a store that must already exist (for `state check` and `state export`):
    /// never creates one by accident, and changes no record (no upgrade, no new schema
    /// version).
    pub fn open_existing(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join("sled");
        if !path.join("conf").exists() {
            return Err(StoreError::Missing(path));
        }
        // Read-only tools: no upgrade and no new schema version (an older store's
        // records read as they are).
        let store = Store::open_as_is(data_dir)?;
        store.check_schema()?;
        Ok(store)
    }

    /// Reads every record with its typed decoder and cross-checks references.
    /// Writes nothing.
    pub fn check(&self) -> StoreCheck {
        let mut report = StoreCheck::default();
        let mut problem = |tree: &str, key: &[u8], message: String| {
            report
                .problems
                .push(format!("{tree} {}: {message}", printable_key(key)));
        };
        let decoders: [(&str, &sled::Tree, RecordCheck); 11] = [
            ("feeds", &self.feeds, |v| decode_err::<FeedRecord>(v)),
            ("feed_state", &self.feed_state, |v| {
                decode_err::<FeedState>(v)
            }),
            ("seen", &self.seen, |v| decode_err::<DateTime<Utc>>(v)),
            ("watchlists", &self.lists, |v| decode_err::<ListRecord>(v)),
            ("watch_entries", &self.entries, |v| {
                decode_err::<WatchEntry>(v)
            }),
            ("subscriptions", &self.subscriptions, |v| {
                decode_err::<Subscription>(v)
            }),
            ("follows", &self.follows, |v| decode_err::<Follow>(v)),
            ("outbox", &self.outbox, |v| decode_err::<OutboxEntry>(v)),
            ("outbox_dead", &self.dead_letters, |v| {
                decode_err::<OutboxEntry>(v)
            }),
            ("stories", &self.story_trees.stories, |v| {
                decode_err::<StoryRecord>(v)
            }),
            ("story_reports", &self.story_trees.story_reports, |v| {
                decode_err::<StoredReport>(v)
            }),
        ];
        for (name, tree, decode_error) in decoders {
            let mut count = 0;
            for kv in tree.iter() {
                match kv {
                    Ok((k, v)) => {
                        count += 1;
                        if let Some(e) = decode_error(&v) {
                            problem(name, &k, format!("cannot be decoded: {e}"));
                        }
                    }
                    Err(e) => problem(name, b"", format!("cannot be read: {e}")),
                }
            }
            report.counts.push((name.to_string(), count));
        }
        for key in self.quarantine.iter().keys().flatten() {
            problem(
                "quarantine",
                &key,
                "a record that could not be decoded, moved out of its tree".into(),
            );
        }
        let lists: Vec<String> = self
            .decode_readable::<ListRecord>("watchlists", &self.lists)
            .into_iter()
            .map(|l| l.name)
            .collect();
        for sub in self.decode_readable::<Subscription>("subscriptions", &self.subscriptions) {
            if !lists.contains(&sub.list) {
                problem(
                    "subscriptions",
                    sub.room_id.as_bytes(),
                    format!("subscribes to missing watchlist {:?}", sub.list),
                );
            }
        }
        for key in self.entries.iter().keys().flatten() {
            let list = key.split(|b| *b == SEP).next().unwrap_or_default();
            if !lists.iter().any(|l| l.as_bytes() == list) {
                problem("watch_entries", &key, "belongs to no watchlist".into());
            }
        }
        for (tree, room, what) in self.undeliverable() {
            problem(
                tree,
                room.as_bytes(),
                format!(
                    "{what} for {room:?}, which is no room any mode delivers to (`state check --fix` removes it)"
                ),
            );
        }
        let day_ago = Utc::now() - chrono::Duration::days(1);
        let outbox = self
            .decode_tree::<OutboxEntry>("outbox", &self.outbox, false)
            .unwrap_or_default();
        for (key, entry) in outbox {
            if entry.created < day_ago {
                problem(
                    "outbox",
                    &key,
                    format!(
                        "waiting for more than a day ({} attempts, last error: {})",
                        entry.attempts,
                        entry.last_error.as_deref().unwrap_or("none")
                    ),
                );
            }
        }
        report
    }
}

impl Store {
    /// Records for rooms no mode delivers to (neither `console` nor a Matrix room id,
    /// e.g. an alias written in an old config): tree, room and what it is.
    fn undeliverable(&self) -> Vec<(&'static str, String, &'static str)> {
        let mut found = Vec::new();
        for entry in self.decode_readable::<OutboxEntry>("outbox", &self.outbox) {
            if !is_room_target(&entry.room_id) {
                found.push(("outbox", entry.room_id, "a post waiting"));
            }
        }
        for sub in self.decode_readable::<Subscription>("subscriptions", &self.subscriptions) {
            if !is_room_target(&sub.room_id) {
                found.push(("subscriptions", sub.room_id, "a subscription"));
            }
        }
        for follow in self.decode_readable::<Follow>("follows", &self.follows) {
            if !is_room_target(&follow.room_id) {
                found.push(("follows", follow.room_id, "a follow"));
            }
        }
        found
    }

    /// Removes the posts, subscriptions and follows of rooms no mode delivers to
    /// (`state check --fix`); returns how many.
    pub fn remove_undeliverable(&self) -> Result<usize, StoreError> {
        let mut removed = 0;
        for (id, entry) in self.outbox()? {
            if !is_room_target(&entry.room_id) {
                self.remove_outbox(id)?;
                removed += 1;
            }
        }
        for sub in self.all_subscriptions()? {
            if !is_room_target(&sub.room_id) {
                removed += usize::from(self.unsubscribe(&sub.room_id, &sub.list)?);
            }
        }
        for follow in self.all_follows()? {
            if !is_room_target(&follow.room_id) {
                removed += usize::from(self.remove_follow(&follow.room_id, &follow.feed_id)?);
            }
        }
        self.flush_blocking()?;
        Ok(removed)
    }
}

/// Opens the trees of stories, digests and search, counting the recent items.
fn open_story_trees(db: &sled::Db) -> Result<StoryTrees, StoreError> {
    let recent = db.open_tree("recent_items")?;
    let mut recent_items = 0;
    for value in recent.iter().values() {
        recent_items += search::count_recent(&value?);
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

/// Decodes a record's value; the error if it does not decode.
type RecordCheck = fn(&[u8]) -> Option<String>;

/// What `Store::check` found.
#[derive(Debug, Default)]
pub struct StoreCheck {
    /// Records per known tree.
    pub counts: Vec<(String, usize)>,
    /// One line per problem, naming the tree and key.
    pub problems: Vec<String>,
}

fn decode_err<T: DeserializeOwned>(bytes: &[u8]) -> Option<String> {
    serde_json::from_slice::<T>(bytes)
        .err()
        .map(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens a store that this process has just dropped. sled's background flusher
    /// can hold the store's lock for a moment after the last handle is gone, so a
    /// `Locked` answer is retried for up to five seconds.
    pub(super) fn reopen(dir: &Path) -> Store {
        try_reopen(dir).unwrap()
    }

    /// Opens a just-dropped store with `open`, waiting out sled's lock as [`reopen`].
    fn reopen_with(dir: &Path, open: fn(&Path) -> Result<Store, StoreError>) -> Store {
        try_reopen_with(dir, open).unwrap()
    }

    /// [`reopen`], returning what opening gave.
    fn try_reopen(dir: &Path) -> Result<Store, StoreError> {
        try_reopen_with(dir, Store::open)
    }

    fn try_reopen_with(
        dir: &Path,
        open: fn(&Path) -> Result<Store, StoreError>,
    ) -> Result<Store, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match open(dir) {
                Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn schema_version(store: &Store) -> String {
        let v = store.db.get("schema_version").unwrap().unwrap();
        String::from_utf8(v.to_vec()).unwrap()
    }

    #[test]
    fn printable_keys_show_separators_as_slashes_and_binary_as_hex() {
        assert_eq!(printable_key(b"feed\0v1:g:ab"), "feed/v1:g:ab");
        assert_eq!(printable_key(&[0x00, 0x1f, 0xab]), "001fab");
        assert_eq!(printable_key(&42u64.to_be_bytes()), "000000000000002a");
        assert_eq!(printable_key(b""), "");
        assert_eq!(printable_key(b"room\0\0story"), "726f6f6d000073746f7279");
    }

    #[test]
    fn an_older_schema_is_upgraded_on_open_and_a_newer_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(schema_version(&store), SCHEMA_VERSION.to_string());
        store.db.insert("schema_version", "1").unwrap();
        drop(store);
        let store = reopen(dir.path());
        assert_eq!(schema_version(&store), SCHEMA_VERSION.to_string());
        let newer = (SCHEMA_VERSION + 1).to_string();
        store.db.insert("schema_version", newer.as_bytes()).unwrap();
        drop(store);
        match try_reopen(dir.path()) {
            Err(StoreError::Schema { found }) => assert_eq!(found, SCHEMA_VERSION + 1),
            other => panic!(
                "expected the newer schema to be refused, got {:?}",
                other.err()
            ),
        }
    }

    #[test]
    fn records_of_rooms_no_mode_serves_are_reported_and_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_list("v").unwrap();
        let post = outbox::test_post;
        store
            .enqueue(&[post("#alias:x.org"), post("!room:x.org"), post("console")])
            .unwrap();
        store.subscribe("#alias:x.org", "v").unwrap();
        store.subscribe("console", "v").unwrap();
        let problems = store.check().problems;
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems
                .iter()
                .all(|p| p.contains("\"#alias:x.org\"") && p.contains("--fix"))
        );
        assert_eq!(store.remove_undeliverable().unwrap(), 2);
        assert!(store.check().problems.is_empty());
        assert_eq!(store.outbox().unwrap().len(), 2);
    }

    #[test]
    fn read_only_opens_change_nothing_and_an_older_export_is_upgraded_on_import() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .put_feed(&FeedRecord {
                id: "mine".into(),
                name: "mine".into(),
                url: "https://example.org/feed".into(),
                kind: crate::config::FeedKind::News,
                poll_interval_secs: 60,
                backfill: 0,
                origin: FeedOrigin::Command {
                    room: "!a:x".into(),
                    by: "@u:x".into(),
                    at: Utc::now(),
                },
                shared: false,
            })
            .unwrap();
        store.db.insert("schema_version", "2").unwrap();
        drop(store);
        let old = reopen_with(dir.path(), Store::open_existing);
        assert_eq!(schema_version(&old), "2", "no new schema version");
        assert!(old.all_follows().unwrap().is_empty(), "no upgrade");
        let mut file = Vec::new();
        backup::export(&old, &mut file, |_| {}).unwrap();
        assert!(String::from_utf8_lossy(&file).starts_with("{\"format\""));
        assert!(
            String::from_utf8_lossy(&file)
                .lines()
                .next()
                .unwrap()
                .contains("\"schema\":2")
        );

        let to_dir = tempfile::tempdir().unwrap();
        let new = Store::open(to_dir.path()).unwrap();
        backup::import(&new, || Ok(&file[..]), |_| {}).unwrap();
        assert_eq!(schema_version(&new), SCHEMA_VERSION.to_string());
        let follows = new.all_follows().unwrap();
        assert_eq!(follows.len(), 1, "the import upgraded the records");
        assert_eq!(follows[0].room_id, "!a:x");
    }

    #[test]
    fn a_record_that_does_not_decode_is_quarantined_once_and_the_rest_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_list("v").unwrap();
        store.subscribe("!a:x", "v").unwrap();
        store.subscribe("!b:x", "v").unwrap();
        store
            .subscriptions
            .insert(db::composite("!a:x", "v"), b"{not json".to_vec())
            .unwrap();
        store
            .outbox
            .insert(7u64.to_be_bytes(), b"[]".to_vec())
            .unwrap();
        store.feeds.insert("broken", b"42".to_vec()).unwrap();
        // The check reads without moving anything.
        let problems = store.check().problems;
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert_eq!(store.counts().quarantined, 0);

        let subs = store.all_subscriptions().unwrap();
        assert_eq!(subs.len(), 1, "the good one still reads");
        assert_eq!(subs[0].room_id, "!b:x");
        assert!(store.outbox().unwrap().is_empty());
        assert!(store.command_feeds().unwrap().is_empty());
        assert_eq!(store.counts().quarantined, 3);
        assert_eq!(store.all_subscriptions().unwrap().len(), 1, "moved once");
        let problems = store.check().problems;
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(
            problems.iter().all(|p| p.starts_with("quarantine ")),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("subscriptions/!a:x/v")),
            "{problems:#?}"
        );
    }

    #[test]
    fn a_forgotten_room_loses_what_it_received_and_keeps_what_it_made() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_owned_list("desk", Some("!a:x")).unwrap();
        store.subscribe("!a:x", "desk").unwrap();
        store.subscribe("!b:x", "desk").unwrap();
        store
            .put_follow(&Follow {
                room_id: "!a:x".into(),
                feed_id: "gov".into(),
                mode: FollowMode::All,
                actions: vec![],
                authorities: vec![],
                since: Utc::now(),
            })
            .unwrap();
        let post = outbox::test_post;
        store
            .enqueue(&[post("!a:x"), post("!b:x"), post("!a:x")])
            .unwrap();
        let forgotten = store.forget_room("!a:x").unwrap();
        assert_eq!(
            forgotten,
            RoomForgotten {
                subscriptions: 1,
                follows: 1,
                posts: 2
            }
        );
        assert_eq!(store.outbox().unwrap().len(), 1);
        assert_eq!(store.room_subscriptions("!b:x").unwrap().len(), 1);
        assert_eq!(
            store.list("desk").unwrap().unwrap().owner.as_deref(),
            Some("!a:x")
        );
    }

    #[test]
    fn undeliverable_posts_are_kept_for_a_while_then_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let post = |days_ago: i64| OutboxEntry {
            created: Utc::now() - chrono::Duration::days(days_ago),
            ..outbox::test_post("!a:x")
        };
        store.enqueue(&[post(40), post(2)]).unwrap();
        for (id, entry) in store.outbox().unwrap() {
            store.dead_letter(id, &entry).unwrap();
        }
        assert_eq!(store.counts().dead_letters, 2);
        let month_ago = Utc::now() - chrono::Duration::days(30);
        assert_eq!(store.prune_dead_letters(month_ago).unwrap(), 1);
        assert_eq!(store.counts().dead_letters, 1, "the recent one stays");
    }

    #[test]
    fn second_open_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        match Store::open(dir.path()) {
            Err(StoreError::Locked(_)) => {}
            Err(other) => panic!("expected Locked, got {other}"),
            Ok(_) => panic!("two processes must not share a store"),
        }
    }
}
