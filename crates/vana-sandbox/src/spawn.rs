//! Creating sandbox processes: `clone(2)` with namespace flags straight from
//! the (possibly multi-threaded) engine process, the child-side setup that
//! runs between clone and `execve`, and the parent-side run loop.
//!
//! The child shares the parent's address space until it execs (`CLONE_VM`,
//! as `posix_spawn` does: no page-table copy, no copy-on-write faults, and a
//! large VANA process is never pinned in memory by waiting sandboxes), runs
//! on its own stack in a dedicated mapping, and only uses async-signal-safe
//! operations: raw syscalls on data prepared before the clone (C strings,
//! the BPF program, buffers in its mapping). It never allocates, locks or
//! panics, and its control flow never depends on `errno` (which it shares
//! with the parent thread; `errno` only feeds error messages).
//!
//! Protocol over a `SOCK_SEQPACKET` control socket (fd 3 in the child,
//! close-on-exec):
//! 1. child builds the root filesystem, sends `R` (ready) and blocks;
//! 2. parent sends the request (interpreter, argv, env, workspace path,
//!    code file destination, rlimits) plus the code as a memfd (`SCM_RIGHTS`);
//! 3. child binds the workspace, writes the code, pivots, drops privileges,
//!    applies Landlock and seccomp, sends `G` and execs; on failure it
//!    sends `E` + step + errno and exits 127;
//! 4. the socket closing after `G` tells the parent the exec succeeded.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::cgroup::RunCgroup;
use crate::error::{Result, SandboxError};
use crate::landlock::{self, LandlockPlan};
use crate::mounts::{self, MountOp, RootPlan};
use crate::seccomp::SeccompProgram;

/// Size of the request buffer (argv + env + paths).
const REQ_MAX: usize = 256 * 1024;
/// Most argv / env entries.
const MAX_VEC: usize = 2048;
/// Child stack size (the top of the per-spawn mapping).
const STACK_SIZE: usize = 256 * 1024;
/// uid/gid of the sandbox user inside the namespace.
pub(crate) const INNER_ID: u32 = 1000;
const MAGIC: &[u8; 4] = b"VREQ";

/// Setup step names reported by the child (index = step id).
const STEPS: &[&str] = &[
    "reset signals",
    "set up file descriptors",
    "make mounts private",
    "mount root tmpfs",
    "build root filesystem",
    "report ready",
    "receive request",
    "parse request",
    "bind workspace",
    "write code file",
    "make root read-only",
    "pivot_root",
    "set hostname",
    "create cgroup namespace",
    "set rlimits",
    "drop capability bounding set",
    "switch to the sandbox user",
    "clear capabilities",
    "set no_new_privs",
    "apply landlock",
    "chdir /workspace",
    "install seccomp filter",
    "execve interpreter",
    "become root of the user namespace",
];
const ST_SIGNALS: u32 = 0;
const ST_FDS: u32 = 1;
const ST_PRIVATE: u32 = 2;
const ST_ROOT: u32 = 3;
const ST_OPS_BASE: u32 = 1000;
const ST_READY: u32 = 5;
const ST_RECV: u32 = 6;
const ST_PARSE: u32 = 7;
const ST_WORKSPACE: u32 = 8;
const ST_CODE: u32 = 9;
const ST_ROOT_RO: u32 = 10;
const ST_PIVOT: u32 = 11;
const ST_HOSTNAME: u32 = 12;
const ST_CGROUPNS: u32 = 13;
const ST_RLIMIT: u32 = 14;
const ST_BOUNDING: u32 = 15;
const ST_SETID: u32 = 16;
const ST_CAPS: u32 = 17;
const ST_NNP: u32 = 18;
const ST_LANDLOCK: u32 = 19;
const ST_CHDIR: u32 = 20;
const ST_SECCOMP: u32 = 21;
const ST_EXEC: u32 = 22;
const ST_NSROOT: u32 = 23;

/// Everything a sandbox child needs, prepared once per engine.
#[derive(Debug)]
pub(crate) struct ChildPlan {
    /// Root filesystem plan.
    pub root: RootPlan,
    /// tmpfs options of the root.
    pub root_opts: CString,
    /// Compiled seccomp filter.
    pub seccomp: SeccompProgram,
    /// Landlock settings.
    pub landlock: LandlockPlan,
    /// Create a network namespace.
    pub new_net: bool,
    /// Host uid of the sandbox user.
    pub host_uid: u32,
    /// Host gid of the sandbox user.
    pub host_gid: u32,
    /// Highest capability number of the kernel (`/proc/sys/kernel/cap_last_cap`).
    pub cap_last: libc::c_ulong,
}

impl ChildPlan {
    fn step_name(&self, step: u32) -> String {
        if step >= ST_OPS_BASE {
            let i = (step - ST_OPS_BASE) as usize;
            return match self.root.ops.get(i) {
                Some(op) => format!("build root filesystem: {}", describe(op)),
                None => "build root filesystem".into(),
            };
        }
        STEPS.get(step as usize).copied().unwrap_or("unknown").to_string()
    }
}

