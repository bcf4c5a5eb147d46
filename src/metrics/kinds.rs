//! What kind of value each metric id (and each other column the commands
//! print) is: the registry's kinds (`metrics::registry` re-exports
//! them; `output::format` formats by them).

/// The kind of value a column holds, for formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Whole things counted: leads, deals, customers.
    Count,
    /// An amount in the configured currency.
    Money,
    /// A fraction shown as a percentage (rates, shares, NRR, components).
    Rate,
    /// A duration in days.
    Days,
    /// A duration in hours.
    Hours,
    /// Months (CAC payback).
    Months,
    /// A multiple: `ltv_to_cac`, `roas`.
    Ratio,
    /// 0 to 100 (`alignment_score`).
    Score,
    /// A date or timestamp.
    Date,
    /// Text: stage names, dimension values.
    Text,
    /// A number of no known kind: formatted by its value.
    Number,
}

/// The kind of every metric id of metrics.md (and of the other columns the
/// commands print). Unknown names fall back on their suffix, then on
/// `Number`. A registered id reads its kind from here through
/// [`MetricDef::kind`]; `output::format::kind_of` asks this function.
pub fn kind_of(column: &str) -> ValueKind {
    use ValueKind::*;
    match column {
        // Counts.
        "leads" | "mqls" | "sals" | "sqls" | "opportunities" | "won_deals" | "lost_deals"
        | "new_customers" | "reached" | "dropped" | "customers" | "unworked_mqls"
        | "rejected_mqls" | "rows" | "count" | "accounts" | "n" => Count,
        // Ad-platform metrics (kpis).
        "impressions" | "clicks" | "platform_conversions" => Count,
        "cpc" | "platform_revenue" => Money,
        "ctr" => Rate,
        "platform_roas" | "platform_overclaim" => Ratio,
        // Money.
        "new_bookings"
        | "pipeline_created"
        | "marketing_spend"
        | "avg_deal_size"
        | "open_pipeline"
        | "pipeline_velocity"
        | "cac"
        | "expansion_bookings"
        | "renewal_bookings"
        | "funnel_revenue"
        | "cycle_revenue"
        | "starting_mrr"
        | "ending_mrr"
        | "new_mrr"
        | "expansion_mrr"
        | "contraction_mrr"
        | "churned_mrr"
        | "arpa"
        | "ltv"
        | "revenue"
        | "cost_per_customer"
        | "unseen_by_funnel"
        | "unworked_mql_lost_revenue"
        | "unworked_mql_wasted_spend"
        | "slow_followup_lost_revenue"
        | "rejected_mql_wasted_spend"
        | "misfit_lost_pipeline"
        | "misalignment_cost"
        | "misalignment_cost_low"
        | "misalignment_cost_high"
        | "alignment_uplift_scenario"
        | "sales_cost"
        | "amount"
        | "spend"
        | "mrr" => Money,
        // Fractions shown as percentages.
        "win_rate"
        | "lead_velocity_rate"
        | "followup_rate"
        | "renewal_rate"
        | "logo_churn_rate"
        | "worked_mql_win_rate"
        | "sql_win_rate"
        | "existing_customer_share"
        | "misalignment_cost_share"
        | "nrr"
        | "grr"
        | "roi"
        | "conversion_from_previous"
        | "conversion_from_lead"
        | "followup_component"
        | "speed_component"
        | "acceptance_component"
        | "icp_component"
        | "channel_component"
        | "gross_margin"
        | "uplift" => Rate,
        "roas" | "ltv_to_cac" => Ratio,
        "sales_cycle_days" | "median_days_from_previous" | "cohort_age_days" | "sla_days" => Days,
        "speed_to_lead_hours" => Hours,
        "cac_payback_months" => Months,
        "alignment_score" => Score,
        "period" | "cohort" | "date" | "month" | "as_of" | "from" | "to" | "period_start"
        | "period_end" => Date,
        "stage" | "view" | "channel" | "segment" | "owner" | "campaign" | "metric"
        | "assumption" | "component" | "rule" | "status" | "source" | "note" => Text,
        other => by_suffix(other),
    }
}

fn by_suffix(name: &str) -> ValueKind {
    use ValueKind::*;
    if name.ends_with("_rate") || name.ends_with("_share") || name.ends_with("_component") {
        Rate
    } else if name.starts_with("cost_per_")
        || name.ends_with("_mrr")
        || name.ends_with("_bookings")
        || name.ends_with("_revenue")
        || name.ends_with("_spend")
        || name.ends_with("_cost")
    {
        Money
    } else if name.ends_with("_days") {
        Days
    } else if name.ends_with("_hours") {
        Hours
    } else if name.ends_with("_months") {
        Months
    } else if name.ends_with("_at") || name.ends_with("_date") {
        Date
    } else {
        Number
    }
}

impl ValueKind {
    /// The kind's name in `revcycle metrics`: `count`, `money`, `rate`, ...
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Count => "count",
            ValueKind::Money => "money",
            ValueKind::Rate => "rate",
            ValueKind::Days => "days",
            ValueKind::Hours => "hours",
            ValueKind::Months => "months",
            ValueKind::Ratio => "ratio",
            ValueKind::Score => "score",
            ValueKind::Date => "date",
            ValueKind::Text => "text",
            ValueKind::Number => "number",
        }
    }
}

/// Millionths of the currency unit in one unit: money is exact to a millionth.
pub const MONEY_MICROS: f64 = 1_000_000.0;

/// A money value in integer millionths (the nearest one), `None` for NaN,
/// infinity, or a value too large for an `i64` of millionths.
pub fn money_micros(v: f64) -> Option<i64> {
    let m = (v * MONEY_MICROS).round();
    (m.is_finite() && m.abs() < 9.0e18).then_some(m as i64)
}

/// A money value rounded to the nearest millionth, as the `f64` closest to
/// that decimal (its shortest text is the decimal: `30332.86`).
pub fn round_money(v: f64) -> f64 {
    match money_micros(v) {
        Some(m) => m as f64 / MONEY_MICROS,
        None => v,
    }
}
