//! The revenue cycle (`revcycle cycle`): bookings by deal type, funnel versus
//! cycle revenue, and the MRR movements of the `revenue` table per period, as
//! defined in `docs/metrics.md` ("Revenue cycle"); formulas and choices are in
//! `docs/metrics.md`.
//!
//! The heavy lifting (per-row filters, per-account month sums, joins) is done
//! by polars; the small per-period aggregates are then assembled into the
//! output rows in plain Rust.

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use crate::metrics::common::{
    campaigns_with_dim, ladder, lead_stages, opportunities_with_dim, Stage, DIM,
};
use crate::metrics::common::{money_sum, to_micros, MICROS};
use crate::metrics::periods::{date_of, PeriodSpec};
use crate::model::Dataset;
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
pub const FUNNEL_VS_CYCLE_COLUMNS: [&str; 7] = [
    "view",
    "revenue",
    "customers",
    "marketing_spend",
    "cost_per_customer",
    "roi",
    "unseen_by_funnel",
];

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

/// Everything `revcycle cycle` shows, computed once.
pub struct CycleReport {
    /// See [`cycle`].
    pub cycle: DataFrame,
    /// See [`funnel_vs_cycle`].
    pub funnel_vs_cycle: DataFrame,
    /// See [`bow_tie_numbers`].
    pub bow_tie: Option<BowTie>,
    /// See [`notes`].
    pub notes: Vec<String>,
}

/// Both tables, the bow tie and the notes in one pass over the data.
pub fn cycle_report(ds: &Dataset, a: &Analysis) -> anyhow::Result<CycleReport> {
    let c = Computed::new(ds, a)?;
    let bow_tie = if a.by.is_none() {
        bow_tie_from(ds, &c)?
    } else {
        bow_tie_numbers(ds, a)?
    };
    Ok(CycleReport {
        cycle: cycle_frame(ds, &c)?,
        funnel_vs_cycle: fvc_frame(&c)?,
        bow_tie,
        notes: notes(ds, a),
    })
}

/// The revenue-cycle table: one row per reported period (and `--by` value).
/// Columns: `period` (Date, first day), the dimension (named `channel`,
/// `segment`, `owner` or `campaign`) when `a.by` is set, then [`CYCLE_METRICS`].
pub fn cycle(ds: &Dataset, a: &Analysis) -> anyhow::Result<DataFrame> {
    cycle_frame(ds, &Computed::new(ds, a)?)
}

