//! What happened and who did it: recognises the sanctions action an item reports
//! (designation, delisting, amendment, general licence, enforcement, export control,
//! or other sanctions news) and the acting authority (OFAC, the State Department,
//! OFSI, the EU Council, the UN Security Council, or a country named in the text).
//!
//! The method is a small, explainable rule set over case-folded word tokens: the
//! title is read first, then the first sentences of the text. The action is the
//! earliest *strong* cue (a verb or phrase specific to one action: "delists",
//! "general licence", "Entity List", "civil penalty", "sanctions" used as a verb);
//! the authority is the one named before that cue in the same sentence (the
//! subject), or after it following "by" (the passive), else the first agency or
//! non-target country mentioned. Works on capitalised titles and empty summaries.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::words::{ItemText, Words};

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
enum Strength {
    /// Decides the action.
    Strong,
    /// Decides it unless a strong cue follows in the same sentence ("adds ... to
    /// the Entity List", "imposes an export ban").
    Generic,
    /// Sanctions vocabulary that says no more than "sanctions".
    Weak,
}

/// Action cues as token sequences (case-folded).
const ACTION_CUES: &[(&str, Action, Strength)] = &[
    // general licences
    ("general license", Action::GeneralLicense, Strength::Strong),
    ("general licenses", Action::GeneralLicense, Strength::Strong),
    ("general licence", Action::GeneralLicense, Strength::Strong),
    ("general licences", Action::GeneralLicense, Strength::Strong),
    ("gl", Action::GeneralLicense, Strength::Strong),
    ("licence", Action::GeneralLicense, Strength::Strong),
    ("licences", Action::GeneralLicense, Strength::Strong),
    ("license", Action::GeneralLicense, Strength::Strong),
    ("licenses", Action::GeneralLicense, Strength::Strong),
    ("licensing", Action::GeneralLicense, Strength::Strong),
    (
        "authorizes transactions",
        Action::GeneralLicense,
        Strength::Strong,
    ),
    (
        "authorises transactions",
        Action::GeneralLicense,
        Strength::Strong,
    ),
    ("wind down", Action::GeneralLicense, Strength::Strong),
    // export controls (before "license" by being longer at the same position)
    ("export control", Action::ExportControl, Strength::Strong),
    ("export controls", Action::ExportControl, Strength::Strong),
    ("export license", Action::ExportControl, Strength::Strong),
    ("export licence", Action::ExportControl, Strength::Strong),
    ("export licensing", Action::ExportControl, Strength::Strong),
    (
        "export restrictions",
        Action::ExportControl,
        Strength::Strong,
    ),
    ("export ban", Action::ExportControl, Strength::Strong),
    ("export bans", Action::ExportControl, Strength::Strong),
    ("export curbs", Action::ExportControl, Strength::Strong),
    (
        "export controls on",
        Action::ExportControl,
        Strength::Strong,
    ),
    ("restricts exports", Action::ExportControl, Strength::Strong),
    ("restrict exports", Action::ExportControl, Strength::Strong),
    ("curbs exports", Action::ExportControl, Strength::Strong),
    ("bans exports", Action::ExportControl, Strength::Strong),
    ("entity list", Action::ExportControl, Strength::Strong),
    ("trade blacklist", Action::ExportControl, Strength::Strong),
    ("export blacklist", Action::ExportControl, Strength::Strong),
    ("unverified list", Action::ExportControl, Strength::Strong),
    ("end user list", Action::ExportControl, Strength::Strong),
    (
        "bureau of industry and security",
        Action::ExportControl,
        Strength::Strong,
    ),
    ("bis", Action::ExportControl, Strength::Strong),
    ("dual use", Action::ExportControl, Strength::Strong),
    (
        "foreign direct product",
        Action::ExportControl,
        Strength::Strong,
    ),
    ("chip exports", Action::ExportControl, Strength::Strong),
    (
        "semiconductor exports",
        Action::ExportControl,
        Strength::Strong,
    ),
    // enforcement
    ("civil penalty", Action::Enforcement, Strength::Strong),
    ("civil penalties", Action::Enforcement, Strength::Strong),
    ("monetary penalty", Action::Enforcement, Strength::Strong),
    ("monetary penalties", Action::Enforcement, Strength::Strong),
    ("penalty", Action::Enforcement, Strength::Strong),
    ("penalties", Action::Enforcement, Strength::Strong),
    ("penalises", Action::Enforcement, Strength::Strong),
    ("penalizes", Action::Enforcement, Strength::Strong),
    ("fines", Action::Enforcement, Strength::Strong),
    ("fined", Action::Enforcement, Strength::Strong),
    ("settles", Action::Enforcement, Strength::Strong),
    ("settled", Action::Enforcement, Strength::Strong),
    ("settlement", Action::Enforcement, Strength::Strong),
    ("settlements", Action::Enforcement, Strength::Strong),
    ("enforcement action", Action::Enforcement, Strength::Strong),
    ("enforcement release", Action::Enforcement, Strength::Strong),
    (
        "finding of violation",
        Action::Enforcement,
        Strength::Strong,
    ),
    ("apparent violations", Action::Enforcement, Strength::Strong),
    ("indicted", Action::Enforcement, Strength::Strong),
    ("indicts", Action::Enforcement, Strength::Strong),
    ("indictment", Action::Enforcement, Strength::Strong),
    ("charged", Action::Enforcement, Strength::Strong),
    ("charges", Action::Enforcement, Strength::Strong),
    ("arrested", Action::Enforcement, Strength::Strong),
    ("arrests", Action::Enforcement, Strength::Strong),
    ("sentenced", Action::Enforcement, Strength::Strong),
    ("pleads guilty", Action::Enforcement, Strength::Strong),
    ("pleaded guilty", Action::Enforcement, Strength::Strong),
    ("convicted", Action::Enforcement, Strength::Strong),
    ("prosecuted", Action::Enforcement, Strength::Strong),
    ("prosecution", Action::Enforcement, Strength::Strong),
    ("seizes", Action::Enforcement, Strength::Strong),
    ("seized", Action::Enforcement, Strength::Strong),
    ("seizure", Action::Enforcement, Strength::Strong),
    ("forfeiture", Action::Enforcement, Strength::Strong),
    ("breached", Action::Enforcement, Strength::Strong),
    ("breaching", Action::Enforcement, Strength::Strong),
    ("breaches", Action::Enforcement, Strength::Strong),
    ("breach of", Action::Enforcement, Strength::Strong),
    // delisting
    ("delist", Action::Delisting, Strength::Strong),
    ("delists", Action::Delisting, Strength::Strong),
    ("delisted", Action::Delisting, Strength::Strong),
    ("delisting", Action::Delisting, Strength::Strong),
    ("delistings", Action::Delisting, Strength::Strong),
    ("de list", Action::Delisting, Strength::Strong),
    ("de listed", Action::Delisting, Strength::Strong),
    ("de listing", Action::Delisting, Strength::Strong),
    ("designation removal", Action::Delisting, Strength::Strong),
    ("designation removals", Action::Delisting, Strength::Strong),
    ("designations removal", Action::Delisting, Strength::Strong),
    ("designations removals", Action::Delisting, Strength::Strong),
    ("removes", Action::Delisting, Strength::Strong),
    ("removed from", Action::Delisting, Strength::Strong),
    ("removal", Action::Delisting, Strength::Strong),
    ("removals", Action::Delisting, Strength::Strong),
    ("lifts", Action::Delisting, Strength::Strong),
    ("lifted", Action::Delisting, Strength::Strong),
    ("lifting", Action::Delisting, Strength::Strong),
    ("unfreeze", Action::Delisting, Strength::Strong),
    ("unfreezes", Action::Delisting, Strength::Strong),
    ("unfrozen", Action::Delisting, Strength::Strong),
    ("revokes", Action::Delisting, Strength::Strong),
    ("rescinds", Action::Delisting, Strength::Strong),
    ("eases sanctions", Action::Delisting, Strength::Strong),
    ("sanctions relief", Action::Delisting, Strength::Strong),
    ("no longer subject", Action::Delisting, Strength::Strong),
    // amendments and renewals
    ("amends", Action::Amendment, Strength::Generic),
    ("amended", Action::Amendment, Strength::Generic),
    ("amending", Action::Amendment, Strength::Generic),
    ("amendment", Action::Amendment, Strength::Generic),
    ("amendments", Action::Amendment, Strength::Generic),
    ("designation update", Action::Amendment, Strength::Strong),
    ("designations update", Action::Amendment, Strength::Strong),
    ("designation updates", Action::Amendment, Strength::Strong),
    ("designations updates", Action::Amendment, Strength::Strong),
    ("updates", Action::Amendment, Strength::Generic),
    ("updated", Action::Amendment, Strength::Generic),
    ("update to", Action::Amendment, Strength::Strong),
    ("corrects", Action::Amendment, Strength::Strong),
    ("correction", Action::Amendment, Strength::Strong),
    ("corrections", Action::Amendment, Strength::Strong),
    ("extends", Action::Amendment, Strength::Strong),
    ("extended", Action::Amendment, Strength::Strong),
    ("prolongs", Action::Amendment, Strength::Strong),
    ("prolonged", Action::Amendment, Strength::Strong),
    ("renews", Action::Amendment, Strength::Strong),
    ("renewed", Action::Amendment, Strength::Strong),
    ("revises", Action::Amendment, Strength::Strong),
    ("modifies", Action::Amendment, Strength::Strong),
    ("variation", Action::Amendment, Strength::Strong),
    // designations
    ("designates", Action::Designation, Strength::Strong),
    ("designate", Action::Designation, Strength::Strong),
    ("designation", Action::Designation, Strength::Strong),
    ("designations", Action::Designation, Strength::Strong),
    ("designating", Action::Designation, Strength::Strong),
    ("has designated", Action::Designation, Strength::Strong),
    ("have designated", Action::Designation, Strength::Strong),
    ("were designated", Action::Designation, Strength::Strong),
    ("was designated", Action::Designation, Strength::Strong),
    ("has sanctioned", Action::Designation, Strength::Strong),
    ("have sanctioned", Action::Designation, Strength::Strong),
    ("had sanctioned", Action::Designation, Strength::Strong),
    ("was sanctioned", Action::Designation, Strength::Strong),
    ("were sanctioned", Action::Designation, Strength::Strong),
    ("been sanctioned", Action::Designation, Strength::Strong),
    ("sanctioned by", Action::Designation, Strength::Strong),
    ("sanctioning", Action::Designation, Strength::Strong),
    ("sanction", Action::Designation, Strength::Strong),
    ("imposes", Action::Designation, Strength::Generic),
    ("imposed", Action::Designation, Strength::Generic),
    ("impose", Action::Designation, Strength::Generic),
    ("imposing", Action::Designation, Strength::Generic),
    ("slaps", Action::Designation, Strength::Generic),
    ("levies", Action::Designation, Strength::Generic),
    ("levied", Action::Designation, Strength::Generic),
    ("targets", Action::Designation, Strength::Generic),
    ("blacklists", Action::Designation, Strength::Generic),
    ("blacklisted", Action::Designation, Strength::Generic),
    ("blacklist", Action::Designation, Strength::Generic),
    ("asset freeze", Action::Designation, Strength::Strong),
    ("asset freezes", Action::Designation, Strength::Strong),
    ("freezes", Action::Designation, Strength::Strong),
    ("new sanctions", Action::Designation, Strength::Strong),
    ("fresh sanctions", Action::Designation, Strength::Strong),
    ("further sanctions", Action::Designation, Strength::Strong),
    (
        "additional sanctions",
        Action::Designation,
        Strength::Strong,
    ),
    ("more sanctions", Action::Designation, Strength::Strong),
    ("sanctions package", Action::Designation, Strength::Strong),
    ("sanctions packages", Action::Designation, Strength::Strong),
    ("added to", Action::Designation, Strength::Generic),
    ("adds", Action::Designation, Strength::Generic),
    ("lists", Action::Designation, Strength::Generic),
    ("adopts", Action::Designation, Strength::Generic),
    ("adopted", Action::Designation, Strength::Generic),
    ("listed", Action::Designation, Strength::Generic),
    ("listing", Action::Designation, Strength::Generic),
    ("listings", Action::Designation, Strength::Generic),
    (
        "restrictive measures",
        Action::Designation,
        Strength::Strong,
    ),
    ("travel ban", Action::Designation, Strength::Strong),
    ("travel bans", Action::Designation, Strength::Strong),
    (
        "takes action against",
        Action::Designation,
        Strength::Generic,
    ),
    ("hits", Action::Designation, Strength::Generic),
    // other sanctions news: proposals, warnings, guidance, reactions
    ("proposes", Action::Other, Strength::Strong),
    ("proposed", Action::Other, Strength::Strong),
    ("proposal", Action::Other, Strength::Strong),
    ("plans", Action::Other, Strength::Strong),
    ("considers", Action::Other, Strength::Strong),
    ("considering", Action::Other, Strength::Strong),
    ("mulls", Action::Other, Strength::Strong),
    ("weighs", Action::Other, Strength::Strong),
    ("threatens", Action::Other, Strength::Strong),
    ("warns", Action::Other, Strength::Strong),
    ("condemns", Action::Other, Strength::Strong),
    ("urges", Action::Other, Strength::Strong),
    ("calls for", Action::Other, Strength::Strong),
    ("advisory", Action::Other, Strength::Strong),
    ("guidance", Action::Other, Strength::Strong),
    ("faqs", Action::Other, Strength::Strong),
    ("faq", Action::Other, Strength::Strong),
    ("alert", Action::Other, Strength::Strong),
    ("report", Action::Other, Strength::Weak),
    // weak: sanctions vocabulary that does not say which action
    ("sanctions", Action::Designation, Strength::Weak),
    ("sanctioned", Action::Designation, Strength::Weak),
    ("designated", Action::Designation, Strength::Weak),
    ("frozen", Action::Designation, Strength::Weak),
];

