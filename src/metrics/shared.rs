//! The per-lead and per-deal frames several tables read: the lead stages
//! (effective stage dates per lead, `channel` resolved through the lead's
//! campaign), the `--by` value of every deal and the MRR per account and
//! month. One command asks for them
//! once and gets the lazy query over the tables ([`Shared::tables`]: polars
//! reads only the columns that command selects); `report`, which computes
//! every table, collects them once ([`Shared::collect`]) and every table's
//! gathering starts from the collected frames instead of joining the leads to
//! the deals and campaigns again. The answers are the same either way: the
//! collected frames are the very queries of `common`, run once.

use anyhow::Result;
use polars::prelude::*;

use crate::errors::PolarsCtx;
use crate::metrics::common::{self, Stage, DIM};
use crate::model::Dataset;
use crate::settings::Dimension;

/// Where a run's per-lead and per-deal frames come from (see the module doc).
pub struct Shared<'a> {
    ds: &'a Dataset,
    /// `common::lead_stages(ds, None)`, collected, with the columns the
    /// metrics read: `lead_id`, `created_at`, `first_contact_at`,
    /// `disqualified_at`, `segment`, `channel` (resolved), `owner`,
    /// `campaign_id`, `raw_mql` (when MQL is in use) and `eff_<stage>` for
    /// every stage in use. `None`: build the query from the tables.
    /// Collected in memory, or (a spilled run) written to a Parquet file in
    /// the spill folder and scanned.
    stages: Option<LazyFrame>,
    /// `common::opportunities_with_dim(ds, Some(dim))`, collected (or
    /// spilled), for the run's `--by` dimension.
    opps: Option<(Dimension, LazyFrame)>,
    /// `common::mrr_months`, collected.
    months: Option<DataFrame>,
}

