//! `state export|import|check [--fix]`: back up the store as JSON lines, restore a
//! backup into an empty store, and read every record to report problems, removing
//! with `--fix` what no mode can deliver (stop the bot first: sled allows one process
//! at a time).

use anyhow::{Context, bail};

use sanctions_watch::config::Config;
use sanctions_watch::store::{Store, backup};

use super::StateCommand;

/// Runs `state ACTION` on the store of `config`.
pub fn run(config: &Config, action: StateCommand) -> anyhow::Result<()> {
    let data_dir = &config.data_dir;
    let progress = |what: &'static str| {
        move |n: u64| {
            if n > 0 {
                eprintln!("{what} {n} records");
            }
        }
    };
    match action {
        StateCommand::Export { file } => {
            let store = Store::open_existing(data_dir)?;
            let n = if file.as_os_str() == "-" {
                backup::export(
                    &store,
                    &mut std::io::BufWriter::new(std::io::stdout().lock()),
                    progress("exported"),
                )?
            } else {
                // The export holds room ids, lists and queued posts: owner-only.
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let out = options
                    .open(&file)
                    .with_context(|| format!("cannot create {}", file.display()))?;
                // An existing file keeps its mode through open(): narrow it on the
                // open file (not by path: a symlink's target, a FIFO or a device
                // such as /dev/stdout are left as they are).
                #[cfg(unix)]
                if out.metadata().is_ok_and(|m| m.is_file()) {
                    out.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
                        .with_context(|| format!("cannot make {} private", file.display()))?;
                }
                backup::export(
                    &store,
                    &mut std::io::BufWriter::new(out),
                    progress("exported"),
                )?
            };
            eprintln!("exported {n} records from {}", store.path().display());
        }
        StateCommand::Import { file } => {
            let open = || std::fs::File::open(&file).map(std::io::BufReader::new);
            open().with_context(|| format!("cannot open {}", file.display()))?;
            let n = backup::restore(data_dir, open, progress("imported"))
                .with_context(|| format!("cannot import {}", file.display()))?;
            eprintln!(
                "imported {n} records into {}",
                data_dir.join("sled").display()
            );
        }
        StateCommand::Check { fix } => {
            let store = Store::open_existing(data_dir)?;
            if fix {
                let removed = store.remove_undeliverable()?;
                println!(
                    "removed {removed} record{} of rooms no mode delivers to",
                    if removed == 1 { "" } else { "s" }
                );
            }
            let report = store.check();
            println!("store {}", store.path().display());
            for (tree, count) in &report.counts {
                println!("  {tree}: {count}");
            }
            if report.problems.is_empty() {
                println!("no problems found");
            } else {
                println!(
                    "{} problem{}:",
                    report.problems.len(),
                    if report.problems.len() == 1 { "" } else { "s" }
                );
                for p in &report.problems {
                    println!("  {p}");
                }
                bail!("the store has problems");
            }
        }
    }
    Ok(())
}
