//! `revcycle plan` for people: per period, the waterfall with stages down and
//! anchors across, one verdict line per anchor, the pacing of the period in
//! progress and the evidence it all rests on.

use chrono::{Datelike, NaiveDate};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use crate::metrics::common::Stage;
use crate::periods::{date_of, PeriodKind, PeriodSpec};
use crate::metrics::plan::compute::MaturitySource;
use crate::metrics::plan::targets::{Owner, Target};
use crate::metrics::plan::{AnchorPlan, Plan, Row};

use super::format::grouped;

/// A volume for people: whole numbers, one decimal below 10.
fn vol(v: Option<f64>) -> String {
    match v {
        Some(x) if x.abs() < 10.0 && (x - x.round()).abs() > 0.05 => grouped(x, 1),
        Some(x) => grouped(x, 0),
        None => "–".to_string(),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |x| format!("{}%", grouped(x * 100.0, 1)))
}

/// Money, short: 1.9M, 420K, 950.
pub fn short_money(v: f64, currency: &str) -> String {
    let a = v.abs();
    let n = if a >= 1e9 {
        format!("{}B", trim(a / 1e9))
    } else if a >= 1e6 {
        format!("{}M", trim(a / 1e6))
    } else if a >= 1e4 {
        format!("{}K", grouped(a / 1e3, 0))
    } else {
        grouped(a, 0)
    };
    let sign = if v < 0.0 && n != "0" { "-" } else { "" };
    let c = currency.trim();
    if c.is_empty() {
        format!("{sign}{n}")
    } else if c.chars().all(char::is_alphabetic) {
        format!("{sign}{n} {c}")
    } else {
        format!("{sign}{c}{n}")
    }
}

/// Two decimals at most, trailing zeros dropped: 1.45, 1.5, 2.
fn trim(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// "Q3 2025", "May 2025", "2025", "week of 2025-05-05", "quarter of 2025-02-01".
pub fn period_label(spec: &PeriodSpec, d: NaiveDate) -> String {
    match spec.kind {
        PeriodKind::Quarter if spec.fiscal_year_start == 1 => {
            format!("Q{} {}", d.month0() / 3 + 1, d.year())
        }
        PeriodKind::Month => d.format("%b %Y").to_string(),
        PeriodKind::Year if spec.fiscal_year_start == 1 => d.year().to_string(),
        k => format!("{} of {d}", k.name()),
    }
}

fn team(o: Owner) -> &'static str {
    match o {
        Owner::Marketing => "marketing's",
        Owner::Sales => "sales'",
        Owner::None => "the",
    }
}

fn stage_plural(s: Stage) -> &'static str {
    match s {
        Stage::Lead => "leads",
        Stage::Mql => "MQLs",
        Stage::Sal => "SALs",
        Stage::Sql => "SQLs",
        Stage::Opportunity => "opportunities",
        Stage::Won => "won deals",
    }
}

fn what(t: &Target, currency: &str) -> String {
    use crate::metrics::plan::targets::Unit;
    match t.metric.unit() {
        Unit::Volume => format!("{} {}", vol(Some(t.target)), t.metric.name()),
        _ => format!("{} {}", short_money(t.target, currency), t.metric.name()),
    }
}

