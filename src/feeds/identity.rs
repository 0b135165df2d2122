//! Stable item identity: the versioned keys under which an item is remembered as seen.
//! Derived from the guid, else the canonical link, else a hash of title and date;
//! never from the body, which publishers edit. Changing the derivation means a new
//! version prefix and a migration, never a flood of reposts.
//!
//! Real feeds break the rules, so identity is decided per fetch ([`assign_keys`]):
//! - Every item has up to three derivations (guid, link, title + date). All of them are
//!   recorded as seen, and the feed's [`IdentityMode`] says which one decides whether an
//!   item is new (its primary key).
//! - An id shared by several items of one fetch does not identify any of them: those
//!   items fall through to the next derivation; identical titles and dates are told
//!   apart by their position counted from the oldest.
//! - An item whose guid is new but whose dated title was seen is the same item under a
//!   regenerated guid and is not new.
//! - When too many items of one fetch lack or share ids, or have regenerated guids, the
//!   feed falls back to a weaker mode (guid → link → title + date) for good: the mode
//!   is kept in the feed's state, so it is stable across restarts, and because the
//!   weaker derivations were recorded all along, the switch posts nothing old.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::parse::FeedItem;

/// Current key version.
pub const KEY_VERSION: &str = "v1";

/// Where an item's identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The feed's own id for the item.
    Guid,
    /// The item's link, canonicalised.
    Link,
    /// Title and date: the weakest identity.
    TitleDate,
}

impl KeySource {
    fn tag(self) -> &'static str {
        match self {
            KeySource::Guid => "g",
            KeySource::Link => "l",
            KeySource::TitleDate => "h",
        }
    }
}

/// Which derivation decides whether an item of a feed is new. Only ever weakens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityMode {
    /// Guid, else link, else title + date (the normal case).
    #[default]
    Guid,
    /// The feed's guids are unreliable: link, else title + date.
    Link,
    /// Guids and links are unreliable: title + date only.
    TitleDate,
}

impl IdentityMode {
    /// A short name for logs and `feeds`.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityMode::Guid => "guid",
            IdentityMode::Link => "link",
            IdentityMode::TitleDate => "title+date",
        }
    }
}

/// The versioned, fixed-length key of an item under the default derivation, e.g.
/// `v1:g:1f3a…`.
pub fn item_key(item: &FeedItem) -> String {
    let (source, material) = key_material(item);
    versioned(source, &material)
}

fn versioned(source: KeySource, material: &str) -> String {
    let digest = Sha256::digest(material.as_bytes());
    format!("{KEY_VERSION}:{}:{}", source.tag(), hex(&digest[..16]))
}

/// Which identity an item has and the text it is derived from.
pub fn key_material(item: &FeedItem) -> (KeySource, String) {
    if let Some(guid) = guid_material(item) {
        return (KeySource::Guid, guid);
    }
    if let Some(link) = item.link.as_deref().and_then(canonical_link) {
        return (KeySource::Link, link);
    }
    (KeySource::TitleDate, title_date_material(item))
}

fn guid_material(item: &FeedItem) -> Option<String> {
    item.guid
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
}

fn title_date_material(item: &FeedItem) -> String {
    let date = item.published.map(|d| d.to_rfc3339()).unwrap_or_default();
    let title: String = item
        .title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    format!("{title}\u{0}{date}")
}

/// Every key of one item of a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKeys {
    /// The key that decides whether the item is new, under the feed's mode.
    pub primary: String,
    /// All derivations (the primary among them), each recorded as seen.
    pub all: Vec<String>,
}

/// How the items of one fetch are identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Per item, in the order given: its keys and whether it is new.
    pub items: Vec<(ItemKeys, bool)>,
    /// Keys to record as seen (those not seen yet).
    pub record: Vec<String>,
    /// The mode used, after any fallback.
    pub mode: IdentityMode,
    /// Why the feed fell back to a weaker mode in this fetch, if it did.
    pub fallback: Option<String>,
}

