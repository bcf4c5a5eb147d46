//! Computing: the arithmetic of one output row on the gathered aggregates
//! (no polars).

use super::gather::{Computed, MrrAgg, OppAgg};

/// All values of one output row.
pub(super) struct RowValues {
    pub(super) new_bookings: Option<f64>,
    pub(super) expansion_bookings: Option<f64>,
    pub(super) renewal_bookings: Option<f64>,
    pub(super) renewal_rate: Option<f64>,
    pub(super) new_customers: Option<i64>,
    pub(super) cycle_customers: Option<i64>,
    pub(super) marketing_spend: Option<f64>,
    pub(super) mrr: Option<MrrAgg>,
    pub(super) months: i64,
    pub(super) gross_margin: f64,
    pub(super) sales_cost: f64,
}

impl RowValues {
    pub(super) fn cycle_revenue(&self) -> Option<f64> {
        crate::metrics::common::money_add(&[
            self.new_bookings,
            self.expansion_bookings,
            self.renewal_bookings,
        ])
    }

    pub(super) fn cac(&self) -> Option<f64> {
        div(
            self.marketing_spend.map(|s| s + self.sales_cost),
            self.new_customers.map(|n| n as f64),
        )
    }

    /// The values of [`CYCLE_METRICS`], in order.
    pub(super) fn cycle_row(&self) -> Vec<Option<f64>> {
        let cycle_revenue = self.cycle_revenue();
        let existing = div(
            crate::metrics::common::money_add(&[self.expansion_bookings, self.renewal_bookings]),
            cycle_revenue,
        );
        let mut row = vec![
            self.new_bookings,
            self.expansion_bookings,
            self.renewal_bookings,
            self.new_bookings,
            cycle_revenue,
            existing,
            self.renewal_rate,
        ];
        match &self.mrr {
            None => row.extend(std::iter::repeat_n(None, 13)),
            Some(m) => {
                let nrr = div(
                    Some(m.starting + m.expansion - m.contraction - m.churned),
                    Some(m.starting),
                );
                let grr = div(
                    Some(m.starting - m.contraction - m.churned),
                    Some(m.starting),
                );
                let logo_churn = div(Some(m.churned_accounts as f64), Some(m.active_s as f64));
                let arpa = div(Some(m.ending), Some(m.active_e as f64));
                let monthly_churn =
                    logo_churn.map(|c| 1.0 - (1.0 - c).powf(1.0 / self.months as f64));
                let ltv = match (arpa, monthly_churn) {
                    (Some(arpa), Some(mc)) if mc != 0.0 => Some(arpa * self.gross_margin / mc),
                    _ => None,
                };
                let cac = self.cac();
                row.extend([
                    Some(m.starting),
                    Some(m.new),
                    Some(m.expansion),
                    Some(m.contraction),
                    Some(m.churned),
                    Some(m.ending),
                    nrr,
                    grr,
                    logo_churn,
                    arpa,
                    ltv,
                    div(ltv, cac),
                    div(cac, arpa.map(|x| x * self.gross_margin)),
                ]);
            }
        }
        row
    }
}

impl Computed<'_> {
    pub(super) fn values(&self, p: i64, dim: Option<&str>) -> RowValues {
        let key = (p, dim.map(str::to_string));
        let o = self
            .opps
            .as_ref()
            .map(|m| m.get(&key).copied().unwrap_or_default());
        let bookings = |f: fn(&OppAgg) -> f64| {
            if self.has_amount {
                o.as_ref().map(f)
            } else {
                None
            }
        };
        RowValues {
            new_bookings: bookings(|o| o.new_bookings),
            expansion_bookings: bookings(|o| o.expansion_bookings),
            renewal_bookings: bookings(|o| o.renewal_bookings),
            renewal_rate: o.and_then(|o| {
                div(
                    Some(o.renewals_won as f64),
                    Some((o.renewals_won + o.renewals_lost) as f64),
                )
            }),
            new_customers: o.map(|o| o.new_customers),
            cycle_customers: o.map(|o| o.cycle_customers),
            marketing_spend: self
                .spend
                .as_ref()
                .map(|m| m.get(&key).copied().unwrap_or(0.0)),
            mrr: self
                .mrr
                .as_ref()
                .map(|m| m.get(&p).copied().unwrap_or_default()),
            months: self.months.get(&p).copied().unwrap_or(1),
            gross_margin: self.a.gross_margin,
            sales_cost: self.a.sales_cost,
        }
    }
}

pub(super) fn div(n: Option<f64>, d: Option<f64>) -> Option<f64> {
    match (n, d) {
        (Some(n), Some(d)) if d != 0.0 => Some(n / d),
        _ => None,
    }
}

pub(super) fn sub(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? - b?)
}
