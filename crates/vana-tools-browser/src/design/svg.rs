//! SVG to PNG with `resvg` (pure Rust: usvg parses, tiny-skia rasterises). Nothing outside the
//! SVG is ever read: `<image>` references to files or URLs are refused (usvg's default resolver
//! would open any absolute path on disk), only embedded (`data:`) SVG images are drawn (raster images are not decoded by this build), no resources folder is
//! set, and no fonts are loaded (the crate is built without text shaping, so `<text>` is not
//! drawn; the result says so).

use resvg::tiny_skia;
use resvg::usvg;
use std::sync::{Arc, Mutex};

/// The largest SVG source accepted, bytes.
pub const MAX_SVG_BYTES: usize = 2 * 1024 * 1024;
/// The widest or tallest PNG made, pixels.
pub const MAX_SIDE: u32 = 4096;
/// The most pixels in one PNG.
pub const MAX_PIXELS: u64 = 16 * 1024 * 1024;

/// Why an SVG was not rendered.
#[derive(Debug, thiserror::Error)]
pub enum SvgError {
    /// Bad input (not SVG, too large, a bad size).
    #[error("{0}")]
    Invalid(String),
    /// It references something outside itself.
    #[error("{0}")]
    External(String),
}

/// A rendered SVG.
pub struct Rendered {
    /// The PNG.
    pub png: Vec<u8>,
    /// Its width, pixels.
    pub width: u32,
    /// Its height, pixels.
    pub height: u32,
    /// The SVG's own size (CSS pixels).
    pub svg_width: f32,
    /// The SVG's own height.
    pub svg_height: f32,
    /// `<text>` elements that were not drawn.
    pub text_elements: usize,
    /// Embedded raster images (`data:image/png`...) that were not drawn.
    pub raster_images: usize,
}

/// Renders `source` to a PNG `width` pixels wide (default: the SVG's own size, height kept in
/// proportion), over `background` (`None`: transparent).
pub fn render(source: &str, width: Option<u32>, background: Option<[u8; 4]>) -> Result<Rendered, SvgError> {
    if source.trim().is_empty() {
        return Err(SvgError::Invalid("the SVG is empty: give the SVG markup (<svg ...>...</svg>)".into()));
    }
    if source.len() > MAX_SVG_BYTES {
        return Err(SvgError::Invalid(format!(
            "the SVG is {} bytes; at most {MAX_SVG_BYTES} bytes are rendered",
            source.len()
        )));
    }
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = refused.clone();
    let raster: Arc<Mutex<usize>> = Arc::default();
    let rasters = raster.clone();
    let mut opt = usvg::Options { resources_dir: None, ..Default::default() };
    opt.image_href_resolver = usvg::ImageHrefResolver {
        // Embedded images: nested SVG is drawn; raster images are not (this build has no
        // image decoders) and are counted for the result's notes.
        resolve_data: Box::new(move |mime: &str, data: Arc<Vec<u8>>, o: &usvg::Options| match mime {
            "image/svg+xml" => usvg::Tree::from_data_nested(&data, o).ok().map(usvg::ImageKind::SVG),
            _ => {
                *rasters.lock().unwrap() += 1;
                None
            }
        }),
        // Anything else (a path, file://, http://) is never opened.
        resolve_string: Box::new(move |href: &str, _: &usvg::Options| {
            seen.lock().unwrap().push(href.chars().take(200).collect());
            None
        }),
    };
    let tree = usvg::Tree::from_str(source, &opt).map_err(|e| {
        SvgError::Invalid(match e {
            usvg::Error::ParsingFailed(x) => format!("the SVG is not well-formed XML: {x}"),
            usvg::Error::InvalidSize => {
                "the SVG has no usable size: give the <svg> element width and height, or a viewBox".into()
            }
            usvg::Error::ElementsLimitReached => "the SVG has more than 1,000,000 elements".into(),
            other => format!("the SVG could not be read: {other}"),
        })
    })?;
    let refused = refused.lock().unwrap().clone();
    if !refused.is_empty() {
        return Err(SvgError::External(format!(
            "the SVG references external resources, which are never loaded: {}. Embed images as data: URLs \
             (data:image/png;base64,...) instead",
            refused.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
        )));
    }
    let raster_images = *raster.lock().unwrap();
    let size = tree.size();
    let (sw, sh) = (size.width(), size.height());
    let scale = match width {
        Some(w) => w as f32 / sw,
        None => 1.0,
    };
    let (w, h) = ((sw * scale).round().max(1.0) as u64, (sh * scale).round().max(1.0) as u64);
    if w > MAX_SIDE as u64 || h > MAX_SIDE as u64 || w * h > MAX_PIXELS {
        return Err(SvgError::Invalid(format!(
            "the PNG would be {w}x{h} pixels; at most {MAX_SIDE} pixels a side and {MAX_PIXELS} pixels in all \
             (give a smaller `width`)"
        )));
    }
    let mut pixmap = tiny_skia::Pixmap::new(w as u32, h as u32)
        .ok_or_else(|| SvgError::Invalid(format!("cannot make a {w}x{h} image")))?;
    if let Some([r, g, b, a]) = background {
        pixmap.fill(tiny_skia::Color::from_rgba8(r, g, b, a));
    }
    resvg::render(&tree, tiny_skia::Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    let png = pixmap.encode_png().map_err(|e| SvgError::Invalid(format!("PNG encoding failed: {e}")))?;
    Ok(Rendered {
        png,
        width: w as u32,
        height: h as u32,
        svg_width: sw,
        svg_height: sh,
        text_elements: count_text(source),
        raster_images,
    })
}

/// `<text` elements in the source (not drawn by this build).
fn count_text(source: &str) -> usize {
    source
        .match_indices("<text")
        .filter(|(i, _)| {
            source[i + 5..].chars().next().is_some_and(|c| c.is_whitespace() || c == '>' || c == '/')
        })
        .count()
}
