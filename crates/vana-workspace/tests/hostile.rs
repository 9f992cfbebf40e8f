//! What sandboxed code can plant in its workspace, planted for real: every host-side
//! operation refuses it with a clear error and leaves the host file as it was.

use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use vana_workspace::{FileKind, WorkspaceError, Workspaces};

const UID: u32 = 100_000;
const GID: u32 = 100_000;

struct Fixture {
    _tmp: tempfile::TempDir,
    ws: Workspaces,
    /// A host file outside every workspace (stands for /etc/shadow or vana.db).
    secret: PathBuf,
    /// A host directory outside every workspace.
    host_dir: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("secret");
    std::fs::write(&secret, "root:$6$hash\n").unwrap();
    let host_dir = tmp.path().join("etc");
    std::fs::create_dir(&host_dir).unwrap();
    let ws = Workspaces::new(tmp.path().join("workspaces"), UID, GID);
    Fixture { _tmp: tmp, ws, secret, host_dir }
}

fn dir_of(f: &Fixture, session: &str) -> PathBuf {
    f.ws.ensure(session).unwrap().mount_path().to_path_buf()
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

fn assert_refused(e: WorkspaceError, path: &str, found: FileKind) {
    let msg = e.to_string();
    match &e {
        WorkspaceError::Refused { path: p, found: k, .. } => {
            assert_eq!((p.as_str(), *k), (path, found), "{msg}");
        }
        other => panic!("expected a refusal of {path}, got {other:?}"),
    }
    assert!(msg.contains(path) && msg.contains("never followed"), "{msg}");
}

#[test]
fn a_planted_link_to_a_host_file_is_not_read() {
    let f = fixture();
    let dir = dir_of(&f, "s1");
    symlink(&f.secret, dir.join("x.csv")).unwrap();
    let w = f.ws.open("s1").unwrap().unwrap();
    let e = w.read("x.csv", 1 << 20).unwrap_err();
    assert!(e.to_string().contains(&f.secret.display().to_string()), "names the target: {e}");
    assert_refused(e, "x.csv", FileKind::Symlink);
    assert_refused(w.open("/workspace/x.csv").unwrap_err(), "x.csv", FileKind::Symlink);
    assert_refused(w.pinned_path("x.csv", &[]).unwrap_err(), "x.csv", FileKind::Symlink);
}

#[test]
fn a_planted_link_is_not_written_through_and_the_host_file_is_unchanged() {
    let f = fixture();
    let dir = dir_of(&f, "s1");
    symlink(&f.secret, dir.join("out.csv")).unwrap();
    let w = f.ws.open("s1").unwrap().unwrap();
    assert_refused(w.write("out.csv", b"owned").unwrap_err(), "out.csv", FileKind::Symlink);
    assert_eq!(std::fs::read_to_string(&f.secret).unwrap(), "root:$6$hash\n");
    assert!(
        std::fs::symlink_metadata(dir.join("out.csv")).unwrap().file_type().is_symlink(),
        "left as it was"
    );
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn a_planted_link_to_a_host_directory_is_never_entered() {
    let f = fixture();
    let dir = dir_of(&f, "s1");
    symlink(&f.host_dir, dir.join("charts")).unwrap();
    let w = f.ws.open("s1").unwrap().unwrap();
    assert_refused(w.write("charts/cron.png", b"x").unwrap_err(), "charts", FileKind::Symlink);
    assert_refused(w.read("charts/a", 10).unwrap_err(), "charts", FileKind::Symlink);
    assert_refused(w.stat("charts/a").unwrap_err(), "charts", FileKind::Symlink);
    assert_eq!(std::fs::read_dir(&f.host_dir).unwrap().count(), 0, "nothing written into the host dir");
    // Deeper: a real directory holding a link.
    std::fs::create_dir(dir.join("real")).unwrap();
    symlink(&f.host_dir, dir.join("real/inner")).unwrap();
    assert_refused(w.write("real/inner/x", b"x").unwrap_err(), "real/inner", FileKind::Symlink);
    assert_eq!(std::fs::read_dir(&f.host_dir).unwrap().count(), 0);
}

#[test]
fn a_fifo_neither_hangs_a_read_nor_takes_a_write() {
    let f = fixture();
    let dir = dir_of(&f, "s1");
    mkfifo(&dir.join("pipe.csv"));
    let w = f.ws.open("s1").unwrap().unwrap();
    let start = std::time::Instant::now();
    assert_refused(w.read("pipe.csv", 10).unwrap_err(), "pipe.csv", FileKind::Fifo);
    assert!(start.elapsed().as_secs() < 2, "did not block on the FIFO");
    assert_refused(w.write("pipe.csv", b"x").unwrap_err(), "pipe.csv", FileKind::Fifo);
    assert_refused(w.pinned_path("pipe.csv", &[]).unwrap_err(), "pipe.csv", FileKind::Fifo);
}

#[test]
fn a_directory_is_not_replaced_by_a_file() {
    let f = fixture();
    let dir = dir_of(&f, "s1");
    std::fs::create_dir(dir.join("d")).unwrap();
    std::fs::write(dir.join("d/keep"), "k").unwrap();
    let w = f.ws.open("s1").unwrap().unwrap();
    assert_refused(w.write("d", b"x").unwrap_err(), "d", FileKind::Directory);
    assert_refused(w.read("d", 10).unwrap_err(), "d", FileKind::Directory);
    assert_eq!(std::fs::read_to_string(dir.join("d/keep")).unwrap(), "k");
}

#[test]
fn a_hard_link_is_replaced_not_written_into() {
    let f = fixture();
    let dir = dir_of(&f, "s1");
    std::fs::write(dir.join("a"), "original").unwrap();
    std::fs::hard_link(dir.join("a"), dir.join("b")).unwrap();
    let w = f.ws.open("s1").unwrap().unwrap();
    w.write("b", b"new").unwrap();
    assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "original");
    assert_eq!(w.read("b", 10).unwrap(), b"new");
}

#[test]
fn sqlite_sidecars_must_be_regular_files() {
    let f = fixture();
    let dir = dir_of(&f, "s1");
    std::fs::write(dir.join("app.db"), "").unwrap();
    symlink(f.secret.with_extension("db-wal"), dir.join("app.db-wal")).unwrap();
    let w = f.ws.open("s1").unwrap().unwrap();
    assert_refused(
        w.pinned_path("app.db", &["-journal", "-wal", "-shm"]).unwrap_err(),
        "app.db-wal",
        FileKind::Symlink,
    );
    std::fs::remove_file(dir.join("app.db-wal")).unwrap();
    let pinned = w.pinned_path("app.db", &["-journal", "-wal", "-shm"]).unwrap();
    assert!(pinned.path().starts_with("/proc/self/fd/"), "{}", pinned.path().display());
    assert_eq!(
        std::fs::metadata(pinned.path()).unwrap().ino(),
        std::fs::metadata(dir.join("app.db")).unwrap().ino()
    );
}

#[test]
fn files_are_owned_by_the_sandbox_user_and_listings_skip_links() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: chown to the sandbox user needs root");
        return;
    }
    let f = fixture();
    let w = f.ws.ensure("s1").unwrap();
    w.write("deep/er/file.txt", b"hello").unwrap();
    for p in ["", "deep", "deep/er", "deep/er/file.txt"] {
        let md = std::fs::metadata(w.mount_path().join(p)).unwrap();
        assert_eq!((md.uid(), md.gid()), (UID, GID), "{p}");
    }
    symlink(&f.secret, w.mount_path().join("link")).unwrap();
    symlink(&f.host_dir, w.mount_path().join("dirlink")).unwrap();
    let files = w.files(1000);
    assert_eq!(files.keys().collect::<Vec<_>>(), vec!["deep/er/file.txt"]);
    assert_eq!(w.usage(), 5);
}

