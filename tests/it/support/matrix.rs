//! Matrix helpers for the end-to-end tests: a plain client-server API client for
//! test users (raw HTTP against the real Synapse, so the tests see exactly what the
//! homeserver stored), the bot as a child process, and its config.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::synapse::Registered;

/// A test user talking to the homeserver over the client-server API.
#[derive(Clone)]
pub struct Api {
    pub base_url: String,
    pub user: Registered,
    http: reqwest::Client,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Api {
    pub fn new(base_url: &str, user: Registered) -> Api {
        Api {
            base_url: base_url.to_string(),
            user,
            http: reqwest::Client::new(),
        }
    }

    pub fn user_id(&self) -> &str {
        &self.user.user_id
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.user.access_token)
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&body).unwrap());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_default();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, value)
    }

    async fn ok(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert_eq!(status, 200, "{path}: {value}");
        value
    }

    /// Creates a private room inviting `invite`; returns its id.
    pub async fn create_room(&self, invite: &[&str]) -> String {
        let body = json!({"preset": "private_chat", "invite": invite});
        let v = self
            .ok(
                reqwest::Method::POST,
                "/_matrix/client/v3/createRoom",
                Some(body),
            )
            .await;
        v["room_id"].as_str().unwrap().to_string()
    }

    /// Upgrades a room to `version`; returns the replacement room's id.
    pub async fn upgrade_room(&self, room: &str, version: &str) -> String {
        let path = format!("/_matrix/client/v3/rooms/{}/upgrade", enc(room));
        let v = self
            .ok(
                reqwest::Method::POST,
                &path,
                Some(json!({"new_version": version})),
            )
            .await;
        v["replacement_room"].as_str().unwrap().to_string()
    }

    pub async fn invite(&self, room: &str, user: &str) {
        let path = format!("/_matrix/client/v3/rooms/{}/invite", enc(room));
        self.ok(reqwest::Method::POST, &path, Some(json!({"user_id": user})))
            .await;
    }

    pub async fn send_state(&self, room: &str, event_type: &str, content: Value) {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/state/{}/",
            enc(room),
            enc(event_type)
        );
        self.ok(reqwest::Method::PUT, &path, Some(content)).await;
    }

    pub async fn kick(&self, room: &str, user: &str) {
        let path = format!("/_matrix/client/v3/rooms/{}/kick", enc(room));
        self.ok(
            reqwest::Method::POST,
            &path,
            Some(json!({"user_id": user, "reason": "test"})),
        )
        .await;
    }

    pub async fn join(&self, room: &str) {
        let path = format!("/_matrix/client/v3/join/{}", enc(room));
        self.ok(reqwest::Method::POST, &path, Some(json!({}))).await;
    }

    /// Sends an m.text message; returns the event id.
    pub async fn send_text(&self, room: &str, body: &str) -> String {
        self.send(room, json!({"msgtype": "m.text", "body": body}))
            .await
    }

    /// Sends any m.room.message content; returns the event id.
    pub async fn send(&self, room: &str, content: Value) -> String {
        let txn = format!("t{}", rand_u64());
        let path = format!(
            "/_matrix/client/v3/rooms/{}/send/m.room.message/{txn}",
            enc(room)
        );
        let v = self.ok(reqwest::Method::PUT, &path, Some(content)).await;
        v["event_id"].as_str().unwrap().to_string()
    }

    /// The membership of `user` in `room` as this user sees it.
    pub async fn membership(&self, room: &str, user: &str) -> Option<String> {
        let path = format!(
            "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
            enc(room),
            enc(user)
        );
        let (status, v) = self.call(reqwest::Method::GET, &path, None).await;
        (status == 200).then(|| v["membership"].as_str().unwrap_or_default().to_string())
    }

    /// Every m.room.message event of the room, oldest first.
    pub async fn messages(&self, room: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut from: Option<String> = None;
        loop {
            let mut path = format!(
                "/_matrix/client/v3/rooms/{}/messages?dir=b&limit=100",
                enc(room)
            );
            if let Some(f) = &from {
                path.push_str(&format!("&from={}", enc(f)));
            }
            let v = self.ok(reqwest::Method::GET, &path, None).await;
            let chunk = v["chunk"].as_array().cloned().unwrap_or_default();
            if chunk.is_empty() {
                break;
            }
            events.extend(chunk.into_iter().filter(|e| e["type"] == "m.room.message"));
            match v["end"].as_str() {
                Some(end) => from = Some(end.to_string()),
                None => break,
            }
        }
        events.reverse();
        events
    }

    /// The messages `sender` sent to `room`, oldest first.
    pub async fn messages_from(&self, room: &str, sender: &str) -> Vec<Value> {
        self.messages(room)
            .await
            .into_iter()
            .filter(|e| e["sender"] == sender)
            .collect()
    }

    /// The current /sync position (no events).
    pub async fn sync_token(&self) -> String {
        let v = self
            .ok(
                reqwest::Method::GET,
                "/_matrix/client/v3/sync?timeout=0",
                None,
            )
            .await;
        v["next_batch"].as_str().unwrap().to_string()
    }

    /// Long-polls /sync from `since` for up to `timeout_ms`; returns the next token and
    /// the timeline events of every joined room.
    pub async fn sync_events(&self, since: &str, timeout_ms: u64) -> (String, Vec<Value>) {
        let path = format!(
            "/_matrix/client/v3/sync?since={}&timeout={timeout_ms}",
            enc(since)
        );
        let v = self.ok(reqwest::Method::GET, &path, None).await;
        let mut events = Vec::new();
        if let Some(rooms) = v["rooms"]["join"].as_object() {
            for room in rooms.values() {
                events.extend(
                    room["timeline"]["events"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                );
            }
        }
        (v["next_batch"].as_str().unwrap().to_string(), events)
    }

    /// Number of devices of `user` (admin API; this user must be a server admin).
    pub async fn device_count(&self, user: &str) -> usize {
        let path = format!("/_synapse/admin/v2/users/{}/devices", enc(user));
        let v = self.ok(reqwest::Method::GET, &path, None).await;
        v["devices"].as_array().map_or(0, Vec::len)
    }

    /// Lifts the message rate limit for `user` (admin API).
    pub async fn exempt_from_rate_limit(&self, user: &str) {
        let path = format!("/_synapse/admin/v1/users/{}/override_ratelimit", enc(user));
        self.ok(
            reqwest::Method::POST,
            &path,
            Some(json!({"messages_per_second": 0, "burst_count": 0})),
        )
        .await;
    }

    /// Sends a command and waits for the bot's reply to it; returns the reply event.
    pub async fn command(&self, room: &str, bot: &str, line: &str) -> Value {
        let event_id = self.send_text(room, line).await;
        wait_for(
            &format!("a reply to {line:?}"),
            Duration::from_secs(60),
            || async {
                self.messages_from(room, bot).await.into_iter().find(|e| {
                    e["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == event_id.as_str()
                })
            },
        )
        .await
    }
}

fn rand_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    nanos
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E3779B97F4A7C15)
}

