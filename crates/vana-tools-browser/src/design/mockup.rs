//! The page spec the model writes for `generate_ui_mockup`, and the HTML/CSS VANA makes from
//! it: a small component library (header, nav, hero, cards, form, pricing, footer) and themes
//! shipped in this crate, self-contained (no fonts, scripts or images fetched), every piece of
//! content escaped, links limited to safe schemes, and the same spec always giving the same bytes.

use super::color;
use super::contrast::ratio;
use serde::Deserialize;
use std::fmt::Write;
use vana_toolkit::schemars::JsonSchema;

/// Most sections in one mockup.
pub const MAX_SECTIONS: usize = 30;
/// Most items (links, cards, fields, plans, features) in one list.
pub const MAX_ITEMS: usize = 24;
/// Longest text of one field, characters.
pub const MAX_TEXT: usize = 2000;

/// A theme shipped with VANA.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThemeName {
    /// White page, dark text, blue accent.
    #[default]
    Light,
    /// Near-black page, light text, sky accent.
    Dark,
    /// Pale blue page, navy text, teal accent.
    Ocean,
    /// Warm off-white page, brown text, orange-red accent.
    Sunset,
    /// Soft green page, deep green text, green accent.
    Forest,
    /// Black and white only.
    Mono,
}

/// A theme's colours and type.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Page background.
    pub bg: &'static str,
    /// Cards, forms and the header.
    pub surface: &'static str,
    /// Body text.
    pub text: &'static str,
    /// Secondary text.
    pub muted: &'static str,
    /// Buttons and accents.
    pub primary: &'static str,
    /// Text on the primary colour.
    pub on_primary: &'static str,
    /// Borders (inputs meet 3:1 against the surface).
    pub border: &'static str,
    /// The font stack (system fonts only).
    pub font: &'static str,
    /// Corner radius, px.
    pub radius: u8,
}

impl ThemeName {
    /// The theme's values.
    pub fn theme(self) -> Theme {
        const SANS: &str =
            "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
        const SERIF: &str = "Georgia, 'Times New Roman', serif";
        match self {
            ThemeName::Light => Theme {
                bg: "#ffffff",
                surface: "#f5f7fa",
                text: "#1a202c",
                muted: "#4a5568",
                primary: "#1d4ed8",
                on_primary: "#ffffff",
                border: "#718096",
                font: SANS,
                radius: 8,
            },
            ThemeName::Dark => Theme {
                bg: "#0f172a",
                surface: "#1e293b",
                text: "#f1f5f9",
                muted: "#cbd5e1",
                primary: "#38bdf8",
                on_primary: "#0f172a",
                border: "#94a3b8",
                font: SANS,
                radius: 10,
            },
            ThemeName::Ocean => Theme {
                bg: "#f0f9ff",
                surface: "#ffffff",
                text: "#0c2d48",
                muted: "#2e4a62",
                primary: "#0f766e",
                on_primary: "#ffffff",
                border: "#5b7a93",
                font: SANS,
                radius: 12,
            },
            ThemeName::Sunset => Theme {
                bg: "#fffaf3",
                surface: "#ffffff",
                text: "#3b2314",
                muted: "#6b4a35",
                primary: "#c2410c",
                on_primary: "#ffffff",
                border: "#9a7b66",
                font: SERIF,
                radius: 6,
            },
            ThemeName::Forest => Theme {
                bg: "#f3faf4",
                surface: "#ffffff",
                text: "#14301c",
                muted: "#3d5a45",
                primary: "#15803d",
                on_primary: "#ffffff",
                border: "#6b8f74",
                font: SANS,
                radius: 8,
            },
            ThemeName::Mono => Theme {
                bg: "#ffffff",
                surface: "#f2f2f2",
                text: "#111111",
                muted: "#444444",
                primary: "#111111",
                on_primary: "#ffffff",
                border: "#767676",
                font: SANS,
                radius: 0,
            },
        }
    }
}

