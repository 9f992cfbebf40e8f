//! `ExecutionEngine`: validates a request, picks a warm (or cold) sandbox,
//! runs the code and assembles the `ExecutionResult`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::artifacts;
use crate::cgroup::{CgroupBackend, CgroupLimits};
use crate::error::{Result, SandboxError};
use crate::landlock::{self, LandlockPlan};
use crate::mounts::RootPlan;
use crate::policy::{LandlockMode, SandboxPolicy};
use crate::pool::{Factory, WarmPool, READY_TIMEOUT};
use crate::request::{CodeSource, ExecutionRequest};
use crate::result::{ExecutionResult, IsolationReport};
use crate::security::SecurityManager;
use crate::spawn::{self, ChildPlan, ExecSpec, Rlimit, RunInput};
use vana_workspace::{Workspace, Workspaces};

/// Runs untrusted code in isolated sandboxes; cheap to clone and safe to
/// share between threads and async tasks.
#[derive(Clone, Debug)]
pub struct ExecutionEngine {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    // Field order matters: the pool (and its waiting sandboxes, which share
    // the plan's memory until they exec) is dropped before the factory.
    pool: Option<WarmPool>,
    factory: Arc<Factory>,
    policy: SandboxPolicy,
    workspaces: Workspaces,
    security: SecurityManager,
    isolation: IsolationReport,
}

/// Host facts relevant to the sandbox, for diagnostics (`vana doctor`-style output).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostReport {
    /// Landlock ABI (0 = unavailable).
    pub landlock_abi: u32,
    /// Cgroup version in use.
    pub cgroup_version: u8,
    /// `user.max_user_namespaces`.
    pub max_user_namespaces: u64,
}

fn check_host(policy: &SandboxPolicy) -> Result<(CgroupBackend, u32, u64)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(SandboxError::IsolationUnavailable {
            what: "VANA is not running as root: mapping the sandbox user to an unprivileged host uid and managing cgroups needs root".into(),
            fix: "run VANA as root (e.g. in its own container or as a systemd service with User=root)".into(),
        });
    }
    let max_ns: u64 = std::fs::read_to_string("/proc/sys/user/max_user_namespaces")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1);
    if max_ns == 0 {
        return Err(SandboxError::IsolationUnavailable {
            what: "user namespaces disabled (user.max_user_namespaces = 0)".into(),
            fix: "sysctl -w user.max_user_namespaces=15000".into(),
        });
    }
    if let Ok(v) = std::fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone") {
        if v.trim() == "0" {
            tracing::debug!("kernel.unprivileged_userns_clone=0 (root can still create user namespaces)");
        }
    }
    let cgroups = CgroupBackend::detect()?;
    let abi = landlock::probe_abi();
    if policy.security.landlock == LandlockMode::Required && abi == 0 {
        return Err(SandboxError::IsolationUnavailable {
            what: "Landlock is not available in this kernel".into(),
            fix: "use a kernel with CONFIG_SECURITY_LANDLOCK=y and landlock in the lsm= boot parameter, or set `landlock: best_effort` in security_policies.yaml".into(),
        });
    }
    Ok((cgroups, abi, max_ns))
}

/// The sandbox user (unprivileged on the host) must be able to walk to the workspace root: the
/// root filesystem and each session's /workspace are mounted from there inside the sandbox's
/// user namespace, where the host's root has no power over other users' directories.
fn check_reachable(root: &Path, sandbox_uid: u32) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let root = root.canonicalize().map_err(|e| SandboxError::io(format!("resolve {}", root.display()), e))?;
    for dir in root.ancestors().skip(1) {
        let Ok(meta) = std::fs::metadata(dir) else { continue };
        if meta.uid() != sandbox_uid && meta.mode() & 0o001 == 0 {
            return Err(SandboxError::IsolationUnavailable {
                what: format!(
                    "the sandbox user (uid {sandbox_uid}) cannot reach the workspace dir {}: {} has mode {:o}",
                    root.display(),
                    dir.display(),
                    meta.mode() & 0o7777
                ),
                fix: format!(
                    "keep VANA's data under a directory others may traverse (set VANA_HOME, e.g. /var/lib/vana), \
                     or allow traversal with `chmod o+x {}`",
                    dir.display()
                ),
            });
        }
    }
    Ok(())
}

impl ExecutionEngine {
    /// Creates an engine keeping session workspaces under `workspace_root`
    /// (e.g. `<data_dir>/workspaces`). Fails with
    /// [`SandboxError::IsolationUnavailable`] when the host cannot isolate.
    pub fn new(policy: SandboxPolicy, workspace_root: impl Into<PathBuf>) -> Result<Self> {
        let workspaces =
            Workspaces::new(workspace_root, policy.security.sandbox_uid, policy.security.sandbox_gid);
        Self::with_workspaces(policy, workspaces)
    }

