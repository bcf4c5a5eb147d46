//! The seeded demo data generator: a realistic B2B company's leads,
//! opportunities, campaign spend and MRR, at any size, same seed same bytes.
//!
//! `revcycle demo` writes it to a folder ([`write_dir`]); `--demo` on the
//! analysis commands reads the small built-in set ([`builtin`]), generated at
//! run time from a fixed seed (no data files in the repository).
//!
//! # Designed properties (see `docs/demo.md`; the numbers live in `model.rs`)
//!
//! - Seven channels: Paid Search, Organic Search, Paid Social, Events,
//!   Referral, Outbound, Webinar; three segments (SMB, Mid-Market,
//!   Enterprise); ten reps, split by segment; lead volume grows 3.5% a month
//!   with seasonality, weekdays and business hours busier.
//! - Channel quality differs on purpose:
//!   - **Paid Social** is rich in MQLs (the largest MQL source: 70% of its
//!     leads become MQLs and its share grows from 16% to 28%) but poor in wins
//!     (16% of worked MQLs reach SQL, 10% win rate, smaller deals, losses and
//!     disqualifications mostly "Not a fit" / "No budget").
//!   - **Events** is slow to follow up: median response 96 h, 40% of its MQLs
//!     never contacted, and slow answers convert less (x0.5 beyond 72 h).
//!   - Referral is the best channel; Outbound skips MQL (SQL without MQL date).
//! - The mess of real CRMs: SQL without an MQL date (Outbound, fast-tracked
//!   demo requests), no SAL date on 15% of SQLs, contact before the MQL date
//!   (~12% of eligible worked MQLs), MQLs never contacted, response times
//!   from a minute to 45 days, disqualified leads with reasons, 0.4% of SQLs
//!   with an MQL date after the SQL date, 3% of paid leads without campaign,
//!   1% without lead source, 5% of deals without channel or segment (to be
//!   taken from their lead), early-stage open deals without amount.
//! - Opportunities: 88% of SQLs get one; 15% of lost ones come back with a
//!   second; deals with no lead (AE/partner-sourced, win-backs, all expansion
//!   and renewal deals); lognormal amounts by segment; stalled open deals;
//!   expansion (upsell) and renewal deals for customers.
//! - Revenue: MRR per customer account per month from the month after the
//!   win, with expansion, contraction (mid-term and at renewal), churn
//!   (mid-term and lost renewals) and reactivation (won win-backs).
//! - Everything dated at or after the export instant (first day after the
//!   last month) is absent; deals closing later are open with no close date.
//! - Touches (`touches.rs`): every lead's marketing journey (1 to 12
//!   touches, about 4), with a known causal effect per channel; the truth
//!   (conversions lost per channel when its touches are removed and the
//!   seed replayed) is written as `truth.csv`. Direct and Brand Search sit
//!   just before conversions and cause none.
//!
//! # Scale
//!
//! Rows are streamed month by month; memory does not grow with the number
//! of leads except one ~80-byte record per customer account (about 3.5% of
//! leads become customers: ~30 MB at ten million leads). A lead's touches
//! are drawn and written before the next lead.
//!
//! # Determinism
//!
//! A SplitMix64 generator of our own (`rng.rs`), so a dependency update
//! cannot change the bytes. Same options, same binary: same bytes. (The
//! lognormal draws use the platform's `ln`/`exp`/`cos`; a different libm
//! could in principle change a last digit.)

mod fmt;
mod model;
mod rng;
mod sim;
#[cfg(test)]
mod tests;
mod touches;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;

pub use model::{CHANNELS, OWNERS, SEGMENTS, TOUCH_CHANNELS};
pub use touches::{TOUCH_COLS, TRUTH_COLS};

/// Header style of the files written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headers {
    /// Canonical column names, `status` and `type` as canonical values, a
    /// `stage` column, ISO date-times `2024-01-31 14:05:00`.
    Canonical,
    /// Salesforce report headers ("Lead ID", "Create Date", "Stage", ...),
    /// Salesforce stage and type names, US dates `1/31/2024 2:05 PM`.
    Salesforce,
    /// HubSpot export headers ("Record ID", "Deal Stage", ...), HubSpot
    /// internal stage values, `2024-01-31 14:05`.
    Hubspot,
}

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of leads, exactly.
    pub leads: u64,
    pub seed: u64,
    /// Months of history: the first month starts at `start` (possibly
    /// mid-month), later months are whole calendar months.
    pub months: u32,
    pub start: NaiveDate,
    pub headers: Headers,
}

