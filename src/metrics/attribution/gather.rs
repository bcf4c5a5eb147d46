//! The engine's `Input` from the loaded tables (polars queries only; the
//! arithmetic is the engine's): leads with their resolved channel, touches
//! with theirs, the conversions of `--credit`, spend per period and unit.
//!
//! Only the columns the engine reads are selected, and the input is built
//! straight into its compact form (`compact::Builder`): text values are
//! interned as ids, a touch is 16 bytes, no per-touch or per-lead string.
//! The touches arrive coded (`model::Touches`): their lead ids are found
//! through the lead dictionary, and each distinct kind (tuple of codes) is
//! resolved to the engine's names once.

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;

use crate::errors::PolarsCtx;

use super::channel::Rules;
use rayon::prelude::*;

use super::compact::{Builder, CLead, CTouch, Compact};
use super::hash::FastMap;
use super::{By, Conversion, CreditKind, SpendRow, NONE_UNIT};
use crate::dict::IdIndex;
use crate::metrics::common::{
    campaign_channels, campaigns_with_dim, lead_dims, lead_stages, money_sum, DIM,
};
use crate::metrics::periods::PeriodSpec;
use crate::model::{Dataset, Touches};
use crate::settings::Dimension;

/// What gathering found besides the input, for notes and `validate`.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    pub input: Compact,
    /// A touches table was loaded (else every lead has its one touch).
    pub has_touches: bool,
    /// Touches whose `lead_id` is not a loaded lead (left out).
    pub orphan_touches: u64,
    /// Loaded leads with no touch at all (when a touches table is loaded).
    pub leads_without_touches: u64,
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

/// The leads (`created_at`, channel, campaign) with their texts interned
/// in `b`, resolved on every core: each part of the leads interns its texts
/// in a map of its own (few distinct values), then those few are interned
/// in `b` and the part's ids renumbered. Ids only name texts (`Builder::finish`
/// renumbers them in byte order), so the result is the same as one by one.
fn leads(
    b: &mut Builder,
    created: &[Option<i64>],
    chans: &StringChunked,
    camps: &StringChunked,
) -> Vec<CLead> {
    const PART: usize = 1 << 16;
    let empty = CLead {
        created_at: 0,
        channel: 0,
        campaign: 0,
    };
    let mut leads = vec![empty; created.len()];
    let texts: Vec<Vec<String>> = leads
        .par_chunks_mut(PART)
        .enumerate()
        .map(|(p, out)| {
            let a = p * PART;
            let (ch, cp) = (chans.slice(a as i64, out.len()), camps.slice(a as i64, out.len()));
            let mut ids: FastMap<&str, u32> = FastMap::default();
            let mut texts: Vec<String> = Vec::new();
            for (i, (l, (c, m))) in out.iter_mut().zip(ch.iter().zip(cp.iter())).enumerate() {
                *l = CLead {
                    created_at: created[a + i].unwrap_or(0),
                    channel: local_id(&mut ids, &mut texts, c),
                    campaign: local_id(&mut ids, &mut texts, m),
                };
            }
            texts
        })
        .collect();
    let global: Vec<Vec<u32>> = texts
        .iter()
        .map(|t| t.iter().map(|s| b.name(s)).collect())
        .collect();
    leads
        .par_chunks_mut(PART)
        .zip(global.par_iter())
        .for_each(|(out, g)| {
            for l in out {
                l.channel = g[l.channel as usize];
                l.campaign = g[l.campaign as usize];
            }
        });
    leads
}

/// The id of `s` (None: the empty text) among a part's `texts`, added when new.
fn local_id<'s>(ids: &mut FastMap<&'s str, u32>, texts: &mut Vec<String>, s: Option<&'s str>) -> u32 {
    let s = s.unwrap_or("");
    *ids.entry(s).or_insert_with(|| {
        texts.push(s.to_string());
        texts.len() as u32 - 1
    })
}

