//! Configuration: the TOML file an operator writes, deserialised strictly
//! (`deny_unknown_fields`) into raw structs and then validated into [`Config`], the only
//! form the rest of the bot sees. Every error names the key and the line it is on;
//! questionable but legal settings become [`ConfigWarning`]s that `check-config` prints.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::screening::{EntryKind, WatchEntry};

/// The smallest poll interval accepted; tests use it, real feeds should not.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A configuration problem, with the line it was found on when known.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax, an unknown key or a value of the wrong type.
    #[error("{0}")]
    Syntax(String),
    /// A value that parses but makes no sense.
    #[error("line {line}: `{key}`: {message}")]
    Invalid {
        /// 1-based line of the offending value (0 when unknown).
        line: usize,
        /// Dotted key path, e.g. `feeds[2].url`.
        key: String,
        /// What is wrong and what would be right.
        message: String,
    },
}

/// A legal setting that is probably not what the operator wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// Dotted key path.
    pub key: String,
    /// The advice.
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: `{}`: {}", self.line, self.key, self.message)
    }
}

/// Whether every item of a feed is an announcement or only those that read like one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// An official source: every item counts as a sanctions announcement.
    Government,
    /// A news source: only items with sanctions vocabulary count.
    News,
}

impl FeedKind {
    /// The lower-case name used in config and commands.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Government => "government",
            FeedKind::News => "news",
        }
    }

    /// Parses `government` or `news` (case-insensitive).
    pub fn parse(s: &str) -> Option<FeedKind> {
        match s.to_ascii_lowercase().as_str() {
            "government" | "gov" => Some(FeedKind::Government),
            "news" => Some(FeedKind::News),
            _ => None,
        }
    }
}

/// One feed defined by the operator in the config file.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedConfig {
    /// Short stable identifier (letters, digits, `-`, `_`, `.`).
    pub id: String,
    /// Human-readable name shown in posts; defaults to the id.
    pub name: String,
    /// The feed URL (http or https).
    pub url: url::Url,
    /// Government or news.
    pub kind: FeedKind,
    /// How often to poll when healthy.
    pub poll_interval: Duration,
    /// On the first fetch, post the newest N items instead of only marking them seen.
    pub backfill: usize,
    /// The rooms that follow it, each with its rule; `None`: every room, in matches
    /// mode (what every operator feed did before rooms chose their feeds).
    pub followers: Option<Vec<(String, FollowRule)>>,
}

/// How a room follows a feed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FollowMode {
    /// Only items that name a name on the room's watchlists.
    #[default]
    Matches,
    /// Every announcement of the feed (within the rule's actions and authorities).
    All,
    /// Not at all: the room unfollowed a feed it would otherwise follow by default.
    Off,
}

impl FollowMode {
    /// The word used in commands and replies.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowMode::Matches => "matches",
            FollowMode::All => "all",
            FollowMode::Off => "off",
        }
    }
}

/// A room's rule for one feed, as written after `feed follow <id>` or after the room
/// in a feed's `followers`: `[matches|all] [action…] [authority…]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowRule {
    /// Matches (default) or all.
    pub mode: FollowMode,
    /// Only these actions (see [`ACTION_WORDS`]); empty: any.
    pub actions: Vec<String>,
    /// Only these acting authorities (`US`, `EU`, `GB`, `UN`, …); empty: any.
    pub authorities: Vec<String>,
}

/// The actions a follow can be narrowed to, as the recogniser names them.
pub const ACTION_WORDS: [&str; 7] = [
    "designation",
    "delisting",
    "amendment",
    "general_license",
    "enforcement",
    "export_control",
    "other",
];

/// Parses `[matches|all] [action…] [authority…]` (any case, any order after the
/// mode). Authorities are two-letter codes (`UK` is read as `GB`).
pub fn parse_follow_rule(words: &[&str]) -> Result<FollowRule, String> {
    let mut rule = FollowRule::default();
    for (i, word) in words.iter().enumerate() {
        let w = word.to_ascii_lowercase().replace('-', "_");
        match w.as_str() {
            "matches" | "match" if i == 0 => rule.mode = FollowMode::Matches,
            "all" | "every" if i == 0 => rule.mode = FollowMode::All,
            _ => {
                let singular = w.trim_end_matches('s');
                let action = match singular {
                    "general_licence" | "licence" | "license" | "gl" => Some("general_license"),
                    "export_controls" | "export" => Some("export_control"),
                    "designation" | "delisting" | "amendment" | "general_license"
                    | "enforcement" | "export_control" | "other" => {
                        ACTION_WORDS.iter().copied().find(|a| *a == singular)
                    }
                    _ => None,
                };
                if let Some(action) = action {
                    if !rule.actions.iter().any(|a| a == action) {
                        rule.actions.push(action.to_string());
                    }
                } else if w.len() == 2 && w.chars().all(|c| c.is_ascii_alphabetic()) {
                    let code = match w.as_str() {
                        "uk" => "GB".to_string(),
                        other => other.to_ascii_uppercase(),
                    };
                    if !rule.authorities.contains(&code) {
                        rule.authorities.push(code);
                    }
                } else {
                    return Err(format!(
                        "{word:?} is neither a mode (matches, all, first), an action ({}) nor an authority (a two-letter code such as US, EU, GB, UN, JP, KR, CA)",
                        ACTION_WORDS.join(", ")
                    ));
                }
            }
        }
    }
    Ok(rule)
}

impl FollowRule {
    /// "all · designation, delisting · US, EU", for replies.
    pub fn describe(&self) -> String {
        let mut out = self.mode.as_str().to_string();
        if !self.actions.is_empty() {
            out.push_str(" · ");
            out.push_str(&self.actions.join(", "));
        }
        if !self.authorities.is_empty() {
            out.push_str(" · ");
            out.push_str(&self.authorities.join(", "));
        }
        out
    }
}

