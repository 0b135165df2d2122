//! Who may make the bot fetch what: the SSRF guard. It classifies IP addresses
//! (loopback, private, link-local, CGNAT, multicast, unspecified, reserved and the
//! IPv6 forms that embed such an IPv4 address), holds the operator's allow list
//! (addresses, networks and host names: the only trust every feed shares), checks URLs
//! before every hop, and provides the DNS resolver that drops refused addresses so
//! that the address actually connected to is always one that passed the check, which
//! defeats DNS rebinding. A feed written in the config file is trusted further, on its
//! own origin only ([`TrustedOrigin`]). It also checks the URL of a feed added in a
//! room before it is created ([`check_command_feed_url`]) and takes user info out of
//! URLs that are shown ([`shown_url`]).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use ipnet::IpNet;

/// Why a URL or address may not be fetched.
///
/// The `Display` text is for the operator's log and names every address involved;
/// [`Refusal::room_message`] is the text for rooms, without resolved addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not http or https.
    #[error("scheme {0:?} is not allowed; only http and https")]
    Scheme(String),
    /// The URL has no host.
    #[error("the URL has no host")]
    NoHost,
    /// The URL carries a user name or password (only refused for feeds added in a room).
    #[error(
        "the URL contains a user name or password, which rooms may not give the bot (the operator can put such a feed in the config file)"
    )]
    UserInfo,
    /// The host, as written in the URL, is an address in a refused range.
    #[error(
        "{host} is a {kind} address, which feeds may not reach (the operator can allow it in [fetch] allow_private)"
    )]
    Address {
        /// The host as written in the URL (normalised by the `url` crate).
        host: String,
        /// The kind of range, e.g. "loopback".
        kind: &'static str,
    },
    /// Every address the name resolved to is refused.
    #[error(
        "{host} resolves only to refused addresses ({address} is {kind}); feeds may not reach them (the operator can allow it in [fetch] allow_private)"
    )]
    Resolved {
        /// The host name.
        host: String,
        /// The first refused address.
        address: IpAddr,
        /// Its kind of range.
        kind: &'static str,
    },
    /// The response came from a refused address.
    #[error(
        "{host} ({address}) is a {kind} address, which feeds may not reach (the operator can allow it in [fetch] allow_private)"
    )]
    Peer {
        /// The host as written in the URL.
        host: String,
        /// The address the response came from.
        address: IpAddr,
        /// Its kind of range.
        kind: &'static str,
    },
}

impl Refusal {
    /// The refusal as rooms may read it: the host as written in the URL and the kind
    /// of range, never an address a name resolved to (which would map the operator's
    /// internal network for whoever can add a feed).
    pub fn room_message(&self) -> String {
        const ALLOW: &str = "(the operator can allow it in [fetch] allow_private)";
        match self {
            Refusal::Resolved { host, kind, .. } => format!(
                "{host} resolves only to refused addresses (the first is {kind}); feeds may not reach them {ALLOW}"
            ),
            Refusal::Peer { host, kind, .. } => {
                format!("{host} answered from a {kind} address, which feeds may not reach {ALLOW}")
            }
            Refusal::Scheme(_) | Refusal::NoHost | Refusal::UserInfo | Refusal::Address { .. } => {
                self.to_string()
            }
        }
    }
}

