//! Charts drawn by hand as SVG text for `report.html` (no JavaScript, no
//! fonts to fetch), and text sparklines for the terminal tables.
//!
//! Every chart takes its numbers and the labels to print beside them: the
//! caller formats values with the one formatter of `output::format`, so a
//! number reads the same in the terminal, in CSV and on the page. Colours are
//! the Okabe–Ito palette, readable with the common colour-vision deficiencies.
//! Each chart is an `<svg>` with a `viewBox` (it scales to its container), a
//! `<title>` for screen readers, and classes the page's CSS styles.

use std::fmt::Write as _;

/// Okabe–Ito: blue, orange, bluish green, vermillion, sky blue, reddish
/// purple, yellow, black.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000",
];
/// Increases, decreases and totals in a waterfall.
pub const UP: &str = "#009E73";
pub const DOWN: &str = "#D55E00";
pub const TOTAL: &str = "#0072B2";
/// Axis lines and grid.
const GRID: &str = "#d0d0d0";

/// Text safe inside SVG/HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A number for an SVG attribute: at most two decimals, no `-0`.
fn n(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    let r = if r == 0.0 { 0.0 } else { r };
    let s = format!("{r:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn open_svg(out: &mut String, w: f64, h: f64, class: &str, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart {class}" viewBox="0 0 {} {}" width="{}" height="{}" style="max-width:{}px" role="img"><title>{}</title>"#,
        n(w),
        n(h),
        n(w),
        n(h),
        n(w),
        escape(title)
    );
}

/// Round axis ticks covering [lo, hi]: about `count` steps of 1, 2, 2.5 or 5
/// times a power of ten. Always includes 0 when the range crosses it.
pub fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() { (lo.min(hi), lo.max(hi)) } else { (0.0, 1.0) };
    let span = if hi - lo > 0.0 { hi - lo } else if hi != 0.0 { hi.abs() } else { 1.0 };
    // A flat range still gets an axis of one step above it.
    let hi = if hi > lo { hi } else { lo + span };
    let raw = span / count.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    let mut t = first;
    while t <= hi + step * 1e-9 {
        ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
        if ticks.len() > 50 {
            break;
        }
    }
    if ticks.last().is_some_and(|l| *l < hi) {
        ticks.push(t);
    }
    ticks
}

/// One horizontal bar: a label on the left, the value text on the right, and
/// optionally a low–high range drawn as a whisker.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// The value as people read it (`$12,345`, `23.4%`).
    pub text: String,
    pub range: Option<(f64, f64)>,
}

/// Horizontal bars, one row each, scaled to the largest value (or range end).
/// Negative values are drawn as 0-length bars with their text.
pub fn hbars(title: &str, bars: &[Bar], color: &str) -> String {
    let row = 28.0;
    let label_w = 200.0;
    let text_w = 110.0;
    let plot_w = 360.0;
    let w = label_w + plot_w + text_w;
    let h = row * bars.len().max(1) as f64 + 8.0;
    let max = bars
        .iter()
        .map(|b| b.range.map_or(b.value, |(_, hi)| hi.max(b.value)))
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { plot_w / max } else { 0.0 };
    let mut out = String::new();
    open_svg(&mut out, w, h, "hbars", title);
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + i as f64 * row;
        let bw = if b.value.is_finite() { (b.value.max(0.0) * scale).max(0.0) } else { 0.0 };
        let _ = write!(
            out,
            r#"<text class="label" x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(label_w - 8.0),
            n(y + row * 0.62),
            escape(&b.label)
        );
        let _ = write!(
            out,
            r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{color}"><title>{}: {}</title></rect>"#,
            n(label_w),
            n(y + 4.0),
            n(bw),
            n(row - 8.0),
            escape(&b.label),
            escape(&b.text)
        );
        if let Some((lo, hi)) = b.range {
            let (x1, x2) = (label_w + lo.max(0.0) * scale, label_w + hi.max(0.0) * scale);
            let ym = y + row / 2.0;
            let _ = write!(
                out,
                r##"<path class="range" d="M{} {}H{}M{} {}V{}M{} {}V{}" stroke="#333" stroke-width="1.5" fill="none"/>"##,
                n(x1),
                n(ym),
                n(x2),
                n(x1),
                n(ym - 6.0),
                n(ym + 6.0),
                n(x2),
                n(ym - 6.0),
                n(ym + 6.0)
            );
        }
        let _ = write!(
            out,
            r#"<text class="value" x="{}" y="{}">{}</text>"#,
            n(label_w + plot_w + 6.0),
            n(y + row * 0.62),
            escape(&b.text)
        );
    }
    out.push_str("</svg>");
    out
}

