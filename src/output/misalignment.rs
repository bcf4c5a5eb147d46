//! Terminal rendering of `revcycle misalignment`: a short explanation, largest
//! cost first, then the alignment score, the assumptions and the benchmark.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use polars::prelude::*;

use crate::metrics::misalignment::{bucket_stem, Misalignment};
use crate::output::format;

/// An unknown value: the one null text of every view.
const NA: &str = format::NULL_TEXT;

/// Renders the misalignment result for a terminal `width` columns wide.
/// `currency` is a label such as "USD", "$" or "" for none.
pub fn render(m: &Misalignment, currency: &str, width: usize) -> String {
    let mut out = String::new();
    let groups: Vec<Option<String>> = match m.by {
        Some(by) => m
            .frame
            .column(by.name())
            .ok()
            .and_then(|c| {
                c.str()
                    .ok()
                    .map(|s| s.iter().map(|v| v.map(str::to_string)).collect())
            })
            .unwrap_or_default(),
        None => vec![None],
    };
    let range = m
        .assumptions
        .iter()
        .find(|(k, _)| k == "range")
        .map(|(_, v)| v.as_str())
        .unwrap_or("all data");
    let as_of = m
        .assumptions
        .iter()
        .find(|(k, _)| k == "as_of")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    out.push_str(&format!(
        "What sales and marketing misalignment costs: {range}, as of {as_of}\n"
    ));
    match (m.by, &m.channels) {
        (Some(by), _) if groups.len() > 1 => highlights(&mut out, &m.frame, by.name(), currency),
        (None, Some(ch)) if ch.height() > 1 => {
            out.push_str("Where, by channel:\n");
            highlights(&mut out, ch, "channel", currency);
        }
        _ => {}
    }
    for (r, g) in groups.iter().enumerate() {
        out.push('\n');
        if let (Some(by), Some(g)) = (m.by, g) {
            out.push_str(&format!("== {} {} ==\n", by.name(), g));
        }
        render_group(&mut out, m, r, currency, width);
    }

    out.push_str("\nAssumptions (set them in revcycle.toml)\n");
    for (k, v) in &m.assumptions {
        if k == "range" || k == "as_of" {
            continue;
        }
        out.push_str(&format!("  {k}: {v}\n"));
    }
    if !m.notes.is_empty() {
        out.push_str("\nWhy some values are missing\n");
        for n in &m.notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    out
}

/// Across the groups of `frame` (its `by` column): the group that costs most,
/// the one slowest to follow up and the one richest in MQLs but poorest in
/// wins, named up front.
fn highlights(out: &mut String, frame: &DataFrame, by: &str, cur: &str) {
    let Some(keys) = frame.column(by).ok().and_then(|c| c.str().ok().cloned()) else {
        return;
    };
    let n = frame.height();
    let name = |r: usize| keys.get(r).unwrap_or_default().to_string();
    let g = |col: &str, r: usize| number(frame, col, r);
    let argmax = |score: &dyn Fn(usize) -> Option<f64>| {
        (0..n)
            .filter_map(|r| score(r).map(|v| (r, v)))
            .max_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal))
    };
    let mut lines = Vec::new();
    if let Some((r, v)) = argmax(&|r| g("misalignment_cost", r)) {
        lines.push(format!(
            "largest cost: {} {} ({})",
            by,
            name(r),
            money(v, cur)
        ));
    }
    // Slowest: lowest share contacted within 24 h (then lowest follow-up rate).
    if let Some((r, _)) = argmax(&|r| {
        g("speed_component", r).map(|s| -s - g("followup_component", r).unwrap_or(0.0) * 1e-6)
    }) {
        lines.push(format!(
            "slowest to follow up: {} {} ({} of contacted MQLs reached within 24 h, {} of MQLs past the SLA worked)",
            by,
            name(r),
            opt_pct(g("speed_component", r)),
            opt_pct(g("followup_component", r)),
        ));
    }
    let total_mqls: f64 = (0..n).filter_map(|r| g("mqls_reached", r)).sum();
    let total_won: f64 = (0..n).filter_map(|r| g("won_deals", r)).sum();
    if total_mqls > 0.0 && total_won > 0.0 {
        let gap =
            |r: usize| Some(g("mqls_reached", r)? / total_mqls - g("won_deals", r)? / total_won);
        if let Some((r, d)) = argmax(&gap) {
            if d > 0.0 {
                lines.push(format!(
                    "rich in MQLs, poor in wins: {} {} ({} of MQLs, {} of won deals)",
                    by,
                    name(r),
                    pct(g("mqls_reached", r).unwrap_or(0.0) / total_mqls),
                    pct(g("won_deals", r).unwrap_or(0.0) / total_won),
                ));
            }
        }
    }
    for l in lines {
        out.push_str(&format!("  - {l}\n"));
    }
}

