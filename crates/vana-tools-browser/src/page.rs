//! One session's page in its own browser context: navigation and its waits, running our
//! JavaScript, finding elements (by snapshot ref, CSS selector, label or text), real mouse and
//! key input, JavaScript dialogs answered, and downloads handed to the workspace.

use crate::cdp::{Cdp, CdpError, CdpEvent};
use crate::config::BrowserConfig;
use crate::js;
use crate::process::Process;
use crate::proxy::{Blocked, Proxy};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use vana_core::ToolError;

/// The refs of the last snapshots of the current document.
#[derive(Default)]
pub struct Refs {
    /// ref -> backend DOM node id.
    pub nodes: HashMap<String, i64>,
    /// backend DOM node id -> ref (so an element keeps its ref across snapshots).
    pub by_node: HashMap<i64, String>,
    /// The document these refs belong to.
    pub epoch: u64,
    /// The next ref number (never reused within the context).
    pub next: u64,
}

#[derive(Default)]
struct Downloads {
    /// guid -> suggested name, while in progress.
    pending: HashMap<String, String>,
    /// (guid, suggested name) of finished downloads not yet moved into the workspace.
    done: Vec<(String, String)>,
    /// Notes about downloads that failed.
    failed: Vec<String>,
}

/// What a tool names an element by.
#[derive(Debug, Default, Clone)]
pub struct Target {
    /// A ref from `get_page_snapshot`.
    pub r#ref: Option<String>,
    /// A CSS selector.
    pub selector: Option<String>,
    /// A form field's label (fields only).
    pub label: Option<String>,
    /// Visible text of a clickable element.
    pub text: Option<String>,
}

impl Target {
    /// True when nothing names an element.
    pub fn is_empty(&self) -> bool {
        self.r#ref.is_none() && self.selector.is_none() && self.label.is_none() && self.text.is_none()
    }
    fn describe(&self) -> String {
        match (&self.r#ref, &self.selector, &self.label, &self.text) {
            (Some(r), ..) => format!("ref `{r}`"),
            (_, Some(s), ..) => format!("selector `{s}`"),
            (_, _, Some(l), _) => format!("label `{l}`"),
            (.., Some(t)) => format!("text `{t}`"),
            _ => "nothing".into(),
        }
    }
}

/// Where the page is after an action.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Location {
    /// The page's URL.
    pub url: String,
    /// Its title.
    pub title: String,
    /// The HTTP status of the document, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u64>,
}

/// A session's page.
pub struct Page {
    /// The VANA session it belongs to.
    pub session: String,
    cdp: Arc<Cdp>,
    _process: Arc<Process>,
    proxy: Proxy,
    context_id: String,
    target_id: String,
    cdp_session: String,
    /// Serialises the session's tool calls on this page.
    pub lock: tokio::sync::Mutex<Refs>,
    last_used: Mutex<Instant>,
    epoch: Arc<AtomicU64>,
    notes: Arc<Mutex<Vec<String>>>,
    downloads: Arc<Mutex<Downloads>>,
    download_dir: PathBuf,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    nav_timeout: Duration,
    max_download: u64,
}

impl Drop for Page {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.cdp.forget(&self.cdp_session);
    }
}

fn cdp_err(e: CdpError) -> ToolError {
    match e {
        CdpError::Closed => ToolError::Failed(
            "Chromium exited during the call; the next browser call starts it again (this session's page is lost)".into(),
        ),
        other => ToolError::Failed(other.to_string()),
    }
}

