//! The only HTTP code for feeds: reqwest clients with rustls, a descriptive
//! User-Agent, gzip, connect and total deadlines, a cap on the decompressed body,
//! conditional GET (ETag / Last-Modified), and redirects followed here, hop by hop (at
//! most [`MAX_REDIRECTS`]), so that every hop passes the SSRF [`Guard`]: the URL is
//! checked before each request, names resolve only to allowed addresses (the guard's
//! resolver), and the address a response came from is checked again. The one
//! exception is a hop on the own origin of the config feed being fetched
//! ([`TrustedOrigin`]), which goes through a second client whose resolver lets that
//! feed's host name through; no other hop and no feed added in a room ever uses it.
//! It returns bytes or a typed error, never a response body or a URL's user info in
//! an error, with a room-safe form of each error ([`FetchError::room_message`]), and
//! knows nothing about parsing or the store.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_TYPE, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
    RETRY_AFTER,
};
use serde::{Deserialize, Serialize};

use super::guard::{Guard, GuardedResolver, Refusal, TrustedNames, TrustedOrigin, shown_url};
use crate::config::FetchConfig;

/// The User-Agent sent with every feed request.
pub const USER_AGENT: &str = concat!(
    "sanctions-watch/",
    env!("CARGO_PKG_VERSION"),
    " (self-hosted sanctions monitoring bot; polite polling with conditional GET)"
);

/// Most redirects followed for one fetch.
pub const MAX_REDIRECTS: usize = 5;

/// Cache validators remembered between fetches of one feed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// The last `ETag` the server sent.
    pub etag: Option<String>,
    /// The last `Last-Modified` the server sent.
    pub last_modified: Option<String>,
}

/// What a successful request returned.
#[derive(Debug)]
pub enum FetchOutcome {
    /// 304: nothing changed since the validators were issued.
    NotModified {
        /// Where a chain of permanent redirects (301/308 only) led, if it did.
        moved_to: Option<url::Url>,
    },
    /// 2xx with a body.
    Fetched {
        /// The body, decompressed, at most the configured size.
        body: Vec<u8>,
        /// Validators for the next request.
        validators: Validators,
        /// The URL after redirects, without user info: it is the base of the feed's
        /// relative links, which are posted to rooms.
        final_url: url::Url,
        /// The `Content-Type` header, if sent.
        content_type: Option<String>,
        /// Where a chain of permanent redirects (301/308 only) led, if it did.
        moved_to: Option<url::Url>,
    },
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The whole exchange took longer than the deadline.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// No connection could be made (DNS, refused, TLS).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The server answered with an error status.
    #[error("HTTP {status}{}", if *status == 410 { " Gone: the server says this feed no longer exists" } else { "" })]
    Status {
        /// The status code.
        status: u16,
        /// The server's Retry-After, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The body grew beyond the cap.
    #[error("body larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The SSRF guard refused a URL or address (on the first or a later hop).
    #[error("refused {url}: {refusal}")]
    Refused {
        /// The URL refused, without user info (no response body of it is ever read).
        url: String,
        /// Why.
        refusal: Refusal,
    },
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    /// A redirect pointed back to a URL already visited (shown without user info).
    #[error("redirect loop back to {0}")]
    RedirectLoop(String),
    /// A redirect without a usable Location.
    #[error("bad redirect (HTTP {status}): {message}")]
    BadRedirect {
        /// The redirect status.
        status: u16,
        /// What was wrong with it.
        message: String,
    },
    /// Any other transport problem.
    #[error("network error: {0}")]
    Network(String),
}

impl FetchError {
    /// The error as rooms may read it (the feed list and notices): what failed, with
    /// hosts as written in the URLs but never an address a name resolved to. The
    /// `Display` text, with those addresses, is for the operator's log.
    pub fn room_message(&self) -> String {
        match self {
            FetchError::Refused { url, refusal } => {
                format!("refused {url}: {}", refusal.room_message())
            }
            _ => self.to_string(),
        }
    }

    /// How long the server asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True for 429 and 503: the whole host asked us to slow down.
    pub fn is_host_overloaded(&self) -> bool {
        matches!(
            self,
            FetchError::Status {
                status: 429 | 503,
                ..
            }
        )
    }

