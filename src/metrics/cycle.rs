//! The revenue cycle (`revcycle cycle`): bookings by deal type, funnel versus
//! cycle revenue, and the MRR movements of the `revenue` table per period, as
//! defined in `docs/metrics.md` ("Revenue cycle"); formulas and choices are in
//! `docs/metrics-cycle.md`.
//!
//! The heavy lifting (per-row filters, per-account month sums, joins) is done
//! by polars; the small per-period aggregates are then assembled into the
//! output rows in plain Rust.

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use crate::metrics::common::{campaigns_with_dim, lead_stages, ladder, opportunities_with_dim, Stage, DIM};
use crate::metrics::periods::{date_of, PeriodSpec};
use crate::model::{Dataset, TableKind};
use crate::output::bowtie::BowTie;
use crate::settings::Analysis;

/// Columns of the cycle table after `period` and the optional dimension, in
/// spec order. Scripts depend on this order.
pub const CYCLE_METRICS: [&str; 20] = [
    "new_bookings",
    "expansion_bookings",
    "renewal_bookings",
    "funnel_revenue",
    "cycle_revenue",
    "existing_customer_share",
    "renewal_rate",
    "starting_mrr",
    "new_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "ending_mrr",
    "nrr",
    "grr",
    "logo_churn_rate",
    "arpa",
    "ltv",
    "ltv_to_cac",
    "cac_payback_months",
];

/// Columns of the funnel-versus-cycle table after `period` and the optional
/// dimension.
pub const FUNNEL_VS_CYCLE_COLUMNS: [&str; 7] =
    ["view", "revenue", "customers", "marketing_spend", "cost_per_customer", "roi", "unseen_by_funnel"];

/// The note shown when there is no revenue table.
pub const NOTE_NO_REVENUE: &str =
    "MRR metrics (starting_mrr … cac_payback_months) need a revenue table: --revenue FILE or revenue.* in the folder";

const PERIOD_COL: &str = "__p";

/// One line per thing the reader should know about the cycle table's nulls.
pub fn notes(ds: &Dataset, a: &Analysis) -> Vec<String> {
    let mut out = Vec::new();
    if ds.revenue.is_none() {
        out.push(NOTE_NO_REVENUE.to_string());
    } else if let Some(by) = a.by {
        out.push(format!(
            "MRR metrics (starting_mrr … cac_payback_months) are not split by {}: revenue rows carry no dimension",
            by.name()
        ));
    }
    out
}

/// The revenue-cycle table: one row per reported period (and `--by` value).
/// Columns: `period` (Date, first day), the dimension (named `channel`,
/// `segment`, `owner` or `campaign`) when `a.by` is set, then [`CYCLE_METRICS`].
pub fn cycle(ds: &Dataset, a: &Analysis) -> anyhow::Result<DataFrame> {
    let c = Computed::new(ds, a)?;
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
    DataFrame::new_infer_height(out).ctx("building the cycle table")
}

/// Funnel versus cycle: two rows per reported period (and `--by` value), the
/// `funnel` view then the `cycle` view. Columns: `period`, the dimension when
/// `a.by` is set, then [`FUNNEL_VS_CYCLE_COLUMNS`].
pub fn funnel_vs_cycle(ds: &Dataset, a: &Analysis) -> anyhow::Result<DataFrame> {
    let c = Computed::new(ds, a)?;
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
            ("cycle", cycle_rev, v.cycle_customers, sub(cycle_rev, funnel_rev)),
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

/// The numbers the bow-tie draws, for the latest reported period, over the
/// whole business (`--by` is ignored: the bow tie is one picture). `None` when
/// no period is reported.
pub fn bow_tie_numbers(ds: &Dataset, a: &Analysis) -> anyhow::Result<Option<BowTie>> {
    let mut whole = a.clone();
    whole.by = None;
    let c = Computed::new(ds, &whole)?;
    let Some(&p) = c.grid.last() else { return Ok(None) };
    let v = c.values(p, None);
    let spec = c.spec;
    let complete = spec.end(p) <= ds.as_of;

    // Acquisition counts of the period, as in the shared KPIs: leads created,
    // leads whose effective MQL / SQL date is in P, new-business opportunities
    // created in P.
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
        let df = lead_stages(ds, None).select(sel).collect().ctx("counting leads of the latest period")?;
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
        nrr: v.mrr.as_ref().and_then(|m| div(Some(m.starting + m.expansion - m.contraction - m.churned), Some(m.starting))),
    }))
}

