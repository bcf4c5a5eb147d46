//! `report.html`: one self-contained page (inline CSS and SVG, no script, no
//! network) that tells the report's story section by section: headline KPIs
//! with sparklines, the cohort funnel, the bow tie, the MRR bridge, cohort
//! revenue retention, the misalignment cost, attribution and plan when
//! present, and the data-quality findings.
//!
//! The page reads the frames the CSV files are written from; numbers are
//! formatted by `output::format` (the terminal tables' formatter) and drawn
//! by `output::chart`. A section whose inputs are absent says, in one line,
//! which input would fill it.

use std::fmt::Write as _;

use anyhow::Result;
use polars::prelude::DataFrame;

use super::bowtie::BowTie;
use super::chart::{self, escape, Bar, Step};
use super::format::{change, change_kind, human_change, human_f64, kind_of, Val, ValueKind};
use super::machine::cell;
use crate::input::quality::Finding;
use crate::metrics::retention::Retention;

/// Cohorts at least this old (days at `as_of`) count as mature in the funnel
/// section.
pub const MATURE_DAYS: f64 = 90.0;

/// Everything the page shows, computed by `report`.
pub struct Page<'a> {
    pub version: &'a str,
    /// `2024-12-31` or `2024-12-31 14:05` (UTC).
    pub as_of: String,
    /// Where `as_of` came from: `--as-of`, or `table.column`.
    pub as_of_source: String,
    /// `month`, `quarter`, ...
    pub period: &'a str,
    pub currency: &'a str,
    /// The input files read, as shown to people.
    pub inputs: Vec<String>,
    /// The unsplit KPI table.
    pub kpis: &'a DataFrame,
    /// Row of the latest complete period in `kpis` (and `cycle`).
    pub latest: Option<usize>,
    pub funnel: &'a DataFrame,
    /// The unsplit cycle table.
    pub cycle: &'a DataFrame,
    pub bow_tie: Option<&'a BowTie>,
    pub retention: Option<&'a Retention>,
    /// The unsplit misalignment table (one row).
    pub misalignment: &'a DataFrame,
    /// The money components of the misalignment cost: (id, value, low-high).
    pub cost_components: Vec<(String, Option<f64>, Option<(f64, f64)>)>,
    pub findings: &'a [Finding],
    /// Extra sections drawn by their own modules (attribution, plan):
    /// (id, title, HTML body).
    pub extra: Vec<(String, String, String)>,
    /// Which canonical tables were given.
    pub has_revenue: bool,
    pub has_campaigns: bool,
    pub has_leads: bool,
    pub has_opportunities: bool,
}

/// Headline KPIs, in the order the cards are shown.
const HEADLINE: [&str; 12] = [
    "leads",
    "mqls",
    "sqls",
    "opportunities",
    "won_deals",
    "new_bookings",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "marketing_spend",
    "cac",
    "roas",
];

/// The page as HTML text.
pub fn page(p: &Page) -> Result<String> {
    let mut sections: Vec<(String, String, String)> = vec![
        ("kpis".into(), "Headline KPIs".into(), kpi_section(p)?),
        ("funnel".into(), "Cohort funnel".into(), funnel_section(p)?),
        ("bowtie".into(), "The revenue cycle (bow tie)".into(), bowtie_section(p)),
        ("mrr".into(), "MRR bridge".into(), mrr_section(p)?),
        ("retention".into(), "Cohort revenue retention".into(), retention_section(p)),
        ("misalignment".into(), "What misalignment costs".into(), misalignment_section(p)?),
    ];
    sections.extend(p.extra.iter().cloned());
    sections.push(("quality".into(), "Data quality".into(), quality_section(p)));

    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>revcycle report — as of {}</title>\n<style>{}</style>\n</head>\n<body>\n",
        escape(&p.as_of),
        CSS
    );
    let _ = write!(
        out,
        "<header><h1>Revenue cycle report</h1><p class=\"meta\">As of <strong>{}</strong> (from {}) · {} periods{} · revcycle {}</p><p class=\"meta inputs\">Inputs: {}</p><nav>",
        escape(&p.as_of),
        escape(&p.as_of_source),
        escape(p.period),
        if p.currency.is_empty() { String::new() } else { format!(" · currency {}", escape(p.currency)) },
        escape(p.version),
        escape(&p.inputs.join(", "))
    );
    for (id, title, _) in &sections {
        let _ = write!(out, "<a href=\"#{id}\">{}</a>", escape(title));
    }
    out.push_str("</nav></header>\n<main>\n");
    for (id, title, body) in &sections {
        let _ = write!(out, "<section id=\"{id}\"><h2>{}</h2>\n{body}\n</section>\n", escape(title));
    }
    out.push_str("</main>\n<footer>Made by revcycle from the CSV files beside this page; every formula is in docs/metrics.md.</footer>\n</body>\n</html>\n");
    Ok(out)
}

