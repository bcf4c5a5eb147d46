//! The arithmetic of `revcycle plan` (docs/plan.md), on aggregates already
//! gathered: maturity, Wilson rates, the reverse waterfall, `needed_by`,
//! coverage and money gap, implied rates and their percentile, the
//! `goal_alignment_score` and pacing. No polars here.

use chrono::NaiveDate;

use crate::metrics::common::Stage;
use crate::metrics::misalignment::wilson;
use crate::periods::{date_of, US_PER_DAY};

/// Maturity when fewer than this many leads have won.
pub const MIN_WON_FOR_MATURITY: usize = 20;
/// Maturity (days) with too few won leads.
pub const DEFAULT_MATURITY_DAYS: f64 = 90.0;
/// Default `history_days`.
pub const DEFAULT_HISTORY_DAYS: f64 = 365.0;

/// The `q` quantile (0..=1) of `values`, interpolating linearly between
/// order statistics (h = (n - 1) q): the rule that gives the median of
/// metrics.md. None for no values.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let h = (v.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// How `maturity_days` was set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaturitySource {
    Configured,
    /// The 80th percentile of this many won leads' days to won, rounded up.
    Percentile(usize),
    /// The default: only this many won leads (fewer than 20).
    TooFewWon(usize),
}

/// `maturity_days`: the configured value, else the 80th percentile of the
/// days from creation to won, rounded up to whole days, else 90.
pub fn maturity(won_days: &[f64], configured: Option<f64>) -> (f64, MaturitySource) {
    if let Some(m) = configured {
        return (m, MaturitySource::Configured);
    }
    let n = won_days.len();
    if n < MIN_WON_FOR_MATURITY {
        return (DEFAULT_MATURITY_DAYS, MaturitySource::TooFewWon(n));
    }
    let p80 = quantile(won_days, 0.8).unwrap_or(DEFAULT_MATURITY_DAYS);
    (p80.ceil(), MaturitySource::Percentile(n))
}

/// A pooled cohort rate between two consecutive stages: `k` of `n` leads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairRate {
    pub from: Stage,
    pub to: Stage,
    pub k: i64,
    pub n: i64,
    pub rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl PairRate {
    pub fn new(from: Stage, to: Stage, k: i64, n: i64) -> PairRate {
        let w = wilson(k as f64, n as f64);
        PairRate {
            from,
            to,
            k,
            n,
            rate: (n > 0).then(|| k as f64 / n as f64),
            low: w.map(|b| b.0),
            high: w.map(|b| b.1),
        }
    }
}

/// The evidence: everything a waterfall is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub ladder: Vec<Stage>,
    pub maturity_days: f64,
    pub maturity_source: MaturitySource,
    pub history_days: f64,
    /// Lead cohorts created in [window_start, window_end) (microseconds).
    pub window_start: i64,
    pub window_end: i64,
    /// Window leads that reached each ladder stage.
    pub reached: Vec<i64>,
    /// One per consecutive pair of the ladder.
    pub rates: Vec<PairRate>,
    /// Median days from each stage's effective date to won.
    pub days_to_won: Vec<Option<f64>>,
    /// (period index, reached per stage) of the window's cohort periods.
    pub per_period: Vec<(i64, Vec<i64>)>,
    pub avg_deal_size: Option<f64>,
    pub cost_per_lead: Option<f64>,
}

impl Evidence {
    pub fn index(&self, s: Stage) -> Option<usize> {
        self.ladder.iter().position(|&x| x == s)
    }

    /// Product of the point rates from ladder index `i` up to `won` (1 at won).
    pub fn rate_to_won(&self, i: usize) -> Option<f64> {
        self.rates[i..].iter().map(|r| r.rate).product()
    }

    /// Per-period cohort rates from stage index `lower` to `upper`, periods
    /// with no lead at `lower` left out.
    pub fn period_rates(&self, lower: usize, upper: usize) -> Vec<f64> {
        self.per_period
            .iter()
            .filter(|(_, r)| r[lower] > 0)
            .map(|(_, r)| r[upper] as f64 / r[lower] as f64)
            .collect()
    }
}

/// The window of lead cohorts: [as_of − maturity − history, as_of − maturity).
pub fn window(as_of: i64, maturity_days: f64, history_days: f64) -> (i64, i64) {
    let end = as_of - (maturity_days * US_PER_DAY as f64).round() as i64;
    let start = end - (history_days * US_PER_DAY as f64).round() as i64;
    (start, end)
}

/// Pair rates of consecutive ladder stages from the stage counts.
pub fn pair_rates(ladder: &[Stage], reached: &[i64]) -> Vec<PairRate> {
    (1..ladder.len())
        .map(|i| PairRate::new(ladder[i - 1], ladder[i], reached[i], reached[i - 1]))
        .collect()
}