struct Derived {
    guid: Option<String>,
    link: Option<String>,
    title_date: String,
    dated: bool,
}

/// Decides the keys of one fetch's `items` for a feed in `mode`. `is_seen` asks the
/// store whether a key was recorded for this feed. `weak_keys_recorded` is false until
/// the feed has had a fetch under this scheme (stores from before it recorded only one
/// key per item); such a first fetch recognises an item by any of its unique keys.
pub fn assign_keys<E>(
    items: &[FeedItem],
    mode: IdentityMode,
    weak_keys_recorded: bool,
    mut is_seen: impl FnMut(&str) -> Result<bool, E>,
) -> Result<Assignment, E> {
    let n = items.len();
    // Title + date, with an occurrence number counted from the oldest (the end of the
    // document), so new items at the top do not shift the numbers of old ones.
    let mut td_count: HashMap<String, usize> = HashMap::new();
    let mut td_keys = vec![String::new(); n];
    for (i, item) in items.iter().enumerate().rev() {
        let material = title_date_material(item);
        let seen_before = td_count.entry(material.clone()).or_default();
        td_keys[i] = if *seen_before == 0 {
            versioned(KeySource::TitleDate, &material)
        } else {
            versioned(
                KeySource::TitleDate,
                &format!("{material}\u{0}{seen_before}"),
            )
        };
        *seen_before += 1;
    }
    let derived: Vec<Derived> = items
        .iter()
        .zip(td_keys)
        .map(|(item, title_date)| Derived {
            guid: guid_material(item).map(|g| versioned(KeySource::Guid, &g)),
            link: item
                .link
                .as_deref()
                .and_then(canonical_link)
                .map(|l| versioned(KeySource::Link, &l)),
            title_date,
            dated: item.published.is_some(),
        })
        .collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for d in &derived {
        for k in d.guid.iter().chain(d.link.iter()) {
            *counts.entry(k.as_str()).or_default() += 1;
        }
    }
    let unique = |k: &Option<String>| -> Option<String> {
        k.as_ref().filter(|k| counts[k.as_str()] == 1).cloned()
    };

    // Is the feed's mode still good enough for this fetch?
    let weak_guids = derived.iter().filter(|d| unique(&d.guid).is_none()).count();
    let usable_links = derived.iter().filter(|d| unique(&d.link).is_some()).count();
    let mut regenerated = 0;
    if mode == IdentityMode::Guid {
        for d in &derived {
            if let Some(g) = unique(&d.guid)
                && d.dated
                && !is_seen(&g)?
                && is_seen(&d.title_date)?
            {
                regenerated += 1;
            }
        }
    }
    let weaker = if usable_links * 2 > n {
        IdentityMode::Link
    } else {
        IdentityMode::TitleDate
    };
    let too_many = |bad: usize| bad >= 2 && bad * 2 > n;
    let mut new_mode = mode;
    let mut fallback = None;
    if weak_keys_recorded {
        if mode == IdentityMode::Guid && too_many(weak_guids) {
            new_mode = weaker;
            fallback = Some(format!("{weak_guids} of {n} items have no id or share one"));
        } else if mode == IdentityMode::Guid && regenerated >= 1 && regenerated * 2 >= n {
            new_mode = weaker;
            fallback = Some(format!(
                "{regenerated} of {n} items came back with new guids"
            ));
        } else if mode == IdentityMode::Link && too_many(n - usable_links) {
            new_mode = IdentityMode::TitleDate;
            fallback = Some(format!(
                "{} of {n} items have no link or share one",
                n - usable_links
            ));
        }
    }
    let conservative = fallback.is_some() || !weak_keys_recorded;

    let mut out = Vec::with_capacity(n);
    let mut record = Vec::new();
    let mut recorded: HashSet<String> = HashSet::new();
    for d in &derived {
        let primary = match new_mode {
            IdentityMode::Guid => unique(&d.guid)
                .or_else(|| unique(&d.link))
                .unwrap_or_else(|| d.title_date.clone()),
            IdentityMode::Link => unique(&d.link).unwrap_or_else(|| d.title_date.clone()),
            IdentityMode::TitleDate => d.title_date.clone(),
        };
        let mut all: Vec<String> = d.guid.iter().chain(d.link.iter()).cloned().collect();
        all.push(d.title_date.clone());
        let mut fresh = !is_seen(&primary)?;
        if fresh && d.dated && is_seen(&d.title_date)? {
            // The same dated title under a new id: a regenerated guid or moved link.
            fresh = false;
        }
        if fresh && conservative {
            for k in [unique(&d.guid), unique(&d.link)].into_iter().flatten() {
                if is_seen(&k)? {
                    fresh = false;
                    break;
                }
            }
        }
        for k in &all {
            if !recorded.contains(k) && !is_seen(k)? {
                recorded.insert(k.clone());
                record.push(k.clone());
            }
        }
        out.push((ItemKeys { primary, all }, fresh));
    }
    Ok(Assignment {
        items: out,
        record,
        mode: new_mode,
        fallback,
    })
}

