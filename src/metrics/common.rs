//! Building blocks shared by every metric: the stage ladder with reached and
//! effective dates per lead, and the `--by` dimension resolved per lead,
//! opportunity and spend row with the fallbacks of `docs/metrics.md`.

use polars::prelude::*;

use crate::errors::PolarsCtx;
use crate::ids::{for_each_match, has_duplicates, rows_of, Hashed, NO_ROW};

use crate::model::{Backing, Dataset, Table, TableKind};
use crate::settings::{Dimension, NONE_GROUP};

/// Internal name of the resolved `--by` value in every frame built here.
/// Metrics rename it to the dimension's name (`channel`, ...) on output.
pub const DIM: &str = "__dim";

/// The lead stages, in ladder order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Lead,
    Mql,
    Sal,
    Sql,
    Opportunity,
    Won,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Lead,
        Stage::Mql,
        Stage::Sal,
        Stage::Sql,
        Stage::Opportunity,
        Stage::Won,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Lead => "lead",
            Stage::Mql => "mql",
            Stage::Sal => "sal",
            Stage::Sql => "sql",
            Stage::Opportunity => "opportunity",
            Stage::Won => "won",
        }
    }

    /// Column of the stage's own (raw) date in `lead_stages`.
    pub fn raw_col(self) -> String {
        format!("raw_{}", self.name())
    }

    /// Column of the stage's effective date in `lead_stages`: null when the
    /// lead never reached the stage.
    pub fn eff_col(self) -> String {
        format!("eff_{}", self.name())
    }

    /// Where the stage's date comes from, for "not in use" explanations.
    pub fn source(self) -> &'static str {
        match self {
            Stage::Lead => "leads.created_at",
            Stage::Mql => "leads.mql_at",
            Stage::Sal => "leads.sal_at",
            Stage::Sql => "leads.sql_at",
            Stage::Opportunity => "opportunities.lead_id and opportunities.created_at",
            Stage::Won => "opportunities.lead_id and opportunities.close_date",
        }
    }
}

/// The stages in use for these inputs (a stage whose source column holds at
/// least one value), in ladder order. Empty without a leads table.
pub fn ladder(ds: &Dataset) -> Vec<Stage> {
    let Some(leads) = &ds.leads else {
        return Vec::new();
    };
    let mut out = vec![Stage::Lead];
    for (stage, col) in [
        (Stage::Mql, "mql_at"),
        (Stage::Sal, "sal_at"),
        (Stage::Sql, "sql_at"),
    ] {
        if leads.has_values(col) {
            out.push(stage);
        }
    }
    if ds.has_values(TableKind::Opportunities, "lead_id") {
        out.push(Stage::Opportunity);
        if ds.has_values(TableKind::Opportunities, "close_date") {
            out.push(Stage::Won);
        }
    }
    out
}

/// Campaign id -> channel: the most frequent non-empty `channel` among the
/// campaign's rows, ties to the alphabetically first. Columns `campaign_id`,
/// `campaign_channel`. Empty when there is no campaigns table.
pub fn campaign_channels(ds: &Dataset) -> LazyFrame {
    let camp = ds.table_or_empty(TableKind::Campaigns);
    camp.lazy()
        .filter(
            col("campaign_id")
                .is_not_null()
                .and(col("channel").is_not_null()),
        )
        .group_by([col("campaign_id"), col("channel")])
        .agg([len().alias("n")])
        .group_by([col("campaign_id")])
        .agg([col("channel")
            .sort_by(
                [col("n"), col("channel")],
                SortMultipleOptions::default().with_order_descending_multi([true, false]),
            )
            .first()
            .alias("campaign_channel")])
}

/// Every lead with its stage dates. Columns: `lead_id`, `created_at`,
/// `first_contact_at`, `disqualified_at`, `segment`, `channel` (resolved:
/// own, else the lead's campaign's), `raw_<stage>` and `eff_<stage>` for every
/// stage in use, and `__dim` (the `--by` value, `(none)` when empty) when
/// `by` is given.
pub fn lead_stages(ds: &Dataset, by: Option<Dimension>) -> LazyFrame {
    lead_stages_with(ds, by, true)
}