fn describe(op: &MountOp) -> String {
    match op {
        MountOp::Mkdir(p) => format!("mkdir {p:?}"),
        MountOp::Touch(p) => format!("create {p:?}"),
        MountOp::Symlink { target, link } => format!("symlink {link:?} -> {target:?}"),
        MountOp::WriteFile { path, .. } => format!("write {path:?}"),
        MountOp::Bind { src, dst, .. } => format!("bind {src:?} on {dst:?}"),
        MountOp::Tmpfs { dst, .. } => format!("mount tmpfs on {dst:?}"),
        MountOp::Proc(p) => format!("mount proc on {p:?} (is /proc fully visible on the host?)"),
        MountOp::ReadOnly(p) => format!("make {p:?} read-only"),
    }
}

/// One rlimit to set in the child.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rlimit {
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

/// What to exec, serialised into the request message.
#[derive(Debug, Clone)]
pub(crate) struct ExecSpec {
    pub exec_path: String,
    pub code_dst: Option<String>,
    pub argv: Vec<String>,
    pub env: Vec<String>,
    pub rlimits: Vec<Rlimit>,
}

impl ExecSpec {
    /// Serialises the request message (validated: no NULs, fits the buffer).
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(4096);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&0u32.to_le_bytes());
        let push = |out: &mut Vec<u8>, s: &str| -> Result<()> {
            if s.as_bytes().contains(&0) {
                return Err(SandboxError::InvalidRequest(format!(
                    "argument or environment entry contains a NUL byte: {s:?}"
                )));
            }
            out.extend_from_slice(s.as_bytes());
            out.push(0);
            Ok(())
        };
        push(&mut out, &self.exec_path)?;
        push(&mut out, self.code_dst.as_deref().unwrap_or(""))?;
        if self.argv.len() >= MAX_VEC || self.env.len() >= MAX_VEC {
            return Err(SandboxError::InvalidRequest(format!(
                "too many arguments or environment variables (max {})",
                MAX_VEC - 1
            )));
        }
        out.extend_from_slice(&(self.argv.len() as u32).to_le_bytes());
        for a in &self.argv {
            push(&mut out, a)?;
        }
        out.extend_from_slice(&(self.env.len() as u32).to_le_bytes());
        for e in &self.env {
            push(&mut out, e)?;
        }
        out.extend_from_slice(&(self.rlimits.len() as u32).to_le_bytes());
        for r in &self.rlimits {
            out.extend_from_slice(&r.resource.to_le_bytes());
            out.extend_from_slice(&r.soft.to_le_bytes());
            out.extend_from_slice(&r.hard.to_le_bytes());
        }
        if out.len() > REQ_MAX - 1 {
            return Err(SandboxError::InvalidRequest(format!(
                "arguments and environment are too large ({} bytes, max {})",
                out.len(),
                REQ_MAX - 1
            )));
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Child side
// ---------------------------------------------------------------------------

struct ChildArgs {
    plan: *const ChildPlan,
    fds: [RawFd; 4],
    buf: *mut u8,
    argv: *mut *const libc::c_char,
    envp: *mut *const libc::c_char,
    fprog: libc::sock_fprog,
}

fn errno() -> i32 {
    // SAFETY: __errno_location is always valid for the calling thread.
    unsafe { *libc::__errno_location() }
}

/// Reports a failed step to the parent and exits. Async-signal-safe.
unsafe fn fail(step: u32, err: i32) -> ! {
    let mut msg = [0u8; 9];
    msg[0] = b'E';
    let s = step.to_le_bytes();
    let e = err.to_le_bytes();
    let mut i = 0;
    while i < 4 {
        msg[1 + i] = s[i];
        msg[5 + i] = e[i];
        i += 1;
    }
    libc::write(3, msg.as_ptr().cast(), msg.len());
    libc::_exit(127)
}

unsafe fn check(step: u32, r: libc::c_long) {
    if r < 0 {
        fail(step, errno());
    }
}

extern "C" fn child_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: arg points to the ChildArgs copied into this process by clone.
    unsafe { child_main(&*(arg as *const ChildArgs)) }
}

/// Minimal cursor over the received request (no allocation, no panics).
struct Cursor {
    base: *mut u8,
    len: usize,
    pos: usize,
}

impl Cursor {
    unsafe fn cstr(&mut self) -> Option<*const libc::c_char> {
        let start = self.pos;
        while self.pos < self.len {
            if *self.base.add(self.pos) == 0 {
                self.pos += 1;
                return Some(self.base.add(start) as *const libc::c_char);
            }
            self.pos += 1;
        }
        None
    }
    unsafe fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        if self.pos + N > self.len {
            return None;
        }
        let mut out = [0u8; N];
        let mut i = 0;
        while i < N {
            out[i] = *self.base.add(self.pos + i);
            i += 1;
        }
        self.pos += N;
        Some(out)
    }
    unsafe fn u32(&mut self) -> Option<u32> {
        self.bytes::<4>().map(u32::from_le_bytes)
    }
    unsafe fn u64(&mut self) -> Option<u64> {
        self.bytes::<8>().map(u64::from_le_bytes)
    }
}

