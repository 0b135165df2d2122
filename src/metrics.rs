//! Operational metrics: the counters and histograms the pipeline, poller, delivery
//! loop and sync loop update as they work, written in the Prometheus text format.
//! [`crate::endpoint`] serves them with the bot's other health figures.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;

/// A Prometheus histogram with fixed buckets (seconds).
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, value: Duration) {
        let secs = value.as_secs_f64();
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add(value.as_micros() as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram").ok();
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            )
            .ok();
        }
        let total = self.count.load(Ordering::Relaxed);
        writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}").ok();
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        writeln!(out, "{name}_sum {sum}\n{name}_count {total}").ok();
    }
}

const FETCH_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
const POST_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// How a fetch ended, for `fetches_total`.
#[derive(Debug, Clone, Copy)]
pub enum FetchResult {
    /// 2xx with a body.
    Ok,
    /// 304.
    NotModified,
    /// Any failure.
    Error,
}

/// Everything counted while the bot runs.
pub struct Metrics {
    fetches_ok: AtomicU64,
    fetches_not_modified: AtomicU64,
    fetches_error: AtomicU64,
    items_new: AtomicU64,
    items_matched: AtomicU64,
    posts_sent: AtomicU64,
    posts_failed: AtomicU64,
    posts_dead: AtomicU64,
    fetch_duration: Histogram,
    post_latency: Histogram,
    /// Unix time of the last successful Matrix sync (0: never).
    last_sync: AtomicI64,
    /// False while the homeserver cannot be reached.
    homeserver_reachable: AtomicBool,
    /// True when this process talks to Matrix (`run`).
    matrix_enabled: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            fetches_ok: AtomicU64::new(0),
            fetches_not_modified: AtomicU64::new(0),
            fetches_error: AtomicU64::new(0),
            items_new: AtomicU64::new(0),
            items_matched: AtomicU64::new(0),
            posts_sent: AtomicU64::new(0),
            posts_failed: AtomicU64::new(0),
            posts_dead: AtomicU64::new(0),
            fetch_duration: Histogram::new(FETCH_BUCKETS),
            post_latency: Histogram::new(POST_BUCKETS),
            last_sync: AtomicI64::new(0),
            homeserver_reachable: AtomicBool::new(true),
            matrix_enabled: AtomicBool::new(false),
        }
    }
}

/// A Matrix sync older than this makes `/ready` false.
pub const STALE_SYNC_AFTER: Duration = Duration::from_secs(120);

