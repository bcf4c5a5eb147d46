//! Every metric id of `docs/metrics.md` with the command that computes it,
//! the input columns it needs and the shapes of an export that make its value
//! an artifact. This is the one place that decides availability:
//! [`availability`] answers for a dataset, `validate` lists that answer,
//! `check` refuses a rule on an unavailable metric, and every metric
//! computation nulls the columns of unavailable metrics from the same answer
//! ([`Availability::null_unavailable`]), so what `validate` says and what the
//! outputs show cannot disagree.

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::model::{ColumnKind, Dataset, TableKind};
use crate::periods::date_of;

pub struct MetricDef {
    pub id: &'static str,
    /// The computation whose output table holds the metric as a column.
    pub computation: Computation,
    /// The command that prints that table (`computation.name()`).
    pub command: &'static str,
    /// (table, column) pairs that must be present with values.
    pub needs: &'static [(TableKind, &'static str)],
    /// When not empty: at least one of these (table, column) pairs must be
    /// present with values (alternative sources of the same fact).
    pub any_of: &'static [(TableKind, &'static str)],
    /// When not empty: a total of other metrics of the same command, available
    /// when at least one of them is.
    pub parts: &'static [&'static str],
    /// Shapes of an export under which the value is an artifact (null).
    pub shapes: &'static [Shape],
    /// Not computed when this (table, column) has values (another metric
    /// takes its place).
    pub unless: Option<(TableKind, &'static str)>,
}

impl MetricDef {
    const fn any(self, any_of: &'static [(TableKind, &'static str)]) -> Self {
        MetricDef { any_of, ..self }
    }
    const fn parts(self, parts: &'static [&'static str]) -> Self {
        MetricDef { parts, ..self }
    }
    const fn shapes(self, shapes: &'static [Shape]) -> Self {
        MetricDef { shapes, ..self }
    }
    const fn unless(self, t: TableKind, c: &'static str) -> Self {
        MetricDef {
            unless: Some((t, c)),
            ..self
        }
    }
}

pub use crate::metrics::kinds::{kind_of, ValueKind};

/// The computations that produce metric columns, one per output table:
/// `metrics::analysis::frame` computes the table of each for an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Computation {
    /// One row per period (and group): `metrics::kpis`.
    Kpis,
    /// One row per cohort and stage: `metrics::funnel`.
    Funnel,
    /// One row per period: bookings, MRR movements, retention (`metrics::cycle`).
    Cycle,
    /// One row (per group) over the analysis range: `metrics::misalignment`.
    Misalignment,
}

impl Computation {
    pub const ALL: [Computation; 4] = [
        Computation::Kpis,
        Computation::Funnel,
        Computation::Cycle,
        Computation::Misalignment,
    ];

    /// The command that prints the table (`kpis`, `funnel`, `cycle`, `misalignment`).
    pub const fn name(self) -> &'static str {
        match self {
            Computation::Kpis => "kpis",
            Computation::Funnel => "funnel",
            Computation::Cycle => "cycle",
            Computation::Misalignment => "misalignment",
        }
    }

    /// The column naming each row's period (`period`; a funnel's `cohort`),
    /// or None when the table covers the analysis range as a whole (one
    /// computation per period wanted).
    pub const fn period_column(self) -> Option<&'static str> {
        match self {
            Computation::Kpis | Computation::Cycle => Some("period"),
            Computation::Funnel => Some("cohort"),
            Computation::Misalignment => None,
        }
    }

    /// Whether its rows are per funnel stage (a value needs a stage).
    pub const fn has_stages(self) -> bool {
        matches!(self, Computation::Funnel)
    }
}

/// docs/metrics.md, the one place a formula is written: [`MetricDef::formula`]
/// reads the row of the metric's id from it.
const METRICS_DOC: &str = include_str!("../../../docs/metrics.md");

impl MetricDef {
    /// What kind of value the metric is (unit and formatting).
    pub fn kind(&self) -> ValueKind {
        kind_of(self.id)
    }