/// The kind of range `ip` belongs to when feeds may not reach it, else `None`.
pub fn refused_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        [0, ..] => "unspecified (0.0.0.0/8)",
        [127, ..] => "loopback",
        [10, ..] => "private",
        [172, b, ..] if (16..32).contains(&b) => "private",
        [192, 168, ..] => "private",
        [169, 254, ..] => "link-local (includes cloud metadata)",
        [100, b, ..] if (64..128).contains(&b) => "CGNAT (100.64.0.0/10)",
        [192, 0, 0, _] => "IETF protocol assignment",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [192, 88, 99, _] => "6to4 relay anycast (192.88.99.0/24, deprecated)",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking",
        [a, ..] if (224..240).contains(&a) => "multicast",
        [a, ..] if a >= 240 => "reserved or broadcast",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    let s = ip.segments();
    // IPv4-mapped (::ffff:a.b.c.d): as good or bad as the IPv4 address itself.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4);
    }
    // IPv4-compatible (::a.b.c.d) is deprecated and never a feed server.
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return Some("IPv4-compatible (deprecated)");
    }
    // IPv4-translated (::ffff:0:a.b.c.d, RFC 2765's SIIT form) is never a feed server.
    if s[..6] == [0, 0, 0, 0, 0xffff, 0] {
        return Some("IPv4-translated (::ffff:0:0:0/96)");
    }
    // Local-use NAT64 (64:ff9b:1::/48) maps IPv4 addresses as its operator chooses.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        return Some("local-use NAT64 (64:ff9b:1::/48)");
    }
    // NAT64 (64:ff9b::/96) embeds an IPv4 address in the last 32 bits.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return refused_v4(v4);
    }
    // 6to4 (2002::/16) embeds an IPv4 address in bits 16..48.
    if s[0] == 0x2002 {
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return refused_v4(v4);
    }
    Some(match s[0] {
        x if x & 0xfe00 == 0xfc00 => "private (unique local)",
        x if x & 0xffc0 == 0xfe80 => "link-local",
        x if x & 0xffc0 == 0xfec0 => "site-local",
        x if x & 0xff00 == 0xff00 => "multicast",
        0x2001 if s[1] == 0x0db8 => "documentation",
        // Teredo tunnels to any IPv4 address, private ones included.
        0x2001 if s[1] == 0 => "Teredo (2001::/32)",
        0x2001 if s[1] < 0x0200 => "IETF special-purpose (2001::/23)",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only",
        _ => return None,
    })
}

/// One entry of the operator's allow list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// An address or network, e.g. `127.0.0.1` or `10.0.0.0/8`.
    Network(IpNet),
    /// A host name, matched exactly (case-insensitive), e.g. `feeds.internal`.
    Host(String),
}

impl AllowEntry {
    /// Parses `127.0.0.1`, `::1`, `10.0.0.0/8`, `fd00::/8` or a host name.
    pub fn parse(s: &str) -> Result<AllowEntry, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty entry".into());
        }
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(AllowEntry::Network(net.trunc()));
        }
        if let Ok(ip) = s.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Ok(AllowEntry::Network(IpNet::from(ip)));
        }
        if s.contains('/') {
            return Err(format!(
                "{s:?} is not a valid network; write e.g. 10.0.0.0/8"
            ));
        }
        let host = normalise_host(s);
        let valid = !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(format!(
                "{s:?} is neither an address, a network (10.0.0.0/8) nor a host name"
            ));
        }
        Ok(AllowEntry::Host(host))
    }
}

fn normalise_host(host: &str) -> String {
    host.trim()
        .trim_end_matches('.')
        .trim_matches(['[', ']'])
        .to_ascii_lowercase()
}

/// The fetch policy every feed shares: which private hosts and networks the operator
/// allows (`[fetch] allow_private`), and nothing else. It never changes while the
/// guard lives, so the trust a config feed gets ([`TrustedOrigin`]) cannot leak into
/// it.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    networks: Vec<IpNet>,
    hosts: HashSet<String>,
}

impl Guard {
    /// A guard that allows `entries` (the config's `allow_private`).
    pub fn new(entries: &[AllowEntry]) -> Guard {
        let mut guard = Guard::default();
        for entry in entries {
            match entry {
                AllowEntry::Network(net) => guard.networks.push(*net),
                AllowEntry::Host(h) => {
                    guard.hosts.insert(h.clone());
                }
            }
        }
        guard
    }

    /// True if the operator allowed this host name.
    pub fn host_allowed(&self, host: &str) -> bool {
        self.hosts.contains(&normalise_host(host))
    }

