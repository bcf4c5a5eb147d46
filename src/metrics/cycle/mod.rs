//! The revenue cycle (`revcycle cycle`): bookings by deal type, funnel versus
//! cycle revenue, and the MRR movements of the `revenue` table per period, as
//! defined in `docs/metrics.md` ("Revenue cycle"); formulas and choices are in
//! `docs/metrics.md`.
//!
//! Split by job: `gather` (polars: per-row filters, per-account month sums,
//! joins, into small per-period aggregates), `compute` (the arithmetic of one
//! output row, plain Rust) and `frame` (the output frames and the bow tie's
//! numbers). The result types ([`CycleReport`], [`BowTie`]) live here; the
//! output layer draws them.

mod compute;
mod frame;
mod gather;

use chrono::NaiveDate;
use polars::prelude::*;

use frame::{bow_tie_from, cycle_frame, fvc_frame};
use gather::Computed;

use crate::metrics::shared::Shared;
use crate::model::Dataset;
use crate::settings::Analysis;

/// The numbers the bow tie shows, for one period (see [`bow_tie_numbers`];
/// `output::bowtie` draws it). `None` is an input that was not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BowTie {
    pub period: NaiveDate,
    /// `month`, `quarter`, ...
    pub period_kind: &'static str,
    /// False when the period ends after `as_of`.
    pub complete: bool,
    pub leads: Option<f64>,
    pub mqls: Option<f64>,
    pub sqls: Option<f64>,
    pub opportunities: Option<f64>,
    pub new_customers: Option<f64>,
    pub new_bookings: Option<f64>,
    pub expansion_bookings: Option<f64>,
    pub renewal_bookings: Option<f64>,
    pub starting_mrr: Option<f64>,
    pub new_mrr: Option<f64>,
    pub expansion_mrr: Option<f64>,
    pub contraction_mrr: Option<f64>,
    pub churned_mrr: Option<f64>,
    pub ending_mrr: Option<f64>,
    pub nrr: Option<f64>,
}

/// Columns of the cycle table after `period` and the optional dimension, in
/// spec order. Scripts depend on this order.
pub const CYCLE_METRICS: [&str; 20] = [
    "new_bookings",
    "expansion_bookings",
    "renewal_bookings",
    "funnel_revenue",
    "cycle_revenue",
    "existing_customer_share",
    "renewal_rate",
    "starting_mrr",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "ending_mrr",
    "nrr",
    "grr",
    "logo_churn_rate",
    "arpa",
    "ltv",
    "ltv_to_cac",
    "cac_payback_months",
];

/// Columns of the funnel-versus-cycle table after `period` and the optional
/// dimension.
pub const FUNNEL_VS_CYCLE_COLUMNS: [&str; 7] = [
    "view",
    "revenue",
    "customers",
    "marketing_spend",
    "cost_per_customer",
    "roi",
    "unseen_by_funnel",
];

/// The note shown when there is no revenue table.
pub const NOTE_NO_REVENUE: &str =
    "MRR metrics (starting_mrr … cac_payback_months) need a revenue table: --revenue FILE or revenue.* in the folder";

pub(crate) const PERIOD_COL: &str = "__p";

/// One line per thing the reader should know about the cycle table's nulls.
pub fn notes(ds: &Dataset, a: &Analysis) -> Vec<String> {
    let mut out = Vec::new();
    if ds.revenue.is_none() {
        out.push(NOTE_NO_REVENUE.to_string());
    } else if let Some(by) = a.by {
        out.push(format!(
            "MRR metrics (starting_mrr … cac_payback_months) are not split by {}: revenue rows carry no dimension",
            by.name()
        ));
    }
    out
}

/// Everything `revcycle cycle` shows, computed once.
pub struct CycleReport {
    /// See [`cycle`].
    pub cycle: DataFrame,
    /// See [`funnel_vs_cycle`].
    pub funnel_vs_cycle: DataFrame,
    /// See [`bow_tie_numbers`].
    pub bow_tie: Option<BowTie>,
    /// See [`notes`].
    pub notes: Vec<String>,
}

/// Both tables, the bow tie and the notes in one pass over the data.
pub fn cycle_report(ds: &Dataset, a: &Analysis) -> anyhow::Result<CycleReport> {
    cycle_report_with(ds, a, true)
}

/// [`cycle_report`], with the bow tie only when `with_bow_tie` (`None`
/// otherwise): only the table output draws it, and it costs a pass over the
/// leads (and under `--by` a second, unsplit computation).
pub fn cycle_report_with(
    ds: &Dataset,
    a: &Analysis,
    with_bow_tie: bool,
) -> anyhow::Result<CycleReport> {
    cycle_report_from(&Shared::tables(ds), a, with_bow_tie)
}

/// [`cycle_report_with`] from frames collected once for a run (`report`).
pub fn cycle_report_from(
    shared: &Shared,
    a: &Analysis,
    with_bow_tie: bool,
) -> anyhow::Result<CycleReport> {
    let ds = shared.dataset();
    let c = Computed::with(shared, a)?;
    let bow_tie = if !with_bow_tie {
        None
    } else if a.by.is_none() {
        bow_tie_from(ds, &c)?
    } else {
        bow_tie_numbers(ds, a)?
    };
    Ok(CycleReport {
        cycle: cycle_frame(ds, &c)?,
        funnel_vs_cycle: fvc_frame(&c)?,
        bow_tie,
        notes: notes(ds, a),
    })
}

/// The revenue-cycle table: one row per reported period (and `--by` value).
/// Columns: `period` (Date, first day), the dimension (named `channel`,
/// `segment`, `owner` or `campaign`) when `a.by` is set, then [`CYCLE_METRICS`].
pub fn cycle(ds: &Dataset, a: &Analysis) -> anyhow::Result<DataFrame> {
    cycle_frame(ds, &Computed::new(ds, a)?)
}

/// Funnel versus cycle: two rows per reported period (and `--by` value), the
/// `funnel` view then the `cycle` view. Columns: `period`, the dimension when
/// `a.by` is set, then [`FUNNEL_VS_CYCLE_COLUMNS`].
pub fn funnel_vs_cycle(ds: &Dataset, a: &Analysis) -> anyhow::Result<DataFrame> {
    fvc_frame(&Computed::new(ds, a)?)
}

/// The numbers the bow-tie draws, for the latest reported period, over the
/// whole business (`--by` is ignored: the bow tie is one picture). `None` when
/// no period is reported.
pub fn bow_tie_numbers(ds: &Dataset, a: &Analysis) -> anyhow::Result<Option<BowTie>> {
    let mut whole = a.clone();
    whole.by = None;
    bow_tie_from(ds, &Computed::new(ds, &whole)?)
}

#[cfg(test)]
mod tests;