    /// True for 410 Gone: the feed should stop being polled.
    pub fn is_gone(&self) -> bool {
        matches!(self, FetchError::Status { status: 410, .. })
    }
}

/// Fetches feed URLs within the configured limits and the SSRF policy.
#[derive(Clone)]
pub struct Fetcher {
    /// Every hop of every feed, except those below; its resolver enforces the guard.
    client: reqwest::Client,
    /// Only hops on the own origin of the config feed being fetched. A client of its
    /// own because reqwest's resolver and connection pool are shared by everything a
    /// client fetches and cannot tell which feed asks: a name trusted here, and a
    /// pooled connection to its private address, must never serve a feed added in a
    /// room.
    trusted_client: reqwest::Client,
    /// The host names `trusted_client`'s resolver lets through.
    trusted_names: Arc<TrustedNames>,
    limits: FetchConfig,
    guard: Arc<Guard>,
}

impl Fetcher {
    /// Builds the clients; private addresses are refused except those in
    /// `limits.allow_private` and, for a config feed, its own origin (see
    /// [`Fetcher::fetch`]).
    pub fn new(limits: &FetchConfig) -> Result<Fetcher, FetchError> {
        let guard = Arc::new(Guard::new(&limits.allow_private));
        let trusted_names = Arc::new(TrustedNames::default());
        let client = build_client(limits, GuardedResolver::new(guard.clone()))?;
        let trusted_client = build_client(
            limits,
            GuardedResolver::for_trusted_origins(guard.clone(), trusted_names.clone()),
        )?;
        Ok(Fetcher {
            client,
            trusted_client,
            trusted_names,
            limits: limits.clone(),
            guard,
        })
    }

    /// The guard this fetcher enforces.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// GETs `url`, sending the validators as a conditional request and following
    /// redirects, all within the total deadline.
    ///
    /// `configured` is the URL the operator wrote in the config file when this is a
    /// config feed (`None` for a feed added in a room): a hop on its origin (scheme,
    /// host, port) may reach a private address, as if it were in `allow_private`.
    /// Every other hop, and every hop of a feed added in a room, gets the plain guard.
    pub async fn fetch(
        &self,
        url: &url::Url,
        validators: &Validators,
        configured: Option<&url::Url>,
    ) -> Result<FetchOutcome, FetchError> {
        let trusted = configured.and_then(TrustedOrigin::of);
        if let Some(name) = trusted.as_ref().and_then(TrustedOrigin::host_name) {
            self.trusted_names.insert(name);
        }
        let deadline = self.limits.timeout;
        match tokio::time::timeout(
            deadline,
            self.fetch_inner(url, validators, trusted.as_ref()),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout(deadline)),
        }
    }

