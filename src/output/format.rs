//! Value formatting for people: what kind of number each metric id is, and
//! how a value of that kind reads in a table (`12,345`, `$12,345`, `23.4%`).
//!
//! Machine formats (CSV, JSON) print raw numbers, but for money: a money
//! column prints the exact decimal of its nearest millionth
//! ([`money_decimal`]). Choices (written down for docs/cli.md):
//! - null, NaN and infinity read `–` (an en dash) everywhere;
//! - counts: integers with thousands separators (`12,345`), a fractional
//!   count keeps one decimal;
//! - money: thousands separators, no decimals from 100 up, 2 decimals below
//!   100 unless the amount is whole (`$42.37`, `$12,345`); a symbol currency
//!   (`$`, `€`, `R$`) is a prefix (`-$1,200`), a code (`USD`) a suffix
//!   (`1,200 USD`), an empty label none;
//! - rates and shares (fractions): percent with one decimal (`23.4%`);
//! - days, hours, months: one decimal; ratios: one decimal and `x` (`3.2x`,
//!   two decimals below 1: `0.45x`); scores (0–100): no decimals.

use chrono::{DateTime, NaiveDate, Utc};
use polars::prelude::{AnyValue, TimeUnit};

/// What the text for null (and NaN / infinity) is, everywhere for people.
pub const NULL_TEXT: &str = "–";

/// Money's precision (a millionth) is the metrics' (`metrics::kinds`).
pub use crate::metrics::kinds::{money_micros, round_money, MONEY_MICROS};
pub use crate::metrics::registry::ValueKind;

/// The kind of a column: the registry's kind for a metric id, else the
/// registry's reading of the other columns the commands print (see
/// [`crate::metrics::registry::kind_of`]).
pub fn kind_of(column: &str) -> ValueKind {
    crate::metrics::registry::kind_of(column)
}

/// Whether a rise of this metric is good news (`Some(true)`), bad news
/// (`Some(false)`) or neither (`None`, e.g. spend). Colours the change column.
pub fn higher_is_better(column: &str) -> Option<bool> {
    match column {
        "marketing_spend" | "sales_cost" | "cohort_age_days" | "dropped" | "amount" => None,
        "lost_deals"
        | "sales_cycle_days"
        | "speed_to_lead_hours"
        | "cac"
        | "cac_payback_months"
        | "churned_mrr"
        | "contraction_mrr"
        | "logo_churn_rate"
        | "median_days_from_previous"
        | "unworked_mqls"
        | "rejected_mqls" => Some(false),
        c if c.starts_with("cost_per_") || c.starts_with("misalignment_cost") => Some(false),
        c if c.ends_with("_wasted_spend") || c.ends_with("_lost_revenue") => Some(false),
        c if c.ends_with("_lost_pipeline") => Some(false),
        c => match kind_of(c) {
            ValueKind::Text | ValueKind::Date | ValueKind::Number => None,
            _ => Some(true),
        },
    }
}

/// A cell value reduced to what formatting needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
}

impl Val {
    pub(crate) fn from_any(value: &AnyValue<'_>) -> Val {
        match value {
            AnyValue::Null => Val::Null,
            AnyValue::Boolean(b) => Val::Bool(*b),
            AnyValue::UInt8(v) => Val::Int(*v as i128),
            AnyValue::UInt16(v) => Val::Int(*v as i128),
            AnyValue::UInt32(v) => Val::Int(*v as i128),
            AnyValue::UInt64(v) => Val::Int(*v as i128),
            AnyValue::Int8(v) => Val::Int(*v as i128),
            AnyValue::Int16(v) => Val::Int(*v as i128),
            AnyValue::Int32(v) => Val::Int(*v as i128),
            AnyValue::Int64(v) => Val::Int(*v as i128),
            AnyValue::Float32(v) => Val::Float(*v as f64),
            AnyValue::Float64(v) => Val::Float(*v),
            AnyValue::String(s) => Val::Str((*s).to_string()),
            AnyValue::StringOwned(s) => Val::Str(s.as_str().to_string()),
            AnyValue::Date(days) => NaiveDate::from_num_days_from_ce_opt(*days + 719_163)
                .map(Val::Date)
                .unwrap_or(Val::Null),
            AnyValue::Datetime(v, unit, _) => datetime(*v, *unit),
            AnyValue::DatetimeOwned(v, unit, _) => datetime(*v, *unit),
            other => Val::Str(other.to_string()),
        }
    }

