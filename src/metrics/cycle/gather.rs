//! Gathering: the polars queries that reduce opportunities, spend and MRR
//! rows to small aggregates per period (and `--by` value).

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use super::PERIOD_COL;
use crate::errors::PolarsCtx;
use crate::metrics::common::{
    campaigns_with_dim, ladder, lead_stages_with, Stage, DIM,
};
use crate::metrics::shared::Shared;
use crate::metrics::common::{money_sum, MICROS};
use crate::model::Dataset;
use crate::periods::PeriodSpec;
use crate::settings::Analysis;

/// Opportunity aggregates of one (period, dimension value).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct OppAgg {
    pub(super) new_bookings: f64,
    pub(super) expansion_bookings: f64,
    pub(super) renewal_bookings: f64,
    pub(super) renewals_won: i64,
    pub(super) renewals_lost: i64,
    pub(super) new_customers: i64,
    pub(super) cycle_customers: i64,
}

/// MRR movement of one period (never split).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct MrrAgg {
    pub(super) starting: f64,
    pub(super) ending: f64,
    pub(super) new: f64,
    pub(super) expansion: f64,
    pub(super) contraction: f64,
    pub(super) churned: f64,
    pub(super) active_s: i64,
    pub(super) active_e: i64,
    pub(super) churned_accounts: i64,
}

/// Everything computed once for a cycle or funnel-versus-cycle table.
pub(super) struct Computed<'a> {
    pub(super) a: &'a Analysis,
    pub(super) spec: PeriodSpec,
    pub(super) grid: Vec<i64>,
    /// Dimension values (sorted), when split.
    pub(super) dims: Option<Vec<String>>,
    /// Opportunity aggregates, `None` when the inputs are missing.
    pub(super) opps: Option<HashMap<(i64, Option<String>), OppAgg>>,
    /// Whether bookings can be computed (amount and close_date given).
    pub(super) has_amount: bool,
    pub(super) spend: Option<HashMap<(i64, Option<String>), f64>>,
    /// MRR movements by period, `None` without a revenue table or under a split.
    pub(super) mrr: Option<HashMap<i64, MrrAgg>>,
    /// Months (months since year 0) from each period's first month through `e`.
    pub(super) months: HashMap<i64, i64>,
}

impl<'a> Computed<'a> {
    pub(super) fn new(ds: &Dataset, a: &'a Analysis) -> anyhow::Result<Self> {
        Computed::with(&Shared::tables(ds), a)
    }

    /// [`Computed::new`] from frames collected once for a run (`report`).
    pub(super) fn with(shared: &Shared, a: &'a Analysis) -> anyhow::Result<Self> {
        let ds = shared.dataset();
        let first = crate::metrics::common::earliest_row_date(ds)?.unwrap_or(ds.as_of);
        let spec = PeriodSpec::new(a.period, a.fiscal_year_start, first.min(ds.as_of));
        let grid = spec.grid(first, ds.as_of, a.from, a.to);

        let dims = match a.by {
            None => None,
            Some(_) => Some(dimension_values(shared, a)?),
        };

        // A column the input gave (even all empty) counts as given, as in `kpis`,
        // so that ids shared by both tables (new_bookings) agree.
        let has_col = |c: &str| ds.opportunities.as_ref().is_some_and(|t| t.has(c));
        let has_close = has_col("close_date");
        let has_amount = has_close && has_col("amount");
        let opps = if ds.opportunities.is_some() && has_close {
            Some(opp_aggregates(shared, a, &spec)?)
        } else {
            None
        };
        let spend = if ds.campaigns.is_some() {
            spend_aggregates(ds, a, &spec)?
        } else {
            None
        };

        let mut months = HashMap::new();
        let mut windows = Vec::new();
        for &p in &grid {
            let first_m = PeriodSpec::month_index_of(spec.start(p));
            let end = spec.end(p);
            let e = if end <= ds.as_of {
                PeriodSpec::month_index_of(end - 1)
            } else {
                PeriodSpec::month_index_of(ds.as_of)
            };
            months.insert(p, e - first_m + 1);
            windows.push((p, first_m - 1, e));
        }
        let mrr = match (&ds.revenue, a.by) {
            (Some(_), None) => match shared.mrr_months()? {
                Some(months) => Some(mrr_aggregates(&months, &windows)?),
                None => Some(HashMap::new()),
            },
            _ => None,
        };
        Ok(Computed {
            a,
            spec,
            grid,
            dims,
            opps,
            has_amount,
            spend,
            mrr,
            months,
        })
    }

