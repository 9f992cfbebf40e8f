//! The sandbox's root filesystem: a plan of mount operations built in the
//! parent (all paths pre-built as C strings) and executed in the child with
//! raw syscalls only.
//!
//! Layout inside the sandbox:
//! - `/` a small tmpfs, remounted read-only once the code file is written;
//! - `/usr` (and `/bin`, `/lib*`, `/sbin` as the host has them: symlinks are
//!   recreated, directories bind-mounted) read-only, nosuid, nodev;
//! - `/etc` with generated `passwd`, `group`, `hosts` and read-only binds of
//!   only what interpreters need (`ld.so.cache`, `ssl`, `alternatives`, ...);
//!   never `/etc/shadow`;
//! - `/dev` a read-only tmpfs with binds of null, zero, full, random, urandom,
//!   `/dev/fd` symlinks and a size-capped `/dev/shm`;
//! - `/proc` a fresh procfs of the sandbox's pid namespace;
//! - `/tmp` a size-capped tmpfs;
//! - `/sandbox/main.<ext>` the submitted code (read-only);
//! - `/workspace` the session's workspace (the only writable host directory).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Result, SandboxError};
use crate::policy::SandboxPolicy;

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const AT_RECURSIVE: u32 = 0x8000;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// One step of building the sandbox root, executed in the child.
#[derive(Debug)]
pub(crate) enum MountOp {
    /// `mkdir(path, 0755)`, errors ignored (the next mount reports them).
    Mkdir(CString),
    /// Create an empty file to bind a file onto.
    Touch(CString),
    /// `symlink(target, link)`.
    Symlink { target: CString, link: CString },
    /// Write a small generated file (mode 0644).
    WriteFile { path: CString, data: Vec<u8> },
    /// Bind mount, then set read-only/nosuid(/nodev) on it.
    Bind { src: CString, dst: CString, recursive: bool, readonly: bool, nodev: bool },
    /// Mount a tmpfs.
    Tmpfs { dst: CString, opts: CString, flags: libc::c_ulong },
    /// Mount a fresh procfs.
    Proc(CString),
    /// Make an existing mount read-only (non-recursive).
    ReadOnly(CString),
}

/// The prepared root filesystem plan.
#[derive(Debug)]
pub(crate) struct RootPlan {
    /// Host directory the sandbox root tmpfs is mounted on (in the child's mount namespace).
    pub staging: CString,
    /// Operations to run after mounting the root tmpfs.
    pub ops: Vec<MountOp>,
    /// `<staging>/workspace`.
    pub workspace_dst: CString,
    /// `<staging>/sandbox`.
    pub code_dir: PathBuf,
}

fn cstr(p: impl AsRef<Path>) -> Result<CString> {
    CString::new(p.as_ref().as_os_str().as_bytes())
        .map_err(|_| SandboxError::InvalidRequest(format!("path {:?} contains NUL", p.as_ref())))
}

fn in_root(staging: &Path, p: &Path) -> PathBuf {
    staging.join(p.strip_prefix("/").unwrap_or(p))
}

const PASSWD: &[u8] =
    b"root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:1000:1000:sandbox:/workspace:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const GROUP: &[u8] = b"root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n";
const HOSTS: &[u8] = b"127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/// Files and directories of the host's /etc exposed read-only.
const ETC_ENTRIES: &[&str] = &[
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "ssl",
    "ca-certificates",
    "alternatives",
    "nsswitch.conf",
    "mime.types",
    "protocols",
    "services",
    "os-release",
    "debian_version",
];

/// Top-level system directories: recreated as symlinks or bound read-only.
const SYSTEM_DIRS: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];