/// One sentence per anchor: what it needs (or yields) at the stage where
/// another team set a target, the coverage, the money gap and feasibility.
pub fn verdict(p: &Plan, a: &AnchorPlan, currency: &str) -> String {
    let t = &p.targets[a.target];
    let label = period_label(&p.settings.spec, t.period);
    let anchor_i = a
        .rows
        .iter()
        .position(|r| r.stage == t.metric.stage())
        .unwrap_or(0);
    let head = format!("{} {label} target of {}", team(t.owner), what(t, currency));
    if a.volume.is_none() {
        return format!(
            "{head} cannot be turned into {}: no {} in the evidence",
            stage_plural(t.metric.stage()),
            if t.metric.unit() == crate::metrics::plan::targets::Unit::SpendMoney {
                "cost_per_lead (spend and leads)"
            } else {
                "avg_deal_size (won deals with an amount)"
            }
        );
    }
    let phrase = |i: usize, r: &Row| -> String {
        let verb = if i < anchor_i { "needs" } else { "yields" };
        let by = r
            .needed_by
            .filter(|_| i < anchor_i)
            .map(|d| format!(" by {}", d.format("%b %-d")))
            .unwrap_or_default();
        format!("{verb} {} {}{by}", vol(r.volume.required), stage_plural(r.stage))
    };
    let paired: Vec<(usize, &Row)> = a
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.other.is_some())
        .collect();
    if paired.is_empty() {
        // Nobody else set a target: say what it needs at the first stage.
        let (i, r) = if anchor_i > 0 {
            let i = a.rows.iter().position(|r| r.stage == Stage::Mql).unwrap_or(0);
            (i.min(anchor_i - 1), &a.rows[i.min(anchor_i - 1)])
        } else {
            (a.rows.len() - 1, &a.rows[a.rows.len() - 1])
        };
        return format!("{head} {}; no other team's target to hold it against", phrase(i, r));
    }
    let mut parts = Vec::new();
    for (i, r) in paired {
        let o = &p.targets[r.other.unwrap_or(0)];
        let mut s = if i == anchor_i {
            format!("{} own target is {}", team(o.owner), vol(r.align.team_target))
        } else {
            format!(
                "{}; {} target is {}",
                phrase(i, r),
                team(o.owner),
                vol(r.align.team_target)
            )
        };
        if let Some(c) = r.align.coverage {
            if i > anchor_i {
                // Up the ladder: the other team's target against what this one yields.
                s.push_str(&format!(": {}% of that (coverage)", grouped(c * 100.0, 0)));
            } else {
                s.push_str(&format!(": {}% coverage", grouped(c * 100.0, 0)));
            }
            if c < 1.0 {
                match r.align.shortfall_money {
                    Some(m) => s.push_str(&format!(", a {} shortfall", short_money(m, currency))),
                    None => s.push_str(&format!(", {} short", vol(r.align.shortfall))),
                }
            }
        }
        if let (Some(ir), Some(u)) = (r.align.implied_rate, r.align.unrealistic) {
            let (lo, hi) = if i < anchor_i {
                (r.stage, t.metric.stage())
            } else {
                (t.metric.stage(), r.stage)
            };
            let kind = p.settings.spec.kind.name();
            if u {
                s.push_str(&format!(
                    "; the implied {}→{} rate {} is above every {kind} observed: unrealistic",
                    lo.name(),
                    hi.name(),
                    pct(Some(ir))
                ));
            } else if let Some(pc) = r.align.implied_rate_percentile {
                s.push_str(&format!(
                    "; the implied {}→{} rate {} is at the {}th percentile of {kind}s observed",
                    lo.name(),
                    hi.name(),
                    pct(Some(ir)),
                    grouped(pc, 0)
                ));
            }
        }
        parts.push(s);
    }
    format!("{head} {}", parts.join("; "))
}

