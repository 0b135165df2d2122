//! Feed commands: `feeds` (with each feed's health), `feed add` and `feed remove`.

use std::fmt::Write as _;

use chrono::Utc;

use super::queries::relative;
use super::reply::{CommandContext, CommandResult, Reply, plural};
use crate::app::App;
use crate::config::{FeedKind, format_duration, parse_feed_url};
use crate::feeds::text::one_line;
use crate::health::{health_word, write_health_notes};
use crate::store::{FeedOrigin, FeedRecord};

pub(super) fn feeds(app: &App) -> CommandResult {
    let feeds = app.feeds()?;
    if feeds.is_empty() {
        return Ok(Reply::new(
            "No feeds. Add one with: feed add <url> [government|news]",
        ));
    }
    let mut out = format!("{} feed{}:", feeds.len(), plural(feeds.len()));
    for f in feeds {
        let s = app.store.feed_state(&f.id)?;
        write!(
            out,
            "\n• {} ({}, every {}) — {}\n  {}\n  last success: {} · failures: {} · next poll: {}",
            f.id,
            f.kind.as_str(),
            format_duration(std::time::Duration::from_secs(f.poll_interval_secs)),
            health_word(&s),
            f.url,
            s.last_success.map_or("never".into(), relative),
            s.consecutive_failures,
            match (&s.disabled, s.next_poll) {
                (Some(_), _) => "never (disabled)".into(),
                (None, at) => at.map_or("now".into(), relative),
            },
        )
        .ok();
        write_health_notes(&mut out, &f, &s);
        if let Some(err) = &s.last_error {
            let when = s.last_error_at.map(relative).unwrap_or_default();
            write!(out, "\n  last error ({when}): {}", one_line(err, 160)).ok();
        }
    }
    Ok(Reply::new(out))
}

fn feed_id_for(url: &url::Url, taken: &[FeedRecord]) -> String {
    let host = url.host_str().unwrap_or("feed").trim_start_matches("www.");
    let base: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    let mut id = base.clone();
    let mut n = 2;
    while taken.iter().any(|f| f.id == id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

pub(super) fn feed_add(
    app: &App,
    ctx: &CommandContext,
    url: &str,
    kind: FeedKind,
) -> CommandResult {
    let url = match parse_feed_url(url) {
        Ok(u) => u,
        Err(message) => return Ok(Reply::new(format!("Cannot add that feed: {message}."))),
    };
    if let Err(refusal) =
        crate::feeds::guard::check_command_feed_url(&app.config.fetch.allow_private, &url)
    {
        return Ok(Reply::new(format!("Cannot add that feed: {refusal}.")));
    }
    let feeds = app.feeds()?;
    if let Some(existing) = feeds.iter().find(|f| f.url == url.as_str()) {
        return Ok(Reply::new(format!(
            "That URL is already polled as feed {}; every room's watchlists are screened against it.",
            existing.id
        )));
    }
    let id = feed_id_for(&url, &feeds);
    let interval = app.config.default_poll_interval;
    let record = FeedRecord {
        id: id.clone(),
        name: url.host_str().unwrap_or(&id).to_string(),
        url: url.to_string(),
        kind,
        poll_interval_secs: interval.as_secs().max(1),
        backfill: 0,
        origin: FeedOrigin::Command {
            room: ctx.room_id.clone(),
            by: ctx.sender.clone(),
            at: Utc::now(),
        },
    };
    app.store.put_feed(&record)?;
    app.feeds_changed.notify_one();
    Ok(Reply::new(format!(
        "Added feed {id} ({}), polled every {}. Its current items are the baseline; new ones will be screened.",
        kind.as_str(),
        format_duration(interval)
    )))
}

pub(super) fn feed_remove(app: &App, id: &str) -> CommandResult {
    match app.feed(id)? {
        None => Ok(Reply::new(format!(
            "There is no feed {id:?}. `feeds` lists them."
        ))),
        Some(f) if f.origin == FeedOrigin::Config => Ok(Reply::new(format!(
            "Feed {id} is defined in the config file; the operator can remove it there."
        ))),
        Some(_) => {
            app.store.remove_feed(id)?;
            app.feeds_changed.notify_one();
            Ok(Reply::new(format!("Removed feed {id}.")))
        }
    }
}
