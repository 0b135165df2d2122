//! Questions about the bot and its items, answered within the room: `status` (the
//! room's feeds, lists and posts; `status all` for operator admins), `test` (against
//! the room's lists) and `search` (items of the feeds the room follows or added), and
//! the small formatting helpers the other families share.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::reply::{CommandContext, CommandResult, Reply, plural};
use crate::access;
use crate::app::App;
use crate::config::format_duration;
use crate::feeds::text::one_line;
use crate::health::health_word;
use crate::store::{FeedRecord, StoreError};
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

/// Feeds in good health and failing among `feeds`.
fn health_counts(app: &App, feeds: &[FeedRecord]) -> Result<(usize, usize), StoreError> {
    let mut healthy = 0;
    let mut failing = 0;
    for f in feeds {
        match health_word(&app.store.feed_state(&f.id)?) {
            "ok" => healthy += 1,
            "waiting" => {}
            _ => failing += 1,
        }
    }
    Ok((healthy, failing))
}

pub(super) fn status(app: &App, ctx: &CommandContext, all: bool) -> CommandResult {
    if all && !ctx.operator {
        return Ok(Reply::new(
            "Refused: `status all` is for operator admins. `status` shows this room's.",
        ));
    }
    let subs = app.store.room_subscriptions(&ctx.room_id)?.len();
    if !all {
        let feeds: Vec<FeedRecord> = access::room_feeds(app, ctx.room_view())?
            .into_iter()
            .filter(|(_, rule)| rule.is_some())
            .map(|(f, _)| f)
            .collect();
        let (healthy, failing) = health_counts(app, &feeds)?;
        let lists = access::usable_lists(app, ctx.room_view())?;
        let names: usize = lists.iter().map(|l| app.store.entry_count(&l.name)).sum();
        let (waiting, undeliverable) = app.store.room_outbox_counts(&ctx.room_id)?;
        return Ok(Reply::new(format!(
            "sanctions-watch {} — up since {} ({})\nthis room follows {} feed{} ({} ok, {} failing) · can use {} watchlist{} with {} names · subscribes to {}\nposts for this room: {} waiting, {} undeliverable",
            env!("CARGO_PKG_VERSION"),
            app.started.format("%Y-%m-%d %H:%M UTC"),
            relative(app.started),
            feeds.len(),
            plural(feeds.len()),
            healthy,
            failing,
            lists.len(),
            plural(lists.len()),
            names,
            subs,
            waiting,
            undeliverable,
        )));
    }
    let feeds = app.feeds()?;
    let (healthy, failing) = health_counts(app, &feeds)?;
    let counts = app.store.counts();
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
    let mut lists: Vec<String> = Vec::new();
    for sub in app.store.room_subscriptions(&ctx.room_id)? {
        if access::visible_list(app, ctx.room_view(), &sub.list)?.is_some() {
            lists.push(sub.list);
        }
    }
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

pub(super) fn search(app: &App, ctx: &CommandContext, words: &[String]) -> CommandResult {
    let most = app.config.limits.search_words;
    if words.len() > most {
        return Ok(Reply::new(format!(
            "A search takes at most {most} words ([limits] search_words); quote a phrase to make it one: search \"Lady R\""
        )));
    }
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
    let feeds: std::collections::HashSet<String> = access::room_feeds(app, ctx.room_view())?
        .into_iter()
        .map(|(f, _)| f.id)
        .collect();
    let (found, scanned) = app.store.search_recent(&wanted, SEARCH_RESULTS, |item| {
        feeds.contains(&item.feed_id)
    })?;
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
