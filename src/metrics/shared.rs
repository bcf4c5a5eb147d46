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
    stages: Option<DataFrame>,
    /// `common::opportunities_with_dim(ds, Some(dim))`, collected, for the
    /// run's `--by` dimension.
    opps: Option<(Dimension, DataFrame)>,
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
            let df = common::lead_stages(ds, None)
                .select(keep)
                .collect()
                .ctx("computing lead stages")?;
            shared.stages = Some(df);
        }
        if let (Some(by), Some(_)) = (by, &ds.opportunities) {
            let df = shared
                .opportunities_with_dim(Some(by))
                .collect()
                .ctx("resolving opportunities")?;
            shared.opps = Some((by, df));
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
            Some(df) => with_dim(df.clone().lazy(), by),
            None => common::lead_stages_with(self.ds, by, resolve_channel),
        }
    }

    /// [`common::lead_dims`]: every lead with its dimension columns
    /// (`channel` resolved) and `__dim` for `by`.
    pub fn lead_dims(&self, by: Option<Dimension>) -> LazyFrame {
        match &self.stages {
            Some(df) => with_dim(df.clone().lazy(), by),
            None => common::lead_dims(self.ds, by),
        }
    }

    /// [`common::opportunities_with_dim`], the leads' values read from
    /// [`Shared::lead_dims`].
    pub fn opportunities_with_dim(&self, by: Option<Dimension>) -> LazyFrame {
        match (&self.opps, by) {
            (Some((d, df)), Some(b)) if *d == b => df.clone().lazy(),
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

fn with_dim(lf: LazyFrame, by: Option<Dimension>) -> LazyFrame {
    match by {
        Some(by) => lf.with_column(common::lead_dim_expr(by).alias(DIM)),
        None => lf,
    }
}