impl Page {
    /// Sets up a freshly attached target: page events, lifecycle events, the viewport,
    /// downloads into `download_dir`, dialogs answered.
    #[allow(clippy::too_many_arguments)]
    pub async fn attach(
        process: Arc<Process>,
        proxy: Proxy,
        context_id: String,
        target_id: String,
        cdp_session: String,
        download_dir: PathBuf,
        session: &str,
        config: &BrowserConfig,
    ) -> Result<Arc<Page>, CdpError> {
        let cdp = process.cdp.clone();
        let s = Some(cdp_session.as_str());
        let events = cdp.subscribe(&cdp_session);
        cdp.call(s, "Page.enable", json!({})).await?;
        cdp.call(s, "Page.setLifecycleEventsEnabled", json!({"enabled": true})).await?;
        cdp.call(
            s,
            "Emulation.setDeviceMetricsOverride",
            json!({"width": config.viewport_width, "height": config.viewport_height, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await?;
        cdp.call(
            None,
            "Browser.setDownloadBehavior",
            json!({"behavior": "allowAndName", "browserContextId": context_id, "downloadPath": download_dir.display().to_string(), "eventsEnabled": true}),
        )
        .await?;
        let epoch = Arc::new(AtomicU64::new(0));
        let notes: Arc<Mutex<Vec<String>>> = Arc::default();
        let downloads: Arc<Mutex<Downloads>> = Arc::default();
        let mut tasks = Vec::new();
        // Page events: a new main-frame document invalidates refs; dialogs are answered.
        {
            let (cdp, epoch, notes, target, sess) =
                (cdp.clone(), epoch.clone(), notes.clone(), target_id.clone(), cdp_session.clone());
            let mut events = events;
            tasks.push(tokio::spawn(async move {
                loop {
                    let ev = match events.recv().await {
                        Ok(ev) => ev,
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    };
                    match ev.method.as_str() {
                        "Page.frameNavigated" if ev.params["frame"]["parentId"].is_null() => {
                            epoch.fetch_add(1, Ordering::SeqCst);
                        }
                        "Page.javascriptDialogOpening" => {
                            let kind = ev.params["type"].as_str().unwrap_or("dialog").to_string();
                            let msg = ev.params["message"].as_str().unwrap_or_default().to_string();
                            notes
                                .lock()
                                .unwrap()
                                .push(format!("the page opened a {kind} dialog ({msg:?}); it was accepted"));
                            let _ = cdp
                                .call(Some(&sess), "Page.handleJavaScriptDialog", json!({"accept": true}))
                                .await;
                        }
                        _ => {}
                    }
                    let _ = &target;
                }
            }));
        }
        // Browser events: this page's downloads.
        {
            let (mut events, downloads, target) =
                (cdp.browser_events(), downloads.clone(), target_id.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let ev = match events.recv().await {
                        Ok(ev) => ev,
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    };
                    let guid = ev.params["guid"].as_str().unwrap_or_default().to_string();
                    let mut d = downloads.lock().unwrap();
                    match ev.method.as_str() {
                        "Browser.downloadWillBegin" if ev.params["frameId"].as_str() == Some(&target) => {
                            let name =
                                ev.params["suggestedFilename"].as_str().unwrap_or("download").to_string();
                            d.pending.insert(guid, name);
                        }
                        "Browser.downloadProgress" => match ev.params["state"].as_str() {
                            Some("completed") => {
                                if let Some(name) = d.pending.remove(&guid) {
                                    d.done.push((guid, name));
                                }
                            }
                            Some("canceled") => {
                                if let Some(name) = d.pending.remove(&guid) {
                                    d.failed.push(format!("the download of {name} was cancelled"));
                                }
                            }
                            _ => {}
                        },
                        _ => {}
                    }
                }
            }));
        }
        Ok(Arc::new(Page {
            session: session.to_string(),
            cdp,
            _process: process,
            proxy,
            context_id,
            target_id,
            cdp_session,
            lock: Default::default(),
            last_used: Mutex::new(Instant::now()),
            epoch,
            notes,
            downloads,
            download_dir,
            tasks,
            nav_timeout: Duration::from_secs(config.navigation_timeout_secs.max(1)),
            max_download: config.max_download_bytes,
        }))
    }

    /// Marks the page used now (for the idle timeout).
    pub fn touch(&self) {
        *self.last_used.lock().unwrap() = Instant::now();
    }

