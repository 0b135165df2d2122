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
        post.contains("• Maia-1: “The vessels included Russian cargo ships the Maia-1 and Maria.”\nOn watchlist vessels."),
        "{post}"
    );

    console.send("status").await;
    console.expect("posts for this room: 0 waiting").await;

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
        .expect("• vessels — 1 name (operator list) · this room is subscribed")
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

/// Ctrl-C and SIGTERM stop the console while its standard input stays open, with no
/// further input: a read of stdin waiting for a line held the runtime's shutdown,
/// so the bot said "shutting down" and ran on until Enter was pressed.
#[tokio::test]
async fn sigint_and_sigterm_stop_the_console_while_stdin_stays_open() {
    for signal in ["INT", "TERM"] {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, config_text(&dir.path().join("state"), "")).unwrap();
        let mut console = Console::start(&config);
        console.expect("sanctions-watch console").await;
        console.send("help").await;
        console.expect("test <text>").await;
        let pid = console.child.id().expect("the console runs");
        let sent = std::time::Instant::now();
        let killed = std::process::Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success(), "kill -{signal} {pid} failed");
        let status = tokio::time::timeout(Duration::from_secs(10), console.child.wait())
            .await
            .unwrap_or_else(|_| panic!("SIG{signal}: the console still runs 10 s later"))
            .unwrap();
        println!(
            "SIG{signal}: the console exited ({status}) {:.2} s after the signal, stdin still open",
            sent.elapsed().as_secs_f64()
        );
        assert!(
            status.success(),
            "SIG{signal}: the console exited with {status}"
        );
        assert!(console.stdin.is_some(), "stdin stayed open throughout");
    }
}

/// The worked example (the seed article, as an item of a news feed) reaches the
/// console as one post that reads in one glance: each quoted sentence once, the
/// names of one sentence together, Lady R named once with both lists that hold it.
#[tokio::test]
async fn the_seed_article_is_one_short_post_that_quotes_each_sentence_once() {
    let article = std::fs::read_to_string(seed_article_path()).unwrap();
    let (title, body) = article.split_once('\n').unwrap();
    let server = FeedServer::start().await;
    server.set_feed("/news.xml", rss(&[]));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let lists = r#"
[[watchlists]]
name = "starter"
subscribers = ["console"]
[[watchlists.entries]]
name = "Maia-1"
kind = "vessel"
[[watchlists.entries]]
name = "Maria"
kind = "vessel"
[[watchlists.entries]]
name = "Angara"
kind = "vessel"
[[watchlists.entries]]
name = "Lady R"
kind = "vessel"
[[watchlists.entries]]
name = "Kim Jong Un"
kind = "person"

[[watchlists]]
name = "vessels"
subscribers = ["console"]
[[watchlists.entries]]
name = "Lady R"
kind = "vessel"
"#;
    std::fs::write(
        &config,
        config_text(
            &dir.path().join("state"),
            &format!(
                "{}{lists}",
                feed_section("news", &server.url("/news.xml"), "news", "1s")
            ),
        ),
    )
    .unwrap();
    let mut console = Console::start(&config);
    console.expect("sanctions-watch console").await;
    console.wait_feed_ok("news").await;
    server.set_feed(
        "/news.xml",
        rss(&[Item {
            guid: "seed",
            title,
            description: body.trim(),
            date: "Sat, 25 May 2024 09:50:00 GMT",
        }]),
    );
    let output = console.expect("https://news.example/seed").await;
    let post = &output[output.find("Sanctions watch:").expect("a post")..];
    println!("{post}\n({} characters)", post.chars().count());
    assert_eq!(output.matches("Sanctions watch:").count(), 1, "{output}");
    assert!(
        post.chars().count() < 1200,
        "{} characters",
        post.chars().count()
    );
    assert!(
        post.contains("• Angara (starter), Lady R (starter, vessels): “"),
        "{post}"
    );
    assert_eq!(post.matches("Lady R (").count(), 1, "{post}");
    assert!(post.contains("• Maia-1 (starter), Maria (starter): “The vessels hit with South Korean sanctions included Russian cargo ships the Maia-1 and Maria.”"), "{post}");
    // Every quoted sentence appears once in the whole post.
    let quotes: Vec<&str> = post
        .lines()
        .filter(|l| l.starts_with("• "))
        .filter_map(|l| l.split_once(": “").map(|(_, q)| q.trim_end_matches('”')))
        .collect();
    assert!(quotes.len() >= 2, "{post}");
    for q in quotes {
        let probe: String = q.trim_matches('…').chars().take(60).collect();
        assert_eq!(
            post.matches(probe.as_str()).count(),
            1,
            "{probe:?} in {post}"
        );
    }
}
