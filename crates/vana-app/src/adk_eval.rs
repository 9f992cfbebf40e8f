//! Google ADK's eval sets on VANA: ADK's `EvalSet` JSON (the `.evalset.json` files ADK's own
//! tooling writes, snake_case, and the camelCase its API answers; both are read), kept as files
//! under `<data dir>/adk_evals/<app>/`, a session turned into an eval case (one ADK
//! `Invocation` per invocation: the user's content, the final response, the tool uses), and a
//! run of a set against a real [`Runner`] scored with ADK's metrics computed here:
//!
//! - `tool_trajectory_avg_score`: per invocation 1.0 when the actual tool calls equal the
//!   expected ones (names and arguments, in order: ADK's EXACT match), else 0.0; averaged.
//! - `response_match_score`: ROUGE-1 F1 of the final response against the expected one, over
//!   lower-cased alphanumeric tokens as `rouge_score`'s tokenizer splits them (without its
//!   optional Porter stemming); averaged.
//!
//! Results are ADK `EvalSetResult`s (`<app>/results/<id>.evalset_result.json`).
//! The server's dev routes and `vana eval adk SET.json` share this module.

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vana_core::{Content, Event, EventWindow, Runner, SessionStore};

/// ADK's metric names with VANA's default thresholds (ADK's defaults: 1.0 and 0.8).
pub const METRICS: &[(&str, f64, &str)] = &[
    (
        "tool_trajectory_avg_score",
        1.0,
        "Fraction of invocations whose tool calls (names and arguments, in order) equal the expected ones",
    ),
    ("response_match_score", 0.8, "ROUGE-1 F1 of the final response against the expected final response"),
];

/// ADK's `EvalStatus`: PASSED = 1, FAILED = 2, NOT_EVALUATED = 3.
pub const PASSED: u8 = 1;
/// Failed.
pub const FAILED: u8 = 2;
/// Not evaluated.
pub const NOT_EVALUATED: u8 = 3;

/// Why an eval operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A set, case or result that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Bad input (an id, a file, a case).
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing the files.
    #[error("eval files: {0}")]
    Io(String),
    /// Running the agent.
    #[error("running the agent: {0}")]
    Run(String),
}

/// ADK's `MetricInfo` list (`/dev/apps/{app}/metrics-info`).
pub fn metrics_info() -> Value {
    let list: Vec<Value> = METRICS
        .iter()
        .map(|(name, _, description)| {
            json!({"metricName": name, "description": description, "requiresThreshold": true,
                   "metricValueInfo": {"interval": {"minValue": 0.0, "maxValue": 1.0, "openAtMin": false, "openAtMax": false}}})
        })
        .collect();
    json!({ "metricsInfo": list })
}

/// Subtrees whose keys are user data (tool arguments, responses, state) and never renamed.
const OPAQUE: &[&str] = &["args", "response", "state", "custom_metadata", "customMetadata"];

fn rename_keys(v: Value, f: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let nk = f(&k);
                    let v = if OPAQUE.contains(&k.as_str()) { v } else { rename_keys(v, f) };
                    (nk, v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| rename_keys(v, f)).collect()),
        other => other,
    }
}

