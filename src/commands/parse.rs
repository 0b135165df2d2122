//! The chat command language: [`split_words`] splits a line (quotes group words),
//! [`Command::parse`] turns it into a [`Command`] or a [`CommandError`] that says how
//! to write it, and [`help_text`] lists the commands. Pure: no store, no room.

use chrono::{NaiveTime, Timelike};

use crate::config::{FeedKind, FollowRule, parse_follow_rule};
use crate::screening::EntryKind;

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `help [command]`
    Help {
        /// The command asked about (its words as typed); `None` lists them all.
        topic: Option<String>,
    },
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
    /// `watch share <list>` / `watch unshare <list>`
    WatchShare {
        /// The list.
        list: String,
        /// Share (true) or stop sharing.
        shared: bool,
    },
    /// `subscriptions`
    Subscriptions,
    /// `feeds` or `feeds all`
    Feeds {
        /// Every feed of the bot (operator admins).
        all: bool,
    },
    /// `feed follow <id> [matches|all] [action…] [authority…]`
    FeedFollow {
        /// The feed id.
        id: String,
        /// How.
        rule: FollowRule,
    },
    /// `feed unfollow <id>`
    FeedUnfollow {
        /// The feed id.
        id: String,
    },
    /// `feed share <id>` / `feed unshare <id>`
    FeedShare {
        /// The feed id.
        id: String,
        /// Share (true) or stop sharing.
        shared: bool,
    },
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
    /// `status` or `status all`
    Status {
        /// The whole bot (operator admins).
        all: bool,
    },
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
    /// Parses a command line (without the prefix): finds the command in [`COMMANDS`]
    /// by its leading words and parses the rest with that command's own parser.
    pub fn parse(line: &str) -> Result<Command, CommandError> {
        let line = line.trim();
        if line.is_empty() {
            return Err(CommandError("Empty command. Try `help`.".into()));
        }
        match find_command(line) {
            Found::Command(spec, rest) => (spec.parse)(rest, spec),
            Found::Group(first, specs) => {
                let forms: Vec<&str> = specs.iter().map(|s| s.usage).collect();
                Err(CommandError(format!(
                    "Usage: {}  (`help {first}` explains each)",
                    forms.join(" | ")
                )))
            }
            Found::Nothing(word) => Err(CommandError(format!(
                "Unknown command {word:?}.{} Try `help`.",
                suggestion(&word)
            ))),
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
                | Command::WatchShare { .. }
                | Command::FeedAdd { .. }
                | Command::FeedRemove { .. }
                | Command::FeedFollow { .. }
                | Command::FeedUnfollow { .. }
                | Command::FeedShare { .. }
                | Command::Stories { on: Some(_) }
                | Command::Digest {
                    change: DigestChange::Off | DigestChange::Daily { .. }
                }
        )
    }
}

/// One command of the chat language: the words that name it, how to write it, what
/// it does, an example, and the parser of what follows its name. [`Command::parse`],
/// `help` and `help <command>` all read [`COMMANDS`], so a command added there is
/// parsed and documented at once.
pub struct CommandSpec {
    /// Its name: one or two lower-case words ("watch add").
    pub name: &'static str,
    /// Other names for it ("lists", "watch rm").
    pub aliases: &'static [&'static str],
    /// How to write it.
    pub usage: &'static str,
    /// What it does, in a line.
    pub summary: &'static str,
    /// An example, without the room prefix.
    pub example: &'static str,
    /// Parses the text after the name (as typed, quotes and all); the spec is its
    /// own, for the usage it answers with.
    parse: fn(&str, &CommandSpec) -> Result<Command, CommandError>,
}

