//! The labelled screening evaluation: `tests/data/cases.txt` (documents with
//! the entries they must and must not hit) against `watchlist.csv`, through the same
//! importer and engine as the bot. Reports precision and recall over (document, entry)
//! pairs and fails below 0.95 on either.

use std::collections::BTreeSet;
use std::path::Path;

use sanctions_screening::import::{WatchlistFormat, parse_watchlist};
use sanctions_screening::{EngineOptions, Screener, ScreeningEngine};

struct Case {
    line: usize,
    hits: BTreeSet<String>,
    non_hits: BTreeSet<String>,
    text: String,
}

fn ids(field: &str) -> BTreeSet<String> {
    field
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn load_cases(dir: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(dir.join("cases.txt")).expect("cases.txt");
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, '|');
        let (hits, non_hits, doc) = (
            parts.next().unwrap(),
            parts
                .next()
                .unwrap_or_else(|| panic!("line {}: no second |", i + 1)),
            parts
                .next()
                .unwrap_or_else(|| panic!("line {}: no document", i + 1)),
        );
        let doc = doc.trim();
        let text = match doc.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(dir.join(file)).expect("document file"),
            None => doc.to_string(),
        };
        cases.push(Case {
            line: i + 1,
            hits: ids(hits),
            non_hits: ids(non_hits),
            text,
        });
    }
    cases
}

#[test]
fn screening_precision_and_recall_are_at_least_095() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let list = std::fs::read(dir.join("watchlist.csv")).expect("watchlist.csv");
    let parsed = parse_watchlist(WatchlistFormat::SimpleCsv, list.as_slice(), &mut |_| {})
        .expect("watchlist parses");
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    let known: BTreeSet<String> = parsed.entries.iter().map(|e| e.id.clone()).collect();
    let engine = ScreeningEngine::for_list("eval", &parsed.entries, EngineOptions::default());
    let cases = load_cases(&dir);
    assert!(cases.len() >= 150, "only {} cases", cases.len());

    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let mut problems = Vec::new();
    for case in &cases {
        for id in case.hits.iter().chain(&case.non_hits) {
            assert!(known.contains(id), "line {}: unknown id {id}", case.line);
        }
        assert!(
            case.hits.is_disjoint(&case.non_hits),
            "line {}: an id is both a hit and a non-hit",
            case.line
        );
        let hits = engine.screen(&case.text);
        let found: BTreeSet<String> = hits.iter().map(|h| h.entry_id.clone()).collect();
        for h in &hits {
            assert_eq!(
                &case.text[h.start..h.end],
                h.matched_text,
                "line {}",
                case.line
            );
        }
        for id in &case.hits {
            if found.contains(id) {
                tp += 1;
            } else {
                fn_ += 1;
                problems.push(format!("line {}: missed {id}", case.line));
            }
        }
        for id in found.difference(&case.hits) {
            fp += 1;
            let h = hits.iter().find(|h| &h.entry_id == id).unwrap();
            problems.push(format!(
                "line {}: unexpected {id} on {:?} ({}, {:.2})",
                case.line, h.matched_text, h.reason, h.score
            ));
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "screening evaluation: {} cases, {tp} true positives, {fp} false positives, {fn_} missed; precision {precision:.3}, recall {recall:.3}",
        cases.len()
    );
    for p in &problems {
        println!("  {p}");
    }
    assert!(precision >= 0.95, "precision {precision:.3} < 0.95");
    assert!(recall >= 0.95, "recall {recall:.3} < 0.95");
}
