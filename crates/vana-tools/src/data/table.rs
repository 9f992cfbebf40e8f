//! A typed, column-oriented table: numbers (NaN = missing), booleans and text, with pandas'
//! missing-value rules, read from CSV, JSON records or a SQL result.

use serde_json::{json, Map, Value};

/// The values of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnData {
    /// Numbers; `NaN` marks a missing value (as in pandas).
    Num(Vec<f64>),
    /// Booleans; `None` is missing.
    Bool(Vec<Option<bool>>),
    /// Text; `None` is missing.
    Text(Vec<Option<String>>),
}

/// One named column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Column name (the header).
    pub name: String,
    /// The values.
    pub data: ColumnData,
    /// True when every present numeric value was written as an integer.
    pub integral: bool,
}

/// A table of equally long columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The columns in source order.
    pub columns: Vec<Column>,
    /// Number of rows.
    pub rows: usize,
}

/// Strings pandas' `read_csv` reads as missing by default.
pub const NA_VALUES: &[&str] = &[
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
    "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
];

fn is_na(s: &str) -> bool {
    NA_VALUES.contains(&s)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "True" | "TRUE" | "true" => Some(true),
        "False" | "FALSE" | "false" => Some(false),
        _ => None,
    }
}

fn parse_num(s: &str) -> Option<(f64, bool)> {
    let b = s.as_bytes();
    let first = *b.first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'i' | b'I')) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    let integral = b.iter().all(|c| c.is_ascii_digit() || *c == b'-' || *c == b'+');
    Some((v, integral))
}

impl Column {
    /// pandas-style dtype name: `int64`, `float64`, `bool` or `object`.
    pub fn dtype(&self) -> &'static str {
        match &self.data {
            ColumnData::Num(v) if self.integral && !v.iter().any(|x| x.is_nan()) => "int64",
            ColumnData::Num(_) => "float64",
            ColumnData::Bool(v) if v.iter().all(Option::is_some) => "bool",
            _ => "object",
        }
    }

    /// Number of missing values.
    pub fn missing(&self) -> usize {
        match &self.data {
            ColumnData::Num(v) => v.iter().filter(|x| x.is_nan()).count(),
            ColumnData::Bool(v) => v.iter().filter(|x| x.is_none()).count(),
            ColumnData::Text(v) => v.iter().filter(|x| x.is_none()).count(),
        }
    }

    /// The numbers, if this is a numeric column.
    pub fn nums(&self) -> Option<&[f64]> {
        match &self.data {
            ColumnData::Num(v) => Some(v),
            _ => None,
        }
    }

    /// Value `i` as text for grouping and display (`None` when missing).
    pub fn text_at(&self, i: usize) -> Option<String> {
        match &self.data {
            ColumnData::Num(v) => (!v[i].is_nan()).then(|| fmt_num(v[i])),
            ColumnData::Bool(v) => v[i].map(|b| if b { "True".into() } else { "False".into() }),
            ColumnData::Text(v) => v[i].clone(),
        }
    }

    /// Value `i` as a number (booleans as 0/1; text that parses), NaN when missing or not numeric.
    pub fn num_at(&self, i: usize) -> f64 {
        match &self.data {
            ColumnData::Num(v) => v[i],
            ColumnData::Bool(v) => v[i].map(|b| b as u8 as f64).unwrap_or(f64::NAN),
            ColumnData::Text(v) => v[i].as_deref().and_then(|s| s.trim().parse().ok()).unwrap_or(f64::NAN),
        }
    }

    /// Value `i` as JSON.
    pub fn json_at(&self, i: usize) -> Value {
        match &self.data {
            ColumnData::Num(v) => num_json(v[i]),
            ColumnData::Bool(v) => v[i].map(Value::Bool).unwrap_or(Value::Null),
            ColumnData::Text(v) => v[i].clone().map(Value::String).unwrap_or(Value::Null),
        }
    }

    /// A column holding only the rows in `idx`.
    pub fn take(&self, idx: &[usize]) -> Column {
        let data = match &self.data {
            ColumnData::Num(v) => ColumnData::Num(idx.iter().map(|&i| v[i]).collect()),
            ColumnData::Bool(v) => ColumnData::Bool(idx.iter().map(|&i| v[i]).collect()),
            ColumnData::Text(v) => ColumnData::Text(idx.iter().map(|&i| v[i].clone()).collect()),
        };
        Column { name: self.name.clone(), data, integral: self.integral }
    }
}

