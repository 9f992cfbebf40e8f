//! The container tools over the Engine API socket: `docker_ps`, `docker_logs`, `docker_stop`
//! (read or stop), `docker_run` and `docker_build` (they execute code on the host: approval).

use crate::config::DevopsConfig;
use crate::docker;
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::{SessionFiles, TypedTool};

fn unavailable_or_failed(e: String) -> ToolError {
    if e.contains(docker::INSTALL) {
        ToolError::Unavailable(e)
    } else {
        ToolError::Failed(e)
    }
}

/// A container name or id (no `/`: it goes into the request path).
fn container(s: &str) -> Result<(), ToolError> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ToolError::InvalidArgs(format!(
            "container {s:?} must be a container name or id (A-Z a-z 0-9 _ . -)"
        )))
    }
}

fn timeout(c: &DevopsConfig) -> Duration {
    Duration::from_secs(c.timeout_secs.max(1))
}

macro_rules! docker_tool {
    ($ty:ident) => {
        #[doc = concat!("A docker tool (", stringify!($ty), ").")]
        pub struct $ty {
            pub(crate) config: DevopsConfig,
            #[allow(dead_code)]
            pub(crate) files: SessionFiles,
        }
    };
}
docker_tool!(DockerPs);
docker_tool!(DockerLogs);
docker_tool!(DockerStop);
docker_tool!(DockerRun);
docker_tool!(DockerBuild);

/// Arguments of `docker_ps`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PsArgs {
    /// Include stopped containers.
    #[serde(default)]
    pub all: bool,
}

#[async_trait]
impl TypedTool for DockerPs {
    type Args = PsArgs;
    fn name(&self) -> &'static str {
        "docker_ps"
    }
    fn description(&self) -> &'static str {
        "List containers (id, name, image, state, status, ports) on the Docker or Podman Engine API socket."
    }
    async fn run(&self, a: PsArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let r = docker::request(
            &self.config,
            "GET",
            &format!("/containers/json?all={}", a.all),
            None,
            b"",
            timeout(&self.config),
        )
        .await
        .map_err(unavailable_or_failed)?;
        if r.status != 200 {
            return Err(ToolError::Failed(docker::error("listing containers", &r)));
        }
        let list = r.json().map_err(ToolError::Failed)?;
        let out: Vec<Value> = list
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        json!({
                            "id": c["Id"].as_str().map(|s| &s[..12.min(s.len())]),
                            "names": c["Names"], "image": c["Image"], "state": c["State"], "status": c["Status"],
                            "ports": c["Ports"],
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(ToolOutput::json(json!({"containers": out})))
    }
}

/// Arguments of `docker_logs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsArgs {
    /// Container name or id.
    pub container: String,
    /// Last lines (default 200, at most 5000).
    #[serde(default)]
    pub tail: Option<u32>,
}

#[async_trait]
impl TypedTool for DockerLogs {
    type Args = LogsArgs;
    fn name(&self) -> &'static str {
        "docker_logs"
    }
    fn description(&self) -> &'static str {
        "The last lines of a container's stdout and stderr."
    }
    async fn run(&self, a: LogsArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        container(&a.container)?;
        let tail = a.tail.unwrap_or(200).clamp(1, 5000);
        // The whole log, cut here: Podman 4.3's `tail` counts partial-line entries and can
        // return only the final newline of a line written in two parts.
        let path = format!("/containers/{}/logs?stdout=true&stderr=true", a.container);
        let r = docker::request(&self.config, "GET", &path, None, b"", timeout(&self.config))
            .await
            .map_err(unavailable_or_failed)?;
        if r.status != 200 {
            return Err(ToolError::Failed(docker::error("reading logs", &r)));
        }
        let logs = docker::demux_logs(&r.body);
        let lines: Vec<&str> = logs.split_inclusive('\n').collect();
        let kept = lines[lines.len().saturating_sub(tail as usize)..].concat();
        Ok(ToolOutput::json(
            json!({"container": a.container, "logs": kept, "lines": lines.len().min(tail as usize)}),
        ))
    }
}

/// Arguments of `docker_stop`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopArgs {
    /// Container name or id.
    pub container: String,
    /// Seconds to wait before killing (default 10).
    #[serde(default)]
    pub timeout_secs: Option<u32>,
}