    /// The metric's formula, one line, from docs/metrics.md: the right side
    /// of its definition line (`- \`id\` = ...`), else the second cell of the
    /// table row whose first cell names it (`| \`id\` | ... |`), else the
    /// docs section to read.
    pub fn formula(&self) -> String {
        let name = format!("`{}`", self.id);
        let head = format!("| {name} |");
        // A definition line: "- `id` = ..." or "  `other` / `id` = ...".
        // Its continuation lines (indented, not a new item) join it.
        let lines: Vec<&str> = METRICS_DOC.lines().collect();
        let defined = lines.iter().enumerate().find_map(|(i, l)| {
            let (lhs, rhs) = l.split_once(" = ")?;
            let lhs = lhs.trim_start().trim_start_matches("- ");
            let names_only = lhs.split(['`', ',', '/', ' ']).all(|w| {
                w.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
            });
            if !(lhs.contains(&name) && names_only) {
                return None;
            }
            let mut text = rhs.trim().to_string();
            for next in &lines[i + 1..] {
                let t = next.trim_start();
                if !next.starts_with("  ") || t.starts_with("- ") || t.is_empty() {
                    break;
                }
                text.push(' ');
                text.push_str(t.trim_end());
            }
            Some(text.trim_end_matches('.').to_string())
        });
        let row = || {
            METRICS_DOC
                .lines()
                .find(|l| l.starts_with(&head))
                .and_then(|l| l[head.len()..].split(" |").next())
                .map(|f| f.trim().to_string())
        };
        defined
            .or_else(row)
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| format!("see docs/metrics.md ({})", self.command))
    }

    /// The input columns it needs, as `table.column` (alternatives joined by `|`).
    pub fn inputs(&self) -> String {
        let mut parts: Vec<String> = self
            .needs
            .iter()
            .map(|(t, c)| format!("{}.{c}", t.name()))
            .collect();
        if !self.any_of.is_empty() {
            parts.push(
                self.any_of
                    .iter()
                    .map(|(t, c)| format!("{}.{c}", t.name()))
                    .collect::<Vec<_>>()
                    .join("|"),
            );
        }
        if !self.parts.is_empty() {
            parts.push(format!("any of {}", self.parts.join(", ")));
        }
        parts.join(" ")
    }
}

/// A shape of the loaded data that makes some numbers artifacts of the export
/// rather than facts about the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    /// Deals were closed and none was lost: an export of won deals only
    /// (win rates would be 1).
    NoLostDeals,
    /// Opportunities and none open: an export of closed deals only (open
    /// pipeline would be 0).
    NoOpenDeals,
    /// Open deals and none with an amount, while closed deals have one (open
    /// pipeline would be 0).
    OpenDealsWithoutAmount,
    /// Every won deal closed at the instant it was created: the export has one
    /// date for both (sales cycle would be 0).
    WonAtCreation,
    /// Every lead created on one day while the data spans more days (an import
    /// date, not when the leads came in).
    LeadsOnOneDay,
    /// No lost deals, and the leads have no contact, SAL or SQL date: the only
    /// sign that an MQL was worked is a deal, and every deal is won (a worked
    /// MQL win rate of 1).
    WorkedOnlyByWonDeals,
}

use Computation::{Cycle, Funnel, Kpis, Misalignment};
use Shape::*;
use TableKind::{Campaigns as C, Leads as L, Opportunities as O, Revenue as R};

macro_rules! m {
    ($id:literal, $comp:ident, [$(($t:expr, $c:literal)),* $(,)?]) => {
        MetricDef {
            id: $id,
            computation: $comp,
            command: $comp.name(),
            needs: &[$(($t, $c)),*],
            any_of: &[],
            parts: &[],
            shapes: &[],
            unless: None,
        }
    };
}

/// The stages after MQL that show a lead was worked (or a contact date).
const WORKED: &[(TableKind, &str)] = &[
    (L, "first_contact_at"),
    (L, "sal_at"),
    (L, "sql_at"),
    (O, "lead_id"),
];

