//! `click_element`, `fill_form` and `press_key`: acting on the page like a user.

use super::{finish, page, ElementArgs, Shared};
use crate::page::Target;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use vana_core::{ToolContext, ToolError, ToolOutput};
use vana_toolkit::schemars::JsonSchema;
use vana_toolkit::TypedTool;

/// `click_element`.
pub struct ClickElement(pub Arc<Shared>);

#[async_trait::async_trait]
impl TypedTool for ClickElement {
    type Args = ElementArgs;
    fn name(&self) -> &'static str {
        "click_element"
    }
    fn description(&self) -> &'static str {
        "Click an element of this session's page with the mouse, named by a ref from get_page_snapshot (preferred), a \
         CSS selector or its visible text. Waits for the page load a click starts and reports where the page is."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(330))
    }
    async fn run(&self, args: ElementArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let t = args.target();
        if t.is_empty() {
            return Err(ToolError::InvalidArgs(
                "name the element: give `ref` (from get_page_snapshot), `selector` or `text`".into(),
            ));
        }
        let page = page(&self.0, &ctx).await?;
        let refs = page.lock.lock().await;
        let node = page.resolve(&refs, &t).await?;
        let ((), navigated) = page.settle(page.click(node, &t)).await?;
        drop(refs);
        finish(&self.0, &page, &ctx, json!({"clicked": true, "navigated": navigated})).await
    }
}

/// One field to fill.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Field {
    /// A ref from get_page_snapshot, e.g. `e12` (preferred).
    #[serde(default, rename = "ref")]
    pub element_ref: Option<String>,
    /// A CSS selector for the field.
    #[serde(default)]
    pub selector: Option<String>,
    /// The field's label, aria-label, placeholder or name.
    #[serde(default)]
    pub label: Option<String>,
    /// The text to type, or the option (value or visible text) to select.
    #[serde(default)]
    pub value: Option<String>,
    /// For a checkbox or radio button: whether it should be checked.
    #[serde(default)]
    pub checked: Option<bool>,
}

/// Arguments of `fill_form`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FillArgs {
    /// The fields, filled in order.
    #[schemars(length(min = 1, max = 100))]
    pub fields: Vec<Field>,
    /// Submit the form of the last field afterwards (as its submit button would).
    #[serde(default)]
    pub submit: Option<bool>,
    /// Click this button (a ref) to submit instead.
    #[serde(default)]
    pub submit_ref: Option<String>,
    /// Click the first element matching this CSS selector to submit instead.
    #[serde(default)]
    pub submit_selector: Option<String>,
}

/// `fill_form`.
pub struct FillForm(pub Arc<Shared>);

#[async_trait::async_trait]
impl TypedTool for FillForm {
    type Args = FillArgs;
    fn name(&self) -> &'static str {
        "fill_form"
    }
    fn description(&self) -> &'static str {
        "Fill several fields of a form on this session's page (text inputs, text areas, selects by value or visible \
         text, checkboxes and radio buttons), each named by a ref, a CSS selector or its label; then optionally submit \
         (submit: true, or click submit_ref / submit_selector) and wait for the next page."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(330))
    }
    async fn run(&self, args: FillArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        if args.fields.is_empty() {
            return Err(ToolError::InvalidArgs("field `fields`: give at least one field".into()));
        }
        for (i, f) in args.fields.iter().enumerate() {
            if f.element_ref.is_none() && f.selector.is_none() && f.label.is_none() {
                return Err(ToolError::InvalidArgs(format!(
                    "field `fields[{i}]`: name the field with `ref`, `selector` or `label`"
                )));
            }
            if f.value.is_none() && f.checked.is_none() {
                return Err(ToolError::InvalidArgs(format!(
                    "field `fields[{i}]`: give a `value` (or `checked` for a checkbox)"
                )));
            }
        }
        let page = page(&self.0, &ctx).await?;
        let refs = page.lock.lock().await;
        // Resolve every field first, so a bad name changes nothing.
        let mut targets = Vec::new();
        for f in &args.fields {
            let t = Target {
                r#ref: f.element_ref.clone(),
                selector: f.selector.clone(),
                label: f.label.clone(),
                text: None,
            };
            let node = page.resolve(&refs, &t).await?;
            targets.push((t, node));
        }
        let submit_target = match (&args.submit_ref, &args.submit_selector) {
            (None, None) => None,
            (r, s) => {
                let t = Target { r#ref: r.clone(), selector: s.clone(), label: None, text: None };
                let node = page.resolve(&refs, &t).await?;
                Some((t, node))
            }
        };
        let mut filled = Vec::new();
        for ((t, node), f) in targets.iter().zip(&args.fields) {
            let value = f.value.clone().map(Value::String).unwrap_or(Value::Null);
            filled.push(page.fill(*node, t, &value, f.checked).await?);
        }
        let mut navigated = false;
        let mut submitted = false;
        if let Some((t, node)) = submit_target {
            navigated = page.settle(page.click(node, &t)).await?.1;
            submitted = true;
        } else if args.submit == Some(true) {
            let (t, node) = targets.last().expect("at least one field");
            navigated = page.settle(page.submit_form_of(*node, t)).await?.1;
            submitted = true;
        }
        drop(refs);
        let out = json!({"filled": filled, "submitted": submitted, "navigated": navigated});
        finish(&self.0, &page, &ctx, out).await
    }
}