    /// The value as a number, when it is one (and finite).
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Float(f) if f.is_finite() => Some(*f),
            _ => None,
        }
    }

    /// A sortable key for dates and timestamps (microseconds since the epoch).
    pub(crate) fn time_key(&self) -> Option<i64> {
        match self {
            Val::Date(d) => d
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp_micros()),
            Val::DateTime(t) => Some(t.timestamp_micros()),
            _ => None,
        }
    }

    /// ISO text of a date (`2024-01-01`) or a timestamp (RFC 3339, UTC).
    pub(crate) fn iso(&self) -> Option<String> {
        match self {
            Val::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
            Val::DateTime(t) => Some(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            _ => None,
        }
    }
}

fn datetime(v: i64, unit: TimeUnit) -> Val {
    let t = match unit {
        TimeUnit::Nanoseconds => Some(DateTime::<Utc>::from_timestamp_nanos(v)),
        TimeUnit::Microseconds => DateTime::<Utc>::from_timestamp_micros(v),
        TimeUnit::Milliseconds => DateTime::<Utc>::from_timestamp_millis(v),
    };
    t.map(Val::DateTime).unwrap_or(Val::Null)
}

/// A value formatted for people, by the kind of its column.
pub fn human(value: AnyValue<'_>, kind: ValueKind, currency: &str) -> String {
    human_val(&Val::from_any(&value), kind, currency)
}

/// A number formatted for people (`None` reads as null).
pub fn human_f64(value: Option<f64>, kind: ValueKind, currency: &str) -> String {
    match value {
        Some(v) => human_val(&Val::Float(v), kind, currency),
        None => NULL_TEXT.to_string(),
    }
}

pub(crate) fn human_val(value: &Val, kind: ValueKind, currency: &str) -> String {
    match value {
        Val::Null => NULL_TEXT.to_string(),
        Val::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Val::Str(s) => s.clone(),
        Val::Date(d) => d.format("%Y-%m-%d").to_string(),
        Val::DateTime(t) => {
            if t.time() == chrono::NaiveTime::MIN {
                t.format("%Y-%m-%d").to_string()
            } else {
                t.format("%Y-%m-%d %H:%M").to_string()
            }
        }
        Val::Int(i) => number(*i as f64, kind, currency, true),
        Val::Float(f) if !f.is_finite() => NULL_TEXT.to_string(),
        Val::Float(f) => number(*f, kind, currency, false),
    }
}

fn number(v: f64, kind: ValueKind, currency: &str, integer: bool) -> String {
    let whole = integer || nearly_whole(v);
    match kind {
        ValueKind::Count => grouped(v, if whole { 0 } else { 1 }),
        ValueKind::Money => money(v, currency),
        ValueKind::Rate => format!("{}%", grouped(v * 100.0, 1)),
        ValueKind::Days | ValueKind::Hours | ValueKind::Months => grouped(v, 1),
        ValueKind::Ratio => format!("{}x", grouped(v, if v.abs() < 1.0 { 2 } else { 1 })),
        ValueKind::Score => grouped(v, 0),
        ValueKind::Date | ValueKind::Text | ValueKind::Number => {
            grouped(v, if whole { 0 } else { 2 })
        }
    }
}

/// Whole but for floating-point noise (`400.0 * 1.1 = 440.00000000000006`).
fn nearly_whole(v: f64) -> bool {
    (v - v.round()).abs() <= 1e-9 * v.abs().max(1.0)
}

/// Money with the currency label: a symbol before the number, a code after it.
pub fn money(v: f64, currency: &str) -> String {
    let decimals = if !nearly_whole(v) && v.abs() < 100.0 {
        2
    } else {
        0
    };
    let digits = grouped(v.abs(), decimals);
    let negative = v < 0.0 && digits.chars().any(|c| c.is_ascii_digit() && c != '0');
    label_money(negative, &digits, currency)
}

/// Money rounded to whole units with the currency label placed as by
/// [`money`] (a symbol such as `$` or `R$` before the number, a code such as
/// `EUR` after it): the drawn views (bow tie, misalignment) use it.
pub fn money_whole(v: f64, currency: &str) -> String {
    let digits = grouped(v.abs(), 0);
    let negative = v < 0.0 && digits.chars().any(|c| c.is_ascii_digit() && c != '0');
    label_money(negative, &digits, currency)
}