/// The money components of `misalignment_cost`.
const COST_PARTS: &[&str] = &[
    "unworked_mql_lost_revenue",
    "unworked_mql_wasted_spend",
    "slow_followup_lost_revenue",
    "rejected_mql_wasted_spend",
    "misfit_lost_pipeline",
];

/// The components of `alignment_score`.
const SCORE_PARTS: &[&str] = &[
    "followup_component",
    "speed_component",
    "acceptance_component",
    "icp_component",
    "channel_component",
];

pub static METRICS: &[MetricDef] = &[
    m!("leads", Kpis, [(L, "created_at")]).shapes(&[LeadsOnOneDay]),
    m!("mqls", Kpis, [(L, "mql_at")]),
    m!("sals", Kpis, [(L, "sal_at")]),
    m!("sqls", Kpis, [(L, "sql_at")]),
    m!("opportunities", Kpis, [(O, "created_at")]),
    m!("won_deals", Kpis, [(O, "status"), (O, "close_date")]),
    m!("lost_deals", Kpis, [(O, "status"), (O, "close_date")]).shapes(&[NoLostDeals]),
    m!("new_customers", Kpis, [(O, "status"), (O, "close_date")]),
    m!(
        "new_bookings",
        Kpis,
        [(O, "status"), (O, "close_date"), (O, "amount")]
    ),
    // Amounts on closed deals only: the pipeline created is the part that
    // later closed, not what was created.
    m!("pipeline_created", Kpis, [(O, "amount")]).shapes(&[OpenDealsWithoutAmount]),
    m!("marketing_spend", Kpis, [(C, "spend")]),
    m!("lead_to_mql_rate", Kpis, [(L, "mql_at")]).shapes(&[LeadsOnOneDay]),
    m!("mql_to_sal_rate", Kpis, [(L, "mql_at"), (L, "sal_at")]),
    m!("sal_to_sql_rate", Kpis, [(L, "sal_at"), (L, "sql_at")]),
    m!("mql_to_sql_rate", Kpis, [(L, "mql_at"), (L, "sql_at")]).unless(L, "sal_at"),
    m!(
        "sql_to_opportunity_rate",
        Kpis,
        [(L, "sql_at"), (O, "lead_id")]
    ),
    m!(
        "opportunity_to_won_rate",
        Kpis,
        [(L, "created_at"), (O, "lead_id"), (O, "close_date")]
    )
    .shapes(&[NoLostDeals]),
    m!(
        "lead_to_won_rate",
        Kpis,
        [(L, "created_at"), (O, "lead_id"), (O, "close_date")]
    )
    .shapes(&[LeadsOnOneDay]),
    m!("win_rate", Kpis, [(O, "status"), (O, "close_date")]).shapes(&[NoLostDeals]),
    m!(
        "avg_deal_size",
        Kpis,
        [(O, "status"), (O, "close_date"), (O, "amount")]
    ),
    m!("sales_cycle_days", Kpis, [(O, "status"), (O, "close_date")]).shapes(&[WonAtCreation]),
    m!("open_pipeline", Kpis, [(O, "amount")]).shapes(&[NoOpenDeals, OpenDealsWithoutAmount]),
    m!(
        "pipeline_velocity",
        Kpis,
        [(O, "status"), (O, "close_date"), (O, "amount")]
    )
    .shapes(&[
        NoLostDeals,
        NoOpenDeals,
        OpenDealsWithoutAmount,
        WonAtCreation,
    ]),
    m!("lead_velocity_rate", Kpis, [(L, "mql_at")]),
    m!("speed_to_lead_hours", Kpis, [(L, "first_contact_at")]),
    m!("followup_rate", Kpis, [(L, "mql_at")])
        .any(WORKED)
        .shapes(&[WorkedOnlyByWonDeals]),
    m!("cost_per_lead", Kpis, [(C, "spend"), (L, "created_at")]).shapes(&[LeadsOnOneDay]),
    m!("cost_per_mql", Kpis, [(C, "spend"), (L, "mql_at")]),
    m!("cost_per_sql", Kpis, [(C, "spend"), (L, "sql_at")]),
    m!(
        "cost_per_opportunity",
        Kpis,
        [(C, "spend"), (O, "created_at")]
    ),
    m!(
        "cac",
        Kpis,
        [(C, "spend"), (O, "status"), (O, "close_date")]
    ),
    m!(
        "roas",
        Kpis,
        [
            (C, "spend"),
            (O, "status"),
            (O, "close_date"),
            (O, "amount")
        ]
    ),
    // Ad-platform metrics, from the campaign export's own columns.
    m!("impressions", Kpis, [(C, "impressions")]),
    m!("clicks", Kpis, [(C, "clicks")]),
    m!("ctr", Kpis, [(C, "impressions"), (C, "clicks")]),
    m!("cpc", Kpis, [(C, "spend"), (C, "clicks")]),
    m!("platform_conversions", Kpis, [(C, "conversions")]),
    m!(
        "platform_overclaim",
        Kpis,
        [(C, "conversions"), (C, "campaign_id"), (L, "campaign_id")]
    ),
    m!(
        "cost_per_conversion",
        Kpis,
        [(C, "spend"), (C, "conversions")]
    ),
    m!(
        "platform_revenue",
        Kpis,
        [(C, "spend"), (C, "conversion_value")]
    ),
    m!(
        "platform_roas",
        Kpis,
        [(C, "spend"), (C, "conversion_value")]
    ),
    m!("reached", Funnel, [(L, "created_at")]),
    m!("conversion_from_previous", Funnel, [(L, "created_at")]),
    m!("conversion_from_lead", Funnel, [(L, "created_at")]),
    m!("median_days_from_previous", Funnel, [(L, "created_at")]),
    m!("dropped", Funnel, [(L, "created_at")]),
    m!("new_bookings", Cycle, [(O, "close_date"), (O, "amount")]),
    m!(
        "expansion_bookings",
        Cycle,
        [(O, "close_date"), (O, "amount"), (O, "type")]
    ),
    m!(
        "renewal_bookings",
        Cycle,
        [(O, "close_date"), (O, "amount"), (O, "type")]
    ),
    m!("funnel_revenue", Cycle, [(O, "close_date"), (O, "amount")]),
    m!("cycle_revenue", Cycle, [(O, "close_date"), (O, "amount")]),
    m!(
        "existing_customer_share",
        Cycle,
        [(O, "close_date"), (O, "amount"), (O, "type")]
    ),
    m!("renewal_rate", Cycle, [(O, "close_date"), (O, "type")]),
    m!("starting_mrr", Cycle, [(R, "mrr")]),
    m!("new_mrr", Cycle, [(R, "mrr")]),
    m!("expansion_mrr", Cycle, [(R, "mrr")]),
    m!("contraction_mrr", Cycle, [(R, "mrr")]),
    m!("churned_mrr", Cycle, [(R, "mrr")]),
    m!("ending_mrr", Cycle, [(R, "mrr")]),
    m!("nrr", Cycle, [(R, "mrr")]),
    m!("grr", Cycle, [(R, "mrr")]),
    m!("logo_churn_rate", Cycle, [(R, "mrr")]),
    m!("arpa", Cycle, [(R, "mrr")]),
    m!("ltv", Cycle, [(R, "mrr")]),
    m!(
        "ltv_to_cac",
        Cycle,
        [(R, "mrr"), (C, "spend"), (O, "close_date")]
    ),
    m!(
        "cac_payback_months",
        Cycle,
        [(R, "mrr"), (C, "spend"), (O, "close_date")]
    ),
    m!(
        "worked_mql_win_rate",
        Misalignment,
        [(L, "mql_at"), (O, "lead_id"), (O, "close_date")]
    )
    .shapes(&[WorkedOnlyByWonDeals]),
    m!(
        "unworked_mqls",
        Misalignment,
        [(L, "mql_at"), (L, "first_contact_at")]
    ),
    m!(
        "unworked_mql_lost_revenue",
        Misalignment,
        [
            (L, "mql_at"),
            (L, "first_contact_at"),
            (O, "lead_id"),
            (O, "close_date"),
            (O, "amount")
        ]
    ),
    m!(
        "unworked_mql_wasted_spend",
        Misalignment,
        [(L, "mql_at"), (L, "first_contact_at"), (C, "spend")]
    ),
    m!(
        "slow_followup_lost_revenue",
        Misalignment,
        [
            (L, "mql_at"),
            (L, "first_contact_at"),
            (L, "sql_at"),
            (O, "amount")
        ]
    ),
    m!(
        "rejected_mqls",
        Misalignment,
        [(L, "mql_at"), (L, "disqualified_at")]
    ),
    m!(
        "rejected_mql_wasted_spend",
        Misalignment,
        [(L, "mql_at"), (L, "disqualified_at"), (C, "spend")]
    ),
    m!(
        "misfit_lost_pipeline",
        Misalignment,
        [(O, "loss_reason"), (O, "amount")]
    ),
    m!("misalignment_cost", Misalignment, []).parts(COST_PARTS),
    m!("misalignment_cost_low", Misalignment, []).parts(COST_PARTS),
    m!("misalignment_cost_high", Misalignment, []).parts(COST_PARTS),
    m!(
        "misalignment_cost_share",
        Misalignment,
        [(O, "amount"), (O, "close_date")]
    )
    .parts(COST_PARTS),
    m!(
        "alignment_uplift_scenario",
        Misalignment,
        [(O, "amount"), (O, "close_date")]
    ),
    m!("alignment_score", Misalignment, []).parts(SCORE_PARTS),
    m!(
        "followup_component",
        Misalignment,
        [(L, "mql_at"), (L, "first_contact_at")]
    ),
    m!(
        "speed_component",
        Misalignment,
        [(L, "mql_at"), (L, "first_contact_at")]
    ),
    m!("acceptance_component", Misalignment, [(L, "mql_at")]).any(&[(L, "sal_at"), (L, "sql_at")]),
    // The MQL mix needs the leads' own segment (a deal's segment says nothing
    // about the MQLs that never became one).
    m!(
        "icp_component",
        Misalignment,
        [(L, "mql_at"), (L, "segment"), (O, "close_date")]
    ),
    m!(
        "channel_component",
        Misalignment,
        [(L, "mql_at"), (O, "close_date"), (O, "amount")]
    )
    .any(&[(L, "channel"), (L, "campaign_id")]),
];

