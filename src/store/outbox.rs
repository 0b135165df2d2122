//! The outbox: transaction ids ([`new_txn_id`]), messages waiting for delivery
//! (`outbox`, keyed by a big-endian id, so they are read oldest first), the messages
//! given up on (`outbox_dead`), and
//! the link from an outbox entry to its story (`outbox_story_links`, by transaction
//! id), which delivery uses to remember the event id of a story's first post.
//! Posts and links are enqueued by the one commit ([`Store::commit_batch`]), a
//! digest by [`Store::complete_digest`].

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use super::db::{Store, StoreError, TxResult, composite, decode, encode, tx_error};
use super::stories::StoryPost;
use crate::feeds::identity::push_hex;

/// A fresh transaction id for an outbox entry: chosen before its first attempt and
/// reused on every retry, so the homeserver can tell a retry from a new message.
pub fn new_txn_id() -> String {
    let bytes: [u8; 12] = rand::rng().random();
    let mut id = String::with_capacity(2 + 2 * bytes.len());
    id.push_str("sw");
    push_hex(&mut id, &bytes);
    id
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

impl Store {
    /// Every waiting message, oldest first.
    pub fn outbox(&self) -> Result<Vec<(u64, OutboxEntry)>, StoreError> {
        self.decode_all("outbox", &self.outbox)?
            .into_iter()
            .map(|(k, entry)| {
                let id =
                    u64::from_be_bytes(k.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                        tree: "outbox",
                        message: "bad key".into(),
                    })?);
                Ok((id, entry))
            })
            .collect()
    }

    /// Forgets the messages given up on that were queued before `before`; returns how
    /// many.
    pub fn prune_dead_letters(&self, before: DateTime<Utc>) -> Result<usize, StoreError> {
        let mut pruned = 0;
        for (key, entry) in self.decode_all::<OutboxEntry>("outbox_dead", &self.dead_letters)? {
            if entry.created < before {
                self.dead_letters.remove(key)?;
                pruned += 1;
            }
        }
        Ok(pruned)
    }

    /// Enqueues messages that belong to no item (notices to rooms), in one batch.
    pub fn enqueue(&self, entries: &[OutboxEntry]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for entry in entries {
            batch.insert(&self.db.generate_id()?.to_be_bytes(), encode(entry));
        }
        self.outbox.apply_batch(batch)?;
        Ok(())
    }

    /// Messages waiting for `room`, and messages given up on for it.
    pub fn room_outbox_counts(&self, room: &str) -> Result<(usize, usize), StoreError> {
        let mut counts = [0usize; 2];
        for (slot, tree, name) in [
            (0, &self.outbox, "outbox"),
            (1, &self.dead_letters, "outbox_dead"),
        ] {
            for value in tree.iter().values() {
                let entry: OutboxEntry = decode(name, &value?)?;
                if entry.room_id == room {
                    counts[slot] += 1;
                }
            }
        }
        Ok((counts[0], counts[1]))
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

    /// The story link of an outbox entry, if it has one.
    pub fn outbox_link(&self, txn_id: &str) -> Result<Option<OutboxLink>, StoreError> {
        match self.story_trees.links.get(txn_id.as_bytes())? {
            Some(v) => Ok(Some(decode("outbox_story_links", &v)?)),
            None => Ok(None),
        }
    }

    /// After entry `id` (`txn_id`) was delivered, in one transaction: it leaves the
    /// outbox, a story's first post remembers its event id (so replies can be threaded
    /// under it), and the entry's story link is dropped. A crash cannot leave it
    /// delivered but still queued (it would be sent again and a later reply would lose
    /// its thread) or the reverse: either it is sent again with the same transaction
    /// id and its thread, or not at all.
    pub fn complete_delivery(
        &self,
        id: u64,
        txn_id: &str,
        event_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let t = &self.story_trees;
        let result: TxResult<()> =
            (&self.outbox, &t.links, &t.story_posts).transaction(|(outbox, links, story_posts)| {
                if let Some(v) = links.get(txn_id.as_bytes())? {
                    let link: OutboxLink = serde_json::from_slice(&v)
                        .map_err(|_| ConflictableTransactionError::Abort(()))?;
                    if !link.reply
                        && let Some(event_id) = event_id
                    {
                        let key = composite(&link.room_id, &link.story);
                        let current: Option<StoryPost> = story_posts
                            .get(&key)?
                            .and_then(|v| serde_json::from_slice(&v).ok());
                        if current.is_none_or(|c| c.txn_id == txn_id) {
                            let post = StoryPost {
                                txn_id: txn_id.to_string(),
                                event_id: Some(event_id.to_string()),
                            };
                            story_posts.insert(key, encode(&post))?;
                        }
                    }
                    links.remove(txn_id.as_bytes())?;
                }
                #[cfg(test)]
                if tests::FAIL_BEFORE_DEQUEUE.load(std::sync::atomic::Ordering::SeqCst) {
                    // As if the process died between the two writes.
                    return Err(ConflictableTransactionError::Abort(()));
                }
                outbox.remove(&id.to_be_bytes())?;
                Ok::<(), ConflictableTransactionError<()>>(())
            });
        result.map_err(tx_error)
    }
}

