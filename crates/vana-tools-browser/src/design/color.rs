//! CSS colours: parsing every syntax a designer or a computed style writes (hex with 3, 4, 6
//! or 8 digits, `rgb()`/`rgba()`, `hsl()`/`hsla()`, `oklch()`, `oklab()`, the 148 named colours
//! and `transparent`), alpha compositing, and the sRGB ↔ OKLab/OKLCH conversions the palette
//! and the nearest-passing-colour search work in.

use std::fmt;

/// An sRGB colour with alpha; channels 0..=1 (not yet rounded to bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgba {
    /// Red, 0..=1.
    pub r: f64,
    /// Green, 0..=1.
    pub g: f64,
    /// Blue, 0..=1.
    pub b: f64,
    /// Opacity, 0..=1.
    pub a: f64,
}

/// Why a colour could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a CSS colour: {reason} (use e.g. #1a2b3c, #fff, rgb(26 43 60 / 50%), hsl(210 40% 17%), oklch(0.3 0.05 250) or a named colour such as navy)")]
pub struct ColorError {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Rgba {
    /// An opaque colour from 0..=255 channels.
    pub fn rgb8(r: u8, g: u8, b: u8) -> Rgba {
        Rgba { r: r as f64 / 255.0, g: g as f64 / 255.0, b: b as f64 / 255.0, a: 1.0 }
    }

    /// The colour drawn over `bg` (source-over): the colour the eye sees. `bg` is taken as
    /// opaque (callers composite it over white first when it is not).
    pub fn over(self, bg: Rgba) -> Rgba {
        let a = self.a.clamp(0.0, 1.0);
        Rgba {
            r: self.r * a + bg.r * (1.0 - a),
            g: self.g * a + bg.g * (1.0 - a),
            b: self.b * a + bg.b * (1.0 - a),
            a: 1.0,
        }
    }

    /// Channels rounded to bytes (what a screen shows).
    pub fn bytes(self) -> [u8; 3] {
        let q = |c: f64| (c.clamp(0.0, 1.0) * 255.0).round() as u8;
        [q(self.r), q(self.g), q(self.b)]
    }

    /// `#rrggbb` (alpha dropped), lower case.
    pub fn hex(self) -> String {
        let [r, g, b] = self.bytes();
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// `#rrggbb`, or `#rrggbbaa` when not opaque.
    pub fn hex_alpha(self) -> String {
        if self.a >= 1.0 {
            self.hex()
        } else {
            format!("{}{:02x}", self.hex(), (self.a.clamp(0.0, 1.0) * 255.0).round() as u8)
        }
    }

    /// As OKLCH.
    pub fn oklch(self) -> Oklch {
        let [l, a, b] = linear_to_oklab(to_linear(self.r), to_linear(self.g), to_linear(self.b));
        let c = (a * a + b * b).sqrt();
        let mut h = b.atan2(a).to_degrees();
        if h < 0.0 {
            h += 360.0;
        }
        Oklch { l, c, h }
    }
}

impl fmt::Display for Rgba {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex_alpha())
    }
}

/// A colour in OKLCH: lightness 0..=1, chroma (about 0..=0.4 for sRGB), hue in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Oklch {
    /// Perceptual lightness, 0..=1.
    pub l: f64,
    /// Chroma.
    pub c: f64,
    /// Hue, degrees 0..360.
    pub h: f64,
}

