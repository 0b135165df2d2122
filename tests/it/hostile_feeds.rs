//! The hostile-feed suite: real HTTP servers on 127.0.0.1 serving a gzip bomb, an
//! endless chunked body, a slow trickle, a redirect loop, a redirect to a private
//! address, a billion laughs, an external entity pointing at a local file, an HTML
//! page, a wrong charset, a 10,000-item feed, duplicate, missing and regenerated
//! guids, 429 with Retry-After and 410, all polled by the real poller at once. For
//! each: the bot keeps running, the right state shows in `feeds`, and a healthy feed
//! beside them keeps posting on time. Then focused tests of politeness (per-host cap,
//! host-wide Retry-After), redirects, the SSRF policy, baselines and notices.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::feed_server::{Behaviour, FeedServer, Route};
use crate::support::*;
use sanctions_watch::app::App;
use sanctions_watch::commands::handle_line;
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::poller::{poll_feed, run_poller};

/// The `feeds` reply's paragraph about feed `id`.
fn feed_report(app: &Arc<App>, id: &str) -> String {
    let reply = handle_line(app, &console_context(), "feeds").text;
    let start = reply
        .find(&format!("• {id} ("))
        .unwrap_or_else(|| panic!("no feed {id} in {reply}"));
    let rest = &reply[start + "• ".len()..];
    rest[..rest.find("\n• ").unwrap_or(rest.len())].to_string()
}

fn route(status: u16, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Route {
    Route {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
        etag: None,
    }
}

fn posts_for(app: &App, feed: &str) -> Vec<String> {
    app.store
        .outbox()
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e.feed_id == feed)
        .map(|(_, e)| e.plain)
        .collect()
}

const LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>lolz</title><item><title>&lol9;</title><guid>1</guid></item></channel></rss>"#;

/// An item naming Lady R with its own guid and link.
fn lady_r_raw(guid: Option<&str>, link: &str, date: &str) -> String {
    format!(
        "<item><title>Sanctions on the Lady R</title><link>{link}</link><description>{LADY_R_SENTENCE}</description><pubDate>{date}</pubDate>{}</item>",
        guid.map(|g| format!("<guid>{g}</guid>"))
            .unwrap_or_default()
    )
}

