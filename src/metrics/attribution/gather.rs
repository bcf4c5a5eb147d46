//! The engine's `Input` from the loaded tables (polars queries only; the
//! arithmetic is the engine's): leads with their resolved channel, touches
//! with theirs, the conversions of `--credit`, spend per period and unit.
//!
//! Only the columns the engine reads are selected, and text values are
//! interned (one shared `Name` per distinct channel, campaign, touch type).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;
use polars::prelude::*;

use crate::errors::PolarsCtx;

use super::channel::Rules;
use super::{none_unit, By, Conversion, CreditKind, Input, Lead, Name, SpendRow, Touch};
use crate::metrics::common::{campaign_channels, campaigns_with_dim, lead_stages, money_sum, DIM};
use crate::metrics::periods::PeriodSpec;
use crate::model::Dataset;
use crate::settings::Dimension;

/// What gathering found besides the input, for notes and `validate`.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    pub input: Input,
    /// A touches table was loaded (else every lead has its one touch).
    pub has_touches: bool,
    /// Touches whose `lead_id` is not a loaded lead (left out).
    pub orphan_touches: u64,
    /// Loaded leads with no touch at all (when a touches table is loaded).
    pub leads_without_touches: u64,
}

/// Shares one `Name` per distinct text.
#[derive(Default)]
struct Interner(HashMap<String, Name>);

impl Interner {
    fn get(&mut self, s: Option<&str>) -> Name {
        let s = s.map(str::trim).unwrap_or("");
        if let Some(n) = self.0.get(s) {
            return n.clone();
        }
        let n: Name = Arc::from(s);
        self.0.insert(s.to_string(), n.clone());
        n
    }
}

fn strs(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let c = df.column(name).ctx(name)?;
    let c = c.cast(&DataType::String).ctx(name)?;
    Ok(c.str()
        .ctx(name)?
        .iter()
        .map(|s| s.map(str::to_string))
        .collect())
}

fn ints(df: &DataFrame, name: &str) -> Result<Vec<Option<i64>>> {
    let c = df.column(name).ctx(name)?;
    let c = c.cast(&DataType::Int64).ctx(name)?;
    Ok(c.i64().ctx(name)?.iter().collect())
}

fn floats(df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    let c = df.column(name).ctx(name)?;
    let c = c.cast(&DataType::Float64).ctx(name)?;
    Ok(c.f64().ctx(name)?.iter().collect())
}

