//! The trust an operator gives a feed written in the config file stays with that feed:
//! a config feed on a loopback server is polled, while `feed add` of the same server
//! (in every spelling of its address, by name, or with user info) is refused with its
//! reason before anything is stored or fetched; a feed added in a room that reached
//! the store anyway is refused when it is polled; and a config feed's redirect to
//! another origin, even another config feed's, is refused. The server must never see
//! a request for any of those. A config feed's credentials (user info in its URL) go
//! to its server, and into no error and no posted link.

use chrono::Utc;
use sanctions_watch::commands::handle_line;
use sanctions_watch::config::FeedKind;
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::poller::poll_feed;
use sanctions_watch::store::{FeedOrigin, FeedRecord};

use crate::support::feed_server::{FeedServer, Route};
use crate::support::*;

fn redirect(to: &str) -> Route {
    Route {
        status: 302,
        headers: vec![("Location".into(), to.into())],
        body: Vec::new(),
        etag: None,
    }
}

fn port_of(server: &FeedServer) -> u16 {
    url::Url::parse(&server.url("/"))
        .unwrap()
        .port()
        .expect("the test server's URL names its port")
}

/// A feed added in a room, as a record in the store (as if `feed add` had let it in).
fn command_feed(id: &str, url: &str) -> FeedRecord {
    FeedRecord {
        id: id.into(),
        name: id.into(),
        url: url.into(),
        kind: FeedKind::News,
        poll_interval_secs: 60,
        backfill: 0,
        origin: FeedOrigin::Command {
            room: "!room:example.org".into(),
            by: "@mallory:example.org".into(),
            at: Utc::now(),
        },
        shared: false,
    }
}

fn last_error(app: &sanctions_watch::app::App, id: &str) -> String {
    app.store
        .feed_state(id)
        .unwrap()
        .last_error
        .unwrap_or_else(|| panic!("feed {id} has no error"))
}

/// Two loopback servers and an app with config feeds on them: `cfg` (a feed),
/// `cfg-home` (a redirect within its origin), `cfg-away` (a redirect to the other
/// server), `cfg-else` (a feed on the other server), `cfg-cross` (a redirect from the
/// other server to the first), `cfg-auth` and `cfg-loop` (with the operator's
/// credentials; the second a redirect loop). Paths a feed must never reach serve
/// "internal data".
struct Setup {
    server: FeedServer,
    elsewhere: FeedServer,
    port: u16,
    app: std::sync::Arc<sanctions_watch::app::App>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let server = FeedServer::start().await;
    let elsewhere = FeedServer::start().await;
    let port = port_of(&server);
    let dir = tempfile::tempdir().unwrap();
    let secret = rss(&[Item::new("s", "internal", "internal data")]);
    server.set_feed("/config.xml", rss(&[Item::new("c", "Sanctions", "news")]));
    for path in [
        "/other",
        "/x",
        "/stored.xml",
        "/stored-hex.xml",
        "/secret.xml",
    ] {
        server.set_feed(path, secret.clone());
    }
    // A config feed may redirect within its own origin...
    server.set_route("/hop-home", redirect("/config.xml"));
    // ...but not to another origin: another port of the same address...
    server.set_route("/hop-away", redirect(&elsewhere.url("/secret.xml")));
    elsewhere.set_feed("/secret.xml", secret.clone());
    // ...nor another config feed's origin.
    elsewhere.set_feed("/elsewhere.xml", rss(&[]));
    elsewhere.set_route("/to-first", redirect(&server.url("/secret.xml")));
    // A config feed with the operator's credentials: fetched with them, never shown.
    let with_credentials = |path: &str| server.url(path).replace("://", "://op:s3cret@");
    server.set_feed("/auth.xml", rss(&[]));
    server.set_route("/auth-loop-a", redirect("/auth-loop-b"));
    server.set_route("/auth-loop-b", redirect("/auth-loop-a"));

    let app = open_app(
        dir.path(),
        &[
            feed_section("cfg", &server.url("/config.xml"), "news", "1m"),
            feed_section("cfg-home", &server.url("/hop-home"), "news", "1m"),
            feed_section("cfg-away", &server.url("/hop-away"), "news", "1m"),
            feed_section("cfg-else", &elsewhere.url("/elsewhere.xml"), "news", "1m"),
            feed_section("cfg-cross", &elsewhere.url("/to-first"), "news", "1m"),
            feed_section(
                "cfg-auth",
                &with_credentials("/auth.xml"),
                "government",
                "1m",
            ),
            feed_section("cfg-loop", &with_credentials("/auth-loop-a"), "news", "1m"),
            VESSELS_WATCHLIST.to_string(),
        ]
        .concat(),
    );
    Setup {
        server,
        elsewhere,
        port,
        app,
        _dir: dir,
    }
}