    /// Creates an engine over `workspaces`, shared with the host-side tools of the same
    /// process; they must be owned by the policy's sandbox uid/gid.
    pub fn with_workspaces(policy: SandboxPolicy, workspaces: Workspaces) -> Result<Self> {
        policy.validate()?;
        let (cgroups, abi, _) = check_host(&policy)?;
        if workspaces.owner() != (policy.security.sandbox_uid, policy.security.sandbox_gid) {
            return Err(SandboxError::InvalidRequest(format!(
                "the workspaces are owned by {:?} but the policy maps the sandbox user to ({}, {})",
                workspaces.owner(),
                policy.security.sandbox_uid,
                policy.security.sandbox_gid
            )));
        }
        // Creates the root (and removes throw-away workspaces of dead processes) now.
        drop(workspaces.scratch()?);
        // The root tmpfs of each sandbox is mounted on this directory inside
        // the sandbox's own mount namespace (the host never sees the mount).
        let staging = workspaces.root().join(".sandbox-root");
        std::fs::create_dir_all(&staging)
            .map_err(|e| SandboxError::io(format!("create {}", staging.display()), e))?;
        check_reachable(workspaces.root(), policy.security.sandbox_uid)?;
        let landlock_abi = match policy.security.landlock {
            LandlockMode::Off => 0,
            _ => abi,
        };
        let root = RootPlan::build(&policy, &staging)?;
        let root_size = policy.limits.max_code_bytes as u64 + (1 << 20);
        let plan = ChildPlan {
            root,
            root_opts: CString::new(format!("size={root_size},mode=755")).expect("no NUL"),
            seccomp: crate::seccomp::build()?,
            landlock: LandlockPlan { abi: landlock_abi },
            new_net: !policy.security.network,
            host_uid: policy.security.sandbox_uid,
            host_gid: policy.security.sandbox_gid,
            cap_last: std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(40),
        };
        let limits = CgroupLimits {
            memory_bytes: policy.limits.memory_mb * 1024 * 1024,
            pids: policy.limits.pids,
            cpus: policy.limits.cpus,
        };
        let isolation = IsolationReport {
            network_isolated: !policy.security.network,
            landlock_abi,
            seccomp: true,
            cgroup_version: cgroups.version(),
        };
        let factory = Arc::new(Factory::new(plan, cgroups, limits));
        // Trial sandbox: surfaces missing kernel features now, not at the first request.
        let (id, first) = factory.spawn()?;
        first.wait_ready(&factory.plan, READY_TIMEOUT)?;
        let pool = (policy.limits.pool_size > 0)
            .then(|| WarmPool::start(factory.clone(), policy.limits.pool_size, Some((id, first))));
        let security = SecurityManager::new(policy.security.block_on_severity);
        Ok(Self { inner: Arc::new(Inner { policy, factory, pool, workspaces, security, isolation }) })
    }

    /// Creates an engine with policies from `config_dir` (built-in defaults for
    /// missing files) and workspaces under `<data_dir>/workspaces`.
    pub fn from_config_dir(config_dir: &Path, data_dir: &Path) -> Result<Self> {
        Self::new(SandboxPolicy::load_dir(config_dir)?, data_dir.join("workspaces"))
    }

    /// Checks whether this host can run sandboxes under `policy`, without starting one.
    pub fn check_host(policy: &SandboxPolicy) -> Result<HostReport> {
        let (cg, abi, max_ns) = check_host(policy)?;
        Ok(HostReport { landlock_abi: abi, cgroup_version: cg.version(), max_user_namespaces: max_ns })
    }

    /// The policy in force.
    pub fn policy(&self) -> &SandboxPolicy {
        &self.inner.policy
    }

    /// The session workspaces.
    pub fn workspaces(&self) -> &Workspaces {
        &self.inner.workspaces
    }

    /// The static pre-check.
    pub fn security(&self) -> &SecurityManager {
        &self.inner.security
    }

    /// Canonical names of the supported languages.
    pub fn supported_languages(&self) -> Vec<String> {
        self.inner.policy.supported_languages()
    }

    /// Number of warm sandboxes ready right now.
    pub fn warm_ready(&self) -> usize {
        self.inner.pool.as_ref().map(|p| p.ready()).unwrap_or(0)
    }

    /// Deletes a session's workspace.
    pub fn delete_session(&self, session_id: &str) -> Result<()> {
        self.inner.workspaces.delete(session_id)?;
        Ok(())
    }

