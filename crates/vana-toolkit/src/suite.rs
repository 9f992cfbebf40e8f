//! A tool suite: the tools of one specialist domain, the config section they read, and a check
//! of the external parts they need (a binary, a virtualenv, a socket), so `vana agents list`
//! and the dashboard can say "needs X" before a call fails.

use std::sync::Arc;
use vana_core::Tool;

/// An external part a suite needs that is not there, and the one step that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MissingPart {
    /// What is missing, e.g. `user namespaces (the code sandbox)`.
    pub what: String,
    /// What to do, e.g. `apt-get install -y chromium`.
    pub fix: String,
}

/// Whether a suite's external parts are present.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SuiteStatus {
    /// What is missing; empty when the suite is ready.
    pub missing: Vec<MissingPart>,
}

impl SuiteStatus {
    /// Everything present.
    pub fn ready() -> Self {
        SuiteStatus::default()
    }

    /// True when nothing is missing.
    pub fn is_ready(&self) -> bool {
        self.missing.is_empty()
    }
}

/// The tools of one domain, assembled by `vana-app`.
pub trait ToolSuite: Send + Sync {
    /// Short name, e.g. `code`, `data`.
    fn name(&self) -> &'static str;
    /// What the suite is for, in one line.
    fn description(&self) -> &'static str;
    /// Its tools, ready to register.
    fn tools(&self) -> Vec<Arc<dyn Tool>>;
    /// The `vana.toml` sections it reads, if any (e.g. `["sql"]`).
    fn config_sections(&self) -> &'static [&'static str] {
        &[]
    }
    /// Checks its external parts (cheap: no network, no sandbox start).
    fn status(&self) -> SuiteStatus {
        SuiteStatus::ready()
    }
}