/// A volume with its range.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Volume {
    pub required: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

fn product(rs: &[PairRate], f: impl Fn(&PairRate) -> Option<f64>) -> Option<f64> {
    rs.iter().map(f).product()
}

fn div(a: f64, b: Option<f64>) -> Option<f64> {
    b.filter(|&b| b != 0.0).map(|b| a / b)
}

/// The reverse waterfall: the volume every ladder stage must deliver for
/// `volume` at ladder index `anchor`. Down the ladder each volume divides by
/// the rates in between (low by the Wilson highs, high by the Wilson lows),
/// up the ladder it multiplies (low by the lows, high by the highs). A rate
/// of 0 or of no leads makes every volume that divides by it null.
pub fn waterfall(ev: &Evidence, anchor: usize, volume: Option<f64>) -> Vec<Volume> {
    let Some(v) = volume else {
        return vec![Volume::default(); ev.ladder.len()];
    };
    (0..ev.ladder.len())
        .map(|i| {
            if i == anchor {
                Volume {
                    required: Some(v),
                    low: Some(v),
                    high: Some(v),
                }
            } else if i < anchor {
                let rs = &ev.rates[i..anchor];
                Volume {
                    required: div(v, product(rs, |r| r.rate)),
                    low: div(v, product(rs, |r| r.high)),
                    high: div(v, product(rs, |r| r.low)),
                }
            } else {
                let rs = &ev.rates[anchor..i];
                Volume {
                    required: product(rs, |r| r.rate).map(|p| v * p),
                    low: product(rs, |r| r.low).map(|p| v * p),
                    high: product(rs, |r| r.high).map(|p| v * p),
                }
            }
        })
        .collect()
}

/// `needed_by`: the UTC day (rounded down) of P's start + P's length / 2 −
/// `days_to_won` days.
pub fn needed_by(start: i64, end: i64, days_to_won: Option<f64>) -> Option<NaiveDate> {
    let d = days_to_won?;
    let t = start as f64 + (end - start) as f64 / 2.0 - d * US_PER_DAY as f64;
    Some(date_of(t.floor() as i64))
}

/// What one team's target does against another anchor's waterfall row.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Alignment {
    pub team_target: Option<f64>,
    pub coverage: Option<f64>,
    pub implied_rate: Option<f64>,
    pub implied_rate_percentile: Option<f64>,
    pub unrealistic: Option<bool>,
    pub shortfall: Option<f64>,
    pub shortfall_money: Option<f64>,
}

/// `coverage` = team target / required; below 1 the shortfall is
/// required − target, in money × rate to won × avg_deal_size.
pub fn coverage(
    team_target: Option<f64>,
    required: Option<f64>,
    rate_to_won: Option<f64>,
    avg_deal_size: Option<f64>,
) -> (Option<f64>, Option<f64>, Option<f64>) {
    let (Some(t), Some(r)) = (team_target, required) else {
        return (None, None, None);
    };
    let Some(c) = div(t, Some(r)) else {
        return (None, None, None);
    };
    if c >= 1.0 {
        return (Some(c), Some(0.0), Some(0.0));
    }
    let gap = r - t;
    let money = match (rate_to_won, avg_deal_size) {
        (Some(p), Some(a)) => Some(gap * p * a),
        _ => None,
    };
    (Some(c), Some(gap), money)
}

/// Percentile of `implied` among `history` (100 × share ≤ it) and whether
/// it is strictly above the highest; both None without history.
pub fn percentile(implied: Option<f64>, history: &[f64]) -> (Option<f64>, Option<bool>) {
    let Some(x) = implied else { return (None, None) };
    if history.is_empty() {
        return (None, None);
    }
    let below = history.iter().filter(|&&h| h <= x).count();
    let max = history.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (
        Some(100.0 * below as f64 / history.len() as f64),
        Some(x > max),
    )
}

/// `goal_alignment_score`: 100 × mean of min(c, 1/c), capped at 100; None
/// with no coverage.
pub fn goal_alignment_score(coverages: &[f64]) -> Option<f64> {
    if coverages.is_empty() {
        return None;
    }
    let sum: f64 = coverages
        .iter()
        .map(|&c| if c <= 0.0 { 0.0 } else { c.min(1.0 / c) })
        .sum();
    Some((100.0 * sum / coverages.len() as f64).min(100.0))
}

/// Pacing of a target in the period in progress.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pace {
    pub elapsed_fraction: f64,
    pub actual_to_date: Option<f64>,
    pub expected_to_date: f64,
    pub projected: Option<f64>,
    pub pace: Option<f64>,
}