/// Gather the engine's input. `periods` are the reported periods of `spec`.
pub fn gather(
    ds: &Dataset,
    spec: &PeriodSpec,
    periods: &[i64],
    by: By,
    credit: CreditKind,
    rules: &Rules,
) -> Result<Gathered> {
    let mut names = Interner::default();
    let mut out = Gathered::default();

    // Leads: id, created_at, resolved channel, campaign, effective MQL date.
    let stages = lead_stages(ds, None);
    let has_mql = ds.leads.as_ref().is_some_and(|_| {
        crate::metrics::common::ladder(ds).contains(&crate::metrics::common::Stage::Mql)
    });
    let mut sel = vec![
        col("lead_id"),
        col("created_at"),
        col("channel"),
        col("campaign_id"),
    ];
    if has_mql {
        sel.push(col("eff_mql"));
    }
    let leads_df = (stages
        .filter(
            col("lead_id")
                .is_not_null()
                .and(col("created_at").is_not_null()),
        )
        .select(sel)
        .collect())
    .ctx("gathering leads for attribution")?;
    let ids = strs(&leads_df, "lead_id")?;
    let created = ints(&leads_df, "created_at")?;
    let chans = strs(&leads_df, "channel")?;
    let camps = strs(&leads_df, "campaign_id")?;
    let mqls = if has_mql {
        ints(&leads_df, "eff_mql")?
    } else {
        vec![None; ids.len()]
    };
    drop(leads_df);
    let mut index: HashMap<String, usize> = HashMap::with_capacity(ids.len());
    for (i, id) in ids.into_iter().enumerate() {
        let id = id.unwrap_or_default();
        index.entry(id.clone()).or_insert(i);
        out.input.leads.push(Lead {
            id,
            created_at: created[i].unwrap_or(0),
            channel: names.get(chans[i].as_deref()),
            campaign_id: names.get(camps[i].as_deref()),
        });
    }

    // Touches: channel as written, else the campaign's, else source/medium.
    if let Some(t) = &ds.touches {
        out.has_touches = true;
        // Campaign id -> channel: one row per campaign, looked up here so
        // that the touches keep their file order.
        let cc = (campaign_channels(ds).collect()).ctx("campaign channels")?;
        let camp_channel: HashMap<String, String> = strs(&cc, "campaign_id")?
            .into_iter()
            .zip(strs(&cc, "campaign_channel")?)
            .filter_map(|(k, v)| Some((k?, v?)))
            .collect();
        let df = (t
            .lazy()
            .select([
                col("lead_id"),
                col("touched_at"),
                col("channel").str().strip_chars(lit(NULL)),
                col("campaign_id"),
                col("touch_type"),
                col("source"),
                col("medium"),
            ])
            .collect())
        .ctx("gathering touches")?;
        // Column by column in lockstep, borrowing the text (no copy per row).
        let text = |c: &str| -> Result<StringChunked> {
            let col = df.column(c).ctx(c)?;
            Ok(col.str().ctx(c)?.clone())
        };
        let (lead, own, camp, tt, src, med) = (
            text("lead_id")?,
            text("channel")?,
            text("campaign_id")?,
            text("touch_type")?,
            text("source")?,
            text("medium")?,
        );
        let at = (df
            .column("touched_at")
            .ctx("touched_at")?
            .cast(&DataType::Int64))
        .ctx("touched_at")?;
        let at = at.i64().ctx("touched_at")?.clone();
        drop(df);
        let mut rule_cache: HashMap<(String, String), Name> = HashMap::new();
        let mut touched = vec![false; out.input.leads.len()];
        let rows = lead
            .iter()
            .zip(at.iter())
            .zip(own.iter())
            .zip(camp.iter())
            .zip(tt.iter())
            .zip(src.iter().zip(med.iter()));
        for (i, (((((l, at), own), camp), tt), (src, med))) in rows.enumerate() {
            let Some(&li) = l.and_then(|l| index.get(l)) else {
                out.orphan_touches += 1;
                continue;
            };
            let Some(at) = at else { continue };
            touched[li] = true;
            let channel = match own.filter(|c| !c.is_empty()) {
                Some(c) => names.get(Some(c)),
                None => match camp.and_then(|c| camp_channel.get(c)) {
                    Some(c) => names.get(Some(c.as_str())),
                    None => {
                        let key = (src.unwrap_or("").to_string(), med.unwrap_or("").to_string());
                        rule_cache
                            .entry(key)
                            .or_insert_with(|| {
                                rules
                                    .channel(src, med)
                                    .map(|c| Name::from(c.as_str()))
                                    .unwrap_or_else(none_unit)
                            })
                            .clone()
                    }
                },
            };
            out.input.touches.push(Touch {
                lead: li,
                at,
                channel,
                campaign_id: names.get(camp),
                touch_type: names.get(tt),
                order: i as u64,
            });
        }
        out.leads_without_touches = touched.iter().filter(|t| !**t).count() as u64;
    }

    // Conversions.
    match credit {
        CreditKind::Mql => {
            for (i, m) in mqls.iter().enumerate() {
                if let Some(m) = m {
                    out.input.conversions.push(Conversion {
                        id: out.input.leads[i].id.clone(),
                        lead: i,
                        instant: *m,
                        value: 1.0,
                        opp_created_at: None,
                        period: spec.index_of(*m),
                    });
                }
            }
        }
        CreditKind::Won | CreditKind::Opportunity => {
            if let Some(o) = &ds.opportunities {
                let new_business = col("type").is_null().or(col("type")
                    .neq(lit("expansion"))
                    .and(col("type").neq(lit("renewal"))));
                let mut cond = col("lead_id").is_not_null().and(new_business);
                if credit == CreditKind::Won {
                    cond = cond
                        .and(col("status").eq(lit("won")))
                        .and(col("close_date").is_not_null());
                }
                let instant = if credit == CreditKind::Won {
                    "close_date"
                } else {
                    "created_at"
                };
                let df = (o
                    .lazy()
                    .filter(cond)
                    .select([
                        col("opportunity_id"),
                        col("lead_id"),
                        col(instant).alias("__instant"),
                        col("created_at"),
                        col("amount").fill_null(lit(0.0)),
                    ])
                    .collect())
                .ctx("gathering conversions")?;
                let oid = strs(&df, "opportunity_id")?;
                let lid = strs(&df, "lead_id")?;
                let inst = ints(&df, "__instant")?;
                let oc = ints(&df, "created_at")?;
                let amt = floats(&df, "amount")?;
                for i in 0..oid.len() {
                    let (Some(li), Some(t)) =
                        (lid[i].as_deref().and_then(|l| index.get(l)), inst[i])
                    else {
                        continue;
                    };
                    out.input.conversions.push(Conversion {
                        id: oid[i].clone().unwrap_or_default(),
                        lead: *li,
                        instant: t,
                        value: amt[i].unwrap_or(0.0),
                        opp_created_at: oc[i],
                        period: spec.index_of(t),
                    });
                }
            }
        }
    }
    out.input.periods = periods.to_vec();

    // Spend per (period, unit) of the reported periods.
    if ds.campaigns.is_some() {
        let dim = match by {
            By::Channel => Dimension::Channel,
            By::Campaign => Dimension::Campaign,
        };
        let mut rows = Vec::new();
        if let Some(lf) = campaigns_with_dim(ds, Some(dim)) {
            let df = (lf
                .filter(col("date").is_not_null().and(col("spend").is_not_null()))
                .with_column(spec.index_expr(col("date")).alias("__period"))
                .group_by([col("__period"), col(DIM)])
                .agg([money_sum(col("spend")).alias("spend")])
                .collect())
            .ctx("gathering spend")?;
            let p = ints(&df, "__period")?;
            let u = strs(&df, DIM)?;
            let a = floats(&df, "spend")?;
            for i in 0..p.len() {
                let Some(period) = p[i] else { continue };
                if !periods.contains(&period) {
                    continue;
                }
                rows.push(SpendRow {
                    period,
                    unit: names.get(u[i].as_deref()),
                    amount: a[i].unwrap_or(0.0),
                });
            }
        }
        rows.sort_by(|a, b| (a.period, &a.unit).cmp(&(b.period, &b.unit)));
        out.input.spend = Some(rows);
    }
    Ok(out)
}
