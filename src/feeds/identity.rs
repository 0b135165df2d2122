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

use std::fmt::Write as _;

use rustc_hash::{FxHashMap, FxHashSet};
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

/// `v1:TAG:` and the first 16 bytes of the material's SHA-256 in lower-case hex.
fn versioned(source: KeySource, material: &str) -> String {
    let digest = Sha256::digest(material.as_bytes());
    let mut key = String::with_capacity(KEY_VERSION.len() + 3 + 32);
    key.push_str(KEY_VERSION);
    key.push(':');
    key.push_str(source.tag());
    key.push(':');
    push_hex(&mut key, &digest[..16]);
    key
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

/// The title's words, one space apart, lower-cased; a NUL; the date in RFC 3339
/// (empty when there is none).
fn title_date_material(item: &FeedItem) -> String {
    let mut title = String::with_capacity(item.title.len() + 1 + 25);
    for word in item.title.split_whitespace() {
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    // Lower-cased as a whole, as it always was (`to_lowercase` reads a final sigma
    // from its context); ASCII in place.
    let mut material = if title.is_ascii() {
        title.make_ascii_lowercase();
        title
    } else {
        title.to_lowercase()
    };
    material.push('\u{0}');
    if let Some(date) = item.published {
        material.push_str(&date.to_rfc3339());
    }
    material
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

/// Where each derivation's key sits in [`Derived::keys`].
const GUID: usize = 0;
const LINK: usize = 1;
const TITLE_DATE: usize = 2;

struct Derived {
    /// The keys by derivation: guid, link, title + date (always there).
    keys: [Option<String>; 3],
    /// Whether the guid and the link keys are unique in this fetch (an id shared by
    /// several items identifies none of them).
    unique: [bool; 2],
    dated: bool,
}

impl Derived {
    /// The key of derivation `which` (guid or link), if it identifies this item alone.
    fn unique(&self, which: usize) -> Option<&String> {
        self.keys[which].as_ref().filter(|_| self.unique[which])
    }
}

/// The store's answers for the keys of one fetch, each key of an item asked once:
/// a fetch asks about the same keys several times, and nothing is recorded until
/// the fetch is done.
struct SeenKeys<F> {
    is_seen: F,
    answers: Vec<[Option<bool>; 3]>,
}

impl<F> SeenKeys<F> {
    fn new(is_seen: F, n: usize) -> SeenKeys<F> {
        SeenKeys {
            is_seen,
            answers: vec![[None; 3]; n],
        }
    }

    /// Whether key `which` of item `i` (of `derived`) was seen.
    fn ask<E>(&mut self, derived: &[Derived], i: usize, which: usize) -> Result<bool, E>
    where
        F: FnMut(&str) -> Result<bool, E>,
    {
        if let Some(seen) = self.answers[i][which] {
            return Ok(seen);
        }
        let key = derived[i].keys[which]
            .as_deref()
            .expect("asked only for keys there");
        let seen = (self.is_seen)(key)?;
        self.answers[i][which] = Some(seen);
        Ok(seen)
    }
}

/// Decides the keys of one fetch's `items` for a feed in `mode`. `is_seen` asks the
/// store whether a key was recorded for this feed. `weak_keys_recorded` is false until
/// the feed has had a fetch under this scheme (stores from before it recorded only one
/// key per item); such a first fetch recognises an item by any of its unique keys.
pub fn assign_keys<E>(
    items: &[FeedItem],
    mode: IdentityMode,
    weak_keys_recorded: bool,
    is_seen: impl FnMut(&str) -> Result<bool, E>,
) -> Result<Assignment, E> {
    let n = items.len();
    // Title + date, with an occurrence number counted from the oldest (the end of the
    // document), so new items at the top do not shift the numbers of old ones.
    let mut td_count: FxHashMap<String, usize> = FxHashMap::default();
    let mut td_keys = vec![String::new(); n];
    for (i, item) in items.iter().enumerate().rev() {
        let material = title_date_material(item);
        td_keys[i] = match td_count.get_mut(&material) {
            Some(seen_before) => {
                let key = versioned(
                    KeySource::TitleDate,
                    &format!("{material}\u{0}{seen_before}"),
                );
                *seen_before += 1;
                key
            }
            None => {
                let key = versioned(KeySource::TitleDate, &material);
                td_count.insert(material, 1);
                key
            }
        };
    }
    let mut derived: Vec<Derived> = items
        .iter()
        .zip(td_keys)
        .map(|(item, title_date)| Derived {
            keys: [
                guid_material(item).map(|g| versioned(KeySource::Guid, &g)),
                item.link
                    .as_deref()
                    .and_then(canonical_link)
                    .map(|l| versioned(KeySource::Link, &l)),
                Some(title_date),
            ],
            unique: [false; 2],
            dated: item.published.is_some(),
        })
        .collect();
    let mut counts: FxHashMap<&str, usize> = FxHashMap::default();
    for d in &derived {
        for k in d.keys[..TITLE_DATE].iter().flatten() {
            *counts.entry(k.as_str()).or_default() += 1;
        }
    }
    let unique: Vec<[bool; 2]> = derived
        .iter()
        .map(|d| [GUID, LINK].map(|w| d.keys[w].as_ref().is_some_and(|k| counts[k.as_str()] == 1)))
        .collect();
    drop(counts);
    for (d, u) in derived.iter_mut().zip(unique) {
        d.unique = u;
    }
    let mut seen = SeenKeys::new(is_seen, n);

    // Is the feed's mode still good enough for this fetch?
    let weak_guids = derived.iter().filter(|d| d.unique(GUID).is_none()).count();
    let usable_links = derived.iter().filter(|d| d.unique(LINK).is_some()).count();
    let mut regenerated = 0;
    if mode == IdentityMode::Guid {
        for (i, d) in derived.iter().enumerate() {
            if d.unique(GUID).is_some()
                && d.dated
                && !seen.ask(&derived, i, GUID)?
                && seen.ask(&derived, i, TITLE_DATE)?
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
    let mut recorded: FxHashSet<&str> = FxHashSet::default();
    for (i, d) in derived.iter().enumerate() {
        let by_guid = || d.unique(GUID).map(|_| GUID);
        let by_link = || d.unique(LINK).map(|_| LINK);
        let decides = match new_mode {
            IdentityMode::Guid => by_guid().or_else(by_link).unwrap_or(TITLE_DATE),
            IdentityMode::Link => by_link().unwrap_or(TITLE_DATE),
            IdentityMode::TitleDate => TITLE_DATE,
        };
        let primary = d.keys[decides].clone().expect("a derived key");
        let all: Vec<String> = d.keys.iter().flatten().cloned().collect();
        let mut fresh = !seen.ask(&derived, i, decides)?;
        if fresh && d.dated && seen.ask(&derived, i, TITLE_DATE)? {
            // The same dated title under a new id: a regenerated guid or moved link.
            fresh = false;
        }
        if fresh && conservative {
            // On a fallback, any unique id seen before means the item is old. On the
            // first fetch after an upgrade, shared ids count too: the old scheme
            // keyed such items by the shared id, so it is all there is to go on.
            for which in [GUID, LINK] {
                let candidate = if weak_keys_recorded {
                    d.unique(which)
                } else {
                    d.keys[which].as_ref()
                };
                if candidate.is_some() && seen.ask(&derived, i, which)? {
                    fresh = false;
                    break;
                }
            }
        }
        for (which, k) in d.keys.iter().enumerate() {
            let Some(k) = k else { continue };
            if !recorded.contains(k.as_str()) && !seen.ask(&derived, i, which)? {
                recorded.insert(k.as_str());
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
        let _ = write!(out, ":{port}");
    }
    out.push_str(url.path().trim_end_matches('/'));
    let mut first = true;
    for (k, v) in url.query_pairs().filter(|(k, _)| !is_tracking_param(k)) {
        out.push(if first { '?' } else { '&' });
        first = false;
        out.push_str(&k);
        out.push('=');
        out.push_str(&v);
    }
    Some(out)
}

/// `utm_*`, `fbclid`, `gclid`, `mc_cid`, `mc_eid` and `ref`, in any ASCII case.
fn is_tracking_param(key: &str) -> bool {
    key.as_bytes()
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"utm_"))
        || ["fbclid", "gclid", "mc_cid", "mc_eid", "ref"]
            .iter()
            .any(|t| key.eq_ignore_ascii_case(t))
}

/// `bytes` in lower-case hex (binary keys and values in backups and messages).
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    push_hex(&mut out, bytes);
    out
}

/// Appends `bytes` in lower-case hex (item keys, outbox transaction ids).
pub(crate) fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
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

    /// A feed's seen keys and mode, like the store keeps them.
    #[derive(Default)]
    struct Memory {
        seen: std::collections::HashSet<String>,
        mode: IdentityMode,
        recorded: bool,
    }

    impl Memory {
        /// One fetch: returns the titles judged new.
        fn fetch(&mut self, items: &[FeedItem]) -> Vec<String> {
            let seen = &self.seen;
            let a = assign_keys(items, self.mode, self.recorded, |k| {
                Ok::<bool, ()>(seen.contains(k))
            })
            .unwrap();
            self.mode = a.mode;
            self.recorded = true;
            self.seen.extend(a.record.iter().cloned());
            items
                .iter()
                .zip(&a.items)
                .filter(|(_, (_, fresh))| *fresh)
                .map(|(i, _)| i.title.clone())
                .collect()
        }
    }

    fn dated(guid: Option<&str>, link: Option<&str>, title: &str, day: u32) -> FeedItem {
        let mut i = item(guid, link, title);
        i.published = Some(chrono::Utc.with_ymd_and_hms(2024, 5, day, 9, 0, 0).unwrap());
        i
    }

    #[test]
    fn items_sharing_a_guid_are_all_kept_and_stay_seen() {
        let mut m = Memory::default();
        let a = dated(Some("same"), Some("https://x.example/a"), "A", 1);
        let b = dated(Some("same"), Some("https://x.example/b"), "B", 2);
        assert_eq!(m.fetch(&[b.clone(), a.clone()]), ["B", "A"]);
        let c = dated(Some("same"), Some("https://x.example/c"), "C", 3);
        assert_eq!(m.fetch(&[c.clone(), b.clone(), a.clone()]), ["C"]);
        // One of them alone again: its guid was recorded, nothing reposts.
        assert!(m.fetch(std::slice::from_ref(&a)).is_empty());
    }

    #[test]
    fn items_without_guid_or_link_are_told_apart_and_reordering_changes_nothing() {
        let mut m = Memory::default();
        let items = vec![
            dated(None, None, "Notice", 3),
            dated(None, None, "Notice", 3),
            dated(None, None, "Other", 2),
        ];
        assert_eq!(m.fetch(&items), ["Notice", "Notice", "Other"]);
        let mut reordered = items.clone();
        reordered.swap(1, 2);
        assert!(m.fetch(&reordered).is_empty());
        let mut more = vec![dated(None, None, "New", 4)];
        more.extend(items);
        assert_eq!(m.fetch(&more), ["New"]);
    }

    #[test]
    fn regenerated_guids_switch_the_feed_to_links_without_reposting() {
        let mut m = Memory::default();
        let fetch_with = |n: u32| -> Vec<FeedItem> {
            (1..=4)
                .map(|d| {
                    dated(
                        Some(&format!("random-{n}-{d}")),
                        Some(&format!("https://x.example/{d}")),
                        &format!("Story {d}"),
                        d,
                    )
                })
                .collect()
        };
        assert_eq!(m.fetch(&fetch_with(1)).len(), 4);
        assert!(m.fetch(&fetch_with(2)).is_empty());
        assert_eq!(m.mode, IdentityMode::Link);
        assert!(m.fetch(&fetch_with(3)).is_empty());
        let mut next = fetch_with(4);
        next.insert(
            0,
            dated(Some("random-x"), Some("https://x.example/5"), "Story 5", 5),
        );
        assert_eq!(m.fetch(&next), ["Story 5"]);
    }

    #[test]
    fn too_many_missing_ids_fall_back_once_and_stay_stable() {
        let mut m = Memory::default();
        let first = vec![
            dated(Some("g1"), Some("https://x.example/1"), "One", 1),
            dated(None, Some("https://x.example/2"), "Two", 2),
            dated(None, Some("https://x.example/3"), "Three", 3),
        ];
        assert_eq!(m.fetch(&first).len(), 3);
        assert_eq!(m.mode, IdentityMode::Guid, "no fallback on the first fetch");
        assert!(m.fetch(&first).is_empty());
        assert_eq!(m.mode, IdentityMode::Link);
        // The guid now comes and goes: identity by link does not care.
        let mut flipped = first.clone();
        flipped[0].guid = None;
        flipped[1].guid = Some("late-guid".into());
        assert!(m.fetch(&flipped).is_empty());
        assert_eq!(m.mode, IdentityMode::Link);
    }

    #[test]
    fn an_edited_title_is_the_same_item_when_it_has_an_id() {
        let mut m = Memory::default();
        let a = dated(Some("g"), None, "Sanctions on ships", 1);
        assert_eq!(m.fetch(std::slice::from_ref(&a)).len(), 1);
        let mut edited = a.clone();
        edited.title = "Sanctions on ships (updated)".into();
        assert!(m.fetch(&[edited]).is_empty());
    }

    #[test]
    fn legacy_stores_recognise_items_by_any_unique_key_on_the_first_fetch() {
        // A store from before this scheme recorded only the item_key of each item.
        let a = dated(Some("dup"), Some("https://x.example/a"), "A", 1);
        let b = dated(Some("dup"), Some("https://x.example/b"), "B", 2);
        let mut m = Memory::default();
        m.seen.insert(item_key(&b));
        m.recorded = false;
        assert!(
            m.fetch(&[b.clone(), a.clone()]).is_empty(),
            "no flood after the upgrade"
        );
        let c = dated(Some("dup"), Some("https://x.example/c"), "C", 3);
        assert_eq!(m.fetch(&[c, b, a]), ["C"], "and normal service after it");
    }
}