// ---------------------------------------------------------------------------
// Aggregation

/// Opportunity aggregates of one (period, dimension value).
#[derive(Debug, Clone, Copy, Default)]
struct OppAgg {
    new_bookings: f64,
    expansion_bookings: f64,
    renewal_bookings: f64,
    renewals_won: i64,
    renewals_lost: i64,
    new_customers: i64,
    cycle_customers: i64,
}

/// MRR movement of one period (never split).
#[derive(Debug, Clone, Copy, Default)]
struct MrrAgg {
    starting: f64,
    ending: f64,
    new: f64,
    expansion: f64,
    contraction: f64,
    churned: f64,
    active_s: i64,
    active_e: i64,
    churned_accounts: i64,
}

/// Everything computed once for a cycle or funnel-versus-cycle table.
struct Computed<'a> {
    a: &'a Analysis,
    spec: PeriodSpec,
    grid: Vec<i64>,
    /// Dimension values (sorted), when split.
    dims: Option<Vec<String>>,
    /// Opportunity aggregates, `None` when the inputs are missing.
    opps: Option<HashMap<(i64, Option<String>), OppAgg>>,
    /// Whether bookings can be computed (amount and close_date given).
    has_amount: bool,
    spend: Option<HashMap<(i64, Option<String>), f64>>,
    /// MRR movements by period, `None` without a revenue table or under a split.
    mrr: Option<HashMap<i64, MrrAgg>>,
    /// Months (months since year 0) from each period's first month through `e`.
    months: HashMap<i64, i64>,
}

/// All values of one output row.
struct RowValues {
    new_bookings: Option<f64>,
    expansion_bookings: Option<f64>,
    renewal_bookings: Option<f64>,
    renewal_rate: Option<f64>,
    new_customers: Option<i64>,
    cycle_customers: Option<i64>,
    marketing_spend: Option<f64>,
    mrr: Option<MrrAgg>,
    months: i64,
    gross_margin: f64,
    sales_cost: f64,
}

impl RowValues {
    fn cycle_revenue(&self) -> Option<f64> {
        Some(self.new_bookings? + self.expansion_bookings? + self.renewal_bookings?)
    }

    fn cac(&self) -> Option<f64> {
        div(self.marketing_spend.map(|s| s + self.sales_cost), self.new_customers.map(|n| n as f64))
    }

