//! Stories through the real pipeline (feed servers on 127.0.0.1, a temporary sled
//! store): reports of one announcement from different feeds become one post and
//! threaded "also reported by" replies; a restart neither re-posts the story nor
//! forgets it; the same names on another day are a new story; `stories off` posts
//! every report; `search` finds recent items; a digest-only room gets one digest a
//! day and no live posts, also across a restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::feed_server::FeedServer;
use crate::support::*;
use chrono::{DateTime, Utc};
use sanctions_watch::app::App;
use sanctions_watch::commands::handle_line;
use sanctions_watch::delivery::{RoomSink, SendError, ThreadRoot, run_delivery};
use sanctions_watch::feeds::parse::parse_feed;
use sanctions_watch::pipeline::process_items;
use sanctions_watch::store::OutboxEntry;

const KR_RELEASE: (&str, &str) = (
    "Designation of North Korean individuals and vessels involved in arms trade between North Korea and Russia",
    "The Government of the Republic of Korea has decided to designate seven North Korean individuals and two Russian vessels, the Maia-1 and the Maria, as subjects of independent sanctions. The individuals were involved in the procurement of materials and financing for North Korea's nuclear and missile development.",
);
const KR_WIRE: (&str, &str) = (
    "S. Korea slaps sanctions on 7 N. Koreans, 2 Russian vessels over arms trade",
    "South Korea on Friday imposed independent sanctions on seven North Koreans and two Russian ships, the Maia-1 and the Maria, for their involvement in arms trade between Pyongyang and Moscow, the foreign ministry said.",
);
const KR_PAPER: (&str, &str) = (
    "Seoul blacklists N. Korean arms dealers, Russian cargo ships",
    "Seoul has placed seven North Korean nationals and two Russia-flagged vessels, the Maia-1 and Maria, on its sanctions list, accusing them of ferrying military supplies between the North and Russia.",
);
const KR_LATER: (&str, &str) = (
    "Additional designations related to North Korea-Russia military cooperation",
    "The Government of the Republic of Korea has decided to designate the Russian vessels Angara, Lady R and Maia-1, and four entities involved in North Korea-Russia arms transfers, as subjects of independent sanctions.",
);

fn item(
    guid: &'static str,
    (title, text): (&'static str, &'static str),
    date: &'static str,
) -> Item<'static> {
    Item {
        guid,
        title,
        description: text,
        date,
    }
}

fn feeds(server: &FeedServer) -> String {
    format!(
        "{}{}{}{VESSELS_WATCHLIST}",
        feed_section("mofa", &server.url("/mofa.xml"), "government", "1m"),
        feed_section("wire", &server.url("/wire.xml"), "news", "1m"),
        feed_section("paper", &server.url("/paper.xml"), "news", "1m"),
    )
}

async fn baseline(app: &Arc<App>, server: &FeedServer) {
    for (id, path) in [
        ("mofa", "/mofa.xml"),
        ("wire", "/wire.xml"),
        ("paper", "/paper.xml"),
    ] {
        server.set_feed(path, rss(&[]));
        poll(app, id).await;
    }
    assert!(app.store.outbox().unwrap().is_empty());
}

/// A sink that records what it was asked to send and answers with event ids.
#[derive(Default)]
struct RecordingSink {
    sent: Mutex<Vec<(OutboxEntry, Option<ThreadRoot>)>>,
}

impl RoomSink for RecordingSink {
    fn serves(&self, _room_id: &str) -> bool {
        true
    }

    async fn send(
        &self,
        entry: &OutboxEntry,
        thread: Option<&ThreadRoot>,
    ) -> Result<Option<String>, SendError> {
        self.sent
            .lock()
            .unwrap()
            .push((entry.clone(), thread.cloned()));
        Ok(Some(format!("$event-{}", entry.txn_id)))
    }
}