/// A watchlist seeded from the config file.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchlistConfig {
    /// The list's name, as used in `subscribe <list>`.
    pub name: String,
    /// Rooms subscribed to it when the list is first seeded (`console` is the terminal).
    pub subscribers: Vec<String>,
    /// The entries.
    pub entries: Vec<WatchEntry>,
    /// Hits scoring below this are not reported (none: keep the list's own, or the
    /// engine default).
    pub threshold: Option<f32>,
    /// The only rooms that may subscribe to it; `None`: any room.
    pub rooms: Option<Vec<String>>,
}

/// Limits on what rooms may ask of the bot (`[limits]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Feeds one room may add by command.
    pub feeds_per_room: usize,
    /// Names a list may hold when names are added by command.
    pub names_per_list: usize,
    /// Aliases one name may have when added by command.
    pub aliases_per_name: usize,
    /// Words in one `search`.
    pub search_words: usize,
    /// Commands one user may give per minute (in rooms; the console is not limited).
    pub commands_per_minute: usize,
    /// Posts one room gets from one poll of a feed before the rest are summed up in
    /// one post.
    pub posts_per_poll: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            feeds_per_room: 20,
            names_per_list: 1000,
            aliases_per_name: 20,
            search_words: 8,
            commands_per_minute: 20,
            posts_per_poll: 10,
        }
    }
}

/// Where the Matrix password or store passphrase comes from. Its `Debug` shows an
/// inline secret as `[redacted]`, so a config printed for debugging shows no secret.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Written in the config file itself.
    Inline(String),
    /// Read from this environment variable at start-up.
    Env(String),
    /// Read from this file at start-up (trailing newline trimmed).
    File(PathBuf),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Inline(_) => f.write_str("Inline([redacted])"),
            SecretSource::Env(var) => f.debug_tuple("Env").field(var).finish(),
            SecretSource::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

impl SecretSource {
    /// Resolves the secret. The error names the source, never the secret.
    pub fn resolve(&self) -> Result<String, String> {
        match self {
            SecretSource::Inline(s) => Ok(s.clone()),
            SecretSource::Env(var) => {
                std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))
            }
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| format!("cannot read {}: {e}", path.display())),
        }
    }
}

/// Settings for `run`, the Matrix service.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixConfig {
    /// Homeserver base URL, e.g. `https://matrix.example.org`.
    pub homeserver: url::Url,
    /// The bot's full user id, e.g. `@sanctions-watch:example.org`.
    pub user_id: String,
    /// The login password.
    pub password: SecretSource,
    /// Passphrase that encrypts the SDK's SQLite state and crypto store.
    pub store_passphrase: SecretSource,
    /// Display name of the bot's one device.
    pub device_name: String,
    /// Users (`@alice:example.org`) or servers (`:example.org`) whose invites are accepted.
    pub allowed_inviters: Vec<String>,
    /// Users who may change anything in any room, whatever their power level.
    pub admins: Vec<String>,
    /// Power level needed to change watchlists, feeds or subscriptions.
    pub command_power_level: i64,
}

