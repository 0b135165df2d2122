//! Running it as a service: state export/import/check, the metrics and health
//! endpoint, config reload on SIGHUP, JSON logs, and the systemd unit. Drives the real
//! binary against feeds served on 127.0.0.1.

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::console::{BIN, Console};
use crate::support::feed_server::FeedServer;
use crate::support::*;

fn write_config(dir: &Path, name: &str, data_dir: &str, rest: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, config_text(&dir.join(data_dir), rest)).unwrap();
    path
}

fn sw(args: &[&str], config: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap()
}

/// A plain GET on 127.0.0.1; returns (status, body).
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_import_give_a_bot_that_does_not_repost() {
    let server = FeedServer::start().await;
    server.set_feed(
        "/gov.xml",
        rss(&[Item::new("a", "Designations", "Routine update.")]),
    );
    let dir = tempfile::tempdir().unwrap();
    let rest = format!(
        "{}{VESSELS_WATCHLIST}",
        feed_section("gov", &server.url("/gov.xml"), "government", "1s")
    );
    let first = write_config(dir.path(), "a.toml", "a", &rest);

    let mut console = Console::start(&first);
    console.wait_feed_ok("gov").await;
    server.set_feed(
        "/gov.xml",
        rss(&[
            lady_r_item("posted"),
            Item::new("a", "Designations", "Routine update."),
        ]),
    );
    console.expect("https://news.example/posted").await;
    console.send("quit").await;
    assert!(console.child.wait().await.unwrap().success());

    let backup = dir.path().join("backup.jsonl");
    let out = sw(&["state", "export", backup.to_str().unwrap()], &first);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported"));
    let check = sw(&["state", "check"], &first);
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(
        // Two items, each remembered under its guid, link and title-date keys.
        report.contains("seen: 6") && report.contains("no problems found"),
        "{report}"
    );

    let second = write_config(dir.path(), "b.toml", "b", &rest);
    let out = sw(&["state", "import", backup.to_str().unwrap()], &second);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = sw(&["state", "import", backup.to_str().unwrap()], &second);
    assert!(
        !again.status.success(),
        "import only goes into an empty store"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    // The restored bot knows what it has seen and posted, and keeps working.
    let mut restored = Console::start(&second);
    restored.wait_feed_ok("gov").await;
    restored.send("watchlists").await;
    restored
        .expect("• vessels — 2 names (operator list) · this room is subscribed")
        .await;
    server.set_feed(
        "/gov.xml",
        rss(&[
            lady_r_item("fresh"),
            lady_r_item("posted"),
            Item::new("a", "Designations", "Routine update."),
        ]),
    );
    restored.expect("https://news.example/fresh").await;
    restored.send("quit").await;
    assert!(restored.child.wait().await.unwrap().success());
    let output = restored.output.lock().unwrap().clone();
    assert!(
        !output.contains("https://news.example/posted"),
        "no repost after import:\n{output}"
    );
}

/// The export holds room ids, lists and queued posts: only its owner may read it,
/// even when the file existed before with a wider mode.
#[cfg(unix)]
#[test]
fn state_export_writes_an_owner_only_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "c.toml", "state", "");
    sanctions_watch::store::Store::open(&dir.path().join("state"))
        .unwrap()
        .flush_blocking()
        .unwrap();
    let backup = dir.path().join("backup.jsonl");
    for existing in [false, true] {
        if existing {
            std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let out = sw(&["state", "export", backup.to_str().unwrap()], &config);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode, 0o600,
            "export mode {mode:o} (file existed: {existing})"
        );
    }
}