    async fn fetch_inner(
        &self,
        url: &url::Url,
        validators: &Validators,
        trusted: Option<&TrustedOrigin>,
    ) -> Result<FetchOutcome, FetchError> {
        let mut current = url.clone();
        let mut visited = vec![current.clone()];
        let mut all_permanent = true;
        let mut moved_to = None;
        let response = loop {
            let response = self.request(&current, validators, trusted).await?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                break response;
            }
            let code = status.as_u16();
            if !matches!(code, 301 | 302 | 303 | 307 | 308) {
                return Err(FetchError::Status {
                    status: code,
                    retry_after: None,
                });
            }
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| FetchError::BadRedirect {
                    status: code,
                    message: "no Location header".into(),
                })?;
            let next = current
                .join(location.trim())
                .map_err(|e| FetchError::BadRedirect {
                    status: code,
                    message: format!("unusable Location ({e})"),
                })?;
            if visited.len() > MAX_REDIRECTS {
                return Err(FetchError::TooManyRedirects);
            }
            if visited.contains(&next) {
                return Err(FetchError::RedirectLoop(shown_url(next.as_str())));
            }
            all_permanent &= matches!(code, 301 | 308);
            if all_permanent {
                moved_to = Some(next.clone());
            }
            visited.push(next.clone());
            current = next;
        };
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(FetchOutcome::NotModified { moved_to });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after(response.headers()),
            });
        }
        let new_validators = Validators {
            etag: header_string(response.headers(), ETAG),
            last_modified: header_string(response.headers(), LAST_MODIFIED),
        };
        let content_type = header_string(response.headers(), CONTENT_TYPE);
        let limit = self.limits.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(FetchError::TooLarge { limit });
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.transport_error(e))?;
            if body.len() + chunk.len() > limit {
                return Err(FetchError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        // A config feed's credentials stay out of the links resolved against it.
        let mut final_url = current;
        let _ = final_url.set_username("");
        let _ = final_url.set_password(None);
        Ok(FetchOutcome::Fetched {
            body,
            validators: new_validators,
            final_url,
            content_type,
            moved_to,
        })
    }

    /// One hop: the guard's URL check, the request, and the check of the address the
    /// response actually came from; on the config feed's own origin (`trusted`), only
    /// the scheme is checked and the request goes through the trusted client.
    async fn request(
        &self,
        url: &url::Url,
        validators: &Validators,
        trusted: Option<&TrustedOrigin>,
    ) -> Result<reqwest::Response, FetchError> {
        let refused = |refusal| FetchError::Refused {
            url: shown_url(url.as_str()),
            refusal,
        };
        let on_trusted_origin = trusted.is_some_and(|t| t.covers(url));
        let client = if on_trusted_origin {
            Guard::check_scheme(url).map_err(refused)?;
            &self.trusted_client
        } else {
            self.guard.check_url(url).map_err(refused)?;
            &self.client
        };
        let mut request = client.get(url.clone()).header(
            reqwest::header::ACCEPT,
            "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        );
        if let Some(etag) = &validators.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            request = request.header(IF_MODIFIED_SINCE, lm);
        }
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        if let (false, Some(peer), Some(host)) =
            (on_trusted_origin, response.remote_addr(), url.host_str())
        {
            self.guard.check_peer(host, peer).map_err(refused)?;
        }
        Ok(response)
    }

    fn transport_error(&self, e: reqwest::Error) -> FetchError {
        let url = e.url().map(|u| shown_url(u.as_str())).unwrap_or_default();
        // The URL is never part of the messages below.
        let e = e.without_url();
        if let Some(refusal) = find_refusal(&e) {
            return FetchError::Refused { url, refusal };
        }
        if e.is_timeout() {
            FetchError::Timeout(self.limits.timeout)
        } else if e.is_connect() {
            FetchError::Connect(root_cause(&e))
        } else {
            FetchError::Network(root_cause(&e))
        }
    }
}

/// A feed client: no redirects of its own (they are followed hop by hop above), no
/// proxy, and `resolver`.
fn build_client(
    limits: &FetchConfig,
    resolver: GuardedResolver,
) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(limits.connect_timeout)
        .timeout(limits.timeout)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would connect for us to addresses the guard never sees.
        .no_proxy()
        .dns_resolver(Arc::new(resolver))
        .gzip(true)
        .build()
        .map_err(|e| FetchError::Network(e.to_string()))
}

/// The guard's refusal inside a transport error (raised by the resolver), if any.
fn find_refusal(e: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refusal>() {
            return Some(r.clone());
        }
        source = s.source();
    }
    None
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}

fn header_string(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.len() < 1024)
}

/// Parses Retry-After as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn room_messages_keep_the_host_and_drop_resolved_addresses() {
        let resolved = FetchError::Refused {
            url: "http://intranet.example/feed".into(),
            refusal: Refusal::Resolved {
                host: "intranet.example".into(),
                address: "10.1.2.3".parse().unwrap(),
                kind: "private",
            },
        };
        assert!(resolved.to_string().contains("10.1.2.3"), "{resolved}");
        let room = resolved.room_message();
        assert!(
            room.starts_with("refused http://intranet.example/feed: intranet.example"),
            "{room}"
        );
        assert!(!room.contains("10.1.2.3"), "{room}");
        let status = FetchError::Status {
            status: 500,
            retry_after: None,
        };
        assert_eq!(status.room_message(), status.to_string());
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        let future = std::time::SystemTime::now() + Duration::from_secs(600);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(future)).unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(590) && d <= Duration::from_secs(600),
            "{d:?}"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