/// Limits for fetching feeds.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchConfig {
    /// Total deadline for one fetch.
    pub timeout: Duration,
    /// Deadline for establishing the connection.
    pub connect_timeout: Duration,
    /// Largest accepted body after decompression.
    pub max_body_bytes: usize,
    /// Feeds fetched at the same time, across all hosts.
    pub max_concurrent: usize,
    /// Longest wait between attempts of a failing feed.
    pub max_backoff: Duration,
    /// Requests to one host at the same time.
    pub max_per_host: usize,
    /// Private addresses, networks and host names feeds may reach anyway.
    pub allow_private: Vec<crate::feeds::guard::AllowEntry>,
    /// Tell subscribed rooms when a feed has been failing this long (and when it
    /// recovers); `None` (the default) sends no notices.
    pub failure_notice_after: Option<Duration>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 10 * 1024 * 1024,
            max_concurrent: 8,
            max_backoff: Duration::from_secs(24 * 3600),
            max_per_host: 2,
            allow_private: Vec::new(),
            failure_notice_after: None,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoggingConfig {
    /// Text or JSON.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `info,sanctions_watch=debug`; `RUST_LOG`
    /// overrides it.
    pub level: Option<String>,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Directory of the sled store and the Matrix session (default `state`, relative
    /// to the config file).
    pub data_dir: PathBuf,
    /// Prefix of chat commands in rooms (default `!sw`).
    pub command_prefix: String,
    /// Poll interval for feeds that set none, including those added by command.
    pub default_poll_interval: Duration,
    /// Fetch limits.
    pub fetch: FetchConfig,
    /// Operator-defined feeds.
    pub feeds: Vec<FeedConfig>,
    /// Watchlists seeded into the store.
    pub watchlists: Vec<WatchlistConfig>,
    /// The Matrix section, needed only by `run`.
    pub matrix: Option<MatrixConfig>,
    /// Logging.
    pub logging: LoggingConfig,
    /// Address of the metrics and health endpoint; off when `None`.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Limits on rooms.
    pub limits: LimitsConfig,
    /// How long posts given up on are kept (counted from when they were queued).
    pub keep_undeliverable: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    data_dir: Option<Spanned<String>>,
    command_prefix: Option<Spanned<String>>,
    default_poll_interval: Option<Spanned<String>>,
    #[serde(default)]
    fetch: Option<RawFetch>,
    #[serde(default)]
    feeds: Vec<RawFeed>,
    #[serde(default)]
    watchlists: Vec<RawWatchlist>,
    matrix: Option<RawMatrix>,
    logging: Option<RawLogging>,
    metrics: Option<RawMetrics>,
    limits: Option<RawLimits>,
    keep_undeliverable: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    feeds_per_room: Option<Spanned<i64>>,
    names_per_list: Option<Spanned<i64>>,
    aliases_per_name: Option<Spanned<i64>>,
    search_words: Option<Spanned<i64>>,
    commands_per_minute: Option<Spanned<i64>>,
    posts_per_poll: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogging {
    format: Option<LogFormat>,
    level: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    timeout: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    max_body_bytes: Option<Spanned<i64>>,
    max_concurrent: Option<Spanned<i64>>,
    max_backoff: Option<Spanned<String>>,
    max_per_host: Option<Spanned<i64>>,
    #[serde(default)]
    allow_private: Vec<Spanned<String>>,
    failure_notice_after: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    id: Spanned<String>,
    name: Option<String>,
    url: Spanned<String>,
    kind: FeedKind,
    poll_interval: Option<Spanned<String>>,
    #[serde(default)]
    backfill: Option<Spanned<i64>>,
    followers: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWatchlist {
    name: Spanned<String>,
    #[serde(default)]
    subscribers: Vec<Spanned<String>>,
    #[serde(default)]
    entries: Vec<RawEntry>,
    threshold: Option<Spanned<f64>>,
    rooms: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: Spanned<String>,
    #[serde(default = "default_kind")]
    kind: EntryKind,
    #[serde(default)]
    aliases: Vec<String>,
    id: Option<String>,
    #[serde(default)]
    weak_aliases: Vec<String>,
    #[serde(default)]
    imo: Vec<Spanned<String>>,
    #[serde(default)]
    mmsi: Vec<Spanned<String>>,
    #[serde(default)]
    countries: Vec<String>,
    note: Option<String>,
}

fn default_kind() -> EntryKind {
    EntryKind::Any
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    homeserver: Spanned<String>,
    user_id: Spanned<String>,
    password: Option<String>,
    password_env: Option<String>,
    password_file: Option<String>,
    store_passphrase: Option<String>,
    store_passphrase_env: Option<String>,
    store_passphrase_file: Option<String>,
    device_name: Option<String>,
    #[serde(default)]
    allowed_inviters: Vec<Spanned<String>>,
    #[serde(default)]
    admins: Vec<Spanned<String>>,
    command_power_level: Option<Spanned<i64>>,
}

/// Maps byte offsets of the source to 1-based line numbers.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    fn of(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.0.len());
        self.0[..end].bytes().filter(|b| *b == b'\n').count() + 1
    }
}

impl Config {
    /// Reads and validates a config file. Relative paths in it are taken relative to
    /// the file's own directory.
    pub fn load(path: &Path) -> Result<(Config, Vec<ConfigWarning>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Config::from_str_in(&text, base)
    }

    /// Parses config text; relative paths are resolved against `base_dir`.
    pub fn from_str_in(
        text: &str,
        base_dir: &Path,
    ) -> Result<(Config, Vec<ConfigWarning>), ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        Validator {
            lines: Lines(text),
            warnings: Vec::new(),
            base_dir,
        }
        .validate(raw)
    }
}

struct Validator<'a> {
    lines: Lines<'a>,
    warnings: Vec<ConfigWarning>,
    base_dir: &'a Path,
}

