//! Isolation tests: every escape attempt is blocked or bounded, with the exact outcome checked.
//! Run as root (as CI does) on a Linux host with user namespaces and cgroups.

mod common;

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use common::{engine, run, run_req, session};
use vana_sandbox::ExecutionRequest;

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn python_exact_stdout_stderr_exit_code() {
    let r = run("python", "import sys\nprint('hello')\nprint('oops', file=sys.stderr)\nsys.exit(3)\n");
    assert_eq!(r.stdout, "hello\n");
    assert_eq!(r.stderr, "oops\n");
    assert_eq!(r.exit_code, Some(3));
    assert_eq!(r.signal, None);
    assert!(!r.timed_out && !r.oom_killed && !r.output_truncated && !r.pids_limit_hit);
    assert!(r.peak_memory_bytes > 0);
    assert!(r.cpu_time_ms > 0.0);
}

#[test]
fn python_stdin_and_args() {
    let mut req =
        ExecutionRequest::new("python", "import sys\nprint(sys.stdin.read().upper(), sys.argv[1:])")
            .stdin("abc");
    req.args = vec!["x".into(), "y".into()];
    let r = run_req(req);
    assert_eq!(r.stdout, "ABC ['x', 'y']\n");
    assert_eq!(r.exit_code, Some(0));
}

#[test]
fn read_etc_shadow_fails() {
    let r = run(
        "python",
        "try:\n    open('/etc/shadow').read()\n    print('READ')\nexcept OSError as e:\n    print(type(e).__name__, e.errno)\n",
    );
    assert_eq!(r.stdout, "FileNotFoundError 2\n", "{r:?}");
}

#[test]
fn writes_outside_workspace_fail_and_host_tmp_untouched() {
    let marker = format!("vana-host-probe-{}", std::process::id());
    let host_tmp = std::env::temp_dir().join(&marker);
    let code = format!(
        r#"
import errno
for p in ['/x', '/etc/x', '/usr/x', '/usr/bin/x', '/sandbox/x', '/proc/x', '/dev/x']:
    try:
        open(p, 'w').write('x')
        print(p, 'WROTE')
    except OSError as e:
        print(p, errno.errorcode[e.errno])
open('/tmp/{marker}', 'w').write('inside')
print('tmp ok')
"#
    );
    let r = run("python", &code);
    assert_eq!(
        lines(&r.stdout),
        vec![
            "/x EROFS",
            "/etc/x EROFS",
            "/usr/x EROFS",
            "/usr/bin/x EROFS",
            "/sandbox/x EROFS",
            "/proc/x ENOENT",
            "/dev/x EROFS",
            "tmp ok"
        ],
        "{r:?}"
    );
    assert!(!host_tmp.exists(), "sandbox /tmp leaked to the host");
}

#[test]
fn host_processes_invisible() {
    std::env::set_var("VANA_SECRET_TEST", "xyz");
    let r = run(
        "python",
        r#"
import os, glob
pids = [p for p in os.listdir('/proc') if p.isdigit()]
print(len(pids))
print(open('/proc/1/cmdline').read().split('\0')[0])
env = open('/proc/1/environ').read()
print('VANA_SECRET_TEST' in env)
"#,
    );
    let l = lines(&r.stdout);
    assert_eq!(l.len(), 3, "{r:?}");
    let n: usize = l[0].parse().unwrap();
    assert!(n <= 2, "sandbox sees {n} processes");
    assert_eq!(l[1], "/usr/bin/python3");
    assert_eq!(l[2], "False");
}

#[test]
fn environment_is_clean() {
    std::env::set_var("VANA_SECRET_TEST", "xyz");
    let r = run_req(
        ExecutionRequest::new(
            "python",
            "import os\nfor k in sorted(os.environ): print(k + '=' + os.environ[k])",
        )
        .env("MY_VAR", "1"),
    );
    assert!(!r.stdout.contains("VANA_SECRET_TEST"), "{}", r.stdout);
    let l = lines(&r.stdout);
    for want in ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/workspace", "LANG=C.UTF-8", "MY_VAR=1"] {
        assert!(l.contains(&want), "missing {want} in {l:?}");
    }
}