unsafe fn child_main(a: &ChildArgs) -> ! {
    let plan = &*a.plan;
    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);

    // Signals: default dispositions, nothing blocked (the parent thread's mask is inherited).
    let mut sig = 1;
    while sig < 32 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            libc::signal(sig, libc::SIG_DFL);
        }
        sig += 1;
    }
    let empty: u64 = 0;
    check(
        ST_SIGNALS,
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty as *const u64,
            std::ptr::null_mut::<u64>(),
            8usize,
        ),
    );

    // fds: 0 stdin, 1 stdout, 2 stderr, 3 control (cloexec); close everything else.
    let mut tmp = [0 as RawFd; 4];
    let mut i = 0;
    while i < 4 {
        tmp[i] = libc::fcntl(a.fds[i], libc::F_DUPFD_CLOEXEC, 16);
        if tmp[i] < 0 {
            libc::_exit(126);
        }
        i += 1;
    }
    i = 0;
    while i < 3 {
        if libc::dup2(tmp[i], i as RawFd) < 0 {
            libc::_exit(126);
        }
        i += 1;
    }
    if libc::dup3(tmp[3], 3, libc::O_CLOEXEC) < 0 {
        libc::_exit(126);
    }
    check(ST_FDS, libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32));

    // Wait until the parent has written uid/gid maps and set up the cgroup,
    // then become root of the user namespace (an unprivileged host id).
    let mut mb = [0u8; 1];
    if libc::read(3, mb.as_mut_ptr().cast(), 1) != 1 {
        libc::_exit(0);
    }
    check(ST_NSROOT, libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()));
    check(ST_NSROOT, libc::syscall(libc::SYS_setresgid, 0, 0, 0));
    check(ST_NSROOT, libc::syscall(libc::SYS_setresuid, 0, 0, 0));

    // Mounts: nothing propagates back to the host.
    check(
        ST_PRIVATE,
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) as libc::c_long,
    );
    check(
        ST_ROOT,
        libc::mount(
            c"tmpfs".as_ptr(),
            plan.root.staging.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            plan.root_opts.as_ptr().cast(),
        ) as libc::c_long,
    );
    for (idx, op) in plan.root.ops.iter().enumerate() {
        check(ST_OPS_BASE + idx as u32, mounts::child::run(op));
    }
    if libc::write(3, b"R".as_ptr().cast(), 1) != 1 {
        fail(ST_READY, errno());
    }

    // Wait for the request.
    let mut iov = libc::iovec { iov_base: a.buf.cast(), iov_len: REQ_MAX };
    let mut cbuf = [0u64; 8];
    let mut msg: libc::msghdr = std::mem::zeroed();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
    // No signal handlers are installed, so recvmsg cannot fail with EINTR.
    let n = libc::recvmsg(3, &mut msg, libc::MSG_CMSG_CLOEXEC);
    if n == 0 {
        libc::_exit(0); // pool shut down
    }
    if n < 0 {
        fail(ST_RECV, errno());
    }
    // fds: [workspace mount, code memfd (optional)]
    let mut ws_fd: RawFd = -1;
    let mut code_fd: RawFd = -1;
    let cmsg = libc::CMSG_FIRSTHDR(&msg);
    if !cmsg.is_null() && (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
        let data = libc::CMSG_DATA(cmsg) as *const RawFd;
        let nfds = ((*cmsg).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
        if nfds >= 1 {
            ws_fd = *data;
        }
        if nfds >= 2 {
            code_fd = *data.add(1);
        }
    }

    // Parse.
    let mut c = Cursor { base: a.buf, len: n as usize, pos: 0 };
    let bad = libc::EINVAL;
    match c.bytes::<4>() {
        Some(m) if m == *MAGIC => {}
        _ => fail(ST_PARSE, bad),
    }
    let _flags = c.u32();
    let Some(exec_path) = c.cstr() else { fail(ST_PARSE, bad) };
    let Some(code_dst) = c.cstr() else { fail(ST_PARSE, bad) };
    let Some(argc) = c.u32() else { fail(ST_PARSE, bad) };
    if argc as usize >= MAX_VEC {
        fail(ST_PARSE, bad);
    }
    let mut k = 0usize;
    while k < argc as usize {
        let Some(s) = c.cstr() else { fail(ST_PARSE, bad) };
        *a.argv.add(k) = s;
        k += 1;
    }
    *a.argv.add(k) = std::ptr::null();
    let Some(envc) = c.u32() else { fail(ST_PARSE, bad) };
    if envc as usize >= MAX_VEC {
        fail(ST_PARSE, bad);
    }
    k = 0;
    while k < envc as usize {
        let Some(s) = c.cstr() else { fail(ST_PARSE, bad) };
        *a.envp.add(k) = s;
        k += 1;
    }
    *a.envp.add(k) = std::ptr::null();
    let Some(nrlim) = c.u32() else { fail(ST_PARSE, bad) };
    let rlim_pos = c.pos;

    // Workspace and code.
    if ws_fd < 0 {
        fail(ST_WORKSPACE, libc::EBADF);
    }
    check(ST_WORKSPACE, mounts::child::move_mount(ws_fd, &plan.root.workspace_dst));
    libc::close(ws_fd);
    if *code_dst != 0 {
        if code_fd < 0 {
            fail(ST_CODE, libc::EBADF);
        }
        let out =
            libc::open(code_dst, libc::O_CREAT | libc::O_WRONLY | libc::O_EXCL | libc::O_CLOEXEC, 0o444);
        if out < 0 {
            fail(ST_CODE, errno());
        }
        let mut off: libc::off_t = 0;
        loop {
            let r = libc::sendfile(out, code_fd, &mut off, 1 << 20);
            if r < 0 {
                fail(ST_CODE, errno());
            }
            if r == 0 {
                break;
            }
        }
        libc::close(out);
    }
    if code_fd >= 0 {
        libc::close(code_fd);
    }
    check(ST_ROOT_RO, mounts::child::make_readonly(&plan.root.staging));

    // pivot_root into the new root and drop the old one.
    if libc::chdir(plan.root.staging.as_ptr()) != 0 {
        fail(ST_PIVOT, errno());
    }
    check(ST_PIVOT, libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()));
    check(ST_PIVOT, libc::umount2(c".".as_ptr(), libc::MNT_DETACH) as libc::c_long);
    check(ST_PIVOT, libc::chdir(c"/".as_ptr()) as libc::c_long);

    check(ST_HOSTNAME, libc::sethostname(c"sandbox".as_ptr(), 7) as libc::c_long);
    check(ST_CGROUPNS, libc::unshare(libc::CLONE_NEWCGROUP) as libc::c_long);

    // rlimits.
    c.pos = rlim_pos;
    let mut r = 0;
    while r < nrlim {
        let (Some(res), Some(soft), Some(hard)) = (c.u32(), c.u64(), c.u64()) else { fail(ST_PARSE, bad) };
        let lim = libc::rlimit64 { rlim_cur: soft, rlim_max: hard };
        check(
            ST_RLIMIT,
            libc::syscall(
                libc::SYS_prlimit64,
                0,
                res,
                &lim as *const libc::rlimit64,
                std::ptr::null_mut::<libc::rlimit64>(),
            ),
        );
        r += 1;
    }

    // Capabilities: empty bounding and ambient sets, locked securebits.
    let mut cap = 0;
    while cap <= plan.cap_last {
        if libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 {
            fail(ST_BOUNDING, errno());
        }
        cap += 1;
    }
    check(
        ST_BOUNDING,
        libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) as libc::c_long,
    );
    // NOROOT|NOROOT_LOCKED|NO_SETUID_FIXUP_LOCKED|KEEP_CAPS_LOCKED|NO_CAP_AMBIENT_RAISE(_LOCKED)
    check(ST_BOUNDING, libc::prctl(libc::PR_SET_SECUREBITS, 0xEB, 0, 0, 0) as libc::c_long);

    // Switch to the sandbox user (raw syscalls: glibc's wrappers would try to
    // synchronise threads that do not exist in this process).
    check(ST_SETID, libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()));
    check(ST_SETID, libc::syscall(libc::SYS_setresgid, INNER_ID, INNER_ID, INNER_ID));
    check(ST_SETID, libc::syscall(libc::SYS_setresuid, INNER_ID, INNER_ID, INNER_ID));
    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: i32,
    }
    let hdr = CapHeader { version: 0x2008_0522, pid: 0 };
    let data = [0u32; 6];
    check(ST_CAPS, libc::syscall(libc::SYS_capset, &hdr as *const CapHeader, data.as_ptr()));
    check(ST_NNP, libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long);
    if let Err(e) = landlock::apply_in_child(&plan.landlock) {
        fail(ST_LANDLOCK, e);
    }
    check(ST_CHDIR, libc::chdir(c"/workspace".as_ptr()) as libc::c_long);

    check(
        ST_SECCOMP,
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &a.fprog as *const libc::sock_fprog,
        ),
    );
    libc::write(3, b"G".as_ptr().cast(), 1);
    libc::execve(exec_path, a.argv, a.envp);
    fail(ST_EXEC, errno())
}

