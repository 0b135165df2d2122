//! Chat commands, shared by the console and Matrix rooms: [`Command::parse`] turns a
//! line into a command (quoted arguments allowed), and [`apply`] carries it out
//! against the store and answers with a [`Reply`]. No Matrix types here; the room
//! layer says who may change things through [`CommandContext`].

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Timelike, Utc};

use crate::app::App;
use crate::config::{FeedKind, format_duration, parse_feed_url};
use crate::store::{FeedOrigin, FeedRecord, StoreError};
use crate::watch::{EntryKind, WatchEntry, entry_id_for, validate_list_name};

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `help`
    Help,
    /// `watchlists`
    Watchlists,
    /// `watch show <list>`
    WatchShow {
        /// The list.
        list: String,
    },
    /// `watch add <list> <name> [kind] [aliases...]`
    WatchAdd {
        /// The list (created if missing).
        list: String,
        /// The primary name.
        name: String,
        /// The kind (default any).
        kind: EntryKind,
        /// Other names.
        aliases: Vec<String>,
    },
    /// `watch remove <list> <name>`
    WatchRemove {
        /// The list.
        list: String,
        /// The name, an alias or the entry id.
        name: String,
    },
    /// `watch threshold <list> <score|default>`
    WatchThreshold {
        /// The list.
        list: String,
        /// The score hits need (none: the default).
        threshold: Option<f32>,
    },
    /// `subscribe <list>`
    Subscribe {
        /// The list.
        list: String,
    },
    /// `unsubscribe <list>`
    Unsubscribe {
        /// The list.
        list: String,
    },
    /// `subscriptions`
    Subscriptions,
    /// `feeds`
    Feeds,
    /// `feed add <url> [government|news]`
    FeedAdd {
        /// The URL.
        url: String,
        /// The kind (default news).
        kind: FeedKind,
    },
    /// `feed remove <id>`
    FeedRemove {
        /// The feed id.
        id: String,
    },
    /// `status`
    Status,
    /// `test <text>`
    Test {
        /// The text to screen, as typed.
        text: String,
    },
    /// `search <words>`
    Search {
        /// The words (a quoted phrase stays one), as typed.
        words: Vec<String>,
    },
    /// `stories` (show) or `stories on|off`
    Stories {
        /// The new setting; `None` shows the current one.
        on: Option<bool>,
    },
    /// `digest`, `digest off`, `digest daily HH:MM [only]`
    Digest {
        /// What to do.
        change: DigestChange,
    },
}

/// What a `digest` command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestChange {
    /// Show the current setting.
    Show,
    /// No digest.
    Off,
    /// A daily digest at a UTC time, instead of live posts (`only`) or besides them.
    Daily {
        /// Hour (UTC).
        hour: u32,
        /// Minute.
        minute: u32,
        /// True: no live posts, only the digest.
        only: bool,
    },
}

/// A line that is not a valid command; the message says how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CommandError(pub String);

fn usage(text: &str) -> CommandError {
    CommandError(format!("Usage: {text}"))
}

