//! The generators: `generate_dockerfile`, `generate_ci_pipeline`, `generate_k8s_manifests`.
//! Each writes into the session workspace (SessionFiles) and reports its validator's findings.

use crate::config::DevopsConfig;
use crate::{ci, dockerfile, k8s, project, validate};
use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::{SessionFiles, TypedTool};

/// A validator's report as JSON, or why it could not run.
pub(crate) fn report_json(r: Result<validate::Report, String>) -> Value {
    match r {
        Ok(r) => json!({"validator": r.validator, "errors": r.errors(), "findings": r.findings}),
        Err(e) => json!({"unavailable": e}),
    }
}

/// The project folder argument, normalised (refuses absolute paths and `..`).
pub(crate) fn project_dir(path: Option<&str>) -> Result<String, ToolError> {
    let p = path.unwrap_or("").trim();
    let p = p.trim_start_matches("/workspace").trim_matches('/');
    if p.is_empty() || p == "." {
        return Ok(String::new());
    }
    vana_toolkit::vana_workspace::normalize(p).map_err(vana_toolkit::tool_error)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// `generate_dockerfile`.
pub struct GenerateDockerfile {
    pub(crate) config: DevopsConfig,
    pub(crate) files: SessionFiles,
}

/// Arguments of `generate_dockerfile`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerfileArgs {
    /// The project's folder in the workspace (default: the workspace root).
    #[serde(default)]
    pub path: Option<String>,
    /// The entry point when detection would pick the wrong one: a file (`app.py`, `server.js`),
    /// a Go package (`./cmd/api`) or a Rust binary name.
    #[serde(default)]
    pub entry_point: Option<String>,
    /// The port the service listens on (default by framework: FastAPI/Django 8000, Flask 5000,
    /// Node 3000, else 8080).
    #[serde(default)]
    pub port: Option<u16>,
    /// The build stage's base image instead of the pinned default (e.g. a registry mirror's
    /// `mirror.example/python:3.12.8-slim-bookworm`); a pinned tag or digest.
    #[serde(default)]
    pub build_image: Option<String>,
    /// The runtime stage's base image instead of the pinned default.
    #[serde(default)]
    pub runtime_image: Option<String>,
}

#[async_trait]
impl TypedTool for GenerateDockerfile {
    type Args = DockerfileArgs;
    fn name(&self) -> &'static str {
        "generate_dockerfile"
    }
    fn description(&self) -> &'static str {
        "Inspect a project in the workspace (Python requirements.txt/pyproject.toml, Node package.json and its \
         lockfile, Go go.mod, Rust Cargo.toml; framework; entry point) and write a multi-stage Dockerfile (pinned \
         base image tags, dependencies installed before the source is copied, non-root user) and a .dockerignore \
         beside it. The Dockerfile is checked with hadolint; its findings are returned."
    }
    async fn run(&self, args: DockerfileArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let dir = project_dir(args.path.as_deref())?;
        let ws = self
            .files
            .open(&ctx)?
            .ok_or_else(|| ToolError::InvalidArgs("the workspace is empty: add the project first".into()))?;
        let p = project::detect(&ws, &dir, args.entry_point.as_deref(), args.port)
            .map_err(ToolError::InvalidArgs)?;
        let bases = dockerfile::Bases { build: args.build_image, runtime: args.runtime_image };
        bases.check().map_err(ToolError::InvalidArgs)?;
        let g = dockerfile::generate_on(&p, &bases);
        let lint = validate::hadolint(&self.config, &g.dockerfile).await;
        let df = self.files.write(&ctx, &join(&dir, "Dockerfile"), g.dockerfile.as_bytes())?;
        let di = self.files.write(&ctx, &join(&dir, ".dockerignore"), g.dockerignore.as_bytes())?;
        Ok(ToolOutput::json(json!({
            "project": p,
            "base_images": g.images,
            "written": [df, di],
            "dockerfile": g.dockerfile,
            "validation": report_json(lint),
        })))
    }
}

/// `generate_ci_pipeline`.
pub struct GenerateCiPipeline {
    pub(crate) config: DevopsConfig,
    pub(crate) files: SessionFiles,
}

/// Which CI system.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// `.github/workflows/ci.yml`.
    Github,
    /// `.gitlab-ci.yml`.
    Gitlab,
    /// Both files.
    Both,
}

/// Arguments of `generate_ci_pipeline`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CiArgs {
    /// `github`, `gitlab` or `both`.
    pub platform: Platform,
    /// The project's folder in the workspace (default: the root); its language picks the test steps.
    #[serde(default)]
    pub path: Option<String>,
    /// The image name pushed by the build job (default: the folder's name or `app`).
    #[serde(default)]
    pub image: Option<String>,
    /// The deploy job's command (one line; default: `kubectl set image` on the deployment).
    #[serde(default)]
    pub deploy_command: Option<String>,
    /// The Kubernetes deployment the default deploy command updates (default: the image name).
    #[serde(default)]
    pub deployment: Option<String>,
}

