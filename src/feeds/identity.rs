//! Stable item identity: the versioned key under which an item is remembered as seen.
//! Derived from the guid, else the canonical link, else a hash of title and date;
//! never from the body, which publishers edit. Changing the derivation means a new
//! version prefix and a migration, never a flood of reposts.

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

/// The versioned, fixed-length key of an item, e.g. `v1:g:1f3a…`.
pub fn item_key(item: &FeedItem) -> String {
    let (source, material) = key_material(item);
    let tag = match source {
        KeySource::Guid => "g",
        KeySource::Link => "l",
        KeySource::TitleDate => "h",
    };
    let digest = Sha256::digest(material.as_bytes());
    format!("{KEY_VERSION}:{tag}:{}", hex(&digest[..16]))
}

/// Which identity an item has and the text it is derived from.
pub fn key_material(item: &FeedItem) -> (KeySource, String) {
    if let Some(guid) = item
        .guid
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        return (KeySource::Guid, guid.to_string());
    }
    if let Some(link) = item.link.as_deref().and_then(canonical_link) {
        return (KeySource::Link, link);
    }
    let date = item.published.map(|d| d.to_rfc3339()).unwrap_or_default();
    let title: String = item
        .title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (KeySource::TitleDate, format!("{title}\u{0}{date}"))
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