#[test]
fn cannot_signal_host_process() {
    let mut child = std::process::Command::new("/bin/sleep").arg("30").spawn().unwrap();
    let pid = child.id();
    let r = run(
        "python",
        &format!(
            "import os, errno\ntry:\n    os.kill({pid}, 9)\n    print('KILLED')\nexcept OSError as e:\n    print(errno.errorcode[e.errno])\n"
        ),
    );
    assert_eq!(r.stdout, "ESRCH\n", "{r:?}");
    assert!(child.try_wait().unwrap().is_none(), "host process was killed");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn no_network_tcp_udp_loopback_and_outside() {
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let tport = tcp.local_addr().unwrap().port();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let uport = udp.local_addr().unwrap().port();
    let code = format!(
        r#"
import socket, errno
def tcp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((host, port)); return 'CONNECTED'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
def udp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b'x', (host, port)); return 'SENT'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
print('tcp-local', tcp('127.0.0.1', {tport}))
print('udp-local', udp('127.0.0.1', {uport}))
print('tcp-outside', tcp('1.1.1.1', 53))
print('udp-outside', udp('1.1.1.1', 53))
"#
    );
    let r = run("python", &code);
    assert_eq!(
        lines(&r.stdout),
        vec![
            "tcp-local ENETUNREACH",
            "udp-local ENETUNREACH",
            "tcp-outside ENETUNREACH",
            "udp-outside ENETUNREACH"
        ],
        "{r:?}"
    );
    assert!(tcp.accept().is_err(), "something connected to the host listener");
    let mut buf = [0u8; 16];
    assert!(udp.recv_from(&mut buf).is_err(), "a datagram reached the host");
}

#[test]
fn ptrace_mount_unshare_clone_blocked() {
    let r = run(
        "python",
        r#"
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def err(rc):
    return 'OK' if rc == 0 else errno.errorcode[ctypes.get_errno()]
print('ptrace', err(libc.ptrace(0, 0, 0, 0)))
print('mount', err(libc.mount(b'tmpfs', b'/tmp', b'tmpfs', 0, None)))
print('unshare-user', err(libc.unshare(0x10000000)))
print('unshare-net', err(libc.unshare(0x40000000)))
print('clone-newuser', err(libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)))
print('clone3', err(libc.syscall(435, 0, 0)))
print('bpf', err(libc.syscall(321, 0, 0, 0)))
print('keyctl', err(libc.syscall(250, 0, 0, 0)))
pid = os.fork()
if pid == 0:
    os._exit(7)
print('fork', os.waitpid(pid, 0)[1] >> 8)
"#,
    );
    assert_eq!(
        lines(&r.stdout),
        vec![
            "ptrace EPERM",
            "mount EPERM",
            "unshare-user EPERM",
            "unshare-net EPERM",
            "clone-newuser EPERM",
            "clone3 ENOSYS",
            "bpf EPERM",
            "keyctl EPERM",
            "fork 7"
        ],
        "{r:?}"
    );
}

