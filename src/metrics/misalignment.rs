//! What sales and marketing misalignment costs, and the alignment score
//! (`docs/metrics.md`, "Misalignment cost" and "Alignment score";
//! formulas as implemented in `docs/metrics.md`).
//!
//! Row-level work (reached flags, response hours, buckets, counts, sums) is
//! polars lazy; the arithmetic on the handful of aggregated numbers per group
//! is plain Rust.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, Result};
use polars::prelude::*;

use crate::metrics::common::{
    campaign_channels, campaigns_with_dim, ladder, lead_stages, money_sum, opportunities_with_dim,
    Stage, DIM,
};
use crate::metrics::periods::{PeriodKind, PeriodSpec};
use crate::model::{Dataset, TableKind};
use crate::settings::{Analysis, Dimension, NONE_GROUP};

/// z of the two-sided 95% Wilson interval.
pub const Z: f64 = 1.959963984540054;

/// Response-time threshold of `speed_component`, in hours (fixed by the spec).
pub const SPEED_HOURS: f64 = 24.0;

/// The group key used when there is no `--by`.
const ALL: &str = "(all)";
const G: &str = "__g";

/// The result of `revcycle misalignment`.
#[derive(Debug, Clone)]
pub struct Misalignment {
    /// One row for the range, or one per `--by` value (first column named by
    /// the dimension). Columns: see `columns()` / docs/metrics.md.
    pub frame: DataFrame,
    /// Per group x response-time bucket: `bucket`, `n`, `sql_reached`, `q`,
    /// `q_low`, `q_high`, `role` (`base`, `faster`, `slower`), `lost_revenue`,
    /// `lost_revenue_low`, `lost_revenue_high`.
    pub buckets: DataFrame,
    /// Every assumption, as (name, value).
    pub assumptions: Vec<(String, String)>,
    /// Why a value is null, and other caveats, one sentence each.
    pub notes: Vec<String>,
    /// The `--by` dimension (None for the whole range).
    pub by: Option<Dimension>,
    /// Labels of the response-time buckets, fastest first ("<= 1h", ..., "> 72h").
    pub bucket_labels: Vec<String>,
    /// Upper bounds of the response-time buckets in hours (`response_buckets_hours`).
    pub bucket_bounds: Vec<f64>,
    /// Without `--by`: the key figures per channel (`channel`,
    /// `misalignment_cost`, `speed_component`, `followup_component`,
    /// `mqls_reached`, `won_deals`, `new_bookings`), so that the explanation
    /// can name the channel slowest to follow up and the one rich in MQLs but
    /// poor in wins. None with `--by` or when no channel is known.
    pub channels: Option<DataFrame>,
}

/// The spec ids, in spec order (the first columns after the dimension).
pub const SPEC_IDS: [&str; 19] = [
    "worked_mql_win_rate",
    "unworked_mqls",
    "unworked_mql_lost_revenue",
    "unworked_mql_wasted_spend",
    "slow_followup_lost_revenue",
    "rejected_mqls",
    "rejected_mql_wasted_spend",
    "misfit_lost_pipeline",
    "misalignment_cost",
    "misalignment_cost_low",
    "misalignment_cost_high",
    "misalignment_cost_share",
    "alignment_uplift_scenario",
    "alignment_score",
    "followup_component",
    "speed_component",
    "acceptance_component",
    "icp_component",
    "channel_component",
];

/// `alignment_score` and its five components: the tail of [`SPEC_IDS`].
pub const ALIGNMENT_IDS: &[&str] = SPEC_IDS.split_at(13).1;

/// The five components of `alignment_score`.
pub const SCORE_COMPONENTS: &[&str] = SPEC_IDS.split_at(14).1;

/// The 95% Wilson interval of k successes in n trials, clipped to [0, 1];
/// None when n is 0.
pub fn wilson(k: f64, n: f64) -> Option<(f64, f64)> {
    if n <= 0.0 {
        return None;
    }
    let p = k / n;
    let z2 = Z * Z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some((
        (center - half).clamp(0.0, 1.0),
        (center + half).clamp(0.0, 1.0),
    ))
}

/// A measured share k / n with its Wilson interval.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rate {
    pub k: i64,
    pub n: i64,
}

impl Rate {
    pub fn value(self) -> Option<f64> {
        (self.n > 0).then(|| self.k as f64 / self.n as f64)
    }
    pub fn low(self) -> Option<f64> {
        wilson(self.k as f64, self.n as f64).map(|b| b.0)
    }
    pub fn high(self) -> Option<f64> {
        wilson(self.k as f64, self.n as f64).map(|b| b.1)
    }
}

/// A money component: its value and the low/high variants.
#[derive(Debug, Clone, Copy)]
struct Money {
    v: f64,
    lo: f64,
    hi: f64,
}

/// Label of bucket `i` of `bounds` ("<= 1h", ..., "> 72h").
pub fn bucket_label(bounds: &[f64], i: usize) -> String {
    if i < bounds.len() {
        format!("<= {}h", fmt_num(bounds[i]))
    } else {
        format!(
            "> {}h",
            bounds
                .last()
                .map(|b| fmt_num(*b))
                .unwrap_or_else(|| "0".into())
        )
    }
}

/// Column-name stem of bucket `i` ("bucket_le_1h", ..., "bucket_gt_72h").
pub fn bucket_stem(bounds: &[f64], i: usize) -> String {
    if i < bounds.len() {
        format!("bucket_le_{}h", fmt_num(bounds[i]))
    } else {
        format!(
            "bucket_gt_{}h",
            bounds
                .last()
                .map(|b| fmt_num(*b))
                .unwrap_or_else(|| "0".into())
        )
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Which inputs the data provides (dataset level).
struct Avail {
    mql: bool,
    /// The stage that counts as "accepted by sales": sal, else sql.
    accept: Option<Stage>,
    sql: bool,
    won: bool,
    contact: bool,
    disq: bool,
    opps: bool,
    amount: bool,
    loss_reason: bool,
    spend: bool,
    segment: bool,
    channel: bool,
    /// The registry's answer: components it calls unavailable are null and
    /// the score averages the others.
    registry: crate::metrics::registry::Availability,
}

/// Aggregated counts of one group.
#[derive(Debug, Default, Clone)]
struct Group {
    mqls: i64,
    worked: i64,
    worked_won: i64,
    sla_mqls: i64,
    unworked: i64,
    contacted: i64,
    contacted_fast: i64,
    accepted: i64,
    sql: i64,
    sql_won: i64,
    rejected: i64,
    /// (n, reached sql) per bucket, fastest first.
    buckets: Vec<(i64, i64)>,
    won_deals: i64,
    lost_deals: i64,
    bookings: f64,
    spend: f64,
    /// Lost new-business deals by loss reason: (count, amount).
    lost_by_reason: Vec<(String, i64, f64)>,
    mql_segments: BTreeMap<String, f64>,
    won_segments: BTreeMap<String, f64>,
    mql_channels: BTreeMap<String, f64>,
    booking_channels: BTreeMap<String, f64>,
}

/// The analysed range as [start, end) in microseconds: with `--from`/`--to`,
/// the `--period` periods overlapping [from, to] (from the first instant of
/// from's period to the end of to's period); with `--period all`, exactly
/// [from, to]. `None` = unbounded on that side.
pub fn range_bounds(a: &Analysis) -> (Option<i64>, Option<i64>) {
    let spec = PeriodSpec::new(a.period, a.fiscal_year_start, 0);
    if a.period == PeriodKind::All {
        return (a.from, a.to.map(|t| t.saturating_add(1)));
    }
    (
        a.from.map(|f| spec.start(spec.index_of(f))),
        a.to.map(|t| spec.end(spec.index_of(t))),
    )
}

fn in_range(e: Expr, a: &Analysis) -> Expr {
    let (lo, hi) = range_bounds(a);
    let t = e.cast(DataType::Int64);
    let mut cond = t.clone().is_not_null();
    if let Some(f) = lo {
        cond = cond.and(t.clone().gt_eq(lit(f)));
    }
    if let Some(h) = hi {
        cond = cond.and(t.lt(lit(h)));
    }
    cond
}

fn i64_sum(e: Expr, name: &str) -> Expr {
    e.cast(DataType::Int64).sum().alias(name)
}

fn col_str(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or(NONE_GROUP).to_string())
        .collect())
}

fn col_i64(df: &DataFrame, name: &str) -> Result<Vec<i64>> {
    let c = df.column(name)?.cast(&DataType::Int64)?;
    Ok(c.i64()?.iter().map(|v| v.unwrap_or(0)).collect())
}

fn col_f64(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect())
}

