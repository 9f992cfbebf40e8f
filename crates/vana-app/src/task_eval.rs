//! `vana eval tasks`: whether the agents get tasks done, measured on a task set (the shipped
//! `eval/tasks.yaml` by default) with any model: the agents' own (the local default without a
//! key), a model string, or the scripted model (each task carries its scripted turns).
//!
//! Each task names an agent, a request, optional workspace files and setup code, and a checkable
//! outcome: values that must appear in the final reply, a workspace file with given content,
//! rows a SQL query over a SQLite file of the workspace must return. A task runs in a fresh
//! session straight at its agent (routing is measured by `vana eval routing`), with the real
//! tools and sandbox; the report gives success, median time and tokens per agent.

use crate::App;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vana_core::{Content, Event, Model, ModelError, ModelResolver, Runner};
use vana_sandbox::ExecutionRequest;
use vana_scripted::{ScriptedModel, ScriptedTurn};

/// The task set shipped in the repository.
const TASK_SET: &str = include_str!("../../../eval/tasks.yaml");

/// The model string that selects each task's scripted turns.
pub const SCRIPTED: &str = "scripted";

/// A task set: `tasks: [...]` (other top-level keys hold YAML anchors the tasks share).
#[derive(Debug, Clone, Deserialize)]
pub struct TaskSet {
    /// The tasks.
    pub tasks: Vec<Task>,
}

/// One task.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// Unique id.
    pub id: String,
    /// The agent that gets the request.
    pub agent: String,
    /// The user's request.
    pub request: String,
    /// The tools a correct run uses (one: a single-tool task).
    pub tools: Vec<String>,
    /// Files put in the session workspace first: name → content.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Python run in the session's sandbox first (e.g. to create a SQLite database).
    #[serde(default)]
    pub setup: Option<String>,
    /// What a successful run leaves.
    pub expect: Expect,
    /// The scripted model's turns for this task.
    pub script: Vec<ScriptedTurn>,
    /// Part of the subset CI runs with the local default model.
    #[serde(default)]
    pub ci: bool,
}

impl Task {
    /// True for a task one tool call completes.
    pub fn single_tool(&self) -> bool {
        self.tools.len() == 1
    }
}

/// A task's checkable outcome; every part given must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Each must appear in the final reply (case-insensitive).
    #[serde(default)]
    pub reply_contains: Vec<String>,
    /// At least one of these must appear in the final reply (case-insensitive).
    #[serde(default)]
    pub reply_contains_any: Vec<String>,
    /// A workspace file and text its content must contain.
    #[serde(default)]
    pub file: Option<FileExpect>,
    /// A query over a SQLite file of the workspace and the rows it must return.
    #[serde(default)]
    pub sql: Option<SqlExpect>,
}

/// A file the run must leave in the workspace.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileExpect {
    /// Path in the workspace.
    pub path: String,
    /// Text the file must contain.
    pub contains: String,
}

/// Rows the run must leave in a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqlExpect {
    /// The SQLite file in the workspace.
    pub database: String,
    /// A SELECT.
    pub query: String,
    /// The rows it must return, as JSON arrays.
    pub rows: Vec<Vec<Value>>,
}

impl TaskSet {
    /// The shipped set.
    pub fn shipped() -> Result<TaskSet, EvalError> {
        TaskSet::from_yaml(TASK_SET).map_err(|e| EvalError::Shipped(e.to_string()))
    }

