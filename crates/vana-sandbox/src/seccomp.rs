//! Seccomp filters: an allow-list derived from Docker's default profile.
//!
//! Everything not listed fails with `EPERM`: ptrace, mount/umount, unshare,
//! setns, bpf, kexec, keyctl, io_uring, module loading, reboot, swapon,
//! perf_event_open, userfaultfd, and more. `clone` is allowed only without
//! namespace-creating flags; `clone3` fails with `ENOSYS` so libc falls back
//! to `clone`, whose flags a classic BPF filter can inspect.
//!
//! The filter is compiled once (in the parent, before any clone) as a
//! binary search over syscall-number ranges and only installed in the
//! child, right before `execve`. (A linear allow-list such as `seccompiler`
//! emits costs ~0.7 ms to load per sandbox because the kernel emulates it for
//! every syscall number to fill its action cache; the tree loads in a few
//! microseconds.)

use crate::error::{Result, SandboxError};

/// Syscalls allowed unconditionally (Docker default profile, minus ptrace
/// and process_vm_*).
#[rustfmt::skip]
const ALLOWED: &[libc::c_long] = &[
    libc::SYS_accept, libc::SYS_accept4, libc::SYS_bind, libc::SYS_brk, libc::SYS_capget,
    libc::SYS_capset, libc::SYS_chdir, libc::SYS_clock_getres, libc::SYS_clock_gettime,
    libc::SYS_clock_nanosleep, libc::SYS_close, libc::SYS_close_range, libc::SYS_connect,
    libc::SYS_copy_file_range, libc::SYS_dup, libc::SYS_dup3, libc::SYS_epoll_create1,
    libc::SYS_epoll_ctl, libc::SYS_epoll_pwait, libc::SYS_epoll_pwait2, libc::SYS_eventfd2,
    libc::SYS_execve, libc::SYS_execveat, libc::SYS_exit, libc::SYS_exit_group,
    libc::SYS_faccessat, libc::SYS_faccessat2, libc::SYS_fadvise64, libc::SYS_fallocate,
    libc::SYS_fchdir, libc::SYS_fchmod, libc::SYS_fchmodat, libc::SYS_fchown, libc::SYS_fchownat,
    libc::SYS_fcntl, libc::SYS_fdatasync, libc::SYS_fgetxattr, libc::SYS_flistxattr,
    libc::SYS_flock, libc::SYS_fremovexattr, libc::SYS_fsetxattr, libc::SYS_fstatfs,
    libc::SYS_fsync, libc::SYS_ftruncate, libc::SYS_futex, libc::SYS_futex_waitv,
    libc::SYS_getcpu, libc::SYS_getcwd, libc::SYS_getdents64, libc::SYS_getegid,
    libc::SYS_geteuid, libc::SYS_getgid, libc::SYS_getgroups, libc::SYS_getitimer,
    libc::SYS_getpeername, libc::SYS_getpgid, libc::SYS_getpid, libc::SYS_getppid,
    libc::SYS_getpriority, libc::SYS_getrandom, libc::SYS_getresgid, libc::SYS_getresuid,
    libc::SYS_getrlimit, libc::SYS_get_robust_list, libc::SYS_getrusage, libc::SYS_getsid,
    libc::SYS_getsockname, libc::SYS_getsockopt, libc::SYS_gettid, libc::SYS_gettimeofday,
    libc::SYS_getuid, libc::SYS_getxattr, libc::SYS_inotify_add_watch, libc::SYS_inotify_init1,
    libc::SYS_inotify_rm_watch, libc::SYS_io_cancel, libc::SYS_ioctl, libc::SYS_io_destroy,
    libc::SYS_io_getevents, libc::SYS_ioprio_get, libc::SYS_ioprio_set,
    libc::SYS_io_setup, libc::SYS_io_submit, libc::SYS_kill, libc::SYS_landlock_add_rule,
    libc::SYS_landlock_create_ruleset, libc::SYS_landlock_restrict_self, libc::SYS_lgetxattr,
    libc::SYS_linkat, libc::SYS_listen, libc::SYS_listxattr, libc::SYS_llistxattr,
    libc::SYS_lremovexattr, libc::SYS_lseek, libc::SYS_lsetxattr, libc::SYS_madvise,
    libc::SYS_membarrier, libc::SYS_memfd_create, libc::SYS_mincore, libc::SYS_mkdirat,
    libc::SYS_mknodat, libc::SYS_mlock, libc::SYS_mlock2, libc::SYS_mlockall, libc::SYS_mmap,
    libc::SYS_mprotect, libc::SYS_mq_getsetattr, libc::SYS_mq_notify, libc::SYS_mq_open,
    libc::SYS_mq_timedreceive, libc::SYS_mq_timedsend, libc::SYS_mq_unlink, libc::SYS_mremap,
    libc::SYS_msgctl, libc::SYS_msgget, libc::SYS_msgrcv, libc::SYS_msgsnd, libc::SYS_msync,
    libc::SYS_munlock, libc::SYS_munlockall, libc::SYS_munmap, libc::SYS_name_to_handle_at,
    libc::SYS_nanosleep, libc::SYS_newfstatat, libc::SYS_openat, libc::SYS_openat2,
    libc::SYS_pidfd_open, libc::SYS_pidfd_send_signal, libc::SYS_pipe2, libc::SYS_pkey_alloc,
    libc::SYS_pkey_free, libc::SYS_pkey_mprotect, libc::SYS_ppoll, libc::SYS_prctl,
    libc::SYS_pread64, libc::SYS_preadv, libc::SYS_preadv2, libc::SYS_prlimit64,
    libc::SYS_process_mrelease, libc::SYS_pselect6, libc::SYS_pwrite64, libc::SYS_pwritev,
    libc::SYS_pwritev2, libc::SYS_read, libc::SYS_readahead, libc::SYS_readlinkat,
    libc::SYS_readv, libc::SYS_recvfrom, libc::SYS_recvmmsg, libc::SYS_recvmsg,
    libc::SYS_remap_file_pages, libc::SYS_removexattr, libc::SYS_renameat, libc::SYS_renameat2,
    libc::SYS_restart_syscall, libc::SYS_rseq, libc::SYS_rt_sigaction, libc::SYS_rt_sigpending,
    libc::SYS_rt_sigprocmask, libc::SYS_rt_sigqueueinfo, libc::SYS_rt_sigreturn,
    libc::SYS_rt_sigsuspend, libc::SYS_rt_sigtimedwait, libc::SYS_rt_tgsigqueueinfo,
    libc::SYS_sched_getaffinity, libc::SYS_sched_getattr, libc::SYS_sched_getparam,
    libc::SYS_sched_get_priority_max, libc::SYS_sched_get_priority_min,
    libc::SYS_sched_getscheduler, libc::SYS_sched_rr_get_interval, libc::SYS_sched_setaffinity,
    libc::SYS_sched_setattr, libc::SYS_sched_setparam, libc::SYS_sched_setscheduler,
    libc::SYS_sched_yield, libc::SYS_seccomp, libc::SYS_semctl, libc::SYS_semget,
    libc::SYS_semop, libc::SYS_semtimedop, libc::SYS_sendfile, libc::SYS_sendmmsg,
    libc::SYS_sendmsg, libc::SYS_sendto, libc::SYS_setfsgid, libc::SYS_setfsuid,
    libc::SYS_setgid, libc::SYS_setgroups, libc::SYS_setitimer, libc::SYS_setpgid,
    libc::SYS_setpriority, libc::SYS_setregid, libc::SYS_setresgid, libc::SYS_setresuid,
    libc::SYS_setreuid, libc::SYS_setrlimit, libc::SYS_set_robust_list, libc::SYS_setsid,
    libc::SYS_setsockopt, libc::SYS_set_tid_address, libc::SYS_setuid, libc::SYS_setxattr,
    libc::SYS_shmat, libc::SYS_shmctl, libc::SYS_shmdt, libc::SYS_shmget, libc::SYS_shutdown,
    libc::SYS_sigaltstack, libc::SYS_signalfd4, libc::SYS_socketpair, libc::SYS_splice,
    libc::SYS_statfs, libc::SYS_statx, libc::SYS_symlinkat, libc::SYS_sync,
    libc::SYS_sync_file_range, libc::SYS_syncfs, libc::SYS_sysinfo, libc::SYS_tee,
    libc::SYS_tgkill, libc::SYS_timer_create, libc::SYS_timer_delete,
    libc::SYS_timer_getoverrun, libc::SYS_timer_gettime, libc::SYS_timer_settime,
    libc::SYS_timerfd_create, libc::SYS_timerfd_gettime, libc::SYS_timerfd_settime,
    libc::SYS_times, libc::SYS_tkill, libc::SYS_truncate, libc::SYS_umask, libc::SYS_uname,
    libc::SYS_unlinkat, libc::SYS_utimensat, libc::SYS_vmsplice, libc::SYS_wait4,
    libc::SYS_waitid, libc::SYS_write, libc::SYS_writev,
];

