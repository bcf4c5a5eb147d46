//! Shared KPIs (`revcycle kpis`, docs/metrics.md "Shared KPIs"): one row per
//! reported period (and `--by` value) with the volume, cohort, deal, pipeline,
//! speed and cost metrics, their ids as column names.
//!
//! The data rows are aggregated with polars lazy group-bys onto a gap-free
//! (period x dimension) grid; the few ratios, running sums and
//! previous-period comparisons are then derived over the small aggregated
//! vectors in plain Rust.

use std::collections::BTreeSet;

use anyhow::Result;
use polars::prelude::*;

use crate::errors::PolarsCtx;

use crate::metrics::common::{self, money_sum, Stage, DIM};
use crate::periods::{micros_of_date, PeriodSpec, US_PER_DAY};
use crate::model::Dataset;
use crate::settings::{Analysis, Dimension};

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
    pub leads: Option<DataFrame>,
    /// New-business opportunities with `__dim`; `None` without an opportunities table.
    pub opps: Option<DataFrame>,
    /// Spend rows with `__dim`; `None` without a campaigns table or when the
    /// split does not apply to spend (segment, owner).
    pub camps: Option<DataFrame>,
    pub ladder: Vec<Stage>,
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

fn unique_dims(df: &DataFrame, out: &mut BTreeSet<String>) -> Result<()> {
    let u = df.column(DIM)?.unique()?;
    for v in u.str()?.iter().flatten() {
        out.insert(v.to_string());
    }
    Ok(())
}