pub fn pace(target: f64, actual: Option<f64>, start: i64, end: i64, as_of: i64) -> Pace {
    let f = ((as_of - start) as f64 / (end - start) as f64).clamp(0.0, 1.0);
    let projected = actual.and_then(|a| div(a, Some(f)));
    Pace {
        elapsed_fraction: f,
        actual_to_date: actual,
        expected_to_date: target * f,
        projected,
        pace: projected.and_then(|p| div(p, Some(target))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Stage::*;

    fn ev(reached: &[i64]) -> Evidence {
        let ladder = vec![Lead, Mql, Sql, Won];
        Evidence {
            rates: pair_rates(&ladder, reached),
            ladder,
            maturity_days: 90.0,
            maturity_source: MaturitySource::TooFewWon(0),
            history_days: 365.0,
            window_start: 0,
            window_end: 0,
            reached: reached.to_vec(),
            days_to_won: vec![None; 4],
            per_period: Vec::new(),
            avg_deal_size: Some(1000.0),
            cost_per_lead: None,
        }
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.8), Some(5.0));
        assert_eq!(quantile(&[10.0, 20.0], 0.8), Some(18.0));
        assert_eq!(quantile(&[], 0.8), None);
    }

    #[test]
    fn maturity_rounds_up_and_falls_back() {
        let days: Vec<f64> = (1..=21).map(|d| d as f64 + 0.25).collect();
        // h = 20 * 0.8 = 16: the 17th value, 17.25, rounded up.
        assert_eq!(maturity(&days, None), (18.0, MaturitySource::Percentile(21)));
        assert_eq!(maturity(&days[..19], None).0, 90.0);
        assert_eq!(maturity(&days, Some(30.0)).0, 30.0);
    }

    #[test]
    fn down_the_ladder_and_back_up_returns_the_target() {
        let e = ev(&[200, 80, 30, 12]);
        let bookings = 60_000.0;
        let won = bookings / e.avg_deal_size.unwrap();
        let down = waterfall(&e, 3, Some(won));
        let leads = down[0].required.unwrap();
        assert!((leads - 60.0 * 200.0 / 12.0).abs() < 1e-9);
        let up = waterfall(&e, 0, Some(leads));
        for (a, b) in down.iter().zip(&up) {
            assert!((a.required.unwrap() - b.required.unwrap()).abs() < 1e-9);
        }
        assert!((up[3].required.unwrap() * 1000.0 - bookings).abs() < 1e-6);
        for v in down.iter().chain(&up) {
            assert!(v.low.unwrap() <= v.required.unwrap() + 1e-12);
            assert!(v.required.unwrap() <= v.high.unwrap() + 1e-12);
        }
    }

    #[test]
    fn zero_rate_nulls_what_divides_by_it() {
        // sql -> won is 0 of 5: going down divides by 0.
        let e = ev(&[10, 5, 5, 0]);
        let down = waterfall(&e, 3, Some(5.0));
        assert_eq!(down[0].required, None);
        assert_eq!(down[2].required, None);
        assert_eq!(down[3].required, Some(5.0));
        let up = waterfall(&e, 0, Some(100.0));
        assert_eq!(up[3].required, Some(0.0));
        // A rate of no leads (mql -> sql of 0 MQLs) nulls both directions.
        let e = ev(&[10, 0, 0, 0]);
        assert_eq!(waterfall(&e, 0, Some(100.0))[3].required, None);
        assert_eq!(waterfall(&e, 3, Some(5.0))[0].required, None);
    }

    #[test]
    fn coverage_money_and_score() {
        let (c, s, m) = coverage(Some(1500.0), Some(2000.0), Some(0.1), Some(500.0));
        assert_eq!((c, s, m), (Some(0.75), Some(500.0), Some(25_000.0)));
        assert_eq!(coverage(Some(3.0), Some(2.0), None, None).1, Some(0.0));
        assert_eq!(goal_alignment_score(&[0.75, 4.0 / 3.0]), Some(75.0));
        assert_eq!(goal_alignment_score(&[]), None);
    }

    #[test]
    fn percentile_and_unrealistic() {
        let h = [0.1, 0.2, 0.3, 0.4];
        assert_eq!(percentile(Some(0.25), &h), (Some(50.0), Some(false)));
        assert_eq!(percentile(Some(0.4), &h), (Some(100.0), Some(false)));
        assert_eq!(percentile(Some(0.41), &h), (Some(100.0), Some(true)));
        assert_eq!(percentile(Some(0.4), &[]), (None, None));
    }

    #[test]
    fn needed_by_rounds_down() {
        let d = |y, m, dd| crate::periods::micros_of_date(NaiveDate::from_ymd_opt(y, m, dd).unwrap());
        // Q1 2025: 90 days, midpoint 2025-02-15 00:00; minus 10.5 days.
        let nb = needed_by(d(2025, 1, 1), d(2025, 4, 1), Some(10.5)).unwrap();
        assert_eq!(nb, NaiveDate::from_ymd_opt(2025, 2, 4).unwrap());
    }
}
