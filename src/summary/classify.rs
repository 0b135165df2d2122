//! Is this item a sanctions announcement? Government feeds: always. News feeds: when
//! the title or text uses sanctions vocabulary. The answer carries its reason, so a
//! user can see why an item was (or was not) considered.

use super::words::Words;
use crate::config::FeedKind;
use crate::feeds::FeedItem;

/// The verdict and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// True if the item should be screened against watchlists.
    pub is_announcement: bool,
    /// Human-readable reason, e.g. `news: "sanctioned" in title`.
    pub reason: String,
}

/// Single words that mark sanctions news (compared after case folding).
const TERMS: &[&str] = &[
    "sanction",
    "sanctions",
    "sanctioned",
    "sanctioning",
    "designates",
    "designated",
    "designation",
    "designations",
    "delisted",
    "delisting",
    "delists",
    "blacklist",
    "blacklisted",
    "blacklists",
    "embargo",
    "embargoes",
    "ofac",
    "ofsi",
    "sdn",
    "asset",
    "freeze",
    "frozen",
    "penalty",
    "penalties",
    "export",
    "controls",
];

/// Two-word phrases; a lone "export" or "asset" does not count.
const PHRASES: &[(&str, &str)] = &[
    ("asset", "freeze"),
    ("assets", "frozen"),
    ("export", "controls"),
    ("export", "control"),
    ("entity", "list"),
    ("travel", "ban"),
    ("civil", "penalty"),
    ("restrictive", "measures"),
];

/// Words that count alone.
fn is_strong(term: &str) -> bool {
    !matches!(
        term,
        "asset" | "freeze" | "frozen" | "export" | "controls" | "penalty" | "penalties"
    )
}

/// Decides whether `item` from a feed of `kind` is a sanctions announcement.
pub fn classify(kind: FeedKind, item: &FeedItem) -> Classification {
    if kind == FeedKind::Government {
        return Classification {
            is_announcement: true,
            reason: "government source: every item counts".into(),
        };
    }
    for (field, text) in [("title", item.title.as_str()), ("text", item.text.as_str())] {
        if let Some(term) = sanctions_term(text) {
            return Classification {
                is_announcement: true,
                reason: format!("news: {term:?} in {field}"),
            };
        }
    }
    Classification {
        is_announcement: false,
        reason: "news: no sanctions vocabulary in title or text".into(),
    }
}

/// The first sanctions word or phrase in `text`, if any.
pub fn sanctions_term(text: &str) -> Option<String> {
    let toks = Words::of(text);
    for i in 0..toks.len() {
        let word = toks.norm(i);
        if let Some(next) = toks.get(i + 1)
            && PHRASES.iter().any(|(a, b)| *a == word && *b == next)
        {
            return Some(format!("{word} {next}"));
        }
        if TERMS.contains(&word) && is_strong(word) {
            return Some(word.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(title: &str, text: &str) -> FeedItem {
        FeedItem {
            feed_id: "f".into(),
            guid: None,
            link: None,
            title: title.into(),
            text: text.into(),
            published: None,
        }
    }

    #[test]
    fn government_items_always_count() {
        assert!(classify(FeedKind::Government, &item("Weekly update", "")).is_announcement);
    }

    #[test]
    fn news_needs_sanctions_vocabulary() {
        let c = classify(
            FeedKind::News,
            &item("South Korea sanctions two Russian ships", ""),
        );
        assert!(c.is_announcement);
        assert_eq!(c.reason, "news: \"sanctions\" in title");
        let c = classify(
            FeedKind::News,
            &item(
                "Trade talks",
                "The EU imposed an asset freeze on three firms.",
            ),
        );
        assert!(c.is_announcement);
        assert!(c.reason.contains("asset freeze"));
        assert!(
            !classify(
                FeedKind::News,
                &item("Football results", "An export of goals.")
            )
            .is_announcement
        );
    }

    #[test]
    fn word_boundaries_hold() {
        assert!(sanctions_term("Sanctuary cities debate").is_none());
        assert!(sanctions_term("Treasury DESIGNATES network").is_some());
    }
}