impl CommandSpec {
    /// "Usage: …" with this command's usage.
    fn usage_error(&self) -> CommandError {
        usage(self.usage)
    }
}

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "help",
        aliases: &["?"],
        usage: "help [command]",
        summary: "this list, or how to use one command with an example",
        example: "help watch add",
        parse: |rest, _| {
            Ok(Command::Help {
                topic: (!rest.is_empty()).then(|| rest.to_string()),
            })
        },
    },
    CommandSpec {
        name: "watchlists",
        aliases: &["lists"],
        usage: "watchlists",
        summary: "the watchlists this room can use, their sizes, and which it gets",
        example: "watchlists",
        parse: |rest, spec| no_args(rest, Command::Watchlists, spec),
    },
    CommandSpec {
        name: "watch show",
        aliases: &[],
        usage: "watch show <list>",
        summary: "the names on a list",
        example: "watch show vessels",
        parse: |rest, spec| one_word(rest, |list| Command::WatchShow { list }, spec),
    },
    CommandSpec {
        name: "watch add",
        aliases: &[],
        usage: "watch add <list> <name> [kind] [aliases...]",
        summary: "watch a name (kind: person, organization, vessel, any); a new list belongs to this room",
        example: "watch add vessels \"Lady R\" vessel \"Lady Rose\"",
        parse: |rest, _| parse_watch_add(&split_words(rest)?),
    },
    CommandSpec {
        name: "watch remove",
        aliases: &["watch rm", "watch delete"],
        usage: "watch remove <list> <name>",
        summary: "stop watching a name (its name, an alias or its id)",
        example: "watch remove vessels \"Lady R\"",
        parse: |rest, spec| match split_words(rest)?.as_slice() {
            [list, name] => Ok(Command::WatchRemove {
                list: list.clone(),
                name: name.clone(),
            }),
            [_, _, _, ..] => Err(CommandError(
                "Too many words. Put names with spaces in quotes: watch remove vessels \"Lady R\""
                    .into(),
            )),
            _ => Err(spec.usage_error()),
        },
    },
    CommandSpec {
        name: "watch threshold",
        aliases: &[],
        usage: "watch threshold <list> <score|default>",
        summary: "the score (0-1) a hit on the list needs to be reported",
        example: "watch threshold vessels 0.9",
        parse: |rest, _| match split_words(rest)?.as_slice() {
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
    },
    CommandSpec {
        name: "watch share",
        aliases: &[],
        usage: "watch share <list>",
        summary: "let other rooms subscribe to this room's list (read-only)",
        example: "watch share vessels",
        parse: |rest, spec| {
            one_word(
                rest,
                |list| Command::WatchShare { list, shared: true },
                spec,
            )
        },
    },
    CommandSpec {
        name: "watch unshare",
        aliases: &[],
        usage: "watch unshare <list>",
        summary: "stop sharing this room's list; other rooms' subscriptions end",
        example: "watch unshare vessels",
        parse: |rest, spec| {
            one_word(
                rest,
                |list| Command::WatchShare {
                    list,
                    shared: false,
                },
                spec,
            )
        },
    },
    CommandSpec {
        name: "subscribe",
        aliases: &[],
        usage: "subscribe <list>",
        summary: "get posts in this room when a name on the list appears",
        example: "subscribe vessels",
        parse: |rest, spec| one_word(rest, |list| Command::Subscribe { list }, spec),
    },
    CommandSpec {
        name: "unsubscribe",
        aliases: &[],
        usage: "unsubscribe <list>",
        summary: "stop this room's posts about the list",
        example: "unsubscribe vessels",
        parse: |rest, spec| one_word(rest, |list| Command::Unsubscribe { list }, spec),
    },
    CommandSpec {
        name: "subscriptions",
        aliases: &[],
        usage: "subscriptions",
        summary: "the lists this room gets",
        example: "subscriptions",
        parse: |rest, spec| no_args(rest, Command::Subscriptions, spec),
    },
    CommandSpec {
        name: "feeds",
        aliases: &[],
        usage: "feeds [all]",
        summary: "the feeds this room follows or added, with their health (`all`: every feed, operator admins)",
        example: "feeds",
        parse: |rest, spec| match split_words(rest)?.as_slice() {
            [] => Ok(Command::Feeds { all: false }),
            [w] if w.eq_ignore_ascii_case("all") => Ok(Command::Feeds { all: true }),
            _ => Err(spec.usage_error()),
        },
    },
    CommandSpec {
        name: "feed follow",
        aliases: &[],
        usage: "feed follow <id> [matches|all] [action…] [authority…]",
        summary: "get a feed's posts here: matches (items naming a watched name, the default) or all (every announcement), narrowed to actions (designation, delisting, amendment, general_license, enforcement, export_control) and authorities (US, EU, GB, UN, …)",
        example: "feed follow ofac all designation delisting",
        parse: |rest, spec| {
            let words = split_words(rest)?;
            let Some((id, rule_words)) = words.split_first() else {
                return Err(spec.usage_error());
            };
            let rule_words: Vec<&str> = rule_words.iter().map(String::as_str).collect();
            match parse_follow_rule(&rule_words) {
                Ok(rule) => Ok(Command::FeedFollow {
                    id: id.clone(),
                    rule,
                }),
                Err(message) => Err(CommandError(format!("{message}. Usage: {}", spec.usage))),
            }
        },
    },
    CommandSpec {
        name: "feed unfollow",
        aliases: &[],
        usage: "feed unfollow <id>",
        summary: "stop this room's posts from a feed (the feed itself stays)",
        example: "feed unfollow un-press",
        parse: |rest, spec| one_word(rest, |id| Command::FeedUnfollow { id }, spec),
    },
    CommandSpec {
        name: "feed share",
        aliases: &[],
        usage: "feed share <id>",
        summary: "let other rooms follow a feed this room added",
        example: "feed share example-org",
        parse: |rest, spec| one_word(rest, |id| Command::FeedShare { id, shared: true }, spec),
    },
    CommandSpec {
        name: "feed unshare",
        aliases: &[],
        usage: "feed unshare <id>",
        summary: "stop sharing a feed this room added; other rooms stop getting it",
        example: "feed unshare example-org",
        parse: |rest, spec| one_word(rest, |id| Command::FeedShare { id, shared: false }, spec),
    },
    CommandSpec {
        name: "feed add",
        aliases: &[],
        usage: "feed add <url> [government|news]",
        summary: "poll a new feed for this room (news: only items about sanctions count)",
        example: "feed add https://example.org/sanctions.xml government",
        parse: |rest, spec| match split_words(rest)?.as_slice() {
            [url] => Ok(Command::FeedAdd {
                url: url.clone(),
                kind: FeedKind::News,
            }),
            [url, kind] => match FeedKind::parse(kind) {
                Some(kind) => Ok(Command::FeedAdd {
                    url: url.clone(),
                    kind,
                }),
                None => Err(CommandError(format!(
                    "Unknown feed kind {kind:?}: use government (every item counts) or news (only sanctions news)."
                ))),
            },
            _ => Err(spec.usage_error()),
        },
    },
    CommandSpec {
        name: "feed remove",
        aliases: &["feed rm", "feed delete"],
        usage: "feed remove <id>",
        summary: "stop polling a feed this room added",
        example: "feed remove example-org",
        parse: |rest, spec| one_word(rest, |id| Command::FeedRemove { id }, spec),
    },
    CommandSpec {
        name: "status",
        aliases: &[],
        usage: "status [all]",
        summary: "this room's feeds, lists and posts (`all`: the whole bot, operator admins)",
        example: "status",
        parse: |rest, spec| match split_words(rest)?.as_slice() {
            [] => Ok(Command::Status { all: false }),
            [w] if w.eq_ignore_ascii_case("all") => Ok(Command::Status { all: true }),
            _ => Err(spec.usage_error()),
        },
    },
    CommandSpec {
        name: "test",
        aliases: &[],
        usage: "test <text>",
        summary: "screen some text against this room's watchlists",
        example: "test The tanker Lady R left Novorossiysk",
        parse: |rest, _| {
            if rest.is_empty() {
                return Err(usage("test <text to screen>"));
            }
            Ok(Command::Test {
                text: rest.to_string(),
            })
        },
    },
    CommandSpec {
        name: "search",
        aliases: &["find"],
        usage: "search <words>",
        summary: "the latest items from this room's feeds containing the words",
        example: "search \"Lady R\"",
        parse: |rest, _| {
            let words = split_words(rest)?;
            if words.iter().all(|w| w.trim().is_empty()) {
                return Err(usage("search <words>  (quote a phrase: search \"Lady R\")"));
            }
            Ok(Command::Search { words })
        },
    },
    CommandSpec {
        name: "stories",
        aliases: &[],
        usage: "stories [on|off]",
        summary: "one post per story, other sources threaded under it (default on)",
        example: "stories off",
        parse: |rest, spec| match split_words(rest)?.as_slice() {
            [] => Ok(Command::Stories { on: None }),
            [w] if w.eq_ignore_ascii_case("on") => Ok(Command::Stories { on: Some(true) }),
            [w] if w.eq_ignore_ascii_case("off") => Ok(Command::Stories { on: Some(false) }),
            _ => Err(spec.usage_error()),
        },
    },
    CommandSpec {
        name: "digest",
        aliases: &[],
        usage: "digest daily HH:MM [only] | digest off",
        summary: "a daily digest at HH:MM UTC; `only` replaces live posts",
        example: "digest daily 08:00 only",
        parse: |rest, _| parse_digest(&split_words(rest)?),
    },
];

