//! Feed commands, each acting within its room: `feeds` (the room's feeds with their
//! health; `feeds all` for operator admins), `feed add` (a feed owned and followed
//! by this room), `feed remove`, `feed follow` / `feed unfollow`, and
//! `feed share` / `feed unshare`. Who may do what is [`crate::access`]'s to say.

use std::fmt::Write as _;

use chrono::Utc;

use super::queries::relative;
use super::reply::{CommandContext, CommandResult, Reply, plural};
use crate::access::{self, FeedAccess, FollowBook};
use crate::app::App;
use crate::config::{FeedKind, FollowMode, FollowRule, format_duration, parse_feed_url};
use crate::feeds::guard::shown_url;
use crate::feeds::text::one_line;
use crate::health::{health_word, write_health_notes};
use crate::store::{FeedOrigin, FeedRecord, Follow, OutboxEntry, new_txn_id};
use crate::summary::html::escape;

fn no_such_feed(id: &str) -> Reply {
    Reply::new(format!(
        "There is no feed {id:?}. `feeds` lists this room's feeds."
    ))
}

/// Where a feed comes from, as this room sees it (`all`: as the operator sees it).
fn provenance(ctx: &CommandContext, feed: &FeedRecord, all: bool) -> String {
    match &feed.origin {
        FeedOrigin::Config => "operator feed".into(),
        FeedOrigin::Command { room, .. } if *room == ctx.room_id => {
            if feed.shared {
                "added here, shared".into()
            } else {
                "added here".into()
            }
        }
        FeedOrigin::Command { room, .. } if all => format!(
            "added in {room}{}",
            if feed.shared { ", shared" } else { "" }
        ),
        FeedOrigin::Command { .. } => "shared by another room".into(),
    }
}

pub(super) fn feeds(app: &App, ctx: &CommandContext, all: bool) -> CommandResult {
    if all && !ctx.operator {
        return Ok(Reply::new(
            "Refused: `feeds all` is for operator admins. `feeds` lists this room's feeds.",
        ));
    }
    let book = FollowBook::read(app)?;
    let listed: Vec<(FeedRecord, Option<FollowRule>)> = if all {
        app.feeds()?
            .into_iter()
            .map(|f| {
                let rule = book.rule(app, &ctx.room_id, &f);
                (f, rule)
            })
            .collect()
    } else {
        access::room_feeds(app, ctx.room_view())?
    };
    if listed.is_empty() {
        return Ok(Reply::new(
            "This room follows no feed. `feeds all` (operator admins) or the README lists the operator's; `feed follow <id>` follows one, `feed add <url> [government|news]` adds your own.",
        ));
    }
    let mut out = if all {
        format!("{} feed{} in all:", listed.len(), plural(listed.len()))
    } else {
        format!(
            "{} feed{} for this room:",
            listed.len(),
            plural(listed.len())
        )
    };
    for (f, rule) in listed {
        let s = app.store.feed_state(&f.id)?;
        let following = match &rule {
            Some(rule) => format!("this room follows: {}", rule.describe()),
            None => "this room does not follow it".into(),
        };
        write!(
            out,
            "\n• {} ({}, {}, every {}) — {}\n  {}\n  {following}",
            f.id,
            f.kind.as_str(),
            provenance(ctx, &f, all),
            format_duration(std::time::Duration::from_secs(f.poll_interval_secs)),
            health_word(&s),
            shown_url(&f.url),
        )
        .ok();
        if all {
            let n = book.followers(app, &f).len();
            write!(
                out,
                " · {n} room{} follow{}",
                plural(n),
                if n == 1 { "s" } else { "" }
            )
            .ok();
        }
        write!(
            out,
            "\n  last success: {} · failures: {} · next poll: {}",
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
    if let Some(operator_feed) = feeds
        .iter()
        .find(|f| f.origin == FeedOrigin::Config && f.url == url.as_str())
    {
        return Ok(Reply::new(format!(
            "That URL is the operator feed {id}; follow it here with `feed follow {id}` (add `all` for every announcement).",
            id = operator_feed.id
        )));
    }
    let owned: Vec<&FeedRecord> = feeds
        .iter()
        .filter(|f| matches!(&f.origin, FeedOrigin::Command { room, .. } if *room == ctx.room_id))
        .collect();
    if let Some(existing) = owned.iter().find(|f| f.url == url.as_str()) {
        return Ok(Reply::new(format!(
            "This room already has that URL as feed {}.",
            existing.id
        )));
    }
    let limit = app.config.limits.feeds_per_room;
    if owned.len() >= limit {
        return Ok(Reply::new(format!(
            "Cannot add that feed: this room has added {} feeds, the limit ([limits] feeds_per_room = {limit}). Remove one first with `feed remove <id>`.",
            owned.len()
        )));
    }
    let id = feed_id_for(&url, &feeds);
    let interval = app.config.default_poll_interval;
    let now = Utc::now();
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
            at: now,
        },
        shared: false,
    };
    app.store.put_feed(&record)?;
    app.store.put_follow(&Follow {
        room_id: ctx.room_id.clone(),
        feed_id: id.clone(),
        mode: FollowMode::Matches,
        actions: Vec::new(),
        authorities: Vec::new(),
        since: now,
    })?;
    app.feeds_changed.notify_one();
    Ok(Reply::new(format!(
        "Added feed {id} ({}) for this room, polled every {}. Its current items are the baseline; new ones naming a name on this room's watchlists are posted here (`feed follow {id} all` for every announcement). Other rooms cannot see it unless you `feed share {id}`.",
        kind.as_str(),
        format_duration(interval)
    )))
}

