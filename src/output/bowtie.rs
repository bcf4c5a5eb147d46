//! The revenue-cycle bow tie drawn with text: acquisition narrowing to the
//! first deal on the left, retention and expansion on the right, so that "the
//! revenue goes on after the first deal" reads at a glance.

pub use crate::metrics::cycle::BowTie;

use super::format;

const BAR: char = '█';
const LABEL_W: usize = 14;
const NUM_W: usize = 11;

/// Draws the bow tie in at most `width` columns (at least 60 are used).
/// `currency` labels money ("$" before, "EUR" after, "" none).
pub fn bow_tie(b: &BowTie, currency: &str, width: usize) -> String {
    let width = width.max(60);
    // Each wing: label, number, space, bar; the knot in between is 3 wide.
    let wing = (width - 3) / 2;
    let bar_w = wing.saturating_sub(LABEL_W + NUM_W + 2).max(4);

    let left: Vec<(&str, Option<f64>)> = vec![
        ("leads", b.leads),
        ("MQLs", b.mqls),
        ("SQLs", b.sqls),
        ("opportunities", b.opportunities),
        ("new customers", b.new_customers),
    ];
    let right: Vec<(&str, Option<f64>, Sign)> = vec![
        ("starting MRR", b.starting_mrr, Sign::None),
        ("new MRR", b.new_mrr, Sign::Plus),
        ("expansion", b.expansion_mrr, Sign::Plus),
        ("contraction", b.contraction_mrr, Sign::Minus),
        ("churned", b.churned_mrr, Sign::Minus),
        ("ending MRR", b.ending_mrr, Sign::None),
    ];
    let left_max = left.iter().filter_map(|r| r.1).fold(0.0f64, f64::max);
    let right_max = right.iter().filter_map(|r| r.1).fold(0.0f64, f64::max);

    let mut out = String::new();
    let state = if b.complete { "" } else { ", in progress" };
    out.push_str(&format!(
        "Revenue cycle — {} of {}{}\n\n",
        b.period_kind, b.period, state
    ));
    out.push_str(&format!(
        "{:>wing$} │ {}\n",
        "ACQUISITION (the funnel)", "RETENTION & EXPANSION (the cycle)"
    ));
    let rows = left.len().max(right.len());
    // The knot sits on the "new customers" row: the funnel ends there.
    let knot_row = left.len() - 1;
    for i in 0..rows {
        let l = match left.get(i) {
            Some((label, v)) => {
                let bar = bar_of(*v, left_max, bar_w);
                format!(
                    "{:<LABEL_W$}{:>NUM_W$} {:>bar_w$}",
                    label,
                    fmt_count(*v),
                    bar
                )
            }
            None => String::new(),
        };
        let r = match right.get(i) {
            Some((label, v, sign)) => {
                let bar = bar_of(*v, right_max, bar_w);
                let label = format!("{}{}", sign.prefix(), label);
                format!(
                    "{:<bar_w$} {:<LABEL_W$}{:>NUM_W$}",
                    bar,
                    label,
                    fmt_money(*v, currency)
                )
            }
            None => String::new(),
        };
        let knot = if i == knot_row { "◆" } else { "│" };
        out.push_str(
            &format!("{:>wing$} {} {}", l, knot, r)
                .trim_end()
                .to_string(),
        );
        out.push('\n');
    }
    let pct = |v: Option<f64>| {
        v.map(|x| format!("{:.1}%", x * 100.0))
            .unwrap_or_else(|| format::NULL_TEXT.into())
    };
    out.push_str(&format!(
        "{:>wing$} │ {:bar_w$} {:<LABEL_W$}{:>NUM_W$}\n",
        "",
        "",
        "NRR",
        pct(b.nrr)
    ));

    // Bookings: what a funnel-only view credits, and what it never sees.
    out.push('\n');
    let money = |v| fmt_money(v, currency);
    out.push_str(&format!(
        "bookings: new {}  ·  expansion {}  ·  renewal {}\n",
        money(b.new_bookings),
        money(b.expansion_bookings),
        money(b.renewal_bookings)
    ));
    let unseen = match (b.expansion_bookings, b.renewal_bookings) {
        (Some(x), Some(r)) => Some(x + r),
        _ => None,
    };
    let total = match (b.new_bookings, unseen) {
        (Some(n), Some(u)) => Some(n + u),
        _ => None,
    };
    if let (Some(u), Some(t)) = (unseen, total) {
        let share = if t > 0.0 {
            format!(" ({:.0}% of cycle revenue)", u / t * 100.0)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "unseen by a funnel-only view: {}{} — revenue from existing customers\n",
            money(Some(u)),
            share
        ));
    }
    out
}