/// Gather the engine's input. `periods` are the reported periods of `spec`.
/// `touches` (the dataset's, taken out of it or a copy) are consumed: their
/// rows become the engine's touches in place, and their dictionaries are
/// dropped before this returns.
pub fn gather(
    ds: &Dataset,
    touches: Option<Touches>,
    spec: &PeriodSpec,
    periods: &[i64],
    by: By,
    credit: CreditKind,
    rules: &Rules,
) -> Result<Gathered> {
    let mut b = Builder::new();
    let mut out = Gathered::default();
    let mut conversions: Vec<Conversion> = Vec::new();

    // Leads: id, created_at, resolved channel, campaign, effective MQL date
    // (read only by `--credit mql`: the other credits skip the stage dates,
    // a join of every lead with the opportunities).
    let has_mql = credit == CreditKind::Mql
        && ds.leads.as_ref().is_some_and(|_| {
            crate::metrics::common::ladder(ds).contains(&crate::metrics::common::Stage::Mql)
        });
    let stages = match has_mql {
        true => lead_stages(ds, None),
        false => lead_dims(ds, Some(Dimension::Channel)),
    };
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
    let ids = leads_df.column("lead_id").ctx("lead_id")?;
    let ids = ids.cast(&DataType::String).ctx("lead_id")?;
    let ids = ids.str().ctx("lead_id")?.clone();
    let created = ints(&leads_df, "created_at")?;
    let mqls = if has_mql {
        ints(&leads_df, "eff_mql")?
    } else {
        vec![None; ids.len()]
    };
    {
        let text = |c: &str| -> Result<StringChunked> {
            let col = leads_df.column(c).ctx(c)?;
            let col = col.cast(&DataType::String).ctx(c)?;
            Ok(col.str().ctx(c)?.clone())
        };
        let (chans, camps) = (text("channel")?, text("campaign_id")?);
        let leads = leads(&mut b, &created, &chans, &camps);
        b.add_leads(leads);
    }
    drop(created);
    drop(leads_df);
    // Lead id -> index, borrowing the ids' text (no copy per lead); through
    // the touches' lead dictionary when loaded (its table already holds
    // the ids): a map only of the leads without a touch.
    let mut touches = touches;
    let rows = touches.as_mut().map(|t| std::mem::take(&mut t.rows));
    let index = IdIndex::new(touches.as_ref().map(|t| &t.lead_ids), ids.iter());

    // Touches: channel as written, else the campaign's, else source/medium.
    // Each row is rewritten in place (lead code to lead index, kind to the
    // engine's kind), the orphans squeezed out: no second copy is made.
    if let (Some(t), Some(mut rows)) = (&touches, rows) {
        out.has_touches = true;
        // Campaign id -> channel: one row per campaign, looked up here so
        // that the touches keep their file order.
        let cc = (campaign_channels(ds).collect()).ctx("campaign channels")?;
        let camp_channel: HashMap<String, String> = strs(&cc, "campaign_id")?
            .into_iter()
            .zip(strs(&cc, "campaign_channel")?)
            .filter_map(|(k, v)| Some((k?, v?)))
            .collect();
        // Each distinct kind (channel, campaign, type, source, medium) is
        // resolved once into the engine's kind, when a kept touch first
        // has it: the engine's names are the same as from text columns.
        const UNSEEN: u32 = u32::MAX;
        let mut resolved: Vec<u32> = vec![UNSEEN; t.kinds.len()];
        let mut rule_cache: FastMap<(&str, &str), u32> = FastMap::default();
        let mut touched = vec![false; b.n_leads()];
        let mut kept = 0;
        for i in 0..rows.len() {
            let row = rows[i];
            let Some(li) = index.of_code(row.lead) else {
                out.orphan_touches += 1;
                continue;
            };
            touched[li as usize] = true;
            let k = row.kind;
            let kind = match resolved[k as usize] {
                UNSEEN => {
                    // The channel as written, without surrounding whitespace.
                    let own = t.text(k, 0).map(str::trim);
                    let camp = t.text(k, 1);
                    let (src, med) = (t.text(k, 3), t.text(k, 4));
                    let channel = match own.filter(|c| !c.is_empty()) {
                        Some(c) => b.name(c),
                        None => match camp.and_then(|c| camp_channel.get(c)) {
                            Some(c) => b.name(c),
                            None => {
                                let key = (src.unwrap_or(""), med.unwrap_or(""));
                                match rule_cache.get(&key) {
                                    Some(&id) => id,
                                    None => {
                                        let id = match rules.channel(src, med) {
                                            Some(c) => b.name(&c),
                                            None => b.name(NONE_UNIT),
                                        };
                                        rule_cache.insert(key, id);
                                        id
                                    }
                                }
                            }
                        },
                    };
                    let campaign = b.name(camp.unwrap_or(""));
                    let touch_type = b.name(t.text(k, 2).unwrap_or(""));
                    let kind = b.kind(channel, campaign, touch_type);
                    resolved[k as usize] = kind;
                    kind
                }
                kind => kind,
            };
            rows[kept] = CTouch {
                lead: li,
                at: row.at,
                kind,
            };
            kept += 1;
        }
        rows.truncate(kept);
        b.add_touches(rows);
        out.leads_without_touches = touched.iter().filter(|t| !**t).count() as u64;
    }

    // Conversions.
    match credit {
        CreditKind::Mql => {
            for (i, m) in mqls.iter().enumerate() {
                if let Some(m) = m {
                    conversions.push(Conversion {
                        id: ids.get(i).unwrap_or("").to_string(),
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
                    conversions.push(Conversion {
                        id: oid[i].clone().unwrap_or_default(),
                        lead: li as usize,
                        instant: t,
                        value: amt[i].unwrap_or(0.0),
                        opp_created_at: oc[i],
                        period: spec.index_of(t),
                    });
                }
            }
        }
    }

    // Spend per (period, unit) of the reported periods.
    let mut spend = None;
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
                    unit: b.shared(u[i].as_deref().unwrap_or("")),
                    amount: a[i].unwrap_or(0.0),
                });
            }
        }
        rows.sort_by(|x, y| (x.period, &x.unit).cmp(&(y.period, &y.unit)));
        spend = Some(rows);
    }
    drop(index);
    // The lead ids and the kinds' texts are not needed past here.
    drop(touches);
    out.input = b.finish(conversions, periods.to_vec(), spend);
    Ok(out)
}
