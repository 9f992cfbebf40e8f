//! Cgroup limits and accounting per run (cgroup v2 when a delegated subtree
//! with the memory and pids controllers exists, cgroup v1 otherwise).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Result, SandboxError};

/// Name of the parent cgroup holding all sandbox cgroups.
const PARENT: &str = "vana-sandbox";

/// Which cgroup hierarchy is used and where the sandbox parent cgroups live.
#[derive(Debug, Clone)]
pub(crate) enum CgroupBackend {
    /// Unified hierarchy: one directory per run.
    V2 {
        /// `<own cgroup>/vana-sandbox`.
        parent: PathBuf,
    },
    /// Legacy hierarchies: one directory per controller per run.
    V1 {
        /// `<memory mount>/<own path>/vana-sandbox`.
        memory: PathBuf,
        /// Pids controller parent.
        pids: PathBuf,
        /// CPU bandwidth controller parent (None when not mounted).
        cpu: Option<PathBuf>,
        /// CPU accounting controller parent (None when not mounted).
        cpuacct: Option<PathBuf>,
        /// `memory.memsw.limit_in_bytes` exists (swap accounting enabled).
        memsw: bool,
    },
}

/// Limits written into a run's cgroup.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CgroupLimits {
    pub memory_bytes: u64,
    pub pids: u64,
    pub cpus: f64,
}

/// Usage read back from a run's cgroup.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CgroupStats {
    pub peak_memory_bytes: u64,
    pub oom_kills: u64,
    pub pids_max_events: u64,
    pub cpu_ns: Option<u64>,
}

/// The cgroup(s) of one run; removed on drop.
#[derive(Debug)]
pub(crate) struct RunCgroup {
    backend: CgroupBackend,
    dirs: Vec<PathBuf>,
    removed: bool,
}

struct Mount {
    root: String,
    point: PathBuf,
    fstype: String,
    opts: String,
}

fn mounts() -> Vec<Mount> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (pre, post) = l.split_once(" - ")?;
            let f: Vec<&str> = pre.split(' ').collect();
            let g: Vec<&str> = post.split(' ').collect();
            Some(Mount {
                root: f.get(3)?.to_string(),
                point: PathBuf::from(f.get(4)?.replace("\\040", " ")),
                fstype: g.first()?.to_string(),
                opts: g.get(2).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// `controller -> path` from /proc/self/cgroup (`""` is the v2 entry).
fn own_paths() -> Vec<(String, String)> {
    let text = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            let ctrls = it.next()?.to_string();
            let path = it.next()?.to_string();
            Some((ctrls, path))
        })
        .collect()
}

fn join_rel(point: &Path, mount_root: &str, own: &str) -> PathBuf {
    let rel = own.strip_prefix(mount_root).filter(|_| mount_root != "/").unwrap_or(own);
    point.join(rel.trim_start_matches('/'))
}

fn write_file(path: &Path, value: &str) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(value.as_bytes())
}

fn ncpus() -> u64 {
    std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1)
}

fn mkdir_p(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|e| SandboxError::io(format!("create cgroup {}", path.display()), e))
}