impl Oklch {
    /// In sRGB, chroma reduced (hue and lightness kept) until it fits the sRGB gamut.
    pub fn to_rgb(self) -> Rgba {
        let l = self.l.clamp(0.0, 1.0);
        if let Some(c) = self.in_gamut(l, self.c) {
            return c;
        }
        // Barely outside (a rounded value at the gamut's edge): clipped (ΔEOK < 0.002, a tenth
        // of a just-noticeable difference); further out, chroma is reduced with the hue kept.
        let [r, g, b] = self.raw(l, self.c);
        let clipped = Rgba { r: r.clamp(0.0, 1.0), g: g.clamp(0.0, 1.0), b: b.clamp(0.0, 1.0), a: 1.0 };
        let k = clipped.oklch();
        let (h1, h2) = (self.h.to_radians(), k.h.to_radians());
        let de = ((l - k.l).powi(2)
            + (self.c * h1.cos() - k.c * h2.cos()).powi(2)
            + (self.c * h1.sin() - k.c * h2.sin()).powi(2))
        .sqrt();
        if de < 0.002 {
            return clipped;
        }
        let (mut lo, mut hi) = (0.0, self.c);
        for _ in 0..40 {
            let mid = (lo + hi) / 2.0;
            if self.in_gamut(l, mid).is_some() {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.in_gamut(l, lo).unwrap_or_else(|| {
            let [r, g, b] = self.raw(l, 0.0);
            Rgba { r: r.clamp(0.0, 1.0), g: g.clamp(0.0, 1.0), b: b.clamp(0.0, 1.0), a: 1.0 }
        })
    }

    fn raw(self, l: f64, c: f64) -> [f64; 3] {
        let h = self.h.to_radians();
        let [r, g, b] = oklab_to_linear(l, c * h.cos(), c * h.sin());
        [from_linear(r), from_linear(g), from_linear(b)]
    }

    fn in_gamut(self, l: f64, c: f64) -> Option<Rgba> {
        let [r, g, b] = self.raw(l, c);
        let ok = |v: f64| (-1e-6..=1.0 + 1e-6).contains(&v);
        (ok(r) && ok(g) && ok(b)).then(|| Rgba {
            r: r.clamp(0.0, 1.0),
            g: g.clamp(0.0, 1.0),
            b: b.clamp(0.0, 1.0),
            a: 1.0,
        })
    }

    /// `oklch(L C H)` as CSS writes it.
    pub fn css(self) -> String {
        format!("oklch({:.4} {:.4} {:.2})", self.l, self.c, self.h)
    }
}

/// The sRGB transfer function undone (IEC 61966-2-1).
pub fn to_linear(c: f64) -> f64 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn from_linear(c: f64) -> f64 {
    if c <= 0.0031308 {
        12.92 * c
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// Linear sRGB to OKLab (Björn Ottosson's matrices).
fn linear_to_oklab(r: f64, g: f64, b: f64) -> [f64; 3] {
    let l = 0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b;
    let m = 0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b;
    let s = 0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b;
    let (l, m, s) = (l.cbrt(), m.cbrt(), s.cbrt());
    [
        0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
        1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
        0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s,
    ]
}

fn oklab_to_linear(l: f64, a: f64, b: f64) -> [f64; 3] {
    let l_ = l + 0.3963377774 * a + 0.2158037573 * b;
    let m_ = l - 0.1055613458 * a - 0.0638541728 * b;
    let s_ = l - 0.0894841775 * a - 1.2914855480 * b;
    let (l, m, s) = (l_ * l_ * l_, m_ * m_ * m_, s_ * s_ * s_);
    [
        4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
        -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
        -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s,
    ]
}

/// Longest colour string accepted.
const MAX_LEN: usize = 200;

/// Parses a CSS colour.
pub fn parse(input: &str) -> Result<Rgba, ColorError> {
    let err = |reason: &str| ColorError { input: shorten(input), reason: reason.to_string() };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("it is empty"));
    }
    if s.len() > MAX_LEN {
        return Err(err(&format!("it is longer than {MAX_LEN} characters")));
    }
    let lower = s.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix('#') {
        return parse_hex(hex).ok_or_else(|| err("a hex colour has 3, 4, 6 or 8 hex digits after #"));
    }
    if let Some(open) = lower.find('(') {
        let name = lower[..open].trim();
        let Some(body) = lower[open + 1..].strip_suffix(')') else {
            return Err(err("the function is not closed with )"));
        };
        return parse_function(name, body).map_err(|r| err(&r));
    }
    if lower == "transparent" {
        return Ok(Rgba { r: 0.0, g: 0.0, b: 0.0, a: 0.0 });
    }
    named(&lower).ok_or_else(|| err("not a hex value, a colour function or a CSS named colour"))
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

fn parse_hex(h: &str) -> Option<Rgba> {
    if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let d = |i: usize, n: usize| u8::from_str_radix(&h[i..i + n], 16).ok();
    let (r, g, b, a) = match h.len() {
        3 | 4 => {
            let one = |i| d(i, 1).map(|v| v * 17);
            (one(0)?, one(1)?, one(2)?, if h.len() == 4 { one(3)? } else { 255 })
        }
        6 | 8 => (d(0, 2)?, d(2, 2)?, d(4, 2)?, if h.len() == 8 { d(6, 2)? } else { 255 }),
        _ => return None,
    };
    let mut c = Rgba::rgb8(r, g, b);
    c.a = a as f64 / 255.0;
    Some(c)
}

/// The arguments of a colour function: commas or spaces, an optional `/ alpha`.
fn args(body: &str) -> Result<(Vec<String>, Option<String>), String> {
    let (main, alpha) = match body.split_once('/') {
        Some((m, a)) => (m, Some(a.trim().to_string())),
        None => (body, None),
    };
    let parts: Vec<String> = if main.contains(',') {
        main.split(',').map(|p| p.trim().to_string()).collect()
    } else {
        main.split_whitespace().map(str::to_string).collect()
    };
    if parts.iter().any(|p| p.is_empty()) {
        return Err("an argument is empty".into());
    }
    match (parts.len(), alpha) {
        (3, a) => Ok((parts, a)),
        (4, None) => {
            let mut p = parts;
            let a = p.pop();
            Ok((p, a))
        }
        (n, _) => Err(format!("it takes 3 values and an optional alpha, not {n}")),
    }
}

fn number(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("`{s}` is not a finite number"))
    }
}

/// A number or a percentage of `full`.
fn num_or_pct(s: &str, full: f64) -> Result<f64, String> {
    match s.strip_suffix('%') {
        Some(p) => Ok(number(p)? / 100.0 * full),
        None => number(s),
    }
}

fn alpha(a: Option<String>) -> Result<f64, String> {
    match a {
        None => Ok(1.0),
        Some(a) => Ok(num_or_pct(&a, 1.0)?.clamp(0.0, 1.0)),
    }
}

fn hue(s: &str) -> Result<f64, String> {
    let (v, unit) = if let Some(v) = s.strip_suffix("deg") {
        (number(v)?, 1.0)
    } else if let Some(v) = s.strip_suffix("grad") {
        (number(v)?, 0.9)
    } else if let Some(v) = s.strip_suffix("rad") {
        (number(v)?, 180.0 / std::f64::consts::PI)
    } else if let Some(v) = s.strip_suffix("turn") {
        (number(v)?, 360.0)
    } else {
        (number(s)?, 1.0)
    };
    Ok((v * unit).rem_euclid(360.0))
}

fn parse_function(name: &str, body: &str) -> Result<Rgba, String> {
    // `color(srgb r g b / a)`, as computed styles write some colours.
    let (name, body) = match (name, body.trim().strip_prefix("srgb ")) {
        ("color", Some(rest)) => ("color-srgb", rest),
        ("color", None) => return Err("only the srgb space of color() is supported".into()),
        _ => (name, body),
    };
    let (p, a) = args(body)?;
    let a = alpha(a)?;
    match name {
        "rgb" | "rgba" => {
            let ch = |s: &str| -> Result<f64, String> { Ok((num_or_pct(s, 255.0)? / 255.0).clamp(0.0, 1.0)) };
            Ok(Rgba { r: ch(&p[0])?, g: ch(&p[1])?, b: ch(&p[2])?, a })
        }
        "color-srgb" => {
            let ch = |s: &str| -> Result<f64, String> { Ok(num_or_pct(s, 1.0)?.clamp(0.0, 1.0)) };
            Ok(Rgba { r: ch(&p[0])?, g: ch(&p[1])?, b: ch(&p[2])?, a })
        }
        "hsl" | "hsla" => {
            let h = hue(&p[0])?;
            let pct = |s: &str| -> Result<f64, String> {
                let v = match s.strip_suffix('%') {
                    Some(v) => number(v)?,
                    None => number(s)?,
                };
                Ok((v / 100.0).clamp(0.0, 1.0))
            };
            let (s, l) = (pct(&p[1])?, pct(&p[2])?);
            let f = |n: f64| {
                let k = (n + h / 30.0) % 12.0;
                let q = s * l.min(1.0 - l);
                l - q * (k - 3.0).min(9.0 - k).clamp(-1.0, 1.0)
            };
            Ok(Rgba { r: f(0.0), g: f(8.0), b: f(4.0), a })
        }
        "oklch" => {
            let l = num_or_pct(&p[0], 1.0)?;
            let c = num_or_pct(&p[1], 0.4)?.max(0.0);
            let h = hue(&p[2])?;
            let mut out = Oklch { l, c, h }.to_rgb();
            out.a = a;
            Ok(out)
        }
        "oklab" => {
            let l = num_or_pct(&p[0], 1.0)?;
            let x = num_or_pct(&p[1], 0.4)?;
            let y = num_or_pct(&p[2], 0.4)?;
            let c = (x * x + y * y).sqrt();
            let mut h = y.atan2(x).to_degrees();
            if h < 0.0 {
                h += 360.0;
            }
            let mut out = Oklch { l, c, h }.to_rgb();
            out.a = a;
            Ok(out)
        }
        other => Err(format!(
            "`{other}()` is not a supported colour function (rgb, rgba, hsl, hsla, oklch, oklab)"
        )),
    }
}

/// A CSS named colour.
pub fn named(name: &str) -> Option<Rgba> {
    let v = NAMED.iter().find(|(n, _)| *n == name)?.1;
    Some(Rgba::rgb8((v >> 16) as u8, (v >> 8) as u8, v as u8))
}

/// The CSS Color 4 named colours.
const NAMED: &[(&str, u32)] = &[
    ("aliceblue", 0xf0f8ff),
    ("antiquewhite", 0xfaebd7),
    ("aqua", 0x00ffff),
    ("aquamarine", 0x7fffd4),
    ("azure", 0xf0ffff),
    ("beige", 0xf5f5dc),
    ("bisque", 0xffe4c4),
    ("black", 0x000000),
    ("blanchedalmond", 0xffebcd),
    ("blue", 0x0000ff),
    ("blueviolet", 0x8a2be2),
    ("brown", 0xa52a2a),
    ("burlywood", 0xdeb887),
    ("cadetblue", 0x5f9ea0),
    ("chartreuse", 0x7fff00),
    ("chocolate", 0xd2691e),
    ("coral", 0xff7f50),
    ("cornflowerblue", 0x6495ed),
    ("cornsilk", 0xfff8dc),
    ("crimson", 0xdc143c),
    ("cyan", 0x00ffff),
    ("darkblue", 0x00008b),
    ("darkcyan", 0x008b8b),
    ("darkgoldenrod", 0xb8860b),
    ("darkgray", 0xa9a9a9),
    ("darkgreen", 0x006400),
    ("darkgrey", 0xa9a9a9),
    ("darkkhaki", 0xbdb76b),
    ("darkmagenta", 0x8b008b),
    ("darkolivegreen", 0x556b2f),
    ("darkorange", 0xff8c00),
    ("darkorchid", 0x9932cc),
    ("darkred", 0x8b0000),
    ("darksalmon", 0xe9967a),
    ("darkseagreen", 0x8fbc8f),
    ("darkslateblue", 0x483d8b),
    ("darkslategray", 0x2f4f4f),
    ("darkslategrey", 0x2f4f4f),
    ("darkturquoise", 0x00ced1),
    ("darkviolet", 0x9400d3),
    ("deeppink", 0xff1493),
    ("deepskyblue", 0x00bfff),
    ("dimgray", 0x696969),
    ("dimgrey", 0x696969),
    ("dodgerblue", 0x1e90ff),
    ("firebrick", 0xb22222),
    ("floralwhite", 0xfffaf0),
    ("forestgreen", 0x228b22),
    ("fuchsia", 0xff00ff),
    ("gainsboro", 0xdcdcdc),
    ("ghostwhite", 0xf8f8ff),
    ("gold", 0xffd700),
    ("goldenrod", 0xdaa520),
    ("gray", 0x808080),
    ("green", 0x008000),
    ("greenyellow", 0xadff2f),
    ("grey", 0x808080),
    ("honeydew", 0xf0fff0),
    ("hotpink", 0xff69b4),
    ("indianred", 0xcd5c5c),
    ("indigo", 0x4b0082),
    ("ivory", 0xfffff0),
    ("khaki", 0xf0e68c),
    ("lavender", 0xe6e6fa),
    ("lavenderblush", 0xfff0f5),
    ("lawngreen", 0x7cfc00),
    ("lemonchiffon", 0xfffacd),
    ("lightblue", 0xadd8e6),
    ("lightcoral", 0xf08080),
    ("lightcyan", 0xe0ffff),
    ("lightgoldenrodyellow", 0xfafad2),
    ("lightgray", 0xd3d3d3),
    ("lightgreen", 0x90ee90),
    ("lightgrey", 0xd3d3d3),
    ("lightpink", 0xffb6c1),
    ("lightsalmon", 0xffa07a),
    ("lightseagreen", 0x20b2aa),
    ("lightskyblue", 0x87cefa),
    ("lightslategray", 0x778899),
    ("lightslategrey", 0x778899),
    ("lightsteelblue", 0xb0c4de),
    ("lightyellow", 0xffffe0),
    ("lime", 0x00ff00),
    ("limegreen", 0x32cd32),
    ("linen", 0xfaf0e6),
    ("magenta", 0xff00ff),
    ("maroon", 0x800000),
    ("mediumaquamarine", 0x66cdaa),
    ("mediumblue", 0x0000cd),
    ("mediumorchid", 0xba55d3),
    ("mediumpurple", 0x9370db),
    ("mediumseagreen", 0x3cb371),
    ("mediumslateblue", 0x7b68ee),
    ("mediumspringgreen", 0x00fa9a),
    ("mediumturquoise", 0x48d1cc),
    ("mediumvioletred", 0xc71585),
    ("midnightblue", 0x191970),
    ("mintcream", 0xf5fffa),
    ("mistyrose", 0xffe4e1),
    ("moccasin", 0xffe4b5),
    ("navajowhite", 0xffdead),
    ("navy", 0x000080),
    ("oldlace", 0xfdf5e6),
    ("olive", 0x808000),
    ("olivedrab", 0x6b8e23),
    ("orange", 0xffa500),
    ("orangered", 0xff4500),
    ("orchid", 0xda70d6),
    ("palegoldenrod", 0xeee8aa),
    ("palegreen", 0x98fb98),
    ("paleturquoise", 0xafeeee),
    ("palevioletred", 0xdb7093),
    ("papayawhip", 0xffefd5),
    ("peachpuff", 0xffdab9),
    ("peru", 0xcd853f),
    ("pink", 0xffc0cb),
    ("plum", 0xdda0dd),
    ("powderblue", 0xb0e0e6),
    ("purple", 0x800080),
    ("rebeccapurple", 0x663399),
    ("red", 0xff0000),
    ("rosybrown", 0xbc8f8f),
    ("royalblue", 0x4169e1),
    ("saddlebrown", 0x8b4513),
    ("salmon", 0xfa8072),
    ("sandybrown", 0xf4a460),
    ("seagreen", 0x2e8b57),
    ("seashell", 0xfff5ee),
    ("sienna", 0xa0522d),
    ("silver", 0xc0c0c0),
    ("skyblue", 0x87ceeb),
    ("slateblue", 0x6a5acd),
    ("slategray", 0x708090),
    ("slategrey", 0x708090),
    ("snow", 0xfffafa),
    ("springgreen", 0x00ff7f),
    ("steelblue", 0x4682b4),
    ("tan", 0xd2b48c),
    ("teal", 0x008080),
    ("thistle", 0xd8bfd8),
    ("tomato", 0xff6347),
    ("turquoise", 0x40e0d0),
    ("violet", 0xee82ee),
    ("wheat", 0xf5deb3),
    ("white", 0xffffff),
    ("whitesmoke", 0xf5f5f5),
    ("yellow", 0xffff00),
    ("yellowgreen", 0x9acd32),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syntax_reads_the_same_colour() {
        for s in [
            "#336699",
            "#369",
            "#369f",
            "#336699ff",
            "rgb(51, 102, 153)",
            "rgb(51 102 153)",
            "rgba(51,102,153,1)",
            "rgb(20% 40% 60%)",
            "hsl(210, 50%, 40%)",
            "hsl(210deg 50% 40% / 100%)",
            "HSLA(0.5833turn, 50%, 40%, 1)",
            "color(srgb 0.2 0.4 0.6)",
        ] {
            assert_eq!(parse(s).unwrap().hex(), "#336699", "{s}");
        }
        assert_eq!(parse("rebeccapurple").unwrap().hex(), "#663399");
        assert_eq!(parse("  Navy ").unwrap().hex(), "#000080");
        assert_eq!(parse("transparent").unwrap().a, 0.0);
        assert!((parse("#0000ff80").unwrap().a - 128.0 / 255.0).abs() < 1e-9);
        assert_eq!(parse("rgb(0 0 0 / 25%)").unwrap().a, 0.25);
    }

    #[test]
    fn oklch_round_trips_through_srgb() {
        for hex in ["#336699", "#ff0000", "#00ff00", "#0000ff", "#777777", "#ffffff", "#000000", "#e9967a"] {
            let c = parse(hex).unwrap();
            assert_eq!(c.oklch().to_rgb().hex(), hex);
            assert_eq!(parse(&c.oklch().css()).unwrap().hex(), hex, "{}", c.oklch().css());
        }
        // Pure sRGB red is oklch(0.628 0.258 29.2) (CSS Color 4's examples).
        let red = parse("red").unwrap().oklch();
        assert!(
            (red.l - 0.628).abs() < 1e-3 && (red.c - 0.2577).abs() < 1e-3 && (red.h - 29.23).abs() < 0.1,
            "{red:?}"
        );
    }

    #[test]
    fn bad_colours_say_what_is_wrong() {
        for (s, want) in [
            ("", "empty"),
            ("#12", "3, 4, 6 or 8"),
            ("#ggg", "hex digits"),
            ("rgb(1,2)", "3 values"),
            ("rgb(1,2,x)", "not a number"),
            ("rgb(1 2 3", "not closed"),
            ("lab(50 20 30)", "not a supported"),
            ("blurple", "named colour"),
        ] {
            let e = parse(s).unwrap_err().to_string();
            assert!(e.contains(want), "{s}: {e}");
            assert!(e.contains("is not a CSS colour"), "{e}");
        }
        assert!(parse(&"a".repeat(1000)).unwrap_err().to_string().contains("longer than 200"));
    }
}