/// [`lead_stages`]; without `resolve_channel` (and unless `by` is channel)
/// `channel` is the lead's own and the campaigns are not joined: for callers
/// that never read `channel` (a join of every lead saved).
pub fn lead_stages_with(ds: &Dataset, by: Option<Dimension>, resolve_channel: bool) -> LazyFrame {
    let resolve_channel = resolve_channel || by == Some(Dimension::Channel);
    let stages = ladder(ds);
    let leads = ds.table_or_empty(TableKind::Leads);
    let opps = ds.table_or_empty(TableKind::Opportunities);

    let mut lf = match leads_with_opp_dates(&leads, &opps) {
        Some(df) => df.lazy(),
        None => leads_joined_to_opp_dates(&leads, &opps),
    };
    if resolve_channel {
        lf = with_resolved_channel(lf, ds);
    }
    lf = lf.with_columns([
        col("created_at").alias("raw_lead"),
        col("mql_at").alias("raw_mql"),
        col("sal_at").alias("raw_sal"),
        col("sql_at").alias("raw_sql"),
    ]);

    // Effective dates, from the last stage in use backwards: own date, else
    // the effective date of the next stage in use.
    let mut next: Option<Stage> = None;
    let mut effs = Vec::new();
    for &stage in stages.iter().rev() {
        let e = match next {
            None => col(stage.raw_col()),
            Some(n) => coalesce(&[col(stage.raw_col()), col(n.eff_col())]),
        };
        // Each effective date depends on the next one: add them one by one.
        effs.push((stage, e));
        next = Some(stage);
    }
    for (stage, e) in effs {
        lf = lf.with_column(e.alias(stage.eff_col()));
    }
    if let Some(by) = by {
        lf = lf.with_column(lead_dim_expr(by).alias(DIM));
    }
    let mut keep = vec![
        col("lead_id"),
        col("created_at"),
        col("first_contact_at"),
        col("disqualified_at"),
        col("account_id"),
        col("segment"),
        col("channel"),
        col("owner"),
        col("campaign_id"),
    ];
    for &stage in &stages {
        keep.push(col(stage.raw_col()));
        keep.push(col(stage.eff_col()));
    }
    if by.is_some() {
        keep.push(col(DIM));
    }
    lf.select(keep)
}

/// `lf` (rows with `channel` and `campaign_id`) with `channel` resolved: its
/// own, else its campaign's (`campaign_channels`).
fn with_resolved_channel(lf: LazyFrame, ds: &Dataset) -> LazyFrame {
    lf.join(
        campaign_channels(ds),
        [col("campaign_id")],
        [col("campaign_id")],
        JoinArgs::new(JoinType::Left),
    )
    .with_column(coalesce(&[col("channel"), col("campaign_channel")]).alias("channel"))
}

/// The leads with `raw_opportunity` (the earliest new-business deal's
/// creation) and `raw_won` (the earliest close of those won): polars'
/// group-by of the deals by `lead_id` and left join, what a spilled run
/// streams.
fn leads_joined_to_opp_dates(leads: &Table, opps: &Table) -> LazyFrame {
    let opp_dates = opps
        .lazy()
        .filter(
            col("lead_id")
                .is_not_null()
                .and(col("type").eq(lit("new_business"))),
        )
        .group_by([col("lead_id")])
        .agg([
            col("created_at").min().alias("raw_opportunity"),
            when(col("status").eq(lit("won")))
                .then(col("close_date"))
                .otherwise(lit(NULL).cast(DataType::Datetime(TimeUnit::Microseconds, None)))
                .min()
                .alias("raw_won"),
        ]);
    leads.lazy().join(
        opp_dates,
        [col("lead_id")],
        [col("lead_id")],
        JoinArgs::new(JoinType::Left),
    )
}