impl Validator<'_> {
    fn invalid<T>(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> Result<T, ConfigError> {
        Err(ConfigError::Invalid {
            line: self.lines.of(span),
            key: key.to_string(),
            message: message.into(),
        })
    }

    fn warn(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        self.warnings.push(ConfigWarning {
            line: self.lines.of(span),
            key: key.to_string(),
            message: message.into(),
        });
    }

    fn duration(&self, value: &Spanned<String>, key: &str) -> Result<Duration, ConfigError> {
        parse_duration(value.get_ref())
            .map_err(|message| self.invalid::<()>(value.span(), key, message).unwrap_err())
    }

    fn path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    fn validate(mut self, raw: RawConfig) -> Result<(Config, Vec<ConfigWarning>), ConfigError> {
        let data_dir = match &raw.data_dir {
            Some(d) if d.get_ref().trim().is_empty() => {
                return self.invalid(d.span(), "data_dir", "must not be empty");
            }
            Some(d) => self.path(d.get_ref()),
            None => self.path("state"),
        };
        let command_prefix = match &raw.command_prefix {
            Some(p) => {
                let v = p.get_ref().trim();
                if v.is_empty() || v.contains(char::is_whitespace) {
                    return self.invalid(
                        p.span(),
                        "command_prefix",
                        "must be a non-empty word without spaces, e.g. \"!sw\"",
                    );
                }
                v.to_string()
            }
            None => "!sw".to_string(),
        };
        let default_poll_interval = match &raw.default_poll_interval {
            Some(v) => self.poll_interval(v, "default_poll_interval")?,
            None => Duration::from_secs(15 * 60),
        };
        let fetch = self.fetch(raw.fetch.as_ref())?;

        let mut feeds = Vec::new();
        let mut ids = HashSet::new();
        let mut urls = HashSet::new();
        for (i, f) in raw.feeds.iter().enumerate() {
            let feed = self.feed(i, f, default_poll_interval)?;
            if !ids.insert(feed.id.clone()) {
                return self.invalid(
                    f.id.span(),
                    &format!("feeds[{i}].id"),
                    format!("duplicate feed id {:?}", feed.id),
                );
            }
            if !urls.insert(feed.url.as_str().to_string()) {
                return self.invalid(
                    f.url.span(),
                    &format!("feeds[{i}].url"),
                    "this URL is already listed; a feed is fetched once however many rooms want it",
                );
            }
            feeds.push(feed);
        }

        let mut watchlists = Vec::new();
        let mut names = HashSet::new();
        for (i, w) in raw.watchlists.iter().enumerate() {
            let key = format!("watchlists[{i}]");
            for (s, subscriber) in w.subscribers.iter().enumerate() {
                if let Err(message) = check_room_target(subscriber.get_ref()) {
                    return self.invalid(
                        subscriber.span(),
                        &format!("{key}.subscribers[{s}]"),
                        message,
                    );
                }
            }
            let name = w.name.get_ref().trim().to_string();
            if let Err(message) = crate::screening::validate_list_name(&name) {
                return self.invalid(w.name.span(), &format!("{key}.name"), message);
            }
            if !names.insert(name.clone()) {
                return self.invalid(
                    w.name.span(),
                    &format!("{key}.name"),
                    format!("duplicate watchlist {name:?}"),
                );
            }
            let mut entries = Vec::new();
            for (j, e) in w.entries.iter().enumerate() {
                let entry_name = e.name.get_ref().trim();
                if crate::screening::normalize::tokens(entry_name).is_empty() {
                    return self.invalid(
                        e.name.span(),
                        &format!("{key}.entries[{j}].name"),
                        "a name needs at least one letter or digit",
                    );
                }
                let mut entry = WatchEntry::new(entry_name, e.kind, e.aliases.clone());
                if let Some(id) = &e.id {
                    entry.id = id.clone();
                }
                entry.weak_aliases = e.weak_aliases.clone();
                for (field, values, digits) in [("imo", &e.imo, 7), ("mmsi", &e.mmsi, 9)] {
                    for v in values {
                        match crate::screening::identifier_digits(v.get_ref(), digits) {
                            Some(d) if field == "imo" => entry.imo.push(d),
                            Some(d) => entry.mmsi.push(d),
                            None => {
                                return self.invalid(
                                    v.span(),
                                    &format!("{key}.entries[{j}].{field}"),
                                    format!("{:?} is not a {digits}-digit number", v.get_ref()),
                                );
                            }
                        }
                    }
                }
                entry.countries = e.countries.clone();
                entry.note = e.note.clone();
                entries.push(entry);
            }
            if entries.is_empty() {
                self.warn(
                    w.name.span(),
                    &format!("{key}.entries"),
                    "watchlist has no entries",
                );
            }
            let threshold = match &w.threshold {
                Some(t) if !(0.0..=1.0).contains(t.get_ref()) => {
                    return self.invalid(
                        t.span(),
                        &format!("{key}.threshold"),
                        "a threshold is a score between 0 and 1, e.g. 0.8",
                    );
                }
                Some(t) => Some(*t.get_ref() as f32),
                None => None,
            };
            let rooms = match &w.rooms {
                None => None,
                Some(rooms) => {
                    let mut ids = Vec::new();
                    for (r, room) in rooms.iter().enumerate() {
                        let v = room.get_ref().trim();
                        if let Err(message) = check_room_target(v) {
                            return self.invalid(
                                room.span(),
                                &format!("{key}.rooms[{r}]"),
                                message,
                            );
                        }
                        ids.push(v.to_string());
                    }
                    for subscriber in &w.subscribers {
                        let subscriber = subscriber.get_ref();
                        if !ids.iter().any(|id| id == subscriber) {
                            self.warn(
                                w.name.span(),
                                &format!("{key}.subscribers"),
                                format!("{subscriber} is not in this list's rooms, so it cannot subscribe"),
                            );
                        }
                    }
                    Some(ids)
                }
            };
            watchlists.push(WatchlistConfig {
                name,
                subscribers: w
                    .subscribers
                    .iter()
                    .map(|s| s.get_ref().trim().to_string())
                    .collect(),
                entries,
                threshold,
                rooms,
            });
        }

        let matrix = match &raw.matrix {
            Some(m) => Some(self.matrix(m)?),
            None => None,
        };
        let mut logging = LoggingConfig::default();
        if let Some(l) = &raw.logging {
            logging.format = l.format.unwrap_or_default();
            if let Some(level) = &l.level {
                if let Err(e) = tracing_subscriber::EnvFilter::try_new(level.get_ref()) {
                    return self.invalid(
                        level.span(),
                        "logging.level",
                        format!("not a log filter: {e}"),
                    );
                }
                logging.level = Some(level.get_ref().clone());
            }
        }
        let metrics_listen = match &raw.metrics {
            None => None,
            Some(m) => match m.listen.get_ref().parse::<std::net::SocketAddr>() {
                Ok(addr) => {
                    if !addr.ip().is_loopback() {
                        self.warn(
                            m.listen.span(),
                            "metrics.listen",
                            "not a loopback address: metrics and health will be reachable from the network",
                        );
                    }
                    Some(addr)
                }
                Err(_) => {
                    return self.invalid(
                        m.listen.span(),
                        "metrics.listen",
                        "must be an address with a port, e.g. \"127.0.0.1:9464\"",
                    );
                }
            },
        };

        let limits = self.limits(raw.limits.as_ref())?;
        let keep_undeliverable = match &raw.keep_undeliverable {
            Some(v) => self.duration(v, "keep_undeliverable")?,
            None => Duration::from_secs(30 * 24 * 3600),
        };
        Ok((
            Config {
                data_dir,
                command_prefix,
                default_poll_interval,
                fetch,
                feeds,
                watchlists,
                matrix,
                logging,
                metrics_listen,
                limits,
                keep_undeliverable,
            },
            self.warnings,
        ))
    }

    fn limits(&self, raw: Option<&RawLimits>) -> Result<LimitsConfig, ConfigError> {
        let mut limits = LimitsConfig::default();
        let Some(raw) = raw else { return Ok(limits) };
        for (value, key, slot) in [
            (
                &raw.feeds_per_room,
                "limits.feeds_per_room",
                &mut limits.feeds_per_room,
            ),
            (
                &raw.names_per_list,
                "limits.names_per_list",
                &mut limits.names_per_list,
            ),
            (
                &raw.aliases_per_name,
                "limits.aliases_per_name",
                &mut limits.aliases_per_name,
            ),
            (
                &raw.search_words,
                "limits.search_words",
                &mut limits.search_words,
            ),
            (
                &raw.commands_per_minute,
                "limits.commands_per_minute",
                &mut limits.commands_per_minute,
            ),
            (
                &raw.posts_per_poll,
                "limits.posts_per_poll",
                &mut limits.posts_per_poll,
            ),
        ] {
            if let Some(v) = value {
                match usize::try_from(*v.get_ref()) {
                    Ok(n) if (1..=1_000_000).contains(&n) => *slot = n,
                    _ => {
                        return self.invalid(
                            v.span(),
                            key,
                            "must be a whole number from 1 to 1000000",
                        );
                    }
                }
            }
        }
        Ok(limits)
    }

    fn poll_interval(&mut self, v: &Spanned<String>, key: &str) -> Result<Duration, ConfigError> {
        let d = self.duration(v, key)?;
        if d < MIN_POLL_INTERVAL {
            return self.invalid(v.span(), key, "must be at least 1s");
        }
        if d < Duration::from_secs(60) {
            self.warn(
                v.span(),
                key,
                "polling more often than once a minute is impolite to public servers",
            );
        }
        Ok(d)
    }

    fn fetch(&mut self, raw: Option<&RawFetch>) -> Result<FetchConfig, ConfigError> {
        let mut fetch = FetchConfig::default();
        let Some(raw) = raw else { return Ok(fetch) };
        if let Some(v) = &raw.timeout {
            fetch.timeout = self.duration(v, "fetch.timeout")?;
        }
        if let Some(v) = &raw.connect_timeout {
            fetch.connect_timeout = self.duration(v, "fetch.connect_timeout")?;
        }
        if let Some(v) = &raw.max_backoff {
            fetch.max_backoff = self.duration(v, "fetch.max_backoff")?;
        }
        if let Some(v) = &raw.max_body_bytes {
            let n = *v.get_ref();
            if !(1024..=1024 * 1024 * 1024).contains(&n) {
                return self.invalid(
                    v.span(),
                    "fetch.max_body_bytes",
                    "must be between 1024 and 1073741824",
                );
            }
            fetch.max_body_bytes = n as usize;
        }
        if let Some(v) = &raw.max_concurrent {
            let n = *v.get_ref();
            if !(1..=256).contains(&n) {
                return self.invalid(
                    v.span(),
                    "fetch.max_concurrent",
                    "must be between 1 and 256",
                );
            }
            fetch.max_concurrent = n as usize;
        }
        if let Some(v) = &raw.max_per_host {
            let n = *v.get_ref();
            if !(1..=64).contains(&n) {
                return self.invalid(v.span(), "fetch.max_per_host", "must be between 1 and 64");
            }
            fetch.max_per_host = n as usize;
        }
        for (i, v) in raw.allow_private.iter().enumerate() {
            match crate::feeds::guard::AllowEntry::parse(v.get_ref()) {
                Ok(entry) => fetch.allow_private.push(entry),
                Err(message) => {
                    return self.invalid(v.span(), &format!("fetch.allow_private[{i}]"), message);
                }
            }
        }
        if let Some(v) = &raw.failure_notice_after {
            fetch.failure_notice_after = Some(self.duration(v, "fetch.failure_notice_after")?);
        }
        for (value, key, d) in [
            (&raw.timeout, "fetch.timeout", fetch.timeout),
            (
                &raw.connect_timeout,
                "fetch.connect_timeout",
                fetch.connect_timeout,
            ),
            (&raw.max_backoff, "fetch.max_backoff", fetch.max_backoff),
            (
                &raw.failure_notice_after,
                "fetch.failure_notice_after",
                fetch.failure_notice_after.unwrap_or_default(),
            ),
        ] {
            if let Some(v) = value
                && d.is_zero()
            {
                return self.invalid(v.span(), key, "must be longer than zero");
            }
        }
        Ok(fetch)
    }

    fn feed(
        &mut self,
        i: usize,
        f: &RawFeed,
        default_interval: Duration,
    ) -> Result<FeedConfig, ConfigError> {
        let key = format!("feeds[{i}]");
        let id = f.id.get_ref().trim().to_string();
        if let Err(message) = validate_feed_id(&id) {
            return self.invalid(f.id.span(), &format!("{key}.id"), message);
        }
        let url = match parse_feed_url(f.url.get_ref()) {
            Ok(u) => u,
            Err(message) => return self.invalid(f.url.span(), &format!("{key}.url"), message),
        };
        let poll_interval = match &f.poll_interval {
            Some(v) => self.poll_interval(v, &format!("{key}.poll_interval"))?,
            None => default_interval,
        };
        let backfill = match &f.backfill {
            Some(v) if *v.get_ref() < 0 || *v.get_ref() > 1000 => {
                return self.invalid(
                    v.span(),
                    &format!("{key}.backfill"),
                    "must be between 0 and 1000",
                );
            }
            Some(v) => *v.get_ref() as usize,
            None => 0,
        };
        let followers = match &f.followers {
            None => None,
            Some(list) => {
                let mut followers: Vec<(String, FollowRule)> = Vec::new();
                for (j, entry) in list.iter().enumerate() {
                    let words: Vec<&str> = entry.get_ref().split_whitespace().collect();
                    let follower_key = format!("{key}.followers[{j}]");
                    let Some((room, rule_words)) = words.split_first() else {
                        return self.invalid(entry.span(), &follower_key, "empty entry");
                    };
                    if let Err(message) = check_room_target(room) {
                        return self.invalid(
                            entry.span(),
                            &follower_key,
                            format!("{message}; then optionally a mode as in `feed follow`: all designation US"),
                        );
                    }
                    let rule = match parse_follow_rule(rule_words) {
                        Ok(rule) if rule.mode == FollowMode::Off => {
                            return self.invalid(
                                entry.span(),
                                &follower_key,
                                "a follower cannot be off; leave the room out",
                            );
                        }
                        Ok(rule) => rule,
                        Err(message) => return self.invalid(entry.span(), &follower_key, message),
                    };
                    if followers.iter().any(|(r, _)| r == room) {
                        return self.invalid(
                            entry.span(),
                            &follower_key,
                            format!("{room} is listed twice"),
                        );
                    }
                    followers.push((room.to_string(), rule));
                }
                Some(followers)
            }
        };
        Ok(FeedConfig {
            name: f
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| id.clone()),
            id,
            url,
            kind: f.kind,
            poll_interval,
            backfill,
            followers,
        })
    }

    fn secret(
        &self,
        key: &str,
        inline: &Option<String>,
        env: &Option<String>,
        file: &Option<String>,
        span: Range<usize>,
    ) -> Result<SecretSource, ConfigError> {
        match (inline, env, file) {
            (Some(s), None, None) => Ok(SecretSource::Inline(s.clone())),
            (None, Some(v), None) => Ok(SecretSource::Env(v.clone())),
            (None, None, Some(f)) => Ok(SecretSource::File(self.path(f))),
            (None, None, None) => self.invalid(
                span,
                &format!("matrix.{key}"),
                format!("set one of `{key}`, `{key}_env` or `{key}_file`"),
            ),
            _ => self.invalid(
                span,
                &format!("matrix.{key}"),
                format!("set only one of `{key}`, `{key}_env` or `{key}_file`"),
            ),
        }
    }

    fn matrix(&mut self, m: &RawMatrix) -> Result<MatrixConfig, ConfigError> {
        let homeserver = match url::Url::parse(m.homeserver.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            Ok(_) => {
                return self.invalid(
                    m.homeserver.span(),
                    "matrix.homeserver",
                    "must be an http or https URL",
                );
            }
            Err(e) => {
                return self.invalid(
                    m.homeserver.span(),
                    "matrix.homeserver",
                    format!("not a URL: {e}"),
                );
            }
        };
        let user_id = m.user_id.get_ref().trim().to_string();
        if !is_matrix_user_id(&user_id) {
            return self.invalid(
                m.user_id.span(),
                "matrix.user_id",
                "must be a full user id like \"@sanctions-watch:example.org\"",
            );
        }
        let password = self.secret(
            "password",
            &m.password,
            &m.password_env,
            &m.password_file,
            m.user_id.span(),
        )?;
        let store_passphrase = self.secret(
            "store_passphrase",
            &m.store_passphrase,
            &m.store_passphrase_env,
            &m.store_passphrase_file,
            m.user_id.span(),
        )?;
        let mut allowed_inviters = Vec::new();
        for (i, a) in m.allowed_inviters.iter().enumerate() {
            let v = a.get_ref().trim();
            if !(is_matrix_user_id(v) || (v.starts_with(':') && v.len() > 1)) {
                return self.invalid(
                    a.span(),
                    &format!("matrix.allowed_inviters[{i}]"),
                    "must be a user id (\"@alice:example.org\") or a server (\":example.org\")",
                );
            }
            allowed_inviters.push(v.to_string());
        }
        if allowed_inviters.is_empty() {
            self.warn(
                m.homeserver.span(),
                "matrix.allowed_inviters",
                "empty: the bot will decline every invite",
            );
        }
        let mut admins = Vec::new();
        for (i, a) in m.admins.iter().enumerate() {
            let v = a.get_ref().trim();
            if !is_matrix_user_id(v) {
                return self.invalid(
                    a.span(),
                    &format!("matrix.admins[{i}]"),
                    "must be a user id like \"@alice:example.org\"",
                );
            }
            admins.push(v.to_string());
        }
        Ok(MatrixConfig {
            homeserver,
            user_id,
            password,
            store_passphrase,
            device_name: m
                .device_name
                .clone()
                .unwrap_or_else(|| "sanctions-watch".to_string()),
            allowed_inviters,
            admins,
            command_power_level: match &m.command_power_level {
                None => 50,
                Some(level) if (1..=100).contains(level.get_ref()) => *level.get_ref(),
                Some(level) => {
                    return self.invalid(
                        level.span(),
                        "matrix.command_power_level",
                        "must be a power level from 1 to 100 (moderators are 50, room admins 100)",
                    );
                }
            },
        })
    }
}

