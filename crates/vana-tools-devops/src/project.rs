//! What a project in the session workspace is: its language, package manager, framework, entry
//! point and port, read from its manifests and lock files (through the workspace API only).

use serde::Serialize;
use std::collections::BTreeSet;
use vana_toolkit::vana_workspace::Workspace;

/// Bytes read from one manifest.
const MAX_MANIFEST: u64 = 1 << 20;
/// Workspace entries looked at.
const MAX_ENTRIES: usize = 20_000;

/// The project's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// `requirements.txt` or `pyproject.toml`.
    Python,
    /// `package.json`.
    Node,
    /// `go.mod`.
    Go,
    /// `Cargo.toml`.
    Rust,
}

/// A project as detected.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    /// The folder, relative to `/workspace` (empty: the root).
    pub dir: String,
    /// Its language.
    pub language: Language,
    /// The framework found among its dependencies (`fastapi`, `flask`, `django`, `express`,
    /// `next`, ...), if any.
    pub framework: Option<String>,
    /// The dependency manifest and lock files found (`requirements.txt`, `package-lock.json`...).
    pub manifests: Vec<String>,
    /// The package manager (`pip`, `npm`, `yarn`, `pnpm`, `go`, `cargo`).
    pub package_manager: String,
    /// The entry point: a file (`app.py`, `server.js`, `./cmd/api`) or a binary name (Rust).
    pub entry_point: String,
    /// The port it listens on (by framework convention unless given).
    pub port: u16,
    /// Node: a `build` script exists. Python: installed from `pyproject.toml` as a package.
    pub has_build: bool,
    /// Files (relative to `dir`) in the project, for entry-point detection.
    #[serde(skip)]
    pub files: BTreeSet<String>,
}

