//! Makes `tests/data/store-schema2.jsonl` with the schema-2 writer (run at commit
//! d4f8898): two rooms, a list made by command that both subscribe to, a feed added by
//! command in the first room, a config feed, both baselined, one item each posted
//! and delivered (the second room got the first room's feed's post, as schema 2 did).
use std::sync::Arc;

use sanctions_watch::app::App;
use sanctions_watch::commands::{CommandContext, handle_line};
use sanctions_watch::config::Config;
use sanctions_watch::feeds::fetch::Fetcher;
use sanctions_watch::poller::poll_feed;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The same document as the integration tests' `rss(&[lady_r_item(g), ...])`.
fn rss(guids: &[&str]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>Test feed</title><link>https://news.example/</link><description>d</description>\n",
    );
    for g in guids {
        out.push_str(&format!(
            "<item><title>South Korea sanctions North Korean nationals and two Russian ships</title><link>https://news.example/{g}</link><description>South Korea has sanctioned seven North Korean nationals. Ship tracking data and satellite imagery have revealed these two vessels, along with sister ships the Angara and Lady R, have ferried suspected arms shipments to Russia from North Korean ports. Japan announced its own measures.</description><pubDate>Sat, 25 May 2024 18:50:00 GMT</pubDate><guid isPermaLink=\"false\">{g}</guid></item>\n"
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

#[tokio::main]
async fn main() {
    let body = Arc::new(std::sync::Mutex::new(rss(&["old-1"])));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = body.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let b = served.lock().unwrap().clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(format!("HTTP/1.1 200 OK\r\ncontent-type: application/rss+xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{b}", b.len()).as_bytes()).await;
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "data_dir = \"{}\"\n[[feeds]]\nid = \"gov\"\nname = \"Gov\"\nurl = \"http://127.0.0.1:{port}/gov.xml\"\nkind = \"government\"\npoll_interval = \"1m\"\n",
        dir.path().display()
    );
    let (config, _) = Config::from_str_in(&text, dir.path()).unwrap();
    let app = App::open(config).unwrap();
    let room = |id: &str| CommandContext {
        room_id: id.into(),
        sender: format!("@{}", &id[1..]),
        may_change: true,
        refusal: String::new(),
    };
    let (a, b) = (room("!alpha:example.org"), room("!bravo:example.org"));
    for (ctx, line) in [
        (&a, "watch add desk \"Lady R\" vessel".to_string()),
        (&a, "subscribe desk".to_string()),
        (&b, "subscribe desk".to_string()),
        (&a, format!("feed add http://127.0.0.1:{port}/room.xml government")),
    ] {
        println!("{} > {line}\n{}", ctx.room_id, handle_line(&app, ctx, &line).text);
    }
    let fetcher = Fetcher::new(&app.config.fetch).unwrap();
    let poll_all = || async {
        for id in ["gov", "127-0-0-1"] {
            let feed = app.feed(id).unwrap().unwrap();
            poll_feed(&app, &fetcher, &feed).await;
        }
    };
    poll_all().await;
    *body.lock().unwrap() = rss(&["new-1", "old-1"]);
    poll_all().await;
    for (id, entry) in app.store.outbox().unwrap() {
        println!("posted to {} from {}: {}", entry.room_id, entry.feed_id, entry.plain.lines().next().unwrap());
        app.store.record_delivered(&entry.txn_id, Some(&format!("$event-{id}"))).unwrap();
        app.store.remove_outbox(id).unwrap();
    }
    let out_path = std::env::args().nth(1).expect("output path");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&out_path).unwrap());
    let n = sanctions_watch::store::backup::export(&app.store, &mut out, |_| {}).unwrap();
    println!("exported {n} records to {out_path}");
}