/// The whole plan as text.
/// `width`: the terminal's (or `COLUMNS`), tables are fitted to it.
pub fn render(p: &Plan, currency: &str, width: Option<u16>) -> String {
    let mut out = String::new();
    let spec = &p.settings.spec;
    // Groups of anchors: (period, scope), in plan order.
    let mut groups: Vec<(NaiveDate, Option<String>, Vec<&AnchorPlan>)> = Vec::new();
    for a in &p.anchors {
        let t = &p.targets[a.target];
        match groups
            .iter_mut()
            .find(|g| g.0 == t.period && g.1 == t.dim_value)
        {
            Some(g) => g.2.push(a),
            None => groups.push((t.period, t.dim_value.clone(), vec![a])),
        }
    }
    for (period, scope, anchors) in &groups {
        let mut title = format!("Plan for {}", period_label(spec, *period));
        if let (Some(by), Some(v)) = (p.settings.by, scope) {
            title.push_str(&format!(", {} {v}", by.name()));
        }
        out.push_str(&title);
        out.push('\n');
        let ev = &p.evidence[anchors[0].evidence].1;
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        if let Some(w) = width {
            table.set_content_arrangement(ContentArrangement::Dynamic).set_width(w);
        }
        let mut header = vec!["stage".to_string(), "rate to next".to_string()];
        for a in anchors {
            let t = &p.targets[a.target];
            header.push(format!("{}\n{}", t.anchor(), what(t, currency)));
        }
        table.set_header(header);
        for (i, s) in ev.ladder.iter().enumerate() {
            let r = ev.rates.get(i);
            let mut cells = vec![
                s.name().to_string(),
                match r {
                    Some(r) if r.low.is_some() => {
                        format!("{}\n({}–{})", pct(r.rate), pct(r.low), pct(r.high))
                    }
                    Some(r) => pct(r.rate),
                    None => String::new(),
                },
            ];
            for a in anchors {
                let row = &a.rows[i];
                let mut c = vol(row.volume.required);
                if row.volume.low.is_some() || row.volume.high.is_some() {
                    c.push_str(&format!(
                        "\n({}–{})",
                        vol(row.volume.low),
                        vol(row.volume.high)
                    ));
                }
                if let Some(d) = row.needed_by {
                    c.push_str(&format!("\nby {d}"));
                }
                if let Some(x) = row.arrived {
                    c.push_str(&format!(", {} arrived", vol(Some(x))));
                }
                if let (Some(o), Some(tt)) = (row.other, row.align.team_target) {
                    let ot = &p.targets[o];
                    c.push_str(&format!(
                        "\n{} {}: {}",
                        ot.owner.name(),
                        vol(Some(tt)),
                        pct(row.align.coverage)
                    ));
                }
                cells.push(c);
            }
            table.add_row(cells);
        }
        for (i, col) in table.column_iter_mut().enumerate() {
            if i > 0 {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
        out.push_str(&table.to_string());
        out.push('\n');
        for a in anchors {
            out.push_str(&format!("• {}\n", verdict(p, a, currency)));
        }
        if let Some(s) = p.period_scores.get(period) {
            out.push_str(&format!("goal_alignment_score {}: {}\n", period_label(spec, *period), grouped(*s, 0)));
        }
        out.push('\n');
    }
    if !p.pacing.is_empty() {
        let current = spec.start_date(spec.index_of(p.as_of));
        out.push_str(&format!(
            "Pacing of {} (in progress, {}% elapsed)\n",
            period_label(spec, current),
            grouped(p.pacing[0].pace.elapsed_fraction * 100.0, 0)
        ));
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        if let Some(w) = width {
            table.set_content_arrangement(ContentArrangement::Dynamic).set_width(w);
        }
        table.set_header(vec!["anchor", "target", "actual", "expected", "projected", "pace"]);
        for r in &p.pacing {
            let t = &p.targets[r.target];
            let money = t.metric.unit() != crate::metrics::plan::targets::Unit::Volume;
            let f = |v: Option<f64>| {
                if money {
                    v.map_or("–".into(), |x| short_money(x, currency))
                } else {
                    vol(v)
                }
            };
            let mut anchor = t.anchor();
            if let Some(v) = &t.dim_value {
                anchor = format!("{anchor} ({v})");
            }
            table.add_row(vec![
                anchor,
                f(Some(t.target)),
                f(r.pace.actual_to_date),
                f(Some(r.pace.expected_to_date)),
                f(r.pace.projected),
                pct(r.pace.pace),
            ]);
        }
        for (i, col) in table.column_iter_mut().enumerate() {
            if i > 0 {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
        out.push_str(&table.to_string());
        out.push_str("\n\n");
    }
    for (scope, ev) in &p.evidence {
        let src = match ev.maturity_source {
            MaturitySource::Configured => "configured".to_string(),
            MaturitySource::Percentile(n) => format!("80th percentile of {n} won leads"),
            MaturitySource::TooFewWon(n) => format!("default: only {n} won leads"),
        };
        let scope = scope
            .as_deref()
            .map(|v| format!(" ({v})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "Evidence{scope}: leads created {} to {} (maturity {} days, {src}; history {} days); avg deal size {}; cost per lead {}\n",
            date_of(ev.window_start),
            date_of(ev.window_end),
            grouped(ev.maturity_days, 0),
            grouped(ev.history_days, 0),
            ev.avg_deal_size.map_or("–".into(), |v| short_money(v, currency)),
            ev.cost_per_lead.map_or("–".into(), |v| super::format::money(v, currency)),
        ));
    }
    if let Some(s) = p.score {
        out.push_str(&format!("goal_alignment_score: {}\n", grouped(s, 0)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_money_keeps_two_decimals_at_most() {
        assert_eq!(short_money(1_450_000.0, ""), "1.45M");
        assert_eq!(short_money(1_500_000.0, "$"), "$1.5M");
        assert_eq!(short_money(2_000_000.0, "EUR"), "2M EUR");
        assert_eq!(short_money(12_499.99, ""), "12K");
        assert_eq!(short_money(950.0, ""), "950");
    }

    #[test]
    fn period_labels() {
        let q = PeriodSpec::new(PeriodKind::Quarter, 1, 0);
        let d = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        assert_eq!(period_label(&q, d), "Q3 2025");
        let fq = PeriodSpec::new(PeriodKind::Quarter, 2, 0);
        assert_eq!(period_label(&fq, d), "quarter of 2025-07-01");
        let m = PeriodSpec::new(PeriodKind::Month, 1, 0);
        assert_eq!(period_label(&m, d), "Jul 2025");
    }
}
