//! Delivery from the outbox to rooms. [`RoomSink`] is what a room transport
//! ([`crate::rooms::console`], [`crate::rooms::matrix`]) implements to deliver a
//! message; [`run_delivery`]
//! drains the persistent outbox through it, in order per room, retrying failures with
//! backoff and reusing each entry's transaction id, so nothing is lost or doubled.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::app::App;
use crate::store::{OutboxEntry, StoreError};

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Try again later (network, 5xx, rate limit); `after` is what the server asked.
    Retry {
        /// Server-requested wait.
        after: Option<Duration>,
        /// What happened.
        reason: String,
    },
    /// Will never succeed (the room is gone, the bot was banned).
    Permanent(String),
    /// Failed on this side (the SDK's crypto or state store), not the homeserver's:
    /// retried with backoff at most [`LOCAL_ERROR_ATTEMPTS`] times, then given up, so
    /// one broken entry cannot block its room forever.
    Local(String),
}

/// Attempts an entry gets when its sends fail on this side ([`SendError::Local`]).
pub const LOCAL_ERROR_ATTEMPTS: u32 = 8;

/// An "also reported by" reply belongs under its story's first post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRoot {
    /// The event id of the story's first post in this room, once delivered (a
    /// transport without event ids, like the console, has none).
    pub event_id: Option<String>,
}

/// A transport that can deliver outbox entries to the rooms it serves.
pub trait RoomSink: Send + Sync + 'static {
    /// True if this transport delivers to `room_id`.
    fn serves(&self, room_id: &str) -> bool;
    /// Delivers one entry, using `entry.txn_id` so a repeat is recognised; `thread`
    /// is set for a reply under a story's post. Returns the delivered event's id
    /// when the transport has one.
    fn send(
        &self,
        entry: &OutboxEntry,
        thread: Option<&ThreadRoot>,
    ) -> impl Future<Output = Result<Option<String>, SendError>> + Send;
}

/// Where a reply entry goes, if `entry` is one.
fn thread_root(app: &App, entry: &OutboxEntry) -> Result<Option<ThreadRoot>, StoreError> {
    let Some(link) = app.store.outbox_link(&entry.txn_id)? else {
        return Ok(None);
    };
    if !link.reply {
        return Ok(None);
    }
    let event_id = app
        .store
        .story_post(&link.room_id, &link.story)?
        .and_then(|p| p.event_id);
    Ok(Some(ThreadRoot { event_id }))
}

/// Wait before retry number `attempts` (1-based): 1 s doubling to 5 min.
pub fn retry_delay(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.saturating_sub(1).min(8)).min(Duration::from_secs(300))
}