/// [`leads_joined_to_opp_dates`]'s frame, when both tables are in memory:
/// each new-business deal finds its lead's rows through sorted hashes
/// ([`for_each_match`]) and its dates are folded into them. A hash join's
/// random probes into millions of lead ids miss the caches (1.1-1.3 s at
/// 10M leads against 0.06 s at 1M). `None` when a table is spilled (the
/// join runs there) or on an unexpected column type (the join then
/// answers, the same values).
fn leads_with_opp_dates(leads: &Table, opps: &Table) -> Option<DataFrame> {
    let Backing::Memory(odf) = &opps.data else {
        return None;
    };
    let Backing::Memory(ldf) = &leads.data else {
        return None;
    };
    let datetime = DataType::Datetime(TimeUnit::Microseconds, None);
    let typed = |c: &str| odf.column(c).is_ok_and(|c| c.dtype() == &datetime);
    if !(typed("created_at") && typed("close_date")) {
        return None;
    }
    let run = || -> PolarsResult<DataFrame> {
        let deals = odf
            .clone()
            .lazy()
            .filter(
                col("lead_id")
                    .is_not_null()
                    .and(col("type").eq(lit("new_business"))),
            )
            .select([
                col("lead_id"),
                col("created_at").cast(DataType::Int64),
                when(col("status").eq(lit("won")))
                    .then(col("close_date"))
                    .otherwise(lit(NULL).cast(datetime.clone()))
                    .cast(DataType::Int64)
                    .alias("won_at"),
            ])
            .collect()?;
        let (ids, ih) = leads.id_hashes().unwrap_or_else(|| {
            Err(PolarsError::ComputeError("internal: leads in memory without ids".into()))
        })?;
        let refs = deals.column("lead_id")?.str()?;
        let created: Vec<Option<i64>> = deals.column("created_at")?.i64()?.iter().collect();
        let won_at: Vec<Option<i64>> = deals.column("won_at")?.i64()?.iter().collect();
        // i64::MAX stands for "no date yet" (no timestamp reaches it).
        let mut opened = vec![i64::MAX; ldf.height()];
        let mut won = vec![i64::MAX; ldf.height()];
        for_each_match(refs, &Hashed::new(refs), &ids, ih, |d, l| {
            if let Some(c) = created[d] {
                opened[l] = opened[l].min(c);
            }
            if let Some(w) = won_at[d] {
                won[l] = won[l].min(w);
            }
        });
        let dates = |name: &str, v: Vec<i64>| -> PolarsResult<Column> {
            Int64Chunked::from_iter_options(
                name.into(),
                v.into_iter().map(|t| (t != i64::MAX).then_some(t)),
            )
            .into_series()
            .cast(&datetime)
            .map(Column::from)
        };
        let mut out = ldf.clone();
        out.hstack_mut(&[dates("raw_opportunity", opened)?, dates("raw_won", won)?])?;
        Ok(out)
    };
    run().ok()
}

/// The lead columns [`with_lead_channel_by_row`] resolves: the lead's own
/// channel and its campaign, as `(lead column, name)` for
/// [`with_lead_columns`].
pub(crate) const LEAD_CHANNEL_BY_ROW: [(&str, &str); 2] = [
    ("channel", "__lead_own_channel"),
    ("campaign_id", "__lead_campaign"),
];

/// Rows read with [`LEAD_CHANNEL_BY_ROW`] given their lead's channel as
/// [`lead_dims`] resolves it (own, else its campaign's), named `name`.
pub(crate) fn with_lead_channel_by_row(ds: &Dataset, lf: LazyFrame, name: &str) -> LazyFrame {
    lf.join(
        campaign_channels(ds).select([
            col("campaign_id").alias("__lead_campaign"),
            col("campaign_channel").alias("__lead_camp_channel"),
        ]),
        [col("__lead_campaign")],
        [col("__lead_campaign")],
        JoinArgs::new(JoinType::Left),
    )
    .with_column(coalesce(&[col("__lead_own_channel"), col("__lead_camp_channel")]).alias(name))
}

/// `rows` (a collected frame with `lead_id`) with `cols` of each row's lead
/// (`(lead column, name in the output)`; null when its `lead_id` names no
/// lead): the left join on `lead_id`, lead ids being unique after loading,
/// matched through the leads' sorted hashes instead of a hash table of
/// every lead. `None` when the leads are spilled (join there).
pub(crate) fn with_lead_columns(
    ds: &Dataset,
    rows: DataFrame,
    cols: &[(&str, &str)],
) -> Option<PolarsResult<DataFrame>> {
    let leads = ds.leads.as_ref()?;
    let Backing::Memory(ldf) = &leads.data else {
        return None;
    };
    let run = || -> PolarsResult<DataFrame> {
        let (ids, ih) = leads.id_hashes().unwrap_or_else(|| {
            Err(PolarsError::ComputeError("internal: leads in memory without ids".into()))
        })?;
        let refs = rows.column("lead_id")?.str()?;
        let at = rows_of(refs, &Hashed::new(refs), &ids, ih);
        let idx = IdxCa::from_iter_options(
            "row".into(),
            at.into_iter().map(|r| (r != NO_ROW).then_some(r as IdxSize)),
        );
        let mut names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
        names.sort_unstable();
        names.dedup();
        let picked = ldf.select(names)?.take(&idx)?;
        let mut out = rows.clone();
        for (c, name) in cols {
            let mut column = picked.column(c)?.clone();
            column.rename((*name).into());
            out.with_column(column)?;
        }
        Ok(out)
    };
    Some(run())
}

