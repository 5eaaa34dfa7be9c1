//! SVG charts as strings, one module for every chart squadkit draws: the evaluation's curves
//! and histograms ([`crate::report`], written by the CLI and shown by the browser) and the
//! browser's dataset histograms and training curves. One [`Frame`] (title, axes with nice
//! 1-2-5 ticks, axis labels) under all of them; no I/O, so native and wasm draw the same bytes.

use std::fmt::Write;

/// Text for SVG/XML content or a quoted attribute.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Axis ticks: the multiples of `step` (1, 2 or 5 × 10^k) inside a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    pub step: f64,
    pub values: Vec<f64>,
}

/// The 1-2-5 step that puts the number of intervals nearest to `target` over `span`.
pub fn nice_step(span: f64, target: usize) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let target = target.max(1) as f64;
    let k = (span / target).log10().floor() as i32;
    // m × 10^k, divided for negative k so that 5e-6 is exactly the literal.
    let scaled = |m: f64| if k < 0 { m / 10f64.powi(-k) } else { m * 10f64.powi(k) };
    let off = |s: f64| (span / s - target).abs();
    [1.0, 2.0, 5.0, 10.0].into_iter().map(scaled).fold(scaled(1.0), |best, s| if off(s) < off(best) { s } else { best })
}

/// Ticks at the multiples of a nice step that lie in `[lo, hi]` (about `target` intervals).
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Ticks {
    let step = nice_step(hi - lo, target);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    let values = (first..=last).map(|k| k as f64 * step).map(|v| if v == 0.0 { 0.0 } else { v }).collect();
    Ticks { step, values }
}

/// `[lo, hi]` widened to multiples of its nice step, so that the axis starts and ends on a tick.
pub fn nice_range(lo: f64, hi: f64, target: usize) -> (f64, f64) {
    let step = nice_step(hi - lo, target);
    ((lo / step + 1e-9).floor() * step, (hi / step - 1e-9).ceil() * step)
}

/// A tick's label: as many decimals as the step needs and no more (0.2, 0.25, 1500, 2e-5).
pub fn tick_label(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-4..1e6).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    // A 2.5-type value on a 5 step needs one more digit only when it has it.
    let s = format!("{v:.decimals$}");
    if s.parse::<f64>().is_ok_and(|p| (p - v).abs() <= step * 1e-6) {
        s
    } else {
        format!("{v:.prec$}", prec = decimals + 1)
    }
}

/// Where an axis runs and how it maps values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Linear,
    /// log10; only positive values are drawn.
    Log,
}

/// A chart's drawing area: the SVG size, the plot margins and the data ranges.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub y_scale: Scale,
}

impl Frame {
    /// A `width` × `height` chart over the data ranges `x` and `y`.
    pub fn new(width: f64, height: f64, x: (f64, f64), y: (f64, f64)) -> Frame {
        let fix = |(lo, hi): (f64, f64)| if hi > lo { (lo, hi) } else { (lo - 0.5, lo + 0.5) };
        Frame { width, height, left: 60.0, right: 16.0, top: 30.0, bottom: 42.0, x: fix(x), y: fix(y), y_scale: Scale::Linear }
    }