// ---------------------------------------------------------------------------
// Parent side
// ---------------------------------------------------------------------------

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(SandboxError::last_os("pipe2"));
    }
    // SAFETY: both fds were just created and are owned here.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn set_nonblock(fd: RawFd) {
    // SAFETY: fcntl on an fd we own.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
}

/// A sandbox process waiting for its request (or running it).
#[derive(Debug)]
pub(crate) struct Zygote {
    pid: libc::pid_t,
    /// Stack and buffers of the child; unmapped (on drop) only after it exec'd or died.
    _mem: MmapStack,
    pidfd: OwnedFd,
    ctl: OwnedFd,
    stdin_w: Option<OwnedFd>,
    stdout_r: OwnedFd,
    stderr_r: OwnedFd,
    /// The run's cgroup (the zygote is already in it).
    pub cgroup: RunCgroup,
    reaped: bool,
}

#[derive(Debug)]
struct MmapStack {
    base: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is owned exclusively by one Zygote; moving the owner to
// another thread does not create shared access.
unsafe impl Send for MmapStack {}

impl MmapStack {
    fn new(len: usize) -> Result<Self> {
        // SAFETY: anonymous private mapping; checked for MAP_FAILED.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(SandboxError::last_os("mmap child stack"));
        }
        // Guard page at the bottom.
        // SAFETY: the first page belongs to the mapping above.
        unsafe { libc::mprotect(base, 4096, libc::PROT_NONE) };
        Ok(Self { base, len })
    }
    /// Top of the stack area (above the guard page), page aligned.
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: inside the mapping.
        unsafe { self.base.cast::<u8>().add(4096 + STACK_SIZE).cast() }
    }
}

