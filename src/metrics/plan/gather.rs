//! The polars queries of `revcycle plan`: everything read from the tables,
//! as plain aggregates (counts, sums, medians, lists of durations) for
//! `compute` to do arithmetic on. Reuses the stage ladder of `common`.

use anyhow::Result;
use polars::prelude::*;

use crate::errors::PolarsCtx;

use crate::metrics::common::{self, Stage, DIM};
use crate::metrics::kpis::micros_between;
use crate::metrics::shared::{kept, Shared};
use crate::periods::{PeriodSpec, US_PER_DAY};
use crate::model::{Dataset, TableKind};
use crate::settings::Dimension;

use super::targets::Metric;

/// The tables `plan` reads, restricted to one `--by` value when given.
pub struct Source {
    pub ladder: Vec<Stage>,
    /// `common::lead_stages`: `created_at` and `eff_<stage>` per lead.
    /// Collected once (into a Parquet file when the run spills).
    leads: Option<LazyFrame>,
    /// New-business opportunities: `opportunity_id`, `account_id`,
    /// `created_at`, `close_date`, `status`, `amount` (in memory).
    opps: Option<LazyFrame>,
    /// Spend rows: `date`, `spend`; None without campaigns or when the split
    /// does not apply to spend.
    camps: Option<DataFrame>,
    pub as_of: i64,
}

fn ts(us: i64) -> Expr {
    lit(us).cast(DataType::Datetime(TimeUnit::Microseconds, None))
}

/// `c` in [start, end).
fn within(c: &str, start: i64, end: i64) -> Expr {
    col(c).gt_eq(ts(start)).and(col(c).lt(ts(end)))
}

impl Source {
    pub fn new(shared: &Shared, by: Option<Dimension>, value: Option<&str>) -> Result<Source> {
        let ds = shared.dataset();
        let ladder = common::ladder(ds);
        let keep_dim = |lf: LazyFrame| match (by, value) {
            (Some(_), Some(v)) => lf.filter(col(DIM).eq(lit(v.to_string()))),
            _ => lf,
        };
        let leads = match &ds.leads {
            Some(_) => {
                let mut keep = vec![col("created_at")];
                keep.extend(ladder.iter().map(|s| col(s.eff_col())));
                Some(kept(
                    ds,
                    keep_dim(shared.lead_stages(by, true)).select(keep),
                    "computing lead stages",
                )?)
            }
            None => None,
        };
        let opps = match &ds.opportunities {
            // Held in memory even when the run spills: the average deal size
            // is a float mean, whose last digits depend on how the rows are
            // chunked (a frame read back from Parquet is chunked otherwise).
            Some(_) => Some(
                keep_dim(shared.opportunities_with_dim(by))
                    .filter(col("type").eq(lit("new_business")))
                    .select([
                        col("opportunity_id"),
                        col("account_id"),
                        col("created_at"),
                        col("close_date"),
                        col("status"),
                        col("amount"),
                    ])
                    .collect()
                    .ctx("reading opportunities")?
                    .lazy(),
            ),
            None => None,
        };
        let camps = match (&ds.campaigns, common::campaigns_with_dim(ds, by)) {
            (Some(_), Some(lf)) => Some(
                keep_dim(lf)
                    .select([col("date"), col("spend")])
                    .collect()
                    .ctx("reading spend")?,
            ),
            _ => None,
        };
        Ok(Source {
            ladder,
            leads,
            opps,
            camps,
            as_of: ds.as_of,
        })
    }

    /// Days from `created_at` to the ladder's `won` date, for every lead
    /// that has one (the maturity's sample), unsorted.
    pub fn won_days(&self) -> Result<Vec<f64>> {
        let (Some(leads), true) = (&self.leads, self.ladder.contains(&Stage::Won)) else {
            return Ok(Vec::new());
        };
        let df = leads
            .clone()
            .filter(col(Stage::Won.eff_col()).is_not_null())
            .select([(micros_between(col("created_at"), col(Stage::Won.eff_col()))
                / lit(US_PER_DAY as f64))
            .alias("d")])
            .collect()
            .ctx("measuring maturity")?;
        Ok(df.column("d")?.f64()?.iter().flatten().collect())
    }

    /// The leads created in [start, end): how many reached each stage of the
    /// ladder, the same per `spec` period of `created_at`, and per stage the
    /// median days from its effective date to `won` over those that won.
    pub fn cohorts(&self, start: i64, end: i64, spec: &PeriodSpec) -> Result<Cohorts> {
        let n = self.ladder.len();
        let Some(leads) = &self.leads else {
            return Ok(Cohorts {
                reached: vec![0; n],
                per_period: Vec::new(),
                days_to_won: vec![None; n],
            });
        };
        let window = leads.clone().filter(within("created_at", start, end));
        let reached_aggs: Vec<Expr> = self
            .ladder
            .iter()
            .map(|s| {
                col(s.eff_col())
                    .is_not_null()
                    .sum()
                    .cast(DataType::Int64)
                    .alias(s.name())
            })
            .collect();
        let mut aggs = reached_aggs.clone();
        let won = self.ladder.contains(&Stage::Won);
        if won {
            for s in &self.ladder {
                aggs.push(
                    (micros_between(col(s.eff_col()), col(Stage::Won.eff_col()))
                        / lit(US_PER_DAY as f64))
                    .median()
                    .alias(format!("dtw_{}", s.name())),
                );
            }
        }
        let total = window
            .clone()
            .select(aggs)
            .collect()
            .ctx("counting the evidence window")?;
        let mut reached = Vec::new();
        let mut days_to_won = Vec::new();
        for s in &self.ladder {
            reached.push(total.column(s.name())?.i64()?.get(0).unwrap_or(0));
            days_to_won.push(if won {
                total
                    .column(&format!("dtw_{}", s.name()))?
                    .cast(&DataType::Float64)?
                    .f64()?
                    .get(0)
            } else {
                None
            });
        }
        let by_period = window
            .with_column(spec.index_expr(col("created_at")).alias("__p"))
            .group_by([col("__p")])
            .agg(reached_aggs)
            .sort(["__p"], SortMultipleOptions::default())
            .collect()
            .ctx("counting the evidence window by period")?;
        let ps: Vec<i64> = by_period.column("__p")?.i64()?.iter().flatten().collect();
        let mut per_period: Vec<(i64, Vec<i64>)> =
            ps.iter().map(|&p| (p, Vec::with_capacity(n))).collect();
        for s in &self.ladder {
            let c = by_period.column(s.name())?.i64()?.clone();
            for (i, v) in c.iter().enumerate() {
                per_period[i].1.push(v.unwrap_or(0));
            }
        }
        Ok(Cohorts {
            reached,
            per_period,
            days_to_won,
        })
    }