impl<'a> Shared<'a> {
    /// Nothing collected: every frame is the lazy query over the tables.
    pub fn tables(ds: &'a Dataset) -> Shared<'a> {
        Shared {
            ds,
            stages: None,
            opps: None,
            months: None,
        }
    }

    /// The lead stages collected once, with `by` the deals' `--by` values
    /// (read by the split kpis and cycle), and the MRR per account and month
    /// (the cycle's MRR movements and the cohort retention).
    pub fn collect(ds: &'a Dataset, by: Option<Dimension>) -> Result<Shared<'a>> {
        let mut shared = Shared::tables(ds);
        if ds.leads.is_some() {
            let ladder = common::ladder(ds);
            let mut keep: Vec<Expr> = [
                "lead_id",
                "created_at",
                "first_contact_at",
                "disqualified_at",
                "segment",
                "channel",
                "owner",
                "campaign_id",
            ]
            .into_iter()
            .map(col)
            .collect();
            if ladder.contains(&Stage::Mql) {
                keep.push(col(Stage::Mql.raw_col()));
            }
            keep.extend(ladder.iter().map(|s| col(s.eff_col())));
            let lf = kept(
                ds,
                common::lead_stages(ds, None).select(keep),
                "computing lead stages",
            )?;
            shared.stages = Some(lf);
        }
        if let (Some(by), Some(_)) = (by, &ds.opportunities) {
            let lf = kept(
                ds,
                shared.opportunities_with_dim(Some(by)),
                "resolving opportunities",
            )?;
            shared.opps = Some((by, lf));
        }
        if let Some(lf) = common::mrr_months(ds) {
            shared.months = Some(lf.collect().ctx("summing MRR by account and month")?);
        }
        Ok(shared)
    }

    pub fn dataset(&self) -> &'a Dataset {
        self.ds
    }

    /// [`common::lead_stages_with`]: the collected frame (with `__dim` for
    /// `by`; `channel` is always resolved there), else the query.
    pub fn lead_stages(&self, by: Option<Dimension>, resolve_channel: bool) -> LazyFrame {
        match &self.stages {
            Some(lf) => with_dim(lf.clone(), by),
            None => common::lead_stages_with(self.ds, by, resolve_channel),
        }
    }

    /// [`common::lead_dims`]: every lead with its dimension columns
    /// (`channel` resolved) and `__dim` for `by`.
    pub fn lead_dims(&self, by: Option<Dimension>) -> LazyFrame {
        match &self.stages {
            Some(lf) => with_dim(lf.clone(), by),
            None => common::lead_dims(self.ds, by),
        }
    }

    /// [`common::opportunities_with_dim`], the leads' values read from
    /// [`Shared::lead_dims`].
    pub fn opportunities_with_dim(&self, by: Option<Dimension>) -> LazyFrame {
        match (&self.opps, by) {
            (Some((d, lf)), Some(b)) if *d == b => lf.clone(),
            _ => common::opportunities_with_dim_from(self.ds, by, self.lead_dims(by)),
        }
    }

    /// [`common::mrr_months`], collected (here, or once by
    /// [`Shared::collect`]); `None` without a revenue table.
    pub fn mrr_months(&self) -> Result<Option<DataFrame>> {
        if let Some(df) = &self.months {
            return Ok(Some(df.clone()));
        }
        common::mrr_months(self.ds)
            .map(|lf| lf.collect().ctx("summing MRR by account and month"))
            .transpose()
    }
}

/// A frame with one row per lead or per deal that several queries read:
/// collected once (`input::spill::keep`: into a Parquet file when the run
/// spills, so it is not held in memory).
pub fn kept(ds: &Dataset, lf: LazyFrame, what: &str) -> Result<LazyFrame> {
    crate::input::spill::keep(ds.spill_dir().as_ref(), lf, what)
}

fn with_dim(lf: LazyFrame, by: Option<Dimension>) -> LazyFrame {
    match by {
        Some(by) => lf.with_column(common::lead_dim_expr(by).alias(DIM)),
        None => lf,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testutil::{cells, fixture};

    /// `df` sorted by `keys`, as strings (the group-by and join order of a
    /// lazy query is not the contract).
    fn sorted(df: DataFrame, keys: &[&str]) -> Vec<(String, Vec<String>)> {
        let df = df
            .sort(
                keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
                SortMultipleOptions::default(),
            )
            .unwrap();
        cells(&df)
    }

    const BYS: [Option<Dimension>; 5] = [
        None,
        Some(Dimension::Channel),
        Some(Dimension::Segment),
        Some(Dimension::Owner),
        Some(Dimension::Campaign),
    ];

    /// The collected frames answer exactly what the queries over the tables
    /// answer, for every split, on fixtures with campaigns, deals and revenue.
    #[test]
    fn collected_frames_are_the_queries_over_the_tables() {
        for name in ["basic", "cycle", "misalignment", "plan"] {
            let ds = fixture(name);
            let tables = Shared::tables(&ds);
            for by in BYS {
                let what = format!("fixture {name}, by {by:?}");
                let shared = Shared::collect(&ds, by).unwrap();
                assert!(shared.stages.is_some(), "{what}: leads collected");
                // Every column the collected stages keep (and `__dim`).
                let mut names: Vec<Expr> = shared
                    .stages
                    .clone()
                    .unwrap()
                    .collect_schema()
                    .unwrap()
                    .iter_names()
                    .map(|c| col(c.as_str()))
                    .collect();
                if by.is_some() {
                    names.push(col(DIM));
                }
                let got = shared
                    .lead_stages(by, true)
                    .select(names.clone())
                    .collect()
                    .unwrap();
                let want = tables
                    .lead_stages(by, true)
                    .select(names)
                    .collect()
                    .unwrap();
                assert!(got.height() > 0, "{what}");
                assert_eq!(
                    sorted(got, &["lead_id"]),
                    sorted(want, &["lead_id"]),
                    "{what}: stages"
                );
                if ds.opportunities.is_some() {
                    assert_eq!(shared.opps.is_some(), by.is_some(), "{what}");
                    let got = shared.opportunities_with_dim(by).collect().unwrap();
                    let want = tables.opportunities_with_dim(by).collect().unwrap();
                    assert!(got.height() > 0, "{what}");
                    assert_eq!(
                        sorted(got, &["opportunity_id"]),
                        sorted(want, &["opportunity_id"]),
                        "{what}: deals"
                    );
                }
                if let Some(by) = by {
                    let sel = [col("lead_id"), col(by.column()), col(DIM)];
                    let got = shared
                        .lead_dims(Some(by))
                        .select(sel.clone())
                        .collect()
                        .unwrap();
                    let want = tables.lead_dims(Some(by)).select(sel).collect().unwrap();
                    assert_eq!(
                        sorted(got, &["lead_id"]),
                        sorted(want, &["lead_id"]),
                        "{what}: dims"
                    );
                }
                let (got, want) = (shared.mrr_months().unwrap(), tables.mrr_months().unwrap());
                assert_eq!(got.is_some(), ds.revenue.is_some(), "{what}");
                if let (Some(g), Some(w)) = (got, want) {
                    assert!(g.height() > 0, "{what}");
                    let keys = ["account_id", "__m"];
                    assert_eq!(sorted(g, &keys), sorted(w, &keys), "{what}: MRR months");
                }
            }
        }
    }
}