fn rss_raw(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{}</channel></rss>",
        items.concat()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_feeds_fail_alone_while_a_healthy_feed_keeps_posting_on_time() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let local = |path: &str| server.url(path);
    // The 429 case lives under the name "localhost" so that its Retry-After holds
    // back only that host, not 127.0.0.1 where the healthy feed is.
    let via_localhost = |path: &str| server.url(path).replace("127.0.0.1", "localhost");

    server.set_feed("/healthy.xml", rss(&[]));
    server.set_behaviour("/bomb.xml", Behaviour::GzipBomb { expanded: 1 << 30 });
    server.set_behaviour("/endless.xml", Behaviour::EndlessChunked);
    server.set_behaviour(
        "/trickle.xml",
        Behaviour::Trickle {
            every: Duration::from_millis(700),
        },
    );
    server.set_route(
        "/loop-a",
        route(302, &[("Location", "/loop-b")], Vec::new()),
    );
    server.set_route(
        "/loop-b",
        route(302, &[("Location", "/loop-a")], Vec::new()),
    );
    server.set_route(
        "/to-metadata",
        route(
            302,
            &[("Location", "http://169.254.169.254/latest/meta-data/")],
            Vec::new(),
        ),
    );
    server.set_feed("/laughs.xml", LAUGHS);
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-CONTENT").unwrap();
    server.set_feed(
        "/xxe.xml",
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file://{}\">]><rss version=\"2.0\"><channel><title>t</title><item><title>&xxe;</title><guid>1</guid></item></channel></rss>",
            secret.display()
        ),
    );
    server.set_route(
        "/page.html",
        route(
            200,
            &[("Content-Type", "text/html")],
            "<!DOCTYPE html><html><body><h1>Welcome</h1></body></html>",
        ),
    );
    // Latin-1 bytes, an XML declaration that claims UTF-8, and the truth in HTTP.
    let latin1 = |extra: &[u8]| -> Vec<u8> {
        let mut body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title>".to_vec();
        body.extend_from_slice(extra);
        body.extend_from_slice(
            b"<item><title>Gr\xfc\xdfe</title><guid>c0</guid></item></channel></rss>",
        );
        body
    };
    server.set_route(
        "/latin1.xml",
        route(
            200,
            &[("Content-Type", "application/rss+xml; charset=iso-8859-1")],
            latin1(b""),
        ),
    );
    let big: Vec<String> = (0..10_000)
        .map(|i| {
            format!("<item><title>Item {i}</title><guid>big-{i}</guid><description>Routine notice {i}.</description></item>")
        })
        .collect();
    server.set_feed("/big.xml", rss_raw(&big));
    let dup_items = |n: usize| -> Vec<String> {
        (0..n)
            .map(|i| {
                format!("<item><title>Notice {i}</title><link>https://dup.example/{i}</link><guid>same-guid</guid></item>")
            })
            .collect()
    };
    server.set_feed("/dup.xml", rss_raw(&dup_items(3)));
    let no_ids = |n: usize| -> Vec<String> {
        (0..n)
            .map(|i| {
                format!(
                    "<item><title>Undated notice {i}</title><description>x</description></item>"
                )
            })
            .collect()
    };
    server.set_feed("/noids.xml", rss_raw(&no_ids(3)));
    server.set_behaviour(
        "/regen.xml",
        Behaviour::Generated(Arc::new(|n| {
            rss_raw(&[
                lady_r_raw(
                    Some(&format!("urn:uuid:{n}-a")),
                    "https://regen.example/a",
                    "Fri, 24 May 2024 10:00:00 GMT",
                ),
                lady_r_raw(
                    Some(&format!("urn:uuid:{n}-b")),
                    "https://regen.example/b",
                    "Thu, 23 May 2024 10:00:00 GMT",
                ),
            ])
            .into_bytes()
        })),
    );
    server.set_route(
        "/busy.xml",
        route(429, &[("Retry-After", "30")], Vec::new()),
    );
    server.set_route("/gone.xml", route(410, &[], b"gone".to_vec()));

    let cases: Vec<(&str, String)> = vec![
        ("healthy", local("/healthy.xml")),
        ("bomb", local("/bomb.xml")),
        ("endless", local("/endless.xml")),
        ("trickle", local("/trickle.xml")),
        ("loop", local("/loop-a")),
        ("metadata", local("/to-metadata")),
        ("laughs", local("/laughs.xml")),
        ("xxe", local("/xxe.xml")),
        ("html", local("/page.html")),
        ("latin1", local("/latin1.xml")),
        ("big", local("/big.xml")),
        ("dup", local("/dup.xml")),
        ("noids", local("/noids.xml")),
        ("regen", local("/regen.xml")),
        ("busy", via_localhost("/busy.xml")),
        ("gone", local("/gone.xml")),
    ];
    let mut rest = String::from("max_concurrent = 32\nmax_per_host = 32\n");
    for (id, url) in &cases {
        rest.push_str(&feed_section(id, url, "government", "1s"));
    }
    rest.push_str(VESSELS_WATCHLIST);
    // config_text opens [fetch]; the keys above land in it.
    let started = Instant::now();
    let app = open_app(dir.path(), &rest);
    // The healthy feeds publish similar items; each must be its own post here.
    handle_line(&app, &console_context(), "stories off");
    let (tx, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(run_poller(
        app.clone(),
        Fetcher::new(&app.config.fetch).unwrap(),
        rx,
    ));

    // Every well-behaved feed gets its baseline.
    for id in ["healthy", "latin1", "big", "dup", "noids", "regen"] {
        wait_until(&format!("{id} baselined"), Duration::from_secs(30), || {
            app.store.feed_state(id).unwrap().baselined
        })
        .await;
    }

    // Now the healthy feed publishes three times; each item must be posted within
    // a few poll intervals, while every hostile feed is being fetched beside it.
    let mut healthy_items = Vec::new();
    for round in 0..3 {
        let guid = format!("fresh-{round}");
        healthy_items.insert(0, lady_r_item(&guid));
        server.set_feed("/healthy.xml", rss(&healthy_items));
        let published = Instant::now();
        wait_until(
            &format!("healthy post {round}"),
            Duration::from_secs(5),
            || posts_for(&app, "healthy").len() == round + 1,
        )
        .await;
        eprintln!(
            "healthy item {round} posted {:?} after publication",
            published.elapsed()
        );
    }

    // The quirky but legitimate feeds publish one real item each.
    server.set_route(
        "/latin1.xml",
        route(
            200,
            &[("Content-Type", "application/rss+xml; charset=iso-8859-1")],
            latin1(
                b"<item><title>Stra\xdfe</title><guid>c1</guid><description>Officials sanctioned the Lady R in Stra\xdfburg.</description></item>",
            ),
        ),
    );
    let mut dup = dup_items(3);
    dup.insert(
        0,
        lady_r_raw(
            Some("same-guid"),
            "https://dup.example/new",
            "Sat, 25 May 2024 10:00:00 GMT",
        ),
    );
    server.set_feed("/dup.xml", rss_raw(&dup));
    let mut noids = no_ids(3);
    noids.insert(
        0,
        "<item><title>Lady R sanctioned</title><description>Officials sanctioned the Lady R.</description></item>".to_string(),
    );
    server.set_feed("/noids.xml", rss_raw(&noids));
    for id in ["latin1", "dup", "noids"] {
        wait_until(
            &format!("{id} posts its new item"),
            Duration::from_secs(10),
            || posts_for(&app, id).len() == 1,
        )
        .await;
    }
    assert!(posts_for(&app, "latin1")[0].contains("Straßburg"));

    // Let everything run a few more rounds: nothing may repost, and the hostile
    // feeds must have been tried more than once.
    wait_until("hostile feeds retried", Duration::from_secs(20), || {
        ["bomb", "endless", "trickle", "loop", "html"]
            .iter()
            .all(|id| app.store.feed_state(id).unwrap().consecutive_failures >= 2)
    })
    .await;
    assert!(
        server.requests("/regen.xml").len() >= 3,
        "regenerated guids were fetched again and again"
    );
    assert_eq!(
        posts_for(&app, "regen").len(),
        0,
        "regenerated guids repost nothing"
    );
    for id in ["latin1", "dup", "noids"] {
        assert_eq!(posts_for(&app, id).len(), 1, "{id} posted once");
    }
    assert_eq!(posts_for(&app, "healthy").len(), 3);
    assert_eq!(posts_for(&app, "big").len(), 0, "a baseline posts nothing");
    assert_eq!(app.store.feed_state("big").unwrap().new_items, 10_000);
    assert!(!poller.is_finished(), "the bot keeps running");

    let expectations: &[(&str, &[&str])] = &[
        ("healthy", &["— ok"]),
        ("bomb", &["body larger than 10485760 bytes"]),
        ("endless", &["body larger than 10485760 bytes"]),
        ("trickle", &["timed out"]),
        ("loop", &["redirect loop"]),
        (
            "metadata",
            &[
                "refused http://169.254.169.254/latest/meta-data/",
                "link-local",
            ],
        ),
        ("laughs", &["declares XML entities"]),
        ("xxe", &["declares XML entities"]),
        ("html", &["not a feed", "HTML page"]),
        ("latin1", &["— ok"]),
        ("big", &["— ok"]),
        ("dup", &["— ok", "items identified by link"]),
        ("noids", &["— ok"]),
        ("regen", &["— ok", "items identified by link"]),
        ("busy", &["HTTP 429"]),
        (
            "gone",
            &["— disabled", "410 Gone", "next poll: never (disabled)"],
        ),
    ];
    for (id, needles) in expectations {
        let report = feed_report(&app, id);
        for needle in *needles {
            assert!(
                report.contains(needle),
                "feed {id}: {needle:?} not in\n{report}"
            );
        }
        if !["healthy", "latin1", "big", "dup", "noids", "regen"].contains(id) {
            assert!(
                report.contains("backing off")
                    || report.contains("failing")
                    || report.contains("disabled"),
                "{report}"
            );
        }
        assert!(!report.contains("TOP-SECRET"), "{report}");
    }
    assert_eq!(
        server.requests("/gone.xml").len(),
        1,
        "a gone feed is not polled again"
    );
    // Retry-After: 30 is honoured up to max_backoff (3 s in tests), not the 1 s interval.
    let busy = server.requests("/busy.xml").len() as u64;
    assert!(
        busy <= started.elapsed().as_secs() / 3 + 1,
        "{busy} requests in {:?}",
        started.elapsed()
    );
    for (id, items) in [
        ("dup", 4),
        ("noids", 4),
        ("regen", 2),
        ("latin1", 2),
        ("healthy", 3),
    ] {
        assert_eq!(
            app.store.feed_state(id).unwrap().new_items,
            items,
            "{id}: every item counted new exactly once"
        );
    }
    eprintln!(
        "gzip bomb: {} compressed bytes sent for a declared {} bytes",
        server.bytes_sent("/bomb.xml"),
        1u64 << 30
    );

    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(15), poller)
        .await
        .expect("the poller stops on shutdown")
        .unwrap();
}

