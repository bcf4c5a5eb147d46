//! Building the frames: the cycle table, funnel versus cycle and the bow
//! tie's numbers, from the computed rows.

use polars::prelude::*;

use super::compute::{div, sub};
use super::gather::{self, Computed};
use super::{BowTie, CYCLE_METRICS};
use crate::errors::PolarsCtx;
use crate::model::Dataset;
use crate::periods::date_of;

/// The cycle table, the metrics the registry calls unavailable nulled.
pub(super) fn cycle_frame(ds: &Dataset, c: &Computed) -> anyhow::Result<DataFrame> {
    let mut cols: Vec<Vec<Option<f64>>> = vec![Vec::new(); CYCLE_METRICS.len()];
    for (p, dim) in c.rows() {
        let v = c.values(p, dim.as_deref());
        for (i, x) in v.cycle_row().into_iter().enumerate() {
            cols[i].push(x);
        }
    }
    let mut out = c.key_columns(1)?;
    for (name, values) in CYCLE_METRICS.iter().zip(cols) {
        out.push(Column::new((*name).into(), values));
    }
    let df = DataFrame::new_infer_height(out).ctx("building the cycle table")?;
    crate::metrics::registry::availability(ds)?.null_unavailable("cycle", df)
}

pub(super) fn fvc_frame(c: &Computed) -> anyhow::Result<DataFrame> {
    let mut view: Vec<&str> = Vec::new();
    let mut revenue = Vec::new();
    let mut customers: Vec<Option<i64>> = Vec::new();
    let mut spend = Vec::new();
    let mut cpc = Vec::new();
    let mut roi = Vec::new();
    let mut unseen = Vec::new();
    for (p, dim) in c.rows() {
        let v = c.values(p, dim.as_deref());
        let funnel_rev = v.new_bookings;
        let cycle_rev = v.cycle_revenue();
        for (name, rev, cust, uns) in [
            ("funnel", funnel_rev, v.new_customers, None),
            (
                "cycle",
                cycle_rev,
                v.cycle_customers,
                sub(cycle_rev, funnel_rev),
            ),
        ] {
            view.push(name);
            revenue.push(rev);
            customers.push(cust);
            spend.push(v.marketing_spend);
            cpc.push(div(v.marketing_spend, cust.map(|n| n as f64)));
            roi.push(div(sub(rev, v.marketing_spend), v.marketing_spend));
            unseen.push(uns);
        }
    }
    let mut out = c.key_columns(2)?;
    out.push(Column::new("view".into(), view));
    out.push(Column::new("revenue".into(), revenue));
    out.push(Column::new("customers".into(), customers));
    out.push(Column::new("marketing_spend".into(), spend));
    out.push(Column::new("cost_per_customer".into(), cpc));
    out.push(Column::new("roi".into(), roi));
    out.push(Column::new("unseen_by_funnel".into(), unseen));
    DataFrame::new_infer_height(out).ctx("building the funnel-versus-cycle table")
}

/// The bow tie of an unsplit computation.
pub(super) fn bow_tie_from(ds: &Dataset, c: &Computed) -> anyhow::Result<Option<BowTie>> {
    let Some(&p) = c.grid.last() else {
        return Ok(None);
    };
    let v = c.values(p, None);
    let spec = c.spec;
    let complete = spec.end(p) <= ds.as_of;

    let (leads, mqls, sqls, opportunities) = gather::acquisition(ds, &spec, p)?;
    Ok(Some(BowTie {
        period: spec.start_date(p),
        period_kind: spec.kind.name(),
        complete,
        leads,
        mqls,
        sqls,
        opportunities,
        new_customers: v.new_customers.map(|n| n as f64),
        new_bookings: v.new_bookings,
        expansion_bookings: v.expansion_bookings,
        renewal_bookings: v.renewal_bookings,
        starting_mrr: v.mrr.as_ref().map(|m| m.starting),
        new_mrr: v.mrr.as_ref().map(|m| m.new),
        expansion_mrr: v.mrr.as_ref().map(|m| m.expansion),
        contraction_mrr: v.mrr.as_ref().map(|m| m.contraction),
        churned_mrr: v.mrr.as_ref().map(|m| m.churned),
        ending_mrr: v.mrr.as_ref().map(|m| m.ending),
        nrr: v.mrr.as_ref().and_then(|m| {
            div(
                Some(m.starting + m.expansion - m.contraction - m.churned),
                Some(m.starting),
            )
        }),
    }))
}

impl Computed<'_> {
    /// `period` repeated `times` per row (and the dimension column).
    pub(super) fn key_columns(&self, times: usize) -> anyhow::Result<Vec<Column>> {
        let mut days: Vec<i32> = Vec::new();
        let mut dims: Vec<String> = Vec::new();
        for (p, dim) in self.rows() {
            let d = (self.spec.start_date(p) - date_of(0)).num_days() as i32;
            for _ in 0..times {
                days.push(d);
                if let Some(dim) = &dim {
                    dims.push(dim.clone());
                }
            }
        }
        let period = Column::new("period".into(), days)
            .cast(&DataType::Date)
            .ctx("building the period column")?;
        let mut out = vec![period];
        if let Some(by) = self.a.by {
            out.push(Column::new(by.name().into(), dims));
        }
        Ok(out)
    }
}
