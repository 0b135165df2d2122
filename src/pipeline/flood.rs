//! The flood guard: one poll of a feed gives a room at most `[limits] posts_per_poll`
//! posts; the rest are summed up in one post that says how many more there were,
//! names the latest few, and says how to find them with `search`. Nothing is lost:
//! every item is still marked seen, kept for `search` and placed in its story.

use std::collections::BTreeMap;

use chrono::Utc;

use crate::feeds::text::one_line;
use crate::store::{FeedRecord, OutboxEntry, new_txn_id};
use crate::summary::html::escape;

/// Titles of held-back items named in the summary post.
const NAMED: usize = 3;

/// Counts each room's posts in one poll of one feed.
pub struct FloodGuard {
    limit: usize,
    rooms: BTreeMap<String, RoomCount>,
}

#[derive(Default)]
struct RoomCount {
    posted: usize,
    held: Vec<String>,
}

impl FloodGuard {
    /// A guard letting `limit` posts per room through.
    pub fn new(limit: usize) -> FloodGuard {
        FloodGuard {
            limit,
            rooms: BTreeMap::new(),
        }
    }

    /// True if `room` may get one more post (counted); false if it is held back.
    pub fn admit(&mut self, room: &str, title: &str) -> bool {
        let count = self.rooms.entry(room.to_string()).or_default();
        if count.posted < self.limit {
            count.posted += 1;
            true
        } else {
            count.held.push(title.to_string());
            false
        }
    }

    /// One post per room that had items held back.
    pub fn summaries(self, feed: &FeedRecord) -> Vec<OutboxEntry> {
        let now = Utc::now();
        self.rooms
            .into_iter()
            .filter(|(_, count)| !count.held.is_empty())
            .map(|(room, count)| {
                let n = count.held.len();
                let latest: Vec<String> = count
                    .held
                    .iter()
                    .rev()
                    .take(NAMED)
                    .map(|t| format!("“{}”", one_line(t, 120)))
                    .collect();
                let plain = format!(
                    "…and {n} more new item{} from {} in this poll, not posted one by one to keep the room readable (the first {} were). The latest: {}. Find any of them with `search <words>`.",
                    if n == 1 { "" } else { "s" },
                    feed.name,
                    count.posted,
                    latest.join("; "),
                );
                OutboxEntry {
                    txn_id: new_txn_id(),
                    room_id: room,
                    feed_id: feed.id.clone(),
                    item_key: format!("flood:{}", now.timestamp_micros()),
                    html: escape(&plain),
                    plain,
                    created: now,
                    attempts: 0,
                    not_before: None,
                    last_error: None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_gets_the_limit_then_one_summary() {
        let mut guard = FloodGuard::new(2);
        let admitted: Vec<bool> = (0..5)
            .map(|i| guard.admit("!a:x", &format!("Item {i}")))
            .collect();
        assert_eq!(admitted, [true, true, false, false, false]);
        assert!(guard.admit("!b:x", "Other room"));
        let feed = FeedRecord {
            id: "f".into(),
            name: "Feed F".into(),
            url: "https://example.org/f".into(),
            kind: crate::config::FeedKind::Government,
            poll_interval_secs: 60,
            backfill: 0,
            origin: crate::store::FeedOrigin::Config,
            shared: false,
        };
        let summaries = guard.summaries(&feed);
        assert_eq!(summaries.len(), 1, "only the flooded room gets a summary");
        assert_eq!(summaries[0].room_id, "!a:x");
        assert!(
            summaries[0]
                .plain
                .starts_with("…and 3 more new items from Feed F")
        );
        assert!(summaries[0].plain.contains("“Item 4”; “Item 3”; “Item 2”"));
    }
}