/// Splits a line into words; double or single quotes group words, `\"` escapes.
pub fn split_words(line: &str) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => match chars.next() {
                Some(next) => current.push(next),
                None => return Err(CommandError("a line cannot end with a backslash".into())),
            },
            (Some(_), c) => current.push(c),
            (None, '"' | '\'' | '“' | '”') => {
                quote = Some(if c == '“' { '”' } else { c });
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            (None, c) => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(CommandError("a quote is not closed".into()));
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

impl Command {
    /// Parses a command line (without the prefix).
    pub fn parse(line: &str) -> Result<Command, CommandError> {
        let line = line.trim();
        let (verb, rest) = match line.split_once(char::is_whitespace) {
            Some((v, r)) => (v, r.trim()),
            None => (line, ""),
        };
        let verb = verb.to_lowercase();
        if verb == "test" {
            if rest.is_empty() {
                return Err(usage("test <text to screen>"));
            }
            return Ok(Command::Test {
                text: rest.to_string(),
            });
        }
        let args = split_words(rest)?;
        if verb == "search" || verb == "find" {
            if args.iter().all(|w| w.trim().is_empty()) {
                return Err(usage("search <words>  (quote a phrase: search \"Lady R\")"));
            }
            return Ok(Command::Search { words: args });
        }
        let arg = |i: usize| args.get(i).map(String::as_str);
        let one_list = |make: fn(String) -> Command, form: &str| match args.as_slice() {
            [list] => Ok(make(list.clone())),
            _ => Err(usage(form)),
        };
        match verb.as_str() {
            "" => Err(CommandError("Empty command. Try `help`.".into())),
            "help" | "?" => Ok(Command::Help),
            "watchlists" | "lists" => no_args(&args, Command::Watchlists, "watchlists"),
            "subscriptions" => no_args(&args, Command::Subscriptions, "subscriptions"),
            "feeds" => no_args(&args, Command::Feeds, "feeds"),
            "status" => no_args(&args, Command::Status, "status"),
            "subscribe" => one_list(|list| Command::Subscribe { list }, "subscribe <list>"),
            "stories" => match arg(0).map(str::to_lowercase).as_deref() {
                None => Ok(Command::Stories { on: None }),
                Some("on") if args.len() == 1 => Ok(Command::Stories { on: Some(true) }),
                Some("off") if args.len() == 1 => Ok(Command::Stories { on: Some(false) }),
                _ => Err(usage("stories [on|off]")),
            },
            "digest" => parse_digest(&args),
            "unsubscribe" => one_list(|list| Command::Unsubscribe { list }, "unsubscribe <list>"),
            "watch" => match arg(0).map(str::to_lowercase).as_deref() {
                Some("show") => match &args[1..] {
                    [list] => Ok(Command::WatchShow { list: list.clone() }),
                    _ => Err(usage("watch show <list>")),
                },
                Some("add") => parse_watch_add(&args[1..]),
                Some("remove" | "rm" | "delete") => match &args[1..] {
                    [list, name] => Ok(Command::WatchRemove {
                        list: list.clone(),
                        name: name.clone(),
                    }),
                    [_, _, _, ..] => Err(CommandError(
                        "Too many words. Put names with spaces in quotes: watch remove vessels \"Lady R\"".into(),
                    )),
                    _ => Err(usage("watch remove <list> <name>")),
                },
                Some("threshold") => match &args[1..] {
                    [list, t] if t.eq_ignore_ascii_case("default") => Ok(Command::WatchThreshold {
                        list: list.clone(),
                        threshold: None,
                    }),
                    [list, t] => match t.parse::<f32>() {
                        Ok(v) if (0.0..=1.0).contains(&v) => Ok(Command::WatchThreshold {
                            list: list.clone(),
                            threshold: Some(v),
                        }),
                        _ => Err(CommandError(format!(
                            "{t:?} is not a score between 0 and 1 (or `default`)."
                        ))),
                    },
                    _ => Err(usage("watch threshold <list> <score 0..1|default>")),
                },
                _ => Err(usage("watch show <list> | watch add <list> <name> [kind] [aliases...] | watch remove <list> <name> | watch threshold <list> <score>")),
            },
            "feed" => match arg(0).map(str::to_lowercase).as_deref() {
                Some("add") => match &args[1..] {
                    [url] => Ok(Command::FeedAdd {
                        url: url.clone(),
                        kind: FeedKind::News,
                    }),
                    [url, kind] => match FeedKind::parse(kind) {
                        Some(kind) => Ok(Command::FeedAdd { url: url.clone(), kind }),
                        None => Err(CommandError(format!(
                            "Unknown feed kind {kind:?}: use government (every item counts) or news (only sanctions news)."
                        ))),
                    },
                    _ => Err(usage("feed add <url> [government|news]")),
                },
                Some("remove" | "rm" | "delete") => match &args[1..] {
                    [id] => Ok(Command::FeedRemove { id: id.clone() }),
                    _ => Err(usage("feed remove <id>")),
                },
                _ => Err(usage("feed add <url> [government|news] | feed remove <id>")),
            },
            other => Err(CommandError(format!("Unknown command {other:?}. Try `help`."))),
        }
    }

    /// True for commands that change watchlists, feeds or subscriptions.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Command::WatchAdd { .. }
                | Command::WatchRemove { .. }
                | Command::WatchThreshold { .. }
                | Command::Subscribe { .. }
                | Command::Unsubscribe { .. }
                | Command::FeedAdd { .. }
                | Command::FeedRemove { .. }
                | Command::Stories { on: Some(_) }
                | Command::Digest {
                    change: DigestChange::Off | DigestChange::Daily { .. }
                }
        )
    }
}