/// The kinds of section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    /// The top bar: `brand` and `links`.
    Header,
    /// A row of links: `links` (and an optional `heading` naming it).
    Nav,
    /// The big opening block: `heading`, `text`, `cta`.
    Hero,
    /// A grid of cards: `heading`, `text`, `items`.
    Cards,
    /// A form: `heading`, `text`, `fields`, `cta` (the submit button's label).
    Form,
    /// Pricing plans: `heading`, `text`, `plans`.
    Pricing,
    /// The bottom bar: `text` and `links`.
    Footer,
}

/// A link or button.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Link {
    /// Its visible text.
    pub label: String,
    /// Where it goes: `#anchor`, a relative path, `https://…` or `mailto:…` (others become `#`).
    #[serde(default)]
    pub href: Option<String>,
}

/// One card.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Card {
    /// The card's title.
    pub title: String,
    /// Its text.
    #[serde(default)]
    pub text: Option<String>,
    /// An optional link at its foot.
    #[serde(default)]
    pub link: Option<Link>,
}

/// The kind of a form field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    #[default]
    Text,
    /// An email address.
    Email,
    /// A password.
    Password,
    /// A number.
    Number,
    /// A phone number.
    Tel,
    /// Several lines.
    Textarea,
    /// A choice from `options`.
    Select,
    /// A tick box.
    Checkbox,
}

/// One form field.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Field {
    /// Its label (always shown and tied to the field).
    pub label: String,
    /// The kind of input (default text).
    #[serde(default)]
    pub kind: Option<FieldKind>,
    /// Placeholder text.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// Whether it must be filled.
    #[serde(default)]
    pub required: Option<bool>,
    /// The choices of a select.
    #[serde(default)]
    pub options: Vec<String>,
}

/// One pricing plan.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Plan {
    /// The plan's name.
    pub name: String,
    /// Its price as shown, e.g. `$12`.
    pub price: String,
    /// The period, e.g. `per month`.
    #[serde(default)]
    pub period: Option<String>,
    /// What it includes.
    #[serde(default)]
    pub features: Vec<String>,
    /// The button's label (default `Choose`).
    #[serde(default)]
    pub cta: Option<String>,
    /// Show it as the recommended plan.
    #[serde(default)]
    pub highlighted: Option<bool>,
}

/// One section of the page.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct Section {
    /// What it is.
    pub kind: SectionKind,
    /// Its heading.
    #[serde(default)]
    pub heading: Option<String>,
    /// Its text (a paragraph; blank lines separate paragraphs).
    #[serde(default)]
    pub text: Option<String>,
    /// The brand or product name (header).
    #[serde(default)]
    pub brand: Option<String>,
    /// Links (header, nav, footer).
    #[serde(default)]
    pub links: Vec<Link>,
    /// The call to action (hero button; the form's submit button).
    #[serde(default)]
    pub cta: Option<Link>,
    /// Cards (cards).
    #[serde(default)]
    pub items: Vec<Card>,
    /// Fields (form).
    #[serde(default)]
    pub fields: Vec<Field>,
    /// Plans (pricing).
    #[serde(default)]
    pub plans: Vec<Plan>,
}

/// The page spec.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct PageSpec {
    /// The page's title (the browser tab; the main heading when there is no hero).
    pub title: String,
    /// The theme (default light).
    #[serde(default)]
    pub theme: Option<ThemeName>,
    /// Replace the theme's accent with this CSS colour (its text colour is chosen for contrast).
    #[serde(default)]
    pub primary_color: Option<String>,
    /// The sections, top to bottom.
    pub sections: Vec<Section>,
}

/// HTML-escapes text for element content and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link target that cannot run script: `#…`, relative paths, http(s) and mailto; else `#`.
fn safe_href(h: Option<&str>) -> String {
    let h = h.unwrap_or("#").trim();
    let lower = h.to_ascii_lowercase();
    let scheme = lower
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| !s.contains('/') && !s.contains('#') && !s.contains('?'));
    let ok = match scheme {
        Some(s) => matches!(s, "http" | "https" | "mailto"),
        None => !lower.starts_with("//"),
    };
    escape(if ok && !h.is_empty() { h } else { "#" })
}

