//! The only owner of sled. One tree per kind of record, typed accessors that speak in
//! the bot's own types (JSON values, so a store can be inspected and exported), the
//! one transaction that marks items seen and enqueues their posts together, and flush.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use crate::config::FeedKind;
use crate::feeds::fetch::Validators;
use crate::watch::WatchEntry;

mod stories;
use stories::StoryTrees;
pub use stories::{
    DigestLine, DigestSetting, ItemBatch, OutboxLink, RECENT_ITEMS_CAP, RecentItem, RecentRecords,
    RoomSettings, StoredReport, StoryAddition, StoryMember, StoryPost, StoryRecord,
};

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

/// Who defined a feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FeedOrigin {
    /// The operator's config file.
    Config,
    /// A `feed add` command.
    Command {
        /// The room it was typed in.
        room: String,
        /// Who typed it.
        by: String,
        /// When.
        at: DateTime<Utc>,
    },
}

/// A feed the bot polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedRecord {
    /// Short stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// URL to poll.
    pub url: String,
    /// Government or news.
    pub kind: FeedKind,
    /// Interval between polls when healthy, in seconds.
    pub poll_interval_secs: u64,
    /// Items to post on the first fetch.
    pub backfill: usize,
    /// Who defined it.
    pub origin: FeedOrigin,
}

/// What the bot knows about a feed's fetches: validators, baseline and health.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedState {
    /// ETag / Last-Modified for conditional GET.
    #[serde(default)]
    pub validators: Validators,
    /// True once a first successful fetch has marked its items seen.
    #[serde(default)]
    pub baselined: bool,
    /// When the last attempt finished.
    pub last_attempt: Option<DateTime<Utc>>,
    /// When the last attempt succeeded (including 304).
    pub last_success: Option<DateTime<Utc>>,
    /// The last error, one line.
    pub last_error: Option<String>,
    /// When the last error happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failures since the last success.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// When the poller will try next.
    pub next_poll: Option<DateTime<Utc>>,
    /// Requests made.
    #[serde(default)]
    pub fetches: u64,
    /// Requests answered 304.
    #[serde(default)]
    pub not_modified: u64,
    /// Bodies parsed.
    #[serde(default)]
    pub parses: u64,
    /// New items found.
    #[serde(default)]
    pub new_items: u64,
    /// Which derivation identifies this feed's items (weakens, never strengthens).
    #[serde(default)]
    pub identity: crate::feeds::identity::IdentityMode,
    /// True once a fetch has recorded every derivation of the feed's items.
    #[serde(default)]
    pub weak_keys_recorded: bool,
    /// When the current run of failures began.
    #[serde(default)]
    pub failing_since: Option<DateTime<Utc>>,
    /// True once rooms were told that this feed is failing (until it recovers).
    #[serde(default)]
    pub failure_notice_sent: bool,
    /// Set when the server said the feed is gone (410); the feed is not polled.
    #[serde(default)]
    pub disabled: Option<FeedDisabled>,
    /// A permanent redirect followed for a config feed: the URL polled instead.
    #[serde(default)]
    pub moved: Option<FeedMoved>,
}

/// Why and when a feed stopped being polled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedDisabled {
    /// The URL that was gone; a feed whose URL changes is polled again.
    pub url: String,
    /// One line saying why.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A permanent redirect remembered for a feed defined in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedMoved {
    /// The URL written in the config; the override applies while it is unchanged.
    pub from: String,
    /// Where the feed lives now.
    pub to: String,
    /// When the redirect was first followed.
    pub at: DateTime<Utc>,
}

/// A message waiting to be delivered to a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Transaction id chosen before the first attempt and reused on every retry.
    pub txn_id: String,
    /// The room (`console` for the terminal).
    pub room_id: String,
    /// The feed the item came from.
    pub feed_id: String,
    /// The item's key.
    pub item_key: String,
    /// Plain-text body.
    pub plain: String,
    /// Sanitised HTML body.
    pub html: String,
    /// When it was enqueued.
    pub created: DateTime<Utc>,
    /// Failed attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Earliest time of the next attempt.
    pub not_before: Option<DateTime<Utc>>,
    /// The last delivery error.
    pub last_error: Option<String>,
}