async fn poll(app: &Arc<App>, fetcher: &Fetcher, id: &str) {
    let feed = app.feed(id).unwrap().expect("feed exists");
    poll_feed(app, fetcher, &feed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_host_gets_at_most_two_requests_at_once_and_its_retry_after_holds_back_all_its_feeds() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut rest = String::new();
    for i in 0..6 {
        let path = format!("/slow-{i}.xml");
        server.set_feed(&path, rss(&[]));
        server.set_behaviour(
            &path,
            Behaviour::Delayed {
                delay: Duration::from_millis(400),
            },
        );
        rest.push_str(&feed_section(
            &format!("slow{i}"),
            &server.url(&path),
            "news",
            "1m",
        ));
    }
    // Two feeds of another host name: one asks everybody to wait.
    let other = |p: &str| server.url(p).replace("127.0.0.1", "localhost");
    server.set_route("/busy.xml", route(503, &[("Retry-After", "2")], Vec::new()));
    server.set_feed("/calm.xml", rss(&[]));
    server.set_behaviour(
        "/calm.xml",
        Behaviour::Delayed {
            delay: Duration::from_millis(300),
        },
    );
    rest.push_str(&feed_section("busy", &other("/busy.xml"), "news", "1s"));
    rest.push_str(&feed_section("calm", &other("/calm.xml"), "news", "1s"));
    let app = open_app(dir.path(), &rest);
    assert_eq!(app.config.fetch.max_per_host, 2, "the default cap");
    let (tx, rx) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(run_poller(
        app.clone(),
        Fetcher::new(&app.config.fetch).unwrap(),
        rx,
    ));
    wait_until("all slow feeds polled", Duration::from_secs(20), || {
        (0..6).all(|i| app.store.feed_state(&format!("slow{i}")).unwrap().baselined)
    })
    .await;
    wait_until("busy answered twice", Duration::from_secs(20), || {
        server.requests("/busy.xml").len() >= 2
    })
    .await;
    let first_503 = server.requests("/busy.xml")[0].at;
    wait_until(
        "calm polled again after the wait",
        Duration::from_secs(20),
        || {
            server
                .requests("/calm.xml")
                .iter()
                .any(|r| r.at > first_503 + Duration::from_millis(200))
        },
    )
    .await;
    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), poller)
        .await
        .unwrap()
        .unwrap();

    // 127.0.0.1 served six slow feeds, never more than two at once (the localhost
    // feeds add at most two more).
    assert!(
        server.peak_concurrency() <= 4,
        "peak {}",
        server.peak_concurrency()
    );
    let busy = server.requests("/busy.xml");
    let calm = server.requests("/calm.xml");
    // After the 503 with Retry-After: 2, neither feed of that host was asked
    // anything for two seconds.
    let first_503 = busy[0].at;
    let next_busy = busy[1].at;
    assert!(
        next_busy - first_503 >= Duration::from_millis(1900),
        "{:?}",
        next_busy - first_503
    );
    assert!(
        calm.iter()
            .any(|r| r.at > first_503 + Duration::from_millis(200)),
        "calm was polled again after the wait"
    );
    // (A calm request sent together with the first busy one was already on its way.)
    for r in calm
        .iter()
        .filter(|r| r.at > first_503 + Duration::from_millis(200))
    {
        assert!(
            r.at - first_503 >= Duration::from_millis(1900),
            "calm was fetched {:?} after the host said wait 2s",
            r.at - first_503
        );
    }
    assert!(feed_report(&app, "busy").contains("HTTP 503"));
}