impl Drop for MmapStack {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

fn write_proc(pid: libc::pid_t, file: &str, content: &str) -> Result<()> {
    let path = format!("/proc/{pid}/{file}");
    std::fs::write(&path, content).map_err(|e| {
        SandboxError::io(
            format!(
                "write {path} (VANA must run as root or with CAP_SETUID/CAP_SETGID to map the sandbox user)"
            ),
            e,
        )
    })
}

/// Clones a new sandbox child (namespaces + root filesystem, waiting for a request).
pub(crate) fn spawn_zygote(plan: &ChildPlan, cgroup: RunCgroup) -> Result<Zygote> {
    let (ctl_parent, ctl_child) = {
        let mut sv = [0; 2];
        // SAFETY: sv is a valid array of two ints.
        let r = unsafe {
            libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, sv.as_mut_ptr())
        };
        if r != 0 {
            return Err(SandboxError::last_os("socketpair"));
        }
        // SAFETY: fresh fds owned here.
        unsafe { (OwnedFd::from_raw_fd(sv[0]), OwnedFd::from_raw_fd(sv[1])) }
    };
    let (stdin_r, stdin_w) = pipe()?;
    let (stdout_r, stdout_w) = pipe()?;
    let (stderr_r, stderr_w) = pipe()?;
    // One fresh anonymous mapping holds the child's stack, its arguments, the
    // request buffer and the argv/envp arrays. The child shares our address
    // space (CLONE_VM, like posix_spawn) until it execs, so the mapping lives
    // in the Zygote and is unmapped only after the child has exec'd or died.
    // Layout: [guard page][stack][ChildArgs][request buffer][argv][envp].
    let ptrs = (MAX_VEC + 1) * std::mem::size_of::<*const libc::c_char>();
    let args_size = std::mem::size_of::<ChildArgs>().next_multiple_of(64);
    let mem = MmapStack::new(4096 + STACK_SIZE + args_size + REQ_MAX + 2 * ptrs)?;
    let data = 4096 + STACK_SIZE;
    let base = mem.base.cast::<u8>();
    // SAFETY: all offsets lie inside the mapping; it is page aligned, so
    // every sub-area is suitably aligned.
    let (args_ptr, buf, argv, envp) = unsafe {
        (
            base.add(data).cast::<ChildArgs>(),
            base.add(data + args_size),
            base.add(data + args_size + REQ_MAX).cast::<*const libc::c_char>(),
            base.add(data + args_size + REQ_MAX + ptrs).cast::<*const libc::c_char>(),
        )
    };
    let args = ChildArgs {
        plan,
        fds: [stdin_r.as_raw_fd(), stdout_w.as_raw_fd(), stderr_w.as_raw_fd(), ctl_child.as_raw_fd()],
        buf,
        argv,
        envp,
        fprog: libc::sock_fprog {
            len: plan.seccomp.filter.len() as u16,
            filter: plan.seccomp.filter.as_ptr() as *mut libc::sock_filter,
        },
    };
    let mut flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        | libc::CLONE_VM
        | libc::SIGCHLD;
    if plan.new_net {
        flags |= libc::CLONE_NEWNET;
    }
    // SAFETY: args_ptr points into our mapping, aligned and large enough.
    unsafe { args_ptr.write(args) };
    // SAFETY: the child runs child_entry on its own stack in our address
    // space (CLONE_VM) and only performs async-signal-safe operations on the
    // mapping above and on the immutable plan, which outlive it.
    let pid = unsafe { libc::clone(child_entry, mem.top(), flags, args_ptr.cast::<libc::c_void>()) };
    if pid < 0 {
        let e = io::Error::last_os_error();
        let fix = match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EINVAL) | Some(libc::ENOSPC) | Some(libc::EUSERS) => {
                Some("enable user namespaces: sysctl -w user.max_user_namespaces=15000 (and kernel.unprivileged_userns_clone=1 / kernel.apparmor_restrict_unprivileged_userns=0 where those exist); inside a container, allow clone(CLONE_NEWUSER) in its seccomp profile")
            }
            _ => None,
        };
        return Err(match fix {
            Some(fix) => SandboxError::IsolationUnavailable {
                what: format!("cannot create namespaces (clone: {e})"),
                fix: fix.into(),
            },
            None => SandboxError::io("clone sandbox process", e),
        });
    }
    drop((stdin_r, stdout_w, stderr_w, ctl_child));
    // SAFETY: pid is our unreaped child.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let pidfd = if pidfd < 0 {
        let e = SandboxError::last_os("pidfd_open");
        kill_reap(pid);
        return Err(e);
    } else {
        // SAFETY: fresh fd owned here.
        unsafe { OwnedFd::from_raw_fd(pidfd as RawFd) }
    };
    let z = Zygote {
        pid,
        _mem: mem,
        pidfd,
        ctl: ctl_parent,
        stdin_w: Some(stdin_w),
        stdout_r,
        stderr_r,
        cgroup,
        reaped: false,
    };
    write_proc(pid, "uid_map", &format!("0 {} 1\n{INNER_ID} {} 1\n", plan.host_uid + 1, plan.host_uid))?;
    write_proc(pid, "gid_map", &format!("0 {} 1\n{INNER_ID} {} 1\n", plan.host_gid + 1, plan.host_gid))?;
    z.cgroup.add(pid)?;
    // SAFETY: sending one byte on our socket.
    if unsafe { libc::send(z.ctl.as_raw_fd(), b"M".as_ptr().cast(), 1, libc::MSG_NOSIGNAL) } != 1 {
        return Err(SandboxError::last_os("start sandbox"));
    }
    set_nonblock(z.stdout_r.as_raw_fd());
    set_nonblock(z.stderr_r.as_raw_fd());
    if let Some(w) = &z.stdin_w {
        set_nonblock(w.as_raw_fd());
    }
    Ok(z)
}

