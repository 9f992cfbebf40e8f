//! The page's accessibility tree as Chromium computes it (`Accessibility.getFullAXTree`),
//! written as an indented outline a model can read, each element with a ref (`e12`) that stays
//! the same for the same element until the page changes, so `click_element` and `fill_form`
//! act on refs instead of guessed selectors.

use crate::page::Refs;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write;

/// Roles that only group: shown through their children unless they have a name.
const GROUPING: &[&str] = &[
    "generic",
    "none",
    "presentation",
    "group",
    "Section",
    "LayoutTable",
    "LayoutTableRow",
    "LayoutTableCell",
    "div",
    "paragraph",
];
/// Roles never shown.
const HIDDEN: &[&str] = &["InlineTextBox", "LineBreak"];
/// Properties worth showing, in this order.
const PROPS: &[&str] = &[
    "level", "checked", "selected", "expanded", "pressed", "disabled", "required", "invalid", "readonly",
    "url",
];

/// The outline, and how many nodes it shows.
pub struct Outline {
    /// The text.
    pub text: String,
    /// Elements with refs.
    pub refs: usize,
    /// Whether `max_chars` cut it.
    pub truncated: bool,
}

/// Renders `nodes` (the AX tree's flat node list), assigning refs through `refs`.
pub fn render(nodes: &[Value], refs: &mut Refs, max_chars: usize) -> Outline {
    let by_id: HashMap<&str, &Value> =
        nodes.iter().filter_map(|n| Some((n["nodeId"].as_str()?, n))).collect();
    let root = nodes.iter().find(|n| n.get("parentId").is_none()).or(nodes.first());
    let mut w = Writer { by_id, refs, out: String::new(), shown: 0, max_chars, truncated: false };
    if let Some(root) = root {
        w.node(root, 0, "");
    }
    Outline { text: w.out, refs: w.shown, truncated: w.truncated }
}

struct Writer<'a> {
    by_id: HashMap<&'a str, &'a Value>,
    refs: &'a mut Refs,
    out: String,
    shown: usize,
    max_chars: usize,
    truncated: bool,
}

fn quoted(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let s =
        if s.chars().count() > 200 { format!("{}…", s.chars().take(200).collect::<String>()) } else { s };
    serde_json::to_string(&s).unwrap_or_default()
}

impl Writer<'_> {
    fn children(&mut self, node: &Value, depth: usize, parent_name: &str) {
        for c in node["childIds"].as_array().into_iter().flatten() {
            if self.truncated {
                return;
            }
            if let Some(child) = c.as_str().and_then(|id| self.by_id.get(id)).copied() {
                self.node(child, depth, parent_name);
            }
        }
    }

    fn line(&mut self, depth: usize, text: &str) {
        if self.out.len() + text.len() + depth * 2 + 1 > self.max_chars {
            self.truncated = true;
            return;
        }
        for _ in 0..depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn node(&mut self, node: &Value, depth: usize, parent_name: &str) {
        let role = node["role"]["value"].as_str().unwrap_or("");
        let name = node["name"]["value"].as_str().unwrap_or("").trim().to_string();
        if HIDDEN.contains(&role) {
            return;
        }
        if node["ignored"].as_bool() == Some(true)
            || role == "RootWebArea"
            || (GROUPING.contains(&role) && name.is_empty())
        {
            let pn = if role == "RootWebArea" { name.as_str() } else { parent_name };
            let pn = pn.to_string();
            self.children(node, depth, &pn);
            return;
        }
        if role == "StaticText" {
            let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            if !name.is_empty() && norm(&name) != norm(parent_name) {
                self.line(depth, &format!("- text: {}", quoted(&name)));
            }
            return;
        }
        let mut line = format!("- {role}");
        if !name.is_empty() {
            let _ = write!(line, " {}", quoted(&name));
        }
        if let Some(v) = node["value"]["value"].as_str().filter(|v| !v.is_empty()) {
            let _ = write!(line, " value={}", quoted(v));
        } else if let Some(v) = node["value"]["value"].as_f64() {
            let _ = write!(line, " value={v}");
        }
        for p in node["properties"].as_array().into_iter().flatten() {
            let pname = p["name"].as_str().unwrap_or("");
            if !PROPS.contains(&pname) || (pname == "url" && role != "link") {
                continue;
            }
            match &p["value"]["value"] {
                Value::Bool(true) => {
                    let _ = write!(line, " [{pname}]");
                }
                Value::Bool(false) | Value::Null => {}
                Value::String(s) if s == "false" => {}
                v => {
                    let v = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    let _ = write!(line, " [{pname}={v}]");
                }
            }
        }
        if let Some(id) = node["backendDOMNodeId"].as_i64() {
            let r = match self.refs.by_node.get(&id) {
                Some(r) => r.clone(),
                None => {
                    self.refs.next += 1;
                    let r = format!("e{}", self.refs.next);
                    self.refs.by_node.insert(id, r.clone());
                    self.refs.nodes.insert(r.clone(), id);
                    r
                }
            };
            let _ = write!(line, " [ref={r}]");
            self.shown += 1;
        }
        self.line(depth, &line);
        self.children(node, depth + 1, &name);
    }
}