    /// Runs a request on the tokio blocking pool.
    pub async fn execute_async(&self, request: ExecutionRequest) -> Result<ExecutionResult> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.execute(request))
            .await
            .map_err(|e| SandboxError::Task(e.to_string()))?
    }

    /// Runs a request to completion (blocking).
    pub fn execute(&self, request: ExecutionRequest) -> Result<ExecutionResult> {
        let inner = &*self.inner;
        let policy = &inner.policy;
        let (lang_name, lang) = policy.language(&request.language)?;
        let lang_name = lang_name.to_string();
        let lang = lang.clone();
        if !lang.interpreter.exists() {
            return Err(SandboxError::IsolationUnavailable {
                what: format!(
                    "interpreter {} for '{lang_name}' is not installed on the host",
                    lang.interpreter.display()
                ),
                fix: format!(
                    "install it or change languages.{lang_name}.interpreter in security_policies.yaml"
                ),
            });
        }
        // Static pre-check.
        let findings = match &request.code {
            CodeSource::Inline(code) => {
                if code.len() > policy.limits.max_code_bytes {
                    return Err(SandboxError::InvalidRequest(format!(
                        "code is {} bytes, more than max_code_bytes = {}",
                        code.len(),
                        policy.limits.max_code_bytes
                    )));
                }
                inner.security.validate_code(code, &lang_name)
            }
            CodeSource::File(_) => Vec::new(),
        };
        if let Some(f) = inner.security.blocking(&findings) {
            return Err(SandboxError::BlockedByPolicy(format!(
                "{} (line {}): {}",
                f.rule_id, f.line, f.message
            )));
        }
        let timeout = request
            .timeout
            .unwrap_or(Duration::from_secs_f64(policy.limits.timeout_secs))
            .min(Duration::from_secs_f64(policy.limits.max_timeout_secs));

        // Workspace.
        let ws_cap = policy.limits.workspace_mb * 1024 * 1024;
        // A session's runs (and host-side code that must not run beside them) take turns.
        match &request.session_id {
            Some(sid) => {
                let ws = inner.workspaces.ensure(sid)?;
                let _lock = ws.lock()?;
                self.run_in_workspace(&request, &lang_name, &lang, &ws, ws_cap, timeout, findings)
            }
            None => {
                let ws = inner.workspaces.scratch()?;
                self.run_in_workspace(&request, &lang_name, &lang, &ws, ws_cap, timeout, findings)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_in_workspace(
        &self,
        request: &ExecutionRequest,
        lang_name: &str,
        lang: &crate::policy::LanguageConfig,
        ws: &Workspace,
        ws_cap: u64,
        timeout: Duration,
        findings: Vec<crate::security::Finding>,
    ) -> Result<ExecutionResult> {
        let inner = &*self.inner;
        let policy = &inner.policy;
        let before = ws.files(vana_workspace::MAX_SCAN_ENTRIES);
        let used: u64 = before.values().map(|s| s.size).sum();
        if used > ws_cap {
            return Err(SandboxError::WorkspaceOverQuota {
                session: request.session_id.clone().unwrap_or_default(),
                used,
                cap: ws_cap,
            });
        }
        let echo = match &request.code {
            CodeSource::Inline(_) => lang.echo,
            CodeSource::File(_) => None,
        };
        let (script, code_fd, code_dst) = match &request.code {
            CodeSource::Inline(code) => {
                let name = format!("main.{}", lang.extension);
                let dst = inner.factory.plan.root.code_dir.join(&name);
                (
                    format!("/sandbox/{name}"),
                    Some(spawn::code_memfd(code.as_bytes())?),
                    Some(String::from_utf8_lossy(dst.as_os_str().as_bytes()).into_owned()),
                )
            }
            CodeSource::File(rel) => (format!("/workspace/{}", vana_workspace::normalize(rel)?), None, None),
        };
        let heap_mb = (policy.limits.memory_mb * 3 / 4).max(16).to_string();
        let mut argv = vec![lang.interpreter.to_string_lossy().into_owned()];
        argv.extend(lang.args.iter().map(|a| a.replace("{heap_mb}", &heap_mb)));
        argv.extend(echo.into_iter().flat_map(|e| e.wrapper_args()).map(str::to_string));
        argv.push(script);
        argv.extend(request.args.iter().cloned());
        let mut env = vec![
            "PATH=/usr/local/bin:/usr/bin:/bin".to_string(),
            "HOME=/workspace".to_string(),
            "LANG=C.UTF-8".to_string(),
            "LC_ALL=C.UTF-8".to_string(),
            "TMPDIR=/tmp".to_string(),
            "USER=sandbox".to_string(),
        ];
        let mut set_env = |k: &str, v: &str| -> Result<()> {
            if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
                return Err(SandboxError::InvalidRequest(format!("invalid environment variable name {k:?}")));
            }
            env.retain(|e| !e.starts_with(&format!("{k}=")));
            env.push(format!("{k}={v}"));
            Ok(())
        };
        for (k, v) in &lang.env {
            set_env(k, v)?;
        }
        for (k, v) in &request.env {
            set_env(k, v)?;
        }
        #[allow(clippy::unnecessary_cast)] // c_int on musl, u32 on glibc
        let rl = |resource: u32, v: u64| Rlimit { resource, soft: v, hard: v };
        let l = &policy.limits;
        #[allow(clippy::unnecessary_cast)]
        let rlimits = vec![
            rl(libc::RLIMIT_NOFILE as u32, l.open_files),
            // Backstop above pids.max so the cgroup (which reports the hit) triggers first.
            rl(libc::RLIMIT_NPROC as u32, l.pids * 2),
            rl(libc::RLIMIT_FSIZE as u32, ws_cap),
            Rlimit { resource: libc::RLIMIT_CPU as u32, soft: l.cpu_time_secs, hard: l.cpu_time_secs + 1 },
            rl(libc::RLIMIT_CORE as u32, 0),
        ];
        let spec = ExecSpec {
            exec_path: lang.interpreter.to_string_lossy().into_owned(),
            code_dst,
            argv,
            env,
            rlimits,
        };
        let msg = spec.encode()?;

        // Warm sandbox if available, cold otherwise; a dead warm one falls back to cold.
        let mut warm;
        let mut taken = inner.pool.as_ref().and_then(|p| p.take());
        let (run_id, mut z, raw) = loop {
            let (id, mut z) = match taken.take() {
                Some(w) => {
                    warm = true;
                    w.1.cgroup.reset_counters();
                    w
                }
                None => {
                    warm = false;
                    inner.factory.spawn()?
                }
            };
            let code = match &code_fd {
                Some(fd) => Some(fd.try_clone().map_err(|e| SandboxError::io("dup code memfd", e))?),
                None => None,
            };
            let ws_mount = spawn::workspace_mount(ws.mount_path())?;
            let input = RunInput {
                request: &msg,
                workspace: ws_mount,
                code,
                stdin: request.stdin.clone(),
                timeout,
                output_cap: l.output_bytes,
            };
            match z.run(&inner.factory.plan, input) {
                Ok(raw) => break (id, z, raw),
                Err(SandboxError::Io { context, .. }) if warm && context == "sandbox exited before exec" => {
                    tracing::warn!("warm sandbox died before use; retrying cold");
                    continue;
                }
                Err(e) => return Err(e),
            }
        };
        let stats = z.cgroup.stats();
        z.cgroup.remove();
        drop(z);

        let after = ws.files(vana_workspace::MAX_SCAN_ENTRIES);
        let files = if request.session_id.is_some() || request.return_file_contents {
            artifacts::diff(
                ws,
                &before,
                &after,
                request.return_file_contents,
                l.max_artifact_bytes,
                l.max_artifacts,
            )
        } else {
            Vec::new()
        };
        let workspace_bytes: u64 = after.values().map(|s| s.size).sum();
        let cpu = stats.cpu_ns.map(Duration::from_nanos).unwrap_or(raw.rusage_cpu);
        Ok(ExecutionResult {
            run_id,
            language: lang_name.to_string(),
            stdout: String::from_utf8_lossy(&raw.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&raw.stderr).into_owned(),
            stdout_truncated: raw.stdout_truncated,
            stderr_truncated: raw.stderr_truncated,
            exit_code: raw.exit_code,
            signal: raw.signal,
            wall_time_ms: raw.wall.as_secs_f64() * 1000.0,
            cpu_time_ms: cpu.as_secs_f64() * 1000.0,
            peak_memory_bytes: stats.peak_memory_bytes,
            timed_out: raw.timed_out,
            oom_killed: stats.oom_kills > 0,
            pids_limit_hit: stats.pids_max_events > 0,
            output_truncated: raw.output_capped,
            files,
            workspace_bytes,
            workspace_over_quota: workspace_bytes > ws_cap,
            findings,
            warm_start: warm,
            isolation: inner.isolation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_workspace_root_behind_a_closed_directory_is_refused_with_the_fix() {
        let base = std::env::temp_dir().join(format!("vana-reach-{}", std::process::id()));
        let root = base.join("data/workspaces");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o700)).unwrap();
        let err = check_reachable(&root, 100_000).unwrap_err().to_string();
        assert!(err.contains("cannot reach the workspace dir") && err.contains("mode 700"), "{err}");
        assert!(err.contains(&format!("chmod o+x {}", base.display())), "{err}");
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        check_reachable(&root, 100_000).expect("traversable now");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