/// Legacy x86_64 syscalls (absent on aarch64) allowed by Docker's profile.
#[cfg(target_arch = "x86_64")]
#[rustfmt::skip]
const ALLOWED_ARCH: &[libc::c_long] = &[
    libc::SYS_access, libc::SYS_alarm, libc::SYS_arch_prctl, libc::SYS_chmod, libc::SYS_chown,
    libc::SYS_creat, libc::SYS_dup2, libc::SYS_epoll_create, libc::SYS_epoll_wait,
    libc::SYS_eventfd, libc::SYS_fork, libc::SYS_fstat, libc::SYS_futimesat, libc::SYS_getdents,
    libc::SYS_getpgrp, libc::SYS_inotify_init, libc::SYS_lchown, libc::SYS_link, libc::SYS_lstat,
    libc::SYS_mkdir, libc::SYS_mknod, libc::SYS_open, libc::SYS_pause, libc::SYS_pipe,
    libc::SYS_poll, libc::SYS_readlink, libc::SYS_rename, libc::SYS_rmdir, libc::SYS_select,
    libc::SYS_signalfd, libc::SYS_stat, libc::SYS_symlink, libc::SYS_time, libc::SYS_unlink,
    libc::SYS_utime, libc::SYS_utimes, libc::SYS_vfork, libc::SYS_get_thread_area,
    libc::SYS_set_thread_area,
];

