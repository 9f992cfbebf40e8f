//! JSON Schema → GBNF (llama.cpp's grammar format), and the tool-call grammar built from it.
//!
//! The converter covers what tool schemas use in practice: objects with `properties`,
//! `required` and optional keys, `string` (with `minLength`/`maxLength`), `number`, `integer`,
//! `boolean`, `null`, `enum`, `const`, arrays with `items` (and `minItems`/`maxItems`), nested
//! objects, `anyOf`/`oneOf`, a list of types (`["string", "null"]`), a single-element `allOf`
//! and local `$ref`s (`#/$defs/…`, `#/definitions/…`). Anything else (`pattern`, `format`,
//! `not`, multi-element `allOf`, `additionalProperties` schemas, …) is loosened, never
//! rejected: the value becomes "any JSON value" (or "any string" for a string with a pattern).
//!
//! Objects only allow the declared properties (declared order, required ones first), so a model
//! cannot invent keys. Whitespace between tokens is limited to at most one space, and numbers to
//! at most 16 digits, so a small model cannot loop forever inside the grammar.

use crate::grounding::{ArgKind, Spans};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

/// How a reply may look when the request carries tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolChoice {
    /// The default for agents: one tool call when the request opens a task (the last message
    /// is the user's or a hand-off's text), then a text answer once a tool result is in. Left
    /// free, a 135M model mostly talks instead of acting, and after a result it tends to repeat
    /// the same call.
    #[default]
    ActThenAnswer,
    /// The model answers with plain text or one tool call.
    Auto,
    /// The model must answer with exactly one tool call.
    Required,
    /// Tools are ignored: plain text only.
    None,
}

impl ToolChoice {
    /// Parses `act_then_answer`, `auto`, `required` (or `any`) and `none`.
    pub fn parse(s: &str) -> Option<ToolChoice> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Some(ToolChoice::Auto),
            "act_then_answer" => Some(ToolChoice::ActThenAnswer),
            "required" | "any" => Some(ToolChoice::Required),
            "none" => Some(ToolChoice::None),
            _ => None,
        }
    }
}

/// A tool as the grammar sees it: its name and the JSON Schema of its arguments.
#[derive(Debug, Clone, Copy)]
pub struct ToolSchema<'a> {
    /// Tool name.
    pub name: &'a str,
    /// JSON Schema of the arguments (an object schema).
    pub parameters: &'a Value,
}