/// Detects the project in folder `dir` of `ws`.
pub fn detect(ws: &Workspace, dir: &str, entry: Option<&str>, port: Option<u16>) -> Result<Project, String> {
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let files: BTreeSet<String> = ws
        .files(MAX_ENTRIES)
        .into_keys()
        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
        .filter(|k| !k.starts_with("node_modules/") && !k.starts_with("target/") && !k.starts_with(".git/"))
        .collect();
    let read = |name: &str| -> String {
        ws.read(&format!("{prefix}{name}"), MAX_MANIFEST)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let has = |name: &str| files.contains(name);
    let shown = if dir.is_empty() { "/workspace".to_string() } else { format!("/workspace/{dir}") };
    let mut p = if has("package.json") {
        node(&read("package.json"), &files)?
    } else if has("requirements.txt") || has("pyproject.toml") {
        python(&read("requirements.txt"), &read("pyproject.toml"), &files)
    } else if has("go.mod") {
        go(&files)?
    } else if has("Cargo.toml") {
        rust(&read("Cargo.toml"), &files)?
    } else {
        return Err(format!(
            "no project found in {shown}: looked for package.json, requirements.txt, pyproject.toml, go.mod and Cargo.toml"
        ));
    };
    p.dir = dir.to_string();
    if let Some(e) = entry {
        let e = e.trim();
        if e.is_empty()
            || e.contains("..")
            || e.starts_with('/')
            || e.chars().any(|c| c.is_control() || "\"'`$\\;&|<>".contains(c))
        {
            return Err(format!("entry_point {e:?} must be a relative file or name inside the project"));
        }
        p.entry_point = e.to_string();
    }
    if let Some(port) = port {
        if port == 0 {
            return Err("port must be 1-65535".into());
        }
        p.port = port;
    }
    if p.entry_point.is_empty() {
        return Err(format!("no entry point found in {shown}: name one with entry_point"));
    }
    Ok(p)
}

fn blank(language: Language, package_manager: &str, files: &BTreeSet<String>) -> Project {
    Project {
        dir: String::new(),
        language,
        framework: None,
        manifests: Vec::new(),
        package_manager: package_manager.into(),
        entry_point: String::new(),
        port: 8080,
        has_build: false,
        files: files.clone(),
    }
}

fn python(requirements: &str, pyproject: &str, files: &BTreeSet<String>) -> Project {
    let mut p = blank(Language::Python, "pip", files);
    for m in ["requirements.txt", "pyproject.toml", "poetry.lock", "uv.lock"] {
        if files.contains(m) {
            p.manifests.push(m.into());
        }
    }
    let deps = format!("{requirements}\n{pyproject}").to_lowercase();
    let dep = |name: &str| {
        deps.lines().any(|l| {
            let l = l.trim().trim_start_matches(['"', '\'']);
            l.starts_with(name)
                && !l[name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
    };
    let (framework, port) = if dep("fastapi") {
        (Some("fastapi"), 8000)
    } else if dep("django") {
        (Some("django"), 8000)
    } else if dep("flask") {
        (Some("flask"), 5000)
    } else {
        (None, 8080)
    };
    p.framework = framework.map(str::to_string);
    p.port = port;
    if dep("gunicorn") {
        p.manifests.push("gunicorn".into());
    }
    if dep("uvicorn") {
        p.manifests.push("uvicorn".into());
    }
    p.manifests.retain(|m| m.contains('.'));
    p.has_build = !files.contains("requirements.txt");
    let candidates =
        ["manage.py", "main.py", "app.py", "server.py", "wsgi.py", "run.py", "src/main.py", "app/main.py"];
    p.entry_point =
        candidates.iter().find(|c| files.contains(**c)).map(|c| c.to_string()).unwrap_or_default();
    p
}

fn node(package_json: &str, files: &BTreeSet<String>) -> Result<Project, String> {
    let pkg: serde_json::Value =
        serde_json::from_str(package_json).map_err(|e| format!("package.json is not valid JSON: {e}"))?;
    let pm = if files.contains("pnpm-lock.yaml") {
        "pnpm"
    } else if files.contains("yarn.lock") {
        "yarn"
    } else {
        "npm"
    };
    let mut p = blank(Language::Node, pm, files);
    for m in ["package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml"] {
        if files.contains(m) {
            p.manifests.push(m.into());
        }
    }
    let has_dep = |n: &str| pkg["dependencies"].get(n).is_some();
    p.framework = ["next", "@nestjs/core", "express", "fastify", "koa"]
        .iter()
        .find(|n| has_dep(n))
        .map(|n| n.to_string());
    p.port = 3000;
    p.has_build = pkg["scripts"].get("build").is_some();
    let main = pkg["main"].as_str().unwrap_or("").trim_start_matches("./").to_string();
    p.entry_point = if !main.is_empty() && (files.contains(&main) || p.has_build) {
        main
    } else {
        ["server.js", "index.js", "app.js", "src/index.js", "src/server.js", "dist/index.js"]
            .iter()
            .find(|c| files.contains(**c))
            .map(|c| c.to_string())
            .unwrap_or_default()
    };
    if p.framework.as_deref() == Some("next") {
        p.entry_point = "next start".into();
    }
    Ok(p)
}

fn go(files: &BTreeSet<String>) -> Result<Project, String> {
    let mut p = blank(Language::Go, "go", files);
    for m in ["go.mod", "go.sum"] {
        if files.contains(m) {
            p.manifests.push(m.into());
        }
    }
    p.entry_point = if files.contains("main.go") {
        ".".into()
    } else {
        files
            .iter()
            .find(|f| f.starts_with("cmd/") && f.ends_with("/main.go") && f.matches('/').count() == 2)
            .map(|f| format!("./{}", f.trim_end_matches("/main.go")))
            .unwrap_or_default()
    };
    Ok(p)
}

fn rust(cargo_toml: &str, files: &BTreeSet<String>) -> Result<Project, String> {
    let doc: toml::Table = cargo_toml.parse().map_err(|e| format!("Cargo.toml does not parse: {e}"))?;
    let mut p = blank(Language::Rust, "cargo", files);
    for m in ["Cargo.toml", "Cargo.lock"] {
        if files.contains(m) {
            p.manifests.push(m.into());
        }
    }
    let bin = doc
        .get("bin")
        .and_then(|b| b.as_array())
        .and_then(|b| b.first())
        .and_then(|b| b.get("name"))
        .and_then(|n| n.as_str())
        .or_else(|| doc.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str()));
    let name = bin.unwrap_or_default();
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!("the binary name {name:?} in Cargo.toml is not a plain name"));
    }
    if files.contains("src/main.rs") || doc.get("bin").is_some() {
        p.entry_point = name.to_string();
    }
    let deps = doc.get("dependencies").and_then(|d| d.as_table());
    p.framework = ["axum", "actix-web", "rocket", "warp"]
        .iter()
        .find(|n| deps.is_some_and(|d| d.contains_key(**n)))
        .map(|n| n.to_string());
    Ok(p)
}