const CSS: &str = r#"
:root{--ink:#1d1d1f;--muted:#5f6368;--line:#e3e3e3;--bg:#fff;--card:#f7f7f8;--up:#009E73;--down:#D55E00}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
header,main,footer{max-width:1100px;margin:0 auto;padding:0 16px}
header{padding-top:20px;border-bottom:1px solid var(--line)}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:28px 0 6px}
h3{font-size:14px;margin:10px 0 4px;color:var(--muted);font-weight:600}
.meta{color:var(--muted);margin:2px 0;overflow-wrap:anywhere}
nav{display:flex;flex-wrap:wrap;gap:4px 14px;margin:10px 0 12px;font-size:14px}
nav a{color:#0072B2;text-decoration:none}
section{padding:4px 0 18px;border-bottom:1px solid var(--line)}
.reading{font-size:16px;margin:4px 0 12px}
.absent{color:var(--muted);font-style:italic}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:10px}
.card{background:var(--card);border-radius:8px;padding:10px 12px;min-width:0}
.card .name{color:var(--muted);font-size:13px}
.card .value{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.card .delta{font-size:13px;font-variant-numeric:tabular-nums}
.good{color:var(--up)}.bad{color:var(--down)}.flat{color:var(--muted)}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px;align-items:start}
svg.chart{display:block;width:100%;height:auto;max-width:100%}
svg.spark{width:100%;height:28px;margin-top:4px}
svg.chart text{font-size:12px;fill:var(--ink)}
svg.chart text.tick{fill:var(--muted);font-size:11px}
svg.chart text.cell-text{font-size:10px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;width:100%}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
td.text{text-align:left;white-space:normal;min-width:14em}
th.t,td.t{text-align:left}
.scroll svg.bowtie{min-width:600px}.scroll svg.hbars{min-width:440px}.scroll svg.waterfall{min-width:460px}.scroll svg.heatmap{min-width:420px}
caption{text-align:left;color:var(--muted);font-size:13px;padding:4px 0}
.score{font-size:40px;font-weight:700}
footer{color:var(--muted);font-size:12px;padding:16px}
@media (max-width:600px){body{font-size:14px}h1{font-size:22px}.card .value{font-size:19px}}
@media print{nav{display:none}section{break-before:page;border:0}section:first-of-type{break-before:auto}.card,svg,table{break-inside:avoid}body{font-size:12px}}
@page{margin:14mm}
"#;

// ---------------------------------------------------------------- frames

fn col_f64(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let Ok(c) = df.column(name) else {
        return vec![None; df.height()];
    };
    (0..df.height())
        .map(|i| cell(c, i).ok().and_then(|v| v.as_f64()))
        .collect()
}

fn col_text(df: &DataFrame, name: &str) -> Vec<String> {
    let Ok(c) = df.column(name) else {
        return vec![String::new(); df.height()];
    };
    (0..df.height())
        .map(|i| match cell(c, i) {
            Ok(Val::Str(s)) => s,
            Ok(v) => v.iso().unwrap_or_default(),
            Err(_) => String::new(),
        })
        .collect()
}

fn fmt(v: Option<f64>, id: &str, currency: &str) -> String {
    human_f64(v, kind_of(id), currency)
}

