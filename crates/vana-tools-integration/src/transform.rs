//! `transform_data`: jq filters through jaq (jq in Rust), conversion between CSV, TSV, JSON and
//! JSON lines, field renaming and selection, and type coercion with a report of the values that
//! did not convert; the result is shown and, when asked, written to the session workspace.
//!
//! Data is kept as jaq values throughout, so object keys keep their order (CSV columns come out
//! in the order they went in). CSV and TSV cells are strings; `coerce` turns them into numbers or
//! booleans. A JSON input holding several top-level values, and JSON lines, are a stream: the
//! filter runs on each value, as the `jq` CLI does. The filter cannot read the environment
//! (`env`, `$ENV`), stop the process (`halt`), read further inputs or write to stderr.

use async_trait::async_trait;
use jaq_json::Val;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::{self, json_schema, JsonSchema, Schema, SchemaGenerator};
use vana_toolkit::{tool_error, vana_workspace, SessionFiles, TypedTool};

/// Largest input read (bytes).
const MAX_INPUT: u64 = 512 << 20;
/// Most values a filter may produce.
const MAX_OUTPUTS: usize = 5_000_000;
/// Longest a filter may run.
const MAX_RUN: Duration = Duration::from_secs(60);
/// The stack of the thread that runs a filter.
const FILTER_STACK_BYTES: usize = 512 << 20;
/// Native filters the model's filter may not call.
const DENIED: &[&str] = &[
    "env",
    "halt",
    "halt_error",
    "input",
    "inputs",
    "debug",
    "stderr",
    "debug_empty",
    "stderr_empty",
    "input_filename",
    "input_line_number",
];

/// jq's `@csv` and `@tsv`, which jaq's standard library does not define (as jq 1.6 formats them).
const EXTRA_DEFS: &str = r#"
def @csv: if type != "array" then error("cannot csv-format \(type), only an array")
  else map(if type == "string" then "\"" + (split("\"") | join("\"\"")) + "\""
           elif type == "null" then ""
           elif type == "boolean" or type == "number" then tostring
           else error("\(type) is not valid in a csv row") end) | join(",") end;
def @tsv: if type != "array" then error("cannot tsv-format \(type), only an array")
  else map(if type == "string" then split("\\") | join("\\\\") | split("\t") | join("\\t")
               | split("\n") | join("\\n") | split("\r") | join("\\r")
           elif type == "null" then ""
           elif type == "boolean" or type == "number" then tostring
           else error("\(type) is not valid in a tsv row") end) | join("\t") end;
"#;

fn source_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "The data: a file name in the session workspace (CSV, TSV, JSON or JSON lines, e.g. \"orders.csv\"), \
            or an object: {\"path\": \"orders.csv\"}, {\"csv\": \"a,b\\n1,2\"}, {\"tsv\": \"a\\tb\\n1\\t2\"}, \
            {\"json\": [{\"a\": 1}]}, {\"jsonl\": \"{\\\"a\\\":1}\\n{\\\"a\\\":2}\"} or a SQL result table as returned by \
            execute_sql_query ({\"columns\": [...], \"rows\": [[...]]}).",
        "anyOf": [{"type": "string"}, {"type": "object"}]
    })
}

/// Arguments of `transform_data`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransformArgs {
    /// Where the data comes from.
    #[schemars(schema_with = "source_schema")]
    pub source: Value,
    /// `csv`, `tsv`, `json` or `jsonl`; default from the file name or the source object.
    #[serde(default)]
    pub input_format: Option<String>,
    /// A jq filter run on the data (jq syntax, e.g. `.[] | select(.total > 100) | {id, total}`).
    /// CSV/TSV data is an array of objects, one per row.
    #[serde(default)]
    pub filter: Option<String>,
    /// Fields to rename in each record: `{"old name": "new name"}`.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// The fields to keep, in this order (after renaming); default all.
    #[serde(default)]
    pub select: Vec<String>,
    /// Types to convert fields to (after renaming): `{"total": "number", "qty": "integer",
    /// "paid": "boolean", "zip": "string"}`. Values that do not convert stay as they were and are
    /// listed in `coercion_failures`; empty strings become null.
    #[serde(default)]
    #[schemars(extend("additionalProperties" = {"enum": ["integer", "number", "boolean", "string"]}))]
    pub coerce: BTreeMap<String, String>,
    /// `json`, `jsonl`, `csv` or `tsv`; default from `output`'s name, else `json`.
    #[serde(default)]
    pub output_format: Option<String>,
    /// A workspace file to write the result to, e.g. `out/orders.jsonl`.
    #[serde(default)]
    pub output: Option<String>,
    /// How many records to show in the answer (default 20).
    #[serde(default, deserialize_with = "vana_toolkit::args::whole")]
    pub preview: Option<u32>,
}

