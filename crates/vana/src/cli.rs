//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// VANA: a self-hosted multi-agent AI platform.
#[derive(Parser, Debug)]
#[command(name = "vana", version, about)]
pub struct Cli {
    /// Config file (default: ./vana.toml, then the user config dir).
    #[arg(long, global = true, env = "VANA_CONFIG")]
    pub config: Option<PathBuf>,
    /// User id that owns the sessions.
    #[arg(long, global = true, env = "VANA_USER")]
    pub user: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Give one task to an agent; events stream to the terminal.
    Run(RunArgs),
    /// Run code in the sandbox directly and print its output and resource use.
    Exec(crate::cmd_exec::ExecArgs),
    /// Chat with an agent on one session (type /exit to leave, /new for a new session).
    Chat(ChatArgs),
    /// Approve (or with --deny, refuse) a tool call that waits for a human.
    Approve {
        /// Session id.
        session: String,
        /// Function call id from the approval request.
        call_id: String,
        /// Refuse instead of approving.
        #[arg(long)]
        deny: bool,
        /// Agent (app) that owns the session.
        #[arg(long)]
        agent: Option<String>,
        /// Print events as JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// The agent catalog.
    Agents {
        /// What to do with agents.
        #[command(subcommand)]
        command: AgentsCommand,
    },
    /// Stored sessions.
    Sessions {
        /// What to do with sessions.
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Tools.
    Tools {
        /// What to do with tools.
        #[command(subcommand)]
        command: ToolsCommand,
    },
    /// Serve the HTTP API and web UI.
    Serve(crate::cmd_server::ServeArgs),
    /// API keys of the HTTP server.
    Keys {
        /// What to do with keys.
        #[command(subcommand)]
        command: crate::cmd_server::KeysCommand,
    },
    /// The audit log.
    Audit {
        /// What to do with the audit log.
        #[command(subcommand)]
        command: crate::cmd_server::AuditCommand,
    },
    /// Configuration.
    Config {
        /// What to do with the config.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Evaluations of VANA's components (e.g. the semantic router's accuracy).
    Eval {
        /// What to evaluate.
        #[command(subcommand)]
        command: crate::cmd_eval::EvalCommand,
    },
    /// The local search index of the research tools (`web_search` without a provider).
    Index {
        /// What to do with the index.
        #[command(subcommand)]
        command: crate::cmd_index::IndexCommand,
    },
    /// MCP servers VANA uses, and VANA as an MCP server.
    Mcp {
        /// What to do.
        #[command(subcommand)]
        command: crate::cmd_mcp::McpCommand,
    },
}

/// Options shared by `run` and `chat`.
#[derive(Args, Debug, Clone)]
pub struct AgentOpts {
    /// Send the task straight to this agent instead of the orchestrator.
    #[arg(long, short)]
    pub agent: Option<String>,
    /// Continue this session instead of starting a new one.
    #[arg(long, short)]
    pub session: Option<String>,
    /// Model for agents that name none (overrides models.default_model).
    #[arg(long, short)]
    pub model: Option<String>,
    /// Do not stream tokens; print whole messages.
    #[arg(long)]
    pub no_stream: bool,
    /// Print events as JSON lines (ADK Event JSON).
    #[arg(long)]
    pub json: bool,
}

/// `vana run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Agent and session options.
    #[command(flatten)]
    pub opts: AgentOpts,
    /// The task.
    #[arg(required = true, trailing_var_arg = true)]
    pub prompt: Vec<String>,
}

/// `vana chat`.
#[derive(Args, Debug)]
pub struct ChatArgs {
    /// Agent and session options.
    #[command(flatten)]
    pub opts: AgentOpts,
}

/// `vana agents ...`.
#[derive(Subcommand, Debug)]
pub enum AgentsCommand {
    /// Every agent with its description, tools and missing tools.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `vana sessions ...`.
#[derive(Subcommand, Debug)]
pub enum SessionsCommand {
    /// The user's sessions, newest first.
    List {
        /// Only sessions of this agent (app).
        #[arg(long)]
        agent: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A session's events and usage.
    Show {
        /// Session id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Deletes a session and its events.
    Delete {
        /// Session id.
        id: String,
    },
}

/// `vana tools ...`.
#[derive(Subcommand, Debug)]
pub enum ToolsCommand {
    /// Every tool with its agents and JSON schema.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Runs one tool directly (no model) and prints its result as JSON.
    Call {
        /// Tool name.
        tool: String,
        /// Arguments as a JSON object.
        #[arg(default_value = "{}")]
        args: String,
        /// Session whose workspace the tool uses.
        #[arg(long)]
        session: Option<String>,
    },
}

/// `vana config ...`.
#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// The effective configuration, secrets masked.
    Show,
}
