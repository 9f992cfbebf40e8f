//! `scrape_website`: CSS selectors to rows, across a list of pages or by following a "next"
//! link, saved as a CSV file in the session workspace (where the data tools read it).

use super::{check_url, finish, page, Shared, UNTRUSTED};
use crate::js;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::TypedTool;

/// One column.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Column {
    /// The column's name in the CSV header.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// A CSS selector inside the row (empty: the row element itself).
    #[serde(default)]
    pub selector: Option<String>,
    /// Read this attribute (e.g. `href`, `src`, `data-id`) instead of the text; links come out absolute.
    #[serde(default)]
    pub attribute: Option<String>,
}

/// Arguments of `scrape_website`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ScrapeArgs {
    /// The pages to scrape (http or https). Without it, the current page and those its next link leads to.
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    /// A CSS selector matching one element per row (e.g. `table tr`, `.product`).
    #[schemars(length(min = 1))]
    pub row_selector: String,
    /// The columns, read inside each row.
    #[schemars(length(min = 1, max = 100))]
    pub columns: Vec<Column>,
    /// A CSS selector for the "next page" link to follow after each page.
    #[serde(default)]
    pub next_selector: Option<String>,
    /// Visit at most this many pages (default 10; `[browser] max_scrape_pages` caps it).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub max_pages: Option<usize>,
    /// The CSV file to write in the workspace (default `scrape.csv`).
    #[serde(default)]
    pub output: Option<String>,
}

/// `scrape_website`.
pub struct ScrapeWebsite(pub Arc<Shared>);

#[async_trait::async_trait]
impl TypedTool for ScrapeWebsite {
    type Args = ScrapeArgs;
    fn name(&self) -> &'static str {
        "scrape_website"
    }
    fn description(&self) -> &'static str {
        "Extract rows from web pages in the browser: one row per element matching row_selector, one column per \
         selector inside it (text, or an attribute such as href), across a list of URLs or by following a next-page \
         link. Saves a CSV in the workspace that the data tools can read, and returns the first rows."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(900))
    }
    async fn run(&self, args: ScrapeArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        if args.columns.is_empty() {
            return Err(ToolError::InvalidArgs("field `columns`: give at least one column".into()));
        }
        let mut seen_names = HashSet::new();
        for c in &args.columns {
            if !seen_names.insert(c.name.as_str()) {
                return Err(ToolError::InvalidArgs(format!(
                    "field `columns`: the name `{}` is used twice",
                    c.name
                )));
            }
        }
        let output = args.output.clone().unwrap_or_else(|| "scrape.csv".into());
        vana_toolkit::vana_workspace::normalize(&output).map_err(vana_toolkit::tool_error)?;
        let cap = self.0.browser.config().max_scrape_pages.max(1);
        let max_pages = args.max_pages.unwrap_or(10).clamp(1, cap);
        let mut queue: Vec<String> = Vec::new();
        for u in args.urls.iter().flatten() {
            queue.push(check_url(&self.0.policy, u).await?);
        }
        let page = page(&self.0, &ctx).await?;
        let _guard = page.lock.lock().await;
        let fields: Vec<serde_json::Value> =
            args.columns.iter().map(|c| json!({"selector": c.selector.clone().filter(|s| !s.is_empty()), "attribute": c.attribute})).collect();
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut pages = Vec::new();
        let mut visited = HashSet::new();
        let mut stopped = "no more pages".to_string();
        let mut queue = queue.into_iter();
        let mut next_url: Option<String> = None;
        let mut first = true;
        loop {
            if pages.len() >= max_pages {
                stopped = format!("reached max_pages ({max_pages})");
                break;
            }
            // Which page to read now: the next listed URL, the followed next link, or (first, with no URLs)
            // the page as it is.
            let target = if let Some(u) = next_url.take() {
                Some(u)
            } else if args.urls.is_some() {
                match queue.next() {
                    Some(u) => Some(u),
                    None => break,
                }
            } else if first {
                None
            } else {
                break;
            };
            first = false;
            if let Some(u) = &target {
                page.navigate(u, "load", page.nav_timeout()).await?;
            }
            let loc = page.location().await?;
            if !visited.insert(loc.url.clone()) {
                stopped = format!("the next link led back to {}", loc.url);
                break;
            }
            let found =
                page.apply(js::SCRAPE, &[json!(args.row_selector), json!(fields)]).await.map_err(|e| {
                    if e.to_string().contains("not a valid selector") {
                        ToolError::InvalidArgs(format!("a selector is not valid CSS ({e})"))
                    } else {
                        e
                    }
                })?;
            let before = rows.len();
            for r in found.as_array().into_iter().flatten() {
                rows.push(
                    r.as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| c.as_str().unwrap_or_default().to_string())
                        .collect(),
                );
            }
            pages.push(json!({"url": loc.url, "rows": rows.len() - before}));
            if let Some(sel) = &args.next_selector {
                let next = page.apply(js::NEXT, &[json!(sel)]).await?;
                match next["href"].as_str() {
                    Some(h) if h.starts_with("http") => next_url = Some(check_url(&self.0.policy, h).await?),
                    _ if next.is_null() => {
                        if args.urls.is_none() {
                            stopped = "no next link on the last page".into();
                            break;
                        }
                    }
                    _ => {
                        stopped = "the next link has no http(s) address".into();
                        if args.urls.is_none() {
                            break;
                        }
                    }
                }
            }
        }
        if pages.is_empty() {
            return Err(ToolError::InvalidArgs(
                "no page to scrape: give `urls`, or navigate_to_url first".into(),
            ));
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(args.columns.iter().map(|c| c.name.as_str()))
            .map_err(|e| ToolError::Failed(e.to_string()))?;
        for r in &rows {
            w.write_record(r).map_err(|e| ToolError::Failed(e.to_string()))?;
        }
        let bytes = w.into_inner().map_err(|e| ToolError::Failed(e.to_string()))?;
        let file = self.0.files.write(&ctx, &output, &bytes)?;
        let sample: Vec<serde_json::Value> = rows
            .iter()
            .take(10)
            .map(|r| {
                serde_json::Value::Object(
                    args.columns.iter().zip(r).map(|(c, v)| (c.name.clone(), json!(v))).collect(),
                )
            })
            .collect();
        let out = json!({
            "file": file, "rows": rows.len(), "columns": args.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            "pages": pages, "stopped": stopped, "sample": sample, "untrusted": UNTRUSTED,
        });
        finish(&self.0, &page, &ctx, out).await
    }
}
