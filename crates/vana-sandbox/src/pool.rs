//! The warm pool: sandboxes prepared up to just before exec.
//!
//! A warm sandbox has its namespaces, its cgroup (limits set, process
//! attached), its uid/gid maps and its whole root filesystem (system binds,
//! /etc, /dev, /proc, /tmp) ready, and blocks on its control socket. The
//! pool is generic: any language can be exec'd in any slot. A request only
//! pays for: bind-mounting the session workspace (the child still sees the
//! host filesystem until it pivots, so it binds the workspace path sent in
//! the request), copying the code from a memfd, remounting the root
//! read-only, pivot_root, dropping privileges, Landlock, seccomp and execve.
//! A background thread refills the pool after each take.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::cgroup::{CgroupBackend, CgroupLimits};
use crate::error::Result;
use crate::spawn::{self, ChildPlan, Zygote};

/// How long a new sandbox may take to build its root filesystem.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Shared parts needed to create a sandbox process.
#[derive(Debug)]
pub(crate) struct Factory {
    pub plan: ChildPlan,
    pub cgroups: CgroupBackend,
    pub limits: CgroupLimits,
}

impl Factory {
    pub(crate) fn new(plan: ChildPlan, cgroups: CgroupBackend, limits: CgroupLimits) -> Self {
        Self { plan, cgroups, limits }
    }

    /// A process-unique run id (the counter is process-wide: several engines may run at once).
    pub(crate) fn next_id(&self) -> String {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or(0);
        format!("{}-{t:x}-{n}", std::process::id())
    }

    /// Creates a cgroup and a sandbox process in it (not yet ready).
    pub(crate) fn spawn(&self) -> Result<(String, Zygote)> {
        let id = self.next_id();
        let cg = self.cgroups.create(&id, self.limits)?;
        let z = spawn::spawn_zygote(&self.plan, cg)?;
        Ok((id, z))
    }
}

struct Shared {
    slots: Mutex<VecDeque<(String, Zygote)>>,
    cv: Condvar,
    stop: AtomicBool,
    target: usize,
}

/// Pre-forked sandboxes kept ready, refilled by a background thread.
pub(crate) struct WarmPool {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for WarmPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarmPool").field("target", &self.shared.target).finish()
    }
}

impl WarmPool {
    /// Starts the refill thread for `target` warm sandboxes.
    pub(crate) fn start(factory: Arc<Factory>, target: usize, first: Option<(String, Zygote)>) -> Self {
        let shared = Arc::new(Shared {
            slots: Mutex::new(first.into_iter().collect()),
            cv: Condvar::new(),
            stop: AtomicBool::new(false),
            target,
        });
        let s = shared.clone();
        // The refill thread is also the parent thread of the warm children
        // (PR_SET_PDEATHSIG), so it lives as long as the pool.
        let thread = std::thread::Builder::new()
            .name("vana-sandbox-pool".into())
            .spawn(move || refill_loop(&s, &factory))
            .ok();
        Self { shared, thread }
    }

    /// Takes a ready sandbox, if one is available.
    pub(crate) fn take(&self) -> Option<(String, Zygote)> {
        let mut slots = self.shared.slots.lock().unwrap_or_else(|e| e.into_inner());
        let mut got = None;
        while let Some(z) = slots.pop_front() {
            if z.1.alive() {
                got = Some(z);
                break;
            }
        }
        drop(slots);
        self.shared.cv.notify_all();
        got
    }

    /// Number of ready sandboxes.
    pub(crate) fn ready(&self) -> usize {
        self.shared.slots.lock().map(|s| s.len()).unwrap_or(0)
    }
}

fn refill_loop(s: &Shared, factory: &Factory) {
    // Prepare sandboxes at low priority so refilling does not slow down
    // running requests; a sandbox gets normal priority back when it is used.
    // SAFETY: setpriority on the calling thread.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
    let mut failures = 0u32;
    loop {
        {
            let mut slots = s.slots.lock().unwrap_or_else(|e| e.into_inner());
            while !s.stop.load(Ordering::Acquire) && slots.len() >= s.target {
                slots = s.cv.wait(slots).unwrap_or_else(|e| e.into_inner());
            }
            if s.stop.load(Ordering::Acquire) {
                return;
            }
        }
        let made = factory.spawn().and_then(|(id, z)| {
            z.wait_ready(&factory.plan, READY_TIMEOUT)?;
            Ok((id, z))
        });
        match made {
            Ok(z) => {
                failures = 0;
                s.slots.lock().unwrap_or_else(|e| e.into_inner()).push_back(z);
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, "warm sandbox creation failed");
                let backoff = Duration::from_millis(100 * u64::from(failures.min(50)));
                let slots = s.slots.lock().unwrap_or_else(|e| e.into_inner());
                let _ = s.cv.wait_timeout(slots, backoff);
            }
        }
    }
}

impl Drop for WarmPool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.cv.notify_all();
        // Kill the waiting sandboxes first, then wait for the refill thread
        // (which may still push the sandbox it was preparing: cleared below).
        self.shared.slots.lock().unwrap_or_else(|e| e.into_inner()).clear();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.shared.slots.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
