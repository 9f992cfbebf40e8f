//! `vana mcp`: the configured MCP servers (status, tools, direct calls, a connection test),
//! trust in a project's `.mcp.json`, and `vana mcp serve`, VANA as an MCP server on stdio.

use anyhow::{anyhow, bail, Context, Result};
use clap::Subcommand;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use vana_app::App;
use vana_mcp::server::Caller;
use vana_mcp::trust::{Trust, TrustStore};
use vana_mcp::{McpConfig, Server, Unavailable};

/// The variable `vana mcp serve` reads an API key from: calls then act as the key's user.
pub const API_KEY_ENV: &str = "VANA_API_KEY";

/// `vana mcp ...`.
#[derive(Subcommand, Debug)]
pub enum McpCommand {
    /// Every configured server with its state (connects nothing).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The tools of one server, or of every server that can start (connects them).
    Tools {
        /// Server name.
        server: Option<String>,
        /// Print JSON (with schemas).
        #[arg(long)]
        json: bool,
    },
    /// Calls one tool of a server directly (no model) and prints its result as JSON.
    Call {
        /// Server name.
        server: String,
        /// Tool name (the server's, or VANA's `<server>__<tool>`).
        tool: String,
        /// Arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
    },
    /// Connects to a server, lists its tools and times a round trip.
    Test {
        /// Server name.
        server: String,
    },
    /// Serves VANA's tools and agents (`ask_<agent>`) to an MCP client over stdin/stdout. With
    /// `VANA_API_KEY` set, calls act as that key's user; otherwise as the local user (`--user`,
    /// `VANA_USER`, `$USER`).
    Serve,
    /// Installs servers' pinned npm or PyPI packages (the catalog's `package:`) into the MCP
    /// home ($VANA_MCP_HOME, default <data dir>/mcp). Without names: every server that needs no
    /// key or only a local service (what first use would install); `--all`: every server with
    /// a package.
    Install {
        /// Server names.
        names: Vec<String>,
        /// Every server with a package, including those that need a key.
        #[arg(long, conflicts_with = "names")]
        all: bool,
    },
    /// Trusts the project's `.mcp.json` as it is now (records its sha256): its servers start
    /// from then on, until the file changes.
    Trust {
        /// The file (default: `.mcp.json` in the working directory).
        path: Option<PathBuf>,
        /// Forget the trust instead.
        #[arg(long)]
        revoke: bool,
    },
}

/// Runs a `vana mcp` subcommand; `user` is the local user (`--user`, `VANA_USER`, `$USER`).
pub async fn run(app: App, command: &McpCommand, user: &str) -> Result<i32> {
    let code = match command {
        McpCommand::List { json } => list(&app, *json),
        McpCommand::Tools { server, json } => tools(&app, server.as_deref(), *json).await?,
        McpCommand::Call { server, tool, args } => call(&app, server, tool, args).await?,
        McpCommand::Test { server } => test(&app, server).await?,
        McpCommand::Trust { path, revoke } => trust(path.as_deref(), *revoke)?,
        McpCommand::Install { names, all } => install(&app, names, *all).await?,
        McpCommand::Serve => {
            let caller = stdio_caller(&app, user).await?;
            let app = Arc::new(app);
            vana_mcp::server::serve_stdio(app.clone(), caller).await.map_err(|e| anyhow!(e))?;
            app.mcp.shutdown().await;
            return Ok(0);
        }
    };
    app.mcp.shutdown().await;
    Ok(code)
}

/// Who `vana mcp serve`'s client is: the user of the key in `VANA_API_KEY` (checked against
/// the key store; a bad key stops the server), else the local user.
async fn stdio_caller(app: &App, user: &str) -> Result<Caller> {
    let Some(key) = std::env::var(API_KEY_ENV).ok().filter(|k| !k.trim().is_empty()) else {
        return Ok(Caller::local(user));
    };
    let id = vana_server::KeyVerifier::new(app.stores.keys.clone())
        .verify(key.trim())
        .await
        .map_err(|e| anyhow!("{API_KEY_ENV}: {e}; unset it to serve as the local user `{user}`"))?;
    Ok(Caller::with_key(&id.user_id, &id.key_id, "stdio"))
}

fn server<'a>(app: &'a App, name: &str) -> Result<&'a Arc<Server>> {
    app.mcp.server(name).ok_or_else(|| {
        if let Some(why) = app.mcp.untrusted(name) {
            return anyhow!(why);
        }
        let names: Vec<&str> = app.mcp.servers().map(|s| s.name()).collect();
        anyhow!("unknown MCP server `{name}`; configured: {}", names.join(", "))
    })
}