    /// Parses and checks a set: unique ids, every task with a request, tools, an outcome and a
    /// script.
    pub fn from_yaml(text: &str) -> Result<TaskSet, EvalError> {
        let set: TaskSet = serde_yaml::from_str(text).map_err(|e| EvalError::Set(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for t in &set.tasks {
            let bad = |what: &str| EvalError::Set(format!("task `{}`: {what}", t.id));
            if !seen.insert(t.id.as_str()) {
                return Err(bad("the id is used twice"));
            }
            if t.request.trim().is_empty() || t.tools.is_empty() || t.script.is_empty() {
                return Err(bad("needs a request, its tools and a script"));
            }
            let e = &t.expect;
            if e.reply_contains.is_empty()
                && e.reply_contains_any.is_empty()
                && e.file.is_none()
                && e.sql.is_none()
            {
                return Err(bad("expects nothing checkable"));
            }
        }
        Ok(set)
    }

    /// The agents the set covers, sorted.
    pub fn agents(&self) -> Vec<&str> {
        let mut a: Vec<&str> = self.tasks.iter().map(|t| t.agent.as_str()).collect();
        a.sort();
        a.dedup();
        a
    }
}

/// Why the task evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The task set does not parse or is inconsistent.
    #[error("task set: {0}")]
    Set(String),
    /// The shipped task set does not parse (a build defect).
    #[error("the shipped eval/tasks.yaml: {0}")]
    Shipped(String),
    /// The model cannot be used.
    #[error("model: {0}")]
    Model(ModelError),
    /// A filter matched no task.
    #[error("no task matches {0}")]
    NoTasks(String),
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The model string for every agent: `None` the agents' own (the configured default),
    /// [`SCRIPTED`] each task's scripted turns.
    pub model: Option<String>,
    /// Only these agents (all when empty).
    pub agents: Vec<String>,
    /// Only these task ids (all when empty).
    pub tasks: Vec<String>,
    /// Only the tasks marked `ci`.
    pub ci_only: bool,
    /// Time limit of one task (default 300 s).
    pub timeout: Option<Duration>,
}

/// One task's run.
#[derive(Debug, Clone)]
pub struct TaskResult {
    /// Task id.
    pub id: String,
    /// Agent.
    pub agent: String,
    /// A single-tool task.
    pub single_tool: bool,
    /// The outcome held.
    pub success: bool,
    /// Why not, when it did not.
    pub failure: Option<String>,
    /// Wall time of the run (setup and checks excluded).
    pub time: Duration,
    /// Tokens the model used (prompt and generated).
    pub tokens: u64,
    /// Model calls.
    pub model_calls: usize,
    /// The tools called, in order.
    pub calls: Vec<String>,
    /// The errors tools answered with (`tool: message`).
    pub tool_errors: Vec<String>,
    /// The final reply.
    pub reply: String,
}

/// The results of a task evaluation.
#[derive(Debug, Clone)]
pub struct TaskReport {
    /// The model string used (`agents' own` when none was given).
    pub model: String,
    /// Every task's result, in set order.
    pub results: Vec<TaskResult>,
}

/// Success, median time and tokens of a group of tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Tasks.
    pub tasks: usize,
    /// Successful tasks.
    pub passed: usize,
    /// Single-tool tasks.
    pub single: usize,
    /// Successful single-tool tasks.
    pub single_passed: usize,
    /// Median wall time.
    pub median_time: Duration,
    /// Median tokens.
    pub median_tokens: u64,
}

impl Summary {
    fn of<'a>(results: impl IntoIterator<Item = &'a TaskResult>) -> Summary {
        let results: Vec<&TaskResult> = results.into_iter().collect();
        let mut times: Vec<Duration> = results.iter().map(|r| r.time).collect();
        times.sort();
        let mut tokens: Vec<u64> = results.iter().map(|r| r.tokens).collect();
        tokens.sort();
        Summary {
            tasks: results.len(),
            passed: results.iter().filter(|r| r.success).count(),
            single: results.iter().filter(|r| r.single_tool).count(),
            single_passed: results.iter().filter(|r| r.single_tool && r.success).count(),
            median_time: times.get(times.len() / 2).copied().unwrap_or_default(),
            median_tokens: tokens.get(tokens.len() / 2).copied().unwrap_or_default(),
        }
    }

    /// Fraction of tasks that succeeded (1 for none).
    pub fn success(&self) -> f64 {
        if self.tasks == 0 {
            1.0
        } else {
            self.passed as f64 / self.tasks as f64
        }
    }
}

impl TaskReport {
    /// The summary per agent, by agent name.
    pub fn by_agent(&self) -> BTreeMap<String, Summary> {
        let mut names: Vec<&str> = self.results.iter().map(|r| r.agent.as_str()).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|a| (a.to_string(), Summary::of(self.results.iter().filter(|r| r.agent == a))))
            .collect()
    }

    /// The summary over every task.
    pub fn overall(&self) -> Summary {
        Summary::of(&self.results)
    }

    /// Fraction of all tasks that succeeded.
    pub fn success(&self) -> f64 {
        self.overall().success()
    }
}

fn pct(n: usize, of: usize) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{:.0}% ({n}/{of})", 100.0 * n as f64 / of as f64)
    }
}

