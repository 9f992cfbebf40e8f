//! Reading tool arguments with clear errors.

use serde_json::Value;
use vana_core::ToolError;

/// A required string argument.
pub(crate) fn string<'a>(args: &'a Value, key: &str) -> Result<&'a str, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::InvalidArgs(format!("`{key}` (string) is required")))
}

/// An optional string argument.
pub(crate) fn opt_string<'a>(args: &'a Value, key: &str) -> Result<Option<&'a str>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ToolError::InvalidArgs(format!("`{key}` must be a string, got {other}"))),
    }
}

/// An optional number argument.
pub(crate) fn opt_f64(args: &Value, key: &str) -> Result<Option<f64>, ToolError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| ToolError::InvalidArgs(format!("`{key}` must be a number, got {v}"))),
    }
}