fn no_args(args: &[String], command: Command, form: &str) -> Result<Command, CommandError> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(usage(form))
    }
}

fn parse_digest(args: &[String]) -> Result<Command, CommandError> {
    let form = "digest daily HH:MM [only] | digest off  (time in UTC)";
    let words: Vec<String> = args.iter().map(|a| a.to_lowercase()).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let change = match words.as_slice() {
        [] => DigestChange::Show,
        ["off"] => DigestChange::Off,
        ["daily", time] | ["daily", time, "only"] | ["daily", time, "too" | "also"] => {
            let Some((hour, minute)) = crate::digest::parse_time(time) else {
                return Err(CommandError(format!(
                    "{time:?} is not a time: write HH:MM in 24-hour UTC, e.g. digest daily 08:00"
                )));
            };
            DigestChange::Daily {
                hour,
                minute,
                only: words.get(2) == Some(&"only"),
            }
        }
        _ => return Err(usage(form)),
    };
    Ok(Command::Digest { change })
}

fn parse_watch_add(args: &[String]) -> Result<Command, CommandError> {
    let form = "watch add <list> <name> [kind] [aliases...]  (quote names with spaces)";
    let [list, name, rest @ ..] = args else {
        return Err(usage(form));
    };
    let (kind, aliases) = match rest.split_first() {
        None => (EntryKind::Any, Vec::new()),
        Some((kind, aliases)) => match EntryKind::parse(kind) {
            Some(kind) => (kind, aliases.to_vec()),
            None => {
                return Err(CommandError(format!(
                    "{kind:?} is not a kind (person, organization, vessel, any). Put names with spaces in quotes: watch add {list} \"{name} {kind}\" vessel"
                )));
            }
        },
    };
    Ok(Command::WatchAdd {
        list: list.clone(),
        name: name.clone(),
        kind,
        aliases,
    })
}

/// Who is asking, where, and whether they may change things.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// The room the command was typed in (`console` for the terminal).
    pub room_id: String,
    /// Who typed it.
    pub sender: String,
    /// True if the sender may change watchlists, feeds and subscriptions here.
    pub may_change: bool,
    /// Said when a change is refused, e.g. "needs power level 50".
    pub refusal: String,
}

/// A command's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Plain text.
    pub text: String,
}

impl Reply {
    fn new(text: impl Into<String>) -> Reply {
        Reply { text: text.into() }
    }
}

/// The help text, with the room prefix shown.
pub fn help_text(prefix: &str) -> String {
    format!(
        "sanctions-watch commands (type them after {prefix} in a room):
  help                                   this help
  watchlists                             all watchlists, their sizes, and which this room gets
  watch show <list>                      the names on a list
  watch add <list> <name> [kind] [aliases...]
                                         watch a name (kind: person, organization, vessel, any)
  watch remove <list> <name>             stop watching a name
  watch threshold <list> <score|default> the score (0-1) a hit needs to be reported
  subscribe <list> | unsubscribe <list>  get (or stop) posts about a list's names in this room
  subscriptions                          the lists this room gets
  feeds                                  the feeds and their health
  feed add <url> [government|news]       poll a new feed (news: only items about sanctions)
  feed remove <id>                       stop polling a feed added by command
  status                                 what the bot is doing
  test <text>                            screen some text against this room's watchlists
  search <words>                         the latest items from any feed containing the words
  stories [on|off]                       one post per story, other sources threaded under it (default on)
  digest daily HH:MM [only] | digest off a daily digest at HH:MM UTC; `only` replaces live posts
Quote names with spaces: {prefix} watch add vessels \"Lady R\" vessel \"Lady Rose\""
    )
}

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
        Command::Help => Ok(Reply::new(help_text(&app.config.command_prefix))),
        Command::Watchlists => watchlists(app, ctx),
        Command::WatchShow { list } => watch_show(app, list),
        Command::WatchAdd {
            list,
            name,
            kind,
            aliases,
        } => watch_add(app, list, name, *kind, aliases),
        Command::WatchRemove { list, name } => watch_remove(app, list, name),
        Command::WatchThreshold { list, threshold } => watch_threshold(app, list, *threshold),
        Command::Subscribe { list } => subscribe(app, ctx, list),
        Command::Unsubscribe { list } => unsubscribe(app, ctx, list),
        Command::Subscriptions => subscriptions(app, ctx),
        Command::Feeds => feeds(app),
        Command::FeedAdd { url, kind } => feed_add(app, ctx, url, *kind),
        Command::FeedRemove { id } => feed_remove(app, id),
        Command::Status => status(app, ctx),
        Command::Test { text } => test(app, ctx, text),
        Command::Search { words } => search(app, words),
        Command::Stories { on } => stories(app, ctx, *on),
        Command::Digest { change } => digest(app, ctx, *change),
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

