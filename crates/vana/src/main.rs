//! `vana`: the command-line face of VANA.

mod attach;
mod cli;
mod cmd_eval;
mod cmd_exec;
mod cmd_index;
mod cmd_mcp;
mod cmd_server;
mod render;
mod style;

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use cli::{AgentOpts, AgentsCommand, Cli, Command, ConfigCommand, SessionsCommand, ToolsCommand};
use render::{exit_code, Renderer};
use serde_json::{json, Value};
use std::io::BufRead;
use vana_app::{App, Config};
use vana_core::{Content, EventWindow, Invocation, Outcome, Runner, ToolContext};

/// mimalloc instead of glibc's malloc: a server run allocates and frees many small objects
/// across threads, where glibc spent ~20% of the CPU of a `/run` (arena locks, consolidation).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // A listing behaves like other CLI tools when piped into `head`: it dies quietly on a closed
    // pipe. Commands that run agents keep SIGPIPE ignored: a write to an MCP server or tool
    // process that just exited must be an error they report, not the death of `vana serve`.
    #[cfg(unix)]
    if !matches!(
        cli.command,
        Command::Serve(_)
            | Command::Run(_)
            | Command::Exec(_)
            | Command::Chat(_)
            | Command::Approve { .. }
            | Command::Eval { .. }
            | Command::Mcp { .. }
            | Command::Tools { .. }
    ) {
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match dispatch(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}

fn user_id(cli_user: &Option<String>) -> String {
    cli_user
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "local".into())
}

async fn open_app(cli: &Cli, model: Option<&str>) -> Result<App> {
    let loaded = Config::load(cli.config.as_deref())?;
    let mut config = loaded.config;
    if let Some(m) = model {
        config.models.default_model = m.to_string();
    }
    Ok(App::open(config).await?)
}

async fn dispatch(cli: Cli) -> Result<i32> {
    let crate::style::Codes { s0, sd, .. } = crate::style::codes();
    let user = user_id(&cli.user);
    match &cli.command {
        Command::Run(args) => {
            let app = open_app(&cli, args.opts.model.as_deref()).await?;
            let prompt = args.prompt.join(" ");
            let (runner, session) = runner_and_session(&app, &args.opts, &user).await?;
            let prompt = attach::attach_files(&app, &session, &prompt)?;
            let inv = runner.run(&user, &session, Content::user_text(prompt), !args.opts.no_stream).await?;
            let code = render_invocation(inv, args.opts.json).await;
            if !args.opts.json {
                eprintln!("{sd}session {session} (continue with --session {session}){s0}");
            }
            Ok(code)
        }
        Command::Serve(args) => cmd_server::serve(open_app(&cli, None).await?, args).await,
        Command::Keys { command } => cmd_server::keys(open_app(&cli, None).await?, command).await,
        Command::Audit { command } => {
            cmd_server::audit(open_app(&cli, None).await?, command, cli.user.clone()).await
        }
        Command::Mcp { command } => cmd_mcp::run(open_app(&cli, None).await?, command, &user).await,
        Command::Eval { command } => cmd_eval::run(open_app(&cli, None).await?, command).await,
        Command::Index { command } => {
            cmd_index::run(&Config::load(cli.config.as_deref())?.config, command).await
        }
        Command::Exec(args) => cmd_exec::run(cli.config.as_deref(), args).await,
        Command::Chat(args) => chat(&cli, &args.opts, &user).await,
        Command::Approve { session, call_id, deny, agent, json } => {
            let app = open_app(&cli, None).await?;
            let runner = app.runner(Some(&app_of_session(&app, &user, session, agent.as_deref()).await?))?;
            match runner.approve(&user, session, call_id, !deny).await? {
                Some(inv) => Ok(render_invocation(inv, *json).await),
                None => {
                    println!("decision recorded; other tool calls of this pause still wait for a decision");
                    Ok(0)
                }
            }
        }
        Command::Agents { command: AgentsCommand::List { json } } => {
            let app = open_app(&cli, None).await?;
            agents_list(&app, *json);
            Ok(0)
        }
        Command::Sessions { command } => {
            let app = open_app(&cli, None).await?;
            sessions(&app, &user, command).await
        }
        Command::Tools { command } => {
            let app = open_app(&cli, None).await?;
            tools(&app, &user, command).await
        }
        Command::Config { command: ConfigCommand::Show } => {
            let loaded = Config::load(cli.config.as_deref())?;
            match &loaded.file {
                Some(p) => println!("# file: {}", p.display()),
                None => println!("# file: none (built-in defaults)"),
            }
            for o in &loaded.overrides {
                println!("# overridden by environment: {o}");
            }
            println!("# data dir: {}", vana_app::config::data_dir().display());
            println!("# models dir: {}", vana_app::config::models_dir().display());
            let models = vana_app::models::describe(&loaded.config)?;
            println!("# default model: {}", models.default_model);
            for status in &models.providers {
                println!("# provider {status}");
            }
            println!("{}", loaded.config.to_masked_toml());
            Ok(0)
        }
    }
}