/// Arguments of `press_key`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeyArgs {
    /// The key: a character (`a`, `7`) or a name (Enter, Tab, Escape, Backspace, Delete, ArrowUp, ArrowDown,
    /// ArrowLeft, ArrowRight, Home, End, PageUp, PageDown, Space, F1-F12), with modifiers joined by `+`
    /// (`Control+a`, `Shift+Tab`).
    #[schemars(length(min = 1, max = 40))]
    pub key: String,
    /// Focus this element (a ref) first.
    #[serde(default, rename = "ref")]
    pub element_ref: Option<String>,
    /// Focus the first element matching this CSS selector first.
    #[serde(default)]
    pub selector: Option<String>,
    /// Press it this many times (default 1).
    #[serde(default)]
    #[schemars(range(min = 1, max = 50))]
    pub times: Option<u32>,
}

/// A key as CDP wants it.
#[derive(Debug)]
struct Key {
    key: String,
    code: String,
    vk: u32,
    text: Option<String>,
    modifiers: u32,
}

fn parse_key(spec: &str) -> Result<Key, String> {
    let parts: Vec<&str> = if spec == "+" { vec!["+"] } else { spec.split('+').collect() };
    let (name, mods) = parts.split_last().ok_or("empty key")?;
    let mut modifiers = 0;
    for m in mods {
        modifiers |= match m.to_ascii_lowercase().as_str() {
            "alt" | "option" => 1,
            "control" | "ctrl" => 2,
            "meta" | "cmd" | "command" => 4,
            "shift" => 8,
            other => return Err(format!("`{other}` is not a modifier (Alt, Control, Meta, Shift)")),
        };
    }
    let named: &[(&str, &str, u32, Option<&str>)] = &[
        ("Enter", "Enter", 13, Some("\r")),
        ("Tab", "Tab", 9, None),
        ("Escape", "Escape", 27, None),
        ("Backspace", "Backspace", 8, None),
        ("Delete", "Delete", 46, None),
        ("ArrowUp", "ArrowUp", 38, None),
        ("ArrowDown", "ArrowDown", 40, None),
        ("ArrowLeft", "ArrowLeft", 37, None),
        ("ArrowRight", "ArrowRight", 39, None),
        ("Home", "Home", 36, None),
        ("End", "End", 35, None),
        ("PageUp", "PageUp", 33, None),
        ("PageDown", "PageDown", 34, None),
        ("Space", "Space", 32, Some(" ")),
    ];
    let lower = name.to_ascii_lowercase();
    let alias = match lower.as_str() {
        "return" => "enter",
        "esc" => "escape",
        "up" => "arrowup",
        "down" => "arrowdown",
        "left" => "arrowleft",
        "right" => "arrowright",
        " " => "space",
        other => other,
    };
    if let Some((key, code, vk, text)) = named.iter().find(|(k, ..)| k.to_ascii_lowercase() == alias) {
        let key = if *key == "Space" { " " } else { key };
        return Ok(Key {
            key: key.to_string(),
            code: code.to_string(),
            vk: *vk,
            text: text.map(str::to_string),
            modifiers,
        });
    }
    if let Some(n) =
        lower.strip_prefix('f').and_then(|n| n.parse::<u32>().ok()).filter(|n| (1..=12).contains(n))
    {
        return Ok(Key { key: format!("F{n}"), code: format!("F{n}"), vk: 111 + n, text: None, modifiers });
    }
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => {
            let upper = c.to_ascii_uppercase();
            let (code, vk) = if c.is_ascii_alphabetic() {
                (format!("Key{upper}"), upper as u32)
            } else if c.is_ascii_digit() {
                (format!("Digit{c}"), c as u32)
            } else {
                (String::new(), 0)
            };
            let shifted = modifiers & 8 != 0 && c.is_ascii_alphabetic();
            let ch = if shifted { upper } else { c };
            let text = if modifiers & (2 | 4) == 0 { Some(ch.to_string()) } else { None };
            Ok(Key { key: ch.to_string(), code, vk, text, modifiers })
        }
        _ => Err(format!("`{name}` is not a key name (use a single character or Enter, Tab, Escape, Backspace, ArrowDown, ...)")),
    }
}

