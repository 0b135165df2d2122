//! Watchlist commands: `watchlists`, `watch show`, `watch add`, `watch remove` and
//! `watch threshold`.

use std::fmt::Write as _;

use super::reply::{CommandContext, CommandResult, Reply, plural};
use crate::app::App;
use crate::screening::{EntryKind, WatchEntry, entry_id_for, validate_list_name};

pub(super) fn watchlists(app: &App, ctx: &CommandContext) -> CommandResult {
    let lists = app.store.lists()?;
    if lists.is_empty() {
        return Ok(Reply::new(
            "No watchlists yet. Create one with: watch add <list> <name> [kind]",
        ));
    }
    let subscribed: Vec<String> = app
        .store
        .room_subscriptions(&ctx.room_id)?
        .into_iter()
        .map(|s| s.list)
        .collect();
    let mut out = String::from("Watchlists:");
    for list in lists {
        let n = app.store.entry_count(&list.name);
        let mark = if subscribed.contains(&list.name) {
            " (this room is subscribed)"
        } else {
            ""
        };
        write!(out, "\n• {} — {n} name{}{mark}", list.name, plural(n)).ok();
    }
    Ok(Reply::new(out))
}

pub(super) fn watch_show(app: &App, list: &str) -> CommandResult {
    if !app.store.list_exists(list)? {
        return Ok(no_such_list(list));
    }
    let entries = app.store.entries(list)?;
    if entries.is_empty() {
        return Ok(Reply::new(format!("Watchlist {list} is empty.")));
    }
    const SHOWN: usize = 50;
    let mut out = format!(
        "Watchlist {list} ({} name{}):",
        entries.len(),
        plural(entries.len())
    );
    for e in entries.iter().take(SHOWN) {
        write!(out, "\n• {} ({})", e.name, e.kind.as_str()).ok();
        if !e.aliases.is_empty() {
            write!(out, " — also {}", e.aliases.join(", ")).ok();
        }
    }
    if entries.len() > SHOWN {
        write!(out, "\n… and {} more", entries.len() - SHOWN).ok();
    }
    Ok(Reply::new(out))
}

pub(super) fn no_such_list(list: &str) -> Reply {
    Reply::new(format!(
        "There is no watchlist {list:?}. `watchlists` shows them all."
    ))
}

pub(super) fn watch_add(
    app: &App,
    list: &str,
    name: &str,
    kind: EntryKind,
    aliases: &[String],
) -> CommandResult {
    if let Err(message) = validate_list_name(list) {
        return Ok(Reply::new(message));
    }
    if entry_id_for(name).is_empty() {
        return Ok(Reply::new("A name needs at least one letter or digit."));
    }
    let entry = WatchEntry::new(name, kind, aliases.to_vec());
    let created_list = app.store.create_list(list)?;
    let new = app.store.put_entry(list, &entry)?;
    app.screeners.invalidate(list);
    let mut text = if new {
        format!("Watching {} ({}) on {list}", entry.name, kind.as_str())
    } else {
        format!("Updated {} ({}) on {list}", entry.name, kind.as_str())
    };
    if !entry.aliases.is_empty() {
        write!(text, ", also known as {}", entry.aliases.join(", ")).ok();
    }
    text.push('.');
    if created_list {
        write!(
            text,
            " (New watchlist {list}: `subscribe {list}` to get its posts here.)"
        )
        .ok();
    }
    Ok(Reply::new(text))
}

pub(super) fn watch_remove(app: &App, list: &str, name: &str) -> CommandResult {
    if !app.store.list_exists(list)? {
        return Ok(no_such_list(list));
    }
    let wanted = entry_id_for(name);
    let entries = app.store.entries(list)?;
    let found = entries
        .iter()
        .find(|e| e.id == name || e.id == wanted)
        .or_else(|| {
            entries
                .iter()
                .find(|e| e.names().any(|n| entry_id_for(n) == wanted))
        });
    let Some(entry) = found else {
        return Ok(Reply::new(format!(
            "{name:?} is not on {list}. `watch show {list}` lists its names."
        )));
    };
    app.store.remove_entry(list, &entry.id)?;
    app.screeners.invalidate(list);
    Ok(Reply::new(format!(
        "Stopped watching {} on {list}.",
        entry.name
    )))
}

pub(super) fn watch_threshold(app: &App, list: &str, threshold: Option<f32>) -> CommandResult {
    if !app.store.list_exists(list)? {
        return Ok(no_such_list(list));
    }
    app.store.set_list_threshold(list, threshold)?;
    app.screeners.invalidate(list);
    Ok(Reply::new(match threshold {
        Some(t) => format!("Hits on {list} are now reported from a score of {t:.2}."),
        None => format!(
            "Hits on {list} are now reported from the default score of {:.2}.",
            crate::screening::DEFAULT_THRESHOLD
        ),
    }))
}