/// ADK's file form (snake_case keys) of an eval JSON value in either form.
pub fn to_snake(v: Value) -> Value {
    rename_keys(v, &|k| {
        let mut out = String::new();
        for c in k.chars() {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    })
}

/// ADK's API form (camelCase keys) of an eval JSON value.
pub fn to_camel(v: Value) -> Value {
    rename_keys(v, &|k| {
        let mut out = String::new();
        let mut up = false;
        for c in k.chars() {
            if c == '_' && !out.is_empty() {
                up = true;
            } else if up {
                out.push(c.to_ascii_uppercase());
                up = false;
            } else {
                out.push(c);
            }
        }
        out
    })
}

/// Ids of sets, cases and results: they name files.
pub fn check_id(what: &str, id: &str) -> Result<(), EvalError> {
    if id.is_empty()
        || id.len() > 128
        || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        || id.starts_with('.')
    {
        return Err(EvalError::Invalid(format!(
            "{what} {id:?} must be 1-128 characters from [A-Za-z0-9_.-], not starting with a dot"
        )));
    }
    Ok(())
}

fn now() -> f64 {
    vana_core::event::now_secs()
}

/// The eval sets and results of one data directory.
#[derive(Debug, Clone)]
pub struct EvalFiles {
    root: PathBuf,
}

impl EvalFiles {
    /// Files under `root` (the server uses `<data dir>/adk_evals`).
    pub fn new(root: impl Into<PathBuf>) -> EvalFiles {
        EvalFiles { root: root.into() }
    }

    /// The default place: `<data dir>/adk_evals`.
    pub fn default_dir() -> EvalFiles {
        EvalFiles::new(crate::config::data_dir().join("adk_evals"))
    }

    fn app_dir(&self, app: &str) -> Result<PathBuf, EvalError> {
        check_id("app", app)?;
        Ok(self.root.join(app))
    }

    fn results_dir(&self, app: &str) -> Result<PathBuf, EvalError> {
        Ok(self.app_dir(app)?.join("results"))
    }

    fn result_path(&self, app: &str, id: &str) -> Result<PathBuf, EvalError> {
        check_id("eval result id", id)?;
        Ok(self.results_dir(app)?.join(format!("{id}.evalset_result.json")))
    }

    fn set_path(&self, app: &str, set: &str) -> Result<PathBuf, EvalError> {
        check_id("eval set id", set)?;
        Ok(self.app_dir(app)?.join(format!("{set}.evalset.json")))
    }

    fn write(path: &Path, v: &Value) -> Result<(), EvalError> {
        let dir = path.parent().ok_or_else(|| EvalError::Io("no parent".into()))?;
        std::fs::create_dir_all(dir).map_err(|e| EvalError::Io(format!("{}: {e}", dir.display())))?;
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(v).map_err(|e| EvalError::Io(e.to_string()))?;
        std::fs::write(&tmp, text).map_err(|e| EvalError::Io(format!("{}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, path).map_err(|e| EvalError::Io(format!("{}: {e}", path.display())))
    }

    fn list(dir: &Path, suffix: &str) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| {
                        e.file_name().to_str().and_then(|n| n.strip_suffix(suffix)).map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Ids of an app's eval sets, sorted.
    pub fn list_sets(&self, app: &str) -> Result<Vec<String>, EvalError> {
        Ok(Self::list(&self.app_dir(app)?, ".evalset.json"))
    }

    /// Creates an empty set; refused when it exists.
    pub fn create_set(&self, app: &str, set: &str) -> Result<Value, EvalError> {
        let path = self.set_path(app, set)?;
        if path.is_file() {
            return Err(EvalError::Invalid(format!("eval set {set} already exists")));
        }
        let v = json!({"eval_set_id": set, "name": set, "eval_cases": [], "creation_timestamp": now()});
        Self::write(&path, &v)?;
        Ok(v)
    }

    /// An eval set (ADK's file form).
    pub fn get_set(&self, app: &str, set: &str) -> Result<Value, EvalError> {
        let path = self.set_path(app, set)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|_| EvalError::NotFound(format!("eval set `{set}` not found")))?;
        parse_set(&text)
    }

    /// Writes a set back.
    pub fn put_set(&self, app: &str, set: &str, v: &Value) -> Result<(), EvalError> {
        Self::write(&self.set_path(app, set)?, v)
    }

    /// Deletes a set.
    pub fn delete_set(&self, app: &str, set: &str) -> Result<(), EvalError> {
        let path = self.set_path(app, set)?;
        std::fs::remove_file(&path).map_err(|_| EvalError::NotFound(format!("eval set `{set}` not found")))
    }

    /// Adds a case (refused when its id exists).
    pub fn add_case(&self, app: &str, set: &str, case: Value) -> Result<(), EvalError> {
        let mut v = self.get_set(app, set)?;
        let id = case["eval_id"].as_str().unwrap_or_default().to_string();
        check_id("eval case id", &id)?;
        let cases = v["eval_cases"]
            .as_array_mut()
            .ok_or_else(|| EvalError::Invalid("eval_cases is not a list".into()))?;
        if cases.iter().any(|c| c["eval_id"] == id.as_str()) {
            return Err(EvalError::Invalid(format!("eval case `{id}` already exists in eval set `{set}`")));
        }
        cases.push(case);
        self.put_set(app, set, &v)
    }

    /// One case.
    pub fn get_case(&self, app: &str, set: &str, id: &str) -> Result<Value, EvalError> {
        let v = self.get_set(app, set)?;
        v["eval_cases"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["eval_id"] == id))
            .cloned()
            .ok_or_else(|| EvalError::NotFound(format!("eval case `{id}` not found in eval set `{set}`")))
    }

    /// Replaces a case (it must exist).
    pub fn update_case(&self, app: &str, set: &str, id: &str, mut case: Value) -> Result<(), EvalError> {
        let mut v = self.get_set(app, set)?;
        case["eval_id"] = json!(id);
        let cases = v["eval_cases"]
            .as_array_mut()
            .ok_or_else(|| EvalError::Invalid("eval_cases is not a list".into()))?;
        let slot = cases
            .iter_mut()
            .find(|c| c["eval_id"] == id)
            .ok_or_else(|| EvalError::NotFound(format!("eval case `{id}` not found in eval set `{set}`")))?;
        *slot = case;
        self.put_set(app, set, &v)
    }

    /// Deletes a case.
    pub fn delete_case(&self, app: &str, set: &str, id: &str) -> Result<(), EvalError> {
        let mut v = self.get_set(app, set)?;
        let cases = v["eval_cases"]
            .as_array_mut()
            .ok_or_else(|| EvalError::Invalid("eval_cases is not a list".into()))?;
        let before = cases.len();
        cases.retain(|c| c["eval_id"] != id);
        if cases.len() == before {
            return Err(EvalError::NotFound(format!("eval case `{id}` not found in eval set `{set}`")));
        }
        self.put_set(app, set, &v)
    }

    /// Keeps a result; returns its id.
    pub fn save_result(&self, app: &str, result: &Value) -> Result<String, EvalError> {
        let id = result["eval_set_result_id"].as_str().unwrap_or_default().to_string();
        Self::write(&self.result_path(app, &id)?, result)?;
        Ok(id)
    }

    /// Ids of an app's results, sorted.
    pub fn list_results(&self, app: &str) -> Result<Vec<String>, EvalError> {
        Ok(Self::list(&self.results_dir(app)?, ".evalset_result.json"))
    }

    /// One result.
    pub fn get_result(&self, app: &str, id: &str) -> Result<Value, EvalError> {
        let path = self.result_path(app, id)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|_| EvalError::NotFound(format!("eval result `{id}` not found")))?;
        serde_json::from_str(&text).map_err(|e| EvalError::Invalid(format!("eval result {id}: {e}")))
    }
}

/// Reads an EvalSet JSON text (ADK's snake_case file or its camelCase API form) into the file
/// form, checking the shape ADK requires.
pub fn parse_set(text: &str) -> Result<Value, EvalError> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| EvalError::Invalid(format!("not EvalSet JSON: {e}")))?;
    let v = to_snake(v);
    if !v.is_object() || !v["eval_set_id"].is_string() {
        return Err(EvalError::Invalid("not an ADK EvalSet: `eval_set_id` (a string) is missing".into()));
    }
    if !v["eval_cases"].is_array() {
        return Err(EvalError::Invalid("not an ADK EvalSet: `eval_cases` (a list) is missing".into()));
    }
    for (i, c) in v["eval_cases"].as_array().into_iter().flatten().enumerate() {
        if !c["eval_id"].is_string() {
            return Err(EvalError::Invalid(format!("eval_cases[{i}]: `eval_id` is missing")));
        }
        for (j, inv) in c["conversation"].as_array().into_iter().flatten().enumerate() {
            if !inv["user_content"].is_object() {
                return Err(EvalError::Invalid(format!(
                    "eval_cases[{i}].conversation[{j}]: `user_content` is missing"
                )));
            }
        }
    }
    Ok(v)
}