#[test]
fn state_check_names_problems_and_refuses_a_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "c.toml", "state", "");
    let out = sw(&["state", "check"], &config);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no store"));
    {
        let store = sanctions_watch::store::Store::open(&dir.path().join("state")).unwrap();
        store
            .insert_raw("watch_entries", b"ghosts\0casper", b"{not json")
            .unwrap();
        store.subscribe("!room:example.org", "nowhere").unwrap();
        store.flush_blocking().unwrap();
    }
    let out = sw(&["state", "check"], &config);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{report}");
    assert!(
        report.contains("watch_entries ghosts/casper: cannot be decoded"),
        "{report}"
    );
    assert!(report.contains("belongs to no watchlist"), "{report}");
    assert!(
        report.contains("subscribes to missing watchlist \"nowhere\""),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_live_and_ready_are_served_on_loopback() {
    let server = FeedServer::start().await;
    server.set_feed(
        "/gov.xml",
        rss(&[Item::new("a", "Designations", "Routine update.")]),
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        "m.toml",
        "state",
        &format!(
            "{}{VESSELS_WATCHLIST}\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n",
            feed_section("gov", &server.url("/gov.xml"), "government", "1s")
        ),
    );
    let mut console = Console::start(&config);
    console.wait_feed_ok("gov").await;
    server.set_feed(
        "/gov.xml",
        rss(&[
            lady_r_item("m1"),
            Item::new("a", "Designations", "Routine update."),
        ]),
    );
    console.expect("https://news.example/m1").await;

    let (status, body) = tokio::task::spawn_blocking(move || get(port, "/metrics"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    for expected in [
        "sanctions_watch_feeds{state=\"ok\"} 1",
        "sanctions_watch_items_new_total 2",
        "sanctions_watch_items_matched_total 1",
        "sanctions_watch_posts_sent_total 1",
        "sanctions_watch_outbox_depth 0",
        "sanctions_watch_fetch_duration_seconds_count",
        "sanctions_watch_post_latency_seconds_bucket{le=\"+Inf\"} 1",
        "sanctions_watch_ready 1",
    ] {
        assert!(body.contains(expected), "{expected} missing from:\n{body}");
    }
    assert!(
        body.contains("sanctions_watch_fetches_total{result=\"ok\"}"),
        "{body}"
    );
    let (live, _) = tokio::task::spawn_blocking(move || get(port, "/live"))
        .await
        .unwrap();
    let (ready, text) = tokio::task::spawn_blocking(move || get(port, "/ready"))
        .await
        .unwrap();
    assert_eq!((live, ready), (200, 200), "{text}");
    let (missing, _) = tokio::task::spawn_blocking(move || get(port, "/nope"))
        .await
        .unwrap();
    assert_eq!(missing, 404);
    console.send("quit").await;
    assert!(console.child.wait().await.unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_feeds_and_watchlists_and_keeps_running() {
    let server = FeedServer::start().await;
    server.set_feed("/one.xml", rss(&[]));
    server.set_feed("/two.xml", rss(&[]));
    let dir = tempfile::tempdir().unwrap();
    let one = feed_section("one", &server.url("/one.xml"), "government", "1s");
    let config = write_config(
        dir.path(),
        "h.toml",
        "state",
        &format!("{one}{VESSELS_WATCHLIST}"),
    );
    let mut console = Console::start(&config);
    console.wait_feed_ok("one").await;

    let two = feed_section("two", &server.url("/two.xml"), "government", "1s");
    let extra_entry = "\n[[watchlists.entries]]\nname = \"Angara\"\nkind = \"vessel\"\n";
    write_config(
        dir.path(),
        "h.toml",
        "state",
        &format!("{one}{two}{VESSELS_WATCHLIST}{extra_entry}"),
    );
    let pid = console.child.id().unwrap();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    console.wait_feed_ok("two").await;
    console.send("watch show vessels").await;
    console.expect("• Angara (vessel)").await;

    // A broken config on reload is refused and the bot keeps its running config.
    std::fs::write(&config, "this is = = not toml").unwrap();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    console.send("feeds").await;
    let feeds = console.expect("next poll: in").await;
    assert!(
        console.child.try_wait().unwrap().is_none(),
        "the bot keeps running: {feeds}"
    );
    console.send("quit").await;
    assert!(console.child.wait().await.unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line() {
    let server = FeedServer::start().await;
    server.set_feed(
        "/gov.xml",
        rss(&[Item::new("a", "Designations", "Routine update.")]),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "j.toml",
        "state",
        &format!(
            "{}\n[logging]\nlevel = \"info\"\n",
            feed_section("gov", &server.url("/gov.xml"), "government", "1s")
        ),
    );
    let mut child = tokio::process::Command::new(BIN)
        .args(["console", "--log-format", "json", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Let it poll once, then end its input.
    for _ in 0..100 {
        if !server.requests("/gov.xml").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(child.stdin.take());
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with('{')).collect();
    assert!(!log_lines.is_empty(), "no JSON log lines in:\n{stderr}");
    for line in &log_lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            value["level"].is_string() && value["fields"].is_object(),
            "{line}"
        );
    }
    assert!(
        log_lines
            .iter()
            .any(|l| l.contains("feed polled") && l.contains("\"feed\":\"gov\"")),
        "{stderr}"
    );
}

#[test]
fn the_systemd_unit_verifies() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contrib/sanctions-watch.service"
    ))
    .unwrap();
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "StateDirectory=sanctions-watch",
        "User=sanctions-watch",
    ] {
        assert!(unit.contains(hardening), "the unit lacks {hardening}");
    }
    let Ok(which) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed here; only the unit's keys were checked");
        return;
    };
    assert!(which.status.success());
    // Verify a copy that points at the binary just built (verify checks ExecStart exists).
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sanctions-watch.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/sanctions-watch", BIN)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains("sanctions-watch.service:"),
        "{stderr}"
    );
}
