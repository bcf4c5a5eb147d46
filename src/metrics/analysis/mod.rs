//! A computation for a given analysis, asked by the registry: [`frame`]
//! computes the output table a metric is a column of
//! ([`registry::Computation`]), and [`attribution`] runs the attribution
//! engine (gather, credit, long rows). `check` evaluates its rules through
//! here, so it needs no other command's code; the commands that print one
//! table call their metric directly.

pub mod attribution;

use anyhow::Result;
use polars::prelude::DataFrame;

use crate::metrics::registry::Computation;
use crate::model::Dataset;
use crate::settings::Analysis;

/// The table of `computation` for analysis `a`: every period (and group) of
/// `kpis`, `funnel`, `cycle`; the one row (per group) of `misalignment` over
/// `a`'s range.
pub fn frame(ds: &Dataset, a: &Analysis, computation: Computation) -> Result<DataFrame> {
    Ok(match computation {
        Computation::Kpis => crate::metrics::kpis::kpis(ds, a)?,
        Computation::Funnel => crate::metrics::funnel::funnel(ds, a)?,
        Computation::Cycle => crate::metrics::cycle::cycle(ds, a)?,
        Computation::Misalignment => crate::metrics::misalignment::misalignment(ds, a)?.frame,
    })
}
