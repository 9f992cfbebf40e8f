//! Notebook-cell semantics for inline code: the value of the last expression is shown, as in a
//! REPL or a Jupyter cell (`2**100` prints `1267650600228229401496703205376`).
//!
//! The interpreter runs a small wrapper (`python3 -c`, `node -e`) that reads the submitted
//! script, runs it as the main program would run (same `__name__`/`require.main`, argv, stdin,
//! tracebacks with the script's own line numbers), and prints the last expression's value when
//! there is one: Python's `repr` unless it is `None` (a trailing `;` suppresses it, as in
//! Jupyter); JavaScript's completion value through `util.inspect` unless it is `undefined`, a
//! promise or an event emitter (a chained `socket.on(...)`).

use serde::{Deserialize, Serialize};

/// How a language shows the value of a cell's last expression (`echo` in the language's
/// policy entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Echo {
    /// CPython: the last statement, when an expression, is compiled in `single` mode.
    Python,
    /// Node.js: the script's completion value, as the REPL prints it.
    Node,
}

impl Echo {
    /// Interpreter arguments placed before the script path: the wrapper that runs it as a cell.
    pub fn wrapper_args(self) -> [&'static str; 2] {
        match self {
            Echo::Python => ["-c", include_str!("echo/cell.py")],
            Echo::Node => ["-e", include_str!("echo/cell.js")],
        }
    }
}
