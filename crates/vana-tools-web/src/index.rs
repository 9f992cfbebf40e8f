//! `vana index add|list|remove`: documents the user adds to the local search index (files,
//! folders of them, or URLs fetched under the outbound policy).

use crate::fetch::{render, Format};
use crate::store::Document;
use crate::{extract, pdf, WebSuite};
use std::path::Path;

/// Extensions indexed when a folder is added.
const KINDS: &[&str] = &["html", "htm", "xhtml", "md", "markdown", "txt", "rst", "pdf"];

impl WebSuite {
    /// Adds a file, every indexable file under a folder, or a URL; returns what was indexed.
    pub async fn index_add(&self, target: &str) -> Result<Vec<Document>, String> {
        let store = self.store();
        if target.starts_with("http://") || target.starts_with("https://") {
            let body = self.fetcher()?.get(target).await.map_err(|e| e.to_string())?;
            let page = render(&body, Format::Text, usize::MAX, false).await.map_err(|e| e.to_string())?;
            let (title, text) = page.index.ok_or_else(|| format!("{target} has no text to index"))?;
            let title = if title.is_empty() { body.final_url.clone() } else { title };
            store.index(&body.final_url, &title, &text, "added")?;
            return Ok(store.list()?.into_iter().filter(|d| d.url == body.final_url).collect());
        }
        let path = Path::new(target);
        let meta = std::fs::metadata(path).map_err(|e| format!("{target}: {e}"))?;
        let mut files = Vec::new();
        if meta.is_dir() {
            walk(path, &mut files).map_err(|e| format!("{target}: {e}"))?;
            files.sort();
        } else {
            files.push(path.to_path_buf());
        }
        let mut urls = Vec::new();
        for file in files {
            let abs = std::fs::canonicalize(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let url = url::Url::from_file_path(&abs)
                .map_err(|_| format!("{}: not an absolute path", abs.display()))?
                .to_string();
            let bytes = std::fs::read(&abs).map_err(|e| format!("{}: {e}", abs.display()))?;
            let ext = abs.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            let (title, text) = match ext.as_str() {
                "pdf" => (String::new(), pdf::to_text(&bytes).await?),
                "html" | "htm" | "xhtml" => {
                    let (html, _) = crate::charset::decode(&bytes, None, true);
                    let r = extract::readable(&html, Some(&url));
                    (r.title, r.text)
                }
                _ => (String::new(), crate::charset::decode(&bytes, None, false).0),
            };
            if text.trim().is_empty() {
                continue;
            }
            let title = if title.is_empty() {
                abs.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            } else {
                title
            };
            store.index(&url, &title, &text, "added")?;
            urls.push(url);
        }
        if urls.is_empty() {
            return Err(format!("{target}: nothing to index (files ending in {})", KINDS.join(", ")));
        }
        Ok(store.list()?.into_iter().filter(|d| urls.contains(&d.url)).collect())
    }

    /// Every indexed document.
    pub fn index_list(&self) -> Result<Vec<Document>, String> {
        self.store().list()
    }

    /// Removes a document by id (as `index_list` shows it) or URL (a path is taken as its
    /// `file://` URL).
    pub fn index_remove(&self, target: &str) -> Result<bool, String> {
        if let Ok(id) = target.parse::<i64>() {
            return self.store().remove_id(id);
        }
        let url = if target.contains("://") {
            target.to_string()
        } else {
            let abs = std::fs::canonicalize(target).map_err(|e| format!("{target}: {e}"))?;
            url::Url::from_file_path(&abs).map_err(|_| format!("{target}: not a path"))?.to_string()
        };
        self.store().remove(&url)
    }
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            if KINDS.contains(&ext.as_str()) {
                out.push(path);
            }
        }
    }
    Ok(())
}
