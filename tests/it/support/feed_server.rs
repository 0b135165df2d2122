//! A small, real HTTP/1.1 server on 127.0.0.1 that serves feed fixtures from memory,
//! answers conditional requests with 304, can be told to fail, and records what it
//! was asked (and how many requests it served at once). Hostile behaviours for the
//! hostile-feed suite: a slow trickle, an endless chunked body, a gzip bomb, a delayed
//! answer, and a body generated afresh for every request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server answers on one path.
#[derive(Clone)]
pub struct Route {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When set, a request with a matching If-None-Match gets 304.
    pub etag: Option<String>,
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// A body generated for the n-th request (0-based) of a path.
pub type BodyFn = Arc<dyn Fn(usize) -> Vec<u8> + Send + Sync>;

/// How a path misbehaves (instead of its [`Route`]).
#[derive(Clone)]
pub enum Behaviour {
    /// 200 with an RSS content type, then one byte every `every`, forever.
    Trickle { every: std::time::Duration },
    /// 200, chunked, a well-formed start and then items forever.
    EndlessChunked,
    /// 200 with `Content-Encoding: gzip`: a feed start and then `expanded` bytes of
    /// spaces, compressed as they are sent.
    GzipBomb { expanded: u64 },
    /// The route's answer, after `delay`.
    Delayed { delay: std::time::Duration },
    /// 200 with a body made for each request (e.g. regenerated guids).
    Generated(BodyFn),
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    behaviours: HashMap<String, Behaviour>,
    requests: Vec<Request>,
    active: usize,
    peak_active: usize,
    bytes_sent: HashMap<String, u64>,
}

/// The server; stops when dropped.
pub struct FeedServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FeedServer {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start() -> FeedServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind feed server");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        FeedServer { addr, state, task }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Serves `body` as an RSS feed at `path`, with an ETag derived from the body.
    pub fn set_feed(&self, path: &str, body: impl Into<Vec<u8>>) {
        let body = body.into();
        let etag = format!("\"{:x}\"", fxhash(&body));
        self.set_route(
            path,
            Route {
                status: 200,
                headers: vec![
                    (
                        "Content-Type".into(),
                        "application/rss+xml; charset=utf-8".into(),
                    ),
                    ("ETag".into(), etag.clone()),
                ],
                body,
                etag: Some(etag),
            },
        );
    }

    /// Answers `status` with an empty body at `path`.
    pub fn set_status(&self, path: &str, status: u16) {
        self.set_route(
            path,
            Route {
                status,
                headers: vec![],
                body: vec![],
                etag: None,
            },
        );
    }

    /// Sets any answer.
    pub fn set_route(&self, path: &str, route: Route) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), route);
    }

    /// Makes `path` misbehave.
    pub fn set_behaviour(&self, path: &str, behaviour: Behaviour) {
        self.state
            .lock()
            .unwrap()
            .behaviours
            .insert(path.to_string(), behaviour);
    }

    /// The most requests this server was answering at the same time.
    pub fn peak_concurrency(&self) -> usize {
        self.state.lock().unwrap().peak_active
    }

    /// Body bytes sent on the wire for `path` by a hostile behaviour.
    pub fn bytes_sent(&self, path: &str) -> u64 {
        self.state
            .lock()
            .unwrap()
            .bytes_sent
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Requests received for `path`.
    pub fn requests(&self, path: &str) -> Vec<Request> {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

fn fxhash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        304 => "Not Modified",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let result = serve_one(stream, &state).await;
    let mut s = state.lock().unwrap();
    s.active = s.active.saturating_sub(1);
    result
}

async fn serve_one(mut stream: TcpStream, state: &Arc<Mutex<State>>) -> std::io::Result<()> {
    {
        let mut s = state.lock().unwrap();
        s.active += 1;
        s.peak_active = s.peak_active.max(s.active);
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let headers: HashMap<String, String> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let (route, behaviour, nth) = {
        let mut s = state.lock().unwrap();
        let nth = s.requests.iter().filter(|r| r.path == path).count();
        s.requests.push(Request {
            path: path.clone(),
            headers: headers.clone(),
            at: std::time::Instant::now(),
        });
        (
            s.routes.get(&path).cloned(),
            s.behaviours.get(&path).cloned(),
            nth,
        )
    };
    match behaviour {
        Some(Behaviour::Delayed { delay }) => tokio::time::sleep(delay).await,
        Some(Behaviour::Generated(make)) => {
            let body = make(nth);
            let head = format!(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
            return stream.shutdown().await;
        }
        Some(hostile) => return serve_hostile(stream, state, &path, hostile).await,
        None => {}
    }
    let route = route.unwrap_or(Route {
        status: 404,
        headers: vec![],
        body: b"not found".to_vec(),
        etag: None,
    });
    let not_modified = route.etag.is_some() && headers.get("if-none-match") == route.etag.as_ref();
    let (status, body): (u16, &[u8]) = if not_modified {
        (304, b"")
    } else {
        (route.status, &route.body)
    };
    let mut response = format!(
        "HTTP/1.1 {status} {}\r\nConnection: close\r\n",
        reason(status)
    );
    for (k, v) in &route.headers {
        response.push_str(&format!("{k}: {v}\r\n"));
    }
    if status != 304 {
        response.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    response.push_str("\r\n");
    stream.write_all(response.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

const FEED_START: &[u8] =
    b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>hostile</title>";

fn count_sent(state: &Arc<Mutex<State>>, path: &str, n: usize) {
    *state
        .lock()
        .unwrap()
        .bytes_sent
        .entry(path.to_string())
        .or_default() += n as u64;
}

async fn serve_hostile(
    mut stream: TcpStream,
    state: &Arc<Mutex<State>>,
    path: &str,
    behaviour: Behaviour,
) -> std::io::Result<()> {
    match behaviour {
        Behaviour::Trickle { every } => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/rss+xml\r\n\r\n")
                .await?;
            for byte in FEED_START.iter().cycle() {
                stream.write_all(&[*byte]).await?;
                stream.flush().await?;
                count_sent(state, path, 1);
                tokio::time::sleep(every).await;
            }
            Ok(())
        }
        Behaviour::EndlessChunked => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await?;
            let item = b"<item><title>again</title><guid>same</guid></item>".repeat(1300);
            let mut first = true;
            loop {
                let data: &[u8] = if first { FEED_START } else { &item };
                first = false;
                stream
                    .write_all(format!("{:x}\r\n", data.len()).as_bytes())
                    .await?;
                stream.write_all(data).await?;
                stream.write_all(b"\r\n").await?;
                count_sent(state, path, data.len());
            }
        }
        Behaviour::GzipBomb { expanded } => {
            use std::io::Write as _;
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\n\r\n")
                .await?;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(FEED_START)?;
            let block = vec![b' '; 1 << 20];
            let mut written = 0u64;
            while written < expanded {
                let n = block.len().min((expanded - written) as usize);
                encoder.write_all(&block[..n])?;
                written += n as u64;
                let out = std::mem::take(encoder.get_mut());
                if !out.is_empty() {
                    stream.write_all(&out).await?;
                    count_sent(state, path, out.len());
                }
            }
            let out = encoder.finish()?;
            stream.write_all(&out).await?;
            count_sent(state, path, out.len());
            stream.shutdown().await
        }
        Behaviour::Delayed { .. } | Behaviour::Generated(_) => unreachable!("served normally"),
    }
}
