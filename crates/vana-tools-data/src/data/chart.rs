//! Drawing charts with plotters into SVG text and PNG bytes. Text uses DejaVu Sans
//! (fonts-dejavu-core, or `$VANA_CHART_FONT`), registered once for both backends.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::OnceLock;

/// The colour of data marks (bars, points, boxes): matplotlib's first colour, `#1F77B4`.
pub const MARK: RGBColor = RGBColor(31, 119, 180);
/// The colour of a second series (forecasts): `#FF7F0E`.
pub const MARK2: RGBColor = RGBColor(255, 127, 14);

/// One line of a line chart.
#[derive(Clone, Debug)]
pub struct Line {
    /// Legend name.
    pub name: String,
    /// X positions.
    pub xs: Vec<f64>,
    /// Y values.
    pub ys: Vec<f64>,
    /// Colour index: 0 = MARK, 1 = MARK2.
    pub color: usize,
}

/// What a chart draws.
#[derive(Clone, Debug)]
pub enum Marks {
    /// One bar per label.
    Bars { labels: Vec<String>, values: Vec<f64> },
    /// Histogram bins (`edges` has one more entry than `counts`).
    Histogram { edges: Vec<f64>, counts: Vec<usize> },
    /// Lines with a point per value; x tick labels when x is categorical; an optional band
    /// (x, low, high) drawn under them.
    Lines { lines: Vec<Line>, x_labels: Option<Vec<String>>, band: Option<(Vec<f64>, Vec<f64>, Vec<f64>)> },
    /// One point per (x, y).
    Scatter { xs: Vec<f64>, ys: Vec<f64> },
    /// Box plots: label and (min whisker, q1, median, q3, max whisker).
    Boxes { labels: Vec<String>, stats: Vec<[f64; 5]> },
    /// A square matrix of values in [-1, 1] (correlations).
    Heatmap { labels: Vec<String>, matrix: Vec<Vec<f64>> },
}

/// A chart to draw.
#[derive(Clone, Debug)]
pub struct ChartSpec {
    /// Caption.
    pub title: String,
    /// X axis description.
    pub x_desc: String,
    /// Y axis description.
    pub y_desc: String,
    /// The data marks.
    pub marks: Marks,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl ChartSpec {
    /// Number of data marks drawn (bars, points, boxes or cells).
    pub fn mark_count(&self) -> usize {
        match &self.marks {
            Marks::Bars { values, .. } => values.len(),
            Marks::Histogram { counts, .. } => counts.len(),
            Marks::Lines { lines, .. } => lines.iter().map(|l| l.xs.len()).sum(),
            Marks::Scatter { xs, .. } => xs.len(),
            Marks::Boxes { stats, .. } => stats.len(),
            Marks::Heatmap { matrix, .. } => matrix.len() * matrix.len(),
        }
    }
}

static FONT: OnceLock<Result<(), String>> = OnceLock::new();

/// The font file charts use: `$VANA_CHART_FONT`, else DejaVu Sans where distributions put it.
pub fn font_path() -> Option<String> {
    let mut candidates: Vec<String> = std::env::var("VANA_CHART_FONT").into_iter().collect();
    candidates.extend(
        [
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
        ]
        .map(String::from),
    );
    candidates.into_iter().find(|p| std::path::Path::new(p).is_file())
}

/// Registers DejaVu Sans as plotters' `sans-serif` (once).
pub fn ensure_font() -> Result<(), String> {
    FONT.get_or_init(|| {
        let path = font_path().ok_or_else(|| {
            "charts need the DejaVu Sans font: install fonts-dejavu-core (scripts/setup-data.sh) or set VANA_CHART_FONT to a .ttf file".to_string()
        })?;
        let path = path.as_str();
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read font {path}: {e}"))?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| format!("{path} is not a usable TrueType font"))
    })
    .clone()
}

/// The chart as SVG text.
pub fn svg(spec: &ChartSpec) -> Result<String, String> {
    ensure_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (spec.width, spec.height)).into_drawing_area();
        draw(&root, spec)?;
        root.present().map_err(|e| format!("cannot draw the chart: {e:?}"))?;
    }
    Ok(out)
}

/// The chart as PNG bytes.
pub fn png(spec: &ChartSpec) -> Result<Vec<u8>, String> {
    ensure_font()?;
    let (w, h) = (spec.width, spec.height);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(&root, spec)?;
        root.present().map_err(|e| format!("cannot draw the chart: {e:?}"))?;
    }
    let mut out = Vec::new();
    let mut enc = ::png::Encoder::new(&mut out, w, h);
    enc.set_color(::png::ColorType::Rgb);
    enc.set_depth(::png::BitDepth::Eight);
    let mut wr = enc.write_header().map_err(|e| e.to_string())?;
    wr.write_image_data(&buf).map_err(|e| e.to_string())?;
    wr.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