fn label(id: &str) -> String {
    let special = match id {
        "mqls" => Some("MQLs"),
        "sqls" => Some("SQLs"),
        "cac" => Some("CAC"),
        "roas" => Some("ROAS"),
        "followup_component" => Some("Follow-up"),
        "speed_component" => Some("Speed to lead"),
        "acceptance_component" => Some("Acceptance"),
        "icp_component" => Some("ICP agreement"),
        "channel_component" => Some("Channel agreement"),
        "unworked_mql_lost_revenue" => Some("Unworked MQLs: lost revenue"),
        "unworked_mql_wasted_spend" => Some("Unworked MQLs: wasted spend"),
        "slow_followup_lost_revenue" => Some("Slow follow-up: lost revenue"),
        "rejected_mql_wasted_spend" => Some("Rejected MQLs: wasted spend"),
        "misfit_lost_pipeline" => Some("Misfit deals: lost pipeline"),
        _ => None,
    };
    if let Some(s) = special {
        return s.to_string();
    }
    let s = id.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

/// Selected columns of a frame as an HTML table, each value formatted for
/// people by its column's kind (text columns left-aligned).
pub fn frame_table(df: &DataFrame, columns: &[&str], currency: &str, caption: &str) -> String {
    let cols: Vec<&str> = columns.iter().copied().filter(|c| df.column(c).is_ok()).collect();
    let mut out = String::from("<div class=\"scroll\"><table>");
    if !caption.is_empty() {
        let _ = write!(out, "<caption>{}</caption>", escape(caption));
    }
    out.push_str("<tr>");
    for c in &cols {
        let t = if matches!(kind_of(c), ValueKind::Text | ValueKind::Date) { " class=\"t\"" } else { "" };
        let _ = write!(out, "<th{t}>{}</th>", escape(&c.replace('_', " ")));
    }
    out.push_str("</tr>");
    for row in 0..df.height() {
        out.push_str("<tr>");
        for c in &cols {
            let kind = kind_of(c);
            let text = match df.column(c).ok().map(|col| cell(col, row)) {
                Some(Ok(v)) => super::format::human_val(&v, kind, currency),
                _ => String::new(),
            };
            let t = if matches!(kind, ValueKind::Text | ValueKind::Date) { " class=\"t\"" } else { "" };
            let _ = write!(out, "<td{t}>{}</td>", escape(&text));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></div>");
    out
}

fn absent(text: &str) -> String {
    format!("<p class=\"absent\">{}</p>", escape(text))
}

// ---------------------------------------------------------------- sections

/// "rose 12.3% to $1.2M" / "fell 4.0 pp to 21.3%" / "stayed at 120".
fn movement(id: &str, prev: Option<f64>, cur: Option<f64>, currency: &str) -> Option<String> {
    let kind = kind_of(id);
    let how = change_kind(kind);
    let d = change(prev, cur, how)?;
    let text = human_change(Some(d.abs()), how);
    let to = fmt(cur, id, currency);
    Some(if d > 0.0 {
        format!("rose {} to {to}", text.trim_start_matches('+'))
    } else if d < 0.0 {
        format!("fell {} to {to}", text.trim_start_matches('+'))
    } else {
        format!("stayed at {to}")
    })
}

fn kpi_section(p: &Page) -> Result<String> {
    let df = p.kpis;
    if df.height() == 0 {
        return Ok(absent("No period to show: the inputs hold no leads or opportunities in the range."));
    }
    let periods = col_text(df, "period");
    let Some(last) = p.latest else {
        return Ok(absent("No complete period yet: the first period ends after as_of."));
    };
    let prev = last.checked_sub(1);
    let mut out = String::new();
    // The reading: bookings and win rate when there, else the first two cards that move.
    let mut phrases = Vec::new();
    for id in ["new_bookings", "win_rate", "mqls", "leads", "marketing_spend"] {
        let v = col_f64(df, id);
        if let Some(m) = movement(id, prev.and_then(|i| v[i]), v[last], p.currency) {
            let name = if id == "mqls" { "MQLs".to_string() } else { label(id).to_lowercase() };
            phrases.push(format!("{name} {m}"));
        }
        if phrases.len() == 2 {
            break;
        }
    }
    let when = format!("the {} of {}", p.period, periods[last]);
    if phrases.is_empty() {
        let _ = write!(out, "<p class=\"reading\">Figures for {when}; there is no earlier {} to compare with.</p>", p.period);
    } else {
        let _ = write!(
            out,
            "<p class=\"reading\">In {when}, {} against the {} before.</p>",
            escape(&phrases.join("; ")),
            p.period
        );
    }
    out.push_str("<div class=\"cards\">");
    let first = (last + 1).saturating_sub(12);
    for id in HEADLINE {
        let v = col_f64(df, id);
        if v.iter().all(Option::is_none) {
            continue;
        }
        let cur = v[last];
        let how = change_kind(kind_of(id));
        let d = change(prev.and_then(|i| v[i]), cur, how);
        let class = match (d, super::format::higher_is_better(id)) {
            (Some(d), Some(good)) if d != 0.0 => {
                if (d > 0.0) == good { "good" } else { "bad" }
            }
            _ => "flat",
        };
        let spark = chart::sparkline(&format!("{} over the last periods", label(id)), &v[first..=last], 150.0, 28.0);
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"name\">{}</div><div class=\"value\">{}</div><div class=\"delta {class}\">{} vs {}</div>{spark}</div>",
            escape(&label(id)),
            escape(&fmt(cur, id, p.currency)),
            escape(&human_change(d, how)),
            escape(&prev.map(|i| periods[i].clone()).unwrap_or_else(|| "–".into()))
        );
    }
    out.push_str("</div>");
    Ok(out)
}

fn funnel_section(p: &Page) -> Result<String> {
    let df = p.funnel;
    if !p.has_leads || df.height() == 0 {
        return Ok(absent("The cohort funnel needs a leads table: --leads FILE or leads.* in the folder."));
    }
    let cohorts = col_text(df, "cohort");
    let stages = col_text(df, "stage");
    let reached = col_f64(df, "reached");
    let age = col_f64(df, "cohort_age_days");
    let days = col_f64(df, "median_days_from_previous");
    let mature: Vec<bool> = age.iter().map(|a| a.is_some_and(|a| a >= MATURE_DAYS)).collect();
    let Some(latest_cohort) = cohorts
        .iter()
        .zip(&mature)
        .filter(|(_, m)| **m)
        .map(|(c, _)| c.clone())
        .last()
    else {
        return Ok(absent(&format!("No cohort is {MATURE_DAYS} days old yet: the funnel of younger cohorts is still filling.")));
    };
    // Stage order as in the table; pooled reach over mature cohorts.
    let mut order: Vec<String> = Vec::new();
    let mut pooled: Vec<f64> = Vec::new();
    let mut latest: Vec<(f64, Option<f64>)> = Vec::new();
    for i in 0..df.height() {
        let pos = match order.iter().position(|s| *s == stages[i]) {
            Some(p) => p,
            None => {
                order.push(stages[i].clone());
                pooled.push(0.0);
                latest.push((0.0, None));
                order.len() - 1
            }
        };
        if mature[i] {
            pooled[pos] += reached[i].unwrap_or(0.0);
        }
        if cohorts[i] == latest_cohort {
            latest[pos] = (reached[i].unwrap_or(0.0), days[i]);
        }
    }
    let rate = |v: f64, base: f64| if base > 0.0 { Some(v / base) } else { None };
    let bars = |values: &[f64], with_days: Option<&[(f64, Option<f64>)]>| -> Vec<Bar> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let conv = if i == 0 { None } else { rate(*v, values[i - 1]) };
                let mut text = fmt(Some(*v), "reached", p.currency);
                if let Some(c) = conv {
                    let _ = write!(text, " · {}", fmt(Some(c), "conversion_from_previous", p.currency));
                }
                if let Some(Some(d)) = with_days.map(|w| w[i].1) {
                    let _ = write!(text, " · {} d", fmt(Some(d), "median_days_from_previous", p.currency));
                }
                Bar { label: order[i].clone(), value: *v, text, range: None }
            })
            .collect()
    };
    let latest_values: Vec<f64> = latest.iter().map(|l| l.0).collect();
    let n = latest_values.len();
    let won_latest = rate(latest_values[n - 1], latest_values[0]);
    let won_pooled = rate(pooled[n - 1], pooled[0]);
    // The largest drop between consecutive stages of the latest mature cohort.
    let drop = (1..n)
        .filter_map(|i| rate(latest_values[i], latest_values[i - 1]).map(|r| (i, 1.0 - r)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let mut out = format!(
        "<p class=\"reading\">Of the {} cohort's {} leads, {} reached {} (mature cohorts together: {}){}.</p>",
        escape(&latest_cohort),
        escape(&fmt(Some(latest_values[0]), "reached", p.currency)),
        escape(&fmt(won_latest, "lead_to_won_rate", p.currency)),
        escape(&order[n - 1]),
        escape(&fmt(won_pooled, "lead_to_won_rate", p.currency)),
        drop.map(|(i, d)| format!("; the largest loss is {} → {} ({} do not go on)", order[i - 1], order[i], fmt(Some(d), "lead_to_won_rate", p.currency)))
            .map(|s| escape(&s))
            .unwrap_or_default()
    );
    let _ = write!(
        out,
        "<div class=\"pair\"><div><h3>Cohort {}</h3><div class=\"scroll\">{}</div></div><div><h3>All cohorts at least {} days old</h3><div class=\"scroll\">{}</div></div></div>",
        escape(&latest_cohort),
        chart::hbars(&format!("Funnel of the {latest_cohort} cohort"), &bars(&latest_values, Some(&latest)), chart::PALETTE[0]),
        MATURE_DAYS,
        chart::hbars("Funnel of all mature cohorts", &bars(&pooled, None), chart::PALETTE[4])
    );
    Ok(out)
}

fn bowtie_section(p: &Page) -> String {
    let Some(b) = p.bow_tie else {
        return absent("The bow tie needs leads or opportunities in a complete period.");
    };
    let c = p.currency;
    let count = |label: &str, v: Option<f64>| Bar { label: label.into(), value: v.unwrap_or(0.0), text: fmt(v, "leads", c), range: None };
    let money = |label: &str, v: Option<f64>| Bar { label: label.into(), value: v.unwrap_or(0.0), text: fmt(v, "new_mrr", c), range: None };
    let left = vec![
        count("leads", b.leads),
        count("MQLs", b.mqls),
        count("SQLs", b.sqls),
        count("opportunities", b.opportunities),
        count("new customers", b.new_customers),
    ];
    let right = if b.starting_mrr.is_some() {
        vec![
            money("starting MRR", b.starting_mrr),
            money("new MRR", b.new_mrr),
            money("expansion", b.expansion_mrr),
            money("contraction", b.contraction_mrr),
            money("churned", b.churned_mrr),
            money("ending MRR", b.ending_mrr),
        ]
    } else {
        vec![
            money("new bookings", b.new_bookings),
            money("expansion bookings", b.expansion_bookings),
            money("renewal bookings", b.renewal_bookings),
        ]
    };
    let mut reading = format!(
        "In the {} of {}, {} new customers",
        b.period_kind,
        b.period,
        fmt(b.new_customers, "new_customers", c)
    );
    if let (Some(s), Some(e)) = (b.starting_mrr, b.ending_mrr) {
        let _ = write!(reading, "; MRR went from {} to {}", fmt(Some(s), "starting_mrr", c), fmt(Some(e), "ending_mrr", c));
        if let Some(nrr) = b.nrr {
            let _ = write!(reading, " (net revenue retention {})", fmt(Some(nrr), "nrr", c));
        }
    } else {
        let _ = write!(reading, " and {} of bookings after the first deal", fmt(Some(b.expansion_bookings.unwrap_or(0.0) + b.renewal_bookings.unwrap_or(0.0)), "new_bookings", c));
    }
    let mut out = format!("<p class=\"reading\">{}.</p>", escape(&reading));
    if !b.complete {
        out.push_str("<p class=\"absent\">This period is still in progress.</p>");
    }
    out.push_str("<div class=\"scroll\">");
    out.push_str(&chart::bowtie("The revenue cycle as a bow tie", &left, &right));
    out.push_str("</div>");
    if b.starting_mrr.is_none() {
        out.push_str(&absent("The right wing shows bookings: MRR needs a revenue table (--revenue FILE or revenue.* in the folder)."));
    }
    out
}

const BRIDGE: [(&str, &str, f64); 6] = [
    ("starting_mrr", "starting", 0.0),
    ("new_mrr", "new", 1.0),
    ("expansion_mrr", "expansion", 1.0),
    ("contraction_mrr", "contraction", -1.0),
    ("churned_mrr", "churned", -1.0),
    ("ending_mrr", "ending", 0.0),
];

fn mrr_section(p: &Page) -> Result<String> {
    if !p.has_revenue {
        return Ok(absent("The MRR bridge needs a revenue table (MRR per account and month): --revenue FILE or revenue.* in the folder."));
    }
    let df = p.cycle;
    let Some(last) = p.latest.filter(|l| *l < df.height()) else {
        return Ok(absent("No complete period yet."));
    };
    let periods = col_text(df, "period");
    let cols: Vec<Vec<Option<f64>>> = BRIDGE.iter().map(|(id, _, _)| col_f64(df, id)).collect();
    let c = p.currency;
    let steps: Vec<Step> = BRIDGE
        .iter()
        .zip(&cols)
        .map(|((id, name, sign), v)| {
            let x = v[last].unwrap_or(0.0);
            let total = *sign == 0.0;
            let text = if total {
                fmt(Some(x), id, c)
            } else if *sign > 0.0 {
                format!("+{}", fmt(Some(x), id, c))
            } else {
                format!("−{}", fmt(Some(x), id, c))
            };
            Step { label: (*name).into(), value: if total { x } else { sign * x }, text, total }
        })
        .collect();
    let (s, e) = (cols[0][last], cols[5][last]);
    let grew = change(s, e, change_kind(ValueKind::Money));
    let gains = cols[1][last].unwrap_or(0.0) + cols[2][last].unwrap_or(0.0);
    let losses = cols[3][last].unwrap_or(0.0) + cols[4][last].unwrap_or(0.0);
    let reading = match grew {
        Some(g) => format!(
            "MRR {} {} in the {} of {}: {} new and expansion against {} contracted and churned.",
            if g >= 0.0 { "grew" } else { "shrank" },
            human_change(Some(g.abs()), super::format::ChangeKind::Relative).trim_start_matches('+'),
            p.period,
            periods[last],
            fmt(Some(gains), "new_mrr", c),
            fmt(Some(losses), "churned_mrr", c)
        ),
        None => format!(
            "MRR reached {} in the {} of {}, from no MRR before.",
            fmt(e, "ending_mrr", c),
            p.period,
            periods[last]
        ),
    };
    let mut out = format!("<p class=\"reading\">{}</p>", escape(&reading));
    out.push_str("<div class=\"scroll\">");
    out.push_str(&chart::waterfall(&format!("MRR bridge, {} of {}", p.period, periods[last]), &steps));
    out.push_str("</div>");
    // The bridge of the last six complete periods as a table.
    let first = (last + 1).saturating_sub(6);
    out.push_str("<div class=\"scroll\"><table><caption>The bridge, period by period</caption><tr><th>period</th>");
    for (_, name, _) in BRIDGE {
        let _ = write!(out, "<th>{name}</th>");
    }
    out.push_str("</tr>");
    for i in first..=last {
        let _ = write!(out, "<tr><td>{}</td>", escape(&periods[i]));
        for ((id, _, _), v) in BRIDGE.iter().zip(&cols) {
            let _ = write!(out, "<td>{}</td>", escape(&fmt(v[i], id, c)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></div>");
    Ok(out)
}

fn retention_section(p: &Page) -> String {
    let Some(r) = p.retention.filter(|r| !r.cohorts.is_empty()) else {
        return absent("Cohort retention needs a revenue table (MRR per account and month): --revenue FILE or revenue.* in the folder.");
    };
    let months = r.cells.first().map_or(0, Vec::len);
    let rows: Vec<String> = r
        .cohorts
        .iter()
        .zip(&r.accounts)
        .map(|(c, n)| format!("{} ({n})", c.format("%Y-%m")))
        .collect();
    let cols: Vec<String> = (0..months).map(|k| k.to_string()).collect();
    let cells: Vec<Vec<Option<(f64, String)>>> = r
        .cells
        .iter()
        .map(|row| row.iter().map(|v| v.map(|v| (v, format!("{:.0}%", v * 100.0)))).collect())
        .collect();
    // The reading: the mean share at the furthest month most cohorts reach.
    let k = (1..months)
        .rev()
        .find(|k| r.cells.iter().filter(|row| row[*k].is_some()).count() * 2 >= r.cells.len())
        .unwrap_or(0);
    let at_k: Vec<f64> = r.cells.iter().filter_map(|row| row.get(k).copied().flatten()).collect();
    let reading = if k > 0 && !at_k.is_empty() {
        format!(
            "{} months after their first month, accounts bring {:.0}% of their first month's MRR (mean of {} cohorts; above 100% means expansion outweighs churn).",
            k,
            100.0 * at_k.iter().sum::<f64>() / at_k.len() as f64,
            at_k.len()
        )
    } else {
        "The cohorts are too young to show retention yet.".to_string()
    };
    format!(
        "<p class=\"reading\">{}</p><div class=\"scroll\">{}</div><p class=\"meta\">Rows: first month with MRR (accounts); columns: months since. A cell is the cohort's MRR that month over its first month's.</p>",
        escape(&reading),
        chart::heatmap("Cohort revenue retention", &rows, &cols, &cells)
    )
}

fn misalignment_section(p: &Page) -> Result<String> {
    let df = p.misalignment;
    if df.height() == 0 {
        return Ok(absent("The misalignment cost needs leads with MQL dates: --leads FILE or leads.* in the folder."));
    }
    let c = p.currency;
    let v = |id: &str| col_f64(df, id).first().copied().flatten();
    let mut out = String::new();
    let total = v("misalignment_cost");
    let largest = p
        .cost_components
        .iter()
        .filter_map(|(id, v, _)| v.map(|v| (id, v)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    match total {
        Some(t) => {
            let mut s = format!(
                "Misalignment costs an estimated {} (95% range {} to {})",
                fmt(Some(t), "misalignment_cost", c),
                fmt(v("misalignment_cost_low"), "misalignment_cost", c),
                fmt(v("misalignment_cost_high"), "misalignment_cost", c)
            );
            if let Some(share) = v("misalignment_cost_share") {
                let _ = write!(s, ", {} of new bookings", fmt(Some(share), "misalignment_cost_share", c));
            }
            if let Some((id, x)) = largest {
                let _ = write!(s, "; the largest part is {} ({})", label(id).replacen(": ", ", ", 1).to_lowercase().replace("mqls", "MQLs"), fmt(Some(x), id, c));
            }
            let _ = write!(out, "<p class=\"reading\">{}.</p>", escape(&s));
        }
        None => out.push_str(&absent("No component of the misalignment cost can be computed from these inputs (see validate).")),
    }
    let bars: Vec<Bar> = p
        .cost_components
        .iter()
        .map(|(id, value, range)| Bar {
            label: label(id),
            value: value.unwrap_or(0.0),
            text: fmt(*value, id, c),
            range: *range,
        })
        .collect();
    let comps = ["followup_component", "speed_component", "acceptance_component", "icp_component", "channel_component"];
    let comp_bars: Vec<Bar> = comps
        .iter()
        .map(|id| {
            let x = v(id);
            Bar { label: label(id), value: x.unwrap_or(0.0), text: fmt(x, id, c), range: None }
        })
        .collect();
    let score = v("alignment_score");
    let _ = write!(
        out,
        "<div class=\"pair\"><div><h3>Cost components (bar: estimate; whisker: 95% range)</h3><div class=\"scroll\">{}</div></div><div><h3>Alignment score</h3><div class=\"score\">{}<small>/100</small></div><div class=\"scroll\">{}</div></div></div>",
        chart::hbars("Misalignment cost components", &bars, chart::PALETTE[3]),
        escape(&fmt(score, "alignment_score", c)),
        chart::hbars("Alignment score components", &comp_bars, chart::PALETTE[2])
    );
    Ok(out)
}

fn quality_section(p: &Page) -> String {
    if p.findings.is_empty() {
        return "<p class=\"reading\">No data-quality finding: every row was read and kept.</p>".into();
    }
    let errors = p.findings.iter().filter(|f| f.severity == "error").count();
    let mut out = format!(
        "<p class=\"reading\">{} findings ({} that change numbers); the full list with sample lines is in data_quality.csv.</p><div class=\"scroll\"><table><tr><th>level</th><th class=\"t\">table</th><th class=\"t\">check</th><th>rows</th><th class=\"t\">what</th></tr>",
        p.findings.len(),
        errors
    );
    for f in p.findings {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            escape(f.severity),
            escape(&f.table),
            escape(f.check),
            f.count,
            escape(&f.message)
        );
    }
    out.push_str("</table></div>");
    out
}
