//! Property tests: arbitrary bytes thrown at the feed parser (with and without an
//! HTTP charset), arbitrary text at the HTML-to-text normaliser, and arbitrary items
//! at item identity. None may panic; the normalised text never holds control
//! characters; identity is deterministic and never loses an item of a fetch.

use proptest::prelude::*;
use sanctions_watch::feeds::FeedItem;
use sanctions_watch::feeds::identity::{IdentityMode, assign_keys, canonical_link, item_key};
use sanctions_watch::feeds::parse::{MAX_TITLE_CHARS, parse_feed_document};
use sanctions_watch::feeds::text::{html_to_text, truncate_chars};

fn charset() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("utf-8".to_string())),
        Just(Some("iso-8859-1".to_string())),
        Just(Some("utf-16".to_string())),
        Just(Some("shift_jis".to_string())),
        "[a-z0-9-]{0,12}".prop_map(Some),
    ]
}

/// Arbitrary text wrapped in a feed envelope, so the parser gets past the root.
fn feedish() -> impl Strategy<Value = Vec<u8>> {
    (any::<String>(), any::<String>(), 0usize..4).prop_map(|(title, rest, kind)| {
        let doc = match kind {
            0 => format!("<rss version=\"2.0\"><channel><title>t</title><item><title>{title}</title><guid>{rest}</guid></item></channel></rss>"),
            1 => format!("<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title type=\"html\">{title}</title><id>{rest}</id><updated>{rest}</updated></entry></feed>"),
            2 => format!("{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{{\"id\":\"{rest}\",\"title\":\"{title}\"}}]}}"),
            _ => format!("<?xml version=\"1.0\" encoding=\"{rest}\"?><rss version=\"2.0\"><channel><item><description>{title}</description></item></channel></rss>"),
        };
        doc.into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_parser_never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..4096), cs in charset()) {
        let _ = parse_feed_document("f", &body, None, cs.as_deref());
    }

    #[test]
    fn parsed_items_are_normalised(body in feedish(), cs in charset()) {
        let base = url::Url::parse("https://example.org/feed").unwrap();
        if let Ok(items) = parse_feed_document("f", &body, Some(&base), cs.as_deref()) {
            for item in items {
                prop_assert!(item.title.chars().count() <= MAX_TITLE_CHARS + 1);
                prop_assert!(!item.title.chars().any(char::is_control), "{:?}", item.title);
                prop_assert!(!item.text.chars().any(|c| c.is_control() && c != '\n'), "{:?}", item.text);
                if let Some(link) = &item.link {
                    prop_assert!(link.starts_with("http://") || link.starts_with("https://"));
                }
                let _ = item_key(&item);
            }
        }
    }

    #[test]
    fn html_to_text_never_panics_and_leaves_no_control_characters(s in any::<String>(), max in 0usize..200) {
        let text = html_to_text(&s);
        prop_assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        let cut = truncate_chars(&text, max);
        prop_assert!(cut.chars().count() <= max + 1);
    }

    #[test]
    fn tag_soup_stays_linear_and_safe(parts in proptest::collection::vec(prop_oneof![
        Just("<".to_string()), Just("<script>".to_string()), Just("</script".to_string()),
        Just("<!--".to_string()), Just("&amp;".to_string()), Just("&#x0;".to_string()),
        Just(">".to_string()), "[a-z ]{0,5}".prop_map(String::from),
    ], 0..300)) {
        let _ = html_to_text(&parts.concat());
    }

    #[test]
    fn identity_is_deterministic_and_keeps_every_item(
        items in proptest::collection::vec(
            (proptest::option::of("[a-c]{0,2}"), proptest::option::of("[a-z:/.]{0,20}"), "[A-Ca-c ]{0,4}", proptest::option::of(0i64..4)),
            0..12),
        mode in prop_oneof![Just(IdentityMode::Guid), Just(IdentityMode::Link), Just(IdentityMode::TitleDate)],
        recorded in any::<bool>(),
    ) {
        let items: Vec<FeedItem> = items
            .into_iter()
            .map(|(guid, link, title, day)| FeedItem {
                feed_id: "f".into(),
                guid,
                link,
                title,
                text: String::new(),
                published: day.map(|d| chrono::DateTime::from_timestamp(d * 86_400, 0).unwrap()),
            })
            .collect();
        for item in &items {
            if let Some(link) = &item.link {
                let _ = canonical_link(link);
            }
        }
        let nothing_seen = |_: &str| Ok::<bool, ()>(false);
        let a = assign_keys(&items, mode, recorded, nothing_seen).unwrap();
        let b = assign_keys(&items, mode, recorded, nothing_seen).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.items.len(), items.len());
        // With nothing seen, every item of the fetch is new and has its own key.
        prop_assert!(a.items.iter().all(|(_, fresh)| *fresh));
        let mut primaries: Vec<&String> = a.items.iter().map(|(k, _)| &k.primary).collect();
        primaries.sort();
        primaries.dedup();
        prop_assert_eq!(primaries.len(), items.len());
        // Recording them makes the same fetch entirely old.
        let seen: std::collections::HashSet<String> = a.record.iter().cloned().collect();
        let again = assign_keys(&items, a.mode, true, |k| Ok::<bool, ()>(seen.contains(k))).unwrap();
        prop_assert!(again.items.iter().all(|(_, fresh)| !*fresh));
    }
}
