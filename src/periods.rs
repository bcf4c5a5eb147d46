//! Reporting periods: calendar week/month/quarter/year (fiscal years allowed)
//! or one period over everything, as integer indices that polars can compute
//! from a timestamp column and that map back to the period's first day.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

pub const US_PER_DAY: i64 = 86_400_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Week,
    Month,
    Quarter,
    Year,
    All,
}

impl PeriodKind {
    pub fn name(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
            PeriodKind::All => "all",
        }
    }
}

/// How timestamps are bucketed into periods.
///
/// A period is identified by an `i64` index: months since year 0 for months,
/// fiscal quarters/years counted the same way, Monday-based weeks since
/// 1969-12-29, and `0` for `all`.
#[derive(Debug, Clone, Copy)]
pub struct PeriodSpec {
    pub kind: PeriodKind,
    /// First month of the fiscal year, 1..=12 (quarter and year only).
    pub fiscal_year_start: u32,
    /// For `all`: the first instant (earliest row date), which names the period.
    pub all_start: i64,
}

impl PeriodSpec {
    pub fn new(kind: PeriodKind, fiscal_year_start: u32, all_start: i64) -> Self {
        PeriodSpec {
            kind,
            fiscal_year_start: fiscal_year_start.clamp(1, 12),
            all_start,
        }
    }

    fn fiscal_shift(&self) -> i64 {
        match self.kind {
            PeriodKind::Quarter | PeriodKind::Year => self.fiscal_year_start as i64 - 1,
            _ => 0,
        }
    }

    /// Polars expression: the period index (Int64) of a Datetime(us) expression.
    /// Null stays null.
    pub fn index_expr(&self, ts: Expr) -> Expr {
        let month_index = || {
            ts.clone().dt().year().cast(DataType::Int64) * lit(12i64)
                + ts.clone().dt().month().cast(DataType::Int64)
                - lit(1i64)
        };
        match self.kind {
            PeriodKind::Month => month_index(),
            PeriodKind::Quarter => floor_div(month_index() - lit(self.fiscal_shift()), 3),
            PeriodKind::Year => floor_div(month_index() - lit(self.fiscal_shift()), 12),
            PeriodKind::Week => floor_div(
                floor_div(ts.clone().cast(DataType::Int64), US_PER_DAY) + lit(3i64),
                7,
            ),
            // 0 for every timestamp, null stays null
            PeriodKind::All => ts.clone().cast(DataType::Int64) * lit(0i64),
        }
    }

    /// The period index of one timestamp (microseconds since the epoch, UTC).
    pub fn index_of(&self, ts: i64) -> i64 {
        let date = date_of(ts);
        let month_index = date.year() as i64 * 12 + date.month0() as i64;
        match self.kind {
            PeriodKind::Month => month_index,
            PeriodKind::Quarter => (month_index - self.fiscal_shift()).div_euclid(3),
            PeriodKind::Year => (month_index - self.fiscal_shift()).div_euclid(12),
            PeriodKind::Week => (ts.div_euclid(US_PER_DAY) + 3).div_euclid(7),
            PeriodKind::All => 0,
        }
    }

    /// First day of the period.
    pub fn start_date(&self, index: i64) -> NaiveDate {
        match self.kind {
            PeriodKind::Month => month_start(index),
            PeriodKind::Quarter => month_start(index * 3 + self.fiscal_shift()),
            PeriodKind::Year => month_start(index * 12 + self.fiscal_shift()),
            PeriodKind::Week => epoch() + chrono::Duration::days(index * 7 - 3),
            PeriodKind::All => date_of(self.all_start),
        }
    }

    /// First instant of the period (microseconds). For `all`, the earliest row time.
    pub fn start(&self, index: i64) -> i64 {
        match self.kind {
            PeriodKind::All => self.all_start,
            _ => micros_of_date(self.start_date(index)),
        }
    }

    /// The end of the period: the first instant of the next one. For `all`, `i64::MAX`.
    pub fn end(&self, index: i64) -> i64 {
        match self.kind {
            PeriodKind::All => i64::MAX,
            _ => micros_of_date(self.start_date(index + 1)),
        }
    }

    /// Months from the period's first month to the month of `ts` inclusive
    /// (used by NRR / LTV over quarters and years).
    pub fn month_index_of(ts: i64) -> i64 {
        let d = date_of(ts);
        d.year() as i64 * 12 + d.month0() as i64
    }

    /// The periods reported: from the one holding `first` to the one holding
    /// `as_of`, without gaps, keeping those overlapping [from, to] when given.
    pub fn grid(&self, first: i64, as_of: i64, from: Option<i64>, to: Option<i64>) -> Vec<i64> {
        let lo = self.index_of(first.min(as_of));
        let hi = self.index_of(as_of);
        (lo..=hi)
            .filter(|&p| {
                let (s, e) = (self.start(p), self.end(p));
                from.map_or(true, |f| e > f) && to.map_or(true, |t| s <= t)
            })
            .collect()
    }
}

/// Floor division of an Int64 expression by a positive constant, without
/// `Expr::floor_div` (it needs polars' `round_series` feature and panics
/// at run time without it): subtract the Euclidean remainder, then divide.
fn floor_div(e: Expr, n: i64) -> Expr {
    let rem = ((e.clone() % lit(n)) + lit(n)) % lit(n);
    ((e - rem).cast(DataType::Float64) / lit(n as f64)).cast(DataType::Int64)
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
}