fn kill_reap(pid: libc::pid_t) {
    // SAFETY: pid is our unreaped child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0);
    }
}

enum CtlMsg {
    Ready,
    Go,
    Error(u32, i32),
    Eof,
}

fn read_ctl(fd: RawFd) -> io::Result<CtlMsg> {
    let mut b = [0u8; 16];
    loop {
        // SAFETY: reading into a local buffer.
        let n = unsafe { libc::recv(fd, b.as_mut_ptr().cast(), b.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            if e.raw_os_error() == Some(libc::ECONNRESET) {
                return Ok(CtlMsg::Eof);
            }
            return Err(e);
        }
        return Ok(match (n, b[0]) {
            (0, _) => CtlMsg::Eof,
            (_, b'R') => CtlMsg::Ready,
            (_, b'G') => CtlMsg::Go,
            (9, b'E') => CtlMsg::Error(
                u32::from_le_bytes([b[1], b[2], b[3], b[4]]),
                i32::from_le_bytes([b[5], b[6], b[7], b[8]]),
            ),
            _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "bad control message")),
        });
    }
}

fn poll_one(fd: RawFd, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    let ms = left.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, ms) > 0 }
}

/// What a dispatched run needs.
pub(crate) struct RunInput<'a> {
    /// Encoded [`ExecSpec`].
    pub request: &'a [u8],
    /// Detached workspace mount (from [`workspace_mount`]).
    pub workspace: OwnedFd,
    /// Code memfd for inline code.
    pub code: Option<OwnedFd>,
    /// Standard input data.
    pub stdin: Option<Vec<u8>>,
    /// Wall-clock timeout.
    pub timeout: Duration,
    /// Output cap per stream.
    pub output_cap: usize,
}

/// Raw outcome of a run before cgroup accounting is added.
#[derive(Debug, Default)]
pub(crate) struct RawRun {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub output_capped: bool,
    pub wall: Duration,
    pub rusage_cpu: Duration,
}

impl Zygote {
    /// Waits until the child has built its root filesystem.
    pub(crate) fn wait_ready(&self, plan: &ChildPlan, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        if !poll_one(self.ctl.as_raw_fd(), deadline) {
            return Err(SandboxError::io(
                "sandbox did not become ready",
                io::Error::from(io::ErrorKind::TimedOut),
            ));
        }
        match read_ctl(self.ctl.as_raw_fd()).map_err(|e| SandboxError::io("sandbox control", e))? {
            CtlMsg::Ready => Ok(()),
            CtlMsg::Error(step, errno) => Err(setup_error(plan, step, errno)),
            _ => Err(SandboxError::io(
                "sandbox exited during setup",
                io::Error::from(io::ErrorKind::UnexpectedEof),
            )),
        }
    }