    /// Mean `amount` of won new-business deals closed in [start, end); None
    /// without opportunities or deals.
    pub fn avg_deal_size(&self, start: i64, end: i64) -> Result<Option<f64>> {
        let Some(opps) = &self.opps else { return Ok(None) };
        let df = opps
            .clone()
            .filter(col("status").eq(lit("won")).and(within("close_date", start, end)))
            .select([col("amount").mean().alias("a")])
            .collect()
            .ctx("averaging deal size")?;
        Ok(df.column("a")?.cast(&DataType::Float64)?.f64()?.get(0))
    }

    /// (spend, leads created) in [start, end); spend None without campaigns.
    pub fn spend_and_leads(&self, start: i64, end: i64) -> Result<(Option<f64>, Option<f64>)> {
        Ok((
            self.value(Metric::MarketingSpend, start, end)?,
            self.value(Metric::Leads, start, end)?,
        ))
    }

    /// The KPI value of `metric` over events in [start, end) (docs/metrics.md
    /// "Shared KPIs"); None when its table or stage is missing.
    pub fn value(&self, metric: Metric, start: i64, end: i64) -> Result<Option<f64>> {
        let q = |df: &LazyFrame, filter: Expr, agg: Expr| -> Result<Option<f64>> {
            let out = df
                .clone()
                .filter(filter)
                .select([agg.alias("v")])
                .collect()
                .ctx(format!("counting {}", metric.name()))?;
            Ok(Some(
                out.column("v")?
                    .cast(&DataType::Float64)?
                    .f64()?
                    .get(0)
                    .unwrap_or(0.0),
            ))
        };
        let stage = metric.stage();
        match metric {
            Metric::Leads | Metric::Mqls | Metric::Sals | Metric::Sqls => {
                let Some(leads) = &self.leads else { return Ok(None) };
                if !self.ladder.contains(&stage) {
                    return Ok(None);
                }
                let c = stage.eff_col();
                q(leads, within(&c, start, end), len())
            }
            Metric::Opportunities | Metric::PipelineCreated => {
                let Some(opps) = &self.opps else { return Ok(None) };
                let agg = if metric == Metric::Opportunities {
                    len()
                } else {
                    common::money_sum(col("amount"))
                };
                q(opps, within("created_at", start, end), agg)
            }
            Metric::WonDeals | Metric::NewCustomers | Metric::NewBookings => {
                let Some(opps) = &self.opps else { return Ok(None) };
                let f = col("status")
                    .eq(lit("won"))
                    .and(within("close_date", start, end));
                let agg = match metric {
                    Metric::WonDeals => len(),
                    Metric::NewBookings => common::money_sum(col("amount")),
                    _ => coalesce(&[col("account_id"), col("opportunity_id")]).n_unique(),
                };
                q(opps, f, agg)
            }
            Metric::MarketingSpend => {
                let Some(camps) = &self.camps else { return Ok(None) };
                q(&camps.clone().lazy(), within("date", start, end), common::money_sum(col("spend")))
            }
        }
    }
}

/// Stage volume of the evidence window (see [`Source::cohorts`]); vectors in
/// ladder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohorts {
    pub reached: Vec<i64>,
    /// (period index, reached per stage) for each period with a window lead.
    pub per_period: Vec<(i64, Vec<i64>)>,
    pub days_to_won: Vec<Option<f64>>,
}

/// The KPI volume of a stage (its events): leads, mqls, ..., won_deals.
pub fn stage_metric(s: Stage) -> Metric {
    match s {
        Stage::Lead => Metric::Leads,
        Stage::Mql => Metric::Mqls,
        Stage::Sal => Metric::Sals,
        Stage::Sql => Metric::Sqls,
        Stage::Opportunity => Metric::Opportunities,
        Stage::Won => Metric::WonDeals,
    }
}

/// Whether `ds` has the table a metric reads.
pub fn has_table(ds: &Dataset, m: Metric) -> bool {
    let kind = match m {
        Metric::Leads | Metric::Mqls | Metric::Sals | Metric::Sqls => TableKind::Leads,
        Metric::MarketingSpend => TableKind::Campaigns,
        _ => TableKind::Opportunities,
    };
    ds.table(kind).is_some()
}