/// The console's room id: the operator's own terminal.
pub const CONSOLE_ROOM: &str = "console";

/// True for a room id (`!abc:example.org`) or `console`, the terminal.
pub fn is_room_target(s: &str) -> bool {
    s == CONSOLE_ROOM
        || (s.starts_with('!')
            && s.find(':').is_some_and(|i| i > 1 && i + 1 < s.len())
            && !s.contains(char::is_whitespace))
}

/// Checks a room named in the config: a room id or `console`. A room alias is refused
/// with how to find the id, since an alias can be moved to another room.
pub fn check_room_target(s: &str) -> Result<(), String> {
    let s = s.trim();
    if is_room_target(s) {
        Ok(())
    } else if s.starts_with('#') {
        Err(format!(
            "{s:?} is a room alias, which can be moved to another room; write the room's id (\"!abc:example.org\", shown in the room's settings)"
        ))
    } else {
        Err(format!(
            "{s:?} is not a room: write a room id (\"!abc:example.org\") or \"console\""
        ))
    }
}

/// True for `@localpart:server`.
pub fn is_matrix_user_id(s: &str) -> bool {
    s.starts_with('@')
        && s.find(':').is_some_and(|i| i > 1 && i + 1 < s.len())
        && !s.contains(char::is_whitespace)
}

