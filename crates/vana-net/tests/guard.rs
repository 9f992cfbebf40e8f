//! The outbound guard as a pure function over many addresses and URLs: nothing is sent.

use std::net::IpAddr;
use vana_net::{classify, AddressClass, OutboundPolicy, Refusal};

fn class(ip: &str) -> Option<AddressClass> {
    classify(ip.parse::<IpAddr>().unwrap())
}

#[test]
fn every_non_public_range_is_classified() {
    use AddressClass::*;
    let cases: &[(&str, AddressClass)] = &[
        ("127.0.0.1", Loopback),
        ("127.255.255.254", Loopback),
        ("::1", Loopback),
        ("10.0.0.1", Private),
        ("10.255.255.255", Private),
        ("172.16.0.1", Private),
        ("172.31.255.255", Private),
        ("192.168.1.1", Private),
        ("100.64.0.1", SharedNat),
        ("100.127.255.255", SharedNat),
        ("169.254.1.1", LinkLocal),
        ("fe80::1", LinkLocal),
        ("fc00::1", UniqueLocal),
        ("fd12:3456::1", UniqueLocal),
        ("fec0::1", UniqueLocal),
        ("169.254.169.254", Metadata),
        ("169.254.170.2", Metadata),
        ("100.100.100.200", Metadata),
        ("fd00:ec2::254", Metadata),
        ("0.0.0.0", Unspecified),
        ("0.1.2.3", Unspecified),
        ("::", Unspecified),
        ("224.0.0.1", Multicast),
        ("239.255.255.250", Multicast),
        ("ff02::1", Multicast),
        ("255.255.255.255", Reserved),
        ("240.0.0.1", Reserved),
        ("192.0.2.1", Special),
        ("198.51.100.7", Special),
        ("203.0.113.9", Special),
        ("198.18.0.1", Special),
        ("192.0.0.8", Special),
        ("2001:db8::1", Special),
        ("2001::1", Special),
        // IPv6 forms that carry an IPv4 address are judged by it.
        ("::ffff:127.0.0.1", Loopback),
        ("::ffff:10.1.2.3", Private),
        ("::ffff:169.254.169.254", Metadata),
        ("::127.0.0.1", Loopback),
        ("::ffff:0:192.168.0.1", Private),
        ("64:ff9b::10.0.0.1", Private),
        ("64:ff9b::169.254.169.254", Metadata),
        ("2002:7f00:1::", Loopback),
        ("2002:a9fe:a9fe::1", Metadata),
    ];
    for (ip, want) in cases {
        assert_eq!(class(ip), Some(*want), "{ip}");
    }
}

#[test]
fn public_addresses_pass() {
    for ip in [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.216.34",
        "172.15.255.255",
        "172.32.0.1",
        "100.63.255.255",
        "100.128.0.1",
        "169.253.1.1",
        "192.169.0.1",
        "2606:4700:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
    ] {
        assert_eq!(class(ip), None, "{ip}");
        OutboundPolicy::strict().check_ip("x.example", ip.parse().unwrap()).unwrap();
    }
}

#[test]
fn allow_private_networks_opens_an_intranet_but_not_metadata_or_nonsense() {
    let open = OutboundPolicy { allow_private_networks: true, allowed_hosts: vec![] };
    for ip in ["127.0.0.1", "10.0.0.5", "192.168.3.4", "100.64.1.1", "fe80::1", "fd00::7", "::ffff:10.0.0.1"]
    {
        open.check_ip("intranet", ip.parse().unwrap()).unwrap();
        let err = OutboundPolicy::strict().check_ip("intranet", ip.parse().unwrap()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("allow_private_networks") && msg.contains("allowed_hosts"), "{msg}");
    }
    for ip in ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"] {
        let msg = open.check_ip("meta", ip.parse().unwrap()).unwrap_err().to_string();
        assert!(msg.contains("metadata") && msg.contains("allowed_hosts"), "{msg}");
    }
    for ip in ["0.0.0.0", "::", "224.0.0.1", "255.255.255.255", "ff02::1"] {
        let everything = OutboundPolicy {
            allow_private_networks: true,
            allowed_hosts: vec![ip.to_string(), "0.0.0.0/0".into(), "::/0".into(), "any".into()],
        };
        let msg = everything.check_ip("any", ip.parse().unwrap()).unwrap_err().to_string();
        assert!(msg.contains("never connected to"), "{msg}");
    }
}