type CommandResult = Result<Reply, StoreError>;

fn watchlists(app: &App, ctx: &CommandContext) -> CommandResult {
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

fn watch_show(app: &App, list: &str) -> CommandResult {
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

fn no_such_list(list: &str) -> Reply {
    Reply::new(format!(
        "There is no watchlist {list:?}. `watchlists` shows them all."
    ))
}

fn watch_add(
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
    app.watch.invalidate(list);
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

fn watch_remove(app: &App, list: &str, name: &str) -> CommandResult {
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
    app.watch.invalidate(list);
    Ok(Reply::new(format!(
        "Stopped watching {} on {list}.",
        entry.name
    )))
}

fn watch_threshold(app: &App, list: &str, threshold: Option<f32>) -> CommandResult {
    if !app.store.list_exists(list)? {
        return Ok(no_such_list(list));
    }
    app.store.set_list_threshold(list, threshold)?;
    app.watch.invalidate(list);
    Ok(Reply::new(match threshold {
        Some(t) => format!("Hits on {list} are now reported from a score of {t:.2}."),
        None => format!(
            "Hits on {list} are now reported from the default score of {:.2}.",
            crate::watch::DEFAULT_THRESHOLD
        ),
    }))
}

fn subscribe(app: &App, ctx: &CommandContext, list: &str) -> CommandResult {
    if !app.store.list_exists(list)? {
        return Ok(no_such_list(list));
    }
    if app.store.subscribe(&ctx.room_id, list)? {
        Ok(Reply::new(format!(
            "Subscribed: this room will get posts when a name on {list} appears in new items."
        )))
    } else {
        Ok(Reply::new(format!(
            "This room is already subscribed to {list}."
        )))
    }
}

fn unsubscribe(app: &App, ctx: &CommandContext, list: &str) -> CommandResult {
    if app.store.unsubscribe(&ctx.room_id, list)? {
        Ok(Reply::new(format!("Unsubscribed from {list}.")))
    } else {
        Ok(Reply::new(format!(
            "This room was not subscribed to {list}."
        )))
    }
}

fn subscriptions(app: &App, ctx: &CommandContext) -> CommandResult {
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

/// "3m ago" / "in 5m" relative to now.
fn relative(at: DateTime<Utc>) -> String {
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

/// A feed's health in one word.
pub fn health_word(state: &crate::store::FeedState) -> &'static str {
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

fn feeds(app: &App) -> CommandResult {
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
        crate::feeds::poller::write_health_notes(&mut out, &f, &s);
        if let Some(err) = &s.last_error {
            let when = s.last_error_at.map(relative).unwrap_or_default();
            write!(out, "\n  last error ({when}): {}", one_line(err, 160)).ok();
        }
    }
    Ok(Reply::new(out))
}

fn one_line(s: &str, max: usize) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::feeds::text::truncate_chars(&flat, max)
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

fn feed_add(app: &App, ctx: &CommandContext, url: &str, kind: FeedKind) -> CommandResult {
    let url = match parse_feed_url(url) {
        Ok(u) => u,
        Err(message) => return Ok(Reply::new(format!("Cannot add that feed: {message}."))),
    };
    let operator_feeds = app.config_feeds();
    if let Err(refusal) = crate::feeds::guard::Guard::new(
        &app.config.fetch.allow_private,
        operator_feeds.iter().map(|f| &f.url),
    )
    .check_url(&url)
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

fn feed_remove(app: &App, id: &str) -> CommandResult {
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

fn status(app: &App, ctx: &CommandContext) -> CommandResult {
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

fn test(app: &App, ctx: &CommandContext, text: &str) -> CommandResult {
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
    let hits = app.watch.screen(&app.store, &lists, text)?;
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

fn search(app: &App, words: &[String]) -> CommandResult {
    let wanted: Vec<String> = words
        .iter()
        .map(|w| {
            crate::watch::normalize::tokens(w)
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
        if let Some(link) = item.link {
            write!(out, "\n  {link}").ok();
        }
    }
    Ok(Reply::new(out))
}

fn stories(app: &App, ctx: &CommandContext, on: Option<bool>) -> CommandResult {
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

fn digest(app: &App, ctx: &CommandContext, change: DigestChange) -> CommandResult {
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_group() {
        assert_eq!(
            split_words(r#"add vessels "Lady R" vessel 'Lady Rose' “Леди Р”"#).unwrap(),
            ["add", "vessels", "Lady R", "vessel", "Lady Rose", "Леди Р"]
        );
        assert_eq!(split_words(r#""a \"b\"""#).unwrap(), [r#"a "b""#]);
        assert_eq!(split_words(r#""""#).unwrap(), [""]);
        assert!(split_words(r#"add "Lady R"#).is_err());
    }

    #[test]
    fn watch_threshold_parses_scores_and_default() {
        assert_eq!(
            Command::parse("watch threshold vessels 0.9").unwrap(),
            Command::WatchThreshold {
                list: "vessels".into(),
                threshold: Some(0.9)
            }
        );
        assert_eq!(
            Command::parse("watch threshold vessels default").unwrap(),
            Command::WatchThreshold {
                list: "vessels".into(),
                threshold: None
            }
        );
        assert!(Command::parse("watch threshold vessels 2").is_err());
    }

    #[test]
    fn watch_add_parses_kind_and_aliases() {
        assert_eq!(
            Command::parse(r#"watch add vessels "Lady R" vessel "Lady Rose""#).unwrap(),
            Command::WatchAdd {
                list: "vessels".into(),
                name: "Lady R".into(),
                kind: EntryKind::Vessel,
                aliases: vec!["Lady Rose".into()],
            }
        );
        assert_eq!(
            Command::parse("WATCH ADD people Kim").unwrap(),
            Command::WatchAdd {
                list: "people".into(),
                name: "Kim".into(),
                kind: EntryKind::Any,
                aliases: vec![],
            }
        );
    }

    #[test]
    fn unquoted_multiword_name_gets_a_hint() {
        let err = Command::parse("watch add vessels Lady R vessel").unwrap_err();
        assert!(
            err.0.contains("not a kind") && err.0.contains("quotes"),
            "{}",
            err.0
        );
    }

    #[test]
    fn malformed_commands_get_usage() {
        for (line, expect) in [
            ("", "Empty command"),
            ("frobnicate", "Unknown command"),
            ("subscribe", "Usage: subscribe <list>"),
            ("subscribe a b", "Usage: subscribe <list>"),
            ("watch", "Usage: watch"),
            ("watch show", "Usage: watch show"),
            ("feed add", "Usage: feed add"),
            ("feed add https://x.example/ blog", "Unknown feed kind"),
            ("test", "Usage: test"),
            ("feeds now", "Usage: feeds"),
        ] {
            let err = Command::parse(line).unwrap_err();
            assert!(err.0.contains(expect), "{line:?} gave {:?}", err.0);
        }
    }

    #[test]
    fn test_keeps_the_raw_text() {
        assert_eq!(
            Command::parse("test The \"Lady R\" sailed").unwrap(),
            Command::Test {
                text: "The \"Lady R\" sailed".into()
            }
        );
    }

    #[test]
    fn changes_are_marked() {
        assert!(Command::parse("subscribe x").unwrap().is_change());
        assert!(Command::parse("feed remove x").unwrap().is_change());
        assert!(!Command::parse("feeds").unwrap().is_change());
        assert!(!Command::parse("test x").unwrap().is_change());
    }
}
