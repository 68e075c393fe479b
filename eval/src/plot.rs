//! Plots researchers look at: tuning heatmaps (PNG and SVG), radial tuning curves, and
//! estimates with confidence intervals. SVG is written directly (text is laid out by the
//! viewer, so no font files are needed and the output is diffable); heatmap PNGs are pixel
//! grids in the turbo colormap, like the Curve Detectors figures.

use std::fmt::Write;
use std::path::Path;

use crate::EvalError;

/// Google's Turbo colormap (Mikhailov 2019), polynomial approximation; `t` in [0, 1].
pub fn turbo(t: f64) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let r = 0.13572138
        + t * (4.61539260
            + t * (-42.66032258 + t * (132.13108234 + t * (-152.94239396 + t * 59.28637943))));
    let g = 0.09140261
        + t * (2.19418839
            + t * (4.84296658 + t * (-14.18503333 + t * (4.27729857 + t * 2.82956604))));
    let b = 0.10667330
        + t * (12.64194608
            + t * (-60.58204836 + t * (110.36276771 + t * (-89.90310912 + t * 27.34824973))));
    let c = |v: f64| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    [c(r), c(g), c(b)]
}

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// Map a value to a colour: turbo over `[lo, hi]`, black below `lo` (the papers clip
/// negative σ to black).
pub fn colour(v: f64, lo: f64, hi: f64) -> [u8; 3] {
    if v < lo || !v.is_finite() {
        [0, 0, 0]
    } else {
        turbo((v - lo) / (hi - lo).max(1e-12))
    }
}

/// Write a heatmap as a PNG pixel grid: `map` is `[row][column]`, drawn with row 0 at the
/// bottom when `first_row_at_bottom` (so increasing radii go up), each cell `cell` pixels.
pub fn heatmap_png(
    path: &Path,
    map: &[f32],
    rows: usize,
    cols: usize,
    range: (f64, f64),
    cell: u32,
    first_row_at_bottom: bool,
) -> Result<(), EvalError> {
    let (w, h) = (cols as u32 * cell, rows as u32 * cell);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let c = (x / cell) as usize;
        let r = (y / cell) as usize;
        let r = if first_row_at_bottom { rows - 1 - r } else { r };
        image::Rgb(colour(f64::from(map[r * cols + c]), range.0, range.1))
    });
    img.save(path)
        .map_err(|e| EvalError::Results(format!("writing {}: {e}", path.display())))
}

/// SVG documents (as [`Svg::finish`] writes them) stacked vertically into one document.
pub fn stack_svgs(parts: &[String]) -> String {
    let size = |doc: &str, key: &str| -> f64 {
        doc.split(&format!(" {key}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let width = parts.iter().map(|p| size(p, "width")).fold(0.0, f64::max);
    let mut y = 0.0;
    let mut body = String::new();
    for p in parts {
        body.push_str(&p.replacen("<svg ", &format!("<svg x=\"0\" y=\"{y}\" "), 1));
        y += size(p, "height");
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" viewBox="0 0 {width} {y}">{body}</svg>"#
    )
}

/// A minimal SVG document builder.
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Svg {
    pub fn new(width: f64, height: f64) -> Self {
        Svg {
            width,
            height,
            body: String::new(),
        }
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: Option<&str>) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" fill="{fill}"{}/>"#,
            stroke.map_or(String::new(), |s| format!(r#" stroke="{s}""#))
        );
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = write!(
            self.body,
            r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="{stroke}" stroke-width="{width}"/>"#
        );
    }

    pub fn dashed_line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) {
        let _ = write!(
            self.body,
            r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="{stroke}" stroke-dasharray="4 3"/>"#
        );
    }

    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, fill: &str) {
        let _ = write!(
            self.body,
            r#"<circle cx="{cx:.2}" cy="{cy:.2}" r="{r}" fill="{fill}"/>"#
        );
    }

    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, closed: bool) {
        let pts: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.2},{y:.2}"))
            .collect();
        let tag = if closed { "polygon" } else { "polyline" };
        let _ = write!(
            self.body,
            r#"<{tag} points="{}" fill="none" stroke="{stroke}" stroke-width="{width}"/>"#,
            pts.join(" ")
        );
    }

    /// Text; `anchor` is start, middle or end.
    pub fn text(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.2}" y="{y:.2}" font-size="{size}" text-anchor="{anchor}" font-family="sans-serif">{}</text>"#,
            esc(s)
        );
    }

    /// Text rotated by -90° (for y-axis labels).
    pub fn vertical_text(&mut self, x: f64, y: f64, s: &str, size: f64) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.2}" y="{y:.2}" font-size="{size}" text-anchor="middle" font-family="sans-serif" transform="rotate(-90 {x:.2} {y:.2})">{}</text>"#,
            esc(s)
        );
    }

    pub fn finish(self) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><rect width="100%" height="100%" fill="white"/>{}</svg>"#,
            self.body,
            w = self.width,
            h = self.height
        )
    }
}

