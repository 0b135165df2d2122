//! `stories ITEMS.jsonl`: groups a JSON-lines file of items into stories as the bot
//! would ([`sanctions_watch::story_file::group_jsonl`]) and prints one JSON object per
//! item; bad lines go to standard error with their line number.

use std::io::{Read as _, Write as _};
use std::path::Path;

use anyhow::Context;

use sanctions_watch::story_file::group_jsonl;

/// Runs the command on `path` (`-` for standard input): the answer lines go to
/// standard output, bad lines to standard error.
pub fn run(path: &Path) -> anyhow::Result<()> {
    let shown = path.display().to_string();
    let mut bytes = Vec::new();
    let read = if shown == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    read.with_context(|| format!("cannot read {shown}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{shown} is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let grouped = group_jsonl(&text);
    for bad in &grouped.bad_lines {
        eprintln!("{shown}: {bad}");
    }
    let mut out = std::io::stdout().lock();
    for line in &grouped.lines {
        let json = serde_json::to_string(line).expect("story lines always serialise");
        writeln!(out, "{json}").context("cannot write the answer")?;
    }
    out.flush().context("cannot write the answer")
}
