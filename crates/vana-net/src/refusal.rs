//! Why an outbound connection was refused: a typed error whose message names the setting to change.

use crate::address::AddressClass;
use std::net::IpAddr;

/// An outbound request the policy refused (nothing was sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The URL does not parse or has no host.
    #[error("`{url}` is not a usable URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A scheme other than http or https.
    #[error("`{url}` uses the `{scheme}` scheme; only http and https URLs are fetched")]
    Scheme {
        /// The URL as given.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// The host is, or resolves to, an address the policy refuses.
    #[error("{}", address_message(host, *addr, *class))]
    Address {
        /// The host as named in the URL.
        host: String,
        /// The refused address.
        addr: IpAddr,
        /// What kind of address it is.
        class: AddressClass,
    },
    /// The host name does not resolve.
    #[error("the host `{host}` could not be resolved: {reason}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's answer.
        reason: String,
    },
    /// More redirects than the limit.
    #[error("more than {limit} redirects (last one to `{url}`); the page was not fetched")]
    TooManyRedirects {
        /// The redirect limit.
        limit: usize,
        /// Where the last redirect pointed.
        url: String,
    },
    /// A redirect pointed somewhere the policy refuses.
    #[error("a redirect from `{from}` was refused: {reason}")]
    Redirect {
        /// The URL that answered with the redirect.
        from: String,
        /// Why its target is refused.
        reason: Box<Refusal>,
    },
}

fn address_message(host: &str, addr: IpAddr, class: AddressClass) -> String {
    let subject = if host.trim_start_matches('[').trim_end_matches(']') == addr.to_string() {
        format!("{addr} is a {class} address")
    } else {
        format!("`{host}` resolves to {addr}, a {class} address")
    };
    let remedy = if !class.allowable() {
        "such addresses are never connected to".to_string()
    } else if class.private_network() {
        format!(
            "outbound connections to it are refused; to allow it, set `[web] allow_private_networks = true` \
             or add \"{host}\" to `[web] allowed_hosts` in vana.toml"
        )
    } else {
        format!(
            "outbound connections to it are refused (`[web] allow_private_networks` does not cover metadata \
             endpoints); to allow it, add \"{host}\" to `[web] allowed_hosts` in vana.toml"
        )
    };
    format!("{subject}: {remedy}")
}

impl Refusal {
    /// The refusal behind an error from a client made by [`crate::OutboundPolicy::client`]
    /// (a refused redirect or a refused address at connect time), if that is what it was.
    pub fn find<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refusal> {
        let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = cur {
            if let Some(r) = e.downcast_ref::<Refusal>() {
                return Some(r);
            }
            cur = e.source();
        }
        None
    }
}