/// Words after "sanctions" that show it is the noun, not the verb.
const NOUN_FOLLOWERS: &[&str] = &[
    "on",
    "against",
    "over",
    "for",
    "in",
    "to",
    "are",
    "were",
    "was",
    "is",
    "be",
    "have",
    "has",
    "had",
    "relief",
    "regime",
    "regimes",
    "list",
    "lists",
    "package",
    "packages",
    "evasion",
    "violations",
    "violation",
    "busting",
    "will",
    "would",
    "could",
    "may",
    "might",
    "and",
    "or",
    "notice",
    "notices",
    "programme",
    "program",
    "programs",
    "imposed",
    "law",
    "laws",
    "act",
    "policy",
    "from",
    "target",
    "targets",
    "hit",
    "with",
    "designations",
    "designation",
    "update",
    "that",
    "which",
    "related",
    "compliance",
    "risk",
    "screening",
    "at",
    "of",
    "by",
    "as",
    "after",
    "since",
    "remain",
    "bite",
    "take",
    "came",
    "come",
];

/// Words before "sanctions" that show it is the noun.
const NOUN_PRECEDERS: &[&str] = &[
    "new",
    "fresh",
    "more",
    "further",
    "additional",
    "western",
    "tougher",
    "existing",
    "the",
    "of",
    "to",
    "under",
    "its",
    "their",
    "these",
    "those",
    "such",
    "targeted",
    "financial",
    "economic",
    "sectoral",
    "secondary",
    "international",
    "unilateral",
    "impose",
    "imposes",
    "imposed",
    "imposing",
    "announces",
    "announced",
    "adopts",
    "adopted",
    "agrees",
    "agreed",
    "evade",
    "evading",
    "evaded",
    "lifts",
    "ease",
    "eases",
    "extends",
    "breach",
    "breaching",
    "violating",
    "tightens",
    "expands",
    "financial",
    "with",
    "and",
    "by",
    "on",
    "against",
    "about",
    "over",
    "for",
];