    /// The output rows: every period, and within it every dimension value.
    pub(super) fn rows(&self) -> Vec<(i64, Option<String>)> {
        let mut out = Vec::new();
        for &p in &self.grid {
            match &self.dims {
                None => out.push((p, None)),
                Some(dims) => out.extend(dims.iter().map(|d| (p, Some(d.clone())))),
            }
        }
        out
    }
}

/// Acquisition counts of period `p`, as in the shared KPIs: leads created,
/// leads whose effective MQL / SQL date is in `p`, new-business
/// opportunities created in `p` (None: the input is missing).
#[allow(clippy::type_complexity)]
pub(super) fn acquisition(
    ds: &Dataset,
    spec: &PeriodSpec,
    p: i64,
) -> anyhow::Result<(Option<f64>, Option<f64>, Option<f64>, Option<f64>)> {
    let stages = ladder(ds);
    let in_p = |e: Expr| spec.index_expr(e).eq(lit(p)).cast(DataType::Int64).sum();
    let (mut leads, mut mqls, mut sqls) = (None, None, None);
    if ds.leads.is_some() {
        let mut sel = vec![in_p(col("created_at")).alias("leads")];
        for (stage, name) in [(Stage::Mql, "mqls"), (Stage::Sql, "sqls")] {
            if stages.contains(&stage) {
                sel.push(in_p(col(stage.eff_col())).alias(name));
            }
        }
        let df = lead_stages_with(ds, None, false)
            .select(sel)
            .collect()
            .ctx("counting leads of the latest period")?;
        leads = get_i64(&df, "leads", 0)?.map(|n| n as f64);
        mqls = get_i64(&df, "mqls", 0).ok().flatten().map(|n| n as f64);
        sqls = get_i64(&df, "sqls", 0).ok().flatten().map(|n| n as f64);
    }
    let mut opportunities = None;
    if let Some(opps) = &ds.opportunities {
        let df = opps
            .lazy()
            .filter(col("type").eq(lit("new_business")))
            .select([in_p(col("created_at")).alias("n")])
            .collect()
            .ctx("counting opportunities of the latest period")?;
        opportunities = get_i64(&df, "n", 0)?.map(|n| n as f64);
    }
    Ok((leads, mqls, sqls, opportunities))
}

/// Every `--by` value met in any table (leads, opportunities, spend rows that
/// split), sorted.
pub(super) fn dimension_values(shared: &Shared, a: &Analysis) -> anyhow::Result<Vec<String>> {
    let ds = shared.dataset();
    let mut frames = Vec::new();
    if ds.leads.is_some() {
        frames.push(shared.lead_dims(a.by).select([col(DIM)]));
    }
    if ds.opportunities.is_some() {
        frames.push(shared.opportunities_with_dim(a.by).select([col(DIM)]));
    }
    if ds.campaigns.is_some() {
        if let Some(lf) = campaigns_with_dim(ds, a.by) {
            frames.push(lf.select([col(DIM)]));
        }
    }
    let mut out = BTreeSet::new();
    for lf in frames {
        let df = lf
            .unique(None, UniqueKeepStrategy::Any)
            .collect()
            .ctx("listing --by values")?;
        out.extend(col_str(&df, DIM)?.into_iter().flatten());
    }
    Ok(out.into_iter().collect())
}

pub(super) fn group_keys(a: &Analysis) -> Vec<Expr> {
    let mut keys = vec![col(PERIOD_COL)];
    if a.by.is_some() {
        keys.push(col(DIM));
    }
    keys
}