/// The GBNF grammar (root rule `root`) for a reply to a request with tools.
///
/// A tool call is exactly `{"name": "<tool>", "arguments": {…}}` where the arguments follow that
/// tool's schema. With [`ToolChoice::Required`] only a call is allowed. With [`ToolChoice::Auto`]
/// the reply is either a call or plain text; plain text may not start with `{` or whitespace, so
/// the first character decides: `{` starts a call, anything else is text. Text is unconstrained
/// after its first character.
pub fn tool_call_grammar(tools: &[ToolSchema<'_>], choice: ToolChoice) -> String {
    call_grammar(Gbnf::default(), tools, choice)
}

/// [`tool_call_grammar`] with the top-level string arguments grounded in `spans` (the user's
/// message): an argument whose name has an [`ArgKind`] for which `spans` holds values may only
/// take one of those values, written exactly (e.g. `code` is one of the message's code spans,
/// `source` one of the file names it mentions). Arguments of a kind the message holds no span of
/// stay free when required; an optional argument the message gives no value for is left out, so
/// the tool's default applies (a 135M model otherwise fills `timeout: 0` or `bins: 10^15`). An
/// optional argument the message does ground is given. A grounded value an `enum` does not allow
/// is left out.
pub fn grounded_tool_call_grammar(tools: &[ToolSchema<'_>], choice: ToolChoice, spans: &Spans) -> String {
    call_grammar(Gbnf { spans: spans.clone(), ground: true, ..Default::default() }, tools, choice)
}

fn call_grammar(mut g: Gbnf, tools: &[ToolSchema<'_>], choice: ToolChoice) -> String {
    let mut alts = Vec::new();
    for (i, tool) in tools.iter().enumerate() {
        let args = g.object_args(&format!("tool{i}-args"), tool.parameters);
        let rule = format!("tool{i}-call");
        let body = format!(
            "{} ws \":\" ws {} ws \",\" ws {} ws \":\" ws {args}",
            lit("\"name\""),
            lit(&json_str(tool.name)),
            lit("\"arguments\""),
        );
        g.add(&rule, body);
        alts.push(rule);
    }
    if alts.is_empty() {
        alts.push("value".into());
        g.generic();
    }
    g.add("tool-call", format!("\"{{\" ws ( {} ) ws \"}}\"", alts.join(" | ")));
    match choice {
        ToolChoice::Required => g.add("root", "tool-call".into()),
        _ => {
            g.add("root", "tool-call | text".into());
            g.add("text", "[^{ \\t\\r\\n\\x00] [^\\x00]*".into());
        }
    }
    g.finish()
}

/// The GBNF grammar (root rule `root`) of JSON values matching `schema`.
pub fn json_schema_grammar(schema: &Value) -> String {
    let mut g = Gbnf { root_schema: schema.clone(), ..Default::default() };
    let body = g.visit("root-value", schema);
    g.add("root", body);
    g.finish()
}

/// GBNF string literal for `s` (quotes included), escaping `"`, `\` and control characters.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` as a JSON string (with quotes), as the model must write it.
fn json_str(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A grammar being built: named rules, plus the shared primitives actually used.
#[derive(Default)]
struct Gbnf {
    rules: BTreeMap<String, String>,
    order: Vec<String>,
    prims: HashSet<&'static str>,
    /// The schema `$ref`s resolve against (the tool's parameters, or the whole schema).
    root_schema: Value,
    /// `$ref` targets already given a rule (to allow recursion).
    refs: HashSet<String>,
    /// Prefix of `$ref` rule names (one per tool, as each tool has its own definitions).
    ref_prefix: String,
    depth: usize,
    /// Literal spans of the user's message that ground top-level arguments.
    spans: Spans,
    /// Grounding is on: a top-level optional argument the message gives no value for is left
    /// out (the tool's default applies) instead of being left to the model to invent.
    ground: bool,
}

const PRIMITIVES: &[(&str, &str)] = &[
    ("ws", "\" \"?"),
    ("char", "[^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4} )"),
    ("string", "\"\\\"\" char* \"\\\"\""),
    ("integer", "\"-\"? ( [0-9] | [1-9] [0-9]{0,15} )"),
    ("number", "\"-\"? ( [0-9] | [1-9] [0-9]{0,15} ) ( \".\" [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,3} )?"),
    ("boolean", "\"true\" | \"false\""),
    ("null", "\"null\""),
    ("value", "object | array | string | number | boolean | null"),
    ("object", "\"{\" ws ( string ws \":\" ws value ( ws \",\" ws string ws \":\" ws value )* )? ws \"}\""),
    ("array", "\"[\" ws ( value ( ws \",\" ws value )* )? ws \"]\""),
];

/// Nesting beyond this becomes "any JSON value" (guards against pathological schemas).
const MAX_DEPTH: usize = 24;

impl Gbnf {
    fn add(&mut self, name: &str, body: String) {
        if self.rules.insert(name.to_string(), body).is_none() {
            self.order.push(name.to_string());
        }
    }

    fn prim(&mut self, name: &'static str) -> String {
        self.prims.insert(name);
        match name {
            "string" => {
                self.prims.insert("char");
            }
            "value" | "object" | "array" => self.generic(),
            _ => {}
        }
        name.to_string()
    }

    /// Marks the generic JSON value rules (and everything they use) as used.
    fn generic(&mut self) {
        for p in ["value", "object", "array", "string", "char", "number", "boolean", "null", "ws"] {
            self.prims.insert(p);
        }
    }

    fn finish(mut self) -> String {
        self.prims.insert("ws");
        let mut out = String::new();
        // `root` first, then the rules in creation order, then the primitives.
        if let Some(body) = self.rules.get("root") {
            out.push_str(&format!("root ::= {body}\n"));
        }
        for name in &self.order {
            if name != "root" {
                out.push_str(&format!("{name} ::= {}\n", self.rules[name]));
            }
        }
        for (name, body) in PRIMITIVES {
            if self.prims.contains(name) {
                out.push_str(&format!("{name} ::= {body}\n"));
            }
        }
        out
    }

    /// The arguments object of a tool: its schema, resolved against itself for `$ref`s. A schema
    /// that is not an object schema still must produce a JSON object.
    fn object_args(&mut self, name: &str, schema: &Value) -> String {
        self.root_schema = schema.clone();
        self.refs.clear();
        self.ref_prefix = format!("{name}-");
        let is_object = schema.get("properties").is_some()
            || schema.get("type").and_then(Value::as_str) == Some("object");
        if !is_object {
            return self.prim("object");
        }
        let body = self.visit(name, schema);
        self.add(name, body);
        name.to_string()
    }

    /// The rule body (an expression) for values matching `schema`; `name` prefixes sub-rules.
    fn visit(&mut self, name: &str, schema: &Value) -> String {
        if self.depth > MAX_DEPTH {
            return self.prim("value");
        }
        self.depth += 1;
        let body = self.visit_inner(name, schema);
        self.depth -= 1;
        body
    }

    fn visit_inner(&mut self, name: &str, schema: &Value) -> String {
        let Some(obj) = schema.as_object() else {
            // `true` or anything that is not an object: any value.
            return self.prim("value");
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            return self.reference(r);
        }
        if let Some(c) = obj.get("const") {
            return lit(&c.to_string());
        }
        if let Some(Value::Array(values)) = obj.get("enum") {
            if values.is_empty() {
                return self.prim("value");
            }
            let alts: Vec<String> = values.iter().map(|v| lit(&v.to_string())).collect();
            return format!("( {} )", alts.join(" | "));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(subs)) = obj.get(key) {
                if subs.is_empty() {
                    return self.prim("value");
                }
                let alts: Vec<String> = subs
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.sub_rule(&format!("{name}-{i}"), &merge_siblings(obj, s)))
                    .collect();
                return format!("( {} )", alts.join(" | "));
            }
        }
        if let Some(Value::Array(subs)) = obj.get("allOf") {
            return match subs.as_slice() {
                [only] => self.visit(name, &merge_siblings(obj, only)),
                _ => self.prim("value"),
            };
        }
        match obj.get("type") {
            Some(Value::String(t)) => self.typed(name, t, obj),
            Some(Value::Array(types)) => {
                let alts: Vec<String> = types
                    .iter()
                    .filter_map(Value::as_str)
                    .enumerate()
                    .map(|(i, t)| {
                        let body = self.typed(&format!("{name}-{i}"), t, obj);
                        self.named(&format!("{name}-{i}"), body)
                    })
                    .collect();
                if alts.is_empty() {
                    self.prim("value")
                } else {
                    format!("( {} )", alts.join(" | "))
                }
            }
            _ if obj.contains_key("properties") => self.typed(name, "object", obj),
            _ if obj.contains_key("items") => self.typed(name, "array", obj),
            _ => self.prim("value"),
        }
    }

    /// A rule named `name` for `schema`; returns the rule name.
    fn sub_rule(&mut self, name: &str, schema: &Value) -> String {
        let body = self.visit(name, schema);
        self.named(name, body)
    }

    /// Gives `body` its own rule unless it already is a single name.
    fn named(&mut self, name: &str, body: String) -> String {
        if is_identifier(&body) {
            return body;
        }
        self.add(name, body);
        name.to_string()
    }

    fn reference(&mut self, r: &str) -> String {
        let rule = format!(
            "{}ref-{}",
            self.ref_prefix,
            r.trim_start_matches("#/")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
                .collect::<String>()
        );
        if self.refs.contains(r) {
            return rule;
        }
        let Some(target) = r.strip_prefix('#').and_then(|p| self.root_schema.pointer(p)).cloned() else {
            return self.prim("value");
        };
        self.refs.insert(r.to_string());
        // Reserve the name first so recursive references resolve to it.
        self.add(&rule, "null".into());
        let body = self.visit(&rule, &target);
        self.rules.insert(rule.clone(), body);
        rule
    }

    fn typed(&mut self, name: &str, t: &str, obj: &Map<String, Value>) -> String {
        match t {
            "string" => {
                if obj.contains_key("pattern") || obj.contains_key("format") {
                    return self.prim("string");
                }
                let min = obj.get("minLength").and_then(Value::as_u64);
                let max = obj.get("maxLength").and_then(Value::as_u64);
                match (min, max) {
                    (None, None) => self.prim("string"),
                    (min, max) => {
                        self.prim("string");
                        let min = min.unwrap_or(0);
                        let max = max.map(|m| m.max(min).to_string()).unwrap_or_default();
                        format!("\"\\\"\" char{{{min},{max}}} \"\\\"\"")
                    }
                }
            }
            "integer" => self.prim("integer"),
            "number" => self.prim("number"),
            "boolean" => self.prim("boolean"),
            "null" => self.prim("null"),
            "array" => self.array(name, obj),
            "object" => self.object(name, obj),
            _ => self.prim("value"),
        }
    }

    fn array(&mut self, name: &str, obj: &Map<String, Value>) -> String {
        let item = match obj.get("items") {
            Some(items @ Value::Object(_)) => self.sub_rule(&format!("{name}-item"), items),
            _ => self.prim("value"),
        };
        self.prim("ws");
        let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let max = obj.get("maxItems").and_then(Value::as_u64);
        if max == Some(0) {
            return "\"[\" ws \"]\"".into();
        }
        let rest_max = max.map(|m| (m.max(min.max(1)) - 1).to_string()).unwrap_or_default();
        let rest = if min <= 1 && max.is_none() {
            format!("( ws \",\" ws {item} )*")
        } else {
            format!("( ws \",\" ws {item} ){{{},{rest_max}}}", min.saturating_sub(1))
        };
        if min == 0 {
            format!("\"[\" ws ( {item} {rest} )? ws \"]\"")
        } else {
            format!("\"[\" ws {item} {rest} ws \"]\"")
        }
    }

    fn object(&mut self, name: &str, obj: &Map<String, Value>) -> String {
        let Some(Value::Object(props)) = obj.get("properties") else {
            return self.prim("object");
        };
        self.prim("ws");
        let required: HashSet<&str> = obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut req = Vec::new();
        let mut opt = Vec::new();
        for (i, (key, schema)) in props.iter().enumerate() {
            let optional = !required.contains(key.as_str());
            let grounded = if self.depth == 1 { self.grounded(key, schema, optional) } else { None };
            // An optional enum the message names a value of is given, with that value.
            let named_enum = grounded.is_none() && self.depth == 1 && self.grounded_enum(schema).is_some();
            let given = self.ground && self.depth == 1 && (grounded.is_some() || named_enum);
            if self.ground && self.depth == 1 && !given && optional {
                continue;
            }
            let value = match grounded.or_else(|| if named_enum { self.grounded_enum(schema) } else { None })
            {
                Some(alts) => self.named(&format!("{name}-{}", rule_part(key, i)), alts),
                None => self.sub_rule(&format!("{name}-{}", rule_part(key, i)), schema),
            };
            let kv = format!("{} ws \":\" ws {value}", lit(&json_str(key)));
            if required.contains(key.as_str()) || given {
                req.push(kv);
            } else {
                opt.push(kv);
            }
        }
        let inner = if !req.is_empty() {
            let mut s = req.join(" ws \",\" ws ");
            for kv in &opt {
                s.push_str(&format!(" ( ws \",\" ws {kv} )?"));
            }
            s
        } else if opt.is_empty() {
            String::new()
        } else {
            // Any subset of the optional keys, in order, comma-separated: start at key i, then
            // each later key optionally.
            let alts: Vec<String> = (0..opt.len())
                .map(|i| {
                    let mut s = opt[i].clone();
                    for kv in &opt[i + 1..] {
                        s.push_str(&format!(" ( ws \",\" ws {kv} )?"));
                    }
                    s
                })
                .collect();
            let rule = format!("{name}-opt");
            self.add(&rule, alts.join(" | "));
            format!("{rule}?")
        };
        if inner.is_empty() {
            "\"{\" ws \"}\"".into()
        } else {
            format!("\"{{\" ws {inner} ws \"}}\"")
        }
    }
}

impl Gbnf {
    /// The alternatives of the grounded values of argument `key`, when it has a kind, the
    /// user's message holds values of that kind and the schema accepts a string. An optional
    /// file argument (`file`, `path`) is one to write more often than not (a chart's file): it
    /// takes only the files the message asks to write.
    fn grounded(&self, key: &str, schema: &Value, optional: bool) -> Option<String> {
        let kind = match ArgKind::of(key)? {
            ArgKind::Path if optional => ArgKind::Output,
            kind => kind,
        };
        let mut values = self.spans.values(kind);
        if !accepts_string(schema) {
            return None;
        }
        if let Some(Value::Array(allowed)) = schema.get("enum") {
            values.retain(|v| allowed.iter().any(|a| a.as_str() == Some(v)));
        }
        if values.is_empty() {
            return None;
        }
        let alts: Vec<String> = values.iter().map(|v| lit(&json_str(v))).collect();
        Some(format!("( {} )", alts.join(" | ")))
    }
}

impl Gbnf {
    /// The alternatives of the values of a string `enum` that the user's message names.
    fn grounded_enum(&self, schema: &Value) -> Option<String> {
        let Some(Value::Array(allowed)) = schema.get("enum") else { return None };
        let values = self.spans.enum_values(allowed);
        if values.is_empty() {
            return None;
        }
        let alts: Vec<String> = values.iter().map(|v| lit(&json_str(v))).collect();
        Some(format!("( {} )", alts.join(" | ")))
    }
}

/// True when `schema` accepts a JSON string (a string type, among `anyOf`/`oneOf`
/// alternatives or a type list, or no type at all).
fn accepts_string(schema: &Value) -> bool {
    let Some(obj) = schema.as_object() else { return true };
    match obj.get("type") {
        Some(Value::String(t)) => return t == "string",
        Some(Value::Array(ts)) => return ts.iter().any(|t| t == "string"),
        _ => {}
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(subs)) = obj.get(key) {
            return subs.iter().any(accepts_string);
        }
    }
    !obj.contains_key("properties") && !obj.contains_key("items") && !obj.contains_key("$ref")
}

/// Keywords of the parent schema (e.g. `type` next to `anyOf`) applied to each alternative.
fn merge_siblings(parent: &Map<String, Value>, sub: &Value) -> Value {
    let mut merged: Map<String, Value> = parent
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "anyOf" | "oneOf" | "allOf" | "description" | "title"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match sub {
        Value::Object(o) => {
            for (k, v) in o {
                merged.insert(k.clone(), v.clone());
            }
            Value::Object(merged)
        }
        other => other.clone(),
    }
}

/// A rule-name-safe fragment for a property name (falls back to its index).
fn rule_part(key: &str, index: usize) -> String {
    let s: String =
        key.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let s = s.trim_matches('-');
    if s.is_empty() {
        format!("p{index}")
    } else {
        format!("{s}-{index}")
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(lit("\"a\\b\""), r#""\"a\\b\"""#);
        assert_eq!(lit(&json_str("x\"y")), r#""\"x\\\"y\"""#);
    }

    #[test]
    fn object_with_required_optional_enum_and_nesting() {
        let schema = json!({
            "type": "object",
            "properties": {
                "source": {"type": "string"},
                "analysis_type": {"type": "string", "enum": ["summary", "correlation"]},
                "limit": {"type": "integer"},
                "opts": {"type": "object", "properties": {"x": {"type": "boolean"}}, "required": ["x"]},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}
            },
            "required": ["source"]
        });
        let g = json_schema_grammar(&schema);
        assert!(g.starts_with("root ::= \"{\" ws \"\\\"source\\\"\" ws \":\" ws string"), "{g}");
        assert!(g.contains("( \"\\\"summary\\\"\" | \"\\\"correlation\\\"\" )"), "{g}");
        assert!(g.contains("( ws \",\" ws string ){0,2}"), "{g}");
        assert!(g.contains("boolean ::="), "{g}");
        assert!(!g.contains("value ::="), "no generic value needed: {g}");
    }

    #[test]
    fn only_optional_keys_allow_any_ordered_subset() {
        let g = json_schema_grammar(
            &json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "null"}}}),
        );
        assert!(g.contains("root-value-opt ::= "), "{g}");
        assert!(g.contains("root ::= \"{\" ws root-value-opt? ws \"}\""), "{g}");
    }

    #[test]
    fn unsupported_keywords_fall_back_to_any_value() {
        let g = json_schema_grammar(&json!({"not": {"type": "string"}}));
        assert!(g.starts_with("root ::= value\n"), "{g}");
        assert!(g.contains("value ::= object | array"), "{g}");
    }

    #[test]
    fn refs_and_type_lists_and_any_of() {
        let schema = json!({
            "type": "object",
            "$defs": {"node": {"type": "object", "properties": {"next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}}},
            "properties": {"head": {"$ref": "#/$defs/node"}, "n": {"type": ["integer", "null"]}},
            "required": ["head", "n"]
        });
        let g = json_schema_grammar(&schema);
        assert!(g.contains("ref--defs-node ::= \"{\""), "{g}");
        assert!(g.contains("( ref--defs-node | "), "{g}");
    }

    #[test]
    fn optional_files_are_files_to_write_and_columns_are_words_of_the_message() {
        let p = json!({"type": "object", "properties": {
            "source": {"type": "string"},
            "chart": {"type": "string", "enum": ["bar", "line"]},
            "x": {"type": "string"},
            "y": {"type": "string"},
            "file": {"type": "string"},
            "width": {"type": "integer"}
        }, "required": ["source", "chart"]});
        let tools = [ToolSchema { name: "visualize_data", parameters: &p }];
        let spans = crate::grounding::spans("Draw a bar chart of revenue by region from sales.csv.");
        let g = grounded_tool_call_grammar(&tools, ToolChoice::Required, &spans);
        assert!(g.contains(r#"::= ( "\"sales.csv\"" )"#), "the source is the file named: {g}");
        assert!(g.contains(r#"( "\"revenue\"" | "\"region\"" )"#), "x and y are words of the message: {g}");
        assert!(
            !g.contains("\"file\""),
            "no file to write is named, so the chart keeps its default name: {g}"
        );
        assert!(!g.contains("width"), "{g}");
        let spans = crate::grounding::spans("Plot revenue from sales.csv and save it as revenue.png");
        let g = grounded_tool_call_grammar(&tools, ToolChoice::Required, &spans);
        assert!(g.contains(r#""\"file\"" ws ":" ws tool0-args-file-1 ws"#), "{g}");
        assert!(g.contains(r#"tool0-args-file-1 ::= ( "\"revenue.png\"" )"#), "{g}");
    }

    #[test]
    fn grounded_arguments_take_the_message_spans() {
        let p = json!({"type": "object", "properties": {
            "language": {"type": "string"},
            "code": {"type": "string"},
            "timeout": {"type": "number"}
        }, "required": ["language", "code"]});
        let tools = [ToolSchema { name: "execute_code", parameters: &p }];
        let spans = crate::grounding::spans(r#"run this python code: print("a\b")"#);
        let g = grounded_tool_call_grammar(&tools, ToolChoice::Required, &spans);
        assert!(g.contains(r#"tool0-args-code-0 ::= ( "\"print(\\\"a\\\\b\\\")\"" )"#), "{g}");
        assert!(g.contains(r#"tool0-args-language-1 ::= ( "\"python\"" )"#), "{g}");
        assert!(
            !g.contains("timeout"),
            "an optional argument the message gives no value for is left out: {g}"
        );
        let nothing = grounded_tool_call_grammar(&tools, ToolChoice::Required, &Spans::default());
        assert!(nothing.contains(r#""\"code\"" ws ":" ws string"#), "required stays free: {nothing}");
        assert!(!nothing.contains("timeout"), "{nothing}");
        let free = tool_call_grammar(&tools, ToolChoice::Required);
        assert!(
            free.contains(r#""\"timeout\"" ws ":" ws number )?"#),
            "without grounding it stays optional: {free}"
        );
        // A named enum value is given even when optional.
        let p = json!({"type": "object", "properties": {
            "source": {"type": "string"},
            "analysis_type": {"type": "string", "enum": ["summary", "correlation"]}
        }, "required": ["source"]});
        let tools = [ToolSchema { name: "analyze", parameters: &p }];
        let g = grounded_tool_call_grammar(
            &tools,
            ToolChoice::Required,
            &crate::grounding::spans("find correlations in sales.csv"),
        );
        assert!(g.contains(r#"tool0-args-analysis-type-0 ::= ( "\"correlation\"" )"#), "{g}");
        assert!(g.contains(r#"tool0-args-source-1 ::= ( "\"sales.csv\"" )"#), "{g}");
        assert!(!g.contains(")?"), "both given: {g}");
    }

    #[test]
    fn tool_grammar_shapes() {
        let p = json!({"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]});
        let tools = [
            ToolSchema { name: "search", parameters: &p },
            ToolSchema { name: "noop", parameters: &json!({}) },
        ];
        let required = tool_call_grammar(&tools, ToolChoice::Required);
        assert!(required.starts_with("root ::= tool-call\n"), "{required}");
        assert!(required.contains("\"\\\"search\\\"\""), "{required}");
        assert!(!required.contains("text ::="), "{required}");
        let auto = tool_call_grammar(&tools, ToolChoice::Auto);
        assert!(auto.starts_with("root ::= tool-call | text\n"), "{auto}");
        assert!(auto.contains("tool1-call ::= ") && auto.contains("object ::="), "{auto}");
    }
}