/// Checks a spec's limits; the error names the field.
pub fn validate(spec: &PageSpec) -> Result<(), String> {
    if spec.title.trim().is_empty() {
        return Err("field `title`: give the page a title".into());
    }
    if spec.sections.is_empty() {
        return Err(
            "field `sections`: give at least one section (header, nav, hero, cards, form, pricing, footer)"
                .into(),
        );
    }
    if spec.sections.len() > MAX_SECTIONS {
        return Err(format!(
            "field `sections`: at most {MAX_SECTIONS} sections, not {}",
            spec.sections.len()
        ));
    }
    let long = |v: &str| v.chars().count() > MAX_TEXT;
    if long(&spec.title) {
        return Err(format!("field `title`: at most {MAX_TEXT} characters"));
    }
    for (i, s) in spec.sections.iter().enumerate() {
        let lists = [
            ("links", s.links.len()),
            ("items", s.items.len()),
            ("fields", s.fields.len()),
            ("plans", s.plans.len()),
        ];
        for (name, n) in lists {
            if n > MAX_ITEMS {
                return Err(format!("field `sections[{i}].{name}`: at most {MAX_ITEMS} entries, not {n}"));
            }
        }
        let mut texts: Vec<&str> = vec![];
        texts.extend(s.heading.as_deref());
        texts.extend(s.text.as_deref());
        texts.extend(s.brand.as_deref());
        texts.extend(s.items.iter().flat_map(|c| [Some(c.title.as_str()), c.text.as_deref()]).flatten());
        texts.extend(s.plans.iter().flat_map(|p| p.features.iter().map(String::as_str)));
        if texts.iter().any(|t| long(t)) {
            return Err(format!("field `sections[{i}]`: a text is longer than {MAX_TEXT} characters"));
        }
        if s.plans.iter().any(|p| p.features.len() > MAX_ITEMS) {
            return Err(format!(
                "field `sections[{i}].plans[].features`: at most {MAX_ITEMS} features a plan"
            ));
        }
        if s.kind == SectionKind::Form && s.fields.is_empty() {
            return Err(format!("field `sections[{i}].fields`: a form needs at least one field"));
        }
    }
    if let Some(c) = &spec.primary_color {
        color::parse(c).map_err(|e| format!("field `primary_color`: {e}"))?;
    }
    Ok(())
}

fn paragraphs(out: &mut String, text: Option<&str>, class: &str) {
    for p in text.unwrap_or_default().split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let _ = write!(out, "<p class=\"{class}\">{}</p>", escape(p).replace('\n', "<br>"));
    }
}

