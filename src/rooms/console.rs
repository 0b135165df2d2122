//! The console: the terminal as one room called `console`. Lines typed on stdin are
//! commands (the prefix is optional); replies and posts are written to stdout. End
//! of input (Ctrl-D) or `quit` stops the bot cleanly, and so do Ctrl-C and SIGTERM
//! while a line is half typed or standard input stays open: stdin is read on a
//! thread of its own, which nothing waits for.

use std::io::Write;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::app::{App, Serving};
use crate::commands::{CommandContext, handle_line};
use crate::delivery::{RoomSink, SendError, ThreadRoot};
use crate::store::OutboxEntry;

/// The room id of the terminal.
pub use crate::config::CONSOLE_ROOM;

/// Delivers posts for the `console` room to stdout.
pub struct ConsoleRoom;

impl RoomSink for ConsoleRoom {
    fn serves(&self, room_id: &str) -> bool {
        Serving::Console.serves(room_id)
    }

    async fn send(
        &self,
        entry: &OutboxEntry,
        thread: Option<&ThreadRoot>,
    ) -> Result<Option<String>, SendError> {
        let text = match thread {
            // A reply under the story's post: indented, like a thread.
            Some(_) => indent_reply(&entry.plain),
            None => entry.plain.clone(),
        };
        print_block(&text).map_err(|e| SendError::Retry {
            after: None,
            reason: format!("cannot write to stdout: {e}"),
        })?;
        Ok(None)
    }
}

/// Indents every line of a threaded reply, the first with an arrow.
fn indent_reply(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("  ↳ {l}")
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn print_block(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}\n")?;
    out.flush()
}

/// Strips the room prefix if present (`!sw feeds` and `feeds` both work here).
fn strip_prefix<'a>(line: &'a str, prefix: &str) -> &'a str {
    let line = line.trim();
    match line.strip_prefix(prefix) {
        Some(rest) if rest.is_empty() || rest.starts_with(char::is_whitespace) => rest.trim_start(),
        _ => line,
    }
}

/// The lines of standard input, read on a thread of its own. tokio reads stdin on
/// its blocking pool, and a runtime waits for its blocking tasks when it shuts down:
/// a read waiting for a line would hold the shutdown until Enter is pressed. Nothing
/// waits for this thread; it ends with the process. The channel closes at end of
/// input (or after a read error, which it passes on).
fn read_stdin_lines() -> mpsc::Receiver<std::io::Result<String>> {
    let (tx, rx) = mpsc::channel(16);
    let spawned = std::thread::Builder::new()
        .name("console-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lines() {
                let failed = line.is_err();
                if tx.blocking_send(line).is_err() || failed {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the thread that reads stdin");
    }
    rx
}

/// Reads commands from stdin until end of input, `quit`, or `shutdown`; then asks
/// the rest of the bot to stop.
pub async fn run_console(app: Arc<App>, shutdown_tx: watch::Sender<bool>) {
    let ctx = CommandContext {
        room_id: CONSOLE_ROOM.to_string(),
        sender: "console".to_string(),
        may_change: true,
        refusal: String::new(),
        operator: true,
    };
    let mut shutdown = shutdown_tx.subscribe();
    let mut lines = read_stdin_lines();
    let _ = print_block(&format!(
        "sanctions-watch console — type `help` for commands, Ctrl-D or `quit` to stop. Store: {}",
        app.store.path().display()
    ));
    loop {
        let line = tokio::select! {
            _ = shutdown.changed() => break,
            line = lines.recv() => line,
        };
        let line = match line {
            Some(Ok(line)) => line,
            None => break,
            Some(Err(e)) => {
                tracing::error!(error = %e, "cannot read stdin");
                break;
            }
        };
        let command = strip_prefix(&line, &app.config.command_prefix);
        if command.is_empty() {
            continue;
        }
        if matches!(command, "quit" | "exit") {
            break;
        }
        let app = app.clone();
        let ctx = ctx.clone();
        let command = command.to_string();
        let reply = tokio::task::spawn_blocking(move || handle_line(&app, &ctx, &command)).await;
        match reply {
            Ok(reply) => {
                let _ = print_block(&reply.text);
            }
            Err(e) => tracing::error!(error = %e, "command panicked"),
        }
    }
    let _ = shutdown_tx.send(true);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_optional() {
        assert_eq!(strip_prefix("!sw feeds", "!sw"), "feeds");
        assert_eq!(strip_prefix("  feeds ", "!sw"), "feeds");
        assert_eq!(strip_prefix("!swfeeds", "!sw"), "!swfeeds");
        assert_eq!(strip_prefix("!sw", "!sw"), "");
    }
}
