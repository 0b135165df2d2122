//! The state every task shares: the validated config, the store, the cache of built
//! watchlist screeners, and the notifications that wake the poller (feeds changed) and
//! the delivery loop (outbox changed), and the recent stories kept in memory between
//! polls with the locks that order placing items in them and writing the results.
//! Also where config-defined feeds and watchlists meet the ones added by command.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::config::{Config, FeedConfig, WatchlistConfig};
use crate::metrics::Metrics;
use crate::store::{FeedOrigin, FeedRecord, Store, StoreError};
use crate::story_pipeline::RecentStories;
use crate::watch::{DEFAULT_THRESHOLD, EngineOptions, Hit, Screener, ScreeningEngine};

/// Built screeners, one per watchlist, rebuilt lazily after the list changes.
#[derive(Default)]
pub struct WatchIndex {
    cache: RwLock<HashMap<String, Arc<dyn Screener>>>,
}

impl WatchIndex {
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
/// in a story does not read and decode every recent story from the store, and the two
/// locks that order the work on them:
///
/// - the story lock makes placing items one feed at a time: two feeds reporting one
///   announcement at the same moment must land in one story, not in two;
/// - the write turn makes the feeds' batches (seen marks, stories, posts) reach the
///   store in the order they were decided. A feed takes it before it lets the stories
///   go, so the next feed places its items while the previous batch is written.
///
/// A batch decided on the stories in memory rests on the batches decided before it.
/// If one of those fails to be written, the later ones are refused too (their feeds
/// process the items again at the next poll) and the stories are read from the store
/// again: see [`WriteTurn::write`].
#[derive(Default)]
pub struct StoryCache {
    recent: Mutex<Option<RecentStories>>,
    write_turn: Mutex<()>,
    /// Batches numbered so far (numbers are taken under the story lock).
    numbered: AtomicU64,
    /// The number of the last batch written.
    written: AtomicU64,
    /// How many batches failed to be written.
    failed_writes: AtomicU64,
}

impl StoryCache {
    /// Holds the stories until the guard is dropped. `None` inside means not loaded
    /// (or dropped after a failure): the holder loads them from the store, after
    /// [`StoryCache::wait_for_writes`].
    pub fn lock(&self) -> MutexGuard<'_, Option<RecentStories>> {
        // A panic while holding it leaves `None` (the stories are taken out while in
        // use), so a poisoned lock holds nothing wrong.
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next batch's number; call it holding the story lock, so numbers follow
    /// the order batches are decided (and written) in.
    pub fn number_batch(&self) -> u64 {
        self.numbered.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The number of the last batch written to the store.
    pub fn last_written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// How many batches have failed to be written so far.
    pub fn failed_writes(&self) -> u64 {
        self.failed_writes.load(Ordering::SeqCst)
    }

    /// Waits until no batch is being written. Called holding the story lock, before
    /// reading stories from the store: no later batch can start meanwhile.
    pub fn wait_for_writes(&self) {
        drop(self.take_write_turn());
    }

    fn take_write_turn(&self) -> MutexGuard<'_, ()> {
        // The guarded value is `()`: a panic while writing leaves nothing half-done
        // here (sled's transaction is all or nothing).
        self.write_turn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for the batches decided before this one to be written, then lets the
    /// stories go (the next feed can place its items while this batch is written).
    pub fn write_turn<'a>(
        &'a self,
        stories: MutexGuard<'a, Option<RecentStories>>,
    ) -> WriteTurn<'a> {
        let turn = self.take_write_turn();
        drop(stories);
        WriteTurn {
            cache: self,
            _turn: turn,
        }
    }
}

/// The turn to write one batch, from [`StoryCache::write_turn`].
pub struct WriteTurn<'a> {
    cache: &'a StoryCache,
    _turn: MutexGuard<'a, ()>,
}