#[tokio::test]
async fn permanent_redirects_move_the_feed_and_temporary_ones_do_not() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    server.set_feed("/new.xml", rss(&[Item::new("a", "Sanctions", "x")]));
    server.set_route(
        "/old.xml",
        route(301, &[("Location", "/new.xml")], Vec::new()),
    );
    server.set_route(
        "/cfg-old.xml",
        route(308, &[("Location", "/new.xml")], Vec::new()),
    );
    server.set_route(
        "/temp.xml",
        route(302, &[("Location", "/new.xml")], Vec::new()),
    );
    server.set_route(
        "/mixed.xml",
        route(307, &[("Location", "/old.xml")], Vec::new()),
    );
    let app = open_app(
        dir.path(),
        &format!(
            "allow_private = [\"127.0.0.1\"]\n{}",
            feed_section("cfg", &server.url("/cfg-old.xml"), "news", "1m")
        ),
    );
    let fetcher = Fetcher::new(&app.config.fetch).unwrap();
    for path in ["/old.xml", "/temp.xml", "/mixed.xml"] {
        let reply = handle_line(
            &app,
            &console_context(),
            &format!("feed add {}", server.url(path)),
        );
        assert!(reply.text.starts_with("Added feed"), "{}", reply.text);
    }
    let ids: Vec<(String, String)> = app
        .feeds()
        .unwrap()
        .into_iter()
        .map(|f| (f.id, f.url))
        .collect();
    let id_of = |path: &str| {
        ids.iter()
            .find(|(_, u)| u.ends_with(path))
            .map(|(id, _)| id.clone())
            .unwrap()
    };
    for id in [
        id_of("/old.xml"),
        id_of("/temp.xml"),
        id_of("/mixed.xml"),
        "cfg".into(),
    ] {
        poll(&app, &fetcher, &id).await;
        assert_eq!(
            app.store.feed_state(&id).unwrap().consecutive_failures,
            0,
            "{id}"
        );
    }
    let url_of = |id: &str| app.feed(id).unwrap().unwrap().url;
    assert!(
        url_of(&id_of("/old.xml")).ends_with("/new.xml"),
        "301 moves a command feed"
    );
    assert!(
        url_of(&id_of("/temp.xml")).ends_with("/temp.xml"),
        "302 does not"
    );
    assert!(
        url_of(&id_of("/mixed.xml")).ends_with("/mixed.xml"),
        "a chain with a 307 does not"
    );
    // The config feed polls the new URL and says the config should be updated.
    assert!(url_of("cfg").ends_with("/new.xml"));
    assert!(feed_report(&app, "cfg").contains("moved permanently from"));
    assert!(feed_report(&app, "cfg").contains("update the config file"));
    let before = server.requests("/cfg-old.xml").len();
    poll(&app, &fetcher, "cfg").await;
    assert_eq!(
        server.requests("/cfg-old.xml").len(),
        before,
        "the old URL is left alone"
    );
}

