//! Follows: which feeds each room hears from, and how (`follows`, keyed by room and
//! feed). A follow in **matches** mode posts an item only when it names a name on
//! one of the room's watchlists; in **all** mode it posts every announcement of the
//! feed, narrowed to the actions and authorities it lists; an **off** record says a
//! room unfollowed a feed it would otherwise follow by default (an operator feed
//! without `followers`). Who follows what by default, and who may follow what, is
//! decided above the store ([`crate::access`]); this file only keeps the records.
//! Also the upgrade of stores written before rooms followed feeds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::db::{Store, StoreError, composite, decode, encode, prefix};
use super::feeds::FeedOrigin;
use super::rooms::Subscription;
use super::watchlists::ListRecord;
pub use crate::config::FollowMode;

/// A room's choice about one feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    /// The room.
    pub room_id: String,
    /// The feed.
    pub feed_id: String,
    /// Matches, all, or off.
    #[serde(default)]
    pub mode: FollowMode,
    /// In all mode, only these actions (`designation`, `delisting`, …); empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    /// In all mode, only these acting authorities (`US`, `EU`, …); empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorities: Vec<String>,
    /// When the room chose this.
    pub since: DateTime<Utc>,
}

/// What decides who gets what, read together: every follow, subscription and list
/// record, and which feeds added by command are shared. Kept in memory by the store
/// and read again after any write to them ([`Store::room_records`]), so the pipeline
/// need not walk four trees for every feed it processes.
#[derive(Debug, Default)]
pub struct RoomRecords {
    /// Every follow record.
    pub follows: Vec<Follow>,
    /// Every subscription.
    pub subscriptions: Vec<Subscription>,
    /// The rooms with at least one subscription.
    pub subscribed_rooms: BTreeSet<String>,
    /// Every list's record (not its entries).
    pub lists: Vec<ListRecord>,
    /// The ids of the feeds added by command that are shared.
    pub shared_feeds: BTreeSet<String>,
}

impl Store {
    /// The room records, from memory unless they were written since they were read.
    pub fn room_records(&self) -> Result<Arc<RoomRecords>, StoreError> {
        let cache = &self.rooms_cache;
        let writes = cache.writes.load(Ordering::SeqCst);
        if let Some((at, records)) = &*cache.snapshot.lock().unwrap_or_else(|p| p.into_inner())
            && *at == writes
            && let Ok(records) = records.clone().downcast::<RoomRecords>()
        {
            return Ok(records);
        }
        // Read after noting the count: a write during the reading makes the next
        // call read again.
        let subscriptions = self.all_subscriptions()?;
        let records = Arc::new(RoomRecords {
            follows: self.all_follows()?,
            subscribed_rooms: subscriptions.iter().map(|s| s.room_id.clone()).collect(),
            subscriptions,
            lists: self.lists()?,
            shared_feeds: self
                .command_feeds()?
                .into_iter()
                .filter(|f| f.shared)
                .map(|f| f.id)
                .collect(),
        });
        *cache.snapshot.lock().unwrap_or_else(|p| p.into_inner()) = Some((writes, records.clone()));
        Ok(records)
    }

    /// Notes a write to the room records. Called after the write: a reader that
    /// noted the count before it then reads again on its next call.
    pub(super) fn rooms_changed(&self) {
        self.rooms_cache.writes.fetch_add(1, Ordering::SeqCst);
    }

    /// Saves a room's follow of a feed, replacing its earlier one.
    pub fn put_follow(&self, follow: &Follow) -> Result<(), StoreError> {
        self.follows
            .insert(composite(&follow.room_id, &follow.feed_id), encode(follow))?;
        self.rooms_changed();
        Ok(())
    }

    /// Forgets a room's follow record of a feed; true if there was one.
    pub fn remove_follow(&self, room_id: &str, feed_id: &str) -> Result<bool, StoreError> {
        let removed = self.follows.remove(composite(room_id, feed_id))?.is_some();
        self.rooms_changed();
        Ok(removed)
    }

    /// A room's follow record of a feed, if it has one.
    pub fn follow_record(
        &self,
        room_id: &str,
        feed_id: &str,
    ) -> Result<Option<Follow>, StoreError> {
        match self.follows.get(composite(room_id, feed_id))? {
            Some(v) => Ok(Some(decode("follows", &v)?)),
            None => Ok(None),
        }
    }

    /// The follow records of a room.
    pub fn room_follows(&self, room_id: &str) -> Result<Vec<Follow>, StoreError> {
        self.follows
            .scan_prefix(prefix(room_id))
            .values()
            .map(|v| decode("follows", &v?))
            .collect()
    }

    /// Every follow record of every room.
    pub fn all_follows(&self) -> Result<Vec<Follow>, StoreError> {
        Ok(self
            .decode_all("follows", &self.follows)?
            .into_iter()
            .map(|(_, f)| f)
            .collect())
    }

