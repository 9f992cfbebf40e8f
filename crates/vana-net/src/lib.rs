//! Outbound network access for every VANA tool that reaches the network (fetch, search, the
//! browser, scanners, API tests): one [`OutboundPolicy`].
//!
//! - only `http` and `https` URLs;
//! - loopback, private (RFC 1918), carrier-grade NAT, link-local, unique-local IPv6, special-use
//!   and cloud-metadata addresses are refused unless allowed (`[web] allow_private_networks`,
//!   `[web] allowed_hosts`); unspecified, multicast, reserved and broadcast addresses always are;
//!   IPv6 forms carrying an IPv4 address are judged by that address ([`classify`]);
//! - a name is resolved once ([`OutboundPolicy::resolve`]) and refused when ANY of its addresses
//!   is refused; the client of [`OutboundPolicy::client`] connects only to the addresses it
//!   checked (its DNS resolver is the policy, so no rebinding between check and connect);
//! - every redirect is re-checked (scheme, literal address, and the new host's addresses when
//!   it is connected to), up to a redirect limit.

mod address;
mod client;
mod refusal;

pub use address::{classify, AddressClass};
pub use client::Client;
pub use refusal::Refusal;

use std::net::{IpAddr, SocketAddr};

/// Where tools may connect (set from `[web]` in `vana.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Allow private, loopback, link-local and special-use addresses (an intranet). Cloud
    /// metadata endpoints still need an `allowed_hosts` entry.
    pub allow_private_networks: bool,
    /// Hosts allowed even when their address is private: host names (`intranet.example`),
    /// suffix wildcards (`*.corp.example`), addresses (`10.0.0.5`) or networks (`10.0.0.0/8`).
    pub allowed_hosts: Vec<String>,
}

impl OutboundPolicy {
    /// A policy that refuses every private address (the default).
    pub fn strict() -> Self {
        OutboundPolicy::default()
    }

    /// Whether `host` (a name as written in a URL) is named by an `allowed_hosts` entry.
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.allowed_hosts.iter().any(|entry| {
            let entry = normalize_host(entry);
            if let Some(suffix) = entry.strip_prefix("*.") {
                host.len() > suffix.len()
                    && host.ends_with(suffix)
                    && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
            } else {
                entry == host
            }
        })
    }

    /// Whether `ip` is named by an `allowed_hosts` address or network entry.
    fn addr_allowed(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.allowed_hosts.iter().any(|entry| {
            let entry = normalize_host(entry);
            match entry.split_once('/') {
                Some((net, bits)) => match (net.parse::<IpAddr>(), bits.parse::<u8>()) {
                    (Ok(net), Ok(bits)) => in_network(ip, canonical(net), bits),
                    _ => false,
                },
                None => entry.parse::<IpAddr>().is_ok_and(|a| canonical(a) == ip),
            }
        })
    }

    /// Whether a connection to `ip`, reached through the name `host`, is permitted.
    pub fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), Refusal> {
        let Some(class) = classify(ip) else {
            return Ok(());
        };
        let allowed = class.allowable()
            && ((self.allow_private_networks && class.private_network())
                || self.host_allowed(host)
                || self.addr_allowed(ip));
        if allowed {
            Ok(())
        } else {
            Err(Refusal::Address { host: host.to_string(), addr: ip, class })
        }
    }

    /// Checks a URL before anything is sent: it parses, is http or https, has a host, and a
    /// literal address in it is permitted. A host name is checked when it is resolved
    /// ([`OutboundPolicy::resolve`], or the client's resolver). Returns the parsed URL.
    pub fn check_url(&self, url: &str) -> Result<url::Url, Refusal> {
        let parsed = url::Url::parse(url.trim())
            .map_err(|e| Refusal::InvalidUrl { url: url.to_string(), reason: e.to_string() })?;
        self.check_parsed(&parsed)?;
        Ok(parsed)
    }

    /// [`OutboundPolicy::check_url`] for a URL already parsed.
    pub fn check_parsed(&self, url: &url::Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme { url: url.to_string(), scheme: url.scheme().to_string() });
        }
        match url.host() {
            None => Err(Refusal::InvalidUrl { url: url.to_string(), reason: "it has no host".into() }),
            Some(url::Host::Ipv4(ip)) => self.check_ip(&ip.to_string(), IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(&format!("[{ip}]"), IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => Ok(()),
        }
    }

    /// Resolves `host` once and returns the addresses a connection may use, or a refusal when the
    /// name does not resolve or when ANY of its addresses is refused. (Refusing the whole name
    /// rather than dropping the refused addresses keeps the outcome independent of which address
    /// a connection would pick, and a name mixing public and private answers is what a
    /// rebinding attack looks like.) Connect only to the returned addresses.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            self.check_ip(host, ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if bare.is_empty() {
            return Err(Refusal::Resolve { host: host.to_string(), reason: "empty host name".into() });
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| Refusal::Resolve { host: host.to_string(), reason: e.to_string() })?
            .collect();
        if addrs.is_empty() {
            return Err(Refusal::Resolve { host: host.to_string(), reason: "no addresses".into() });
        }
        for addr in &addrs {
            self.check_ip(host, addr.ip())?;
        }
        Ok(addrs)
    }

    /// An HTTP client that follows this policy: its DNS resolver is [`OutboundPolicy::resolve`]
    /// (so it connects only to checked addresses), proxies from the environment are ignored,
    /// and each redirect is re-checked, at most `max_redirects` of them. Set the user agent,
    /// timeouts and the like on `builder` (e.g. `reqwest::Client::builder()`).
    pub fn client(&self, builder: reqwest::ClientBuilder, max_redirects: usize) -> reqwest::Result<Client> {
        client::build(self.clone(), builder, max_redirects)
    }
}

fn normalize_host(host: &str) -> String {
    host.trim().trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

/// IPv4-mapped IPv6 addresses compare as their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}