/// A post for `room` with placeholder text, for the store's own tests.
#[cfg(test)]
pub(super) fn test_post(room: &str) -> OutboxEntry {
    OutboxEntry {
        txn_id: new_txn_id(),
        room_id: room.into(),
        feed_id: "f".into(),
        item_key: "k".into(),
        plain: "p".into(),
        html: "p".into(),
        created: Utc::now(),
        attempts: 0,
        not_before: None,
        last_error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failpoint between the story's writes and the entry leaving the outbox.
    pub(super) static FAIL_BEFORE_DEQUEUE: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);

    #[test]
    fn a_delivery_cut_short_is_resent_with_its_transaction_id_and_thread() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let entry = |txn: &str| OutboxEntry {
            txn_id: txn.into(),
            ..test_post("!r:x")
        };
        let link = |reply| OutboxLink {
            room_id: "!r:x".into(),
            story: "s1".into(),
            reply,
        };
        store.enqueue(&[entry("first"), entry("reply")]).unwrap();
        store
            .story_trees
            .links
            .insert("first", encode(&link(false)))
            .unwrap();
        store
            .story_trees
            .links
            .insert("reply", encode(&link(true)))
            .unwrap();
        store
            .story_trees
            .story_posts
            .insert(
                composite("!r:x", "s1"),
                encode(&StoryPost {
                    txn_id: "first".into(),
                    event_id: None,
                }),
            )
            .unwrap();
        let queued = store.outbox().unwrap();

        FAIL_BEFORE_DEQUEUE.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(
            store
                .complete_delivery(queued[0].0, "first", Some("$e1"))
                .is_err()
        );
        FAIL_BEFORE_DEQUEUE.store(false, std::sync::atomic::Ordering::SeqCst);
        drop(store);
        let store = crate::store::tests::reopen(dir.path());
        // Still queued, with the same transaction id and its link: sent again, the
        // homeserver answers with the same event.
        let again = store.outbox().unwrap();
        assert_eq!(again[0].1.txn_id, "first");
        assert!(store.outbox_link("first").unwrap().is_some());
        assert_eq!(
            store.story_post("!r:x", "s1").unwrap().unwrap().event_id,
            None
        );

        store
            .complete_delivery(again[0].0, "first", Some("$e1"))
            .unwrap();
        let rest = store.outbox().unwrap();
        assert_eq!(rest.len(), 1, "the first post left the outbox");
        assert_eq!(
            store
                .story_post("!r:x", "s1")
                .unwrap()
                .unwrap()
                .event_id
                .as_deref(),
            Some("$e1"),
            "the reply finds its thread"
        );
        store
            .complete_delivery(rest[0].0, "reply", Some("$e2"))
            .unwrap();
        assert!(store.outbox().unwrap().is_empty());
        assert!(store.outbox_link("reply").unwrap().is_none());
    }

    #[test]
    fn transaction_ids_are_sw_and_24_lower_case_hex_digits_and_differ() {
        let a = new_txn_id();
        let b = new_txn_id();
        assert_eq!(a.len(), 26, "{a}");
        assert!(a.starts_with("sw"), "{a}");
        assert!(
            a[2..]
                .bytes()
                .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
            "{a}"
        );
        assert_ne!(a, b);
    }
}