    /// Why `ip` may not be reached, or `None` if it may.
    pub fn check_ip(&self, ip: IpAddr) -> Option<&'static str> {
        let kind = refused_kind(ip)?;
        let canonical = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        if self
            .networks
            .iter()
            .any(|n| n.contains(&ip) || n.contains(&canonical))
        {
            return None;
        }
        Some(kind)
    }

    /// Checks a URL's scheme: http or https.
    pub fn check_scheme(url: &url::Url) -> Result<(), Refusal> {
        match url.scheme() {
            "http" | "https" => Ok(()),
            other => Err(Refusal::Scheme(other.to_string())),
        }
    }

    /// Checks a URL before a request is made to it: scheme, and the host when it is
    /// an address literal (in any spelling the `url` crate reads as one: decimal,
    /// hex, octal, short, IPv4-mapped IPv6) or `localhost`. Names are checked again,
    /// address by address, when they are resolved.
    pub fn check_url(&self, url: &url::Url) -> Result<(), Refusal> {
        Guard::check_scheme(url)?;
        let ip = match url.host() {
            None => return Err(Refusal::NoHost),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(d)) => {
                let d = normalise_host(d);
                if d.is_empty() {
                    return Err(Refusal::NoHost);
                }
                // `localhost` never needs DNS to be loopback.
                if (d == "localhost" || d.ends_with(".localhost")) && !self.host_allowed(&d) {
                    return Err(Refusal::Address {
                        host: d,
                        kind: "loopback",
                    });
                }
                return Ok(());
            }
        };
        match self.check_ip(ip) {
            None => Ok(()),
            Some(kind) => Err(Refusal::Address {
                host: ip.to_string(),
                kind,
            }),
        }
    }

    /// Checks the address a response actually came from (`host` as in the URL).
    pub fn check_peer(&self, host: &str, peer: SocketAddr) -> Result<(), Refusal> {
        if self.host_allowed(host) {
            return Ok(());
        }
        match self.check_ip(peer.ip()) {
            None => Ok(()),
            Some(kind) => Err(Refusal::Peer {
                host: host.to_string(),
                address: peer.ip(),
                kind,
            }),
        }
    }

    /// Keeps the addresses of `host` that may be reached; an error when none may.
    pub fn filter_resolved(
        &self,
        host: &str,
        addrs: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        if self.host_allowed(host) {
            return Ok(addrs);
        }
        let mut first_refused = None;
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| match self.check_ip(a.ip()) {
                None => true,
                Some(kind) => {
                    first_refused.get_or_insert((a.ip(), kind));
                    false
                }
            })
            .collect();
        match (kept.is_empty(), first_refused) {
            (true, Some((address, kind))) => Err(Refusal::Resolved {
                host: host.to_string(),
                address,
                kind,
            }),
            _ => Ok(kept),
        }
    }
}

/// Checks the URL of a feed about to be added in a room (`feed add`), before anything
/// is stored or fetched: http or https only, no user name or password (everyone who
/// lists the feeds would see them), and no host that is an address literal in a
/// refused range (in every spelling the `url` crate normalises: `2130706433`,
/// `0x7f.1`, `127.1`, `[::ffff:127.0.0.1]`) or `localhost` / `*.localhost`, unless
/// `allow_private` names that address, its network or that host. Host names are
/// checked again when they are resolved at each fetch.
pub fn check_command_feed_url(allow_private: &[AllowEntry], url: &url::Url) -> Result<(), Refusal> {
    Guard::check_scheme(url)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::UserInfo);
    }
    Guard::new(allow_private).check_url(url)
}

/// `url` as it may be shown in a log or a room: without its user name and password
/// (a config feed may carry the operator's credentials, and is still fetched with
/// them). A string that does not parse as a URL is returned unchanged, as is a URL
/// without user info.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            // Both only fail for URLs that cannot have user info in the first place.
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// The extra trust of one feed the operator wrote in the config file: its origin
/// (scheme, host as the `url` crate normalises it, and port) may be reached whatever
/// address it is or resolves to, as if it were in `allow_private`, but only while that
/// feed is fetched, and only on hops whose origin is exactly this one.
///
/// Why per feed and per origin: the operator vouches for the URL they wrote, not for
/// its host's neighbours. Trusting the host for every feed let a room member's
/// `feed add` of another path, port or spelling of the same internal address reach
/// it; trusting it for every hop of the feed would let a redirect to another internal
/// service through. A redirect to the same origin (another path) stays trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedOrigin {
    scheme: String,
    host: url::Host<String>,
    port: u16,
}

