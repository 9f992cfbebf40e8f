//! Where a tool's text comes from: inline text, a list of texts, a text file in the session
//! workspace, or one column of a dataset (`source` as the data tools take it: a workspace
//! CSV/TSV/JSON file, a file the user uploaded, inline CSV/JSON, or a SQL result table). Every
//! path goes through the toolkit's `SessionFiles`; sizes are bounded and non-UTF-8 bytes are
//! refused with an error that says so.

use serde_json::Value;
use vana_core::{ToolContext, ToolError};
use vana_toolkit::schemars::{json_schema, Schema, SchemaGenerator};
use vana_toolkit::SessionFiles;

/// Largest text one call analyses (inline or from a file), in bytes.
pub const MAX_TEXT_BYTES: usize = 2 * 1024 * 1024;
/// Largest dataset file read for a column, in bytes.
pub const MAX_DATASET_BYTES: u64 = 64 * 1024 * 1024;
/// Most items (texts or rows) one call scores.
pub const MAX_ITEMS: usize = 1_000_000;

/// The schema of the `source` argument (`#[schemars(schema_with = "source_schema")]`).
pub fn source_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A dataset whose `column` holds the texts: a file name in the session workspace (CSV, TSV, \
            JSON or JSON lines, e.g. \"reviews.csv\"), a file the user uploaded to the chat (by its name, or \
            {\"artifact\": \"reviews.csv\"}), or an object: {\"path\": \"reviews.csv\"}, {\"csv\": \"id,text\\n1,great\"}, \
            {\"json\": [{\"text\": \"great\"}]} or a SQL result table ({\"columns\": [...], \"rows\": [[...]]}).",
        "anyOf": [{"type": "string"}, {"type": "object"}]
    })
}

/// The error for text that is not valid UTF-8.
fn not_utf8(what: &str, e: std::str::Utf8Error) -> ToolError {
    ToolError::InvalidArgs(format!(
        "{what} is not UTF-8 text (invalid byte at offset {}); convert it to UTF-8 first",
        e.valid_up_to()
    ))
}

/// Checks one text: not empty (after trimming) and within [`MAX_TEXT_BYTES`].
pub fn check_text(text: &str, what: &str) -> Result<(), ToolError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(ToolError::InvalidArgs(format!(
            "{what} is {} bytes; the limit is {} bytes ({} MiB) per call: split it into parts",
            text.len(),
            MAX_TEXT_BYTES,
            MAX_TEXT_BYTES / (1024 * 1024)
        )));
    }
    if text.trim().is_empty() {
        return Err(ToolError::InvalidArgs(format!("{what} is empty: give some text to analyse")));
    }
    Ok(())
}

/// The text of a call that takes one text: `text` inline, or `path` (a UTF-8 file in the
/// session workspace). Exactly one must be given.
pub fn one_text(
    files: &SessionFiles,
    ctx: &ToolContext,
    text: Option<String>,
    path: Option<&str>,
) -> Result<String, ToolError> {
    match (text, path) {
        (Some(_), Some(_)) => Err(ToolError::InvalidArgs("give either `text` or `path`, not both".into())),
        (Some(t), None) => {
            check_text(&t, "`text`")?;
            Ok(t)
        }
        (None, Some(p)) => {
            let bytes = files.read(ctx, p, MAX_TEXT_BYTES as u64)?;
            let what = format!("`{p}`");
            if bytes.len() > MAX_TEXT_BYTES {
                return Err(ToolError::InvalidArgs(format!(
                    "{what} is larger than the limit of {MAX_TEXT_BYTES} bytes per call: split it into parts"
                )));
            }
            let t = String::from_utf8(bytes).map_err(|e| not_utf8(&what, e.utf8_error()))?;
            check_text(&t, &what)?;
            Ok(t)
        }
        (None, None) => Err(ToolError::InvalidArgs(
            "give the text to analyse as `text`, or a workspace file as `path`".into(),
        )),
    }
}