/// Where the five tables are written.
pub struct DemoSinks<W: Write> {
    pub leads: W,
    pub opportunities: W,
    pub campaigns: W,
    pub revenue: W,
    pub touches: W,
}

/// The known answer of the demo's touches: conversions (leads whose first
/// won new-business deal is in the data) and, per touch channel, how many of
/// them are lost when that channel's touches are removed and the same seed
/// is replayed (channels in `TOUCH_CHANNELS` order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Truth {
    pub conversions: u64,
    pub lost: Vec<(&'static str, u64)>,
}

/// Rows written per table, and a few counts of the simulation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoStats {
    pub leads: u64,
    pub opportunities: u64,
    pub campaign_rows: u64,
    pub revenue_rows: u64,
    pub touch_rows: u64,
    /// Accounts that became customers within the period.
    pub customers: u64,
    /// Churn events (an account may churn, come back and churn again).
    pub churned: u64,
    /// Churned accounts that came back.
    pub reactivated: u64,
    pub truth: Truth,
}

/// The built-in sample set, as CSV bytes per table (canonical headers).
pub struct BuiltinDemo {
    pub leads: Vec<u8>,
    pub opportunities: Vec<u8>,
    pub campaigns: Vec<u8>,
    pub revenue: Vec<u8>,
    /// `touches.csv` (canonical touches columns).
    pub touches: Vec<u8>,
    /// `truth.csv` (`channel,conversions_lost,share`), and the same as data.
    pub truth_csv: Vec<u8>,
    pub truth: Truth,
}

/// Generate the data set and write the five CSV streams (the truth is in the
/// returned stats; [`truth_csv`] formats it).
pub fn generate<W: Write>(opts: &DemoOptions, sinks: &mut DemoSinks<W>) -> Result<DemoStats> {
    sim::Sim::new(opts, sinks)?.run()
}

/// `truth.csv` of a run: one row per touch channel, most conversions lost
/// first; `share` is of the sum of conversions lost over channels.
pub fn truth_csv(truth: &Truth) -> Vec<u8> {
    touches::truth_csv(truth)
}

/// File names written by [`write_dir`], in table order, then the truth.
pub const FILE_NAMES: [&str; 6] = [
    "leads.csv",
    "opportunities.csv",
    "campaigns.csv",
    "revenue.csv",
    "touches.csv",
    "truth.csv",
];