fn content_json(c: &Content) -> Value {
    to_snake(serde_json::to_value(c).unwrap_or(Value::Null))
}

fn text_of(content: &Value) -> String {
    content["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["thought"] != true)
        .filter_map(|p| p["text"].as_str())
        .collect::<Vec<_>>()
        .join("")
}

/// ADK's `convert_session_to_eval_invocations`: one `Invocation` per invocation of the
/// session with a user message (file form).
pub fn session_invocations(events: &[Event]) -> Vec<Value> {
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<&Event>> = HashMap::new();
    for e in events.iter().filter(|e| !e.is_partial()) {
        let g = groups.entry(e.invocation_id.clone()).or_default();
        if g.is_empty() {
            order.push(e.invocation_id.clone());
        }
        g.push(e);
    }
    let mut out = Vec::new();
    for id in order {
        let evs = &groups[&id];
        let Some(user) = evs
            .iter()
            .find(|e| e.author == "user" && e.content.as_ref().is_some_and(|c| !c.text().is_empty()))
        else {
            continue;
        };
        let mut tool_uses = Vec::new();
        let mut tool_responses = Vec::new();
        let mut texts: Vec<(String, Value)> = Vec::new();
        for e in evs.iter().filter(|e| e.author != "user") {
            for c in e.function_calls() {
                tool_uses.push(json!({"id": c.id, "name": c.name, "args": c.args}));
            }
            for r in e.function_responses() {
                tool_responses.push(json!({"id": r.id, "name": r.name, "response": r.response}));
            }
            if let Some(c) = &e.content {
                if e.function_calls().is_empty() && e.function_responses().is_empty() && !c.text().is_empty()
                {
                    texts.push((e.author.clone(), content_json(c)));
                }
            }
        }
        let final_response = texts.pop().map(|(_, c)| c);
        let intermediate: Vec<Value> = texts.into_iter().map(|(a, c)| json!([a, c["parts"]])).collect();
        out.push(json!({
            "invocation_id": id,
            "user_content": content_json(user.content.as_ref().unwrap_or(&Content::default())),
            "final_response": final_response,
            "intermediate_data": {"tool_uses": tool_uses, "tool_responses": tool_responses, "intermediate_responses": intermediate},
            "creation_timestamp": user.timestamp,
        }));
    }
    out
}

/// A new eval case from a session (ADK's add-session).
pub fn case_from_session(eval_id: &str, app: &str, user: &str, events: &[Event]) -> Value {
    json!({
        "eval_id": eval_id,
        "conversation": session_invocations(events),
        "session_input": {"app_name": app, "user_id": user, "state": {}},
        "creation_timestamp": now(),
    })
}

/// `rouge_score`'s tokens: lower-cased runs of ASCII letters and digits.
fn tokens(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// ROUGE-1 F1 of `candidate` against `reference` (1.0 when both are empty).
pub fn rouge1(reference: &str, candidate: &str) -> f64 {
    let (r, c) = (tokens(reference), tokens(candidate));
    if r.is_empty() && c.is_empty() {
        return 1.0;
    }
    if r.is_empty() || c.is_empty() {
        return 0.0;
    }
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for t in &r {
        *counts.entry(t).or_default() += 1;
    }
    let mut overlap = 0i64;
    for t in &c {
        if let Some(n) = counts.get_mut(t.as_str()) {
            if *n > 0 {
                *n -= 1;
                overlap += 1;
            }
        }
    }
    if overlap == 0 {
        return 0.0;
    }
    let p = overlap as f64 / c.len() as f64;
    let rec = overlap as f64 / r.len() as f64;
    2.0 * p * rec / (p + rec)
}

fn trajectory(inv: &Value) -> Vec<(String, Value)> {
    inv["intermediate_data"]["tool_uses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (t["name"].as_str().unwrap_or_default().to_string(), t["args"].clone()))
        .collect()
}

/// One metric's score for one pair of invocations.
pub fn score(metric: &str, expected: &Value, actual: &Value) -> Option<f64> {
    match metric {
        "tool_trajectory_avg_score" => {
            let norm = |v: Vec<(String, Value)>| -> Vec<(String, Value)> {
                v.into_iter().map(|(n, a)| (n, if a.is_null() { json!({}) } else { a })).collect()
            };
            Some(if norm(trajectory(expected)) == norm(trajectory(actual)) { 1.0 } else { 0.0 })
        }
        "response_match_score" => {
            Some(rouge1(&text_of(&expected["final_response"]), &text_of(&actual["final_response"])))
        }
        _ => None,
    }
}

/// The metrics of a run: ADK's `eval_metrics` request list (`[{metric_name, threshold}]`, either
/// form) or both metrics at their default thresholds. Unknown names are refused.
pub fn requested_metrics(req: &Value) -> Result<Vec<(String, f64)>, EvalError> {
    let req = to_snake(req.clone());
    let list = req.as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return Ok(METRICS.iter().map(|(n, t, _)| (n.to_string(), *t)).collect());
    }
    let mut out = Vec::new();
    for m in list {
        let name = m["metric_name"].as_str().unwrap_or_default().to_string();
        let Some((_, default, _)) = METRICS.iter().find(|(n, _, _)| *n == name) else {
            return Err(EvalError::Invalid(format!(
                "metric {name:?} is not computed by VANA; use {}",
                METRICS.iter().map(|m| m.0).collect::<Vec<_>>().join(" or ")
            )));
        };
        let threshold =
            m["threshold"].as_f64().or_else(|| m["criterion"]["threshold"].as_f64()).unwrap_or(*default);
        out.push((name, threshold));
    }
    Ok(out)
}

/// Runs `case` on `runner` in a new session of `user` and scores it; ADK's `EvalCaseResult`
/// (file form).
pub async fn run_case(
    runner: &Runner,
    store: &dyn SessionStore,
    app: &str,
    user: &str,
    set_id: &str,
    case: &Value,
    metrics: &[(String, f64)],
) -> Result<Value, EvalError> {
    let eval_id = case["eval_id"].as_str().unwrap_or_default();
    let state: vana_core::JsonMap = case["session_input"]["state"].as_object().cloned().unwrap_or_default();
    let session_id = format!("___eval___session___{}", vana_core::event::new_id().replace('-', ""));
    store
        .create_session(app, user, Some(&session_id), state)
        .await
        .map_err(|e| EvalError::Run(e.to_string()))?;
    let expected: Vec<Value> = case["conversation"].as_array().cloned().unwrap_or_default();
    for inv in &expected {
        let content: Content = serde_json::from_value(to_camel(inv["user_content"].clone()))
            .map_err(|e| EvalError::Invalid(format!("eval case {eval_id}: user_content: {e}")))?;
        let mut run =
            runner.run(user, &session_id, content, false).await.map_err(|e| EvalError::Run(e.to_string()))?;
        while run.next().await.is_some() {}
        let _ = run.outcome().await;
    }
    let session = store
        .get_session(app, user, &session_id, EventWindow::All)
        .await
        .map_err(|e| EvalError::Run(e.to_string()))?
        .ok_or_else(|| EvalError::Run(format!("eval session {session_id} vanished")))?;
    let actual = session_invocations(&session.events);
    let mut per_invocation = Vec::new();
    let mut sums: Vec<(f64, usize)> = vec![(0.0, 0); metrics.len()];
    for (i, exp) in expected.iter().enumerate() {
        let act = actual
            .get(i)
            .cloned()
            .unwrap_or_else(|| json!({"user_content": exp["user_content"], "final_response": null}));
        let mut results = Vec::new();
        for (k, (name, threshold)) in metrics.iter().enumerate() {
            let s = score(name, exp, &act);
            if let Some(s) = s {
                sums[k].0 += s;
                sums[k].1 += 1;
            }
            results.push(metric_result(name, *threshold, s));
        }
        per_invocation.push(
            json!({"actual_invocation": act, "expected_invocation": exp, "eval_metric_results": results}),
        );
    }
    let overall: Vec<Value> = metrics
        .iter()
        .zip(&sums)
        .map(|((name, threshold), (sum, n))| {
            metric_result(name, *threshold, (*n > 0).then(|| sum / *n as f64))
        })
        .collect();
    let status = if overall.iter().any(|m| m["eval_status"] == FAILED) {
        FAILED
    } else if overall.iter().all(|m| m["eval_status"] == NOT_EVALUATED) {
        NOT_EVALUATED
    } else {
        PASSED
    };
    Ok(json!({
        "eval_set_file": set_id, "eval_set_id": set_id, "eval_id": eval_id, "final_eval_status": status,
        "overall_eval_metric_results": overall, "eval_metric_result_per_invocation": per_invocation,
        "session_id": session_id, "user_id": user,
    }))
}

fn metric_result(name: &str, threshold: f64, score: Option<f64>) -> Value {
    let status = match score {
        None => NOT_EVALUATED,
        Some(s) if s >= threshold => PASSED,
        Some(_) => FAILED,
    };
    json!({"metric_name": name, "threshold": threshold, "score": score, "eval_status": status, "details": {}})
}

/// Runs the cases `ids` (all when empty) of `set`; ADK's `EvalSetResult` (file form).
pub async fn run_set(
    runner: &Runner,
    store: &dyn SessionStore,
    app: &str,
    user: &str,
    set: &Value,
    ids: &[String],
    metrics: &[(String, f64)],
) -> Result<Value, EvalError> {
    let set_id = set["eval_set_id"].as_str().unwrap_or_default().to_string();
    let mut results = Vec::new();
    for case in set["eval_cases"].as_array().into_iter().flatten() {
        let id = case["eval_id"].as_str().unwrap_or_default();
        if !ids.is_empty() && !ids.iter().any(|i| i == id) {
            continue;
        }
        results.push(run_case(runner, store, app, user, &set_id, case, metrics).await?);
    }
    if results.is_empty() && !ids.is_empty() {
        return Err(EvalError::NotFound(format!("none of the eval cases {ids:?} is in eval set `{set_id}`")));
    }
    let ts = now();
    let result_id = format!("{app}_{set_id}_{}", (ts * 1000.0) as u64);
    Ok(json!({"eval_set_result_id": result_id, "eval_set_result_name": result_id, "eval_set_id": set_id,
              "eval_case_results": results, "creation_timestamp": ts}))
}

/// One line per case and metric, as `vana eval adk` prints it.
pub fn report(result: &Value) -> String {
    let mut s = String::new();
    let status = |v: &Value| match v.as_u64() {
        Some(1) => "PASSED",
        Some(2) => "FAILED",
        _ => "NOT_EVALUATED",
    };
    for c in result["eval_case_results"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "{}: {}\n",
            c["eval_id"].as_str().unwrap_or(""),
            status(&c["final_eval_status"])
        ));
        for m in c["overall_eval_metric_results"].as_array().into_iter().flatten() {
            let score = m["score"].as_f64().map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into());
            s.push_str(&format!(
                "  {}: {score} (threshold {}) {}\n",
                m["metric_name"].as_str().unwrap_or(""),
                m["threshold"],
                status(&m["eval_status"])
            ));
        }
    }
    s
}

