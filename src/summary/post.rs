//! Composes the post for one item and one room: the title, who did what with the
//! source and date, the sentences that carry the news, the watched names grouped by
//! the sentence they appear in (each sentence quoted once, each entity named once
//! whatever number of the room's lists hold it), and the link; as plain text for
//! `body` and as sanitised HTML (every hit emphasised) for `formatted_body`.

use serde::{Deserialize, Serialize};

use super::extract::{readable_title, summary_sentences};
use super::html::{escape, sanitize_matrix_html};
use super::recognise::Recognition;
use super::sentences::{MAX_SENTENCE_BYTES, quote_around, sentence_around};
use crate::feeds::FeedItem;
use crate::screening::Hit;

/// Most quoted sentences in one post; the names of the others are only listed.
const MAX_QUOTES: usize = 5;

/// Most names listed on one line (beside a quote, or after the quotes); the rest are
/// counted, so that a release naming hundreds of listed entries still makes a post
/// of a few kilobytes.
const MAX_MORE_NAMES: usize = 20;

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
/// sentences that carry the news, the watched names grouped by the sentence they
/// appear in (at most five sentences quoted, the other names listed), the lists that
/// hold them, and the link. `recognition` is the item's, by
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

    let groups = quoted_groups(item, hits);
    let quoted: Vec<std::ops::Range<usize>> = groups
        .iter()
        .take(MAX_QUOTES)
        .filter(|g| g.field == Field::Text)
        .map(|g| g.sentence.clone())
        .collect();
    // The quotes carry the detail: the more there are, the shorter the summary.
    let max_summary = match groups.len() {
        0 => 3,
        1 => 2,
        _ => 1,
    };
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

    // Each entity's lists, named once per entity; beside each name only when the
    // names of the post do not all come from the same lists.
    let same_lists = groups
        .iter()
        .flat_map(|g| &g.names)
        .all(|n| groups[0].names[0].lists == n.lists);
    let label = |n: &NamedEntity| {
        if same_lists {
            n.name.to_string()
        } else {
            format!("{} ({})", n.name, n.lists.join(", "))
        }
    };
    if !groups.is_empty() {
        html.push_str("<ul>");
    }
    for g in groups.iter().take(MAX_QUOTES) {
        let shown: Vec<String> = g.names.iter().take(MAX_MORE_NAMES).map(label).collect();
        let mut names = shown.join(", ");
        if g.names.len() > MAX_MORE_NAMES {
            names.push_str(&format!(" and {} others", g.names.len() - MAX_MORE_NAMES));
        }
        plain.push_str(&format!("• {names}: “{}”\n", g.quote));
        let mut quote_html = String::new();
        let mut at = 0;
        for span in &g.spans {
            quote_html.push_str(&escape(&g.quote[at..span.start]));
            quote_html.push_str(&format!(
                "<strong>{}</strong>",
                escape(&g.quote[span.clone()])
            ));
            at = span.end;
        }
        quote_html.push_str(&escape(&g.quote[at..]));
        html.push_str(&format!(
            "<li><strong>{}</strong>: “{quote_html}”</li>",
            escape(&names)
        ));
    }
    let more: Vec<&str> = groups
        .iter()
        .skip(MAX_QUOTES)
        .flat_map(|g| g.names.iter().map(|n| n.name))
        .collect();
    if !more.is_empty() {
        let mut line = format!(
            "+{} more name{}: {}",
            more.len(),
            if more.len() == 1 { "" } else { "s" },
            more[..more.len().min(MAX_MORE_NAMES)].join(", ")
        );
        if more.len() > MAX_MORE_NAMES {
            line.push_str(&format!(" and {} others", more.len() - MAX_MORE_NAMES));
        }
        plain.push_str(&format!("{line}\n"));
        html.push_str(&format!("<li>{}</li>", escape(&line)));
    }
    if !groups.is_empty() {
        html.push_str("</ul>");
    }
    if same_lists && let Some(first) = groups.first() {
        let lists = &first.names[0].lists;
        let line = format!(
            "On watchlist{} {}.",
            if lists.len() == 1 { "" } else { "s" },
            lists.join(", ")
        );
        plain.push_str(&format!("{line}\n"));
        html.push_str(&format!("<p>{}</p>", escape(&line)));
    }
    if let Some(link) = shown_link(item.link.as_deref()) {
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
    if let Some(link) = shown_link(item.link.as_deref()) {
        plain.push_str(&format!("\n{link}"));
        html.push_str(&format!("<br><a href=\"{0}\">{0}</a>", escape(link)));
    }
    html.push_str("</p>");
    Post {
        plain: defuse_room_mentions(&plain),
        html: defuse_room_mentions(&sanitize_matrix_html(&html)),
    }
}