/// `vana mcp trust [PATH] [--revoke]`.
fn trust(path: Option<&std::path::Path>, revoke: bool) -> Result<i32> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => std::env::current_dir()?.join(vana_mcp::config::PROJECT_FILE),
    };
    let mut store = TrustStore::open(&vana_app::mcp::trust_store_path())?;
    if revoke {
        if store.forget(&path)? {
            println!("{} is no longer trusted: its servers will not start", path.display());
        } else {
            println!("{} was not trusted", path.display());
        }
        return Ok(0);
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut config = McpConfig::load_user(&vana_app::config::config_dir())?;
    config.add_project_bytes(&path, &bytes, &TrustStore::default())?;
    let project = config.project.ok_or_else(|| anyhow!("{} was not read", path.display()))?;
    if let Some(e) = &project.error {
        bail!("not trusted: {e}");
    }
    println!("{} (sha256 {}) defines:", project.path.display(), project.sha256);
    for (name, s) in &project.servers {
        let replaces =
            if s.replaces { format!(" (replaces the configured `{name}`)") } else { String::new() };
        println!("  {name:<18} {}{replaces}", s.transport);
        if !s.reads_env.is_empty() {
            println!("  {:<18} reads from VANA's environment: {}", "", s.reads_env.join(", "));
        }
    }
    store.trust(&project.path, &project.sha256)?;
    println!(
        "trusted: its servers start from now on; any change to the file needs `vana mcp trust` again (records in {})",
        store.path().display()
    );
    Ok(0)
}

/// Fails with the reason (and the one step that enables it) when the server cannot start and
/// would not be installed on first use.
fn usable(s: &Server) -> Result<()> {
    if s.startable() {
        return Ok(());
    }
    match s.unavailable() {
        None => Ok(()),
        Some(u @ Unavailable::MissingEnv(_)) => bail!("MCP server `{}` needs a key: {u}", s.name()),
        Some(Unavailable::NotInstalled { package: Some(_), .. }) => {
            bail!("MCP server `{}` is not installed: {}", s.name(), s.status().reason.unwrap_or_default())
        }
        Some(u) => bail!("MCP server `{}` is {u}", s.name()),
    }
}

/// `vana mcp install [NAME...|--all]`.
async fn install(app: &App, names: &[String], all: bool) -> Result<i32> {
    let chosen: Vec<Arc<Server>> = if names.is_empty() {
        app.mcp
            .servers()
            .filter(|s| {
                if all {
                    s.config().install_package().is_some()
                } else {
                    vana_mcp::install::in_default_set(s.name(), s.config())
                }
            })
            .cloned()
            .collect()
    } else {
        let mut v = Vec::new();
        for n in names {
            let s = server(app, n)?;
            if s.config().install_package().is_none() {
                bail!(
                    "MCP server `{n}` names no npm or PyPI package to install ({}); nothing was installed",
                    s.config().package.as_deref().unwrap_or("no `package:` in its configuration")
                );
            }
            v.push(s.clone());
        }
        v
    };
    let home = vana_mcp::config::mcp_home(&vana_app::config::data_dir());
    eprintln!("MCP servers go to {}", home.display());
    let mut failed = 0;
    for s in &chosen {
        let p = s.config().install_package().expect("chosen for its package");
        let label = format!("{} ({:?} {})", s.name(), p.registry, p.specs.join(" ")).to_lowercase();
        let h = home.clone();
        let p2 = p.clone();
        let t = Instant::now();
        match tokio::task::spawn_blocking(move || p2.install(&h)).await? {
            Ok(true) => println!("installed {label} in {:.1}s", t.elapsed().as_secs_f64()),
            Ok(false) => println!("already installed {label}"),
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} servers did not install", chosen.len());
        return Ok(1);
    }
    Ok(0)
}

