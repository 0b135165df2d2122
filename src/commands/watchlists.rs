//! Watchlist commands, each acting within its room: `watchlists` (the lists the
//! room can use), `watch show`, `watch add` (a new list belongs to the room),
//! `watch remove`, `watch threshold` and `watch share` / `watch unshare`. A list the
//! room may not see answers as a list that does not exist ([`crate::access`]).

use std::fmt::Write as _;

use super::reply::{CommandContext, CommandResult, Reply, plural};
use crate::access::{self, ListAccess};
use crate::app::App;
use crate::config::CONSOLE_ROOM;
use crate::screening::{EntryKind, WatchEntry, entry_id_for, validate_list_name};
use crate::store::{ListRecord, StoreError};

/// Why this room may not change `list` (which it can see), or `None` if it may.
fn change_refusal(list: &ListRecord, access: ListAccess) -> Option<Reply> {
    if access == ListAccess::Change {
        return None;
    }
    Some(Reply::new(match &list.owner {
        None => format!(
            "Watchlist {} is an operator list: only operator admins change it. You can subscribe to it, or make your own with `watch add <new list> <name>`.",
            list.name
        ),
        Some(_) => format!(
            "Watchlist {} belongs to another room, which shares it read-only: only that room changes it.",
            list.name
        ),
    }))
}

/// The list named `name` if this room may change it; otherwise the reply to give.
fn changeable(
    app: &App,
    ctx: &CommandContext,
    name: &str,
) -> Result<Result<ListRecord, Reply>, StoreError> {
    Ok(match access::visible_list(app, ctx.asker(), name)? {
        None => Err(no_such_list(name)),
        Some((list, access)) => match change_refusal(&list, access) {
            Some(refusal) => Err(refusal),
            None => Ok(list),
        },
    })
}

pub(super) fn watchlists(app: &App, ctx: &CommandContext) -> CommandResult {
    let lists = access::usable_lists(app, ctx.room_view())?;
    if lists.is_empty() {
        return Ok(Reply::new(
            "No watchlists for this room yet. Create one with: watch add <list> <name> [kind]",
        ));
    }
    let subscribed: Vec<String> = app
        .store
        .room_subscriptions(&ctx.room_id)?
        .into_iter()
        .map(|s| s.list)
        .collect();
    let mut out = String::from("Watchlists this room can use:");
    for list in lists {
        let n = app.store.entry_count(&list.name);
        let shared = if list.shared { ", shared" } else { "" };
        let whose = match &list.owner {
            None => "operator list".to_string(),
            Some(owner) if *owner == ctx.room_id => format!("this room's{shared}"),
            Some(_) => "shared by another room, read-only".into(),
        };
        let mark = if subscribed.contains(&list.name) {
            " · this room is subscribed"
        } else {
            ""
        };
        write!(
            out,
            "\n• {} — {n} name{} ({whose}){mark}",
            list.name,
            plural(n)
        )
        .ok();
    }
    Ok(Reply::new(out))
}

pub(super) fn watch_show(app: &App, ctx: &CommandContext, list: &str) -> CommandResult {
    if access::visible_list(app, ctx.asker(), list)?.is_none() {
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
        "There is no watchlist {list:?}. `watchlists` shows the ones this room can use."
    ))
}

pub(super) fn watch_add(
    app: &App,
    ctx: &CommandContext,
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
    let limits = &app.config.limits;
    if aliases.len() > limits.aliases_per_name {
        return Ok(Reply::new(format!(
            "A name may have at most {} aliases ([limits] aliases_per_name); this one has {}. Nothing was added.",
            limits.aliases_per_name,
            aliases.len()
        )));
    }
    let entry = WatchEntry::new(name, kind, aliases.to_vec());
    let exists = match app.store.list(list)? {
        None => false,
        Some(record) => match access::list_access(app, ctx.asker(), &record) {
            ListAccess::Hidden => {
                return Ok(Reply::new(format!(
                    "The name {list:?} is taken by another room's list; choose another name for yours."
                )));
            }
            access => {
                if let Some(refusal) = change_refusal(&record, access) {
                    return Ok(refusal);
                }
                true
            }
        },
    };
    if exists && !ctx.operator {
        let on_list = app.store.entry_count(list);
        let already = app.store.entries(list)?.iter().any(|e| e.id == entry.id);
        if !already && on_list >= limits.names_per_list {
            return Ok(Reply::new(format!(
                "Watchlist {list} holds {on_list} names, the most a list takes by command ([limits] names_per_list); the operator can import larger lists. Nothing was added."
            )));
        }
    }
    // What the operator makes in the console is the operator's, like a config list.
    let owner = (ctx.room_id != CONSOLE_ROOM).then_some(ctx.room_id.as_str());
    let created_list = !exists && app.store.create_owned_list(list, owner)?;
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
    if created_list && owner.is_none() {
        write!(
            text,
            " (New watchlist {list}, an operator list: any room may `subscribe {list}`.)"
        )
        .ok();
    } else if created_list {
        write!(
            text,
            " (New watchlist {list}, this room's own: `subscribe {list}` to get its posts here; other rooms cannot see it unless you `watch share {list}`.)"
        )
        .ok();
    }
    Ok(Reply::new(text))
}

pub(super) fn watch_remove(
    app: &App,
    ctx: &CommandContext,
    list: &str,
    name: &str,
) -> CommandResult {
    if let Err(reply) = changeable(app, ctx, list)? {
        return Ok(reply);
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

pub(super) fn watch_threshold(
    app: &App,
    ctx: &CommandContext,
    list: &str,
    threshold: Option<f32>,
) -> CommandResult {
    if let Err(reply) = changeable(app, ctx, list)? {
        return Ok(reply);
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

pub(super) fn watch_share(
    app: &App,
    ctx: &CommandContext,
    list: &str,
    shared: bool,
) -> CommandResult {
    let mut record = match changeable(app, ctx, list)? {
        Ok(record) => record,
        Err(reply) => return Ok(reply),
    };
    let Some(owner) = record.owner.clone() else {
        return Ok(Reply::new(format!(
            "Watchlist {list} is an operator list: rooms may subscribe to it already."
        )));
    };
    if record.shared == shared {
        return Ok(Reply::new(if shared {
            format!("Watchlist {list} is shared already.")
        } else {
            format!("Watchlist {list} is not shared.")
        }));
    }
    record.shared = shared;
    app.store.put_list(&record)?;
    if shared {
        return Ok(Reply::new(format!(
            "Watchlist {list} is shared read-only: other rooms can now `subscribe {list}`; only this room changes it."
        )));
    }
    let mut ended = 0;
    for sub in app.store.all_subscriptions()? {
        if sub.list == list && sub.room_id != owner {
            app.store.unsubscribe(&sub.room_id, list)?;
            ended += 1;
        }
    }
    Ok(Reply::new(format!(
        "Watchlist {list} is no longer shared; {ended} other room{} stop{} getting its posts.",
        plural(ended),
        if ended == 1 { "s" } else { "" }
    )))
}
