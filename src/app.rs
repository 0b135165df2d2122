//! The state every task shares: the validated config, the store, the cache of built
//! watchlist screeners, and the notifications that wake the poller (feeds changed) and
//! the delivery loop (outbox changed), and the recent stories kept in memory between
//! polls. Also where config-defined feeds and watchlists meet the ones added by command.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::config::{CONSOLE_ROOM, Config, FeedConfig, WatchlistConfig};
use crate::metrics::Metrics;
use crate::screening::{DEFAULT_THRESHOLD, EngineOptions, Hit, Screener, ScreeningEngine};
use crate::store::{FeedOrigin, FeedRecord, ListRecord, Store, StoreError, StoryRecord};
use crate::summary::story::index::StoryShelf;

/// Built screeners, one per watchlist, rebuilt lazily after the list changes.
#[derive(Default)]
pub struct Screeners {
    cache: RwLock<HashMap<String, Arc<dyn Screener>>>,
}

impl Screeners {
    /// The screener for `list`, built from the store on first use.
    pub fn screener(&self, store: &Store, list: &str) -> Result<Arc<dyn Screener>, StoreError> {
        if let Some(s) = self.cache.read().expect("watch index lock").get(list) {
            return Ok(s.clone());
        }
        let entries = store.entries(list)?;
        let threshold = store
            .list(list)?
            .and_then(|l| l.threshold)
            .unwrap_or(DEFAULT_THRESHOLD);
        let options = EngineOptions {
            threshold,
            ..EngineOptions::default()
        };
        let screener: Arc<dyn Screener> =
            Arc::new(ScreeningEngine::for_list(list, &entries, options));
        self.cache
            .write()
            .expect("watch index lock")
            .insert(list.to_string(), screener.clone());
        Ok(screener)
    }

    /// Forgets the built screener of `list` after it changed.
    pub fn invalidate(&self, list: &str) {
        self.cache.write().expect("watch index lock").remove(list);
    }

    /// Screens `text` against each of `lists`.
    pub fn screen(
        &self,
        store: &Store,
        lists: &[String],
        text: &str,
    ) -> Result<Vec<Hit>, StoreError> {
        let mut hits = Vec::new();
        for list in lists {
            hits.extend(self.screener(store, list)?.screen(text));
        }
        Ok(hits)
    }
}

/// The stories of the last days, kept in memory between polls so that placing an item
/// in a story does not read and decode every recent story from the store, and the lock
/// that makes placing items one feed at a time: two feeds reporting one announcement
/// at the same moment must land in one story, not in two.
#[derive(Default)]
pub struct StoryCache {
    recent: Mutex<Option<StoryShelf<StoryRecord>>>,
}

impl StoryCache {
    /// Holds the stories until the guard is dropped. `None` inside means not loaded
    /// (or dropped after a failed commit): the holder loads them from the store.
    pub fn lock(&self) -> MutexGuard<'_, Option<StoryShelf<StoryRecord>>> {
        // A panic while holding it leaves `None` (the stories are taken out while in
        // use), so a poisoned lock holds nothing wrong.
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The rooms the running bot can deliver to. Posts, notices and digests are enqueued
/// only for those: under `run`, a `console` subscriber gets nothing (rather than posts
/// that would wait forever), and the console does not queue posts for Matrix rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    /// Every room (the library used on its own, and tests).
    Everyone,
    /// The terminal (`console`).
    Console,
    /// Matrix rooms (`run`).
    Matrix,
}

impl Serving {
    /// True if a room of this id can get posts here.
    pub fn serves(self, room: &str) -> bool {
        match self {
            Serving::Everyone => true,
            Serving::Console => room == CONSOLE_ROOM,
            Serving::Matrix => room.starts_with('!'),
        }
    }
}

/// Shared state of a running bot.
pub struct App {
    /// The validated configuration.
    pub config: Config,
    /// The sled store.
    pub store: Store,
    /// Built watchlist screeners.
    pub screeners: Screeners,
    /// Recent stories, and the lock for placing items in them.
    pub stories: StoryCache,
    /// Signalled when feeds are added or removed.
    pub feeds_changed: Notify,
    /// Signalled when posts are enqueued.
    pub outbox_changed: Notify,
    /// When this process started.
    pub started: DateTime<Utc>,
    /// Counters and histograms for the metrics endpoint.
    pub metrics: Metrics,
    /// Permits to process a fetched feed: [`feeds_processed_at_once`] of them.
    pub processing: tokio::sync::Semaphore,
    /// The operator's feeds: the config's, replaced on reload.
    config_feeds: RwLock<Vec<FeedConfig>>,
    /// The rooms this process delivers to.
    serving: Serving,
}

/// What a config reload changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Config feeds before and after.
    pub feeds: (usize, usize),
    /// Watchlists written from the config.
    pub watchlists: usize,
    /// Settings that changed but only take effect after a restart.
    pub needs_restart: Vec<&'static str>,
}

