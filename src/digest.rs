//! Daily digests: a room that chose `digest daily HH:MM` gets, once a day at that
//! time (UTC), one message listing the stories that matched its watchlists since
//! the previous digest (split into parts when one would not fit a Matrix event). The delivery loop calls [`enqueue_due`] on every pass; the
//! digest goes through the outbox like any post, and taking the day's lines,
//! enqueueing the message and marking the day done are one transaction, so a
//! restart neither doubles nor loses a digest. A day with nothing to report sends
//! nothing.

use chrono::{DateTime, Timelike, Utc};

use crate::app::App;
use crate::feeds::text::one_line;
use crate::store::new_txn_id;
use crate::store::{DigestLine, DigestSetting, OutboxEntry, StoreError};
use crate::summary::html::{escape, sanitize_matrix_html};
use crate::summary::post::{defuse_room_mentions, shown_link};

/// Most stories listed in one digest; the rest are counted.
const MAX_DIGEST_STORIES: usize = 20;

/// True if the digest of `now`'s day is due: the time has come and the day was not
/// handled yet.
pub fn is_due(setting: &DigestSetting, now: DateTime<Utc>) -> bool {
    let due = (now.hour(), now.minute()) >= (setting.hour, setting.minute);
    due && setting.last_sent.is_none_or(|d| d < now.date_naive())
}

/// Bytes of one digest message (plain and HTML together) before it is split: well
/// under Matrix's 65,536-byte event limit, with room for the event's own fields and
/// the JSON escaping of both bodies.
const DIGEST_PART_BYTES: usize = 24_000;

/// Names listed for one story; the rest are counted.
const NAMES_PER_LINE: usize = 12;

/// The digest messages for `lines`: one, or several parts ("part 1 of 2") when one
/// would not fit an event.
pub fn compose_digest(now: DateTime<Utc>, lines: &[DigestLine]) -> Vec<(String, String)> {
    let day = now.format("%Y-%m-%d");
    let n = lines.len();
    // Each story's lines, plain and HTML.
    let mut items: Vec<(String, String)> = Vec::new();
    for line in lines.iter().take(MAX_DIGEST_STORIES) {
        let sources = if line.sources.len() > 1 {
            format!("{} (+{} more)", line.sources[0], line.sources.len() - 1)
        } else {
            line.sources.first().cloned().unwrap_or_default()
        };
        let mut names = line
            .names
            .iter()
            .take(NAMES_PER_LINE)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if line.names.len() > NAMES_PER_LINE {
            names.push_str(&format!(" (+{} more)", line.names.len() - NAMES_PER_LINE));
        }
        let title = one_line(&line.title, 300);
        let date = line.published.format("%Y-%m-%d");
        let mut plain = format!("\n• {title} — {} — {names} — {sources}, {date}", line.what);
        let mut html = format!(
            "<li>{} — {} — <strong>{}</strong> — {}, {date}",
            escape(&title),
            escape(&line.what),
            escape(&names),
            escape(&sources)
        );
        if let Some(link) = shown_link(line.link.as_deref()) {
            plain.push_str(&format!("\n  {link}"));
            html.push_str(&format!(" <a href=\"{0}\">{0}</a>", escape(link)));
        }
        html.push_str("</li>");
        items.push((plain, html));
    }
    // Then as many to a part as fit.
    let mut parts: Vec<Vec<(String, String)>> = vec![Vec::new()];
    let mut size = 0;
    for item in items {
        let bytes = item.0.len() + item.1.len();
        if size + bytes > DIGEST_PART_BYTES && !parts.last().is_some_and(Vec::is_empty) {
            parts.push(Vec::new());
            size = 0;
        }
        size += bytes;
        parts.last_mut().expect("one part at least").push(item);
    }
    let count = parts.len();
    let mut first = 1;
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let start = first;
            first += part.len();
            let of = if count > 1 {
                format!(", part {} of {count}", i + 1)
            } else {
                String::new()
            };
            let stories = format!("{n} stor{}", if n == 1 { "y" } else { "ies" });
            let mut plain = format!(
                "Sanctions watch daily digest, {day} (UTC){of}: {stories} matched this room's watchlists"
            );
            let mut html = format!(
                "<p><strong>Sanctions watch daily digest, {day} (UTC){of}</strong>: {stories} matched this room's watchlists</p><ol start=\"{start}\">"
            );
            for (p, h) in &part {
                plain.push_str(p);
                html.push_str(h);
            }
            html.push_str("</ol>");
            if i + 1 == count && n > MAX_DIGEST_STORIES {
                plain.push_str(&format!("\n… and {} more", n - MAX_DIGEST_STORIES));
                html.push_str(&format!("<p>… and {} more</p>", n - MAX_DIGEST_STORIES));
            }
            (
                defuse_room_mentions(&plain),
                defuse_room_mentions(&sanitize_matrix_html(&html)),
            )
        })
        .collect()
}