impl TrustedOrigin {
    /// The trusted origin of a config feed's configured URL; `None` when it has no
    /// host (then nothing is trusted).
    pub fn of(configured: &url::Url) -> Option<TrustedOrigin> {
        match configured.origin() {
            url::Origin::Tuple(scheme, host, port) => Some(TrustedOrigin { scheme, host, port }),
            url::Origin::Opaque(_) => None,
        }
    }

    /// True when `url` (one hop) is on this origin.
    pub fn covers(&self, url: &url::Url) -> bool {
        match url.origin() {
            url::Origin::Tuple(scheme, host, port) => {
                scheme == self.scheme && host == self.host && port == self.port
            }
            url::Origin::Opaque(_) => false,
        }
    }

    /// The host name, when the origin's host is a name rather than an address.
    pub fn host_name(&self) -> Option<&str> {
        match &self.host {
            url::Host::Domain(d) => Some(d),
            _ => None,
        }
    }
}

/// Host names of config feeds' trusted origins, for the resolver of the client that
/// only fetches those origins ([`GuardedResolver::for_trusted_origins`]).
#[derive(Debug, Default)]
pub struct TrustedNames(RwLock<HashSet<String>>);

impl TrustedNames {
    /// Adds the host name of a trusted origin.
    pub fn insert(&self, host: &str) {
        let host = normalise_host(host);
        if !self.contains(&host) {
            self.0.write().expect("trusted names lock").insert(host);
        }
    }

    /// True if `host` is the host name of a trusted origin.
    pub fn contains(&self, host: &str) -> bool {
        self.0
            .read()
            .expect("trusted names lock")
            .contains(&normalise_host(host))
    }
}

/// The DNS resolver of a feed client: the system resolver, then the guard's filter,
/// so a connection is only ever made to an address that passed the check.
pub struct GuardedResolver {
    guard: Arc<Guard>,
    trusted: Option<Arc<TrustedNames>>,
}

impl GuardedResolver {
    /// A resolver enforcing `guard`: the one of the client every feed uses.
    pub fn new(guard: Arc<Guard>) -> GuardedResolver {
        GuardedResolver {
            guard,
            trusted: None,
        }
    }

