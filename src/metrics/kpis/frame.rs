//! The output frame of the KPIs: the reported periods (period-major), the
//! dimension, `cohort_age_days` and the KPI columns.

use anyhow::Result;
use polars::prelude::*;

use super::gather::Base;
use super::Out;
use crate::model::Dataset;
use crate::periods::{micros_of_date, US_PER_DAY};
use crate::settings::Analysis;

/// The reported rows of `cols` (full grid, dimension-major) as the `kpis`
/// frame, unavailable metrics nulled.
pub(super) fn build(
    ds: &Dataset,
    a: &Analysis,
    base: &Base,
    cols: Vec<(&'static str, Out)>,
) -> Result<DataFrame> {
    let spec = base.spec;
    let as_of = ds.as_of;
    let np = base.full.len();
    // Output rows: reported periods (period-major), then dimension values.
    let order: Vec<(usize, usize)> = base
        .reported
        .iter()
        .filter_map(|p| base.full.iter().position(|q| q == p))
        .flat_map(|pi| (0..base.dims.len()).map(move |d| (d, pi)))
        .collect();
    let idx: Vec<usize> = order.iter().map(|&(d, p)| d * np + p).collect();
    let n_out = idx.len();

    let mut out = Vec::new();
    let days: Vec<i32> = order
        .iter()
        .map(|&(_, p)| (micros_of_date(spec.start_date(base.full[p])) / US_PER_DAY) as i32)
        .collect();
    out.push(Column::new("period".into(), days).cast(&DataType::Date)?);
    if let Some(by) = a.by {
        let vals: Vec<String> = order.iter().map(|&(d, _)| base.dims[d].clone()).collect();
        out.push(Column::new(by.name().into(), vals));
    }
    let ages: Vec<f64> = order
        .iter()
        .map(|&(_, p)| base.age_days(base.full[p], as_of))
        .collect();
    out.push(Column::new("cohort_age_days".into(), ages));
    for (name, v) in cols {
        out.push(match v {
            Out::Int(v) => Column::new(name.into(), idx.iter().map(|&i| v[i]).collect::<Vec<_>>()),
            Out::Float(v) => {
                Column::new(name.into(), idx.iter().map(|&i| v[i]).collect::<Vec<_>>())
            }
        });
    }
    let df = DataFrame::new(n_out, out)?;
    crate::metrics::registry::availability(ds)?.null_unavailable("kpis", df)
}
