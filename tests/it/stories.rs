//! Story grouping measured on a labelled set (`tests/data/stories/labelled-items.jsonl`):
//! realistic feed items — government releases and the wire and news rewrites of the
//! same announcements, with near-misses (the same names on other days, the same
//! authority with another action the same day, two authorities acting the same day
//! on the same topic). Each item carries an `event` label; every pair of items is a
//! labelled pair (same event = same story). The test reports pairwise precision and
//! recall of the grouping and fails below 0.9. Also drives the `stories` command.

use std::collections::HashMap;
use std::process::Command;

use sanctions_watch::story_file::group_jsonl;

const LABELLED: &str = include_str!("../data/stories/labelled-items.jsonl");

fn labels() -> Vec<(String, String)> {
    LABELLED
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("labelled line");
            (
                v["id"].as_str().unwrap().to_string(),
                v["event"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn grouping_precision_and_recall_on_the_labelled_pairs() {
    let labels = labels();
    let grouped = group_jsonl(LABELLED);
    assert!(grouped.bad_lines.is_empty(), "{:?}", grouped.bad_lines);
    let story: HashMap<&str, &str> = grouped
        .lines
        .iter()
        .map(|l| (l.id.as_str(), l.story.as_str()))
        .collect();
    assert_eq!(story.len(), labels.len());
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let mut mistakes = Vec::new();
    for (i, (a, ea)) in labels.iter().enumerate() {
        for (b, eb) in &labels[i + 1..] {
            let same_truth = ea == eb;
            let same_found = story[a.as_str()] == story[b.as_str()];
            match (same_truth, same_found) {
                (true, true) => tp += 1,
                (false, true) => {
                    fp += 1;
                    mistakes.push(format!("merged {a} + {b}"));
                }
                (true, false) => {
                    fn_ += 1;
                    mistakes.push(format!("split {a} / {b}"));
                }
                (false, false) => {}
            }
        }
    }
    let pairs = labels.len() * (labels.len() - 1) / 2;
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "story grouping on {} items ({pairs} labelled pairs, {} same-story): precision {precision:.3}, recall {recall:.3} (tp {tp}, fp {fp}, fn {fn_})",
        labels.len(),
        tp + fn_
    );
    for m in &mistakes {
        println!("  {m}");
    }
    assert!(tp + fn_ >= 30, "the set needs enough same-story pairs");
    assert!(precision >= 0.9, "precision {precision:.3} below 0.9");
    assert!(recall >= 0.9, "recall {recall:.3} below 0.9");
}

#[test]
fn stories_command_prints_one_object_per_item_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.jsonl");
    let mut input: String = LABELLED.lines().take(5).collect::<Vec<_>>().join("\n");
    input.push_str("\n{\"id\": \"broken\"\n");
    input.push_str(
        r#"{"id":"late","source":"x","title":"t","summary":"","published":"24 May 2024"}"#,
    );
    input.push('\n');
    std::fs::write(&path, &input).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sanctions-watch"))
        .arg("stories")
        .arg(&path)
        .output()
        .expect("run sanctions-watch stories");
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    for l in &lines {
        let keys: Vec<&String> = l.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["action", "authority", "id", "story"], "{l}");
    }
    // The first four items are the South Korean announcement; the fifth is Japan's.
    let story = |i: usize| lines[i]["story"].as_str().unwrap().to_string();
    assert!((1..4).all(|i| story(i) == story(0)), "{stdout}");
    assert_ne!(story(4), story(0));
    assert_eq!(lines[0]["authority"], "KR");
    assert_eq!(lines[4]["authority"], "JP");
    assert_eq!(lines[0]["action"], "designation");
    assert!(stderr.contains("line 6:"), "{stderr}");
    assert!(
        stderr.contains("line 7:") && stderr.contains("RFC 3339"),
        "{stderr}"
    );
}