/// 1 - total variation distance of two mixes given as category -> weight.
/// None when either mix is empty.
fn one_minus_tvd(p: &BTreeMap<String, f64>, q: &BTreeMap<String, f64>) -> Option<f64> {
    let sp: f64 = p.values().sum();
    let sq: f64 = q.values().sum();
    if sp <= 0.0 || sq <= 0.0 {
        return None;
    }
    let keys: BTreeSet<&String> = p.keys().chain(q.keys()).collect();
    let tvd: f64 = keys
        .into_iter()
        .map(|k| {
            (p.get(k).copied().unwrap_or(0.0) / sp - q.get(k).copied().unwrap_or(0.0) / sq).abs()
        })
        .sum::<f64>()
        * 0.5;
    Some(1.0 - tvd)
}

/// Computes the misalignment cost and the alignment score over the range
/// `[a.from, a.to]` (all data when unset), split by `a.by` when given.
pub fn misalignment(ds: &Dataset, a: &Analysis) -> Result<Misalignment> {
    let stages = ladder(ds);
    let uses = |s: Stage| stages.contains(&s);
    let leads_has = |c: &str| ds.has_values(TableKind::Leads, c);
    let opps_has = |c: &str| ds.has_values(TableKind::Opportunities, c);
    let spend_lf = if ds.campaigns.is_some() {
        campaigns_with_dim(ds, a.by)
    } else {
        None
    };
    let av = Avail {
        mql: uses(Stage::Mql),
        accept: if uses(Stage::Sal) {
            Some(Stage::Sal)
        } else if uses(Stage::Sql) {
            Some(Stage::Sql)
        } else {
            None
        },
        sql: uses(Stage::Sql),
        won: uses(Stage::Won),
        contact: leads_has("first_contact_at"),
        disq: leads_has("disqualified_at"),
        opps: ds.opportunities.is_some(),
        amount: opps_has("amount"),
        loss_reason: opps_has("loss_reason"),
        spend: spend_lf.is_some(),
        // The MQL mixes read the leads' own segment and channel (channel
        // also through the lead's campaign).
        segment: leads_has("segment"),
        channel: leads_has("channel") || leads_has("campaign_id"),
        registry: crate::metrics::registry::availability(ds)?,
    };
    let bounds: Vec<f64> = a.response_buckets_hours.clone();
    let nb = bounds.len() + 1;
    let group_expr = || if a.by.is_some() { col(DIM) } else { lit(ALL) };

    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let blank = Group {
        buckets: vec![(0, 0); nb],
        ..Default::default()
    };
    if a.by.is_none() {
        groups.insert(ALL.to_string(), blank.clone());
    }

    // ---- leads ----------------------------------------------------------
    if ds.leads.is_some() {
        let reached = |s: Stage| {
            if uses(s) {
                col(s.eff_col()).is_not_null()
            } else {
                lit(false)
            }
        };
        let mut worked = col("first_contact_at").is_not_null();
        for s in [Stage::Sal, Stage::Sql, Stage::Opportunity] {
            if uses(s) {
                worked = worked.or(col(s.eff_col()).is_not_null());
            }
        }
        let start = if uses(Stage::Mql) {
            coalesce(&[col(Stage::Mql.raw_col()), col("created_at")])
        } else {
            col("created_at")
        };
        let sla_us = a.sla_days * 86_400e6;
        let resp = (col("first_contact_at").cast(DataType::Int64)
            - col("__start").cast(DataType::Int64))
        .cast(DataType::Float64)
            / lit(3_600e6);
        // Bucket index: the first bound the response time is at or under
        // (bounds inclusive), else the last, open-ended bucket.
        let mut bucket = lit(bounds.len() as i64);
        for (i, b) in bounds.iter().enumerate().rev() {
            bucket = when(col("__resp").lt_eq(lit(*b)))
                .then(lit(i as i64))
                .otherwise(bucket);
        }
        // "Did not reach sql": when SQL is not in use, the next stage in use
        // (opportunity) stands in for it.
        let past_sql = if uses(Stage::Sql) {
            reached(Stage::Sql)
        } else {
            reached(Stage::Opportunity)
        };
        let accept = match av.accept {
            Some(s) => reached(s),
            None => lit(false),
        };
        let lf = lead_stages(ds, a.by)
            .filter(in_range(col("created_at"), a))
            .with_columns([
                group_expr().alias(G),
                reached(Stage::Mql).alias("__mql"),
                accept.alias("__acc"),
                reached(Stage::Sql).alias("__sql"),
                past_sql.alias("__past_sql"),
                reached(Stage::Won).alias("__won"),
                worked.alias("__worked"),
                start.alias("__start"),
            ])
            .with_columns([
                (lit(ds.as_of) - col("__start").cast(DataType::Int64))
                    .cast(DataType::Float64)
                    .gt_eq(lit(sla_us))
                    .and(col("__mql"))
                    .alias("__sla"),
                col("__mql")
                    .and(col("first_contact_at").is_not_null())
                    .alias("__contacted"),
                when(resp.clone().lt(lit(0.0)))
                    .then(lit(0.0))
                    .otherwise(resp)
                    .alias("__resp"),
            ])
            .with_columns([bucket.alias("__bucket")])
            .select([
                col(G),
                col("__mql"),
                col("__acc"),
                col("__sql"),
                col("__past_sql"),
                col("__won"),
                col("__worked"),
                col("__sla"),
                col("__contacted"),
                col("__resp"),
                col("__bucket"),
                col("disqualified_at"),
                col("segment"),
                col("channel"),
            ]);
        // Four aggregations read these per-lead flags: compute the joins
        // behind them once.
        let lf = lf
            .collect()
            .map_err(anyhow::Error::from)
            .context("computing per-lead flags for misalignment")?
            .lazy();

        let agg = lf
            .clone()
            .group_by([col(G)])
            .agg([
                i64_sum(col("__mql"), "mqls"),
                i64_sum(col("__mql").and(col("__worked")), "worked"),
                i64_sum(
                    col("__mql").and(col("__worked")).and(col("__won")),
                    "worked_won",
                ),
                i64_sum(col("__sla"), "sla_mqls"),
                i64_sum(col("__sla").and(col("__worked").not()), "unworked"),
                i64_sum(col("__contacted"), "contacted"),
                i64_sum(
                    col("__contacted").and(col("__resp").lt_eq(lit(SPEED_HOURS))),
                    "contacted_fast",
                ),
                i64_sum(col("__mql").and(col("__acc")), "accepted"),
                i64_sum(col("__sql"), "sql"),
                i64_sum(col("__sql").and(col("__won")), "sql_won"),
                i64_sum(
                    col("__mql")
                        .and(col("disqualified_at").is_not_null())
                        .and(col("__past_sql").not()),
                    "rejected",
                ),
            ])
            .collect()
            .map_err(anyhow::Error::from)
            .context("aggregating leads for misalignment")?;
        let keys = col_str(&agg, G)?;
        let fields = [
            "mqls",
            "worked",
            "worked_won",
            "sla_mqls",
            "unworked",
            "contacted",
            "contacted_fast",
            "accepted",
            "sql",
            "sql_won",
            "rejected",
        ];
        let vals: Vec<Vec<i64>> = fields
            .iter()
            .map(|f| col_i64(&agg, f))
            .collect::<Result<_>>()?;
        for (r, k) in keys.iter().enumerate() {
            let g = groups.entry(k.clone()).or_insert_with(|| blank.clone());
            g.mqls = vals[0][r];
            g.worked = vals[1][r];
            g.worked_won = vals[2][r];
            g.sla_mqls = vals[3][r];
            g.unworked = vals[4][r];
            g.contacted = vals[5][r];
            g.contacted_fast = vals[6][r];
            g.accepted = vals[7][r];
            g.sql = vals[8][r];
            g.sql_won = vals[9][r];
            g.rejected = vals[10][r];
        }

        let bk = lf
            .clone()
            .filter(col("__contacted"))
            .group_by([col(G), col("__bucket")])
            .agg([
                len().cast(DataType::Int64).alias("n"),
                i64_sum(col("__sql"), "sql"),
            ])
            .collect()
            .map_err(anyhow::Error::from)
            .context("counting response-time buckets")?;
        let (keys, idx, n, s) = (
            col_str(&bk, G)?,
            col_i64(&bk, "__bucket")?,
            col_i64(&bk, "n")?,
            col_i64(&bk, "sql")?,
        );
        for r in 0..keys.len() {
            let g = groups
                .entry(keys[r].clone())
                .or_insert_with(|| blank.clone());
            if let Some(slot) = g.buckets.get_mut(idx[r] as usize) {
                *slot = (n[r], s[r]);
            }
        }

        for (src, is_seg) in [("segment", true), ("channel", false)] {
            let mix = lf
                .clone()
                .filter(col("__mql"))
                .group_by([col(G), col(src).fill_null(lit(NONE_GROUP)).alias("__cat")])
                .agg([len().cast(DataType::Int64).alias("n")])
                .collect()
                .map_err(anyhow::Error::from)
                .with_context(|| format!("MQL {src} mix"))?;
            let (keys, cats, n) = (
                col_str(&mix, G)?,
                col_str(&mix, "__cat")?,
                col_i64(&mix, "n")?,
            );
            for r in 0..keys.len() {
                let g = groups
                    .entry(keys[r].clone())
                    .or_insert_with(|| blank.clone());
                let m = if is_seg {
                    &mut g.mql_segments
                } else {
                    &mut g.mql_channels
                };
                *m.entry(cats[r].clone()).or_insert(0.0) += n[r] as f64;
            }
        }
    }

    // ---- opportunities --------------------------------------------------
    if av.opps {
        // The segment and channel of each deal for the mixes: own, else the
        // lead's (channel: lead's own else its campaign's), else (channel) the
        // deal's campaign's -- the same fallbacks as `--by`.
        // Lead ids are unique after loading (the first row of a repeated id is kept).
        let lead_info = lead_stages(ds, None).select([
            col("lead_id"),
            col("segment").alias("__lead_segment"),
            col("channel").alias("__lead_channel"),
        ]);
        let camp = campaign_channels(ds).select([
            col("campaign_id"),
            col("campaign_channel").alias("__camp_channel"),
        ]);
        let lf = opportunities_with_dim(ds, a.by)
            .filter(
                col("type")
                    .eq(lit("new_business"))
                    .and(in_range(col("close_date"), a))
                    .and(
                        col("status")
                            .eq(lit("won"))
                            .or(col("status").eq(lit("lost"))),
                    ),
            )
            .join(
                lead_info,
                [col("lead_id")],
                [col("lead_id")],
                JoinArgs::new(JoinType::Left),
            )
            .join(
                camp,
                [col("campaign_id")],
                [col("campaign_id")],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([
                group_expr().alias(G),
                col("status").eq(lit("won")).alias("__won"),
                coalesce(&[col("segment"), col("__lead_segment")])
                    .fill_null(lit(NONE_GROUP))
                    .alias("__seg"),
                coalesce(&[col("channel"), col("__lead_channel"), col("__camp_channel")])
                    .fill_null(lit(NONE_GROUP))
                    .alias("__chan"),
            ])
            .select([
                col(G),
                col("__won"),
                col("__seg"),
                col("__chan"),
                col("amount"),
                col("loss_reason"),
            ]);
        // Four aggregations read these closed deals: join once.
        let lf = lf
            .collect()
            .map_err(anyhow::Error::from)
            .context("joining deals to their leads for misalignment")?
            .lazy();
        let agg = lf
            .clone()
            .group_by([col(G)])
            .agg([
                i64_sum(col("__won"), "won"),
                i64_sum(col("__won").not(), "lost"),
                money_sum(when(col("__won")).then(col("amount")).otherwise(lit(0.0)))
                    .alias("bookings"),
            ])
            .collect()
            .map_err(anyhow::Error::from)
            .context("aggregating deals for misalignment")?;
        let (keys, won, lost, bookings) = (
            col_str(&agg, G)?,
            col_i64(&agg, "won")?,
            col_i64(&agg, "lost")?,
            col_f64(&agg, "bookings")?,
        );
        for r in 0..keys.len() {
            let g = groups
                .entry(keys[r].clone())
                .or_insert_with(|| blank.clone());
            g.won_deals = won[r];
            g.lost_deals = lost[r];
            g.bookings = bookings[r];
        }
        let lost_df = lf
            .clone()
            .filter(col("__won").not())
            .group_by([col(G), col("loss_reason")])
            .agg([
                len().cast(DataType::Int64).alias("n"),
                money_sum(col("amount")).alias("amount"),
            ])
            .collect()
            .map_err(anyhow::Error::from)
            .context("lost deals by reason")?;
        let reasons: Vec<Option<String>> = lost_df
            .column("loss_reason")?
            .str()?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect();
        let (keys, n, amount) = (
            col_str(&lost_df, G)?,
            col_i64(&lost_df, "n")?,
            col_f64(&lost_df, "amount")?,
        );
        for r in 0..keys.len() {
            if let Some(reason) = &reasons[r] {
                let g = groups
                    .entry(keys[r].clone())
                    .or_insert_with(|| blank.clone());
                g.lost_by_reason.push((reason.clone(), n[r], amount[r]));
            }
        }
        let won_lf = lf.filter(col("__won"));
        let seg = won_lf
            .clone()
            .group_by([col(G), col("__seg")])
            .agg([len().cast(DataType::Int64).alias("n")])
            .collect()
            .map_err(anyhow::Error::from)
            .context("won deals by segment")?;
        let (keys, cats, n) = (
            col_str(&seg, G)?,
            col_str(&seg, "__seg")?,
            col_i64(&seg, "n")?,
        );
        for r in 0..keys.len() {
            let g = groups
                .entry(keys[r].clone())
                .or_insert_with(|| blank.clone());
            *g.won_segments.entry(cats[r].clone()).or_insert(0.0) += n[r] as f64;
        }
        let ch = won_lf
            .group_by([col(G), col("__chan")])
            .agg([money_sum(col("amount")).alias("amount")])
            .collect()
            .map_err(anyhow::Error::from)
            .context("bookings by channel")?;
        let (keys, cats, amt) = (
            col_str(&ch, G)?,
            col_str(&ch, "__chan")?,
            col_f64(&ch, "amount")?,
        );
        for r in 0..keys.len() {
            let g = groups
                .entry(keys[r].clone())
                .or_insert_with(|| blank.clone());
            *g.booking_channels.entry(cats[r].clone()).or_insert(0.0) += amt[r];
        }
    }

    // ---- spend ----------------------------------------------------------
    if let Some(lf) = spend_lf {
        let sp = lf
            .filter(in_range(col("date"), a))
            .group_by([group_expr().alias(G)])
            .agg([money_sum(col("spend")).alias("spend")])
            .collect()
            .map_err(anyhow::Error::from)
            .context("summing spend for misalignment")?;
        let (keys, spend) = (col_str(&sp, G)?, col_f64(&sp, "spend")?);
        for r in 0..keys.len() {
            let g = groups
                .entry(keys[r].clone())
                .or_insert_with(|| blank.clone());
            g.spend = spend[r];
        }
    }

    // ---- per-group arithmetic --------------------------------------------
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    let mut bucket_rows = Vec::new();
    for (key, g) in &groups {
        let prefix = match a.by {
            Some(by) => format!("{} {}: ", by.name(), key),
            None => String::new(),
        };
        let (row, brs) = compute_group(g, &av, a, &bounds, &prefix, &mut notes);
        rows.push((key.clone(), row));
        bucket_rows.push((key.clone(), brs));
    }
    dataset_notes(&av, a, &mut notes);

    let frame = av
        .registry
        .null_unavailable("misalignment", build_frame(&rows, a.by, &bounds)?)?;
    let channels = if a.by.is_none() && av.channel {
        let split = misalignment(
            ds,
            &Analysis {
                by: Some(Dimension::Channel),
                ..a.clone()
            },
        )?;
        Some(
            split
                .frame
                .select([
                    "channel",
                    "misalignment_cost",
                    "speed_component",
                    "followup_component",
                    "mqls_reached",
                    "won_deals",
                    "new_bookings",
                ])
                .map_err(anyhow::Error::from)
                .context("per-channel key figures")?,
        )
    } else {
        None
    };
    let buckets = build_buckets(&bucket_rows, a.by, &bounds)?;
    Ok(Misalignment {
        frame,
        buckets,
        assumptions: assumptions(a, ds.as_of),
        notes,
        by: a.by,
        bucket_labels: (0..nb).map(|i| bucket_label(&bounds, i)).collect(),
        bucket_bounds: bounds.clone(),
        channels,
    })
}

/// One group's values, keyed by output column.
type Row = BTreeMap<String, Cell>;

#[derive(Debug, Clone)]
enum Cell {
    F(Option<f64>),
    I(Option<i64>),
    S(Option<String>),
}

/// One bucket row of a group.
#[derive(Debug, Clone)]
struct BucketRow {
    label: String,
    n: i64,
    sql: i64,
    q: Rate,
    role: Option<&'static str>,
    lost: Option<Money>,
}

fn opt_if(cond: bool, v: i64) -> Option<i64> {
    cond.then_some(v)
}

fn compute_group(
    g: &Group,
    av: &Avail,
    a: &Analysis,
    bounds: &[f64],
    prefix: &str,
    notes: &mut Vec<String>,
) -> (Row, Vec<BucketRow>) {
    let mut row = Row::new();
    let mut note = |s: String| notes.push(format!("{prefix}{s}"));
    let f = |row: &mut Row, k: &str, v: Option<f64>| {
        row.insert(k.to_string(), Cell::F(v));
    };
    let i = |row: &mut Row, k: &str, v: Option<i64>| {
        row.insert(k.to_string(), Cell::I(v));
    };

    let lead_ok = av.mql;
    let contact_ok = lead_ok && av.contact;

    // Range-level KPIs.
    let win = Rate {
        k: g.won_deals,
        n: g.won_deals + g.lost_deals,
    };
    let win_rate = if av.opps { win.value() } else { None };
    let new_bookings = (av.opps && av.amount).then_some(g.bookings);
    let avg_deal = match new_bookings {
        Some(b) if g.won_deals > 0 => Some(b / g.won_deals as f64),
        _ => None,
    };
    let spend = av.spend.then_some(g.spend);
    let cost_per_mql = match spend {
        Some(s) if lead_ok && g.mqls > 0 => Some(s / g.mqls as f64),
        _ => None,
    };

    // worked_mql_win_rate.
    let wmw = Rate {
        k: g.worked_won,
        n: g.worked,
    };
    // "Worked" needs no first_contact_at: without it, a lead counts as
    // worked when it reached sal, sql or opportunity (the spec's other arms).
    let wmw_ok = lead_ok && av.won;
    let wmw_v = if wmw_ok { wmw.value() } else { None };

    // Unworked MQLs.
    let unworked = opt_if(contact_ok, g.unworked);
    let unworked_lost = match (
        unworked,
        wmw_ok.then(|| (wmw.value(), wmw.low(), wmw.high())),
        avg_deal,
    ) {
        (Some(u), Some((Some(v), Some(lo), Some(hi))), Some(ads)) => {
            let u = u as f64;
            Some(Money {
                v: u * v * ads,
                lo: u * lo * ads,
                hi: u * hi * ads,
            })
        }
        _ => None,
    };
    let unworked_wasted = match (unworked, cost_per_mql) {
        (Some(u), Some(c)) => Some(Money {
            v: u as f64 * c,
            lo: u as f64 * c,
            hi: u as f64 * c,
        }),
        _ => None,
    };

    // Slow follow-up.
    let sql_rate = Rate {
        k: g.sql_won,
        n: g.sql,
    };
    let sql_rate_ok = av.sql && av.won;
    let base = g
        .buckets
        .iter()
        .position(|(n, _)| *n >= a.min_sample as i64);
    let mut brs: Vec<BucketRow> = g
        .buckets
        .iter()
        .enumerate()
        .map(|(ix, (n, s))| BucketRow {
            label: bucket_label(bounds, ix),
            n: *n,
            sql: *s,
            q: Rate { k: *s, n: *n },
            role: None,
            lost: None,
        })
        .collect();
    let slow = if !contact_ok || !av.sql {
        None
    } else if let Some(b) = base {
        for (ix, br) in brs.iter_mut().enumerate() {
            br.role = Some(match ix.cmp(&b) {
                std::cmp::Ordering::Less => "faster",
                std::cmp::Ordering::Equal => "base",
                std::cmp::Ordering::Greater => "slower",
            });
        }
        match (sql_rate_ok.then_some(sql_rate), avg_deal) {
            (Some(sr), Some(ads)) if sr.n > 0 => {
                let qb = brs[b].q;
                let (qv, ql, qh) = (
                    qb.value().unwrap_or(0.0),
                    qb.low().unwrap_or(0.0),
                    qb.high().unwrap_or(0.0),
                );
                let (sv, sl, sh) = (
                    sr.value().unwrap_or(0.0),
                    sr.low().unwrap_or(0.0),
                    sr.high().unwrap_or(0.0),
                );
                let mut total = Money {
                    v: 0.0,
                    lo: 0.0,
                    hi: 0.0,
                };
                for br in brs.iter_mut().skip(b + 1) {
                    let n = br.n as f64;
                    let m = if br.n == 0 {
                        Money {
                            v: 0.0,
                            lo: 0.0,
                            hi: 0.0,
                        }
                    } else {
                        let q = br.q;
                        Money {
                            v: n * (qv - q.value().unwrap_or(0.0)).max(0.0) * sv * ads,
                            lo: n * (ql - q.high().unwrap_or(1.0)).max(0.0) * sl * ads,
                            hi: n * (qh - q.low().unwrap_or(0.0)).max(0.0) * sh * ads,
                        }
                    };
                    br.lost = Some(m);
                    total.v += m.v;
                    total.lo += m.lo;
                    total.hi += m.hi;
                }
                Some(total)
            }
            _ => None,
        }
    } else {
        note(format!(
            "slow follow-up: no response-time bucket has {} contacted MQLs (min_sample)",
            a.min_sample
        ));
        None
    };
    if slow.is_none() && contact_ok && av.sql && base.is_some() {
        if !sql_rate_ok || sql_rate.n == 0 {
            note(
                "slow follow-up: no lead reached sql and a won deal stage to measure sql_win_rate"
                    .into(),
            );
        } else if avg_deal.is_none() {
            note("slow follow-up: avg_deal_size is unknown (no won new-business deal with an amount in the range)".into());
        }
    }

    // Rejected MQLs.
    let rejected = opt_if(lead_ok && av.disq, g.rejected);
    let rejected_wasted = match (rejected, cost_per_mql) {
        (Some(r), Some(c)) => Some(Money {
            v: r as f64 * c,
            lo: r as f64 * c,
            hi: r as f64 * c,
        }),
        _ => None,
    };

    // Misfit losses.
    let misfit_reasons: Vec<String> = a.misfit_reasons.iter().map(|r| r.to_lowercase()).collect();
    let (mut misfit_n, mut misfit_amt) = (0i64, 0.0f64);
    for (reason, n, amt) in &g.lost_by_reason {
        let r = reason.to_lowercase();
        if misfit_reasons
            .iter()
            .any(|m| !m.is_empty() && r.contains(m.as_str()))
        {
            misfit_n += n;
            misfit_amt += amt;
        }
    }
    let misfit_ok = av.opps && av.amount && av.loss_reason;
    let misfit = match (misfit_ok, win_rate, win.low(), win.high()) {
        (true, Some(v), Some(lo), Some(hi)) => Some(Money {
            v: v * misfit_amt,
            lo: lo * misfit_amt,
            hi: hi * misfit_amt,
        }),
        _ => None,
    };

    // Total.
    let parts = [
        unworked_lost,
        unworked_wasted,
        slow,
        rejected_wasted,
        misfit,
    ];
    let computed: Vec<Money> = parts.iter().flatten().copied().collect();
    let (cost, cost_lo, cost_hi) = if computed.is_empty() {
        (None, None, None)
    } else {
        (
            Some(computed.iter().map(|m| m.v).sum::<f64>()),
            Some(computed.iter().map(|m| m.lo).sum::<f64>()),
            Some(computed.iter().map(|m| m.hi).sum::<f64>()),
        )
    };
    let cost_share = match (cost, new_bookings) {
        (Some(c), Some(b)) if b != 0.0 => Some(c / b),
        _ => None,
    };
    let uplift = new_bookings.map(|b| b * a.uplift);

    // Alignment score.
    let followup = if contact_ok {
        Rate {
            k: g.sla_mqls - g.unworked,
            n: g.sla_mqls,
        }
        .value()
    } else {
        None
    };
    let speed = if contact_ok {
        Rate {
            k: g.contacted_fast,
            n: g.contacted,
        }
        .value()
    } else {
        None
    };
    let acceptance = if lead_ok && av.accept.is_some() {
        Rate {
            k: g.accepted,
            n: g.mqls,
        }
        .value()
    } else {
        None
    };
    let icp = if av.segment && lead_ok && av.opps {
        one_minus_tvd(&g.mql_segments, &g.won_segments)
    } else {
        None
    };
    let channel = if av.channel && lead_ok && av.opps && av.amount {
        one_minus_tvd(&g.mql_channels, &g.booking_channels)
    } else {
        None
    };
    let ok = |id: &str, v: Option<f64>| {
        if av.registry.is_available("misalignment", id) {
            v
        } else {
            None
        }
    };
    let followup = ok("followup_component", followup);
    let speed = ok("speed_component", speed);
    let acceptance = ok("acceptance_component", acceptance);
    let icp = ok("icp_component", icp);
    let channel = ok("channel_component", channel);
    let comps = [followup, speed, acceptance, icp, channel];
    let present: Vec<f64> = comps.iter().flatten().copied().collect();
    let score =
        (!present.is_empty()).then(|| 100.0 * present.iter().sum::<f64>() / present.len() as f64);

    // Group-level notes for empty samples.
    if contact_ok && av.won && g.worked == 0 {
        note("worked_mql_win_rate: no worked MQL in the range".into());
    }
    if lead_ok && av.spend && g.mqls == 0 {
        note("cost_per_mql: no lead reached mql in the range".into());
    }
    if av.opps && g.won_deals + g.lost_deals == 0 {
        note("win_rate: no new-business deal was won or lost in the range".into());
    }
    if av.opps && av.amount && g.won_deals == 0 {
        note("avg_deal_size: no new-business deal was won in the range".into());
    }
    if av.segment && lead_ok && av.opps && icp.is_none() {
        note("icp_component: needs MQLs and won new-business deals in the range".into());
    }
    if av.channel && lead_ok && av.opps && av.amount && channel.is_none() {
        note("channel_component: needs MQLs and new bookings in the range".into());
    }

    // Frame cells, spec ids first.
    f(&mut row, "worked_mql_win_rate", wmw_v);
    i(&mut row, "unworked_mqls", unworked);
    f(
        &mut row,
        "unworked_mql_lost_revenue",
        unworked_lost.map(|m| m.v),
    );
    f(
        &mut row,
        "unworked_mql_wasted_spend",
        unworked_wasted.map(|m| m.v),
    );
    f(&mut row, "slow_followup_lost_revenue", slow.map(|m| m.v));
    i(&mut row, "rejected_mqls", rejected);
    f(
        &mut row,
        "rejected_mql_wasted_spend",
        rejected_wasted.map(|m| m.v),
    );
    f(&mut row, "misfit_lost_pipeline", misfit.map(|m| m.v));
    f(&mut row, "misalignment_cost", cost);
    f(&mut row, "misalignment_cost_low", cost_lo);
    f(&mut row, "misalignment_cost_high", cost_hi);
    f(&mut row, "misalignment_cost_share", cost_share);
    f(&mut row, "alignment_uplift_scenario", uplift);
    f(&mut row, "alignment_score", score);
    f(&mut row, "followup_component", followup);
    f(&mut row, "speed_component", speed);
    f(&mut row, "acceptance_component", acceptance);
    f(&mut row, "icp_component", icp);
    f(&mut row, "channel_component", channel);
    // Measured inputs.
    i(&mut row, "mqls_reached", opt_if(lead_ok, g.mqls));
    i(&mut row, "worked_mqls", opt_if(lead_ok, g.worked));
    i(&mut row, "worked_mqls_won", opt_if(wmw_ok, g.worked_won));
    f(
        &mut row,
        "worked_mql_win_rate_low",
        if wmw_ok { wmw.low() } else { None },
    );
    f(
        &mut row,
        "worked_mql_win_rate_high",
        if wmw_ok { wmw.high() } else { None },
    );
    i(&mut row, "sla_mqls", opt_if(contact_ok, g.sla_mqls));
    i(&mut row, "contacted_mqls", opt_if(contact_ok, g.contacted));
    i(
        &mut row,
        "contacted_within_24h",
        opt_if(contact_ok, g.contacted_fast),
    );
    i(
        &mut row,
        "accepted_mqls",
        opt_if(lead_ok && av.accept.is_some(), g.accepted),
    );
    i(&mut row, "sql_reached", opt_if(av.sql, g.sql));
    i(&mut row, "sql_won", opt_if(sql_rate_ok, g.sql_won));
    f(
        &mut row,
        "sql_win_rate",
        if sql_rate_ok { sql_rate.value() } else { None },
    );
    f(
        &mut row,
        "sql_win_rate_low",
        if sql_rate_ok { sql_rate.low() } else { None },
    );
    f(
        &mut row,
        "sql_win_rate_high",
        if sql_rate_ok { sql_rate.high() } else { None },
    );
    let base_label = if contact_ok && av.sql {
        base.map(|b| bucket_label(bounds, b))
    } else {
        None
    };
    row.insert("followup_base_bucket".into(), Cell::S(base_label));
    for (ix, br) in brs.iter().enumerate() {
        let stem = bucket_stem(bounds, ix);
        let ok = contact_ok && av.sql;
        i(&mut row, &format!("{stem}_n"), opt_if(contact_ok, br.n));
        i(&mut row, &format!("{stem}_sql_reached"), opt_if(ok, br.sql));
        f(
            &mut row,
            &format!("{stem}_q"),
            if ok { br.q.value() } else { None },
        );
    }
    i(&mut row, "won_deals", opt_if(av.opps, g.won_deals));
    i(&mut row, "lost_deals", opt_if(av.opps, g.lost_deals));
    f(&mut row, "win_rate", win_rate);
    f(
        &mut row,
        "win_rate_low",
        if av.opps { win.low() } else { None },
    );
    f(
        &mut row,
        "win_rate_high",
        if av.opps { win.high() } else { None },
    );
    f(&mut row, "new_bookings", new_bookings);
    f(&mut row, "avg_deal_size", avg_deal);
    f(&mut row, "marketing_spend", spend);
    f(&mut row, "cost_per_mql", cost_per_mql);
    i(&mut row, "misfit_lost_deals", opt_if(misfit_ok, misfit_n));
    f(
        &mut row,
        "misfit_lost_amount",
        misfit_ok.then_some(misfit_amt),
    );

    if !contact_ok {
        brs.clear();
    } else if !av.sql {
        for br in brs.iter_mut() {
            br.role = None;
            br.lost = None;
        }
    }
    (row, brs)
}

/// Notes that hold for every group: missing inputs.
fn dataset_notes(av: &Avail, a: &Analysis, notes: &mut Vec<String>) {
    if !av.mql {
        notes.push("every MQL-based value needs leads.mql_at (no lead reached mql)".into());
    }
    if av.mql && !av.contact {
        notes.push(
            "follow-up components need leads.first_contact_at: unworked MQLs, slow follow-up, \
             followup_component and speed_component are null (worked MQLs are those that reached sal, sql or \
             opportunity)"
                .into(),
        );
    }
    if av.contact && av.mql && !av.sql {
        notes.push(
            "slow follow-up needs leads.sql_at (share of each bucket that reached sql)".into(),
        );
    }
    if !av.won {
        notes.push("won stage not in use (needs opportunities.lead_id and close_date): lead win rates are null".into());
    }
    if av.mql && !av.disq {
        notes.push("rejected MQLs need leads.disqualified_at".into());
    }
    if !av.opps {
        notes.push(
            "win_rate, avg_deal_size, new_bookings and misfit losses need an opportunities table"
                .into(),
        );
    } else {
        if !av.amount {
            notes.push("money values need opportunities.amount".into());
        }
        if !av.loss_reason {
            notes.push("misfit losses need opportunities.loss_reason".into());
        }
    }
    if !av.spend {
        if a.by.is_some() && matches!(a.by, Some(Dimension::Segment) | Some(Dimension::Owner)) {
            notes.push(
                "spend does not split by segment or owner: cost_per_mql and wasted spend are null"
                    .into(),
            );
        } else {
            notes.push("wasted spend needs a campaigns table (cost_per_mql)".into());
        }
    }
    if av.mql && av.accept.is_none() {
        notes.push("acceptance_component needs leads.sal_at or leads.sql_at".into());
    }
    if !av.segment {
        notes.push("icp_component needs leads.segment (the MQLs' own segment)".into());
    }
    if !av.channel {
        notes.push(
            "channel_component needs leads.channel or leads.campaign_id (the MQLs' own channel)"
                .into(),
        );
    }
    let unavailable: Vec<&str> = SCORE_COMPONENTS
        .iter()
        .copied()
        .filter(|id| !av.registry.is_available("misalignment", id))
        .collect();
    if !unavailable.is_empty() && unavailable.len() < SCORE_COMPONENTS.len() {
        notes.push(format!(
            "alignment_score averages the components these inputs support; {} {} null and left out",
            unavailable.join(", "),
            if unavailable.len() == 1 { "is" } else { "are" }
        ));
    }
    match a.by {
        Some(Dimension::Segment) => {
            notes.push("icp_component is 1 by construction within one segment".into());
        }
        Some(Dimension::Channel) => {
            notes.push("channel_component is 1 by construction within one channel".into());
        }
        _ => {}
    }
}

fn assumptions(a: &Analysis, as_of: i64) -> Vec<(String, String)> {
    let fmt_ts = |t: i64| {
        chrono::DateTime::from_timestamp_micros(t)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| t.to_string())
    };
    let (lo, hi) = range_bounds(a);
    let range = match (lo, hi) {
        (None, None) => "all data".to_string(),
        (f, t) => format!(
            "{} to {} (end excluded)",
            f.map(fmt_ts).unwrap_or_else(|| "first row".into()),
            t.map(fmt_ts).unwrap_or_else(|| "as_of".into())
        ),
    };
    let bounds = &a.response_buckets_hours;
    vec![
        ("range".into(), range),
        ("as_of".into(), fmt_ts(as_of)),
        ("sla_days".into(), fmt_num(a.sla_days)),
        (
            "response_buckets_hours".into(),
            (0..=bounds.len())
                .map(|i| bucket_label(bounds, i))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("min_sample".into(), a.min_sample.to_string()),
        (
            "misfit_reasons".into(),
            a.misfit_reasons
                .iter()
                .map(|r| format!("\"{r}\""))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("uplift".into(), fmt_num(a.uplift)),
        (
            "gross_margin".into(),
            format!(
                "{} (not applied: the costs are revenue and spend)",
                fmt_num(a.gross_margin)
            ),
        ),
        (
            "confidence".into(),
            format!("95% Wilson intervals, z = {Z}"),
        ),
    ]
}

impl Misalignment {
    /// The assumptions as a two-column frame (`assumption`, `value`), for
    /// JSON output beside the result.
    pub fn assumptions_frame(&self) -> Result<DataFrame> {
        let names: Vec<String> = self.assumptions.iter().map(|(k, _)| k.clone()).collect();
        let values: Vec<String> = self.assumptions.iter().map(|(_, v)| v.clone()).collect();
        DataFrame::new_infer_height(vec![
            Series::new("assumption".into(), names).into_column(),
            Series::new("value".into(), values).into_column(),
        ])
        .map_err(anyhow::Error::from)
        .context("building the assumptions table")
    }
}

/// Output column names in order (after the dimension column).
pub fn columns(bounds: &[f64]) -> Vec<String> {
    let mut out: Vec<String> = SPEC_IDS.iter().map(|s| s.to_string()).collect();
    for c in [
        "mqls_reached",
        "worked_mqls",
        "worked_mqls_won",
        "worked_mql_win_rate_low",
        "worked_mql_win_rate_high",
        "sla_mqls",
        "contacted_mqls",
        "contacted_within_24h",
        "accepted_mqls",
        "sql_reached",
        "sql_won",
        "sql_win_rate",
        "sql_win_rate_low",
        "sql_win_rate_high",
        "followup_base_bucket",
    ] {
        out.push(c.into());
    }
    for ix in 0..=bounds.len() {
        let stem = bucket_stem(bounds, ix);
        out.push(format!("{stem}_n"));
        out.push(format!("{stem}_sql_reached"));
        out.push(format!("{stem}_q"));
    }
    for c in [
        "won_deals",
        "lost_deals",
        "win_rate",
        "win_rate_low",
        "win_rate_high",
        "new_bookings",
        "avg_deal_size",
        "marketing_spend",
        "cost_per_mql",
        "misfit_lost_deals",
        "misfit_lost_amount",
    ] {
        out.push(c.into());
    }
    out
}

fn build_frame(rows: &[(String, Row)], by: Option<Dimension>, bounds: &[f64]) -> Result<DataFrame> {
    let mut cols: Vec<Column> = Vec::new();
    if let Some(by) = by {
        let v: Vec<String> = rows.iter().map(|(k, _)| k.clone()).collect();
        cols.push(Series::new(by.name().into(), v).into_column());
    }
    for name in columns(bounds) {
        let cells: Vec<Option<&Cell>> = rows.iter().map(|(_, r)| r.get(&name)).collect();
        let kind = cells.iter().flatten().next().cloned();
        let s = match kind {
            Some(Cell::I(_)) => Series::new(
                name.as_str().into(),
                cells
                    .iter()
                    .map(|c| if let Some(Cell::I(v)) = c { *v } else { None })
                    .collect::<Vec<_>>(),
            ),
            Some(Cell::S(_)) => Series::new(
                name.as_str().into(),
                cells
                    .iter()
                    .map(|c| {
                        if let Some(Cell::S(v)) = c {
                            v.clone()
                        } else {
                            None
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
            _ => Series::new(
                name.as_str().into(),
                cells
                    .iter()
                    .map(|c| if let Some(Cell::F(v)) = c { *v } else { None })
                    .collect::<Vec<_>>(),
            ),
        };
        cols.push(s.into_column());
    }
    DataFrame::new_infer_height(cols)
        .map_err(anyhow::Error::from)
        .context("building the misalignment table")
}

fn build_buckets(
    rows: &[(String, Vec<BucketRow>)],
    by: Option<Dimension>,
    _bounds: &[f64],
) -> Result<DataFrame> {
    let flat: Vec<(&String, &BucketRow)> = rows
        .iter()
        .flat_map(|(k, v)| v.iter().map(move |b| (k, b)))
        .collect();
    let mut cols: Vec<Column> = Vec::new();
    if let Some(by) = by {
        cols.push(
            Series::new(
                by.name().into(),
                flat.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>(),
            )
            .into_column(),
        );
    }
    let fs = |name: &str, f: &dyn Fn(&BucketRow) -> Option<f64>| {
        Series::new(
            name.into(),
            flat.iter().map(|(_, b)| f(b)).collect::<Vec<_>>(),
        )
        .into_column()
    };
    cols.push(
        Series::new(
            "bucket".into(),
            flat.iter()
                .map(|(_, b)| b.label.clone())
                .collect::<Vec<_>>(),
        )
        .into_column(),
    );
    cols.push(
        Series::new(
            "n".into(),
            flat.iter().map(|(_, b)| b.n).collect::<Vec<_>>(),
        )
        .into_column(),
    );
    cols.push(
        Series::new(
            "sql_reached".into(),
            flat.iter().map(|(_, b)| b.sql).collect::<Vec<_>>(),
        )
        .into_column(),
    );
    cols.push(fs("q", &|b| b.q.value()));
    cols.push(fs("q_low", &|b| b.q.low()));
    cols.push(fs("q_high", &|b| b.q.high()));
    cols.push(
        Series::new(
            "role".into(),
            flat.iter()
                .map(|(_, b)| b.role.map(str::to_string))
                .collect::<Vec<_>>(),
        )
        .into_column(),
    );
    cols.push(fs("lost_revenue", &|b| b.lost.map(|m| m.v)));
    cols.push(fs("lost_revenue_low", &|b| b.lost.map(|m| m.lo)));
    cols.push(fs("lost_revenue_high", &|b| b.lost.map(|m| m.hi)));
    DataFrame::new_infer_height(cols)
        .map_err(anyhow::Error::from)
        .context("building the response-time bucket table")
}

#[cfg(test)]
mod tests {
    //! Known answers: fixtures/misalignment/EXPECTED.md.
    use super::*;
    use crate::metrics::testutil_misalign::fixture;

    fn analysis(by: Option<Dimension>) -> Analysis {
        Analysis {
            by,
            min_sample: 2,
            ..Analysis::default()
        }
    }

    fn row_of(df: &DataFrame, by: Option<&str>, key: Option<&str>) -> usize {
        match (by, key) {
            (Some(b), Some(k)) => df
                .column(b)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .position(|v| v == Some(k))
                .unwrap_or_else(|| panic!("no group {k}")),
            _ => 0,
        }
    }

    fn num(df: &DataFrame, name: &str, r: usize) -> Option<f64> {
        let c = df
            .column(name)
            .unwrap_or_else(|_| panic!("no column {name}"));
        let c = c.cast(&DataType::Float64).unwrap();
        c.f64().unwrap().get(r)
    }

    #[track_caller]
    fn close(df: &DataFrame, name: &str, r: usize, want: Option<f64>) {
        let got = num(df, name, r);
        match (got, want) {
            (Some(g), Some(w)) => assert!(
                (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                "{name} row {r}: got {g}, want {w}"
            ),
            (None, None) => {}
            _ => panic!("{name} row {r}: got {got:?}, want {want:?}"),
        }
    }

    /// Every spec id plus the measured inputs of one group.
    struct Want {
        ids: [Option<f64>; 19],
        inputs: Vec<(&'static str, Option<f64>)>,
    }

    fn check(df: &DataFrame, r: usize, w: &Want) {
        for (name, v) in SPEC_IDS.iter().zip(w.ids.iter()) {
            close(df, name, r, *v);
        }
        for (name, v) in &w.inputs {
            close(df, name, r, *v);
        }
    }

    fn whole() -> Want {
        Want {
            ids: [
                Some(0.3),
                Some(3.0),
                Some(13500.0),
                Some(450.0),
                Some(15750.0),
                Some(3.0),
                Some(450.0),
                Some(5000.0),
                Some(35150.0),
                Some(7626.7700981101),
                Some(94325.6260120170),
                Some(35150.0 / 45000.0),
                Some(15300.0),
                Some(100.0 * (10.0 / 13.0 + 2.0 / 3.0 + 0.5 + 17.0 / 21.0 + 41.0 / 63.0) / 5.0),
                Some(10.0 / 13.0),
                Some(2.0 / 3.0),
                Some(0.5),
                Some(17.0 / 21.0),
                Some(41.0 / 63.0),
            ],
            inputs: vec![
                ("mqls_reached", Some(14.0)),
                ("worked_mqls", Some(10.0)),
                ("worked_mqls_won", Some(3.0)),
                ("worked_mql_win_rate_low", Some(0.107791267406)),
                ("worked_mql_win_rate_high", Some(0.603221852539)),
                ("sla_mqls", Some(13.0)),
                ("contacted_mqls", Some(9.0)),
                ("contacted_within_24h", Some(6.0)),
                ("accepted_mqls", Some(7.0)),
                ("sql_reached", Some(5.0)),
                ("sql_won", Some(3.0)),
                ("sql_win_rate", Some(0.6)),
                ("sql_win_rate_low", Some(0.230724281276)),
                ("sql_win_rate_high", Some(0.882379225767)),
                ("bucket_le_1h_n", Some(4.0)),
                ("bucket_le_1h_sql_reached", Some(3.0)),
                ("bucket_le_1h_q", Some(0.75)),
                ("bucket_le_24h_n", Some(2.0)),
                ("bucket_le_24h_sql_reached", Some(1.0)),
                ("bucket_le_24h_q", Some(0.5)),
                ("bucket_le_72h_n", Some(2.0)),
                ("bucket_le_72h_sql_reached", Some(1.0)),
                ("bucket_le_72h_q", Some(0.5)),
                ("bucket_gt_72h_n", Some(1.0)),
                ("bucket_gt_72h_sql_reached", Some(0.0)),
                ("bucket_gt_72h_q", Some(0.0)),
                ("won_deals", Some(3.0)),
                ("lost_deals", Some(3.0)),
                ("win_rate", Some(0.5)),
                ("win_rate_low", Some(0.187616306483)),
                ("win_rate_high", Some(0.812383693517)),
                ("new_bookings", Some(45000.0)),
                ("avg_deal_size", Some(15000.0)),
                ("marketing_spend", Some(2100.0)),
                ("cost_per_mql", Some(150.0)),
                ("misfit_lost_deals", Some(2.0)),
                ("misfit_lost_amount", Some(10000.0)),
            ],
        }
    }

    #[test]
    fn wilson_known_values() {
        let (lo, hi) = wilson(3.0, 10.0).unwrap();
        assert!(
            (lo - 0.107791267406).abs() < 1e-11 && (hi - 0.603221852539).abs() < 1e-11,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0.0, 1.0).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.793450685623).abs() < 1e-11);
        let (lo, hi) = wilson(2.0, 2.0).unwrap();
        assert!((lo - 0.342380227507).abs() < 1e-11);
        assert_eq!(hi, 1.0);
        assert!(wilson(0.0, 0.0).is_none());
    }

    #[test]
    fn whole_range() {
        let ds = fixture("misalignment");
        let m = misalignment(&ds, &analysis(None)).unwrap();
        assert_eq!(m.frame.height(), 1);
        let names: Vec<String> = m
            .frame
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names, columns(&[1.0, 24.0, 72.0]));
        check(&m.frame, 0, &whole());
        let base = m
            .frame
            .column("followup_base_bucket")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .map(str::to_string);
        assert_eq!(base.as_deref(), Some("<= 1h"));
        assert!(m.notes.is_empty(), "{:?}", m.notes);

        // Bucket table: labels, roles, per-bucket lost revenue and bounds.
        let b = &m.buckets;
        assert_eq!(b.height(), 4);
        let labels: Vec<_> = b
            .column("bucket")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        assert_eq!(labels, ["<= 1h", "<= 24h", "<= 72h", "> 72h"]);
        let roles: Vec<_> = b
            .column("role")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        assert_eq!(roles, ["base", "slower", "slower", "slower"]);
        close(b, "lost_revenue", 0, None);
        close(b, "lost_revenue", 1, Some(4500.0));
        close(b, "lost_revenue", 2, Some(4500.0));
        close(b, "lost_revenue", 3, Some(6750.0));
        close(b, "lost_revenue_low", 1, Some(0.0));
        close(b, "lost_revenue_high", 1, Some(22762.2480522783));
        close(b, "lost_revenue_high", 3, Some(12632.3096080385));
        close(b, "q_low", 0, Some(0.300641842582));
        close(b, "q_high", 0, Some(0.954412739190));
        close(b, "q_high", 3, Some(0.793450685623));
    }

    #[test]
    fn by_channel() {
        let ds = fixture("misalignment");
        let m = misalignment(&ds, &analysis(Some(Dimension::Channel))).unwrap();
        let groups: Vec<_> = m
            .frame
            .column("channel")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        assert_eq!(groups, ["Organic", "Paid"]);
        assert_eq!(m.frame.get_column_names()[0].as_str(), "channel");
        let paid = Want {
            ids: [
                Some(0.2),
                Some(2.0),
                Some(4000.0),
                Some(300.0),
                Some(15000.0),
                Some(2.0),
                Some(300.0),
                Some(3000.0),
                Some(22600.0),
                Some(1891.6694070540),
                Some(45686.1839983172),
                Some(2.26),
                Some(3400.0),
                Some(100.0 * (5.0 / 7.0 + 0.6 + 0.375 + 0.75 + 1.0) / 5.0),
                Some(5.0 / 7.0),
                Some(0.6),
                Some(0.375),
                Some(0.75),
                Some(1.0),
            ],
            inputs: vec![
                ("mqls_reached", Some(8.0)),
                ("worked_mqls", Some(5.0)),
                ("worked_mqls_won", Some(1.0)),
                ("worked_mql_win_rate_low", Some(0.036224108632)),
                ("worked_mql_win_rate_high", Some(0.624465370237)),
                ("sla_mqls", Some(7.0)),
                ("contacted_mqls", Some(5.0)),
                ("contacted_within_24h", Some(3.0)),
                ("accepted_mqls", Some(3.0)),
                ("sql_reached", Some(2.0)),
                ("sql_won", Some(1.0)),
                ("sql_win_rate", Some(0.5)),
                ("bucket_le_1h_n", Some(2.0)),
                ("bucket_le_1h_q", Some(1.0)),
                ("bucket_le_24h_n", Some(1.0)),
                ("bucket_le_24h_q", Some(0.0)),
                ("bucket_le_72h_n", Some(1.0)),
                ("bucket_gt_72h_n", Some(1.0)),
                ("won_deals", Some(1.0)),
                ("lost_deals", Some(1.0)),
                ("win_rate", Some(0.5)),
                ("new_bookings", Some(10000.0)),
                ("avg_deal_size", Some(10000.0)),
                ("marketing_spend", Some(1200.0)),
                ("cost_per_mql", Some(150.0)),
                ("misfit_lost_deals", Some(1.0)),
                ("misfit_lost_amount", Some(6000.0)),
            ],
        };
        let organic = Want {
            ids: [
                Some(0.4),
                Some(1.0),
                Some(7000.0),
                Some(150.0),
                Some(0.0),
                Some(1.0),
                Some(150.0),
                Some(2000.0),
                Some(9300.0),
                Some(2958.5195056799),
                Some(40120.1237864138),
                Some(9300.0 / 35000.0),
                Some(11900.0),
                Some(100.0 * (5.0 / 6.0 + 0.75 + 4.0 / 6.0 + 5.0 / 6.0 + 1.0) / 5.0),
                Some(5.0 / 6.0),
                Some(0.75),
                Some(4.0 / 6.0),
                Some(5.0 / 6.0),
                Some(1.0),
            ],
            inputs: vec![
                ("mqls_reached", Some(6.0)),
                ("worked_mqls", Some(5.0)),
                ("worked_mqls_won", Some(2.0)),
                ("worked_mql_win_rate_low", Some(0.117620774233)),
                ("worked_mql_win_rate_high", Some(0.769275718724)),
                ("sla_mqls", Some(6.0)),
                ("contacted_mqls", Some(4.0)),
                ("contacted_within_24h", Some(3.0)),
                ("accepted_mqls", Some(4.0)),
                ("sql_reached", Some(3.0)),
                ("sql_won", Some(2.0)),
                ("sql_win_rate", Some(2.0 / 3.0)),
                ("bucket_le_1h_n", Some(2.0)),
                ("bucket_le_1h_q", Some(0.5)),
                ("bucket_le_24h_n", Some(1.0)),
                ("bucket_le_24h_q", Some(1.0)),
                ("bucket_le_72h_n", Some(1.0)),
                ("bucket_gt_72h_n", Some(0.0)),
                ("bucket_gt_72h_q", None),
                ("won_deals", Some(2.0)),
                ("lost_deals", Some(2.0)),
                ("win_rate", Some(0.5)),
                ("new_bookings", Some(35000.0)),
                ("avg_deal_size", Some(17500.0)),
                ("marketing_spend", Some(900.0)),
                ("cost_per_mql", Some(150.0)),
                ("misfit_lost_deals", Some(1.0)),
                ("misfit_lost_amount", Some(4000.0)),
            ],
        };
        check(
            &m.frame,
            row_of(&m.frame, Some("channel"), Some("Paid")),
            &paid,
        );
        check(
            &m.frame,
            row_of(&m.frame, Some("channel"), Some("Organic")),
            &organic,
        );
        assert_eq!(m.buckets.height(), 8);
        assert_eq!(m.buckets.get_column_names()[0].as_str(), "channel");
    }

    #[test]
    fn min_sample_too_high_nulls_slow_followup_only() {
        let ds = fixture("misalignment");
        let a = Analysis {
            min_sample: 5,
            ..Analysis::default()
        };
        let m = misalignment(&ds, &a).unwrap();
        close(&m.frame, "slow_followup_lost_revenue", 0, None);
        // The other four money components still add up: 13500 + 450 + 450 + 5000.
        close(&m.frame, "misalignment_cost", 0, Some(19400.0));
        close(&m.frame, "misalignment_cost_low", 0, Some(7626.7700981101));
        close(
            &m.frame,
            "misalignment_cost_high",
            0,
            Some(94325.6260120170 - 58156.8057125951),
        );
        assert!(
            m.notes
                .iter()
                .any(|n| n.contains("no response-time bucket has 5 contacted MQLs (min_sample)")),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn no_first_contact_column() {
        let ds = fixture("misalignment-nocontact");
        let m = misalignment(&ds, &analysis(None)).unwrap();
        let f = &m.frame;
        // Worked = reached sal, sql or opportunity: L01 L02 L04 L10 L11 L12
        // L14 = 7, won L01 L10 L11 = 3.
        close(f, "worked_mql_win_rate", 0, Some(3.0 / 7.0));
        close(f, "worked_mqls", 0, Some(7.0));
        close(f, "worked_mql_win_rate_low", 0, Some(0.158219855251));
        close(f, "worked_mql_win_rate_high", 0, Some(0.749541635472));
        for id in [
            "unworked_mqls",
            "unworked_mql_lost_revenue",
            "unworked_mql_wasted_spend",
            "slow_followup_lost_revenue",
            "followup_component",
            "speed_component",
            "contacted_mqls",
            "bucket_le_1h_n",
        ] {
            close(f, id, 0, None);
        }
        close(f, "rejected_mqls", 0, Some(3.0));
        close(f, "rejected_mql_wasted_spend", 0, Some(450.0));
        close(f, "misfit_lost_pipeline", 0, Some(5000.0));
        close(f, "misalignment_cost", 0, Some(5450.0));
        close(f, "misalignment_cost_low", 0, Some(450.0 + 1876.1630648265));
        close(
            f,
            "misalignment_cost_high",
            0,
            Some(450.0 + 8123.8369351735),
        );
        close(f, "misalignment_cost_share", 0, Some(5450.0 / 45000.0));
        close(f, "alignment_uplift_scenario", 0, Some(15300.0));
        close(f, "acceptance_component", 0, Some(0.5));
        close(f, "icp_component", 0, Some(17.0 / 21.0));
        close(f, "channel_component", 0, Some(41.0 / 63.0));
        close(
            f,
            "alignment_score",
            0,
            Some(100.0 * (0.5 + 17.0 / 21.0 + 41.0 / 63.0) / 3.0),
        );
        close(f, "mqls_reached", 0, Some(14.0));
        close(f, "sql_win_rate", 0, Some(0.6));
        assert_eq!(m.buckets.height(), 0);
        assert!(
            m.notes
                .iter()
                .any(|n| n.contains("follow-up components need leads.first_contact_at")),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn date_range_keeps_whole_periods() {
        // --period week --from 2024-01-01 --to 2024-01-03: the ISO week of
        // 2024-01-01 (a Monday), i.e. [2024-01-01, 2024-01-08): leads L01-L06;
        // no deal closes in it; spend is the 2024-01-01 rows (600 + 450).
        let ds = fixture("misalignment");
        let ts = crate::metrics::testutil_misalign::ts;
        let a = Analysis {
            period: PeriodKind::Week,
            from: Some(ts("2024-01-01").unwrap()),
            to: Some(ts("2024-01-03").unwrap()),
            min_sample: 2,
            ..Analysis::default()
        };
        assert_eq!(
            range_bounds(&a),
            (
                Some(ts("2024-01-01").unwrap()),
                Some(ts("2024-01-08").unwrap())
            )
        );
        let m = misalignment(&ds, &a).unwrap();
        let f = &m.frame;
        close(f, "mqls_reached", 0, Some(6.0));
        close(f, "unworked_mqls", 0, Some(1.0)); // L06
        close(f, "rejected_mqls", 0, Some(1.0)); // L03
        close(f, "marketing_spend", 0, Some(1050.0));
        close(f, "cost_per_mql", 0, Some(175.0));
        close(f, "won_deals", 0, Some(0.0));
        close(f, "worked_mql_win_rate", 0, Some(0.2)); // L01 of L01-L05 won (in February)
        close(f, "win_rate", 0, None);
        close(f, "avg_deal_size", 0, None);
        close(f, "unworked_mql_lost_revenue", 0, None);
        close(f, "slow_followup_lost_revenue", 0, None);
        close(f, "misfit_lost_pipeline", 0, None);
        close(f, "misalignment_cost", 0, Some(350.0));
        close(f, "misalignment_cost_share", 0, None);
        // Month periods: --from 2024-01-15 --to 2024-02-10 covers January and February.
        let a = Analysis {
            from: Some(ts("2024-01-15").unwrap()),
            to: Some(ts("2024-02-10").unwrap()),
            ..a
        };
        let a = Analysis {
            period: PeriodKind::Month,
            ..a
        };
        assert_eq!(
            range_bounds(&a),
            (
                Some(ts("2024-01-01").unwrap()),
                Some(ts("2024-03-01").unwrap())
            )
        );
    }
}

#[cfg(test)]
mod real_loader_tests {
    //! The same known answers through the real loader and configuration
    //! (fixtures/misalignment/revcycle.toml sets min_sample = 2).
    use super::*;
    use crate::cli::PeriodArgs;
    use crate::config::Config;
    use crate::input::{load, InputSpec};

    fn load_fixture(name: &str, by: Option<Dimension>) -> (Dataset, Analysis) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        let cfg = Config::load(Some(&dir.join("revcycle.toml"))).expect("config");
        let spec = InputSpec {
            dir: Some(dir),
            ..InputSpec::default()
        };
        let loaded = load(&spec, &cfg, None, true).expect("loads");
        let mut a = crate::cmd::common::analysis(&cfg, &PeriodArgs::default()).expect("settings");
        a.by = by;
        (loaded.dataset, a)
    }

    fn get(df: &DataFrame, name: &str, r: usize) -> Option<f64> {
        df.column(name)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .get(r)
    }

    #[test]
    fn real_loader_gives_the_same_answers() {
        let (ds, a) = load_fixture("misalignment", None);
        assert_eq!(a.min_sample, 2);
        assert_eq!(
            ds.as_of,
            crate::metrics::testutil_misalign::ts("2024-04-30").unwrap()
        );
        let m = misalignment(&ds, &a).unwrap();
        let f = &m.frame;
        for (id, want) in [
            ("misalignment_cost", 35150.0),
            ("misalignment_cost_low", 7626.7700981101),
            ("misalignment_cost_high", 94325.6260120170),
            ("slow_followup_lost_revenue", 15750.0),
            ("unworked_mqls", 3.0),
            ("rejected_mqls", 3.0),
            ("alignment_score", 67.924297924298),
        ] {
            let got = get(f, id, 0).unwrap_or_else(|| panic!("{id} null"));
            assert!(
                (got - want).abs() < 1e-6 * want.max(1.0),
                "{id}: {got} vs {want}"
            );
        }
        let (ds, a) = load_fixture("misalignment", Some(Dimension::Channel));
        let m = misalignment(&ds, &a).unwrap();
        assert_eq!(m.frame.height(), 2);
        let (ds, a) = load_fixture("misalignment-nocontact", None);
        let m = misalignment(&ds, &a).unwrap();
        assert_eq!(get(&m.frame, "slow_followup_lost_revenue", 0), None);
        let got = get(&m.frame, "misalignment_cost", 0).unwrap();
        assert!((got - 5450.0).abs() < 1e-6, "{got}");
    }
}

#[cfg(test)]
mod demo_tests {
    //! The demo data set is built to make Events slow to follow up and Paid
    //! Social rich in MQLs but poor in wins; the by-channel result must say so.
    use super::*;
    use crate::config::Config;
    use crate::input::{load, InputSpec};

    #[test]
    fn demo_names_slow_and_mql_rich_channels() {
        let cfg = Config::default();
        let spec = InputSpec {
            demo: true,
            ..InputSpec::default()
        };
        let loaded = load(&spec, &cfg, None, true).expect("demo loads");
        // Whole range (what `revcycle misalignment --demo` prints) and --by channel.
        let whole = misalignment(&loaded.dataset, &Analysis::default()).unwrap();
        let text = crate::output::misalignment::render(&whole, "$", 140);
        assert!(
            text.contains("slowest to follow up: channel Events"),
            "{text}"
        );
        assert!(
            text.contains("rich in MQLs, poor in wins: channel Paid Social"),
            "{text}"
        );
        let a = Analysis {
            by: Some(Dimension::Channel),
            ..Analysis::default()
        };
        let m = misalignment(&loaded.dataset, &a).unwrap();
        let text = crate::output::misalignment::render(&m, "$", 140);
        assert!(
            text.contains("slowest to follow up: channel Events"),
            "{text}"
        );
        assert!(
            text.contains("rich in MQLs, poor in wins: channel Paid Social"),
            "{text}"
        );
    }
}