/// The leads with `channel` resolved as in [`lead_stages`] (own, else the
/// lead's campaign's) when `by` is channel, and `__dim` when `by` is given:
/// the dimension of every lead without the stage dates (no pass over the
/// opportunities), for resolving and listing `--by` values.
pub fn lead_dims(ds: &Dataset, by: Option<Dimension>) -> LazyFrame {
    let mut lf = ds.table_or_empty(TableKind::Leads).lazy();
    if by == Some(Dimension::Channel) {
        lf = with_resolved_channel(lf, ds);
    }
    if let Some(by) = by {
        lf = lf.with_column(lead_dim_expr(by).alias(DIM));
    }
    lf
}

/// The `--by` value of a lead row (after `channel` was resolved through the
/// lead's campaign).
pub(crate) fn lead_dim_expr(by: Dimension) -> Expr {
    col(by.column()).fill_null(lit(NONE_GROUP))
}

/// New-business and other opportunities with the `--by` value resolved:
/// the opportunity's own value, else its lead's, else (channel only) its
/// campaign's, else its lead's campaign's. Adds `__dim` when `by` is given;
/// all canonical columns are kept.
pub fn opportunities_with_dim(ds: &Dataset, by: Option<Dimension>) -> LazyFrame {
    opportunities_with_dim_from(ds, by, lead_dims(ds, by))
}

/// [`opportunities_with_dim`] reading the leads' `--by` values from `leads`
/// (rows of [`lead_dims`] for `by`: `lead_id` and the dimension's column,
/// `channel` resolved).
pub(crate) fn opportunities_with_dim_from(
    ds: &Dataset,
    by: Option<Dimension>,
    leads: LazyFrame,
) -> LazyFrame {
    let opps = ds.table_or_empty(TableKind::Opportunities).lazy();
    let Some(by) = by else { return opps };
    match opportunities_with_dim_by_row(ds, by) {
        Some(lf) => lf,
        None => opportunities_with_dim_joined(ds, by, leads),
    }
}

/// [`opportunities_with_dim_from`] through a group-by of `leads` by id and
/// a join (spilled tables, or repeated lead ids).
fn opportunities_with_dim_joined(ds: &Dataset, by: Dimension, leads: LazyFrame) -> LazyFrame {
    let opps = ds.table_or_empty(TableKind::Opportunities).lazy();
    let col_name = by.column();
    let lead_col = format!("lead_{col_name}");
    // One row per lead id: a duplicated lead id (reported by `validate`) must
    // not duplicate its opportunities.
    let lead_vals = leads
        .filter(col("lead_id").is_not_null())
        .group_by([col("lead_id")])
        .agg([col(col_name).drop_nulls().first().alias(&lead_col)]);
    let lf = opps.join(
        lead_vals,
        [col("lead_id")],
        [col("lead_id")],
        JoinArgs::new(JoinType::Left),
    );
    with_dim_value(ds, by, lf, &lead_col)
}

/// [`opportunities_with_dim_from`] with each deal's lead value read by row
/// ([`with_lead_columns`]) when both tables are in memory and the lead ids
/// are unique (what the loader leaves): no group-by and hash join over
/// every lead. `None` otherwise, or on an unexpected error (the join then
/// answers, the same values).
fn opportunities_with_dim_by_row(ds: &Dataset, by: Dimension) -> Option<LazyFrame> {
    let leads = ds.leads.as_ref()?;
    let Backing::Memory(odf) = &ds.opportunities.as_ref()?.data else {
        return None;
    };
    let (ids, ih) = leads.id_hashes()?.ok()?;
    if has_duplicates(&ids, ih) {
        return None;
    }
    let col_name = by.column();
    let lead_col = format!("lead_{col_name}");
    let cols: Vec<(&str, &str)> = if by == Dimension::Channel {
        LEAD_CHANNEL_BY_ROW.to_vec()
    } else {
        vec![(col_name, lead_col.as_str())]
    };
    let df = with_lead_columns(ds, odf.clone(), &cols)?.ok()?;
    let mut lf = df.lazy();
    if by == Dimension::Channel {
        lf = with_lead_channel_by_row(ds, lf, &lead_col);
    }
    Some(with_dim_value(ds, by, lf, &lead_col))
}

