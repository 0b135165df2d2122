//! The poll scheduler: keeps each feed on its own schedule, fetches due feeds
//! concurrently (bounded overall and per host), runs fresh bodies through the
//! pipeline, and records health. A failing feed backs off exponentially with jitter
//! and never delays the others; a host answering 429/503 with Retry-After holds back
//! all its feeds; 410 Gone disables a feed; permanent redirects update its URL; and
//! optional failure and recovery notices go to rooms through the outbox. Feeds that
//! rooms added with the same URL are fetched once, as the first of them, and each
//! gets the items ([`url_sharers`]). On shutdown it starts nothing new and waits for
//! the fetches in flight.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::app::App;
use crate::feeds::charset::charset_of_content_type;
use crate::feeds::fetch::{FetchOutcome, Fetcher};
use crate::feeds::guard::shown_url;
use crate::feeds::parse::parse_feed_document;
use crate::health::{backoff_delay, mark_failure, mark_success};
use crate::metrics::FetchResult;
use crate::notices;
use crate::pipeline::{ProcessReport, process_items};
use crate::store::{FeedDisabled, FeedMoved, FeedOrigin, FeedRecord, FeedState, StoreError};

/// What one poll of a feed means for the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollResult {
    /// How long until this feed's next poll; `None` when it is disabled (410 Gone).
    pub next_in: Option<Duration>,
    /// Set when the host answered 429/503 with Retry-After: every feed of the host waits.
    pub host_retry_after: Option<Duration>,
}

/// The host a feed URL is scheduled under (per-host cap and Retry-After).
pub fn host_key(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        })
        .unwrap_or_default()
}

/// The feeds added by command in other rooms with the same URL as `lead`: the poller
/// fetches the URL once, as `lead` (the first of them, [`fetched_feeds`]), and each
/// of these gets the items, with its own seen marks and baseline.
pub fn url_sharers(app: &App, lead: &FeedRecord) -> Vec<FeedRecord> {
    if lead.origin == FeedOrigin::Config {
        return Vec::new();
    }
    match app.store.command_feeds() {
        Ok(feeds) => feeds
            .into_iter()
            .filter(|f| f.url == lead.url && f.id != lead.id)
            .collect(),
        Err(e) => {
            tracing::error!(feed = %lead.id, error = %e, "cannot list the feeds sharing a URL");
            Vec::new()
        }
    }
}

/// The feeds the poller fetches: every operator feed, and of the feeds added by
/// command, the first with each URL (the others share its fetch, [`url_sharers`]).
pub fn fetched_feeds(feeds: Vec<FeedRecord>) -> Vec<FeedRecord> {
    let mut seen_urls: HashSet<String> = HashSet::new();
    feeds
        .into_iter()
        .filter(|f| f.origin == FeedOrigin::Config || seen_urls.insert(f.url.clone()))
        .collect()
}

/// Gives a feed that shares `lead`'s fetch the health `lead` just got.
fn mirror_health(from: &FeedState, to: &mut FeedState) {
    to.last_attempt = from.last_attempt;
    to.last_success = from.last_success;
    to.last_error = from.last_error.clone();
    to.last_error_at = from.last_error_at;
    to.consecutive_failures = from.consecutive_failures;
    to.failing_since = from.failing_since;
    to.next_poll = from.next_poll;
    to.disabled = from.disabled.clone();
}

/// The URL the operator wrote for a config feed (not any redirect override).
fn configured_url(app: &App, feed: &FeedRecord) -> Option<url::Url> {
    if feed.origin != FeedOrigin::Config {
        return None;
    }
    app.config_feed(&feed.id).map(|f| f.url)
}