/// Where a line's leading words lead in [`COMMANDS`].
enum Found<'a> {
    /// A command, with the text after its name.
    Command(&'static CommandSpec, &'a str),
    /// The first word of commands of two words ("watch"), but no second word of one.
    Group(String, Vec<&'static CommandSpec>),
    /// No command: the first word.
    Nothing(String),
}

/// Finds the command `line` starts with: the longest name (or alias) whose words
/// are the line's first words, in any case.
fn find_command(line: &str) -> Found<'_> {
    let mut words = line.split_whitespace().map(str::to_lowercase);
    let first = words.next().unwrap_or_default();
    let second = words.next();
    let mut best: Option<(&'static CommandSpec, usize)> = None;
    for spec in COMMANDS {
        for name in std::iter::once(&spec.name).chain(spec.aliases) {
            let parts: Vec<&str> = name.split(' ').collect();
            let matches = match parts.as_slice() {
                [one] => *one == first,
                [one, two] => *one == first && second.as_deref() == Some(*two),
                _ => false,
            };
            if matches && best.is_none_or(|(_, n)| parts.len() > n) {
                best = Some((spec, parts.len()));
            }
        }
    }
    if let Some((spec, n)) = best {
        let mut rest = line.trim_start();
        for _ in 0..n {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = rest[end..].trim_start();
        }
        return Found::Command(spec, rest.trim_end());
    }
    let group: Vec<&'static CommandSpec> = COMMANDS
        .iter()
        .filter(|s| s.name.split_once(' ').is_some_and(|(one, _)| one == first))
        .collect();
    if group.is_empty() {
        Found::Nothing(first)
    } else {
        Found::Group(first, group)
    }
}