/// A link reduced to what identifies the page: no scheme, no `www.`, no fragment, no
/// tracking parameters, no trailing slash.
pub fn canonical_link(link: &str) -> Option<String> {
    let url = url::Url::parse(link.trim()).ok()?;
    let host = url
        .host_str()?
        .trim_start_matches("www.")
        .to_ascii_lowercase();
    let mut out = host;
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path().trim_end_matches('/'));
    let params: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking_param(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    Some(out)
}

fn is_tracking_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_")
        || matches!(
            key.as_str(),
            "fbclid" | "gclid" | "mc_cid" | "mc_eid" | "ref"
        )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item(guid: Option<&str>, link: Option<&str>, title: &str) -> FeedItem {
        FeedItem {
            feed_id: "f".into(),
            guid: guid.map(Into::into),
            link: link.map(Into::into),
            title: title.into(),
            text: "body".into(),
            published: Some(chrono::Utc.with_ymd_and_hms(2024, 5, 24, 9, 0, 0).unwrap()),
        }
    }

    #[test]
    fn guid_wins_and_body_never_counts() {
        let a = item(Some("urn:1"), Some("https://a.example/x"), "Title");
        let mut b = a.clone();
        b.text = "edited body".into();
        b.title = "Edited title".into();
        assert_eq!(item_key(&a), item_key(&b));
        assert!(item_key(&a).starts_with("v1:g:"));
        assert_eq!(item_key(&a).len(), "v1:g:".len() + 32);
    }

    #[test]
    fn canonical_link_ignores_tracking_and_scheme() {
        let a = item(
            None,
            Some("https://www.example.org/news/1/?utm_source=rss#top"),
            "T",
        );
        let b = item(None, Some("http://example.org/news/1"), "T");
        assert_eq!(item_key(&a), item_key(&b));
        assert!(item_key(&a).starts_with("v1:l:"));
        let c = item(None, Some("https://example.org/news/2"), "T");
        assert_ne!(item_key(&a), item_key(&c));
    }

    #[test]
    fn title_and_date_are_the_last_resort() {
        let a = item(None, None, "Treasury  sanctions ships");
        let b = item(None, None, "treasury sanctions ships");
        assert_eq!(item_key(&a), item_key(&b));
        assert!(item_key(&a).starts_with("v1:h:"));
        let mut c = a.clone();
        c.published = None;
        assert_ne!(item_key(&a), item_key(&c));
    }

    #[test]
    fn blank_guid_is_no_guid() {
        let a = item(Some("  "), Some("https://example.org/n"), "T");
        assert!(item_key(&a).starts_with("v1:l:"));
    }
}