/// An optional money value in whole units, [`NULL_TEXT`] when unknown.
pub fn money_whole_opt(v: Option<f64>, currency: &str) -> String {
    v.map(|v| money_whole(v, currency))
        .unwrap_or_else(|| NULL_TEXT.to_string())
}

/// A count rounded to a whole number with thousands separators, [`NULL_TEXT`]
/// when unknown.
pub fn count_text(v: Option<f64>) -> String {
    v.map(|v| grouped(v, 0))
        .unwrap_or_else(|| NULL_TEXT.to_string())
}

fn label_money(negative: bool, digits: &str, currency: &str) -> String {
    let sign = if negative { "-" } else { "" };
    let label = currency.trim();
    if label.is_empty() {
        format!("{sign}{digits}")
    } else if label.chars().any(|c| c.is_alphabetic()) && label.chars().all(|c| c.is_alphabetic()) {
        format!("{sign}{digits} {label}")
    } else {
        format!("{sign}{label}{digits}")
    }
}

/// `v` rounded to `decimals` with thousands separators: `-12,345.6`.
/// A value that rounds to zero never reads `-0`.
pub fn grouped(v: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + text.len() / 3 + 1);
    let is_zero = text.chars().all(|c| c == '0' || c == '.');
    if v < 0.0 && !is_zero {
        out.push('-');
    }
    let len = int_part.len();
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (len - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac_part {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Integer millionths as their exact decimal, trailing zeros dropped:
/// `30332860000` -> `30332.86`, `0` -> `0`, `-500000` -> `-0.5`.
pub fn micros_decimal(m: i64) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    let (int, frac) = (a / 1_000_000, a % 1_000_000);
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:06}");
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    }
}

/// A money value as the exact decimal of its nearest millionth (`30332.86`,
/// never `30332.859999999997`); `None` for NaN and infinity. A value beyond
/// the range of millionths keeps Rust's shortest text.
pub fn money_decimal(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    Some(match money_micros(v) {
        Some(m) => micros_decimal(m),
        None => v.to_string(),
    })
}

/// How the change between two periods is measured for a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// `(cur - prev) / |prev|`, shown as `+12.3%`.
    Relative,
    /// Difference of two fractions in percentage points: `+2.1 pp`.
    Points,
    /// Plain difference (scores): `+3`.
    Absolute,
    /// No change for text and dates.
    None,
}

pub fn change_kind(kind: ValueKind) -> ChangeKind {
    match kind {
        ValueKind::Rate => ChangeKind::Points,
        ValueKind::Score => ChangeKind::Absolute,
        ValueKind::Text | ValueKind::Date => ChangeKind::None,
        _ => ChangeKind::Relative,
    }
}

/// The change from `prev` to `cur` as a number (fraction for relative changes,
/// percentage points for points), or `None` when it cannot be computed
/// (either side missing, or a relative change from a base of 0 or from a
/// base whose sign is the other one than the current value's: `-3` to `5` is
/// no percentage).
pub fn change(prev: Option<f64>, cur: Option<f64>, how: ChangeKind) -> Option<f64> {
    let (p, c) = (prev?, cur?);
    if !p.is_finite() || !c.is_finite() {
        return None;
    }
    match how {
        ChangeKind::Relative if p == 0.0 => None,
        ChangeKind::Relative if c != 0.0 && (p < 0.0) != (c < 0.0) => None,
        ChangeKind::Relative => Some((c - p) / p.abs()),
        ChangeKind::Points => Some((c - p) * 100.0),
        ChangeKind::Absolute => Some(c - p),
        ChangeKind::None => None,
    }
}