#[async_trait]
impl TypedTool for DockerStop {
    type Args = StopArgs;
    fn name(&self) -> &'static str {
        "docker_stop"
    }
    fn description(&self) -> &'static str {
        "Stop a running container (SIGTERM, then SIGKILL after the timeout). Requires approval."
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn run(&self, a: StopArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        container(&a.container)?;
        let t = a.timeout_secs.unwrap_or(10).min(300);
        let path = format!("/containers/{}/stop?t={t}", a.container);
        let r = docker::request(
            &self.config,
            "POST",
            &path,
            None,
            b"",
            timeout(&self.config) + Duration::from_secs(t as u64),
        )
        .await
        .map_err(unavailable_or_failed)?;
        match r.status {
            204 => Ok(ToolOutput::json(json!({"stopped": a.container}))),
            304 => Ok(ToolOutput::json(json!({"stopped": a.container, "note": "it was not running"}))),
            _ => Err(ToolError::Failed(docker::error("stopping the container", &r))),
        }
    }
}

/// Arguments of `docker_run`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunArgs {
    /// The image (must be present locally; nothing is pulled).
    pub image: String,
    /// The command (default: the image's).
    #[serde(default)]
    pub command: Vec<String>,
    /// A name for the container.
    #[serde(default)]
    pub name: Option<String>,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Published ports (bound to 127.0.0.1).
    #[serde(default)]
    pub ports: Vec<PortMapping>,
}

/// One published port.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortMapping {
    /// The container's TCP port.
    pub container: u16,
    /// The host's TCP port on 127.0.0.1.
    pub host: u16,
}

#[async_trait]
impl TypedTool for DockerRun {
    type Args = RunArgs;
    fn name(&self) -> &'static str {
        "docker_run"
    }
    fn description(&self) -> &'static str {
        "Create and start a container from a local image (detached; ports bound to 127.0.0.1). Runs code on the \
         host: requires approval."
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    async fn run(&self, a: RunArgs, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        docker::check_ref("image", &a.image).map_err(ToolError::InvalidArgs)?;
        if let Some(n) = &a.name {
            container(n)?;
        }
        for k in a.env.keys() {
            if k.is_empty() || k.contains('=') || k.chars().any(char::is_control) {
                return Err(ToolError::InvalidArgs(format!("env name {k:?} is not a variable name")));
            }
        }
        let env: Vec<String> = a.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let exposed: serde_json::Map<String, Value> =
            a.ports.iter().map(|p| (format!("{}/tcp", p.container), json!({}))).collect();
        let bindings: serde_json::Map<String, Value> = a
            .ports
            .iter()
            .map(|p| {
                (
                    format!("{}/tcp", p.container),
                    json!([{"HostIp": "127.0.0.1", "HostPort": p.host.to_string()}]),
                )
            })
            .collect();
        let mut body = json!({
            "Image": a.image, "Env": env, "ExposedPorts": exposed,
            "HostConfig": {"PortBindings": bindings, "Privileged": false},
        });
        if !a.command.is_empty() {
            body["Cmd"] = json!(a.command);
        }
        let q = a.name.as_ref().map(|n| format!("?name={n}")).unwrap_or_default();
        let t = timeout(&self.config);
        let r = docker::request(
            &self.config,
            "POST",
            &format!("/containers/create{q}"),
            Some("application/json"),
            body.to_string().as_bytes(),
            t,
        )
        .await
        .map_err(unavailable_or_failed)?;
        if r.status != 201 {
            return Err(ToolError::Failed(docker::error("creating the container", &r)));
        }
        let id = r.json().map_err(ToolError::Failed)?["Id"].as_str().unwrap_or("").to_string();
        container(&id)?;
        let r = docker::request(&self.config, "POST", &format!("/containers/{id}/start"), None, b"", t)
            .await
            .map_err(unavailable_or_failed)?;
        if r.status != 204 && r.status != 304 {
            return Err(ToolError::Failed(docker::error("starting the container", &r)));
        }
        Ok(ToolOutput::json(json!({"id": &id[..12.min(id.len())], "image": a.image, "started": true})))
    }
}

