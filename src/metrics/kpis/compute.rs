//! Computing: the ratios, running sums and previous-period comparisons of
//! the KPIs over the aggregated vectors of [`Gathered`] (no polars).

use anyhow::Result;

use super::gather::{counts, floats, Base, Gathered};
use super::{Out, RATES};
use crate::metrics::common::{self, Stage};
use crate::settings::Analysis;

/// Every KPI column over the full grid (dimension-major), in output order.
pub(super) fn columns(a: &Analysis, base: &Base, g: &Gathered) -> Result<Vec<(&'static str, Out)>> {
    let df = &g.df;
    let (np, nrows) = (g.np, g.nrows);
    let in_use = |s: Stage| base.ladder.contains(&s);
    let (leads_present, opps_present, has_amount, has_close, has_spend) = (
        g.leads_present,
        g.opps_present,
        g.has_amount,
        g.has_close,
        g.has_spend,
    );
    let (contact_known, followup_known, has_value) =
        (g.contact_known, g.followup_known, g.has_value);
    let platform = &g.platform;
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

    Ok(cols)
}

/// `a / b`, null when either is null or `b` is 0.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    }
}
