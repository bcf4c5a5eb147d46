//! The cohort funnel (`revcycle funnel`, docs/metrics.md "Funnel"): for each
//! cohort period (leads by `created_at`) and `--by` value, how many leads
//! reached each stage in use, the conversions between stages, the median
//! days between effective stage dates and how many dropped out.

use anyhow::Result;
use polars::prelude::*;

use crate::metrics::common::Stage;
use crate::metrics::kpis::{agg_by, floats, join_all, micros_between, ratio, Base};
use crate::model::Dataset;
use crate::periods::{micros_of_date, US_PER_DAY};
use crate::settings::Analysis;

fn reached_col(s: Stage) -> String {
    format!("reached_{}", s.name())
}

fn median_col(s: Stage) -> String {
    format!("median_{}", s.name())
}

/// The cohort funnel. Columns: `cohort` (Date, the cohort period's first
/// day), the dimension column when `a.by` is set, `stage`, `reached`,
/// `conversion_from_previous`, `conversion_from_lead`,
/// `median_days_from_previous`, `dropped`, `cohort_age_days`. One row per
/// (reported cohort period, dimension value, stage in use), in that order
/// and in ladder order. No rows without a leads table.
pub fn funnel(ds: &Dataset, a: &Analysis) -> Result<DataFrame> {
    funnel_from(ds, a, &Base::for_funnel(ds, a)?)
}

/// [`funnel`] on a [`Base`] already built for `a` (the report builds it once
/// for kpis and funnel).
pub(crate) fn funnel_from(ds: &Dataset, a: &Analysis, base: &Base) -> Result<DataFrame> {
    let ladder: Vec<Stage> = if base.leads.is_some() {
        base.ladder.clone()
    } else {
        Vec::new()
    };
    let periods = &base.reported;
    let np = periods.len();
    let nd = base.dims.len();

    let (reached, medians) = match &base.leads {
        Some(leads) if !ladder.is_empty() => {
            let mut aggs = Vec::new();
            for (i, &s) in ladder.iter().enumerate() {
                aggs.push(col(s.eff_col()).is_not_null().sum().alias(reached_col(s)));
                if i > 0 {
                    let prev = ladder[i - 1];
                    let days = micros_between(col(prev.eff_col()), col(s.eff_col()))
                        / lit(US_PER_DAY as f64);
                    aggs.push(days.median().alias(median_col(s)));
                }
            }
            let agg = agg_by(&base.spec, leads.clone(), col("created_at"), aggs);
            let df = join_all(base.grid_frame(periods)?, vec![agg], base.spilled)?;
            let mut reached = Vec::new();
            let mut medians = Vec::new();
            for (i, &s) in ladder.iter().enumerate() {
                reached.push(
                    floats(&df, &reached_col(s))?
                        .into_iter()
                        .map(|v| v.unwrap_or(0.0))
                        .collect::<Vec<_>>(),
                );
                medians.push(if i > 0 {
                    floats(&df, &median_col(s))?
                } else {
                    vec![None; np * nd]
                });
            }
            (reached, medians)
        }
        _ => (Vec::new(), Vec::new()),
    };

    let mut cohort = Vec::new();
    let mut dim = Vec::new();
    let mut stage = Vec::new();
    let mut n_reached = Vec::new();
    let mut conv_prev = Vec::new();
    let mut conv_lead = Vec::new();
    let mut median = Vec::new();
    let mut dropped: Vec<Option<i64>> = Vec::new();
    let mut age = Vec::new();
    for (pi, &p) in periods.iter().enumerate() {
        let day = (micros_of_date(base.spec.start_date(p)) / US_PER_DAY) as i32;
        let age_days = base.age_days(p, ds.as_of);
        for (di, d) in base.dims.iter().enumerate() {
            let row = di * np + pi;
            let first = reached.first().map_or(0.0, |r| r[row]);
            for (si, &s) in ladder.iter().enumerate() {
                let r = reached[si][row];
                cohort.push(day);
                dim.push(d.clone());
                stage.push(s.name());
                n_reached.push(r as i64);
                conv_lead.push(ratio(Some(r), Some(first)));
                if si == 0 {
                    conv_prev.push(None);
                    median.push(None);
                    dropped.push(None);
                } else {
                    let prev = reached[si - 1][row];
                    conv_prev.push(ratio(Some(r), Some(prev)));
                    median.push(medians[si][row]);
                    dropped.push(Some((prev - r) as i64));
                }
                age.push(age_days);
            }
        }
    }

    let n = cohort.len();
    let mut out = vec![Column::new("cohort".into(), cohort).cast(&DataType::Date)?];
    if let Some(by) = a.by {
        out.push(Column::new(by.name().into(), dim));
    }
    out.push(Column::new("stage".into(), stage));
    out.push(Column::new("reached".into(), n_reached));
    out.push(Column::new("conversion_from_previous".into(), conv_prev));
    out.push(Column::new("conversion_from_lead".into(), conv_lead));
    out.push(Column::new("median_days_from_previous".into(), median));
    out.push(Column::new("dropped".into(), dropped));
    out.push(Column::new("cohort_age_days".into(), age));
    let df = DataFrame::new(n, out)?;
    crate::metrics::registry::availability(ds)?.null_unavailable("funnel", df)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testutil::{assert_expected, load_fixture};
    use crate::periods::PeriodKind;
    use crate::settings::Dimension;

    const AS_OF: &str = "2024-05-03T00:00:00";

    fn run(period: PeriodKind, by: Option<Dimension>) -> DataFrame {
        let a = Analysis {
            period,
            by,
            ..Analysis::default()
        };
        funnel(&load_fixture("basic", AS_OF), &a).unwrap()
    }

    #[test]
    fn month() {
        assert_expected("basic", "funnel month", &run(PeriodKind::Month, None));
    }

    #[test]
    fn quarter() {
        assert_expected("basic", "funnel quarter", &run(PeriodKind::Quarter, None));
    }

    #[test]
    fn month_by_channel() {
        assert_expected(
            "basic",
            "funnel month by channel",
            &run(PeriodKind::Month, Some(Dimension::Channel)),
        );
    }

    #[test]
    fn quarter_by_channel() {
        assert_expected(
            "basic",
            "funnel quarter by channel",
            &run(PeriodKind::Quarter, Some(Dimension::Channel)),
        );
    }

    #[test]
    fn polars_median_of_even_count_is_mean_of_middles() {
        let df = df!("x" => [1.0f64, 2.0, 10.0, 4.0]).unwrap();
        let m = df.lazy().select([col("x").median()]).collect().unwrap();
        assert_eq!(m.column("x").unwrap().f64().unwrap().get(0), Some(3.0));
    }

    #[test]
    fn no_leads_table_gives_no_rows() {
        let mut ds = load_fixture("basic", AS_OF);
        ds.leads = None;
        let df = funnel(&ds, &Analysis::default()).unwrap();
        assert_eq!(df.height(), 0);
        assert_eq!(df.width(), 8);
    }

    #[test]
    fn every_output_column_has_a_unit() {
        let df = run(PeriodKind::Month, Some(Dimension::Channel));
        for name in df.get_column_names() {
            let kind = crate::metrics::registry::kind_of(name);
            assert_ne!(kind, crate::metrics::registry::ValueKind::Number, "{name}");
        }
    }
}