impl CgroupBackend {
    /// Finds a usable cgroup setup or explains what is missing.
    pub(crate) fn detect() -> Result<Self> {
        let mounts = mounts();
        let own = own_paths();
        let mut v2_problem = String::from("no cgroup2 filesystem mounted");
        if let Some(m) = mounts.iter().find(|m| m.fstype == "cgroup2") {
            let own2 = own.iter().find(|(c, _)| c.is_empty()).map(|(_, p)| p.as_str());
            if let Some(p) = own2 {
                let base = join_rel(&m.point, &m.root, p);
                match Self::try_v2(&base) {
                    Ok(b) => return Ok(b),
                    Err(why) => v2_problem = why,
                }
            }
        }
        let find_v1 = |ctrl: &str| -> Option<PathBuf> {
            let m = mounts.iter().find(|m| m.fstype == "cgroup" && m.opts.split(',').any(|o| o == ctrl))?;
            let own1 = own
                .iter()
                .find(|(c, _)| c.split(',').any(|x| x == ctrl))
                .map(|(_, p)| p.as_str())
                .unwrap_or("/");
            Some(join_rel(&m.point, &m.root, own1).join(PARENT))
        };
        let (Some(memory), Some(pids)) = (find_v1("memory"), find_v1("pids")) else {
            return Err(SandboxError::IsolationUnavailable {
                what: format!(
                    "cgroup memory and pids controllers not available (cgroup v2: {v2_problem}; cgroup v1: memory/pids hierarchies not mounted)"
                ),
                fix: "delegate a cgroup v2 subtree with the memory, pids and cpu controllers to VANA (systemd: Delegate=yes, or `echo +memory +pids +cpu > <cgroup>/cgroup.subtree_control`), or mount the v1 memory and pids controllers under /sys/fs/cgroup".into(),
            });
        };
        let cpu = find_v1("cpu");
        let cpuacct = find_v1("cpuacct");
        for dir in [Some(&memory), Some(&pids), cpu.as_ref(), cpuacct.as_ref()].into_iter().flatten() {
            mkdir_p(dir).map_err(|e| SandboxError::IsolationUnavailable {
                what: format!("cannot create cgroup {}: {e}", dir.display()),
                fix: "run VANA as root (cgroup v1 needs root) or delegate a cgroup v2 subtree".into(),
            })?;
        }
        for dir in [Some(&memory), Some(&pids), cpu.as_ref(), cpuacct.as_ref()].into_iter().flatten() {
            sweep_stale(dir);
        }
        if let Some(c) = &cpu {
            // All sandboxes share this parent group: weigh it like one task per
            // core, not like a single task, against the host's other work.
            let _ = write_file(&c.join("cpu.shares"), &(1024 * ncpus()).to_string());
        }
        let memsw = memory.join("memory.memsw.limit_in_bytes").exists();
        Ok(CgroupBackend::V1 { memory, pids, cpu, cpuacct, memsw })
    }