/// No legacy syscalls on aarch64.
#[cfg(target_arch = "aarch64")]
const ALLOWED_ARCH: &[libc::c_long] = &[];

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

/// Clone flags that create namespaces (refused in the sandbox). The legacy
/// clone syscall only looks at the low 32 bits of its flags.
const NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP
    | 0x80) as u32; // CLONE_NEWTIME

/// Address family refused by Docker's profile.
const AF_VSOCK: u32 = 40;
/// personality(2) values allowed by Docker's profile.
const PERSONALITIES: &[u32] = &[0, 0x0008, 0x20000, 0x20008, 0xffff_ffff];

const RET_ALLOW: u32 = 0x7fff_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const LD_W_ABS: u16 = 0x20;
const JA: u16 = 0x05;
const JEQ: u16 = 0x15;
const JGT: u16 = 0x25;
const JGE: u16 = 0x35;
const JSET: u16 = 0x45;
const RET: u16 = 0x06;
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARG0_LO: u32 = 16;

/// The compiled seccomp program.
#[derive(Debug, Clone)]
pub(crate) struct SeccompProgram {
    /// Classic BPF instructions.
    pub filter: Vec<libc::sock_filter>,
}

/// What a syscall number maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Allow,
    Clone,
    Clone3,
    Socket,
    Personality,
}

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