/// Polls one feed once, records its health (and any failure notice), and says when
/// to poll it next.
pub async fn poll_feed(app: &Arc<App>, fetcher: &Fetcher, feed: &FeedRecord) -> PollResult {
    let interval = Duration::from_secs(feed.poll_interval_secs.max(1));
    match app.store.feed_state(&feed.id) {
        Ok(state) if state.disabled.as_ref().is_some_and(|d| d.url == feed.url) => {
            return PollResult {
                next_in: None,
                host_retry_after: None,
            };
        }
        _ => {}
    }
    // Read once per poll: the fetch and the health both need them.
    let sharers = url_sharers(app, feed);
    let result = poll_once(app, fetcher, feed, &sharers).await;
    let mut state = match app.store.feed_state(&feed.id) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(feed = %feed.id, error = %e, "cannot read feed state");
            return PollResult {
                next_in: Some(interval),
                host_retry_after: None,
            };
        }
    };
    // A config feed whose URL the operator changed is polled again.
    if state.disabled.as_ref().is_some_and(|d| d.url != feed.url) {
        state.disabled = None;
    }
    let now = Utc::now();
    let mut notice: Option<&str> = None;
    let mut host_retry_after = None;
    let next_in = match result {
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
            state.failing_since = None;
            if state.failure_notice_sent {
                state.failure_notice_sent = false;
                notice = Some("recovered");
            }
            Some(interval)
        }
        Err(failure) => {
            mark_failure(&mut state, &failure.message, now);
            tracing::warn!(feed = %feed.id, url = %shown_url(&feed.url), failures = state.consecutive_failures, error = %failure.logged, "feed fetch failed");
            if failure.host_overloaded {
                host_retry_after = failure
                    .retry_after
                    .map(|d| d.min(app.config.fetch.max_backoff));
            }
            if failure.gone {
                tracing::warn!(feed = %feed.id, url = %shown_url(&feed.url), "the server says the feed is gone (410); it will not be polled again");
                state.disabled = Some(FeedDisabled {
                    url: feed.url.clone(),
                    reason: failure.message.clone(),
                    at: now,
                });
                if app.config.fetch.failure_notice_after.is_some() {
                    notice = Some("disabled");
                }
                None
            } else {
                if let Some(after) = app.config.fetch.failure_notice_after
                    && !state.failure_notice_sent
                    && state
                        .failing_since
                        .is_some_and(|since| (now - since).to_std().unwrap_or_default() >= after)
                {
                    state.failure_notice_sent = true;
                    notice = Some("failing");
                }
                Some(backoff_delay(
                    interval,
                    state.consecutive_failures,
                    failure.retry_after,
                    app.config.fetch.max_backoff,
                ))
            }
        }
    };
    state.next_poll = next_in.map(|d| now + chrono::Duration::from_std(d).unwrap_or_default());
    // The feeds of other rooms with the same URL share this fetch: same health, and
    // each its own notices (to its own rooms).
    let mut sharing = vec![(feed.clone(), state)];
    for sharer in sharers {
        match app.store.feed_state(&sharer.id) {
            Ok(mut shared) => {
                mirror_health(&sharing[0].1, &mut shared);
                shared.failure_notice_sent = sharing[0].1.failure_notice_sent;
                sharing.push((sharer, shared));
            }
            Err(e) => tracing::error!(feed = %sharer.id, error = %e, "cannot read feed state"),
        }
    }
    for (feed, state) in &sharing {
        let notices = match notice {
            Some("recovered") => notices::recovered(app, feed, state),
            Some("disabled") => notices::disabled(
                app,
                feed,
                state.disabled.as_ref().map_or("", |d| d.reason.as_str()),
            ),
            Some(_) => notices::failing(app, feed, state),
            None => Vec::new(),
        };
        if let Err(e) = app.store.commit_batch(
            &feed.id,
            &[],
            &notices,
            state,
            &crate::store::ItemBatch::default(),
        ) {
            tracing::error!(feed = %feed.id, error = %e, "cannot save feed state");
        } else if !notices.is_empty() {
            app.outbox_changed.notify_one();
        }
    }
    // No flush here: delivery flushes before it sends (so a post is on disk before
    // it can go out), and everything else (items marked seen, a baseline, a 304, a
    // failure) rides on the store's periodic flush; losing it to a crash only means
    // fetching that feed once more. An fsync after each of a thousand feeds would
    // make a poll cycle wait on the disk.
    PollResult {
        next_in,
        host_retry_after,
    }
}

struct PollFailure {
    /// For rooms (the feed's last error, notices): no resolved addresses.
    message: String,
    /// For the operator's log: everything.
    logged: String,
    retry_after: Option<Duration>,
    host_overloaded: bool,
    gone: bool,
}

impl PollFailure {
    fn new(message: String) -> PollFailure {
        PollFailure {
            logged: message.clone(),
            message,
            retry_after: None,
            host_overloaded: false,
            gone: false,
        }
    }
}

impl From<StoreError> for PollFailure {
    fn from(e: StoreError) -> Self {
        PollFailure::new(format!("store: {e}"))
    }
}

/// Records a permanent redirect that led to a successful answer: a command feed's URL
/// is updated; a config feed keeps an override in the store until the operator
/// updates the config.
fn follow_permanent_move(app: &App, feed: &FeedRecord, to: &url::Url, state: &mut FeedState) {
    let to = to.to_string();
    if to == feed.url {
        return;
    }
    match &feed.origin {
        FeedOrigin::Config => {
            let from = configured_url(app, feed)
                .map(|u| u.to_string())
                .unwrap_or_else(|| feed.url.clone());
            tracing::warn!(
                feed = %feed.id, from = %shown_url(&from), to = %shown_url(&to),
                "the feed has moved permanently; polling the new URL (update the config file to make this permanent)"
            );
            state.moved = Some(FeedMoved {
                from,
                to,
                at: Utc::now(),
            });
            app.feeds_changed.notify_one();
        }
        FeedOrigin::Command { .. } => {
            match app.feeds() {
                Ok(feeds) if feeds.iter().any(|f| f.url == to && f.id != feed.id) => {
                    tracing::warn!(feed = %feed.id, to = %shown_url(&to), "the feed has moved permanently to a URL another feed already polls; keeping the old URL");
                    return;
                }
                Err(e) => {
                    tracing::error!(feed = %feed.id, error = %e, "cannot list feeds");
                    return;
                }
                Ok(_) => {}
            }
            tracing::info!(feed = %feed.id, from = %shown_url(&feed.url), to = %shown_url(&to), "the feed has moved permanently; its URL is updated");
            let mut record = feed.clone();
            record.url = to;
            if let Err(e) = app.store.put_feed(&record) {
                tracing::error!(feed = %feed.id, error = %e, "cannot save the feed's new URL");
            }
            app.feeds_changed.notify_one();
        }
    }
}

