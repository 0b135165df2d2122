//! Feed health notices for rooms (off unless `[fetch] failure_notice_after` is set):
//! one when a feed has been failing for longer than that, one when it recovers, one
//! when the server says it is gone. Never one per attempt. They are ordinary outbox
//! entries, so they reach rooms exactly once like posts do.
//!
//! Who is told: the rooms that follow the feed ([`crate::access::FollowBook`]), plus,
//! for a feed added by command, the room it was added in. No other room hears about
//! it.

use std::collections::BTreeSet;

use chrono::Utc;

use crate::access::FollowBook;
use crate::app::App;
use crate::feeds::text::one_line;
use crate::store::new_txn_id;
use crate::store::{FeedOrigin, FeedRecord, FeedState, OutboxEntry};
use crate::summary::html::escape;

/// The rooms that hear about `feed`'s health.
pub fn notice_rooms(app: &App, feed: &FeedRecord) -> Vec<String> {
    let mut rooms: BTreeSet<String> = match FollowBook::read(app) {
        Ok(book) => book
            .followers(app, feed)
            .into_iter()
            .map(|(room, _)| room)
            .collect(),
        Err(e) => {
            tracing::error!(feed = %feed.id, error = %e, "cannot list a feed's followers for a notice");
            BTreeSet::new()
        }
    };
    if let FeedOrigin::Command { room, .. } = &feed.origin {
        rooms.insert(room.clone());
    }
    rooms.into_iter().filter(|room| app.serves(room)).collect()
}

fn entries(app: &App, feed: &FeedRecord, kind: &str, plain: String) -> Vec<OutboxEntry> {
    let html = escape(&plain).replace('\n', "<br>");
    let now = Utc::now();
    notice_rooms(app, feed)
        .into_iter()
        .map(|room_id| OutboxEntry {
            txn_id: new_txn_id(),
            room_id,
            feed_id: feed.id.clone(),
            item_key: format!("notice:{kind}:{}", now.timestamp()),
            plain: plain.clone(),
            html: html.clone(),
            created: now,
            attempts: 0,
            not_before: None,
            last_error: None,
        })
        .collect()
}

/// The notice that `feed` has been failing since `state.failing_since`.
pub fn failing(app: &App, feed: &FeedRecord, state: &FeedState) -> Vec<OutboxEntry> {
    let since = state
        .failing_since
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "a while".into());
    let plain = format!(
        "⚠ Feed {} ({}) has been failing since {since} ({} attempts). Posts from it are delayed until it recovers.\nLast error: {}",
        feed.id,
        feed.name,
        state.consecutive_failures,
        one_line(state.last_error.as_deref().unwrap_or("unknown"), 200),
    );
    entries(app, feed, "failing", plain)
}

/// The notice that `feed` works again.
pub fn recovered(app: &App, feed: &FeedRecord, state: &FeedState) -> Vec<OutboxEntry> {
    let plain = format!(
        "✓ Feed {} ({}) is working again{}.",
        feed.id,
        feed.name,
        state
            .last_success
            .map(|t| format!(" (since {})", t.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default()
    );
    entries(app, feed, "recovered", plain)
}

/// The notice that `feed` was disabled because the server says it is gone.
pub fn disabled(app: &App, feed: &FeedRecord, reason: &str) -> Vec<OutboxEntry> {
    let plain = format!(
        "⚠ Feed {} ({}) is no longer polled: {}.",
        feed.id,
        feed.name,
        one_line(reason, 200)
    );
    entries(app, feed, "disabled", plain)
}
