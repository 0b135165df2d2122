//! `state export` / `state import`: the whole sled store as JSON lines, for backups
//! and for moving across store format changes. A header line names the format and
//! the store schema; then one line per record with its tree, key and value (JSON
//! where the stored bytes are JSON, hex otherwise). Importing into an empty store
//! reproduces every tree exactly, so the bot behaves the same (no reposts).
//! [`restore`] does it as a whole or not at all: into a fresh store beside the data
//! directory's, checked, then moved into place.

use std::io::{BufRead, Write};
use std::path::Path;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::db::{SCHEMA_VERSION, Store, StoreError};
use crate::feeds::identity::hex;

/// The format name in the header line.
pub const FORMAT: &str = "sanctions-watch-state";
/// The version of this export format.
pub const FORMAT_VERSION: u32 = 1;

/// A backup problem.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or writing the file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A line of the file is not what the format says.
    #[error("line {line}: {message}")]
    Format {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Import only goes into an empty store.
    #[error("the store at {0} is not empty; import into a new data directory")]
    NotEmpty(String),
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    format_version: u32,
    schema: u32,
    exported_at: chrono::DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    tree: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    key_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    value: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    value_hex: Option<String>,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Record {
    fn new(tree: &str, key: &[u8], value: &[u8]) -> Record {
        let (key, key_hex) = match std::str::from_utf8(key) {
            Ok(k) => (Some(k.to_string()), None),
            Err(_) => (None, Some(hex(key))),
        };
        // Only values that read back to the same bytes are written as JSON.
        let json = serde_json::from_slice::<serde_json::Value>(value)
            .ok()
            .filter(|v| serde_json::to_vec(v).is_ok_and(|bytes| bytes == value));
        let (value, value_hex) = match json {
            Some(v) => (Some(v), None),
            None => (None, Some(hex(value))),
        };
        Record {
            tree: tree.to_string(),
            key,
            key_hex,
            value,
            value_hex,
        }
    }

    fn bytes(&self) -> Result<(Vec<u8>, Vec<u8>), String> {
        let key = match (&self.key, &self.key_hex) {
            (Some(k), None) => k.as_bytes().to_vec(),
            (None, Some(h)) => unhex(h).ok_or("key_hex is not hex")?,
            _ => return Err("a record needs exactly one of key and key_hex".into()),
        };
        let value = match (&self.value, &self.value_hex) {
            (Some(v), None) => serde_json::to_vec(v).map_err(|e| e.to_string())?,
            (None, Some(h)) => unhex(h).ok_or("value_hex is not hex")?,
            _ => return Err("a record needs exactly one of value and value_hex".into()),
        };
        Ok((key, value))
    }
}

/// Writes the whole store; `progress` is called with the records written so far.
pub fn export(
    store: &Store,
    out: &mut impl Write,
    mut progress: impl FnMut(u64),
) -> Result<u64, BackupError> {
    let header = Header {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        // The records' own schema: an older store exported by the read-only tools
        // is upgraded when imported.
        schema: store.schema_version()?,
        exported_at: Utc::now(),
    };
    serde_json::to_writer(&mut *out, &header).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    let mut written = 0u64;
    for tree in store.tree_names() {
        for (key, value) in store.raw_records(&tree)? {
            serde_json::to_writer(&mut *out, &Record::new(&tree, &key, &value))
                .map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
            written += 1;
            if written.is_multiple_of(10_000) {
                progress(written);
            }
        }
    }
    out.flush()?;
    progress(written);
    Ok(written)
}

/// One decoded record line: tree, key, value.
type RawRecord = (String, Vec<u8>, Vec<u8>);

/// Reads an export: checks the header, then yields each record with its line number.
fn read_records(
    input: impl BufRead,
) -> Result<(u32, impl Iterator<Item = Result<RawRecord, BackupError>>), BackupError> {
    let mut lines = input.lines();
    let first = lines.next().ok_or(BackupError::Format {
        line: 1,
        message: "empty file".into(),
    })??;
    let header: Header = serde_json::from_str(&first).map_err(|e| BackupError::Format {
        line: 1,
        message: format!("not a {FORMAT} header: {e}"),
    })?;
    if header.format != FORMAT || header.format_version > FORMAT_VERSION {
        return Err(BackupError::Format {
            line: 1,
            message: format!(
                "format {} version {} is not supported",
                header.format, header.format_version
            ),
        });
    }
    if header.schema > SCHEMA_VERSION {
        return Err(BackupError::Format {
            line: 1,
            message: format!(
                "exported from store schema {}; this build reads up to {SCHEMA_VERSION}",
                header.schema
            ),
        });
    }
    Ok((
        header.schema,
        lines.enumerate().filter_map(|(index, line)| {
            let line_no = index + 2;
            let line = match line {
                Ok(l) if l.trim().is_empty() => return None,
                Ok(l) => l,
                Err(e) => return Some(Err(e.into())),
            };
            let parsed = serde_json::from_str::<Record>(&line)
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    if TREES.contains(&r.tree.as_str()) {
                        Ok(r)
                    } else {
                        Err(format!("{:?} is not a tree of this store", r.tree))
                    }
                })
                .and_then(|r| r.bytes().map(|(k, v)| (r.tree, k, v)));
            Some(parsed.map_err(|message| BackupError::Format {
                line: line_no,
                message,
            }))
        }),
    ))
}