fn css(t: &Theme, primary: &str, on_primary: &str) -> String {
    format!(
        ":root{{--bg:{bg};--surface:{surface};--text:{text};--muted:{muted};--primary:{primary};--on-primary:{on};--border:{border};--radius:{r}px}}
*{{box-sizing:border-box}}
html{{-webkit-text-size-adjust:100%}}
body{{margin:0;background:var(--bg);color:var(--text);font-family:{font};font-size:16px;line-height:1.55}}
a{{color:inherit;text-decoration:underline;text-underline-offset:2px}}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{{outline:3px solid var(--primary);outline-offset:2px}}
.wrap{{max-width:1120px;margin:0 auto;padding:0 20px}}
.site-header{{background:var(--surface);border-bottom:1px solid var(--border)}}
.site-header .wrap{{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:12px;padding-top:14px;padding-bottom:14px}}
.brand{{font-weight:700;font-size:1.25rem;text-decoration:none}}
.links{{display:flex;flex-wrap:wrap;gap:8px 20px;list-style:none;margin:0;padding:0}}
.links a{{display:inline-block;padding:6px 0}}
.bar{{padding:12px 0;border-bottom:1px solid var(--border)}}
.bar h2{{font-size:1rem;margin:0 0 6px}}
section{{padding:48px 0}}
.hero{{padding:72px 0;text-align:center}}
.hero h1{{font-size:2.5rem;line-height:1.15;margin:0 0 16px}}
.lead{{font-size:1.2rem;color:var(--muted);max-width:40em;margin:0 auto 28px}}
h1,h2,h3{{line-height:1.2}}
h2{{font-size:1.75rem;margin:0 0 12px}}
.intro{{color:var(--muted);margin:0 0 24px;max-width:42em}}
.button{{display:inline-block;background:var(--primary);color:var(--on-primary);border:0;border-radius:var(--radius);padding:12px 22px;font:inherit;font-weight:600;text-decoration:none;cursor:pointer}}
.grid{{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:20px}}
.card{{background:var(--surface);border:1px solid var(--border);border-radius:var(--radius);padding:20px}}
.card h3{{margin:0 0 8px;font-size:1.2rem}}
.card p{{margin:0 0 8px;color:var(--muted)}}
form.card{{max-width:560px}}
.field{{margin:0 0 16px}}
.field label{{display:block;font-weight:600;margin:0 0 6px}}
.field input,.field select,.field textarea{{width:100%;font:inherit;color:var(--text);background:var(--bg);border:1px solid var(--border);border-radius:calc(var(--radius) / 2);padding:10px 12px}}
.field textarea{{min-height:110px}}
.check label{{display:flex;gap:10px;align-items:center;font-weight:400}}
.check input{{width:20px;height:20px}}
.plan{{display:flex;flex-direction:column}}
.plan.best{{border:2px solid var(--primary)}}
.badge{{align-self:flex-start;background:var(--primary);color:var(--on-primary);border-radius:999px;padding:2px 10px;font-size:.85rem;font-weight:600;margin:0 0 8px}}
.price{{font-size:2rem;font-weight:700;margin:4px 0}}
.price small{{font-size:1rem;font-weight:400;color:var(--muted)}}
.plan ul{{padding-left:20px;margin:8px 0 20px;flex:1}}
.site-footer{{border-top:1px solid var(--border);padding:28px 0;color:var(--muted)}}
.site-footer .wrap{{display:flex;flex-wrap:wrap;gap:12px 24px;justify-content:space-between;align-items:center}}
.site-footer p{{margin:0}}
@media (max-width:600px){{.hero{{padding:48px 0}}.hero h1{{font-size:1.9rem}}section{{padding:32px 0}}.site-header .wrap{{flex-direction:column;align-items:flex-start}}}}
",
        bg = t.bg,
        surface = t.surface,
        text = t.text,
        muted = t.muted,
        on = on_primary,
        border = t.border,
        r = t.radius,
        font = t.font,
    )
}

fn links(out: &mut String, links: &[Link]) {
    out.push_str("<ul class=\"links\">");
    for l in links {
        let _ = write!(out, "<li><a href=\"{}\">{}</a></li>", safe_href(l.href.as_deref()), escape(&l.label));
    }
    out.push_str("</ul>");
}

