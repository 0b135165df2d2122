//! What recognition answers in: the [`Action`] an item reports, the acting
//! [`Authority`] and the [`Recognition`] that pairs them; and the kinds of cues its
//! tables hold (how strong an action cue is, whether a mention names an agency or a
//! country).

use serde::{Deserialize, Serialize};

/// The kind of sanctions action an item reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// New names listed: designations, asset freezes, new sanctions.
    Designation,
    /// Names removed, sanctions lifted.
    Delisting,
    /// Existing listings or measures amended, corrected, extended or renewed.
    Amendment,
    /// A general licence (or licence) issued or amended.
    GeneralLicense,
    /// Penalties, settlements, fines, charges, seizures.
    Enforcement,
    /// Export controls: Entity List additions, export bans, licence requirements.
    ExportControl,
    /// Other sanctions news (proposals, warnings, guidance, reactions).
    Other,
}

impl Action {
    /// The snake_case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Designation => "designation",
            Action::Delisting => "delisting",
            Action::Amendment => "amendment",
            Action::GeneralLicense => "general_license",
            Action::Enforcement => "enforcement",
            Action::ExportControl => "export_control",
            Action::Other => "other",
        }
    }

    /// A short label for posts ("designation", "general licence", ...).
    pub fn label(self) -> &'static str {
        match self {
            Action::Designation => "new designations",
            Action::Delisting => "delisting",
            Action::Amendment => "amendment",
            Action::GeneralLicense => "general licence",
            Action::Enforcement => "enforcement",
            Action::ExportControl => "export controls",
            Action::Other => "sanctions news",
        }
    }
}

/// An acting authority: the country (ISO 3166 alpha-2, or `EU` / `UN`) and, when the
/// text names it, the agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Authority {
    /// `US`, `GB`, `EU`, `UN`, `JP`, `KR`, ...
    pub code: &'static str,
    /// Display name, e.g. "OFAC (US Treasury)" or "South Korea".
    pub name: &'static str,
}

/// What the recogniser found in an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recognition {
    /// The action.
    pub action: Action,
    /// The acting authority, if one could be told.
    pub authority: Option<Authority>,
}

/// Whether a cue is specific enough to decide the action on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strength {
    /// Decides the action.
    Strong,
    /// Decides it unless a strong cue follows in the same sentence ("adds ... to
    /// the Entity List", "imposes an export ban").
    Generic,
    /// Sanctions vocabulary that says no more than "sanctions".
    Weak,
}

/// Whether an authority mention names an agency or only a country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MentionKind {
    Agency,
    Country,
}
