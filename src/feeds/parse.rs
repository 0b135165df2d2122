//! Bytes to [`FeedItem`]s: RSS 2.0, RSS 1.0 (RDF), Atom and JSON Feed through feed-rs,
//! converted at once into the project's own item type so no feed-rs type travels
//! further. Pure: takes bytes and the feed's identity, never a URL to fetch.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::text::{html_to_text, truncate_chars};

/// Longest title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 500;
/// Longest text kept for screening and summaries, in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// Most items accepted in one document; more is refused before parsing, so a small
/// body of empty items cannot make the parser build millions of entries.
pub const MAX_ITEMS: usize = 20_000;

/// One entry of a feed, in the project's own terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    /// The feed it came from.
    pub feed_id: String,
    /// The entry's own id (RSS guid, Atom id), when the feed gives one.
    pub guid: Option<String>,
    /// The entry's web page, resolved against the feed URL.
    pub link: Option<String>,
    /// Plain-text title (may be empty).
    pub title: String,
    /// Plain-text summary or content (may be empty).
    pub text: String,
    /// Publication (else update) time, when the feed gives one.
    pub published: Option<DateTime<Utc>>,
}

/// Why a body could not be read as a feed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Well-formed or not, it is no feed (an HTML page, an error page, JSON of another kind).
    #[error("not a feed: {0}")]
    NotAFeed(String),
    /// It looked like a feed but could not be parsed.
    #[error("malformed feed: {0}")]
    Malformed(String),
    /// The document declares XML entities; they are neither expanded nor fetched.
    #[error(
        "refused: the document declares XML entities (<!ENTITY …>), which are neither expanded nor fetched"
    )]
    EntityDeclarations,
    /// More items than [`MAX_ITEMS`].
    #[error("refused: about {found} items in one document, more than the limit of {MAX_ITEMS}")]
    TooManyItems {
        /// How many item starts were counted.
        found: usize,
    },
}

/// Parses a feed body. `base_url` resolves relative links.
pub fn parse_feed(
    feed_id: &str,
    body: &[u8],
    base_url: Option<&url::Url>,
) -> Result<Vec<FeedItem>, ParseError> {
    parse_feed_document(feed_id, body, base_url, None)
}

/// Parses a feed body whose HTTP `Content-Type` named `http_charset` (used when the
/// document itself declares no encoding, or lies about being UTF-8). Refuses HTML
/// pages, documents declaring XML entities, and documents with more than
/// [`MAX_ITEMS`] items, before the XML parser sees them.
pub fn parse_feed_document(
    feed_id: &str,
    body: &[u8],
    base_url: Option<&url::Url>,
    http_charset: Option<&str>,
) -> Result<Vec<FeedItem>, ParseError> {
    let body = super::charset::to_utf8(body, http_charset);
    let body: &[u8] = &body;
    let prolog = scan_prolog(body);
    if prolog.html {
        return Err(ParseError::NotAFeed(
            "this is an HTML page (expected RSS, Atom or JSON Feed)".into(),
        ));
    }
    if prolog.declares_entities {
        return Err(ParseError::EntityDeclarations);
    }
    let found = count_item_starts(body);
    if found > MAX_ITEMS {
        return Err(ParseError::TooManyItems { found });
    }
    let parser = feed_rs::parser::Builder::new()
        // An empty id marks "the feed gave none"; we derive identity ourselves.
        .id_generator(|_links, _title, _uri| String::new())
        .sanitize_content(false)
        .build();
    let feed = parser.parse(body).map_err(|e| match e {
        feed_rs::parser::ParseFeedError::ParseError(kind) => {
            ParseError::NotAFeed(format!("{kind} (expected RSS, Atom or JSON Feed)"))
        }
        other => ParseError::Malformed(other.to_string()),
    })?;
    Ok(feed
        .entries
        .into_iter()
        .map(|entry| convert(feed_id, entry, base_url))
        .collect())
}

fn convert(feed_id: &str, entry: feed_rs::model::Entry, base_url: Option<&url::Url>) -> FeedItem {
    let guid = Some(entry.id.trim().to_string()).filter(|id| !id.is_empty());
    let link = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(entry.links.first())
        .and_then(|l| resolve_link(l.href.trim(), base_url));
    let title = entry
        .title
        .map(|t| html_to_text(&t.content))
        .unwrap_or_default();
    let summary = entry
        .summary
        .map(|t| html_to_text(&t.content))
        .unwrap_or_default();
    let content = entry
        .content
        .and_then(|c| c.body.map(|b| html_to_text(&b)))
        .unwrap_or_default();
    // Feeds often put HTML in fields declared as text, so every field is stripped;
    // that is harmless on real text, where `<` rarely starts something tag-like.
    // The content is usually the whole article and the summary its opening: screen
    // whichever says more.
    let text = if content.len() > summary.len() {
        content
    } else {
        summary
    };
    FeedItem {
        feed_id: feed_id.to_string(),
        guid,
        link,
        title: truncate_chars(&collapse_whitespace(&title), MAX_TITLE_CHARS),
        text: truncate_chars(&text, MAX_TEXT_CHARS),
        published: entry.published.or(entry.updated),
    }
}