#[tokio::test]
async fn urls_reaching_private_addresses_are_refused_up_front_and_on_every_hop() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    server.set_feed(
        "/internal.xml",
        rss(&[Item::new("s", "secret", "internal data")]),
    );
    let to_loopback = server.url("/internal.xml");
    server.set_route(
        "/hop",
        route(302, &[("Location", to_loopback.as_str())], Vec::new()),
    );
    // Only the name "localhost" is allowed; its redirect to 127.0.0.1 is not.
    let app = open_app(dir.path(), "allow_private = [\"localhost\"]\n");
    for (url, why) in [
        (server.url("/internal.xml"), "loopback"),
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "link-local",
        ),
        ("http://[::ffff:10.0.0.1]/feed".to_string(), "private"),
        ("http://100.64.1.1/feed".to_string(), "CGNAT"),
        ("file:///etc/passwd".to_string(), "scheme"),
        ("gopher://example.org/".to_string(), "scheme"),
    ] {
        let reply = handle_line(&app, &console_context(), &format!("feed add {url}")).text;
        assert!(reply.starts_with("Cannot add that feed"), "{url}: {reply}");
        assert!(reply.contains(why), "{url}: {reply}");
    }
    let hop = server.url("/hop").replace("127.0.0.1", "localhost");
    let reply = handle_line(&app, &console_context(), &format!("feed add {hop}")).text;
    assert!(reply.starts_with("Added feed"), "{reply}");
    let id = app.feeds().unwrap()[0].id.clone();
    poll(&app, &Fetcher::new(&app.config.fetch).unwrap(), &id).await;
    let report = feed_report(&app, &id);
    assert!(report.contains("refused"), "{report}");
    assert!(
        report.contains("127.0.0.1 is a loopback address"),
        "{report}"
    );
    assert!(!report.contains("internal data"), "{report}");
    assert!(
        server.requests("/internal.xml").is_empty(),
        "never connected to the target"
    );
}

