//! Watchlists: the entry model (a name, aliases, weak aliases, identifiers, countries
//! and a note), the [`Screener`] interface that finds watched names in text, the
//! screening engine that implements it ([`engine::ScreeningEngine`]) and the importers
//! that read published lists ([`import`]). Everything here is pure: no store, no
//! network, no files; importers take a reader.

pub mod engine;
pub mod fuzzy;
pub mod import;
pub mod normalize;

use serde::{Deserialize, Serialize};

pub use engine::{DEFAULT_THRESHOLD, EngineOptions, ScreeningEngine};

/// What a watched name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A natural person.
    Person,
    /// A company, agency or other body.
    #[serde(alias = "org", alias = "company", alias = "entity")]
    Organization,
    /// A ship.
    #[serde(alias = "ship")]
    Vessel,
    /// Anything.
    Any,
}

impl EntryKind {
    /// The lower-case name used in config and commands.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Person => "person",
            EntryKind::Organization => "organization",
            EntryKind::Vessel => "vessel",
            EntryKind::Any => "any",
        }
    }

    /// Parses a kind name as typed in a command (`vessel`, `ship`, `org`, ...).
    pub fn parse(s: &str) -> Option<EntryKind> {
        match s.to_ascii_lowercase().as_str() {
            "person" | "individual" => Some(EntryKind::Person),
            "organization" | "organisation" | "org" | "company" | "entity" => {
                Some(EntryKind::Organization)
            }
            "vessel" | "ship" => Some(EntryKind::Vessel),
            "any" => Some(EntryKind::Any),
            _ => None,
        }
    }
}

/// One watched name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchEntry {
    /// Stable id within its list, derived from the name unless given.
    pub id: String,
    /// The primary name.
    pub name: String,
    /// What it is.
    pub kind: EntryKind,
    /// Other names it goes by.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Names too generic to match loosely (nicknames, short forms): matched only
    /// exactly, never reordered or near-spelt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weak_aliases: Vec<String>,
    /// IMO ship numbers (7 digits), for vessels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imo: Vec<String>,
    /// MMSI radio identities (9 digits), for vessels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mmsi: Vec<String>,
    /// Countries linked to the entry (codes or names, as the source gives them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// A free note (programme, reason for listing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl WatchEntry {
    /// Creates an entry whose id is the normalised name (`lady-r`).
    pub fn new(name: &str, kind: EntryKind, aliases: Vec<String>) -> WatchEntry {
        let aliases = aliases
            .into_iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !normalize::tokens(a).is_empty())
            .collect();
        WatchEntry {
            id: entry_id_for(name),
            name: name.trim().to_string(),
            kind,
            aliases,
            weak_aliases: Vec::new(),
            imo: Vec::new(),
            mmsi: Vec::new(),
            countries: Vec::new(),
            note: None,
        }
    }

    /// The primary name followed by the aliases (not the weak aliases).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// The digits of an IMO or MMSI number as written in a list ("IMO 9179484",
/// "IMO9179484", "9179484"), or `None` if it holds no number of `digits` digits.
pub fn identifier_digits(raw: &str, digits: usize) -> Option<String> {
    let d: String = raw.chars().filter(char::is_ascii_digit).collect();
    (d.len() == digits).then_some(d)
}

/// The id an entry gets from its name: its lower-cased words joined by `-`.
pub fn entry_id_for(name: &str) -> String {
    normalize::id_words(name).join("-")
}

/// Checks a watchlist name: 1-64 letters, digits, `-`, `_` or `.`.
pub fn validate_list_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 64 {
        return Err("a watchlist name must be 1 to 64 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "watchlist name {name:?} may contain only letters, digits, '-', '_' and '.'"
        ));
    }
    Ok(())
}

/// A watched name found in a piece of text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The watchlist the entry belongs to.
    pub list: String,
    /// The entry's id.
    pub entry_id: String,
    /// The entry's primary name.
    pub name: String,
    /// The entry's kind.
    pub kind: EntryKind,
    /// The text as it appears in the document.
    pub matched_text: String,
    /// Byte offset where the match starts.
    pub start: usize,
    /// Byte offset just past the match.
    pub end: usize,
    /// Confidence in [0, 1].
    pub score: f32,
    /// Why it matched, e.g. "alias, exact".
    pub reason: String,
}

/// Finds watched names in text. The pipeline, the `test` command and every later
/// matching engine meet at this interface.
pub trait Screener: Send + Sync {
    /// All hits in `text`, ordered by position.
    fn screen(&self, text: &str) -> Vec<Hit>;
}
