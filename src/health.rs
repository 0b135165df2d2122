//! Feed health: what a poll's outcome does to a feed's recorded state (the poller
//! writes it through [`mark_success`] and [`mark_failure`], and schedules the retry with
//! [`backoff_delay`]), and how that state reads to a person ([`health_word`] and
//! [`write_health_notes`], read by the `feeds` and `status` commands and the metrics
//! endpoint). The state itself is a [`FeedState`] record in the store.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::feeds::identity::IdentityMode;
use crate::store::{FeedOrigin, FeedRecord, FeedState};

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

/// Records a successful fetch (a 304 included) at `now`.
pub fn mark_success(state: &mut FeedState, now: DateTime<Utc>) {
    state.last_success = Some(now);
    state.last_attempt = Some(now);
    state.consecutive_failures = 0;
    state.failing_since = None;
}

/// Records a failed fetch at `now` with its `message`.
pub fn mark_failure(state: &mut FeedState, message: &str, now: DateTime<Utc>) {
    state.consecutive_failures += 1;
    state.last_error = Some(message.to_string());
    state.last_error_at = Some(now);
    state.last_attempt = Some(now);
    state.failing_since.get_or_insert(now);
}

/// A feed's health in one word.
pub fn health_word(state: &FeedState) -> &'static str {
    if state.disabled.is_some() {
        return "disabled";
    }
    match (state.last_attempt, state.consecutive_failures) {
        (None, _) => "waiting",
        (Some(_), 0) => "ok",
        (Some(_), 1..=2) => "backing off",
        _ => "failing",
    }
}

/// Extra lines for a feed in `feeds`: why it is disabled, since when it is failing,
/// a permanent redirect the operator should copy into the config, a weakened item
/// identity.
pub fn write_health_notes(out: &mut String, feed: &FeedRecord, state: &FeedState) {
    let when = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    if let Some(d) = &state.disabled {
        let _ = write!(
            out,
            "\n  disabled since {}: {} (remove and re-add the feed, or change its URL, to poll it again)",
            when(d.at),
            d.reason
        );
    } else if let Some(since) = state.failing_since {
        let _ = write!(out, "\n  failing since {}", when(since));
    }
    if let Some(m) = &state.moved
        && feed.origin == FeedOrigin::Config
        && m.to == feed.url
    {
        let _ = write!(
            out,
            "\n  moved permanently from {} (since {}); update the config file",
            crate::feeds::guard::shown_url(&m.from),
            when(m.at)
        );
    }
    if state.identity != IdentityMode::Guid {
        let _ = write!(
            out,
            "\n  items identified by {} (the feed's ids are unreliable)",
            state.identity.as_str()
        );
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
