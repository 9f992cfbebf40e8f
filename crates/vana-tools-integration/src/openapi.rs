//! `validate_openapi_spec` and `generate_api_client`: OpenAPI 3.0 and 3.1 descriptions, YAML or
//! JSON, from the session workspace or a URL (under the integration outbound policy).
//!
//! Validation is structural and done here (version, info, paths and operations, unique
//! operation ids, declared path parameters, responses, local `$ref`s that resolve). Clients come
//! from the OpenAPI Generator jar that PyPI's `openapi-generator-cli` ships, run with the
//! machine's Java in a scratch folder outside the workspace; the generated files are then written
//! into the workspace through [`SessionFiles`].

use crate::IntegrationConfig;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_net::OutboundPolicy;
use vana_toolkit::schemars::{self, JsonSchema};
use vana_toolkit::{tool_error, vana_workspace, SessionFiles, TypedTool};

/// Largest spec read.
const MAX_SPEC: u64 = 32 << 20;
/// Most generated files copied into the workspace.
const MAX_FILES: usize = 20_000;

/// Whether `java -version` runs.
pub fn java_available(java: &str) -> bool {
    std::process::Command::new(java)
        .arg("-version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Reads a spec from the workspace or a URL; returns its text and where it came from.
async fn load_spec(
    files: &SessionFiles,
    policy: &OutboundPolicy,
    timeout: Duration,
    ctx: &ToolContext,
    spec: &str,
) -> Result<(String, String), ToolError> {
    let spec = spec.trim();
    if spec.starts_with("http://") || spec.starts_with("https://") || spec.contains("://") {
        let client = policy
            .client(reqwest::Client::builder().timeout(timeout), 5)
            .map_err(|e| ToolError::Failed(format!("the HTTP client cannot be built: {e}")))?;
        let resp = client
            .get(spec)
            .map_err(|r| ToolError::Blocked(crate::api_test::refusal_message(&r)))?
            .send()
            .await
            .map_err(|e| match vana_net::Refusal::find(&e) {
                Some(r) => ToolError::Blocked(crate::api_test::refusal_message(r)),
                None => ToolError::Failed(format!("fetching {spec} failed: {e}")),
            })?;
        if !resp.status().is_success() {
            return Err(ToolError::Failed(format!("fetching {spec} answered {}", resp.status())));
        }
        let bytes =
            resp.bytes().await.map_err(|e| ToolError::Failed(format!("fetching {spec} broke off: {e}")))?;
        if bytes.len() as u64 > MAX_SPEC {
            return Err(ToolError::InvalidArgs(format!("{spec} is larger than {} MiB", MAX_SPEC >> 20)));
        }
        return Ok((String::from_utf8_lossy(&bytes).into_owned(), spec.to_string()));
    }
    let rel = vana_workspace::normalize(spec).map_err(tool_error)?;
    let bytes = files.read(ctx, &rel, MAX_SPEC)?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), rel))
}

/// Parses YAML or JSON into JSON.
fn parse_spec(text: &str, origin: &str) -> Result<Value, ToolError> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    serde_yaml::from_str::<Value>(text)
        .map_err(|e| ToolError::InvalidArgs(format!("`{origin}` is neither JSON nor YAML: {e}")))
}

/// What validation found.
#[derive(Debug, Default)]
pub struct Report {
    /// The `openapi` version.
    pub version: String,
    /// Problems that make the description invalid.
    pub errors: Vec<String>,
    /// Things worth fixing that do not make it invalid.
    pub warnings: Vec<String>,
    /// Operations counted.
    pub operations: usize,
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn resolve_ref<'a>(root: &'a Value, r: &str) -> Option<&'a Value> {
    let ptr = r.strip_prefix('#')?;
    root.pointer(ptr)
}

fn walk_refs(root: &Value, v: &Value, at: &str, errors: &mut Vec<String>, warnings: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                if r.starts_with('#') {
                    if resolve_ref(root, r).is_none() {
                        errors.push(format!("{at}: $ref `{r}` does not resolve"));
                    }
                } else {
                    warnings.push(format!("{at}: external $ref `{r}` not checked"));
                }
            }
            for (k, x) in o {
                walk_refs(
                    root,
                    x,
                    &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    errors,
                    warnings,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk_refs(root, x, &format!("{at}/{i}"), errors, warnings);
            }
        }
        _ => {}
    }
}

