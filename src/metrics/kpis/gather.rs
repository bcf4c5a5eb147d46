//! Gathering: the frames every KPI (and `funnel`) reads, [`Base`], and the
//! polars group-bys that reduce them to aggregates on the (period x
//! dimension) grid.

use std::collections::BTreeSet;

use anyhow::Result;
use polars::prelude::*;

use crate::errors::PolarsCtx;

use super::{PLATFORM_COLUMNS, P, ROW, US_PER_HOUR};
use crate::metrics::common::{self, money_sum, Stage, DIM};
use crate::metrics::shared::{kept, Shared};
use crate::model::Dataset;
use crate::periods::{micros_of_date, PeriodSpec, US_PER_DAY};
use crate::settings::{Analysis, Dimension};

/// The frames every metric of this module and `funnel` reads, each with a
/// `__dim` column (the empty string when there is no `--by`), plus the period
/// layout.
pub(crate) struct Base {
    pub spec: PeriodSpec,
    /// Every period from the earliest row date to `as_of` (no `--from/--to` cut).
    pub full: Vec<i64>,
    /// The periods reported (overlapping `--from/--to`), a sub-range of `full`.
    pub reported: Vec<i64>,
    /// The `--by` values met in any table, sorted; `[""]` without `--by`.
    pub dims: Vec<String>,
    /// `common::lead_stages` with `__dim`; `None` without a leads table.
    /// Collected once (into a Parquet file when the run spills).
    pub leads: Option<LazyFrame>,
    /// The leads carry `__spent` (their campaign has spend rows).
    pub leads_spent: bool,
    /// New-business opportunities with `__dim`; `None` without an
    /// opportunities table. Collected once (spilled as `leads`).
    pub opps: Option<LazyFrame>,
    /// Spend rows with `__dim`; `None` without a campaigns table or when the
    /// split does not apply to spend (segment, owner).
    pub camps: Option<DataFrame>,
    pub ladder: Vec<Stage>,
    /// The tables are spilled: aggregates are collected one at a time.
    pub spilled: bool,
}

fn with_dim(lf: LazyFrame, by: Option<Dimension>) -> LazyFrame {
    if by.is_some() {
        lf
    } else {
        lf.with_column(lit("").alias(DIM))
    }
}

/// The campaign ids with spend rows, when `platform_overclaim` applies (the
/// campaigns export has `conversions`, and both tables have `campaign_id`).
fn spent_campaigns(ds: &Dataset) -> Result<Option<Series>> {
    let (Some(c), Some(l)) = (&ds.campaigns, &ds.leads) else {
        return Ok(None);
    };
    if !(c.has("conversions") && c.has("campaign_id") && l.has("campaign_id")) {
        return Ok(None);
    }
    let ids = c
        .lazy()
        .filter(col("campaign_id").is_not_null())
        .select([col("campaign_id").unique()])
        .collect()
        .ctx("finding campaigns with spend rows")?;
    Ok(Some(
        ids.column("campaign_id")
            .ctx("finding campaigns with spend rows")?
            .as_materialized_series()
            .clone(),
    ))
}

fn unique_dims(lf: &LazyFrame, out: &mut BTreeSet<String>) -> Result<()> {
    let df = lf
        .clone()
        .select([col(DIM).unique()])
        .collect()
        .ctx("finding the split's values")?;
    let u = df.column(DIM)?;
    for v in u.str()?.iter().flatten() {
        out.insert(v.to_string());
    }
    Ok(())
}

impl Base {
    pub fn new(ds: &Dataset, a: &Analysis) -> Result<Base> {
        Base::build(&Shared::tables(ds), a, true)
    }

    /// [`Base::new`] from frames collected once for a run (`report`).
    pub fn from_shared(shared: &Shared, a: &Analysis) -> Result<Base> {
        Base::build(shared, a, true)
    }

    /// The [`Base`] the funnel reads: without `--by` it reads only the leads,
    /// so the deals and spend rows are not resolved (`opps` and `camps` are
    /// `None`); with `--by` they are, for the dimension values they hold.
    pub fn for_funnel(ds: &Dataset, a: &Analysis) -> Result<Base> {
        Base::build(&Shared::tables(ds), a, a.by.is_some())
    }

