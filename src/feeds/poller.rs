//! The poll scheduler: keeps each feed on its own schedule, fetches due feeds
//! concurrently (bounded), runs fresh bodies through the pipeline, and records health.
//! A failing feed backs off exponentially with jitter, honouring Retry-After, and
//! never delays the others. On shutdown it starts nothing new and waits for the
//! fetches in flight.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::fetch::{FetchOutcome, Fetcher};
use super::parse::parse_feed;
use crate::app::App;
use crate::metrics::FetchResult;
use crate::pipeline::{ProcessReport, process_items};
use crate::store::{FeedRecord, FeedState, StoreError};

/// How long until the next attempt after `failures` consecutive failures of a feed
/// polled every `interval`: doubling from min(interval, 5 min), capped at `cap`, at
/// least what the server asked for, with ±20% jitter.
pub fn backoff_delay(
    interval: Duration,
    failures: u32,
    retry_after: Option<Duration>,
    cap: Duration,
) -> Duration {
    let base = interval.min(Duration::from_secs(300));
    let exp = failures.saturating_sub(1).min(30);
    let raw = base.saturating_mul(1u32 << exp.min(20)).min(cap);
    let jitter: f64 = rand::rng().random_range(0.8..1.2);
    let jittered = raw.mul_f64(jitter).min(cap);
    match retry_after {
        Some(asked) => jittered.max(asked.min(cap)),
        None => jittered,
    }
}

/// Polls one feed once and returns how long to wait before the next poll.
pub async fn poll_feed(app: &Arc<App>, fetcher: &Fetcher, feed: &FeedRecord) -> Duration {
    let interval = Duration::from_secs(feed.poll_interval_secs.max(1));
    let result = poll_once(app, fetcher, feed).await;
    let mut state = match app.store.feed_state(&feed.id) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(feed = %feed.id, error = %e, "cannot read feed state");
            return interval;
        }
    };
    let delay = match result {
        Ok(report) => {
            if let Some(r) = report
                && (r.new_items > 0 || r.baseline)
            {
                tracing::info!(
                    feed = %feed.id, new = r.new_items, baseline = r.baseline,
                    announcements = r.announcements, matched = r.matched_items, posts = r.posts,
                    "feed polled"
                );
            }
            interval
        }
        Err(failure) => {
            state.consecutive_failures += 1;
            state.last_error = Some(failure.message.clone());
            state.last_error_at = Some(Utc::now());
            state.last_attempt = Some(Utc::now());
            tracing::warn!(feed = %feed.id, url = %feed.url, failures = state.consecutive_failures, error = %failure.message, "feed fetch failed");
            backoff_delay(
                interval,
                state.consecutive_failures,
                failure.retry_after,
                app.config.fetch.max_backoff,
            )
        }
    };
    state.next_poll = Some(Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default());
    if let Err(e) = app.store.put_feed_state(&feed.id, &state) {
        tracing::error!(feed = %feed.id, error = %e, "cannot save feed state");
    }
    if let Err(e) = app.store.flush().await {
        tracing::error!(feed = %feed.id, error = %e, "cannot flush store");
    }
    delay
}

struct PollFailure {
    message: String,
    retry_after: Option<Duration>,
}

impl From<StoreError> for PollFailure {
    fn from(e: StoreError) -> Self {
        PollFailure {
            message: format!("store: {e}"),
            retry_after: None,
        }
    }
}

/// Fetch, parse and process. `Ok(None)` is a 304.
async fn poll_once(
    app: &Arc<App>,
    fetcher: &Fetcher,
    feed: &FeedRecord,
) -> Result<Option<ProcessReport>, PollFailure> {
    let url = url::Url::parse(&feed.url).map_err(|e| PollFailure {
        message: format!("bad URL: {e}"),
        retry_after: None,
    })?;
    let mut state = app.store.feed_state(&feed.id)?;
    state.fetches += 1;
    let started = std::time::Instant::now();
    let outcome = fetcher.fetch(&url, &state.validators).await;
    app.metrics.record_fetch(
        match &outcome {
            Ok(FetchOutcome::Fetched { .. }) => FetchResult::Ok,
            Ok(FetchOutcome::NotModified) => FetchResult::NotModified,
            Err(_) => FetchResult::Error,
        },
        started.elapsed(),
    );
    let now = Utc::now();
    match outcome {
        Err(e) => {
            // Count the attempt even though it failed.
            app.store.put_feed_state(&feed.id, &state)?;
            Err(PollFailure {
                retry_after: e.retry_after(),
                message: e.to_string(),
            })
        }
        Ok(FetchOutcome::NotModified) => {
            state.not_modified += 1;
            mark_success(&mut state, now);
            app.store.put_feed_state(&feed.id, &state)?;
            Ok(None)
        }
        Ok(FetchOutcome::Fetched {
            body,
            validators,
            final_url,
        }) => {
            let app = app.clone();
            let feed = feed.clone();
            let worker = tokio::task::spawn_blocking(move || {
                let items = match parse_feed(&feed.id, &body, Some(&final_url)) {
                    Ok(items) => items,
                    Err(e) => {
                        app.store.put_feed_state(&feed.id, &state)?;
                        return Err(PollFailure {
                            message: e.to_string(),
                            retry_after: None,
                        });
                    }
                };
                state.parses += 1;
                state.validators = validators;
                mark_success(&mut state, now);
                Ok(process_items(&app, &feed, items, state)?)
            });
            match worker.await {
                Ok(result) => result.map(Some),
                Err(join) => Err(PollFailure {
                    message: format!("internal error while processing: {join}"),
                    retry_after: None,
                }),
            }
        }
    }
}