/// Row `r` of column `name` of `frame` as a number (None: null or no such column).
fn number(frame: &DataFrame, name: &str, r: usize) -> Option<f64> {
    let c = frame.column(name).ok()?.cast(&DataType::Float64).ok()?;
    c.f64().ok()?.get(r)
}

fn f(m: &Misalignment, name: &str, r: usize) -> Option<f64> {
    number(&m.frame, name, r)
}

fn s(m: &Misalignment, name: &str, r: usize) -> Option<String> {
    m.frame
        .column(name)
        .ok()?
        .str()
        .ok()?
        .get(r)
        .map(str::to_string)
}

/// 12345.6 -> "$12,346": the one money formatter, in whole units.
pub fn money(v: f64, currency: &str) -> String {
    format::money_whole(v, currency)
}

/// [`money`], or the null text.
fn opt_money(v: Option<f64>, currency: &str) -> String {
    v.map(|v| money(v, currency)).unwrap_or_else(|| NA.into())
}

fn pct(v: f64) -> String {
    format!("{}%", format::grouped(v * 100.0, 1))
}

fn opt_pct(v: Option<f64>) -> String {
    v.map(pct).unwrap_or_else(|| NA.into())
}

/// "30.0% (10.8–60.3%, n=10)"
fn rate_iv(v: Option<f64>, lo: Option<f64>, hi: Option<f64>, n: Option<f64>) -> String {
    match (v, lo, hi) {
        (Some(v), Some(lo), Some(hi)) => format!(
            "{} ({:.1}–{:.1}%, n={})",
            pct(v),
            lo * 100.0,
            hi * 100.0,
            n.map(|n| format!("{n:.0}")).unwrap_or_else(|| "?".into())
        ),
        _ => NA.into(),
    }
}

fn new_table(width: usize) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width.clamp(40, u16::MAX as usize) as u16);
    t
}

struct Line {
    label: &'static str,
    count: String,
    rate: String,
    value: Option<f64>,
}