fn plain_name(what: &str, s: &str) -> Result<(), ToolError> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_./".contains(&b))
        && !s.contains("..")
        && !s.starts_with(['/', '-', '.']);
    if ok {
        Ok(())
    } else {
        Err(ToolError::InvalidArgs(format!(
            "{what} {s:?} must be lower-case letters, digits, '-', '_', '.', '/'"
        )))
    }
}

#[async_trait]
impl TypedTool for GenerateCiPipeline {
    type Args = CiArgs;
    fn name(&self) -> &'static str {
        "generate_ci_pipeline"
    }
    fn description(&self) -> &'static str {
        "Write a CI/CD pipeline with test, build (container image) and deploy stages for the project in the \
         workspace: GitHub Actions (.github/workflows/ci.yml, checked with actionlint) and/or GitLab CI \
         (.gitlab-ci.yml, checked against GitLab's CI JSON Schema). Deploy runs only on the default branch."
    }
    async fn run(&self, args: CiArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let dir = project_dir(args.path.as_deref())?;
        let ws = self
            .files
            .open(&ctx)?
            .ok_or_else(|| ToolError::InvalidArgs("the workspace is empty: add the project first".into()))?;
        let p = project::detect(&ws, &dir, None, None).map_err(ToolError::InvalidArgs)?;
        let default_image =
            dir.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("app").to_ascii_lowercase();
        let image = args.image.unwrap_or(default_image);
        plain_name("image", &image)?;
        let deployment =
            args.deployment.unwrap_or_else(|| image.rsplit('/').next().unwrap_or("app").to_string());
        plain_name("deployment", &deployment)?;
        let deploy = args.deploy_command.unwrap_or_default();
        if deploy.chars().any(char::is_control) || deploy.len() > 1000 {
            return Err(ToolError::InvalidArgs(
                "deploy_command must be one line (at most 1000 characters)".into(),
            ));
        }
        let t = ci::Target { image: &image, deploy_command: &deploy, deployment: &deployment };
        let mut out = serde_json::Map::new();
        if matches!(args.platform, Platform::Github | Platform::Both) {
            let wf = ci::github_actions(&p, &t);
            let report = validate::actionlint(&self.config, &wf).await;
            let path = self.files.write(&ctx, ".github/workflows/ci.yml", wf.as_bytes())?;
            out.insert(
                "github".into(),
                json!({"written": path, "content": wf, "validation": report_json(report)}),
            );
        }
        if matches!(args.platform, Platform::Gitlab | Platform::Both) {
            let gl = ci::gitlab_ci(&p, &t);
            let report = validate::gitlab_ci(&self.config, &gl).await;
            let path = self.files.write(&ctx, ".gitlab-ci.yml", gl.as_bytes())?;
            out.insert(
                "gitlab".into(),
                json!({"written": path, "content": gl, "validation": report_json(report)}),
            );
        }
        out.insert("project".into(), json!(p));
        Ok(ToolOutput::json(Value::Object(out)))
    }
}

/// `generate_k8s_manifests`.
pub struct GenerateK8sManifests {
    pub(crate) config: DevopsConfig,
    pub(crate) files: SessionFiles,
}

/// Arguments of `generate_k8s_manifests`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct K8sArgs {
    /// What to deploy.
    pub spec: k8s::AppSpec,
    /// The workspace file to write (default `k8s/<name>.yaml`).
    #[serde(default)]
    pub output: Option<String>,
}

#[async_trait]
impl TypedTool for GenerateK8sManifests {
    type Args = K8sArgs;
    fn name(&self) -> &'static str {
        "generate_k8s_manifests"
    }
    fn description(&self) -> &'static str {
        "Write Kubernetes manifests (ConfigMap, Deployment with probes/resources/non-root security context, \
         Service, Ingress when a host is given, HorizontalPodAutoscaler) from a short spec, as one YAML file in \
         the workspace, validated against the pinned Kubernetes version's schemas (kubernetes-validate --strict)."
    }
    async fn run(&self, args: K8sArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let docs = k8s::manifests(&args.spec).map_err(ToolError::InvalidArgs)?;
        let yaml = k8s::to_yaml(&docs);
        let output = args.output.unwrap_or_else(|| format!("k8s/{}.yaml", args.spec.name));
        let report = validate::kubernetes(&self.config, &yaml).await;
        let path = self.files.write(&ctx, &output, yaml.as_bytes())?;
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        Ok(ToolOutput::json(json!({
            "written": path,
            "kinds": kinds,
            "content": yaml,
            "validation": report_json(report),
            "kubectl": "not run: check against a cluster with kubectl apply --dry-run=server -f FILE",
        })))
    }
}
