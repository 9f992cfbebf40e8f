//! The Enterprise Integration and GitHub suite:
//!
//! - `test_api_endpoint` ([`api_test`]): a request (or several) with measured phases, the body's
//!   inferred JSON Schema and pass/fail assertions, under its own outbound allow-list
//!   (`[integration]`, default the policy of `fetch_url`);
//! - `transform_data` ([`transform`]): jq filters through jaq, CSV/TSV/JSON/JSONL conversion,
//!   field renaming and selection, type coercion with a report of what failed, into the workspace;
//! - `validate_openapi_spec` and `generate_api_client` ([`openapi`]): OpenAPI 3.0/3.1 checks and
//!   clients from the OpenAPI Generator jar run with the machine's Java;
//! - `sync_data_between_systems` ([`sync`]): a file, a SQL query or a paginated JSON API into a
//!   table on a configured writable `[sql]` connection (PostgreSQL, MariaDB/MySQL, SQLite): append, upsert or
//!   mirror, dry run by default, batches in transactions, safe to re-run;
//! - the GitHub tools ([`github`]): REST v3 with `GITHUB_TOKEN`, a configurable base URL for
//!   GitHub Enterprise, pagination and rate limits; creating anything asks for approval.
//!
//! Every request goes through [`vana_net`]'s outbound policy; session files only through
//! [`vana_toolkit::SessionFiles`].

pub mod api_test;
mod config;
pub mod github;
mod jq_guard;
pub mod jsonpath;
pub mod openapi;
pub mod schema_infer;
pub mod sync;
mod sync_mysql;
pub mod timing;
pub mod transform;

pub use config::{find_jar_in, GithubConfig, IntegrationConfig};

use std::sync::Arc;
use vana_core::Tool;
use vana_toolkit::{typed, MissingPart, SessionFiles, SuiteStatus, ToolSuite};

/// The suite.
pub struct IntegrationSuite {
    config: IntegrationConfig,
    github: GithubConfig,
    policy: vana_net::OutboundPolicy,
    web: vana_net::OutboundPolicy,
    files: SessionFiles,
    connections: std::collections::BTreeMap<String, sync::SyncConnection>,
}

impl IntegrationSuite {
    /// The suite over `[integration]`, `[github]`, the policy of `fetch_url` (`[web]`, the default
    /// of `[integration]`'s allow-list) and the session workspaces.
    pub fn new(
        config: IntegrationConfig,
        github: GithubConfig,
        web: vana_net::OutboundPolicy,
        files: SessionFiles,
    ) -> Self {
        let policy = config.outbound(&web);
        IntegrationSuite { config, github, policy, web, files, connections: Default::default() }
    }

    /// The databases `sync_data_between_systems` may read and write: the `[sql.connections]`
    /// of the database tools, by name (vana-app passes them; there is no second connection list).
    pub fn with_connections(
        mut self,
        connections: std::collections::BTreeMap<String, sync::SyncConnection>,
    ) -> Self {
        self.connections = connections;
        self
    }

    fn sync_tool(&self) -> sync::SyncData {
        sync::SyncData {
            connections: self.connections.clone(),
            policy: self.policy.clone(),
            files: self.files.clone(),
            timeout: std::time::Duration::from_secs(self.config.timeout_secs.max(1)),
        }
    }

    /// The outbound policy of the integration tools.
    pub fn policy(&self) -> &vana_net::OutboundPolicy {
        &self.policy
    }
}

impl ToolSuite for IntegrationSuite {
    fn name(&self) -> &'static str {
        "integration"
    }
    fn description(&self) -> &'static str {
        "API endpoint tests with timings and assertions, jq transformations, OpenAPI clients, GitHub"
    }
    fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let mut tools: Vec<Arc<dyn Tool>> = vec![
            typed(api_test::TestApiEndpoint { config: self.config.clone(), policy: self.policy.clone() }),
            typed(transform::TransformData { files: self.files.clone() }),
            typed(openapi::ValidateOpenapiSpec {
                config: self.config.clone(),
                policy: self.policy.clone(),
                files: self.files.clone(),
            }),
            typed(openapi::GenerateApiClient {
                config: self.config.clone(),
                policy: self.policy.clone(),
                files: self.files.clone(),
            }),
            typed(self.sync_tool()),
            typed(sync::PreviewDataSync(self.sync_tool())),
        ];
        tools.extend(github::tools(Arc::new(github::Github::new(self.github.clone(), &self.web))));
        tools
    }
    fn config_sections(&self) -> &'static [&'static str] {
        &["integration", "github"]
    }
    fn status(&self) -> SuiteStatus {
        let mut missing = Vec::new();
        if !openapi::java_available(&self.config.java) {
            missing.push(MissingPart {
                what: format!(
                    "Java (`{}`, runs the OpenAPI Generator for generate_api_client)",
                    self.config.java
                ),
                fix: "apt-get install -y default-jre-headless".into(),
            });
        }
        if self.config.find_jar().is_none() {
            missing.push(MissingPart {
                what: "the OpenAPI Generator jar (generate_api_client)".into(),
                fix: "scripts/setup-integration.sh (pip install openapi-generator-cli into .cache/integration-venv), \
                      or set `[integration] generator_jar`"
                    .into(),
            });
        }
        if std::env::var_os(&self.github.token_env).is_none() {
            missing.push(MissingPart {
                what: format!("a GitHub token (${}, the GitHub tools)", self.github.token_env),
                fix: format!("set {} in VANA's environment", self.github.token_env),
            });
        }
        SuiteStatus { missing }
    }
}
