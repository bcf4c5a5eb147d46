//! Cohort revenue retention from the `revenue` table (MRR per account and
//! month): for the accounts whose first month with MRR > 0 is c, the MRR in
//! month c + k as a share of their MRR in month c. Expansion can take a
//! share above 1; churn and contraction take it down.
//!
//! [`gather`] is the polars query (MRR summed per cohort and months since,
//! in integer millionths); [`compute`] is the arithmetic on those sums, so a
//! warehouse could run the first and revcycle the second.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDate;
use polars::prelude::*;

use crate::errors::PolarsCtx;

use crate::model::Dataset;

/// MRR summed per (cohort month, months since the cohort month): month
/// indices are months since year 0 (`year * 12 + month - 1`), MRR in
/// integer millionths. `accounts` counts the accounts of each cohort.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gathered {
    /// (cohort month index, months since) -> MRR in millionths.
    pub mrr: BTreeMap<(i64, i64), i64>,
    /// cohort month index -> accounts.
    pub accounts: BTreeMap<i64, u64>,
    /// Month index of `as_of`: later months are not shown.
    pub as_of_month: i64,
}

/// The heatmap's numbers: one row per cohort (oldest first), one column per
/// month since (0 first); `None` where the month is after `as_of`.
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    pub cohorts: Vec<NaiveDate>,
    pub accounts: Vec<u64>,
    pub cells: Vec<Vec<Option<f64>>>,
}

/// `None` when there is no revenue table.
pub fn gather(ds: &Dataset) -> Result<Option<Gathered>> {
    match crate::metrics::shared::Shared::tables(ds).mrr_months()? {
        Some(months) => gather_from(&months, ds.as_of).map(Some),
        None => Ok(None),
    }
}

