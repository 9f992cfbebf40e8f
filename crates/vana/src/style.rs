//! Terminal colours: used only when the output is a terminal and NO_COLOR is unset.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// ANSI codes (empty strings when colour is off).
#[derive(Clone, Copy)]
pub struct Codes {
    /// Bold.
    pub sb: &'static str,
    /// Reset.
    pub s0: &'static str,
    /// Dim.
    pub sd: &'static str,
    /// Red.
    pub sred: &'static str,
    /// Yellow.
    pub sy: &'static str,
    /// Cyan.
    pub sc: &'static str,
}

/// The codes for this process.
pub fn codes() -> Codes {
    static ON: OnceLock<bool> = OnceLock::new();
    let on = *ON.get_or_init(|| {
        std::env::var_os("NO_COLOR").is_none()
            && std::io::stdout().is_terminal()
            && std::io::stderr().is_terminal()
    });
    if on {
        Codes {
            sb: "\x1b[1m",
            s0: "\x1b[0m",
            sd: "\x1b[2m",
            sred: "\x1b[31m",
            sy: "\x1b[33m",
            sc: "\x1b[36m",
        }
    } else {
        Codes { sb: "", s0: "", sd: "", sred: "", sy: "", sc: "" }
    }
}