/// The first missing input of `def`, as `table.column`, or None when
/// supported (its `needs` and `any_of` only; see [`availability`] for the
/// whole answer).
pub fn missing(def: &MetricDef, ds: &Dataset) -> Option<String> {
    let name = |t: TableKind, c: &str| {
        if ds.table(t).is_none() {
            format!("{} table", t.name())
        } else {
            format!("{}.{c}", t.name())
        }
    };
    if let Some((t, c)) = def.needs.iter().find(|(t, c)| !ds.has_values(*t, c)) {
        return Some(name(*t, c));
    }
    if !def.any_of.is_empty() && !def.any_of.iter().any(|(t, c)| ds.has_values(*t, c)) {
        let alts: Vec<String> = def.any_of.iter().map(|(t, c)| name(*t, c)).collect();
        return Some(format!("one of {}", alts.join(", ")));
    }
    None
}

/// Which metrics these inputs support, and why not the others: the one
/// answer every command uses.
pub struct Availability {
    /// (command, id) -> the one-line reason it is null.
    unavailable: BTreeMap<(&'static str, &'static str), String>,
    /// The shapes of the export that hold, with their one-line description.
    pub shapes: BTreeMap<Shape, String>,
}

impl Availability {
    /// Why `command`'s metric `id` is null for these inputs, or None when it
    /// is available.
    pub fn reason(&self, command: &str, id: &str) -> Option<&str> {
        self.unavailable
            .iter()
            .find(|((c, i), _)| *c == command && *i == id)
            .map(|(_, r)| r.as_str())
    }