#[tokio::test]
async fn a_feed_that_starts_empty_gets_a_baseline_and_posts_its_first_real_item() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    server.set_feed("/e.xml", rss(&[]));
    let app = open_app(
        dir.path(),
        &format!(
            "allow_private = [\"127.0.0.1\"]\n{}{VESSELS_WATCHLIST}",
            feed_section("e", &server.url("/e.xml"), "government", "1m")
        ),
    );
    let fetcher = Fetcher::new(&app.config.fetch).unwrap();
    poll(&app, &fetcher, "e").await;
    poll(&app, &fetcher, "e").await;
    assert!(app.store.feed_state("e").unwrap().baselined);
    server.set_feed("/e.xml", rss(&[lady_r_item("first")]));
    poll(&app, &fetcher, "e").await;
    assert_eq!(
        posts_for(&app, "e").len(),
        1,
        "the first real item is posted"
    );
}

#[tokio::test]
async fn failure_notices_come_once_when_failing_too_long_and_once_on_recovery() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    server.set_status("/flaky.xml", 500);
    server.set_status("/gone.xml", 410);
    let app = open_app(
        dir.path(),
        &format!(
            "failure_notice_after = \"1s\"\n{}{}{VESSELS_WATCHLIST}",
            feed_section("flaky", &server.url("/flaky.xml"), "news", "1m"),
            feed_section("gone", &server.url("/gone.xml"), "news", "1m"),
        ),
    );
    let fetcher = Fetcher::new(&app.config.fetch).unwrap();
    let notices = |app: &App| -> Vec<String> {
        app.store
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|(_, e)| e.item_key.starts_with("notice:"))
            .map(|(_, e)| format!("{} {}", e.room_id, e.plain))
            .collect()
    };
    poll(&app, &fetcher, "flaky").await;
    assert!(notices(&app).is_empty(), "not yet failing for 1s");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..3 {
        poll(&app, &fetcher, "flaky").await;
    }
    let sent = notices(&app);
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].starts_with("console ⚠ Feed flaky"), "{}", sent[0]);
    assert!(sent[0].contains("HTTP 500"), "{}", sent[0]);
    server.set_feed("/flaky.xml", rss(&[]));
    poll(&app, &fetcher, "flaky").await;
    poll(&app, &fetcher, "flaky").await;
    let sent = notices(&app);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert!(sent[1].contains("working again"), "{}", sent[1]);

    poll(&app, &fetcher, "gone").await;
    poll(&app, &fetcher, "gone").await;
    let sent = notices(&app);
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert!(
        sent[2].contains("no longer polled") && sent[2].contains("410"),
        "{}",
        sent[2]
    );
    assert_eq!(server.requests("/gone.xml").len(), 1);
}