/// Whether an authority mention names an agency or only a country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MentionKind {
    Agency,
    Country,
}

const OFAC: Authority = Authority {
    code: "US",
    name: "OFAC (US Treasury)",
};
const US_STATE: Authority = Authority {
    code: "US",
    name: "US State Department",
};
const US_COMMERCE: Authority = Authority {
    code: "US",
    name: "US Commerce Department (BIS)",
};
const US_JUSTICE: Authority = Authority {
    code: "US",
    name: "US Justice Department",
};
const US: Authority = Authority {
    code: "US",
    name: "United States",
};
const OFSI: Authority = Authority {
    code: "GB",
    name: "OFSI (HM Treasury)",
};
const FCDO: Authority = Authority {
    code: "GB",
    name: "UK FCDO",
};
const GB: Authority = Authority {
    code: "GB",
    name: "United Kingdom",
};
const EU_COUNCIL: Authority = Authority {
    code: "EU",
    name: "Council of the EU",
};
const EU: Authority = Authority {
    code: "EU",
    name: "European Union",
};
const UNSC: Authority = Authority {
    code: "UN",
    name: "UN Security Council",
};
const UN: Authority = Authority {
    code: "UN",
    name: "United Nations",
};

const fn country(code: &'static str, name: &'static str) -> Authority {
    Authority { code, name }
}

