//! The database itself: the [`Store`] handle and its trees, the schema version, the
//! errors, flushing, raw access to whole trees (for backups), and the helpers every
//! record family uses to build keys and encode values. The record families beside
//! it add their accessors in `impl Store` blocks; [`super`] opens the store.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::TransactionError;

/// The store format written by this version.
///
/// - 1: the first.
/// - 2: a report joining a story is stored apart from the story's record
///   (`story_reports`), so it writes only itself, not the whole story again; the
///   items a fetch keeps for `search` are one record, not one each. Schema-1
///   records stay readable as they are: opening a schema-1 store only records the
///   new version, and an older build then refuses the store instead of misreading
///   it.
pub const SCHEMA_VERSION: u32 = 3;

/// Separates the parts of composite keys (`room \0 list`).
pub(super) const SEP: u8 = 0;

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
    /// Records moved to the quarantine because they did not decode.
    pub quarantined: usize,
}

/// The bot's sled store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Store {
    pub(super) db: sled::Db,
    pub(super) path: PathBuf,
    pub(super) feeds: sled::Tree,
    pub(super) feed_state: sled::Tree,
    pub(super) seen: sled::Tree,
    pub(super) lists: sled::Tree,
    pub(super) entries: sled::Tree,
    pub(super) subscriptions: sled::Tree,
    pub(super) follows: sled::Tree,
    pub(super) outbox: sled::Tree,
    pub(super) dead_letters: sled::Tree,
    pub(super) story_trees: StoryTrees,
    /// Records that did not decode, moved out of the way ([`Store::decode_all`]),
    /// keyed by their tree's name and their key.
    pub(super) quarantine: sled::Tree,
    /// The room records (follows, subscriptions, lists, shared feeds) as last read,
    /// and a count of writes to them that tells when to read them again.
    pub(super) rooms_cache: std::sync::Arc<RoomsCache>,
}

/// See [`Store::room_records`].
#[derive(Default)]
pub(super) struct RoomsCache {
    pub(super) writes: std::sync::atomic::AtomicU64,
    /// The last snapshot, with the write count it was read at. Its type belongs to
    /// the follows' family; it is opaque here so that the handle imports no family.
    pub(super) snapshot: std::sync::Mutex<Option<(u64, RoomsSnapshot)>>,
}

/// A snapshot of the room records, as [`RoomsCache`] keeps it.
pub(super) type RoomsSnapshot = std::sync::Arc<dyn std::any::Any + Send + Sync>;

/// The trees of stories, digests and search: stories and their later reports, the
/// post each room got for a story, the links from outbox entries to their stories,
/// the recent items kept for `search`, room settings and waiting digest lines.
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

pub(super) fn composite(a: &str, b: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(a.len() + b.len() + 1);
    key.extend_from_slice(a.as_bytes());
    key.push(SEP);
    key.extend_from_slice(b.as_bytes());
    key
}

pub(super) fn prefix(a: &str) -> Vec<u8> {
    let mut key = a.as_bytes().to_vec();
    key.push(SEP);
    key
}

pub(super) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("store records always serialise")
}

impl Store {
    /// Every record of `tree` (named `name`), decoded, with its key. A record that
    /// does not decode is moved to the quarantine tree and logged (once: it is gone
    /// from `tree` after), so one bad value cannot stop delivery to every room or
    /// every feed; `state check` lists what is there.
    pub(super) fn decode_all<T: DeserializeOwned>(
        &self,
        name: &'static str,
        tree: &sled::Tree,
    ) -> Result<Vec<(sled::IVec, T)>, StoreError> {
        self.decode_tree(name, tree, true)
    }

    /// [`Store::decode_all`] for the read-only checks: a bad record is skipped, not
    /// moved (the check reports it).
    pub(super) fn decode_readable<T: DeserializeOwned>(
        &self,
        name: &'static str,
        tree: &sled::Tree,
    ) -> Vec<T> {
        self.decode_tree(name, tree, false)
            .unwrap_or_default()
            .into_iter()
            .map(|(_, record)| record)
            .collect()
    }

    /// Every record of `tree` that decodes, with its key; `move_bad`: as
    /// [`Store::decode_all`], else a bad record is skipped.
    pub(super) fn decode_tree<T: DeserializeOwned>(
        &self,
        name: &'static str,
        tree: &sled::Tree,
        move_bad: bool,
    ) -> Result<Vec<(sled::IVec, T)>, StoreError> {
        let mut out = Vec::new();
        for kv in tree.iter() {
            let (key, value) = kv?;
            match serde_json::from_slice::<T>(&value) {
                Ok(record) => out.push((key, record)),
                Err(_) if !move_bad => {}
                Err(e) => {
                    let mut moved = name.as_bytes().to_vec();
                    moved.push(SEP);
                    moved.extend_from_slice(&key);
                    self.quarantine.insert(moved, value)?;
                    tree.remove(&key)?;
                    self.rooms_changed();
                    tracing::error!(
                        tree = name, key = %printable_key(&key), error = %e,
                        "a record that cannot be decoded was moved to the quarantine tree; `state check` lists it"
                    );
                }
            }
        }
        Ok(out)
    }
}

pub(super) fn decode<T: DeserializeOwned>(
    tree: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        message: e.to_string(),
    })
}

pub(super) type TxResult<T> = Result<T, TransactionError<()>>;

pub(super) fn tx_error(e: TransactionError<()>) -> StoreError {
    match e {
        TransactionError::Storage(e) => StoreError::Sled(e),
        TransactionError::Abort(()) => StoreError::Corrupt {
            tree: "transaction",
            message: "aborted".into(),
        },
    }
}

impl Store {
    /// The store's schema version (`None` for a new store), refusing one newer than
    /// this build reads. Writes nothing.
    pub(super) fn check_schema(&self) -> Result<Option<u32>, StoreError> {
        match self.db.get("schema_version")? {
            None => Ok(None),
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
                Ok(Some(found))
            }
        }
    }

    /// The schema the store's records are written in (a new store's: the current).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self.check_schema()?.unwrap_or(SCHEMA_VERSION))
    }

    /// Records that the store is now in the current schema (after any upgrade).
    pub(super) fn record_schema(&self) -> Result<(), StoreError> {
        self.db
            .insert("schema_version", SCHEMA_VERSION.to_string().as_bytes())?;
        Ok(())
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
            quarantined: self.quarantine.len(),
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
        self.rooms_changed();
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
}

/// A record as stored: key and value bytes.
pub type RawRecord = (Vec<u8>, Vec<u8>);

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