/// Checks an OpenAPI 3.0/3.1 description.
pub fn validate(doc: &Value) -> Report {
    let mut r = Report::default();
    if doc.get("swagger").is_some() {
        r.errors.push("this is a Swagger 2.0 description; only OpenAPI 3.0 and 3.1 are supported".into());
        return r;
    }
    let version = doc["openapi"].as_str().unwrap_or("").to_string();
    r.version = version.clone();
    let v31 = version.starts_with("3.1");
    if !(version.starts_with("3.0") || v31) {
        r.errors.push(format!("`openapi` must be 3.0.x or 3.1.x, got {:?}", doc["openapi"]));
        return r;
    }
    if !doc["info"].is_object() {
        r.errors.push("`info` is missing".into());
    } else {
        if !doc["info"]["title"].is_string() {
            r.errors.push("`info.title` is missing".into());
        }
        if !doc["info"]["version"].is_string() {
            r.errors.push("`info.version` is missing (it must be a string)".into());
        }
    }
    let paths = doc.get("paths");
    match paths {
        None if v31 && (doc.get("webhooks").is_some() || doc.get("components").is_some()) => {}
        None => r.errors.push("`paths` is missing".into()),
        Some(Value::Object(_)) => {}
        Some(_) => r.errors.push("`paths` must be an object".into()),
    }
    let mut ids = HashSet::new();
    for (path, item) in paths.and_then(Value::as_object).into_iter().flatten() {
        if !path.starts_with('/') {
            r.errors.push(format!("path `{path}` must start with `/`"));
        }
        let templated: Vec<String> =
            path.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string())).collect();
        let item = match item.get("$ref").and_then(Value::as_str).and_then(|x| resolve_ref(doc, x)) {
            Some(resolved) => resolved,
            None => item,
        };
        let declared = |params: &Value| -> Vec<String> {
            params
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let p =
                        p.get("$ref").and_then(Value::as_str).and_then(|x| resolve_ref(doc, x)).unwrap_or(p);
                    (p["in"] == "path").then(|| p["name"].as_str().unwrap_or("").to_string())
                })
                .collect()
        };
        let common = declared(&item["parameters"]);
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            r.operations += 1;
            let at = format!("{} {path}", m.to_uppercase());
            match op["operationId"].as_str() {
                Some(id) => {
                    if !ids.insert(id.to_string()) {
                        r.errors.push(format!("{at}: operationId `{id}` is used twice"));
                    }
                }
                None => {
                    r.warnings.push(format!("{at}: no operationId (generated clients name it themselves)"))
                }
            }
            let mut have = common.clone();
            have.extend(declared(&op["parameters"]));
            for t in &templated {
                if !have.contains(t) {
                    r.errors.push(format!("{at}: path parameter `{t}` is not declared"));
                }
            }
            match op.get("responses") {
                Some(Value::Object(o)) if !o.is_empty() => {}
                _ if v31 => r.warnings.push(format!("{at}: no responses")),
                _ => r.errors.push(format!("{at}: `responses` is missing or empty")),
            }
        }
    }
    walk_refs(doc, doc, "#", &mut r.errors, &mut r.warnings);
    r
}

/// Arguments of `validate_openapi_spec`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateArgs {
    /// The OpenAPI description: a workspace file (`api.yaml`, `openapi.json`) or an http(s) URL.
    pub spec: String,
}

/// `validate_openapi_spec`.
pub struct ValidateOpenapiSpec {
    pub(crate) config: IntegrationConfig,
    pub(crate) policy: OutboundPolicy,
    pub(crate) files: SessionFiles,
}

#[async_trait]
impl TypedTool for ValidateOpenapiSpec {
    type Args = ValidateArgs;
    fn name(&self) -> &'static str {
        "validate_openapi_spec"
    }
    fn description(&self) -> &'static str {
        "Check an OpenAPI 3.0 or 3.1 description (YAML or JSON, a workspace file or a URL): version, info, paths, \
         operations, unique operationIds, declared path parameters, responses and local $refs. Lists errors and \
         warnings."
    }
    async fn run(&self, args: ValidateArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let timeout = Duration::from_secs(self.config.timeout_secs.max(1));
        let (text, origin) = load_spec(&self.files, &self.policy, timeout, &ctx, &args.spec).await?;
        let doc = parse_spec(&text, &origin)?;
        let r = validate(&doc);
        Ok(ToolOutput::json(json!({
            "spec": origin,
            "valid": r.errors.is_empty(),
            "openapi": r.version,
            "title": doc["info"]["title"],
            "version": doc["info"]["version"],
            "operations": r.operations,
            "errors": r.errors,
            "warnings": r.warnings.iter().take(100).collect::<Vec<_>>(),
            "warning_count": r.warnings.len(),
        })))
    }
}