/// A change as text: `+12.3%`, `-2.1 pp`, `+3`, `0.0%`.
pub fn human_change(delta: Option<f64>, how: ChangeKind) -> String {
    let Some(d) = delta else {
        return NULL_TEXT.to_string();
    };
    let (text, suffix) = match how {
        ChangeKind::Relative => (grouped(d * 100.0, 1), "%"),
        ChangeKind::Points => (grouped(d, 1), " pp"),
        ChangeKind::Absolute => (grouped(d, 1), ""),
        ChangeKind::None => return String::new(),
    };
    let sign = if text.starts_with('-') || text.chars().all(|c| c == '0' || c == '.') {
        ""
    } else {
        "+"
    };
    format!("{sign}{text}{suffix}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_money_formatter_for_the_drawn_views() {
        // A symbol, even of several characters, goes before the number.
        assert_eq!(money_whole(1234.6, "R$"), "R$1,235");
        assert_eq!(money_whole(1234.6, "$"), "$1,235");
        assert_eq!(money_whole(-5.4, "$"), "-$5");
        assert_eq!(money_whole(-0.4, "$"), "$0");
        // A code goes after it.
        assert_eq!(money_whole(1000.0, "EUR"), "1,000 EUR");
        assert_eq!(money_whole(1000.0, ""), "1,000");
        assert_eq!(money(1234.6, "R$"), "R$1,235");
        // Unknown reads the same everywhere.
        assert_eq!(money_whole_opt(None, "$"), NULL_TEXT);
        assert_eq!(count_text(None), NULL_TEXT);
        assert_eq!(count_text(Some(12345.4)), "12,345");
    }

    use super::*;

    #[test]
    fn kinds_of_metric_ids() {
        assert_eq!(kind_of("leads"), ValueKind::Count);
        assert_eq!(kind_of("new_bookings"), ValueKind::Money);
        assert_eq!(kind_of("cost_per_sql"), ValueKind::Money);
        assert_eq!(kind_of("lead_to_mql_rate"), ValueKind::Rate);
        assert_eq!(kind_of("mql_to_sql_rate"), ValueKind::Rate);
        assert_eq!(kind_of("nrr"), ValueKind::Rate);
        assert_eq!(kind_of("ltv_to_cac"), ValueKind::Ratio);
        assert_eq!(kind_of("roas"), ValueKind::Ratio);
        assert_eq!(kind_of("sales_cycle_days"), ValueKind::Days);
        assert_eq!(kind_of("speed_to_lead_hours"), ValueKind::Hours);
        assert_eq!(kind_of("cac_payback_months"), ValueKind::Months);
        assert_eq!(kind_of("alignment_score"), ValueKind::Score);
        assert_eq!(kind_of("period"), ValueKind::Date);
        assert_eq!(kind_of("stage"), ValueKind::Text);
        assert_eq!(kind_of("something_else"), ValueKind::Number);
    }

    #[test]
    fn every_metric_id_of_the_spec_has_a_known_kind() {
        // All ids listed in metrics.md; none may fall through to `Number`.
        let ids = "leads mqls sals sqls opportunities won_deals lost_deals new_customers \
            new_bookings pipeline_created marketing_spend lead_to_mql_rate mql_to_sal_rate \
            sal_to_sql_rate sql_to_opportunity_rate opportunity_to_won_rate lead_to_won_rate \
            mql_to_sql_rate win_rate avg_deal_size sales_cycle_days open_pipeline \
            pipeline_velocity lead_velocity_rate speed_to_lead_hours followup_rate \
            cost_per_lead cost_per_mql cost_per_sql cost_per_opportunity cac roas \
            cohort stage reached conversion_from_previous conversion_from_lead \
            median_days_from_previous dropped cohort_age_days expansion_bookings \
            renewal_bookings funnel_revenue cycle_revenue existing_customer_share renewal_rate \
            starting_mrr ending_mrr new_mrr expansion_mrr contraction_mrr churned_mrr nrr grr \
            logo_churn_rate arpa ltv ltv_to_cac cac_payback_months view revenue customers \
            cost_per_customer roi unseen_by_funnel worked_mql_win_rate unworked_mqls \
            unworked_mql_lost_revenue unworked_mql_wasted_spend slow_followup_lost_revenue \
            rejected_mqls rejected_mql_wasted_spend misfit_lost_pipeline misalignment_cost \
            misalignment_cost_low misalignment_cost_high misalignment_cost_share \
            alignment_uplift_scenario followup_component speed_component acceptance_component \
            icp_component channel_component alignment_score";
        for id in ids.split_whitespace() {
            assert_ne!(kind_of(id), ValueKind::Number, "{id} has no kind");
        }
    }

    #[test]
    fn thousands_and_rounding() {
        assert_eq!(grouped(12345.0, 0), "12,345");
        assert_eq!(grouped(1234567.891, 2), "1,234,567.89");
        assert_eq!(grouped(999.96, 1), "1,000.0");
        assert_eq!(grouped(-0.04, 1), "0.0");
        assert_eq!(grouped(-1234.0, 0), "-1,234");
        assert_eq!(grouped(12.0, 0), "12");
    }

    #[test]
    fn human_values() {
        let h = |v: AnyValue<'_>, k| human(v, k, "$");
        assert_eq!(h(AnyValue::UInt32(12345), ValueKind::Count), "12,345");
        assert_eq!(h(AnyValue::Float64(12345.0), ValueKind::Count), "12,345");
        assert_eq!(h(AnyValue::Float64(400.0 * 1.1), ValueKind::Count), "440");
        assert_eq!(h(AnyValue::Float64(2.5), ValueKind::Count), "2.5");
        assert_eq!(h(AnyValue::Float64(0.234), ValueKind::Rate), "23.4%");
        assert_eq!(h(AnyValue::Float64(12345.67), ValueKind::Money), "$12,346");
        assert_eq!(h(AnyValue::Float64(42.371), ValueKind::Money), "$42.37");
        assert_eq!(h(AnyValue::Float64(-1200.0), ValueKind::Money), "-$1,200");
        assert_eq!(
            human(AnyValue::Float64(1200.0), ValueKind::Money, "USD"),
            "1,200 USD"
        );
        assert_eq!(
            human(AnyValue::Float64(1200.0), ValueKind::Money, ""),
            "1,200"
        );
        assert_eq!(h(AnyValue::Float64(12.34), ValueKind::Days), "12.3");
        assert_eq!(h(AnyValue::Float64(3.2), ValueKind::Ratio), "3.2x");
        assert_eq!(h(AnyValue::Float64(0.456), ValueKind::Ratio), "0.46x");
        assert_eq!(h(AnyValue::Float64(72.4), ValueKind::Score), "72");
        assert_eq!(h(AnyValue::Null, ValueKind::Money), NULL_TEXT);
        assert_eq!(h(AnyValue::Float64(f64::NAN), ValueKind::Rate), NULL_TEXT);
        assert_eq!(h(AnyValue::Date(19723), ValueKind::Date), "2024-01-01");
        assert_eq!(
            h(AnyValue::String("Paid Search"), ValueKind::Text),
            "Paid Search"
        );
    }

    #[test]
    fn changes() {
        // 100 -> 112: +12%; 0.20 -> 0.234: +3.4 pp; from 0: unknown.
        let rel = change(Some(100.0), Some(112.0), ChangeKind::Relative);
        assert_eq!(human_change(rel, ChangeKind::Relative), "+12.0%");
        let pp = change(Some(0.20), Some(0.234), ChangeKind::Points);
        assert_eq!(human_change(pp, ChangeKind::Points), "+3.4 pp");
        let down = change(Some(80.0), Some(60.0), ChangeKind::Relative);
        assert_eq!(human_change(down, ChangeKind::Relative), "-25.0%");
        assert_eq!(change(Some(0.0), Some(5.0), ChangeKind::Relative), None);
        assert_eq!(human_change(None, ChangeKind::Relative), NULL_TEXT);
        let flat = change(Some(5.0), Some(5.0), ChangeKind::Relative);
        assert_eq!(human_change(flat, ChangeKind::Relative), "0.0%");
        // The other sign: no percentage; down to 0 is -100%.
        assert_eq!(change(Some(-3.0), Some(5.0), ChangeKind::Relative), None);
        assert_eq!(change(Some(3.0), Some(-5.0), ChangeKind::Relative), None);
        assert_eq!(
            change(Some(4.0), Some(0.0), ChangeKind::Relative),
            Some(-1.0)
        );
        // -4 -> -2: the loss halved, (c - p) / |p| = +50%.
        assert_eq!(
            change(Some(-4.0), Some(-2.0), ChangeKind::Relative),
            Some(0.5)
        );
    }

    #[test]
    fn money_decimals_are_exact() {
        assert_eq!(money_decimal(30332.859999999997).unwrap(), "30332.86");
        assert_eq!(money_decimal(212276.66999999998).unwrap(), "212276.67");
        assert_eq!(money_decimal(-0.000000000003637978807091713).unwrap(), "0");
        assert_eq!(money_decimal(0.1 + 0.2).unwrap(), "0.3");
        assert_eq!(money_decimal(-12.5).unwrap(), "-12.5");
        assert_eq!(money_decimal(1234.0000004).unwrap(), "1234");
        assert_eq!(money_decimal(0.000001).unwrap(), "0.000001");
        assert_eq!(money_decimal(f64::NAN), None);
        assert_eq!(round_money(30332.859999999997).to_string(), "30332.86");
        assert_eq!(micros_decimal(-500_000), "-0.5");
    }
}
