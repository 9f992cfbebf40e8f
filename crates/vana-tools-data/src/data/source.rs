//! Where a dataset comes from: a file in the session workspace, a file the user uploaded with a
//! message (an inline-data part with a display name, also kept as a session artifact), inline
//! CSV/JSON text, or a SQL result table.

use super::table::Table;
use serde_json::Value;
use vana_core::{ToolContext, ToolError};
use vana_toolkit::schemars::{json_schema, Schema, SchemaGenerator};
use vana_toolkit::{tool_error, vana_workspace, SessionFiles};

/// Largest JSON dataset read whole from the workspace (CSV is streamed, whatever its size).
const MAX_JSON_BYTES: u64 = 2 << 30;

/// The schema of the `source` argument, shared by every data tool
/// (`#[schemars(schema_with = "source_schema")]`).
pub fn source_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The data: a file name in the session workspace (CSV, TSV or JSON, e.g. \"sales.csv\"), \
            a file the user uploaded to the chat (by its name, or {\"artifact\": \"sales.csv\"}), \
            or an object: {\"path\": \"sales.csv\"}, {\"csv\": \"a,b\\n1,2\"}, {\"json\": [{\"a\": 1}]} or a SQL \
            result table as returned by execute_sql_query ({\"columns\": [...], \"rows\": [[...]]}).",
        "anyOf": [{"type": "string"}, {"type": "object"}]
    })
}

/// Loads a `source` argument into a table, and says where it came from.
pub fn load(ws: &SessionFiles, ctx: &ToolContext, src: &Value) -> Result<(Table, String), ToolError> {
    let bad = |e: String| ToolError::InvalidArgs(e);
    match src {
        Value::String(s) if s.contains('\n') => {
            Ok((Table::from_csv(s.as_bytes()).map_err(bad)?, "inline CSV".into()))
        }
        Value::String(s) => load_file(ws, ctx, s),
        Value::Object(o) => {
            if let Some(p) = o.get("path").and_then(Value::as_str) {
                load_file(ws, ctx, p)
            } else if let Some(name) = o.get("artifact").and_then(Value::as_str) {
                load_upload(ctx, name).unwrap_or_else(|| {
                    Err(ToolError::InvalidArgs(format!(
                        "no uploaded file named `{name}` in this session's recent messages{}",
                        upload_names(ctx)
                    )))
                })
            } else if let Some(c) = o.get("csv").and_then(Value::as_str) {
                Ok((Table::from_csv(c.as_bytes()).map_err(bad)?, "inline CSV".into()))
            } else if let Some(j) = o.get("json") {
                let v = match j {
                    Value::String(s) => serde_json::from_str(s).map_err(|e| {
                        ToolError::InvalidArgs(format!("`source.json` is not valid JSON: {e}"))
                    })?,
                    other => other.clone(),
                };
                Ok((Table::from_json(&v).map_err(bad)?, "inline JSON".into()))
            } else if o.contains_key("columns") && o.contains_key("rows") {
                Ok((Table::from_json(src).map_err(bad)?, "SQL result".into()))
            } else {
                Err(ToolError::InvalidArgs(
                    "`source` object needs `path`, `csv`, `json`, or `columns` + `rows` (a SQL result)"
                        .into(),
                ))
            }
        }
        other => {
            Err(ToolError::InvalidArgs(format!("`source` must be a file name or an object, got {other}")))
        }
    }
}

/// A file the user uploaded: the newest inline-data part of the session with this display name.
fn load_upload(ctx: &ToolContext, name: &str) -> Option<Result<(Table, String), ToolError>> {
    use base64::Engine;
    let blob = ctx
        .events
        .iter()
        .rev()
        .flat_map(|e| e.content.iter().flat_map(|c| c.parts.iter()))
        .filter_map(|p| p.inline_data.as_ref())
        .find(|b| b.display_name.as_deref() == Some(name))?;
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(blob.data.as_bytes())
            .map_err(|e| ToolError::InvalidArgs(format!("uploaded `{name}` is not valid base64: {e}")))
            .and_then(|bytes| table_from_bytes(name, &bytes))
            .map(|t| (t, format!("uploaded {name}"))),
    )
}

/// ", uploaded files: a, b" (or nothing), for error messages.
fn upload_names(ctx: &ToolContext) -> String {
    let names: Vec<&str> = ctx
        .events
        .iter()
        .flat_map(|e| e.content.iter().flat_map(|c| c.parts.iter()))
        .filter_map(|p| p.inline_data.as_ref()?.display_name.as_deref())
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!("; uploaded files: {}", names.join(", "))
    }
}

fn load_file(ws: &SessionFiles, ctx: &ToolContext, name: &str) -> Result<(Table, String), ToolError> {
    vana_workspace::normalize(name).map_err(tool_error)?;
    let workspace = ws.open(ctx)?;
    let found = match &workspace {
        Some(w) => w.stat(name).map_err(tool_error)?,
        None => None,
    };
    let Some(workspace) = workspace.filter(|_| found.is_some()) else {
        return load_upload(ctx, name).unwrap_or_else(|| {
            Err(ToolError::InvalidArgs(format!(
                "`{name}` is not in the session workspace{}; save the file there first or pass the data inline",
                upload_names(ctx)
            )))
        });
    };
    let lower = name.to_ascii_lowercase();
    let is_json = [".json", ".jsonl", ".ndjson"].iter().any(|e| lower.ends_with(e));
    if is_json {
        let bytes = workspace.read(name, MAX_JSON_BYTES).map_err(tool_error)?;
        return Ok((table_from_bytes(name, &bytes)?, name.to_string()));
    }
    // CSV/TSV: streamed from the file, not read into memory whole.
    let file = workspace.open(name).map_err(tool_error)?;
    let table = Table::from_csv_file(&file).map_err(|e| ToolError::InvalidArgs(format!("`{name}`: {e}")))?;
    Ok((table, name.to_string()))
}

/// Parses a file's content by its name: JSON, JSON lines, else CSV/TSV.
fn table_from_bytes(name: &str, bytes: &[u8]) -> Result<Table, ToolError> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| ToolError::InvalidArgs(format!("`{name}` is not valid JSON: {e}")))?;
        Table::from_json(&v)
    } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        let rows: Result<Vec<Value>, _> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(serde_json::from_slice)
            .collect();
        Table::from_json(&Value::Array(rows.map_err(|e| ToolError::InvalidArgs(format!("`{name}`: {e}")))?))
    } else {
        Table::from_csv(bytes)
    }
    .map_err(|e| ToolError::InvalidArgs(format!("`{name}`: {e}")))
}
