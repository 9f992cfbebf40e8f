//! The docker_* tools against Podman's Docker-compatible Engine API (`podman system service`,
//! started here on a private socket with the containers.conf of scripts/setup-devops.sh): build
//! an image from a workspace folder, run it, list it, read its logs, stop it; a failing build
//! reports the failing step.

mod common;

use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use vana_tools_devops::{docker, AwsConfig, DevopsConfig};

struct Service {
    child: Child,
    _dir: vana_testkit::TempDir,
    socket: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn conf() -> std::path::PathBuf {
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../.cache/devops-podman/containers.conf");
    assert!(p.exists(), "{} is missing: run scripts/setup-devops.sh", p.display());
    p
}

async fn start() -> Service {
    let dir = vana_testkit::tempdir();
    let socket = dir.path().join("podman.sock").display().to_string();
    let child = Command::new("podman")
        .args(["system", "service", "--time=0", &format!("unix://{socket}")])
        .env("CONTAINERS_CONF", conf())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("podman is not installed: run scripts/setup-devops.sh (apt-get install -y podman runc)");
    let svc = Service { child, _dir: dir, socket };
    for _ in 0..200 {
        if tokio::net::UnixStream::connect(&svc.socket).await.is_ok() {
            return svc;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("podman system service did not listen on {}", svc.socket);
}

#[tokio::test]
async fn build_run_ps_logs_stop_under_podman() {
    let svc = start().await;
    let config = DevopsConfig { docker_socket: svc.socket.clone(), ..DevopsConfig::default() };
    let h = common::harness_with(config.clone(), AwsConfig::default(), HashMap::new());
    let tag = format!("localhost/vana-test-{}:1", std::process::id());
    let name = format!("vana-test-{}", std::process::id());
    h.plant(
        "s",
        &[
            ("svc/Dockerfile", "FROM localhost/busybox:1\nCOPY hello.txt /hello.txt\nCMD [\"sh\", \"-c\", \"cat /hello.txt; sleep 300\"]\n"),
            ("svc/hello.txt", "hello from the workspace\n"),
            ("svc/node_modules/big/index.js", "left out of the context\n"),
        ],
    );
    let built = h.call("s", "docker_build", json!({"path": "svc", "tag": tag})).await.unwrap();
    assert_eq!(built["context_files"], 2, "{built}");
    assert!(built["log"].as_str().unwrap().contains("COPY hello.txt"), "{built}");

    let run = h.call("s", "docker_run", json!({"image": tag, "name": name})).await.unwrap();
    assert_eq!(run["started"], true);
    let ps = h.call("s", "docker_ps", json!({})).await.unwrap();
    let mine =
        ps["containers"].as_array().unwrap().iter().find(|c| c["names"].to_string().contains(&name)).cloned();
    let mine = mine.unwrap_or_else(|| panic!("{name} not listed: {ps}"));
    assert_eq!(mine["state"], "running", "{mine}");
    let mut logs = String::new();
    for _ in 0..50 {
        let l = h.call("s", "docker_logs", json!({"container": name})).await.unwrap();
        logs = l["logs"].as_str().unwrap().to_string();
        if !logs.trim().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(logs, "hello from the workspace\n");
    h.call("s", "docker_stop", json!({"container": name, "timeout_secs": 1})).await.unwrap();
    let ps = h.call("s", "docker_ps", json!({"all": true})).await.unwrap();
    let mine = ps["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["names"].to_string().contains(&name))
        .cloned()
        .unwrap();
    assert_eq!(mine["state"], "exited", "{mine}");

    // A failing step fails the build with its message.
    h.plant("s", &[("bad/Dockerfile", "FROM localhost/busybox:1\nRUN false\n")]);
    let e = h
        .call("s", "docker_build", json!({"path": "bad", "tag": "localhost/vana-bad:1"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("build failed"), "{e}");

    let t = Duration::from_secs(30);
    let _ = docker::request(&config, "DELETE", &format!("/containers/{name}?force=true"), None, b"", t).await;
    let _ = docker::request(&config, "DELETE", &format!("/images/{tag}?force=true"), None, b"", t).await;
}

/// A Dockerfile from `generate_dockerfile` (Python project; the build and runtime bases pointed at
/// the Debian 12 + Python image the setup script made, since no image can be pulled) passes
/// hadolint, builds under Podman with `docker_build`, and runs as the unprivileged user.
#[tokio::test]
async fn a_generated_dockerfile_builds_and_runs_under_podman() {
    let svc = start().await;
    let config = DevopsConfig { docker_socket: svc.socket.clone(), ..DevopsConfig::default() };
    let h = common::harness_with(config.clone(), AwsConfig::default(), HashMap::new());
    h.plant(
        "s",
        &[
            ("py/requirements.txt", "# standard library only\n"),
            (
                "py/main.py",
                "import os, time\nprint(f'ready as uid {os.getuid()}', flush=True)\ntime.sleep(300)\n",
            ),
        ],
    );
    let base = "localhost/debian-python:12";
    let out = h
        .call("s", "generate_dockerfile", json!({"path": "py", "build_image": base, "runtime_image": base}))
        .await
        .unwrap();
    assert_eq!(out["validation"]["errors"], 0, "{}", out["validation"]);
    let tag = format!("localhost/vana-gen-{}:1", std::process::id());
    let name = format!("vana-gen-{}", std::process::id());
    let built = h.call("s", "docker_build", json!({"path": "py", "tag": tag})).await.unwrap();
    assert!(built["log"].as_str().unwrap().contains("pip install"), "{built}");
    h.call("s", "docker_run", json!({"image": tag, "name": name})).await.unwrap();
    let mut logs = String::new();
    for _ in 0..100 {
        logs = h.call("s", "docker_logs", json!({"container": name})).await.unwrap()["logs"]
            .as_str()
            .unwrap()
            .to_string();
        if !logs.trim().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(logs, "ready as uid 10001\n");
    let t = Duration::from_secs(30);
    let _ = docker::request(&config, "DELETE", &format!("/containers/{name}?force=true"), None, b"", t).await;
    let _ = docker::request(&config, "DELETE", &format!("/images/{tag}?force=true"), None, b"", t).await;
}