    /// The resolver of the client used only for hops on a config feed's own origin:
    /// the names in `trusted` resolve to whatever addresses they have; any other name
    /// is filtered by `guard` as usual. A name is only trusted here, never in the
    /// resolver of the client that fetches feeds added in rooms, so the same name in
    /// such a feed is still refused.
    pub fn for_trusted_origins(guard: Arc<Guard>, trusted: Arc<TrustedNames>) -> GuardedResolver {
        GuardedResolver {
            guard,
            trusted: Some(trusted),
        }
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.guard.clone();
        let trusted = self
            .trusted
            .as_ref()
            .is_some_and(|t| t.contains(name.as_str()));
        let host = name.as_str().to_string();
        Box::pin(async move {
            let lookup = host.clone();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((lookup.as_str(), 0))
                .await?
                .collect();
            let kept = if trusted {
                addrs
            } else {
                guard.filter_resolved(&host, addrs)?
            };
            let iter: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(iter)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_ranges_are_refused_in_every_form() {
        for s in [
            "127.0.0.1",
            "127.1.2.3",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
        ] {
            assert!(refused_kind(ip(s)).is_some(), "{s} must be refused");
        }
        // The special-purpose ranges, each with its name.
        for (s, kind) in [
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo (2001::/32)"),
            ("2001::1", "Teredo (2001::/32)"),
            ("2001:2::1", "IETF special-purpose (2001::/23)"),
            ("2001:1ff:ffff::1", "IETF special-purpose (2001::/23)"),
            ("64:ff9b:1::a00:1", "local-use NAT64 (64:ff9b:1::/48)"),
            ("64:ff9b:1:ffff::1", "local-use NAT64 (64:ff9b:1::/48)"),
            ("::ffff:0:7f00:1", "IPv4-translated (::ffff:0:0:0/96)"),
            ("::ffff:0:808:808", "IPv4-translated (::ffff:0:0:0/96)"),
            (
                "192.88.99.1",
                "6to4 relay anycast (192.88.99.0/24, deprecated)",
            ),
        ] {
            assert_eq!(refused_kind(ip(s)), Some(kind), "{s}");
        }
        // Their neighbours stay public.
        for s in [
            "2001:200::1",
            "2001:4860:4860::8888",
            "64:ff9b:2::1",
            "192.88.98.1",
            "192.88.100.1",
        ] {
            assert_eq!(refused_kind(ip(s)), None, "{s} is public");
        }
        for s in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "93.184.216.34",
            "::ffff:8.8.8.8",
            "2606:4700::1111",
            "2002:0808:0808::",
        ] {
            assert_eq!(refused_kind(ip(s)), None, "{s} is public");
        }
        assert_eq!(
            refused_kind(ip("169.254.169.254")),
            Some("link-local (includes cloud metadata)")
        );
    }

    #[test]
    fn allow_list_lets_named_hosts_and_networks_through() {
        let entries: Vec<AllowEntry> = ["127.0.0.1", "10.0.0.0/8", "Feeds.Internal."]
            .iter()
            .map(|s| AllowEntry::parse(s).unwrap())
            .collect();
        let guard = Guard::new(&entries);
        assert_eq!(guard.check_ip(ip("127.0.0.1")), None);
        assert_eq!(guard.check_ip(ip("::ffff:127.0.0.1")), None);
        assert!(guard.check_ip(ip("127.0.0.2")).is_some());
        assert_eq!(guard.check_ip(ip("10.200.0.1")), None);
        assert!(guard.check_ip(ip("169.254.169.254")).is_some());
        assert!(guard.host_allowed("feeds.internal"));
        let resolved = vec!["192.168.0.5:80".parse().unwrap()];
        assert!(
            guard
                .filter_resolved("feeds.internal", resolved.clone())
                .is_ok()
        );
        let err = guard.filter_resolved("evil.example", resolved).unwrap_err();
        assert!(err.to_string().contains("192.168.0.5 is private"), "{err}");
        assert!(AllowEntry::parse("10.0.0.0/99").is_err());
        assert!(AllowEntry::parse("not a host!").is_err());
    }

    #[test]
    fn urls_are_checked_before_the_request() {
        let guard = Guard::default();
        let check = |s: &str| guard.check_url(&url::Url::parse(s).unwrap());
        assert!(check("https://example.org/feed").is_ok());
        assert!(matches!(
            check("file:///etc/passwd"),
            Err(Refusal::Scheme(_))
        ));
        assert!(matches!(
            check("ftp://example.org/"),
            Err(Refusal::Scheme(_))
        ));
        assert!(check("http://169.254.169.254/latest/meta-data/").is_err());
        assert!(check("http://[::ffff:7f00:1]/").is_err());
        assert!(check("http://localhost:8080/").is_err());
        assert!(
            check("http://0x7f000001/").is_err(),
            "hex forms parse to 127.0.0.1"
        );
        assert!(check("http://2130706433/").is_err(), "decimal forms too");
    }

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    fn allow(entries: &[&str]) -> Vec<AllowEntry> {
        entries
            .iter()
            .map(|s| AllowEntry::parse(s).unwrap())
            .collect()
    }

    /// Every spelling of a loopback address the `url` crate reads, with the address it
    /// names.
    const LOOPBACK_SPELLINGS: [(&str, &str); 7] = [
        ("http://127.0.0.1:8080/other", "127.0.0.1"),
        ("http://2130706433:8080/x", "127.0.0.1"),
        ("http://0x7f.1:8080/x", "127.0.0.1"),
        ("http://0x7f000001:8080/x", "127.0.0.1"),
        ("http://0177.0.0.1:8080/x", "127.0.0.1"),
        ("http://127.1:8080/x", "127.0.0.1"),
        ("http://[::ffff:127.0.0.1]:8080/x", "::ffff:127.0.0.1"),
    ];

    #[test]
    fn command_feeds_are_refused_every_spelling_of_a_refused_address() {
        for (spelled, host) in LOOPBACK_SPELLINGS {
            let err = check_command_feed_url(&[], &url(spelled)).unwrap_err();
            assert_eq!(
                err,
                Refusal::Address {
                    host: host.into(),
                    kind: "loopback"
                },
                "{spelled}"
            );
            assert!(
                err.to_string()
                    .starts_with(&format!("{host} is a loopback address")),
                "{spelled}: {err}"
            );
            assert!(err.to_string().contains("allow_private"), "{err}");
        }
        for (spelled, kind) in [
            ("http://localhost:8080/x", "loopback"),
            ("http://feeds.LOCALHOST./x", "loopback"),
            ("http://0xa9fea9fe/latest/meta-data/", "link-local"),
            ("http://[::ffff:10.0.0.1]/feed", "private"),
            ("http://0/feed", "unspecified"),
        ] {
            let err = check_command_feed_url(&[], &url(spelled)).unwrap_err();
            assert!(
                matches!(&err, Refusal::Address { kind: k, .. } if k.starts_with(kind)),
                "{spelled}: {err}"
            );
        }
        assert!(matches!(
            check_command_feed_url(&[], &url("ftp://example.org/feed")),
            Err(Refusal::Scheme(_))
        ));
        assert_eq!(
            check_command_feed_url(&[], &url("https://example.org/feed.xml")),
            Ok(())
        );
        // A name is checked when it is resolved, not here.
        assert_eq!(
            check_command_feed_url(&[], &url("http://feeds.internal/x")),
            Ok(())
        );
    }

    #[test]
    fn command_feeds_may_not_carry_user_info() {
        for spelled in [
            "http://user:s3cr3t-pw@127.0.0.1:8080/x",
            "https://user:s3cr3t-pw@example.org/feed",
            "https://user@example.org/feed",
            "https://:s3cr3t-pw@example.org/feed",
        ] {
            let err = check_command_feed_url(&allow(&["127.0.0.1"]), &url(spelled)).unwrap_err();
            assert_eq!(err, Refusal::UserInfo, "{spelled}");
            let text = err.to_string();
            assert!(text.contains("user name or password"), "{text}");
            assert!(
                !text.contains("s3cr3t") && !text.contains("user:"),
                "{text}"
            );
        }
    }

    #[test]
    fn allow_private_naming_the_address_lets_every_spelling_of_it_in() {
        for entries in [&["127.0.0.1"][..], &["127.0.0.0/8"]] {
            let allowed = allow(entries);
            for (spelled, _) in LOOPBACK_SPELLINGS {
                assert_eq!(
                    check_command_feed_url(&allowed, &url(spelled)),
                    Ok(()),
                    "{entries:?} {spelled}"
                );
            }
            // Only what it names.
            assert!(
                check_command_feed_url(&allowed, &url("http://10.0.0.1/x")).is_err(),
                "{entries:?}"
            );
            assert!(
                check_command_feed_url(&allowed, &url("http://localhost/x")).is_err(),
                "{entries:?}: localhost is a name of its own"
            );
        }
        let by_name = allow(&["localhost"]);
        assert_eq!(
            check_command_feed_url(&by_name, &url("http://localhost:8080/x")),
            Ok(())
        );
        assert!(check_command_feed_url(&by_name, &url("http://127.0.0.1:8080/x")).is_err());
    }

    #[test]
    fn a_config_feed_trusts_its_own_origin_and_nothing_else() {
        let configured = url("http://user:pw@127.0.0.1:8080/feed.xml");
        let trusted = TrustedOrigin::of(&configured).unwrap();
        // Its own origin, in any path or spelling.
        for same in [
            "http://127.0.0.1:8080/feed.xml",
            "http://127.0.0.1:8080/other",
            "http://0x7f.1:8080/x",
            "http://127.1:8080/x",
            "http://2130706433:8080/x",
        ] {
            assert!(trusted.covers(&url(same)), "{same}");
        }
        // Another port, scheme or host is another origin.
        for other in [
            "http://127.0.0.1:8081/feed.xml",
            "http://127.0.0.1/feed.xml",
            "https://127.0.0.1:8080/feed.xml",
            "http://localhost:8080/feed.xml",
            "http://127.0.0.2:8080/feed.xml",
            "http://[::ffff:127.0.0.1]:8080/x",
            "http://[::1]:8080/x",
        ] {
            assert!(!trusted.covers(&url(other)), "{other}");
        }
        assert!(
            TrustedOrigin::of(&url("https://feeds.internal/x"))
                .unwrap()
                .covers(&url("https://FEEDS.internal:443/y"))
        );
        assert_eq!(
            TrustedOrigin::of(&url("http://Feeds.Internal:81/x"))
                .unwrap()
                .host_name(),
            Some("feeds.internal")
        );
        // A config feed on the address gives a feed added in a room nothing: the
        // check for those knows only allow_private, and refuses every spelling.
        for (spelled, _) in LOOPBACK_SPELLINGS {
            assert!(
                check_command_feed_url(&[], &url(spelled)).is_err(),
                "{spelled}"
            );
            assert!(
                Guard::new(&[]).check_url(&url(spelled)).is_err(),
                "{spelled}"
            );
        }
    }

    #[tokio::test]
    async fn only_the_trusted_origins_resolver_lets_a_trusted_name_through() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let guard = Arc::new(Guard::default());
        let names = Arc::new(TrustedNames::default());
        names.insert("LOCALHOST.");
        let trusted = GuardedResolver::for_trusted_origins(guard.clone(), names);
        let plain = GuardedResolver::new(guard);
        let name = || reqwest::dns::Name::from_str("localhost").unwrap();
        let addrs: Vec<SocketAddr> = trusted.resolve(name()).await.unwrap().collect();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
        let err = match plain.resolve(name()).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let refusal = err.downcast_ref::<Refusal>().expect("a refusal");
        assert!(matches!(refusal, Refusal::Resolved { .. }), "{refusal}");
        // Another name is filtered as usual by the trusted resolver too.
        let names = Arc::new(TrustedNames::default());
        names.insert("feeds.internal");
        let trusted = GuardedResolver::for_trusted_origins(Arc::new(Guard::default()), names);
        assert!(trusted.resolve(name()).await.is_err());
    }

    #[test]
    fn room_messages_name_no_resolved_address() {
        let resolved = Guard::default()
            .filter_resolved("intranet.example", vec!["10.1.2.3:80".parse().unwrap()])
            .unwrap_err();
        assert!(
            resolved.to_string().contains("10.1.2.3 is private"),
            "{resolved}"
        );
        let room = resolved.room_message();
        assert!(
            room.contains("intranet.example") && room.contains("private"),
            "{room}"
        );
        assert!(!room.contains("10.1.2.3"), "{room}");
        let peer = Guard::default()
            .check_peer("rebind.example", "10.1.2.3:80".parse().unwrap())
            .unwrap_err();
        assert!(
            peer.to_string().contains("rebind.example (10.1.2.3)"),
            "{peer}"
        );
        let room = peer.room_message();
        assert!(
            room.contains("rebind.example") && room.contains("private"),
            "{room}"
        );
        assert!(!room.contains("10.1.2.3"), "{room}");
        // An address written in the URL is the host as written: shown as it is.
        let literal = Guard::default()
            .check_url(&url("http://10.1.2.3/x"))
            .unwrap_err();
        assert_eq!(literal.room_message(), literal.to_string());
    }

    #[test]
    fn shown_urls_carry_no_user_info() {
        assert_eq!(
            shown_url("https://user:s3cr3t@feeds.example/x.xml?a=1"),
            "https://feeds.example/x.xml?a=1"
        );
        assert_eq!(
            shown_url("http://user@127.0.0.1:8080/x"),
            "http://127.0.0.1:8080/x"
        );
        assert_eq!(shown_url("http://:pw@example.org/"), "http://example.org/");
        // Unchanged when there is nothing to take out, or it is no URL.
        assert_eq!(
            shown_url("https://Example.org/A?b"),
            "https://Example.org/A?b"
        );
        assert_eq!(shown_url("not a url"), "not a url");
        assert_eq!(shown_url(""), "");
    }

    #[test]
    fn mixed_answers_keep_only_public_addresses() {
        let guard = Guard::default();
        let addrs = vec![
            "127.0.0.1:80".parse().unwrap(),
            "93.184.216.34:80".parse().unwrap(),
        ];
        assert_eq!(
            guard.filter_resolved("rebind.example", addrs).unwrap(),
            vec!["93.184.216.34:80".parse::<SocketAddr>().unwrap()]
        );
    }
}
