//! A real Synapse homeserver for the end-to-end tests, started from the venv that
//! `scripts/install-synapse.sh` creates, on a free port of 127.0.0.1, in a
//! temporary directory. It can be stopped and started again on the same data, and
//! users are registered through the shared-secret admin API.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A registered user.
#[derive(Clone, Debug)]
pub struct Registered {
    pub user_id: String,
    pub password: String,
    pub access_token: String,
}

/// A running (or stopped) Synapse.
pub struct Synapse {
    dir: tempfile::TempDir,
    port: u16,
    flags: Vec<String>,
    child: Option<Child>,
}

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("SW_SYNAPSE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(REPO).join("target/synapse-venv"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "Synapse is not installed for the end-to-end tests (no {}).\nRun scripts/install-synapse.sh (scripts/test.sh, the README's test command, does it for you).",
        python.display()
    );
    python
}

/// A tiny HTTP/1.0 GET on loopback; returns the status code.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
            .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

impl Synapse {
    /// Starts a homeserver; `flags` go to `scripts/synapse-config.py`
    /// (e.g. `--rate-limited`).
    pub fn start(flags: &[&str]) -> Synapse {
        venv_python();
        let mut synapse = Synapse {
            dir: tempfile::Builder::new()
                .prefix("sw-synapse-")
                .tempdir()
                .unwrap(),
            port: super::free_port(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            child: None,
        };
        for attempt in 0..3 {
            if attempt > 0 {
                synapse.port = super::free_port();
            }
            if synapse.try_start() {
                return synapse;
            }
        }
        panic!(
            "Synapse did not start; see {}",
            synapse.dir.path().join("stderr.log").display()
        );
    }

    fn try_start(&mut self) -> bool {
        let log = std::fs::File::create(self.dir.path().join("stderr.log")).unwrap();
        let child = Command::new(Path::new(REPO).join("scripts/test-homeserver.sh"))
            .arg(self.dir.path())
            .arg(self.port.to_string())
            .args(&self.flags)
            .arg("--no-stderr-log")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn scripts/test-homeserver.sh");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if http_status(self.port, "/_matrix/client/versions") == Some(200) {
                return true;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                eprintln!("synapse exited early with {status}");
                self.child = None;
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.stop();
        false
    }

    /// The client-server API base URL.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops it (SIGTERM, then SIGKILL after 10 s); its data stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            send_signal(child.id(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and data.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        assert!(self.try_start(), "Synapse did not restart");
    }

    /// Registers a user through the shared-secret admin API.
    pub fn register(&self, localpart: &str, admin: bool) -> Registered {
        let password = format!("{localpart}-password-{}", std::process::id());
        let mut command = Command::new("python3");
        command
            .arg(Path::new(REPO).join("scripts/synapse-register.py"))
            .args(["--url", &self.base_url(), "--secret-file"])
            .arg(self.dir.path().join("shared_secret"))
            .args([localpart, &password]);
        if admin {
            command.arg("--admin");
        }
        let out = command.output().expect("run synapse-register.py");
        assert!(
            out.status.success(),
            "register {localpart}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("register prints JSON");
        Registered {
            user_id: json["user_id"].as_str().unwrap().to_string(),
            password,
            access_token: json["access_token"].as_str().unwrap().to_string(),
        }
    }
}

fn send_signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status();
}

impl Drop for Synapse {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
