//! The agent graph of an app, as ADK's web UI shows it: the agent tree from the catalog (an
//! agent's sub-agents, the agents it calls as tools, its tools and MCP servers), written as
//! Graphviz DOT in the style of ADK's `agent_graph.py` (the UI renders that itself) and as an
//! SVG drawn here in Rust (a layered layout; no Graphviz needed), light or dark. Pairs of
//! names (an event's author and the tool it called, a tool and the agent it answered) are
//! highlighted as ADK does.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use vana_core::catalog::Catalog;

/// What a node of the graph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// An agent (the root or one it reaches).
    Agent,
    /// A tool.
    Tool,
    /// An MCP server whose tools an agent gets.
    Mcp,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its name (agents and tools share ADK's flat name space).
    pub name: String,
    /// What it is.
    pub kind: NodeKind,
}

/// One edge: from a parent to what it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The agent.
    pub from: String,
    /// What it hands over to or calls.
    pub to: String,
    /// `transfer` (a sub-agent), `agent_tool`, `tool`, `mcp`.
    pub relation: &'static str,
}

/// The graph of one app.
#[derive(Debug, Clone, Default)]
pub struct AgentGraph {
    /// Nodes in discovery order (the root first).
    pub nodes: Vec<Node>,
    /// Edges.
    pub edges: Vec<Edge>,
}

impl AgentGraph {
    /// The graph of `root` in `catalog` (agents reached through sub-agents and agent-tools).
    pub fn of(catalog: &Catalog, root: &str) -> AgentGraph {
        let mut g = AgentGraph::default();
        let mut seen = BTreeSet::new();
        let mut todo = std::collections::VecDeque::from([root.to_string()]);
        let add = |g: &mut AgentGraph, name: &str, kind: NodeKind| {
            if !g.nodes.iter().any(|n| n.name == name) {
                g.nodes.push(Node { name: name.to_string(), kind });
            }
        };
        while let Some(name) = todo.pop_front() {
            if !seen.insert(name.clone()) {
                continue;
            }
            add(&mut g, &name, NodeKind::Agent);
            let Some((spec, _)) = catalog.get(&name) else { continue };
            for (list, relation) in [(&spec.sub_agents, "transfer"), (&spec.agent_tools, "agent_tool")] {
                for a in list {
                    add(&mut g, a, NodeKind::Agent);
                    g.edges.push(Edge { from: name.clone(), to: a.clone(), relation });
                    todo.push_back(a.clone());
                }
            }
            for t in &spec.tools {
                add(&mut g, t, NodeKind::Tool);
                g.edges.push(Edge { from: name.clone(), to: t.clone(), relation: "tool" });
            }
            for m in &spec.mcp_servers {
                let id = format!("mcp:{m}");
                add(&mut g, &id, NodeKind::Mcp);
                g.edges.push(Edge { from: name.clone(), to: id, relation: "mcp" });
            }
        }
        g
    }

    fn lit(&self, name: &str, highlights: &[(String, String)]) -> bool {
        highlights.iter().any(|(a, b)| a == name || b == name)
    }

    fn edge_lit(&self, e: &Edge, highlights: &[(String, String)]) -> Option<bool> {
        highlights.iter().find_map(|(a, b)| {
            if *a == e.from && *b == e.to {
                Some(false)
            } else if *a == e.to && *b == e.from {
                Some(true) // drawn backwards: a response flowing up
            } else {
                None
            }
        })
    }