impl RootPlan {
    /// Builds the plan for `policy`, mounting the root tmpfs on `staging`.
    pub(crate) fn build(policy: &SandboxPolicy, staging: &Path) -> Result<Self> {
        let mut ops = Vec::new();
        let r = |p: &str| in_root(staging, Path::new(p));
        let add_host_entry = |ops: &mut Vec<MountOp>, host: &Path| -> Result<()> {
            let Ok(md) = std::fs::symlink_metadata(host) else {
                return Ok(());
            };
            let dst = in_root(staging, host);
            if md.file_type().is_symlink() {
                let target = std::fs::read_link(host)
                    .map_err(|e| SandboxError::io(format!("readlink {}", host.display()), e))?;
                ops.push(MountOp::Symlink { target: cstr(&target)?, link: cstr(&dst)? });
            } else if md.is_dir() {
                ops.push(MountOp::Mkdir(cstr(&dst)?));
                ops.push(MountOp::Bind {
                    src: cstr(host)?,
                    dst: cstr(&dst)?,
                    recursive: true,
                    readonly: true,
                    nodev: true,
                });
            } else if md.is_file() {
                ops.push(MountOp::Touch(cstr(&dst)?));
                ops.push(MountOp::Bind {
                    src: cstr(host)?,
                    dst: cstr(&dst)?,
                    recursive: false,
                    readonly: true,
                    nodev: true,
                });
            }
            Ok(())
        };
        for d in SYSTEM_DIRS {
            add_host_entry(&mut ops, &Path::new("/").join(d))?;
        }
        // /etc
        ops.push(MountOp::Mkdir(cstr(r("etc"))?));
        for (name, data) in [("passwd", PASSWD), ("group", GROUP), ("hosts", HOSTS)] {
            ops.push(MountOp::WriteFile { path: cstr(r(&format!("etc/{name}")))?, data: data.to_vec() });
        }
        let mut etc: Vec<String> = ETC_ENTRIES.iter().map(|s| s.to_string()).collect();
        if let Ok(rd) = std::fs::read_dir("/etc") {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with("python3") {
                    etc.push(n);
                }
            }
        }
        if policy.security.network {
            etc.push("resolv.conf".into());
            etc.push("gai.conf".into());
        }
        for name in &etc {
            add_host_entry(&mut ops, &Path::new("/etc").join(name))?;
        }
        // /dev
        ops.push(MountOp::Mkdir(cstr(r("dev"))?));
        ops.push(MountOp::Tmpfs {
            dst: cstr(r("dev"))?,
            opts: cstr("size=64k,mode=755")?,
            flags: libc::MS_NOSUID | libc::MS_NOEXEC,
        });
        for dev in ["null", "zero", "full", "random", "urandom"] {
            let host = Path::new("/dev").join(dev);
            if host.exists() {
                ops.push(MountOp::Touch(cstr(r(&format!("dev/{dev}")))?));
                ops.push(MountOp::Bind {
                    src: cstr(&host)?,
                    dst: cstr(r(&format!("dev/{dev}")))?,
                    recursive: false,
                    readonly: false,
                    nodev: false,
                });
            }
        }
        for (link, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            ops.push(MountOp::Symlink { target: cstr(target)?, link: cstr(r(&format!("dev/{link}")))? });
        }
        let tmp_opts = format!("size={}m,mode=1777", policy.limits.tmp_mb);
        ops.push(MountOp::Mkdir(cstr(r("dev/shm"))?));
        ops.push(MountOp::Tmpfs {
            dst: cstr(r("dev/shm"))?,
            opts: cstr(&tmp_opts)?,
            flags: libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        });
        ops.push(MountOp::ReadOnly(cstr(r("dev"))?));
        // /proc, /tmp, /workspace, /sandbox
        ops.push(MountOp::Mkdir(cstr(r("proc"))?));
        ops.push(MountOp::Proc(cstr(r("proc"))?));
        ops.push(MountOp::Mkdir(cstr(r("tmp"))?));
        ops.push(MountOp::Tmpfs {
            dst: cstr(r("tmp"))?,
            opts: cstr(&tmp_opts)?,
            flags: libc::MS_NOSUID | libc::MS_NODEV,
        });
        ops.push(MountOp::Mkdir(cstr(r("workspace"))?));
        ops.push(MountOp::Mkdir(cstr(r("sandbox"))?));
        // extra read-only mounts
        for m in &policy.security.extra_readonly_mounts {
            let under_system = m
                .target
                .components()
                .nth(1)
                .map(|c| SYSTEM_DIRS.iter().any(|d| c.as_os_str() == *d))
                .unwrap_or(false);
            if under_system && m.source == m.target {
                continue; // already visible through the system bind
            }
            if !m.source.exists() {
                return Err(SandboxError::Policy {
                    path: PathBuf::from("security_policies.yaml"),
                    message: format!("extra read-only mount source {} does not exist", m.source.display()),
                });
            }
            if !under_system {
                let mut cur = PathBuf::from("/");
                for c in m.target.components().skip(1) {
                    cur.push(c);
                    ops.push(MountOp::Mkdir(cstr(in_root(staging, &cur))?));
                }
            }
            ops.push(MountOp::Bind {
                src: cstr(&m.source)?,
                dst: cstr(in_root(staging, &m.target))?,
                recursive: true,
                readonly: true,
                nodev: true,
            });
        }
        Ok(Self {
            staging: cstr(staging)?,
            ops,
            workspace_dst: cstr(r("workspace"))?,
            code_dir: r("sandbox"),
        })
    }
}