impl Metrics {
    /// Counts one fetch and how long it took.
    pub fn record_fetch(&self, result: FetchResult, took: Duration) {
        let counter = match result {
            FetchResult::Ok => &self.fetches_ok,
            FetchResult::NotModified => &self.fetches_not_modified,
            FetchResult::Error => &self.fetches_error,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.fetch_duration.observe(took);
    }

    /// Counts new and matched items of one pipeline run.
    pub fn record_items(&self, new: usize, matched: usize) {
        self.items_new.fetch_add(new as u64, Ordering::Relaxed);
        self.items_matched
            .fetch_add(matched as u64, Ordering::Relaxed);
    }

    /// A post was accepted; `latency` is from enqueueing to acceptance.
    pub fn record_post_sent(&self, latency: Duration) {
        self.posts_sent.fetch_add(1, Ordering::Relaxed);
        self.post_latency.observe(latency);
    }

    /// A delivery attempt failed and will be retried.
    pub fn record_post_failed(&self) {
        self.posts_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// A post was given up on (moved to dead letters).
    pub fn record_post_dead(&self) {
        self.posts_dead.fetch_add(1, Ordering::Relaxed);
    }

    /// Marks this process as a Matrix bot, so `/ready` watches the sync.
    pub fn enable_matrix(&self) {
        self.matrix_enabled.store(true, Ordering::Relaxed);
    }

    /// A sync succeeded.
    pub fn record_sync_ok(&self) {
        self.last_sync
            .store(Utc::now().timestamp(), Ordering::Relaxed);
        self.homeserver_reachable.store(true, Ordering::Relaxed);
    }

    /// A sync failed.
    pub fn record_sync_failed(&self) {
        self.homeserver_reachable.store(false, Ordering::Relaxed);
    }

    /// Posts accepted so far.
    pub fn posts_sent(&self) -> u64 {
        self.posts_sent.load(Ordering::Relaxed)
    }

    /// Writes the fetch, item and post counters in the Prometheus text format.
    pub fn render_counters(&self, out: &mut String) {
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            )
            .ok();
        };
        writeln!(out, "# HELP sanctions_watch_fetches_total Feed fetches by result.\n# TYPE sanctions_watch_fetches_total counter").ok();
        for (result, v) in [
            ("ok", &self.fetches_ok),
            ("not_modified", &self.fetches_not_modified),
            ("error", &self.fetches_error),
        ] {
            writeln!(
                out,
                "sanctions_watch_fetches_total{{result=\"{result}\"}} {}",
                v.load(Ordering::Relaxed)
            )
            .ok();
        }
        counter(
            out,
            "sanctions_watch_items_new_total",
            "Items not seen before.",
            self.items_new.load(Ordering::Relaxed),
        );
        counter(
            out,
            "sanctions_watch_items_matched_total",
            "New items that named a watched entry.",
            self.items_matched.load(Ordering::Relaxed),
        );
        counter(
            out,
            "sanctions_watch_posts_sent_total",
            "Posts accepted by their room.",
            self.posts_sent.load(Ordering::Relaxed),
        );
        counter(
            out,
            "sanctions_watch_posts_failed_total",
            "Delivery attempts that failed and will be retried.",
            self.posts_failed.load(Ordering::Relaxed),
        );
        counter(
            out,
            "sanctions_watch_posts_dead_total",
            "Posts given up on (moved to dead letters).",
            self.posts_dead.load(Ordering::Relaxed),
        );
    }

    /// Writes the fetch and post time histograms and the last sync's time.
    pub fn render_timings(&self, out: &mut String) {
        self.fetch_duration.render(
            out,
            "sanctions_watch_fetch_duration_seconds",
            "Time to fetch a feed.",
        );
        self.post_latency.render(
            out,
            "sanctions_watch_post_latency_seconds",
            "Time from enqueueing a post to its acceptance by the room.",
        );
        writeln!(
            out,
            "# HELP sanctions_watch_last_sync_timestamp_seconds Unix time of the last successful Matrix sync (0: never).\n# TYPE sanctions_watch_last_sync_timestamp_seconds gauge\nsanctions_watch_last_sync_timestamp_seconds {}",
            self.last_sync.load(Ordering::Relaxed)
        )
        .ok();
    }

    /// Why Matrix is not healthy, when this process talks to Matrix: the homeserver
    /// unreachable, or no recent successful sync.
    pub fn sync_problem(&self) -> Option<String> {
        if self.matrix_enabled.load(Ordering::Relaxed) {
            if !self.homeserver_reachable.load(Ordering::Relaxed) {
                return Some("the homeserver is unreachable".into());
            }
            let last = self.last_sync.load(Ordering::Relaxed);
            if last == 0 {
                return Some("no successful sync yet".into());
            }
            if Utc::now().timestamp() - last > STALE_SYNC_AFTER.as_secs() as i64 {
                return Some(format!(
                    "the last successful sync was {}s ago",
                    Utc::now().timestamp() - last
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::new(&[0.1, 1.0]);
        h.observe(Duration::from_millis(50));
        h.observe(Duration::from_millis(500));
        h.observe(Duration::from_secs(5));
        let mut out = String::new();
        h.render(&mut out, "x", "help");
        assert!(out.contains("x_bucket{le=\"0.1\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"1\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count 3"), "{out}");
    }
}
