//! Shared KPIs (`revcycle kpis`, docs/metrics.md "Shared KPIs"): one row per
//! reported period (and `--by` value) with the volume, cohort, deal, pipeline,
//! speed and cost metrics, their ids as column names.
//!
//! Split by job: `gather` (the frames every KPI and `funnel` read, [`Base`],
//! and the polars lazy group-bys onto a gap-free (period x dimension) grid),
//! `compute` (the few ratios, running sums and previous-period comparisons
//! over the small aggregated vectors, in plain Rust) and `frame` (the output
//! frame: reported rows, column order).

mod compute;
mod frame;
mod gather;

use anyhow::Result;
use polars::prelude::*;

use crate::metrics::common::Stage;
use crate::model::Dataset;
use crate::settings::Analysis;

pub use compute::ratio;
pub(crate) use gather::{agg_by, floats, join_all, micros_between, Base};


/// Column of the period index in every intermediate frame.
pub(crate) const P: &str = "__p";
/// Column of the grid row number (restores the grid order after joins).
const ROW: &str = "__row";
const US_PER_HOUR: f64 = 3_600_000_000.0;

/// Campaign columns behind the ad-platform metrics (`impressions`, `clicks`,
/// `ctr`, `cpc`, `platform_conversions`, `cost_per_conversion`).
const PLATFORM_COLUMNS: [&str; 3] = ["impressions", "clicks", "conversions"];

/// The cohort-rate columns, in output order: (id, from stage, to stage).
/// `mql_to_sql_rate` is only emitted when SAL is not in use.
const RATES: [(&str, Stage, Stage); 7] = [
    ("lead_to_mql_rate", Stage::Lead, Stage::Mql),
    ("mql_to_sal_rate", Stage::Mql, Stage::Sal),
    ("sal_to_sql_rate", Stage::Sal, Stage::Sql),
    ("mql_to_sql_rate", Stage::Mql, Stage::Sql),
    ("sql_to_opportunity_rate", Stage::Sql, Stage::Opportunity),
    ("opportunity_to_won_rate", Stage::Opportunity, Stage::Won),
    ("lead_to_won_rate", Stage::Lead, Stage::Won),
];


/// One output column in the making.
pub(super) enum Out {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
}


/// The shared KPI scorecard. Columns: `period` (Date, first day), the
/// dimension column when `a.by` is set (`channel`, `segment`, `owner`,
/// `campaign`), `cohort_age_days`, then every KPI id of docs/metrics.md in
/// spec order. One row per reported period and dimension value, period-major.
pub fn kpis(ds: &Dataset, a: &Analysis) -> Result<DataFrame> {
    kpis_from(ds, a, &Base::new(ds, a)?)
}

/// [`kpis`] on a [`Base`] already built for `a` (the report builds it once
/// for kpis and funnel).
pub(crate) fn kpis_from(ds: &Dataset, a: &Analysis, base: &Base) -> Result<DataFrame> {
    let g = gather::gather(ds, a, base)?;
    let cols = compute::columns(a, base, &g)?;
    frame::build(ds, a, base, cols)
}

#[cfg(test)]
mod tests;