/// Enqueues every digest that is due at `now`. Returns how many were enqueued.
pub fn enqueue_due(app: &App, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut enqueued = 0;
    for (room, settings) in app.store.digest_rooms()? {
        let Some(setting) = &settings.digest else {
            continue;
        };
        if !app.serves(&room) {
            continue; // left for the process that serves the room
        }
        if !is_due(setting, now) {
            continue;
        }
        let mut lines = app.store.digest_lines(&room)?;
        lines.sort_by_key(|l| l.published);
        let parts: Vec<OutboxEntry> = if lines.is_empty() {
            Vec::new()
        } else {
            compose_digest(now, &lines)
                .into_iter()
                .enumerate()
                .map(|(i, (plain, html))| OutboxEntry {
                    txn_id: new_txn_id(),
                    room_id: room.clone(),
                    feed_id: String::new(),
                    item_key: format!("digest:{}:{}", now.date_naive(), i + 1),
                    plain,
                    html,
                    created: now,
                    attempts: 0,
                    not_before: None,
                    last_error: None,
                })
                .collect()
        };
        if app
            .store
            .complete_digest(&room, now.date_naive(), &parts, &lines)?
            && !parts.is_empty()
        {
            enqueued += 1;
        }
    }
    if enqueued > 0 {
        app.store.flush_blocking()?;
    }
    Ok(enqueued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn line(i: usize, link_bytes: usize) -> DigestLine {
        DigestLine {
            story: format!("s{i}"),
            title: format!("Treasury sanctions network {i}"),
            what: "OFAC (US Treasury) · new designations".into(),
            names: (0..30).map(|n| format!("Name {n}")).collect(),
            sources: vec!["OFAC".into(), "Reuters".into()],
            link: Some(format!(
                "https://example.org/{i}/{}",
                "a".repeat(link_bytes)
            )),
            published: at("2024-05-24T08:00:00Z"),
        }
    }

    #[test]
    fn a_digest_too_long_for_one_event_is_split_into_parts_that_fit() {
        let now = at("2024-05-25T08:00:00Z");
        let small: Vec<DigestLine> = (0..3).map(|i| line(i, 10)).collect();
        let one = compose_digest(now, &small);
        assert_eq!(one.len(), 1);
        assert!(!one[0].0.contains("part"), "{}", one[0].0);
        assert!(one[0].0.contains("Name 11 (+18 more)"), "{}", one[0].0);

        // 25 stories with links just under the 2 KB cap: 20 listed, in parts.
        let big: Vec<DigestLine> = (0..25).map(|i| line(i, 2000)).collect();
        let parts = compose_digest(now, &big);
        assert!(parts.len() > 1, "{} part(s)", parts.len());
        for (k, (plain, html)) in parts.iter().enumerate() {
            // The event's body, formatted_body and JSON escaping stay under 64 KiB.
            let event = serde_json::json!({"body": plain, "formatted_body": html}).to_string();
            assert!(event.len() < 60_000, "part {k}: {} bytes", event.len());
            assert!(plain.contains(&format!("part {} of {}", k + 1, parts.len())));
        }
        let listed: usize = parts.iter().map(|(p, _)| p.matches("\n• ").count()).sum();
        assert_eq!(listed, 20, "every listed story once");
        assert!(parts.last().unwrap().0.ends_with("… and 5 more"));
        assert!(
            parts[1].1.contains("<ol start=\""),
            "{}",
            &parts[1].1[..200]
        );
    }

    #[test]
    fn due_once_a_day_after_the_time() {
        let mut s = DigestSetting {
            hour: 8,
            minute: 30,
            only: false,
            last_sent: None,
        };
        assert!(!is_due(&s, at("2024-05-24T08:29:00Z")));
        assert!(is_due(&s, at("2024-05-24T08:30:00Z")));
        s.last_sent = Some(at("2024-05-24T08:30:00Z").date_naive());
        assert!(!is_due(&s, at("2024-05-24T23:00:00Z")));
        assert!(is_due(&s, at("2024-05-25T09:00:00Z")));
    }
}