/// Child-side helpers: raw syscalls only, no allocation.
pub(crate) mod child {
    use super::*;

    /// Sets read-only/nosuid/nodev attributes on the mount at `path`.
    pub(crate) unsafe fn setattr(path: &CString, set: u64, recursive: bool) -> libc::c_long {
        let attr = MountAttr { attr_set: set, attr_clr: 0, propagation: 0, userns_fd: 0 };
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            if recursive { AT_RECURSIVE } else { 0 },
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    }

    /// Sets attributes on a detached mount fd (used by the parent).
    pub(crate) unsafe fn setattr_fd(fd: libc::c_int, set: u64) -> libc::c_long {
        let attr = MountAttr { attr_set: set, attr_clr: 0, propagation: 0, userns_fd: 0 };
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            libc::AT_EMPTY_PATH as u32,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    }

    /// Attaches the detached mount `fd` (the workspace) on `dst`.
    pub(crate) unsafe fn move_mount(fd: libc::c_int, dst: &CString) -> libc::c_long {
        libc::syscall(
            libc::SYS_move_mount,
            fd,
            c"".as_ptr(),
            libc::AT_FDCWD,
            dst.as_ptr(),
            0x4u32, // MOVE_MOUNT_F_EMPTY_PATH
        )
    }

    /// Makes `path` read-only.
    pub(crate) unsafe fn make_readonly(path: &CString) -> libc::c_long {
        setattr(path, MOUNT_ATTR_RDONLY, false)
    }

    /// Runs one operation; returns 0 or -1 with errno set.
    pub(crate) unsafe fn run(op: &MountOp) -> libc::c_long {
        match op {
            MountOp::Mkdir(p) => {
                if libc::mkdir(p.as_ptr(), 0o755) != 0 && *libc::__errno_location() != libc::EEXIST {
                    return -1;
                }
                0
            }
            MountOp::Touch(p) => {
                let fd = libc::open(p.as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC, 0o644);
                if fd < 0 {
                    return -1;
                }
                libc::close(fd);
                0
            }
            MountOp::Symlink { target, link } => {
                libc::symlink(target.as_ptr(), link.as_ptr()) as libc::c_long
            }
            MountOp::WriteFile { path, data } => {
                let fd = libc::open(
                    path.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC | libc::O_CLOEXEC,
                    0o644,
                );
                if fd < 0 {
                    return -1;
                }
                let n = libc::write(fd, data.as_ptr().cast(), data.len());
                libc::close(fd);
                if n < 0 || n as usize != data.len() {
                    return -1;
                }
                0
            }
            MountOp::Bind { src, dst, recursive, readonly, nodev } => {
                let mut flags = libc::MS_BIND;
                if *recursive {
                    flags |= libc::MS_REC;
                }
                if libc::mount(src.as_ptr(), dst.as_ptr(), std::ptr::null(), flags, std::ptr::null()) != 0 {
                    return -1;
                }
                let mut set = MOUNT_ATTR_NOSUID;
                if *readonly {
                    set |= MOUNT_ATTR_RDONLY;
                }
                if *nodev {
                    set |= MOUNT_ATTR_NODEV;
                }
                setattr(dst, set, *recursive)
            }
            MountOp::Tmpfs { dst, opts, flags } => {
                libc::mount(c"tmpfs".as_ptr(), dst.as_ptr(), c"tmpfs".as_ptr(), *flags, opts.as_ptr().cast())
                    as libc::c_long
            }
            MountOp::Proc(dst) => libc::mount(
                c"proc".as_ptr(),
                dst.as_ptr(),
                c"proc".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null(),
            ) as libc::c_long,
            MountOp::ReadOnly(p) => make_readonly(p),
        }
    }
}
