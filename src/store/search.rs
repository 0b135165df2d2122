//! Search: a bounded list of recently seen items for `search` (`recent_items`). A
//! fetch's items are kept in a few records of consecutive items, not one record
//! each, encoded before the commit ([`RecentRecords`]) and written by it
//! ([`Store::commit_batch`]); beyond [`RECENT_ITEMS_CAP`] items the oldest fetches
//! are dropped. Schema-1 records of a single item read as they are.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::db::{Store, StoreError, decode, encode};

/// Recent items kept for `search`; the oldest are dropped beyond this.
pub const RECENT_ITEMS_CAP: usize = 20_000;

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
    pub(super) records: Vec<Vec<u8>>,
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
pub(super) fn count_recent(value: &[u8]) -> usize {
    if value.first() == Some(&b'[') {
        serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(value).map_or(0, |items| items.len())
    } else {
        1
    }
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

impl Store {
    /// The most recent items (newest first, at most `limit`) whose words contain
    /// every one of `words` (case-folded tokens), and how many items were scanned.
    pub fn search_recent(
        &self,
        words: &[String],
        limit: usize,
        wanted: impl Fn(&RecentItem) -> bool,
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
                if !wanted(&item) {
                    continue;
                }
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
        self.story_trees.recent_len.load(Ordering::Relaxed)
    }

    /// After a commit that kept `added` items for `search`: counts them, then drops
    /// the oldest fetches' items beyond [`RECENT_ITEMS_CAP`].
    pub(super) fn cap_recent_items(&self, added: usize) -> Result<(), StoreError> {
        let t = &self.story_trees;
        let len = t.recent_len.fetch_add(added, Ordering::Relaxed) + added;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FeedState, ItemBatch};

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
            .search_recent(&["lady".into(), "r".into()], 10, |_| true)
            .unwrap();
        let found: Vec<&str> = found.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(found, ["lady r second", "lady r first", "lady r old"]);
        assert_eq!(scanned, 4);
        let (found, _) = store
            .search_recent(&["lady r".into()], 1, |_| true)
            .unwrap();
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
        let (found, _) = store
            .search_recent(&["fetch1".into()], 10, |_| true)
            .unwrap();
        assert!(found.is_empty(), "the oldest fetches are gone");
        let (found, _) = store
            .search_recent(&["fetch2".into()], 10, |_| true)
            .unwrap();
        assert_eq!(found.len(), 10);
        drop(store);
        let store = crate::store::tests::reopen(dir.path());
        assert_eq!(store.recent_item_count(), RECENT_ITEMS_CAP);
    }
}