fn ret(k: u32) -> libc::sock_filter {
    ins(RET, 0, 0, k)
}

fn deny() -> libc::sock_filter {
    ret(RET_ERRNO | libc::EPERM as u32)
}

/// Code for one syscall (or one range of unconditionally allowed ones),
/// reached with the syscall number in A; ends in returns on every path.
fn leaf(lo: u32, hi: u32, action: Action) -> Vec<libc::sock_filter> {
    let mut v = vec![ins(JGE, 1, 0, lo), deny(), ins(JGT, 0, 1, hi), deny()];
    match action {
        Action::Allow => v.push(ret(RET_ALLOW)),
        Action::Clone3 => v.push(ret(RET_ERRNO | libc::ENOSYS as u32)),
        Action::Clone => v.extend([
            ins(LD_W_ABS, 0, 0, OFF_ARG0_LO),
            ins(JSET, 1, 0, NAMESPACE_FLAGS),
            ret(RET_ALLOW),
            deny(),
        ]),
        Action::Socket => {
            v.extend([ins(LD_W_ABS, 0, 0, OFF_ARG0_LO), ins(JEQ, 0, 1, AF_VSOCK), deny(), ret(RET_ALLOW)])
        }
        Action::Personality => {
            v.push(ins(LD_W_ABS, 0, 0, OFF_ARG0_LO));
            for p in PERSONALITIES {
                v.push(ins(JEQ, 0, 1, *p));
                v.push(ret(RET_ALLOW));
            }
            v.push(deny());
        }
    }
    v
}

/// Binary search tree over sorted, disjoint ranges.
fn tree(ranges: &[(u32, u32, Action)]) -> Vec<libc::sock_filter> {
    if ranges.len() == 1 {
        let (lo, hi, a) = ranges[0];
        return leaf(lo, hi, a);
    }
    let mid = ranges.len() / 2;
    let left = tree(&ranges[..mid]);
    let right = tree(&ranges[mid..]);
    let mut v = Vec::with_capacity(left.len() + right.len() + 2);
    // nr >= ranges[mid].lo: take the long jump over the left subtree.
    v.push(ins(JGE, 0, 1, ranges[mid].0));
    v.push(ins(JA, 0, 0, left.len() as u32));
    v.extend(left);
    v.extend(right);
    v
}

