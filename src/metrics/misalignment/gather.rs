//! Gathering: the polars queries that reduce leads, deals and spend to a
//! handful of counts and sums per group ([`Group`]).

use std::collections::BTreeMap;

use anyhow::Result;
use polars::prelude::*;

use crate::errors::PolarsCtx;

use super::{range_bounds, ALL, G, SPEED_HOURS};
use crate::metrics::common::{
    campaign_channels, campaigns_with_dim, ladder, money_micros_of, money_of_micros, money_sum,
    with_lead_channel_by_row, with_lead_columns, Stage, DIM, LEAD_CHANNEL_BY_ROW,
};
use crate::metrics::shared::{kept, Shared};
use crate::model::{Dataset, TableKind};
use crate::settings::{Analysis, Dimension, NONE_GROUP};

/// Which inputs the data provides (dataset level).
pub(super) struct Avail {
    pub(super) mql: bool,
    /// The stage that counts as "accepted by sales": sal, else sql.
    pub(super) accept: Option<Stage>,
    pub(super) sql: bool,
    pub(super) won: bool,
    pub(super) contact: bool,
    pub(super) disq: bool,
    pub(super) opps: bool,
    pub(super) amount: bool,
    pub(super) loss_reason: bool,
    pub(super) spend: bool,
    pub(super) segment: bool,
    pub(super) channel: bool,
    /// The registry's answer: components it calls unavailable are null and
    /// the score averages the others.
    pub(super) registry: crate::metrics::registry::Availability,
}

/// Aggregated counts of one group.
#[derive(Debug, Default, Clone)]
pub(super) struct Group {
    pub(super) mqls: i64,
    pub(super) worked: i64,
    pub(super) worked_won: i64,
    pub(super) sla_mqls: i64,
    pub(super) unworked: i64,
    pub(super) contacted: i64,
    pub(super) contacted_fast: i64,
    pub(super) accepted: i64,
    pub(super) sql: i64,
    pub(super) sql_won: i64,
    pub(super) rejected: i64,
    /// (n, reached sql) per bucket, fastest first.
    pub(super) buckets: Vec<(i64, i64)>,
    pub(super) won_deals: i64,
    pub(super) lost_deals: i64,
    pub(super) bookings: f64,
    pub(super) spend: f64,
    /// Lost new-business deals by loss reason: (count, amount).
    pub(super) lost_by_reason: Vec<(String, i64, f64)>,
    pub(super) mql_segments: BTreeMap<String, f64>,
    pub(super) won_segments: BTreeMap<String, f64>,
    pub(super) mql_channels: BTreeMap<String, f64>,
    pub(super) booking_channels: BTreeMap<String, f64>,
}

/// Which inputs the data provides, for a split by `by` (spend splits by
/// channel and campaign only).
pub(super) fn avail(ds: &Dataset, by: Option<Dimension>) -> Result<Avail> {
    let stages = ladder(ds);
    let uses = |s: Stage| stages.contains(&s);
    let leads_has = |c: &str| ds.has_values(TableKind::Leads, c);
    let opps_has = |c: &str| ds.has_values(TableKind::Opportunities, c);
    let spend_lf = if ds.campaigns.is_some() {
        campaigns_with_dim(ds, by)
    } else {
        None
    };
    Ok(Avail {
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
    })
}