/// A small trend line without axes (a sparkline); `None` values break the
/// line. The last point is marked.
pub fn sparkline(title: &str, values: &[Option<f64>], w: f64, h: f64) -> String {
    let mut out = String::new();
    open_svg(&mut out, w, h, "spark", title);
    let finite: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() || values.len() < 2 {
        out.push_str("</svg>");
        return out;
    }
    let (lo, hi) = finite.iter().fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let pad = 2.0;
    let x = |i: usize| pad + i as f64 * (w - 2.0 * pad) / (values.len() - 1) as f64;
    let y = |v: f64| {
        if hi > lo {
            h - pad - (v - lo) / (hi - lo) * (h - 2.0 * pad)
        } else {
            h / 2.0
        }
    };
    let mut d = String::new();
    let mut pen_down = false;
    let mut last = None;
    for (i, v) in values.iter().enumerate() {
        match v.filter(|v| v.is_finite()) {
            Some(v) => {
                let _ = write!(d, "{}{} {}", if pen_down { "L" } else { "M" }, n(x(i)), n(y(v)));
                pen_down = true;
                last = Some((x(i), y(v)));
            }
            None => pen_down = false,
        }
    }
    let _ = write!(out, r#"<path class="line" d="{d}" fill="none" stroke="{}" stroke-width="1.5"/>"#, PALETTE[0]);
    if let Some((lx, ly)) = last {
        let _ = write!(out, r#"<circle cx="{}" cy="{}" r="2.5" fill="{}"/>"#, n(lx), n(ly), PALETTE[0]);
    }
    out.push_str("</svg>");
    out
}

/// The same trend as text for terminal tables: one of `▁▂▃▄▅▆▇█` per value
/// (a space for a missing one), scaled between the smallest and the largest.
pub fn spark_text(values: &[Option<f64>]) -> String {
    const TICKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let finite: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = finite.iter().fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    values
        .iter()
        .map(|v| match v.filter(|v| v.is_finite()) {
            None => ' ',
            Some(_) if hi <= lo => TICKS[3],
            Some(v) => TICKS[(((v - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect()
}

/// One step of a waterfall: a total is drawn from 0, a change from the
/// running level.
#[derive(Debug, Clone)]
pub struct Step {
    pub label: String,
    pub value: f64,
    pub text: String,
    pub total: bool,
}

/// A waterfall (the MRR bridge): totals from the axis, changes floating from
/// the running level, green up and vermillion down, with a value axis.
pub fn waterfall(title: &str, steps: &[Step]) -> String {
    let col = 86.0;
    let left = 70.0;
    let top = 22.0;
    let plot_h = 220.0;
    let bottom = 40.0;
    let w = left + col * steps.len().max(1) as f64 + 10.0;
    let h = top + plot_h + bottom;
    // Running levels to find the range.
    let mut level = 0.0;
    let mut spans = Vec::with_capacity(steps.len());
    for s in steps {
        let v = if s.value.is_finite() { s.value } else { 0.0 };
        let (a, b) = if s.total {
            level = v;
            (0.0, v)
        } else {
            let from = level;
            level += v;
            (from, level)
        };
        spans.push((a, b));
    }
    let lo = spans.iter().map(|(a, b)| a.min(*b)).fold(0.0_f64, f64::min);
    let hi = spans.iter().map(|(a, b)| a.max(*b)).fold(0.0_f64, f64::max);
    let ticks = nice_ticks(lo, hi, 4);
    let (t0, t1) = (ticks[0].min(lo), ticks.last().copied().unwrap_or(hi).max(hi));
    let y = |v: f64| top + plot_h - if t1 > t0 { (v - t0) / (t1 - t0) * plot_h } else { 0.0 };
    let mut out = String::new();
    open_svg(&mut out, w, h, "waterfall", title);
    for t in &ticks {
        let _ = write!(
            out,
            r#"<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{GRID}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(left),
            n(w - 10.0),
            n(y(*t)),
            n(y(*t)),
            n(left - 6.0),
            n(y(*t) + 4.0),
            escape(&short_number(*t))
        );
    }
    for (i, (s, (a, b))) in steps.iter().zip(&spans).enumerate() {
        let x = left + i as f64 * col + 12.0;
        let color = if s.total { TOTAL } else if b >= a { UP } else { DOWN };
        let (y1, y2) = (y(a.max(*b)), y(a.min(*b)));
        let _ = write!(
            out,
            r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{color}"><title>{}: {}</title></rect>"#,
            n(x),
            n(y1),
            n(col - 24.0),
            n((y2 - y1).max(1.0)),
            escape(&s.label),
            escape(&s.text)
        );
        let _ = write!(
            out,
            r#"<text class="value" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            n(x + (col - 24.0) / 2.0),
            n(y1 - 5.0),
            escape(&s.text)
        );
        let _ = write!(
            out,
            r#"<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            n(x + (col - 24.0) / 2.0),
            n(top + plot_h + 18.0),
            escape(&s.label)
        );
    }
    out.push_str("</svg>");
    out
}

/// A heatmap: rows × columns of shares in [0, 1] (cohort retention), the
/// cell's text printed inside; an empty cell is left blank.
pub fn heatmap(
    title: &str,
    row_labels: &[String],
    col_labels: &[String],
    cells: &[Vec<Option<(f64, String)>>],
) -> String {
    let cw = 46.0;
    let ch = 22.0;
    let left = 90.0;
    let top = 24.0;
    let w = left + cw * col_labels.len().max(1) as f64 + 4.0;
    let h = top + ch * row_labels.len().max(1) as f64 + 4.0;
    let mut out = String::new();
    open_svg(&mut out, w, h, "heatmap", title);
    for (j, c) in col_labels.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            n(left + j as f64 * cw + cw / 2.0),
            n(top - 8.0),
            escape(c)
        );
    }
    for (i, r) in row_labels.iter().enumerate() {
        let y = top + i as f64 * ch;
        let _ = write!(
            out,
            r#"<text class="label" x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(left - 6.0),
            n(y + ch * 0.68),
            escape(r)
        );
        for (j, cell) in cells.get(i).map(|v| v.as_slice()).unwrap_or(&[]).iter().enumerate() {
            let Some((v, text)) = cell else { continue };
            let x = left + j as f64 * cw;
            let shade = v.clamp(0.0, 1.2) / 1.2;
            // From white to the palette's blue; dark cells get white text.
            let mix = |c: u8| (255.0 - (255.0 - c as f64) * shade).round() as u8;
            let fill = format!("#{:02x}{:02x}{:02x}", mix(0x00), mix(0x72), mix(0xB2));
            let ink = if shade > 0.55 { "white" } else { "#222" };
            let _ = write!(
                out,
                r#"<rect class="cell" x="{}" y="{}" width="{}" height="{}" fill="{fill}"><title>{} · {}: {}</title></rect><text class="cell-text" x="{}" y="{}" text-anchor="middle" fill="{ink}">{}</text>"#,
                n(x + 1.0),
                n(y + 1.0),
                n(cw - 2.0),
                n(ch - 2.0),
                escape(r),
                escape(col_labels.get(j).map(String::as_str).unwrap_or("")),
                escape(text),
                n(x + cw / 2.0),
                n(y + ch * 0.68),
                escape(text)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The bow tie: acquisition bars narrowing toward the knot on the left
/// (right-aligned), retention and expansion bars growing from it on the
/// right. Each side is scaled to its own largest value (counts on the left,
/// money on the right).
pub fn bowtie(title: &str, left: &[Bar], right: &[Bar]) -> String {
    let row = 28.0;
    let half = 340.0;
    let knot = 16.0;
    let label_w = 150.0;
    let w = 2.0 * half + knot;
    let rows = left.len().max(right.len()).max(1);
    let top = 26.0;
    let h = top + row * rows as f64 + 6.0;
    let plot = half - label_w - 8.0;
    let scale = |bars: &[Bar]| {
        let m = bars.iter().map(|b| b.value).filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
        if m > 0.0 { plot / m } else { 0.0 }
    };
    let (ls, rs) = (scale(left), scale(right));
    let mut out = String::new();
    open_svg(&mut out, w, h, "bowtie", title);
    let _ = write!(
        out,
        r#"<text class="tick" x="{}" y="14" text-anchor="end">ACQUISITION (the funnel)</text><text class="tick" x="{}" y="14">RETENTION &amp; EXPANSION (the cycle)</text>"#,
        n(half - 4.0),
        n(half + knot + 4.0)
    );
    let _ = write!(
        out,
        r##"<rect class="knot" x="{}" y="{}" width="{}" height="{}" fill="#888"/>"##,
        n(half + 3.0),
        n(top),
        n(knot - 6.0),
        n(row * rows as f64)
    );
    let base = |y: f64| n(y + row * 0.64);
    // Left wing: label and value in the label column, the bar ending at the knot.
    for (i, b) in left.iter().enumerate() {
        let y = top + i as f64 * row;
        let bw = if b.value.is_finite() { b.value.max(0.0) * ls } else { 0.0 };
        let _ = write!(
            out,
            r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect><text class="label" x="4" y="{}">{}</text><text class="value" x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(half - bw),
            n(y + 4.0),
            n(bw),
            n(row - 8.0),
            PALETTE[0],
            escape(&b.label),
            escape(&b.text),
            base(y),
            escape(&b.label),
            n(label_w - 4.0),
            base(y),
            escape(&b.text)
        );
    }
    // Right wing: the bar from the knot, value then label in the label column.
    for (i, b) in right.iter().enumerate() {
        let y = top + i as f64 * row;
        let bw = if b.value.is_finite() { b.value.max(0.0) * rs } else { 0.0 };
        let x0 = half + knot;
        let _ = write!(
            out,
            r#"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect><text class="value" x="{}" y="{}">{}</text><text class="label" x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(x0),
            n(y + 4.0),
            n(bw),
            n(row - 8.0),
            PALETTE[2],
            escape(&b.label),
            escape(&b.text),
            n(w - label_w + 4.0),
            base(y),
            escape(&b.text),
            n(w - 4.0),
            base(y),
            escape(&b.label)
        );
    }
    out.push_str("</svg>");
    out
}

/// An axis label for people: `1.2M`, `350k`, `12`.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let (d, suffix) = if a >= 1e9 {
        (v / 1e9, "B")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = if d.fract() == 0.0 { format!("{d:.0}") } else { format!("{d:.1}") };
    format!("{}{suffix}", s.trim_end_matches(".0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(hay: &str, needle: &str) -> usize {
        hay.matches(needle).count()
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 100.0, 4), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        // Step 25 (span 100 / 4); -30 needs -50 below it, 70 needs 75 above.
        assert_eq!(nice_ticks(-30.0, 70.0, 4), vec![-50.0, -25.0, 0.0, 25.0, 50.0, 75.0]);
        // All zero: an axis from 0 to 1 so that the bars have a scale.
        assert_eq!(nice_ticks(0.0, 0.0, 4), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let t = nice_ticks(3.0, 1234.0, 5);
        assert_eq!(t.first(), Some(&0.0));
        assert!(t.last().copied().unwrap() >= 1234.0);
    }

    #[test]
    fn hbars_draw_one_bar_per_item_scaled_to_the_largest() {
        let bars = vec![
            Bar { label: "lead".into(), value: 200.0, text: "200".into(), range: None },
            Bar { label: "mql".into(), value: 100.0, text: "100".into(), range: None },
            Bar { label: "won <&>".into(), value: 50.0, text: "$1,200".into(), range: Some((30.0, 80.0)) },
        ];
        let svg = hbars("Funnel", &bars, PALETTE[0]);
        assert_eq!(count(&svg, r#"<rect class="bar""#), 3);
        // Plot width 360 for the largest (200): 100 -> 180, 50 -> 90.
        assert!(svg.contains(r#"width="360" height="20""#), "{svg}");
        assert!(svg.contains(r#"width="180" height="20""#));
        assert!(svg.contains(r#"width="90" height="20""#));
        assert!(svg.contains("won &lt;&amp;&gt;"), "labels are escaped");
        assert!(svg.contains(">$1,200</text>"));
        assert_eq!(count(&svg, r#"class="range""#), 1);
        // Range 30..80 at scale 1.8 from x=200: 254 to 344.
        assert!(svg.contains("M254 "), "{svg}");
        assert!(svg.contains("H344"), "{svg}");
    }

    #[test]
    fn waterfall_floats_changes_from_the_running_level() {
        let steps = [
            Step { label: "starting".into(), value: 100.0, text: "100".into(), total: true },
            Step { label: "new".into(), value: 20.0, text: "+20".into(), total: false },
            Step { label: "churned".into(), value: -30.0, text: "-30".into(), total: false },
            Step { label: "ending".into(), value: 90.0, text: "90".into(), total: true },
        ];
        let svg = waterfall("MRR bridge", &steps);
        assert_eq!(count(&svg, r#"<rect class="bar""#), 4);
        assert_eq!(count(&svg, UP), 1);
        assert_eq!(count(&svg, DOWN), 1);
        assert_eq!(count(&svg, TOTAL), 2);
        // Levels 0..120: ticks 0, 50, 100, 150 (step 50 is the first round step
        // >= 120/4). Plot height 220 from y=22, so y(v) = 242 - v/150*220:
        // "new" spans 100..120 -> y(120) = 66 down to y(100) = 95.33.
        assert!(svg.contains(r#"y="66" width="62" height="29.33""#), "{svg}");
        for label in ["starting", "new", "churned", "ending", "+20", "-30"] {
            assert!(svg.contains(&format!(">{label}</text>")), "{label}");
        }
    }

    #[test]
    fn heatmap_has_a_cell_per_value_and_blank_gaps() {
        let rows = vec!["2024-01".to_string(), "2024-02".to_string()];
        let cols = vec!["0".to_string(), "1".to_string()];
        let cells = vec![
            vec![Some((1.0, "100%".to_string())), Some((0.9, "90%".to_string()))],
            vec![Some((1.0, "100%".to_string())), None],
        ];
        let svg = heatmap("Retention", &rows, &cols, &cells);
        assert_eq!(count(&svg, r#"<rect class="cell""#), 3);
        assert_eq!(count(&svg, ">100%</text>"), 2);
        assert_eq!(count(&svg, ">90%</text>"), 1);
    }

    #[test]
    fn sparklines_in_svg_and_text() {
        let v = [Some(1.0), Some(2.0), None, Some(8.0)];
        let svg = sparkline("win rate", &v, 100.0, 20.0);
        // The gap lifts the pen: two M moves.
        assert_eq!(count(&svg, "M"), 2, "{svg}");
        assert_eq!(spark_text(&v), "▁▂ █");
        assert_eq!(spark_text(&[Some(5.0), Some(5.0)]), "▄▄");
        assert_eq!(spark_text(&[]), "");
    }

    #[test]
    fn bowtie_has_both_wings() {
        let b = |label: &str, value: f64| Bar { label: label.into(), value, text: format!("{value}"), range: None };
        let svg = bowtie("Bow tie", &[b("leads", 100.0), b("MQLs", 50.0)], &[b("starting MRR", 10.0), b("new", 2.0), b("ending", 12.0)]);
        assert_eq!(count(&svg, r#"<rect class="bar""#), 5);
        // Each wing's plot is 340 - 150 - 8 = 182 wide. Left: 100 leads draw
        // 182, so MQLs (50) draw 91 and end at the knot (x = 340): they start
        // at 249, on the second row (y = 26 + 28 + 4).
        assert!(svg.contains(r#"<rect class="bar" x="249" y="58" width="91""#), "{svg}");
        // Right: ending (12) is the largest: 182 wide from x = 356, third row.
        assert!(svg.contains(r#"x="356" y="86" width="182""#), "{svg}");
    }

    #[test]
    fn short_numbers_for_axes() {
        assert_eq!(short_number(1_250_000.0), "1.2M");
        assert_eq!(short_number(350_000.0), "350k");
        assert_eq!(short_number(12.0), "12");
        assert_eq!(short_number(-2_000.0), "-2k");
    }
}
