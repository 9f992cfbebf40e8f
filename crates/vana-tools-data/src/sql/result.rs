//! A query result as a table: typed columns, rows, and whether the row limit cut it.

use serde_json::{json, Value};

/// Rows of a query with their columns' database types.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResultTable {
    /// (name, database type) per column.
    pub columns: Vec<(String, String)>,
    /// Row values as JSON (numbers, strings, booleans, null).
    pub rows: Vec<Vec<Value>>,
    /// True when more rows existed than the limit allowed.
    pub truncated: bool,
    /// Rows changed by a write statement.
    pub rows_affected: Option<u64>,
}

impl ResultTable {
    /// The JSON shape that `analyze_dataset` and `visualize_data` accept as `source`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "columns": self.columns.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
            "rows": self.rows,
            "rowCount": self.rows.len(),
            "truncated": self.truncated,
        });
        if let Some(n) = self.rows_affected {
            v["rowsAffected"] = json!(n);
        }
        v
    }
}