/// `transform_data`.
pub struct TransformData {
    pub(crate) files: SessionFiles,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Tsv,
    Json,
    Jsonl,
}

impl Format {
    fn parse(s: &str, field: &str) -> Result<Format, ToolError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "tsv" => Ok(Format::Tsv),
            "json" => Ok(Format::Json),
            "jsonl" | "ndjson" | "json_lines" => Ok(Format::Jsonl),
            other => Err(ToolError::InvalidArgs(format!(
                "field `{field}`: `{other}` is not csv, tsv, json or jsonl"
            ))),
        }
    }
    fn of_name(name: &str) -> Option<Format> {
        let l = name.to_ascii_lowercase();
        if l.ends_with(".csv") {
            Some(Format::Csv)
        } else if l.ends_with(".tsv") || l.ends_with(".tab") {
            Some(Format::Tsv)
        } else if l.ends_with(".jsonl") || l.ends_with(".ndjson") {
            Some(Format::Jsonl)
        } else if l.ends_with(".json") {
            Some(Format::Json)
        } else {
            None
        }
    }
    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
        }
    }
}

/// The raw input: bytes and their format, and where they came from.
struct Raw {
    bytes: Vec<u8>,
    format: Format,
    origin: String,
}

fn bad(m: impl Into<String>) -> ToolError {
    ToolError::InvalidArgs(m.into())
}

