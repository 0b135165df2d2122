//! The feed-to-outbox pipeline against real HTTP feed servers on 127.0.0.1 and a
//! temporary sled store: baseline, exactly one post per new matching item, restarts,
//! conditional GET, classification, backfill, and one broken feed among healthy ones.

use std::time::Duration;

use crate::support::feed_server::FeedServer;
use crate::support::*;
use sanctions_watch::commands::{CommandContext, handle_line};
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::poller::run_poller;

#[tokio::test]
async fn baseline_posts_nothing_then_a_new_matching_item_posts_once_with_its_sentence() {
    let server = FeedServer::start().await;
    server.set_feed(
        "/news.xml",
        rss(&[
            lady_r_item("old-1"),
            Item::new("old-2", "Sanctions roundup", "Nothing watched."),
        ]),
    );
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(
        dir.path(),
        &format!(
            "{}{VESSELS_WATCHLIST}",
            feed_section("news", &server.url("/news.xml"), "news", "1m")
        ),
    );

    poll(&app, "news").await;
    assert!(
        app.store.outbox().unwrap().is_empty(),
        "the first fetch is a baseline"
    );
    let state = app.store.feed_state("news").unwrap();
    assert!(state.baselined);
    assert_eq!(state.new_items, 2);

    server.set_feed(
        "/news.xml",
        rss(&[
            lady_r_item("new-1"),
            lady_r_item("old-1"),
            Item::new("old-2", "Sanctions roundup", "Nothing watched."),
        ]),
    );
    poll(&app, "news").await;
    let outbox = app.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1, "exactly one post: {outbox:#?}");
    let post = &outbox[0].1;
    assert_eq!(post.room_id, "console");
    assert!(post.plain.contains(LADY_R_SENTENCE), "{}", post.plain);
    assert!(
        post.plain.contains("https://news.example/new-1"),
        "{}",
        post.plain
    );
    assert!(
        post.html.contains("<strong>Lady R</strong>"),
        "{}",
        post.html
    );
    assert!(!post.txn_id.is_empty());

    // Polling again gets a 304 and adds nothing.
    poll(&app, "news").await;
    assert_eq!(app.store.outbox().unwrap().len(), 1);
}

#[tokio::test]
async fn restart_on_the_same_store_posts_nothing_again() {
    let server = FeedServer::start().await;
    server.set_feed(
        "/gov.xml",
        rss(&[Item::new("a", "Designations", "Routine update.")]),
    );
    let dir = tempfile::tempdir().unwrap();
    let rest = format!(
        "{}{VESSELS_WATCHLIST}",
        feed_section("gov", &server.url("/gov.xml"), "government", "1m")
    );
    {
        let app = open_app(dir.path(), &rest);
        poll(&app, "gov").await;
        server.set_feed(
            "/gov.xml",
            rss(&[
                lady_r_item("b"),
                Item::new("a", "Designations", "Routine update."),
            ]),
        );
        poll(&app, "gov").await;
        assert_eq!(app.store.outbox().unwrap().len(), 1);
        app.store.flush().await.unwrap();
    }
    // Same items, but a server that lost its ETag: a full 200 again after the restart.
    let body = rss(&[
        lady_r_item("b"),
        Item::new("a", "Designations", "Routine update."),
    ]);
    server.set_route(
        "/gov.xml",
        crate::support::feed_server::Route {
            status: 200,
            headers: vec![],
            body: body.into_bytes(),
            etag: None,
        },
    );
    let app = open_app(dir.path(), &rest);
    poll(&app, "gov").await;
    let outbox = app.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1, "the restart must not repost: {outbox:#?}");
    let state = app.store.feed_state("gov").unwrap();
    assert_eq!(
        state.parses, 3,
        "the post-restart 200 was parsed, and found nothing new"
    );
}

#[tokio::test]
async fn not_modified_costs_no_parse_and_validators_survive_restart() {
    let server = FeedServer::start().await;
    server.set_feed("/f.xml", rss(&[Item::new("a", "Sanctions", "x")]));
    let dir = tempfile::tempdir().unwrap();
    let rest = feed_section("f", &server.url("/f.xml"), "news", "1m");
    {
        let app = open_app(dir.path(), &rest);
        poll(&app, "f").await;
        app.store.flush().await.unwrap();
    }
    let app = open_app(dir.path(), &rest);
    poll(&app, "f").await;
    poll(&app, "f").await;
    let state = app.store.feed_state("f").unwrap();
    assert_eq!(state.fetches, 3);
    assert_eq!(state.parses, 1, "304 answers are not parsed");
    assert_eq!(state.not_modified, 2);
    let requests = server.requests("/f.xml");
    assert_eq!(requests.len(), 3);
    assert!(!requests[0].headers.contains_key("if-none-match"));
    assert!(
        requests[1].headers.contains_key("if-none-match"),
        "the ETag persisted across the restart"
    );
    assert!(requests[0].headers["user-agent"].starts_with("sanctions-watch/"));
}

