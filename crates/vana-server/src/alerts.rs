//! Alerts: rules from `[server.alerts]` (a sandbox security finding, an MCP server down too
//! long, an agent's error rate too high) raise an alert that the dashboard shows, the audit
//! log records and, when configured, a webhook receives as a JSON POST.

use crate::audit_log::AuditLog;
use crate::metrics::Metrics;
use crate::state::McpHealth;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use vana_app::config::AlertsConfig;
use vana_core::event::now_secs;

/// Alerts kept for the dashboard.
const KEEP: usize = 100;

/// One raised alert.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// Rule: `sandbox_finding`, `mcp_down`, `error_rate`.
    pub rule: String,
    /// What it is about (tool, server, agent).
    pub subject: String,
    /// What happened.
    pub message: String,
    /// When, seconds since the epoch.
    pub time: f64,
    /// Details.
    pub data: Value,
}

#[derive(Default)]
struct Inner {
    recent: VecDeque<Alert>,
    /// Conditions currently raised (rule/subject), so a lasting condition alerts once.
    active: HashSet<String>,
}

/// The alert rules and the alerts raised.
#[derive(Clone)]
pub struct Alerts {
    cfg: AlertsConfig,
    audit: AuditLog,
    inner: Arc<Mutex<Inner>>,
    http: reqwest::Client,
}

impl Alerts {
    /// Alerts with these rules, recorded in `audit`.
    pub fn new(cfg: AlertsConfig, audit: AuditLog) -> Self {
        Alerts { cfg, audit, inner: Arc::default(), http: reqwest::Client::new() }
    }

    /// The rules.
    pub fn config(&self) -> &AlertsConfig {
        &self.cfg
    }

    /// The most recent alerts, newest first.
    pub fn recent(&self) -> Vec<Alert> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).recent.iter().rev().cloned().collect()
    }

    /// Raises an alert: kept for the dashboard, audited, sent to the webhook.
    pub fn raise(&self, rule: &str, subject: &str, message: String, data: Value) {
        let alert = Alert { rule: rule.into(), subject: subject.into(), message, time: now_secs(), data };
        {
            let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if g.recent.len() == KEEP {
                g.recent.pop_front();
            }
            g.recent.push_back(alert.clone());
        }
        tracing::warn!(rule, subject, "alert: {}", alert.message);
        self.audit.log(
            "alert",
            "",
            if rule == "error_rate" { subject } else { "" },
            "",
            format!("alert {rule} {subject}: {}", alert.message),
            json!({"rule": rule, "subject": subject, "data": alert.data}),
        );
        if !self.cfg.webhook_url.is_empty() {
            let (http, url, audit) = (self.http.clone(), self.cfg.webhook_url.clone(), self.audit.clone());
            tokio::spawn(async move {
                let sent =
                    http.post(&url).json(&alert).timeout(std::time::Duration::from_secs(10)).send().await;
                let failure = match sent {
                    Ok(r) if r.status().is_success() => None,
                    Ok(r) => Some(format!("webhook answered HTTP {}", r.status())),
                    Err(e) => Some(format!("webhook unreachable: {e}")),
                };
                if let Some(f) = failure {
                    tracing::error!("alert webhook {url}: {f}");
                    audit.log("alert", "", "", "", format!("alert webhook failed: {f}"), json!({"url": url}));
                }
            });
        }
    }

    /// Raises once while a condition holds; clears when it stops holding.
    fn condition(
        &self,
        holds: bool,
        rule: &str,
        subject: &str,
        message: impl FnOnce() -> String,
        data: Value,
    ) {
        let key = format!("{rule}/{subject}");
        let newly = {
            let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if holds {
                g.active.insert(key)
            } else {
                g.active.remove(&key);
                false
            }
        };
        if newly {
            self.raise(rule, subject, message(), data);
        }
    }

    /// Checks the threshold rules against current measurements (called every second).
    pub fn evaluate(&self, metrics: &Metrics, mcp: &[McpHealth]) {
        if self.cfg.error_rate_percent > 0.0 {
            for (agent, rate, n) in metrics.error_rates() {
                let holds = n >= self.cfg.error_rate_min_requests && rate > self.cfg.error_rate_percent;
                self.condition(
                    holds,
                    "error_rate",
                    &agent,
                    || {
                        format!(
                            "{rate:.0}% of {n} requests failed in the last minute (limit {}%)",
                            self.cfg.error_rate_percent
                        )
                    },
                    json!({"ratePercent": rate, "requests": n}),
                );
            }
        }
        if self.cfg.mcp_down_secs > 0 {
            for s in mcp {
                let holds = !s.up && s.down_secs >= self.cfg.mcp_down_secs as f64;
                self.condition(
                    holds,
                    "mcp_down",
                    &s.name,
                    || {
                        format!(
                            "MCP server {} down for {:.0} s: {}",
                            s.name,
                            s.down_secs,
                            s.last_error.clone().unwrap_or_default()
                        )
                    },
                    json!({"downSecs": s.down_secs, "lastError": s.last_error}),
                );
            }
        }
    }
}