impl TransformData {
    fn raw(&self, ctx: &ToolContext, src: &Value, fmt: Option<Format>) -> Result<Raw, ToolError> {
        let file = |name: &str| -> Result<Raw, ToolError> {
            let rel = vana_workspace::normalize(name).map_err(tool_error)?;
            let format = fmt.or_else(|| Format::of_name(&rel)).ok_or_else(|| {
                bad(format!("cannot tell the format of `{rel}` from its name; give `input_format` (csv, tsv, json, jsonl)"))
            })?;
            let bytes = self.files.read(ctx, &rel, MAX_INPUT).map_err(|e| match e {
                ToolError::InvalidArgs(m) => {
                    bad(format!("{m}; save the file in the session workspace first or pass the data inline"))
                }
                other => other,
            })?;
            Ok(Raw { bytes, format, origin: rel })
        };
        let inline = |text: &str, f: Format| Raw {
            bytes: text.as_bytes().to_vec(),
            format: fmt.unwrap_or(f),
            origin: format!("inline {}", f.name()),
        };
        match src {
            Value::String(s) if s.contains('\n') => Ok(inline(s, Format::Csv)),
            Value::String(s) => file(s),
            Value::Object(o) => {
                if let Some(p) = o.get("path").and_then(Value::as_str) {
                    file(p)
                } else if let Some(c) = o.get("csv").and_then(Value::as_str) {
                    Ok(inline(c, Format::Csv))
                } else if let Some(c) = o.get("tsv").and_then(Value::as_str) {
                    Ok(inline(c, Format::Tsv))
                } else if let Some(c) = o.get("jsonl").and_then(Value::as_str) {
                    Ok(inline(c, Format::Jsonl))
                } else if let Some(j) = o.get("json") {
                    let text = match j {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    Ok(inline(&text, Format::Json))
                } else if let (Some(cols), Some(rows)) = (o.get("columns"), o.get("rows")) {
                    // A SQL result: rows of values under column names.
                    let cols: Vec<String> = cols
                        .as_array()
                        .ok_or_else(|| bad("`source.columns` must be an array"))?
                        .iter()
                        .map(|c| {
                            c.as_str()
                                .map(String::from)
                                .or_else(|| c["name"].as_str().map(String::from))
                                .unwrap_or_default()
                        })
                        .collect();
                    let mut text = String::from("[");
                    for (i, row) in rows
                        .as_array()
                        .ok_or_else(|| bad("`source.rows` must be an array"))?
                        .iter()
                        .enumerate()
                    {
                        let cells = row
                            .as_array()
                            .ok_or_else(|| bad(format!("`source.rows[{i}]` must be an array")))?;
                        if i > 0 {
                            text.push(',');
                        }
                        text.push('{');
                        for (j, (c, v)) in cols.iter().zip(cells).enumerate() {
                            if j > 0 {
                                text.push(',');
                            }
                            text.push_str(&format!("{}:{}", Value::String(c.clone()), v));
                        }
                        text.push('}');
                    }
                    text.push(']');
                    Ok(Raw { bytes: text.into_bytes(), format: Format::Json, origin: "SQL result".into() })
                } else {
                    Err(bad("`source` object needs `path`, `csv`, `tsv`, `json`, `jsonl`, or `columns` + `rows` (a SQL result)"))
                }
            }
            other => Err(bad(format!("`source` must be a file name or an object, got {other}"))),
        }
    }
}

/// Parses the input into the values the filter runs on.
fn parse_inputs(raw: &Raw) -> Result<Vec<Val>, String> {
    match raw.format {
        Format::Json => {
            let vals: Result<Vec<Val>, _> = jaq_json::read::parse_many(&raw.bytes).collect();
            let vals = vals.map_err(|e| format!("`{}` is not valid JSON: {e}", raw.origin))?;
            if vals.is_empty() {
                return Err(format!("`{}` holds no JSON value", raw.origin));
            }
            Ok(vals)
        }
        Format::Jsonl => {
            let mut out = Vec::new();
            for (i, line) in raw.bytes.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                out.push(
                    jaq_json::read::parse_single(line)
                        .map_err(|e| format!("`{}` line {}: not valid JSON: {e}", raw.origin, i + 1))?,
                );
            }
            Ok(out)
        }
        Format::Csv | Format::Tsv => {
            let delim = if raw.format == Format::Tsv { b'\t' } else { b',' };
            let mut rdr =
                csv::ReaderBuilder::new().delimiter(delim).flexible(false).from_reader(&raw.bytes[..]);
            let headers: Vec<Val> = rdr
                .headers()
                .map_err(|e| format!("`{}`: {e}", raw.origin))?
                .iter()
                .map(|h| Val::utf8_str(h.trim_start_matches('\u{feff}').to_string()))
                .collect();
            let mut rows = Vec::new();
            for rec in rdr.records() {
                let rec = rec.map_err(|e| format!("`{}`: {e}", raw.origin))?;
                let mut m = jaq_json::Map::default();
                for (h, cell) in headers.iter().zip(rec.iter()) {
                    m.insert(h.clone(), Val::utf8_str(cell.to_string()));
                }
                rows.push(Val::obj(m));
            }
            Ok(vec![rows.into_iter().collect()])
        }
    }
}

/// Compiles and runs `code` on each input.
fn run_filter(code: &str, inputs: Vec<Val>) -> Result<Vec<Val>, String> {
    crate::jq_guard::check(code)?;
    use jaq_core::load::{Arena, File, Loader};
    use jaq_core::{data, Compiler, Ctx, Vars};
    let extra = jaq_core::load::parse(EXTRA_DEFS, |p| p.defs()).unwrap_or_default();
    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs()).chain(extra);
    // Denied natives stay defined (the standard library's definitions refer to them) but fail
    // when called.
    let funs = jaq_core::funs::<Data>().chain(jaq_std::funs::<Data>()).chain(jaq_json::funs::<Data>()).map(
        |(name, args, native)| {
            if DENIED.contains(&name) {
                jaq_core::native::run::<Data>((name, args, refused))
            } else {
                (name, args, native)
            }
        },
    );
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(&arena, File { code, path: () })
        .map_err(|errs| format!("the jq filter does not parse: {}", describe_load(&errs)))?;
    let filter = Compiler::default().with_funs(funs).compile(modules).map_err(|errs| {
        let names: Vec<String> = errs
            .iter()
            .flat_map(|(_, es)| es.iter().map(|(name, undef)| format!("{name} ({undef:?})")))
            .collect();
        let denied: Vec<&str> = DENIED.iter().copied().filter(|d| names.iter().any(|n| n.starts_with(d))).collect();
        if denied.is_empty() {
            format!("the jq filter does not compile: undefined {}", names.join(", "))
        } else {
            format!("the jq filter uses {} which transform_data does not allow (no environment, inputs, halting or stderr)", denied.join(", "))
        }
    })?;
    let start = Instant::now();
    let mut out = Vec::new();
    for input in inputs {
        let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
        for y in filter.id.run((ctx, input)) {
            match y {
                Ok(v) => out.push(v),
                Err(exn) => {
                    return Err(match exn.get_err() {
                        Ok(e) => format!("the jq filter failed: {e}"),
                        Err(_) => "the jq filter stopped (halt)".to_string(),
                    })
                }
            }
            if out.len() > MAX_OUTPUTS {
                return Err(format!("the jq filter produced more than {MAX_OUTPUTS} values; narrow it"));
            }
            if out.len() % 1024 == 0 && start.elapsed() > MAX_RUN {
                return Err(format!("the jq filter ran longer than {} s", MAX_RUN.as_secs()));
            }
        }
    }
    Ok(out)
}

