//! SVG charts of an evaluation: precision–recall curves and na_prob histograms.
//!
//! The official script draws these with matplotlib (`-p out_image_dir`); here they are plain
//! SVG strings drawn on [`crate::chart`]'s frame, so the CLI writes them as files and the
//! browser shows the same charts.

use crate::chart::{nice_range, Frame};
use crate::scorer::{histogram, PrCurve};
use std::fmt::Write;

pub use crate::chart::escape;

const W: f64 = 480.0;
const H: f64 = 360.0;

/// A precision–recall curve as the script plots it: a post-step line over recall, filled below
/// (axes to 1.05 as the script's, ticks at 0, 0.2, … 1.0).
pub fn pr_curve_svg(curve: &PrCurve, title: &str) -> String {
    let f = Frame::new(W, H, (0.0, 1.05), (0.0, 1.05));
    let mut out = String::new();
    f.open(&mut out, title);
    f.axes(&mut out, "Recall", "Precision", true);
    let mut pts = String::new();
    for i in 0..curve.recalls.len() {
        let (r, p) = (curve.recalls[i], curve.precisions[i]);
        if i > 0 {
            // step where='post': hold the previous precision until this recall.
            let _ = write!(pts, "{:.2},{:.2} ", f.px(r), f.py(curve.precisions[i - 1]));
        }
        let _ = write!(pts, "{:.2},{:.2} ", f.px(r), f.py(p));
    }
    let last_r = curve.recalls.last().copied().unwrap_or(0.0);
    let _ = write!(
        out,
        r##"<polygon points="{pts}{:.2},{:.2} {:.2},{:.2}" fill="#1f77b4" fill-opacity="0.2"/><polyline points="{pts}" fill="none" stroke="#1f77b4" stroke-width="1.5"/><text x="{}" y="{}" text-anchor="end">AP = {:.2}</text></svg>"##,
        f.px(last_r),
        f.base(),
        f.px(0.0),
        f.base(),
        W - f.right - 4.0,
        f.top + 14.0,
        curve.ap
    );
    out
}

/// A histogram of na_prob values, bar heights the share of questions: 20 bins on [0, 1] as the
/// script draws it; values outside [0, 1] (null odds: the no-answer score minus the best span's,
/// as `squadkit predict` and HF's run_qa write them) widen the range to theirs, and the axis
/// says it shows null odds.
pub fn na_prob_histogram_svg(values: &[f64], name: &str) -> String {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((0.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let odds = lo < 0.0 || hi > 1.0;
    let (lo, hi) = if odds { nice_range(lo, hi, 6) } else { (0.0, 1.0) };
    let shares = histogram(values, 20, lo, hi);
    let ymax = shares.iter().copied().fold(0.0, f64::max).max(0.05);
    let f = Frame::new(W, H, (lo, hi), nice_range(0.0, ymax, 5));
    let mut out = String::new();
    let (title, x_label) = if odds {
        (format!("Histogram of null odds: {name}"), "Null odds (no-answer score minus best span score)")
    } else {
        (format!("Histogram of no-answer probability: {name}"), "Model probability of no-answer")
    };
    f.open(&mut out, &title);
    f.axes(&mut out, x_label, "Proportion of dataset", true);
    for (i, &s) in shares.iter().enumerate() {
        let x0 = f.px(lo + (hi - lo) * i as f64 / 20.0);
        let x1 = f.px(lo + (hi - lo) * (i + 1) as f64 / 20.0);
        let y = f.py(s);
        let _ = write!(
            out,
            r##"<rect x="{x0:.2}" y="{y:.2}" width="{:.2}" height="{:.2}" fill="#1f77b4" stroke="white"><title>{:.4}</title></rect>"##,
            x1 - x0,
            f.base() - y,
            s
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick_texts(svg: &str) -> Vec<String> {
        svg.split("text-anchor=\"middle\">").skip(1).map(|t| t.split('<').next().unwrap().to_string()).collect()
    }

    #[test]
    fn charts_are_well_formed_svg() {
        let c = PrCurve { ap: 50.0, recalls: vec![0.0, 0.5, 1.0], precisions: vec![1.0, 1.0, 0.5] };
        let svg = pr_curve_svg(&c, "PR <exact>");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("PR &lt;exact&gt;"));
        assert!(svg.contains("AP = 50.00"));
        let ticks = tick_texts(&svg);
        assert!(ticks.iter().any(|t| t == "0.2") && ticks.iter().any(|t| t == "1.0"), "{ticks:?}");
        assert!(!ticks.iter().any(|t| t == "1.1" || t == "0.21"), "{ticks:?}");
        let h = na_prob_histogram_svg(&[0.1, 0.2, 0.9], "hasAns");
        assert_eq!(h.matches("<rect x=").count(), 20);
        assert!(h.contains("Model probability of no-answer"));
    }

    #[test]
    fn null_odds_get_their_own_axis() {
        let h = na_prob_histogram_svg(&[-30.0, -2.5, 0.5, 28.0], "noAns");
        assert!(h.contains("Histogram of null odds: noAns") && h.contains("Null odds"));
        let ticks = tick_texts(&h);
        assert!(ticks.iter().any(|t| t == "-30") && ticks.iter().any(|t| t == "20"), "{ticks:?}");
        // Every value lands in a bin: the shares add up to 1.
        let shares: f64 = h.split("<title>").skip(1).map(|t| t.split('<').next().unwrap().parse::<f64>().unwrap()).sum();
        assert!((shares - 1.0).abs() < 1e-3, "{shares}");
    }
}