/// The rooms other than the feed's own that follow it now, and a notice saying
/// `plain` for each of those this process serves (enqueued by [`enqueue_notices`]).
fn notices_to_other_followers(
    app: &App,
    feed: &FeedRecord,
    plain: &str,
) -> Result<(Vec<String>, Vec<OutboxEntry>), crate::store::StoreError> {
    let owner = match &feed.origin {
        FeedOrigin::Command { room, .. } => room.as_str(),
        FeedOrigin::Config => "",
    };
    let others: Vec<String> = FollowBook::read(app)?
        .followers(app, feed)
        .into_iter()
        .map(|(room, _)| room)
        .filter(|room| room != owner)
        .collect();
    let now = Utc::now();
    let notices = others
        .iter()
        .filter(|room| app.serves(room))
        .map(|room| OutboxEntry {
            txn_id: new_txn_id(),
            room_id: room.clone(),
            feed_id: feed.id.clone(),
            item_key: format!("notice:feed-gone:{}", now.timestamp()),
            plain: plain.to_string(),
            html: escape(plain),
            created: now,
            attempts: 0,
            not_before: None,
            last_error: None,
        })
        .collect();
    Ok((others, notices))
}

/// Puts `notices` in the outbox, then wakes delivery.
fn enqueue_notices(app: &App, notices: &[OutboxEntry]) -> Result<(), crate::store::StoreError> {
    app.store.enqueue(notices)?;
    if !notices.is_empty() {
        app.outbox_changed.notify_one();
    }
    Ok(())
}

/// The feed `id` if this room added it (or an operator admin asks); otherwise the
/// reply to give: no such feed, `operator_says` for a config feed, `others_say` for
/// another room's shared feed.
fn own_command_feed(
    app: &App,
    ctx: &CommandContext,
    id: &str,
    operator_says: String,
    others_say: String,
) -> Result<Result<FeedRecord, Reply>, crate::store::StoreError> {
    Ok(match access::visible_feed(app, ctx.asker(), id)? {
        None => Err(no_such_feed(id)),
        Some((feed, _)) if feed.origin == FeedOrigin::Config => Err(Reply::new(operator_says)),
        Some((_, access)) if access != FeedAccess::Own => Err(Reply::new(others_say)),
        Some((feed, _)) => Ok(feed),
    })
}

pub(super) fn feed_remove(app: &App, ctx: &CommandContext, id: &str) -> CommandResult {
    let feed = match own_command_feed(
        app,
        ctx,
        id,
        format!(
            "Feed {id} is the operator's, defined in the config file; the operator can remove it there. `feed unfollow {id}` stops its posts here."
        ),
        format!(
            "Feed {id} belongs to another room, which shared it; only that room can remove it. `feed unfollow {id}` stops its posts here."
        ),
    )? {
        Ok(feed) => feed,
        Err(reply) => return Ok(reply),
    };
    let (others, notices) = notices_to_other_followers(
        app,
        &feed,
        &format!(
            "Feed {id} ({}), which this room followed, was removed by the room that added it.",
            feed.name
        ),
    )?;
    app.store.remove_feed(id)?;
    enqueue_notices(app, &notices)?;
    app.feeds_changed.notify_one();
    let told = if others.is_empty() {
        String::new()
    } else {
        format!(
            " The {} other room{} that followed it {} been told.",
            others.len(),
            plural(others.len()),
            if others.len() == 1 { "has" } else { "have" }
        )
    };
    Ok(Reply::new(format!("Removed feed {id}.{told}")))
}