/// Per (period of `close_date`, dimension): bookings by type, renewals won and
/// lost, new customers and cycle customers.
pub(super) fn opp_aggregates(
    shared: &Shared,
    a: &Analysis,
    spec: &PeriodSpec,
) -> anyhow::Result<HashMap<(i64, Option<String>), OppAgg>> {
    let won = || col("status").eq(lit("won"));
    let lost = || col("status").eq(lit("lost"));
    let of_type = |t: &str| col("type").eq(lit(t.to_string()));
    // A customer is its account; a deal without account_id is a customer of its own.
    let customer = || coalesce(&[col("account_id"), col("opportunity_id")]);
    let count = |e: Expr| e.cast(DataType::Int64).sum();
    let df = shared
        .opportunities_with_dim(a.by)
        .filter(col("close_date").is_not_null().and(won().or(lost())))
        .with_column(spec.index_expr(col("close_date")).alias(PERIOD_COL))
        .group_by(group_keys(a))
        .agg([
            money_sum(col("amount").filter(won().and(of_type("new_business"))))
                .alias("new_bookings"),
            money_sum(col("amount").filter(won().and(of_type("expansion"))))
                .alias("expansion_bookings"),
            money_sum(col("amount").filter(won().and(of_type("renewal"))))
                .alias("renewal_bookings"),
            count(won().and(of_type("renewal"))).alias("renewals_won"),
            count(lost().and(of_type("renewal"))).alias("renewals_lost"),
            customer()
                .filter(won().and(of_type("new_business")))
                .n_unique()
                .cast(DataType::Int64)
                .alias("new_customers"),
            customer()
                .filter(won())
                .n_unique()
                .cast(DataType::Int64)
                .alias("cycle_customers"),
        ])
        .collect()
        .ctx("aggregating opportunities by period")?;
    let periods = col_i64(&df, PERIOD_COL)?;
    let dims = if a.by.is_some() {
        col_str(&df, DIM)?
    } else {
        vec![None; df.height()]
    };
    let f = |name: &str| col_f64(&df, name);
    let n = |name: &str| col_i64(&df, name);
    let (nb, eb, rb) = (
        f("new_bookings")?,
        f("expansion_bookings")?,
        f("renewal_bookings")?,
    );
    let (rw, rl, nc, cc) = (
        n("renewals_won")?,
        n("renewals_lost")?,
        n("new_customers")?,
        n("cycle_customers")?,
    );
    let mut out = HashMap::new();
    for i in 0..df.height() {
        let Some(p) = periods[i] else { continue };
        let agg = OppAgg {
            new_bookings: nb[i].unwrap_or(0.0),
            expansion_bookings: eb[i].unwrap_or(0.0),
            renewal_bookings: rb[i].unwrap_or(0.0),
            renewals_won: rw[i].unwrap_or(0),
            renewals_lost: rl[i].unwrap_or(0),
            new_customers: nc[i].unwrap_or(0),
            cycle_customers: cc[i].unwrap_or(0),
        };
        out.insert((p, dims[i].clone()), agg);
    }
    Ok(out)
}

/// Per (period of `date`, dimension): marketing spend. `None` when spend does
/// not split by the `--by` dimension.
pub(super) fn spend_aggregates(
    ds: &Dataset,
    a: &Analysis,
    spec: &PeriodSpec,
) -> anyhow::Result<Option<HashMap<(i64, Option<String>), f64>>> {
    let Some(lf) = campaigns_with_dim(ds, a.by) else {
        return Ok(None);
    };
    let df = lf
        .filter(col("date").is_not_null())
        .with_column(spec.index_expr(col("date")).alias(PERIOD_COL))
        .group_by(group_keys(a))
        .agg([money_sum(col("spend")).alias("marketing_spend")])
        .collect()
        .ctx("aggregating marketing spend by period")?;
    let periods = col_i64(&df, PERIOD_COL)?;
    let dims = if a.by.is_some() {
        col_str(&df, DIM)?
    } else {
        vec![None; df.height()]
    };
    let spend = col_f64(&df, "marketing_spend")?;
    let mut out = HashMap::new();
    for i in 0..df.height() {
        let Some(p) = periods[i] else { continue };
        out.insert((p, dims[i].clone()), spend[i].unwrap_or(0.0));
    }
    Ok(Some(out))
}

