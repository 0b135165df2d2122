//! Drives the real `sanctions-watch console` binary through its stdin: commands in,
//! replies and posts out, against a feed served on 127.0.0.1; then `check-config`.

use std::time::Duration;

use crate::support::console::{BIN, Console};
use crate::support::feed_server::FeedServer;
use crate::support::*;

#[tokio::test]
async fn console_takes_commands_on_stdin_and_prints_posts() {
    let server = FeedServer::start().await;
    server.set_feed(
        "/gov.xml",
        rss(&[Item::new("a", "Designations", "Routine update.")]),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        config_text(
            &dir.path().join("state"),
            &feed_section("gov", &server.url("/gov.xml"), "government", "1s"),
        ),
    )
    .unwrap();

    let mut console = Console::start(&config);
    console.expect("sanctions-watch console").await;

    console.send("help").await;
    console.expect("test <text>").await;

    console
        .send("!sw watch add vessels \"Maia-1\" vessel \"Maia One\"")
        .await;
    console
        .expect("Watching Maia-1 (vessel) on vessels, also known as Maia One.")
        .await;
    console.send("subscribe vessels").await;
    console.expect("Subscribed").await;
    console.send("watch show vessels").await;
    console.expect("• Maia-1 (vessel) — also Maia One").await;
    console.send("test The cargo ship MAIA 1 left port.").await;
    console
        .expect("1 hit:\n• Maia-1 (vessel, watchlist vessels) matched “MAIA 1”")
        .await;

    console.send("frobnicate").await;
    console
        .expect("Unknown command \"frobnicate\". Try `help`.")
        .await;
    console.send("watch add vessels Lady R vessel").await;
    console.expect("is not a kind").await;
    console.send("subscribe").await;
    console.expect("Usage: subscribe <list>").await;

    console.wait_feed_ok("gov").await;
    server.set_feed(
        "/gov.xml",
        rss(&[
            Item::new(
                "b",
                "Seoul names ships",
                "South Korea acted today. The vessels included Russian cargo ships the Maia-1 and Maria. Japan followed.",
            ),
            Item::new("a", "Designations", "Routine update."),
        ]),
    );
    let post = console.expect("https://news.example/b").await;
    assert!(
        post.contains("Sanctions watch: Seoul names ships"),
        "{post}"
    );
    assert!(
        post.contains("• Maia-1 (vessel, watchlist vessels): “The vessels included Russian cargo ships the Maia-1 and Maria.”"),
        "{post}"
    );

    console.send("status").await;
    console.expect("outbox: 0 waiting").await;

    // End of input stops the bot cleanly.
    console.stdin.take();
    let status = tokio::time::timeout(Duration::from_secs(15), console.child.wait())
        .await
        .expect("console exits after end of input")
        .unwrap();
    assert!(status.success(), "{status}");
    let out = console.output.lock().unwrap().clone();
    assert_eq!(
        out.matches("Sanctions watch: Seoul names ships").count(),
        1,
        "posted once:\n{out}"
    );

    // A restart on the same store posts nothing again and keeps the watchlist.
    let mut again = Console::start(&config);
    again.expect("sanctions-watch console").await;
    again.wait_feed_ok("gov").await;
    again.send("watchlists").await;
    again
        .expect("• vessels — 1 name (this room is subscribed)")
        .await;
    again.send("quit").await;
    let status = tokio::time::timeout(Duration::from_secs(15), again.child.wait())
        .await
        .expect("console exits on quit")
        .unwrap();
    assert!(status.success());
    assert!(
        !again.output.lock().unwrap().contains("Sanctions watch:"),
        "no repost after restart"
    );
}

#[test]
fn check_config_reports_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "command_prefix = \"!sw\"\n[[feeds]]\nid = \"a\"\nurl = \"gopher://x\"\nkind = \"news\"\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 4") && stderr.contains("feeds[0].url"),
        "{stderr}"
    );

    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml.example");
    let out = std::process::Command::new(BIN)
        .args(["check-config", "--config", example])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK — 5 feeds, 1 watchlist"));
}

#[test]
fn run_without_a_matrix_section_says_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, config_text(&dir.path().join("state"), "")).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["run", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[matrix]") && stderr.contains("homeserver"),
        "{stderr}"
    );
}
