//! `vana serve`, `vana keys ...` and `vana audit search`: the HTTP server and its records.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use vana_app::records::AuditQuery;
use vana_app::App;
use vana_core::event::now_secs;

/// `vana serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (default: server.bind, 127.0.0.1:8080).
    #[arg(long)]
    pub bind: Option<String>,
    /// Run without API keys (only on a loopback address); user ids come from the requests.
    #[arg(long)]
    pub no_auth: bool,
}

/// `vana keys ...`.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Creates an API key and prints it once (only its argon2 hash is stored).
    Create {
        /// Key name (unique among active keys).
        name: String,
        /// User id the key acts as (default: the name).
        #[arg(long = "as-user")]
        as_user: Option<String>,
    },
    /// Lists keys (never the keys themselves).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revokes a key by name or id.
    Revoke {
        /// Key name or id.
        name: String,
    },
}

/// `vana audit ...`.
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Searches the audit log, newest first.
    Search {
        /// Full-text terms (all must match, as word prefixes).
        query: Option<String>,
        /// Only this agent.
        #[arg(long)]
        agent: Option<String>,
        /// Only this kind (run, tool_call, route, sandbox, mcp_call, approval, login, auth_failure, alert).
        #[arg(long)]
        kind: Option<String>,
        /// Not before: epoch seconds, YYYY-MM-DD[THH:MM[:SS]] (UTC) or a duration ago (2h).
        #[arg(long)]
        from: Option<String>,
        /// Not after (same forms).
        #[arg(long)]
        to: Option<String>,
        /// Most records.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `vana serve`.
pub async fn serve(app: App, args: &ServeArgs) -> Result<i32> {
    let bind = args.bind.clone().unwrap_or_else(|| app.config.server.bind.clone());
    let addr: std::net::SocketAddr =
        bind.parse().with_context(|| format!("--bind {bind:?} is not an address like 127.0.0.1:8080"))?;
    if args.no_auth && !addr.ip().is_loopback() {
        bail!(vana_server::ServerError::NoAuthOnPublicBind(addr));
    }
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    // VANA's MCP server is mounted at /mcp and MCP client health feeds the dashboard by
    // default (see vana_server::ServerOptions).
    let options = vana_server::ServerOptions { no_auth: args.no_auth, ..Default::default() };
    // One write: the address line first (scripts read it), then what works and what needs a
    // key or an install.
    let head = format!(
        "vana serving on http://{local} ({}); UI at http://{local}/, API docs at http://{local}/docs\n",
        if args.no_auth { "no authentication" } else { "API keys required: `vana keys create NAME`" }
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr(), (head + &startup_report(&app)).as_bytes());
    vana_server::serve(app, listener, options).await?;
    Ok(0)
}

/// What works at start and what needs a key or an install: the default model and the
/// providers' keys, the tool suites, and the MCP servers by state (each with its one step).
pub fn startup_report(app: &App) -> String {
    let mut out = String::new();
    let default = app.models.default_model();
    let providers = app.models.describe();
    let with_key: Vec<&str> = providers
        .iter()
        .filter(|p| p.key_present && !p.api_key_env.is_empty())
        .map(|p| p.provider.as_str())
        .collect();
    let keyless: Vec<String> = providers
        .iter()
        .filter(|p| !p.key_present && !p.api_key_env.is_empty())
        .filter_map(|p| p.api_key_env.first().cloned())
        .collect();
    out.push_str(&format!("models: default `{default}`"));
    if default.starts_with("local") {
        out.push_str(" (embedded, no key needed; its files are provisioned on first use)");
    }
    if !with_key.is_empty() {
        out.push_str(&format!("; keys set for {}", with_key.join(", ")));
    }
    out.push('\n');
    if !keyless.is_empty() {
        out.push_str(&format!("  provider models need a key: set {}\n", keyless.join(", ")));
    }
    let (ready, missing): (Vec<_>, Vec<_>) = app.suite_reports().iter().partition(|r| r.status.is_ready());
    out.push_str(&format!(
        "tool suites: {} ready ({})\n",
        ready.len(),
        ready.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
    ));
    for r in missing {
        for m in &r.status.missing {
            out.push_str(&format!("  {} lacks {}: {}\n", r.name, m.what, m.fix));
        }
    }
    let rows = app.mcp.status();
    let by = |state: &str| rows.iter().filter(|r| r.state == state).collect::<Vec<_>>();
    let names =
        |v: &[&vana_mcp::ServerStatus]| v.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ");
    let ready: Vec<_> = rows.iter().filter(|r| matches!(r.state.as_str(), "ready" | "connected")).collect();
    out.push_str(&format!("MCP servers: {} ready ({})\n", ready.len(), names(&ready)));
    let not_installed = by("not_installed");
    if !not_installed.is_empty() {
        out.push_str(&format!(
            "  {} not installed ({}): installed on first use, or now with `vana mcp install`\n",
            not_installed.len(),
            names(&not_installed)
        ));
    }
    let keyed = by("needs_key");
    if !keyed.is_empty() {
        let each: Vec<String> =
            keyed.iter().map(|r| format!("{} ({})", r.name, r.missing_env.join(", "))).collect();
        out.push_str(&format!("  {} need a key: set {}\n", keyed.len(), each.join(", ")));
    }
    for state in ["disabled", "untrusted"] {
        let v = by(state);
        if !v.is_empty() {
            out.push_str(&format!(
                "  {} {state} ({}): `vana mcp list` says how to enable them\n",
                v.len(),
                names(&v)
            ));
        }
    }
    out
}

/// Runs `vana keys ...`.
pub async fn keys(app: App, command: &KeysCommand) -> Result<i32> {
    let store = app.stores.keys.clone();
    match command {
        KeysCommand::Create { name, as_user } => {
            let created = vana_server::create_key(store.as_ref(), name, as_user.as_deref()).await?;
            println!("{}", created.key);
            eprintln!(
                "key {} (id {}) acts as user {}; it is shown only now: store it safely",
                created.record.name, created.record.id, created.record.user_id
            );
        }
        KeysCommand::List { json } => {
            for k in store.key_list().await? {
                if *json {
                    let mut v = serde_json::to_value(&k)?;
                    v.as_object_mut().map(|o| o.remove("hash"));
                    println!("{v}");
                } else {
                    let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                    println!("{:<20} id {}  user {:<16} {state}", k.name, k.id, k.user_id);
                }
            }
        }
        KeysCommand::Revoke { name } => {
            if !store.key_revoke(name).await? {
                bail!("no active key named {name:?}; `vana keys list` shows the keys");
            }
            println!("revoked {name}");
        }
    }
    Ok(0)
}

/// Runs `vana audit search`.
/// `user` is the global `--user` (or `VANA_USER`): only that user's records when given.
pub async fn audit(app: App, command: &AuditCommand, user: Option<String>) -> Result<i32> {
    let AuditCommand::Search { query, agent, kind, from, to, limit, json } = command;
    let now = now_secs();
    let time = |v: &Option<String>| {
        v.as_deref()
            .map(|s| vana_server::timeparse::parse_time(s, now))
            .transpose()
            .map_err(anyhow::Error::msg)
    };
    let q = AuditQuery {
        q: query.clone(),
        kind: kind.clone(),
        agent: agent.clone(),
        user,
        session: None,
        from: time(from)?,
        to: time(to)?,
        limit: *limit,
    };
    let records = app.stores.audit.audit_search(&q).await?;
    for r in &records {
        if *json {
            println!("{}", serde_json::to_string(r)?);
        } else {
            println!(
                "{:.3}  {:<12} user={} agent={} session={}  {}",
                r.time, r.kind, r.user_id, r.agent, r.session_id, r.summary
            );
        }
    }
    if records.is_empty() && !*json {
        eprintln!("no audit records match");
    }
    Ok(0)
}