/// The texts of a dataset column, and where they came from. Missing cells are skipped.
pub fn column_texts(
    files: &SessionFiles,
    ctx: &ToolContext,
    src: &Value,
    column: &str,
) -> Result<(Vec<String>, String), ToolError> {
    let bad = ToolError::InvalidArgs;
    let (table, from) = match src {
        Value::String(s) if s.contains('\n') => (parse_csv(s.as_bytes(), b',')?, "inline CSV".to_string()),
        Value::String(s) => (load_file(files, ctx, s)?, s.clone()),
        Value::Object(o) => {
            if let Some(p) = o.get("path").and_then(Value::as_str) {
                (load_file(files, ctx, p)?, p.to_string())
            } else if let Some(name) = o.get("artifact").and_then(Value::as_str) {
                let bytes = upload(ctx, name).ok_or_else(|| {
                    bad(format!("no uploaded file named `{name}` in this session's recent messages"))
                })??;
                (parse_by_name(name, &bytes)?, format!("uploaded {name}"))
            } else if let Some(c) = o.get("csv").and_then(Value::as_str) {
                (parse_csv(c.as_bytes(), b',')?, "inline CSV".into())
            } else if let Some(j) = o.get("json") {
                let v = match j {
                    Value::String(s) => serde_json::from_str(s)
                        .map_err(|e| bad(format!("`source.json` is not valid JSON: {e}")))?,
                    other => other.clone(),
                };
                (from_json(&v)?, "inline JSON".into())
            } else if o.contains_key("columns") && o.contains_key("rows") {
                (from_json(src)?, "SQL result".into())
            } else {
                return Err(bad(
                    "`source` object needs `path`, `artifact`, `csv`, `json`, or `columns` + `rows` (a SQL result)"
                        .into(),
                ));
            }
        }
        other => return Err(bad(format!("`source` must be a file name or an object, got {other}"))),
    };
    let Some(idx) = table.columns.iter().position(|c| c == column) else {
        return Err(bad(format!(
            "{from} has no column `{column}`; its columns are: {}",
            table.columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        )));
    };
    let texts: Vec<String> = table
        .rows
        .into_iter()
        .filter_map(|mut r| if idx < r.len() { Some(std::mem::take(&mut r[idx])) } else { None })
        .filter(|t| !t.trim().is_empty())
        .collect();
    if texts.is_empty() {
        return Err(bad(format!("column `{column}` of {from} has no text")));
    }
    if texts.len() > MAX_ITEMS {
        return Err(bad(format!("{from} has {} rows; the limit is {MAX_ITEMS} per call", texts.len())));
    }
    Ok((texts, from))
}

/// A small table of text cells.
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn load_file(files: &SessionFiles, ctx: &ToolContext, name: &str) -> Result<Table, ToolError> {
    let bytes = match files.read(ctx, name, MAX_DATASET_BYTES) {
        Ok(b) => b,
        Err(e) => match upload(ctx, name) {
            Some(b) => b?,
            None => return Err(e),
        },
    };
    parse_by_name(name, &bytes)
}

fn parse_by_name(name: &str, bytes: &[u8]) -> Result<Table, ToolError> {
    let lower = name.to_ascii_lowercase();
    let what = format!("`{name}`");
    std::str::from_utf8(bytes).map_err(|e| not_utf8(&what, e))?;
    let in_file = |e: ToolError| match e {
        ToolError::InvalidArgs(m) => ToolError::InvalidArgs(format!("{what}: {m}")),
        other => other,
    };
    if lower.ends_with(".json") {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| ToolError::InvalidArgs(format!("{what} is not valid JSON: {e}")))?;
        from_json(&v).map_err(in_file)
    } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        let rows: Result<Vec<Value>, _> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(serde_json::from_slice)
            .collect();
        let rows = rows.map_err(|e| ToolError::InvalidArgs(format!("{what}: {e}")))?;
        from_json(&Value::Array(rows)).map_err(in_file)
    } else {
        let delim = if lower.ends_with(".tsv") || lower.ends_with(".tab") { b'\t' } else { b',' };
        parse_csv(bytes, delim).map_err(in_file)
    }
}

fn parse_csv(bytes: &[u8], delim: u8) -> Result<Table, ToolError> {
    let bad = |e: csv::Error| ToolError::InvalidArgs(format!("not readable as CSV: {e}"));
    let mut r = csv::ReaderBuilder::new().delimiter(delim).flexible(true).from_reader(bytes);
    let columns: Vec<String> = r.headers().map_err(bad)?.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.map_err(bad)?.iter().map(str::to_string).collect());
        if rows.len() > MAX_ITEMS {
            break;
        }
    }
    Ok(Table { columns, rows })
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn from_json(v: &Value) -> Result<Table, ToolError> {
    if let (Some(cols), Some(rows)) = (v.get("columns").and_then(Value::as_array), v.get("rows")) {
        let columns: Vec<String> = cols.iter().map(cell).collect();
        let rows = rows
            .as_array()
            .ok_or_else(|| ToolError::InvalidArgs("`rows` must be an array of arrays".into()))?
            .iter()
            .map(|r| r.as_array().map(|a| a.iter().map(cell).collect()).unwrap_or_default())
            .collect();
        return Ok(Table { columns, rows });
    }
    let Some(items) = v.as_array() else {
        return Err(ToolError::InvalidArgs(
            "JSON data must be an array of objects, or {\"columns\": [...], \"rows\": [[...]]}".into(),
        ));
    };
    let mut columns: Vec<String> = Vec::new();
    for it in items {
        if let Some(o) = it.as_object() {
            for k in o.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let rows = items
        .iter()
        .map(|it| columns.iter().map(|c| it.get(c).map(cell).unwrap_or_default()).collect())
        .collect();
    Ok(Table { columns, rows })
}

/// The newest file the user uploaded with this display name, decoded.
fn upload(ctx: &ToolContext, name: &str) -> Option<Result<Vec<u8>, ToolError>> {
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
            .map_err(|e| ToolError::InvalidArgs(format!("uploaded `{name}` is not valid base64: {e}"))),
    )
}