/// Polls `probe` until it returns `Some`, or panics after `limit`.
pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The bot binary running `run` as a child process, its log captured.
pub struct BotProcess {
    child: Child,
    pub log: Arc<Mutex<String>>,
}

impl BotProcess {
    /// Starts `sanctions-watch run --config CONFIG` and waits until it is ready. The
    /// binary is the one cargo built for this test or bench, or the one named by
    /// `SANCTIONS_WATCH_BIN` (to measure another build, e.g. a size-optimised one).
    pub async fn start(config: &Path) -> BotProcess {
        let binary = std::env::var_os("SANCTIONS_WATCH_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_sanctions-watch").into());
        let mut child = Command::new(binary)
            .args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "info,sanctions_watch=debug,matrix_sdk=warn,matrix_sdk_base=warn,matrix_sdk_crypto=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the bot");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let bot = BotProcess { child, log };
        let ready_count = bot.log.lock().unwrap().matches("Matrix bot ready").count();
        let log = bot.log.clone();
        wait_for("the bot to be ready", Duration::from_secs(90), || {
            let log = log.clone();
            async move {
                (log.lock().unwrap().matches("Matrix bot ready").count() > ready_count)
                    .then_some(())
            }
        })
        .await;
        bot
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// SIGKILL: no chance to clean up.
    pub async fn kill(mut self) -> String {
        self.child.kill().await.unwrap();
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, then waits for a clean exit; returns the log.
    pub async fn terminate(mut self) -> String {
        let pid = self.child.id().unwrap();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the bot stops within 30s of SIGTERM")
            .unwrap();
        assert!(status.success(), "the bot exited with {status}");
        self.log.lock().unwrap().clone()
    }
}

/// The bot's config for a test.
pub struct BotConfig {
    pub data_dir: PathBuf,
    pub homeserver: String,
    pub bot: Registered,
    pub allowed_inviters: Vec<String>,
    pub feeds: String,
    /// Appended after the [matrix] section (more tables).
    pub extra: String,
}

impl BotConfig {
    pub fn write(&self, path: &Path) {
        let inviters: Vec<String> = self
            .allowed_inviters
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect();
        let text = format!(
            "{}\n[matrix]\nhomeserver = \"{}\"\nuser_id = \"{}\"\npassword = \"{}\"\nstore_passphrase = \"store-passphrase-{}\"\nallowed_inviters = [{}]\n{}",
            super::config_text(&self.data_dir, &self.feeds),
            self.homeserver,
            self.bot.user_id,
            self.bot.password,
            std::process::id(),
            inviters.join(", "),
            self.extra,
        );
        std::fs::write(path, text).unwrap();
    }
}
