//! Colour harmonies in OKLCH (hue rotated, lightness and chroma kept, so the colours of a
//! harmony look equally light, which HSL rotation does not give), every pair contrast-checked,
//! and the palette as CSS custom properties.

use super::color::{Oklch, Rgba};
use super::contrast::{apca, levels, ratio, round2, Levels};
use serde::{Deserialize, Serialize};
use vana_toolkit::schemars::JsonSchema;

/// A colour harmony.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Harmony {
    /// The base and the hue opposite (180°).
    Complementary,
    /// Neighbouring hues (±30° steps).
    Analogous,
    /// Three hues 120° apart.
    Triadic,
    /// The base and the two hues beside its complement (180° ± 30°).
    SplitComplementary,
    /// Four hues 90° apart.
    Tetradic,
    /// One hue, lightness steps.
    Monochrome,
}

impl Harmony {
    /// Hue offsets in degrees (for the hue-based harmonies).
    fn offsets(self, count: usize) -> Vec<f64> {
        match self {
            Harmony::Complementary => vec![0.0, 180.0],
            Harmony::Triadic => vec![0.0, 120.0, 240.0],
            Harmony::SplitComplementary => vec![0.0, 150.0, 210.0],
            Harmony::Tetradic => vec![0.0, 90.0, 180.0, 270.0],
            Harmony::Analogous => {
                // 0, -30, +30, -60, +60 ...
                (0..count)
                    .map(|i| {
                        if i == 0 {
                            0.0
                        } else {
                            30.0 * i.div_ceil(2) as f64 * if i % 2 == 1 { -1.0 } else { 1.0 }
                        }
                    })
                    .collect()
            }
            Harmony::Monochrome => vec![0.0; count],
        }
    }
}

/// One colour of a palette.
#[derive(Debug, Clone, Serialize)]
pub struct Swatch {
    /// A role name (`base`, `complement`, `accent-1`, `shade-2`...).
    pub name: String,
    /// `#rrggbb`.
    pub hex: String,
    /// `oklch(L C H)`.
    pub oklch: String,
    /// Its WCAG ratio against white.
    pub on_white: f64,
    /// Its WCAG ratio against black.
    pub on_black: f64,
    /// The text colour (white or black) with the higher ratio on this colour.
    pub text_color: String,
}

/// The contrast of two palette colours.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    /// The first colour's name.
    pub a: String,
    /// The second colour's name.
    pub b: String,
    /// WCAG ratio, 2 decimals.
    pub ratio: f64,
    /// APCA Lc with `a` as text on `b`.
    pub apca_lc: f64,
    /// Levels met.
    pub passes: Levels,
}

/// A generated palette.
#[derive(Debug, Clone, Serialize)]
pub struct Palette {
    /// The harmony used.
    pub harmony: Harmony,
    /// The colours, the base first.
    pub colors: Vec<Swatch>,
    /// Every pair's contrast.
    pub pairs: Vec<Pair>,
    /// The palette as CSS custom properties.
    pub css: String,
}

const WHITE: Rgba = Rgba { r: 1.0, g: 1.0, b: 1.0, a: 1.0 };
const BLACK: Rgba = Rgba { r: 0.0, g: 0.0, b: 0.0, a: 1.0 };

/// Builds a palette from `base` (opaque); `count` for analogous and monochrome (2..=10).
pub fn generate(base: Rgba, harmony: Harmony, count: usize, prefix: &str) -> Palette {
    let count = count.clamp(2, 10);
    let b = base.oklch();
    let mut colors: Vec<(String, Rgba)> = Vec::new();
    match harmony {
        Harmony::Monochrome => {
            // Lightness spread evenly from 0.25 to 0.95 with the base kept in its place.
            let mut ls: Vec<f64> = (0..count).map(|i| 0.25 + 0.70 * i as f64 / (count - 1) as f64).collect();
            let nearest = ls
                .iter()
                .enumerate()
                .min_by(|x, y| (x.1 - b.l).abs().total_cmp(&(y.1 - b.l).abs()))
                .map(|(i, _)| i)
                .unwrap_or(0);
            ls[nearest] = b.l;
            for (i, l) in ls.iter().enumerate() {
                let name = if i == nearest { "base".to_string() } else { format!("shade-{}", i + 1) };
                let c = if i == nearest { base } else { Oklch { l: *l, ..b }.to_rgb() };
                colors.push((name, c));
            }
        }
        h => {
            for (i, off) in h.offsets(count).into_iter().enumerate() {
                let name = match (h, i) {
                    (_, 0) => "base".to_string(),
                    (Harmony::Complementary, _) => "complement".to_string(),
                    (_, i) => format!("accent-{i}"),
                };
                let c = if i == 0 { base } else { Oklch { h: (b.h + off).rem_euclid(360.0), ..b }.to_rgb() };
                colors.push((name, c));
            }
        }
    }
    // As exported: 8-bit channels.
    for (_, c) in colors.iter_mut() {
        let [r, g, b] = c.bytes();
        *c = Rgba::rgb8(r, g, b);
    }
    let swatches: Vec<Swatch> = colors
        .iter()
        .map(|(name, c)| {
            let (w, k) = (ratio(*c, WHITE), ratio(*c, BLACK));
            Swatch {
                name: name.clone(),
                hex: c.hex(),
                oklch: c.oklch().css(),
                on_white: round2(w),
                on_black: round2(k),
                text_color: if w >= k { "#ffffff".into() } else { "#000000".into() },
            }
        })
        .collect();
    let mut pairs = Vec::new();
    for i in 0..colors.len() {
        for j in i + 1..colors.len() {
            let r = ratio(colors[i].1, colors[j].1);
            pairs.push(Pair {
                a: colors[i].0.clone(),
                b: colors[j].0.clone(),
                ratio: round2(r),
                apca_lc: (apca(colors[i].1, colors[j].1) * 10.0).round() / 10.0,
                passes: levels(r),
            });
        }
    }
    let mut css = String::from(":root {\n");
    for s in &swatches {
        css.push_str(&format!("  --{prefix}-{}: {};\n", s.name, s.hex));
        css.push_str(&format!("  --{prefix}-{}-text: {};\n", s.name, s.text_color));
    }
    css.push_str("}\n");
    Palette { harmony, colors: swatches, pairs, css }
}