/// A watchlist's own record (its entries live in their own tree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListRecord {
    /// The list's name.
    pub name: String,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// Hits scoring below this are not reported (none: the engine's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f32>,
}

/// What [`Store::put_entries`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PutEntriesReport {
    /// Entries that were not on the list.
    pub added: usize,
    /// Entries that were there with different contents.
    pub updated: usize,
    /// Entries that were there already, unchanged.
    pub unchanged: usize,
}

/// A room's subscription to a watchlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// The room.
    pub room_id: String,
    /// The list.
    pub list: String,
    /// When the room subscribed: items seen before are not posted to it.
    pub since: DateTime<Utc>,
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

    // ---- feeds ----

    /// Feeds added by command.
    pub fn command_feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        self.feeds
            .iter()
            .values()
            .map(|v| decode("feeds", &v?))
            .collect()
    }

    /// Saves a feed added by command.
    pub fn put_feed(&self, feed: &FeedRecord) -> Result<(), StoreError> {
        self.feeds.insert(feed.id.as_bytes(), encode(feed))?;
        Ok(())
    }

    /// Forgets a feed added by command, with its state and seen items.
    pub fn remove_feed(&self, id: &str) -> Result<bool, StoreError> {
        let existed = self.feeds.remove(id.as_bytes())?.is_some();
        self.feed_state.remove(id.as_bytes())?;
        for key in self.seen.scan_prefix(prefix(id)).keys() {
            self.seen.remove(key?)?;
        }
        Ok(existed)
    }

    /// A feed's fetch state (default when never fetched).
    pub fn feed_state(&self, id: &str) -> Result<FeedState, StoreError> {
        match self.feed_state.get(id.as_bytes())? {
            Some(v) => decode("feed_state", &v),
            None => Ok(FeedState::default()),
        }
    }

    /// Saves a feed's fetch state.
    pub fn put_feed_state(&self, id: &str, state: &FeedState) -> Result<(), StoreError> {
        self.feed_state.insert(id.as_bytes(), encode(state))?;
        Ok(())
    }

    // ---- seen items ----

    /// True if the item was seen in this feed before.
    pub fn is_seen(&self, feed_id: &str, item_key: &str) -> Result<bool, StoreError> {
        Ok(self.seen.contains_key(composite(feed_id, item_key))?)
    }

    /// In one transaction: marks `item_keys` of `feed_id` seen, enqueues `posts`, and
    /// saves the feed's state. Either all of it happens or none.
    pub fn commit_items(
        &self,
        feed_id: &str,
        item_keys: &[String],
        posts: &[OutboxEntry],
        state: &FeedState,
    ) -> Result<(), StoreError> {
        let now = encode(&Utc::now());
        let mut ids = Vec::with_capacity(posts.len());
        for _ in posts {
            ids.push(self.db.generate_id()?);
        }
        let result: TxResult<()> = (&self.seen, &self.outbox, &self.feed_state).transaction(
            |(seen, outbox, feed_state)| {
                for key in item_keys {
                    seen.insert(composite(feed_id, key), now.clone())?;
                }
                for (id, post) in ids.iter().zip(posts) {
                    outbox.insert(&id.to_be_bytes(), encode(post))?;
                }
                feed_state.insert(feed_id.as_bytes(), encode(state))?;
                Ok::<(), ConflictableTransactionError<()>>(())
            },
        );
        result.map_err(tx_error)
    }

    // ---- watchlists ----

    /// All watchlists, by name.
    pub fn lists(&self) -> Result<Vec<ListRecord>, StoreError> {
        self.lists
            .iter()
            .values()
            .map(|v| decode("watchlists", &v?))
            .collect()
    }

    /// True if the list exists.
    pub fn list_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.lists.contains_key(name.as_bytes())?)
    }

    /// Creates a list if missing; true if it was created.
    pub fn create_list(&self, name: &str) -> Result<bool, StoreError> {
        let record = ListRecord {
            name: name.to_string(),
            created: Utc::now(),
            threshold: None,
        };
        let previous = self.lists.compare_and_swap(
            name.as_bytes(),
            None as Option<&[u8]>,
            Some(encode(&record)),
        )?;
        Ok(previous.is_ok())
    }

    /// One list's record.
    pub fn list(&self, name: &str) -> Result<Option<ListRecord>, StoreError> {
        match self.lists.get(name.as_bytes())? {
            Some(v) => Ok(Some(decode("watchlists", &v)?)),
            None => Ok(None),
        }
    }

    /// Sets (or, with `None`, clears) a list's threshold; creates the list if needed.
    pub fn set_list_threshold(&self, name: &str, threshold: Option<f32>) -> Result<(), StoreError> {
        self.create_list(name)?;
        let mut record = self.list(name)?.expect("just created");
        record.threshold = threshold;
        self.lists.insert(name.as_bytes(), encode(&record))?;
        Ok(())
    }

    /// Adds or replaces many entries (by id) of a list in one batch, creating the list
    /// if needed. Entries already stored unchanged are not rewritten.
    pub fn put_entries(
        &self,
        list: &str,
        entries: &[WatchEntry],
    ) -> Result<PutEntriesReport, StoreError> {
        self.create_list(list)?;
        let mut report = PutEntriesReport::default();
        let mut batch = sled::Batch::default();
        for entry in entries {
            let key = composite(list, &entry.id);
            let value = encode(entry);
            match self.entries.get(&key)? {
                Some(old) if old.as_ref() == value.as_slice() => report.unchanged += 1,
                Some(_) => {
                    report.updated += 1;
                    batch.insert(key, value);
                }
                None => {
                    report.added += 1;
                    batch.insert(key, value);
                }
            }
        }
        self.entries.apply_batch(batch)?;
        Ok(report)
    }

    /// The entries of a list, by id.
    pub fn entries(&self, list: &str) -> Result<Vec<WatchEntry>, StoreError> {
        self.entries
            .scan_prefix(prefix(list))
            .values()
            .map(|v| decode("watch_entries", &v?))
            .collect()
    }

    /// Number of entries in a list.
    pub fn entry_count(&self, list: &str) -> usize {
        self.entries.scan_prefix(prefix(list)).count()
    }

    /// Adds or replaces an entry (by id); creates the list if needed. True if new.
    pub fn put_entry(&self, list: &str, entry: &WatchEntry) -> Result<bool, StoreError> {
        self.create_list(list)?;
        Ok(self
            .entries
            .insert(composite(list, &entry.id), encode(entry))?
            .is_none())
    }

    /// Removes an entry by id; returns it if it existed.
    pub fn remove_entry(
        &self,
        list: &str,
        entry_id: &str,
    ) -> Result<Option<WatchEntry>, StoreError> {
        match self.entries.remove(composite(list, entry_id))? {
            Some(v) => Ok(Some(decode("watch_entries", &v)?)),
            None => Ok(None),
        }
    }

    // ---- subscriptions ----

    /// Subscribes a room to a list; false if it already was.
    pub fn subscribe(&self, room_id: &str, list: &str) -> Result<bool, StoreError> {
        let sub = Subscription {
            room_id: room_id.to_string(),
            list: list.to_string(),
            since: Utc::now(),
        };
        let previous = self.subscriptions.compare_and_swap(
            composite(room_id, list),
            None as Option<&[u8]>,
            Some(encode(&sub)),
        )?;
        Ok(previous.is_ok())
    }

    /// Unsubscribes; false if it was not subscribed.
    pub fn unsubscribe(&self, room_id: &str, list: &str) -> Result<bool, StoreError> {
        Ok(self
            .subscriptions
            .remove(composite(room_id, list))?
            .is_some())
    }

    /// The lists a room subscribes to.
    pub fn room_subscriptions(&self, room_id: &str) -> Result<Vec<Subscription>, StoreError> {
        self.subscriptions
            .scan_prefix(prefix(room_id))
            .values()
            .map(|v| decode("subscriptions", &v?))
            .collect()
    }

    /// Every subscription of every room.
    pub fn all_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        self.subscriptions
            .iter()
            .values()
            .map(|v| decode("subscriptions", &v?))
            .collect()
    }

    /// Moves a room's subscriptions to another room (after a room upgrade).
    pub fn move_subscriptions(&self, from: &str, to: &str) -> Result<usize, StoreError> {
        let subs = self.room_subscriptions(from)?;
        for sub in &subs {
            self.subscribe(to, &sub.list)?;
            self.unsubscribe(from, &sub.list)?;
        }
        Ok(subs.len())
    }

    // ---- outbox ----

    /// Every waiting message, oldest first.
    pub fn outbox(&self) -> Result<Vec<(u64, OutboxEntry)>, StoreError> {
        self.outbox
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                let id =
                    u64::from_be_bytes(k.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                        tree: "outbox",
                        message: "bad key".into(),
                    })?);
                Ok((id, decode("outbox", &v)?))
            })
            .collect()
    }

    /// Saves an updated outbox entry (after a failed attempt).
    pub fn update_outbox(&self, id: u64, entry: &OutboxEntry) -> Result<(), StoreError> {
        self.outbox.insert(id.to_be_bytes(), encode(entry))?;
        Ok(())
    }

    /// Removes a delivered entry.
    pub fn remove_outbox(&self, id: u64) -> Result<(), StoreError> {
        self.outbox.remove(id.to_be_bytes())?;
        Ok(())
    }

    /// Moves an undeliverable entry to the dead-letter tree.
    pub fn dead_letter(&self, id: u64, entry: &OutboxEntry) -> Result<(), StoreError> {
        let result: TxResult<()> =
            (&self.outbox, &self.dead_letters).transaction(|(outbox, dead)| {
                outbox.remove(&id.to_be_bytes())?;
                dead.insert(&id.to_be_bytes(), encode(entry))?;
                Ok::<(), ConflictableTransactionError<()>>(())
            });
        result.map_err(tx_error)
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
    use crate::watch::EntryKind;

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

    fn post(room: &str) -> OutboxEntry {
        OutboxEntry {
            txn_id: "t1".into(),
            room_id: room.into(),
            feed_id: "f".into(),
            item_key: "v1:g:x".into(),
            plain: "p".into(),
            html: "h".into(),
            created: Utc::now(),
            attempts: 0,
            not_before: None,
            last_error: None,
        }
    }

    #[test]
    fn commit_marks_seen_and_enqueues_together_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let state = FeedState {
                baselined: true,
                ..Default::default()
            };
            store
                .commit_items(
                    "f",
                    &["k1".into(), "k2".into()],
                    &[post("a"), post("b")],
                    &state,
                )
                .unwrap();
            store.flush_blocking().unwrap();
        }
        let store = reopen(dir.path());
        assert!(store.is_seen("f", "k1").unwrap() && store.is_seen("f", "k2").unwrap());
        assert!(!store.is_seen("g", "k1").unwrap(), "seen is per feed");
        let outbox = store.outbox().unwrap();
        assert_eq!(
            outbox
                .iter()
                .map(|(_, e)| e.room_id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(outbox[0].0 < outbox[1].0);
        assert!(store.feed_state("f").unwrap().baselined);
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

    #[test]
    fn watchlists_and_subscriptions_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let entry = WatchEntry::new("Lady R", EntryKind::Vessel, vec![]);
        assert!(store.put_entry("vessels", &entry).unwrap());
        assert!(!store.put_entry("vessels", &entry).unwrap());
        assert_eq!(store.entries("vessels").unwrap(), vec![entry.clone()]);
        assert!(
            store.entries("vessel").unwrap().is_empty(),
            "prefixes must not leak"
        );
        assert!(store.subscribe("!r:x", "vessels").unwrap());
        assert!(!store.subscribe("!r:x", "vessels").unwrap());
        assert_eq!(store.move_subscriptions("!r:x", "!s:x").unwrap(), 1);
        assert!(store.room_subscriptions("!r:x").unwrap().is_empty());
        assert_eq!(store.room_subscriptions("!s:x").unwrap()[0].list, "vessels");
        assert_eq!(
            store.remove_entry("vessels", "lady-r").unwrap(),
            Some(entry)
        );
    }

    #[test]
    fn removing_a_feed_forgets_its_items() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .commit_items("f", &["k".into()], &[], &FeedState::default())
            .unwrap();
        store
            .commit_items("f2", &["k".into()], &[], &FeedState::default())
            .unwrap();
        store.remove_feed("f").unwrap();
        assert!(!store.is_seen("f", "k").unwrap());
        assert!(store.is_seen("f2", "k").unwrap());
    }
}
