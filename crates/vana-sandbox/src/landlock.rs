//! Landlock: write access only beneath /workspace, /tmp and /dev/shm; signals
//! and abstract unix sockets are scoped to the sandbox (ABI >= 6). Network
//! isolation is left to the empty network namespace, so a connect() fails
//! with ENETUNREACH rather than a Landlock EACCES.
//!
//! Applied with raw syscalls in the child (async-signal-safe, no allocation):
//! a ruleset is per-process state, so each child creates its own.

use std::os::raw::c_long;

const SYS_CREATE_RULESET: c_long = 444;
const SYS_ADD_RULE: c_long = 445;
const SYS_RESTRICT_SELF: c_long = 446;
const CREATE_RULESET_VERSION: u32 = 1;
const RULE_PATH_BENEATH: u32 = 1;

const FS_WRITE_FILE: u64 = 1 << 1;
const FS_REMOVE_DIR: u64 = 1 << 4;
const FS_REMOVE_FILE: u64 = 1 << 5;
const FS_MAKE_CHAR: u64 = 1 << 6;
const FS_MAKE_DIR: u64 = 1 << 7;
const FS_MAKE_REG: u64 = 1 << 8;
const FS_MAKE_SOCK: u64 = 1 << 9;
const FS_MAKE_FIFO: u64 = 1 << 10;
const FS_MAKE_BLOCK: u64 = 1 << 11;
const FS_MAKE_SYM: u64 = 1 << 12;
const FS_REFER: u64 = 1 << 13;
const FS_TRUNCATE: u64 = 1 << 14;
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// Landlock ABI version of the running kernel (0 = unavailable).
pub(crate) fn probe_abi() -> u32 {
    // SAFETY: LANDLOCK_CREATE_RULESET_VERSION with a NULL attr only queries the ABI.
    let r = unsafe {
        libc::syscall(SYS_CREATE_RULESET, std::ptr::null::<RulesetAttr>(), 0usize, CREATE_RULESET_VERSION)
    };
    if r < 0 {
        0
    } else {
        r as u32
    }
}

/// Settings prepared in the parent for the child.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LandlockPlan {
    /// ABI to use (0 = skip Landlock).
    pub abi: u32,
}

fn write_access(abi: u32) -> u64 {
    let mut a = FS_WRITE_FILE
        | FS_REMOVE_DIR
        | FS_REMOVE_FILE
        | FS_MAKE_CHAR
        | FS_MAKE_DIR
        | FS_MAKE_REG
        | FS_MAKE_SOCK
        | FS_MAKE_FIFO
        | FS_MAKE_BLOCK
        | FS_MAKE_SYM;
    if abi >= 2 {
        a |= FS_REFER;
    }
    if abi >= 3 {
        a |= FS_TRUNCATE;
    }
    a
}

/// Applies the Landlock domain in the child. Requires no_new_privs.
///
/// Async-signal-safe: raw syscalls on NUL-terminated static paths.
/// Returns the errno on failure.
pub(crate) fn apply_in_child(plan: &LandlockPlan) -> Result<(), i32> {
    if plan.abi == 0 {
        return Ok(());
    }
    let handled = write_access(plan.abi);
    let attr = RulesetAttr {
        handled_access_fs: handled,
        handled_access_net: 0,
        scoped: if plan.abi >= 6 { SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL } else { 0 },
    };
    let size = if plan.abi >= 6 {
        24usize
    } else if plan.abi >= 4 {
        16
    } else {
        8
    };
    // SAFETY: attr outlives the call; size matches the ABI's struct prefix.
    let fd = unsafe { libc::syscall(SYS_CREATE_RULESET, &attr as *const RulesetAttr, size, 0u32) };
    if fd < 0 {
        return Err(errno());
    }
    let fd = fd as i32;
    let rules: [(&[u8], u64); 4] = [
        (b"/workspace\0", handled),
        (b"/tmp\0", handled),
        (b"/dev/shm\0", handled),
        (b"/dev\0", FS_WRITE_FILE | if plan.abi >= 3 { FS_TRUNCATE } else { 0 }),
    ];
    for (path, access) in rules {
        // SAFETY: path is NUL-terminated.
        let pfd =
            unsafe { libc::open(path.as_ptr().cast(), libc::O_PATH | libc::O_CLOEXEC | libc::O_DIRECTORY) };
        if pfd < 0 {
            continue;
        }
        let rule = PathBeneathAttr { allowed_access: access, parent_fd: pfd };
        // SAFETY: rule outlives the call.
        let r = unsafe {
            libc::syscall(SYS_ADD_RULE, fd, RULE_PATH_BENEATH, &rule as *const PathBeneathAttr, 0u32)
        };
        let e = errno();
        // SAFETY: closing an fd we opened.
        unsafe { libc::close(pfd) };
        if r < 0 {
            // SAFETY: closing the ruleset fd.
            unsafe { libc::close(fd) };
            return Err(e);
        }
    }
    // SAFETY: restrict_self on our ruleset fd.
    let r = unsafe { libc::syscall(SYS_RESTRICT_SELF, fd, 0u32) };
    let e = errno();
    // SAFETY: closing the ruleset fd.
    unsafe { libc::close(fd) };
    if r < 0 {
        return Err(e);
    }
    Ok(())
}

fn errno() -> i32 {
    // SAFETY: __errno_location is thread-local and always valid.
    unsafe { *libc::__errno_location() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn probe_does_not_fail() {
        let _ = super::probe_abi();
    }
}