#[tokio::test]
async fn feed_add_of_a_config_feeds_server_is_refused_in_every_spelling() {
    let Setup {
        server, port, app, ..
    } = setup().await;
    // The config feed on the loopback server is polled fine.
    poll(&app, "cfg").await;
    let state = app.store.feed_state("cfg").unwrap();
    assert_eq!(state.consecutive_failures, 0, "{:?}", state.last_error);
    assert!(state.baselined);
    assert_eq!(server.requests("/config.xml").len(), 1);

    // `feed add` of the same server is refused, in every spelling, with its reason.
    let before = app.feeds().unwrap().len();
    for (url, reason) in [
        (
            format!("http://127.0.0.1:{port}/other"),
            "127.0.0.1 is a loopback address",
        ),
        (
            format!("http://2130706433:{port}/x"),
            "127.0.0.1 is a loopback address",
        ),
        (
            format!("http://0x7f.1:{port}/x"),
            "127.0.0.1 is a loopback address",
        ),
        (
            format!("http://127.1:{port}/x"),
            "127.0.0.1 is a loopback address",
        ),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/x"),
            "::ffff:127.0.0.1 is a loopback address",
        ),
        (
            format!("http://localhost:{port}/x"),
            "localhost is a loopback address",
        ),
        (
            format!("http://user:pw@127.0.0.1:{port}/x"),
            "contains a user name or password",
        ),
    ] {
        let reply = handle_line(&app, &console_context(), &format!("feed add {url}")).text;
        assert!(
            reply.starts_with("Cannot add that feed: "),
            "{url}: {reply}"
        );
        assert!(reply.contains(reason), "{url}: {reply}");
        assert!(!reply.contains("pw@"), "{url}: {reply}");
    }
    assert_eq!(app.feeds().unwrap().len(), before, "no feed was added");
    for path in ["/other", "/x"] {
        assert!(
            server.requests(path).is_empty(),
            "{path} was requested: {:?}",
            server.requests(path)
        );
    }
}

#[tokio::test]
async fn a_room_feed_in_the_store_is_refused_at_fetch_time_beside_the_config_feed() {
    let Setup {
        server, port, app, ..
    } = setup().await;
    app.store
        .put_feed(&command_feed("stored", &server.url("/stored.xml")))
        .unwrap();
    app.store
        .put_feed(&command_feed(
            "stored-hex",
            &format!("http://0x7f.1:{port}/stored-hex.xml"),
        ))
        .unwrap();
    // One fetcher for all, as the poller has: the config feed's trust must not stay
    // behind in it.
    let fetcher = Fetcher::new(&app.config.fetch).unwrap();
    let poll = |id: &'static str| {
        let (app, fetcher) = (app.clone(), fetcher.clone());
        async move {
            let feed = app.feed(id).unwrap().expect("feed exists");
            poll_feed(&app, &fetcher, &feed).await;
        }
    };
    poll("cfg").await;
    for id in ["stored", "stored-hex"] {
        poll(id).await;
        let error = last_error(&app, id);
        assert!(error.starts_with("refused "), "{id}: {error}");
        assert!(
            error.contains("127.0.0.1 is a loopback address"),
            "{id}: {error}"
        );
    }
    assert!(server.requests("/stored.xml").is_empty());
    assert!(server.requests("/stored-hex.xml").is_empty());
    // The config feed on the same host and port is still fetched.
    poll("cfg").await;
    assert_eq!(server.requests("/config.xml").len(), 2);
    assert_eq!(app.store.feed_state("cfg").unwrap().consecutive_failures, 0);
}

#[tokio::test]
async fn a_config_feed_may_redirect_within_its_origin_but_not_beyond() {
    let Setup {
        server,
        elsewhere,
        app,
        ..
    } = setup().await;
    for id in ["cfg-home", "cfg-else"] {
        poll(&app, id).await;
        let state = app.store.feed_state(id).unwrap();
        assert_eq!(
            state.consecutive_failures, 0,
            "{id}: {:?}",
            state.last_error
        );
    }
    // Another port of the same address, and another config feed's origin.
    for (id, refused) in [
        ("cfg-away", elsewhere.url("/secret.xml")),
        ("cfg-cross", server.url("/secret.xml")),
    ] {
        poll(&app, id).await;
        let error = last_error(&app, id);
        assert!(
            error.starts_with(&format!(
                "refused {refused}: 127.0.0.1 is a loopback address"
            )),
            "{id}: {error}"
        );
    }
    assert!(elsewhere.requests("/secret.xml").is_empty());
    assert!(server.requests("/secret.xml").is_empty());
}

#[tokio::test]
async fn a_config_feeds_credentials_go_to_its_server_and_into_no_message() {
    let Setup {
        server, port, app, ..
    } = setup().await;
    poll(&app, "cfg-auth").await;
    let asked = server.requests("/auth.xml");
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].headers.get("authorization").map(String::as_str),
        Some("Basic b3A6czNjcmV0"),
        "op:s3cret"
    );
    // A relative link of the feed is posted without them.
    server.set_feed(
        "/auth.xml",
        format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Sanctions on the Lady R</title><link>/story/1</link><description>{LADY_R_SENTENCE}</description><guid>story-1</guid></item></channel></rss>"
        ),
    );
    poll(&app, "cfg-auth").await;
    let posts: Vec<String> = app
        .store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e.feed_id == "cfg-auth")
        .map(|(_, e)| format!("{}\n{}", e.plain, e.html))
        .collect();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert!(
        posts[0].contains(&format!("http://127.0.0.1:{port}/story/1")),
        "{}",
        posts[0]
    );
    assert!(!posts[0].contains("s3cret"), "{}", posts[0]);
    poll(&app, "cfg-loop").await;
    let error = last_error(&app, "cfg-loop");
    assert!(error.contains("redirect loop"), "{error}");
    assert!(
        !error.contains("s3cret") && !error.contains("op:"),
        "{error}"
    );
}