/// Arguments of `docker_build`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildArgs {
    /// The build context: a folder in the workspace (default: the root).
    #[serde(default)]
    pub path: Option<String>,
    /// The image tag, e.g. `my-app:1.0`.
    pub tag: String,
    /// The Dockerfile inside the context (default `Dockerfile`).
    #[serde(default)]
    pub dockerfile: Option<String>,
}

/// Bytes of build context sent.
const MAX_CONTEXT: u64 = 200 << 20;

#[async_trait]
impl TypedTool for DockerBuild {
    type Args = BuildArgs;
    fn name(&self) -> &'static str {
        "docker_build"
    }
    fn description(&self) -> &'static str {
        "Build an image from a workspace folder (its Dockerfile, .dockerignore'd files skipped: node_modules, \
         .git, target) on the Engine API; returns the build output. Runs code on the host: requires approval."
    }
    fn requires_confirmation(&self) -> bool {
        true
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(self.config.timeout_secs.max(600)))
    }
    async fn run(&self, a: BuildArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        docker::check_ref("tag", &a.tag).map_err(ToolError::InvalidArgs)?;
        let dir = a
            .path
            .as_deref()
            .unwrap_or("")
            .trim()
            .trim_start_matches("/workspace")
            .trim_matches('/')
            .to_string();
        let dir = if dir.is_empty() || dir == "." {
            String::new()
        } else {
            vana_toolkit::vana_workspace::normalize(&dir).map_err(vana_toolkit::tool_error)?
        };
        let dockerfile = a.dockerfile.unwrap_or_else(|| "Dockerfile".into());
        vana_toolkit::vana_workspace::normalize(&dockerfile).map_err(vana_toolkit::tool_error)?;
        // Fails early (before the context is packed) when no socket answers.
        docker::socket(&self.config).map_err(ToolError::Unavailable)?;
        let ws =
            self.files.open(&ctx)?.ok_or_else(|| ToolError::InvalidArgs("the workspace is empty".into()))?;
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        let mut names: Vec<String> = ws
            .files(50_000)
            .into_keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
            .filter(|k| !["node_modules/", ".git/", "target/", ".venv/"].iter().any(|s| k.starts_with(s)))
            .collect();
        names.sort();
        if !names.contains(&dockerfile) {
            return Err(ToolError::InvalidArgs(format!(
                "no {dockerfile} in /workspace/{dir}: generate one with generate_dockerfile"
            )));
        }
        let mut files = Vec::new();
        let mut total = 0u64;
        for n in names {
            let data = ws.read(&format!("{prefix}{n}"), MAX_CONTEXT).map_err(vana_toolkit::tool_error)?;
            total += data.len() as u64;
            if total > MAX_CONTEXT {
                return Err(ToolError::InvalidArgs(format!("the build context is over {MAX_CONTEXT} bytes")));
            }
            files.push((n, data));
        }
        let tar = docker::tar(&files).map_err(ToolError::InvalidArgs)?;
        let q = format!(
            "/build?t={}&dockerfile={}&rm=true&forcerm=true",
            crate::aws::sigv4::uri_encode(&a.tag, false),
            crate::aws::sigv4::uri_encode(&dockerfile, false)
        );
        let t = Duration::from_secs(self.config.timeout_secs.max(600));
        let r = docker::request(&self.config, "POST", &q, Some("application/x-tar"), &tar, t)
            .await
            .map_err(unavailable_or_failed)?;
        let mut log = String::new();
        let mut error = None;
        for line in String::from_utf8_lossy(&r.body).lines() {
            if let Ok(v) = serde_json::from_str::<Value>(line) {
                if let Some(s) = v["stream"].as_str() {
                    log.push_str(s);
                }
                if let Some(e) = v["error"].as_str() {
                    error = Some(e.to_string());
                }
            }
        }
        if r.status != 200 || error.is_some() {
            let e = error.unwrap_or_else(|| docker::error("the build", &r));
            return Err(ToolError::Failed(format!("build failed: {e}\n{}", tail(&log, 4000))));
        }
        Ok(ToolOutput::json(json!({"tag": a.tag, "context_files": files.len(), "log": tail(&log, 8000)})))
    }
}

fn tail(s: &str, n: usize) -> &str {
    let start = s.len().saturating_sub(n);
    let start = (start..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(s.len());
    &s[start..]
}
