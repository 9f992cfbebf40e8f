//! A typed, column-oriented table: numbers (NaN = missing), booleans and text, with pandas'
//! missing-value rules, read from CSV, JSON records or a SQL result.

use super::hash::FxBuild;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The values of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnData {
    /// Numbers; `NaN` marks a missing value (as in pandas).
    Num(Vec<f64>),
    /// Booleans; `None` is missing.
    Bool(Vec<Option<bool>>),
    /// Text, dictionary-encoded (one code per row, each distinct string once).
    Text(TextColumn),
}

/// Code of a missing value in a [`TextColumn`].
pub const MISSING_CODE: u32 = u32::MAX;

/// Dictionary-encoded text: one `u32` code per row ([`MISSING_CODE`] when missing) and each
/// distinct string stored once. Every string in the dictionary is different, so two rows hold
/// equal text exactly when their codes are equal.
#[derive(Clone, Debug, Default)]
pub struct TextColumn {
    codes: Vec<u32>,
    dict: Vec<String>,
}

impl TextColumn {
    /// A column from codes and a dictionary of distinct strings (every code < `dict.len()` or
    /// [`MISSING_CODE`]).
    pub(crate) fn from_parts(codes: Vec<u32>, dict: Vec<String>) -> TextColumn {
        debug_assert!(codes.iter().all(|&c| c == MISSING_CODE || (c as usize) < dict.len()));
        debug_assert_eq!(
            dict.iter().collect::<std::collections::HashSet<_>>().len(),
            dict.len(),
            "dictionary strings must be distinct"
        );
        TextColumn { codes, dict }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The text of row `i` (`None` when missing).
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let c = self.codes[i];
        (c != MISSING_CODE).then(|| self.dict[c as usize].as_str())
    }

    /// True when row `i` is missing.
    #[inline]
    pub fn is_missing(&self, i: usize) -> bool {
        self.codes[i] == MISSING_CODE
    }

    /// One code per row: an index into [`TextColumn::dict`], or [`MISSING_CODE`].
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// The distinct strings (some may no longer occur after rows were removed).
    pub fn dict(&self) -> &[String] {
        &self.dict
    }

    /// The rows' text in order (`None` when missing).
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.codes.iter().map(|&c| (c != MISSING_CODE).then(|| self.dict[c as usize].as_str()))
    }

    /// Number of missing rows.
    pub fn missing(&self) -> usize {
        self.codes.iter().filter(|&&c| c == MISSING_CODE).count()
    }

    /// A column holding only the rows in `idx` (the dictionary keeps only the strings used).
    pub fn take(&self, idx: &[usize]) -> TextColumn {
        let mut remap = vec![MISSING_CODE; self.dict.len()];
        let mut dict = Vec::new();
        let codes = idx
            .iter()
            .map(|&i| {
                let c = self.codes[i];
                if c == MISSING_CODE {
                    return c;
                }
                let r = &mut remap[c as usize];
                if *r == MISSING_CODE {
                    *r = dict.len() as u32;
                    dict.push(self.dict[c as usize].clone());
                }
                *r
            })
            .collect();
        TextColumn { codes, dict }
    }

    /// Sets every missing row to `value`; returns how many were filled.
    pub fn fill_missing(&mut self, value: &str) -> usize {
        let code = match self.dict.iter().position(|d| d == value) {
            Some(c) => c as u32,
            None => {
                self.dict.push(value.to_string());
                (self.dict.len() - 1) as u32
            }
        };
        let mut n = 0;
        for c in self.codes.iter_mut().filter(|c| **c == MISSING_CODE) {
            *c = code;
            n += 1;
        }
        n
    }
}

/// Equal when the rows hold the same text (whatever the dictionaries' order).
impl PartialEq for TextColumn {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<S: AsRef<str>> FromIterator<Option<S>> for TextColumn {
    fn from_iter<I: IntoIterator<Item = Option<S>>>(iter: I) -> Self {
        let mut index: HashMap<String, u32, FxBuild> = HashMap::default();
        let codes = iter
            .into_iter()
            .map(|v| match v {
                None => MISSING_CODE,
                Some(s) => {
                    let s = s.as_ref();
                    match index.get(s) {
                        Some(&c) => c,
                        None => {
                            let c = index.len() as u32;
                            index.insert(s.to_string(), c);
                            c
                        }
                    }
                }
            })
            .collect();
        let mut dict = vec![String::new(); index.len()];
        for (s, c) in index {
            dict[c as usize] = s;
        }
        TextColumn { codes, dict }
    }
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
            ColumnData::Text(v) => v.missing(),
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
            ColumnData::Text(v) => v.get(i).map(str::to_string),
        }
    }

    /// Value `i` as a number (booleans as 0/1; text that parses), NaN when missing or not numeric.
    pub fn num_at(&self, i: usize) -> f64 {
        match &self.data {
            ColumnData::Num(v) => v[i],
            ColumnData::Bool(v) => v[i].map(|b| b as u8 as f64).unwrap_or(f64::NAN),
            ColumnData::Text(v) => v.get(i).and_then(|s| s.trim().parse().ok()).unwrap_or(f64::NAN),
        }
    }

    /// Value `i` as JSON.
    pub fn json_at(&self, i: usize) -> Value {
        match &self.data {
            ColumnData::Num(v) => num_json(v[i]),
            ColumnData::Bool(v) => v[i].map(Value::Bool).unwrap_or(Value::Null),
            ColumnData::Text(v) => v.get(i).map(|s| Value::String(s.to_string())).unwrap_or(Value::Null),
        }
    }

    /// A column holding only the rows in `idx`.
    pub fn take(&self, idx: &[usize]) -> Column {
        let data = match &self.data {
            ColumnData::Num(v) => ColumnData::Num(idx.iter().map(|&i| v[i]).collect()),
            ColumnData::Bool(v) => ColumnData::Bool(idx.iter().map(|&i| v[i]).collect()),
            ColumnData::Text(v) => ColumnData::Text(v.take(idx)),
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

/// Why a table could not be read.
pub type ReadError = String;

impl Table {
    /// Parses CSV text with a header row; types are inferred per column as pandas does
    /// (numbers, then booleans, else text; pandas' NA strings are missing).
    ///
    /// Large inputs are split at record boundaries and parsed on several threads; the result
    /// is the same as a single sequential pass (see [`super::csv_read`]).
    pub fn from_csv(bytes: &[u8]) -> Result<Table, ReadError> {
        super::csv_read::read(bytes, super::csv_read::default_chunks(bytes.len()))
    }

    /// Reads an open CSV file (from its start) exactly as [`Table::from_csv`] reads its bytes, without holding the
    /// whole file in memory: 1 MiB blocks, and for large files one region per core in parallel.
    pub fn from_csv_file(file: &std::fs::File) -> Result<Table, ReadError> {
        super::csv_read::read_file(file)
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

pub(crate) fn sniff_delimiter(bytes: &[u8]) -> u8 {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |d: u8| first.iter().filter(|b| **b == d).count();
    [b',', b'\t', b';', b'|'].into_iter().max_by_key(|d| (count(*d), *d == b',')).unwrap_or(b',')
}

pub(crate) fn dedupe_names(columns: &mut [Column]) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for c in columns.iter_mut() {
        let n = seen.entry(c.name.clone()).or_insert(0);
        if *n > 0 {
            c.name = format!("{}.{}", c.name, n);
        }
        *n += 1;
    }
}
