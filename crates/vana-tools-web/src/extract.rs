//! Readable extraction: HTML → the main content (dom_smoothie's Readability port) as Markdown
//! (htmd), text or HTML, with title, byline, date, canonical URL and links. Pure functions,
//! shared by `fetch_url`, the local index and the benchmark.

use dom_query::Document;
use serde::Serialize;

/// A link in the main content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// The link text.
    pub text: String,
    /// The absolute URL.
    pub url: String,
}

/// The readable part of a page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Readable {
    /// The title.
    pub title: String,
    /// The author line, when the page names one.
    pub byline: Option<String>,
    /// The published (or else modified) date, as the page gives it.
    pub date: Option<String>,
    /// `<link rel="canonical">`, absolute.
    pub canonical: Option<String>,
    /// The page's language.
    pub lang: Option<String>,
    /// The site's name.
    pub site_name: Option<String>,
    /// A one-line summary, when the page has one.
    pub excerpt: Option<String>,
    /// The main content as cleaned HTML.
    pub html: String,
    /// The main content as plain text.
    pub text: String,
    /// Links in the main content (absolute, first occurrence of each URL).
    pub links: Vec<Link>,
    /// Whether Readability found an article; when not, the whole body is used.
    pub readable: bool,
}

/// Extracts the readable content of `html`, served from `url` (for absolute links).
pub fn readable(html: &str, url: Option<&str>) -> Readable {
    let base = url.and_then(|u| url::Url::parse(u).ok());
    let doc = Document::from(html);
    let canonical =
        doc.select("link[rel=canonical]").attr("href").and_then(|h| absolute(base.as_ref(), h.trim()));
    let cfg = dom_smoothie::Config { max_elements_to_parse: 0, ..Default::default() };
    let parsed = dom_smoothie::Readability::with_document(doc, base.as_ref().map(|b| b.as_str()), Some(cfg))
        .ok()
        .and_then(|mut r| r.parse().ok());
    let mut out = match parsed {
        Some(a) => Readable {
            title: a.title.trim().to_string(),
            byline: a.byline.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            date: a.published_time.or(a.modified_time).filter(|s| !s.is_empty()),
            canonical,
            lang: a.lang,
            site_name: a.site_name,
            excerpt: a.excerpt,
            html: a.content.to_string(),
            text: String::new(),
            links: Vec::new(),
            readable: true,
        },
        None => {
            let doc = Document::from(html);
            doc.select("script, style, noscript, template").remove();
            let body = doc.select("body");
            Readable {
                title: doc.select("title").text().trim().to_string(),
                canonical,
                html: if !body.is_empty() { body.html().to_string() } else { doc.html().to_string() },
                ..Default::default()
            }
        }
    };
    let content = Document::from(out.html.as_str());
    out.text = tidy_text(&content.select("body").text());
    let mut seen = std::collections::HashSet::new();
    for a in content.select("a[href]").iter() {
        let Some(href) = a.attr("href") else { continue };
        let Some(url) = absolute(base.as_ref(), href.trim()) else { continue };
        if !(url.starts_with("http://") || url.starts_with("https://")) || !seen.insert(url.clone()) {
            continue;
        }
        out.links.push(Link { text: collapse(&a.text()), url });
    }
    out
}

/// The main content as Markdown, headed by the title.
pub fn markdown(r: &Readable) -> String {
    let body = htmd::HtmlToMarkdown::builder()
        .skip_tags(vec!["script", "style", "noscript", "template", "iframe", "svg"])
        .build()
        .convert(&r.html)
        .unwrap_or_else(|_| r.text.clone());
    let body = body.trim();
    if r.title.is_empty() || body.starts_with(&format!("# {}", r.title)) {
        body.to_string()
    } else {
        format!("# {}\n\n{}", r.title, body)
    }
}

fn absolute(base: Option<&url::Url>, href: &str) -> Option<String> {
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    match base {
        Some(b) => b.join(href).ok().map(|u| u.to_string()),
        None => url::Url::parse(href).ok().map(|u| u.to_string()),
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text with runs of blank lines folded and each line's spaces collapsed.
pub fn tidy_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = collapse(line);
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(&line);
    }
    out
}