    fn build(shared: &Shared, a: &Analysis, deals_and_spend: bool) -> Result<Base> {
        let ds = shared.dataset();
        let first = common::earliest_row_date(ds)?.unwrap_or(ds.as_of);
        let spec = PeriodSpec::new(a.period, a.fiscal_year_start, first.min(ds.as_of));
        let full = spec.grid(first, ds.as_of, None, None);
        let reported = spec.grid(first, ds.as_of, a.from, a.to);
        let by = a.by;

        let ladder = common::ladder(ds);

        // Only the columns the metrics read are kept in memory.
        let mut leads_spent = false;
        let leads = match &ds.leads {
            Some(_) => {
                let mut keep = vec![col("created_at"), col("first_contact_at"), col(DIM)];
                for &s in &ladder {
                    keep.push(col(s.eff_col()));
                }
                if ladder.contains(&Stage::Mql) {
                    keep.push(col(Stage::Mql.raw_col()));
                }
                // platform_overclaim: is the lead's campaign one with spend rows?
                let spent = if deals_and_spend { spent_campaigns(ds)? } else { None };
                leads_spent = spent.is_some();
                if let Some(ids) = spent {
                    keep.push(
                        col("campaign_id")
                            .is_in(lit(ids).implode(false), false)
                            .fill_null(lit(false))
                            .alias("__spent"),
                    );
                }
                // Nothing here reads the leads' channel (but `--by channel`).
                Some(kept(
                    ds,
                    with_dim(shared.lead_stages(by, false), by).select(keep),
                    "computing lead stages",
                )?)
            }
            None => None,
        };
        let mut dims = BTreeSet::new();
        let opps = match &ds.opportunities {
            Some(_) if deals_and_spend => {
                let all = with_dim(shared.opportunities_with_dim(by), by).select([
                        col("opportunity_id"),
                        col("account_id"),
                        col("created_at"),
                        col("close_date"),
                        col("status"),
                        col("type"),
                        col("amount"),
                        col(DIM),
                    ]);
                let nb = col("type").eq(lit("new_business"));
                let kept = if ds.spill_dir().is_some() {
                    let all = kept(ds, all, "resolving opportunities")?;
                    // Every opportunity row (any type) counts as "met in a table".
                    if by.is_some() {
                        unique_dims(&all, &mut dims)?;
                    }
                    all.filter(nb)
                } else {
                    let all = all.collect().ctx("resolving opportunities")?.lazy();
                    if by.is_some() {
                        unique_dims(&all, &mut dims)?;
                    }
                    all.filter(nb).collect().ctx("resolving opportunities")?.lazy()
                };
                Some(kept)
            }
            _ => None,
        };
        let camps = match (&ds.campaigns, common::campaigns_with_dim(ds, by)) {
            (Some(_), Some(lf)) if deals_and_spend => Some(
                with_dim(lf, by)
                    .select([
                        col("date"),
                        col("spend"),
                        col("impressions"),
                        col("clicks"),
                        col("conversions"),
                        col("conversion_value"),
                        col(DIM),
                    ])
                    .collect()
                    .ctx("resolving spend rows")?,
            ),
            _ => None,
        };

        if by.is_some() {
            for lf in leads.iter().chain(camps.as_ref().map(|c| c.clone().lazy()).iter()) {
                unique_dims(lf, &mut dims)?;
            }
        } else {
            dims.insert(String::new());
        }
        Ok(Base {
            spec,
            full,
            reported,
            dims: dims.into_iter().collect(),
            leads,
            leads_spent,
            opps,
            camps,
            ladder,
            spilled: ds.spill_dir().is_some(),
        })
    }

    /// The grid frame: `__row`, `__p`, `__dim` for every (dim, period) of
    /// `periods`, dimension-major (row = dim index * periods + period index).
    pub fn grid_frame(&self, periods: &[i64]) -> Result<LazyFrame> {
        let n = periods.len() * self.dims.len();
        let mut rows = Vec::with_capacity(n);
        let mut ps = Vec::with_capacity(n);
        let mut ds = Vec::with_capacity(n);
        for d in &self.dims {
            for &p in periods {
                rows.push(rows.len() as i64);
                ps.push(p);
                ds.push(d.clone());
            }
        }
        let df = DataFrame::new(
            n,
            vec![
                Column::new(ROW.into(), rows),
                Column::new(P.into(), ps),
                Column::new(DIM.into(), ds),
            ],
        )?;
        Ok(df.lazy())
    }

    /// Days from the first day of period `p` to `as_of`.
    pub fn age_days(&self, p: i64, as_of: i64) -> f64 {
        (as_of - micros_of_date(self.spec.start_date(p))) as f64 / US_PER_DAY as f64
    }
}

/// Group `lf` by the period of `ts` and `__dim`, rows with no date left out.
pub(crate) fn agg_by(spec: &PeriodSpec, lf: LazyFrame, ts: Expr, aggs: Vec<Expr>) -> LazyFrame {
    lf.with_column(spec.index_expr(ts).alias(P))
        .filter(col(P).is_not_null())
        .group_by([col(P), col(DIM)])
        .agg(aggs)
}

