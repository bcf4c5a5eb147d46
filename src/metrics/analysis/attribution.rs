//! One attribution run for `revcycle attribution`, `report` and `check`:
//! gather the touches and conversions, credit them under the chosen models
//! and build the long rows (the contract's columns). The engine itself is
//! `metrics::attribution`; the command's views are `cmd::attribution`.

use anyhow::{bail, Result};
use polars::prelude::*;

use crate::metrics::attribution::channel::Rules;
use crate::metrics::attribution::gather::{gather, Gathered};
use crate::metrics::attribution::{self, By, CreditKind, Model, Settings, US_PER_DAY};
use crate::metrics::common::earliest_row_date;
use crate::metrics::kinds::round_money;
use crate::metrics::periods::PeriodSpec;
use crate::model::{Dataset, Touches};
use crate::settings::Analysis;

/// The one-touch note (no touches table).
pub const ONE_TOUCH_NOTE: &str =
    "no touches table: every lead has one touch (its own created_at/channel/campaign); all models agree";

/// Everything one attribution run computed, for the command, `report` and `check`.
pub struct Run {
    pub gathered: Gathered,
    pub result: attribution::Attribution,
    pub models: Vec<Model>,
    pub by: By,
    pub credit: CreditKind,
    pub spec: PeriodSpec,
    /// The long rows as a frame (the contract's columns).
    pub rows: DataFrame,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// Options of one run (the command's flags, or `report`'s and `check`'s defaults).
#[derive(Debug, Clone)]
pub struct Options {
    pub models: Vec<Model>,
    pub credit: CreditKind,
    pub by: By,
    pub lookback_days: u32,
    pub half_life_days: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            models: Model::ALL.to_vec(),
            credit: CreditKind::Won,
            by: By::Channel,
            lookback_days: 365,
            half_life_days: 7.0,
        }
    }
}

/// Gather, run the engine and build the long frame, on a copy of the
/// dataset's touches (`check`, which runs several; the commands that run
/// one take the touches out of the dataset: `compute_owned`).
pub fn compute(
    ds: &Dataset,
    a: &Analysis,
    cfg: &crate::config::Config,
    o: &Options,
) -> Result<Run> {
    compute_owned(ds, ds.touches.clone(), a, cfg, o)
}

/// `compute` on `touches` (the dataset's, taken out of it: `ds.touches` is
/// not read), consumed by gathering: their rows become the engine's in
/// place, so the touches are never held twice.
pub fn compute_owned(
    ds: &Dataset,
    touches: Option<Touches>,
    a: &Analysis,
    cfg: &crate::config::Config,
    o: &Options,
) -> Result<Run> {
    if ds.leads.is_none() {
        bail!("attribution needs a leads table (leads.* in the folder, or --leads FILE)");
    }
    if !(o.half_life_days > 0.0 && o.half_life_days.is_finite()) {
        bail!("--half-life-days must be a positive number of days");
    }
    let rules = Rules::new(&cfg.touches.channel_rules)
        .map_err(|e| anyhow::anyhow!("[touches.channel_rules]: {e}"))?;
    let first = earliest_row_date(ds)?.unwrap_or(ds.as_of);
    let spec = PeriodSpec::new(a.period, a.fiscal_year_start, first);
    let periods = spec.grid(first, ds.as_of, a.from, a.to);
    let engine = engine_options()?;
    let mut gathered = gather(ds, touches, &spec, &periods, o.by, o.credit, &rules)?;
    let mut s = Settings::new(ds.as_of);
    s.by = o.by;
    s.credit = o.credit;
    s.lookback = o.lookback_days as i64 * US_PER_DAY;
    s.half_life = (o.half_life_days * US_PER_DAY as f64).round() as i64;
    // The compact input is not kept in the run (`check` keeps several runs).
    let input = std::mem::take(&mut gathered.input);
    let result = attribution::attribute_compact(&input, &s, &o.models, &engine);
    drop(input);
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    if !gathered.has_touches {
        notes.push(ONE_TOUCH_NOTE.to_string());
    }
    if result.shapley_fallbacks > 0 {
        warnings.push(format!(
            "shapley: {} conversion(s) whose path has more than {} distinct units got their linear credit (exact Shapley values would take 2^k coalitions)",
            result.shapley_fallbacks,
            attribution::shapley::MAX_EXACT
        ));
    }
    if gathered.has_touches && result.fallback_paths > 0 {
        notes.push(format!(
            "{} conversion(s) had no touch in their {}-day window and were credited to their lead's own channel/campaign",
            result.fallback_paths, o.lookback_days
        ));
    }
    let rows = rows_frame(&result, &spec, o.by)?;
    Ok(Run {
        gathered,
        result,
        models: o.models.clone(),
        by: o.by,
        credit: o.credit,
        spec,
        rows,
        notes,
        warnings,
    })
}

/// A hidden setting for tests and tuning: leads per chunk of the engine
/// (`docs/attribution.md`, "How the engine scales"). The output does not
/// depend on it.
pub const CHUNK_VAR: &str = "REVCYCLE_ATTRIB_CHUNK";

/// The engine's options from the environment (`REVCYCLE_ATTRIB_CHUNK`).
pub fn engine_options() -> Result<attribution::EngineOptions> {
    let mut o = attribution::EngineOptions::default();
    if let Ok(text) = std::env::var(CHUNK_VAR) {
        let text = text.trim();
        if !text.is_empty() {
            o.chunk = match text.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => bail!(
                    "environment variable {CHUNK_VAR}: `{}` is not a positive whole number of leads",
                    crate::shown(text)
                ),
            };
        }
    }
    Ok(o)
}

pub fn unit_column(by: By) -> &'static str {
    match by {
        By::Channel => "channel",
        By::Campaign => "campaign_id",
    }
}

fn rows_frame(r: &attribution::Attribution, spec: &PeriodSpec, by: By) -> Result<DataFrame> {
    let rows = &r.rows;
    let period: Vec<String> = rows
        .iter()
        .map(|x| spec.start_date(x.period).to_string())
        .collect();
    let unit: Vec<&str> = rows.iter().map(|x| &*x.unit).collect();
    let model: Vec<&str> = rows.iter().map(|x| x.model.name()).collect();
    let f = |g: fn(&attribution::Row) -> Option<f64>| -> Vec<Option<f64>> {
        rows.iter().map(g).collect()
    };
    let df = DataFrame::new_infer_height(vec![
        Column::new("period".into(), period),
        Column::new(unit_column(by).into(), unit),
        Column::new("model".into(), model),
        Column::new("conversions".into(), f(|x| Some(x.conversions))),
        // Money as printed elsewhere: the nearest millionth.
        Column::new("value".into(), f(|x| Some(round_money(x.value)))),
        Column::new("share".into(), f(|x| x.share)),
        Column::new("spend".into(), f(|x| x.spend.map(round_money))),
        Column::new("cost_per_conversion".into(), f(|x| x.cost_per_conversion)),
        Column::new("roas".into(), f(|x| x.roas)),
    ])?;
    Ok(df)
}
