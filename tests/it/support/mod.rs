//! Test support shared by the integration tests: a real HTTP feed server on
//! 127.0.0.1, fixture feed builders and config helpers, the console's command context,
//! waiting for a condition, free ports and the seed article. (`tests/hostile_memory.rs`
//! and the budget benchmark use only some of it.)
#![allow(dead_code)]

pub mod console;
pub mod feed_server;
pub mod matrix;
pub mod synapse;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sanctions_watch::app::App;
use sanctions_watch::commands::CommandContext;
use sanctions_watch::config::Config;
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::poller::poll_feed;
use sanctions_watch::store::StoreError;

/// The console's command context: a sender who may change things.
pub fn console_context() -> CommandContext {
    CommandContext {
        room_id: "console".into(),
        sender: "tester".into(),
        may_change: true,
        refusal: String::new(),
        operator: true,
    }
}

/// Waits until `condition` holds, checking every 50 ms; fails naming `what` after
/// `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The worked example: the seed article, kept with the screening crate's labelled
/// cases (`crates/screening/tests/data/`) so that crate's tests stand alone.
pub fn seed_article_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/screening/tests/data/seed-article-2024-05-25.txt")
}

/// Opens an app (and its store) in `data_dir` with [`config_text`] and `rest`.
///
/// A test that reopens a store it just closed may find it still locked for a moment,
/// while sled's background threads finish with the closed handle (longer while other
/// tests keep the machine busy). A new process never sees that, so this waits for
/// it, up to 10 s.
pub fn open_app(data_dir: &Path, rest: &str) -> Arc<App> {
    let text = config_text(data_dir, rest);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (config, _) = Config::from_str_in(&text, data_dir).expect("test config");
        match App::open(config) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result.expect("open store"),
        }
    }
}

/// Polls feed `id` once, as the poller would.
pub async fn poll(app: &Arc<App>, id: &str) {
    let fetcher = Fetcher::new(&app.config.fetch).unwrap();
    let feed = app.feed(id).unwrap().expect("feed exists");
    poll_feed(app, &fetcher, &feed).await;
}

/// One RSS item for [`rss`].
pub struct Item<'a> {
    pub guid: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub date: &'a str,
}

impl<'a> Item<'a> {
    pub fn new(guid: &'a str, title: &'a str, description: &'a str) -> Item<'a> {
        Item {
            guid,
            title,
            description,
            date: "Fri, 24 May 2024 14:30:00 GMT",
        }
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An RSS 2.0 document with `items`, newest first.
pub fn rss(items: &[Item]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>Test feed</title><link>https://news.example/</link><description>d</description>\n",
    );
    for i in items {
        out.push_str(&format!(
            "<item><title>{}</title><link>https://news.example/{}</link><description>{}</description><pubDate>{}</pubDate><guid isPermaLink=\"false\">{}</guid></item>\n",
            xml_escape(i.title),
            i.guid,
            xml_escape(i.description),
            i.date,
            i.guid
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

/// The sentence the tests expect to be quoted for Lady R.
pub const LADY_R_SENTENCE: &str = "Ship tracking data and satellite imagery have revealed these two vessels, along with sister ships the Angara and Lady R, have ferried suspected arms shipments to Russia from North Korean ports.";

/// An item naming Lady R in a sentence among others.
pub fn lady_r_item(guid: &str) -> Item<'static> {
    Item {
        guid: Box::leak(guid.to_string().into_boxed_str()),
        title: "South Korea sanctions North Korean nationals and two Russian ships",
        description: Box::leak(
            format!(
                "South Korea has sanctioned seven North Korean nationals. {LADY_R_SENTENCE} Japan announced its own measures."
            )
            .into_boxed_str(),
        ),
        date: "Sat, 25 May 2024 18:50:00 GMT",
    }
}

/// A watchlist section for configs: list `vessels` with Lady R and Maia-1, subscribed
/// by `console`.
pub const VESSELS_WATCHLIST: &str = r#"
[[watchlists]]
name = "vessels"
subscribers = ["console"]

[[watchlists.entries]]
name = "Lady R"
kind = "vessel"

[[watchlists.entries]]
name = "Maia-1"
kind = "vessel"
"#;

/// A `[[feeds]]` section.
pub fn feed_section(id: &str, url: &str, kind: &str, interval: &str) -> String {
    format!(
        "\n[[feeds]]\nid = \"{id}\"\nurl = \"{url}\"\nkind = \"{kind}\"\npoll_interval = \"{interval}\"\n"
    )
}

/// Config text with the data dir, fetch limits suited to tests, and `rest`.
pub fn config_text(data_dir: &Path, rest: &str) -> String {
    format!(
        "data_dir = \"{}\"\n[fetch]\ntimeout = \"5s\"\nconnect_timeout = \"2s\"\nmax_backoff = \"3s\"\n{rest}",
        data_dir.display()
    )
}
