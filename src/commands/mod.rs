//! Chat commands, shared by the console and Matrix rooms: [`Command::parse`] turns a
//! line into a command (quoted arguments allowed), and [`apply`] carries it out
//! against the store and answers with a [`Reply`]. No Matrix types here; the room
//! layer says who may change things through [`CommandContext`]. Every command acts
//! within its room: what a room may see and change is [`crate::access`]'s to say.
//! The parser is in [`parse`]; the handlers are grouped by family: [`watchlists`]
//! (lists and their names), [`feeds`] (the room's feeds and follows), [`rooms`]
//! (subscriptions and the room's settings) and [`queries`] (status, test, search).

use std::sync::Arc;

use crate::app::App;

pub mod feeds;
pub mod parse;
pub mod queries;
pub mod reply;
pub mod rooms;
pub mod watchlists;

pub use parse::{
    COMMANDS, Command, CommandError, CommandSpec, DigestChange, help_text, split_words,
};
pub use reply::{CommandContext, Reply};

/// Parses and applies one line; errors become helpful replies.
pub fn handle_line(app: &Arc<App>, ctx: &CommandContext, line: &str) -> Reply {
    match Command::parse(line) {
        Ok(command) => apply(app, ctx, &command),
        Err(e) => Reply::new(e.0),
    }
}

/// Carries out `command` for `ctx`.
pub fn apply(app: &Arc<App>, ctx: &CommandContext, command: &Command) -> Reply {
    if command.is_change() && !ctx.may_change {
        return Reply::new(format!("Refused: {}", ctx.refusal));
    }
    let result = match command {
        Command::Help { topic } => Ok(Reply::new(help_text(
            &app.config.command_prefix,
            topic.as_deref(),
        ))),
        Command::Watchlists => watchlists::watchlists(app, ctx),
        Command::WatchShow { list } => watchlists::watch_show(app, ctx, list),
        Command::WatchAdd {
            list,
            name,
            kind,
            aliases,
        } => watchlists::watch_add(app, ctx, list, name, *kind, aliases),
        Command::WatchRemove { list, name } => watchlists::watch_remove(app, ctx, list, name),
        Command::WatchThreshold { list, threshold } => {
            watchlists::watch_threshold(app, ctx, list, *threshold)
        }
        Command::WatchShare { list, shared } => watchlists::watch_share(app, ctx, list, *shared),
        Command::Subscribe { list } => rooms::subscribe(app, ctx, list),
        Command::Unsubscribe { list } => rooms::unsubscribe(app, ctx, list),
        Command::Subscriptions => rooms::subscriptions(app, ctx),
        Command::Feeds { all } => feeds::feeds(app, ctx, *all),
        Command::FeedAdd { url, kind } => feeds::feed_add(app, ctx, url, *kind),
        Command::FeedRemove { id } => feeds::feed_remove(app, ctx, id),
        Command::FeedFollow { id, rule } => feeds::feed_follow(app, ctx, id, rule),
        Command::FeedUnfollow { id } => feeds::feed_unfollow(app, ctx, id),
        Command::FeedShare { id, shared } => feeds::feed_share(app, ctx, id, *shared),
        Command::Status { all } => queries::status(app, ctx, *all),
        Command::Test { text } => queries::test(app, ctx, text),
        Command::Search { words } => queries::search(app, ctx, words),
        Command::Stories { on } => rooms::stories(app, ctx, *on),
        Command::Digest { change } => rooms::digest(app, ctx, *change),
    };
    let reply = result.unwrap_or_else(|e| {
        tracing::error!(room = %ctx.room_id, error = %e, "command failed");
        Reply::new(format!("Sorry, the store failed: {e}"))
    });
    if command.is_change() {
        // Changes count only once they are on disk.
        if let Err(e) = app.store.flush_blocking() {
            return Reply::new(format!("Sorry, the change may not be saved: {e}"));
        }
    }
    reply
}