    /// Forgets every room's follow record of `feed_id`; returns the records removed.
    pub fn remove_feed_follows(&self, feed_id: &str) -> Result<Vec<Follow>, StoreError> {
        let mut removed = Vec::new();
        for follow in self.all_follows()? {
            if follow.feed_id == feed_id {
                self.remove_follow(&follow.room_id, feed_id)?;
                removed.push(follow);
            }
        }
        Ok(removed)
    }

    /// Moves a room's follows to another room (after a room upgrade).
    pub fn move_follows(&self, from: &str, to: &str) -> Result<usize, StoreError> {
        let follows = self.room_follows(from)?;
        for follow in &follows {
            let mut moved = follow.clone();
            moved.room_id = to.to_string();
            self.put_follow(&moved)?;
            self.remove_follow(from, &follow.feed_id)?;
        }
        Ok(follows.len())
    }

    /// Upgrades a store written before rooms followed feeds (schema 2 and earlier):
    /// each feed added by command is followed, in matches mode, by the room it was
    /// added in, as before; the rooms that also got its posts (every room subscribed
    /// to a watchlist) stop getting them, and the log says which, once. Lists made by
    /// command carry no room in those stores, so they stay operator lists. Returns
    /// the follows created.
    pub(super) fn upgrade_to_room_follows(&self) -> Result<usize, StoreError> {
        let rooms: std::collections::BTreeSet<String> = self
            .all_subscriptions()?
            .into_iter()
            .map(|s| s.room_id)
            .collect();
        let mut created = 0;
        for feed in self.command_feeds()? {
            let FeedOrigin::Command { room, at, .. } = &feed.origin else {
                continue;
            };
            if self.follow_record(room, &feed.id)?.is_none() {
                self.put_follow(&Follow {
                    room_id: room.clone(),
                    feed_id: feed.id.clone(),
                    mode: FollowMode::Matches,
                    actions: Vec::new(),
                    authorities: Vec::new(),
                    since: *at,
                })?;
                created += 1;
            }
            let others: Vec<&str> = rooms
                .iter()
                .filter(|r| *r != room)
                .map(String::as_str)
                .collect();
            if !others.is_empty() {
                tracing::info!(
                    feed = %feed.id, added_in = %room, no_longer_posts_in = %others.join(", "),
                    "store upgrade: a feed added by command now posts only in the room that added it (rooms choose their feeds with `feed follow`)"
                );
            }
        }
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow(room: &str, feed: &str, mode: FollowMode) -> Follow {
        Follow {
            room_id: room.into(),
            feed_id: feed.into(),
            mode,
            actions: vec![],
            authorities: vec![],
            since: Utc::now(),
        }
    }

    #[test]
    fn room_records_are_read_again_after_any_write_to_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = store.room_records().unwrap();
        assert!(Arc::ptr_eq(&first, &store.room_records().unwrap()), "kept");
        store.create_owned_list("desk", Some("!a:x")).unwrap();
        store.subscribe("!a:x", "desk").unwrap();
        store
            .put_follow(&follow("!a:x", "ofac", FollowMode::All))
            .unwrap();
        let now = store.room_records().unwrap();
        assert_eq!(now.lists.len(), 1);
        assert_eq!(now.subscriptions.len(), 1);
        assert!(now.subscribed_rooms.contains("!a:x"));
        assert_eq!(now.follows.len(), 1);
        store.unsubscribe("!a:x", "desk").unwrap();
        assert!(store.room_records().unwrap().subscriptions.is_empty());
        store.remove_follow("!a:x", "ofac").unwrap();
        assert!(store.room_records().unwrap().follows.is_empty());
    }

    #[test]
    fn follows_are_kept_per_room_and_feed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .put_follow(&follow("!a:x", "ofac", FollowMode::All))
            .unwrap();
        store
            .put_follow(&follow("!a:x", "un", FollowMode::Off))
            .unwrap();
        store
            .put_follow(&follow("!ab:x", "ofac", FollowMode::Matches))
            .unwrap();
        assert_eq!(
            store.room_follows("!a:x").unwrap().len(),
            2,
            "prefixes must not leak"
        );
        assert_eq!(
            store.follow_record("!a:x", "ofac").unwrap().unwrap().mode,
            FollowMode::All
        );
        let removed = store.remove_feed_follows("ofac").unwrap();
        assert_eq!(removed.len(), 2);
        assert_eq!(store.all_follows().unwrap().len(), 1);
        assert_eq!(store.move_follows("!a:x", "!c:x").unwrap(), 1);
        assert!(store.room_follows("!a:x").unwrap().is_empty());
        assert_eq!(store.room_follows("!c:x").unwrap()[0].feed_id, "un");
    }
}