    /// Graphviz DOT, as ADK's `get_agent_graph` writes it (left to right, ADK's colours).
    pub fn dot(&self, highlights: &[(String, String)], dark: bool) -> String {
        let (light_gray, dark_green, light_green) = ("#cccccc", "#0F5223", "#69CB87");
        let bg = if dark { "#333537" } else { "#ffffff" };
        let mut s = String::new();
        let _ = writeln!(s, "strict digraph {{\n\tgraph [bgcolor=\"{bg}\" rankdir=LR]");
        for n in &self.nodes {
            let (shape, caption) = match n.kind {
                NodeKind::Agent => ("ellipse", format!("🤖 {}", n.name)),
                NodeKind::Tool => ("box", format!("🔧 {}", n.name)),
                NodeKind::Mcp => ("cylinder", format!("🔌 {}", n.name.trim_start_matches("mcp:"))),
            };
            let id = quote(&n.name);
            let label = quote(&caption);
            if self.lit(&n.name, highlights) {
                let _ = writeln!(
                    s,
                    "\t{id} [label={label} color=\"{dark_green}\" fillcolor=\"{dark_green}\" fontcolor=\"{light_gray}\" shape={shape} style=\"filled,rounded\"]"
                );
            } else {
                let _ = writeln!(
                    s,
                    "\t{id} [label={label} color=\"{light_gray}\" fontcolor=\"{light_gray}\" shape={shape} style=rounded]"
                );
            }
        }
        for e in &self.edges {
            let (from, to) = (quote(&e.from), quote(&e.to));
            match self.edge_lit(e, highlights) {
                Some(false) => {
                    let _ = writeln!(s, "\t{from} -> {to} [color=\"{light_green}\"]");
                }
                Some(true) => {
                    let _ = writeln!(s, "\t{from} -> {to} [color=\"{light_green}\" dir=back]");
                }
                None if e.relation == "transfer" => {
                    let _ = writeln!(s, "\t{from} -> {to} [arrowhead=none color=\"{light_gray}\"]");
                }
                None => {
                    let _ =
                        writeln!(s, "\t{from} -> {to} [arrowhead=none color=\"{light_gray}\" style=dashed]");
                }
            }
        }
        s.push_str("}\n");
        s
    }

    /// An SVG of the graph: columns by depth from the root (left to right), one row per node
    /// of a column; highlighted nodes and edges in ADK's greens.
    pub fn svg(&self, highlights: &[(String, String)], dark: bool) -> String {
        let (bg, fg, line, lit_fill, lit_line) = if dark {
            ("#333537", "#e3e3e3", "#8a8d91", "#0F5223", "#69CB87")
        } else {
            ("#ffffff", "#1f1f1f", "#9aa0a6", "#cdeed6", "#1e8e3e")
        };
        // Depth of each node: the shortest path from the root.
        let mut depth: HashMap<&str, usize> = HashMap::new();
        if let Some(root) = self.nodes.first() {
            depth.insert(&root.name, 0);
            let mut changed = true;
            while changed {
                changed = false;
                for e in &self.edges {
                    if let Some(&d) = depth.get(e.from.as_str()) {
                        let entry = depth.entry(&e.to).or_insert(usize::MAX);
                        if *entry > d + 1 {
                            *entry = d + 1;
                            changed = true;
                        }
                    }
                }
            }
        }
        let mut columns: Vec<Vec<&Node>> = Vec::new();
        for n in &self.nodes {
            let d = depth.get(n.name.as_str()).copied().filter(|d| *d != usize::MAX).unwrap_or(0);
            if columns.len() <= d {
                columns.resize(d + 1, Vec::new());
            }
            columns[d].push(n);
        }
        let (w, h, gap_x, gap_y, pad) = (200.0_f64, 40.0_f64, 90.0_f64, 18.0_f64, 24.0_f64);
        let rows = columns.iter().map(Vec::len).max().unwrap_or(1).max(1) as f64;
        let width = pad * 2.0 + columns.len().max(1) as f64 * (w + gap_x) - gap_x;
        let height = pad * 2.0 + rows * (h + gap_y) - gap_y;
        let mut pos: HashMap<&str, (f64, f64)> = HashMap::new();
        for (c, col) in columns.iter().enumerate() {
            let top = pad + (height - pad * 2.0 - (col.len() as f64 * (h + gap_y) - gap_y)) / 2.0;
            for (r, n) in col.iter().enumerate() {
                pos.insert(&n.name, (pad + c as f64 * (w + gap_x), top + r as f64 * (h + gap_y)));
            }
        }
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"agent graph\" font-family=\"system-ui, sans-serif\" font-size=\"13\">"
        );
        let _ = write!(
            s,
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{line}\"/></marker><marker id=\"arrow-lit\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{lit_line}\"/></marker></defs>"
        );
        let _ = write!(s, "<rect width=\"100%\" height=\"100%\" fill=\"{bg}\"/>");
        for e in &self.edges {
            let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(e.from.as_str()), pos.get(e.to.as_str()))
            else {
                continue;
            };
            let (ax, ay, bx, by) = (x1 + w, y1 + h / 2.0, x2, y2 + h / 2.0);
            let mid = (ax + bx) / 2.0;
            let lit = self.edge_lit(e, highlights);
            let (color, marker) = match lit {
                Some(back) => (
                    lit_line,
                    if back {
                        " marker-start=\"url(#arrow-lit)\""
                    } else {
                        " marker-end=\"url(#arrow-lit)\""
                    },
                ),
                None => (line, if e.relation == "transfer" { " marker-end=\"url(#arrow)\"" } else { "" }),
            };
            let dash =
                if e.relation == "transfer" || lit.is_some() { "" } else { " stroke-dasharray=\"5 4\"" };
            let _ = write!(
                s,
                "<path class=\"edge {rel}\" d=\"M{ax:.1},{ay:.1} C{mid:.1},{ay:.1} {mid:.1},{by:.1} {bx:.1},{by:.1}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{sw}\"{dash}{marker}/>",
                rel = e.relation,
                sw = if lit.is_some() { 2.5 } else { 1.4 },
            );
        }
        for n in &self.nodes {
            let Some(&(x, y)) = pos.get(n.name.as_str()) else { continue };
            let lit = self.lit(&n.name, highlights);
            let (fill, stroke) = if lit { (lit_fill, lit_line) } else { (bg, line) };
            let (rx, icon, kind) = match n.kind {
                NodeKind::Agent => (h / 2.0, "🤖", "agent"),
                NodeKind::Tool => (6.0, "🔧", "tool"),
                NodeKind::Mcp => (14.0, "🔌", "mcp"),
            };
            let label = n.name.trim_start_matches("mcp:");
            let shown: String = if label.chars().count() > 24 {
                label.chars().take(23).chain(['…']).collect()
            } else {
                label.to_string()
            };
            let _ = write!(
                s,
                "<g class=\"node {kind}{lit_class}\"><title>{title}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.0}\" height=\"{h:.0}\" rx=\"{rx:.0}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" fill=\"{fg}\">{icon} {text}</text></g>",
                lit_class = if lit { " highlighted" } else { "" },
                title = esc(&n.name),
                tx = x + w / 2.0,
                ty = y + h / 2.0 + 4.5,
                text = esc(&shown),
            );
        }
        s.push_str("</svg>");
        s
    }
}

