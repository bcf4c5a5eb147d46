//! What sales and marketing misalignment costs, and the alignment score
//! (`docs/metrics.md`, "Misalignment cost" and "Alignment score";
//! formulas as implemented in `docs/metrics.md`).
//!
//! Split by job: `gather` (polars: reached flags, response hours, buckets,
//! counts, sums per group), `compute` (plain Rust arithmetic on the handful
//! of aggregated numbers per group, into a typed row), `frame` (the output
//! frames, the one list of columns) and `notes` (notes and assumptions as
//! data).

mod compute;
mod frame;
mod gather;
mod notes;

use anyhow::Result;
use polars::prelude::*;

use crate::errors::PolarsCtx;

pub use compute::Money;

use std::collections::BTreeMap;

use crate::metrics::shared::Shared;
use crate::model::Dataset;
use crate::periods::{PeriodKind, PeriodSpec};
use crate::settings::{Analysis, Dimension};

/// z of the two-sided 95% Wilson interval.
pub const Z: f64 = 1.959963984540054;

/// Response-time threshold of `speed_component`, in hours (fixed by the spec).
pub const SPEED_HOURS: f64 = 24.0;

/// The group key used when there is no `--by`.
const ALL: &str = "(all)";
const G: &str = "__g";

/// The result of `revcycle misalignment`.
#[derive(Debug, Clone)]
pub struct Misalignment {
    /// One row for the range, or one per `--by` value (first column named by
    /// the dimension). Columns: see `columns()` / docs/metrics.md.
    pub frame: DataFrame,
    /// Per group x response-time bucket: `bucket`, `n`, `sql_reached`, `q`,
    /// `q_low`, `q_high`, `role` (`base`, `faster`, `slower`), `lost_revenue`,
    /// `lost_revenue_low`, `lost_revenue_high`.
    pub buckets: DataFrame,
    /// Every assumption, as (name, value).
    pub assumptions: Vec<(String, String)>,
    /// Why a value is null, and other caveats, one sentence each.
    pub notes: Vec<String>,
    /// The `--by` dimension (None for the whole range).
    pub by: Option<Dimension>,
    /// Labels of the response-time buckets, fastest first ("<= 1h", ..., "> 72h").
    pub bucket_labels: Vec<String>,
    /// Upper bounds of the response-time buckets in hours (`response_buckets_hours`).
    pub bucket_bounds: Vec<f64>,
    /// Without `--by`: the key figures per channel (`channel`,
    /// `misalignment_cost`, `speed_component`, `followup_component`,
    /// `mqls_reached`, `won_deals`, `new_bookings`), so that the explanation
    /// can name the channel slowest to follow up and the one rich in MQLs but
    /// poor in wins. None with `--by` or when no channel is known.
    pub channels: Option<DataFrame>,
    /// The five money components of `misalignment_cost` of the first row
    /// (the whole range without `--by`), in `COST_COMPONENTS` order, with
    /// their low/high variants (null when the component cannot be computed).
    pub components: Vec<Component>,
}

/// One money component of `misalignment_cost` and its 95% range.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub id: &'static str,
    pub value: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// The five money components that add up to `misalignment_cost`, in spec order.
pub const COST_COMPONENTS: [&str; 5] = [
    "unworked_mql_lost_revenue",
    "unworked_mql_wasted_spend",
    "slow_followup_lost_revenue",
    "rejected_mql_wasted_spend",
    "misfit_lost_pipeline",
];

/// The spec ids, in spec order (the first columns after the dimension).
pub const SPEC_IDS: [&str; 19] = [
    "worked_mql_win_rate",
    "unworked_mqls",
    "unworked_mql_lost_revenue",
    "unworked_mql_wasted_spend",
    "slow_followup_lost_revenue",
    "rejected_mqls",
    "rejected_mql_wasted_spend",
    "misfit_lost_pipeline",
    "misalignment_cost",
    "misalignment_cost_low",
    "misalignment_cost_high",
    "misalignment_cost_share",
    "alignment_uplift_scenario",
    "alignment_score",
    "followup_component",
    "speed_component",
    "acceptance_component",
    "icp_component",
    "channel_component",
];

/// `alignment_score` and its five components: the tail of [`SPEC_IDS`].
pub const ALIGNMENT_IDS: &[&str] = SPEC_IDS.split_at(13).1;

/// The five components of `alignment_score`.
pub const SCORE_COMPONENTS: &[&str] = SPEC_IDS.split_at(14).1;

