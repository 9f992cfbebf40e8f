//! The structural half of "one owner for session files": host-side code outside this crate
//! does not touch the filesystem directly, except in the files listed here, each for a reason
//! that has nothing to do with session workspaces. A new direct filesystem call elsewhere
//! fails this test: route it through `vana_workspace` (for anything under a workspace), or, if
//! it reads an operator's or VANA's own file, add it here with the reason.

use std::path::{Path, PathBuf};

/// Files (relative to `crates/`) allowed to use the filesystem directly, and why.
const ALLOWED: &[(&str, &str)] = &[
    ("vana-workspace/src/", "the workspace API itself"),
    ("vana-app/src/adk_eval.rs", "ADK eval sets and results under the data dir (VANA's own)"),
    ("vana-app/src/catalog.rs", "the user's agents dir (operator files)"),
    ("vana-app/src/config.rs", "reads vana.toml and the sandbox policy dir (operator files)"),
    ("vana-assets/src/lib.rs", "model files under the models dir (VANA's own)"),
    ("vana-core/src/catalog.rs", "agent YAML files from the agents dir (operator files)"),
    ("vana-local/src/engine.rs", "GGUF model files (VANA's own)"),
    ("vana-local/src/lib.rs", "GGUF model paths (VANA's own)"),
    ("vana-mcp/src/client.rs", "the MCP tool-list cache under the data dir (VANA's own)"),
    ("vana-mcp/src/config.rs", "MCP server config files and commands on PATH (operator files)"),
    ("vana-mcp/src/install.rs", "MCP servers installed under the MCP home (VANA's own)"),
    ("vana-mcp/src/trust.rs", "the record of trusted project .mcp.json files (VANA's own)"),
    ("vana-router/src/", "router model and eval files (VANA's own)"),
    ("vana-sandbox/src/cgroup.rs", "cgroupfs and /proc"),
    ("vana-sandbox/src/engine.rs", "/proc, the sandbox's root staging dir under the workspace root"),
    ("vana-sandbox/src/mounts.rs", "host paths bind-mounted read-only into the sandbox root"),
    ("vana-sandbox/src/policy.rs", "policy files (operator files)"),
    ("vana-sandbox/src/spawn.rs", "files of the sandbox's own root (staging), never a workspace"),
    ("vana-scripted/src/script.rs", "the scripted model's script file (tests and demos)"),
    ("vana-server/src/metrics.rs", "/proc/self"),
    ("vana-store/src/sqlite.rs", "the store database's directory (VANA's own)"),
    ("vana-testkit/src/paths.rs", "test fixtures: the repository and the installed MCP test servers, never a session workspace"),
    ("vana-tools-browser/src/profile.rs", "Chromium's temporary profile and download folder under the temp dir (VANA's own), and whether the Chromium binary is installed"),
    ("vana-tools-code/src/inspect.rs", "whether the sandbox's interpreters are installed"),
    ("vana-tools-code/src/lib.rs", "whether the sandbox's interpreters are installed (the suite's status)"),
    ("vana-tools-data/src/data/chart.rs", "system fonts for charts"),
    ("vana-tools-data/src/sql/sqlite.rs", "opens SQLite by path: configured connections (operator files) and workspace files only as a vana_workspace::PinnedPath"),
    ("vana-tools-web/src/index.rs", "files and folders the CLI user names with `vana index add|remove` (operator files)"),
    ("vana-tools-web/src/pdf.rs", "whether pdftotext is installed (the suite's status)"),
    ("vana-tools-web/src/store.rs", "the research database (HTTP cache, local index) under the data dir (VANA's own)"),
    ("vana-tools-ops/src/security/managed_env.rs", "the managed semgrep environment under the data dir (VANA's own)"),
    ("vana-tools-ops/src/security/staging.rs", "private scan copies under the data dir, operator rule/signature/CA files, scanners on PATH (VANA's own and operator files)"),
    ("vana-tools-integration/src/config.rs", "finds the OpenAPI Generator jar in the venv the setup script made (VANA's own) and reads `[integration] ca_file` (an operator file)"),
    ("vana-tools-integration/src/sync.rs", "opens the SQLite files of configured [sql.connections] (operator files), never a workspace file"),
    ("vana-tools-integration/src/openapi.rs", "the generator's scratch folder under the temp dir (VANA's own); its output reaches the workspace only through SessionFiles"),
    ("vana-tools-devops/src/validate.rs", "the validators' scratch files (the GitLab CI schema, manifests to check) under the temp dir (VANA's own); generated files reach the workspace only through SessionFiles"),
    ("vana-tools-devops/src/terraform.rs", "the terraform binary's path ([devops] terraform, PATH, the setup script's copy) and the private scratch folder under the temp dir (VANA's own) that a configuration is copied into; the workspace is read only through SessionFiles"),
    ("vana-tools-devops/src/docker.rs", "whether the Engine API socket exists ([devops] docker_socket, DOCKER_HOST, Docker's and Podman's usual paths)"),
    ("vana-tools-devops/src/aws/creds.rs", "the AWS shared credentials file (~/.aws/credentials or [aws] credentials_file: an operator file)"),
    ("vana-tools-nlp/src/spacy.rs", "the managed spaCy environment and its worker script under the data dir (VANA's own)"),
    ("vana/src/attach.rs", "files the CLI user names on the command line"),
    ("vana/src/cmd_exec.rs", "a code file the CLI user names on the command line"),
    ("vana/src/cmd_mcp.rs", "the project .mcp.json the CLI user asks to trust"),
];

