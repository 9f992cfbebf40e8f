//! The policy's client against real servers on 127.0.0.0/8: a refused address receives no
//! request at all, and a redirect from an allowed host to a refused one is refused.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use vana_net::{OutboundPolicy, Refusal};

/// A server on `ip` counting every request it receives.
async fn server(ip: &str, target: Option<String>) -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route(
            "/",
            get(|State((hits, _)): State<(Arc<AtomicUsize>, Option<String>)>| async move {
                hits.fetch_add(1, Ordering::SeqCst);
                "hello"
            }),
        )
        .route(
            "/hop",
            get(|State((hits, target)): State<(Arc<AtomicUsize>, Option<String>)>| async move {
                hits.fetch_add(1, Ordering::SeqCst);
                Redirect::temporary(target.as_deref().unwrap_or("/")).into_response()
            }),
        )
        .route(
            "/loop",
            get(|State((hits, _)): State<(Arc<AtomicUsize>, Option<String>)>| async move {
                hits.fetch_add(1, Ordering::SeqCst);
                Redirect::temporary("/loop").into_response()
            }),
        )
        .with_state((hits.clone(), target));
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hits)
}

fn client(policy: OutboundPolicy) -> vana_net::Client {
    policy.client(reqwest::Client::builder(), 5).unwrap()
}

fn refusal(err: &reqwest::Error) -> Refusal {
    Refusal::find(err).cloned().unwrap_or_else(|| panic!("not a refusal: {err:?}"))
}

#[tokio::test]
async fn denied_loopback_receives_no_request() {
    let (addr, hits) = server("127.0.0.1", None).await;
    let strict = client(OutboundPolicy::strict());
    // A literal address is refused before anything is built.
    let err = strict.get(&format!("http://{addr}/")).unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    // A name that resolves to loopback is refused by the client's resolver, at connect time.
    let req = strict.get(&format!("http://localhost:{}/", addr.port())).unwrap();
    let err = refusal(&req.send().await.unwrap_err());
    assert!(matches!(err, Refusal::Address { ref host, .. } if host == "localhost"), "{err}");
    assert!(err.to_string().contains("[web] allowed_hosts"), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the refused server received a request");

    // The same server, allowed: it answers (so the zero above means something).
    let open = client(OutboundPolicy { allow_private_networks: true, allowed_hosts: vec![] });
    let body = open.get(&format!("http://{addr}/")).unwrap().send().await.unwrap().text().await.unwrap();
    assert_eq!(body, "hello");
    let body = open
        .get(&format!("http://localhost:{}/", addr.port()))
        .unwrap()
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "hello");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn redirect_from_an_allowed_host_to_a_denied_one_is_refused() {
    let (denied, denied_hits) = server("127.0.0.2", None).await;
    let (allowed, allowed_hits) = server("127.0.0.1", Some(format!("http://{denied}/"))).await;
    let policy = OutboundPolicy { allow_private_networks: false, allowed_hosts: vec!["127.0.0.1".into()] };
    let c = client(policy.clone());
    let err = refusal(&c.get(&format!("http://{allowed}/hop")).unwrap().send().await.unwrap_err());
    match &err {
        Refusal::Redirect { from, reason } => {
            assert!(from.ends_with("/hop"), "{from}");
            assert!(matches!(**reason, Refusal::Address { .. }), "{reason}");
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("127.0.0.2 is a loopback address"), "{err}");
    assert_eq!(allowed_hits.load(Ordering::SeqCst), 1);
    assert_eq!(denied_hits.load(Ordering::SeqCst), 0, "the redirect target received a request");

    // A redirect to another scheme.
    let (to_file, _) = server("127.0.0.1", Some("file:///etc/passwd".into())).await;
    // reqwest does not follow a redirect to a scheme it cannot fetch: the caller gets the 307.
    let res = c.get(&format!("http://{to_file}/hop")).unwrap().send().await.unwrap();
    assert_eq!(res.status(), 307);
    assert_eq!(denied_hits.load(Ordering::SeqCst), 0);

    // With the target allowed too, the same chain is followed.
    let both = client(OutboundPolicy {
        allow_private_networks: false,
        allowed_hosts: vec!["127.0.0.1".into(), "127.0.0.2".into()],
    });
    let body =
        both.get(&format!("http://{allowed}/hop")).unwrap().send().await.unwrap().text().await.unwrap();
    assert_eq!(body, "hello");
    assert_eq!(denied_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirect_loops_stop_at_the_limit() {
    let (addr, hits) = server("127.0.0.1", None).await;
    let c = client(OutboundPolicy { allow_private_networks: true, allowed_hosts: vec![] });
    let err = refusal(&c.get(&format!("http://{addr}/loop")).unwrap().send().await.unwrap_err());
    assert!(matches!(err, Refusal::TooManyRedirects { limit: 5, .. }), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 6);
}
