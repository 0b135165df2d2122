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
//!
//! The word lists and cue tables the rules read (action cues, the words that make
//! "sanctions" a noun, authorities and the phrases naming them) are data in `cues`;
//! the answer's types and the kinds of cues are in `kinds`.

use rustc_hash::FxHashMap;

mod cues;
mod kinds;

use super::words::{ItemText, Words};
pub use kinds::{Action, Authority, Recognition};
use kinds::{MentionKind, Strength};

use cues::{ACTION_CUES, AUTHORITY_CUES, NOUN_FOLLOWERS, NOUN_PRECEDERS, OFSI, USUAL_TARGETS};

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