/// Arguments of `generate_api_client`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateArgs {
    /// The OpenAPI description: a workspace file or an http(s) URL.
    pub spec: String,
    /// `typescript` (fetch-based), `python` or `rust` (reqwest-based).
    #[schemars(extend("enum" = ["typescript", "python", "rust"]))]
    pub language: String,
    /// The workspace folder to write the client into (default `clients/<language>`).
    #[serde(default)]
    pub output_dir: Option<String>,
    /// The package name (default from the spec's title).
    #[serde(default)]
    pub package_name: Option<String>,
}

/// `generate_api_client`.
pub struct GenerateApiClient {
    pub(crate) config: IntegrationConfig,
    pub(crate) policy: OutboundPolicy,
    pub(crate) files: SessionFiles,
}

/// A package name from a title: lower-case letters, digits and `_`.
fn package_from(title: &str) -> String {
    let mut s: String =
        title.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_').to_string();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("api_{s}").trim_end_matches('_').to_string()
    } else {
        s
    }
}

fn scratch() -> PathBuf {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    std::env::temp_dir().join(format!("vana-openapi-{}-{nanos}", std::process::id()))
}

fn collect(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        let p = e.path();
        if t.is_dir() {
            collect(&p, base, out)?;
        } else if t.is_file() {
            let rel = p.strip_prefix(base).unwrap_or(&p).to_string_lossy().into_owned();
            out.push((rel, p));
        }
    }
    Ok(())
}