#[test]
fn paths_and_session_ids_that_leave_the_workspace_are_refused() {
    let f = fixture();
    let w = f.ws.ensure("s1").unwrap();
    for bad in ["../s2/x", "/etc/passwd", "a/../../x", ""] {
        let e = w.write(bad, b"x").unwrap_err();
        assert!(matches!(e, WorkspaceError::InvalidPath { .. }), "{bad}: {e}");
    }
    for bad in ["..", "../x", "a/b", ".locks", ""] {
        assert!(matches!(f.ws.ensure(bad).unwrap_err(), WorkspaceError::InvalidSessionId(_)), "{bad}");
    }
}

#[test]
fn swapping_a_directory_for_a_link_mid_read_never_reaches_the_host_file() {
    // Sandboxed code racing the host: flip `d` between a real directory holding `x` and a link
    // to the host directory holding the secret as `x`, while the host reads `d/x`.
    let f = fixture();
    let dir = dir_of(&f, "s1");
    std::fs::write(f.host_dir.join("x"), "SECRET").unwrap();
    std::fs::create_dir(dir.join("real")).unwrap();
    std::fs::write(dir.join("real/x"), "public").unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let (dir, host, stop) = (dir.clone(), f.host_dir.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = std::fs::rename(dir.join("real"), dir.join("d"));
                let _ = std::fs::rename(dir.join("d"), dir.join("real"));
                let _ = symlink(&host, dir.join("d"));
                let _ = std::fs::remove_file(dir.join("d"));
            }
        })
    };
    let w = f.ws.open("s1").unwrap().unwrap();
    let (mut read, mut refused) = (0, 0);
    for _ in 0..20_000 {
        match w.read("d/x", 100) {
            Ok(data) => {
                assert_eq!(data, b"public", "only ever the workspace's own file");
                read += 1;
            }
            Err(WorkspaceError::Refused { .. }) => refused += 1,
            Err(_) => {}
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flipper.join().unwrap();
    assert!(read > 0 && refused > 0, "the race was exercised: {read} reads, {refused} refusals");
}

#[test]
fn the_session_lock_excludes_other_holders() {
    let f = fixture();
    f.ws.ensure("s1").unwrap();
    let held = f.ws.lock("s1").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let ws = f.ws.clone();
    let t = std::thread::spawn(move || {
        let _l = ws.lock("s1").unwrap();
        tx.send(()).unwrap();
    });
    assert!(rx.recv_timeout(std::time::Duration::from_millis(200)).is_err(), "second holder waited");
    drop(held);
    rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    t.join().unwrap();
}