/// MRR movements per period. `months` is `common::mrr_months`;
/// `windows` holds (period, s, e) with `s` and `e` month indices (months
/// since year 0).
pub(super) fn mrr_aggregates(
    months: &DataFrame,
    windows: &[(i64, i64, i64)],
) -> anyhow::Result<HashMap<i64, MrrAgg>> {
    if windows.is_empty() {
        return Ok(HashMap::new());
    }
    // MRR_a(m): several rows of one account and month add up (in integer
    // millionths, see `mrr_months`).
    let by_month = months.clone().lazy();
    let periods = df!(
        "__pi" => windows.iter().map(|w| w.0).collect::<Vec<i64>>(),
        "__s" => windows.iter().map(|w| w.1).collect::<Vec<i64>>(),
        "__e" => windows.iter().map(|w| w.2).collect::<Vec<i64>>(),
    )
    .ctx("building the MRR windows")?
    .lazy();
    let side = |key: &str, s: Expr, e: Expr| {
        periods
            .clone()
            .join(
                by_month.clone(),
                [col(key)],
                [col("__m")],
                JoinArgs::new(JoinType::Inner),
            )
            .select([
                col("__pi"),
                col("account_id"),
                s.alias("mrr_s"),
                e.alias("mrr_e"),
            ])
    };
    let s_side = side("__s", col("__mrr"), lit(0i64).cast(DataType::Int64));
    let e_side = side("__e", lit(0i64).cast(DataType::Int64), col("__mrr"));
    let act_s = || col("mrr_s").gt(lit(0i64));
    let act_e = || col("mrr_e").gt(lit(0i64));
    let money = |e: Expr| e.sum().cast(DataType::Float64) / lit(MICROS);
    let count = |e: Expr| e.cast(DataType::Int64).sum();
    let df = concat([s_side, e_side], UnionArgs::default())
        .ctx("joining MRR months")?
        .group_by([col("__pi"), col("account_id")])
        .agg([col("mrr_s").sum(), col("mrr_e").sum()])
        .group_by([col("__pi")])
        .agg([
            money(col("mrr_s").filter(act_s())).alias("starting"),
            money(col("mrr_e").filter(act_e())).alias("ending"),
            money(col("mrr_e").filter(act_e().and(act_s().not()))).alias("new"),
            money(
                (col("mrr_e") - col("mrr_s"))
                    .filter(act_s().and(act_e()).and(col("mrr_e").gt(col("mrr_s")))),
            )
            .alias("expansion"),
            money(
                (col("mrr_s") - col("mrr_e"))
                    .filter(act_s().and(act_e()).and(col("mrr_s").gt(col("mrr_e")))),
            )
            .alias("contraction"),
            money(col("mrr_s").filter(act_s().and(act_e().not()))).alias("churned"),
            count(act_s()).alias("active_s"),
            count(act_e()).alias("active_e"),
            count(act_s().and(act_e().not())).alias("churned_accounts"),
        ])
        .collect()
        .ctx("aggregating MRR movements")?;
    let periods = col_i64(&df, "__pi")?;
    let f = |name: &str| col_f64(&df, name);
    let n = |name: &str| col_i64(&df, name);
    let (starting, ending, new, expansion) =
        (f("starting")?, f("ending")?, f("new")?, f("expansion")?);
    let (contraction, churned) = (f("contraction")?, f("churned")?);
    let (active_s, active_e, churned_accounts) =
        (n("active_s")?, n("active_e")?, n("churned_accounts")?);
    let mut out = HashMap::new();
    for i in 0..df.height() {
        let Some(p) = periods[i] else { continue };
        out.insert(
            p,
            MrrAgg {
                starting: starting[i].unwrap_or(0.0),
                ending: ending[i].unwrap_or(0.0),
                new: new[i].unwrap_or(0.0),
                expansion: expansion[i].unwrap_or(0.0),
                contraction: contraction[i].unwrap_or(0.0),
                churned: churned[i].unwrap_or(0.0),
                active_s: active_s[i].unwrap_or(0),
                active_e: active_e[i].unwrap_or(0),
                churned_accounts: churned_accounts[i].unwrap_or(0),
            },
        );
    }
    Ok(out)
}

pub(super) fn get_i64(df: &DataFrame, name: &str, i: usize) -> anyhow::Result<Option<i64>> {
    Ok(col_i64(df, name)?.get(i).copied().flatten())
}

/// A column of a small aggregate frame as plain values.
pub(super) fn col_i64(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<i64>>> {
    let c = df.column(name)?.cast(&DataType::Int64)?;
    Ok(c.i64()?.iter().collect())
}

pub(super) fn col_f64(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<f64>>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().collect())
}

pub(super) fn col_str(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|s| s.map(str::to_string))
        .collect())
}