/// A DOT identifier: always quoted, quotes and backslashes escaped.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// XML text and attribute escaping.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// ADK's highlight pairs for one event: author -> each called tool, each answering tool ->
/// author, else the author alone.
pub fn event_highlights(e: &vana_core::Event) -> Vec<(String, String)> {
    let calls = e.function_calls();
    if !calls.is_empty() {
        return calls
            .iter()
            .map(|c| {
                let to = if c.name == "transfer_to_agent" {
                    c.args.get("agent_name").and_then(|v| v.as_str()).unwrap_or(&c.name).to_string()
                } else {
                    c.name.clone()
                };
                (e.author.clone(), to)
            })
            .collect();
    }
    let responses = e.function_responses();
    if !responses.is_empty() {
        return responses.iter().map(|r| (r.name.clone(), e.author.clone())).collect();
    }
    vec![(e.author.clone(), String::new())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use vana_core::catalog::SpecSource;

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        for y in [
            "name: boss\ndescription: Routes.\ninstruction: Route.\nsub_agents: [coder]\nagent_tools: [critic]\ntools: []\n",
            "name: coder\ndescription: Codes.\ninstruction: Code.\ntools: [execute_code]\nmcp_servers: [files]\n",
            "name: critic\ndescription: Reviews \"code\".\ninstruction: Review.\ntools: []\n",
        ] {
            c.add_yaml(y, SpecSource::Builtin("t.yaml".into())).unwrap();
        }
        c
    }

    #[test]
    fn graph_dot_and_svg_of_a_tree() {
        let g = AgentGraph::of(&catalog(), "boss");
        let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["boss", "coder", "critic", "execute_code", "mcp:files"]);
        let lit = vec![("coder".to_string(), "execute_code".to_string())];
        let dot = g.dot(&lit, false);
        assert!(dot.starts_with("strict digraph {"), "{dot}");
        assert!(dot.contains("\"boss\" -> \"coder\" [arrowhead=none"), "{dot}");
        assert!(dot.contains("\"coder\" -> \"execute_code\" [color=\"#69CB87\"]"), "{dot}");
        assert!(dot.contains("\"coder\" [label=\"🤖 coder\" color=\"#0F5223\""), "{dot}");
        assert!(g.dot(&[], true).contains("bgcolor=\"#333537\""));
        let svg = g.svg(&lit, true);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<g class=\"node").count(), 5);
        assert_eq!(svg.matches("class=\"edge").count(), 4);
        assert!(svg.contains("node tool highlighted") && svg.contains("#333537"));
        assert!(g.svg(&[], false).contains("fill=\"#ffffff\""));
    }
}
