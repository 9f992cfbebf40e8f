//! The container tools without an Engine API: each names what to install or start, and refuses
//! names that would change the request path, before anything is sent.

mod common;

use serde_json::json;
use std::collections::HashMap;
use vana_core::ToolError;
use vana_tools_devops::{AwsConfig, DevopsConfig};

fn no_socket() -> common::Harness {
    let config = DevopsConfig { docker_socket: "/nonexistent/docker.sock".into(), ..DevopsConfig::default() };
    common::harness_with(config, AwsConfig::default(), HashMap::new())
}

#[tokio::test]
async fn a_missing_socket_names_what_to_install() {
    let h = no_socket();
    h.plant("s", &[("Dockerfile", "FROM scratch\n")]);
    for (tool, args) in [
        ("docker_ps", json!({})),
        ("docker_logs", json!({"container": "web"})),
        ("docker_stop", json!({"container": "web"})),
        ("docker_run", json!({"image": "busybox:1.36"})),
        ("docker_build", json!({"tag": "app:1"})),
    ] {
        let e = h.call("s", tool, args).await.unwrap_err();
        assert!(matches!(e, ToolError::Unavailable(_)), "{tool}: {e}");
        let e = e.to_string();
        assert!(
            e.contains("/nonexistent/docker.sock")
                && e.contains("podman system service")
                && e.contains("apt-get install -y podman"),
            "{tool}: {e}"
        );
    }
}

#[tokio::test]
async fn names_that_would_change_the_request_are_refused() {
    let h = no_socket();
    for (tool, args) in [
        ("docker_logs", json!({"container": "../images/json"})),
        ("docker_stop", json!({"container": "web?force=1"})),
        ("docker_run", json!({"image": "busybox", "name": "a/b"})),
        ("docker_build", json!({"tag": "app:1", "path": "../../etc"})),
    ] {
        let e = h.call("s", tool, args).await.unwrap_err();
        assert!(matches!(e, ToolError::InvalidArgs(_) | ToolError::Blocked(_)), "{tool}: {e}");
    }
}

#[test]
fn engine_api_wire_format() {
    use vana_tools_devops::docker;
    let r = docker::parse(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, b"hello world".as_slice()));
    // Multiplexed logs: stdout frame + stderr frame.
    let mut framed = vec![1, 0, 0, 0, 0, 0, 0, 3];
    framed.extend(b"ok\n");
    framed.extend([2, 0, 0, 0, 0, 0, 0, 4]);
    framed.extend(b"err\n");
    assert_eq!(docker::demux_logs(&framed), "ok\nerr\n");
    let t = docker::tar(&[("Dockerfile".into(), b"FROM scratch\n".to_vec())]).unwrap();
    assert_eq!(t.len() % 512, 0);
    assert_eq!(&t[257..262], b"ustar");
}

#[test]
fn status_names_each_missing_part_and_its_fix() {
    use vana_toolkit::ToolSuite;
    let config = DevopsConfig {
        hadolint: "/nonexistent/hadolint".into(),
        docker_socket: "/nonexistent/docker.sock".into(),
        ..DevopsConfig::default()
    };
    let h = common::harness_with(config, AwsConfig::default(), HashMap::new());
    let status = h.suite.status();
    let whats: Vec<&str> = status.missing.iter().map(|m| m.what.as_str()).collect();
    assert!(whats.iter().any(|w| w.starts_with("hadolint")), "{whats:?}");
    assert!(whats.iter().any(|w| w.contains("Podman")), "{whats:?}");
    // Installed by the setup script: found without configuration.
    assert!(
        !whats.iter().any(|w| w.starts_with("actionlint") || w.starts_with("kubernetes-validate")),
        "{whats:?}"
    );
    assert!(status.missing.iter().all(|m| !m.fix.is_empty()));
    let bad_endpoint = AwsConfig { endpoint_url: "ftp://x".into(), ..AwsConfig::default() };
    let h = common::harness_with(DevopsConfig::default(), bad_endpoint, HashMap::new());
    assert!(h.suite.status().missing.iter().any(|m| m.fix.contains("endpoint_url")));
}