    /// The same frame with a log10 y axis over the positive part of its range.
    pub fn log_y(mut self) -> Frame {
        let hi = self.y.1.max(f64::MIN_POSITIVE);
        let lo = if self.y.0 > 0.0 { self.y.0 } else { hi / 1e3 };
        self.y = (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)));
        self.y_scale = Scale::Log;
        self
    }

    pub fn px(&self, x: f64) -> f64 {
        self.left + (self.width - self.left - self.right) * (x - self.x.0) / (self.x.1 - self.x.0)
    }

    pub fn py(&self, y: f64) -> f64 {
        let f = match self.y_scale {
            Scale::Linear => (y - self.y.0) / (self.y.1 - self.y.0),
            Scale::Log => (y.log10() - self.y.0.log10()) / (self.y.1.log10() - self.y.0.log10()),
        };
        self.height - self.bottom - (self.height - self.top - self.bottom) * f
    }

    /// The plot's bottom edge (y = the axis).
    pub fn base(&self) -> f64 {
        self.height - self.bottom
    }

    /// `<svg ...>`, a white background and the title; close with `</svg>`.
    pub fn open(&self, out: &mut String, title: &str) {
        let _ = write!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/><text x="{}" y="18" text-anchor="middle" font-size="13">{}</text>"##,
            self.width / 2.0,
            escape(title),
            w = self.width,
            h = self.height,
        );
    }

    /// Grid lines with nice tick labels on both axes (`x_ticks` false: the caller labels x,
    /// as a bar chart does), and the axis titles.
    pub fn axes(&self, out: &mut String, x_label: &str, y_label: &str, x_ticks: bool) {
        let (x0, x1) = (self.left, self.width - self.right);
        let (y0, y1) = (self.top, self.base());
        for (v, label) in self.y_ticks() {
            let y = self.py(v);
            let _ = write!(
                out,
                r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{y:.1}" text-anchor="end" dominant-baseline="middle">{label}</text>"##,
                x0 - 5.0
            );
        }
        if x_ticks {
            let t = nice_ticks(self.x.0, self.x.1, 6);
            for v in t.values {
                let x = self.px(v);
                let _ = write!(
                    out,
                    r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{y1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                    y1 + 14.0,
                    tick_label(v, t.step)
                );
            }
        }
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text transform="translate(13 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
            (x0 + x1) / 2.0,
            self.height - 6.0,
            escape(x_label),
            (y0 + y1) / 2.0,
            escape(y_label)
        );
    }

    /// The y axis' ticks with their labels (powers of ten on a log axis).
    fn y_ticks(&self) -> Vec<(f64, String)> {
        match self.y_scale {
            Scale::Linear => {
                let t = nice_ticks(self.y.0, self.y.1, 5);
                t.values.iter().map(|&v| (v, tick_label(v, t.step))).collect()
            }
            Scale::Log => {
                let (a, b) = (self.y.0.log10().round() as i32, self.y.1.log10().round() as i32);
                (a..=b).map(|k| (10f64.powi(k), tick_label(10f64.powi(k), 10f64.powi(k)))).collect()
            }
        }
    }
}