/// What the start of a document says about it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Prolog {
    /// An HTML doctype or root element.
    html: bool,
    /// A DOCTYPE whose internal subset declares entities.
    declares_entities: bool,
}

/// Reads the prolog (XML declaration, comments, processing instructions, DOCTYPE) up
/// to the root element.
fn scan_prolog(body: &[u8]) -> Prolog {
    let mut rest = body;
    let mut prolog = Prolog::default();
    loop {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace());
        let Some(start) = start else { return prolog };
        rest = &rest[start..];
        let lower_starts =
            |p: &[u8]| rest.len() >= p.len() && rest[..p.len()].eq_ignore_ascii_case(p);
        if rest.starts_with(b"<?") {
            match find(rest, b"?>") {
                Some(end) => rest = &rest[end + 2..],
                None => return prolog,
            }
        } else if rest.starts_with(b"<!--") {
            match find(rest, b"-->") {
                Some(end) => rest = &rest[end + 3..],
                None => return prolog,
            }
        } else if lower_starts(b"<!doctype") {
            let after = rest[9..].trim_ascii_start();
            if after.len() >= 4 && after[..4].eq_ignore_ascii_case(b"html") {
                prolog.html = true;
                return prolog;
            }
            // The internal subset, if any, runs from '[' to the first "]" + ">".
            let close = rest.iter().position(|&b| b == b'>');
            let open = rest.iter().position(|&b| b == b'[');
            let subset_end = match (open, close) {
                (Some(o), Some(c)) if o < c => find(&rest[o..], b"]").and_then(|e| {
                    rest[o + e..]
                        .iter()
                        .position(|&b| b == b'>')
                        .map(|g| o + e + g)
                }),
                (_, c) => c,
            };
            let end = subset_end.unwrap_or(rest.len().saturating_sub(1));
            prolog.declares_entities =
                find(&rest[..=end.min(rest.len() - 1)], b"<!ENTITY").is_some();
            rest = &rest[(end + 1).min(rest.len())..];
        } else {
            prolog.html = lower_starts(b"<html");
            return prolog;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Counts element starts named `item` or `entry` (any namespace prefix), or for JSON
/// the objects, as an upper bound of the number of items.
fn count_item_starts(body: &[u8]) -> usize {
    if body.trim_ascii_start().starts_with(b"{") {
        // JSON Feed items are objects; allow a few nested objects per item.
        return body.iter().filter(|&&b| b == b'{').count() / 4;
    }
    let mut count = 0;
    let mut i = 0;
    while let Some(lt) = body[i..].iter().position(|&b| b == b'<') {
        let start = i + lt + 1;
        let name_len = body[start..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
            .unwrap_or(body.len() - start);
        let name = &body[start..start + name_len];
        let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
        if local == b"item" || local == b"entry" {
            count += 1;
        }
        i = start;
    }
    count
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn resolve_link(href: &str, base_url: Option<&url::Url>) -> Option<String> {
    if href.is_empty() {
        return None;
    }
    let url = match url::Url::parse(href) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => base_url?.join(href).ok()?,
        Err(_) => return None,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn rss2_items_are_read() {
        let items = parse_feed("ofac", &fixture("rss2-ofac.xml"), None).unwrap();
        assert_eq!(items.len(), 3);
        let first = &items[0];
        assert_eq!(first.feed_id, "ofac");
        assert!(
            first.title.starts_with("Treasury Sanctions"),
            "{}",
            first.title
        );
        assert!(first.guid.is_some());
        assert!(first.link.as_deref().unwrap().starts_with("https://"));
        assert!(first.published.is_some());
        assert!(
            !first.text.contains('<'),
            "HTML must be stripped: {}",
            first.text
        );
    }

    #[test]
    fn atom_entries_are_read() {
        let items = parse_feed("ofsi", &fixture("atom-ofsi.xml"), None).unwrap();
        assert_eq!(items.len(), 2);
        assert!(
            items[0]
                .guid
                .as_deref()
                .unwrap()
                .starts_with("https://www.gov.uk/")
        );
        assert!(items[0].text.contains("Russia"), "{}", items[0].text);
        assert!(items[0].published.is_some());
    }

    #[test]
    fn rss1_items_are_read() {
        let items = parse_feed("un", &fixture("rss1-un.rdf"), None).unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[0].title.contains("Security Council"));
        assert!(items[0].link.is_some());
    }

    #[test]
    fn missing_guid_stays_missing_and_relative_links_resolve() {
        let body = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
            <item><title>No id here</title><link>/news/1</link></item></channel></rss>"#;
        let base = url::Url::parse("https://example.org/feed.xml").unwrap();
        let items = parse_feed("f", body, Some(&base)).unwrap();
        assert_eq!(items[0].guid, None);
        assert_eq!(items[0].link.as_deref(), Some("https://example.org/news/1"));
    }

    #[test]
    fn html_page_is_not_a_feed() {
        let err =
            parse_feed("f", b"<!DOCTYPE html><html><body>Hi</body></html>", None).unwrap_err();
        assert!(matches!(err, ParseError::NotAFeed(_)), "{err}");
        assert!(parse_feed("f", b"", None).is_err());
        assert!(parse_feed("f", b"\xff\xfe garbage", None).is_err());
    }

    #[test]
    fn javascript_links_are_dropped() {
        let body = br#"<rss version="2.0"><channel><title>t</title>
            <item><title>x</title><link>javascript:alert(1)</link><guid>g</guid></item></channel></rss>"#;
        let items = parse_feed("f", body, None).unwrap();
        assert_eq!(items[0].link, None);
    }

    #[test]
    fn billion_laughs_and_external_entities_are_refused_before_parsing() {
        let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss version="2.0"><channel><title>t</title><item><title>&lol3;</title></item></channel></rss>"#;
        assert!(matches!(
            parse_feed("f", laughs, None),
            Err(ParseError::EntityDeclarations)
        ));
        let xxe =
            br#"<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title></item></channel></rss>"#;
        assert!(matches!(
            parse_feed("f", xxe, None),
            Err(ParseError::EntityDeclarations)
        ));
    }

    #[test]
    fn an_external_doctype_is_neither_fetched_nor_an_error() {
        let body = br#"<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>t</title><link>https://x.example/</link><description>d</description>
<item><title>Caf&eacute; &amp; co</title><link>https://x.example/1</link></item></channel></rss>"#;
        let items = parse_feed("f", body, None).unwrap();
        assert_eq!(items[0].title, "Café & co");
    }

    #[test]
    fn html_pages_are_named_as_such() {
        for page in [
            &b"\n<!doctype html><html><head><title>x</title></head><body><p>hi</body></html>"[..],
            b"<?xml version=\"1.0\"?><!-- c --><html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>",
            b"<HTML><BODY>Error 500<br></BODY></HTML>",
        ] {
            let err = parse_feed("f", page, None).unwrap_err();
            assert!(err.to_string().contains("HTML page"), "{err}");
        }
    }

    #[test]
    fn too_many_items_are_refused_without_building_them() {
        let mut body = String::from("<rss version=\"2.0\"><channel><title>t</title>");
        for _ in 0..=MAX_ITEMS {
            body.push_str("<item/>");
        }
        body.push_str("</channel></rss>");
        assert!(matches!(
            parse_feed("f", body.as_bytes(), None),
            Err(ParseError::TooManyItems { .. })
        ));
    }

    #[test]
    fn http_charset_fixes_an_undeclared_latin1_feed() {
        let body = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Sanktionen gegen M\xfcller</title><guid>1</guid></item></channel></rss>";
        let items = parse_feed_document("f", body, None, Some("iso-8859-1")).unwrap();
        assert_eq!(items[0].title, "Sanktionen gegen Müller");
        // Without the header the bytes are still readable (as Windows-1252).
        let items = parse_feed("f", body, None).unwrap();
        assert_eq!(items[0].title, "Sanktionen gegen Müller");
    }

    #[test]
    fn invalid_dates_control_characters_and_huge_titles_are_tamed() {
        let huge = "A".repeat(50_000);
        let body = format!(
            "<rss version=\"2.0\"><channel><title>t</title><item><title>{huge}</title><guid>1</guid><pubDate>the 32nd of Smarch</pubDate><description>bell\u{7}here &#x1b;[31m</description></item></channel></rss>"
        );
        let items = parse_feed("f", body.as_bytes(), None).unwrap();
        assert_eq!(items[0].published, None);
        assert_eq!(items[0].title.chars().count(), MAX_TITLE_CHARS + 1);
        assert!(items[0].title.ends_with('…'));
        assert!(
            !items[0].text.chars().any(|c| c.is_control()),
            "{:?}",
            items[0].text
        );
    }
}