/// Compiles the sandbox's seccomp filter: an arch check, then a binary
/// search over syscall-number ranges (cheap to load and to evaluate).
pub(crate) fn build() -> Result<SeccompProgram> {
    let mut entries: Vec<(u32, Action)> =
        ALLOWED.iter().chain(ALLOWED_ARCH).map(|&nr| (nr as u32, Action::Allow)).collect();
    entries.push((libc::SYS_clone as u32, Action::Clone));
    entries.push((libc::SYS_clone3 as u32, Action::Clone3));
    entries.push((libc::SYS_socket as u32, Action::Socket));
    entries.push((libc::SYS_personality as u32, Action::Personality));
    entries.sort_by_key(|e| e.0);
    entries.dedup_by_key(|e| e.0);
    // Merge consecutive unconditionally allowed numbers into ranges.
    let mut ranges: Vec<(u32, u32, Action)> = Vec::new();
    for (nr, a) in entries {
        match ranges.last_mut() {
            Some(last) if a == Action::Allow && last.2 == Action::Allow && last.1 + 1 == nr => last.1 = nr,
            _ => ranges.push((nr, nr, a)),
        }
    }
    let mut f = vec![
        ins(LD_W_ABS, 0, 0, OFF_ARCH),
        ins(JEQ, 1, 0, AUDIT_ARCH),
        ret(RET_KILL_PROCESS),
        ins(LD_W_ABS, 0, 0, OFF_NR),
    ];
    #[cfg(target_arch = "x86_64")]
    {
        // x32 ABI syscall numbers (bit 30) are refused.
        f.push(ins(JGE, 0, 1, 0x4000_0000));
        f.push(deny());
    }
    f.extend(tree(&ranges));
    if f.len() > 4096 {
        return Err(SandboxError::IsolationUnavailable {
            what: format!("seccomp filter too long ({} instructions)", f.len()),
            fix: "report this as a bug in vana-sandbox".into(),
        });
    }
    Ok(SeccompProgram { filter: f })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimal classic-BPF interpreter for the instructions we emit.
    fn eval(f: &[libc::sock_filter], nr: u32, arch: u32, arg0: u32) -> u32 {
        let mut pc = 0usize;
        let mut a = 0u32;
        loop {
            let i = f[pc];
            match i.code {
                LD_W_ABS => {
                    a = match i.k {
                        OFF_NR => nr,
                        OFF_ARCH => arch,
                        OFF_ARG0_LO => arg0,
                        _ => panic!("load {}", i.k),
                    }
                }
                RET => return i.k,
                JA => {
                    pc += i.k as usize;
                }
                JEQ | JGT | JGE | JSET => {
                    let t = match i.code {
                        JEQ => a == i.k,
                        JGT => a > i.k,
                        JGE => a >= i.k,
                        _ => a & i.k != 0,
                    };
                    pc += if t { i.jt } else { i.jf } as usize;
                }
                c => panic!("opcode {c:#x}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn decisions_match_allow_list() {
        let p = build().unwrap();
        let eperm = RET_ERRNO | libc::EPERM as u32;
        for nr in 0..1000u32 {
            let listed = ALLOWED.iter().chain(ALLOWED_ARCH).any(|&x| x as u32 == nr);
            let got = eval(&p.filter, nr, AUDIT_ARCH, 0);
            if nr == libc::SYS_clone3 as u32 {
                assert_eq!(got, RET_ERRNO | libc::ENOSYS as u32);
            } else if listed
                || nr == libc::SYS_clone as u32
                || nr == libc::SYS_socket as u32
                || nr == libc::SYS_personality as u32
            {
                assert_eq!(got, RET_ALLOW, "syscall {nr}");
            } else {
                assert_eq!(got, eperm, "syscall {nr}");
            }
        }
        for denied in [
            libc::SYS_ptrace,
            libc::SYS_mount,
            libc::SYS_umount2,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_bpf,
            libc::SYS_keyctl,
            libc::SYS_io_uring_setup,
            libc::SYS_init_module,
            libc::SYS_reboot,
            libc::SYS_swapon,
            libc::SYS_perf_event_open,
            libc::SYS_kexec_load,
            libc::SYS_userfaultfd,
            libc::SYS_pivot_root,
            libc::SYS_chroot,
        ] {
            assert_eq!(eval(&p.filter, denied as u32, AUDIT_ARCH, 0), eperm);
        }
        let clone = libc::SYS_clone as u32;
        assert_eq!(eval(&p.filter, clone, AUDIT_ARCH, libc::SIGCHLD as u32), RET_ALLOW);
        assert_eq!(eval(&p.filter, clone, AUDIT_ARCH, libc::CLONE_NEWUSER as u32), eperm);
        assert_eq!(eval(&p.filter, clone, AUDIT_ARCH, libc::CLONE_NEWNET as u32), eperm);
        let socket = libc::SYS_socket as u32;
        assert_eq!(eval(&p.filter, socket, AUDIT_ARCH, AF_VSOCK), eperm);
        assert_eq!(eval(&p.filter, socket, AUDIT_ARCH, 2), RET_ALLOW);
        let pers = libc::SYS_personality as u32;
        assert_eq!(eval(&p.filter, pers, AUDIT_ARCH, 0x0040_0000), eperm);
        assert_eq!(eval(&p.filter, 0, 0x1234, 0), RET_KILL_PROCESS);
        assert!(p.filter.len() < 600, "{}", p.filter.len());
    }
}