/// " Did you mean `…`?" for the command name nearest to `word` (at most two edits
/// away, or one for short words), else nothing.
fn suggestion(word: &str) -> String {
    let limit = if word.chars().count() <= 4 { 1 } else { 2 };
    let mut best: Option<(usize, &str)> = None;
    for spec in COMMANDS {
        for name in std::iter::once(&spec.name).chain(spec.aliases) {
            let first = name.split(' ').next().unwrap_or(name);
            let d = edit_distance(word, first);
            if d <= limit && best.is_none_or(|(b, _)| d < b) {
                best = Some((d, first));
            }
        }
    }
    match best {
        Some((_, name)) => format!(" Did you mean `{name}`?"),
        None => String::new(),
    }
}

/// Levenshtein distance between `a` and `b`, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

fn no_args(rest: &str, command: Command, spec: &CommandSpec) -> Result<Command, CommandError> {
    if split_words(rest)?.is_empty() {
        Ok(command)
    } else {
        Err(spec.usage_error())
    }
}

fn one_word(
    rest: &str,
    make: fn(String) -> Command,
    spec: &CommandSpec,
) -> Result<Command, CommandError> {
    match split_words(rest)?.as_slice() {
        [list] => Ok(make(list.clone())),
        _ => Err(spec.usage_error()),
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
            let Some((hour, minute)) = parse_time(time) else {
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

/// Parses `HH:MM` (24-hour).
fn parse_time(text: &str) -> Option<(u32, u32)> {
    let t = NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()?;
    Some((t.hour(), t.minute()))
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

/// The answer to `help` (`topic` `None`: every command, one line each) or to
/// `help <topic>` (one command with an example, or the commands of a group such as
/// `watch`), with the room prefix shown in examples.
pub fn help_text(prefix: &str, topic: Option<&str>) -> String {
    let Some(topic) = topic else {
        let mut out = format!("sanctions-watch commands (type them after {prefix} in a room):\n");
        for spec in COMMANDS {
            out.push_str(&format!("  {:<44} {}\n", spec.usage, spec.summary));
        }
        out.push_str(&format!(
            "Quote names with spaces: {prefix} watch add vessels \"Lady R\" vessel \"Lady Rose\"\n`help <command>` explains one, with an example: {prefix} help watch add"
        ));
        return out;
    };
    let one = |spec: &CommandSpec| {
        let mut text = format!(
            "{}\n  {}.\n  Example: {prefix} {}",
            spec.usage, spec.summary, spec.example
        );
        if !spec.aliases.is_empty() {
            text.push_str(&format!("\n  Also written: {}", spec.aliases.join(", ")));
        }
        text
    };
    match find_command(topic) {
        Found::Command(spec, _) => one(spec),
        Found::Group(_, specs) => specs.into_iter().map(one).collect::<Vec<_>>().join("\n"),
        Found::Nothing(word) => format!(
            "There is no command {word:?}.{} `help` lists them all.",
            suggestion(&word)
        ),
    }
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
    fn digest_times_are_24_hour() {
        assert_eq!(parse_time("07:05"), Some((7, 5)));
        assert_eq!(parse_time("25:00"), None);
    }

    #[test]
    fn changes_are_marked() {
        assert!(Command::parse("subscribe x").unwrap().is_change());
        assert!(Command::parse("feed remove x").unwrap().is_change());
        assert!(!Command::parse("feeds").unwrap().is_change());
        assert!(!Command::parse("test x").unwrap().is_change());
    }

    #[test]
    fn every_command_in_the_table_parses_its_own_example_and_has_help() {
        for spec in COMMANDS {
            let parsed = Command::parse(spec.example);
            assert!(parsed.is_ok(), "{}: {:?}", spec.example, parsed);
            let help = help_text("!sw", Some(spec.name));
            assert!(
                help.starts_with(spec.usage) && help.contains(spec.example),
                "help {}: {help}",
                spec.name
            );
            for alias in spec.aliases {
                assert!(
                    help_text("!sw", Some(alias)).starts_with(spec.usage),
                    "help {alias}"
                );
            }
            assert!(help_text("!sw", None).contains(spec.usage), "{}", spec.name);
        }
    }

    #[test]
    fn help_takes_a_command_or_a_group_and_suggests_for_a_typo() {
        assert_eq!(
            Command::parse("help watch add").unwrap(),
            Command::Help {
                topic: Some("watch add".into())
            }
        );
        assert_eq!(Command::parse("?").unwrap(), Command::Help { topic: None });
        let add = help_text("!sw", Some("WATCH ADD"));
        assert!(
            add.contains("Example: !sw watch add vessels \"Lady R\" vessel \"Lady Rose\""),
            "{add}"
        );
        let group = help_text("!sw", Some("watch"));
        for form in ["watch show", "watch add", "watch remove", "watch threshold"] {
            assert!(group.contains(form), "{group}");
        }
        let typo = help_text("!sw", Some("subscibe"));
        assert!(typo.contains("Did you mean `subscribe`?"), "{typo}");
        let nothing = help_text("!sw", Some("frobnicate"));
        assert!(
            nothing.contains("no command") && !nothing.contains("Did you mean"),
            "{nothing}"
        );
    }

    #[test]
    fn an_unknown_command_suggests_the_nearest() {
        for (typed, meant) in [
            ("watchlist", "watchlists"),
            ("subscibe", "subscribe"),
            ("staus", "status"),
            ("serch x", "search"),
        ] {
            let err = Command::parse(typed).unwrap_err();
            assert!(
                err.0.contains("Unknown command") && err.0.contains(&format!("`{meant}`")),
                "{typed}: {}",
                err.0
            );
        }
        let err = Command::parse("watch shw vessels").unwrap_err();
        assert!(err.0.contains("Usage: watch show <list> |"), "{}", err.0);
    }
}
