//! Test support shared by the integration tests: a real HTTP feed server on
//! 127.0.0.1, fixture feed builders and config helpers. (Each test binary uses only
//! some of it.)
#![allow(dead_code)]

pub mod console;
pub mod feed_server;
pub mod matrix;
pub mod synapse;

use std::path::Path;
use std::sync::Arc;

use sanctions_watch::app::App;
use sanctions_watch::config::Config;
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::poller::poll_feed;

/// Opens an app (and its store) in `data_dir` with [`config_text`] and `rest`.
pub fn open_app(data_dir: &Path, rest: &str) -> Arc<App> {
    let text = config_text(data_dir, rest);
    let (config, _) = Config::from_str_in(&text, data_dir).expect("test config");
    App::open(config).expect("open store")
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
