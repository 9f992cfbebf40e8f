//! The browser every session shares: one Chromium process (started on first use, restarted
//! after a crash with a clear error to the sessions that lost their page, stopped when idle)
//! and one browser context per VANA session (its own cookies, storage, history and proxy;
//! never shared with another session), closed after an idle time, at most `max_contexts` open.

use crate::cdp::CdpError;
use crate::config::BrowserConfig;
use crate::page::Page;
use crate::process::{Process, StartError};
use crate::proxy::Proxy;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use vana_core::ToolError;
use vana_net::OutboundPolicy;

#[derive(Default)]
struct State {
    process: Option<Arc<Process>>,
    pages: HashMap<String, Arc<Page>>,
    /// Sessions whose page a crash took, and what to tell them (once).
    lost: HashMap<String, String>,
    last_activity: Option<Instant>,
    reaper: bool,
}

/// The shared browser.
pub struct Browser {
    config: BrowserConfig,
    policy: OutboundPolicy,
    state: tokio::sync::Mutex<State>,
    me: Weak<Browser>,
}

impl Browser {
    /// A browser over `[browser]` and the outbound policy (nothing starts yet).
    pub fn new(config: BrowserConfig, policy: OutboundPolicy) -> Arc<Browser> {
        Arc::new_cyclic(|me| Browser { config, policy, state: Default::default(), me: me.clone() })
    }

    /// The settings.
    pub fn config(&self) -> &BrowserConfig {
        &self.config
    }

    /// The Chromium process id, if one runs (diagnostics and tests).
    pub async fn pid(&self) -> Option<i32> {
        self.state.lock().await.process.as_ref().filter(|p| p.alive()).map(|p| p.pid())
    }

    /// How many sessions have an open context.
    pub async fn open_contexts(&self) -> usize {
        self.state.lock().await.pages.len()
    }

    /// The calling session's page, opening its context (and Chromium) if needed.
    pub async fn page(&self, session: &str) -> Result<Arc<Page>, ToolError> {
        let mut st = self.state.lock().await;
        st.last_activity = Some(Instant::now());
        if !st.reaper {
            st.reaper = true;
            self.start_reaper();
        }
        if let Some(p) = st.process.clone() {
            if !p.alive() {
                let msg = format!("Chromium exited unexpectedly ({})", p.exit_status());
                for s in st.pages.keys().cloned().collect::<Vec<_>>() {
                    st.lost.insert(s, msg.clone());
                }
                st.pages.clear();
                st.process = None;
            }
        }
        if let Some(msg) = st.lost.remove(session) {
            return Err(ToolError::Failed(format!(
                "{msg}; this session's page, cookies and history were lost. The browser starts again on the next call: navigate again"
            )));
        }
        if let Some(p) = st.pages.get(session) {
            p.touch();
            return Ok(p.clone());
        }
        if st.pages.len() >= self.config.max_contexts {
            return Err(ToolError::Unavailable(format!(
                "{} browser sessions are open, the most `[browser] max_contexts` allows: close_browser in a session that \
                 is done, wait for idle ones to close (after {} s), or raise the limit",
                st.pages.len(),
                self.config.idle_timeout_secs
            )));
        }
        let process = match st.process.clone() {
            Some(p) => p,
            None => {
                let p =
                    Arc::new(Process::start(&self.config.chromium, self.config.no_sandbox).await.map_err(
                        |e| match e {
                            StartError::Missing(_) => ToolError::Unavailable(e.to_string()),
                            _ => ToolError::Failed(e.to_string()),
                        },
                    )?);
                st.process = Some(p.clone());
                p
            }
        };
        let page = self
            .open_context(process, session)
            .await
            .map_err(|e| ToolError::Failed(format!("cannot open a browser context: {e}")))?;
        st.pages.insert(session.to_string(), page.clone());
        Ok(page)
    }

    async fn open_context(&self, process: Arc<Process>, session: &str) -> Result<Arc<Page>, CdpError> {
        let cdp = process.cdp.clone();
        let proxy = Proxy::start(Some(self.policy.clone()))
            .await
            .map_err(|e| CdpError::Protocol { method: "proxy".into(), message: e.to_string() })?;
        let ctx = cdp
            .call(
                None,
                "Target.createBrowserContext",
                json!({"disposeOnDetach": false, "proxyServer": format!("http://127.0.0.1:{}", proxy.port), "proxyBypassList": "<-loopback>"}),
            )
            .await?;
        let context_id = ctx["browserContextId"].as_str().unwrap_or_default().to_string();
        let target = cdp
            .call(None, "Target.createTarget", json!({"url": "about:blank", "browserContextId": context_id}))
            .await?;
        let target_id = target["targetId"].as_str().unwrap_or_default().to_string();
        let attached =
            cdp.call(None, "Target.attachToTarget", json!({"targetId": target_id, "flatten": true})).await?;
        let cdp_session = attached["sessionId"].as_str().unwrap_or_default().to_string();
        let downloads = process
            .profile
            .downloads(&context_id)
            .map_err(|e| CdpError::Protocol { method: "downloads".into(), message: e.to_string() })?;
        let page = Page::attach(
            process,
            proxy,
            context_id,
            target_id,
            cdp_session,
            downloads,
            session,
            &self.config,
        )
        .await?;
        Ok(page)
    }

    /// Closes the session's context; false if it had none.
    pub async fn close(&self, session: &str) -> bool {
        let page = self.state.lock().await.pages.remove(session);
        match page {
            Some(p) => {
                p.close().await;
                true
            }
            None => false,
        }
    }

    fn start_reaper(&self) {
        let me = self.me.clone();
        let idle = Duration::from_secs(self.config.idle_timeout_secs.max(1));
        let tick = (idle / 4).clamp(Duration::from_millis(250), Duration::from_secs(30));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(tick).await;
                let Some(b) = me.upgrade() else { break };
                b.reap(idle).await;
            }
        });
    }

    async fn reap(&self, idle: Duration) {
        let closing: Vec<Arc<Page>> = {
            let mut st = self.state.lock().await;
            let idle_sessions: Vec<String> =
                st.pages.iter().filter(|(_, p)| p.idle_for() >= idle).map(|(s, _)| s.clone()).collect();
            let closing = idle_sessions.iter().filter_map(|s| st.pages.remove(s)).collect();
            if st.pages.is_empty() && st.last_activity.is_some_and(|t| t.elapsed() >= idle) {
                st.process = None;
            }
            closing
        };
        for p in closing {
            p.close().await;
        }
    }
}