/// Countries that are far more often the target than the actor; they count as the
/// actor only in subject position before an action cue.
const USUAL_TARGETS: &[&str] = &["RU", "KP", "IR", "SY", "BY", "VE", "CU", "MM", "AF"];

/// Authority mentions as token sequences. `US`/`UN` written in lower case ("us",
/// "un") are words, not names; see [`authority_mentions`].
const AUTHORITY_CUES: &[(&str, Authority, MentionKind)] = &[
    ("ofac", OFAC, MentionKind::Agency),
    (
        "office of foreign assets control",
        OFAC,
        MentionKind::Agency,
    ),
    ("treasury", OFAC, MentionKind::Agency),
    ("treasury department", OFAC, MentionKind::Agency),
    ("us treasury", OFAC, MentionKind::Agency),
    ("u s treasury", OFAC, MentionKind::Agency),
    ("u s department of the treasury", OFAC, MentionKind::Agency),
    ("department of the treasury", OFAC, MentionKind::Agency),
    ("yellen", OFAC, MentionKind::Agency),
    ("bessent", OFAC, MentionKind::Agency),
    ("fincen", OFAC, MentionKind::Agency),
    ("state department", US_STATE, MentionKind::Agency),
    ("department of state", US_STATE, MentionKind::Agency),
    ("u s department of state", US_STATE, MentionKind::Agency),
    ("blinken", US_STATE, MentionKind::Agency),
    ("rubio", US_STATE, MentionKind::Agency),
    (
        "bureau of industry and security",
        US_COMMERCE,
        MentionKind::Agency,
    ),
    ("bis", US_COMMERCE, MentionKind::Agency),
    ("commerce department", US_COMMERCE, MentionKind::Agency),
    ("department of commerce", US_COMMERCE, MentionKind::Agency),
    ("u s commerce", US_COMMERCE, MentionKind::Agency),
    ("us commerce", US_COMMERCE, MentionKind::Agency),
    ("justice department", US_JUSTICE, MentionKind::Agency),
    ("department of justice", US_JUSTICE, MentionKind::Agency),
    ("doj", US_JUSTICE, MentionKind::Agency),
    ("united states", US, MentionKind::Country),
    ("u s", US, MentionKind::Country),
    ("us", US, MentionKind::Country),
    ("usa", US, MentionKind::Country),
    ("american", US, MentionKind::Country),
    ("washington", US, MentionKind::Country),
    ("white house", US, MentionKind::Country),
    ("biden administration", US, MentionKind::Country),
    ("trump administration", US, MentionKind::Country),
    ("ofsi", OFSI, MentionKind::Agency),
    (
        "office of financial sanctions implementation",
        OFSI,
        MentionKind::Agency,
    ),
    ("hm treasury", OFSI, MentionKind::Agency),
    ("his majesty s treasury", OFSI, MentionKind::Agency),
    ("uk treasury", OFSI, MentionKind::Agency),
    ("ots", GB, MentionKind::Agency),
    ("fcdo", FCDO, MentionKind::Agency),
    (
        "foreign commonwealth and development office",
        FCDO,
        MentionKind::Agency,
    ),
    (
        "foreign commonwealth development office",
        FCDO,
        MentionKind::Agency,
    ),
    ("foreign office", FCDO, MentionKind::Agency),
    ("foreign secretary", FCDO, MentionKind::Agency),
    ("uk", GB, MentionKind::Country),
    ("u k", GB, MentionKind::Country),
    ("united kingdom", GB, MentionKind::Country),
    ("britain", GB, MentionKind::Country),
    ("great britain", GB, MentionKind::Country),
    ("british", GB, MentionKind::Country),
    ("london", GB, MentionKind::Country),
    ("council of the eu", EU_COUNCIL, MentionKind::Agency),
    (
        "council of the european union",
        EU_COUNCIL,
        MentionKind::Agency,
    ),
    ("eu council", EU_COUNCIL, MentionKind::Agency),
    ("european council", EU_COUNCIL, MentionKind::Agency),
    ("the council", EU_COUNCIL, MentionKind::Agency),
    ("european commission", EU, MentionKind::Agency),
    ("eu", EU, MentionKind::Country),
    ("european union", EU, MentionKind::Country),
    ("brussels", EU, MentionKind::Country),
    ("un security council", UNSC, MentionKind::Agency),
    ("u n security council", UNSC, MentionKind::Agency),
    ("united nations security council", UNSC, MentionKind::Agency),
    ("security council", UNSC, MentionKind::Agency),
    ("unsc", UNSC, MentionKind::Agency),
    ("sanctions committee", UNSC, MentionKind::Agency),
    ("1718 committee", UNSC, MentionKind::Agency),
    ("united nations", UN, MentionKind::Country),
    ("un", UN, MentionKind::Country),
    ("u n", UN, MentionKind::Country),
    ("japan", country("JP", "Japan"), MentionKind::Country),
    ("japanese", country("JP", "Japan"), MentionKind::Country),
    ("tokyo", country("JP", "Japan"), MentionKind::Country),
    ("meti", country("JP", "Japan"), MentionKind::Agency),
    (
        "south korea",
        country("KR", "South Korea"),
        MentionKind::Country,
    ),
    (
        "south korean",
        country("KR", "South Korea"),
        MentionKind::Country,
    ),
    (
        "republic of korea",
        country("KR", "South Korea"),
        MentionKind::Country,
    ),
    ("seoul", country("KR", "South Korea"), MentionKind::Country),
    ("rok", country("KR", "South Korea"), MentionKind::Country),
    (
        "north korea",
        country("KP", "North Korea"),
        MentionKind::Country,
    ),
    (
        "north korean",
        country("KP", "North Korea"),
        MentionKind::Country,
    ),
    ("dprk", country("KP", "North Korea"), MentionKind::Country),
    (
        "pyongyang",
        country("KP", "North Korea"),
        MentionKind::Country,
    ),
    ("canada", country("CA", "Canada"), MentionKind::Country),
    ("canadian", country("CA", "Canada"), MentionKind::Country),
    ("ottawa", country("CA", "Canada"), MentionKind::Country),
    (
        "global affairs canada",
        country("CA", "Canada"),
        MentionKind::Agency,
    ),
    (
        "australia",
        country("AU", "Australia"),
        MentionKind::Country,
    ),
    (
        "australian",
        country("AU", "Australia"),
        MentionKind::Country,
    ),
    ("canberra", country("AU", "Australia"), MentionKind::Country),
    ("dfat", country("AU", "Australia"), MentionKind::Agency),
    (
        "new zealand",
        country("NZ", "New Zealand"),
        MentionKind::Country,
    ),
    (
        "switzerland",
        country("CH", "Switzerland"),
        MentionKind::Country,
    ),
    ("swiss", country("CH", "Switzerland"), MentionKind::Country),
    ("seco", country("CH", "Switzerland"), MentionKind::Agency),
    ("norway", country("NO", "Norway"), MentionKind::Country),
    ("ukraine", country("UA", "Ukraine"), MentionKind::Country),
    ("ukrainian", country("UA", "Ukraine"), MentionKind::Country),
    ("kyiv", country("UA", "Ukraine"), MentionKind::Country),
    ("zelensky", country("UA", "Ukraine"), MentionKind::Country),
    ("zelenskyy", country("UA", "Ukraine"), MentionKind::Country),
    ("china", country("CN", "China"), MentionKind::Country),
    ("chinese", country("CN", "China"), MentionKind::Country),
    ("beijing", country("CN", "China"), MentionKind::Country),
    ("mofcom", country("CN", "China"), MentionKind::Agency),
    ("taiwan", country("TW", "Taiwan"), MentionKind::Country),
    (
        "singapore",
        country("SG", "Singapore"),
        MentionKind::Country,
    ),
    ("india", country("IN", "India"), MentionKind::Country),
    ("france", country("FR", "France"), MentionKind::Country),
    ("french", country("FR", "France"), MentionKind::Country),
    ("germany", country("DE", "Germany"), MentionKind::Country),
    ("german", country("DE", "Germany"), MentionKind::Country),
    ("russia", country("RU", "Russia"), MentionKind::Country),
    ("russian", country("RU", "Russia"), MentionKind::Country),
    ("moscow", country("RU", "Russia"), MentionKind::Country),
    ("kremlin", country("RU", "Russia"), MentionKind::Country),
    ("iran", country("IR", "Iran"), MentionKind::Country),
    ("iranian", country("IR", "Iran"), MentionKind::Country),
    ("tehran", country("IR", "Iran"), MentionKind::Country),
    ("syria", country("SY", "Syria"), MentionKind::Country),
    ("syrian", country("SY", "Syria"), MentionKind::Country),
    ("belarus", country("BY", "Belarus"), MentionKind::Country),
    ("belarusian", country("BY", "Belarus"), MentionKind::Country),
    (
        "venezuela",
        country("VE", "Venezuela"),
        MentionKind::Country,
    ),
    (
        "venezuelan",
        country("VE", "Venezuela"),
        MentionKind::Country,
    ),
    ("cuba", country("CU", "Cuba"), MentionKind::Country),
    ("myanmar", country("MM", "Myanmar"), MentionKind::Country),
];