#[test]
fn privileges_dropped() {
    let r = run(
        "python",
        r#"
import os
st = dict(l.split(':\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\t' in l)
for k in ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp']:
    print(k, st[k].strip())
print(os.getuid(), os.getgid(), os.getgroups())
"#,
    );
    assert_eq!(
        lines(&r.stdout),
        vec![
            "CapInh 0000000000000000",
            "CapPrm 0000000000000000",
            "CapEff 0000000000000000",
            "CapBnd 0000000000000000",
            "CapAmb 0000000000000000",
            "NoNewPrivs 1",
            "Seccomp 2",
            "1000 1000 []"
        ],
        "{r:?}"
    );
}

#[test]
fn shell_unshare_fails() {
    let r = run("sh", "unshare -U true; echo rc=$?");
    assert!(r.stdout.ends_with("rc=1\n"), "{r:?}");
    assert!(r.stderr.contains("Operation not permitted"), "{r:?}");
}

#[test]
fn python_fork_bomb_hits_pids_limit() {
    let r = run_req(
        ExecutionRequest::new(
            "python",
            r#"
import os, time
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except OSError as e:
    print('fork failed', e.errno, n < 64)
"#,
        )
        .timeout(Duration::from_secs(5)),
    );
    assert_eq!(r.stdout, "fork failed 11 True\n", "{r:?}");
    assert!(r.pids_limit_hit, "{r:?}");
    assert!(!r.timed_out, "children must die with the main process: {r:?}");
}

#[test]
fn shell_fork_bomb_hits_pids_limit() {
    let r = run_req(
        ExecutionRequest::new("sh", "bomb() { bomb | bomb & }; bomb; sleep 1; echo done")
            .timeout(Duration::from_secs(10)),
    );
    assert!(r.pids_limit_hit, "{r:?}");
    // The run ends when the main shell exits; the bomb dies with it.
    assert!(!r.timed_out, "{r:?}");
}

#[test]
fn python_memory_limit_oom_kills() {
    let r = run("python", "b = b'x' * (2 * 1024 ** 3)\nprint('allocated')");
    assert!(r.oom_killed, "{r:?}");
    assert_eq!(r.signal, Some(9), "{r:?}");
    assert_eq!(r.stdout, "");
    assert!(r.peak_memory_bytes <= 512 * 1024 * 1024 + (1 << 20), "{r:?}");
    assert!(r.peak_memory_bytes > 400 * 1024 * 1024, "{r:?}");
}

#[test]
fn python_infinite_loop_times_out() {
    let r =
        run_req(ExecutionRequest::new("python", "while True:\n    pass\n").timeout(Duration::from_secs(2)));
    assert!(r.timed_out, "{r:?}");
    assert_eq!(r.signal, Some(9));
    assert!(r.wall_time_ms >= 2000.0 && r.wall_time_ms < 5000.0, "{r:?}");
}

#[test]
fn python_huge_stdout_truncated_and_killed() {
    let cap = engine().policy().limits.output_bytes;
    let r = run(
        "python",
        "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(100):\n    sys.stdout.write(chunk)\nsys.stdout.flush()\nprint('END', file=sys.stderr)",
    );
    assert!(r.output_truncated && r.stdout_truncated, "{r:?}");
    assert_eq!(r.stdout.len(), cap);
    assert_eq!(r.signal, Some(9));
    assert!(!r.stderr.contains("END"), "process kept running after the cap");
    assert!(!r.timed_out, "{r:?}");
}

#[test]
fn fill_tmp_stops_at_size_cap() {
    let r = run(
        "python",
        r#"
import errno
n = 0
try:
    with open('/tmp/big', 'wb') as f:
        chunk = b'\0' * (1 << 20)
        for _ in range(1024):
            f.write(chunk); f.flush(); n += 1
    print('WROTE 1GB')
except OSError as e:
    print(errno.errorcode[e.errno], n)
"#,
    );
    let l = lines(&r.stdout);
    assert_eq!(l.len(), 1, "{r:?}");
    let parts: Vec<&str> = l[0].split(' ').collect();
    assert_eq!(parts[0], "ENOSPC", "{r:?}");
    let mb: u64 = parts[1].parse().unwrap();
    assert!(mb <= engine().policy().limits.tmp_mb, "{r:?}");
}

#[test]
fn background_process_killed_with_run() {
    let sid = session("bg");
    let r = run_req(
        ExecutionRequest::new(
            "python",
            "import subprocess\nsubprocess.Popen(['/bin/sh', '-c', 'sleep 1; echo late > /workspace/late.txt'])\nprint('started')",
        )
        .session(&sid),
    );
    assert_eq!(r.stdout, "started\n");
    let r2 = run_req(
        ExecutionRequest::new("sh", "(sleep 1; echo late > /workspace/late_sh.txt) &\necho bg").session(&sid),
    );
    assert_eq!(r2.stdout, "bg\n");
    std::thread::sleep(Duration::from_millis(1600));
    let ws = engine().workspaces().ensure(&sid).unwrap().mount_path().to_path_buf();
    assert!(!ws.join("late.txt").exists(), "background python child survived");
    assert!(!ws.join("late_sh.txt").exists(), "background shell child survived");
    engine().delete_session(&sid).unwrap();
}

#[test]
fn session_workspace_persists_and_is_private() {
    let a = session("a");
    let b = session("b");
    let r1 = run_req(
        ExecutionRequest::new("python", "open('/workspace/data.txt', 'w').write('persisted')\nprint('ok')")
            .session(&a)
            .with_file_contents(),
    );
    assert_eq!(r1.stdout, "ok\n");
    assert_eq!(r1.files.len(), 1, "{r1:?}");
    assert_eq!(r1.files[0].path, "data.txt");
    assert!(r1.files[0].created);
    assert_eq!(r1.files[0].size, 9);
    assert_eq!(r1.files[0].content_base64.as_deref(), Some("cGVyc2lzdGVk"));
    // Host side: owned by the unprivileged sandbox uid, never root.
    use std::os::unix::fs::MetadataExt;
    let host = engine().workspaces().ensure(&a).unwrap().mount_path().join("data.txt");
    assert_eq!(std::fs::metadata(&host).unwrap().uid(), 100000);

    let r2 = run_req(ExecutionRequest::new("sh", "cat /workspace/data.txt").session(&a));
    assert_eq!(r2.stdout, "persisted");
    assert!(r2.files.is_empty());

    let r3 = run_req(
        ExecutionRequest::new(
            "python",
            "import os\nprint(os.listdir('/workspace'), os.path.exists('/workspace/data.txt'))",
        )
        .session(&b),
    );
    assert_eq!(r3.stdout, "[] False\n", "{r3:?}");
    engine().delete_session(&a).unwrap();
    assert!(!engine().workspaces().exists(&a).unwrap());
    engine().delete_session(&b).unwrap();
}

#[test]
fn run_file_from_workspace() {
    let s = session("file");
    engine().workspaces().ensure(&s).unwrap().write("lib/tool.py", b"print('from file')\n").unwrap();
    let mut req = ExecutionRequest::new("python", "");
    req.code = vana_sandbox::CodeSource::File("lib/tool.py".into());
    let r = run_req(req.session(&s));
    assert_eq!(r.stdout, "from file\n", "{r:?}");
    let mut bad = ExecutionRequest::new("python", "");
    bad.code = vana_sandbox::CodeSource::File("../x.py".into());
    assert!(engine().execute(bad.session(&s)).is_err());
    engine().delete_session(&s).unwrap();
}

#[test]
fn invalid_session_ids_rejected() {
    for bad in ["../etc", "a/b", "", ".x"] {
        let err = engine().execute(ExecutionRequest::new("python", "print(1)").session(bad)).unwrap_err();
        assert!(err.to_string().starts_with("invalid session id"), "{err}");
    }
}

#[test]
fn unknown_language_error() {
    let err = engine().execute(ExecutionRequest::new("cobol", "DISPLAY 'HI'.")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported language 'cobol': supported languages are bash, javascript, python, shell"
    );
}

#[test]
fn findings_reported_not_blocking() {
    let r = run("python", "import subprocess\nprint('ran')");
    assert_eq!(r.stdout, "ran\n");
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].rule_id, "py.subprocess");
}