/// Fetch, parse and process. `Ok(None)` is a 304.
async fn poll_once(
    app: &Arc<App>,
    fetcher: &Fetcher,
    feed: &FeedRecord,
    sharers: &[FeedRecord],
) -> Result<Option<ProcessReport>, PollFailure> {
    let url = url::Url::parse(&feed.url).map_err(|e| PollFailure::new(format!("bad URL: {e}")))?;
    let mut state = app.store.feed_state(&feed.id)?;
    state.fetches += 1;
    // A feed that shares this fetch and has no baseline yet needs the whole body, so
    // the request is then not conditional.
    let mut validators = state.validators.clone();
    for sharer in sharers {
        if !app.store.feed_state(&sharer.id)?.baselined {
            validators = Default::default();
        }
    }
    let started = std::time::Instant::now();
    let configured = configured_url(app, feed);
    let outcome = fetcher.fetch(&url, &validators, configured.as_ref()).await;
    app.metrics.record_fetch(
        match &outcome {
            Ok(FetchOutcome::Fetched { .. }) => FetchResult::Ok,
            Ok(FetchOutcome::NotModified { .. }) => FetchResult::NotModified,
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
                host_overloaded: e.is_host_overloaded(),
                gone: e.is_gone(),
                message: e.room_message(),
                logged: e.to_string(),
            })
        }
        Ok(FetchOutcome::NotModified { moved_to }) => {
            state.not_modified += 1;
            mark_success(&mut state, now);
            if let Some(to) = &moved_to {
                follow_permanent_move(app, feed, to, &mut state);
            }
            app.store.put_feed_state(&feed.id, &state)?;
            Ok(None)
        }
        Ok(FetchOutcome::Fetched {
            body,
            validators,
            final_url,
            content_type,
            moved_to,
        }) => {
            // The semaphore is never closed, so a permit always comes.
            let _processing = app.processing.acquire().await.ok();
            let app = app.clone();
            let feed = feed.clone();
            let sharers = sharers.to_vec();
            let worker = tokio::task::spawn_blocking(move || {
                let _release = crate::process::ReleaseThreadCacheOnDrop;
                let charset = content_type.as_deref().and_then(charset_of_content_type);
                let parsed =
                    parse_feed_document(&feed.id, &body, Some(&final_url), charset.as_deref());
                drop(body);
                let items = match parsed {
                    Ok(items) => items,
                    Err(e) => {
                        app.store.put_feed_state(&feed.id, &state)?;
                        return Err(PollFailure::new(e.to_string()));
                    }
                };
                state.parses += 1;
                state.validators = validators.clone();
                mark_success(&mut state, now);
                if let Some(to) = &moved_to {
                    follow_permanent_move(&app, &feed, to, &mut state);
                }
                for sharer in &sharers {
                    let mut shared = app.store.feed_state(&sharer.id)?;
                    shared.parses += 1;
                    shared.validators = validators.clone();
                    mark_success(&mut shared, now);
                    if let Err(e) = process_items(&app, sharer, items.clone(), shared) {
                        tracing::error!(feed = %sharer.id, error = %e, "cannot process the items of a feed sharing a fetch");
                    }
                }
                Ok(process_items(&app, &feed, items, state)?)
            });
            match worker.await {
                Ok(result) => result.map(Some),
                Err(join) => Err(PollFailure::new(format!(
                    "internal error while processing: {join}"
                ))),
            }
        }
    }
}

/// How often the scheduler reads the feed list even when nothing signalled a change.
const FEED_LIST_REFRESH: Duration = Duration::from_secs(60);

