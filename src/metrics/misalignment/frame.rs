//! Building the frames: the one list of the misalignment table's columns,
//! in order, each read from a typed [`GroupRow`].

use anyhow::Result;
use polars::prelude::*;

use crate::errors::PolarsCtx;

use super::bucket_stem;
use super::compute::{BucketRow, GroupRow, Money};
use crate::settings::Dimension;

/// Builds the columns of a frame from typed rows. With no row at all every
/// column is a float column (as it always was).
struct Cols<'a> {
    rows: &'a [(String, GroupRow)],
    cols: Vec<Column>,
}

impl Cols<'_> {
    fn f(&mut self, name: &str, get: impl Fn(&GroupRow) -> Option<f64>) {
        let v: Vec<Option<f64>> = self.rows.iter().map(|(_, r)| get(r)).collect();
        self.cols.push(Series::new(name.into(), v).into_column());
    }
    fn money(&mut self, name: &str, get: impl Fn(&GroupRow) -> Option<Money>) {
        self.f(name, |r| get(r).map(|m| m.v));
    }
    fn i(&mut self, name: &str, get: impl Fn(&GroupRow) -> Option<i64>) {
        if self.rows.is_empty() {
            return self.f(name, |_| None);
        }
        let v: Vec<Option<i64>> = self.rows.iter().map(|(_, r)| get(r)).collect();
        self.cols.push(Series::new(name.into(), v).into_column());
    }
    fn s(&mut self, name: &str, get: impl Fn(&GroupRow) -> Option<String>) {
        if self.rows.is_empty() {
            return self.f(name, |_| None);
        }
        let v: Vec<Option<String>> = self.rows.iter().map(|(_, r)| get(r)).collect();
        self.cols.push(Series::new(name.into(), v).into_column());
    }
}

/// The misalignment table: the dimension column (with `--by`) and one column
/// per field of [`GroupRow`], spec ids first (the order of docs/metrics.md);
/// `bounds` name the bucket columns.
pub(super) fn build_frame(
    rows: &[(String, GroupRow)],
    by: Option<Dimension>,
    bounds: &[f64],
) -> Result<DataFrame> {
    let mut c = Cols {
        rows,
        cols: Vec::new(),
    };
    if let Some(by) = by {
        let v: Vec<String> = rows.iter().map(|(k, _)| k.clone()).collect();
        c.cols.push(Series::new(by.name().into(), v).into_column());
    }
    // Spec ids (SPEC_IDS, in order).
    c.f("worked_mql_win_rate", |r| r.worked_mql_win_rate);
    c.i("unworked_mqls", |r| r.unworked_mqls);
    c.money("unworked_mql_lost_revenue", |r| r.unworked_mql_lost_revenue);
    c.money("unworked_mql_wasted_spend", |r| r.unworked_mql_wasted_spend);
    c.money("slow_followup_lost_revenue", |r| {
        r.slow_followup_lost_revenue
    });
    c.i("rejected_mqls", |r| r.rejected_mqls);
    c.money("rejected_mql_wasted_spend", |r| r.rejected_mql_wasted_spend);
    c.money("misfit_lost_pipeline", |r| r.misfit_lost_pipeline);
    c.f("misalignment_cost", |r| r.misalignment_cost);
    c.f("misalignment_cost_low", |r| r.misalignment_cost_low);
    c.f("misalignment_cost_high", |r| r.misalignment_cost_high);
    c.f("misalignment_cost_share", |r| r.misalignment_cost_share);
    c.f("alignment_uplift_scenario", |r| r.alignment_uplift_scenario);
    c.f("alignment_score", |r| r.alignment_score);
    c.f("followup_component", |r| r.followup_component);
    c.f("speed_component", |r| r.speed_component);
    c.f("acceptance_component", |r| r.acceptance_component);
    c.f("icp_component", |r| r.icp_component);
    c.f("channel_component", |r| r.channel_component);
    // Measured inputs.
    c.i("mqls_reached", |r| r.mqls_reached);
    c.i("worked_mqls", |r| r.worked_mqls);
    c.i("worked_mqls_won", |r| r.worked_mqls_won);
    c.f("worked_mql_win_rate_low", |r| r.worked_mql_win_rate_low);
    c.f("worked_mql_win_rate_high", |r| r.worked_mql_win_rate_high);
    c.i("sla_mqls", |r| r.sla_mqls);
    c.i("contacted_mqls", |r| r.contacted_mqls);
    c.i("contacted_within_24h", |r| r.contacted_within_24h);
    c.i("accepted_mqls", |r| r.accepted_mqls);
    c.i("sql_reached", |r| r.sql_reached);
    c.i("sql_won", |r| r.sql_won);
    c.f("sql_win_rate", |r| r.sql_win_rate);
    c.f("sql_win_rate_low", |r| r.sql_win_rate_low);
    c.f("sql_win_rate_high", |r| r.sql_win_rate_high);
    c.s("followup_base_bucket", |r| r.followup_base_bucket.clone());
    for ix in 0..=bounds.len() {
        let stem = bucket_stem(bounds, ix);
        c.i(&format!("{stem}_n"), |r| {
            r.buckets.get(ix).and_then(|b| b.n)
        });
        c.i(&format!("{stem}_sql_reached"), |r| {
            r.buckets.get(ix).and_then(|b| b.sql_reached)
        });
        c.f(&format!("{stem}_q"), |r| {
            r.buckets.get(ix).and_then(|b| b.q)
        });
    }
    c.i("won_deals", |r| r.won_deals);
    c.i("lost_deals", |r| r.lost_deals);
    c.f("win_rate", |r| r.win_rate);
    c.f("win_rate_low", |r| r.win_rate_low);
    c.f("win_rate_high", |r| r.win_rate_high);
    c.f("new_bookings", |r| r.new_bookings);
    c.f("avg_deal_size", |r| r.avg_deal_size);
    c.f("marketing_spend", |r| r.marketing_spend);
    c.f("cost_per_mql", |r| r.cost_per_mql);
    c.i("misfit_lost_deals", |r| r.misfit_lost_deals);
    c.f("misfit_lost_amount", |r| r.misfit_lost_amount);
    DataFrame::new_infer_height(c.cols).ctx("building the misalignment table")
}