#[derive(Clone, Copy)]
enum Sign {
    None,
    Plus,
    Minus,
}

impl Sign {
    fn prefix(self) -> &'static str {
        match self {
            Sign::None => "",
            Sign::Plus => "+ ",
            Sign::Minus => "− ",
        }
    }
}

/// A bar of `v / max * w` characters, at least one for a positive value.
fn bar_of(v: Option<f64>, max: f64, w: usize) -> String {
    match v {
        Some(v) if v > 0.0 && max > 0.0 => {
            let n = ((v / max) * w as f64).round().clamp(1.0, w as f64) as usize;
            BAR.to_string().repeat(n)
        }
        _ => String::new(),
    }
}

fn fmt_count(v: Option<f64>) -> String {
    format::count_text(v)
}

fn fmt_money(v: Option<f64>, currency: &str) -> String {
    format::money_whole_opt(v, currency)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn sample() -> BowTie {
        BowTie {
            period: NaiveDate::from_ymd_opt(2024, 4, 1).unwrap(),
            period_kind: "month",
            complete: false,
            leads: Some(3.0),
            mqls: Some(2.0),
            sqls: Some(1.0),
            opportunities: Some(1.0),
            new_customers: Some(0.0),
            new_bookings: Some(0.0),
            expansion_bookings: Some(240.0),
            renewal_bookings: Some(0.0),
            starting_mrr: Some(460.0),
            new_mrr: Some(0.0),
            expansion_mrr: Some(20.0),
            contraction_mrr: Some(0.0),
            churned_mrr: Some(80.0),
            ending_mrr: Some(400.0),
            nrr: Some(400.0 / 460.0),
        }
    }

    #[test]
    fn draws_both_wings_and_the_unseen_revenue() {
        let s = bow_tie(&sample(), "$", 100);
        assert!(
            s.starts_with("Revenue cycle — month of 2024-04-01, in progress\n"),
            "{s}"
        );
        let leads = s.lines().find(|l| l.contains("leads")).unwrap();
        // 3 leads is the widest left bar; 460 starting MRR the widest right bar.
        let bar_w = (100 - 3) / 2 - (LABEL_W + NUM_W + 2);
        assert!(leads.contains(&BAR.to_string().repeat(bar_w)), "{s}");
        assert!(leads.contains("$460"), "{s}");
        let knot = s.lines().find(|l| l.contains("new customers")).unwrap();
        assert!(
            knot.contains('◆') && knot.contains("− churned") && knot.contains("$80"),
            "{s}"
        );
        assert!(
            s.lines().any(|l| l.contains("NRR") && l.ends_with("87.0%")),
            "{s}"
        );
        assert!(
            s.contains("unseen by a funnel-only view: $240 (100% of cycle revenue)"),
            "{s}"
        );
        assert!(s.lines().all(|l| l.chars().count() <= 100), "{s}");
    }

    #[test]
    fn missing_inputs_show_a_dash() {
        let mut b = sample();
        b.starting_mrr = None;
        b.leads = None;
        let s = bow_tie(&b, "EUR", 80);
        assert!(
            s.lines().any(|l| l.contains("leads") && l.contains('–')),
            "{s}"
        );
        assert!(
            s.lines()
                .any(|l| l.contains("starting MRR") && l.contains('–')),
            "{s}"
        );
        assert!(s.contains("240 EUR"), "{s}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(fmt_count(Some(1234567.0)), "1,234,567");
        assert_eq!(fmt_count(Some(-1000.0)), "-1,000");
        assert_eq!(fmt_count(Some(999.0)), "999");
        assert_eq!(fmt_money(Some(-1500.4), "$"), "-$1,500");
    }
}