/// The 95% Wilson interval of k successes in n trials, clipped to [0, 1];
/// None when n is 0.
pub fn wilson(k: f64, n: f64) -> Option<(f64, f64)> {
    if n <= 0.0 {
        return None;
    }
    let p = k / n;
    let z2 = Z * Z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some((
        (center - half).clamp(0.0, 1.0),
        (center + half).clamp(0.0, 1.0),
    ))
}

/// A measured share k / n with its Wilson interval.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rate {
    pub k: i64,
    pub n: i64,
}

impl Rate {
    pub fn value(self) -> Option<f64> {
        (self.n > 0).then(|| self.k as f64 / self.n as f64)
    }
    pub fn low(self) -> Option<f64> {
        wilson(self.k as f64, self.n as f64).map(|b| b.0)
    }
    pub fn high(self) -> Option<f64> {
        wilson(self.k as f64, self.n as f64).map(|b| b.1)
    }
}

/// Label of bucket `i` of `bounds` ("<= 1h", ..., "> 72h").
pub fn bucket_label(bounds: &[f64], i: usize) -> String {
    if i < bounds.len() {
        format!("<= {}h", fmt_num(bounds[i]))
    } else {
        format!(
            "> {}h",
            bounds
                .last()
                .map(|b| fmt_num(*b))
                .unwrap_or_else(|| "0".into())
        )
    }
}

/// Column-name stem of bucket `i` ("bucket_le_1h", ..., "bucket_gt_72h").
pub fn bucket_stem(bounds: &[f64], i: usize) -> String {
    if i < bounds.len() {
        format!("bucket_le_{}h", fmt_num(bounds[i]))
    } else {
        format!(
            "bucket_gt_{}h",
            bounds
                .last()
                .map(|b| fmt_num(*b))
                .unwrap_or_else(|| "0".into())
        )
    }
}

pub(crate) fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The analysed range as [start, end) in microseconds: with `--from`/`--to`,
/// the `--period` periods overlapping [from, to] (from the first instant of
/// from's period to the end of to's period); with `--period all`, exactly
/// [from, to]. `None` = unbounded on that side.
pub fn range_bounds(a: &Analysis) -> (Option<i64>, Option<i64>) {
    let spec = PeriodSpec::new(a.period, a.fiscal_year_start, 0);
    if a.period == PeriodKind::All {
        return (a.from, a.to.map(|t| t.saturating_add(1)));
    }
    (
        a.from.map(|f| spec.start(spec.index_of(f))),
        a.to.map(|t| spec.end(spec.index_of(t))),
    )
}

/// Computes the misalignment cost and the alignment score over the range
/// `[a.from, a.to]` (all data when unset), split by `a.by` when given.
pub fn misalignment(ds: &Dataset, a: &Analysis) -> Result<Misalignment> {
    misalignment_from(ds, a, &gathered(&Shared::tables(ds), a)?)
}

/// The polars half of [`misalignment`] for `a`: the counts and sums of every
/// group, gathered by `a.by`, or without it by channel when a channel is
/// known (the explanation names channels; the whole range is their sum).
pub struct Gathered {
    /// The dimension the groups are split by.
    by: Option<Dimension>,
    av: gather::Avail,
    groups: BTreeMap<String, gather::Group>,
}

impl Gathered {
    /// Whether [`misalignment_from`] can compute `a` from these groups: the
    /// same split, or (the whole range) the channel split it adds up. The
    /// other settings (range, SLA, buckets) are the caller's to keep equal.
    pub fn serves(&self, a: &Analysis) -> bool {
        match a.by {
            Some(by) => self.by == Some(by),
            None => self.by == (if self.av.channel { Some(Dimension::Channel) } else { None }),
        }
    }
}

/// Gathers the groups [`misalignment_from`] reads for `a` (see [`Gathered`]).
pub fn gathered(shared: &Shared, a: &Analysis) -> Result<Gathered> {
    let ds = shared.dataset();
    let av = gather::avail(ds, a.by)?;
    // Without `--by`, the explanation names channels: gather once by channel
    // and add the channels up into the total (every gathered figure is a
    // count or a money sum), rather than reading the data twice.
    let by = if a.by.is_none() && av.channel {
        Some(Dimension::Channel)
    } else {
        a.by
    };
    let split = Analysis { by, ..a.clone() };
    let groups = gather::gather(shared, &split, &av)?;
    Ok(Gathered { by, av, groups })
}