/// The trees a store has; an export naming another is refused.
const TREES: [&str; 18] = [
    "__sled__default",
    "feeds",
    "feed_state",
    "seen",
    "watchlists",
    "watch_entries",
    "subscriptions",
    "follows",
    "outbox",
    "outbox_dead",
    "stories",
    "story_reports",
    "story_posts",
    "outbox_story_links",
    "recent_items",
    "room_settings",
    "digest_lines",
    "quarantine",
];

/// Restores an export into `data_dir` as a whole or not at all: the records go into
/// a fresh store beside it (`data_dir/.import`), are checked (every record must
/// decode as its tree's kind), and only then does that store become `data_dir/sled`.
/// An interrupted restore leaves `data_dir` as it was, and the next one starts
/// afresh. `data_dir` may hold no store, or an empty one. Returns the records
/// written.
pub fn restore<R: BufRead>(
    data_dir: &Path,
    open: impl Fn() -> std::io::Result<R>,
    progress: impl FnMut(u64),
) -> Result<u64, BackupError> {
    let target = data_dir.join("sled");
    if target.join("conf").exists() {
        let existing = Store::open_existing(data_dir)?;
        if !existing.is_empty() {
            return Err(BackupError::NotEmpty(existing.path().display().to_string()));
        }
        drop(existing);
        std::fs::remove_dir_all(&target)?;
    }
    let staging = data_dir.join(".import");
    if staging.exists() {
        // What an interrupted restore left.
        std::fs::remove_dir_all(&staging)?;
    }
    let written = {
        let store = Store::open(&staging)?;
        let written = import(&store, open, progress)?;
        let undecodable: Vec<String> = store
            .check()
            .problems
            .into_iter()
            .filter(|p| p.contains("cannot be decoded"))
            .collect();
        if !undecodable.is_empty() {
            drop(store);
            std::fs::remove_dir_all(&staging)?;
            return Err(BackupError::Format {
                line: 0,
                message: format!(
                    "{} record{} do not decode as their tree's kind, e.g. {}; nothing was restored",
                    undecodable.len(),
                    if undecodable.len() == 1 { "" } else { "s" },
                    undecodable[0]
                ),
            });
        }
        store.flush_blocking()?;
        written
    };
    std::fs::rename(staging.join("sled"), &target)?;
    std::fs::remove_dir_all(&staging)?;
    Ok(written)
}