impl WriteTurn<'_> {
    /// Writes batch number `batch` with `write`, unless a batch failed to be written
    /// since the stories it was decided on were loaded (`failures_seen`, from
    /// [`StoryCache::failed_writes`] at that time): it may rest on that batch's
    /// stories and posts, so it is refused with [`StoreError::Superseded`]. A failed
    /// write is counted, so the batches decided after it are refused in turn and the
    /// next feed reads the stories from the store.
    pub fn write<T>(
        self,
        batch: u64,
        failures_seen: u64,
        write: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.cache.failed_writes() != failures_seen {
            return Err(StoreError::Superseded);
        }
        match write() {
            Ok(value) => {
                self.cache.written.store(batch, Ordering::SeqCst);
                Ok(value)
            }
            Err(e) => {
                self.cache.failed_writes.fetch_add(1, Ordering::SeqCst);
                Err(e)
            }
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
    pub watch: WatchIndex,
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
    /// The operator's feeds: the config's, replaced on reload.
    config_feeds: RwLock<Vec<FeedConfig>>,
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

impl App {
    /// Opens the store and applies the config's watchlists to it: entries written in
    /// the config are (re)added on every start; a list's `subscribers` are subscribed
    /// only when the list is first created, so an `unsubscribe` sticks.
    pub fn open(config: Config) -> Result<Arc<App>, StoreError> {
        let store = Store::open(&config.data_dir)?;
        seed_watchlists(&store, &config.watchlists)?;
        Ok(Arc::new(App {
            config_feeds: RwLock::new(config.feeds.clone()),
            config,
            store,
            watch: WatchIndex::default(),
            stories: StoryCache::default(),
            feeds_changed: Notify::new(),
            outbox_changed: Notify::new(),
            started: Utc::now(),
            metrics: Metrics::default(),
        }))
    }

    /// Applies a re-read config (SIGHUP): its feeds replace the config feeds, its
    /// watchlists are written into the store. Pending posts in the outbox are untouched.
    pub fn reload(&self, new: &Config) -> Result<ReloadReport, StoreError> {
        seed_watchlists(&self.store, &new.watchlists)?;
        for list in &new.watchlists {
            self.watch.invalidate(&list.name);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> Result<(), StoreError> {
        Err(StoreError::Corrupt {
            tree: "test",
            message: "disk full".into(),
        })
    }

    #[test]
    fn the_write_turn_lets_the_stories_go() {
        let cache = StoryCache::default();
        let stories = cache.lock();
        let turn = cache.write_turn(stories);
        assert!(
            cache.recent.try_lock().is_ok(),
            "the next feed can place items while a batch is written"
        );
        assert!(
            cache.write_turn.try_lock().is_err(),
            "but not write before it"
        );
        drop(turn);
        assert!(cache.write_turn.try_lock().is_ok());
    }

    #[test]
    fn written_batches_are_counted_in_order() {
        let cache = StoryCache::default();
        let first = cache.number_batch();
        let second = cache.number_batch();
        assert!(first < second);
        cache
            .write_turn(cache.lock())
            .write(first, 0, || Ok(()))
            .unwrap();
        assert_eq!(cache.last_written(), first);
        cache
            .write_turn(cache.lock())
            .write(second, 0, || Ok(()))
            .unwrap();
        assert_eq!(cache.last_written(), second);
        assert_eq!(cache.failed_writes(), 0);
    }

    #[test]
    fn a_failed_write_refuses_the_batches_decided_on_it() {
        let cache = StoryCache::default();
        let (a, b) = (cache.number_batch(), cache.number_batch());
        let seen = cache.failed_writes();
        let err = cache
            .write_turn(cache.lock())
            .write(a, seen, refused)
            .unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert_eq!(cache.failed_writes(), seen + 1);
        assert_eq!(cache.last_written(), 0, "nothing was written");

        // B was decided before A failed: it may rest on A's stories and posts.
        let mut wrote = false;
        let err = cache
            .write_turn(cache.lock())
            .write(b, seen, || {
                wrote = true;
                Ok(())
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::Superseded), "{err}");
        assert!(!wrote, "a refused batch is not written at all");

        // A batch decided on stories read after the failure is written.
        let c = cache.number_batch();
        cache
            .write_turn(cache.lock())
            .write(c, cache.failed_writes(), || Ok(()))
            .unwrap();
        assert_eq!(cache.last_written(), c);
    }
}