impl Base {
    pub fn new(ds: &Dataset, a: &Analysis) -> Result<Base> {
        let first = common::earliest_row_date(ds)?.unwrap_or(ds.as_of);
        let spec = PeriodSpec::new(a.period, a.fiscal_year_start, first.min(ds.as_of));
        let full = spec.grid(first, ds.as_of, None, None);
        let reported = spec.grid(first, ds.as_of, a.from, a.to);
        let by = a.by;

        let ladder = common::ladder(ds);

        // Only the columns the metrics read are kept in memory.
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
                if let Some(ids) = spent_campaigns(ds)? {
                    keep.push(
                        col("campaign_id")
                            .is_in(lit(ids).implode(false), false)
                            .fill_null(lit(false))
                            .alias("__spent"),
                    );
                }
                Some(
                    with_dim(common::lead_stages(ds, by), by)
                        .select(keep)
                        .collect()
                        .ctx("computing lead stages")?,
                )
            }
            None => None,
        };
        let mut dims = BTreeSet::new();
        let opps = match &ds.opportunities {
            Some(_) => {
                let all = with_dim(common::opportunities_with_dim(ds, by), by)
                    .select([
                        col("opportunity_id"),
                        col("account_id"),
                        col("created_at"),
                        col("close_date"),
                        col("status"),
                        col("type"),
                        col("amount"),
                        col(DIM),
                    ])
                    .collect()
                    .ctx("resolving opportunities")?;
                // Every opportunity row (any type) counts as "met in a table".
                if by.is_some() {
                    unique_dims(&all, &mut dims)?;
                }
                let nb = all
                    .column("type")?
                    .as_materialized_series()
                    .equal("new_business")?;
                Some(all.filter(&nb)?)
            }
            None => None,
        };
        let camps = match (&ds.campaigns, common::campaigns_with_dim(ds, by)) {
            (Some(_), Some(lf)) => Some(
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
            for df in [&leads, &camps].into_iter().flatten() {
                unique_dims(df, &mut dims)?;
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
            opps,
            camps,
            ladder,
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
pub(crate) fn join_all(grid: LazyFrame, aggs: Vec<LazyFrame>) -> Result<DataFrame> {
    let mut lf = grid;
    for agg in aggs {
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
fn counts(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    Ok(floats(df, name)?
        .into_iter()
        .map(|v| v.unwrap_or(0.0))
        .collect())
}

/// Microseconds between two timestamp expressions, as f64.
pub(crate) fn micros_between(from: Expr, to: Expr) -> Expr {
    (to.cast(DataType::Int64) - from.cast(DataType::Int64)).cast(DataType::Float64)
}

/// `a / b`, null when either is null or `b` is 0.
pub(crate) fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    }
}

/// One output column in the making.
enum Out {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
}

/// The shared KPI scorecard. Columns: `period` (Date, first day), the
/// dimension column when `a.by` is set (`channel`, `segment`, `owner`,
/// `campaign`), `cohort_age_days`, then every KPI id of docs/metrics.md in
/// spec order. One row per reported period and dimension value, period-major.
pub fn kpis(ds: &Dataset, a: &Analysis) -> Result<DataFrame> {
    let base = Base::new(ds, a)?;
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
        if leads.column("__spent").is_ok() {
            cohort.push(col("__spent").sum().alias("spent_leads"));
        }
        aggs.push(agg_by(
            &spec,
            leads.clone().lazy(),
            col("created_at"),
            cohort,
        ));
        for s in [Stage::Mql, Stage::Sal, Stage::Sql] {
            if in_use(s) {
                let name = format!("{}s", s.name());
                aggs.push(agg_by(
                    &spec,
                    leads.clone().lazy(),
                    col(s.eff_col()),
                    vec![len().alias(name)],
                ));
            }
        }
    }

    // --- new-business opportunities.
    if let Some(opps) = &base.opps {
        let lf = || opps.clone().lazy();
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

    let df = join_all(grid, aggs)?;
    let get = |name: &str| -> Result<Vec<Option<f64>>> {
        if df.column(name).is_ok() {
            floats(&df, name)
        } else {
            Ok(vec![None; nrows])
        }
    };
    let cnt = |name: &str| -> Result<Vec<f64>> {
        if df.column(name).is_ok() {
            counts(&df, name)
        } else {
            Ok(vec![0.0; nrows])
        }
    };
    // Count columns: Some(0) when the input is there, None when it is not.
    let avail = |ok: bool, v: Vec<f64>| -> Vec<Option<f64>> {
        v.into_iter()
            .map(|x| if ok { Some(x) } else { None })
            .collect()
    };

    let leads_n = avail(leads_present, cnt("leads")?);
    let stage_n = |s: Stage| -> Result<Vec<Option<f64>>> {
        Ok(avail(
            leads_present && in_use(s),
            cnt(&format!("{}s", s.name()))?,
        ))
    };
    let mqls = stage_n(Stage::Mql)?;
    let sals = stage_n(Stage::Sal)?;
    let sqls = stage_n(Stage::Sql)?;
    let opportunities = avail(opps_present, cnt("opportunities")?);
    let won_deals = avail(has_close, cnt("won_deals")?);
    let lost_deals = avail(has_close, cnt("lost_deals")?);
    let new_customers = avail(has_close, cnt("new_customers")?);
    let new_bookings = avail(has_close && has_amount, cnt("new_bookings")?);
    let pipeline_created = avail(has_amount, cnt("pipeline_created")?);
    let marketing_spend = avail(has_spend, cnt("marketing_spend")?);
    let sales_cycle_days = get("sales_cycle_days")?;
    let speed = get("speed_to_lead_hours")?;
    let fu_den = cnt("followup_den")?;
    let fu_num = cnt("followup_num")?;
    let (add_n, sub_n) = (cnt("open_add_n")?, cnt("open_sub_n")?);
    let (add_amt, sub_amt) = (cnt("open_add_amt")?, cnt("open_sub_amt")?);
    let reached = |s: Stage| -> Result<Vec<f64>> { cnt(&format!("reached_{}", s.name())) };

    // Running open pipeline per dimension over the full grid. The amounts run
    // in integer millionths (the sums are exact millionths): a deal opened and
    // closed leaves exactly 0, never -0.0000000000036.
    let micros = |v: f64| common::money_micros_of(v);
    let mut open_n = vec![None; nrows];
    let mut open_amt = vec![None; nrows];
    if opps_present {
        for d in 0..base.dims.len() {
            let (mut n, mut amt) = (0.0, 0i64);
            for p in 0..np {
                let i = d * np + p;
                n += add_n[i] - sub_n[i];
                amt += micros(add_amt[i]) - micros(sub_amt[i]);
                open_n[i] = Some(n);
                if has_amount {
                    open_amt[i] = Some(common::money_of_micros(amt));
                }
            }
        }
    }

    let sales_cost = if a.by.is_some() && a.sales_cost != 0.0 {
        None
    } else {
        Some(a.sales_cost)
    };

    // Assemble the metric columns over the full grid.
    let mut cols: Vec<(&str, Out)> = Vec::new();
    let int =
        |v: &Vec<Option<f64>>| Out::Int(v.iter().map(|x| x.map(|x| x.round() as i64)).collect());
    cols.push(("leads", int(&leads_n)));
    cols.push(("mqls", int(&mqls)));
    cols.push(("sals", int(&sals)));
    cols.push(("sqls", int(&sqls)));
    cols.push(("opportunities", int(&opportunities)));
    cols.push(("won_deals", int(&won_deals)));
    cols.push(("lost_deals", int(&lost_deals)));
    cols.push(("new_customers", int(&new_customers)));
    cols.push(("new_bookings", Out::Float(new_bookings.clone())));
    cols.push(("pipeline_created", Out::Float(pipeline_created.clone())));
    cols.push(("marketing_spend", Out::Float(marketing_spend.clone())));

    for (id, from, to) in RATES {
        if id == "mql_to_sql_rate" && in_use(Stage::Sal) {
            continue;
        }
        let v = if leads_present && in_use(from) && in_use(to) {
            let (f, t) = (reached(from)?, reached(to)?);
            (0..nrows).map(|i| ratio(Some(t[i]), Some(f[i]))).collect()
        } else {
            vec![None; nrows]
        };
        cols.push((id, Out::Float(v)));
    }

    let win_rate: Vec<Option<f64>> = (0..nrows)
        .map(|i| {
            ratio(
                won_deals[i],
                won_deals[i].zip(lost_deals[i]).map(|(w, l)| w + l),
            )
        })
        .collect();
    let avg_deal_size: Vec<Option<f64>> = (0..nrows)
        .map(|i| ratio(new_bookings[i], won_deals[i]))
        .collect();
    let sales_cycle_days: Vec<Option<f64>> = if has_close {
        sales_cycle_days
    } else {
        vec![None; nrows]
    };
    let pipeline_velocity: Vec<Option<f64>> = (0..nrows)
        .map(|i| {
            let num = open_n[i]? * win_rate[i]? * avg_deal_size[i]?;
            ratio(Some(num), sales_cycle_days[i])
        })
        .collect();
    let lead_velocity_rate: Vec<Option<f64>> = (0..nrows)
        .map(|i| {
            if i % np == 0 {
                return None; // no period before the first one
            }
            ratio(mqls[i].zip(mqls[i - 1]).map(|(c, p)| c - p), mqls[i - 1])
        })
        .collect();
    let speed: Vec<Option<f64>> = if leads_present && contact_known {
        speed
    } else {
        vec![None; nrows]
    };
    let followup_rate: Vec<Option<f64>> = (0..nrows)
        .map(|i| {
            if leads_present && followup_known {
                ratio(Some(fu_num[i]), Some(fu_den[i]))
            } else {
                None
            }
        })
        .collect();
    let per = |den: &Vec<Option<f64>>| -> Vec<Option<f64>> {
        (0..nrows)
            .map(|i| ratio(marketing_spend[i], den[i]))
            .collect()
    };
    let cac: Vec<Option<f64>> = (0..nrows)
        .map(|i| {
            ratio(
                marketing_spend[i].zip(sales_cost).map(|(m, s)| m + s),
                new_customers[i],
            )
        })
        .collect();
    let roas: Vec<Option<f64>> = (0..nrows)
        .map(|i| ratio(new_bookings[i], marketing_spend[i]))
        .collect();

    cols.push(("win_rate", Out::Float(win_rate)));
    cols.push(("avg_deal_size", Out::Float(avg_deal_size)));
    cols.push(("sales_cycle_days", Out::Float(sales_cycle_days)));
    cols.push(("open_pipeline", Out::Float(open_amt)));
    cols.push(("pipeline_velocity", Out::Float(pipeline_velocity)));
    cols.push(("lead_velocity_rate", Out::Float(lead_velocity_rate)));
    cols.push(("speed_to_lead_hours", Out::Float(speed)));
    cols.push(("followup_rate", Out::Float(followup_rate)));
    cols.push(("cost_per_lead", Out::Float(per(&leads_n))));
    cols.push(("cost_per_mql", Out::Float(per(&mqls))));
    cols.push(("cost_per_sql", Out::Float(per(&sqls))));
    cols.push(("cost_per_opportunity", Out::Float(per(&opportunities))));
    cols.push(("cac", Out::Float(cac)));
    cols.push(("roas", Out::Float(roas)));

    // Ad-platform metrics: only when the campaigns export has one of their
    // columns (so CRM-only outputs keep their columns).
    if !platform.is_empty() {
        let psum = |c: &str| -> Result<Vec<Option<f64>>> {
            Ok(avail(
                has_spend && platform.contains(&c),
                cnt(&format!("platform_{c}"))?,
            ))
        };
        let (impr, clicks, conv) = (psum("impressions")?, psum("clicks")?, psum("conversions")?);
        let per_row = |num: &Vec<Option<f64>>, den: &Vec<Option<f64>>| -> Vec<Option<f64>> {
            (0..nrows).map(|i| ratio(num[i], den[i])).collect()
        };
        cols.push(("impressions", int(&impr)));
        cols.push(("clicks", int(&clicks)));
        cols.push(("ctr", Out::Float(per_row(&clicks, &impr))));
        cols.push(("cpc", Out::Float(per_row(&marketing_spend, &clicks))));
        cols.push(("platform_conversions", Out::Float(conv.clone())));
        cols.push((
            "cost_per_conversion",
            Out::Float(per_row(&marketing_spend, &conv)),
        ));
        if platform.contains(&"conversions") {
            // What the platforms claim per lead the CRM got from paid campaigns.
            let spent = avail(leads_present && df.column("spent_leads").is_ok(), cnt("spent_leads")?);
            cols.push(("platform_overclaim", Out::Float(per_row(&conv, &spent))));
        }
    }

    // Platform revenue: only when the export has a conversion value.
    if has_value {
        let revenue = avail(has_spend, cnt("platform_conversion_value")?);
        let roas: Vec<Option<f64>> = (0..nrows)
            .map(|i| ratio(revenue[i], marketing_spend[i]))
            .collect();
        cols.push(("platform_revenue", Out::Float(revenue)));
        cols.push(("platform_roas", Out::Float(roas)));
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::periods::PeriodKind;
    use crate::metrics::testutil::{assert_expected, load_fixture, ts};

    const AS_OF: &str = "2024-05-03T00:00:00";

    fn analysis(period: PeriodKind, by: Option<Dimension>) -> Analysis {
        Analysis {
            period,
            by,
            ..Analysis::default()
        }
    }

    fn run(period: PeriodKind, by: Option<Dimension>) -> DataFrame {
        kpis(&load_fixture("basic", AS_OF), &analysis(period, by)).unwrap()
    }

    fn column(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
        floats(df, name).unwrap()
    }

    #[test]
    fn month() {
        assert_expected("basic", "kpis month", &run(PeriodKind::Month, None));
    }

    #[test]
    fn quarter() {
        assert_expected("basic", "kpis quarter", &run(PeriodKind::Quarter, None));
    }

    #[test]
    fn all() {
        assert_expected("basic", "kpis all", &run(PeriodKind::All, None));
    }

    #[test]
    fn month_by_channel() {
        assert_expected(
            "basic",
            "kpis month by channel",
            &run(PeriodKind::Month, Some(Dimension::Channel)),
        );
    }

    #[test]
    fn quarter_by_channel() {
        assert_expected(
            "basic",
            "kpis quarter by channel",
            &run(PeriodKind::Quarter, Some(Dimension::Channel)),
        );
    }

    #[test]
    fn period_is_a_date_column() {
        let df = run(PeriodKind::Month, None);
        assert_eq!(df.column("period").unwrap().dtype(), &DataType::Date);
        assert_eq!(df.column("leads").unwrap().dtype(), &DataType::Int64);
    }

    #[test]
    fn from_cuts_rows_but_lead_velocity_reads_the_period_before() {
        let ds = load_fixture("basic", AS_OF);
        let a = Analysis {
            from: Some(ts("2024-03-15")),
            to: Some(ts("2024-04-01")),
            ..Analysis::default()
        };
        let df = kpis(&ds, &a).unwrap();
        let periods: Vec<String> = crate::metrics::testutil::cells(&df)[0].1.clone();
        assert_eq!(periods, ["2024-03-01", "2024-04-01"]);
        // Mar reads Feb's 4 MQLs although Feb is not reported.
        assert_eq!(column(&df, "lead_velocity_rate"), [Some(-0.5), Some(0.5)]);
        // open pipeline still accumulates from February.
        assert_eq!(column(&df, "open_pipeline"), [Some(7300.0), Some(800.0)]);
    }

    #[test]
    fn without_sal_the_pair_is_mql_to_sql() {
        let mut ds = load_fixture("basic", AS_OF);
        let leads = ds.leads.as_mut().unwrap();
        leads.present.remove("sal_at");
        let n = leads.frame.height();
        leads
            .frame
            .with_column(Column::full_null(
                "sal_at".into(),
                n,
                &DataType::Datetime(TimeUnit::Microseconds, None),
            ))
            .unwrap();
        let df = kpis(&ds, &analysis(PeriodKind::Month, None)).unwrap();
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let i = names
            .iter()
            .position(|c| c == "mql_to_sql_rate")
            .expect("mql_to_sql_rate");
        assert_eq!(names[i - 1], "sal_to_sql_rate");
        assert_eq!(names[i + 1], "sql_to_opportunity_rate");
        assert_eq!(column(&df, "sals"), [None, None, None, None]);
        assert_eq!(column(&df, "mql_to_sal_rate"), [None, None, None, None]);
        // Feb: 3 of 4 MQLs reached SQL; Mar: L7 of L6, L7; Apr: none of 3.
        assert_eq!(
            column(&df, "mql_to_sql_rate"),
            [Some(0.75), Some(0.5), Some(0.0), None]
        );
    }

    #[test]
    fn missing_tables_give_null_not_zero() {
        let mut ds = load_fixture("basic", AS_OF);
        ds.campaigns = None;
        let df = kpis(&ds, &analysis(PeriodKind::Month, None)).unwrap();
        for c in [
            "marketing_spend",
            "cost_per_lead",
            "cost_per_mql",
            "cost_per_sql",
            "cost_per_opportunity",
            "cac",
            "roas",
        ] {
            assert_eq!(column(&df, c), [None, None, None, None], "{c}");
        }
        assert_eq!(
            column(&df, "leads"),
            [Some(4.0), Some(3.0), Some(3.0), Some(0.0)]
        );
        ds.opportunities = None;
        let df = kpis(&ds, &analysis(PeriodKind::Month, None)).unwrap();
        for c in [
            "opportunities",
            "won_deals",
            "new_bookings",
            "open_pipeline",
            "win_rate",
            "sql_to_opportunity_rate",
        ] {
            assert_eq!(column(&df, c), [None, None, None, None], "{c}");
        }
        assert_eq!(
            column(&df, "sqls"),
            [Some(3.0), Some(1.0), Some(0.0), Some(0.0)]
        );
    }

    #[test]
    fn spend_is_null_under_a_segment_split() {
        let df = run(PeriodKind::Month, Some(Dimension::Segment));
        // No segment values in the fixture: one `(none)` group per period.
        assert_eq!(df.height(), 4);
        assert_eq!(column(&df, "marketing_spend"), [None, None, None, None]);
        assert_eq!(
            column(&df, "leads"),
            [Some(4.0), Some(3.0), Some(3.0), Some(0.0)]
        );
    }

    #[test]
    fn sales_cost_goes_into_cac() {
        let ds = load_fixture("basic", AS_OF);
        let a = Analysis {
            sales_cost: 100.0,
            ..Analysis::default()
        };
        let df = kpis(&ds, &a).unwrap();
        // Mar: (200 + 100) / 1; Apr: (230 + 100) / 3.
        assert_eq!(column(&df, "cac"), [None, Some(300.0), Some(110.0), None]);
    }

    #[test]
    fn weeks_run_gap_free_from_monday() {
        let df = run(PeriodKind::Week, None);
        // 2024-02-01 is a Thursday (week of Mon 2024-01-29); as_of 2024-05-03
        // is in the week of Mon 2024-04-29: 13 weeks later, 14 rows.
        let periods = &crate::metrics::testutil::cells(&df)[0].1;
        assert_eq!(periods.len(), 14);
        assert_eq!(periods[0], "2024-01-29");
        assert_eq!(periods[13], "2024-04-29");
        let leads: f64 = column(&df, "leads").iter().map(|v| v.unwrap()).sum();
        assert_eq!(leads, 10.0);
        // L1, L2 (Feb 1, Feb 5 are in different weeks): first week has 1 lead.
        assert_eq!(column(&df, "leads")[0], Some(1.0));
    }

    #[test]
    fn sales_cost_has_no_dimension() {
        let ds = load_fixture("basic", AS_OF);
        let a = Analysis {
            sales_cost: 100.0,
            by: Some(Dimension::Channel),
            ..Analysis::default()
        };
        let df = kpis(&ds, &a).unwrap();
        assert!(column(&df, "cac").iter().all(Option::is_none));
        // Without sales cost the split cac is spend / customers (see EXPECTED.md).
        let df = run(PeriodKind::Month, Some(Dimension::Channel));
        assert_eq!(column(&df, "cac")[4], Some(200.0));
    }

    #[test]
    fn a_duplicated_lead_id_does_not_duplicate_its_opportunities() {
        let mut ds = load_fixture("basic", AS_OF);
        let leads = ds.leads.as_mut().unwrap();
        let first = leads.frame.head(Some(1));
        leads.frame = leads.frame.vstack(&first).unwrap();
        let df = kpis(&ds, &analysis(PeriodKind::Month, Some(Dimension::Channel))).unwrap();
        // Feb: events O2, search O1, social O6 -- as without the duplicate.
        assert_eq!(
            &column(&df, "opportunities")[..3],
            [Some(1.0), Some(1.0), Some(1.0)]
        );
    }

    #[test]
    fn every_output_column_has_a_kind() {
        use crate::metrics::registry::{kind_of, ValueKind};
        for df in [run(PeriodKind::Month, Some(Dimension::Channel))] {
            for name in df.get_column_names() {
                assert_ne!(kind_of(name), ValueKind::Number, "{name}");
            }
        }
        assert_eq!(kind_of("mql_to_sql_rate"), ValueKind::Rate);
        assert_eq!(kind_of("cac"), ValueKind::Money);
        assert_eq!(kind_of("nope"), ValueKind::Number);
    }
}