    pub fn is_available(&self, command: &str, id: &str) -> bool {
        self.reason(command, id).is_none()
    }

    /// Whether an output column of `command` holds a value: its own metric's
    /// availability, else (a column that is not one of the command's ids,
    /// such as `misalignment`'s `win_rate`) that of the KPI of that name.
    fn column_available(&self, command: &str, name: &str) -> bool {
        let own = |n: &str| METRICS.iter().any(|d| d.command == command && d.id == n);
        if own(name) {
            return self.is_available(command, name);
        }
        // A bound of a rate (`worked_mql_win_rate_low`, `win_rate_high`)
        // follows the rate.
        let base = name
            .strip_suffix("_low")
            .or_else(|| name.strip_suffix("_high"))
            .unwrap_or(name);
        if own(base) {
            self.is_available(command, base)
        } else {
            self.is_available(Kpis.name(), base)
        }
    }

    /// `df` (an output of `command`) with the column of every unavailable
    /// metric set to null in every row; other columns as they were.
    pub fn null_unavailable(&self, command: &str, mut df: DataFrame) -> anyhow::Result<DataFrame> {
        let height = df.height();
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        for name in names {
            if self.column_available(command, &name) {
                continue;
            }
            let dtype = df.column(&name)?.dtype().clone();
            if dtype == DataType::Null {
                continue;
            }
            let nulls = Column::full_null(name.as_str().into(), height, &dtype);
            df.replace(&name, nulls)
                .map_err(|e| anyhow::anyhow!("nulling `{name}`: {e}"))?;
        }
        Ok(df)
    }

