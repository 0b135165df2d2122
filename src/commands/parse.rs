//! The chat command language: [`split_words`] splits a line (quotes group words),
//! [`Command::parse`] turns it into a [`Command`] or a [`CommandError`] that says how
//! to write it, and [`help_text`] lists the commands. Pure: no store, no room.

use chrono::{NaiveTime, Timelike};

use crate::config::FeedKind;
use crate::screening::EntryKind;

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
}
