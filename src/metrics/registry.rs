//! Every metric id of `docs/metrics.md` with the command that computes it and
//! the input columns it needs: `validate` lists what the inputs can support,
//! `check` resolves rule names against it.

use crate::model::{Dataset, TableKind};

pub struct MetricDef {
    pub id: &'static str,
    pub command: &'static str,
    /// (table, column) pairs that must be present with values.
    pub needs: &'static [(TableKind, &'static str)],
}

use TableKind::{Campaigns as C, Leads as L, Opportunities as O, Revenue as R};

macro_rules! m {
    ($id:literal, $cmd:literal, [$(($t:expr, $c:literal)),* $(,)?]) => {
        MetricDef { id: $id, command: $cmd, needs: &[$(($t, $c)),*] }
    };
}

pub static METRICS: &[MetricDef] = &[
    m!("leads", "kpis", [(L, "created_at")]),
    m!("mqls", "kpis", [(L, "mql_at")]),
    m!("sals", "kpis", [(L, "sal_at")]),
    m!("sqls", "kpis", [(L, "sql_at")]),
    m!("opportunities", "kpis", [(O, "created_at")]),
    m!("won_deals", "kpis", [(O, "status"), (O, "close_date")]),
    m!("lost_deals", "kpis", [(O, "status"), (O, "close_date")]),
    m!("new_customers", "kpis", [(O, "status"), (O, "close_date")]),
    m!(
        "new_bookings",
        "kpis",
        [(O, "status"), (O, "close_date"), (O, "amount")]
    ),
    m!("pipeline_created", "kpis", [(O, "amount")]),
    m!("marketing_spend", "kpis", [(C, "spend")]),
    m!("lead_to_mql_rate", "kpis", [(L, "mql_at")]),
    m!("mql_to_sal_rate", "kpis", [(L, "mql_at"), (L, "sal_at")]),
    m!("sal_to_sql_rate", "kpis", [(L, "sal_at"), (L, "sql_at")]),
    m!("mql_to_sql_rate", "kpis", [(L, "mql_at"), (L, "sql_at")]),
    m!(
        "sql_to_opportunity_rate",
        "kpis",
        [(L, "sql_at"), (O, "lead_id")]
    ),
    m!(
        "opportunity_to_won_rate",
        "kpis",
        [(O, "lead_id"), (O, "close_date")]
    ),
    m!(
        "lead_to_won_rate",
        "kpis",
        [(L, "created_at"), (O, "lead_id"), (O, "close_date")]
    ),
    m!("win_rate", "kpis", [(O, "status"), (O, "close_date")]),
    m!(
        "avg_deal_size",
        "kpis",
        [(O, "status"), (O, "close_date"), (O, "amount")]
    ),
    m!(
        "sales_cycle_days",
        "kpis",
        [(O, "status"), (O, "close_date")]
    ),
    m!("open_pipeline", "kpis", [(O, "amount")]),
    m!(
        "pipeline_velocity",
        "kpis",
        [(O, "status"), (O, "close_date"), (O, "amount")]
    ),
    m!("lead_velocity_rate", "kpis", [(L, "mql_at")]),
    m!("speed_to_lead_hours", "kpis", [(L, "first_contact_at")]),
    m!("followup_rate", "kpis", [(L, "mql_at")]),
    m!("cost_per_lead", "kpis", [(C, "spend"), (L, "created_at")]),
    m!("cost_per_mql", "kpis", [(C, "spend"), (L, "mql_at")]),
    m!("cost_per_sql", "kpis", [(C, "spend"), (L, "sql_at")]),
    m!(
        "cost_per_opportunity",
        "kpis",
        [(C, "spend"), (O, "created_at")]
    ),
    m!(
        "cac",
        "kpis",
        [(C, "spend"), (O, "status"), (O, "close_date")]
    ),
    m!(
        "roas",
        "kpis",
        [
            (C, "spend"),
            (O, "status"),
            (O, "close_date"),
            (O, "amount")
        ]
    ),
    m!("reached", "funnel", [(L, "created_at")]),
    m!("conversion_from_previous", "funnel", [(L, "created_at")]),
    m!("conversion_from_lead", "funnel", [(L, "created_at")]),
    m!("median_days_from_previous", "funnel", [(L, "created_at")]),
    m!("dropped", "funnel", [(L, "created_at")]),
    m!("new_bookings", "cycle", [(O, "close_date"), (O, "amount")]),
    m!(
        "expansion_bookings",
        "cycle",
        [(O, "close_date"), (O, "amount"), (O, "type")]
    ),
    m!(
        "renewal_bookings",
        "cycle",
        [(O, "close_date"), (O, "amount"), (O, "type")]
    ),
    m!(
        "funnel_revenue",
        "cycle",
        [(O, "close_date"), (O, "amount")]
    ),
    m!("cycle_revenue", "cycle", [(O, "close_date"), (O, "amount")]),
    m!(
        "existing_customer_share",
        "cycle",
        [(O, "close_date"), (O, "amount"), (O, "type")]
    ),
    m!("renewal_rate", "cycle", [(O, "close_date"), (O, "type")]),
    m!("starting_mrr", "cycle", [(R, "mrr")]),
    m!("new_mrr", "cycle", [(R, "mrr")]),
    m!("expansion_mrr", "cycle", [(R, "mrr")]),
    m!("contraction_mrr", "cycle", [(R, "mrr")]),
    m!("churned_mrr", "cycle", [(R, "mrr")]),
    m!("ending_mrr", "cycle", [(R, "mrr")]),
    m!("nrr", "cycle", [(R, "mrr")]),
    m!("grr", "cycle", [(R, "mrr")]),
    m!("logo_churn_rate", "cycle", [(R, "mrr")]),
    m!("arpa", "cycle", [(R, "mrr")]),
    m!("ltv", "cycle", [(R, "mrr")]),
    m!(
        "ltv_to_cac",
        "cycle",
        [(R, "mrr"), (C, "spend"), (O, "close_date")]
    ),
    m!(
        "cac_payback_months",
        "cycle",
        [(R, "mrr"), (C, "spend"), (O, "close_date")]
    ),
    m!(
        "worked_mql_win_rate",
        "misalignment",
        [(L, "mql_at"), (O, "lead_id"), (O, "close_date")]
    ),
    m!(
        "unworked_mqls",
        "misalignment",
        [(L, "mql_at"), (L, "first_contact_at")]
    ),
    m!(
        "unworked_mql_lost_revenue",
        "misalignment",
        [(L, "mql_at"), (L, "first_contact_at"), (O, "amount")]
    ),
    m!(
        "unworked_mql_wasted_spend",
        "misalignment",
        [(L, "mql_at"), (L, "first_contact_at"), (C, "spend")]
    ),
    m!(
        "slow_followup_lost_revenue",
        "misalignment",
        [
            (L, "mql_at"),
            (L, "first_contact_at"),
            (L, "sql_at"),
            (O, "amount")
        ]
    ),
    m!(
        "rejected_mqls",
        "misalignment",
        [(L, "mql_at"), (L, "disqualified_at")]
    ),
    m!(
        "rejected_mql_wasted_spend",
        "misalignment",
        [(L, "mql_at"), (L, "disqualified_at"), (C, "spend")]
    ),
    m!(
        "misfit_lost_pipeline",
        "misalignment",
        [(O, "loss_reason"), (O, "amount")]
    ),
    m!("misalignment_cost", "misalignment", [(L, "mql_at")]),
    m!("misalignment_cost_low", "misalignment", [(L, "mql_at")]),
    m!("misalignment_cost_high", "misalignment", [(L, "mql_at")]),
    m!(
        "misalignment_cost_share",
        "misalignment",
        [(O, "amount"), (O, "close_date")]
    ),
    m!(
        "alignment_uplift_scenario",
        "misalignment",
        [(O, "amount"), (O, "close_date")]
    ),
    m!("alignment_score", "misalignment", [(L, "mql_at")]),
    m!("followup_component", "misalignment", [(L, "mql_at")]),
    m!(
        "speed_component",
        "misalignment",
        [(L, "mql_at"), (L, "first_contact_at")]
    ),
    m!("acceptance_component", "misalignment", [(L, "mql_at")]),
    m!(
        "icp_component",
        "misalignment",
        [(L, "mql_at"), (L, "segment"), (O, "segment")]
    ),
    m!(
        "channel_component",
        "misalignment",
        [(L, "mql_at"), (L, "channel"), (O, "amount")]
    ),
];

/// The first missing input of `def`, as `table.column`, or None when supported.
pub fn missing(def: &MetricDef, ds: &Dataset) -> Option<String> {
    def.needs.iter().find_map(|(t, c)| {
        let ok = match ds.table(*t) {
            None => false,
            Some(tab) => tab.has_values(c),
        };
        (!ok).then(|| {
            if ds.table(*t).is_none() {
                format!("{} table", t.name())
            } else {
                format!("{}.{c}", t.name())
            }
        })
    })
}

/// All distinct ids.
pub fn ids() -> Vec<&'static str> {
    let mut v: Vec<&str> = METRICS.iter().map(|m| m.id).collect();
    v.dedup();
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|id| seen.insert(*id));
    v
}

pub fn find(id: &str) -> Option<&'static MetricDef> {
    METRICS.iter().find(|m| m.id == id)
}