/// Left-join every aggregate onto the grid and collect, in grid order.
/// `one_at_a_time` (spilled tables): each aggregate is collected on its
/// own, one after the other, so at most one scan of a spilled table is held
/// at a time (at 10M leads the peak 2.8 -> 2.4 GiB); in memory one query
/// runs them together (faster).
pub(crate) fn join_all(grid: LazyFrame, aggs: Vec<LazyFrame>, one_at_a_time: bool) -> Result<DataFrame> {
    let mut lf = grid;
    for agg in aggs {
        let agg = if one_at_a_time {
            agg.collect().ctx("aggregating metrics")?.lazy()
        } else {
            agg
        };
        lf = lf.join(
            agg,
            [col(P), col(DIM)],
            [col(P), col(DIM)],
            JoinArgs::new(JoinType::Left),
        );
    }
    lf.sort([ROW], SortMultipleOptions::default())
        .collect()
        .ctx("aggregating metrics")
}

/// A column of the joined frame as floats (missing aggregate = None).
pub(crate) fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let c = df
        .column(name)
        .and_then(|c| c.cast(&DataType::Float64))
        .ctx(format!("reading aggregate {name}"))?;
    Ok(c.f64()?.iter().collect())
}

/// A count column: missing aggregate = 0.
pub(super) fn counts(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    Ok(floats(df, name)?
        .into_iter()
        .map(|v| v.unwrap_or(0.0))
        .collect())
}

/// Microseconds between two timestamp expressions, as f64.
pub(crate) fn micros_between(from: Expr, to: Expr) -> Expr {
    (to.cast(DataType::Int64) - from.cast(DataType::Int64)).cast(DataType::Float64)
}

/// The aggregates of every KPI on the full (period x dimension) grid, in grid
/// order, and which inputs they could read.
pub(super) struct Gathered {
    pub(super) df: DataFrame,
    /// Periods in the full grid.
    pub(super) np: usize,
    /// Rows of the full grid (periods x dimension values).
    pub(super) nrows: usize,
    pub(super) leads_present: bool,
    pub(super) opps_present: bool,
    pub(super) has_amount: bool,
    pub(super) has_close: bool,
    pub(super) has_spend: bool,
    pub(super) contact_known: bool,
    pub(super) followup_known: bool,
    /// The campaigns export has `conversion_value`.
    pub(super) has_value: bool,
    /// The ad-platform columns the campaigns export has.
    pub(super) platform: Vec<&'static str>,
}