#[test]
fn result_serializes_camel_case() {
    let r = run("sh", "echo hi");
    let v = serde_json::to_value(&r).unwrap();
    for key in [
        "stdout",
        "exitCode",
        "wallTimeMs",
        "cpuTimeMs",
        "peakMemoryBytes",
        "timedOut",
        "oomKilled",
        "pidsLimitHit",
        "outputTruncated",
        "files",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
}

// ---------------------------------------------------------------- node

#[test]
fn node_exact_output_and_exit_code() {
    let r = run("javascript", "console.log('hello'); console.error('oops'); process.exit(4);");
    assert_eq!(r.stdout, "hello\n");
    assert_eq!(r.stderr, "oops\n");
    assert_eq!(r.exit_code, Some(4));
}

#[test]
fn node_filesystem_and_network_blocked() {
    let code = r#"
const fs = require('fs'); const net = require('net');
for (const p of ['/etc/shadow']) { try { fs.readFileSync(p); console.log('READ'); } catch (e) { console.log(p, e.code); } }
for (const p of ['/x', '/usr/x', '/etc/x']) { try { fs.writeFileSync(p, 'x'); console.log('WROTE'); } catch (e) { console.log(p, e.code); } }
const cp = require('child_process');
const u = cp.spawnSync('/usr/bin/unshare', ['-U', 'true']);
console.log('unshare', u.status);
const s = net.connect(53, '1.1.1.1');
s.on('error', (e) => console.log('net', e.code));
s.on('connect', () => console.log('CONNECTED'));
"#;
    let r = run("javascript", code);
    assert_eq!(
        lines(&r.stdout),
        vec![
            "/etc/shadow ENOENT",
            "/x EROFS",
            "/usr/x EROFS",
            "/etc/x EROFS",
            "unshare 1",
            "net ENETUNREACH"
        ],
        "{r:?}"
    );
}

#[test]
fn node_infinite_loop_times_out() {
    let r = run_req(ExecutionRequest::new("js", "while (true) {}").timeout(Duration::from_secs(2)));
    assert!(r.timed_out, "{r:?}");
    assert!(r.wall_time_ms >= 2000.0 && r.wall_time_ms < 5000.0, "{r:?}");
}

#[test]
fn node_memory_limit_oom_kills() {
    let r = run("javascript", "const a = []; while (true) { a.push(Buffer.alloc(1 << 26).fill(1)); }");
    assert!(r.oom_killed, "{r:?}");
    assert_eq!(r.signal, Some(9));
}

#[test]
fn node_huge_stdout_truncated() {
    let cap = engine().policy().limits.output_bytes;
    let r = run(
        "javascript",
        "const c = 'x'.repeat(1 << 20); for (let i = 0; i < 100; i++) process.stdout.write(c);",
    );
    assert!(r.output_truncated, "{r:?}");
    assert_eq!(r.stdout.len(), cap);
}

// ---------------------------------------------------------------- shell

#[test]
fn shell_exact_output_and_exit_code() {
    let r = run("sh", "echo out; echo err >&2; exit 5");
    assert_eq!(r.stdout, "out\n");
    assert_eq!(r.stderr, "err\n");
    assert_eq!(r.exit_code, Some(5));
    let r = run("bash", "echo ${BASH_VERSION:+bash}; id -u");
    assert_eq!(r.stdout, "bash\n1000\n");
}

#[test]
fn shell_writes_and_shadow_blocked() {
    let r = run(
        "sh",
        "cat /etc/shadow 2>/dev/null || echo noshadow; touch /etc/x 2>/dev/null || echo noetc; touch /usr/x 2>/dev/null || echo nousr; ls /proc | grep -c '^[0-9]'",
    );
    assert_eq!(lines(&r.stdout)[..3], ["noshadow", "noetc", "nousr"], "{r:?}");
    let n: usize = lines(&r.stdout)[3].parse().unwrap();
    assert!(n <= 3, "{r:?}");
}

#[test]
fn shell_infinite_loop_times_out() {
    let r = run_req(ExecutionRequest::new("sh", "while :; do :; done").timeout(Duration::from_secs(2)));
    assert!(r.timed_out);
    assert!(r.wall_time_ms >= 2000.0 && r.wall_time_ms < 5000.0, "{r:?}");
}

// ---------------------------------------------------------------- engine

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_async_executions() {
    let mut tasks = Vec::new();
    for i in 0..12 {
        let e = engine().clone();
        tasks.push(tokio::spawn(async move {
            let lang = ["python", "sh", "javascript"][i % 3];
            let code = match lang {
                "python" => format!("print({i})"),
                "sh" => format!("echo {i}"),
                _ => format!("console.log({i})"),
            };
            (i, e.execute_async(ExecutionRequest::new(lang, code)).await)
        }));
    }
    for t in tasks {
        let (i, r) = t.await.unwrap();
        let r = r.unwrap();
        assert_eq!(r.stdout, format!("{i}\n"), "{r:?}");
        assert_eq!(r.exit_code, Some(0));
    }
}

#[test]
fn missing_interpreter_is_refused_not_run_on_host() {
    let mut policy = vana_sandbox::SandboxPolicy::builtin();
    policy.limits.pool_size = 0;
    policy.security.languages.get_mut("python").unwrap().interpreter = "/nonexistent/python3".into();
    let e = vana_sandbox::ExecutionEngine::new(policy, common::root().join("alt")).unwrap();
    let err = e.execute(ExecutionRequest::new("python", "print(1)")).unwrap_err().to_string();
    assert!(err.contains("interpreter /nonexistent/python3") && err.contains("to enable it"), "{err}");
}

#[test]
fn cgroups_removed_after_runs() {
    let r = run("sh", "echo x");
    let mut leftover = String::new();
    let _ = std::fs::File::open("/proc/self/cgroup").and_then(|mut f| f.read_to_string(&mut leftover));
    let id = r.run_id;
    for ctrl in ["memory", "pids", "cpu"] {
        let found = std::process::Command::new("find")
            .args([&format!("/sys/fs/cgroup/{ctrl}"), "-maxdepth", "6", "-name", &id])
            .output()
            .unwrap();
        assert!(found.stdout.is_empty(), "cgroup {id} left in {ctrl}");
    }
}

#[test]
fn host_side_workspace_access_never_follows_planted_symlinks() {
    let s = session("symlink");
    let r = run_req(
        ExecutionRequest::new(
            "sh",
            "ln -s /etc /workspace/etc_link && ln -s /etc/hostname /workspace/host_link && echo ok",
        )
        .session(&s),
    );
    assert_eq!(r.stdout, "ok\n", "{r:?}");
    let ws = engine().workspaces().ensure(&s).unwrap();
    assert!(ws.read("etc_link/hostname", 1 << 20).is_err());
    assert!(ws.read("host_link", 1 << 20).is_err());
    assert!(ws.write("etc_link/vana-planted", b"x").is_err());
    assert!(ws.write("host_link", b"x").is_err());
    assert!(!std::path::Path::new("/etc/vana-planted").exists());
    // Symlinks are not reported as artifacts either.
    assert!(r.files.is_empty(), "{r:?}");
    engine().delete_session(&s).unwrap();
    assert!(std::path::Path::new("/etc/hostname").exists());
}