    fn try_v2(base: &Path) -> std::result::Result<Self, String> {
        let ctrls = fs::read_to_string(base.join("cgroup.controllers"))
            .map_err(|e| format!("cannot read {}/cgroup.controllers: {e}", base.display()))?;
        let has = |c: &str| ctrls.split_whitespace().any(|x| x == c);
        if !has("memory") || !has("pids") {
            return Err(format!(
                "controllers memory and pids are not delegated to {} (available: {})",
                base.display(),
                ctrls.trim()
            ));
        }
        let parent = base.join(PARENT);
        let enable = |dir: &Path| -> std::result::Result<(), String> {
            let want = if has("cpu") { "+memory +pids +cpu" } else { "+memory +pids" };
            let current = fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
            if current.contains("memory") && current.contains("pids") {
                return Ok(());
            }
            write_file(&dir.join("cgroup.subtree_control"), want).map_err(|e| {
                format!("cannot enable controllers in {}/cgroup.subtree_control: {e}", dir.display())
            })
        };
        if let Err(first) = enable(base) {
            // "No internal processes": a delegated cgroup that holds our own
            // process cannot enable controllers for its children. Move the
            // processes of `base` into a leaf first (what systemd expects of
            // a service with Delegate=yes), then retry.
            let procs = fs::read_to_string(base.join("cgroup.procs")).unwrap_or_default();
            if procs.trim().is_empty() {
                return Err(first);
            }
            let leaf = base.join("vana-main");
            fs::create_dir_all(&leaf)
                .map_err(|e| format!("{first}; cannot create {}: {e}", leaf.display()))?;
            for pid in procs.lines() {
                write_file(&leaf.join("cgroup.procs"), pid.trim()).map_err(|e| {
                    format!("{first}; cannot move pid {} to {}: {e}", pid.trim(), leaf.display())
                })?;
            }
            enable(base)?;
        }
        fs::create_dir_all(&parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        enable(&parent)?;
        // Weigh all sandboxes together like one task per core (see v1).
        let _ = write_file(&parent.join("cpu.weight"), &(100 * ncpus()).min(10_000).to_string());
        sweep_stale(&parent);
        Ok(CgroupBackend::V2 { parent })
    }

    /// 1 or 2.
    pub(crate) fn version(&self) -> u8 {
        match self {
            CgroupBackend::V2 { .. } => 2,
            CgroupBackend::V1 { .. } => 1,
        }
    }

    /// Creates the cgroup(s) of a run and writes its limits.
    pub(crate) fn create(&self, name: &str, limits: CgroupLimits) -> Result<RunCgroup> {
        let period: u64 = 100_000;
        let quota = ((limits.cpus * period as f64) as u64).max(1000);
        let mut cg = RunCgroup { backend: self.clone(), dirs: Vec::new(), removed: false };
        let set = |dir: &Path, file: &str, val: String| -> Result<()> {
            write_file(&dir.join(file), &val)
                .map_err(|e| SandboxError::io(format!("set {}/{file} = {val}", dir.display()), e))
        };
        match self {
            CgroupBackend::V2 { parent } => {
                let dir = parent.join(name);
                fs::create_dir(&dir)
                    .map_err(|e| SandboxError::io(format!("create cgroup {}", dir.display()), e))?;
                cg.dirs.push(dir.clone());
                set(&dir, "memory.max", limits.memory_bytes.to_string())?;
                if dir.join("memory.swap.max").exists() {
                    set(&dir, "memory.swap.max", "0".into())?;
                }
                set(&dir, "pids.max", limits.pids.to_string())?;
                if dir.join("memory.oom.group").exists() {
                    // An OOM kill takes the whole sandbox down, not one process.
                    set(&dir, "memory.oom.group", "1".into())?;
                }
                if dir.join("cpu.max").exists() {
                    set(&dir, "cpu.max", format!("{quota} {period}"))?;
                }
            }
            CgroupBackend::V1 { memory, pids, cpu, cpuacct, memsw } => {
                let mut mk = |p: &Path| -> Result<PathBuf> {
                    let d = p.join(name);
                    if !cg.dirs.contains(&d) {
                        fs::create_dir(&d)
                            .map_err(|e| SandboxError::io(format!("create cgroup {}", d.display()), e))?;
                        cg.dirs.push(d.clone());
                    }
                    Ok(d)
                };
                let m = mk(memory)?;
                let p = mk(pids)?;
                let c = cpu.as_deref().map(&mut mk).transpose()?;
                if let Some(a) = cpuacct.as_deref() {
                    mk(a)?;
                }
                set(&m, "memory.limit_in_bytes", limits.memory_bytes.to_string())?;
                if *memsw {
                    set(&m, "memory.memsw.limit_in_bytes", limits.memory_bytes.to_string())?;
                }
                set(&p, "pids.max", limits.pids.to_string())?;
                if let Some(c) = c {
                    set(&c, "cpu.cfs_period_us", period.to_string())?;
                    set(&c, "cpu.cfs_quota_us", quota.to_string())?;
                }
            }
        }
        Ok(cg)
    }
}

/// Removes run cgroups left behind by engine processes that no longer exist
/// (run ids start with the creating process id).
fn sweep_stale(parent: &Path) {
    let Ok(rd) = fs::read_dir(parent) else { return };
    let me = std::process::id();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me || Path::new(&format!("/proc/{pid}")).exists() || !e.path().is_dir() {
            continue;
        }
        let mut cg = RunCgroup {
            backend: CgroupBackend::V2 { parent: parent.to_path_buf() },
            dirs: vec![e.path()],
            removed: false,
        };
        cg.remove();
    }
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn read_key(path: &Path, key: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

impl RunCgroup {
    fn dir_for(&self, ctrl_parent: Option<&Path>) -> Option<PathBuf> {
        let parent = ctrl_parent?;
        self.dirs.iter().find(|d| d.parent() == Some(parent)).cloned()
    }

    fn controller_dir(&self, which: &str) -> Option<PathBuf> {
        match &self.backend {
            CgroupBackend::V2 { .. } => self.dirs.first().cloned(),
            CgroupBackend::V1 { memory, pids, cpu, cpuacct, .. } => match which {
                "memory" => self.dir_for(Some(memory)),
                "pids" => self.dir_for(Some(pids)),
                "cpu" => self.dir_for(cpu.as_deref()),
                _ => self.dir_for(cpuacct.as_deref()),
            },
        }
    }

    /// Moves `pid` into the cgroup(s).
    pub(crate) fn add(&self, pid: libc::pid_t) -> Result<()> {
        for d in &self.dirs {
            write_file(&d.join("cgroup.procs"), &pid.to_string())
                .map_err(|e| SandboxError::io(format!("add pid {pid} to {}", d.display()), e))?;
        }
        Ok(())
    }

    /// Resets peak-memory and CPU counters (called when a warm sandbox starts its run).
    pub(crate) fn reset_counters(&self) {
        if let CgroupBackend::V1 { .. } = self.backend {
            if let Some(m) = self.controller_dir("memory") {
                let _ = write_file(&m.join("memory.max_usage_in_bytes"), "0");
            }
            if let Some(a) = self.controller_dir("cpuacct") {
                let _ = write_file(&a.join("cpuacct.usage"), "0");
            }
        }
    }

    /// Reads usage counters.
    pub(crate) fn stats(&self) -> CgroupStats {
        let mut s = CgroupStats::default();
        match &self.backend {
            CgroupBackend::V2 { .. } => {
                if let Some(d) = self.dirs.first() {
                    s.peak_memory_bytes = read_u64(&d.join("memory.peak"))
                        .or_else(|| read_u64(&d.join("memory.current")))
                        .unwrap_or(0);
                    s.oom_kills = read_key(&d.join("memory.events"), "oom_kill").unwrap_or(0);
                    s.pids_max_events = read_key(&d.join("pids.events"), "max").unwrap_or(0);
                    s.cpu_ns = read_key(&d.join("cpu.stat"), "usage_usec").map(|u| u * 1000);
                }
            }
            CgroupBackend::V1 { .. } => {
                if let Some(m) = self.controller_dir("memory") {
                    s.peak_memory_bytes = read_u64(&m.join("memory.max_usage_in_bytes")).unwrap_or(0);
                    s.oom_kills = read_key(&m.join("memory.oom_control"), "oom_kill").unwrap_or(0);
                }
                if let Some(p) = self.controller_dir("pids") {
                    s.pids_max_events = read_key(&p.join("pids.events"), "max").unwrap_or(0);
                }
                if let Some(a) = self.controller_dir("cpuacct") {
                    s.cpu_ns = read_u64(&a.join("cpuacct.usage"));
                }
            }
        }
        s
    }

    /// Kills anything left in the cgroup and removes it.
    pub(crate) fn remove(&mut self) {
        if self.removed {
            return;
        }
        self.removed = true;
        for attempt in 0..50 {
            let mut left = false;
            for d in &self.dirs {
                if !d.exists() {
                    continue;
                }
                if d.join("cgroup.kill").exists() {
                    let _ = write_file(&d.join("cgroup.kill"), "1");
                } else if let Ok(procs) = fs::read_to_string(d.join("cgroup.procs")) {
                    for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                        // SAFETY: plain kill(2) of a process that is in our sandbox cgroup.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                }
                if fs::remove_dir(d).is_err() {
                    left = true;
                }
            }
            if !left {
                return;
            }
            std::thread::sleep(Duration::from_millis(if attempt < 10 { 1 } else { 10 }));
        }
        tracing::warn!(dirs = ?self.dirs, "could not remove sandbox cgroup");
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        self.remove();
    }
}