/// The polars half of the KPIs: every aggregate joined onto the grid.
pub(super) fn gather(ds: &Dataset, a: &Analysis, base: &Base) -> Result<Gathered> {
    let spec = base.spec;
    let as_of = ds.as_of;
    let grid = base.grid_frame(&base.full)?;
    let np = base.full.len();
    let nrows = np * base.dims.len();
    let in_use = |s: Stage| base.ladder.contains(&s);

    let leads_present = base.leads.is_some();
    let opps_present = base.opps.is_some();
    let has_lead_col = |c: &str| ds.leads.as_ref().is_some_and(|t| t.has(c));
    let has_opp_col = |c: &str| ds.opportunities.as_ref().is_some_and(|t| t.has(c));
    let has_amount = opps_present && has_opp_col("amount");
    let has_close = opps_present && has_opp_col("close_date");
    let has_spend = base.camps.is_some();

    let mut aggs = Vec::new();

    // --- leads: cohort aggregates by created_at, stage volumes by effective date.
    let contact_known = has_lead_col("first_contact_at");
    let worked_known = contact_known
        || [Stage::Sal, Stage::Sql, Stage::Opportunity]
            .into_iter()
            .any(in_use);
    let followup_known = in_use(Stage::Mql) && worked_known;
    if let Some(leads) = &base.leads {
        // start: mql_at when present, else created_at (raw_mql is mql_at).
        let start = if in_use(Stage::Mql) {
            coalesce(&[col(Stage::Mql.raw_col()), col("created_at")])
        } else {
            col("created_at")
        };
        let mut cohort = vec![len().alias("leads")];
        for &s in &base.ladder {
            cohort.push(
                col(s.eff_col())
                    .is_not_null()
                    .sum()
                    .alias(format!("reached_{}", s.name())),
            );
        }
        if contact_known {
            let hours = micros_between(start.clone(), col("first_contact_at")) / lit(US_PER_HOUR);
            cohort.push(
                when(hours.clone().lt(lit(0.0)))
                    .then(lit(0.0))
                    .otherwise(hours)
                    .median()
                    .alias("speed_to_lead_hours"),
            );
        }
        if followup_known {
            let sla_us = (a.sla_days * US_PER_DAY as f64) as i64;
            let eligible = col(Stage::Mql.eff_col()).is_not_null().and(
                start
                    .clone()
                    .cast(DataType::Int64)
                    .lt_eq(lit(as_of.saturating_sub(sla_us))),
            );
            let mut worked = lit(false);
            if contact_known {
                worked = worked.or(col("first_contact_at").is_not_null());
            }
            for s in [Stage::Sal, Stage::Sql, Stage::Opportunity] {
                if in_use(s) {
                    worked = worked.or(col(s.eff_col()).is_not_null());
                }
            }
            cohort.push(eligible.clone().sum().alias("followup_den"));
            cohort.push(eligible.and(worked).sum().alias("followup_num"));
        }
        // platform_overclaim's denominator: leads whose campaign has spend rows.
        if base.leads_spent {
            cohort.push(col("__spent").sum().alias("spent_leads"));
        }
        if base.spilled {
            // One aggregate per expression, collected one at a time: each
            // reads only its own columns of the spilled leads.
            for e in cohort {
                aggs.push(agg_by(&spec, leads.clone(), col("created_at"), vec![e]));
            }
        } else {
            aggs.push(agg_by(&spec, leads.clone(), col("created_at"), cohort));
        }
        for s in [Stage::Mql, Stage::Sal, Stage::Sql] {
            if in_use(s) {
                let name = format!("{}s", s.name());
                aggs.push(agg_by(
                    &spec,
                    leads.clone(),
                    col(s.eff_col()),
                    vec![len().alias(name)],
                ));
            }
        }
    }

    // --- new-business opportunities.
    if let Some(opps) = &base.opps {
        let lf = || opps.clone();
        let mut created = vec![len().alias("opportunities")];
        if has_amount {
            created.push(money_sum(col("amount")).alias("pipeline_created"));
        }
        aggs.push(agg_by(&spec, lf(), col("created_at"), created));

        if has_close {
            let won = col("status").eq(lit("won"));
            let lost = col("status").eq(lit("lost"));
            let mut closed = vec![
                won.clone().sum().alias("won_deals"),
                lost.sum().alias("lost_deals"),
                coalesce(&[col("account_id"), col("opportunity_id")])
                    .filter(won.clone())
                    .n_unique()
                    .alias("new_customers"),
                (micros_between(col("created_at"), col("close_date")) / lit(US_PER_DAY as f64))
                    .filter(won.clone())
                    .median()
                    .alias("sales_cycle_days"),
            ];
            if has_amount {
                closed.push(money_sum(col("amount").filter(won)).alias("new_bookings"));
            }
            aggs.push(agg_by(&spec, lf(), col("close_date"), closed));
        }

        // Open pipeline: +amount in the period created, -amount in the period
        // closed (never before the period created); a won/lost deal without a
        // close date is never open.
        let is_open = col("status").eq(lit("open"));
        let never = is_open.clone().not().and(col("close_date").is_null());
        let mut add = vec![len().alias("open_add_n")];
        let mut sub = vec![len().alias("open_sub_n")];
        if has_amount {
            add.push(money_sum(col("amount")).alias("open_add_amt"));
            sub.push(money_sum(col("amount")).alias("open_sub_amt"));
        }
        aggs.push(agg_by(
            &spec,
            lf().filter(never.not()),
            col("created_at"),
            add,
        ));
        let closed_rows = lf()
            .filter(is_open.not().and(col("close_date").is_not_null()))
            .with_columns([
                spec.index_expr(col("created_at")).alias("__pc"),
                spec.index_expr(col("close_date")).alias("__px"),
            ])
            .with_column(
                when(col("__px").gt(col("__pc")))
                    .then(col("__px"))
                    .otherwise(col("__pc"))
                    .alias(P),
            )
            .filter(col(P).is_not_null())
            .group_by([col(P), col(DIM)])
            .agg(sub);
        aggs.push(closed_rows);
    }

    // --- spend.
    let has_camp_col = |c: &str| ds.campaigns.as_ref().is_some_and(|t| t.has(c));
    let has_value = has_camp_col("conversion_value");
    let platform: Vec<&str> = PLATFORM_COLUMNS
        .iter()
        .copied()
        .filter(|c| has_camp_col(c))
        .collect();
    if let Some(camps) = &base.camps {
        let mut sums = vec![money_sum(col("spend")).alias("marketing_spend")];
        for c in &platform {
            sums.push(col(*c).sum().alias(format!("platform_{c}")));
        }
        if has_value {
            sums.push(money_sum(col("conversion_value")).alias("platform_conversion_value"));
        }
        aggs.push(agg_by(&spec, camps.clone().lazy(), col("date"), sums));
    }

    let df = join_all(grid, aggs, base.spilled)?;
    Ok(Gathered {
        df,
        np,
        nrows,
        leads_present,
        opps_present,
        has_amount,
        has_close,
        has_spend,
        contact_known,
        followup_known,
        has_value,
        platform,
    })
}