/// The HTML page of `spec` (validated first).
pub fn render(spec: &PageSpec) -> Result<String, String> {
    validate(spec)?;
    let t = spec.theme.unwrap_or_default().theme();
    let (primary, on_primary) = match &spec.primary_color {
        Some(c) => {
            let p = color::parse(c).map_err(|e| e.to_string())?;
            let p = p.over(color::parse(t.bg).expect("theme colour"));
            let white = color::Rgba::rgb8(255, 255, 255);
            let black = color::Rgba::rgb8(0, 0, 0);
            let on = if ratio(p, white) >= ratio(p, black) { "#ffffff" } else { "#000000" };
            (p.hex(), on.to_string())
        }
        None => (t.primary.to_string(), t.on_primary.to_string()),
    };
    let has_hero = spec.sections.iter().any(|s| s.kind == SectionKind::Hero);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{}</style>\n</head>\n<body>\n",
        escape(&spec.title),
        css(&t, &primary, &on_primary)
    );
    // Landmarks: header and footer sections stand alone; everything else goes in <main>.
    let mut in_main = false;
    let mut h1_done = false;
    let mut navs = 0;
    for (i, s) in spec.sections.iter().enumerate() {
        let is_main = !matches!(s.kind, SectionKind::Header | SectionKind::Footer);
        if is_main && !in_main {
            out.push_str("<main id=\"main\">\n");
            in_main = true;
            if !has_hero && !h1_done {
                let _ = writeln!(out, "<div class=\"wrap\"><h1>{}</h1></div>", escape(&spec.title));
                h1_done = true;
            }
        } else if !is_main && in_main {
            out.push_str("</main>\n");
            in_main = false;
        }
        let heading = s.heading.as_deref().map(escape);
        match s.kind {
            SectionKind::Header => {
                out.push_str("<header class=\"site-header\"><div class=\"wrap\">");
                let brand = s.brand.as_deref().or(s.heading.as_deref()).unwrap_or(&spec.title);
                let _ = write!(out, "<a class=\"brand\" href=\"#main\">{}</a>", escape(brand));
                if !s.links.is_empty() {
                    navs += 1;
                    let _ = write!(
                        out,
                        "<nav aria-label=\"{}\">",
                        if navs == 1 { "Main".to_string() } else { format!("Menu {navs}") }
                    );
                    links(&mut out, &s.links);
                    out.push_str("</nav>");
                }
                out.push_str("</div></header>\n");
            }
            SectionKind::Nav => {
                navs += 1;
                let label = s.heading.clone().unwrap_or_else(|| {
                    if navs == 1 {
                        "Main".into()
                    } else {
                        format!("Section links {navs}")
                    }
                });
                let _ =
                    write!(out, "<nav class=\"bar\" aria-label=\"{}\"><div class=\"wrap\">", escape(&label));
                links(&mut out, &s.links);
                out.push_str("</div></nav>\n");
            }
            SectionKind::Hero => {
                let _ = write!(out, "<section class=\"hero\" id=\"s{i}\"><div class=\"wrap\">");
                let tag = if h1_done { "h2" } else { "h1" };
                h1_done = true;
                let _ =
                    write!(out, "<{tag}>{}</{tag}>", heading.clone().unwrap_or_else(|| escape(&spec.title)));
                paragraphs(&mut out, s.text.as_deref(), "lead");
                if let Some(c) = &s.cta {
                    let _ = write!(
                        out,
                        "<a class=\"button\" href=\"{}\">{}</a>",
                        safe_href(c.href.as_deref()),
                        escape(&c.label)
                    );
                }
                out.push_str("</div></section>\n");
            }
            SectionKind::Cards => {
                let _ = write!(out, "<section id=\"s{i}\"><div class=\"wrap\">");
                if let Some(h) = &heading {
                    let _ = write!(out, "<h2>{h}</h2>");
                }
                paragraphs(&mut out, s.text.as_deref(), "intro");
                out.push_str("<div class=\"grid\">");
                let tag = if heading.is_some() { "h3" } else { "h2" };
                for c in &s.items {
                    let _ = write!(out, "<article class=\"card\"><{tag}>{}</{tag}>", escape(&c.title));
                    paragraphs(&mut out, c.text.as_deref(), "");
                    if let Some(l) = &c.link {
                        let _ = write!(
                            out,
                            "<a href=\"{}\">{}</a>",
                            safe_href(l.href.as_deref()),
                            escape(&l.label)
                        );
                    }
                    out.push_str("</article>");
                }
                out.push_str("</div></div></section>\n");
            }
            SectionKind::Form => {
                let _ = write!(out, "<section id=\"s{i}\"><div class=\"wrap\">");
                if let Some(h) = &heading {
                    let _ = write!(out, "<h2>{h}</h2>");
                }
                paragraphs(&mut out, s.text.as_deref(), "intro");
                let name = s.heading.as_deref().unwrap_or("Form");
                let _ = write!(
                    out,
                    "<form class=\"card\" action=\"#\" method=\"post\" aria-label=\"{}\">",
                    escape(name)
                );
                for (j, f) in s.fields.iter().enumerate() {
                    let id = format!("f{i}-{j}");
                    let req = if f.required == Some(true) { " required" } else { "" };
                    let ph = f
                        .placeholder
                        .as_deref()
                        .map(|p| format!(" placeholder=\"{}\"", escape(p)))
                        .unwrap_or_default();
                    let label = escape(&f.label);
                    let star =
                        if f.required == Some(true) { " <span aria-hidden=\"true\">*</span>" } else { "" };
                    match f.kind.unwrap_or_default() {
                        FieldKind::Checkbox => {
                            let _ = write!(out, "<div class=\"field check\"><label for=\"{id}\"><input type=\"checkbox\" id=\"{id}\" name=\"{id}\"{req}> {label}{star}</label></div>");
                        }
                        FieldKind::Textarea => {
                            let _ = write!(out, "<div class=\"field\"><label for=\"{id}\">{label}{star}</label><textarea id=\"{id}\" name=\"{id}\"{req}{ph}></textarea></div>");
                        }
                        FieldKind::Select => {
                            let _ = write!(out, "<div class=\"field\"><label for=\"{id}\">{label}{star}</label><select id=\"{id}\" name=\"{id}\"{req}>");
                            for o in &f.options {
                                let _ = write!(out, "<option>{}</option>", escape(o));
                            }
                            out.push_str("</select></div>");
                        }
                        k => {
                            let ty = match k {
                                FieldKind::Email => "email",
                                FieldKind::Password => "password",
                                FieldKind::Number => "number",
                                FieldKind::Tel => "tel",
                                _ => "text",
                            };
                            let _ = write!(out, "<div class=\"field\"><label for=\"{id}\">{label}{star}</label><input type=\"{ty}\" id=\"{id}\" name=\"{id}\"{req}{ph}></div>");
                        }
                    }
                }
                let submit = s.cta.as_ref().map(|c| escape(&c.label)).unwrap_or_else(|| "Submit".into());
                let _ = writeln!(
                    out,
                    "<button class=\"button\" type=\"submit\">{submit}</button></form></div></section>"
                );
            }
            SectionKind::Pricing => {
                let _ = write!(out, "<section id=\"s{i}\"><div class=\"wrap\">");
                if let Some(h) = &heading {
                    let _ = write!(out, "<h2>{h}</h2>");
                }
                paragraphs(&mut out, s.text.as_deref(), "intro");
                out.push_str("<div class=\"grid\">");
                let tag = if heading.is_some() { "h3" } else { "h2" };
                for p in &s.plans {
                    let best = p.highlighted == Some(true);
                    let _ = write!(out, "<article class=\"card plan{}\">", if best { " best" } else { "" });
                    if best {
                        out.push_str("<span class=\"badge\">Recommended</span>");
                    }
                    let _ = write!(
                        out,
                        "<{tag}>{}</{tag}><p class=\"price\">{}",
                        escape(&p.name),
                        escape(&p.price)
                    );
                    if let Some(per) = &p.period {
                        let _ = write!(out, " <small>{}</small>", escape(per));
                    }
                    out.push_str("</p><ul>");
                    for f in &p.features {
                        let _ = write!(out, "<li>{}</li>", escape(f));
                    }
                    let cta = p.cta.as_deref().map(escape).unwrap_or_else(|| "Choose".into());
                    let _ = write!(out, "</ul><a class=\"button\" href=\"#\">{cta}</a></article>");
                }
                out.push_str("</div></div></section>\n");
            }
            SectionKind::Footer => {
                out.push_str("<footer class=\"site-footer\"><div class=\"wrap\">");
                paragraphs(&mut out, s.text.as_deref().or(s.heading.as_deref()), "");
                if !s.links.is_empty() {
                    out.push_str("<nav aria-label=\"Footer\">");
                    links(&mut out, &s.links);
                    out.push_str("</nav>");
                }
                out.push_str("</div></footer>\n");
            }
        }
    }
    if in_main {
        out.push_str("</main>\n");
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_that_could_run_script_become_anchors() {
        assert_eq!(safe_href(Some("javascript:alert(1)")), "#");
        assert_eq!(safe_href(Some(" JavaScript:alert(1)")), "#");
        assert_eq!(safe_href(Some("data:text/html,x")), "#");
        assert_eq!(safe_href(Some("//evil.example/")), "#");
        assert_eq!(safe_href(Some("https://example.com/a?b=1&c=2")), "https://example.com/a?b=1&amp;c=2");
        assert_eq!(safe_href(Some("/pricing#team")), "/pricing#team");
        assert_eq!(safe_href(Some("mailto:hi@example.com")), "mailto:hi@example.com");
        assert_eq!(safe_href(Some("\"><script>")), "&quot;&gt;&lt;script&gt;");
    }
}