impl fmt::Display for TaskReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "task evaluation, model: {}", self.model)?;
        writeln!(
            f,
            "{:<20} {:>6} {:>14} {:>18} {:>12} {:>14}",
            "agent", "tasks", "success", "single-tool", "median time", "median tokens"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, s: &Summary| {
            writeln!(
                f,
                "{:<20} {:>6} {:>14} {:>18} {:>11.1}s {:>14}",
                name,
                s.tasks,
                pct(s.passed, s.tasks),
                pct(s.single_passed, s.single),
                s.median_time.as_secs_f64(),
                s.median_tokens
            )
        };
        for (agent, s) in self.by_agent() {
            row(f, &agent, &s)?;
        }
        row(f, "all", &self.overall())?;
        let failed: Vec<&TaskResult> = self.results.iter().filter(|r| !r.success).collect();
        if !failed.is_empty() {
            writeln!(f, "\nfailed:")?;
            for r in failed {
                let calls = if r.calls.is_empty() { "no tool".to_string() } else { r.calls.join(", ") };
                writeln!(
                    f,
                    "  {} ({}; {calls}): {}",
                    r.id,
                    r.agent,
                    r.failure.as_deref().unwrap_or("failed")
                )?;
            }
        }
        Ok(())
    }
}

/// Every agent gets the same model.
struct Fixed(Arc<dyn Model>);

impl ModelResolver for Fixed {
    fn resolve(&self, _model: &str) -> Result<Arc<dyn Model>, ModelError> {
        Ok(self.0.clone())
    }
    fn default_model(&self) -> String {
        self.0.name().to_string()
    }
}

/// Runs the tasks of `set` that `options` selects.
pub async fn run(app: &App, set: &TaskSet, options: &Options) -> Result<TaskReport, EvalError> {
    let tasks: Vec<&Task> = set
        .tasks
        .iter()
        .filter(|t| options.agents.is_empty() || options.agents.contains(&t.agent))
        .filter(|t| options.tasks.is_empty() || options.tasks.contains(&t.id))
        .filter(|t| !options.ci_only || t.ci)
        .collect();
    if tasks.is_empty() {
        return Err(EvalError::NoTasks(format!(
            "the filters (agents {:?}, tasks {:?}, ci only: {})",
            options.agents, options.tasks, options.ci_only
        )));
    }
    let fixed: Option<Arc<dyn Model>> = match options.model.as_deref() {
        None | Some(SCRIPTED) => None,
        Some(m) => Some(ModelResolver::resolve(app.models.as_ref(), m).map_err(EvalError::Model)?),
    };
    let model_label = match &options.model {
        None => app.models.default_model(),
        Some(m) => m.clone(),
    };
    let mut results = Vec::new();
    for task in tasks {
        let model = match (&fixed, options.model.as_deref()) {
            (Some(m), _) => Some(m.clone()),
            (None, Some(SCRIPTED)) => {
                Some(Arc::new(ScriptedModel::named(format!("scripted:{}", task.id), task.script.clone()))
                    as Arc<dyn Model>)
            }
            _ => None,
        };
        let strict = options.model.as_deref() == Some(SCRIPTED);
        let timeout = options.timeout.unwrap_or(Duration::from_secs(300));
        results.push(run_task(app, task, model, timeout, strict).await);
    }
    Ok(TaskReport { model: model_label, results })
}

/// The user id the evaluation's sessions belong to.
const USER: &str = "vana-eval";

/// Runs one task; `strict` (the scripted model) also fails a run in which a tool answered with
/// an error (a scripted call must be right).
async fn run_task(
    app: &App,
    task: &Task,
    model: Option<Arc<dyn Model>>,
    timeout: Duration,
    strict: bool,
) -> TaskResult {
    let mut result = TaskResult {
        id: task.id.clone(),
        agent: task.agent.clone(),
        single_tool: task.single_tool(),
        success: false,
        failure: None,
        time: Duration::ZERO,
        tokens: 0,
        model_calls: 0,
        calls: Vec::new(),
        tool_errors: Vec::new(),
        reply: String::new(),
    };
    let runner = match runner(app, &task.agent, model) {
        Ok(r) => r,
        Err(e) => {
            result.failure = Some(format!("cannot build agent {}: {e}", task.agent));
            return result;
        }
    };
    let session = match runner.create_session(USER).await {
        Ok(s) => s.id,
        Err(e) => {
            result.failure = Some(format!("cannot create a session: {e}"));
            return result;
        }
    };
    let mut outcome = run_in_session(app, task, &runner, &session, timeout, &mut result).await;
    if outcome.is_ok() && strict && !result.tool_errors.is_empty() {
        outcome = Err(format!("a scripted call failed: {}", result.tool_errors.join("; ")));
    }
    match outcome {
        Ok(()) => result.success = true,
        Err(why) => result.failure = Some(why),
    }
    let _ = app.delete_session(runner.app_name(), USER, &session).await;
    result
}