/// Cue tables split into token sequences once, and found by their first word.
struct CueTable<T: Copy> {
    cues: Vec<(Vec<&'static str>, T)>,
    /// First word → the cues starting with it, in table order.
    by_first_word: FxHashMap<&'static str, Vec<usize>>,
}

impl<T: Copy> CueTable<T> {
    fn new(raw: impl Iterator<Item = (&'static str, T)>) -> CueTable<T> {
        let cues: Vec<(Vec<&'static str>, T)> = raw
            .map(|(phrase, value)| (phrase.split(' ').collect(), value))
            .collect();
        let mut by_first_word: FxHashMap<&'static str, Vec<usize>> = FxHashMap::default();
        for (i, (phrase, _)) in cues.iter().enumerate() {
            by_first_word.entry(phrase[0]).or_default().push(i);
        }
        CueTable {
            cues,
            by_first_word,
        }
    }

    /// The longest cue starting at token `i`, with its length (of equally long
    /// cues, the first in the table).
    fn longest_at(&self, toks: &Words, i: usize) -> Option<(usize, T)> {
        let starting_here = self.by_first_word.get(toks.get(i)?)?;
        let mut best: Option<(usize, T)> = None;
        for &c in starting_here {
            let (phrase, value) = &self.cues[c];
            let n = phrase.len();
            if i + n > toks.len() || best.is_some_and(|(len, _)| len >= n) {
                continue;
            }
            if phrase
                .iter()
                .enumerate()
                .all(|(k, p)| *p == toks.norm(i + k))
            {
                best = Some((n, *value));
            }
        }
        best
    }
}

static ACTIONS: std::sync::LazyLock<CueTable<(Action, Strength)>> =
    std::sync::LazyLock::new(|| CueTable::new(ACTION_CUES.iter().map(|(p, a, s)| (*p, (*a, *s)))));

static AUTHORITIES: std::sync::LazyLock<CueTable<(Authority, MentionKind)>> =
    std::sync::LazyLock::new(|| {
        CueTable::new(AUTHORITY_CUES.iter().map(|(p, a, k)| (*p, (*a, *k))))
    });

/// An action cue found in a sentence.
#[derive(Debug, Clone, Copy)]
struct ActionCue {
    token: usize,
    action: Action,
    strength: Strength,
}

/// An authority mentioned in a sentence.
#[derive(Debug, Clone, Copy)]
struct Mention {
    token: usize,
    authority: Authority,
    kind: MentionKind,
}

/// True if the text is written in capitals (a shouting title): then case cannot
/// tell "US" from "us".
pub(crate) fn is_all_caps(text: &str) -> bool {
    let mut letters = 0;
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        if c.is_lowercase() {
            return false;
        }
        letters += 1;
    }
    letters >= 4
}

/// True if most longer words of `text` start with a capital (a headline).
pub(crate) fn is_title_case(text: &str) -> bool {
    let (mut words, mut capitalised) = (0, 0);
    for word in text.split_whitespace() {
        if word.chars().filter(|c| c.is_alphabetic()).count() >= 4 {
            words += 1;
            if word.chars().next().is_some_and(char::is_uppercase) {
                capitalised += 1;
            }
        }
    }
    words >= 2 && capitalised * 10 >= words * 6
}

/// Action cues of one sentence, in order. In running text (`headline` false) a
/// capitalised word inside the sentence is part of a name ("National Settlement
/// Depository"), not a cue.
fn action_cues(sentence: &str, toks: &Words, headline: bool) -> Vec<ActionCue> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let original = &sentence[toks.span(i)];
        let in_name = !headline
            && i > 0
            && original.chars().next().is_some_and(char::is_uppercase)
            && original.chars().any(char::is_lowercase);
        if in_name {
            i += 1;
            continue;
        }
        if let Some((len, (action, strength))) = ACTIONS.longest_at(toks, i) {
            let mut strength = strength;
            let word = toks.norm(i);
            if len == 1 && word == "designated" {
                let prev = i.checked_sub(1).map(|p| toks.norm(p));
                let next = toks.get(i + 1);
                strength = if prev == Some("specially")
                    || matches!(
                        next,
                        None | Some(
                            "nationals" | "terrorist" | "terrorists" | "global" | "foreign"
                        )
                    ) {
                    Strength::Weak
                } else {
                    Strength::Strong
                };
            }
            if len == 1 && (word == "sanctions" || word == "sanctioned") {
                strength = if sanctions_is_verb(toks, i) {
                    Strength::Strong
                } else {
                    Strength::Weak
                };
            }
            if len == 1 && word == "gl" && !toks.get(i + 1).is_some_and(is_numberish) {
                i += 1;
                continue;
            }
            out.push(ActionCue {
                token: i,
                action,
                strength,
            });
            i += len;
        } else {
            i += 1;
        }
    }
    out
}