    /// One warning per shape of the export that nulls metrics: what was
    /// seen and which metrics it nulls.
    pub fn warnings(&self) -> Vec<String> {
        self.shapes
            .iter()
            .filter_map(|(shape, text)| {
                let mut ids: Vec<&str> = METRICS
                    .iter()
                    .filter(|d| d.shapes.contains(shape))
                    .filter(|d| self.reason(d.command, d.id) == Some(text.as_str()))
                    .map(|d| d.id)
                    .collect();
                ids.dedup();
                (!ids.is_empty()).then(|| format!("{text}; null: {}", ids.join(", ")))
            })
            .collect()
    }
}

/// The availability of every metric for `ds`: a metric is null when an input
/// it needs is missing, when a shape of the export makes its value an
/// artifact, or (a total) when none of its parts is available.
pub fn availability(ds: &Dataset) -> anyhow::Result<Availability> {
    let shapes = shapes(ds)?;
    let mut unavailable = BTreeMap::new();
    for def in METRICS.iter().filter(|d| d.parts.is_empty()) {
        let reason = missing(def, ds)
            .map(|m| format!("needs {m}"))
            .or_else(|| {
                let (t, c) = def.unless?;
                ds.has_values(t, c).then(|| {
                    format!(
                        "not reported when {}.{c} is in use (the ladder has that stage)",
                        t.name()
                    )
                })
            })
            .or_else(|| {
                def.shapes
                    .iter()
                    .find_map(|s| shapes.get(s).map(|t| t.to_string()))
            });
        if let Some(r) = reason {
            unavailable.entry((def.command, def.id)).or_insert(r);
        }
    }
    for def in METRICS.iter().filter(|d| !d.parts.is_empty()) {
        let reason = missing(def, ds).map(|m| format!("needs {m}")).or_else(|| {
            let none = def
                .parts
                .iter()
                .all(|p| unavailable.contains_key(&(def.command, *p)));
            none.then(|| format!("none of its parts is available ({})", def.parts.join(", ")))
        });
        if let Some(r) = reason {
            unavailable.entry((def.command, def.id)).or_insert(r);
        }
    }
    Ok(Availability {
        unavailable,
        shapes,
    })
}

fn count(df: &DataFrame, name: &str) -> anyhow::Result<u64> {
    let c = df.column(name)?.cast(&DataType::UInt64)?;
    Ok(c.u64()?.get(0).unwrap_or(0))
}

fn tmax(df: &DataFrame, name: &str) -> anyhow::Result<Option<i64>> {
    let c = df.column(name)?.as_materialized_series().to_physical_repr();
    Ok(c.i64().ok().and_then(|ca| ca.get(0)))
}

