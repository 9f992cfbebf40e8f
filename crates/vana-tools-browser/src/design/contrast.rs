//! Contrast as WCAG 2.2 defines it (relative luminance, `(L1 + 0.05) / (L2 + 0.05)`, the
//! thresholds of success criteria 1.4.3, 1.4.6 and 1.4.11 compared against the unrounded
//! ratio), APCA's Lc (APCA-W3 0.0.98G-4g constants) as a second opinion, and the nearest
//! colours that pass when a pair fails (lightness moved in OKLCH, hue and chroma kept).

use super::color::{to_linear, Oklch, Rgba};
use serde::Serialize;

/// WCAG 2.2 relative luminance of an opaque colour.
pub fn luminance(c: Rgba) -> f64 {
    0.2126 * to_linear(c.r) + 0.7152 * to_linear(c.g) + 0.0722 * to_linear(c.b)
}

/// The WCAG contrast ratio of two opaque colours, 1..=21.
pub fn ratio(a: Rgba, b: Rgba) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// APCA Lc of `text` on `bg` (both opaque): positive for dark text on light, negative for
/// light text on dark; |Lc| 75 is the body-text guideline, 60 for large text, 45 for headlines,
/// 30 for non-text.
pub fn apca(text: Rgba, bg: Rgba) -> f64 {
    fn y(c: Rgba) -> f64 {
        let [r, g, b] = c.bytes();
        let p = |v: u8| (v as f64 / 255.0).powf(2.4);
        let y = 0.2126729 * p(r) + 0.7151522 * p(g) + 0.0721750 * p(b);
        if y < 0.022 {
            y + (0.022 - y).powf(1.414)
        } else {
            y
        }
    }
    let (yt, yb) = (y(text), y(bg));
    if (yb - yt).abs() < 0.0005 {
        return 0.0;
    }
    let out = if yb > yt {
        let s = (yb.powf(0.56) - yt.powf(0.57)) * 1.14;
        if s < 0.1 {
            0.0
        } else {
            s - 0.027
        }
    } else {
        let s = (yb.powf(0.65) - yt.powf(0.62)) * 1.14;
        if s > -0.1 {
            0.0
        } else {
            s + 0.027
        }
    };
    out * 100.0
}

/// WCAG 2.2 thresholds.
pub const AA_NORMAL: f64 = 4.5;
/// Large text (≥ 24 px, or ≥ 18.66 px bold) at AA, and AAA's large text... see [`levels`].
pub const AA_LARGE: f64 = 3.0;
/// AAA normal text.
pub const AAA_NORMAL: f64 = 7.0;
/// AAA large text.
pub const AAA_LARGE: f64 = 4.5;
/// Non-text contrast (1.4.11): UI components and graphical objects.
pub const UI: f64 = 3.0;

/// Pass or fail at every WCAG level for one ratio.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Levels {
    /// 1.4.3 Contrast (Minimum), normal text: ≥ 4.5.
    pub aa_normal_text: bool,
    /// 1.4.3, large text (≥ 24 px, or ≥ 18.66 px and bold): ≥ 3.
    pub aa_large_text: bool,
    /// 1.4.6 Contrast (Enhanced), normal text: ≥ 7.
    pub aaa_normal_text: bool,
    /// 1.4.6, large text: ≥ 4.5.
    pub aaa_large_text: bool,
    /// 1.4.11 Non-text Contrast (borders of inputs, icons, focus rings): ≥ 3.
    pub ui_components: bool,
}

/// The levels a ratio meets (never rounded up: 4.499 fails 4.5).
pub fn levels(r: f64) -> Levels {
    Levels {
        aa_normal_text: r >= AA_NORMAL,
        aa_large_text: r >= AA_LARGE,
        aaa_normal_text: r >= AAA_NORMAL,
        aaa_large_text: r >= AAA_LARGE,
        ui_components: r >= UI,
    }
}

/// Rounds to two decimals, for reports (thresholds use the unrounded value).
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The background a colour with alpha is seen over: translucent backgrounds are composited
/// over white (a page's canvas).
pub fn opaque_background(bg: Rgba) -> Rgba {
    if bg.a >= 1.0 {
        bg
    } else {
        bg.over(Rgba { r: 1.0, g: 1.0, b: 1.0, a: 1.0 })
    }
}

/// A colour that reaches a target ratio, and how far it moved.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    /// The colour, `#rrggbb`.
    pub color: String,
    /// Its ratio against the colour kept.
    pub ratio: f64,
    /// The change of OKLCH lightness (negative: darker).
    pub lightness_change: f64,
}

/// The nearest colour to `moving` (in OKLCH lightness, hue and chroma kept as far as the sRGB
/// gamut allows) whose ratio against `fixed` reaches `target`, searching darker and lighter;
/// the closer one first. Empty when even black and white do not reach it.
pub fn nearest_passing(moving: Rgba, fixed: Rgba, target: f64) -> Vec<Suggestion> {
    let start = moving.oklch();
    let mut out = Vec::new();
    for dir in [-1.0f64, 1.0] {
        let mut step = 0usize;
        loop {
            step += 1;
            let l = start.l + dir * step as f64 * 0.002;
            if !(-0.002..=1.002).contains(&l) {
                break;
            }
            let c = Oklch { l: l.clamp(0.0, 1.0), ..start }.to_rgb();
            // Ratio of the colour as a screen shows it (rounded to bytes).
            let [r, g, b] = c.bytes();
            let shown = Rgba::rgb8(r, g, b);
            let got = ratio(shown, fixed);
            if got >= target {
                out.push(Suggestion {
                    color: shown.hex(),
                    ratio: (got * 100.0).floor() / 100.0,
                    lightness_change: ((l.clamp(0.0, 1.0) - start.l) * 1000.0).round() / 1000.0,
                });
                break;
            }
        }
    }
    out.sort_by(|a, b| a.lightness_change.abs().total_cmp(&b.lightness_change.abs()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::color::parse;

    fn r(a: &str, b: &str) -> f64 {
        round2(ratio(parse(a).unwrap(), parse(b).unwrap()))
    }

    #[test]
    fn known_ratios() {
        assert_eq!(r("#777", "#fff"), 4.48);
        assert_eq!(r("#000", "#fff"), 21.0);
        assert_eq!(r("#fff", "#fff"), 1.0);
        assert!(!levels(ratio(parse("#777").unwrap(), parse("#fff").unwrap())).aa_normal_text);
    }

    #[test]
    fn apca_matches_the_published_values() {
        let lc = |t: &str, b: &str| (apca(parse(t).unwrap(), parse(b).unwrap()) * 10.0).round() / 10.0;
        assert_eq!(lc("#000", "#fff"), 106.0);
        assert_eq!(lc("#fff", "#000"), -107.9);
        assert_eq!(lc("#888", "#fff"), 63.1);
        assert_eq!(lc("#fff", "#888"), -68.5);
    }

    #[test]
    fn suggestions_pass_and_stay_close() {
        let fg = parse("#777").unwrap();
        let bg = parse("#fff").unwrap();
        let s = nearest_passing(fg, bg, 4.5);
        assert_eq!(s.len(), 1, "{s:?}"); // nothing lighter than #777 passes on white
        let c = parse(&s[0].color).unwrap();
        assert!(ratio(c, bg) >= 4.5);
        assert_eq!(s[0].color, "#767676", "{s:?}"); // the well-known lightest grey passing on white
    }
}
