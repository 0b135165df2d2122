//! Composes the post for one item and one room: the title, the source and date, each
//! watched name that matched with the sentence it appears in, and the link; as plain
//! text for `body` and as sanitised HTML (names emphasised) for `formatted_body`.

use serde::{Deserialize, Serialize};

use super::extract::{readable_title, summary_sentences};
use super::html::{escape, sanitize_matrix_html};
use super::recognise::Recognition;
use super::sentences::{quote_around, sentence_around};
use crate::feeds::FeedItem;
use crate::screening::Hit;

/// Most matched names listed in one post.
const MAX_NAMES: usize = 6;

/// Which part of the item a hit is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    /// The title.
    Title,
    /// The summary or content.
    Text,
}

/// A hit located in one field of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemHit {
    /// Where.
    pub field: Field,
    /// What.
    pub hit: Hit,
}

/// A message ready for a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// Plain text (`body`).
    pub plain: String,
    /// Sanitised HTML (`formatted_body`).
    pub html: String,
}

/// Builds the post for `item` from the feed called `source`, naming `hits`: the
/// title, who did what (authority and action) with the source and date, one or two
/// sentences that carry the news, each watched name with the sentence it appears
/// in (name emphasised), and the link. `recognition` is the item's, by
/// [`fn@super::recognise`].
pub fn compose_post(
    item: &FeedItem,
    source: &str,
    hits: &[ItemHit],
    recognition: Recognition,
) -> Post {
    let title = if item.title.is_empty() {
        "(untitled item)".to_string()
    } else {
        readable_title(&item.title)
    };
    let date = item
        .published
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "date unknown".into());
    let mut meta = Vec::new();
    if let Some(authority) = recognition.authority {
        meta.push(authority.name.to_string());
    }
    meta.push(recognition.action.label().to_string());
    meta.push(source.to_string());
    meta.push(date);
    let meta = meta.join(" · ");

    let mut plain = format!("Sanctions watch: {title}\n{meta}\n");
    let mut html = format!(
        "<p><strong>Sanctions watch: {}</strong><br><em>{}</em></p>",
        escape(&title),
        escape(&meta)
    );

    let chosen = one_hit_per_entry(hits);
    let mut quoted: Vec<std::ops::Range<usize>> = Vec::new();
    for h in chosen.iter().filter(|h| h.field == Field::Text) {
        quoted.push(sentence_around(&item.text, h.hit.start..h.hit.end));
    }
    let max_summary = if chosen.is_empty() { 3 } else { 2 };
    let summary: Vec<&str> = summary_sentences(&item.title, &item.text, max_summary, &quoted)
        .into_iter()
        .map(|r| &item.text[r])
        .collect();
    if !summary.is_empty() {
        let joined = summary.join(" ");
        plain.push_str(&joined);
        plain.push('\n');
        html.push_str(&format!("<p>{}</p>", escape(&joined)));
    }

    html.push_str("<ul>");
    for h in chosen.iter().take(MAX_NAMES) {
        let text = match h.field {
            Field::Title => item.title.as_str(),
            Field::Text => item.text.as_str(),
        };
        let (quote, span) = quote_around(text, h.hit.start..h.hit.end);
        let what = format!("{}, watchlist {}", h.hit.kind.as_str(), h.hit.list);
        plain.push_str(&format!("• {} ({what}): “{quote}”\n", h.hit.name));
        html.push_str(&format!(
            "<li><strong>{}</strong> ({}): “{}<strong>{}</strong>{}”</li>",
            escape(&h.hit.name),
            escape(&what),
            escape(&quote[..span.start]),
            escape(&quote[span.clone()]),
            escape(&quote[span.end..]),
        ));
    }
    if chosen.len() > MAX_NAMES {
        let more = chosen.len() - MAX_NAMES;
        plain.push_str(&format!("• and {more} more\n"));
        html.push_str(&format!("<li>and {more} more</li>"));
    }
    html.push_str("</ul>");
    if let Some(link) = &item.link {
        plain.push_str(link);
        html.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>", escape(link)));
    }
    Post {
        plain: defuse_room_mentions(plain.trim_end()),
        html: defuse_room_mentions(&sanitize_matrix_html(&html)),
    }
}

/// The threaded reply added under a story's post when another source reports it:
/// "Also reported by `<source> · <date>: <title>`" and the link.
pub fn compose_also_reported(item: &FeedItem, source: &str) -> Post {
    let title = if item.title.is_empty() {
        "(untitled item)".to_string()
    } else {
        readable_title(&item.title)
    };
    let date = item
        .published
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "date unknown".into());
    let mut plain = format!("Also reported by {source} · {date}: {title}");
    let mut html = format!(
        "<p>Also reported by <strong>{}</strong> · {}: {}",
        escape(source),
        escape(&date),
        escape(&title)
    );
    if let Some(link) = &item.link {
        plain.push_str(&format!("\n{link}"));
        html.push_str(&format!("<br><a href=\"{0}\">{0}</a>", escape(link)));
    }
    html.push_str("</p>");
    Post {
        plain: defuse_room_mentions(&plain),
        html: defuse_room_mentions(&sanitize_matrix_html(&html)),
    }
}