fn runner(app: &App, agent: &str, model: Option<Arc<dyn Model>>) -> Result<Runner, crate::AppError> {
    let mcp_tools = app.mcp_tools();
    let root = match model {
        Some(m) => app.catalog.build(agent, &app.tools, &mcp_tools, &Fixed(m))?,
        None => app.catalog.build(agent, &app.tools, &mcp_tools, app.models.as_ref())?,
    };
    Ok(Runner::new(root, app.store.clone())
        .with_config(app.config.run_config())
        .with_callback(Arc::new(app.tool_policy())))
}

async fn run_in_session(
    app: &App,
    task: &Task,
    runner: &Runner,
    session: &str,
    timeout: Duration,
    result: &mut TaskResult,
) -> Result<(), String> {
    for (name, content) in &task.files {
        app.sandbox
            .put_file(session, name, content.as_bytes())
            .map_err(|e| format!("setup: file {name}: {e}"))?;
    }
    if let Some(code) = &task.setup {
        let r = app
            .sandbox
            .run(ExecutionRequest::new("python", code).session(session))
            .await
            .map_err(|e| format!("setup: {e}"))?;
        if r.exit_code != Some(0) {
            return Err(format!("setup code failed: {}", r.stderr.trim()));
        }
    }
    let started = Instant::now();
    let invocation = runner
        .run(USER, session, Content::user_text(&task.request), false)
        .await
        .map_err(|e| format!("the run did not start: {e}"))?;
    let (events, _outcome) = match tokio::time::timeout(timeout, invocation.collect()).await {
        Ok(r) => r,
        Err(_) => return Err(format!("no answer within {}s", timeout.as_secs())),
    };
    result.time = started.elapsed();
    observe(&events, result);
    check(app, task, session, result).await
}

/// Tokens, model calls, tool calls and the final reply of a run's events.
fn observe(events: &[Event], result: &mut TaskResult) {
    for e in events.iter().filter(|e| !e.is_partial()) {
        if let Some(u) = &e.usage_metadata {
            result.tokens += u.total_token_count;
        }
        if e.content.as_ref().is_some_and(|c| c.role == "model") {
            result.model_calls += 1;
        }
        result.calls.extend(e.function_calls().iter().map(|c| c.name.clone()));
        for r in e.function_responses() {
            if let Some(err) = r.response.get("error").and_then(Value::as_str) {
                result.tool_errors.push(format!("{}: {err}", r.name));
            }
        }
        if e.author != "user" && e.is_final_response() {
            let text = e.text();
            if !text.trim().is_empty() {
                result.reply = text;
            }
        }
    }
    if let Some(e) = events.iter().rev().find(|e| e.is_error()) {
        if result.reply.is_empty() {
            result.reply = format!(
                "error {}: {}",
                e.error_code.as_deref().unwrap_or(""),
                e.error_message.as_deref().unwrap_or("")
            );
        }
    }
}

async fn check(app: &App, task: &Task, session: &str, result: &TaskResult) -> Result<(), String> {
    let reply = result.reply.to_lowercase();
    let short = |s: &str| s.chars().take(160).collect::<String>().replace('\n', " ");
    for want in &task.expect.reply_contains {
        if !reply.contains(&want.to_lowercase()) {
            return Err(format!("the reply lacks `{want}`: {:?}", short(&result.reply)));
        }
    }
    let any = &task.expect.reply_contains_any;
    if !any.is_empty() && !any.iter().any(|w| reply.contains(&w.to_lowercase())) {
        return Err(format!("the reply has none of {any:?}: {:?}", short(&result.reply)));
    }
    if let Some(f) = &task.expect.file {
        let ws = app
            .sandbox
            .workspaces()
            .open(session)
            .map_err(|e| format!("workspace: {e}"))?
            .ok_or_else(|| format!("no file {} (no workspace)", f.path))?;
        let data = ws.read(&f.path, 1 << 20).map_err(|e| format!("file {}: {e}", f.path))?;
        let text = String::from_utf8_lossy(&data);
        if !text.contains(&f.contains) {
            return Err(format!("file {} lacks `{}`: {:?}", f.path, f.contains, short(&text)));
        }
    }
    if let Some(q) = &task.expect.sql {
        let rows = sql_rows(app, session, q).await?;
        let want: Vec<Value> = q.rows.iter().map(|r| Value::Array(r.clone())).collect();
        if !same_rows(&rows, &want) {
            return Err(format!(
                "`{}` on {} returned {} instead of {}",
                q.query,
                q.database,
                Value::Array(rows),
                Value::Array(want)
            ));
        }
    }
    Ok(())
}