/// Write `leads.csv`, `opportunities.csv`, `campaigns.csv`, `revenue.csv`,
/// `touches.csv` and `truth.csv` into `dir` (created if missing). Each file is written under a temporary
/// name in `dir` and renamed into place at the end, so an error leaves no
/// half-written file. Existing files are an error unless `force`.
pub fn write_dir(opts: &DemoOptions, dir: &Path, force: bool) -> Result<DemoStats> {
    if dir.exists() && !dir.is_dir() {
        bail!("`{}` is not a folder", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating folder `{}`", dir.display()))?;
    let finals: Vec<PathBuf> = FILE_NAMES.iter().map(|n| dir.join(n)).collect();
    if !force {
        let existing: Vec<&str> = FILE_NAMES
            .iter()
            .zip(&finals)
            .filter(|(_, p)| p.exists())
            .map(|(n, _)| *n)
            .collect();
        if !existing.is_empty() {
            bail!(
                "`{}` already holds {}; use --force to overwrite",
                dir.display(),
                existing.join(", ")
            );
        }
    }
    let temps: Vec<PathBuf> = FILE_NAMES
        .iter()
        .map(|n| dir.join(format!(".{n}.revcycle-tmp-{}", std::process::id())))
        .collect();
    let targets_path = dir.join(TARGETS_FILE);
    if !force && targets_path.exists() {
        bail!("`{}` already holds {TARGETS_FILE}; use --force to overwrite", dir.display());
    }
    let targets_temp = dir.join(format!(".{TARGETS_FILE}.revcycle-tmp-{}", std::process::id()));
    let result = write_temps(opts, &temps).and_then(|stats| {
        write_synced(&targets_temp, targets_for(opts).as_bytes())
            .with_context(|| format!("writing `{}`", targets_path.display()))?;
        std::fs::rename(&targets_temp, &targets_path)
            .with_context(|| format!("writing `{}`", targets_path.display()))?;
        for (t, f) in temps.iter().zip(&finals) {
            std::fs::rename(t, f).with_context(|| format!("writing `{}`", f.display()))?;
        }
        Ok(stats)
    });
    if result.is_err() {
        for t in temps.iter().chain([&targets_temp]) {
            let _ = std::fs::remove_file(t);
        }
    }
    result
}

/// `bytes` into a new file at `path`, synced to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

fn write_temps(opts: &DemoOptions, temps: &[PathBuf]) -> Result<DemoStats> {
    let open = |p: &PathBuf| -> Result<BufWriter<File>> {
        let f = File::create(p).with_context(|| format!("creating `{}`", p.display()))?;
        Ok(BufWriter::with_capacity(1 << 20, f))
    };
    let mut sinks = DemoSinks {
        leads: open(&temps[0])?,
        opportunities: open(&temps[1])?,
        campaigns: open(&temps[2])?,
        revenue: open(&temps[3])?,
        touches: open(&temps[4])?,
    };
    let stats = generate(opts, &mut sinks)?;
    let mut truth = open(&temps[5])?;
    truth
        .write_all(&truth_csv(&stats.truth))
        .with_context(|| format!("writing `{}`", temps[5].display()))?;
    for (w, p) in [
        sinks.leads,
        sinks.opportunities,
        sinks.campaigns,
        sinks.revenue,
        sinks.touches,
        truth,
    ]
    .into_iter()
    .zip(temps)
    {
        let f = w
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing `{}`", p.display()))?;
        f.sync_all()
            .with_context(|| format!("writing `{}`", p.display()))?;
    }
    Ok(stats)
}

/// The options of the built-in sample set: the defaults of `revcycle demo`
/// (5,000 leads, seed 42, 24 months from 2023-01-01, canonical headers), so
/// `revcycle demo --out DIR` writes exactly what `--demo` reads.
pub fn builtin_options() -> DemoOptions {
    DemoOptions {
        leads: 5000,
        seed: 42,
        months: 24,
        start: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default(),
        headers: Headers::Canonical,
    }
}

/// The built-in sample set, generated in memory (a few milliseconds).
pub fn builtin() -> BuiltinDemo {
    generate_in_memory(&builtin_options()).expect("the built-in demo options are valid")
}

/// Any demo set, generated in memory.
pub fn generate_in_memory(opts: &DemoOptions) -> Result<BuiltinDemo> {
    let mut sinks = DemoSinks {
        leads: Vec::new(),
        opportunities: Vec::new(),
        campaigns: Vec::new(),
        revenue: Vec::new(),
        touches: Vec::new(),
    };
    let stats = generate(opts, &mut sinks)?;
    Ok(BuiltinDemo {
        leads: sinks.leads,
        opportunities: sinks.opportunities,
        campaigns: sinks.campaigns,
        revenue: sinks.revenue,
        touches: sinks.touches,
        truth_csv: truth_csv(&stats.truth),
        truth: stats.truth,
    })
}

/// The built-in demo's targets (`revcycle plan --demo`): quarterly, for the
/// quarter in progress at the demo's `as_of` (2024-12-31) and the next one.
/// Marketing's MQL target for Q1 2025 falls short of what sales' bookings
/// quota needs (about 91% coverage); sales' Q4 2024 won-deals quota implies
/// an MQL-to-won rate above any quarter the demo company reached. See
/// docs/plan.md.
/// The file `revcycle demo --out` writes beside the tables: [`targets_for`].
pub const TARGETS_FILE: &str = "targets.csv";

/// The targets `revcycle demo --out` writes: the built-in story
/// ([`builtin_targets`]) for the quarter holding the data's last day and the
/// next quarter, its volumes scaled by the number of leads against the
/// built-in set's 5,000 (approximate for other `--months`). The built-in
/// options give exactly [`builtin_targets`].
pub fn targets_for(opts: &DemoOptions) -> String {
    use chrono::{Datelike, Months};
    let end = opts.start + Months::new(opts.months);
    let last = end.pred_opt().unwrap_or(end);
    let q = |d: NaiveDate| NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).unwrap_or(d);
    let this_q = q(last);
    let next_q = this_q + Months::new(3);
    let scale = opts.leads as f64 / builtin_options().leads as f64;
    let n = |v: f64| format!("{}", (v * scale).round().max(1.0) as u64);
    format!(
        "period,metric,target,owner\n{a},mqls,{},marketing\n{a},won_deals,{},sales\n{b},mqls,{},marketing\n{b},new_bookings,{},sales\n",
        n(450.0),
        n(60.0),
        n(480.0),
        n(1_450_000.0),
        a = this_q.format("%Y-%m-%d"),
        b = next_q.format("%Y-%m-%d"),
    )
}

pub fn builtin_targets() -> &'static str {
    "period,metric,target,owner\n\
     2024-10-01,mqls,450,marketing\n\
     2024-10-01,won_deals,60,sales\n\
     2025-01-01,mqls,480,marketing\n\
     2025-01-01,new_bookings,1450000,sales\n"
}
