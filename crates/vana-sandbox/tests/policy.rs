//! Policy-driven behaviour: workspace cap, extra read-only mounts, network
//! allowed, blocking pre-check, Landlock required. Each test builds its own
//! engine (no warm pool).

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use vana_sandbox::{
    ExecutionEngine, ExecutionRequest, LandlockMode, ReadOnlyMount, SandboxError, SandboxPolicy, Severity,
};

fn engine_with(tag: &str, f: impl FnOnce(&mut SandboxPolicy)) -> ExecutionEngine {
    let mut p = SandboxPolicy::builtin();
    p.limits.pool_size = 0;
    f(&mut p);
    ExecutionEngine::new(p, common::root().join(tag)).expect("engine")
}

#[test]
fn workspace_cap_enforced() {
    let e = engine_with("quota", |p| p.limits.workspace_mb = 1);
    let sid = common::session("quota");
    let big = e
        .execute(
            ExecutionRequest::new(
                "python",
                "import errno\ntry:\n    open('/workspace/big', 'wb').write(b'x' * (2 << 20))\n    print('WROTE')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])\n",
            )
            .session(&sid),
        )
        .unwrap();
    assert_eq!(big.stdout, "EFBIG\n", "{big:?}");
    let r = e
        .execute(
            ExecutionRequest::new(
                "python",
                "for n in 'ab':\n    open('/workspace/' + n, 'wb').write(b'x' * 700_000)\nprint('ok')",
            )
            .session(&sid),
        )
        .unwrap();
    assert_eq!(r.stdout, "ok\n");
    assert!(r.workspace_over_quota, "{r:?}");
    assert!(r.workspace_bytes >= 1_400_000);
    let err = e.execute(ExecutionRequest::new("python", "print(1)").session(&sid)).unwrap_err();
    assert!(matches!(err, SandboxError::WorkspaceOverQuota { .. }), "{err}");
    e.delete_session(&sid).unwrap();
}

#[test]
fn extra_readonly_mount_visible_and_read_only() {
    let dir = common::root().join("extra-src");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vana_extra_mod.py"), "VALUE = 42\n").unwrap();
    let e = engine_with("extra", |p| {
        p.security
            .extra_readonly_mounts
            .push(ReadOnlyMount { source: dir.clone(), target: "/opt/vana-extra".into() })
    });
    let r = e
        .execute(ExecutionRequest::new(
            "python",
            "import sys, errno\nsys.path.insert(0, '/opt/vana-extra')\nimport vana_extra_mod\nprint(vana_extra_mod.VALUE)\ntry:\n    open('/opt/vana-extra/x', 'w')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])\n",
        ))
        .unwrap();
    assert_eq!(r.stdout, "42\nEROFS\n", "{r:?}");
}

#[test]
fn network_allowed_by_policy_reaches_host_loopback() {
    let e = engine_with("net", |p| p.security.network = true);
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let accept = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = String::new();
        s.read_to_string(&mut buf).unwrap();
        buf
    });
    let r = e
        .execute(
            ExecutionRequest::new(
                "python",
                format!(
                    "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=5)\ns.sendall(b'hello')\ns.close()\nprint('sent')"
                ),
            )
            .timeout(Duration::from_secs(10)),
        )
        .unwrap();
    assert_eq!(r.stdout, "sent\n", "{r:?}");
    assert!(!r.isolation.network_isolated);
    assert_eq!(accept.join().unwrap(), "hello");
}

#[test]
fn blocking_severity_refuses_code() {
    let e = engine_with("block", |p| p.security.block_on_severity = Some(Severity::Critical));
    let err = e.execute(ExecutionRequest::new("sh", "rm -rf / --no-preserve-root")).unwrap_err();
    assert!(matches!(err, SandboxError::BlockedByPolicy(_)), "{err}");
    assert!(err.to_string().contains("sh.rm_rf_root"), "{err}");
    // Lower severities still run.
    let ok = e.execute(ExecutionRequest::new("python", "import subprocess\nprint(2)")).unwrap();
    assert_eq!(ok.stdout, "2\n");
}

#[test]
fn landlock_required_is_applied_or_refused() {
    let mut p = SandboxPolicy::builtin();
    p.limits.pool_size = 0;
    p.security.landlock = LandlockMode::Required;
    match ExecutionEngine::new(p, common::root().join("landlock")) {
        Ok(e) => {
            let r = e.execute(ExecutionRequest::new("sh", "echo ok")).unwrap();
            assert_eq!(r.stdout, "ok\n");
            assert!(r.isolation.landlock_abi >= 1);
            assert!(r.isolation.seccomp);
        }
        Err(err) => {
            // A kernel without Landlock must refuse with instructions, never run unsandboxed.
            let msg = err.to_string();
            assert!(msg.contains("Landlock is not available"), "{msg}");
            assert!(msg.contains("to enable it"), "{msg}");
        }
    }
}

#[test]
fn host_report_names_cgroup_version() {
    let r = ExecutionEngine::check_host(&SandboxPolicy::builtin()).unwrap();
    assert!(r.cgroup_version == 1 || r.cgroup_version == 2);
    assert!(r.max_user_namespaces > 0);
}

#[test]
fn policy_yaml_files_load_from_dir() {
    let dir = common::root().join("cfg");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("resource_limits.yaml"),
        vana_sandbox::DEFAULT_RESOURCE_LIMITS_YAML.replace("memory_mb: 512", "memory_mb: 256"),
    )
    .unwrap();
    let p = SandboxPolicy::load_dir(&dir).unwrap();
    assert_eq!(p.limits.memory_mb, 256);
    assert_eq!(p.security, SandboxPolicy::builtin().security);
    std::fs::write(dir.join("security_policies.yaml"), "network: maybe\n").unwrap();
    let err = SandboxPolicy::load_dir(&dir).unwrap_err().to_string();
    assert!(err.contains("security_policies.yaml"), "{err}");
}