    /// Whether the child is still alive and waiting (pool health check).
    pub(crate) fn alive(&self) -> bool {
        let mut p = libc::pollfd { fd: self.pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, no wait.
        unsafe { libc::poll(&mut p, 1, 0) == 0 }
    }

    /// Sends the request and waits for the exec; then pumps stdin/stdout/stderr
    /// until exit, timeout or output cap; then reaps the process.
    pub(crate) fn run(&mut self, plan: &ChildPlan, input: RunInput<'_>) -> Result<RawRun> {
        let RunInput { request, workspace, code, stdin, timeout, output_cap } = input;
        let start = Instant::now();
        let deadline = start + timeout;
        // A warm sandbox was prepared at low priority: give it the caller's.
        // SAFETY: get/setpriority on the calling thread and our child.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            *libc::__errno_location() = 0;
            let nice = libc::getpriority(libc::PRIO_PROCESS, tid);
            if *libc::__errno_location() == 0 {
                libc::setpriority(libc::PRIO_PROCESS, self.pid as libc::id_t, nice);
            }
        }
        let mut fds = vec![workspace.as_raw_fd()];
        if let Some(c) = &code {
            fds.push(c.as_raw_fd());
        }
        send_request(self.ctl.as_raw_fd(), request, &fds)
            .map_err(|e| SandboxError::io("send request to sandbox", e))?;
        drop(code);
        drop(workspace);
        // Wait for exec (or a setup error).
        let mut went = false;
        loop {
            if !poll_one(self.ctl.as_raw_fd(), deadline + Duration::from_secs(5)) {
                return Err(SandboxError::io(
                    "sandbox setup timed out",
                    io::Error::from(io::ErrorKind::TimedOut),
                ));
            }
            match read_ctl(self.ctl.as_raw_fd()).map_err(|e| SandboxError::io("sandbox control", e))? {
                CtlMsg::Ready => {}
                CtlMsg::Go => went = true,
                CtlMsg::Error(step, errno) => return Err(setup_error(plan, step, errno)),
                CtlMsg::Eof if went => break,
                CtlMsg::Eof => {
                    return Err(SandboxError::io(
                        "sandbox exited before exec",
                        io::Error::from(io::ErrorKind::UnexpectedEof),
                    ))
                }
            }
        }
        let mut out = RawRun::default();
        self.pump(&mut out, stdin, deadline, output_cap);
        // Reap.
        let mut status = 0;
        // SAFETY: rusage is plain data; pid is our child.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: as above.
            let r = unsafe { libc::wait4(self.pid, &mut status, 0, &mut ru) };
            if r < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        self.reaped = true;
        out.wall = start.elapsed();
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        out.rusage_cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
        if libc::WIFEXITED(status) {
            out.exit_code = Some(libc::WEXITSTATUS(status));
        } else if libc::WIFSIGNALED(status) {
            out.signal = Some(libc::WTERMSIG(status));
        }
        Ok(out)
    }

    fn kill(&self) {
        // SAFETY: pid is our unreaped child (pid 1 of its namespace: killing it kills the namespace).
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
    }

    fn pump(&mut self, out: &mut RawRun, stdin: Option<Vec<u8>>, deadline: Instant, cap: usize) {
        let stdin_data = stdin.unwrap_or_default();
        let mut stdin_off = 0usize;
        if stdin_data.is_empty() {
            self.stdin_w = None;
        }
        let mut out_open = true;
        let mut err_open = true;
        let mut exited = false;
        let mut killed = false;
        let mut chunk = vec![0u8; 64 * 1024];
        // After the process exits, give the pipes a short grace period to drain.
        let mut drain_deadline: Option<Instant> = None;
        loop {
            if !out_open && !err_open && exited {
                break;
            }
            let now = Instant::now();
            if let Some(d) = drain_deadline {
                if now >= d {
                    break;
                }
            }
            if !killed && now >= deadline {
                out.timed_out = true;
                killed = true;
                self.kill();
            }
            let mut fds = [
                libc::pollfd { fd: -1, events: libc::POLLIN, revents: 0 },
                libc::pollfd { fd: -1, events: libc::POLLIN, revents: 0 },
                libc::pollfd { fd: -1, events: libc::POLLIN, revents: 0 },
                libc::pollfd { fd: -1, events: libc::POLLOUT, revents: 0 },
            ];
            if out_open {
                fds[0].fd = self.stdout_r.as_raw_fd();
            }
            if err_open {
                fds[1].fd = self.stderr_r.as_raw_fd();
            }
            if !exited {
                fds[2].fd = self.pidfd.as_raw_fd();
            }
            if let Some(w) = &self.stdin_w {
                fds[3].fd = w.as_raw_fd();
            }
            let until =
                drain_deadline.unwrap_or(if killed { now + Duration::from_millis(200) } else { deadline });
            let ms = until.saturating_duration_since(now).as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: fds is a valid array of pollfd.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if n < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                break;
            }
            for (i, open) in [(0usize, &mut out_open), (1, &mut err_open)] {
                if fds[i].fd < 0 || fds[i].revents == 0 {
                    continue;
                }
                let (buf, trunc) = if i == 0 {
                    (&mut out.stdout, &mut out.stdout_truncated)
                } else {
                    (&mut out.stderr, &mut out.stderr_truncated)
                };
                // SAFETY: reading into our chunk buffer.
                let r = unsafe { libc::read(fds[i].fd, chunk.as_mut_ptr().cast(), chunk.len()) };
                if r > 0 {
                    let r = r as usize;
                    let room = cap.saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..r.min(room)]);
                    if r > room {
                        *trunc = true;
                        if !out.output_capped {
                            out.output_capped = true;
                            if !killed {
                                killed = true;
                                self.kill();
                            }
                        }
                    }
                } else if r == 0 {
                    *open = false;
                } else {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::WouldBlock && e.kind() != io::ErrorKind::Interrupted {
                        *open = false;
                    }
                }
            }
            if fds[2].fd >= 0 && fds[2].revents != 0 {
                exited = true;
                drain_deadline = Some(Instant::now() + Duration::from_millis(500));
                self.stdin_w = None;
            }
            if fds[3].fd >= 0 && fds[3].revents != 0 {
                let mut done = fds[3].revents & (libc::POLLERR | libc::POLLHUP) != 0;
                if !done {
                    let rest = &stdin_data[stdin_off..];
                    // SAFETY: writing from our buffer.
                    let r =
                        unsafe { libc::write(fds[3].fd, rest.as_ptr().cast(), rest.len().min(64 * 1024)) };
                    if r > 0 {
                        stdin_off += r as usize;
                        done = stdin_off >= stdin_data.len();
                    } else if r < 0 && io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock {
                        done = true;
                    }
                }
                if done {
                    self.stdin_w = None;
                }
            }
        }
    }
}