/// Whether every case passed.
pub fn all_passed(result: &Value) -> bool {
    result["eval_case_results"].as_array().is_some_and(|c| c.iter().all(|c| c["final_eval_status"] == PASSED))
}

/// A key name in the camelCase API form (for callers building ADK responses).
pub fn camel_object(m: Map<String, Value>) -> Value {
    to_camel(Value::Object(m))
}

/// `vana eval adk SET.json`: reads an ADK `.evalset.json`, runs every case (or `cases`) on
/// `agent` (else the cases' `session_input.app_name`, else the root agent) with `metrics`
/// (`name` or `name=threshold`; both ADK metrics at their defaults when empty), writes the
/// `EvalSetResult` to `out` when given; returns the result and its report.
pub async fn run_file(
    app: &crate::App,
    path: &Path,
    agent: Option<&str>,
    cases: &[String],
    metrics: &[String],
    out: Option<&Path>,
) -> Result<(Value, String), EvalError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| EvalError::Io(format!("{}: {e}", path.display())))?;
    let set = parse_set(&text).map_err(|e| EvalError::Invalid(format!("{}: {e}", path.display())))?;
    let from_cases = set["eval_cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|c| c["session_input"]["app_name"].as_str().map(str::to_string));
    let agent = agent.map(str::to_string).or(from_cases).unwrap_or_else(|| app.config.agents.root.clone());
    if app.catalog.get(&agent).is_none() {
        return Err(EvalError::Invalid(format!(
            "agent `{agent}` (from the eval set's session_input.app_name or --agent) is not in the catalog; `vana agents list` lists them"
        )));
    }
    let user = set["eval_cases"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|c| c["session_input"]["user_id"].as_str().map(str::to_string))
        .unwrap_or_else(|| "eval_user".into());
    let wanted: Vec<Value> = metrics
        .iter()
        .map(|m| match m.split_once('=') {
            Some((n, t)) => json!({"metric_name": n, "threshold": t.parse::<f64>().ok()}),
            None => json!({"metric_name": m}),
        })
        .collect();
    let metrics = requested_metrics(&Value::Array(wanted))?;
    app.connect_mcp(Some(&agent)).await;
    let runner = app.runner(Some(&agent)).map_err(|e| EvalError::Run(e.to_string()))?;
    let result = run_set(&runner, app.store.as_ref(), &agent, &user, &set, cases, &metrics).await?;
    if let Some(out) = out {
        let text = serde_json::to_string_pretty(&result).map_err(|e| EvalError::Io(e.to_string()))?;
        std::fs::write(out, text).map_err(|e| EvalError::Io(format!("{}: {e}", out.display())))?;
    }
    let report = report(&result);
    Ok((result, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rouge_one_and_keys() {
        assert_eq!(rouge1("The cat sat", "the cat sat"), 1.0);
        assert!((rouge1("the cat sat on the mat", "the cat") - 0.5).abs() < 1e-9);
        assert_eq!(rouge1("a", "b"), 0.0);
        let v = to_snake(
            json!({"evalSetId": "s", "evalCases": [{"evalId": "c", "sessionInput": {"state": {"myKey": 1}}}]}),
        );
        assert_eq!(v["eval_cases"][0]["session_input"]["state"]["myKey"], 1);
        assert_eq!(to_camel(v.clone())["evalCases"][0]["evalId"], "c");
        assert!(check_id("set", "../x").is_err() && check_id("set", "ok_1.v2").is_ok());
        let exp = json!({"intermediate_data": {"tool_uses": [{"name": "t", "args": {"a": 1}}]}, "final_response": {"parts": [{"text": "x"}]}});
        assert_eq!(score("tool_trajectory_avg_score", &exp, &exp), Some(1.0));
        let other = json!({"intermediate_data": {"tool_uses": [{"name": "t", "args": {"a": 2}}]}});
        assert_eq!(score("tool_trajectory_avg_score", &exp, &other), Some(0.0));
        assert!(requested_metrics(&json!([{"metricName": "nope"}])).is_err());
        assert_eq!(
            requested_metrics(&json!([{"metric_name": "response_match_score", "threshold": 0.5}])).unwrap()
                [0]
            .1,
            0.5
        );
    }
}