fn is_numberish(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// "X sanctions Y" (verb) versus "sanctions on Y" (noun).
fn sanctions_is_verb(toks: &Words, i: usize) -> bool {
    let Some(next) = toks.get(i + 1) else {
        return false;
    };
    if i == 0 {
        return false;
    }
    if toks.norm(i) == "sanctioned" {
        // "Seoul sanctioned two ships" — past tense with an object; the adjective use
        // ("sanctioned tanker") comes first in a headline.
        return !NOUN_FOLLOWERS.contains(&next);
    }
    let prev = toks.norm(i - 1);
    !NOUN_FOLLOWERS.contains(&next) && !NOUN_PRECEDERS.contains(&prev)
}

/// Authority mentions in one sentence. Lower-case "us"/"un" are words, not names.
fn authority_mentions(text: &str, toks: &Words, caps: bool) -> Vec<Mention> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some((len, (authority, kind))) = AUTHORITIES.longest_at(toks, i) {
            let word = toks.norm(i);
            let original = &text[toks.span(i)];
            let ambiguous_word = len == 1 && matches!(word, "us" | "un");
            if ambiguous_word && (caps || original != original.to_uppercase()) {
                i += 1;
                continue;
            }
            // "the council" only means the EU Council when the EU is about.
            if len == 2 && word == "the" && !text.contains("EU") && !text.contains("European") {
                i += 1;
                continue;
            }
            // "HM Treasury" is caught by its longer cue; a bare "Treasury" right after
            // "UK"/"British" is the UK's.
            let authority = if word == "treasury"
                && len == 1
                && i > 0
                && matches!(toks.norm(i - 1), "uk" | "british" | "hm" | "k")
            {
                OFSI
            } else {
                authority
            };
            out.push(Mention {
                token: i,
                authority,
                kind,
            });
            i += len;
        } else {
            i += 1;
        }
    }
    out
}

