//! The one commit: everything a fetch (or a poll's bookkeeping) writes about its
//! items goes through [`Store::commit_batch`], in one transaction: the items marked
//! seen, the posts enqueued, the feed's state, and the [`ItemBatch`] of what the
//! items add to stories, story posts, outbox links, search and digests. Either all
//! of it happens or none.

use chrono::Utc;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::db::{Store, StoreError, TxResult, composite, encode, tx_error};
use super::feeds::FeedState;
use super::outbox::{OutboxEntry, OutboxLink};
use super::rooms::DigestLine;
use super::search::RecentRecords;
use super::stories::{StoredReportRef, report_key};
use super::stories::{StoryAddition, StoryPost, StoryRecord};

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

impl ItemBatch {
    /// True if the batch adds nothing: no story, story post, link, search record or
    /// digest line.
    pub fn is_empty(&self) -> bool {
        self.stories.is_empty()
            && self.story_posts.is_empty()
            && self.links.is_empty()
            && self.recent.is_empty()
            && self.digest_lines.is_empty()
    }
}

impl Store {
    /// In one transaction: marks `item_keys` seen, enqueues `posts`, saves the feed
    /// state, and writes `batch` (stories, story posts, links, recent items, digest
    /// lines). Then drops recent items beyond
    /// [`RECENT_ITEMS_CAP`](crate::store::RECENT_ITEMS_CAP). With an empty batch it
    /// writes only the seen items, the posts and the feed state, in a transaction
    /// over those three trees alone.
    pub fn commit_batch(
        &self,
        feed_id: &str,
        item_keys: &[String],
        posts: &[OutboxEntry],
        state: &FeedState,
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
        // Marks the items seen, enqueues the posts and saves the feed state: what
        // every commit writes.
        let write_items = |seen: &TransactionalTree,
                           outbox: &TransactionalTree,
                           feed_state: &TransactionalTree|
         -> Result<(), ConflictableTransactionError<()>> {
            for key in item_keys {
                seen.insert(composite(feed_id, key), now.clone())?;
            }
            for (id, value) in &outbox_values {
                outbox.insert(&id.to_be_bytes(), value.as_slice())?;
            }
            feed_state.insert(feed_id.as_bytes(), state_value.as_slice())?;
            Ok(())
        };
        let t = &self.story_trees;
        let result: TxResult<()> = if batch.is_empty() {
            // A poll's bookkeeping (a 304, a failure, a fetch with nothing new): a
            // transaction over the three trees it writes, not all nine, since sled
            // locks every tree a transaction names.
            (&self.seen, &self.outbox, &self.feed_state)
                .transaction(|(seen, outbox, feed_state)| write_items(seen, outbox, feed_state))
        } else {
            (
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
                        write_items(seen, outbox, feed_state)?;
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
                )
        };
        result.map_err(tx_error)?;
        // Every commit trims the items kept for `search` to the cap: a store can be
        // over it without this commit adding any (a restore, a crash before a trim).
        self.cap_recent_items(batch.recent.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                .commit_batch(
                    "f",
                    &["k1".into(), "k2".into()],
                    &[post("a"), post("b")],
                    &state,
                    &ItemBatch::default(),
                )
                .unwrap();
            store.flush_blocking().unwrap();
        }
        let store = crate::store::tests::reopen(dir.path());
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
}