/// Delivers the whole outbox through a recording sink and returns what was sent.
async fn deliver_all(app: &Arc<App>) -> Vec<(OutboxEntry, Option<ThreadRoot>)> {
    let sink = Arc::new(RecordingSink::default());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(run_delivery(app.clone(), sink.clone(), rx));
    for _ in 0..200 {
        if app.store.outbox().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tx.send(true).unwrap();
    task.await.unwrap();
    assert!(app.store.outbox().unwrap().is_empty(), "delivery stalled");
    sink.sent.lock().unwrap().drain(..).collect()
}

#[tokio::test]
async fn one_story_from_three_feeds_is_one_post_with_threaded_replies_across_a_restart() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let rest = feeds(&server);
    let first_event;
    {
        let app = open_app(dir.path(), &rest);
        baseline(&app, &server).await;

        server.set_feed(
            "/mofa.xml",
            rss(&[item("kr-1", KR_RELEASE, "Fri, 24 May 2024 01:00:00 GMT")]),
        );
        poll(&app, "mofa").await;
        server.set_feed(
            "/wire.xml",
            rss(&[item("w-1", KR_WIRE, "Fri, 24 May 2024 02:12:00 GMT")]),
        );
        poll(&app, "wire").await;

        let sent = deliver_all(&app).await;
        assert_eq!(sent.len(), 2, "{sent:#?}");
        let (post, thread) = &sent[0];
        assert!(thread.is_none());
        assert!(
            post.plain
                .starts_with("Sanctions watch: Designation of North Korean"),
            "{}",
            post.plain
        );
        assert!(
            post.plain.contains("South Korea · new designations"),
            "{}",
            post.plain
        );
        assert!(
            post.plain.contains("\n• Maia-1") && post.plain.contains("\nOn watchlist vessels."),
            "{}",
            post.plain
        );
        let (reply, thread) = &sent[1];
        assert!(
            reply.plain.starts_with("Also reported by wire"),
            "{}",
            reply.plain
        );
        assert!(
            reply.plain.contains("https://news.example/w-1"),
            "{}",
            reply.plain
        );
        first_event = format!("$event-{}", post.txn_id);
        assert_eq!(
            thread.as_ref().and_then(|t| t.event_id.clone()),
            Some(first_event.clone()),
            "the reply is threaded under the delivered post"
        );
        app.store.flush().await.unwrap();
    }

    // After a restart: nothing is posted again, and a third source joins the story.
    let app = open_app(dir.path(), &rest);
    poll(&app, "mofa").await;
    poll(&app, "wire").await;
    assert!(
        app.store.outbox().unwrap().is_empty(),
        "a restart must not repost"
    );
    server.set_feed(
        "/paper.xml",
        rss(&[item("p-1", KR_PAPER, "Fri, 24 May 2024 06:40:00 GMT")]),
    );
    poll(&app, "paper").await;
    let sent = deliver_all(&app).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(
        sent[0].0.plain.starts_with("Also reported by paper"),
        "{}",
        sent[0].0.plain
    );
    assert_eq!(
        sent[0].1.as_ref().and_then(|t| t.event_id.clone()),
        Some(first_event)
    );

    // The same names five weeks later are a new announcement: a post of its own.
    server.set_feed(
        "/mofa.xml",
        rss(&[
            item("kr-2", KR_LATER, "Fri, 28 Jun 2024 01:00:00 GMT"),
            item("kr-1", KR_RELEASE, "Fri, 24 May 2024 01:00:00 GMT"),
        ]),
    );
    poll(&app, "mofa").await;
    let sent = deliver_all(&app).await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].1.is_none(), "a new story is not a reply");
    assert!(
        sent[0]
            .0
            .plain
            .starts_with("Sanctions watch: Additional designations"),
        "{}",
        sent[0].0.plain
    );
}