/// An axis of a heatmap: the value of each column (or row) and the axis title.
pub struct Axis<'a> {
    pub values: &'a [f64],
    pub label: &'a str,
}

/// A labelled heatmap `[row][column]`: x = columns (e.g. orientation), y = rows (first at
/// the bottom), colour over `range` (in `unit`) with a colour bar.
pub fn heatmap_svg(
    title: &str,
    map: &[f32],
    x: Axis<'_>,
    y: Axis<'_>,
    range: (f64, f64),
    unit: &str,
) -> String {
    let (x_values, x_label, y_values, y_label) = (x.values, x.label, y.values, y.label);
    let (cols, rows) = (x_values.len(), y_values.len());
    let (left, top, cw, ch) = (
        56.0,
        28.0,
        (360.0 / cols as f64).max(3.0),
        (16.0f64).min(200.0 / rows as f64).max(6.0),
    );
    let (pw, ph) = (cw * cols as f64, ch * rows as f64);
    let mut svg = Svg::new(left + pw + 80.0, top + ph + 44.0);
    svg.text(left, 18.0, title, 13.0, "start");
    for r in 0..rows {
        for c in 0..cols {
            let v = f64::from(map[r * cols + c]);
            let y = top + ph - (r as f64 + 1.0) * ch;
            svg.rect(
                left + c as f64 * cw,
                y,
                cw + 0.3,
                ch + 0.3,
                &hex(colour(v, range.0, range.1)),
                None,
            );
        }
    }
    svg.rect(left, top, pw, ph, "none", Some("#444"));
    // x ticks every 90° (or 4 ticks).
    let step = (cols / 4).max(1);
    for c in (0..cols).step_by(step) {
        let x = left + (c as f64 + 0.5) * cw;
        svg.line(x, top + ph, x, top + ph + 4.0, "#444", 1.0);
        svg.text(
            x,
            top + ph + 16.0,
            &format!("{}", x_values[c]),
            10.0,
            "middle",
        );
    }
    svg.text(left + pw / 2.0, top + ph + 34.0, x_label, 11.0, "middle");
    for (r, value) in y_values.iter().enumerate() {
        if rows > 12 && r % 2 == 1 {
            continue;
        }
        let y = top + ph - (r as f64 + 0.5) * ch;
        svg.text(left - 6.0, y + 3.5, &format!("{value}"), 9.0, "end");
    }
    svg.vertical_text(14.0, top + ph / 2.0, y_label, 11.0);
    // Colour bar.
    let bx = left + pw + 16.0;
    for i in 0..50 {
        let t = i as f64 / 49.0;
        let y = top + ph - (i as f64 + 1.0) * ph / 50.0;
        svg.rect(bx, y, 12.0, ph / 50.0 + 0.3, &hex(turbo(t)), None);
    }
    svg.text(
        bx + 16.0,
        top + ph,
        &format!("{:.1}", range.0),
        9.0,
        "start",
    );
    svg.text(
        bx + 16.0,
        top + 8.0,
        &format!("{:.1}", range.1),
        9.0,
        "start",
    );
    svg.text(bx + 16.0, top + ph / 2.0, unit, 9.0, "start");
    svg.finish()
}

/// One curve of a polar plot: its legend name, colour and `(degrees, value)` points.
pub struct PolarSeries<'a> {
    pub name: &'a str,
    pub colour: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// Radial tuning curves on a polar plot (orientation in the radial convention: 0° right,
/// angles clockwise with y down, as in the Curve Detectors radial figure).
pub fn polar_svg(title: &str, series: &[PolarSeries<'_>], marks: &[(f64, &str)]) -> String {
    let (cx, cy, r) = (150.0, 165.0, 115.0);
    let mut svg = Svg::new(300.0, 300.0 + 18.0 * series.len() as f64);
    svg.text(10.0, 18.0, title, 13.0, "start");
    for k in 1..=4 {
        let rr = r * f64::from(k) / 4.0;
        let pts: Vec<(f64, f64)> = (0..=72)
            .map(|i| {
                let a = f64::from(i) * 5.0f64.to_radians();
                (cx + rr * a.cos(), cy + rr * a.sin())
            })
            .collect();
        svg.polyline(&pts, "#ddd", 1.0, false);
    }
    for deg in [0.0f64, 90.0, 180.0, 270.0] {
        let a = deg.to_radians();
        svg.line(cx, cy, cx + r * a.cos(), cy + r * a.sin(), "#ddd", 1.0);
        svg.text(
            cx + (r + 14.0) * a.cos(),
            cy + (r + 14.0) * a.sin() + 4.0,
            &format!("{deg}°"),
            9.0,
            "middle",
        );
    }
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0f64, f64::max)
        .max(1e-12);
    for s in series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|(deg, v)| {
                let a = deg.to_radians();
                let rr = r * v.max(0.0) / max;
                (cx + rr * a.cos(), cy + rr * a.sin())
            })
            .collect();
        svg.polyline(&pts, s.colour, 2.0, true);
    }
    for (deg, colour) in marks {
        let a = deg.to_radians();
        svg.dashed_line(cx, cy, cx + r * a.cos(), cy + r * a.sin(), colour);
    }
    for (i, s) in series.iter().enumerate() {
        let y = 300.0 + 18.0 * i as f64;
        svg.rect(10.0, y - 9.0, 14.0, 4.0, s.colour, None);
        svg.text(30.0, y - 4.0, s.name, 11.0, "start");
    }
    svg.text(290.0, 300.0 - 4.0, &format!("max {max:.2}"), 9.0, "end");
    svg.finish()
}

