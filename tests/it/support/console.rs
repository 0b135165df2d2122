//! Drives the real `sanctions-watch console` binary: lines to its stdin, its stdout
//! collected and searched.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_sanctions-watch");

pub struct Console {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub output: Arc<Mutex<String>>,
    /// How much of the output earlier expectations consumed.
    seen: usize,
}

impl Console {
    /// Starts `console --config CONFIG` with extra arguments.
    pub fn start(config: &std::path::Path) -> Console {
        Console::start_with(config, &[])
    }

    /// Starts the console with extra command-line arguments.
    pub fn start_with(config: &std::path::Path, extra: &[&str]) -> Console {
        let mut child = Command::new(BIN)
            .args(["console", "--config"])
            .arg(config)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the console binary");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let sink = output.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut out = sink.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        Console {
            child,
            stdin,
            output,
            seen: 0,
        }
    }

    pub async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }

    /// Waits until `needle` appears in output not yet consumed; returns that output.
    pub async fn expect(&mut self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            {
                let out = self.output.lock().unwrap();
                if let Some(i) = out[self.seen..].find(needle) {
                    let chunk = out[self.seen..self.seen + i + needle.len()].to_string();
                    self.seen += i + needle.len();
                    return chunk;
                }
            }
            if tokio::time::Instant::now() > deadline {
                let out = self.output.lock().unwrap();
                panic!(
                    "{needle:?} did not appear; output after position {}:\n{}",
                    self.seen,
                    &out[self.seen..]
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Asks `feeds` until the named feed reports ok.
    pub async fn wait_feed_ok(&mut self, id: &str) {
        for _ in 0..100 {
            self.send("feeds").await;
            let reply = self.expect("next poll").await;
            if reply.contains(&format!("• {id} (")) && reply.contains("— ok") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("feed {id} never became ok");
    }
}