fn span(lo: f64, hi: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if lo == hi {
        return (lo - 1.0, hi + 1.0);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

fn min_max<'a>(it: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    it.filter(|x| x.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)))
}

fn short(s: &str) -> String {
    if s.chars().count() > 14 {
        format!("{}…", s.chars().take(13).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The label of the category whose slot `[i, i + 1)` has its centre at `x` (counted from the
/// end when `reversed`: a heatmap's rows go downwards), else nothing: ticks fall on the slots'
/// centres and edges, and only centres are labelled.
fn category_label(labels: &[String], x: f64, reversed: bool) -> String {
    let i = x.floor() as usize;
    if (x - i as f64 - 0.5).abs() >= 1e-9 {
        return String::new();
    }
    let i = if reversed { labels.len().checked_sub(i + 1) } else { Some(i) };
    i.and_then(|i| labels.get(i)).map(|s| short(s)).unwrap_or_default()
}

/// The chart of one slot per category along x (bars, boxes): the axes, the category labels under
/// the slots' centres, and the y range `ys`.
#[allow(clippy::type_complexity)]
fn category_chart<'a, 'b, DB: DrawingBackend>(
    b: &mut ChartBuilder<'a, 'b, DB>,
    labels: &[String],
    ys: std::ops::Range<f64>,
    spec: &ChartSpec,
) -> Result<
    ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    DrawingAreaErrorKind<DB::ErrorType>,
> {
    let n = labels.len().max(1);
    let mut c = b.build_cartesian_2d(0f64..n as f64, ys)?;
    let fmt = |x: &f64| category_label(labels, *x, false);
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&fmt)
        .x_desc(&spec.x_desc)
        .y_desc(&spec.y_desc)
        .draw()?;
    Ok(c)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, spec: &ChartSpec) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("cannot draw the chart: {e:?}");
    root.fill(&WHITE).map_err(e)?;
    let mut b = ChartBuilder::on(root);
    b.caption(&spec.title, ("sans-serif", 20)).margin(15).x_label_area_size(45).y_label_area_size(65);
    match &spec.marks {
        Marks::Bars { labels, values } => {
            let (lo, hi) = min_max(values.iter().chain([0.0].iter()));
            let (lo, hi) = span(lo, hi);
            let mut c = category_chart(&mut b, labels, lo..hi, spec).map_err(e)?;
            c.draw_series(
                values.iter().enumerate().map(|(i, v)| {
                    Rectangle::new([(i as f64 + 0.1, 0.0), (i as f64 + 0.9, *v)], MARK.filled())
                }),
            )
            .map_err(e)?;
        }
        Marks::Histogram { edges, counts } => {
            let (lo, hi) = span(edges[0], *edges.last().unwrap_or(&edges[0]));
            let top = *counts.iter().max().unwrap_or(&1) as f64 * 1.05;
            let mut c = b.build_cartesian_2d(lo..hi, 0f64..top.max(1.0)).map_err(e)?;
            c.configure_mesh().x_desc(&spec.x_desc).y_desc("count").draw().map_err(e)?;
            c.draw_series(
                counts.iter().enumerate().map(|(i, n)| {
                    Rectangle::new([(edges[i], 0.0), (edges[i + 1], *n as f64)], MARK.filled())
                }),
            )
            .map_err(e)?;
        }
        Marks::Lines { lines, x_labels, band } => {
            let (xl, xh) = min_max(lines.iter().flat_map(|l| l.xs.iter()));
            let mut ys: Vec<f64> = lines.iter().flat_map(|l| l.ys.iter().copied()).collect();
            if let Some((_, l, h)) = band {
                ys.extend(l.iter().chain(h.iter()));
            }
            let (yl, yh) = span(min_max(ys.iter()).0, min_max(ys.iter()).1);
            let (xl, xh) = span(xl, xh);
            let mut c = b.build_cartesian_2d(xl..xh, yl..yh).map_err(e)?;
            let fmt = |x: &f64| match x_labels {
                Some(ls) if (x - x.round()).abs() < 1e-9 && *x >= 0.0 => {
                    ls.get(x.round() as usize).map(|s| short(s)).unwrap_or_default()
                }
                Some(_) => String::new(),
                None => format!("{x}"),
            };
            let mut mesh = c.configure_mesh();
            mesh.x_desc(&spec.x_desc).y_desc(&spec.y_desc);
            if x_labels.is_some() {
                mesh.x_label_formatter(&fmt);
            }
            mesh.draw().map_err(e)?;
            if let Some((bx, l, h)) = band {
                let mut poly: Vec<(f64, f64)> = bx.iter().zip(h).map(|(x, y)| (*x, *y)).collect();
                poly.extend(bx.iter().zip(l).rev().map(|(x, y)| (*x, *y)));
                c.draw_series(std::iter::once(Polygon::new(poly, MARK2.mix(0.2).filled()))).map_err(e)?;
            }
            for line in lines {
                let col = if line.color == 0 { MARK } else { MARK2 };
                let pts: Vec<(f64, f64)> = line.xs.iter().zip(&line.ys).map(|(x, y)| (*x, *y)).collect();
                c.draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))
                    .map_err(e)?
                    .label(line.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
                c.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, col.filled()))).map_err(e)?;
            }
            if lines.len() > 1 {
                c.configure_series_labels()
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .draw()
                    .map_err(e)?;
            }
        }
        Marks::Scatter { xs, ys } => {
            let (xl, xh) = min_max(xs.iter());
            let (yl, yh) = min_max(ys.iter());
            let ((xl, xh), (yl, yh)) = (span(xl, xh), span(yl, yh));
            let mut c = b.build_cartesian_2d(xl..xh, yl..yh).map_err(e)?;
            c.configure_mesh().x_desc(&spec.x_desc).y_desc(&spec.y_desc).draw().map_err(e)?;
            c.draw_series(xs.iter().zip(ys).map(|(x, y)| Circle::new((*x, *y), 3, MARK.mix(0.7).filled())))
                .map_err(e)?;
        }
        Marks::Boxes { labels, stats } => {
            let (yl, yh) = min_max(stats.iter().flat_map(|s| s.iter()));
            let (yl, yh) = span(yl, yh);
            let mut c = category_chart(&mut b, labels, yl..yh, spec).map_err(e)?;
            for (i, s) in stats.iter().enumerate() {
                let (l, m, r) = (i as f64 + 0.25, i as f64 + 0.5, i as f64 + 0.75);
                c.draw_series(std::iter::once(Rectangle::new([(l, s[1]), (r, s[3])], MARK.filled())))
                    .map_err(e)?;
                for seg in [
                    [(l, s[2]), (r, s[2])],
                    [(m, s[0]), (m, s[1])],
                    [(m, s[3]), (m, s[4])],
                    [(l + 0.1, s[0]), (r - 0.1, s[0])],
                    [(l + 0.1, s[4]), (r - 0.1, s[4])],
                ] {
                    c.draw_series(std::iter::once(PathElement::new(seg.to_vec(), BLACK.stroke_width(2))))
                        .map_err(e)?;
                }
            }
        }
        Marks::Heatmap { labels, matrix } => {
            let n = labels.len().max(1);
            let mut c = b.build_cartesian_2d(0f64..n as f64, 0f64..n as f64).map_err(e)?;
            let fmt = |x: &f64| category_label(labels, *x, false);
            let fmt_y = |y: &f64| category_label(labels, *y, true);
            c.configure_mesh()
                .disable_mesh()
                .x_labels(n * 2 + 1)
                .y_labels(n * 2 + 1)
                .x_label_formatter(&fmt)
                .y_label_formatter(&fmt_y)
                .draw()
                .map_err(e)?;
            for (i, row) in matrix.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    let (x, y) = (j as f64, (n - 1 - i) as f64);
                    c.draw_series(std::iter::once(Rectangle::new(
                        [(x, y), (x + 1.0, y + 1.0)],
                        heat(*v).filled(),
                    )))
                    .map_err(e)?;
                    let label = if v.is_finite() { format!("{v:.2}") } else { "n/a".into() };
                    c.draw_series(std::iter::once(Text::new(label, (x + 0.3, y + 0.6), ("sans-serif", 12))))
                        .map_err(e)?;
                }
            }
        }
    }
    Ok(())
}

/// Blue (-1) through white (0) to red (+1); grey for missing.
fn heat(v: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(200, 200, 200);
    }
    let t = v.clamp(-1.0, 1.0);
    let f = |a: u8, w: f64| (255.0 + (a as f64 - 255.0) * w).round() as u8;
    if t < 0.0 {
        RGBColor(f(59, -t), f(76, -t), f(192, -t))
    } else {
        RGBColor(f(180, t), f(4, t), f(38, t))
    }
}
