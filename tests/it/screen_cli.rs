//! The `screen` and `watchlist import` commands, run as the real binary.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sanctions-watch"))
}

fn data(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/screening/tests/data")
        .join(file)
        .display()
        .to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn screen_prints_one_json_object_per_hit_with_exact_keys_and_offsets() {
    let article = crate::support::seed_article_path().display().to_string();
    let out = bin()
        .args(["screen", "--watchlist", &data("watchlist.csv"), &article])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&article).unwrap();
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|l| l["entity_id"].as_str().unwrap())
        .collect();
    for id in ["maia-1", "maria", "angara", "lady-r", "kim-jong-un"] {
        assert!(ids.contains(id), "{id} missing from {ids:?}");
    }
    for l in &lines {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [
                "document",
                "end",
                "entity_id",
                "matched_text",
                "name",
                "reason",
                "score",
                "start"
            ]
        );
        assert_eq!(l["document"], article.as_str());
        let (start, end) = (
            l["start"].as_u64().unwrap() as usize,
            l["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[start..end], l["matched_text"].as_str().unwrap());
        let score = l["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
    }
}

#[test]
fn screen_reads_stdin_and_prints_nothing_without_hits() {
    let mut child = bin()
        .args(["screen", "--watchlist", &data("watchlist.csv"), "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Nothing to see here.")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
}

#[test]
fn screen_fails_clearly_on_missing_or_malformed_files() {
    let out = bin()
        .args([
            "screen",
            "--watchlist",
            &data("watchlist.csv"),
            "/nonexistent/doc.txt",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("/nonexistent/doc.txt"),
        "{}",
        stderr(&out)
    );

    let out = bin()
        .args([
            "screen",
            "--watchlist",
            "/nonexistent/list.csv",
            &data("cases.txt"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("/nonexistent/list.csv"),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "name,kind\nMaria,submarine-ish\n").unwrap();
    let out = bin()
        .args([
            "screen",
            "--watchlist",
            bad.to_str().unwrap(),
            &data("cases.txt"),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
}

#[test]
fn import_is_idempotent_and_reports_skipped_rows() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "data_dir = \"state\"\n").unwrap();
    let list = dir.path().join("list.jsonl");
    std::fs::write(
        &list,
        concat!(
            r#"{"id":"v1","schema":"Vessel","properties":{"name":["Angara"],"imoNumber":["9179484"]}}"#,
            "\n",
            r#"{"id":"a1","schema":"Address","properties":{"full":["Somewhere"]}}"#,
            "\n",
            r#"{"id":"p1","schema":"Person","properties":{"name":["Kim Jong Un"],"alias":["김정은"]}}"#,
            "\n"
        ),
    )
    .unwrap();
    let import = || {
        bin()
            .args([
                "--config",
                config.to_str().unwrap(),
                "watchlist",
                "import",
                "sanctions",
                list.to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let first = import();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("2 new, 0 updated, 0 unchanged"),
        "{}",
        stdout(&first)
    );
    assert!(
        stderr(&first).contains("line 2: skipped"),
        "{}",
        stderr(&first)
    );
    let second = import();
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("0 new, 0 updated, 2 unchanged"),
        "{}",
        stdout(&second)
    );
    assert!(
        stdout(&second).contains("now has 2 entries"),
        "{}",
        stdout(&second)
    );
}

#[test]
fn import_says_so_when_a_running_bot_holds_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "data_dir = \"state\"\n").unwrap();
    let list = dir.path().join("list.csv");
    std::fs::write(&list, "name,kind\nMaria,vessel\n").unwrap();
    let _held = sanctions_watch::store::Store::open(&dir.path().join("state")).unwrap();
    let out = bin()
        .args([
            "--config",
            config.to_str().unwrap(),
            "watchlist",
            "import",
            "ships",
            list.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("locked by a running sanctions-watch bot"),
        "{}",
        stderr(&out)
    );
}
