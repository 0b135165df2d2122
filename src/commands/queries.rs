//! Questions about the bot and its items: `status`, `test` and `search`, and the
//! small formatting helpers the other families share.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::reply::{CommandContext, CommandResult, Reply, plural};
use crate::app::App;
use crate::config::format_duration;
use crate::feeds::text::one_line;
use crate::health::health_word;
use crate::summary::post::shown_link;

/// "3m ago" / "in 5m" relative to now.
pub(super) fn relative(at: DateTime<Utc>) -> String {
    let now = Utc::now();
    if at <= now {
        let d = (now - at).to_std().unwrap_or_default();
        format!(
            "{} ago",
            format_duration(std::time::Duration::from_secs(d.as_secs()))
        )
    } else {
        let d = (at - now).to_std().unwrap_or_default();
        format!(
            "in {}",
            format_duration(std::time::Duration::from_secs(d.as_secs().max(1)))
        )
    }
}

pub(super) fn status(app: &App, ctx: &CommandContext) -> CommandResult {
    let feeds = app.feeds()?;
    let mut healthy = 0;
    let mut failing = 0;
    for f in &feeds {
        match health_word(&app.store.feed_state(&f.id)?) {
            "ok" => healthy += 1,
            "waiting" => {}
            _ => failing += 1,
        }
    }
    let counts = app.store.counts();
    let subs = app.store.room_subscriptions(&ctx.room_id)?.len();
    Ok(Reply::new(format!(
        "sanctions-watch {} — up since {} ({})\nfeeds: {} ({} ok, {} failing) · items seen: {}\nwatchlists: {} with {} names · this room subscribes to {}\noutbox: {} waiting, {} undeliverable",
        env!("CARGO_PKG_VERSION"),
        app.started.format("%Y-%m-%d %H:%M UTC"),
        relative(app.started),
        feeds.len(),
        healthy,
        failing,
        counts.seen_items,
        counts.watchlists,
        counts.entries,
        subs,
        counts.outbox,
        counts.dead_letters,
    )))
}

pub(super) fn test(app: &App, ctx: &CommandContext, text: &str) -> CommandResult {
    let lists: Vec<String> = app
        .store
        .room_subscriptions(&ctx.room_id)?
        .into_iter()
        .map(|s| s.list)
        .collect();
    if lists.is_empty() {
        return Ok(Reply::new(
            "This room subscribes to no watchlist, so there is nothing to test against. `subscribe <list>` first.",
        ));
    }
    let hits = app.screeners.screen(&app.store, &lists, text)?;
    if hits.is_empty() {
        return Ok(Reply::new(format!("No hits in {}.", lists.join(", "))));
    }
    let mut out = format!("{} hit{}:", hits.len(), plural(hits.len()));
    for h in hits {
        write!(
            out,
            "\n• {} ({}, watchlist {}) matched “{}” at {}..{} — {}, score {:.2}",
            h.name,
            h.kind.as_str(),
            h.list,
            h.matched_text,
            h.start,
            h.end,
            h.reason,
            h.score
        )
        .ok();
    }
    Ok(Reply::new(out))
}

/// Results shown by `search`.
const SEARCH_RESULTS: usize = 10;

pub(super) fn search(app: &App, words: &[String]) -> CommandResult {
    let wanted: Vec<String> = words
        .iter()
        .map(|w| {
            crate::screening::normalize::tokens(w)
                .into_iter()
                .map(|t| t.norm)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|w| !w.is_empty())
        .collect();
    if wanted.is_empty() {
        return Ok(Reply::new(
            "Search for at least one word with a letter or digit.",
        ));
    }
    let (found, scanned) = app.store.search_recent(&wanted, SEARCH_RESULTS)?;
    if found.is_empty() {
        return Ok(Reply::new(format!(
            "No item among the {scanned} most recent contains {}.",
            words.join(" ")
        )));
    }
    let mut out = format!(
        "{} most recent item{} containing {}:",
        found.len(),
        plural(found.len()),
        words.join(" ")
    );
    for item in found {
        let date = item
            .published
            .unwrap_or(item.seen)
            .format("%Y-%m-%d %H:%M UTC");
        write!(
            out,
            "\n• {} — {}, {date}",
            one_line(&item.title, 160),
            item.source
        )
        .ok();
        if let Some(link) = shown_link(item.link.as_deref()) {
            write!(out, "\n  {link}").ok();
        }
    }
    Ok(Reply::new(out))
}
