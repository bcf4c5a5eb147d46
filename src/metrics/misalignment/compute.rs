//! Computing: the arithmetic on one group's gathered counts (no polars).

use std::collections::{BTreeMap, BTreeSet};

use super::gather::{Avail, Group};
use super::{bucket_label, Rate};
use crate::settings::Analysis;

/// A money component: its value and the low/high variants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Money {
    pub v: f64,
    pub lo: f64,
    pub hi: f64,
}

/// One group's values, one field per output column (the frame's columns
/// are listed once, in `frame.rs`). The five cost components keep their
/// low/high variants.
#[derive(Debug, Clone, Default)]
pub(super) struct GroupRow {
    pub(super) worked_mql_win_rate: Option<f64>,
    pub(super) unworked_mqls: Option<i64>,
    pub(super) unworked_mql_lost_revenue: Option<Money>,
    pub(super) unworked_mql_wasted_spend: Option<Money>,
    pub(super) slow_followup_lost_revenue: Option<Money>,
    pub(super) rejected_mqls: Option<i64>,
    pub(super) rejected_mql_wasted_spend: Option<Money>,
    pub(super) misfit_lost_pipeline: Option<Money>,
    pub(super) misalignment_cost: Option<f64>,
    pub(super) misalignment_cost_low: Option<f64>,
    pub(super) misalignment_cost_high: Option<f64>,
    pub(super) misalignment_cost_share: Option<f64>,
    pub(super) alignment_uplift_scenario: Option<f64>,
    pub(super) alignment_score: Option<f64>,
    pub(super) followup_component: Option<f64>,
    pub(super) speed_component: Option<f64>,
    pub(super) acceptance_component: Option<f64>,
    pub(super) icp_component: Option<f64>,
    pub(super) channel_component: Option<f64>,
    pub(super) mqls_reached: Option<i64>,
    pub(super) worked_mqls: Option<i64>,
    pub(super) worked_mqls_won: Option<i64>,
    pub(super) worked_mql_win_rate_low: Option<f64>,
    pub(super) worked_mql_win_rate_high: Option<f64>,
    pub(super) sla_mqls: Option<i64>,
    pub(super) contacted_mqls: Option<i64>,
    pub(super) contacted_within_24h: Option<i64>,
    pub(super) accepted_mqls: Option<i64>,
    pub(super) sql_reached: Option<i64>,
    pub(super) sql_won: Option<i64>,
    pub(super) sql_win_rate: Option<f64>,
    pub(super) sql_win_rate_low: Option<f64>,
    pub(super) sql_win_rate_high: Option<f64>,
    pub(super) followup_base_bucket: Option<String>,
    /// One per response-time bucket, fastest first.
    pub(super) buckets: Vec<BucketCells>,
    pub(super) won_deals: Option<i64>,
    pub(super) lost_deals: Option<i64>,
    pub(super) win_rate: Option<f64>,
    pub(super) win_rate_low: Option<f64>,
    pub(super) win_rate_high: Option<f64>,
    pub(super) new_bookings: Option<f64>,
    pub(super) avg_deal_size: Option<f64>,
    pub(super) marketing_spend: Option<f64>,
    pub(super) cost_per_mql: Option<f64>,
    pub(super) misfit_lost_deals: Option<i64>,
    pub(super) misfit_lost_amount: Option<f64>,
}

/// The `bucket_*` cells of one response-time bucket of a group row.
#[derive(Debug, Clone, Default)]
pub(super) struct BucketCells {
    pub(super) n: Option<i64>,
    pub(super) sql_reached: Option<i64>,
    pub(super) q: Option<f64>,
}

/// One bucket row of a group.
#[derive(Debug, Clone)]
pub(super) struct BucketRow {
    pub(super) label: String,
    pub(super) n: i64,
    pub(super) sql: i64,
    pub(super) q: Rate,
    pub(super) role: Option<&'static str>,
    pub(super) lost: Option<Money>,
}

