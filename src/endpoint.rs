//! The health endpoint: a small HTTP server (off by default, loopback when on)
//! serving the bot's [`crate::metrics`] and its feeds' health in the Prometheus text
//! format at `/metrics`, with `/live` and `/ready` for supervisors.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::app::App;
use crate::health::health_word;

/// An outbox entry older than this makes `/ready` false.
pub const STUCK_OUTBOX_AFTER: Duration = Duration::from_secs(600);

/// Why the bot is not ready, if it is not.
pub fn not_ready_reason(app: &App) -> Option<String> {
    let m = &app.metrics;
    if let Some(problem) = m.sync_problem() {
        return Some(problem);
    }
    match app.store.outbox() {
        Err(e) => Some(format!("cannot read the outbox: {e}")),
        Ok(entries) => {
            let oldest = entries.iter().map(|(_, e)| e.created).min()?;
            let age = (Utc::now() - oldest).to_std().unwrap_or_default();
            (age > STUCK_OUTBOX_AFTER).then(|| {
                format!(
                    "the outbox is stuck: its oldest post has waited {}s",
                    age.as_secs()
                )
            })
        }
    }
}

/// The metrics in the Prometheus text format.
pub fn render(app: &App) -> String {
    let m = &app.metrics;
    let mut out = String::new();
    writeln!(
        out,
        "# HELP sanctions_watch_build_info Version of the running bot.\n# TYPE sanctions_watch_build_info gauge\nsanctions_watch_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    )
    .ok();

    let mut by_state: std::collections::BTreeMap<&str, u64> =
        ["ok", "waiting", "backing off", "failing", "disabled"]
            .into_iter()
            .map(|s| (s, 0))
            .collect();
    for feed in app.feeds().unwrap_or_default() {
        if let Ok(state) = app.store.feed_state(&feed.id) {
            *by_state.entry(health_word(&state)).or_default() += 1;
        }
    }
    writeln!(
        out,
        "# HELP sanctions_watch_feeds Feeds by health state.\n# TYPE sanctions_watch_feeds gauge"
    )
    .ok();
    for (state, n) in by_state {
        writeln!(
            out,
            "sanctions_watch_feeds{{state=\"{}\"}} {n}",
            state.replace(' ', "_")
        )
        .ok();
    }
    m.render_counters(&mut out);
    let counts = app.store.counts();
    writeln!(
        out,
        "# HELP sanctions_watch_outbox_depth Posts waiting for delivery.\n# TYPE sanctions_watch_outbox_depth gauge\nsanctions_watch_outbox_depth {}",
        counts.outbox
    )
    .ok();
    writeln!(
        out,
        "# HELP sanctions_watch_quarantined_records Store records that did not decode, moved out of the way (`state check` lists them).\n# TYPE sanctions_watch_quarantined_records gauge\nsanctions_watch_quarantined_records {}",
        counts.quarantined
    )
    .ok();
    m.render_timings(&mut out);
    let ready = not_ready_reason(app).is_none();
    writeln!(
        out,
        "# HELP sanctions_watch_ready 1 when /ready would answer 200.\n# TYPE sanctions_watch_ready gauge\nsanctions_watch_ready {}",
        u8::from(ready)
    )
    .ok();
    out
}

/// Serves `/metrics`, `/live` and `/ready` on `listener` until `shutdown`.
pub async fn serve(app: Arc<App>, listener: TcpListener, mut shutdown: watch::Receiver<bool>) {
    let busy = Arc::new(tokio::sync::Semaphore::new(16));
    loop {
        let (stream, _) = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics endpoint: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = busy.clone().try_acquire_owned() else {
            continue; // too many at once: drop the connection
        };
        let app = app.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(Duration::from_secs(10), answer(&app, stream)).await;
        });
    }
}

/// Binds the endpoint, refusing nothing but warning about non-loopback addresses.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "the metrics endpoint listens on a non-loopback address");
    }
    TcpListener::bind(addr).await
}

async fn answer(app: &App, mut stream: TcpStream) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > 8192 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let request = String::from_utf8_lossy(&head);
    let mut parts = request.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, content_type, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => ("200 OK", "text/plain; version=0.0.4", render(app)),
        ("GET", "/live") => ("200 OK", "text/plain", "live\n".to_string()),
        ("GET", "/ready") => match not_ready_reason(app) {
            None => ("200 OK", "text/plain", "ready\n".to_string()),
            Some(reason) => (
                "503 Service Unavailable",
                "text/plain",
                format!("not ready: {reason}\n"),
            ),
        },
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "try /metrics, /live or /ready\n".to_string(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n".to_string(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