/// `press_key`.
pub struct PressKey(pub Arc<Shared>);

#[async_trait::async_trait]
impl TypedTool for PressKey {
    type Args = KeyArgs;
    fn name(&self) -> &'static str {
        "press_key"
    }
    fn description(&self) -> &'static str {
        "Press a key on this session's page (Enter, Tab, Escape, arrows, a character; modifiers like Control+a), \
         optionally after focusing an element by ref or selector. Waits for the page load it starts."
    }
    fn timeout(&self) -> Option<Duration> {
        Some(Duration::from_secs(330))
    }
    async fn run(&self, args: KeyArgs, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let key = parse_key(args.key.trim_matches(|c: char| c == '\n'))
            .map_err(|e| ToolError::InvalidArgs(format!("field `key`: {e}")))?;
        let times = args.times.unwrap_or(1).clamp(1, 50);
        let page = page(&self.0, &ctx).await?;
        let refs = page.lock.lock().await;
        let t = Target {
            r#ref: args.element_ref.clone(),
            selector: args.selector.clone(),
            label: None,
            text: None,
        };
        if !t.is_empty() {
            let node = page.resolve(&refs, &t).await?;
            page.focus(node).await?;
        }
        let press = async {
            for _ in 0..times {
                let mut down = json!({
                    "type": if key.text.is_some() { "keyDown" } else { "rawKeyDown" },
                    "key": key.key, "code": key.code, "windowsVirtualKeyCode": key.vk, "modifiers": key.modifiers,
                });
                if let Some(text) = &key.text {
                    down["text"] = json!(text);
                    down["unmodifiedText"] = json!(text);
                }
                page.call("Input.dispatchKeyEvent", down).await?;
                page.call(
                    "Input.dispatchKeyEvent",
                    json!({"type": "keyUp", "key": key.key, "code": key.code, "windowsVirtualKeyCode": key.vk, "modifiers": key.modifiers}),
                )
                .await?;
            }
            Ok(())
        };
        let ((), navigated) = page.settle(press).await?;
        drop(refs);
        finish(&self.0, &page, &ctx, json!({"pressed": args.key, "times": times, "navigated": navigated}))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::parse_key;

    #[test]
    fn keys_parse_with_modifiers_and_refuse_unknown_names() {
        let k = parse_key("Enter").unwrap();
        assert_eq!((k.key.as_str(), k.vk, k.text.as_deref()), ("Enter", 13, Some("\r")));
        let k = parse_key("Control+a").unwrap();
        assert_eq!((k.modifiers, k.text.is_none(), k.code.as_str()), (2, true, "KeyA"));
        assert_eq!(parse_key("Shift+Tab").unwrap().modifiers, 8);
        assert_eq!(parse_key("F5").unwrap().vk, 116);
        assert!(parse_key("Hyper+x").unwrap_err().contains("not a modifier"));
        assert!(parse_key("Enterr").unwrap_err().contains("not a key name"));
    }
}