/// The runner for the chosen agent and the session to use (created when not given).
async fn runner_and_session(app: &App, opts: &AgentOpts, user: &str) -> Result<(Runner, String)> {
    app.connect_mcp(opts.agent.as_deref()).await;
    let runner = match &opts.session {
        Some(s) if opts.agent.is_none() => app.runner(Some(&app_of_session(app, user, s, None).await?))?,
        _ => app.runner(opts.agent.as_deref())?,
    };
    let session = match &opts.session {
        Some(s) => s.clone(),
        None => runner.create_session(user).await?.id,
    };
    Ok((runner, session))
}

/// The app (root agent) a session belongs to.
async fn app_of_session(app: &App, user: &str, session: &str, hint: Option<&str>) -> Result<String> {
    if let Some(h) = hint {
        return Ok(h.to_string());
    }
    let all = app.store.list_sessions(None, user).await?;
    all.into_iter()
        .find(|s| s.id == session)
        .map(|s| s.app_name)
        .ok_or_else(|| anyhow!("session {session} not found for user {user} (see `vana sessions list`)"))
}

async fn render_invocation(mut inv: Invocation, json: bool) -> i32 {
    let crate::style::Codes { s0, sy, .. } = crate::style::codes();
    let mut r = Renderer::new(json);
    while let Some(e) = inv.next().await {
        r.event(&e);
    }
    r.finish();
    let outcome = inv.outcome().await;
    if outcome == Outcome::Paused && !json {
        eprintln!("{sy}the run is paused until you decide:{s0}");
        for (id, hint) in &r.approvals {
            eprintln!("  {hint}\n  approve: vana approve <session> {id}    deny: vana approve <session> {id} --deny");
        }
    }
    exit_code(&outcome, r.failed)
}

async fn chat(cli: &Cli, opts: &AgentOpts, user: &str) -> Result<i32> {
    let crate::style::Codes { sb, s0, .. } = crate::style::codes();
    let app = open_app(cli, opts.model.as_deref()).await?;
    let (runner, mut session) = runner_and_session(&app, opts, user).await?;
    eprintln!(
        "chatting with `{}` on session {session}; /new starts a new session, /exit leaves",
        runner.app_name()
    );
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        eprint!("{sb}you>{s0} ");
        let Some(line) = lines.next() else { break };
        let line = line?;
        let line = line.trim();
        match line {
            "" => continue,
            "/exit" | "/quit" => break,
            "/new" => {
                session = runner.create_session(user).await?.id;
                eprintln!("new session {session}");
                continue;
            }
            _ => {}
        }
        let line = attach::attach_files(&app, &session, line)?;
        let inv = runner.run(user, &session, Content::user_text(line), !opts.no_stream).await?;
        render_invocation(inv, opts.json).await;
    }
    eprintln!("session {session} saved (continue with `vana chat --session {session}`)");
    Ok(0)
}