#[test]
fn allowed_hosts_names_addresses_networks_and_wildcards() {
    let policy = OutboundPolicy {
        allow_private_networks: false,
        allowed_hosts: vec![
            "Wiki.Intranet.Example.".into(),
            "*.corp.example".into(),
            "10.0.0.5".into(),
            "192.168.8.0/24".into(),
            "fd00:1::/32".into(),
            "169.254.169.254".into(),
        ],
    };
    let ok = |host: &str, ip: &str| policy.check_ip(host, ip.parse().unwrap());
    ok("wiki.intranet.example", "10.9.9.9").unwrap();
    ok("WIKI.intranet.example.", "127.0.0.1").unwrap();
    ok("a.corp.example", "10.1.1.1").unwrap();
    ok("a.b.corp.example", "10.1.1.1").unwrap();
    ok("x.example", "10.0.0.5").unwrap();
    ok("x.example", "::ffff:10.0.0.5").unwrap();
    ok("x.example", "192.168.8.200").unwrap();
    ok("x.example", "fd00:1:2::3").unwrap();
    ok("x.example", "169.254.169.254").unwrap();
    ok("corp.example", "10.1.1.1").unwrap_err();
    ok("evilcorp.example", "10.1.1.1").unwrap_err();
    ok("intranet.example", "10.9.9.9").unwrap_err();
    ok("x.example", "10.0.0.6").unwrap_err();
    ok("x.example", "192.168.9.1").unwrap_err();
    ok("x.example", "fd00:2::1").unwrap_err();
}

#[test]
fn urls_are_checked_for_scheme_and_literal_addresses() {
    let strict = OutboundPolicy::strict();
    strict.check_url("https://example.org/a?b#c").unwrap();
    strict.check_url("http://8.8.8.8/").unwrap();
    for url in [
        "file:///etc/passwd",
        "ftp://example.org/",
        "gopher://example.org/",
        "data:text/html,hi",
        "javascript:alert(1)",
    ] {
        let err = strict.check_url(url).unwrap_err();
        assert!(matches!(err, Refusal::Scheme { .. } | Refusal::InvalidUrl { .. }), "{url}: {err}");
        assert!(err.to_string().contains("http"), "{err}");
    }
    // Literal addresses in every spelling the URL parser accepts.
    for url in [
        "http://127.0.0.1:8080/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0:22/",
        "http://10.0.0.1/",
        "https://192.168.0.1/admin",
    ] {
        let err = strict.check_url(url).unwrap_err();
        assert!(matches!(err, Refusal::Address { .. }), "{url}: {err}");
    }
    assert!(matches!(strict.check_url("not a url").unwrap_err(), Refusal::InvalidUrl { .. }));
}

#[tokio::test]
async fn resolve_refuses_names_that_reach_loopback_and_pins_what_it_checked() {
    let strict = OutboundPolicy::strict();
    let err = strict.resolve("localhost", 80).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`localhost` resolves to") && msg.contains("loopback"), "{msg}");
    assert!(msg.contains("[web] allow_private_networks") && msg.contains("[web] allowed_hosts"), "{msg}");
    let err = strict.resolve("[::1]", 80).await.unwrap_err();
    assert!(matches!(err, Refusal::Address { .. }), "{err}");

    let by_name = OutboundPolicy { allow_private_networks: false, allowed_hosts: vec!["localhost".into()] };
    let addrs = by_name.resolve("localhost", 8080).await.unwrap();
    assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080), "{addrs:?}");
    let literal = by_name.resolve("127.0.0.1", 9).await.unwrap_err();
    assert!(literal.to_string().contains("127.0.0.1 is a loopback address"), "{literal}");

    let err = strict.resolve("no-such-host.invalid", 80).await.unwrap_err();
    assert!(matches!(err, Refusal::Resolve { .. }), "{err}");
}