/// Writes the config's watchlists into the store: entries are (re)added; a list's
/// `subscribers` are subscribed only when the list is created.
fn seed_watchlists(store: &Store, lists: &[WatchlistConfig]) -> Result<(), StoreError> {
    for list in lists {
        if let Some(ListRecord {
            owner: Some(room), ..
        }) = store.list(&list.name)?
        {
            // A room's own list keeps its name and its privacy: the config's entries
            // are not mixed into it, nor its names shown to other rooms.
            tracing::error!(
                list = %list.name, %room,
                "the config's watchlist has the name of a list a room made by command; it is not applied until one of them is renamed"
            );
            continue;
        }
        let created = store.create_list(&list.name)?;
        for entry in &list.entries {
            store.put_entry(&list.name, entry)?;
        }
        if let Some(threshold) = list.threshold {
            store.set_list_threshold(&list.name, Some(threshold))?;
        }
        if created {
            for room in &list.subscribers {
                store.subscribe(room, &list.name)?;
            }
        }
    }
    store.flush_blocking()
}

/// How many fetched feeds are parsed and processed at once: one per core. The work is
/// CPU-bound, and each feed places its items in the stories and commits them one at a
/// time, under one lock. In the pipeline section of `cargo bench --bench budget` (500
/// feeds of 20 items, 2 cores), four threads processed about 10% fewer items per
/// second than two; three read about as many as two.
pub fn feeds_processed_at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl App {
    /// Opens the store and applies the config's watchlists to it: entries written in
    /// the config are (re)added on every start; a list's `subscribers` are subscribed
    /// only when the list is first created, so an `unsubscribe` sticks.
    pub fn open(config: Config) -> Result<Arc<App>, StoreError> {
        App::open_serving(config, Serving::Everyone)
    }

    /// [`App::open`] for a process that delivers to the rooms `serving` names only.
    pub fn open_serving(config: Config, serving: Serving) -> Result<Arc<App>, StoreError> {
        let store = Store::open(&config.data_dir)?;
        seed_watchlists(&store, &config.watchlists)?;
        Ok(Arc::new(App {
            config_feeds: RwLock::new(config.feeds.clone()),
            config,
            store,
            screeners: Screeners::default(),
            stories: StoryCache::default(),
            feeds_changed: Notify::new(),
            outbox_changed: Notify::new(),
            started: Utc::now(),
            metrics: Metrics::default(),
            processing: tokio::sync::Semaphore::new(feeds_processed_at_once()),
            serving,
        }))
    }

    /// True if this process delivers to `room`: posts for other rooms are not made.
    pub fn serves(&self, room: &str) -> bool {
        self.serving.serves(room)
    }

    /// Applies a re-read config (SIGHUP): its feeds replace the config feeds, its
    /// watchlists are written into the store. Pending posts in the outbox are untouched.
    pub fn reload(&self, new: &Config) -> Result<ReloadReport, StoreError> {
        seed_watchlists(&self.store, &new.watchlists)?;
        for list in &new.watchlists {
            self.screeners.invalidate(&list.name);
        }
        let before = {
            let mut feeds = self.config_feeds.write().expect("config feeds lock");
            std::mem::replace(&mut *feeds, new.feeds.clone()).len()
        };
        self.feeds_changed.notify_one();
        let old = &self.config;
        let mut needs_restart = Vec::new();
        for (changed, name) in [
            (old.data_dir != new.data_dir, "data_dir"),
            (old.command_prefix != new.command_prefix, "command_prefix"),
            (
                old.default_poll_interval != new.default_poll_interval,
                "default_poll_interval",
            ),
            (old.fetch != new.fetch, "[fetch]"),
            (old.matrix != new.matrix, "[matrix]"),
            (old.logging != new.logging, "[logging]"),
            (old.metrics_listen != new.metrics_listen, "[metrics]"),
        ] {
            if changed {
                needs_restart.push(name);
            }
        }
        Ok(ReloadReport {
            feeds: (before, new.feeds.len()),
            watchlists: new.watchlists.len(),
            needs_restart,
        })
    }

    /// The operator's feeds as last (re)loaded from the config.
    pub fn config_feeds(&self) -> Vec<FeedConfig> {
        self.config_feeds.read().expect("config feeds lock").clone()
    }

    /// One operator feed by id.
    pub fn config_feed(&self, id: &str) -> Option<FeedConfig> {
        self.config_feeds
            .read()
            .expect("config feeds lock")
            .iter()
            .find(|f| f.id == id)
            .cloned()
    }

    /// Every feed to poll: the config's (at the URL a permanent redirect led to, if
    /// any), then those added by command.
    pub fn feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        let config_feeds = self.config_feeds();
        let mut feeds: Vec<FeedRecord> = Vec::with_capacity(config_feeds.len());
        for f in &config_feeds {
            // A permanent redirect followed since, while the config still says the old URL.
            let moved = self
                .store
                .feed_state(&f.id)?
                .moved
                .filter(|m| m.from == f.url.as_str())
                .map(|m| m.to);
            feeds.push(FeedRecord {
                id: f.id.clone(),
                name: f.name.clone(),
                url: moved.unwrap_or_else(|| f.url.to_string()),
                kind: f.kind,
                poll_interval_secs: f.poll_interval.as_secs().max(1),
                backfill: f.backfill,
                origin: FeedOrigin::Config,
                shared: false,
            });
        }
        for feed in self.store.command_feeds()? {
            if !feeds.iter().any(|f| f.id == feed.id) {
                feeds.push(feed);
            }
        }
        Ok(feeds)
    }

    /// One feed by id.
    pub fn feed(&self, id: &str) -> Result<Option<FeedRecord>, StoreError> {
        Ok(self.feeds()?.into_iter().find(|f| f.id == id))
    }
}