/// First day of month index `m` (months since year 0).
pub fn month_start(m: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(m.div_euclid(12) as i32, m.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(NaiveDate::MIN)
}

pub fn date_of(ts: i64) -> NaiveDate {
    epoch() + chrono::Duration::days(ts.div_euclid(US_PER_DAY))
}

pub fn micros_of_date(d: NaiveDate) -> i64 {
    (d - epoch()).num_days() * US_PER_DAY
}

/// The one date/time text of an instant (microseconds since the epoch, UTC):
/// `YYYY-MM-DD` at midnight, else `YYYY-MM-DD HH:MM:SS`; the microseconds
/// themselves when out of chrono's range.
pub fn instant_text(us: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(us) {
        Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => us.to_string(),
    }
}

/// An instant always with its time: `YYYY-MM-DD HH:MM:SS` (UTC); `None` out
/// of chrono's range.
pub fn timestamp_text(us: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_one_date_formatter() {
        let midnight = 1_714_435_200_000_000; // 2024-04-30T00:00:00Z
        assert_eq!(instant_text(midnight), "2024-04-30");
        assert_eq!(
            instant_text(midnight + 3_661_000_000),
            "2024-04-30 01:01:01"
        );
        assert_eq!(
            timestamp_text(midnight).as_deref(),
            Some("2024-04-30 00:00:00")
        );
        assert_eq!(instant_text(i64::MAX), i64::MAX.to_string());
    }

    use super::*;

    fn ts(y: i32, m: u32, d: u32) -> i64 {
        micros_of_date(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    #[test]
    fn weeks_start_on_monday() {
        let p = PeriodSpec::new(PeriodKind::Week, 1, 0);
        // 2024-01-03 is a Wednesday; its ISO week starts Monday 2024-01-01.
        let i = p.index_of(ts(2024, 1, 3));
        assert_eq!(
            p.start_date(i),
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
        );
        // Sunday 2024-01-07 is still that week, Monday 2024-01-08 is the next.
        assert_eq!(p.index_of(ts(2024, 1, 7)), i);
        assert_eq!(p.index_of(ts(2024, 1, 8)), i + 1);
    }

    #[test]
    fn fiscal_quarters_and_years() {
        // Fiscal year starting in April: 2024-03-31 is in FY starting 2023-04-01.
        let y = PeriodSpec::new(PeriodKind::Year, 4, 0);
        assert_eq!(
            y.start_date(y.index_of(ts(2024, 3, 31))),
            NaiveDate::from_ymd_opt(2023, 4, 1).unwrap()
        );
        assert_eq!(
            y.start_date(y.index_of(ts(2024, 4, 1))),
            NaiveDate::from_ymd_opt(2024, 4, 1).unwrap()
        );
        let q = PeriodSpec::new(PeriodKind::Quarter, 2, 0);
        // Fiscal quarters Feb-Apr, May-Jul, ...: 2024-01-15 is in the quarter starting 2023-11-01.
        assert_eq!(
            q.start_date(q.index_of(ts(2024, 1, 15))),
            NaiveDate::from_ymd_opt(2023, 11, 1).unwrap()
        );
        assert_eq!(q.end(q.index_of(ts(2024, 1, 15))), ts(2024, 2, 1));
    }

    #[test]
    fn index_expr_agrees_with_index_of() {
        let stamps = [
            ts(1969, 12, 28),
            ts(1969, 12, 29) + 5,
            ts(2023, 12, 31),
            ts(2024, 1, 1),
            ts(2024, 2, 29) + US_PER_DAY - 1,
            ts(2024, 3, 31),
            ts(2024, 4, 1),
        ];
        let dt = DataType::Datetime(TimeUnit::Microseconds, None);
        let df = DataFrame::new(
            stamps.len(),
            vec![Column::new("t".into(), stamps.to_vec()).cast(&dt).unwrap()],
        )
        .unwrap();
        for kind in [
            PeriodKind::Week,
            PeriodKind::Month,
            PeriodKind::Quarter,
            PeriodKind::Year,
            PeriodKind::All,
        ] {
            for fy in [1, 2, 4] {
                let p = PeriodSpec::new(kind, fy, 0);
                let out = df
                    .clone()
                    .lazy()
                    .select([p.index_expr(col("t")).alias("i")])
                    .collect()
                    .unwrap();
                let got: Vec<Option<i64>> =
                    out.column("i").unwrap().i64().unwrap().iter().collect();
                let want: Vec<Option<i64>> = stamps.iter().map(|&t| Some(p.index_of(t))).collect();
                assert_eq!(got, want, "{kind:?} fiscal start {fy}");
            }
        }
    }

    #[test]
    fn grid_has_no_gaps_and_honours_range() {
        let m = PeriodSpec::new(PeriodKind::Month, 1, 0);
        let g = m.grid(ts(2024, 1, 20), ts(2024, 4, 2), None, None);
        assert_eq!(g.len(), 4);
        let g = m.grid(
            ts(2024, 1, 20),
            ts(2024, 4, 2),
            Some(ts(2024, 2, 15)),
            Some(ts(2024, 3, 1)),
        );
        assert_eq!(
            g.iter()
                .map(|&p| m.start_date(p).to_string())
                .collect::<Vec<_>>(),
            ["2024-02-01", "2024-03-01"]
        );
    }
}
