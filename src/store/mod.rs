//! The only owner of sled. One tree per kind of record, typed accessors that speak in
//! the bot's own types (JSON values, so a store can be inspected and exported), the
//! one transaction that marks items seen and enqueues their posts together, and flush.
//!
//! This file holds the store itself: opening it (refusing a store in use or written
//! by a newer schema), flushing, the helpers every record family uses to build keys
//! and encode values, and whole-store access for `status`, backups and `state
//! check`. Each family of records has its own file beside it, with its types and an
//! `impl Store` block of its accessors: feeds, seen items, watchlists, rooms
//! (subscriptions, settings and digests), the outbox, stories, search, and the one
//! commit that writes what a fetch adds. Every public type is re-exported here.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::TransactionError;

use crate::watch::WatchEntry;

mod commit;
mod feeds;
mod outbox;
mod rooms;
mod search;
mod seen;
mod stories;
mod watchlists;

pub use commit::ItemBatch;
pub use feeds::{FeedDisabled, FeedMoved, FeedOrigin, FeedRecord, FeedState};
pub use outbox::{OutboxEntry, OutboxLink};
pub use rooms::{DigestLine, DigestSetting, RoomSettings, Subscription};
pub use search::{RECENT_ITEMS_CAP, RecentItem, RecentRecords};
pub use stories::{StoredReport, StoryAddition, StoryMember, StoryPost, StoryRecord};
pub use watchlists::{ListRecord, PutEntriesReport};

/// The store format written by this version.
///
/// - 1: the first.
/// - 2: a report joining a story is stored apart from the story's record
///   (`story_reports`), so it writes only itself, not the whole story again; the
///   items a fetch keeps for `search` are one record, not one each. Schema-1
///   records stay readable as they are: opening a schema-1 store only records the
///   new version, and an older build then refuses the store instead of misreading
///   it.
pub const SCHEMA_VERSION: u32 = 2;

/// Separates the parts of composite keys (`room \0 list`).
const SEP: u8 = 0;

/// A store problem.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process has the store open.
    #[error("the store at {0} is in use by another sanctions-watch process")]
    Locked(PathBuf),
    /// No store exists where one was expected.
    #[error("there is no store at {0}")]
    Missing(PathBuf),
    /// sled failed.
    #[error("store error: {0}")]
    Sled(#[from] sled::Error),
    /// A record could not be decoded.
    #[error("corrupt record in tree {tree}: {message}")]
    Corrupt {
        /// Which tree.
        tree: &'static str,
        /// The decoding error.
        message: String,
    },
    /// The store was written by a newer, incompatible version.
    #[error("the store has schema version {found}; this build understands up to {SCHEMA_VERSION}")]
    Schema {
        /// The version found.
        found: u32,
    },
}

/// Counts shown by `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreCounts {
    /// Items remembered as seen.
    pub seen_items: usize,
    /// Messages waiting for delivery.
    pub outbox: usize,
    /// Messages given up on.
    pub dead_letters: usize,
    /// Watchlists.
    pub watchlists: usize,
    /// Watchlist entries.
    pub entries: usize,
}

/// The bot's sled store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    path: PathBuf,
    feeds: sled::Tree,
    feed_state: sled::Tree,
    seen: sled::Tree,
    lists: sled::Tree,
    entries: sled::Tree,
    subscriptions: sled::Tree,
    outbox: sled::Tree,
    dead_letters: sled::Tree,
    story_trees: StoryTrees,
}

/// The trees of stories, digests and search: stories and their later reports, the
/// post each room got for a story, the links from outbox entries to their stories,
/// the recent items kept for `search`, room settings and waiting digest lines.
#[derive(Clone)]
struct StoryTrees {
    stories: sled::Tree,
    story_reports: sled::Tree,
    story_posts: sled::Tree,
    links: sled::Tree,
    recent: sled::Tree,
    /// About how many items `recent` holds: counted once at open, then kept up to
    /// date by [`Store::commit_batch`] (sled counts a tree by walking all of it).
    /// Writers that bypass it (a restore) are counted at the next open.
    recent_len: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    settings: sled::Tree,
    digest_lines: sled::Tree,
}

impl StoryTrees {
    fn open(db: &sled::Db) -> Result<StoryTrees, StoreError> {
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
}

fn composite(a: &str, b: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(a.len() + b.len() + 1);
    key.extend_from_slice(a.as_bytes());
    key.push(SEP);
    key.extend_from_slice(b.as_bytes());
    key
}

fn prefix(a: &str) -> Vec<u8> {
    let mut key = a.as_bytes().to_vec();
    key.push(SEP);
    key
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("store records always serialise")
}

fn decode<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        message: e.to_string(),
    })
}

type TxResult<T> = Result<T, TransactionError<()>>;

fn tx_error(e: TransactionError<()>) -> StoreError {
    match e {
        TransactionError::Storage(e) => StoreError::Sled(e),
        TransactionError::Abort(()) => StoreError::Corrupt {
            tree: "transaction",
            message: "aborted".into(),
        },
    }
}

