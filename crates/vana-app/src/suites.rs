//! The tool suites this build assembles: each suite crate's tools, registered into one
//! registry, and each suite's status (what external part is missing) for `vana agents list`
//! and the dashboard. Heavy optional suites sit behind cargo features of this crate.

use crate::config::Config;
use std::sync::Arc;
use vana_core::ToolRegistry;
use vana_toolkit::{SessionFiles, SuiteStatus, ToolSuite};

/// One suite's name, tools and status, as `vana agents list` and `/api/dashboard` show them.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuiteReport {
    /// The suite's name, e.g. `code`.
    pub name: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Its tools' names.
    pub tools: Vec<String>,
    /// The `vana.toml` sections it reads.
    pub config_sections: &'static [&'static str],
    /// What is missing (empty: ready).
    #[serde(flatten)]
    pub status: SuiteStatus,
}

/// Every suite of this build over the shared sandbox (and its session workspaces).
pub fn all(config: &Config, sandbox: &Arc<vana_tools_code::Sandbox>) -> Vec<Arc<dyn ToolSuite>> {
    let files = SessionFiles::new(sandbox.workspaces().clone());
    #[allow(unused_mut)]
    let mut suites: Vec<Arc<dyn ToolSuite>> = vec![
        Arc::new(vana_tools_code::CodeSuite::new(sandbox.clone())),
        Arc::new(vana_tools_data::DataSuite(files.clone())),
        Arc::new(vana_tools_data::AnalyticsSuite(files.clone())),
        Arc::new(vana_tools_data::SqlSuite { config: config.sql.clone(), files: files.clone() }),
    ];
    #[cfg(feature = "web")]
    suites.push(Arc::new(vana_tools_web::WebSuite::new(
        config.web.clone(),
        files.clone(),
        crate::config::data_dir(),
    )));
    #[cfg(feature = "browser")]
    {
        let browser = Arc::new(vana_tools_browser::BrowserSuite::new(
            config.browser.clone(),
            browser_policy(config),
            files.clone(),
        ));
        // The design tools render in the browser suite's Chromium (one browser for both).
        let design = vana_tools_browser::DesignSuite::new(
            config.design.clone(),
            browser.browser().clone(),
            browser_policy(config),
            files.clone(),
        );
        suites.push(browser);
        suites.push(Arc::new(design));
    }
    #[cfg(feature = "nlp")]
    suites.push(Arc::new(vana_tools_nlp::NlpSuite::new(files.clone(), crate::config::data_dir())));
    #[cfg(feature = "integration")]
    {
        // `[integration]` has its own allow-list; where it sets none, `[web]`'s policy applies.
        #[cfg(feature = "web")]
        let web = config.web.outbound();
        #[cfg(not(feature = "web"))]
        let web = vana_net::OutboundPolicy::default();
        // The sync reads and writes the database tools' `[sql.connections]` (one list).
        let connections = config
            .sql
            .connections
            .iter()
            .map(|(name, c)| {
                let c = vana_tools_integration::sync::SyncConnection {
                    url: c.url.clone(),
                    url_env: c.url_env.clone(),
                    writable: c.writable,
                };
                (name.clone(), c)
            })
            .collect();
        suites.push(Arc::new(
            vana_tools_integration::IntegrationSuite::new(
                config.integration.clone(),
                config.github.clone(),
                web,
                files.clone(),
            )
            .with_connections(connections),
        ));
    }
    #[cfg(feature = "ops")]
    suites.push(Arc::new(vana_tools_ops::OpsSuite::with_security(
        files.clone(),
        vana_tools_ops::security::SecurityConfig::from_toml(
            &crate::config::data_dir(),
            &config.security,
            network_policy(config),
        ),
    )));
    #[cfg(feature = "devops")]
    {
        // The AWS calls follow `[web]`'s policy, widened by the `[aws] endpoint_url` host.
        #[cfg(feature = "web")]
        let web = config.web.outbound();
        #[cfg(not(feature = "web"))]
        let web = vana_net::OutboundPolicy::default();
        suites.push(Arc::new(vana_tools_devops::DevopsSuite::new(
            config.devops.clone(),
            config.aws.clone(),
            web,
            files.clone(),
        )));
    }
    suites
}

/// The browser follows `[web]`'s outbound policy (the default policy when the web suite is
/// not built).
#[cfg(feature = "browser")]
fn browser_policy(config: &Config) -> vana_net::OutboundPolicy {
    #[cfg(feature = "web")]
    return config.web.outbound();
    #[cfg(not(feature = "web"))]
    {
        let _ = config;
        vana_net::OutboundPolicy::default()
    }
}

/// The security tools' outbound policy: `[web]`'s (the default policy when the web suite is
/// not built).
#[cfg(feature = "ops")]
fn network_policy(config: &Config) -> vana_net::OutboundPolicy {
    #[cfg(feature = "web")]
    return config.web.outbound();
    #[cfg(not(feature = "web"))]
    {
        let _ = config;
        vana_net::OutboundPolicy::default()
    }
}

/// Registers every suite's tools.
pub fn register(registry: &mut ToolRegistry, suites: &[Arc<dyn ToolSuite>]) {
    for tool in suites.iter().flat_map(|s| s.tools()) {
        registry.register(tool);
    }
}

/// What each suite offers and lacks.
pub fn reports(suites: &[Arc<dyn ToolSuite>]) -> Vec<SuiteReport> {
    suites
        .iter()
        .map(|s| SuiteReport {
            name: s.name(),
            description: s.description(),
            tools: s.tools().iter().map(|t| t.name().to_string()).collect(),
            config_sections: s.config_sections(),
            status: s.status(),
        })
        .collect()
}