/// The deals `lf` (with their lead's value in `lead_col`) with `__dim`: own
/// value, else the lead's, else (channel) the deal's campaign's.
fn with_dim_value(ds: &Dataset, by: Dimension, mut lf: LazyFrame, lead_col: &str) -> LazyFrame {
    let value = if by == Dimension::Channel {
        lf = lf.join(
            campaign_channels(ds),
            [col("campaign_id")],
            [col("campaign_id")],
            JoinArgs::new(JoinType::Left),
        );
        // lead_channel is already the lead's own channel, else its campaign's.
        coalesce(&[col("channel"), col(lead_col), col("campaign_channel")])
    } else {
        coalesce(&[col(by.column()), col(lead_col)])
    };
    let schema_cols: Vec<Expr> = TableKind::Opportunities
        .columns()
        .iter()
        .map(|c| col(c.name))
        .collect();
    let mut sel = schema_cols;
    sel.push(value.fill_null(lit(NONE_GROUP)).alias(DIM));
    lf.select(sel)
}

/// Spend rows with `channel` resolved (own, else the campaign's) and, for
/// `--by channel|campaign`, `__dim`. For `segment`/`owner` splits spend has no
/// dimension: returns `None` (spend-based metrics are null then).
pub fn campaigns_with_dim(ds: &Dataset, by: Option<Dimension>) -> Option<LazyFrame> {
    let camp = ds.table_or_empty(TableKind::Campaigns).lazy();
    let lf = with_resolved_channel(camp, ds);
    match by {
        None => Some(lf),
        Some(Dimension::Channel) => {
            Some(lf.with_column(col("channel").fill_null(lit(NONE_GROUP)).alias(DIM)))
        }
        Some(Dimension::Campaign) => {
            Some(lf.with_column(col("campaign_id").fill_null(lit(NONE_GROUP)).alias(DIM)))
        }
        Some(_) => None,
    }
}

/// MRR per account and month: `account_id`, `__m` (the month's index,
/// `year * 12 + month - 1`) and `__mrr` (the sum of the rows' `mrr` in
/// integer millionths: several rows of one account and month add up; a month
/// whose rows have no MRR sums to 0). Rows without a month are left out.
/// `None` without a revenue table. Read by the cycle's MRR movements and the
/// cohort retention.
pub fn mrr_months(ds: &Dataset) -> Option<LazyFrame> {
    let rev = ds.revenue.as_ref()?;
    let m = col("month");
    let idx = m.clone().dt().year().cast(DataType::Int64) * lit(12i64)
        + m.dt().month().cast(DataType::Int64)
        - lit(1i64);
    Some(
        rev.lazy()
            .filter(col("month").is_not_null())
            .with_column(idx.alias("__m"))
            // Integer millionths: integer sums do not depend on the order
            // polars' parallel grouping adds rows in, so the same files give
            // the same result to the last digit (values are exact to 1e-6).
            .with_column(to_micros(col("mrr")).alias("__mrr"))
            .group_by([col("account_id"), col("__m")])
            .agg([col("__mrr").sum()]),
    )
}

/// Money in integer millionths of the currency unit.
pub const MICROS: f64 = 1_000_000.0;

/// `x` rounded to the nearest millionth, as Int64 millionths.
pub fn to_micros(x: Expr) -> Expr {
    let scaled = x.clone() * lit(MICROS);
    when(x.gt_eq(lit(0.0)))
        .then(scaled.clone() + lit(0.5))
        .otherwise(scaled - lit(0.5))
        .cast(DataType::Int64)
}

/// A money sum read back as integer millionths (the nearest one: sums of
/// [`money_sum`] are exact millionths, so this is exact).
pub fn money_micros_of(v: f64) -> i64 {
    (v * MICROS).round() as i64
}

/// Integer millionths as a money value.
pub fn money_of_micros(m: i64) -> f64 {
    m as f64 / MICROS
}

