//! What a room receives: `subscribe`, `unsubscribe`, `subscriptions`, and the room's
//! settings `stories` and `digest`.

use std::fmt::Write as _;

use chrono::{Timelike, Utc};

use super::parse::DigestChange;
use super::reply::{CommandContext, CommandResult, Reply};
use super::watchlists::no_such_list;
use crate::app::App;

pub(super) fn subscribe(app: &App, ctx: &CommandContext, list: &str) -> CommandResult {
    if crate::access::visible_list(app, ctx.room_view(), list)?.is_none() {
        return Ok(no_such_list(list));
    }
    if app.store.subscribe(&ctx.room_id, list)? {
        Ok(Reply::new(format!(
            "Subscribed: this room will get posts when a name on {list} appears in new items of the feeds it follows (`feeds`)."
        )))
    } else {
        Ok(Reply::new(format!(
            "This room is already subscribed to {list}."
        )))
    }
}

pub(super) fn unsubscribe(app: &App, ctx: &CommandContext, list: &str) -> CommandResult {
    if app.store.unsubscribe(&ctx.room_id, list)? {
        Ok(Reply::new(format!("Unsubscribed from {list}.")))
    } else {
        Ok(Reply::new(format!(
            "This room was not subscribed to {list}."
        )))
    }
}

pub(super) fn subscriptions(app: &App, ctx: &CommandContext) -> CommandResult {
    let subs = app.store.room_subscriptions(&ctx.room_id)?;
    if subs.is_empty() {
        return Ok(Reply::new(
            "This room subscribes to no watchlist. `watchlists` shows them; `subscribe <list>` picks one.",
        ));
    }
    let mut out = String::from("This room gets posts for:");
    for s in subs {
        write!(
            out,
            "\n• {} (since {})",
            s.list,
            s.since.format("%Y-%m-%d %H:%M UTC")
        )
        .ok();
    }
    Ok(Reply::new(out))
}

pub(super) fn stories(app: &App, ctx: &CommandContext, on: Option<bool>) -> CommandResult {
    let mut settings = app.store.room_settings(&ctx.room_id)?;
    if let Some(on) = on {
        settings.stories = on;
        app.store.put_room_settings(&ctx.room_id, &settings)?;
    }
    Ok(Reply::new(if settings.stories {
        "Stories are on: the first report of an announcement is posted, and other sources are added as threaded \"also reported by\" replies under it."
    } else {
        "Stories are off: every matching item is posted on its own."
    }))
}

pub(super) fn digest(app: &App, ctx: &CommandContext, change: DigestChange) -> CommandResult {
    let mut settings = app.store.room_settings(&ctx.room_id)?;
    match change {
        DigestChange::Show => {}
        DigestChange::Off => settings.digest = None,
        DigestChange::Daily { hour, minute, only } => {
            let today = Utc::now().date_naive();
            let already_passed =
                (Utc::now().time().hour(), Utc::now().time().minute()) >= (hour, minute);
            settings.digest = Some(crate::store::DigestSetting {
                hour,
                minute,
                only,
                // A time already past today starts tomorrow.
                last_sent: already_passed.then_some(today),
            });
        }
    }
    if change != DigestChange::Show {
        app.store.put_room_settings(&ctx.room_id, &settings)?;
    }
    Ok(Reply::new(match &settings.digest {
        None => "No daily digest: matching items are posted as they come.".to_string(),
        Some(d) => format!(
            "Daily digest at {:02}:{:02} UTC of the stories that matched this room's watchlists, {}.",
            d.hour,
            d.minute,
            if d.only {
                "instead of live posts"
            } else {
                "besides the live posts"
            }
        ),
    }))
}