/// Restores an export into an empty store; returns the records written. `open`
/// is called twice: the whole file is checked before anything is written, so a bad
/// line leaves the store empty.
pub fn import<R: BufRead>(
    store: &Store,
    open: impl Fn() -> std::io::Result<R>,
    mut progress: impl FnMut(u64),
) -> Result<u64, BackupError> {
    if !store.is_empty() {
        return Err(BackupError::NotEmpty(store.path().display().to_string()));
    }
    for record in read_records(open()?)?.1 {
        record?;
    }
    let mut written = 0u64;
    let (schema, records) = read_records(open()?)?;
    for record in records {
        let (tree, key, value) = record?;
        if tree == "__sled__default" && key == b"schema_version" {
            continue; // the store says its own schema, below
        }
        store.insert_raw(&tree, &key, &value)?;
        written += 1;
        if written.is_multiple_of(10_000) {
            progress(written);
        }
    }
    store.upgrade(schema)?;
    store.record_schema()?;
    store.flush_blocking()?;
    progress(written);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screening::{EntryKind, WatchEntry};
    use crate::store::FeedState;

    #[test]
    fn export_then_import_reproduces_every_tree() {
        let from_dir = tempfile::tempdir().unwrap();
        let from = Store::open(from_dir.path()).unwrap();
        from.put_entry(
            "vessels",
            &WatchEntry::new("Lady R", EntryKind::Vessel, vec![]),
        )
        .unwrap();
        from.subscribe("!r:x", "vessels").unwrap();
        from.create_owned_list("desk", Some("!r:x")).unwrap();
        from.put_follow(&crate::store::Follow {
            room_id: "!r:x".into(),
            feed_id: "f".into(),
            mode: crate::store::FollowMode::All,
            actions: vec!["designation".into()],
            authorities: vec!["US".into()],
            since: chrono::Utc::now(),
        })
        .unwrap();
        from.commit_batch(
            "f",
            &["v1:g:abc".into()],
            &[],
            &FeedState::default(),
            &crate::store::ItemBatch::default(),
        )
        .unwrap();
        from.insert_raw("seen", &[0, 1, 255], &[254, 0]).unwrap();
        let mut file = Vec::new();
        let n = export(&from, &mut file, |_| {}).unwrap();
        assert!(n >= 5, "{n}");

        let to_dir = tempfile::tempdir().unwrap();
        let to = Store::open(to_dir.path()).unwrap();
        // Every record but the schema version, which the store writes itself.
        assert_eq!(import(&to, || Ok(&file[..]), |_| {}).unwrap(), n - 1);
        for tree in from.tree_names() {
            assert_eq!(
                from.raw_records(&tree).unwrap(),
                to.raw_records(&tree).unwrap(),
                "tree {tree}"
            );
        }
        assert!(to.is_seen("f", "v1:g:abc").unwrap());
        assert_eq!(
            to.room_follows("!r:x").unwrap(),
            from.room_follows("!r:x").unwrap()
        );
        assert_eq!(
            to.list("desk").unwrap().unwrap().owner.as_deref(),
            Some("!r:x")
        );
        let again = import(&to, || Ok(&file[..]), |_| {}).unwrap_err();
        assert!(matches!(again, BackupError::NotEmpty(_)), "{again}");
    }

    fn header() -> String {
        serde_json::json!({"format": FORMAT, "format_version": 1, "schema": SCHEMA_VERSION, "exported_at": "2026-01-01T00:00:00Z"}).to_string()
    }

    #[test]
    fn a_restore_is_whole_or_nothing_and_a_retry_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("state");
        // A record of the wrong kind: nothing is restored, and no store is left.
        let bad = format!(
            "{}\n{{\"tree\":\"seen\",\"key\":\"f\\u0000k\",\"value\":\"2026-01-01T00:00:00Z\"}}\n{{\"tree\":\"feeds\",\"key\":\"x\",\"value\":42}}\n",
            header()
        );
        let err = restore(&data, || Ok(bad.as_bytes()), |_| {}).unwrap_err();
        assert!(err.to_string().contains("do not decode"), "{err}");
        assert!(!data.join("sled").exists(), "no half-filled store");
        // An unknown tree is refused with its line.
        let unknown = format!(
            "{}\n{{\"tree\":\"mystery\",\"key\":\"a\",\"value\":1}}\n",
            header()
        );
        let err = restore(&data, || Ok(unknown.as_bytes()), |_| {}).unwrap_err();
        assert!(
            err.to_string().contains("line 2") && err.to_string().contains("mystery"),
            "{err}"
        );
        // What an interrupted restore left is cleared; the retry is not "not empty".
        std::fs::create_dir_all(data.join(".import/sled")).unwrap();
        std::fs::write(data.join(".import/sled/leftover"), b"x").unwrap();
        let good = format!(
            "{}\n{{\"tree\":\"seen\",\"key\":\"f\\u0000k\",\"value\":\"2026-01-01T00:00:00Z\"}}\n",
            header()
        );
        assert_eq!(restore(&data, || Ok(good.as_bytes()), |_| {}).unwrap(), 1);
        assert!(!data.join(".import").exists());
        let store = Store::open(&data).unwrap();
        assert!(store.is_seen("f", "k").unwrap());
        drop(store);
        let again = restore(&data, || Ok(good.as_bytes()), |_| {}).unwrap_err();
        assert!(matches!(again, BackupError::NotEmpty(_)), "{again}");
    }

    #[test]
    fn bad_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let text = format!(
            "{}\n{{\"tree\":\"seen\",\"key\":\"a\"}}\n",
            serde_json::json!({"format": FORMAT, "format_version": 1, "schema": 1, "exported_at": "2026-01-01T00:00:00Z"})
        );
        let good = "{\"tree\":\"seen\",\"key\":\"b\",\"value\":1}";
        let text = text.replace("\n{", &format!("\n{good}\n{{"));
        let err = import(&store, || Ok(text.as_bytes()), |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 3:"), "{err}");
        assert!(store.is_empty(), "a bad file writes nothing");
        let err = import(&store, || Ok(&b"{}\n"[..]), |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 1:"), "{err}");
    }
}
