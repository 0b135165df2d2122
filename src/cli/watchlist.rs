//! The shell commands that work on watchlist files: `sanctions-watch screen` (screen
//! documents against watchlist files, printing one JSON object per hit) and
//! `sanctions-watch watchlist import` (load a published list into the bot's store).
//! Both read files in any format [`sanctions_watch::screening::import`] knows, detected
//! from the extension and the first line, and use the same engine as the bot.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use sanctions_watch::screening::import::{ParsedWatchlist, WatchlistFormat, parse_watchlist};
use sanctions_watch::screening::{
    EngineOptions, Screener, engine::EngineBuilder, validate_list_name,
};
use sanctions_watch::store::{Store, StoreError};

/// Arguments of `sanctions-watch screen`.
#[derive(Debug, Args)]
pub struct ScreenArgs {
    /// A watchlist file: OpenSanctions targets.simple.csv, FollowTheMoney JSON lines,
    /// or a name,kind,aliases CSV. Repeat for several.
    #[arg(long = "watchlist", required = true, value_name = "FILE")]
    pub watchlists: Vec<PathBuf>,
    /// Report hits scoring at least this (0 to 1).
    #[arg(long, value_name = "T", default_value_t = sanctions_watch::screening::DEFAULT_THRESHOLD)]
    pub threshold: f32,
    /// Only exact name parts (no near spellings).
    #[arg(long)]
    pub no_fuzzy: bool,
    /// Text files to screen; `-` reads standard input.
    #[arg(required = true, value_name = "DOC")]
    pub documents: Vec<String>,
}

/// Subcommands of `sanctions-watch watchlist`.
#[derive(Debug, Subcommand)]
pub enum WatchlistCommand {
    /// Import a watchlist file into a list of the store (adds and updates entries by
    /// id; importing the same file again changes nothing).
    Import {
        /// The list to import into (created if missing).
        list: String,
        /// OpenSanctions targets.simple.csv, FollowTheMoney JSON lines, or a
        /// name,kind,aliases CSV.
        file: PathBuf,
    },
}

/// One line of `screen` output.
#[derive(Serialize)]
struct HitLine<'a> {
    document: &'a str,
    entity_id: &'a str,
    name: &'a str,
    matched_text: &'a str,
    start: usize,
    end: usize,
    score: f64,
    reason: &'a str,
}

/// A reader that counts the bytes read through it (for progress).
struct CountingReader<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads and parses one watchlist file, printing progress to stderr for large files
/// (`show_progress`).
pub fn read_watchlist_file(path: &Path, show_progress: bool) -> anyhow::Result<ParsedWatchlist> {
    let mut file =
        File::open(path).with_context(|| format!("cannot open watchlist {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = vec![0u8; 4096];
    let n = read_up_to(&mut file, &mut head)
        .with_context(|| format!("cannot read watchlist {}", path.display()))?;
    head.truncate(n);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let format = WatchlistFormat::detect(&name, &head)
        .with_context(|| format!("watchlist {}", path.display()))?;
    let counter = Arc::new(AtomicU64::new(0));
    let reader = CountingReader {
        inner: std::io::Cursor::new(head).chain(file),
        read: counter.clone(),
    };
    let started = Instant::now();
    let mut last = Instant::now();
    let mut progress = |rows: u64| {
        if show_progress && last.elapsed() >= Duration::from_millis(500) {
            last = Instant::now();
            let done = counter.load(Ordering::Relaxed);
            let pct = (done * 100).checked_div(size).unwrap_or(0);
            eprintln!(
                "{}: {rows} rows read ({pct}% of {} MB, {:.0}s)",
                path.display(),
                size / 1_000_000,
                started.elapsed().as_secs_f64()
            );
        }
    };
    parse_watchlist(format, reader, &mut progress)
        .with_context(|| format!("watchlist {} ({})", path.display(), format.label()))
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn read_document(doc: &str) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    if doc == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(doc).with_context(|| format!("cannot read document {doc}"))?;
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "document {doc} is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// `sanctions-watch screen`: loads every watchlist (any broken row is an error), then
/// screens each document and prints its hits as JSON lines on stdout. A document that
/// cannot be read is reported on stderr and makes the exit status non-zero; the other
/// documents are still screened.
pub fn screen(args: &ScreenArgs) -> anyhow::Result<()> {
    if !(0.0..=1.0).contains(&args.threshold) {
        bail!(
            "--threshold must be between 0 and 1, not {}",
            args.threshold
        );
    }
    let mut builder = EngineBuilder::new();
    for path in &args.watchlists {
        let parsed = read_watchlist_file(path, false)?;
        if let Some(bad) = parsed.skipped.iter().find(|s| s.invalid) {
            bail!(
                "watchlist {}: line {}: {}",
                path.display(),
                bad.line,
                bad.reason
            );
        }
        let list_name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let list = builder.add_list(&list_name);
        for e in &parsed.entries {
            builder.add(list, e);
        }
    }
    let engine = builder.finish(EngineOptions {
        threshold: args.threshold,
        fuzzy: !args.no_fuzzy,
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failed = 0usize;
    for doc in &args.documents {
        let text = match read_document(doc) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e:#}");
                failed += 1;
                continue;
            }
        };
        for hit in engine.screen(&text) {
            let line = HitLine {
                document: doc,
                entity_id: &hit.entry_id,
                name: &hit.name,
                matched_text: &hit.matched_text,
                start: hit.start,
                end: hit.end,
                score: (f64::from(hit.score) * 1000.0).round() / 1000.0,
                reason: &hit.reason,
            };
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    if failed > 0 {
        bail!(
            "{failed} of {} document{} could not be read",
            args.documents.len(),
            if args.documents.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// `sanctions-watch watchlist import`: parses the file, then adds or updates its
/// entries in the store under `list`, reporting skipped rows and what changed.
pub fn import(data_dir: &Path, list: &str, file: &Path) -> anyhow::Result<()> {
    validate_list_name(list).map_err(anyhow::Error::msg)?;
    // Open the store first: if the bot is running there is no point parsing.
    let store = Store::open(data_dir).map_err(|e| match e {
        StoreError::Locked(path) => anyhow::anyhow!(
            "the store at {} is locked by a running sanctions-watch bot; stop the bot, import, then start it again",
            path.display()
        ),
        other => anyhow::Error::new(other).context("cannot open the store"),
    })?;
    let parsed = read_watchlist_file(file, true)?;
    for s in &parsed.skipped {
        eprintln!("{}: line {}: skipped: {}", file.display(), s.line, s.reason);
    }
    let report = store
        .put_entries(list, &parsed.entries)
        .context("cannot write entries to the store")?;
    store.flush_blocking().context("cannot flush the store")?;
    println!(
        "{}: {} rows, {} entries imported into {list} ({} new, {} updated, {} unchanged), {} rows skipped; {list} now has {} entries",
        file.display(),
        parsed.rows,
        parsed.entries.len(),
        report.added,
        report.updated,
        report.unchanged,
        parsed.skipped.len(),
        store.entry_count(list)
    );
    Ok(())
}