/// Breaks up `@room` (any case) with a word joiner, so that even a client that still
/// applies the legacy keyword rule is not made to ping the room by feed text. (Posts
/// also carry an empty `m.mentions`, which is what current clients go by.)
pub fn defuse_room_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        if rest
            .get(..4)
            .is_some_and(|w| w.eq_ignore_ascii_case("room"))
        {
            out.push('\u{2060}');
        }
    }
    out.push_str(rest);
    out
}

/// One hit per watched entry, preferring the text (it has a fuller sentence) and then
/// the earliest position.
fn one_hit_per_entry(hits: &[ItemHit]) -> Vec<&ItemHit> {
    let mut chosen: Vec<&ItemHit> = Vec::new();
    for h in hits {
        match chosen
            .iter_mut()
            .find(|c| c.hit.list == h.hit.list && c.hit.entry_id == h.hit.entry_id)
        {
            Some(existing) => {
                if existing.field == Field::Title && h.field == Field::Text {
                    *existing = h;
                }
            }
            None => chosen.push(h),
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screening::{EngineOptions, EntryKind, Screener, ScreeningEngine, WatchEntry};

    fn item(title: &str, text: &str) -> FeedItem {
        FeedItem {
            feed_id: "f".into(),
            guid: Some("g".into()),
            link: Some("https://news.example/a?b=1&c=2".into()),
            title: title.into(),
            text: text.into(),
            published: None,
        }
    }

    fn recognised(item: &FeedItem, source: &str) -> Recognition {
        crate::summary::recognise(&item.title, &item.text, source)
    }

    fn hits_for(item: &FeedItem, names: &[&str]) -> Vec<ItemHit> {
        let entries: Vec<WatchEntry> = names
            .iter()
            .map(|n| WatchEntry::new(n, EntryKind::Vessel, vec![]))
            .collect();
        let m = ScreeningEngine::for_list("ships", &entries, EngineOptions::default());
        let mut out: Vec<ItemHit> = m
            .screen(&item.title)
            .into_iter()
            .map(|hit| ItemHit {
                field: Field::Title,
                hit,
            })
            .collect();
        out.extend(m.screen(&item.text).into_iter().map(|hit| ItemHit {
            field: Field::Text,
            hit,
        }));
        out
    }

    #[test]
    fn post_quotes_the_sentence_and_links() {
        let it = item(
            "Seoul sanctions ships",
            "South Korea acted. Ships the Angara and Lady R ferried arms. Japan followed.",
        );
        let post = compose_post(
            &it,
            "Example News",
            &hits_for(&it, &["Lady R"]),
            recognised(&it, "Example News"),
        );
        assert!(
            post.plain.contains(
                "Lady R (vessel, watchlist ships): “Ships the Angara and Lady R ferried arms.”"
            ),
            "{}",
            post.plain
        );
        assert!(post.plain.ends_with("https://news.example/a?b=1&c=2"));
        assert!(
            post.html.contains("<strong>Lady R</strong> ferried"),
            "{}",
            post.html
        );
        assert!(
            post.html
                .contains("href=\"https://news.example/a?b=1&amp;c=2\""),
            "{}",
            post.html
        );
    }

    #[test]
    fn hostile_titles_stay_text() {
        let it = item("<script>alert(1)</script> @room Lady R", "");
        let post = compose_post(
            &it,
            "<b>src</b>",
            &hits_for(&it, &["Lady R"]),
            recognised(&it, "<b>src</b>"),
        );
        assert!(
            !post.html.contains("<script") && !post.html.contains("<b>"),
            "{}",
            post.html
        );
        assert!(post.html.contains("&lt;script&gt;"));
        assert!(!post.plain.contains("@room") && !post.html.contains("@room"));
        assert_eq!(
            defuse_room_mentions("@ROOM and @roommate"),
            "@\u{2060}ROOM and @\u{2060}roommate"
        );
    }

    #[test]
    fn one_line_per_entry_even_with_many_hits() {
        let it = item("Lady R news", "The Lady R again. And Lady R once more.");
        let post = compose_post(&it, "s", &hits_for(&it, &["Lady R"]), recognised(&it, "s"));
        assert_eq!(post.plain.matches("• Lady R").count(), 1);
        assert!(
            post.plain.contains("“The Lady R again.”"),
            "text beats title: {}",
            post.plain
        );
    }
}