/// Longest link shown in a post or digest line, in bytes. Feed links are not
/// bounded; a longer one would let one item make a message too large for its room
/// (a Matrix event holds at most 64 KiB), and a cut link leads nowhere.
pub const MAX_LINK_BYTES: usize = 2048;

/// `link` if it is short enough to show ([`MAX_LINK_BYTES`]), else nothing.
pub fn shown_link(link: Option<&str>) -> Option<&str> {
    link.filter(|l| l.len() <= MAX_LINK_BYTES)
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

/// A watched entity named in an item: its name, and every list of the room that
/// holds it (a name on two lists is one entity).
struct NamedEntity<'a> {
    name: &'a str,
    lists: Vec<&'a str>,
}

/// One quoted sentence and the entities it names, with every hit in it emphasised.
struct QuotedGroup<'a> {
    field: Field,
    /// The sentence's range in its field.
    sentence: std::ops::Range<usize>,
    /// The quote (the sentence, cut around its hits when long).
    quote: String,
    /// The hits' ranges within `quote`, in order, not overlapping.
    spans: Vec<std::ops::Range<usize>>,
    names: Vec<NamedEntity<'a>>,
}

/// The hits of `item` grouped by the sentence they are in, each entity named once
/// (at its first hit in the text, else in the title), groups in reading order (the
/// title's first).
fn quoted_groups<'a>(item: &'a FeedItem, hits: &'a [ItemHit]) -> Vec<QuotedGroup<'a>> {
    let field_text = |field: Field| match field {
        Field::Title => item.title.as_str(),
        Field::Text => item.text.as_str(),
    };
    // One representative hit per entity (by name, whatever the list).
    let mut entities: Vec<(&ItemHit, NamedEntity)> = Vec::new();
    for h in one_hit_per_entry(hits) {
        match entities
            .iter_mut()
            .find(|(_, e)| e.name.eq_ignore_ascii_case(&h.hit.name))
        {
            Some((first, entity)) => {
                if !entity.lists.contains(&h.hit.list.as_str()) {
                    entity.lists.push(&h.hit.list);
                }
                if first.field == Field::Title && h.field == Field::Text {
                    *first = h;
                }
            }
            None => entities.push((
                h,
                NamedEntity {
                    name: &h.hit.name,
                    lists: vec![&h.hit.list],
                },
            )),
        }
    }
    // Lists in one order, so that entities on the same lists compare equal.
    for (_, entity) in &mut entities {
        entity.lists.sort_unstable();
    }
    entities.sort_by_key(|(h, _)| (h.field == Field::Text, h.hit.start));
    let mut groups: Vec<QuotedGroup> = Vec::new();
    for (h, entity) in entities {
        let text = field_text(h.field);
        let sentence = sentence_around(text, h.hit.start..h.hit.end);
        match groups
            .iter_mut()
            .find(|g| g.field == h.field && g.sentence == sentence)
        {
            Some(g) => g.names.push(entity),
            None => groups.push(QuotedGroup {
                field: h.field,
                sentence,
                quote: String::new(),
                spans: Vec::new(),
                names: vec![entity],
            }),
        }
    }
    for g in &mut groups {
        let text = field_text(g.field);
        // Every hit of the sentence, of any entity and list, emphasised once.
        let mut ranges: Vec<std::ops::Range<usize>> = hits
            .iter()
            .filter(|h| {
                h.field == g.field && h.hit.start >= g.sentence.start && h.hit.end <= g.sentence.end
            })
            .map(|h| h.hit.start..h.hit.end)
            .collect();
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        ranges.dedup_by(|later, earlier| later.start < earlier.end);
        let mut around = ranges.first().map_or(g.sentence.start, |r| r.start)
            ..ranges.last().map_or(g.sentence.end, |r| r.end);
        // Hits far apart in a long sentence (a list of names): quote around the
        // first, so the quote stays short; the other names still show in the line.
        if around.len() > MAX_SENTENCE_BYTES {
            around.end = ranges.first().map_or(around.end, |r| r.end);
        }
        let (quote, span) = quote_around(text, around.clone());
        // A text position p is quote position p + shift.
        let shift = span.start as isize - around.start as isize;
        g.spans = ranges
            .into_iter()
            .filter_map(|r| {
                let mapped = (r.start as isize + shift) as usize..(r.end as isize + shift) as usize;
                (quote.get(mapped.clone()) == text.get(r)).then_some(mapped)
            })
            .collect();
        g.quote = quote;
    }
    groups
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
                "• Lady R: “Ships the Angara and Lady R ferried arms.”\nOn watchlist ships."
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

    fn hit_on(item: &FeedItem, list: &str, names: &[&str]) -> Vec<ItemHit> {
        let mut hits = hits_for(item, names);
        for h in &mut hits {
            h.hit.list = list.to_string();
        }
        hits
    }

    #[test]
    fn names_in_one_sentence_share_one_quote_and_each_entity_is_named_once() {
        let it = item(
            "Seoul sanctions North Koreans and ships",
            "South Korea sanctioned seven people. The vessels included the Maia-1 and Maria. \
             Sister ships Angara and Lady R carried arms.",
        );
        let mut hits = hit_on(&it, "starter", &["Maia-1", "Maria", "Angara", "Lady R"]);
        hits.extend(hit_on(&it, "vessels", &["Lady R"]));
        let post = compose_post(&it, "s", &hits, recognised(&it, "s"));
        let plain = &post.plain;
        assert!(
            plain.contains(
                "• Maia-1 (starter), Maria (starter): “The vessels included the Maia-1 and Maria.”"
            ),
            "{plain}"
        );
        assert!(
            plain.contains("• Angara (starter), Lady R (starter, vessels): “Sister ships Angara and Lady R carried arms.”"),
            "{plain}"
        );
        assert_eq!(plain.matches("The vessels included").count(), 1, "{plain}");
        assert_eq!(plain.matches("Sister ships").count(), 1, "{plain}");
        assert_eq!(plain.matches("Lady R (").count(), 1, "{plain}");
        for name in ["Maia-1", "Maria", "Angara", "Lady R"] {
            assert!(
                post.html.contains(&format!("<strong>{name}</strong>")),
                "{name} emphasised in its quote: {}",
                post.html
            );
        }
    }

    #[test]
    fn a_post_quotes_at_most_five_sentences_and_lists_the_other_names() {
        let names = [
            "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf",
        ];
        let text: Vec<String> = names
            .iter()
            .map(|n| format!("The tanker {n} was seen off the coast."))
            .collect();
        let it = item("Tankers", &text.join(" "));
        let post = compose_post(
            &it,
            "s",
            &hit_on(&it, "fleet", &names),
            recognised(&it, "s"),
        );
        assert_eq!(post.plain.matches("• ").count(), 5, "{}", post.plain);
        assert!(
            post.plain.contains("+2 more names: Foxtrot, Golf"),
            "{}",
            post.plain
        );
        assert!(post.plain.contains("On watchlist fleet."), "{}", post.plain);
    }

    #[test]
    fn a_release_naming_hundreds_of_names_makes_a_short_post() {
        let names: Vec<String> = (0..300).map(|i| format!("Vessel{i:03}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        // One long sentence listing them all, and a sentence each.
        let mut text = format!("The tankers {} were designated.", refs.join(", "));
        for n in &refs {
            text.push_str(&format!(" The tanker {n} sailed."));
        }
        let it = item("Tankers designated", &text);
        let post = compose_post(&it, "s", &hit_on(&it, "fleet", &refs), recognised(&it, "s"));
        assert!(post.plain.len() < 8_000, "{} bytes", post.plain.len());
        assert!(post.html.len() < 16_000, "{} bytes", post.html.len());
        assert!(post.plain.contains("and 280 others"), "{}", post.plain);
    }

    #[test]
    fn an_endless_link_is_left_out_so_the_post_fits_an_event() {
        let mut it = item("Lady R news", "The tanker Lady R sailed.");
        it.link = Some(format!("https://news.example/{}", "a".repeat(70_000)));
        let post = compose_post(&it, "s", &hits_for(&it, &["Lady R"]), recognised(&it, "s"));
        assert!(
            post.plain.len() < 2_000 && post.html.len() < 4_000,
            "{}",
            post.plain.len()
        );
        let reply = compose_also_reported(&it, "s");
        assert!(reply.plain.len() < 2_000 && reply.html.len() < 4_000);
        assert_eq!(
            shown_link(Some("https://a.example/")),
            Some("https://a.example/")
        );
    }
}
