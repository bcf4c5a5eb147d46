//! Notes and assumptions, as data: sentences on missing inputs, and the
//! (name, value) assumptions behind the numbers.

use super::gather::Avail;
use super::{bucket_label, fmt_num, range_bounds, SCORE_COMPONENTS, Z};
use crate::settings::{Analysis, Dimension};

/// Notes that hold for every group: missing inputs.
pub(super) fn dataset_notes(av: &Avail, a: &Analysis, notes: &mut Vec<String>) {
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

pub(super) fn assumptions(a: &Analysis, as_of: i64) -> Vec<(String, String)> {
    let fmt_ts = |t: i64| crate::periods::timestamp_text(t).unwrap_or_else(|| t.to_string());
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