/// [`gather`] from `common::mrr_months` (MRR in millionths per account and
/// month), `as_of` in microseconds.
pub fn gather_from(months: &DataFrame, as_of: i64) -> Result<Gathered> {
    // MRR_a(m) in millionths; the months with MRR > 0 count.
    let by_month = months.clone().lazy().filter(col("__mrr").gt(lit(0i64)));
    let first = by_month
        .clone()
        .group_by([col("account_id")])
        .agg([col("__m").min().alias("__c")]);
    // Read twice below: joined once.
    let joined = by_month
        .join(
            first,
            [col("account_id")],
            [col("account_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()
        .ctx("finding each account's first month with MRR")?
        .lazy();
    let cells = joined
        .clone()
        .group_by([col("__c"), (col("__m") - col("__c")).alias("__k")])
        .agg([col("__mrr").sum()])
        .collect()
        .ctx("summing MRR by cohort")?;
    let sizes = joined
        .filter(col("__m").eq(col("__c")))
        .group_by([col("__c")])
        .agg([col("account_id").n_unique().cast(DataType::UInt64).alias("__n")])
        .collect()
        .ctx("counting cohort accounts")?;
    let i64s = |df: &DataFrame, name: &str| -> Result<Vec<Option<i64>>> {
        let c = df
            .column(name)
            .and_then(|c| c.cast(&DataType::Int64))
            .ctx(format!("reading {name}"))?;
        let ca = c.i64().ctx(format!("reading {name}"))?;
        Ok((0..ca.len()).map(|i| ca.get(i)).collect())
    };
    let mut g = Gathered {
        as_of_month: month_index(as_of),
        ..Gathered::default()
    };
    let (c, k, v) = (i64s(&cells, "__c")?, i64s(&cells, "__k")?, i64s(&cells, "__mrr")?);
    for ((c, k), v) in c.into_iter().zip(k).zip(v) {
        if let (Some(c), Some(k), Some(v)) = (c, k, v) {
            g.mrr.insert((c, k), v);
        }
    }
    let (c, n) = (i64s(&sizes, "__c")?, i64s(&sizes, "__n")?);
    for (c, n) in c.into_iter().zip(n) {
        if let (Some(c), Some(n)) = (c, n) {
            g.accounts.insert(c, n as u64);
        }
    }
    Ok(g)
}

/// The last `max_cohorts` cohorts up to `as_of`'s month, `max_months`
/// columns (months since 0 .. max_months - 1). A cell is the cohort's MRR in
/// that month over its MRR in its first month; `None` after `as_of`.
pub fn compute(g: &Gathered, max_cohorts: usize, max_months: usize) -> Retention {
    let cohorts: Vec<i64> = {
        let all: Vec<i64> = g
            .accounts
            .keys()
            .copied()
            .filter(|c| *c <= g.as_of_month)
            .collect();
        all[all.len().saturating_sub(max_cohorts)..].to_vec()
    };
    let mut out = Retention {
        cohorts: Vec::new(),
        accounts: Vec::new(),
        cells: Vec::new(),
    };
    for c in cohorts {
        let base = g.mrr.get(&(c, 0)).copied().unwrap_or(0);
        let row = (0..max_months as i64)
            .map(|k| {
                if c + k > g.as_of_month || base <= 0 {
                    return None;
                }
                let v = g.mrr.get(&(c, k)).copied().unwrap_or(0);
                Some(v as f64 / base as f64)
            })
            .collect();
        out.cohorts.push(first_day(c));
        out.accounts.push(g.accounts.get(&c).copied().unwrap_or(0));
        out.cells.push(row);
    }
    out
}

fn month_index(us: i64) -> i64 {
    use chrono::Datelike;
    let d = chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.date_naive())
        .unwrap_or_default();
    d.year() as i64 * 12 + d.month0() as i64
}

fn first_day(idx: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(idx.div_euclid(12) as i32, idx.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three accounts (month indices of 2024: January = 24288):
    /// - A: Jan 100, Feb 120, Mar 0 (churned)    cohort Jan
    /// - B: Jan 50, Feb 50, Mar 60               cohort Jan
    /// - C: Feb 200, Mar 100                     cohort Feb
    /// Jan cohort: base 150; Feb 170 -> 170/150; Mar 60 -> 60/150 = 0.4.
    /// Feb cohort: base 200; Mar 100 -> 0.5. as_of in March: no April cell.
    #[test]
    fn retention_shares_by_cohort_and_month() {
        let jan = 2024 * 12;
        let mut g = Gathered {
            as_of_month: jan + 2,
            ..Default::default()
        };
        let m = 1_000_000;
        for (c, k, v) in [(jan, 0, 150), (jan, 1, 170), (jan, 2, 60), (jan + 1, 0, 200), (jan + 1, 1, 100)] {
            g.mrr.insert((c, k), v * m);
        }
        g.accounts.insert(jan, 2);
        g.accounts.insert(jan + 1, 1);
        let r = compute(&g, 12, 4);
        assert_eq!(
            r.cohorts,
            vec![
                NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(2024, 2, 1).unwrap()
            ]
        );
        assert_eq!(r.accounts, vec![2, 1]);
        assert_eq!(r.cells[0], vec![Some(1.0), Some(170.0 / 150.0), Some(0.4), None]);
        assert_eq!(r.cells[1], vec![Some(1.0), Some(0.5), None, None]);
        // Only the last cohort when one is asked for.
        assert_eq!(compute(&g, 1, 2).cohorts.len(), 1);
    }

    /// fixtures/cycle/revenue.csv at as_of 2024-04-15 (fixtures/cycle/EXPECTED.md):
    /// - Nov 2023 cohort A1 100, A2 200, A3 50, A6 30 = 380; Dec 380; Jan
    ///   A1 100 + A2 120 + A6 30 = 250 (A3 paused); Feb 150 + 120 + 30 = 300;
    ///   Mar 150 + 120 + A3 60 = 330 (A6 churned); Apr 330.
    /// - Jan 2024 cohort A4 (its row dated 2024-01-15 names January): 80, 80,
    ///   80, then 0 in April.
    /// - Feb 2024 cohort A5 (two rows of 40 and 10 add up): 50, 50, then 70.
    #[test]
    fn gathered_from_the_cycle_fixture() {
        let ds = crate::metrics::testutil::load_fixture("cycle", "2024-04-15");
        let r = compute(&gather(&ds).unwrap().unwrap(), 12, 6);
        let d = |m| NaiveDate::from_ymd_opt(if m > 2 { 2023 } else { 2024 }, m, 1).unwrap();
        assert_eq!(r.cohorts, vec![d(11), d(1), d(2)]);
        assert_eq!(r.accounts, vec![4, 1, 1]);
        let f = |v: f64| Some(v);
        assert_eq!(
            r.cells[0],
            vec![f(1.0), f(1.0), f(250.0 / 380.0), f(300.0 / 380.0), f(330.0 / 380.0), f(330.0 / 380.0)]
        );
        assert_eq!(r.cells[1], vec![f(1.0), f(1.0), f(1.0), f(0.0), None, None]);
        assert_eq!(r.cells[2], vec![f(1.0), f(1.0), f(1.4), None, None, None]);
    }
}