/// The rows of a query over a workspace SQLite file, read by Python's sqlite3 in the session's
/// sandbox (so the file is read where sandboxed code wrote it, never opened on the host).
async fn sql_rows(app: &App, session: &str, q: &SqlExpect) -> Result<Vec<Value>, String> {
    let code = format!(
        "import json, sqlite3, os\n\
         db = {db}\n\
         if not os.path.isfile(db):\n    print(json.dumps({{'missing': db}}))\nelse:\n    \
         print(json.dumps({{'rows': [list(r) for r in sqlite3.connect(db).execute({sql}).fetchall()]}}))\n",
        db = Value::String(q.database.clone()),
        sql = Value::String(q.query.clone()),
    );
    let r = app
        .sandbox
        .run(ExecutionRequest::new("python", code).session(session))
        .await
        .map_err(|e| format!("check: {e}"))?;
    let out: Value = serde_json::from_str(r.stdout.trim())
        .map_err(|_| format!("`{}` on {} failed: {}", q.query, q.database, r.stderr.trim()))?;
    if let Some(m) = out.get("missing") {
        return Err(format!("no database {m} in the workspace"));
    }
    Ok(out["rows"].as_array().cloned().unwrap_or_default())
}

/// Rows equal, numbers compared by value (`3` and `3.0`).
fn same_rows(got: &[Value], want: &[Value]) -> bool {
    fn eq(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                (x.as_f64().unwrap_or(f64::NAN) - y.as_f64().unwrap_or(0.0)).abs() < 1e-9
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| eq(a, b))
            }
            _ => a == b,
        }
    }
    got.len() == want.len() && got.iter().zip(want).all(|(a, b)| eq(a, b))
}

/// Agents with tools today that the shipped set must cover (a new suite's agent adds its tasks
/// to `eval/tasks.yaml` and its name here).
pub const COVERED_AGENTS: &[&str] = &["advanced_analytics", "code_execution", "data_science", "database"];

/// Per-agent minimum of tasks in the shipped set.
pub const MIN_TASKS_PER_AGENT: usize = 8;

/// Counts the tasks of `set` by agent.
pub fn counts(set: &TaskSet) -> HashMap<&str, usize> {
    let mut m = HashMap::new();
    for t in &set.tasks {
        *m.entry(t.agent.as_str()).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_set_parses_and_covers_every_agent_with_tools() {
        let set = TaskSet::shipped().unwrap();
        assert!(set.tasks.len() >= 40, "{} tasks", set.tasks.len());
        let counts = counts(&set);
        for a in COVERED_AGENTS {
            assert!(counts.get(a).copied().unwrap_or(0) >= MIN_TASKS_PER_AGENT, "{a}: {counts:?}");
        }
        assert!(set.tasks.iter().any(|t| t.ci), "a CI subset");
    }

    #[test]
    fn inconsistent_sets_are_refused() {
        let one = "tasks:\n- {id: a, agent: x, request: r, tools: [t], expect: {reply_contains: [v]}, script: [{text: v}]}\n";
        assert!(TaskSet::from_yaml(one).is_ok());
        let twice = one.to_string() + &one[7..];
        assert!(TaskSet::from_yaml(&twice).unwrap_err().to_string().contains("used twice"));
        let nothing =
            "tasks:\n- {id: a, agent: x, request: r, tools: [t], expect: {}, script: [{text: v}]}\n";
        assert!(TaskSet::from_yaml(nothing).unwrap_err().to_string().contains("nothing checkable"));
        assert!(TaskSet::from_yaml("tasks: [{id: a}]").is_err());
    }

    #[test]
    fn rows_compare_numbers_by_value() {
        let a = vec![serde_json::json!([1, "x", 2.0])];
        let b = vec![serde_json::json!([1.0, "x", 2])];
        assert!(same_rows(&a, &b));
        assert!(!same_rows(&a, &[serde_json::json!([1, "y", 2])]));
    }
}