/// The arithmetic of [`misalignment`] on groups gathered for `a` (see
/// [`Gathered::serves`]).
pub fn misalignment_from(ds: &Dataset, a: &Analysis, g: &Gathered) -> Result<Misalignment> {
    if !g.serves(a) {
        anyhow::bail!("misalignment: groups gathered for another split");
    }
    let bounds: Vec<f64> = a.response_buckets_hours.clone();
    let nb = bounds.len() + 1;
    let av = &g.av;
    let by_channel = a.by.is_none() && g.by.is_some();
    let total;
    let (groups, channels) = if by_channel {
        let ach = Analysis {
            by: Some(Dimension::Channel),
            ..a.clone()
        };
        let channels = channel_figures(&g.groups, av, &ach)?;
        let mut t = BTreeMap::new();
        t.insert(ALL.to_string(), gather::total_of(&g.groups, nb));
        total = t;
        (&total, Some(channels))
    } else {
        (&g.groups, None)
    };
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    let mut bucket_rows = Vec::new();
    for (key, grp) in groups {
        let prefix = match a.by {
            Some(by) => format!("{} {}: ", by.name(), key),
            None => String::new(),
        };
        let (row, brs) = compute::compute_group(grp, av, a, &bounds, &prefix, &mut notes);
        rows.push((key.clone(), row));
        bucket_rows.push((key.clone(), brs));
    }
    notes::dataset_notes(av, a, &mut notes);
    let parts = match rows.first() {
        Some((_, r)) => [
            r.unworked_mql_lost_revenue,
            r.unworked_mql_wasted_spend,
            r.slow_followup_lost_revenue,
            r.rejected_mql_wasted_spend,
            r.misfit_lost_pipeline,
        ],
        None => [None; 5],
    };
    let components: Vec<Component> = COST_COMPONENTS
        .iter()
        .zip(parts)
        .map(|(id, m)| Component {
            id,
            value: m.map(|m| m.v),
            low: m.map(|m| m.lo),
            high: m.map(|m| m.hi),
        })
        .collect();
    let frame = av
        .registry
        .null_unavailable("misalignment", frame::build_frame(&rows, a.by, &bounds)?)?;
    let components = components
        .into_iter()
        .map(|c| {
            // A component the registry calls unavailable is null in the frame: here too.
            let shown = frame.height() > 0
                && frame
                    .column(c.id)
                    .ok()
                    .and_then(|s| s.cast(&DataType::Float64).ok())
                    .and_then(|s| s.f64().ok().and_then(|f| f.get(0)))
                    .is_some();
            if shown {
                c
            } else {
                Component {
                    value: None,
                    low: None,
                    high: None,
                    ..c
                }
            }
        })
        .collect();
    let buckets = frame::build_buckets(&bucket_rows, a.by)?;
    Ok(Misalignment {
        frame,
        buckets,
        assumptions: notes::assumptions(a, ds.as_of),
        notes,
        by: a.by,
        bucket_labels: (0..nb).map(|i| bucket_label(&bounds, i)).collect(),
        bucket_bounds: bounds.clone(),
        channels,
        components,
    })
}

/// The key figures per channel (see [`Misalignment::channels`]): the same
/// arithmetic split by channel, without notes.
/// `groups` is the gather split by channel, `a` the analysis with `by: channel`
/// (the availability of a channel split is that of the whole range).
fn channel_figures(
    groups: &BTreeMap<String, gather::Group>,
    av: &gather::Avail,
    a: &Analysis,
) -> Result<DataFrame> {
    let bounds = &a.response_buckets_hours;
    let mut discarded = Vec::new();
    let rows: Vec<_> = groups
        .iter()
        .map(|(key, g)| {
            let (row, _) = compute::compute_group(g, av, a, bounds, "", &mut discarded);
            (key.clone(), row)
        })
        .collect();
    av.registry
        .null_unavailable("misalignment", frame::build_frame(&rows, a.by, bounds)?)?
        .select([
            "channel",
            "misalignment_cost",
            "speed_component",
            "followup_component",
            "mqls_reached",
            "won_deals",
            "new_bookings",
        ])
        .ctx("per-channel key figures")
}

impl Misalignment {
    /// The assumptions as a two-column frame (`assumption`, `value`), for
    /// JSON output beside the result.
    pub fn assumptions_frame(&self) -> Result<DataFrame> {
        let names: Vec<String> = self.assumptions.iter().map(|(k, _)| k.clone()).collect();
        let values: Vec<String> = self.assumptions.iter().map(|(_, v)| v.clone()).collect();
        DataFrame::new_infer_height(vec![
            Series::new("assumption".into(), names).into_column(),
            Series::new("value".into(), values).into_column(),
        ])
        .ctx("building the assumptions table")
    }
}

/// Output column names in order (after the dimension column): the columns
/// `frame.rs` builds.
pub fn columns(bounds: &[f64]) -> Vec<String> {
    frame::build_frame(&[], None, bounds)
        .map(|df| {
            df.get_column_names()
                .into_iter()
                .map(|s| s.to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