/// Checks a feed id: 1-64 characters of letters, digits, `-`, `_` or `.`.
pub fn validate_feed_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 64 {
        return Err("must be 1 to 64 characters".into());
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("may contain only letters, digits, '-', '_' and '.'".into());
    }
    Ok(())
}

/// Parses a feed URL: absolute, http or https, with a host.
pub fn parse_feed_url(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme {:?} is not allowed; use http or https",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("URL has no host".into());
    }
    Ok(url)
}

/// Parses durations like `90s`, `15m`, `1h30m`, `2d` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration; write e.g. \"15m\"".into());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut saw_unit = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            ' ' => continue,
            _ => {
                return Err(format!(
                    "bad duration {s:?}: unknown unit {c:?}; use s, m, h or d"
                ));
            }
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("bad duration {s:?}: a unit needs a number before it"))?;
        total = total
            .checked_add(n.checked_mul(unit).ok_or("duration too long")?)
            .ok_or("duration too long")?;
        number.clear();
        saw_unit = true;
    }
    if !number.is_empty() || !saw_unit {
        return Err(format!(
            "bad duration {s:?}: end with a unit (s, m, h or d)"
        ));
    }
    Ok(Duration::from_secs(total))
}

/// Formats a duration compactly (`1h30m`, `45s`).
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<(Config, Vec<ConfigWarning>), ConfigError> {
        Config::from_str_in(text, Path::new("/etc/sw"))
    }

    #[test]
    fn example_config_is_valid() {
        let text = include_str!("../config.toml.example");
        let (config, _warnings) = parse(text).expect("config.toml.example must parse");
        assert_eq!(config.command_prefix, "!sw");
        assert_eq!(config.data_dir, Path::new("/etc/sw/state"));
        let ids: Vec<_> = config.feeds.iter().map(|f| f.id.as_str()).collect();
        for id in ["ofac", "uk-fcdo", "eu-council", "un-press", "canada-gac"] {
            assert!(ids.contains(&id), "example lacks feed {id}");
        }
        let names: Vec<_> = config.watchlists[0]
            .entries
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        for n in ["Maia-1", "Maria", "Angara", "Lady R", "Kim Jong Un"] {
            assert!(names.contains(&n), "starter watchlist lacks {n}");
        }
        assert!(config.matrix.is_some());
    }

    #[test]
    fn defaults_apply_to_an_empty_file() {
        let (config, warnings) = parse("").unwrap();
        assert_eq!(config.command_prefix, "!sw");
        assert_eq!(config.default_poll_interval, Duration::from_secs(900));
        assert!(config.feeds.is_empty() && config.matrix.is_none() && warnings.is_empty());
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("command_prefix = \"!sw\"\n\n[[feeds]]\nid = \"a\"\nurl = \"https://a.example/rss\"\nkind = \"news\"\nintervall = \"5m\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("intervall"), "{err}");
        assert!(err.contains("line 7"), "{err}");
    }

    #[test]
    fn bad_url_names_key_and_line() {
        let err = parse("[[feeds]]\nid = \"a\"\nurl = \"ftp://a.example/rss\"\nkind = \"news\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("feeds[0].url") && err.contains("ftp"),
            "{err}"
        );
    }

    #[test]
    fn bad_kind_is_an_error_with_line() {
        let err =
            parse("[[feeds]]\nid = \"a\"\nurl = \"https://a.example/rss\"\nkind = \"blog\"\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("line 4") && err.contains("blog"), "{err}");
    }

    #[test]
    fn followers_take_a_room_and_a_rule_and_bad_ones_name_the_entry() {
        let feed =
            "[[feeds]]\nid = \"a\"\nurl = \"https://a.example/rss\"\nkind = \"government\"\n";
        let (config, _) = parse(&format!(
            "{feed}followers = [\"!desk:example.org all Designations delisting uk\", \"console\"]\n"
        ))
        .unwrap();
        let followers = config.feeds[0].followers.clone().unwrap();
        assert_eq!(followers[0].0, "!desk:example.org");
        assert_eq!(followers[0].1.mode, FollowMode::All);
        assert_eq!(followers[0].1.actions, ["designation", "delisting"]);
        assert_eq!(followers[0].1.authorities, ["GB"]);
        assert_eq!(followers[1].1, FollowRule::default());
        assert_eq!(parse(feed).unwrap().0.feeds[0].followers, None);
        for (bad, says) in [
            ("[\"#alias:example.org\"]", "room alias"),
            ("[\"!desk:example.org all sometimes\"]", "sometimes"),
            (
                "[\"!desk:example.org\", \"!desk:example.org all\"]",
                "twice",
            ),
        ] {
            let err = parse(&format!("{feed}followers = {bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("feeds[0].followers") && err.contains(says),
                "{err}"
            );
        }
    }

    #[test]
    fn subscribers_are_room_ids_not_aliases() {
        let list = "[[watchlists]]\nname = \"v\"\n";
        assert!(
            parse(&format!(
                "{list}subscribers = [\"console\", \"!a:x.org\"]\n"
            ))
            .is_ok()
        );
        let err = parse(&format!(
            "{list}subscribers = [\"console\", \"#desk:x.org\"]\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("watchlists[0].subscribers[1]") && err.contains("room alias"),
            "{err}"
        );
    }

    #[test]
    fn undeliverable_posts_are_kept_thirty_days_unless_said() {
        assert_eq!(
            parse("").unwrap().0.keep_undeliverable,
            Duration::from_secs(30 * 86400)
        );
        let (config, _) = parse("keep_undeliverable = \"7d\"\n").unwrap();
        assert_eq!(config.keep_undeliverable, Duration::from_secs(7 * 86400));
        let err = parse("keep_undeliverable = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("keep_undeliverable") && err.contains("line 1"),
            "{err}"
        );
    }

    #[test]
    fn limits_and_power_levels_are_checked() {
        let (config, _) = parse("[limits]\nposts_per_poll = 3\n").unwrap();
        assert_eq!(config.limits.posts_per_poll, 3);
        assert_eq!(config.limits.feeds_per_room, 20);
        let err = parse("[limits]\nsearch_words = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("limits.search_words") && err.contains("line 2"),
            "{err}"
        );
        assert!(
            parse("[limits]\nposts = 3\n").is_err(),
            "unknown keys are errors"
        );
        let matrix = "[matrix]\nhomeserver = \"https://m.example\"\nuser_id = \"@b:m.example\"\npassword = \"p\"\nstore_passphrase = \"s\"\n";
        for level in ["0", "101", "-5"] {
            let err = parse(&format!("{matrix}command_power_level = {level}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("matrix.command_power_level"), "{err}");
        }
        let (config, _) = parse(&format!("{matrix}command_power_level = 100\n")).unwrap();
        assert_eq!(config.matrix.unwrap().command_power_level, 100);
    }

    #[test]
    fn duplicate_feed_urls_are_refused() {
        let feed = "[[feeds]]\nid = \"ID\"\nurl = \"https://a.example/rss\"\nkind = \"news\"\n";
        let text = format!("{}{}", feed.replace("ID", "a"), feed.replace("ID", "b"));
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains("feeds[1].url") && err.contains("line 7"),
            "{err}"
        );
    }

    #[test]
    fn short_poll_interval_warns_and_zero_fails() {
        let feed = "[[feeds]]\nid = \"a\"\nurl = \"https://a.example/rss\"\nkind = \"news\"\npoll_interval = \"V\"\n";
        let (_, warnings) = parse(&feed.replace('V', "5s")).unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, 5);
        let err = parse(&feed.replace('V', "0s")).unwrap_err().to_string();
        assert!(err.contains("at least 1s"), "{err}");
        let err = parse(&feed.replace('V', "5 parsecs"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown unit"), "{err}");
    }

    #[test]
    fn secrets_written_in_the_config_print_redacted() {
        let text = "[matrix]\nhomeserver = \"https://m.example\"\nuser_id = \"@bot:m.example\"\npassword = \"hunter2-password\"\nstore_passphrase = \"correct-horse-battery\"\n";
        let (config, _) = Config::from_str_in(text, Path::new("/tmp")).unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("correct-horse"),
            "{shown}"
        );
        assert!(shown.contains("Inline([redacted])"), "{shown}");
        let env = format!("{:?}", SecretSource::Env("SW_PASSWORD".into()));
        assert_eq!(env, "Env(\"SW_PASSWORD\")");
    }

    #[test]
    fn matrix_needs_exactly_one_password_source() {
        let base = "[matrix]\nhomeserver = \"https://m.example\"\nuser_id = \"@bot:m.example\"\nstore_passphrase_env = \"P\"\n";
        let err = parse(base).unwrap_err().to_string();
        assert!(err.contains("password"), "{err}");
        let both = format!("{base}password = \"x\"\npassword_env = \"Y\"\n");
        assert!(parse(&both).unwrap_err().to_string().contains("only one"));
        let ok = format!("{base}password_file = \"secret\"\nallowed_inviters = [\":m.example\"]\n");
        let (config, _) = parse(&ok).unwrap();
        let m = config.matrix.unwrap();
        assert_eq!(
            m.password,
            SecretSource::File(PathBuf::from("/etc/sw/secret"))
        );
        assert_eq!(m.command_power_level, 50);
    }

    #[test]
    fn bad_user_id_is_refused() {
        let text = "[matrix]\nhomeserver = \"https://m.example\"\nuser_id = \"bot\"\npassword = \"x\"\nstore_passphrase = \"y\"\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.contains("line 3") && err.contains("matrix.user_id"),
            "{err}"
        );
    }

    #[test]
    fn logging_and_metrics_sections_validate() {
        let (config, _) = parse("[logging]\nformat = \"json\"\nlevel = \"info,sanctions_watch=debug\"\n[metrics]\nlisten = \"127.0.0.1:9464\"\n").unwrap();
        assert_eq!(config.logging.format, LogFormat::Json);
        assert_eq!(
            config.metrics_listen,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        let err = parse("[metrics]\nlisten = \"localhost\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("metrics.listen"),
            "{err}"
        );
        let err = parse("[logging]\nformat = \"xml\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("xml"), "{err}");
        let (_, warnings) = parse("[metrics]\nlisten = \"0.0.0.0:9464\"\n").unwrap();
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn fetch_politeness_and_allow_list_keys_are_validated() {
        let (config, _) = parse(
            "[fetch]\nmax_per_host = 3\nallow_private = [\"127.0.0.1\", \"10.0.0.0/8\", \"feeds.internal\"]\nfailure_notice_after = \"6h\"\n",
        )
        .unwrap();
        assert_eq!(config.fetch.max_per_host, 3);
        assert_eq!(config.fetch.allow_private.len(), 3);
        assert_eq!(
            config.fetch.failure_notice_after,
            Some(Duration::from_secs(6 * 3600))
        );
        assert_eq!(parse("").unwrap().0.fetch.failure_notice_after, None);
        let err = parse("[fetch]\nallow_private = [\"10.0.0.0/33\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("fetch.allow_private[0]"),
            "{err}"
        );
        let err = parse("[fetch]\nmax_per_host = 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("fetch.max_per_host"), "{err}");
    }

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172800)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("5").is_ok());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("3h5").is_err());
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(45)), "45s");
    }
}