fn render_group(out: &mut String, m: &Misalignment, r: usize, cur: &str, width: usize) {
    let g = |name: &str| f(m, name, r);
    // "1 MQL", "3 MQLs".
    let count = |v: Option<f64>, one: &str, many: &str| {
        v.map(|v| format!("{v:.0} {}", if v == 1.0 { one } else { many }))
            .unwrap_or_else(|| NA.into())
    };
    let cpm = match (g("cost_per_mql"), g("marketing_spend"), g("mqls_reached")) {
        (Some(c), Some(s), Some(n)) => format!(
            "cost per MQL {} ({} / {n:.0} MQLs)",
            money(c, cur),
            money(s, cur)
        ),
        _ => "cost per MQL n/a".into(),
    };
    let base = s(m, "followup_base_bucket", r);
    let base_rate = base.as_ref().and_then(|b| {
        let ix = m.bucket_labels.iter().position(|l| l == b)?;
        let bounds = bounds_of(m);
        let stem = bucket_stem(&bounds, ix);
        let row = bucket_row(m, r, b)?;
        Some(format!(
            "MQLs contacted {b} reached SQL: {}, slower buckets below; SQL win rate {}",
            rate_iv(
                g(&format!("{stem}_q")),
                row.0,
                row.1,
                g(&format!("{stem}_n"))
            ),
            rate_iv(
                g("sql_win_rate"),
                g("sql_win_rate_low"),
                g("sql_win_rate_high"),
                g("sql_reached")
            ),
        ))
    });
    let slower_n: Option<f64> = base.as_ref().and_then(|b| {
        let ix = m.bucket_labels.iter().position(|l| l == b)?;
        let bounds = bounds_of(m);
        Some(
            (ix + 1..m.bucket_labels.len())
                .filter_map(|i| g(&format!("{}_n", bucket_stem(&bounds, i))))
                .sum(),
        )
    });
    let mut lines = vec![
        Line {
            label: "Unworked MQLs: lost revenue",
            count: count(g("unworked_mqls"), "MQL", "MQLs"),
            rate: format!(
                "worked-MQL win rate {} x avg deal {}",
                rate_iv(
                    g("worked_mql_win_rate"),
                    g("worked_mql_win_rate_low"),
                    g("worked_mql_win_rate_high"),
                    g("worked_mqls")
                ),
                opt_money(g("avg_deal_size"), cur)
            ),
            value: g("unworked_mql_lost_revenue"),
        },
        Line {
            label: "Unworked MQLs: wasted spend",
            count: count(g("unworked_mqls"), "MQL", "MQLs"),
            rate: cpm.clone(),
            value: g("unworked_mql_wasted_spend"),
        },
        Line {
            label: "Slow follow-up: lost revenue",
            count: count(slower_n, "MQL slower than base", "MQLs slower than base"),
            rate: base_rate.unwrap_or_else(|| NA.into()),
            value: g("slow_followup_lost_revenue"),
        },
        Line {
            label: "Rejected MQLs: wasted spend",
            count: count(g("rejected_mqls"), "MQL", "MQLs"),
            rate: cpm,
            value: g("rejected_mql_wasted_spend"),
        },
        Line {
            label: "Misfit losses: lost pipeline",
            count: count(g("misfit_lost_deals"), "lost deal", "lost deals"),
            rate: format!(
                "win rate {} x {} lost to misfit reasons",
                rate_iv(
                    g("win_rate"),
                    g("win_rate_low"),
                    g("win_rate_high"),
                    match (g("won_deals"), g("lost_deals")) {
                        (Some(a), Some(b)) => Some(a + b),
                        _ => None,
                    }
                ),
                opt_money(g("misfit_lost_amount"), cur)
            ),
            value: g("misfit_lost_pipeline"),
        },
    ];
    // Largest first; components that could not be computed last.
    lines.sort_by(|a, b| match (a.value, b.value) {
        (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });

    let total = g("misalignment_cost");
    match total {
        Some(t) => out.push_str(&format!(
            "Estimated cost of misalignment: {} (95% range {} to {}){}\n",
            money(t, cur),
            g("misalignment_cost_low")
                .map(|v| money(v, cur))
                .unwrap_or_default(),
            g("misalignment_cost_high")
                .map(|v| money(v, cur))
                .unwrap_or_default(),
            match (g("misalignment_cost_share"), g("new_bookings")) {
                (Some(s), Some(b)) => format!(", {} of new bookings ({})", pct(s), money(b, cur)),
                _ => String::new(),
            }
        )),
        None => {
            out.push_str("Estimated cost of misalignment: n/a (no component could be computed)\n")
        }
    }
    let mut t = new_table(width);
    t.set_header(vec![
        "Component",
        "Count",
        "Rate used (95% interval)",
        "Value",
        "Share",
    ]);
    for l in &lines {
        t.add_row(vec![
            l.label.to_string(),
            l.count.clone(),
            if l.value.is_none() {
                "not computed: see the notes below".to_string()
            } else {
                l.rate.clone()
            },
            opt_money(l.value, cur),
            match (l.value, total) {
                (Some(v), Some(t)) if t > 0.0 => pct(v / t),
                _ => "".into(),
            },
        ]);
    }
    t.add_row(vec![
        "Total".to_string(),
        String::new(),
        format!(
            "95% range {} to {}",
            opt_money(g("misalignment_cost_low"), cur),
            opt_money(g("misalignment_cost_high"), cur)
        ),
        opt_money(total, cur),
        total.map(|_| "100.0%".to_string()).unwrap_or_default(),
    ]);
    for c in [1, 3, 4] {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    out.push_str(&t.to_string());
    out.push('\n');

    // Response-time buckets.
    if let Some(rows) = buckets_of(m, r) {
        out.push_str(
            "Follow-up speed: share of contacted MQLs that reached SQL, by response time\n",
        );
        let mut t = new_table(width);
        t.set_header(vec![
            "Response time",
            "MQLs",
            "Reached SQL",
            "Share (95% interval)",
            "Role",
            "Lost revenue",
        ]);
        for b in rows {
            t.add_row(vec![
                b.label,
                format!("{}", b.n),
                format!("{}", b.sql),
                match b.q {
                    Some(q) => format!(
                        "{} ({:.1}–{:.1}%)",
                        pct(q),
                        b.lo.unwrap_or(0.0) * 100.0,
                        b.hi.unwrap_or(0.0) * 100.0
                    ),
                    None => NA.into(),
                },
                b.role.unwrap_or_default(),
                b.lost.map(|v| money(v, cur)).unwrap_or_default(),
            ]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
    }

    // Alignment score.
    out.push_str(&format!(
        "Alignment score: {}\n",
        g("alignment_score")
            .map(|v| format!("{v:.0} / 100"))
            .unwrap_or_else(|| NA.into())
    ));
    let mut t = new_table(width);
    t.set_header(vec!["Component", "Value", "What it measures"]);
    let comps: [(&str, &str, String); 5] = [
        (
            "Follow-up",
            "followup_component",
            format!(
                "MQLs past the SLA that were worked ({} of {})",
                fmt_count(g("sla_mqls").zip(g("unworked_mqls")).map(|(a, b)| a - b)),
                fmt_count(g("sla_mqls"))
            ),
        ),
        (
            "Speed",
            "speed_component",
            format!(
                "contacted MQLs reached within 24 h ({} of {})",
                fmt_count(g("contacted_within_24h")),
                fmt_count(g("contacted_mqls"))
            ),
        ),
        (
            "Acceptance",
            "acceptance_component",
            format!(
                "MQLs accepted by sales ({} of {})",
                fmt_count(g("accepted_mqls")),
                fmt_count(g("mqls_reached"))
            ),
        ),
        (
            "ICP agreement",
            "icp_component",
            "1 - distance between the segment mix of MQLs and of won deals".into(),
        ),
        (
            "Channel agreement",
            "channel_component",
            "1 - distance between the channel mix of MQLs and of new bookings".into(),
        ),
    ];
    for (label, id, what) in comps {
        t.add_row(vec![label.to_string(), opt_pct(g(id)), what]);
    }
    if let Some(col) = t.column_mut(1) {
        col.set_cell_alignment(CellAlignment::Right);
    }
    out.push_str(&t.to_string());
    out.push('\n');

    if let Some(u) = g("alignment_uplift_scenario") {
        let uplift = m
            .assumptions
            .iter()
            .find(|(k, _)| k == "uplift")
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .map(pct)
            .unwrap_or_default();
        out.push_str(&format!(
            "Benchmark scenario (published benchmark, not a measurement): aligned sales and marketing can raise \
             new revenue by up to {uplift}; {uplift} of {} new bookings is {}.\n",
            g("new_bookings").map(|v| money(v, cur)).unwrap_or_default(),
            money(u, cur),
        ));
    }
}

fn fmt_count(v: Option<f64>) -> String {
    format::count_text(v)
}

fn bounds_of(m: &Misalignment) -> Vec<f64> {
    m.bucket_bounds.clone()
}

struct BucketLine {
    label: String,
    n: i64,
    sql: i64,
    q: Option<f64>,
    lo: Option<f64>,
    hi: Option<f64>,
    role: Option<String>,
    lost: Option<f64>,
}

fn bucket_row(m: &Misalignment, r: usize, label: &str) -> Option<(Option<f64>, Option<f64>)> {
    let rows = buckets_of(m, r)?;
    rows.into_iter()
        .find(|b| b.label == label)
        .map(|b| (b.lo, b.hi))
}

fn buckets_of(m: &Misalignment, r: usize) -> Option<Vec<BucketLine>> {
    let b = &m.buckets;
    if b.height() == 0 {
        return None;
    }
    let key: Option<String> = match m.by {
        Some(by) => Some(
            m.frame
                .column(by.name())
                .ok()?
                .str()
                .ok()?
                .get(r)?
                .to_string(),
        ),
        None => None,
    };
    let fcol = |name: &str| -> Option<Vec<Option<f64>>> {
        let c = b.column(name).ok()?.cast(&DataType::Float64).ok()?;
        Some(c.f64().ok()?.iter().collect())
    };
    let scol = |name: &str| -> Option<Vec<Option<String>>> {
        Some(
            b.column(name)
                .ok()?
                .str()
                .ok()?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect(),
        )
    };
    let labels = scol("bucket")?;
    let roles = scol("role")?;
    let (n, sql, q, lo, hi, lost) = (
        fcol("n")?,
        fcol("sql_reached")?,
        fcol("q")?,
        fcol("q_low")?,
        fcol("q_high")?,
        fcol("lost_revenue")?,
    );
    let keys = match (m.by, &key) {
        (Some(by), Some(_)) => Some(scol(by.name())?),
        _ => None,
    };
    let mut out = Vec::new();
    for i in 0..b.height() {
        if let (Some(keys), Some(k)) = (&keys, &key) {
            if keys[i].as_deref() != Some(k.as_str()) {
                continue;
            }
        }
        out.push(BucketLine {
            label: labels[i].clone().unwrap_or_default(),
            n: n[i].unwrap_or(0.0) as i64,
            sql: sql[i].unwrap_or(0.0) as i64,
            q: q[i],
            lo: lo[i],
            hi: hi[i],
            role: roles[i].clone(),
            lost: lost[i],
        });
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::misalignment::misalignment;
    use crate::metrics::testutil::fixture;
    use crate::settings::{Analysis, Dimension};

    /// The highlights name channel `slow` (its text starting so) slowest to
    /// follow up and channel `rich` rich in MQLs but poor in wins.
    #[track_caller]
    fn assert_highlights(text: &str, slow: &str, rich: &str) {
        for want in [
            format!("slowest to follow up: channel {slow}"),
            format!("rich in MQLs, poor in wins: channel {rich}"),
        ] {
            assert!(text.contains(&want), "{want:?} in\n{text}");
        }
    }

    #[test]
    fn counts_read_as_english() {
        let ds = fixture("misalignment");
        let m = misalignment(
            &ds,
            &Analysis {
                by: Some(Dimension::Channel),
                min_sample: 2,
                ..Analysis::default()
            },
        )
        .unwrap();
        let text = render(&m, "", 140);
        assert!(text.contains("1 MQL "), "{text}"); // Organic: 1 unworked
        assert!(text.contains("2 MQLs"), "{text}");
        assert!(text.contains("1 lost deal "), "{text}");
        assert!(text.contains("3 MQLs slower than base"), "{text}"); // Paid
        assert!(
            !text.contains("1 MQLs") && !text.contains("1 lost deals"),
            "{text}"
        );
    }

    #[test]
    fn money_format() {
        assert_eq!(money(35150.0, "USD"), "35,150 USD");
        assert_eq!(money(1234567.4, "$"), "$1,234,567");
        assert_eq!(money(450.0, ""), "450");
        assert_eq!(money(-1500.0, "$"), "-$1,500");
    }

    #[test]
    fn renders_largest_first_with_benchmark_label() {
        let ds = fixture("misalignment");
        let m = misalignment(
            &ds,
            &Analysis {
                min_sample: 2,
                ..Analysis::default()
            },
        )
        .unwrap();
        let text = render(&m, "USD", 120);
        eprintln!("{text}");
        // Slow follow-up (15,750) before unworked lost revenue (13,500) before misfit (5,000).
        let slow = text.find("Slow follow-up").unwrap();
        let unworked = text.find("Unworked MQLs: lost revenue").unwrap();
        let misfit = text.find("Misfit losses").unwrap();
        assert!(slow < unworked && unworked < misfit, "{text}");
        assert!(
            text.contains("35,150 USD (95% range 7,627 USD to 94,326 USD)"),
            "{text}"
        );
        assert!(
            text.contains("published benchmark, not a measurement"),
            "{text}"
        );
        assert!(text.contains("Alignment score: 68 / 100"), "{text}");
        assert!(text.contains("min_sample: 2"), "{text}");
        // Without --by the channels are still named (same figures as --by channel).
        assert!(text.contains("Where, by channel:"), "{text}");
        assert_highlights(
            &text,
            "Paid (60.0% of contacted",
            "Paid (57.1% of MQLs, 33.3% of won deals)",
        );
    }

    #[test]
    fn renders_one_block_per_group() {
        let ds = fixture("misalignment");
        let m = misalignment(
            &ds,
            &Analysis {
                by: Some(Dimension::Channel),
                min_sample: 2,
                ..Analysis::default()
            },
        )
        .unwrap();
        let text = render(&m, "$", 100);
        assert!(text.contains("== channel Organic =="), "{text}");
        assert!(text.contains("== channel Paid =="), "{text}");
        assert!(text.contains("$22,600"), "{text}");
        // Paid: 22,600 > 9,300; 60% within 24 h < 75%; 57.1% of MQLs but 33.3% of wins.
        assert!(
            text.contains("largest cost: channel Paid ($22,600)"),
            "{text}"
        );
        assert_highlights(
            &text,
            "Paid (60.0% of contacted",
            "Paid (57.1% of MQLs, 33.3% of won deals)",
        );
    }

    // The demo data set is built to make Events slow to follow up and Paid
    // Social rich in MQLs but poor in wins; the explanation must say so.
    #[test]
    fn demo_names_slow_and_mql_rich_channels() {
        let cfg = crate::config::Config::default();
        let spec = crate::input::InputSpec {
            demo: Some(crate::cmd::common::demo_tables()),
            ..crate::input::InputSpec::default()
        };
        let loaded = crate::input::load(&spec, &cfg, None, true).expect("demo loads");
        // Whole range (what `revcycle misalignment --demo` prints) and --by channel.
        let whole = misalignment(&loaded.dataset, &Analysis::default()).unwrap();
        let text = render(&whole, "$", 140);
        assert_highlights(&text, "Events", "Paid Social");
        let a = Analysis {
            by: Some(Dimension::Channel),
            ..Analysis::default()
        };
        let m = misalignment(&loaded.dataset, &a).unwrap();
        let text = render(&m, "$", 140);
        assert_highlights(&text, "Events", "Paid Social");
    }

    /// Unknown values read as the one null text of every view, never "n/a".
    #[test]
    fn nulls_read_as_the_shared_null_text() {
        let ds = fixture("misalignment-nocontact");
        let m = misalignment(
            &ds,
            &Analysis {
                min_sample: 2,
                ..Analysis::default()
            },
        )
        .unwrap();
        let text = render(&m, "R$", 140);
        assert!(!text.contains("n/a"), "{text}");
        assert!(text.contains(crate::output::format::NULL_TEXT), "{text}");
        // R$ goes before the number, never after it.
        assert!(text.contains("R$5,450"), "{text}");
        assert!(
            !(0..10).any(|d| text.contains(&format!("{d} R$"))),
            "{text}"
        );
    }
}