    /// How long since the last call.
    pub fn idle_for(&self) -> Duration {
        self.last_used.lock().unwrap().elapsed()
    }

    /// The configured navigation timeout.
    pub fn nav_timeout(&self) -> Duration {
        self.nav_timeout
    }

    /// Disposes the context (its cookies, storage and history go with it).
    pub async fn close(&self) {
        let _ = self
            .cdp
            .call(None, "Target.disposeBrowserContext", json!({"browserContextId": self.context_id}))
            .await;
    }

    /// The document counter: bumps on each main-frame navigation.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Sends a command to the page.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, ToolError> {
        self.touch();
        self.cdp.call(Some(&self.cdp_session), method, params).await.map_err(cdp_err)
    }

    fn events(&self) -> broadcast::Receiver<CdpEvent> {
        self.cdp.subscribe(&self.cdp_session)
    }

    /// What the proxy refused since the last call (taken).
    pub fn take_blocked(&self) -> Vec<Blocked> {
        self.proxy.log.take_refused()
    }

    /// Notes (dialogs, downloads) since the last call (taken).
    pub fn take_notes(&self) -> Vec<String> {
        let mut n = std::mem::take(&mut *self.notes.lock().unwrap());
        n.append(&mut self.downloads.lock().unwrap().failed);
        n
    }

    /// Evaluates `expr` and returns its value (promises awaited).
    pub async fn eval(&self, expr: &str) -> Result<Value, ToolError> {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
            )
            .await?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(ToolError::Failed(format!("script error in the page: {}", exception_text(ex))));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Calls one of our functions with JSON arguments.
    pub async fn apply(&self, function: &str, args: &[Value]) -> Result<Value, ToolError> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        self.eval(&format!("({function})({})", args.join(", "))).await
    }

    async fn call_on(&self, object: &str, function: &str, args: &[Value]) -> Result<Value, ToolError> {
        let args: Vec<Value> = args.iter().map(|v| json!({"value": v})).collect();
        let r = self
            .call(
                "Runtime.callFunctionOn",
                json!({"objectId": object, "functionDeclaration": function, "arguments": args, "returnByValue": true, "awaitPromise": true}),
            )
            .await?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(ToolError::Failed(format!("script error in the page: {}", exception_text(ex))));
        }
        Ok(r["result"]["value"].clone())
    }

    /// Where the page is.
    pub async fn location(&self) -> Result<Location, ToolError> {
        let v = self.eval(js::WHERE).await?;
        Ok(Location {
            url: v["url"].as_str().unwrap_or_default().to_string(),
            title: v["title"].as_str().unwrap_or_default().to_string(),
            status: v["status"].as_u64(),
        })
    }

    /// Navigates to `url` (already checked against the policy) and waits for `until`
    /// (`load`, `DOMContentLoaded` or `networkIdle`).
    pub async fn navigate(&self, url: &str, until: &str, timeout: Duration) -> Result<Location, ToolError> {
        let mut events = self.events();
        let started = Instant::now();
        let too_slow = || {
            ToolError::Failed(format!(
                "`{url}` did not finish loading within {} s (waiting for {until}); what loaded so far is on the page \
                 (extract_text or take_screenshot show it)",
                timeout.as_secs_f64()
            ))
        };
        let r = match tokio::time::timeout(timeout, self.call("Page.navigate", json!({"url": url}))).await {
            Ok(r) => r?,
            Err(_) => {
                let _ = self.call("Page.stopLoading", json!({})).await;
                return Err(too_slow());
            }
        };
        let error = r["errorText"].as_str().unwrap_or_default().to_string();
        if !error.is_empty() {
            if error.contains("ERR_ABORTED") && self.download_started(Duration::from_millis(500)).await {
                return self.location().await;
            }
            return Err(self.load_error(url, &error));
        }
        if let Some(loader) = r["loaderId"].as_str() {
            let loader = loader.to_string();
            let target = self.target_id.clone();
            let waited = wait_event(&mut events, timeout.saturating_sub(started.elapsed()), |e| {
                e.method == "Page.lifecycleEvent"
                    && e.params["frameId"].as_str() == Some(&target)
                    && e.params["loaderId"].as_str() == Some(&loader)
                    && e.params["name"].as_str() == Some(until)
            })
            .await;
            if !waited {
                let _ = self.call("Page.stopLoading", json!({})).await;
                return Err(too_slow());
            }
        }
        let loc = self.location().await?;
        self.refused_document(&loc)?;
        Ok(loc)
    }

    /// An error when the loaded document is the proxy's refusal.
    fn refused_document(&self, loc: &Location) -> Result<(), ToolError> {
        if loc.status == Some(403) {
            if let Some(b) = self.proxy.log.refused().iter().find(|b| b.target == loc.url) {
                return Err(ToolError::Blocked(format!("`{}` was not loaded: {}", loc.url, b.reason)));
            }
        }
        Ok(())
    }

    fn load_error(&self, url: &str, error: &str) -> ToolError {
        let blocked = self.proxy.log.refused();
        if let Some(b) = blocked.last() {
            if error.contains("TUNNEL")
                || error.contains("PROXY")
                || error.contains("ERR_ABORTED")
                || !blocked.is_empty()
            {
                return ToolError::Blocked(format!(
                    "`{url}` was not loaded: {} (asked for {})",
                    b.reason, b.target
                ));
            }
        }
        ToolError::Failed(format!("`{url}` could not be loaded: {error}"))
    }

    async fn download_started(&self, within: Duration) -> bool {
        let end = Instant::now() + within;
        while Instant::now() < end {
            let started = {
                let d = self.downloads.lock().unwrap();
                !d.pending.is_empty() || !d.done.is_empty()
            };
            if started {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Runs `action`, then, if it started a navigation within a short grace time, waits for
    /// the new document to load. Returns whether it navigated.
    pub async fn settle<F, T>(&self, action: F) -> Result<(T, bool), ToolError>
    where
        F: std::future::Future<Output = Result<T, ToolError>>,
    {
        let mut events = self.events();
        let out = action.await?;
        let target = self.target_id.clone();
        let started = wait_event(&mut events, Duration::from_millis(300), |e| {
            (e.method == "Page.frameStartedLoading"
                || e.method == "Page.frameRequestedNavigation"
                || e.method == "Page.frameStartedNavigating")
                && e.params["frameId"].as_str() == Some(&target)
        })
        .await;
        if !started {
            return Ok((out, false));
        }
        let loaded = wait_event(&mut events, self.nav_timeout, |e| {
            (e.method == "Page.lifecycleEvent"
                && e.params["frameId"].as_str() == Some(&target)
                && e.params["name"] == "load")
                || (e.method == "Page.frameStoppedLoading" && e.params["frameId"].as_str() == Some(&target))
        })
        .await;
        if !loaded {
            self.notes
                .lock()
                .unwrap()
                .push(format!("the page was still loading after {} s", self.nav_timeout.as_secs()));
        }
        Ok((out, true))
    }

    /// Waits until the next main-frame document has loaded.
    pub async fn wait_navigation(&self, timeout: Duration) -> bool {
        let mut events = self.events();
        let target = self.target_id.clone();
        wait_event(&mut events, timeout, |e| {
            e.method == "Page.lifecycleEvent"
                && e.params["frameId"].as_str() == Some(&target)
                && e.params["name"] == "load"
        })
        .await
    }

    /// The backend node id of the element `t` names.
    pub async fn resolve(&self, refs: &Refs, t: &Target) -> Result<i64, ToolError> {
        if let Some(r) = &t.r#ref {
            let r = r.trim();
            let id = if refs.epoch == self.epoch() { refs.nodes.get(r).copied() } else { None };
            return id.ok_or_else(|| {
                ToolError::InvalidArgs(format!(
                    "ref `{r}` is not on the current page (refs are valid until the page changes): take a new snapshot \
                     with get_page_snapshot and use its refs"
                ))
            });
        }
        let (expr, what) = if let Some(s) = &t.selector {
            (format!("document.querySelector({})", json!(s)), format!("selector `{s}`"))
        } else if let Some(l) = &t.label {
            (format!("({})({})", js::FIND_FIELD, json!(l)), format!("a form field labelled `{l}`"))
        } else if let Some(x) = &t.text {
            (
                format!("({})({})", js::FIND_BY_TEXT, json!(x)),
                format!("a visible clickable element with the text `{x}`"),
            )
        } else {
            return Err(ToolError::InvalidArgs(
                "name the element: give `ref` (from get_page_snapshot), `selector` or `text`".into(),
            ));
        };
        let r = self.call("Runtime.evaluate", json!({"expression": expr, "returnByValue": false})).await?;
        if let Some(ex) = r.get("exceptionDetails") {
            let msg = exception_text(ex);
            return Err(if msg.contains("not a valid selector") {
                ToolError::InvalidArgs(format!("{what} is not a valid CSS selector"))
            } else {
                ToolError::Failed(format!("finding {what}: {msg}"))
            });
        }
        let Some(object) = r["result"]["objectId"].as_str() else {
            return Err(ToolError::Failed(format!("no element on the page matches {what}")));
        };
        let node = self.call("DOM.describeNode", json!({"objectId": object})).await?;
        let _ = self.call("Runtime.releaseObject", json!({"objectId": object})).await;
        node["node"]["backendNodeId"]
            .as_i64()
            .ok_or_else(|| ToolError::Failed(format!("{what} is not an element")))
    }

    async fn object(&self, node: i64, t: &Target) -> Result<String, ToolError> {
        let r = self.call("DOM.resolveNode", json!({"backendNodeId": node})).await.map_err(|_| {
            ToolError::Failed(format!(
                "the element named by {} is no longer on the page: take a new snapshot",
                t.describe()
            ))
        })?;
        r["object"]["objectId"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| ToolError::Failed("the element has no object".into()))
    }

    /// Clicks the element like a user: scrolled into view, the mouse pressed and released at
    /// its centre; refused when something else covers that point.
    pub async fn click(&self, node: i64, t: &Target) -> Result<(), ToolError> {
        let _ = self.call("DOM.scrollIntoViewIfNeeded", json!({"backendNodeId": node})).await;
        let quads = self.call("DOM.getContentQuads", json!({"backendNodeId": node})).await.map_err(|_| {
            ToolError::Failed(format!("the element named by {} is no longer on the page", t.describe()))
        })?;
        let Some(q) = quads["quads"].as_array().and_then(|q| q.first()).and_then(Value::as_array) else {
            return Err(ToolError::Failed(format!(
                "the element named by {} is not visible (it has no box on the page)",
                t.describe()
            )));
        };
        let xs: Vec<f64> = q.iter().step_by(2).filter_map(Value::as_f64).collect();
        let ys: Vec<f64> = q.iter().skip(1).step_by(2).filter_map(Value::as_f64).collect();
        let (x, y) = (
            xs.iter().sum::<f64>() / xs.len().max(1) as f64,
            ys.iter().sum::<f64>() / ys.len().max(1) as f64,
        );
        let obj = self.object(node, t).await?;
        let covered = self.call_on(&obj, js::HIT, &[json!(x), json!(y)]).await?;
        if let Some(c) = covered.as_str() {
            return Err(ToolError::Failed(format!(
                "the element named by {} is covered by `{c}` at its centre; close that first",
                t.describe()
            )));
        }
        for (kind, buttons) in [("mouseMoved", 0), ("mousePressed", 1), ("mouseReleased", 0)] {
            let mut p = json!({"type": kind, "x": x, "y": y, "buttons": buttons});
            if kind != "mouseMoved" {
                p["button"] = json!("left");
                p["clickCount"] = json!(1);
            }
            self.call("Input.dispatchMouseEvent", p).await?;
        }
        Ok(())
    }

    /// Sets a form field (text, select, checkbox, radio); returns what it now holds.
    pub async fn fill(
        &self,
        node: i64,
        t: &Target,
        value: &Value,
        checked: Option<bool>,
    ) -> Result<Value, ToolError> {
        let obj = self.object(node, t).await?;
        let r = self.call_on(&obj, js::FILL, &[value.clone(), json!(checked)]).await?;
        if let Some(e) = r["error"].as_str() {
            return Err(ToolError::Failed(format!("{} ({}): {e}", t.describe(), "fill_form")));
        }
        Ok(r)
    }

    /// Submits the form holding the element.
    pub async fn submit_form_of(&self, node: i64, t: &Target) -> Result<(), ToolError> {
        let obj = self.object(node, t).await?;
        let r = self.call_on(&obj, js::SUBMIT, &[]).await?;
        match r["error"].as_str() {
            Some(e) => Err(ToolError::Failed(e.to_string())),
            None => Ok(()),
        }
    }

    /// Focuses the element.
    pub async fn focus(&self, node: i64) -> Result<(), ToolError> {
        self.call("DOM.focus", json!({"backendNodeId": node})).await.map(|_| ())
    }

    /// The element's box in document coordinates (scrolled into view).
    pub async fn element_box(&self, node: i64, t: &Target) -> Result<Value, ToolError> {
        let obj = self.object(node, t).await?;
        self.call_on(&obj, js::BOX, &[]).await
    }

    fn downloading(&self) -> bool {
        !self.downloads.lock().unwrap().pending.is_empty()
    }

    /// Moves finished downloads into the workspace through `save(name, bytes) -> path`,
    /// waiting up to `wait` for downloads in progress. Returns the saved paths.
    pub async fn collect_downloads(
        &self,
        wait: Duration,
        mut save: impl FnMut(&str, &[u8]) -> Result<String, ToolError>,
    ) -> Result<Vec<String>, ToolError> {
        let end = Instant::now() + wait;
        while self.downloading() && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let done = std::mem::take(&mut self.downloads.lock().unwrap().done);
        let mut saved = Vec::new();
        for (guid, name) in done {
            match crate::profile::take_download(&self.download_dir, &guid, self.max_download) {
                Ok(Some(bytes)) => saved.push(save(&format!("downloads/{}", safe_name(&name)), &bytes)?),
                Ok(None) => self.notes.lock().unwrap().push(format!(
                    "the download {name} is larger than `[browser] max_download_bytes` ({} bytes) and was dropped",
                    self.max_download
                )),
                Err(e) => self.notes.lock().unwrap().push(format!("the download {name} could not be read: {e}")),
            }
        }
        Ok(saved)
    }
}

/// A file name safe for the workspace: letters, digits, `.`, `-`, `_`.
pub fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let s = s.trim_start_matches('.').chars().take(120).collect::<String>();
    if s.is_empty() {
        "download".into()
    } else {
        s
    }
}

fn exception_text(ex: &Value) -> String {
    ex["exception"]["description"]
        .as_str()
        .or_else(|| ex["text"].as_str())
        .unwrap_or("exception")
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Waits for an event matching `want`, at most `timeout`. False on timeout or closed pipe.
pub async fn wait_event(
    events: &mut broadcast::Receiver<CdpEvent>,
    timeout: Duration,
    want: impl Fn(&CdpEvent) -> bool,
) -> bool {
    let fut = async {
        loop {
            match events.recv().await {
                Ok(e) if want(&e) => return true,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return false,
            }
        }
    };
    tokio::time::timeout(timeout, fut).await.unwrap_or(false)
}
