//! The state every task shares: the validated config, the store, the cache of built
//! watchlist screeners, and the notifications that wake the poller (feeds changed) and
//! the delivery loop (outbox changed). Also where config-defined feeds and watchlists
//! meet the ones added by command.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::config::Config;
use crate::store::{FeedOrigin, FeedRecord, Store, StoreError};
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

/// Shared state of a running bot.
pub struct App {
    /// The validated configuration.
    pub config: Config,
    /// The sled store.
    pub store: Store,
    /// Built watchlist screeners.
    pub watch: WatchIndex,
    /// Signalled when feeds are added or removed.
    pub feeds_changed: Notify,
    /// Signalled when posts are enqueued.
    pub outbox_changed: Notify,
    /// When this process started.
    pub started: DateTime<Utc>,
}

impl App {
    /// Opens the store and applies the config's watchlists to it: entries written in
    /// the config are (re)added on every start; a list's `subscribers` are subscribed
    /// only when the list is first created, so an `unsubscribe` sticks.
    pub fn open(config: Config) -> Result<Arc<App>, StoreError> {
        let store = Store::open(&config.data_dir)?;
        for list in &config.watchlists {
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
        store.flush_blocking()?;
        Ok(Arc::new(App {
            config,
            store,
            watch: WatchIndex::default(),
            feeds_changed: Notify::new(),
            outbox_changed: Notify::new(),
            started: Utc::now(),
        }))
    }

    /// Every feed to poll: the config's, then those added by command.
    pub fn feeds(&self) -> Result<Vec<FeedRecord>, StoreError> {
        let mut feeds: Vec<FeedRecord> = self
            .config
            .feeds
            .iter()
            .map(|f| FeedRecord {
                id: f.id.clone(),
                name: f.name.clone(),
                url: f.url.to_string(),
                kind: f.kind,
                poll_interval_secs: f.poll_interval.as_secs().max(1),
                backfill: f.backfill,
                origin: FeedOrigin::Config,
            })
            .collect();
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