/// Spellings of direct filesystem access.
const FS_CALLS: &[&str] = &[
    "fs::read(",
    "fs::read_to_string(",
    "fs::write(",
    "fs::create_dir",
    "fs::remove_",
    "fs::rename(",
    "fs::copy(",
    "fs::metadata(",
    "fs::symlink_metadata(",
    "fs::read_dir(",
    "fs::read_link(",
    "fs::canonicalize(",
    "fs::hard_link(",
    "fs::set_permissions(",
    "fs::OpenOptions",
    "File::open(",
    "File::create(",
    "OpenOptions::new(",
    "tokio::fs",
    ".exists()",
    ".is_file()",
    ".is_dir()",
    "Connection::open",
    "unix::fs::symlink",
    "unix::fs::chown",
];

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Every `src/**/*.rs` of every crate, relative to `crates/`.
fn sources() -> Vec<(String, String)> {
    let root = crates_dir();
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out
}

/// The non-test part of a source file (unit tests at the bottom may plant files).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map(|i| &text[..i]).unwrap_or(text)
}

fn allowed(file: &str) -> bool {
    ALLOWED.iter().any(|(prefix, _)| file.starts_with(prefix))
}

#[test]
fn only_the_workspace_crate_touches_files_directly() {
    let mut offenders = Vec::new();
    for (file, text) in sources() {
        if allowed(&file) {
            continue;
        }
        for (n, line) in without_tests(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if let Some(call) = FS_CALLS.iter().find(|c| code.contains(*c)) {
                offenders.push(format!("crates/{file}:{}: `{call}` in: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "direct filesystem access outside vana-workspace: session files must go through its API \
         (sandboxed code can plant links and FIFOs there); for an operator's or VANA's own file, \
         add the file to ALLOWED in crates/vana-workspace/tests/ownership.rs with the reason:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn every_allowed_file_still_needs_it() {
    let sources = sources();
    for (prefix, why) in ALLOWED {
        let uses = sources.iter().filter(|(f, _)| f.starts_with(prefix)).any(|(_, text)| {
            without_tests(text)
                .lines()
                .any(|l| FS_CALLS.iter().any(|c| l.split("//").next().unwrap_or("").contains(c)))
        });
        assert!(
            uses,
            "crates/{prefix} ({why}) no longer uses the filesystem directly: remove it from ALLOWED"
        );
    }
}

#[test]
fn only_the_sandbox_reaches_a_workspace_by_its_host_path() {
    for (file, text) in sources() {
        if file.starts_with("vana-workspace/") || file.starts_with("vana-sandbox/") {
            continue;
        }
        assert!(
            !without_tests(&text).contains("mount_path("),
            "crates/{file} asks for a workspace's host path: use the Workspace API instead"
        );
    }
}