fn mark_success(state: &mut FeedState, now: chrono::DateTime<Utc>) {
    state.last_success = Some(now);
    state.last_attempt = Some(now);
    state.consecutive_failures = 0;
}

/// Runs the scheduler until `shutdown` turns true, then waits for fetches in flight.
pub async fn run_poller(app: Arc<App>, fetcher: Fetcher, mut shutdown: watch::Receiver<bool>) {
    let mut due: HashMap<String, Instant> = HashMap::new();
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut running: JoinSet<(String, Duration)> = JoinSet::new();
    let max_concurrent = app.config.fetch.max_concurrent;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let feeds = match app.feeds() {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "cannot list feeds");
                Vec::new()
            }
        };
        let now = Instant::now();
        due.retain(|id, _| feeds.iter().any(|f| &f.id == id));
        for feed in &feeds {
            due.entry(feed.id.clone())
                .or_insert_with(|| first_due(&app, feed, now));
        }
        for feed in &feeds {
            if running.len() >= max_concurrent {
                break;
            }
            if in_flight.contains(&feed.id) || due[&feed.id] > now {
                continue;
            }
            in_flight.insert(feed.id.clone());
            let (app, fetcher, feed) = (app.clone(), fetcher.clone(), feed.clone());
            running.spawn(async move {
                let delay = poll_feed(&app, &fetcher, &feed).await;
                (feed.id, delay)
            });
        }
        let next_wake = due
            .iter()
            .filter(|(id, _)| !in_flight.contains(*id))
            .map(|(_, at)| *at)
            .min()
            .unwrap_or(now + Duration::from_secs(3600));
        tokio::select! {
            _ = shutdown.changed() => {}
            _ = app.feeds_changed.notified() => {}
            _ = tokio::time::sleep_until(next_wake), if running.len() < max_concurrent => {}
            Some(done) = running.join_next(), if !running.is_empty() => {
                match done {
                    Ok((id, delay)) => {
                        in_flight.remove(&id);
                        due.insert(id, Instant::now() + delay);
                    }
                    Err(e) => tracing::error!(error = %e, "poll task failed"),
                }
            }
        }
    }
    if !running.is_empty() {
        tracing::info!(
            in_flight = running.len(),
            "waiting for feed fetches in flight"
        );
    }
    while running.join_next().await.is_some() {}
}

/// When a feed is first due in this process: its stored next poll if that is still
/// ahead (a restart does not refetch everything at once), else now.
fn first_due(app: &App, feed: &FeedRecord, now: Instant) -> Instant {
    let stored = app
        .store
        .feed_state(&feed.id)
        .ok()
        .and_then(|s| s.next_poll);
    match stored {
        Some(at) => {
            let ahead = (at - Utc::now()).to_std().unwrap_or_default();
            now + ahead.min(Duration::from_secs(feed.poll_interval_secs.max(1)))
        }
        None => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_honours_retry_after() {
        let hour = Duration::from_secs(3600);
        let cap = Duration::from_secs(24 * 3600);
        let first = backoff_delay(hour, 1, None, cap);
        assert!(
            first >= Duration::from_secs(240) && first <= Duration::from_secs(360),
            "{first:?}"
        );
        let third = backoff_delay(hour, 3, None, cap);
        assert!(
            third >= Duration::from_secs(960) && third <= Duration::from_secs(1440),
            "{third:?}"
        );
        assert!(backoff_delay(hour, 40, None, cap) <= cap);
        let asked = backoff_delay(
            Duration::from_secs(1),
            1,
            Some(Duration::from_secs(120)),
            cap,
        );
        assert_eq!(asked, Duration::from_secs(120));
    }
}