/// One row of an interval chart: a label, a point estimate and its interval.
pub struct IntervalRow {
    pub label: String,
    pub point: f64,
    pub lo: f64,
    pub hi: f64,
    pub colour: String,
}

/// Horizontal estimates with confidence intervals, with optional vertical reference lines
/// (value, label).
pub fn interval_chart_svg(
    title: &str,
    rows: &[IntervalRow],
    x_label: &str,
    references: &[(f64, &str)],
) -> String {
    // Room for the longest label (about 6 px per character at 11 px).
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    let left = (longest as f64 * 6.2 + 16.0).max(190.0);
    let (right, top, row_h) = (30.0, 30.0, 24.0);
    let width = left + 450.0;
    let plot_w = width - left - right;
    let height = top + row_h * rows.len() as f64 + 46.0;
    let mut lo = rows
        .iter()
        .map(|r| r.lo)
        .chain(references.iter().map(|r| r.0))
        .fold(f64::INFINITY, f64::min);
    let mut hi = rows
        .iter()
        .map(|r| r.hi)
        .chain(references.iter().map(|r| r.0))
        .fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = (hi - lo).abs().max(1e-9) * 0.08;
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| left + (v - lo) / (hi - lo) * plot_w;
    let mut svg = Svg::new(width, height);
    svg.text(10.0, 18.0, title, 13.0, "start");
    let bottom = top + row_h * rows.len() as f64;
    for (value, label) in references {
        svg.dashed_line(x(*value), top - 4.0, x(*value), bottom, "#999");
        svg.text(x(*value), top - 8.0, label, 9.0, "middle");
    }
    for (i, row) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        svg.text(left - 8.0, y + 4.0, &row.label, 11.0, "end");
        svg.line(x(row.lo), y, x(row.hi), y, &row.colour, 2.0);
        svg.line(x(row.lo), y - 5.0, x(row.lo), y + 5.0, &row.colour, 2.0);
        svg.line(x(row.hi), y - 5.0, x(row.hi), y + 5.0, &row.colour, 2.0);
        svg.circle(x(row.point), y, 4.0, &row.colour);
    }
    svg.line(left, bottom, left + plot_w, bottom, "#444", 1.0);
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        svg.line(x(v), bottom, x(v), bottom + 4.0, "#444", 1.0);
        svg.text(x(v), bottom + 16.0, &format_tick(v), 10.0, "middle");
    }
    svg.text(left + plot_w / 2.0, bottom + 34.0, x_label, 11.0, "middle");
    svg.finish()
}

fn format_tick(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turbo_runs_from_dark_blue_to_dark_red() {
        // Turbo starts near black (dark purple), turns blue at once and ends dark red.
        let (start, blue, hi) = (turbo(0.0), turbo(0.1), turbo(1.0));
        assert!(start.iter().all(|c| *c < 60), "{start:?}");
        assert!(blue[2] > blue[0] && blue[2] > blue[1], "{blue:?}");
        assert!(hi[0] > hi[1] && hi[0] > hi[2] && hi[0] < 200, "{hi:?}");
        assert_eq!(colour(-1.0, 0.0, 1.0), [0, 0, 0]);
    }

    #[test]
    fn svg_escapes_text_and_is_well_formed() {
        let mut s = Svg::new(10.0, 10.0);
        s.text(0.0, 0.0, "a<b & c", 10.0, "start");
        let out = s.finish();
        assert!(out.contains("a&lt;b &amp; c"));
        assert!(out.starts_with("<svg") && out.ends_with("</svg>"));
    }

    #[test]
    fn heatmap_png_puts_the_first_row_at_the_bottom() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.png");
        heatmap_png(&path, &[0.0, 0.0, 1.0, 1.0], 2, 2, (0.0, 1.0), 2, true).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (4, 4));
        assert_eq!(img.get_pixel(0, 3).0, turbo(0.0));
        assert_eq!(img.get_pixel(0, 0).0, turbo(1.0));
    }
}