#[tokio::test]
async fn stories_off_posts_every_report_and_search_finds_recent_items() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), &feeds(&server));
    baseline(&app, &server).await;
    let reply = handle_line(&app, &console_context(), "stories off");
    assert!(reply.text.contains("Stories are off"), "{}", reply.text);

    server.set_feed(
        "/mofa.xml",
        rss(&[item("kr-1", KR_RELEASE, "Fri, 24 May 2024 01:00:00 GMT")]),
    );
    poll(&app, "mofa").await;
    server.set_feed(
        "/wire.xml",
        rss(&[item("w-1", KR_WIRE, "Fri, 24 May 2024 02:12:00 GMT")]),
    );
    poll(&app, "wire").await;
    let sent = deliver_all(&app).await;
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|(e, t)| t.is_none() && e.plain.starts_with("Sanctions watch:"))
    );

    let found = handle_line(&app, &console_context(), "search Maia-1 Pyongyang");
    assert!(
        found.text.starts_with("1 most recent item containing"),
        "{}",
        found.text
    );
    assert!(
        found.text.contains("S. Korea slaps sanctions")
            && found.text.contains("https://news.example/w-1"),
        "{}",
        found.text
    );
    let found = handle_line(&app, &console_context(), "search \"maia 1\"");
    assert!(
        found.text.starts_with("2 most recent items"),
        "{}",
        found.text
    );
    let none = handle_line(&app, &console_context(), "search Angara");
    assert!(
        none.text.starts_with("No item among the 2 most recent"),
        "{}",
        none.text
    );
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn a_digest_only_room_gets_one_digest_a_day_and_no_live_posts() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let rest = feeds(&server);
    {
        let app = open_app(dir.path(), &rest);
        baseline(&app, &server).await;
        let reply = handle_line(&app, &console_context(), "digest daily 23:59 only");
        assert!(
            reply.text.contains("23:59 UTC") && reply.text.contains("instead of live posts"),
            "{}",
            reply.text
        );
        server.set_feed(
            "/mofa.xml",
            rss(&[item("kr-1", KR_RELEASE, "Fri, 24 May 2024 01:00:00 GMT")]),
        );
        poll(&app, "mofa").await;
        server.set_feed(
            "/wire.xml",
            rss(&[item("w-1", KR_WIRE, "Fri, 24 May 2024 02:12:00 GMT")]),
        );
        poll(&app, "wire").await;
        assert!(
            app.store.outbox().unwrap().is_empty(),
            "digest only: no live posts"
        );
        app.store.flush().await.unwrap();
    }
    let app = open_app(dir.path(), &rest);
    // The digest is due at 23:59 UTC of the next day it runs.
    let tomorrow = (Utc::now() + chrono::Duration::days(1)).date_naive();
    let due = at(&format!("{tomorrow}T23:59:30Z"));
    assert_eq!(
        sanctions_watch::digest::enqueue_due(&app, due - chrono::Duration::minutes(5)).unwrap(),
        0
    );
    assert_eq!(sanctions_watch::digest::enqueue_due(&app, due).unwrap(), 1);
    assert_eq!(
        sanctions_watch::digest::enqueue_due(&app, due).unwrap(),
        0,
        "once a day"
    );
    let outbox = app.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    let digest = &outbox[0].1.plain;
    assert!(
        digest.starts_with(&format!(
            "Sanctions watch daily digest, {tomorrow} (UTC): 1 story"
        )),
        "{digest}"
    );
    assert!(
        digest.contains("Maia-1") && digest.contains("mofa (+1 more)"),
        "{digest}"
    );
    app.store.flush().await.unwrap();
    drop(app);
    let app = open_app(dir.path(), &rest);
    assert_eq!(
        sanctions_watch::digest::enqueue_due(&app, due).unwrap(),
        0,
        "a restart does not double it"
    );
    assert_eq!(app.store.outbox().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_feeds_reporting_one_story_at_the_same_moment_make_one_story() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), &feeds(&server));
    baseline(&app, &server).await;
    let reports = [
        (
            "mofa",
            item("kr-1", KR_RELEASE, "Fri, 24 May 2024 01:00:00 GMT"),
        ),
        (
            "wire",
            item("w-1", KR_WIRE, "Fri, 24 May 2024 02:12:00 GMT"),
        ),
        (
            "paper",
            item("p-1", KR_PAPER, "Fri, 24 May 2024 03:30:00 GMT"),
        ),
    ];
    // The three feeds' items go through the pipeline on three threads released at
    // the same moment, as the poller's blocking workers would run them.
    let start = Arc::new(std::sync::Barrier::new(reports.len()));
    let workers: Vec<_> = reports
        .into_iter()
        .map(|(id, report)| {
            let (app, start) = (app.clone(), start.clone());
            let feed = app.feed(id).unwrap().expect("feed exists");
            let items = parse_feed(id, rss(&[report]).as_bytes(), None).unwrap();
            std::thread::spawn(move || {
                let state = app.store.feed_state(id).unwrap();
                start.wait();
                process_items(&app, &feed, items, state).unwrap()
            })
        })
        .collect();
    for w in workers {
        assert_eq!(w.join().unwrap().posts, 1);
    }
    let sent = deliver_all(&app).await;
    assert_eq!(sent.len(), 3, "{sent:#?}");
    let top_level = sent.iter().filter(|(_, thread)| thread.is_none()).count();
    assert_eq!(top_level, 1, "one post, two replies: {sent:#?}");
}

/// A sink whose every send fails on this side, as a broken crypto store would.
struct BrokenCryptoSink;

impl RoomSink for BrokenCryptoSink {
    fn serves(&self, _room_id: &str) -> bool {
        true
    }

    async fn send(
        &self,
        _entry: &OutboxEntry,
        _thread: Option<&ThreadRoot>,
    ) -> Result<Option<String>, SendError> {
        Err(SendError::Local("the crypto store is broken".into()))
    }
}

#[tokio::test]
async fn a_post_failing_on_this_side_is_given_up_after_a_few_attempts_not_retried_forever() {
    use sanctions_watch::delivery::LOCAL_ERROR_ATTEMPTS;
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(dir.path(), "");
    let entry = |room: &str, attempts: u32| OutboxEntry {
        txn_id: sanctions_watch::store::new_txn_id(),
        room_id: room.into(),
        feed_id: "f".into(),
        item_key: "k".into(),
        plain: "p".into(),
        html: "p".into(),
        created: chrono::Utc::now(),
        attempts,
        not_before: None,
        last_error: None,
    };
    // One entry that has failed all but its last attempt, one that is new.
    app.store
        .enqueue(&[
            entry("!worn:x", LOCAL_ERROR_ATTEMPTS - 1),
            entry("!fresh:x", 0),
        ])
        .unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(run_delivery(app.clone(), Arc::new(BrokenCryptoSink), rx));
    wait_until(
        "the worn entry to be given up",
        Duration::from_secs(10),
        || app.store.counts().dead_letters == 1,
    )
    .await;
    tx.send(true).unwrap();
    task.await.unwrap();
    let waiting = app.store.outbox().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].1.room_id, "!fresh:x");
    assert_eq!(waiting[0].1.attempts, 1, "the fresh one is retried later");
    assert!(waiting[0].1.not_before.is_some());
}
