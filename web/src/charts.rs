//! Hand-written SVG charts as strings (bar charts and line charts), and the data URI that shows
//! any SVG string — these and core's `report` charts — through an `<img>`, where nothing in it
//! can run or load.

use squadkit_core::report::escape;
use std::fmt::Write;

const W: f64 = 480.0;
const H: f64 = 260.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;

/// A number for an axis label: short, no float noise.
pub fn tick(x: f64) -> String {
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{x:.1e}")
    } else if a >= 100.0 || x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/><text x="{}" y="18" text-anchor="middle" font-size="13">{}</text>"##,
        W / 2.0,
        escape(title)
    );
}

/// A bar chart of labelled counts (a histogram whose bins are already made).
pub fn bar_chart(title: &str, bins: &[(String, usize)]) -> String {
    let mut out = String::new();
    open(&mut out, title);
    let ymax = bins.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let n = bins.len().max(1) as f64;
    let bw = (W - LEFT - RIGHT) / n;
    for i in 0..=4 {
        let v = ymax * i as f64 / 4.0;
        let y = H - BOTTOM - (H - TOP - BOTTOM) * v / ymax;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{y:.1}" text-anchor="end" dominant-baseline="middle">{}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            tick(v.round())
        );
    }
    let label_every = (bins.len() / 10).max(1);
    for (i, (label, count)) in bins.iter().enumerate() {
        let x = LEFT + bw * i as f64;
        let h = (H - TOP - BOTTOM) * *count as f64 / ymax;
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#1f77b4" stroke="white"><title>{}: {count}</title></rect>"##,
            H - BOTTOM - h,
            bw,
            escape(label)
        );
        if i % label_every == 0 {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"##,
                x + bw / 2.0,
                H - BOTTOM + 14.0,
                escape(label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A line chart of one series of (x, y) points; non-finite points are left out.
pub fn line_chart(title: &str, x_label: &str, points: &[(f64, f64)]) -> String {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let mut out = String::new();
    open(&mut out, title);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in &pts {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if pts.is_empty() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if y1 <= y0 {
        (y0, y1) = (y0 - 0.5, y1 + 0.5);
    }
    let px = |x: f64| LEFT + (W - LEFT - RIGHT) * (x - x0) / (x1 - x0);
    let py = |y: f64| H - BOTTOM - (H - TOP - BOTTOM) * (y - y0) / (y1 - y0);
    for i in 0..=4 {
        let fx = x0 + (x1 - x0) * i as f64 / 4.0;
        let fy = y0 + (y1 - y0) * i as f64 / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{y:.1}" text-anchor="end" dominant-baseline="middle">{}</text><text x="{:.1}" y="{}" text-anchor="middle">{}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            tick(fy),
            px(fx),
            H - BOTTOM + 14.0,
            tick(fx),
            y = py(fy),
        );
    }
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" text-anchor="middle">{}</text>"##,
        (LEFT + W - RIGHT) / 2.0,
        H - 6.0,
        escape(x_label)
    );
    let line: Vec<String> = pts
        .iter()
        .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
        .collect();
    let _ = write!(
        out,
        r##"<polyline points="{}" fill="none" stroke="#d62728" stroke-width="1.5"/>"##,
        line.join(" ")
    );
    if pts.len() == 1 {
        let _ = write!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#d62728"/>"##,
            px(pts[0].0),
            py(pts[0].1)
        );
    }
    out.push_str("</svg>");
    out
}

/// `data:image/svg+xml,...` for an `<img src>`: the SVG percent-encoded.
pub fn svg_data_uri(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len() + 32);
    out.push_str("data:image/svg+xml;charset=utf-8,");
    for b in svg.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b' '
            | b'.'
            | b','
            | b'-'
            | b'_'
            | b'='
            | b':'
            | b'/'
            | b'('
            | b')' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_chart_has_one_bar_per_bin_and_escapes_labels() {
        let svg = bar_chart("<b>", &[("0-9".into(), 3), ("<x>".into(), 0)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains("&lt;b&gt;") && svg.contains("&lt;x&gt;: 0") && !svg.contains("<b>"));
    }

    #[test]
    fn line_chart_scales_points_into_the_frame() {
        let svg = line_chart("loss", "step", &[(0.0, 2.0), (10.0, 1.0), (20.0, f64::NAN)]);
        let pts = svg
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(
            pts,
            format!("{LEFT:.1},{TOP:.1} {:.1},{:.1}", W - RIGHT, H - BOTTOM)
        );
        // One point or a flat line still draws.
        assert!(line_chart("x", "step", &[(1.0, 1.0)]).contains("<circle"));
        assert!(line_chart("x", "step", &[]).ends_with("</svg>"));
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(1234.6), "1235");
        assert_eq!(tick(0.00003), "3.0e-5");
    }

    #[test]
    fn data_uri_encodes_markup() {
        let u = svg_data_uri("<svg a=\"#1\">%</svg>");
        assert_eq!(
            u,
            "data:image/svg+xml;charset=utf-8,%3Csvg a=%22%231%22%3E%25%3C/svg%3E"
        );
        assert!(!u[5..].contains('<') && !u.contains('#') && !u.contains('"'));
    }
}
