//! Seen items: which items of each feed the bot has seen (`seen`, keyed by feed and
//! item key, valued with when it was first seen). Items are marked seen only by the
//! one commit ([`Store::commit_batch`]), together with the posts they cause;
//! forgetting a feed ([`Store::remove_feed`]) forgets its items.

use super::db::{Store, StoreError, composite};

impl Store {
    /// True if the item was seen in this feed before.
    pub fn is_seen(&self, feed_id: &str, item_key: &str) -> Result<bool, StoreError> {
        Ok(self.seen.contains_key(composite(feed_id, item_key))?)
    }
}