/// Runs the scheduler until `shutdown` turns true, then waits for fetches in flight.
///
/// At most `max_concurrent` fetches run at once, and at most `max_per_host` to one
/// host; when a host answers 429 or 503 with Retry-After, none of its feeds is
/// fetched before that time. Disabled feeds (410 Gone) are not polled.
pub async fn run_poller(app: Arc<App>, fetcher: Fetcher, mut shutdown: watch::Receiver<bool>) {
    let mut due: HashMap<String, Instant> = HashMap::new();
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut per_host: HashMap<String, usize> = HashMap::new();
    let mut host_wait: HashMap<String, Instant> = HashMap::new();
    let mut disabled: HashMap<String, String> = HashMap::new();
    let mut running: JoinSet<(String, String, Instant, PollResult)> = JoinSet::new();
    let max_concurrent = app.config.fetch.max_concurrent;
    let max_per_host = app.config.fetch.max_per_host;
    // The feed list is read again when it changes (a command, a reload, a permanent
    // move all signal `feeds_changed`) and once a minute, not at every wake-up: with
    // a thousand feeds, every finished fetch would otherwise read them all.
    let mut feeds: Vec<FeedRecord> = Vec::new();
    let mut listed_at: Option<Instant> = None;
    loop {
        if *shutdown.borrow() {
            break;
        }
        if listed_at.is_none_or(|at| at.elapsed() >= FEED_LIST_REFRESH) {
            feeds = match app.feeds() {
                Ok(f) => fetched_feeds(f),
                Err(e) => {
                    tracing::error!(error = %e, "cannot list feeds");
                    Vec::new()
                }
            };
            listed_at = Some(Instant::now());
        }
        let now = Instant::now();
        due.retain(|id, _| feeds.iter().any(|f| &f.id == id));
        for feed in &feeds {
            due.entry(feed.id.clone()).or_insert_with(|| {
                if let Ok(Some(d)) = app.store.feed_state(&feed.id).map(|s| s.disabled) {
                    disabled.insert(feed.id.clone(), d.url);
                }
                first_due(&app, feed, now)
            });
        }
        host_wait.retain(|_, until| *until > now);
        let mut next_wake = now + Duration::from_secs(3600);
        for feed in &feeds {
            if in_flight.contains(&feed.id) {
                continue;
            }
            if disabled.get(&feed.id) == Some(&feed.url) {
                continue;
            }
            let host = host_key(&feed.url);
            let mut at = due[&feed.id];
            if let Some(until) = host_wait.get(&host)
                && *until > at
            {
                at = *until;
                due.insert(feed.id.clone(), at);
            }
            let host_full = per_host.get(&host).copied().unwrap_or(0) >= max_per_host;
            if at > now || running.len() >= max_concurrent || host_full {
                // A feed waiting for a slot is reconsidered when a fetch finishes.
                if at > now {
                    next_wake = next_wake.min(at);
                }
                continue;
            }
            in_flight.insert(feed.id.clone());
            *per_host.entry(host.clone()).or_default() += 1;
            let (app, fetcher, feed) = (app.clone(), fetcher.clone(), feed.clone());
            running.spawn(async move {
                let started = Instant::now();
                let result = poll_feed(&app, &fetcher, &feed).await;
                (feed.id, host, started, result)
            });
        }
        tokio::select! {
            _ = shutdown.changed() => {}
            _ = app.feeds_changed.notified() => listed_at = None,
            _ = tokio::time::sleep_until(next_wake) => {}
            Some(done) = running.join_next(), if !running.is_empty() => {
                match done {
                    Ok((id, host, started, result)) => {
                        in_flight.remove(&id);
                        if let Some(n) = per_host.get_mut(&host) {
                            *n = n.saturating_sub(1);
                        }
                        if let Some(wait) = result.host_retry_after {
                            let until = Instant::now() + wait;
                            tracing::info!(%host, wait = ?wait, "host asked us to wait; holding back all its feeds");
                            let entry = host_wait.entry(host).or_insert(until);
                            *entry = (*entry).max(until);
                        }
                        match result.next_in {
                            Some(delay) => {
                                disabled.remove(&id);
                                // The interval runs from the start of the poll, so a
                                // feed polled every second is polled every second.
                                due.insert(id, (started + delay).max(Instant::now()));
                            }
                            None => {
                                if let Ok(Some(feed)) = app.feed(&id) {
                                    disabled.insert(id, feed.url);
                                }
                            }
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "poll task failed"),
                }
                if running.is_empty() {
                    // A burst of polls is over: what it freed goes back to the system.
                    crate::process::return_freed_pages();
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
/// ahead (a restart neither refetches everything at once nor forgets a backoff), else
/// now.
fn first_due(app: &App, feed: &FeedRecord, now: Instant) -> Instant {
    let stored = app
        .store
        .feed_state(&feed.id)
        .ok()
        .and_then(|s| s.next_poll);
    match stored {
        Some(at) => {
            let ahead = (at - Utc::now()).to_std().unwrap_or_default();
            now + ahead.min(
                app.config
                    .fetch
                    .max_backoff
                    .max(Duration::from_secs(feed.poll_interval_secs.max(1))),
            )
        }
        None => now,
    }
}