pub(super) fn feed_follow(
    app: &App,
    ctx: &CommandContext,
    id: &str,
    rule: &FollowRule,
) -> CommandResult {
    let Some((feed, _)) = access::visible_feed(app, ctx.room_view(), id)? else {
        return Ok(no_such_feed(id));
    };
    app.store.put_follow(&Follow {
        room_id: ctx.room_id.clone(),
        feed_id: feed.id.clone(),
        mode: rule.mode,
        actions: rule.actions.clone(),
        authorities: rule.authorities.clone(),
        since: Utc::now(),
    })?;
    let what = match rule.mode {
        FollowMode::All => "every announcement it carries",
        _ => "its items that name a name on this room's watchlists",
    };
    let mut narrowed = String::new();
    if !rule.actions.is_empty() {
        write!(narrowed, "; only {}", rule.actions.join(", ")).ok();
    }
    if !rule.authorities.is_empty() {
        write!(narrowed, "; only by {}", rule.authorities.join(", ")).ok();
    }
    Ok(Reply::new(format!(
        "This room now follows {id} ({}): {what}{narrowed}, from its next new items.",
        feed.name
    )))
}

pub(super) fn feed_unfollow(app: &App, ctx: &CommandContext, id: &str) -> CommandResult {
    let Some((feed, _)) = access::visible_feed(app, ctx.asker(), id)? else {
        return Ok(no_such_feed(id));
    };
    let following = FollowBook::read(app)?
        .rule(app, &ctx.room_id, &feed)
        .is_some();
    if !following {
        return Ok(Reply::new(format!("This room does not follow {id}.")));
    }
    if feed.origin == FeedOrigin::Config {
        // Operator feeds are followed by default: remember the choice.
        app.store.put_follow(&Follow {
            room_id: ctx.room_id.clone(),
            feed_id: feed.id.clone(),
            mode: FollowMode::Off,
            actions: Vec::new(),
            authorities: Vec::new(),
            since: Utc::now(),
        })?;
    } else {
        app.store.remove_follow(&ctx.room_id, &feed.id)?;
    }
    Ok(Reply::new(format!(
        "This room no longer gets posts from {id}; the feed itself stays. `feed follow {id}` brings them back."
    )))
}

pub(super) fn feed_share(app: &App, ctx: &CommandContext, id: &str, shared: bool) -> CommandResult {
    let mut feed = match own_command_feed(
        app,
        ctx,
        id,
        format!("Feed {id} is an operator feed: every room may follow it already."),
        format!(
            "Only the room that added feed {id} (or an operator admin) can change its sharing."
        ),
    )? {
        Ok(feed) => feed,
        Err(reply) => return Ok(reply),
    };
    if feed.shared == shared {
        return Ok(Reply::new(if shared {
            format!("Feed {id} is shared already: other rooms can `feed follow {id}`.")
        } else {
            format!("Feed {id} is not shared.")
        }));
    }
    if shared {
        feed.shared = true;
        app.store.put_feed(&feed)?;
        app.feeds_changed.notify_one();
        return Ok(Reply::new(format!(
            "Feed {id} is shared: other rooms can now `feed follow {id}`; only this room can change or remove it."
        )));
    }
    let (others, notices) = notices_to_other_followers(
        app,
        &feed,
        &format!(
            "Feed {id} ({}), which this room followed, is no longer shared by the room that added it; its posts stop here.",
            feed.name
        ),
    )?;
    for room in &others {
        app.store.remove_follow(room, &feed.id)?;
    }
    feed.shared = false;
    app.store.put_feed(&feed)?;
    enqueue_notices(app, &notices)?;
    app.feeds_changed.notify_one();
    Ok(Reply::new(format!(
        "Feed {id} is no longer shared; {} other room{} that followed it stop{} getting its posts.",
        others.len(),
        plural(others.len()),
        if others.len() == 1 { "s" } else { "" }
    )))
}