    /// The values of [`CYCLE_METRICS`], in order.
    fn cycle_row(&self) -> Vec<Option<f64>> {
        let cycle_revenue = self.cycle_revenue();
        let existing = div(
            self.expansion_bookings.and_then(|x| Some(x + self.renewal_bookings?)),
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
                let nrr = div(Some(m.starting + m.expansion - m.contraction - m.churned), Some(m.starting));
                let grr = div(Some(m.starting - m.contraction - m.churned), Some(m.starting));
                let logo_churn = div(Some(m.churned_accounts as f64), Some(m.active_s as f64));
                let arpa = div(Some(m.ending), Some(m.active_e as f64));
                let monthly_churn = logo_churn.map(|c| 1.0 - (1.0 - c).powf(1.0 / self.months as f64));
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

impl<'a> Computed<'a> {
    fn new(ds: &Dataset, a: &'a Analysis) -> anyhow::Result<Self> {
        let first = earliest_row_date(ds)?.unwrap_or(ds.as_of);
        let spec = PeriodSpec::new(a.period, a.fiscal_year_start, first.min(ds.as_of));
        let grid = spec.grid(first, ds.as_of, a.from, a.to);

        let dims = match a.by {
            None => None,
            Some(_) => Some(dimension_values(ds, a)?),
        };

        let has_close = ds.has_values(TableKind::Opportunities, "close_date");
        let has_amount = has_close && ds.has_values(TableKind::Opportunities, "amount");
        let opps = if ds.opportunities.is_some() && has_close { Some(opp_aggregates(ds, a, &spec)?) } else { None };
        let spend = if ds.campaigns.is_some() { spend_aggregates(ds, a, &spec)? } else { None };

        let mut months = HashMap::new();
        let mut windows = Vec::new();
        for &p in &grid {
            let first_m = PeriodSpec::month_index_of(spec.start(p));
            let end = spec.end(p);
            let e = if end <= ds.as_of { PeriodSpec::month_index_of(end - 1) } else { PeriodSpec::month_index_of(ds.as_of) };
            months.insert(p, e - first_m + 1);
            windows.push((p, first_m - 1, e));
        }
        let mrr = match (&ds.revenue, a.by) {
            (Some(_), None) => Some(mrr_aggregates(ds, &windows)?),
            _ => None,
        };
        Ok(Computed { a, spec, grid, dims, opps, has_amount, spend, mrr, months })
    }

    /// The output rows: every period, and within it every dimension value.
    fn rows(&self) -> Vec<(i64, Option<String>)> {
        let mut out = Vec::new();
        for &p in &self.grid {
            match &self.dims {
                None => out.push((p, None)),
                Some(dims) => out.extend(dims.iter().map(|d| (p, Some(d.clone())))),
            }
        }
        out
    }

    fn values(&self, p: i64, dim: Option<&str>) -> RowValues {
        let key = (p, dim.map(str::to_string));
        let o = self.opps.as_ref().map(|m| m.get(&key).copied().unwrap_or_default());
        let bookings = |f: fn(&OppAgg) -> f64| if self.has_amount { o.as_ref().map(f) } else { None };
        RowValues {
            new_bookings: bookings(|o| o.new_bookings),
            expansion_bookings: bookings(|o| o.expansion_bookings),
            renewal_bookings: bookings(|o| o.renewal_bookings),
            renewal_rate: o.and_then(|o| {
                div(Some(o.renewals_won as f64), Some((o.renewals_won + o.renewals_lost) as f64))
            }),
            new_customers: o.map(|o| o.new_customers),
            cycle_customers: o.map(|o| o.cycle_customers),
            marketing_spend: self.spend.as_ref().map(|m| m.get(&key).copied().unwrap_or(0.0)),
            mrr: self.mrr.as_ref().map(|m| m.get(&p).copied().unwrap_or_default()),
            months: self.months.get(&p).copied().unwrap_or(1),
            gross_margin: self.a.gross_margin,
            sales_cost: self.a.sales_cost,
        }
    }

    /// `period` repeated `times` per row (and the dimension column).
    fn key_columns(&self, times: usize) -> anyhow::Result<Vec<Column>> {
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
        let period = Column::new("period".into(), days).cast(&DataType::Date).ctx("building the period column")?;
        let mut out = vec![period];
        if let Some(by) = self.a.by {
            out.push(Column::new(by.name().into(), dims));
        }
        Ok(out)
    }
}

/// The earliest row date of any loaded table (microseconds), `None` when every
/// table is empty or absent.
fn earliest_row_date(ds: &Dataset) -> anyhow::Result<Option<i64>> {
    let mut first: Option<i64> = None;
    for kind in TableKind::ALL {
        let Some(t) = ds.table(kind) else { continue };
        let df = t
            .lazy()
            .select([col(kind.date_column()).cast(DataType::Int64).min().alias("m")])
            .collect()
            .ctx(format!("finding the earliest {}.{}", kind.name(), kind.date_column()))?;
        if let Some(m) = get_i64(&df, "m", 0)? {
            first = Some(first.map_or(m, |f| f.min(m)));
        }
    }
    Ok(first)
}

/// Every `--by` value met in any table (leads, opportunities, spend rows that
/// split), sorted.
fn dimension_values(ds: &Dataset, a: &Analysis) -> anyhow::Result<Vec<String>> {
    let mut frames = Vec::new();
    if ds.leads.is_some() {
        frames.push(lead_stages(ds, a.by).select([col(DIM)]));
    }
    if ds.opportunities.is_some() {
        frames.push(opportunities_with_dim(ds, a.by).select([col(DIM)]));
    }
    if ds.campaigns.is_some() {
        if let Some(lf) = campaigns_with_dim(ds, a.by) {
            frames.push(lf.select([col(DIM)]));
        }
    }
    let mut out = BTreeSet::new();
    for lf in frames {
        let df = lf.unique(None, UniqueKeepStrategy::Any).collect().ctx("listing --by values")?;
        out.extend(col_str(&df, DIM)?.into_iter().flatten());
    }
    Ok(out.into_iter().collect())
}

fn group_keys(a: &Analysis) -> Vec<Expr> {
    let mut keys = vec![col(PERIOD_COL)];
    if a.by.is_some() {
        keys.push(col(DIM));
    }
    keys
}

/// Per (period of `close_date`, dimension): bookings by type, renewals won and
/// lost, new customers and cycle customers.
fn opp_aggregates(
    ds: &Dataset,
    a: &Analysis,
    spec: &PeriodSpec,
) -> anyhow::Result<HashMap<(i64, Option<String>), OppAgg>> {
    let won = || col("status").eq(lit("won"));
    let lost = || col("status").eq(lit("lost"));
    let of_type = |t: &str| col("type").eq(lit(t.to_string()));
    // A customer is its account; a deal without account_id is a customer of its own.
    let customer = || coalesce(&[col("account_id"), col("opportunity_id")]);
    let count = |e: Expr| e.cast(DataType::Int64).sum();
    let df = opportunities_with_dim(ds, a.by)
        .filter(col("close_date").is_not_null().and(won().or(lost())))
        .with_column(spec.index_expr(col("close_date")).alias(PERIOD_COL))
        .group_by(group_keys(a))
        .agg([
            col("amount").filter(won().and(of_type("new_business"))).sum().alias("new_bookings"),
            col("amount").filter(won().and(of_type("expansion"))).sum().alias("expansion_bookings"),
            col("amount").filter(won().and(of_type("renewal"))).sum().alias("renewal_bookings"),
            count(won().and(of_type("renewal"))).alias("renewals_won"),
            count(lost().and(of_type("renewal"))).alias("renewals_lost"),
            customer()
                .filter(won().and(of_type("new_business")))
                .n_unique()
                .cast(DataType::Int64)
                .alias("new_customers"),
            customer().filter(won()).n_unique().cast(DataType::Int64).alias("cycle_customers"),
        ])
        .collect()
        .ctx("aggregating opportunities by period")?;
    let periods = col_i64(&df, PERIOD_COL)?;
    let dims = if a.by.is_some() { col_str(&df, DIM)? } else { vec![None; df.height()] };
    let f = |name: &str| col_f64(&df, name);
    let n = |name: &str| col_i64(&df, name);
    let (nb, eb, rb) = (f("new_bookings")?, f("expansion_bookings")?, f("renewal_bookings")?);
    let (rw, rl, nc, cc) = (n("renewals_won")?, n("renewals_lost")?, n("new_customers")?, n("cycle_customers")?);
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
fn spend_aggregates(
    ds: &Dataset,
    a: &Analysis,
    spec: &PeriodSpec,
) -> anyhow::Result<Option<HashMap<(i64, Option<String>), f64>>> {
    let Some(lf) = campaigns_with_dim(ds, a.by) else { return Ok(None) };
    let df = lf
        .filter(col("date").is_not_null())
        .with_column(spec.index_expr(col("date")).alias(PERIOD_COL))
        .group_by(group_keys(a))
        .agg([col("spend").sum().alias("marketing_spend")])
        .collect()
        .ctx("aggregating marketing spend by period")?;
    let periods = col_i64(&df, PERIOD_COL)?;
    let dims = if a.by.is_some() { col_str(&df, DIM)? } else { vec![None; df.height()] };
    let spend = col_f64(&df, "marketing_spend")?;
    let mut out = HashMap::new();
    for i in 0..df.height() {
        let Some(p) = periods[i] else { continue };
        out.insert((p, dims[i].clone()), spend[i].unwrap_or(0.0));
    }
    Ok(Some(out))
}

/// MRR movements per period. `windows` holds (period, s, e) with `s` and `e`
/// month indices (months since year 0).
fn mrr_aggregates(ds: &Dataset, windows: &[(i64, i64, i64)]) -> anyhow::Result<HashMap<i64, MrrAgg>> {
    let Some(rev) = &ds.revenue else { return Ok(HashMap::new()) };
    if windows.is_empty() {
        return Ok(HashMap::new());
    }
    let month = col("month");
    // MRR_a(m): several rows of one account and month add up.
    let by_month = rev
        .lazy()
        .filter(month.clone().is_not_null())
        .with_column(
            (month.clone().dt().year().cast(DataType::Int64) * lit(12i64) + month.dt().month().cast(DataType::Int64)
                - lit(1i64))
            .alias("__m"),
        )
        .group_by([col("account_id"), col("__m")])
        .agg([col("mrr").sum().alias("__mrr")]);
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
            .join(by_month.clone(), [col(key)], [col("__m")], JoinArgs::new(JoinType::Inner))
            .select([col("__pi"), col("account_id"), s.alias("mrr_s"), e.alias("mrr_e")])
    };
    let s_side = side("__s", col("__mrr"), lit(0.0f64));
    let e_side = side("__e", lit(0.0f64), col("__mrr"));
    let act_s = || col("mrr_s").gt(lit(0.0f64));
    let act_e = || col("mrr_e").gt(lit(0.0f64));
    let count = |e: Expr| e.cast(DataType::Int64).sum();
    let df = concat([s_side, e_side], UnionArgs::default())
        .ctx("joining MRR months")?
        .group_by([col("__pi"), col("account_id")])
        .agg([col("mrr_s").sum(), col("mrr_e").sum()])
        .group_by([col("__pi")])
        .agg([
            col("mrr_s").filter(act_s()).sum().alias("starting"),
            col("mrr_e").filter(act_e()).sum().alias("ending"),
            col("mrr_e").filter(act_e().and(act_s().not())).sum().alias("new"),
            (col("mrr_e") - col("mrr_s"))
                .filter(act_s().and(act_e()).and(col("mrr_e").gt(col("mrr_s"))))
                .sum()
                .alias("expansion"),
            (col("mrr_s") - col("mrr_e"))
                .filter(act_s().and(act_e()).and(col("mrr_s").gt(col("mrr_e"))))
                .sum()
                .alias("contraction"),
            col("mrr_s").filter(act_s().and(act_e().not())).sum().alias("churned"),
            count(act_s()).alias("active_s"),
            count(act_e()).alias("active_e"),
            count(act_s().and(act_e().not())).alias("churned_accounts"),
        ])
        .collect()
        .ctx("aggregating MRR movements")?;
    let periods = col_i64(&df, "__pi")?;
    let f = |name: &str| col_f64(&df, name);
    let n = |name: &str| col_i64(&df, name);
    let (starting, ending, new, expansion) = (f("starting")?, f("ending")?, f("new")?, f("expansion")?);
    let (contraction, churned) = (f("contraction")?, f("churned")?);
    let (active_s, active_e, churned_accounts) = (n("active_s")?, n("active_e")?, n("churned_accounts")?);
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

// ---------------------------------------------------------------------------
// Small helpers

/// Polars errors with a line saying what was being done (anyhow's `Context`
/// clashes with polars' own `PolarsContext` trait of the same method name).
trait Ctx<T> {
    fn ctx(self, what: impl Into<String>) -> anyhow::Result<T>;
}

impl<T> Ctx<T> for PolarsResult<T> {
    fn ctx(self, what: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::Error::new(e).context(what.into()))
    }
}

fn div(n: Option<f64>, d: Option<f64>) -> Option<f64> {
    match (n, d) {
        (Some(n), Some(d)) if d != 0.0 => Some(n / d),
        _ => None,
    }
}

fn sub(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? - b?)
}

fn get_i64(df: &DataFrame, name: &str, i: usize) -> anyhow::Result<Option<i64>> {
    Ok(col_i64(df, name)?.get(i).copied().flatten())
}

/// A column of a small aggregate frame as plain values.
fn col_i64(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<i64>>> {
    let c = df.column(name)?.cast(&DataType::Int64)?;
    Ok(c.i64()?.iter().collect())
}

fn col_f64(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<f64>>> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().collect())
}

fn col_str(df: &DataFrame, name: &str) -> anyhow::Result<Vec<Option<String>>> {
    Ok(df.column(name)?.str()?.iter().map(|s| s.map(str::to_string)).collect())
}