/// The authority acting in a sentence whose action cue is at token `cue`, and
/// whether it is only a usual target country (weak evidence).
fn actor_for(mentions: &[Mention], toks: &Words, cue: usize) -> Option<(Authority, bool)> {
    // Passive: "... sanctioned by Japan".
    for m in mentions
        .iter()
        .filter(|m| m.token > cue && m.token <= cue + 5)
    {
        if (cue..m.token).any(|t| toks.norm(t) == "by") {
            return Some((m.authority, false));
        }
    }
    let before: Vec<&Mention> = mentions.iter().filter(|m| m.token < cue).collect();
    if let Some(agency) = before.iter().rev().find(|m| m.kind == MentionKind::Agency) {
        return Some((agency.authority, false));
    }
    // Subject position: the country named nearest before the verb, unless it reads as
    // an attribute of the target ("Russian ships", "North Korean nationals").
    if let Some(m) = before
        .iter()
        .rev()
        .find(|m| !USUAL_TARGETS.contains(&m.authority.code))
    {
        return Some((m.authority, false));
    }
    // "... hit with a travel ban, in the first use of Australia's cyber sanctions".
    if let Some(m) = mentions
        .iter()
        .filter(|m| m.token > cue)
        .find(|m| !USUAL_TARGETS.contains(&m.authority.code))
    {
        return Some((m.authority, false));
    }
    before.first().map(|m| (m.authority, true))
}

