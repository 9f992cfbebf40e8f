//! The Data Science, Advanced Analytics and Database suites, one crate because they share their
//! dependencies (the CSV reader, plotters, smartcore, statrs, rusqlite, tokio-postgres,
//! sqlparser) and their tables: analyse, clean and chart datasets, statistical tests, models and
//! predictions (`data`), forecasts and business facts (`analytics`), and SQL on SQLite files and
//! PostgreSQL, read-only unless a configured connection is writable and a human approves
//! (`sql`). Every tool does the real work or returns a clear error saying why it could not;
//! session files are reached only through the toolkit's `SessionFiles`.

pub mod analytics;
pub mod data;
pub mod sql;

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{MissingPart, SessionFiles, SuiteStatus, ToolSuite};

/// The data tools (`data_science`).
pub struct DataSuite(pub SessionFiles);

impl ToolSuite for DataSuite {
    fn name(&self) -> &'static str {
        "data"
    }
    fn description(&self) -> &'static str {
        "analyse, clean and chart CSV/JSON data, statistical tests, ML models and predictions"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        data::tools(&self.0)
    }
    /// Charts need a TrueType font from the system (Debian's `fonts-dejavu-core`).
    fn status(&self) -> SuiteStatus {
        match data::chart::font_path() {
            Some(_) => SuiteStatus::ready(),
            None => SuiteStatus {
                missing: vec![MissingPart {
                    what: "a font for chart labels".into(),
                    fix: "apt-get install -y fonts-dejavu-core".into(),
                }],
            },
        }
    }
}

/// The forecasting and business-facts tools (`advanced_analytics`).
pub struct AnalyticsSuite(pub SessionFiles);

impl ToolSuite for AnalyticsSuite {
    fn name(&self) -> &'static str {
        "analytics"
    }
    fn description(&self) -> &'static str {
        "forecasts with backtests and intervals, computed business facts"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        analytics::tools(&self.0)
    }
}

/// The SQL tools (`database`) over the `[sql]` connections.
pub struct SqlSuite {
    /// Named connections and limits (`[sql]`).
    pub config: sql::SqlConfig,
    /// The session workspaces (SQLite files the model names).
    pub files: SessionFiles,
}

impl ToolSuite for SqlSuite {
    fn name(&self) -> &'static str {
        "sql"
    }
    fn description(&self) -> &'static str {
        "SQL on SQLite files and PostgreSQL, read-only unless a writable connection and a human's approval"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        sql::tools(self.config.clone(), &self.files)
    }
    fn config_sections(&self) -> &'static [&'static str] {
        &["sql"]
    }
    /// Each configured connection whose URL comes from an environment variable that is not set.
    fn status(&self) -> SuiteStatus {
        let missing = self
            .config
            .connections
            .iter()
            .filter(|(_, c)| !c.url_env.is_empty() && std::env::var_os(&c.url_env).is_none())
            .map(|(name, c)| MissingPart {
                what: format!("the URL of connection `{name}` (${})", c.url_env),
                fix: format!("set {} in VANA's environment", c.url_env),
            })
            .collect();
        SuiteStatus { missing }
    }
}