/// A bar chart of labelled counts (a histogram whose bins are already made; `y_label` says what
/// is counted); each bar holds its label and count as a tooltip.
pub fn bar_chart(title: &str, y_label: &str, bins: &[(String, usize)]) -> String {
    let ymax = bins.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let f = Frame::new(480.0, 260.0, (0.0, bins.len().max(1) as f64), nice_range(0.0, ymax, 4));
    let mut out = String::new();
    f.open(&mut out, title);
    f.axes(&mut out, "", y_label, false);
    let bw = f.px(1.0) - f.px(0.0);
    // Labels under every k-th bar, k so that they do not overlap (~6 px per character).
    let widest = bins.iter().map(|b| b.0.chars().count()).max().unwrap_or(1) as f64;
    let label_every = ((widest * 6.5 + 6.0) / bw).ceil().max(1.0) as usize;
    for (i, (label, count)) in bins.iter().enumerate() {
        let x = f.px(i as f64);
        let y = f.py(*count as f64);
        let _ = write!(
            out,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{:.1}" fill="#1f77b4" stroke="white"><title>{}: {count}</title></rect>"##,
            f.base() - y,
            escape(label)
        );
        if i % label_every == 0 {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                x + bw / 2.0,
                f.base() + 14.0,
                escape(label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// One line of a [`line_chart`].
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub name: &'a str,
    pub points: &'a [(f64, f64)],
}

/// How a [`line_chart`] is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct LineStyle {
    /// TensorBoard's smoothing: an exponential moving average with this weight (0 = none),
    /// debiased at the start; the raw points stay as a faint line.
    pub smoothing: f64,
    /// A log10 y axis.
    pub log_y: bool,
    /// The x range (else the points'): charts of one run share it, so that they line up.
    pub x_range: Option<(f64, f64)>,
}

/// The line colours (matplotlib's tab10), one per series in order.
pub const COLORS: [&str; 10] =
    ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/// TensorBoard's smoothed values of `ys` (EMA with weight `w`, debiased).
pub fn smoothed(ys: &[f64], w: f64) -> Vec<f64> {
    let w = w.clamp(0.0, 0.999);
    let (mut last, mut n) = (0.0, 0u32);
    ys.iter()
        .map(|&y| {
            last = last * w + (1.0 - w) * y;
            n += 1;
            let debias = 1.0 - w.powi(n as i32);
            if debias > 0.0 {
                last / debias
            } else {
                y
            }
        })
        .collect()
}

/// Series of (x, y) points on shared axes (several runs overlaid), one colour each, with a
/// legend when there is more than one; non-finite points (and non-positive ones on a log axis)
/// are left out. Each point carries its values as a tooltip.
pub fn line_chart(title: &str, x_label: &str, series: &[Series<'_>], style: LineStyle) -> String {
    let keep = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!style.log_y || y > 0.0);
    let shown: Vec<Vec<(f64, f64)>> = series.iter().map(|s| s.points.iter().copied().filter(keep).collect()).collect();
    let all = || shown.iter().flatten();
    let bounds = |pick: fn(&(f64, f64)) -> f64| {
        all().map(pick).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    let (mut xr, mut yr) = (bounds(|p| p.0), bounds(|p| p.1));
    if !xr.0.is_finite() {
        (xr, yr) = ((0.0, 1.0), (0.0, 1.0));
    }
    if let Some(r) = style.x_range {
        xr = r;
    }
    let mut f = Frame::new(480.0, 260.0, xr, if style.log_y { yr } else { nice_range(yr.0, yr.1, 5) });
    if style.log_y {
        f = f.log_y();
    }
    let mut out = String::new();
    f.open(&mut out, title);
    f.axes(&mut out, x_label, "", true);
    for (i, (s, pts)) in series.iter().zip(&shown).enumerate() {
        let color = COLORS[i % COLORS.len()];
        let line = |ys: &mut dyn Iterator<Item = f64>| -> String {
            pts.iter().zip(ys).map(|(&(x, _), y)| format!("{:.1},{:.1}", f.px(x), f.py(y))).collect::<Vec<_>>().join(" ")
        };
        let raw = line(&mut pts.iter().map(|p| p.1));
        if style.smoothing > 0.0 {
            let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
            let smooth = line(&mut smoothed(&ys, style.smoothing).into_iter());
            let _ = write!(
                out,
                r##"<polyline points="{raw}" fill="none" stroke="{color}" stroke-opacity="0.25" stroke-width="1"/><polyline points="{smooth}" fill="none" stroke="{color}" stroke-width="1.8"/>"##
            );
        } else {
            let _ = write!(out, r##"<polyline points="{raw}" fill="none" stroke="{color}" stroke-width="1.5"/>"##);
        }
        // Hover targets: a dot per point (visible when it is the only one).
        let r = if pts.len() == 1 { 3.0 } else { 2.0 };
        let opacity = if pts.len() == 1 { 1.0 } else { 0.0 };
        for &(x, y) in pts {
            let _ = write!(
                out,
                r##"<circle cx="{:.1}" cy="{:.1}" r="{r}" fill="{color}" fill-opacity="{opacity}"><title>{}: {} = {}, {}</title></circle>"##,
                f.px(x),
                f.py(y),
                escape(s.name),
                escape(x_label),
                short(x),
                short(y)
            );
        }
    }
    if series.len() > 1 {
        for (i, s) in series.iter().enumerate() {
            let y = f.top + 4.0 + 13.0 * i as f64;
            let x = f.width - f.right - 110.0;
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="2"/><text x="{:.1}" y="{y:.1}" dominant-baseline="middle">{}</text>"##,
                x + 14.0,
                COLORS[i % COLORS.len()],
                x + 18.0,
                escape(s.name)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// A value for a tooltip: up to 6 significant digits.
fn short(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.6e}");
        let parsed: f64 = s.parse().unwrap_or(v);
        let p = format!("{parsed}");
        if p.len() <= 12 {
            p
        } else {
            format!("{v:.4e}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(1.05, 5), 0.2);
        assert_eq!(nice_step(1.0, 4), 0.2, "0.25 is not a nice step");
        assert_eq!(nice_step(4.1694 - 3.1552, 4), 0.2);
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(58.0, 5), 10.0);
        assert_eq!(nice_step(3e-5, 5), 5e-6);
        assert_eq!(nice_step(0.0, 5), 1.0);
        let t = nice_ticks(0.0, 1.05, 5);
        assert_eq!(t.values, vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        let labels: Vec<String> = t.values.iter().map(|&v| tick_label(v, t.step)).collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let t = nice_ticks(-30.0, 28.0, 6);
        assert_eq!(t.values, vec![-30.0, -20.0, -10.0, 0.0, 10.0, 20.0]);
        assert_eq!(nice_range(3.1552, 4.1694, 5), (3.0, 4.2));
    }

    #[test]
    fn labels_have_the_digits_the_step_needs() {
        assert_eq!(tick_label(1500.0, 500.0), "1500");
        assert_eq!(tick_label(0.25, 0.05), "0.25");
        assert_eq!(tick_label(2.5e-5, 5e-6), "2.5e-5");
        assert_eq!(tick_label(3.0e-5, 1e-5), "3e-5");
        assert_eq!(tick_label(-10.0, 10.0), "-10");
    }

    #[test]
    fn smoothing_is_tensorboards_debiased_ema() {
        assert_eq!(smoothed(&[1.0, 1.0, 1.0], 0.6), vec![1.0, 1.0, 1.0]);
        let s = smoothed(&[0.0, 10.0], 0.5);
        assert_eq!(s[0], 0.0);
        // (0.5*0 + 0.5*10) / (1 - 0.25) = 6.666...
        assert!((s[1] - 20.0 / 3.0).abs() < 1e-12);
        assert_eq!(smoothed(&[3.0, 5.0], 0.0), vec![3.0, 5.0]);
    }

    #[test]
    fn charts_are_well_formed_and_escaped() {
        let svg = bar_chart("<b>", "questions", &[("0-9".into(), 3), ("<x>".into(), 0)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains("&lt;b&gt;") && svg.contains("&lt;x&gt;: 0") && !svg.contains("<b>"));
        let a = [(0.0, 2.0), (10.0, 1.0), (20.0, f64::NAN)];
        let b = [(0.0, 3.0), (10.0, 0.5)];
        let svg = line_chart(
            "loss",
            "step",
            &[Series { name: "a", points: &a }, Series { name: "<b>", points: &b }],
            LineStyle::default(),
        );
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 4, "NaN left out");
        assert!(svg.contains("<title>a: step = 10, 1</title>"));
        assert!(svg.contains("&lt;b&gt;</text>"), "legend");
        let smooth =
            line_chart("loss", "step", &[Series { name: "a", points: &a }], LineStyle { smoothing: 0.6, ..LineStyle::default() });
        assert_eq!(smooth.matches("<polyline").count(), 2, "raw and smoothed");
        let log = line_chart(
            "loss",
            "step",
            &[Series { name: "a", points: &[(1.0, 0.01), (2.0, 10.0), (3.0, 0.0)] }],
            LineStyle { log_y: true, ..LineStyle::default() },
        );
        assert_eq!(log.matches("<circle").count(), 2, "0 has no place on a log axis");
        assert!(log.contains(">0.01<") && log.contains(">10<"));
        assert!(line_chart("x", "step", &[], LineStyle::default()).ends_with("</svg>"));
    }
}