/// The shapes of the export that hold for `ds`, each with a one-line
/// description naming what was seen.
pub fn shapes(ds: &Dataset) -> anyhow::Result<BTreeMap<Shape, String>> {
    let mut out = BTreeMap::new();
    if let Some(t) = &ds.opportunities {
        let status = |s: &str| col("status").eq(lit(s.to_string()));
        let df = t
            .lazy()
            .select([
                len().alias("n"),
                status("won").sum().alias("won"),
                status("lost").sum().alias("lost"),
                status("open").sum().alias("open"),
                status("open")
                    .and(col("amount").is_not_null())
                    .sum()
                    .alias("open_amount"),
                col("amount").is_not_null().sum().alias("amount"),
                status("won")
                    .and(col("close_date").eq(col("created_at")))
                    .sum()
                    .alias("won_at_creation"),
            ])
            .collect()?;
        let n = count(&df, "n")?;
        let (won, lost, open) = (count(&df, "won")?, count(&df, "lost")?, count(&df, "open")?);
        let closed_dated = ds.has_values(TableKind::Opportunities, "close_date");
        if closed_dated && won > 0 && lost == 0 {
            out.insert(
                NoLostDeals,
                format!(
                    "opportunities: {won} deals won and none lost (an export of won deals only)"
                ),
            );
        }
        let lead_worked = ["first_contact_at", "sal_at", "sql_at"]
            .iter()
            .any(|c| ds.has_values(TableKind::Leads, c));
        if closed_dated && won > 0 && lost == 0 && ds.leads.is_some() && !lead_worked {
            out.insert(
                WorkedOnlyByWonDeals,
                format!("opportunities: {won} deals won and none lost, and the leads have no first_contact_at, sal_at or sql_at: every worked MQL is a won deal"),
            );
        }
        if n > 0 && open == 0 {
            out.insert(
                NoOpenDeals,
                format!("opportunities: none of the {n} deals is open at as_of (an export of closed deals only)"),
            );
        }
        if open > 0 && count(&df, "open_amount")? == 0 && count(&df, "amount")? > 0 {
            out.insert(
                OpenDealsWithoutAmount,
                format!("opportunities: none of the {open} open deals has an amount"),
            );
        }
        if won > 0 && count(&df, "won_at_creation")? == won {
            out.insert(
                WonAtCreation,
                format!("opportunities: every one of the {won} won deals closed the instant it was created (one date for both)"),
            );
        }
    }
    if let Some(t) = &ds.leads {
        let df = t
            .lazy()
            .select([
                len().alias("n"),
                col("created_at").min().alias("first"),
                col("created_at").max().alias("last"),
            ])
            .collect()?;
        let n = count(&df, "n")?;
        if let (true, Some(first), Some(last)) = (n >= 2, tmax(&df, "first")?, tmax(&df, "last")?) {
            let day = date_of(first);
            let earliest = earliest_timestamp(ds)?.unwrap_or(first);
            if day == date_of(last) && (date_of(earliest) != day || date_of(ds.as_of) != day) {
                out.insert(
                    LeadsOnOneDay,
                    format!("leads: every one of the {n} leads was created on {day} while the data spans more days (an import date?)"),
                );
            }
        }
    }
    Ok(out)
}

/// The earliest value of any timestamp column of any table.
fn earliest_timestamp(ds: &Dataset) -> anyhow::Result<Option<i64>> {
    let mut out: Option<i64> = None;
    for kind in TableKind::ALL {
        let Some(t) = ds.table(kind) else { continue };
        for c in kind.columns() {
            if c.kind != ColumnKind::Timestamp {
                continue;
            }
            if let Some(m) = t.min_micros(c.name)? {
                out = Some(out.map_or(m, |o: i64| o.min(m)));
            }
        }
    }
    Ok(out)
}

/// All distinct ids.
pub fn ids() -> Vec<&'static str> {
    let mut v: Vec<&str> = METRICS.iter().map(|m| m.id).collect();
    v.dedup();
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|id| seen.insert(*id));
    v
}

pub fn find(id: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests;