/// The cycle table, the metrics the registry calls unavailable nulled.
fn cycle_frame(ds: &Dataset, c: &Computed) -> anyhow::Result<DataFrame> {
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

/// Funnel versus cycle: two rows per reported period (and `--by` value), the
/// `funnel` view then the `cycle` view. Columns: `period`, the dimension when
/// `a.by` is set, then [`FUNNEL_VS_CYCLE_COLUMNS`].
pub fn funnel_vs_cycle(ds: &Dataset, a: &Analysis) -> anyhow::Result<DataFrame> {
    fvc_frame(&Computed::new(ds, a)?)
}

fn fvc_frame(c: &Computed) -> anyhow::Result<DataFrame> {
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

/// The numbers the bow-tie draws, for the latest reported period, over the
/// whole business (`--by` is ignored: the bow tie is one picture). `None` when
/// no period is reported.
pub fn bow_tie_numbers(ds: &Dataset, a: &Analysis) -> anyhow::Result<Option<BowTie>> {
    let mut whole = a.clone();
    whole.by = None;
    bow_tie_from(ds, &Computed::new(ds, &whole)?)
}

/// The bow tie of an unsplit computation.
fn bow_tie_from(ds: &Dataset, c: &Computed) -> anyhow::Result<Option<BowTie>> {
    let Some(&p) = c.grid.last() else {
        return Ok(None);
    };
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
        let df = lead_stages(ds, None)
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
        crate::metrics::common::money_add(&[
            self.new_bookings,
            self.expansion_bookings,
            self.renewal_bookings,
        ])
    }

    fn cac(&self) -> Option<f64> {
        div(
            self.marketing_spend.map(|s| s + self.sales_cost),
            self.new_customers.map(|n| n as f64),
        )
    }

    /// The values of [`CYCLE_METRICS`], in order.
    fn cycle_row(&self) -> Vec<Option<f64>> {
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

impl<'a> Computed<'a> {
    fn new(ds: &Dataset, a: &'a Analysis) -> anyhow::Result<Self> {
        let first = crate::metrics::common::earliest_row_date(ds)?.unwrap_or(ds.as_of);
        let spec = PeriodSpec::new(a.period, a.fiscal_year_start, first.min(ds.as_of));
        let grid = spec.grid(first, ds.as_of, a.from, a.to);

        let dims = match a.by {
            None => None,
            Some(_) => Some(dimension_values(ds, a)?),
        };

        // A column the input gave (even all empty) counts as given, as in `kpis`,
        // so that ids shared by both tables (new_bookings) agree.
        let has_col = |c: &str| ds.opportunities.as_ref().is_some_and(|t| t.has(c));
        let has_close = has_col("close_date");
        let has_amount = has_close && has_col("amount");
        let opps = if ds.opportunities.is_some() && has_close {
            Some(opp_aggregates(ds, a, &spec)?)
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
            (Some(_), None) => Some(mrr_aggregates(ds, &windows)?),
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
        let df = lf
            .unique(None, UniqueKeepStrategy::Any)
            .collect()
            .ctx("listing --by values")?;
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
fn spend_aggregates(
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

/// MRR movements per period. `windows` holds (period, s, e) with `s` and `e`
/// month indices (months since year 0).
fn mrr_aggregates(
    ds: &Dataset,
    windows: &[(i64, i64, i64)],
) -> anyhow::Result<HashMap<i64, MrrAgg>> {
    let Some(rev) = &ds.revenue else {
        return Ok(HashMap::new());
    };
    if windows.is_empty() {
        return Ok(HashMap::new());
    }
    let month = col("month");
    // MRR_a(m): several rows of one account and month add up.
    let by_month = rev
        .lazy()
        .filter(month.clone().is_not_null())
        .with_column(
            (month.clone().dt().year().cast(DataType::Int64) * lit(12i64)
                + month.dt().month().cast(DataType::Int64)
                - lit(1i64))
            .alias("__m"),
        )
        // Sum in integer millionths: integer sums do not depend on the order
        // polars' parallel grouping adds rows in, so the same files give the
        // same result to the last digit (values are exact to 1e-6).
        .with_column(to_micros(col("mrr")).alias("mrr"))
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
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|s| s.map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    //! Known answers of `fixtures/cycle` (derivations in its EXPECTED.md).

    use super::*;
    use crate::metrics::periods::PeriodKind;
    use crate::metrics::testutil_cycle::{fixture, parse_ts};
    use crate::settings::Dimension;

    const N: Option<f64> = None;

    /// The fixture through the real loader (`input::load`), as `revcycle
    /// cycle fixtures/cycle --as-of 2024-04-15` reads it.
    fn ds() -> Dataset {
        let spec = crate::input::InputSpec {
            dir: Some(fixture("cycle")),
            ..Default::default()
        };
        let cfg = crate::config::Config::default();
        crate::input::load(&spec, &cfg, Some("2024-04-15"), true)
            .expect("fixture loads")
            .dataset
    }

    fn analysis(period: PeriodKind) -> Analysis {
        Analysis {
            period,
            ..Analysis::default()
        }
    }

    fn periods(df: &DataFrame) -> Vec<String> {
        let c = df
            .column("period")
            .unwrap()
            .cast(&DataType::String)
            .unwrap();
        c.str()
            .unwrap()
            .iter()
            .map(|s| s.unwrap().to_string())
            .collect()
    }

    fn value(df: &DataFrame, name: &str, row: usize) -> Option<f64> {
        let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
        c.f64().unwrap().get(row)
    }

    fn close(got: Option<f64>, want: Option<f64>) -> bool {
        match (got, want) {
            (None, None) => true,
            (Some(g), Some(w)) => (g - w).abs() <= 1e-9 * w.abs().max(1.0),
            _ => false,
        }
    }

    fn assert_rows(df: &DataFrame, cols: &[&str], expected: &[(&str, Vec<Option<f64>>)]) {
        assert_eq!(
            periods(df),
            expected.iter().map(|r| r.0.to_string()).collect::<Vec<_>>()
        );
        for (row, (period, want)) in expected.iter().enumerate() {
            assert_eq!(want.len(), cols.len(), "test table row {period}");
            for (name, w) in cols.iter().zip(want) {
                let got = value(df, name, row);
                assert!(close(got, *w), "{period} {name}: got {got:?}, want {w:?}");
            }
        }
    }

    fn s(v: f64) -> Option<f64> {
        Some(v)
    }

    /// Expected cycle rows by month, columns in CYCLE_METRICS order.
    fn month_rows() -> Vec<(&'static str, Vec<Option<f64>>)> {
        vec![
            (
                "2023-11-01",
                vec![
                    s(0.),
                    s(0.),
                    s(0.),
                    s(0.),
                    s(0.),
                    N,
                    N,
                    s(0.),
                    s(380.),
                    s(0.),
                    s(0.),
                    s(0.),
                    s(380.),
                    N,
                    N,
                    N,
                    s(95.),
                    N,
                    N,
                    N,
                ],
            ),
            (
                "2023-12-01",
                vec![
                    s(0.),
                    s(0.),
                    s(1200.),
                    s(0.),
                    s(1200.),
                    s(1.),
                    s(1.),
                    s(380.),
                    s(0.),
                    s(0.),
                    s(0.),
                    s(0.),
                    s(380.),
                    s(1.),
                    s(1.),
                    s(0.),
                    s(95.),
                    N,
                    N,
                    N,
                ],
            ),
            (
                "2024-01-01",
                vec![
                    s(960.),
                    s(0.),
                    s(1440.),
                    s(960.),
                    s(2400.),
                    s(0.6),
                    s(0.5),
                    s(380.),
                    s(80.),
                    s(0.),
                    s(80.),
                    s(50.),
                    s(330.),
                    s(250. / 380.),
                    s(250. / 380.),
                    s(0.25),
                    s(82.5),
                    s(264.),
                    s(0.33),
                    s(800. / 66.),
                ],
            ),
            (
                "2024-02-01",
                vec![
                    s(1020.),
                    s(650.),
                    s(0.),
                    s(1020.),
                    s(1670.),
                    s(650. / 1670.),
                    N,
                    s(330.),
                    s(50.),
                    s(50.),
                    s(0.),
                    s(0.),
                    s(430.),
                    s(380. / 330.),
                    s(1.),
                    s(0.),
                    s(86.),
                    N,
                    N,
                    s(350. / 68.8),
                ],
            ),
            (
                "2024-03-01",
                vec![
                    s(0.),
                    s(100.),
                    s(0.),
                    s(0.),
                    s(100.),
                    s(1.),
                    s(0.),
                    s(430.),
                    s(60.),
                    s(0.),
                    s(0.),
                    s(30.),
                    s(460.),
                    s(400. / 430.),
                    s(400. / 430.),
                    s(0.2),
                    s(92.),
                    s(368.),
                    N,
                    N,
                ],
            ),
            (
                "2024-04-01",
                vec![
                    s(0.),
                    s(240.),
                    s(0.),
                    s(0.),
                    s(240.),
                    s(1.),
                    N,
                    s(460.),
                    s(0.),
                    s(20.),
                    s(0.),
                    s(80.),
                    s(400.),
                    s(400. / 460.),
                    s(380. / 460.),
                    s(0.2),
                    s(100.),
                    s(400.),
                    N,
                    N,
                ],
            ),
        ]
    }

    fn quarter_rows() -> Vec<(&'static str, Vec<Option<f64>>)> {
        let q1_churn = 1.0 - 0.75f64.powf(1.0 / 3.0);
        let q1_ltv = 92.0 * 0.8 / q1_churn;
        let q1_cac = 1900.0 / 3.0;
        vec![
            (
                "2023-10-01",
                vec![
                    s(0.),
                    s(0.),
                    s(1200.),
                    s(0.),
                    s(1200.),
                    s(1.),
                    s(1.),
                    s(0.),
                    s(380.),
                    s(0.),
                    s(0.),
                    s(0.),
                    s(380.),
                    N,
                    N,
                    N,
                    s(95.),
                    N,
                    N,
                    N,
                ],
            ),
            (
                "2024-01-01",
                vec![
                    s(1980.),
                    s(750.),
                    s(1440.),
                    s(1980.),
                    s(4170.),
                    s(2190. / 4170.),
                    s(1. / 3.),
                    s(380.),
                    s(130.),
                    s(60.),
                    s(80.),
                    s(30.),
                    s(460.),
                    s(330. / 380.),
                    s(270. / 380.),
                    s(0.25),
                    s(92.),
                    s(q1_ltv),
                    s(q1_ltv / q1_cac),
                    s(q1_cac / 73.6),
                ],
            ),
            (
                "2024-04-01",
                vec![
                    s(0.),
                    s(240.),
                    s(0.),
                    s(0.),
                    s(240.),
                    s(1.),
                    N,
                    s(460.),
                    s(0.),
                    s(20.),
                    s(0.),
                    s(80.),
                    s(400.),
                    s(400. / 460.),
                    s(380. / 460.),
                    s(0.2),
                    s(100.),
                    s(400.),
                    N,
                    N,
                ],
            ),
        ]
    }

    #[test]
    fn cycle_by_month() {
        let df = cycle(&ds(), &analysis(PeriodKind::Month)).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        let mut want = vec!["period"];
        want.extend(CYCLE_METRICS);
        assert_eq!(names, want);
        assert_eq!(df.column("period").unwrap().dtype(), &DataType::Date);
        assert_rows(&df, &CYCLE_METRICS, &month_rows());
    }

    #[test]
    fn cycle_by_quarter() {
        let df = cycle(&ds(), &analysis(PeriodKind::Quarter)).unwrap();
        assert_rows(&df, &CYCLE_METRICS, &quarter_rows());
        // Spot-check the literal Q1 values of EXPECTED.md.
        assert!(close(value(&df, "ltv", 1), Some(804.9019967835357)));
        assert!(close(value(&df, "ltv_to_cac", 1), Some(1.2708978896582142)));
        assert!(close(
            value(&df, "cac_payback_months", 1),
            Some(8.605072463768115)
        ));
    }

    #[test]
    fn sales_cost_enters_cac() {
        let a = Analysis {
            sales_cost: 100.0,
            ..analysis(PeriodKind::Month)
        };
        let df = cycle(&ds(), &a).unwrap();
        // January: cac = (800 + 100) / 1 = 900.
        assert!(close(value(&df, "ltv_to_cac", 2), Some(264.0 / 900.0)));
        assert!(close(
            value(&df, "cac_payback_months", 2),
            Some(900.0 / 66.0)
        ));
    }

    #[test]
    fn from_still_reads_earlier_months() {
        let a = Analysis {
            from: Some(parse_ts("2024-02-01").unwrap()),
            ..analysis(PeriodKind::Month)
        };
        let df = cycle(&ds(), &a).unwrap();
        let rows: Vec<_> = month_rows().into_iter().skip(3).collect();
        assert_rows(&df, &CYCLE_METRICS, &rows);
    }

    #[test]
    fn without_revenue_mrr_metrics_are_null() {
        let mut d = ds();
        d.revenue = None;
        let df = cycle(&d, &analysis(PeriodKind::Month)).unwrap();
        let mut rows = month_rows();
        for (_, r) in rows.iter_mut() {
            for v in r.iter_mut().skip(7) {
                *v = None;
            }
        }
        assert_rows(&df, &CYCLE_METRICS, &rows);
        assert_eq!(
            notes(&d, &analysis(PeriodKind::Month)),
            vec![NOTE_NO_REVENUE.to_string()]
        );
        assert!(notes(&ds(), &analysis(PeriodKind::Month)).is_empty());
    }

    #[test]
    fn without_opportunities_bookings_are_null() {
        let mut d = ds();
        d.opportunities = None;
        let df = cycle(&d, &analysis(PeriodKind::Month)).unwrap();
        for row in 0..6 {
            for name in &CYCLE_METRICS[..7] {
                assert_eq!(value(&df, name, row), None, "{name}");
            }
        }
        // MRR still computed; CAC needs new customers, so LTV:CAC is null.
        assert!(close(value(&df, "ltv", 2), Some(264.0)));
        assert_eq!(value(&df, "ltv_to_cac", 2), None);
    }

    fn fvc_rows() -> Vec<(&'static str, Vec<Option<f64>>)> {
        // revenue, customers, marketing_spend, cost_per_customer, roi, unseen_by_funnel
        vec![
            ("2023-11-01", vec![s(0.), s(0.), s(500.), N, s(-1.), N]),
            ("2023-11-01", vec![s(0.), s(0.), s(500.), N, s(-1.), s(0.)]),
            ("2023-12-01", vec![s(0.), s(0.), s(500.), N, s(-1.), N]),
            (
                "2023-12-01",
                vec![s(1200.), s(1.), s(500.), s(500.), s(1.4), s(1200.)],
            ),
            (
                "2024-01-01",
                vec![s(960.), s(1.), s(800.), s(800.), s(0.2), N],
            ),
            (
                "2024-01-01",
                vec![s(2400.), s(2.), s(800.), s(400.), s(2.0), s(1440.)],
            ),
            (
                "2024-02-01",
                vec![s(1020.), s(2.), s(700.), s(350.), s(320. / 700.), N],
            ),
            (
                "2024-02-01",
                vec![
                    s(1670.),
                    s(3.),
                    s(700.),
                    s(700. / 3.),
                    s(970. / 700.),
                    s(650.),
                ],
            ),
            ("2024-03-01", vec![s(0.), s(0.), s(400.), N, s(-1.), N]),
            (
                "2024-03-01",
                vec![s(100.), s(1.), s(400.), s(400.), s(-0.75), s(100.)],
            ),
            ("2024-04-01", vec![s(0.), s(0.), s(0.), N, N, N]),
            ("2024-04-01", vec![s(240.), s(1.), s(0.), s(0.), N, s(240.)]),
        ]
    }

    const FVC: [&str; 6] = [
        "revenue",
        "customers",
        "marketing_spend",
        "cost_per_customer",
        "roi",
        "unseen_by_funnel",
    ];

    fn views(df: &DataFrame) -> Vec<String> {
        df.column("view")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|s| s.unwrap().to_string())
            .collect()
    }

    #[test]
    fn funnel_vs_cycle_by_month() {
        let df = funnel_vs_cycle(&ds(), &analysis(PeriodKind::Month)).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        let mut want = vec!["period"];
        want.extend(FUNNEL_VS_CYCLE_COLUMNS);
        assert_eq!(names, want);
        assert_eq!(views(&df), ["funnel", "cycle"].repeat(6));
        assert_eq!(df.column("customers").unwrap().dtype(), &DataType::Int64);
        assert_rows(&df, &FVC, &fvc_rows());
    }

    #[test]
    fn funnel_vs_cycle_by_quarter() {
        let df = funnel_vs_cycle(&ds(), &analysis(PeriodKind::Quarter)).unwrap();
        assert_eq!(views(&df), ["funnel", "cycle"].repeat(3));
        assert_rows(
            &df,
            &FVC,
            &[
                ("2023-10-01", vec![s(0.), s(0.), s(1000.), N, s(-1.), N]),
                (
                    "2023-10-01",
                    vec![s(1200.), s(1.), s(1000.), s(1000.), s(0.2), s(1200.)],
                ),
                (
                    "2024-01-01",
                    vec![s(1980.), s(3.), s(1900.), s(1900. / 3.), s(80. / 1900.), N],
                ),
                (
                    "2024-01-01",
                    vec![
                        s(4170.),
                        s(6.),
                        s(1900.),
                        s(1900. / 6.),
                        s(2270. / 1900.),
                        s(2190.),
                    ],
                ),
                ("2024-04-01", vec![s(0.), s(0.), s(0.), N, N, N]),
                ("2024-04-01", vec![s(240.), s(1.), s(0.), s(0.), N, s(240.)]),
            ],
        );
    }

    #[test]
    fn split_by_channel() {
        let a = Analysis {
            by: Some(Dimension::Channel),
            ..analysis(PeriodKind::Month)
        };
        let d = ds();
        let df = cycle(&d, &a).unwrap();
        assert_eq!(df.height(), 18);
        let ch: Vec<String> = df
            .column("channel")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|s| s.unwrap().to_string())
            .collect();
        assert_eq!(&ch[..3], ["(none)", "events", "paid_search"]);
        // February is rows 9..12.
        assert_eq!(periods(&df)[9], "2024-02-01");
        let want = [
            // (none): O3 120 new; E1 600 + E4 50 expansion
            (9, [s(120.), s(650.), s(0.)]),
            // events: O4 300 (lead L5)
            (10, [s(300.), s(0.), s(0.)]),
            // paid_search: O2 600 (lead L3)
            (11, [s(600.), s(0.), s(0.)]),
        ];
        for (row, w) in want {
            for (name, w) in ["new_bookings", "expansion_bookings", "renewal_bookings"]
                .iter()
                .zip(w)
            {
                assert!(close(value(&df, name, row), w), "row {row} {name}");
            }
            for name in &CYCLE_METRICS[7..] {
                assert_eq!(value(&df, name, row), None, "MRR is not split: {name}");
            }
        }
        assert_eq!(notes(&d, &a).len(), 1);
        let f = funnel_vs_cycle(&d, &a).unwrap();
        // Rows 18..24 are February: (none) funnel/cycle, events, paid_search.
        let cust: Vec<Option<f64>> = (18..24).map(|r| value(&f, "customers", r)).collect();
        assert_eq!(cust, [s(1.), s(2.), s(1.), s(1.), s(1.), s(1.)]);
        let spend: Vec<Option<f64>> = (18..24).map(|r| value(&f, "marketing_spend", r)).collect();
        assert_eq!(spend, [s(0.), s(0.), s(300.), s(300.), s(400.), s(400.)]);
        // Spend does not split by segment: null there.
        let seg = Analysis {
            by: Some(Dimension::Segment),
            ..analysis(PeriodKind::Month)
        };
        let f = funnel_vs_cycle(&d, &seg).unwrap();
        assert!((0..f.height()).all(|r| value(&f, "marketing_spend", r).is_none()));
    }

    #[test]
    fn bow_tie_of_the_latest_period() {
        for kind in [PeriodKind::Month, PeriodKind::Quarter] {
            let b = bow_tie_numbers(&ds(), &analysis(kind)).unwrap().unwrap();
            assert_eq!(b.period.to_string(), "2024-04-01");
            assert!(!b.complete);
            assert_eq!(
                (b.leads, b.mqls, b.sqls, b.opportunities, b.new_customers),
                (s(3.), s(2.), s(1.), s(1.), s(0.))
            );
            assert_eq!(
                (b.new_bookings, b.expansion_bookings, b.renewal_bookings),
                (s(0.), s(240.), s(0.))
            );
            assert_eq!(
                (
                    b.starting_mrr,
                    b.new_mrr,
                    b.expansion_mrr,
                    b.contraction_mrr,
                    b.churned_mrr,
                    b.ending_mrr
                ),
                (s(460.), s(0.), s(20.), s(0.), s(80.), s(400.))
            );
            assert!(close(b.nrr, s(400. / 460.)));
        }
    }

    #[test]
    fn report_holds_the_same_tables() {
        let a = analysis(PeriodKind::Quarter);
        let r = cycle_report(&ds(), &a).unwrap();
        assert!(r.cycle.equals_missing(&cycle(&ds(), &a).unwrap()));
        assert!(r
            .funnel_vs_cycle
            .equals_missing(&funnel_vs_cycle(&ds(), &a).unwrap()));
        assert_eq!(r.bow_tie, bow_tie_numbers(&ds(), &a).unwrap());
        assert!(r.notes.is_empty());
        let by = Analysis {
            by: Some(Dimension::Owner),
            ..a.clone()
        };
        let r = cycle_report(&ds(), &by).unwrap();
        assert_eq!(
            r.bow_tie,
            bow_tie_numbers(&ds(), &a).unwrap(),
            "the bow tie is never split"
        );
        assert_eq!(r.cycle.get_column_names()[1].as_str(), "owner");
    }

    /// The ids and inputs shared with `kpis` agree with it, row for row:
    /// new_bookings, new_customers (funnel customers), marketing_spend, cac.
    #[test]
    fn agrees_with_kpis() {
        for (period, by) in [
            (PeriodKind::Month, None),
            (PeriodKind::Quarter, None),
            (PeriodKind::Month, Some(Dimension::Channel)),
        ] {
            let a = Analysis {
                period,
                by,
                sales_cost: 50.0,
                ..Analysis::default()
            };
            let d = ds();
            let k = crate::metrics::kpis::kpis(&d, &a).unwrap();
            let c = cycle(&d, &a).unwrap();
            let f = funnel_vs_cycle(&d, &a).unwrap();
            assert_eq!(k.height(), c.height(), "{period:?} {by:?}");
            assert_eq!(periods(&k), periods(&c));
            if let Some(by) = by {
                assert!(k
                    .column(by.name())
                    .unwrap()
                    .equals_missing(c.column(by.name()).unwrap()));
            }
            for r in 0..c.height() {
                let ctx = format!("{period:?} {by:?} row {r}");
                assert!(
                    close(value(&k, "new_bookings", r), value(&c, "new_bookings", r)),
                    "{ctx}"
                );
                assert!(
                    close(value(&k, "new_customers", r), value(&f, "customers", 2 * r)),
                    "{ctx}"
                );
                assert!(
                    close(
                        value(&k, "marketing_spend", r),
                        value(&f, "marketing_spend", 2 * r)
                    ),
                    "{ctx}"
                );
                let cac = div(
                    value(&f, "marketing_spend", 2 * r).map(|s| s + 50.0),
                    value(&f, "customers", 2 * r),
                );
                // Under a split kpis leaves cac null when sales_cost != 0 (it
                // does not split); the cycle's cac is only used unsplit.
                if by.is_none() {
                    assert!(
                        close(value(&k, "cac", r), cac),
                        "{ctx}: kpis cac {:?}, mine {cac:?}",
                        value(&k, "cac", r)
                    );
                }
            }
        }
    }

    #[test]
    fn all_period_reads_from_the_earliest_row() {
        let df = cycle(&ds(), &analysis(PeriodKind::All)).unwrap();
        assert_eq!(periods(&df), ["2023-11-01"]);
        // s = 2023-10 (empty), e = 2024-04: every account active in April is new.
        assert!(close(value(&df, "new_mrr", 0), s(400.)));
        assert!(close(
            value(&df, "cycle_revenue", 0),
            s(1980. + 990. + 2640.)
        ));
        assert_eq!(value(&df, "nrr", 0), None);
    }

    /// Guards the `floor_div` fix in `periods.rs` (polars' own needs the
    /// `round_series` feature): the polars index agrees with `index_of`,
    /// including before 1970 and with a fiscal year. (Belongs in periods.rs.)
    #[test]
    fn index_expr_agrees_with_index_of() {
        let stamps: Vec<i64> = [
            "1969-12-28",
            "1969-12-29",
            "1965-03-31",
            "2023-12-31T23:59:59Z",
            "2024-01-01",
            "2024-03-31",
            "2024-04-01",
        ]
        .iter()
        .map(|t| parse_ts(t).unwrap())
        .collect();
        for (kind, fys) in [
            (PeriodKind::Week, 1),
            (PeriodKind::Quarter, 1),
            (PeriodKind::Quarter, 2),
            (PeriodKind::Year, 4),
            (PeriodKind::Month, 1),
        ] {
            let spec = PeriodSpec::new(kind, fys, 0);
            let df = df!("t" => stamps.clone())
                .unwrap()
                .lazy()
                .select([spec
                    .index_expr(col("t").cast(DataType::Datetime(TimeUnit::Microseconds, None)))
                    .alias("i")])
                .collect()
                .unwrap();
            let got = col_i64(&df, "i").unwrap();
            let want: Vec<Option<i64>> = stamps.iter().map(|&t| Some(spec.index_of(t))).collect();
            assert_eq!(got, want, "{kind:?} fiscal start {fys}");
        }
    }
}