type Data = jaq_core::data::JustLut<Val>;

/// What a denied native does when called.
fn refused<'a>(_: jaq_core::Cv<'a, Data>) -> jaq_core::ValXs<'a, <Data as jaq_core::DataT>::V<'a>> {
    jaq_core::native::bome(Err(jaq_core::Error::str(
        "transform_data does not allow this filter (no environment, inputs, halting or stderr)",
    )))
}

fn describe_load<E: std::fmt::Debug>(errs: &E) -> String {
    let s = format!("{errs:?}");
    s.chars().take(600).collect()
}

fn text_of(v: &Val) -> Option<String> {
    match v {
        Val::TStr(b) | Val::BStr(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

/// A cell as CSV writes it: strings raw, null empty, nested values as JSON.
fn cell(v: &Val) -> String {
    match v {
        Val::Null => String::new(),
        Val::TStr(_) | Val::BStr(_) => text_of(v).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// One value that did not convert.
struct Failure {
    record: usize,
    field: String,
    value: String,
    to: String,
}

fn coerce_one(v: &Val, to: &str) -> Result<Val, ()> {
    let s = match v {
        Val::Null => return Ok(Val::Null),
        Val::TStr(_) | Val::BStr(_) => text_of(v).unwrap_or_default(),
        other => other.to_string(),
    };
    let t = s.trim();
    if t.is_empty() && to != "string" {
        return Ok(Val::Null);
    }
    match to {
        "string" => Ok(match v {
            Val::TStr(_) => v.clone(),
            _ => Val::utf8_str(s),
        }),
        "integer" => {
            let n: i64 = t.parse().map_err(|_| ())?;
            Ok(Val::from(isize::try_from(n).map_err(|_| ())?))
        }
        "number" => {
            let n: f64 = t.parse().map_err(|_| ())?;
            if !n.is_finite() {
                return Err(());
            }
            Ok(jaq_json::read::parse_single_num(t.as_bytes()).map(Val::Num).unwrap_or_else(|| Val::from(n)))
        }
        "boolean" => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "t" => Ok(Val::Bool(true)),
            "false" | "no" | "n" | "0" | "f" => Ok(Val::Bool(false)),
            _ => Err(()),
        },
        _ => Err(()),
    }
}

/// Renames, selects and coerces the fields of each object record.
fn map_records(
    records: Vec<Val>,
    rename: &BTreeMap<String, String>,
    select: &[String],
    coerce: &BTreeMap<String, String>,
    failures: &mut Vec<Failure>,
) -> Result<Vec<Val>, String> {
    if rename.is_empty() && select.is_empty() && coerce.is_empty() {
        return Ok(records);
    }
    let mut out = Vec::with_capacity(records.len());
    for (i, r) in records.into_iter().enumerate() {
        let Val::Obj(obj) = &r else {
            return Err(format!(
                "record {} is not an object, so `rename`/`select`/`coerce` do not apply; shape the records with `filter` first",
                i + 1
            ));
        };
        let mut m = jaq_json::Map::default();
        for (k, v) in obj.iter() {
            let key = text_of(k).unwrap_or_else(|| k.to_string());
            let key = rename.get(&key).cloned().unwrap_or(key);
            m.insert(Val::utf8_str(key), v.clone());
        }
        for (field, to) in coerce {
            let k = Val::utf8_str(field.clone());
            if let Some(v) = m.get(&k) {
                match coerce_one(v, to) {
                    Ok(nv) => {
                        m.insert(k, nv);
                    }
                    Err(()) => failures.push(Failure {
                        record: i + 1,
                        field: field.clone(),
                        value: cell(v),
                        to: to.clone(),
                    }),
                }
            }
        }
        if !select.is_empty() {
            let mut picked = jaq_json::Map::default();
            for f in select {
                let k = Val::utf8_str(f.clone());
                picked.insert(k.clone(), m.get(&k).cloned().unwrap_or(Val::Null));
            }
            m = picked;
        }
        out.push(Val::obj(m));
    }
    Ok(out)
}

/// Writes records as CSV/TSV: columns in first-seen order.
fn write_table(records: &[Val], delim: u8) -> Result<Vec<u8>, String> {
    let mut cols: Vec<Val> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, r) in records.iter().enumerate() {
        let Val::Obj(o) = r else {
            return Err(format!(
                "record {} is not an object; CSV/TSV output needs objects (use `filter` to shape them)",
                i + 1
            ));
        };
        for k in o.keys() {
            let name = cell(k);
            if seen.insert(name) {
                cols.push(k.clone());
            }
        }
    }
    let mut w = csv::WriterBuilder::new().delimiter(delim).from_writer(Vec::new());
    w.write_record(cols.iter().map(cell)).map_err(|e| e.to_string())?;
    for r in records {
        if let Val::Obj(o) = r {
            w.write_record(cols.iter().map(|c| o.get(c).map(cell).unwrap_or_default()))
                .map_err(|e| e.to_string())?;
        }
    }
    w.into_inner().map_err(|e| e.to_string())
}

fn pretty(v: &Val) -> Vec<u8> {
    let pp = jaq_json::write::Pp { indent: Some("  ".to_string()), ..Default::default() };
    let mut out = Vec::new();
    let _ = jaq_json::write::write(&mut out, &pp, 0, v);
    out.push(b'\n');
    out
}

/// A jaq value as serde JSON (for the answer).
pub fn to_json(v: &Val) -> Value {
    serde_json::from_str(&v.to_string()).unwrap_or_else(|_| Value::String(v.to_string()))
}

struct Done {
    bytes: Vec<u8>,
    format: Format,
    inputs: usize,
    outputs: usize,
    records: usize,
    preview: Vec<Value>,
    failures: Vec<Failure>,
    origin: String,
    input_format: Format,
}

fn transform(raw: Raw, args: &TransformArgs, out_format: Format, preview: usize) -> Result<Done, String> {
    let inputs = parse_inputs(&raw)?;
    let n_inputs = inputs.len();
    let outputs = match args.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        Some(code) => run_filter(code, inputs)?,
        None => inputs,
    };
    let n_outputs = outputs.len();
    let mapping = !(args.rename.is_empty() && args.select.is_empty() && args.coerce.is_empty());
    // Records: the elements of a single array answer, else the answers themselves.
    let single_array = outputs.len() == 1 && matches!(outputs[0], Val::Arr(_));
    let whole_value = out_format == Format::Json && !mapping && outputs.len() == 1;
    let records: Vec<Val> = if single_array && !whole_value {
        match outputs.into_iter().next() {
            Some(Val::Arr(a)) => a.iter().cloned().collect(),
            _ => Vec::new(),
        }
    } else {
        outputs
    };
    let mut failures = Vec::new();
    let records = if whole_value {
        records
    } else {
        map_records(records, &args.rename, &args.select, &args.coerce, &mut failures)?
    };
    let preview_vals: Vec<Value> = if whole_value {
        match &records[0] {
            Val::Arr(a) => a.iter().take(preview).map(to_json).collect(),
            v => vec![to_json(v)],
        }
    } else {
        records.iter().take(preview).map(to_json).collect()
    };
    let n_records = if whole_value {
        match &records[0] {
            Val::Arr(a) => a.len(),
            _ => 1,
        }
    } else {
        records.len()
    };
    let bytes = match out_format {
        Format::Json if whole_value => pretty(&records[0]),
        Format::Json => pretty(&records.into_iter().collect::<Val>()),
        Format::Jsonl => {
            let mut b = Vec::new();
            for r in &records {
                b.extend(r.to_string().into_bytes());
                b.push(b'\n');
            }
            b
        }
        Format::Csv => write_table(&records, b',')?,
        Format::Tsv => write_table(&records, b'\t')?,
    };
    Ok(Done {
        bytes,
        format: out_format,
        inputs: n_inputs,
        outputs: n_outputs,
        records: n_records,
        preview: preview_vals,
        failures,
        origin: raw.origin,
        input_format: raw.format,
    })
}

#[async_trait]
impl TypedTool for TransformData {
    type Args = TransformArgs;
    fn name(&self) -> &'static str {
        "transform_data"
    }
    fn description(&self) -> &'static str {
        "Transform data: run a jq filter (jq syntax, through jaq), convert between CSV, TSV, JSON and JSON lines, \
         rename and select fields, convert field types (reporting values that fail), and write the result to a \
         workspace file. Reports counts and a preview."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(MAX_RUN + Duration::from_secs(60))
    }
    async fn run(&self, args: TransformArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let in_fmt = args.input_format.as_deref().map(|f| Format::parse(f, "input_format")).transpose()?;
        let out_fmt = match (&args.output_format, &args.output) {
            (Some(f), _) => Format::parse(f, "output_format")?,
            (None, Some(o)) => Format::of_name(o).unwrap_or(Format::Json),
            (None, None) => Format::Json,
        };
        for to in args.coerce.values() {
            if !["integer", "number", "boolean", "string"].contains(&to.as_str()) {
                return Err(bad(format!("field `coerce`: `{to}` is not integer, number, boolean or string")));
            }
        }
        let out_name = match &args.output {
            Some(o) => Some(vana_workspace::normalize(o).map_err(tool_error)?),
            None => None,
        };
        let raw = self.raw(&ctx, &args.source, in_fmt)?;
        let preview = args.preview.unwrap_or(20) as usize;
        // jq's recursive built-ins (recurse, while, ...) run on the native stack: a thread of
        // its own with room for deep recursion (reserved, committed only as used).
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("vana-jq".into())
            .stack_size(FILTER_STACK_BYTES)
            .spawn(move || {
                let r = transform(raw, &args, out_fmt, preview);
                let _ = tx.send((r, args));
            })
            .map_err(|e| ToolError::Failed(format!("cannot start the transformation: {e}")))?;
        let done = rx.await.map_err(|_| ToolError::Failed("the transformation crashed".to_string()))?;
        let done = done.0.map_err(ToolError::InvalidArgs)?;
        let written = match &out_name {
            Some(name) => Some(self.files.write(&ctx, name, &done.bytes)?),
            None => None,
        };
        let mut by_field: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &done.failures {
            *by_field.entry(f.field.as_str()).or_default() += 1;
        }
        let mut out = json!({
            "source": done.origin,
            "input_format": done.input_format.name(),
            "output_format": done.format.name(),
            "inputs": done.inputs,
            "filter_outputs": done.outputs,
            "records": done.records,
            "preview": done.preview,
            "bytes": done.bytes.len(),
            "coercion_failures": {
                "count": done.failures.len(),
                "by_field": by_field,
                "examples": done.failures.iter().take(50).map(|f| json!({
                    "record": f.record, "field": f.field, "value": f.value, "to": f.to
                })).collect::<Vec<_>>(),
            },
        });
        match written {
            Some(name) => out["written"] = json!(name),
            None if done.bytes.len() <= 20_000 => out["result"] = json!(String::from_utf8_lossy(&done.bytes)),
            None => {
                out["note"] = json!("the result is large; give `output` to write it to a workspace file");
            }
        }
        Ok(ToolOutput::json(out))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_extra_definitions_parse() {
        let defs = jaq_core::load::parse(super::EXTRA_DEFS, |p| p.defs()).expect("EXTRA_DEFS parse");
        assert_eq!(defs.len(), 2);
    }
}
