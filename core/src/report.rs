//! SVG charts of an evaluation: precision–recall curves and na_prob histograms.
//!
//! The official script draws these with matplotlib (`-p out_image_dir`); here they are plain
//! SVG strings, so the CLI writes them as files and the browser shows the same charts.

use crate::scorer::{histogram, PrCurve};
use std::fmt::Write;

const W: f64 = 480.0;
const H: f64 = 360.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 44.0;

/// Text for SVG/XML content or a quoted attribute.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn px(x: f64, xmax: f64) -> f64 {
    LEFT + (W - LEFT - RIGHT) * (x / xmax)
}

fn py(y: f64, ymax: f64) -> f64 {
    H - BOTTOM - (H - TOP - BOTTOM) * (y / ymax)
}

fn frame(out: &mut String, title: &str, xlabel: &str, ylabel: &str, xmax: f64, ymax: f64) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{}" y="20" text-anchor="middle" font-size="13">{}</text>"##,
        W / 2.0,
        escape(title)
    );
    for i in 0..=5 {
        let fx = xmax * i as f64 / 5.0;
        let fy = ymax * i as f64 / 5.0;
        let _ = write!(
            out,
            r##"<line x1="{x}" y1="{y0}" x2="{x}" y2="{y1}" stroke="#ddd"/><text x="{x}" y="{ty}" text-anchor="middle">{fx:.1}</text><line x1="{LEFT}" y1="{y}" x2="{x2}" y2="{y}" stroke="#ddd"/><text x="{tx}" y="{y}" text-anchor="end" dominant-baseline="middle">{fy:.2}</text>"##,
            x = px(fx, xmax),
            y0 = TOP,
            y1 = H - BOTTOM,
            ty = H - BOTTOM + 16.0,
            y = py(fy, ymax),
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
        );
    }
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" text-anchor="middle">{}</text><text transform="translate(14 {}) rotate(-90)" text-anchor="middle">{}</text>"##,
        (LEFT + W - RIGHT) / 2.0,
        H - 8.0,
        escape(xlabel),
        (TOP + H - BOTTOM) / 2.0,
        escape(ylabel)
    );
}

/// A precision–recall curve as the script plots it: a post-step line over recall, filled below.
pub fn pr_curve_svg(curve: &PrCurve, title: &str) -> String {
    let (xmax, ymax) = (1.05, 1.05);
    let mut out = String::new();
    frame(&mut out, title, "Recall", "Precision", xmax, ymax);
    let mut pts = String::new();
    for i in 0..curve.recalls.len() {
        let (r, p) = (curve.recalls[i], curve.precisions[i]);
        if i > 0 {
            // step where='post': hold the previous precision until this recall.
            let _ = write!(pts, "{:.2},{:.2} ", px(r, xmax), py(curve.precisions[i - 1], ymax));
        }
        let _ = write!(pts, "{:.2},{:.2} ", px(r, xmax), py(p, ymax));
    }
    let last_r = curve.recalls.last().copied().unwrap_or(0.0);
    let _ = write!(
        out,
        r##"<polygon points="{pts}{:.2},{:.2} {:.2},{:.2}" fill="#1f77b4" fill-opacity="0.2"/><polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="1.5"/><text x="{}" y="{}" text-anchor="end">AP = {:.2}</text></svg>"##,
        px(last_r, xmax),
        py(0.0, ymax),
        px(0.0, xmax),
        py(0.0, ymax),
        W - RIGHT - 4.0,
        TOP + 14.0,
        curve.ap
    );
    out
}

/// A histogram of na_prob values: 20 bins on [0, 1], bar heights the share of questions.
pub fn na_prob_histogram_svg(values: &[f64], name: &str) -> String {
    let shares = histogram(values, 20, 0.0, 1.0);
    let ymax = shares.iter().copied().fold(0.0, f64::max).max(0.05) * 1.1;
    let mut out = String::new();
    frame(
        &mut out,
        &format!("Histogram of no-answer probability: {name}"),
        "Model probability of no-answer",
        "Proportion of dataset",
        1.0,
        ymax,
    );
    for (i, &s) in shares.iter().enumerate() {
        let x0 = px(i as f64 / 20.0, 1.0);
        let x1 = px((i + 1) as f64 / 20.0, 1.0);
        let y = py(s, ymax);
        let _ = write!(
            out,
            r##"<rect x="{x0:.2}" y="{y:.2}" width="{:.2}" height="{:.2}" fill="#1f77b4" stroke="white"><title>{:.4}</title></rect>"##,
            x1 - x0,
            py(0.0, ymax) - y,
            s
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_svg() {
        let c = PrCurve { ap: 50.0, recalls: vec![0.0, 0.5, 1.0], precisions: vec![1.0, 1.0, 0.5] };
        let svg = pr_curve_svg(&c, "PR <exact>");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("PR &lt;exact&gt;"));
        assert!(svg.contains("AP = 50.00"));
        let h = na_prob_histogram_svg(&[0.1, 0.2, 0.9], "hasAns");
        assert_eq!(h.matches("<rect x=").count(), 20);
    }
}