/// The aggregated counts of every group of `a.by` (one group, `(all)`,
/// without it): the polars half of the metric.
pub(super) fn gather(shared: &Shared, a: &Analysis, av: &Avail) -> Result<BTreeMap<String, Group>> {
    let ds = shared.dataset();
    let stages = ladder(ds);
    let uses = |s: Stage| stages.contains(&s);
    let spend_lf = if ds.campaigns.is_some() && av.spend {
        campaigns_with_dim(ds, a.by)
    } else {
        None
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
        let lf = shared
            .lead_stages(a.by, true)
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
        // (Into a Parquet file when the run spills: one row per lead.)
        let lf = kept(ds, lf, "computing per-lead flags for misalignment")?;

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
            .ctx("aggregating leads for misalignment")?;
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
            .ctx("counting response-time buckets")?;
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
                .ctx(format!("MQL {src} mix"))?;
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
        // The `--by` value of a deal is resolved from the same joined columns
        // (as `common::opportunities_with_dim` does, without a second pass
        // over the leads): own, else the lead's, else (channel) the deal's
        // campaign's.
        let mut info = vec![
            col("lead_id"),
            col("segment").alias("__lead_segment"),
            col("channel").alias("__lead_channel"),
        ];
        // The same lead columns read by row when the tables are in memory
        // (`with_lead_columns`): the lead's own channel and campaign,
        // resolved below as `lead_dims` resolves them.
        let mut by_row = vec![("segment", "__lead_segment")];
        by_row.extend(LEAD_CHANNEL_BY_ROW);
        let opp_group = match a.by {
            None => lit(ALL),
            Some(Dimension::Channel) => col("__chan"),
            Some(Dimension::Segment) => col("__seg"),
            Some(by) => {
                info.push(col(by.column()).alias("__lead_dim"));
                by_row.push((by.column(), "__lead_dim"));
                coalesce(&[col(by.column()), col("__lead_dim")]).fill_null(lit(NONE_GROUP))
            }
        };
        let camp = campaign_channels(ds).select([
            col("campaign_id"),
            col("campaign_channel").alias("__camp_channel"),
        ]);
        let closed = ds
            .table_or_empty(TableKind::Opportunities)
            .lazy()
            .filter(
                col("type")
                    .eq(lit("new_business"))
                    .and(in_range(col("close_date"), a))
                    .and(
                        col("status")
                            .eq(lit("won"))
                            .or(col("status").eq(lit("lost"))),
                    ),
            );
        let by_row = if ds.spill_dir().is_none() {
            let rows = closed.clone().collect().ctx("closed deals")?;
            with_lead_columns(ds, rows, &by_row)
                .transpose()
                .ctx("reading the leads of closed deals")?
        } else {
            None
        };
        let with_leads = match by_row {
            Some(df) => with_lead_channel_by_row(ds, df.lazy(), "__lead_channel"),
            None => {
                // Leads with their channel resolved; no stage dates needed here.
                let lead_info = shared.lead_dims(Some(Dimension::Channel)).select(info);
                closed.join(
                    lead_info,
                    [col("lead_id")],
                    [col("lead_id")],
                    JoinArgs::new(JoinType::Left),
                )
            }
        };
        let lf = with_leads
            .join(
                camp,
                [col("campaign_id")],
                [col("campaign_id")],
                JoinArgs::new(JoinType::Left),
            )
            .with_columns([
                col("status").eq(lit("won")).alias("__won"),
                coalesce(&[col("segment"), col("__lead_segment")])
                    .fill_null(lit(NONE_GROUP))
                    .alias("__seg"),
                coalesce(&[col("channel"), col("__lead_channel"), col("__camp_channel")])
                    .fill_null(lit(NONE_GROUP))
                    .alias("__chan"),
            ])
            .with_column(opp_group.alias(G))
            .select([
                col(G),
                col("__won"),
                col("__seg"),
                col("__chan"),
                col("amount"),
                col("loss_reason"),
            ]);
        // Four aggregations read these closed deals: join once.
        let lf = kept(ds, lf, "joining deals to their leads for misalignment")?;
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
            .ctx("aggregating deals for misalignment")?;
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
            .ctx("lost deals by reason")?;
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
            .ctx("won deals by segment")?;
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
            .ctx("bookings by channel")?;
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
            .ctx("summing spend for misalignment")?;
        let (keys, spend) = (col_str(&sp, G)?, col_f64(&sp, "spend")?);
        for r in 0..keys.len() {
            let g = groups
                .entry(keys[r].clone())
                .or_insert_with(|| blank.clone());
            g.spend = spend[r];
        }
    }

    Ok(groups)
}

/// The groups of a split added up into one (`(all)`): every field of a
/// [`Group`] is a count or a money sum, so the whole range is the sum of its
/// parts. Money adds in integer millionths (each part is an exact millionth),
/// so the total has the very bits a single unsplit sum has.
pub(super) fn total_of(groups: &BTreeMap<String, Group>, nb: usize) -> Group {
    let money = |parts: &mut dyn Iterator<Item = f64>| -> f64 {
        money_of_micros(parts.map(money_micros_of).sum())
    };
    let mut t = Group {
        buckets: vec![(0, 0); nb],
        ..Default::default()
    };
    let mut reasons: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut booking_channels: BTreeMap<String, i64> = BTreeMap::new();
    for g in groups.values() {
        t.mqls += g.mqls;
        t.worked += g.worked;
        t.worked_won += g.worked_won;
        t.sla_mqls += g.sla_mqls;
        t.unworked += g.unworked;
        t.contacted += g.contacted;
        t.contacted_fast += g.contacted_fast;
        t.accepted += g.accepted;
        t.sql += g.sql;
        t.sql_won += g.sql_won;
        t.rejected += g.rejected;
        for (slot, (n, s)) in t.buckets.iter_mut().zip(&g.buckets) {
            slot.0 += n;
            slot.1 += s;
        }
        t.won_deals += g.won_deals;
        t.lost_deals += g.lost_deals;
        for (reason, n, amount) in &g.lost_by_reason {
            let e = reasons.entry(reason.clone()).or_insert((0, 0));
            e.0 += n;
            e.1 += money_micros_of(*amount);
        }
        for (k, v) in &g.mql_segments {
            *t.mql_segments.entry(k.clone()).or_insert(0.0) += v;
        }
        for (k, v) in &g.won_segments {
            *t.won_segments.entry(k.clone()).or_insert(0.0) += v;
        }
        for (k, v) in &g.mql_channels {
            *t.mql_channels.entry(k.clone()).or_insert(0.0) += v;
        }
        for (k, v) in &g.booking_channels {
            *booking_channels.entry(k.clone()).or_insert(0) += money_micros_of(*v);
        }
    }
    t.bookings = money(&mut groups.values().map(|g| g.bookings));
    t.spend = money(&mut groups.values().map(|g| g.spend));
    t.lost_by_reason = reasons
        .into_iter()
        .map(|(r, (n, m))| (r, n, money_of_micros(m)))
        .collect();
    t.booking_channels = booking_channels
        .into_iter()
        .map(|(k, m)| (k, money_of_micros(m)))
        .collect();
    t
}

pub(super) fn in_range(e: Expr, a: &Analysis) -> Expr {
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