/// Agencies that a feed's own name can reveal (a government feed's summary may be
/// empty): only agency names, never countries (a "Japan Times" feed is no actor).
fn authority_from_source(source: &str) -> Option<Authority> {
    let toks = Words::of(source);
    authority_mentions(source, &toks, is_all_caps(source))
        .into_iter()
        .find(|m| m.kind == MentionKind::Agency)
        .map(|m| m.authority)
}

/// How many sentences of the text (after the title) are read.
const LEAD_SENTENCES: usize = 3;

/// Recognises the action and authority of an item from its title, text and the
/// name of the feed it came from.
pub fn recognise(title: &str, text: &str, source: &str) -> Recognition {
    recognise_text(&ItemText::new(title, text), source)
}

/// [`recognise`] for an item whose words are read already.
pub(crate) fn recognise_text(item: &ItemText, source: &str) -> Recognition {
    let mut sentences: Vec<(&str, &Words)> = Vec::new();
    if !item.title.trim().is_empty() {
        sentences.push((item.title, item.title_words()));
    }
    for k in 0..item.sentences.len().min(LEAD_SENTENCES) {
        sentences.push((item.sentence(k), item.sentence_words(k)));
    }

    let mut action: Option<(Action, usize)> = None;
    let mut weak: Option<(Action, usize)> = None;
    let mut all_mentions: Vec<(usize, Mention)> = Vec::new();
    let mut actor: Option<(Authority, bool)> = None;
    for (s, &(sentence, toks)) in sentences.iter().enumerate() {
        let caps = is_all_caps(sentence);
        let cues = action_cues(sentence, toks, s == 0 || caps || is_title_case(sentence));
        let mentions = authority_mentions(sentence, toks, caps);
        all_mentions.extend(mentions.iter().map(|m| (s, *m)));
        // The first decisive cue; a generic verb yields to a specific cue after it
        // ("adds ... to the Entity List", "amended General License").
        let first = cues.iter().position(|c| c.strength != Strength::Weak);
        let decisive = first.map(|at| {
            let cue = cues[at];
            if cue.strength != Strength::Generic {
                return cue;
            }
            match cues[at + 1..].iter().find(|c| {
                c.strength == Strength::Strong
                    && c.action != Action::Designation
                    && c.action != Action::Other
            }) {
                Some(specific) => ActionCue {
                    action: specific.action,
                    ..cue
                },
                None => cue,
            }
        });
        if action.is_none()
            && let Some(cue) = decisive.as_ref()
        {
            action = Some((cue.action, s));
            actor = actor_for(&mentions, toks, cue.token).or(actor);
        }
        if weak.is_none()
            && let Some(cue) = cues.first()
        {
            weak = Some((cue.action, s));
            if action.is_none() && actor.is_none() {
                actor = actor_for(&mentions, toks, cue.token);
            }
        }
    }
    let action = match (action, weak) {
        (Some((a, _)), _) => a,
        (None, Some((Action::Other, _))) | (None, None) => Action::Other,
        // Only the noun "sanctions": a government feed's bare notice ("Financial
        // sanctions notice: Russia") lists names; news using the noun is other news.
        (None, Some(_)) => {
            if authority_from_source(source).is_some() {
                Action::Designation
            } else {
                Action::Other
            }
        }
    };
    let first_agency = || {
        all_mentions
            .iter()
            .find(|(_, m)| m.kind == MentionKind::Agency)
            .map(|(_, m)| m.authority)
    };
    let authority = match actor {
        Some((a, false)) => Some(a),
        weak_actor => first_agency()
            .or_else(|| authority_from_source(source))
            .or_else(|| {
                all_mentions
                    .iter()
                    .find(|(_, m)| !USUAL_TARGETS.contains(&m.authority.code))
                    .map(|(_, m)| m.authority)
            })
            .or(weak_actor.map(|(a, _)| a)),
    };
    Recognition { action, authority }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verb_and_noun_sanctions_differ() {
        let r = recognise("South Korea sanctions two Russian ships", "", "");
        assert_eq!(r.action, Action::Designation);
        assert_eq!(r.authority.map(|a| a.code), Some("KR"));
        let r = recognise("US imposes new sanctions on Russian shipping", "", "");
        assert_eq!(r.action, Action::Designation);
        let r = recognise("Sanctions on Russia: a year on", "", "");
        assert_eq!(r.action, Action::Other);
    }

    #[test]
    fn lower_case_us_is_a_word() {
        let r = recognise("Let us talk about sanctions", "", "");
        assert_eq!(r.authority, None);
    }

    #[test]
    fn passive_takes_the_agent() {
        let r = recognise("Two tankers sanctioned by Japan", "", "");
        assert_eq!(r.authority.map(|a| a.code), Some("JP"));
        assert_eq!(r.action, Action::Designation);
    }
}