impl Drop for Zygote {
    fn drop(&mut self) {
        if !self.reaped {
            kill_reap(self.pid);
            self.reaped = true;
        }
    }
}

fn setup_error(plan: &ChildPlan, step: u32, errno: i32) -> SandboxError {
    let name = plan.step_name(step);
    SandboxError::Setup { step: name, source: io::Error::from_raw_os_error(errno) }
}

fn send_request(fd: RawFd, data: &[u8], pass: &[RawFd]) -> io::Result<()> {
    let mut iov = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
    let mut cbuf = [0u64; 8];
    // SAFETY: msghdr is plain data; the control buffer is large enough for one fd.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if !pass.is_empty() {
            let bytes = std::mem::size_of_val(pass) as u32;
            msg.msg_control = cbuf.as_mut_ptr().cast();
            msg.msg_controllen = libc::CMSG_SPACE(bytes) as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(bytes) as _;
            std::ptr::copy_nonoverlapping(pass.as_ptr(), libc::CMSG_DATA(cmsg) as *mut RawFd, pass.len());
        }
        loop {
            let r = libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL);
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            return Ok(());
        }
    }
}

/// Creates a sealed memfd holding `code`.
pub(crate) fn code_memfd(code: &[u8]) -> Result<OwnedFd> {
    // SAFETY: memfd_create with a static name.
    let fd =
        unsafe { libc::memfd_create(c"vana-code".as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(SandboxError::last_os("memfd_create"));
    }
    // SAFETY: fresh fd owned here.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut off = 0;
    while off < code.len() {
        // SAFETY: writing from our slice.
        let r = unsafe { libc::write(fd.as_raw_fd(), code[off..].as_ptr().cast(), code.len() - off) };
        if r < 0 {
            return Err(SandboxError::last_os("write code memfd"));
        }
        off += r as usize;
    }
    // SAFETY: sealing our memfd.
    unsafe {
        libc::fcntl(
            fd.as_raw_fd(),
            libc::F_ADD_SEALS,
            libc::F_SEAL_WRITE | libc::F_SEAL_GROW | libc::F_SEAL_SHRINK | libc::F_SEAL_SEAL,
        )
    };
    Ok(fd)
}

/// Clones `path` as a detached bind mount (nosuid, nodev) to hand to a sandbox.
pub(crate) fn workspace_mount(path: &std::path::Path) -> Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| SandboxError::InvalidRequest("workspace path contains NUL".into()))?;
    // SAFETY: open_tree on a valid C string; returns a new fd or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c.as_ptr(),
            1u32 /* OPEN_TREE_CLONE */ | libc::O_CLOEXEC as u32,
        )
    };
    if fd < 0 {
        return Err(SandboxError::last_os(format!(
            "clone workspace mount {} (open_tree needs Linux >= 5.2)",
            path.display()
        )));
    }
    // SAFETY: fresh fd owned here.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    // SAFETY: mount_setattr on our detached mount.
    let r = unsafe { mounts::child::setattr_fd(fd.as_raw_fd(), 0x2 | 0x4) };
    if r < 0 {
        return Err(SandboxError::last_os("set nosuid,nodev on workspace mount"));
    }
    Ok(fd)
}