fn list(app: &App, json: bool) -> i32 {
    let crate::style::Codes { sb, s0, sy, sd, .. } = crate::style::codes();
    let rows = app.mcp.status();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
        return 0;
    }
    if let Some(w) = app.mcp.project_file().filter(|p| p.trust != Trust::Trusted).and_then(|p| p.warning()) {
        eprintln!("{sy}warning: {w}{s0}");
    }
    let sr = crate::style::codes().sred;
    for r in rows {
        let tools = r.tools.map(|n| format!("{n} tools")).unwrap_or_else(|| "tools not listed yet".into());
        // Only a started server that failed is alarming; the other states say what to do.
        let color = match r.state.as_str() {
            "down" => sr,
            "untrusted" => sy,
            "needs_key" | "not_installed" | "disabled" => sd,
            _ => "",
        };
        let state = r.state.replace('_', " ");
        println!("{sb}{:<20}{s0} {color}{state:<13}{s0} {}", r.name, r.description);
        println!("  {sd}{}{s0}", r.transport);
        match r.state.as_str() {
            "down" => println!("  {sr}{}{s0}", r.reason.as_deref().unwrap_or("")),
            "needs_key" | "not_installed" | "disabled" | "untrusted" => {
                println!("  {}", r.reason.as_deref().unwrap_or(""))
            }
            _ => println!("  {tools}; {} calls, {} errors", r.calls, r.errors),
        }
        if !r.agents.is_empty() {
            println!("  agents: {}", r.agents.join(", "));
        }
        if let Some(e) = &r.last_error {
            println!("  {sy}last error: {e}{s0}");
        }
    }
    0
}

async fn tools(app: &App, only: Option<&str>, json: bool) -> Result<i32> {
    let crate::style::Codes { sb, s0, sy, .. } = crate::style::codes();
    let servers: Vec<Arc<Server>> = match only {
        Some(name) => {
            let s = server(app, name)?;
            usable(s)?;
            vec![s.clone()]
        }
        None => app.mcp.servers().filter(|s| s.startable()).cloned().collect(),
    };
    // Servers start concurrently, each bounded by its own connect deadline.
    let listed = futures::future::join_all(servers.iter().map(|s| {
        let mcp = app.mcp.clone();
        let s = s.clone();
        async move { (s.clone(), mcp.tools(&s).await) }
    }))
    .await;
    let mut rows = Vec::new();
    let mut failed = false;
    for (s, r) in listed {
        match r {
            Ok(tools) => {
                for t in tools {
                    rows.push(json!({"server": s.name(), "name": t.name(), "description": t.description(), "parameters": t.parameters()}));
                }
            }
            Err(e) => {
                failed = true;
                if json {
                    rows.push(json!({"server": s.name(), "error": e.to_string()}));
                } else {
                    eprintln!("{sy}{e}{s0}");
                }
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for r in &rows {
            if r.get("error").is_some() {
                continue;
            }
            let desc = r["description"].as_str().unwrap_or("");
            let first = desc.lines().next().unwrap_or("");
            println!("{sb}{}{s0}\n  {first}", r["name"].as_str().unwrap_or(""));
        }
    }
    Ok(if failed && only.is_some() { 1 } else { 0 })
}

async fn call(app: &App, name: &str, tool: &str, args: &str) -> Result<i32> {
    let s = server(app, name)?;
    usable(s)?;
    let args: Value =
        serde_json::from_str(args).with_context(|| format!("arguments are not valid JSON: {args}"))?;
    if !args.is_object() {
        bail!("arguments must be a JSON object, got {args}");
    }
    let tool = tool.strip_prefix(&format!("{name}__")).unwrap_or(tool);
    match s.call(tool, args, &Default::default()).await {
        Ok(out) => {
            let mut v = json!({ "result": out.response });
            if !out.artifacts.is_empty() {
                v["artifacts"] = json!(out
                    .artifacts
                    .iter()
                    .map(|a| json!({"name": a.display_name, "mimeType": a.mime_type, "base64Bytes": a.data.len()}))
                    .collect::<Vec<_>>());
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(0)
        }
        Err(e) => {
            println!("{}", serde_json::to_string_pretty(&json!({ "error": e.to_string() }))?);
            Ok(1)
        }
    }
}

async fn test(app: &App, name: &str) -> Result<i32> {
    let s = server(app, name)?;
    usable(s)?;
    let t = Instant::now();
    let tools = match app.mcp.tools(s).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("FAIL {name}: {e}");
            return Ok(1);
        }
    };
    let connect_ms = t.elapsed().as_secs_f64() * 1000.0;
    let health = s.health().await;
    println!("{name}: {}", s.config().transport_label());
    println!("  connected and listed {} tools in {connect_ms:.0} ms", tools.len());
    match health {
        Ok(d) => {
            println!("  health: tools/list round trip {:.1} ms", d.as_secs_f64() * 1000.0);
            println!("OK");
            Ok(0)
        }
        Err(e) => {
            println!("FAIL health check: {e}");
            Ok(1)
        }
    }
}