/// Delivers outbox entries through `sink` until `shutdown`. A send in progress when
/// shutdown comes is allowed to finish; nothing new starts after it.
pub async fn run_delivery<S: RoomSink>(
    app: Arc<App>,
    sink: Arc<S>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut pruned_at: Option<std::time::Instant> = None;
    loop {
        if pruned_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
            prune_dead_letters(&app);
            pruned_at = Some(std::time::Instant::now());
        }
        let next_wake = deliver_due(&app, sink.as_ref(), &shutdown).await;
        if *shutdown.borrow() {
            break;
        }
        let sleep = next_wake.unwrap_or(Duration::from_secs(60));
        tokio::select! {
            _ = shutdown.changed() => {}
            _ = app.outbox_changed.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Forgets the posts given up on longer ago than `keep_undeliverable` (hourly).
fn prune_dead_letters(app: &App) {
    let keep =
        chrono::Duration::from_std(app.config.keep_undeliverable).unwrap_or(chrono::Duration::MAX);
    let Some(before) = Utc::now().checked_sub_signed(keep) else {
        return;
    };
    match app.store.prune_dead_letters(before) {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            pruned = n,
            "undeliverable posts older than keep_undeliverable forgotten"
        ),
        Err(e) => tracing::error!(error = %e, "cannot prune undeliverable posts"),
    }
}

/// One pass over the outbox. Returns how long until the earliest postponed entry.
async fn deliver_due<S: RoomSink>(
    app: &App,
    sink: &S,
    shutdown: &watch::Receiver<bool>,
) -> Option<Duration> {
    match crate::digest::enqueue_due(app, Utc::now()) {
        Ok(0) => {}
        Ok(n) => tracing::info!(digests = n, "daily digests enqueued"),
        Err(e) => tracing::error!(error = %e, "cannot prepare daily digests"),
    }
    let entries = match app.store.outbox() {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the outbox");
            return Some(Duration::from_secs(5));
        }
    };
    let mut flushed = false;
    let mut blocked_rooms: HashSet<String> = HashSet::new();
    let mut next_wake: Option<Duration> = None;
    let mut wake_in = |d: Duration| next_wake = Some(next_wake.map_or(d, |w: Duration| w.min(d)));
    for (id, mut entry) in entries {
        if *shutdown.borrow() {
            break;
        }
        if !sink.serves(&entry.room_id) || blocked_rooms.contains(&entry.room_id) {
            continue;
        }
        let now = Utc::now();
        if let Some(not_before) = entry.not_before
            && not_before > now
        {
            // Keep the room's order: nothing after a postponed entry goes first.
            blocked_rooms.insert(entry.room_id.clone());
            wake_in((not_before - now).to_std().unwrap_or_default());
            continue;
        }
        let thread = match thread_root(app, &entry) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the story of an outbox entry");
                None
            }
        };
        // Whatever is sent is on disk first: a post sent, then lost from the store
        // by a crash, would be composed again with a new transaction id and sent
        // twice. One flush before the first send of a pass covers every post
        // enqueued since, so the pipeline need not wait for the disk after each feed.
        if !flushed {
            if let Err(e) = app.store.flush().await {
                tracing::error!(error = %e, "cannot flush the store; not sending until it can");
                return Some(Duration::from_secs(5));
            }
            flushed = true;
        }
        let result = sink.send(&entry, thread.as_ref()).await;
        let saved = match result {
            Ok(event_id) => {
                tracing::debug!(room = %entry.room_id, txn = %entry.txn_id, "delivered");
                app.metrics
                    .record_post_sent((Utc::now() - entry.created).to_std().unwrap_or_default());
                app.store
                    .complete_delivery(id, &entry.txn_id, event_id.as_deref())
            }
            Err(SendError::Retry { after, reason }) => {
                entry.attempts += 1;
                app.metrics.record_post_failed();
                let wait = after.unwrap_or_default().max(retry_delay(entry.attempts));
                tracing::warn!(room = %entry.room_id, attempts = entry.attempts, retry_in = ?wait, error = %reason, "delivery failed; will retry");
                entry.last_error = Some(reason);
                entry.not_before = Some(now + chrono::Duration::from_std(wait).unwrap_or_default());
                blocked_rooms.insert(entry.room_id.clone());
                wake_in(wait);
                app.store.update_outbox(id, &entry)
            }
            Err(SendError::Permanent(reason)) => {
                tracing::error!(room = %entry.room_id, error = %reason, "delivery impossible; moved to dead letters");
                app.metrics.record_post_dead();
                entry.last_error = Some(reason);
                app.store.dead_letter(id, &entry)
            }
            Err(SendError::Local(reason)) if entry.attempts + 1 >= LOCAL_ERROR_ATTEMPTS => {
                entry.attempts += 1;
                tracing::error!(room = %entry.room_id, attempts = entry.attempts, error = %reason, "delivery keeps failing on this side (not the homeserver's answer); given up, moved to dead letters");
                app.metrics.record_post_failed();
                app.metrics.record_post_dead();
                entry.last_error = Some(reason);
                app.store.dead_letter(id, &entry)
            }
            Err(SendError::Local(reason)) => {
                entry.attempts += 1;
                app.metrics.record_post_failed();
                let wait = retry_delay(entry.attempts);
                tracing::warn!(room = %entry.room_id, attempts = entry.attempts, retry_in = ?wait, error = %reason, "delivery failed on this side; will retry a few times");
                entry.last_error = Some(reason);
                entry.not_before = Some(now + chrono::Duration::from_std(wait).unwrap_or_default());
                blocked_rooms.insert(entry.room_id.clone());
                wake_in(wait);
                app.store.update_outbox(id, &entry)
            }
        };
        if let Err(e) = saved {
            tracing::error!(error = %e, "cannot update the outbox");
        }
        if let Err(e) = app.store.flush().await {
            tracing::error!(error = %e, "cannot flush the store");
        }
    }
    next_wake
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_and_caps() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(2), Duration::from_secs(2));
        assert_eq!(retry_delay(5), Duration::from_secs(16));
        assert_eq!(retry_delay(50), Duration::from_secs(256));
    }
}