#[async_trait]
impl TypedTool for GenerateApiClient {
    type Args = GenerateArgs;
    fn name(&self) -> &'static str {
        "generate_api_client"
    }
    fn description(&self) -> &'static str {
        "Generate an API client (TypeScript, Python or Rust) from an OpenAPI 3.0/3.1 description (a workspace file \
         or a URL) with OpenAPI Generator, into a workspace folder. Returns the files written and how to use them."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(self.config.generate_timeout_secs + 30))
    }
    async fn run(&self, args: GenerateArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let (generator, extra): (&str, &[&str]) = match args.language.trim().to_ascii_lowercase().as_str() {
            "typescript" | "ts" => ("typescript-fetch", &["supportsES6=true"]),
            "python" | "py" => ("python", &[]),
            "rust" | "rs" => ("rust", &["library=reqwest"]),
            other => {
                return Err(ToolError::InvalidArgs(format!(
                    "field `language`: `{other}` is not typescript, python or rust"
                )))
            }
        };
        let lang = match generator {
            "typescript-fetch" => "typescript",
            "python" => "python",
            _ => "rust",
        };
        let out_dir =
            vana_workspace::normalize(args.output_dir.as_deref().unwrap_or(&format!("clients/{lang}")))
                .map_err(tool_error)?;
        let package = match &args.package_name {
            Some(p) => {
                if p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    return Err(ToolError::InvalidArgs(format!(
                        "field `package_name`: `{p}` may hold only letters, digits, `_` and `-`"
                    )));
                }
                Some(p.clone())
            }
            None => None,
        };
        if !java_available(&self.config.java) {
            return Err(ToolError::Unavailable(format!(
                "Java (`{}`) is not installed or does not run; OpenAPI Generator needs it: apt-get install -y default-jre-headless",
                self.config.java
            )));
        }
        let jar = self.config.find_jar().filter(|j| j.is_file()).ok_or_else(|| {
            ToolError::Unavailable(
                "the OpenAPI Generator jar is missing: run scripts/setup-integration.sh (it pip-installs openapi-generator-cli \
                 into .cache/integration-venv), or set `[integration] generator_jar`"
                    .into(),
            )
        })?;
        let timeout = Duration::from_secs(self.config.timeout_secs.max(1));
        let (text, origin) = load_spec(&self.files, &self.policy, timeout, &ctx, &args.spec).await?;
        let doc = parse_spec(&text, &origin)?;
        let report = validate(&doc);
        if !report.errors.is_empty() {
            return Err(ToolError::InvalidArgs(format!(
                "`{origin}` is not a valid OpenAPI description: {}",
                report.errors.iter().take(10).cloned().collect::<Vec<_>>().join("; ")
            )));
        }
        let package = package.unwrap_or_else(|| package_from(doc["info"]["title"].as_str().unwrap_or("api")));

        let dir = scratch();
        let result = async {
            std::fs::create_dir_all(&dir).map_err(|e| ToolError::Failed(format!("scratch folder: {e}")))?;
            let spec_path = dir.join("spec.json");
            std::fs::write(&spec_path, serde_json::to_vec(&doc).unwrap_or_default())
                .map_err(|e| ToolError::Failed(format!("scratch folder: {e}")))?;
            let gen_out = dir.join("out");
            let mut props = vec![
                format!("packageName={package}"),
                format!("npmName={package}"),
                format!("projectName={package}"),
            ];
            props.extend(extra.iter().map(|s| s.to_string()));
            let mut cmd = tokio::process::Command::new(&self.config.java);
            cmd.arg("-jar")
                .arg(&jar)
                .arg("generate")
                .arg("-i")
                .arg(&spec_path)
                .arg("-g")
                .arg(generator)
                .arg("-o")
                .arg(&gen_out)
                .arg("--additional-properties")
                .arg(props.join(","))
                .arg("--skip-validate-spec")
                // The generated test stubs assert nothing; the docs stay.
                .arg("--global-property")
                .arg("apiTests=false,modelTests=false")
                .kill_on_drop(true)
                .stdin(std::process::Stdio::null());
            let run =
                tokio::time::timeout(Duration::from_secs(self.config.generate_timeout_secs), cmd.output());
            let output = tokio::select! {
                r = run => r,
                _ = ctx.cancel.cancelled() => return Err(ToolError::Cancelled),
            };
            let output = output
                .map_err(|_| {
                    ToolError::Failed(format!(
                        "OpenAPI Generator ran longer than {} s",
                        self.config.generate_timeout_secs
                    ))
                })?
                .map_err(|e| ToolError::Failed(format!("OpenAPI Generator did not start: {e}")))?;
            if !output.status.success() {
                let err = String::from_utf8_lossy(&output.stderr);
                let out = String::from_utf8_lossy(&output.stdout);
                let tail: String = format!("{out}\n{err}")
                    .lines()
                    .rev()
                    .take(15)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                return Err(ToolError::Failed(format!(
                    "OpenAPI Generator failed ({}):\n{tail}",
                    output.status
                )));
            }
            let mut files = Vec::new();
            collect(&gen_out, &gen_out, &mut files)
                .map_err(|e| ToolError::Failed(format!("reading the generated client: {e}")))?;
            files.sort();
            if files.len() > MAX_FILES {
                return Err(ToolError::Failed(format!(
                    "the generator wrote {} files, more than {MAX_FILES}",
                    files.len()
                )));
            }
            let mut written = Vec::new();
            for (rel, path) in &files {
                let bytes =
                    std::fs::read(path).map_err(|e| ToolError::Failed(format!("reading {rel}: {e}")))?;
                written.push(self.files.write(&ctx, &format!("{out_dir}/{rel}"), &bytes)?);
            }
            Ok(written)
        }
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        let written = result?;
        let usage = match lang {
            "typescript" => format!(
                "import {{ Configuration, DefaultApi }} from './{out_dir}'; (fetch-based; type-check with `tsc --noEmit`)"
            ),
            "python" => format!("cd {out_dir} && pip install . ; then `import {package}`"),
            _ => format!("add `{package} = {{ path = \"{out_dir}\" }}` to Cargo.toml (reqwest-based)"),
        };
        Ok(ToolOutput::json(json!({
            "spec": origin,
            "language": lang,
            "generator": format!("openapi-generator {generator}"),
            "package": package,
            "output_dir": out_dir,
            "files": written.len(),
            "file_list": written.iter().take(200).collect::<Vec<_>>(),
            "warnings": report.warnings.len(),
            "usage": usage,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structural_checks_find_the_classic_mistakes() {
        let good = json!({
            "openapi": "3.0.3", "info": {"title": "T", "version": "1"},
            "paths": {"/items/{id}": {"get": {"operationId": "getItem",
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}}}},
            "components": {"parameters": {"Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}},
                "schemas": {"Item": {"type": "object"}}}
        });
        let r = validate(&good);
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(r.operations, 1);
        let bad = json!({
            "openapi": "3.0.0", "info": {"title": "T"},
            "paths": {"/a/{x}": {"get": {"operationId": "a", "responses": {"200": {"$ref": "#/components/responses/Nope"}}},
                                 "post": {"operationId": "a"}}}
        });
        let r = validate(&bad);
        let all = r.errors.join("\n");
        assert!(all.contains("info.version"), "{all}");
        assert!(all.contains("`x` is not declared"), "{all}");
        assert!(all.contains("used twice"), "{all}");
        assert!(all.contains("responses` is missing"), "{all}");
        assert!(all.contains("does not resolve"), "{all}");
        assert!(validate(&json!({"swagger": "2.0"})).errors[0].contains("Swagger 2.0"));
        assert_eq!(package_from("VANA API (v1)"), "vana_api_v1");
    }
}
