//! A reqwest client pinned to the policy: its resolver checks every address it hands out, and its
//! redirect policy re-checks every hop.

use crate::{OutboundPolicy, Refusal};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::sync::Arc;

/// The client's DNS resolver: [`OutboundPolicy::resolve`], so the address connected to is the
/// address checked.
struct PolicyResolver(Arc<OutboundPolicy>);

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = policy.resolve(&host, 0).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client that follows an [`OutboundPolicy`] (made by [`OutboundPolicy::client`]).
#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

impl Client {
    /// A request to `url` after [`OutboundPolicy::check_url`] (a literal address in the URL never
    /// reaches the resolver, so it is checked here).
    pub fn request(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder, Refusal> {
        let parsed = self.policy.check_url(url)?;
        Ok(self.inner.request(method, parsed))
    }

    /// A GET request to `url` after [`OutboundPolicy::check_url`].
    pub fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, Refusal> {
        self.request(reqwest::Method::GET, url)
    }

    /// The policy it follows.
    pub fn policy(&self) -> &OutboundPolicy {
        &self.policy
    }
}

pub(crate) fn build(
    policy: OutboundPolicy,
    builder: reqwest::ClientBuilder,
    max_redirects: usize,
) -> reqwest::Result<Client> {
    let policy = Arc::new(policy);
    let for_redirects = policy.clone();
    let redirect = reqwest::redirect::Policy::custom(move |attempt| {
        // `previous` holds the first URL and every redirect followed so far.
        if attempt.previous().len() > max_redirects {
            let url = attempt.url().to_string();
            return attempt.error(Refusal::TooManyRedirects { limit: max_redirects, url });
        }
        match for_redirects.check_parsed(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(reason) => {
                let from = attempt.previous().last().map(|u| u.to_string()).unwrap_or_default();
                attempt.error(Refusal::Redirect { from, reason: Box::new(reason) })
            }
        }
    });
    let inner = builder.dns_resolver(PolicyResolver(policy.clone())).no_proxy().redirect(redirect).build()?;
    Ok(Client { inner, policy })
}
