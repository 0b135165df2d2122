//! Daily digests: a room that chose `digest daily HH:MM` gets, once a day at that
//! time (UTC), one message listing the stories that matched its watchlists since
//! the previous digest. The delivery loop calls [`enqueue_due`] on every pass; the
//! digest goes through the outbox like any post, and taking the day's lines,
//! enqueueing the message and marking the day done are one transaction, so a
//! restart neither doubles nor loses a digest. A day with nothing to report sends
//! nothing.

use chrono::{DateTime, Timelike, Utc};

use crate::app::App;
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

/// The digest message for `lines`.
pub fn compose_digest(now: DateTime<Utc>, lines: &[DigestLine]) -> (String, String) {
    let day = now.format("%Y-%m-%d");
    let n = lines.len();
    let mut plain = format!(
        "Sanctions watch daily digest, {day} (UTC): {n} stor{} matched this room's watchlists",
        if n == 1 { "y" } else { "ies" }
    );
    let mut html = format!(
        "<p><strong>Sanctions watch daily digest, {day} (UTC)</strong>: {n} stor{} matched this room's watchlists</p><ol>",
        if n == 1 { "y" } else { "ies" }
    );
    for line in lines.iter().take(MAX_DIGEST_STORIES) {
        let sources = if line.sources.len() > 1 {
            format!("{} (+{} more)", line.sources[0], line.sources.len() - 1)
        } else {
            line.sources.first().cloned().unwrap_or_default()
        };
        let date = line.published.format("%Y-%m-%d");
        plain.push_str(&format!(
            "\n• {} — {} — {} — {sources}, {date}",
            line.title,
            line.what,
            line.names.join(", ")
        ));
        html.push_str(&format!(
            "<li>{} — {} — <strong>{}</strong> — {}, {date}",
            escape(&line.title),
            escape(&line.what),
            escape(&line.names.join(", ")),
            escape(&sources)
        ));
        if let Some(link) = shown_link(line.link.as_deref()) {
            plain.push_str(&format!("\n  {link}"));
            html.push_str(&format!(" <a href=\"{0}\">{0}</a>", escape(link)));
        }
        html.push_str("</li>");
    }
    html.push_str("</ol>");
    if n > MAX_DIGEST_STORIES {
        plain.push_str(&format!("\n… and {} more", n - MAX_DIGEST_STORIES));
        html.push_str(&format!("<p>… and {} more</p>", n - MAX_DIGEST_STORIES));
    }
    (
        defuse_room_mentions(&plain),
        defuse_room_mentions(&sanitize_matrix_html(&html)),
    )
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
        let entry = (!lines.is_empty()).then(|| {
            let (plain, html) = compose_digest(now, &lines);
            OutboxEntry {
                txn_id: new_txn_id(),
                room_id: room.clone(),
                feed_id: String::new(),
                item_key: format!("digest:{}", now.date_naive()),
                plain,
                html,
                created: now,
                attempts: 0,
                not_before: None,
                last_error: None,
            }
        });
        if app
            .store
            .complete_digest(&room, now.date_naive(), entry.as_ref(), &lines)?
            && entry.is_some()
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