pub(super) fn build_buckets(
    rows: &[(String, Vec<BucketRow>)],
    by: Option<Dimension>,
) -> Result<DataFrame> {
    let flat: Vec<(&String, &BucketRow)> = rows
        .iter()
        .flat_map(|(k, v)| v.iter().map(move |b| (k, b)))
        .collect();
    let mut cols: Vec<Column> = Vec::new();
    if let Some(by) = by {
        cols.push(
            Series::new(
                by.name().into(),
                flat.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>(),
            )
            .into_column(),
        );
    }
    let fs = |name: &str, f: &dyn Fn(&BucketRow) -> Option<f64>| {
        Series::new(
            name.into(),
            flat.iter().map(|(_, b)| f(b)).collect::<Vec<_>>(),
        )
        .into_column()
    };
    cols.push(
        Series::new(
            "bucket".into(),
            flat.iter()
                .map(|(_, b)| b.label.clone())
                .collect::<Vec<_>>(),
        )
        .into_column(),
    );
    cols.push(
        Series::new(
            "n".into(),
            flat.iter().map(|(_, b)| b.n).collect::<Vec<_>>(),
        )
        .into_column(),
    );
    cols.push(
        Series::new(
            "sql_reached".into(),
            flat.iter().map(|(_, b)| b.sql).collect::<Vec<_>>(),
        )
        .into_column(),
    );
    cols.push(fs("q", &|b| b.q.value()));
    cols.push(fs("q_low", &|b| b.q.low()));
    cols.push(fs("q_high", &|b| b.q.high()));
    cols.push(
        Series::new(
            "role".into(),
            flat.iter()
                .map(|(_, b)| b.role.map(str::to_string))
                .collect::<Vec<_>>(),
        )
        .into_column(),
    );
    cols.push(fs("lost_revenue", &|b| b.lost.map(|m| m.v)));
    cols.push(fs("lost_revenue_low", &|b| b.lost.map(|m| m.lo)));
    cols.push(fs("lost_revenue_high", &|b| b.lost.map(|m| m.hi)));
    DataFrame::new_infer_height(cols).ctx("building the response-time bucket table")
}