fn agents_list(app: &App, json: bool) {
    let crate::style::Codes { sb, s0, sy, .. } = crate::style::codes();
    let mcp_tools = app.mcp_tools();
    let rows: Vec<Value> = app
        .catalog
        .specs()
        .map(|(spec, source)| {
            let availability = app.catalog.availability(&spec.name, &app.tools, &mcp_tools);
            json!({
                "name": spec.name,
                "description": spec.description,
                "kind": spec.kind,
                "model": spec.model.clone().unwrap_or_else(|| app.config.models.default_model.clone()),
                "tools": spec.tools,
                "missingTools": availability.missing,
                "available": !availability.none_available(),
                "mcpServers": spec.mcp_servers,
                "subAgents": spec.sub_agents,
                "source": source.to_string(),
            })
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
        return;
    }
    for r in rows {
        println!(
            "{sb}{}{s0}  ({})\n  {}",
            r["name"].as_str().unwrap_or(""),
            r["model"].as_str().unwrap_or(""),
            r["description"].as_str().unwrap_or("")
        );
        let list = |v: &Value| {
            v.as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "))
                .unwrap_or_default()
        };
        let tools = list(&r["tools"]);
        if !tools.is_empty() {
            println!("  tools: {tools}");
        }
        let missing = list(&r["missingTools"]);
        if r["available"] == false {
            println!(
                "  {sy}unavailable: none of its tools is installed ({missing}); no task is handed to it{s0}"
            );
        } else if !missing.is_empty() {
            println!("  {sy}missing tools (not installed): {missing}{s0}");
        }
        let mcp = list(&r["mcpServers"]);
        if !mcp.is_empty() {
            println!("  mcp servers: {mcp}");
        }
        let subs = list(&r["subAgents"]);
        if !subs.is_empty() {
            println!("  delegates to: {subs}");
        }
    }
    println!("\n{sb}tool suites{s0}");
    for s in app.suite_reports() {
        let state = match (s.tools.is_empty(), s.status.is_ready()) {
            (true, _) => "no tools yet".to_string(),
            (false, true) => format!("ready ({} tools)", s.tools.len()),
            (false, false) => format!("{sy}needs setup{s0} ({} tools)", s.tools.len()),
        };
        println!("  {}: {state} - {}", s.name, s.description);
        for m in &s.status.missing {
            println!("    {sy}needs {}: {}{s0}", m.what, m.fix);
        }
    }
}

async fn sessions(app: &App, user: &str, command: &SessionsCommand) -> Result<i32> {
    let crate::style::Codes { sb, s0, .. } = crate::style::codes();
    match command {
        SessionsCommand::List { agent, json } => {
            let list = app.store.list_sessions(agent.as_deref(), user).await?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("no sessions for user {user}");
            } else {
                for s in list {
                    println!(
                        "{}  {:<22} {:>4} events  updated {}",
                        s.id,
                        s.app_name,
                        s.version,
                        fmt_time(s.last_update_time)
                    );
                }
            }
            Ok(0)
        }
        SessionsCommand::Show { id, json } => {
            let app_name = app_of_session(app, user, id, None).await?;
            let s = app
                .store
                .get_session(&app_name, user, id, EventWindow::All)
                .await?
                .ok_or_else(|| anyhow!("session {id} not found"))?;
            let usage = vana_core::ledger::rollup(&s.events);
            if *json {
                println!("{}", serde_json::to_string_pretty(&json!({"session": s, "usage": usage}))?);
                return Ok(0);
            }
            println!("session {} of `{}` for {}: {} events", s.id, s.app_name, s.user_id, s.version);
            if !s.state.is_empty() {
                println!("state: {}", Value::Object(s.state.clone()));
            }
            let mut r = Renderer::new(false);
            for e in &s.events {
                if e.author == "user" {
                    println!("{sb}[user]{s0} {}", e.text());
                }
                r.event(e);
            }
            let t = usage.total;
            println!(
                "usage: {} tokens ({} in, {} out), {} model calls ({:.0} ms), {} tool calls ({:.0} ms), {} errors",
                t.total_tokens, t.prompt_tokens, t.completion_tokens, t.model_calls, t.model_ms, t.tool_calls, t.tool_ms, t.errors
            );
            for (agent, u) in &usage.by_agent {
                if agent != "user" {
                    println!(
                        "  {agent}: {} tokens, {} model calls, {} tool calls",
                        u.total_tokens, u.model_calls, u.tool_calls
                    );
                }
            }
            Ok(0)
        }
        SessionsCommand::Delete { id } => {
            let app_name = app_of_session(app, user, id, None).await?;
            if app.delete_session(&app_name, user, id).await? {
                println!("deleted session {id}");
                Ok(0)
            } else {
                bail!("session {id} not found")
            }
        }
    }
}

async fn tools(app: &App, user: &str, command: &ToolsCommand) -> Result<i32> {
    let crate::style::Codes { sb, s0, .. } = crate::style::codes();
    match command {
        ToolsCommand::List { json } => {
            let rows: Vec<Value> = app
                .tools
                .all()
                .map(|t| {
                    let agents: Vec<&str> = app
                        .catalog
                        .specs()
                        .filter(|(s, _)| s.tools.iter().any(|n| n == t.name()))
                        .map(|(s, _)| s.name.as_str())
                        .collect();
                    json!({
                        "name": t.name(),
                        "description": t.description(),
                        "agents": agents,
                        "requiresConfirmation": t.requires_confirmation(),
                        "parameters": t.parameters(),
                    })
                })
                .collect();
            if *json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("no tools are registered in this build");
            } else {
                for r in rows {
                    println!(
                        "{sb}{}{s0}  agents: {}\n  {}\n  schema: {}",
                        r["name"].as_str().unwrap_or(""),
                        r["agents"],
                        r["description"].as_str().unwrap_or(""),
                        r["parameters"]
                    );
                }
            }
            Ok(0)
        }
        ToolsCommand::Call { tool, args, session } => {
            let t = app.tools.get(tool).ok_or_else(|| {
                let names: Vec<&str> = app.tools.all().map(|t| t.name()).collect();
                anyhow!(
                    "unknown tool '{tool}'; available: {}",
                    if names.is_empty() { "none".into() } else { names.join(", ") }
                )
            })?;
            let args: Value = serde_json::from_str(args)
                .with_context(|| format!("arguments are not valid JSON: {args}"))?;
            if !args.is_object() {
                bail!("arguments must be a JSON object, got {args}");
            }
            let session = session.clone().unwrap_or_else(|| "cli".into());
            let ctx = ToolContext::standalone("cli", user, &session);
            match t.call(args, ctx).await {
                Ok(out) => {
                    let mut v = json!({ "result": out.response });
                    if !out.artifacts.is_empty() {
                        v["artifacts"] = json!(out.artifacts.iter().map(|a| json!({"name": a.display_name, "mimeType": a.mime_type, "base64Bytes": a.data.len()})).collect::<Vec<_>>());
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
    }
}

fn fmt_time(secs: f64) -> String {
    let s = secs as i64;
    let (days, rem) = (s.div_euclid(86_400), s.rem_euclid(86_400));
    let date = vana_core::civil::format_date(days);
    format!("{date} {:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