/// 1 - total variation distance of two mixes given as category -> weight.
/// None when either mix is empty.
pub(super) fn one_minus_tvd(p: &BTreeMap<String, f64>, q: &BTreeMap<String, f64>) -> Option<f64> {
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

fn opt_if(cond: bool, v: i64) -> Option<i64> {
    cond.then_some(v)
}

/// The arithmetic of one group: its row, its bucket rows and the notes on
/// its empty samples (each prefixed with `prefix`).
pub(super) fn compute_group(
    g: &Group,
    av: &Avail,
    a: &Analysis,
    bounds: &[f64],
    prefix: &str,
    notes: &mut Vec<String>,
) -> (GroupRow, Vec<BucketRow>) {
    let mut note = |s: String| notes.push(format!("{prefix}{s}"));

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
    // The amount adds in integer millionths: exact, whatever order the
    // reasons come in.
    let (mut misfit_n, mut misfit_micros) = (0i64, 0i64);
    for (reason, n, amt) in &g.lost_by_reason {
        let r = reason.to_lowercase();
        if misfit_reasons
            .iter()
            .any(|m| !m.is_empty() && r.contains(m.as_str()))
        {
            misfit_n += n;
            misfit_micros += crate::metrics::common::money_micros_of(*amt);
        }
    }
    let misfit_amt = crate::metrics::common::money_of_micros(misfit_micros);
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

    let base_label = if contact_ok && av.sql {
        base.map(|b| bucket_label(bounds, b))
    } else {
        None
    };
    let bucket_ok = contact_ok && av.sql;
    let row = GroupRow {
        worked_mql_win_rate: wmw_v,
        unworked_mqls: unworked,
        unworked_mql_lost_revenue: unworked_lost,
        unworked_mql_wasted_spend: unworked_wasted,
        slow_followup_lost_revenue: slow,
        rejected_mqls: rejected,
        rejected_mql_wasted_spend: rejected_wasted,
        misfit_lost_pipeline: misfit,
        misalignment_cost: cost,
        misalignment_cost_low: cost_lo,
        misalignment_cost_high: cost_hi,
        misalignment_cost_share: cost_share,
        alignment_uplift_scenario: uplift,
        alignment_score: score,
        followup_component: followup,
        speed_component: speed,
        acceptance_component: acceptance,
        icp_component: icp,
        channel_component: channel,
        mqls_reached: opt_if(lead_ok, g.mqls),
        worked_mqls: opt_if(lead_ok, g.worked),
        worked_mqls_won: opt_if(wmw_ok, g.worked_won),
        worked_mql_win_rate_low: if wmw_ok { wmw.low() } else { None },
        worked_mql_win_rate_high: if wmw_ok { wmw.high() } else { None },
        sla_mqls: opt_if(contact_ok, g.sla_mqls),
        contacted_mqls: opt_if(contact_ok, g.contacted),
        contacted_within_24h: opt_if(contact_ok, g.contacted_fast),
        accepted_mqls: opt_if(lead_ok && av.accept.is_some(), g.accepted),
        sql_reached: opt_if(av.sql, g.sql),
        sql_won: opt_if(sql_rate_ok, g.sql_won),
        sql_win_rate: if sql_rate_ok { sql_rate.value() } else { None },
        sql_win_rate_low: if sql_rate_ok { sql_rate.low() } else { None },
        sql_win_rate_high: if sql_rate_ok { sql_rate.high() } else { None },
        followup_base_bucket: base_label,
        buckets: brs
            .iter()
            .map(|br| BucketCells {
                n: opt_if(contact_ok, br.n),
                sql_reached: opt_if(bucket_ok, br.sql),
                q: if bucket_ok { br.q.value() } else { None },
            })
            .collect(),
        won_deals: opt_if(av.opps, g.won_deals),
        lost_deals: opt_if(av.opps, g.lost_deals),
        win_rate,
        win_rate_low: if av.opps { win.low() } else { None },
        win_rate_high: if av.opps { win.high() } else { None },
        new_bookings,
        avg_deal_size: avg_deal,
        marketing_spend: spend,
        cost_per_mql,
        misfit_lost_deals: opt_if(misfit_ok, misfit_n),
        misfit_lost_amount: misfit_ok.then_some(misfit_amt),
    };

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