/// A number as JSON (`null` for NaN/inf, integers without a fraction).
pub fn num_json(x: f64) -> Value {
    if !x.is_finite() {
        Value::Null
    } else if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// A number as short text (integers without `.0`).
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

enum Builder {
    Empty(usize),
    Num(Vec<f64>, bool),
    Bool(Vec<Option<bool>>),
    Text(Vec<Option<String>>),
    /// Saw text after numbers/booleans: the column is re-read as text in a second pass.
    Demoted,
}

impl Builder {
    fn push(&mut self, raw: &str) {
        let na = is_na(raw);
        match self {
            Builder::Empty(n) => {
                if na {
                    *n += 1;
                    return;
                }
                let pad = *n;
                *self = if let Some((v, int)) = parse_num(raw) {
                    let mut col = vec![f64::NAN; pad];
                    col.push(v);
                    Builder::Num(col, int)
                } else if let Some(b) = parse_bool(raw) {
                    let mut col = vec![None; pad];
                    col.push(Some(b));
                    Builder::Bool(col)
                } else {
                    let mut col = vec![None; pad];
                    col.push(Some(raw.to_string()));
                    Builder::Text(col)
                };
            }
            Builder::Num(col, int) => {
                if na {
                    col.push(f64::NAN);
                } else if let Some((v, i)) = parse_num(raw) {
                    *int &= i;
                    col.push(v);
                } else {
                    *self = Builder::Demoted;
                }
            }
            Builder::Bool(col) => {
                if na {
                    col.push(None);
                } else if let Some(b) = parse_bool(raw) {
                    col.push(Some(b));
                } else {
                    *self = Builder::Demoted;
                }
            }
            Builder::Text(col) => col.push((!na).then(|| raw.to_string())),
            Builder::Demoted => {}
        }
    }

    fn finish(self, name: String) -> Column {
        let (data, integral) = match self {
            Builder::Empty(n) => (ColumnData::Num(vec![f64::NAN; n]), false),
            Builder::Num(v, i) => (ColumnData::Num(v), i),
            Builder::Bool(v) => (ColumnData::Bool(v), false),
            Builder::Text(v) => (ColumnData::Text(v), false),
            Builder::Demoted => (ColumnData::Text(Vec::new()), false),
        };
        Column { name, data, integral }
    }
}

/// Why a table could not be read.
pub type ReadError = String;

impl Table {
    /// Parses CSV text with a header row; types are inferred per column as pandas does
    /// (numbers, then booleans, else text; pandas' NA strings are missing).
    pub fn from_csv(bytes: &[u8]) -> Result<Table, ReadError> {
        let delim = sniff_delimiter(bytes);
        let mut rdr = csv::ReaderBuilder::new().delimiter(delim).flexible(false).from_reader(bytes);
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| format!("cannot read the CSV header: {e}"))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        if headers.is_empty() || headers.iter().all(|h| h.is_empty()) {
            return Err("the CSV has no header row".into());
        }
        let mut builders: Vec<Builder> = headers.iter().map(|_| Builder::Empty(0)).collect();
        let mut rec = csv::ByteRecord::new();
        let mut rows = 0usize;
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(format!("invalid CSV at data row {}: {e}", rows + 1)),
            }
            for (b, field) in builders.iter_mut().zip(rec.iter()) {
                let s = std::str::from_utf8(field)
                    .map_err(|_| format!("row {} is not valid UTF-8; re-save the file as UTF-8", rows + 1))?;
                b.push(s);
            }
            rows += 1;
        }
        let demoted: Vec<usize> = builders
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, Builder::Demoted))
            .map(|(i, _)| i)
            .collect();
        let mut columns: Vec<Column> =
            builders.into_iter().zip(headers).map(|(b, name)| b.finish(name)).collect();
        if !demoted.is_empty() {
            let mut texts: Vec<Vec<Option<String>>> =
                demoted.iter().map(|_| Vec::with_capacity(rows)).collect();
            let mut rdr = csv::ReaderBuilder::new().delimiter(delim).from_reader(bytes);
            while rdr.read_byte_record(&mut rec).map_err(|e| e.to_string())? {
                for (t, &c) in texts.iter_mut().zip(&demoted) {
                    let s = std::str::from_utf8(&rec[c]).unwrap_or_default();
                    t.push((!is_na(s)).then(|| s.to_string()));
                }
            }
            for (t, &c) in texts.into_iter().zip(&demoted) {
                columns[c].data = ColumnData::Text(t);
            }
        }
        dedupe_names(&mut columns);
        Ok(Table { columns, rows })
    }

    /// Reads JSON: an array of records (objects), `{"columns": [...], "rows": [[...]]}` (a SQL
    /// result), or an object of equally long arrays.
    pub fn from_json(v: &Value) -> Result<Table, ReadError> {
        match v {
            Value::Array(records) => {
                let mut names: Vec<String> = Vec::new();
                for r in records {
                    let Value::Object(o) = r else {
                        return Err("a JSON array source must hold objects (one per row)".into());
                    };
                    for k in o.keys() {
                        if !names.contains(k) {
                            names.push(k.clone());
                        }
                    }
                }
                let cols: Vec<(String, Vec<Value>)> = names
                    .into_iter()
                    .map(|n| {
                        let vals =
                            records.iter().map(|r| r.get(&n).cloned().unwrap_or(Value::Null)).collect();
                        (n, vals)
                    })
                    .collect();
                Ok(Self::from_value_columns(cols, records.len()))
            }
            Value::Object(o) if o.contains_key("columns") && o.contains_key("rows") => {
                let names: Vec<String> = o["columns"]
                    .as_array()
                    .ok_or("`columns` must be an array")?
                    .iter()
                    .map(|c| c.get("name").and_then(Value::as_str).or(c.as_str()).map(str::to_string))
                    .collect::<Option<_>>()
                    .ok_or("each entry of `columns` must be a name or {\"name\": ...}")?;
                let rows = o["rows"].as_array().ok_or("`rows` must be an array of arrays")?;
                let mut cols: Vec<(String, Vec<Value>)> =
                    names.into_iter().map(|n| (n, Vec::new())).collect();
                for (i, r) in rows.iter().enumerate() {
                    let r = r.as_array().filter(|r| r.len() == cols.len()).ok_or_else(|| {
                        format!("row {} must be an array of {} values (one per column)", i + 1, cols.len())
                    })?;
                    for (c, v) in cols.iter_mut().zip(r) {
                        c.1.push(v.clone());
                    }
                }
                Ok(Self::from_value_columns(cols, rows.len()))
            }
            Value::Object(o) => {
                let n = o.values().next().and_then(Value::as_array).map(Vec::len).unwrap_or(0);
                let mut cols = Vec::new();
                for (k, v) in o {
                    let a = v.as_array().filter(|a| a.len() == n).ok_or_else(|| {
                        format!("column `{k}` must be an array of {n} values (all columns equally long)")
                    })?;
                    cols.push((k.clone(), a.clone()));
                }
                Ok(Self::from_value_columns(cols, n))
            }
            _ => Err("JSON data must be an array of row objects or an object of columns".into()),
        }
    }

    fn from_value_columns(cols: Vec<(String, Vec<Value>)>, rows: usize) -> Table {
        let columns = cols
            .into_iter()
            .map(|(name, vals)| {
                let present = || vals.iter().filter(|v| !v.is_null());
                if present().all(Value::is_number) {
                    let integral = present().all(|v| v.is_i64() || v.is_u64());
                    let data = vals.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect();
                    Column { name, data: ColumnData::Num(data), integral }
                } else if present().all(Value::is_boolean) {
                    Column {
                        name,
                        data: ColumnData::Bool(vals.iter().map(Value::as_bool).collect()),
                        integral: false,
                    }
                } else {
                    let data = vals
                        .iter()
                        .map(|v| match v {
                            Value::Null => None,
                            Value::String(s) => Some(s.clone()),
                            other => Some(other.to_string()),
                        })
                        .collect();
                    Column { name, data: ColumnData::Text(data), integral: false }
                }
            })
            .collect();
        Table { columns, rows }
    }

    /// The column with this name, or an error listing the columns there are.
    pub fn column(&self, name: &str) -> Result<&Column, String> {
        self.columns.iter().find(|c| c.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
            format!("no column `{name}`; the columns are: {}", names.join(", "))
        })
    }

    /// A table holding only the rows in `idx`.
    pub fn take(&self, idx: &[usize]) -> Table {
        Table { columns: self.columns.iter().map(|c| c.take(idx)).collect(), rows: idx.len() }
    }

    /// Row `i` as a JSON object.
    pub fn row_json(&self, i: usize) -> Value {
        let mut m = Map::new();
        for c in &self.columns {
            m.insert(c.name.clone(), c.json_at(i));
        }
        Value::Object(m)
    }

    /// Writes the table as CSV (missing values as empty fields).
    pub fn to_csv(&self) -> Result<Vec<u8>, String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.columns.iter().map(|c| c.name.as_str())).map_err(|e| e.to_string())?;
        for i in 0..self.rows {
            w.write_record(self.columns.iter().map(|c| c.text_at(i).unwrap_or_default()))
                .map_err(|e| e.to_string())?;
        }
        w.into_inner().map_err(|e| e.to_string())
    }
}

fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |d: u8| first.iter().filter(|b| **b == d).count();
    [b',', b'\t', b';', b'|'].into_iter().max_by_key(|d| (count(*d), *d == b',')).unwrap_or(b',')
}

fn dedupe_names(columns: &mut [Column]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for c in columns.iter_mut() {
        let n = seen.entry(c.name.clone()).or_insert(0);
        if *n > 0 {
            c.name = format!("{}.{}", c.name, n);
        }
        *n += 1;
    }
}