#[tokio::test]
async fn news_items_without_sanctions_vocabulary_are_not_posted() {
    let server = FeedServer::start().await;
    server.set_feed("/n.xml", rss(&[]));
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(
        dir.path(),
        &format!(
            "{}{VESSELS_WATCHLIST}",
            feed_section("n", &server.url("/n.xml"), "news", "1m")
        ),
    );
    poll(&app, "n").await;
    server.set_feed(
        "/n.xml",
        rss(&[
            Item::new("p1", "Yacht race results", "The Lady R won the regatta."),
            Item::new(
                "p2",
                "Ports",
                "Officials sanctioned the Lady R for carrying arms.",
            ),
        ]),
    );
    poll(&app, "n").await;
    let outbox = app.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:#?}");
    assert!(outbox[0].1.item_key.starts_with("v1:g:"));
    assert!(outbox[0].1.plain.contains("sanctioned the Lady R"));
}

#[tokio::test]
async fn backfill_posts_the_newest_items_on_the_first_fetch() {
    let server = FeedServer::start().await;
    let mut older = lady_r_item("older");
    older.date = "Mon, 20 May 2024 10:00:00 GMT";
    server.set_feed("/b.xml", rss(&[lady_r_item("newest"), older]));
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(
        dir.path(),
        &format!(
            "{}backfill = 1\n{VESSELS_WATCHLIST}",
            feed_section("b", &server.url("/b.xml"), "government", "1m")
        ),
    );
    poll(&app, "b").await;
    let outbox = app.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0].1.plain.contains("https://news.example/newest"));
}

#[tokio::test]
async fn rooms_get_posts_only_for_their_own_lists_and_only_after_subscribing() {
    let server = FeedServer::start().await;
    server.set_feed("/g.xml", rss(&[lady_r_item("x1")]));
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(
        dir.path(),
        &format!(
            "{}{VESSELS_WATCHLIST}",
            feed_section("g", &server.url("/g.xml"), "government", "1m")
        ),
    );
    let other = CommandContext {
        room_id: "!other:example.org".into(),
        ..console_context()
    };
    handle_line(&app, &other, "watch add people \"Kim Jong Un\" person");
    handle_line(&app, &other, "subscribe people");
    poll(&app, "g").await;
    // The room subscribes to vessels after x1 was seen: x1 is part of its baseline.
    handle_line(&app, &other, "subscribe vessels");
    server.set_feed("/g.xml", rss(&[lady_r_item("x2"), lady_r_item("x1")]));
    poll(&app, "g").await;
    let rooms: Vec<String> = app
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .map(|(_, e)| e.room_id)
        .collect();
    assert_eq!(
        rooms,
        ["!other:example.org", "console"],
        "one post per subscribed room for x2 only"
    );
}

#[tokio::test]
async fn an_unreachable_feed_shows_in_health_while_others_keep_posting() {
    let server = FeedServer::start().await;
    server.set_feed("/ok.xml", rss(&[]));
    // A port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/feed.xml", dead.local_addr().unwrap());
    drop(dead);
    let dir = tempfile::tempdir().unwrap();
    let app = open_app(
        dir.path(),
        &format!(
            "{}{}{VESSELS_WATCHLIST}",
            feed_section("dead", &dead_url, "government", "1s"),
            feed_section("ok", &server.url("/ok.xml"), "government", "1s"),
        ),
    );
    let (tx, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(run_poller(
        app.clone(),
        Fetcher::new(&app.config.fetch).unwrap(),
        rx,
    ));

    wait_until(
        "the healthy feed's baseline",
        Duration::from_secs(20),
        || app.store.feed_state("ok").unwrap().baselined,
    )
    .await;
    server.set_feed("/ok.xml", rss(&[lady_r_item("fresh")]));
    wait_until("the healthy feed's post", Duration::from_secs(20), || {
        app.store.outbox().unwrap().len() == 1
    })
    .await;
    wait_until(
        "two failures of the dead feed",
        Duration::from_secs(20),
        || app.store.feed_state("dead").unwrap().consecutive_failures >= 2,
    )
    .await;

    let reply = handle_line(&app, &console_context(), "feeds").text;
    let dead_part = &reply[reply.find("• dead").unwrap()..reply.find("• ok").unwrap()];
    assert!(
        dead_part.contains("backing off") || dead_part.contains("failing"),
        "{reply}"
    );
    assert!(dead_part.contains("last success: never"), "{reply}");
    assert!(dead_part.contains("last error"), "{reply}");
    assert!(
        reply[reply.find("• ok").unwrap()..].contains("— ok"),
        "{reply}"
    );

    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), poller)
        .await
        .expect("the poller stops on shutdown")
        .unwrap();
}
