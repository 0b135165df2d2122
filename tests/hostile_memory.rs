//! Peak memory while the bot fetches hostile bodies: a gzip bomb (1 GiB of
//! whitespace compressed to a few kilobytes), an endless chunked body, a 10,000-item
//! feed, a 10 MiB body of empty items and a billion laughs. Each is polled in turn by
//! the real poll path, and the process's peak resident set (VmHWM) must grow by far
//! less than the bodies could expand to. Its own test binary, so no other test's
//! allocations share the process.

#[path = "it/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use sanctions_watch::app::App;
use sanctions_watch::config::Config;
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::poller::poll_feed;
use support::feed_server::{Behaviour, FeedServer};
use support::*;

/// A `/proc/self/status` field in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_memory_stays_bounded_while_fetching_bombs() {
    let server = FeedServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    server.set_feed("/warm.xml", rss(&[Item::new("w", "Warm-up", "x")]));
    server.set_behaviour("/bomb.xml", Behaviour::GzipBomb { expanded: 1 << 30 });
    server.set_behaviour("/endless.xml", Behaviour::EndlessChunked);
    let big: String = (0..10_000)
        .map(|i| format!("<item><title>Item {i}</title><guid>big-{i}</guid><description>Routine notice number {i} about nothing in particular.</description></item>"))
        .collect();
    server.set_feed(
        "/big.xml",
        format!("<rss version=\"2.0\"><channel><title>t</title>{big}</channel></rss>"),
    );
    let mut tiny = String::from("<rss version=\"2.0\"><channel><title>t</title>");
    while tiny.len() < 10 * 1024 * 1024 - 64 {
        tiny.push_str("<item/>");
    }
    tiny.push_str("</channel></rss>");
    server.set_feed("/tiny.xml", tiny);
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">");
    for i in 1..10 {
        laughs.push_str(&format!(
            "<!ENTITY {} \"{}\">",
            (b'a' + i) as char,
            format!("&{};", (b'a' + i - 1) as char).repeat(10)
        ));
    }
    laughs.push_str("]><rss version=\"2.0\"><channel><title>t</title><item><title>&j;</title></item></channel></rss>");
    server.set_feed("/laughs.xml", laughs);

    let ids = ["warm", "bomb", "endless", "big", "tiny", "laughs"];
    let mut rest = String::new();
    for id in ids {
        rest.push_str(&feed_section(
            id,
            &server.url(&format!("/{id}.xml")),
            "news",
            "1m",
        ));
    }
    let text = config_text(dir.path(), &rest);
    let (config, _) = Config::from_str_in(&text, dir.path()).unwrap();
    let app: Arc<App> = App::open(config).unwrap();
    let fetcher = Fetcher::new(&app.config.fetch).unwrap();

    let poll = |id: &'static str| {
        let (app, fetcher) = (app.clone(), fetcher.clone());
        async move {
            let feed = app.feed(id).unwrap().unwrap();
            tokio::time::timeout(Duration::from_secs(30), poll_feed(&app, &fetcher, &feed))
                .await
                .expect("a poll ends within its deadline");
        }
    };
    poll("warm").await;
    let baseline = status_kib("VmHWM:");
    eprintln!("VmHWM after warm-up: {baseline} KiB");
    let mut peak = baseline;
    let mut bomb_peak = baseline;
    for id in &ids[1..] {
        poll(id).await;
        let hwm = status_kib("VmHWM:");
        let state = app.store.feed_state(id).unwrap();
        eprintln!(
            "{id:>8}: VmHWM {hwm} KiB (+{} KiB over warm-up), VmRSS {} KiB; result: {}",
            hwm - baseline,
            status_kib("VmRSS:"),
            state.last_error.as_deref().unwrap_or("ok")
        );
        peak = peak.max(hwm);
        if ["bomb", "endless"].contains(id) {
            bomb_peak = bomb_peak.max(hwm);
        }
    }
    for id in ["bomb", "endless"] {
        let err = app.store.feed_state(id).unwrap().last_error.unwrap();
        assert!(err.contains("body larger than"), "{id}: {err}");
    }
    assert!(
        app.store
            .feed_state("tiny")
            .unwrap()
            .last_error
            .unwrap()
            .contains("items in one document")
    );
    assert!(
        app.store
            .feed_state("laughs")
            .unwrap()
            .last_error
            .unwrap()
            .contains("XML entities")
    );
    assert_eq!(app.store.feed_state("big").unwrap().new_items, 10_000);
    // A 1 GiB expansion was possible; the cap is 10 MiB. Allow the capped body, its
    // buffer growth, the 10,000 parsed items and allocator slack, nothing like 1 GiB.
    let bomb_growth_mib = (bomb_peak - baseline) / 1024;
    eprintln!("peak growth during the gzip bomb and the endless body: {bomb_growth_mib} MiB");
    assert!(
        bomb_growth_mib < 32,
        "a 10 MiB cap must keep the bombs flat, grew {bomb_growth_mib} MiB"
    );
    let growth_mib = (peak - baseline) / 1024;
    eprintln!("peak growth over warm-up: {growth_mib} MiB");
    // Dominated by the 10,000-item feed: its parsed items, their seen keys in one sled
    // transaction and the recent-items index for `search` (about 170 MiB in a debug
    // build). Bounded, but worth shrinking; the bombs above are the flat part.
    assert!(growth_mib < 256, "peak memory grew by {growth_mib} MiB");
}