impl Store {
    /// Opens (or creates) the store under `data_dir/sled`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join("sled");
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Sled(e.into()))?;
        let db = sled::Config::new()
            .path(&path)
            // sled's default page cache is a gigabyte. The bot's working set (feed
            // states, the seen marks being checked, the outbox) is small: the
            // recent stories are kept decoded in memory anyway, and search reads
            // the recent items rarely. The whole bot should stay within 40 MB
            // resident.
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
            outbox: db.open_tree("outbox")?,
            dead_letters: db.open_tree("outbox_dead")?,
            story_trees: StoryTrees::open(&db)?,
            db,
            path,
        };
        store.check_schema()?;
        Ok(store)
    }

    /// Opens a store that must already exist (for `state check` and `state export`):
    /// never creates one by accident.
    pub fn open_existing(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join("sled");
        if !path.join("conf").exists() {
            return Err(StoreError::Missing(path));
        }
        Store::open(data_dir)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        match self.db.get("schema_version")? {
            None => {
                self.db
                    .insert("schema_version", SCHEMA_VERSION.to_string().as_bytes())?;
                Ok(())
            }
            Some(v) => {
                let found: u32 = std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| StoreError::Corrupt {
                        tree: "meta",
                        message: "unreadable schema_version".into(),
                    })?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::Schema { found });
                }
                if found < SCHEMA_VERSION {
                    tracing::info!(
                        from = found,
                        to = SCHEMA_VERSION,
                        "store format upgraded (earlier records are read as they are)"
                    );
                    self.db
                        .insert("schema_version", SCHEMA_VERSION.to_string().as_bytes())?;
                }
                Ok(())
            }
        }
    }

    /// Where the sled files are.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes everything to disk.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }

    /// Writes everything to disk, blocking.
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Counts for `status`.
    pub fn counts(&self) -> StoreCounts {
        StoreCounts {
            seen_items: self.seen.len(),
            outbox: self.outbox.len(),
            dead_letters: self.dead_letters.len(),
            watchlists: self.lists.len(),
            entries: self.entries.len(),
        }
    }

    // ---- whole-store access, for backups and checks ----

    /// Names of every tree that holds records (sled's default tree is `__sled__default`).
    pub fn tree_names(&self) -> Vec<String> {
        self.db
            .tree_names()
            .into_iter()
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .collect()
    }

    /// Every record of `tree`, in key order, as raw bytes.
    pub fn raw_records(&self, tree: &str) -> Result<Vec<RawRecord>, StoreError> {
        let tree = self.db.open_tree(tree)?;
        tree.iter()
            .map(|kv| {
                let (k, v) = kv?;
                Ok((k.to_vec(), v.to_vec()))
            })
            .collect()
    }

    /// Writes one raw record (restoring a backup). Bypasses the typed accessors on
    /// purpose: a backup restores exactly what was exported.
    pub fn insert_raw(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.db.open_tree(tree)?.insert(key, value)?;
        Ok(())
    }

    /// True if no tree holds a record except the schema version.
    pub fn is_empty(&self) -> bool {
        self.db
            .tree_names()
            .into_iter()
            .all(|name| match self.db.open_tree(&name) {
                Ok(tree) => tree
                    .iter()
                    .keys()
                    .all(|k| k.is_ok_and(|k| k.as_ref() == b"schema_version")),
                Err(_) => false,
            })
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
        let decoders: [(&str, &sled::Tree, RecordCheck); 10] = [
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
        let lists: Vec<String> = self
            .lists()
            .unwrap_or_default()
            .into_iter()
            .map(|l| l.name)
            .collect();
        for sub in self.all_subscriptions().unwrap_or_default() {
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
        let day_ago = Utc::now() - chrono::Duration::days(1);
        for (id, entry) in self.outbox().unwrap_or_default() {
            if entry.created < day_ago {
                problem(
                    "outbox",
                    &id.to_be_bytes(),
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

/// A record as stored: key and value bytes.
pub type RawRecord = (Vec<u8>, Vec<u8>);

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

/// A key for messages: text with separators shown as `/`, or hex if not text. A
/// separator only ever joins two non-empty parts, so a binary key (a big-endian id,
/// which starts with zero bytes) that happens to be valid UTF-8 still shows as hex.
pub fn printable_key(key: &[u8]) -> String {
    let is_text = |s: &str| {
        !s.chars().any(|c| c.is_control() && c != '\u{0}')
            && s.split('\u{0}').all(|part| !part.is_empty())
    };
    match std::str::from_utf8(key) {
        Ok(s) if is_text(s) => s.replace('\u{0}', "/"),
        _ => crate::feeds::identity::hex(key),
    }
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

    /// [`reopen`], returning what opening gave.
    fn try_reopen(dir: &Path) -> Result<Store, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match Store::open(dir) {
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