/// The sum of money values, added in integer millionths (exact, whatever the
/// order); `None` when any is `None`.
pub fn money_add(values: &[Option<f64>]) -> Option<f64> {
    let mut total = 0i64;
    for v in values {
        total += money_micros_of((*v)?);
    }
    Some(money_of_micros(total))
}

/// Sum of a money column, exact to a millionth and independent of the order
/// polars' parallel grouping adds the rows in: the same files give the same
/// bytes on every run (a float sum changes in its last digits).
pub fn money_sum(x: Expr) -> Expr {
    to_micros(x).sum().cast(DataType::Float64) / lit(MICROS)
}

/// The earliest row date of the inputs: the minimum of `leads.created_at`,
/// `opportunities.created_at`, `campaigns.date` and `revenue.month`
/// (microseconds, UTC). `None` when every table is empty.
pub fn earliest_row_date(ds: &Dataset) -> anyhow::Result<Option<i64>> {
    let mut first: Option<i64> = None;
    for kind in TableKind::ALL {
        let Some(t) = ds.table(kind) else { continue };
        let c = kind.date_column();
        let min = t
            .min_micros(c)
            .ctx(format!("reading {}.{c}", kind.name()))?;
        if let Some(m) = min {
            first = Some(first.map_or(m, |f: i64| f.min(m)));
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testutil::{cells, fixture, load_fixture};

    /// `lead_stages_with`'s join, as it runs for spilled tables.
    fn joined(leads: &Table, opps: &Table) -> DataFrame {
        leads_joined_to_opp_dates(leads, opps).collect().unwrap()
    }

    /// (lead_id, raw_opportunity, raw_won) of every lead row, sorted.
    fn dates(df: &DataFrame) -> Vec<(String, String, String)> {
        let df = df
            .select(["lead_id", "raw_opportunity", "raw_won"])
            .unwrap();
        let c = cells(&df);
        let mut rows: Vec<_> = (0..df.height())
            .map(|i| (c[0].1[i].clone(), c[1].1[i].clone(), c[2].1[i].clone()))
            .collect();
        rows.sort();
        rows
    }

    /// fixtures/basic: L1 has O1 (created 2024-02-10, won, closed
    /// 2024-03-01); L2 has O2 (created 2024-02-20, lost: no won date); L3
    /// has O3 (created 2024-03-01, won 2024-04-10) and O4 (created
    /// 2024-03-15, open): the earliest of each; L7 has O5 (2024-03-20, won
    /// 2024-04-05); O6-O9 name no lead (O7 is an expansion besides).
    #[test]
    fn opportunity_dates_by_lead_row_are_the_join() {
        let ds = fixture("basic");
        let (leads, opps) = (ds.table_or_empty(TableKind::Leads), ds.table_or_empty(TableKind::Opportunities));
        let fast = leads_with_opp_dates(&leads, &opps).expect("in memory");
        let got = dates(&fast);
        let l = |id: &str| got.iter().find(|r| r.0 == id).unwrap().clone();
        let row = |id: &str, o: &str, w: &str| (id.to_string(), o.to_string(), w.to_string());
        assert_eq!(l("L1"), row("L1", "2024-02-10 10:00:00.000000", "2024-03-01 10:00:00.000000"));
        assert_eq!(l("L2"), row("L2", "2024-02-20 10:00:00.000000", "-"));
        assert_eq!(l("L3"), row("L3", "2024-03-01 10:00:00.000000", "2024-04-10 10:00:00.000000"));
        assert_eq!(l("L7"), row("L7", "2024-03-20 10:00:00.000000", "2024-04-05 10:00:00.000000"));
        assert_eq!(l("L4"), row("L4", "-", "-"));
        assert_eq!(got.iter().filter(|r| r.1 != "-").count(), 4);
        // Every fixture: the same dates as the join, with the same schema.
        for name in ["basic", "cycle", "misalignment", "plan", "attribution"] {
            let ds = fixture(name);
            let (leads, opps) = (ds.table_or_empty(TableKind::Leads), ds.table_or_empty(TableKind::Opportunities));
            let fast = leads_with_opp_dates(&leads, &opps).unwrap();
            let join = joined(&leads, &opps);
            assert_eq!(fast.schema(), join.schema(), "fixture {name}: schema");
            assert_eq!(dates(&fast), dates(&join), "fixture {name}");
        }
    }

    /// A lead id held by two rows (only reachable when built by hand: the
    /// loader keeps the first): both rows get the dates, as in the join.
    #[test]
    fn a_repeated_lead_row_gets_the_dates_as_in_the_join() {
        let mut ds = load_fixture("basic", "2024-05-01T00:00:00Z");
        let leads = ds.leads.as_mut().unwrap();
        let frame = leads.collect().unwrap();
        leads.data = Backing::Memory(frame.vstack(&frame.head(Some(1))).unwrap());
        let (leads, opps) = (ds.table_or_empty(TableKind::Leads), ds.table_or_empty(TableKind::Opportunities));
        let fast = dates(&leads_with_opp_dates(&leads, &opps).unwrap());
        assert_eq!(fast.iter().filter(|r| r.0 == "L1" && r.1 == "2024-02-10 10:00:00.000000").count(), 2);
        assert_eq!(fast, dates(&joined(&leads, &opps)));
    }

    /// Each closed deal of fixtures/basic with its lead's segment and
    /// channel read by row: O1 -> L1 (search), O2 -> L2 (social), O3 -> L3
    /// (no channel), O6 names no lead (nulls); the same as the left join.
    #[test]
    fn lead_columns_by_row_are_the_left_join() {
        let ds = fixture("basic");
        let deals = ds.table_or_empty(TableKind::Opportunities).collect().unwrap();
        let cols = [("channel", "lead_channel"), ("segment", "lead_segment"), ("channel", "again")];
        let fast = with_lead_columns(&ds, deals.clone(), &cols).unwrap().unwrap();
        let ch = |id: &str| {
            let i = (0..fast.height())
                .find(|&i| fast.column("opportunity_id").unwrap().str().unwrap().get(i) == Some(id))
                .unwrap();
            fast.column("lead_channel").unwrap().str().unwrap().get(i).map(str::to_string)
        };
        assert_eq!(ch("O1").as_deref(), Some("search"));
        assert_eq!(ch("O2").as_deref(), Some("social"));
        assert_eq!(ch("O3"), None);
        assert_eq!(ch("O6"), None);
        let join = deals
            .lazy()
            .join(
                ds.table_or_empty(TableKind::Leads).lazy().select([
                    col("lead_id"),
                    col("channel").alias("lead_channel"),
                    col("segment").alias("lead_segment"),
                    col("channel").alias("again"),
                ]),
                [col("lead_id")],
                [col("lead_id")],
                JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::CoalesceColumns),
            )
            .collect()
            .unwrap();
        let sorted = |df: DataFrame| {
            cells(&df.sort(["opportunity_id"], SortMultipleOptions::default()).unwrap())
        };
        assert_eq!(sorted(fast), sorted(join));
    }

    /// fixtures/basic split by channel: O1 has no channel, its lead L1 has
    /// `search`; O2 has its own, `events`; O3's lead L3 has none but L3's
    /// campaign C1 is `search` (two of its three rows); O6 names no lead,
    /// its campaign C2 is `social`. Every fixture and split: the same rows
    /// as the group-by and join.
    #[test]
    fn deal_dims_by_row_are_the_join() {
        let ds = fixture("basic");
        let df = opportunities_with_dim_by_row(&ds, Dimension::Channel)
            .expect("in memory, unique ids")
            .collect()
            .unwrap();
        let dim = |id: &str| {
            let i = (0..df.height())
                .find(|&i| df.column("opportunity_id").unwrap().str().unwrap().get(i) == Some(id))
                .unwrap();
            df.column(DIM).unwrap().str().unwrap().get(i).unwrap().to_string()
        };
        assert_eq!(
            [dim("O1"), dim("O2"), dim("O3"), dim("O6")],
            ["search", "events", "search", "social"]
        );
        let sorted = |df: DataFrame| {
            cells(&df.sort(["opportunity_id"], SortMultipleOptions::default()).unwrap())
        };
        for name in ["basic", "cycle", "misalignment", "plan", "attribution"] {
            let ds = fixture(name);
            for by in [Dimension::Channel, Dimension::Segment, Dimension::Owner, Dimension::Campaign] {
                let fast = opportunities_with_dim_by_row(&ds, by).unwrap().collect().unwrap();
                let join = opportunities_with_dim_joined(&ds, by, lead_dims(&ds, Some(by)))
                    .collect()
                    .unwrap();
                assert_eq!(sorted(fast), sorted(join), "fixture {name}, by {by:?}");
            }
        }
    }
}
