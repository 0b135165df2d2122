//! Feeds: the record of each feed added by command (`feeds`, by id: its room owns
//! it, and may share it with other rooms), and every
//! feed's fetch state (`feed_state`: validators, baseline, health, identity mode,
//! and whether it is gone or has moved). Forgetting a feed forgets its seen items
//! too. A fetch saves its feed's state in the one commit ([`Store::commit_batch`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::db::{Store, StoreError, decode, encode, prefix};
use crate::config::FeedKind;
use crate::feeds::fetch::Validators;

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
    /// For a feed added by command: true when its room lets other rooms follow it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
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

impl Store {
    /// Feeds added by command.
    pub fn command_feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        Ok(self
            .decode_all("feeds", &self.feeds)?
            .into_iter()
            .map(|(_, f)| f)
            .collect())
    }

    /// Saves a feed added by command.
    pub fn put_feed(&self, feed: &FeedRecord) -> Result<(), StoreError> {
        self.feeds.insert(feed.id.as_bytes(), encode(feed))?;
        self.rooms_changed();
        Ok(())
    }

    /// Forgets a feed added by command, with its state, seen items and every room's
    /// follow of it.
    pub fn remove_feed(&self, id: &str) -> Result<bool, StoreError> {
        let existed = self.feeds.remove(id.as_bytes())?.is_some();
        self.remove_feed_follows(id)?;
        self.feed_state.remove(id.as_bytes())?;
        for key in self.seen.scan_prefix(prefix(id)).keys() {
            self.seen.remove(key?)?;
        }
        self.rooms_changed();
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ItemBatch;

    #[test]
    fn removing_a_feed_forgets_its_items() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let nothing_else = ItemBatch::default();
        store
            .commit_batch(
                "f",
                &["k".into()],
                &[],
                &FeedState::default(),
                &nothing_else,
            )
            .unwrap();
        store
            .commit_batch(
                "f2",
                &["k".into()],
                &[],
                &FeedState::default(),
                &nothing_else,
            )
            .unwrap();
        store.remove_feed("f").unwrap();
        assert!(!store.is_seen("f", "k").unwrap());
        assert!(store.is_seen("f2", "k").unwrap());
    }
}
