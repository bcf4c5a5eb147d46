//! Multi-touch attribution engine (issue 12, `docs/attribution.md`): credits
//! each conversion to the units (channels or campaigns) on its lead's touch
//! path under eight models, and joins the credit to spend.
//!
//! Pure Rust over plain structs, no polars: gathering these structs from the
//! loaded tables is a separate step. The jobs are split by file: `compact`
//! (the interned, 16-bytes-a-touch input), `engine` (the passes over the
//! leads, chunk by chunk, into accumulators), `paths` (windows, tie order,
//! fallback, path shapes), `models` (the rule-based models), `markov`
//! (absorbing chain, removal effects), `shapley` (games over unit sets),
//! `aggregate` (credited totals to output rows) and `exact` (sums that do not
//! depend on the order or batching of their terms).

use std::sync::{Arc, OnceLock};

pub mod aggregate;
pub mod channel;
pub mod compact;
pub mod engine;
pub mod exact;
pub mod gather;
pub use crate::hash;
pub mod markov;
pub mod models;
pub mod paths;
pub mod shapley;

#[cfg(test)]
mod tests;

pub use aggregate::{Row, SpendRow};
pub use compact::Compact;
pub use engine::{attribute_compact, EngineOptions};
pub use markov::Markov;
pub use models::Step;

/// `(none)`: the unit of a touch without channel (or campaign under `--by campaign`).
pub const NONE_UNIT: &str = "(none)";

/// A channel, campaign or touch type: shared text, so that millions of
/// touches and path steps hold a pointer each, not a copy (the gathering
/// step can intern every distinct value once).
pub type Name = Arc<str>;

/// `NONE_UNIT` as a shared `Name`.
pub fn none_unit() -> Name {
    static NONE: OnceLock<Name> = OnceLock::new();
    NONE.get_or_init(|| Arc::from(NONE_UNIT)).clone()
}

/// The attribution models, in the contract's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Model {
    FirstTouch,
    LastTouch,
    Linear,
    TimeDecay,
    Position,
    WShaped,
    Markov,
    Shapley,
}

impl Model {
    pub const ALL: [Model; 8] = [
        Model::FirstTouch,
        Model::LastTouch,
        Model::Linear,
        Model::TimeDecay,
        Model::Position,
        Model::WShaped,
        Model::Markov,
        Model::Shapley,
    ];

    /// The model's id, as written in the output's `model` column.
    pub fn name(self) -> &'static str {
        match self {
            Model::FirstTouch => "first_touch",
            Model::LastTouch => "last_touch",
            Model::Linear => "linear",
            Model::TimeDecay => "time_decay",
            Model::Position => "position",
            Model::WShaped => "w_shaped",
            Model::Markov => "markov",
            Model::Shapley => "shapley",
        }
    }

    pub fn from_name(s: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// What is credited (`--credit`). Only `Mql` changes the arithmetic here
/// (`roas` is null); the gatherer decides instants and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditKind {
    Won,
    Opportunity,
    Mql,
}

/// The unit credited (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Channel,
    Campaign,
}

/// One loaded lead: what its fallback path is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    pub id: String,
    /// `created_at`, microseconds since the epoch (UTC).
    pub created_at: i64,
    /// Resolved channel (its own, else its campaign's); empty when unknown.
    pub channel: Name,
    /// `campaign_id` as written; empty when none.
    pub campaign_id: Name,
}

/// One marketing touch.
#[derive(Debug, Clone, PartialEq)]
pub struct Touch {
    /// Index of the touch's lead in `Input::leads` (out of range: the touch is left out).
    pub lead: usize,
    /// `touched_at`, microseconds since the epoch (UTC).
    pub at: i64,
    /// Resolved channel (as written, else campaign's, else from source/medium); empty when unknown.
    pub channel: Name,
    pub campaign_id: Name,
    pub touch_type: Name,
    /// Input order (file order), the last tie-breaker.
    pub order: u64,
}

/// One credited conversion (a won deal, an opportunity or an MQL).
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// Deal id (or lead id for `mql`): orders a lead's conversions with equal instants.
    pub id: String,
    /// Index of the converting lead in `Input::leads` (must be a valid index).
    pub lead: usize,
    /// The conversion's instant (close date, opportunity creation, MQL date).
    pub instant: i64,
    /// Value credited (amount, 0 when empty; 1 for `mql`).
    pub value: f64,
    /// The credited deal's `created_at` (W-shaped's third key); None for `mql`.
    pub opp_created_at: Option<i64>,
    /// Index of the reported period of `instant`.
    pub period: i64,
}

/// Everything the engine reads, as plain structs (tests and small callers;
/// the engine runs on its `compact` form).
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub leads: Vec<Lead>,
    pub touches: Vec<Touch>,
    pub conversions: Vec<Conversion>,
    /// Reported periods, in output order.
    pub periods: Vec<i64>,
    /// Spend per (period, unit); None when no campaigns table is loaded.
    pub spend: Option<Vec<SpendRow>>,
}

/// Resolved settings of one run.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub by: By,
    pub credit: CreditKind,
    /// `lookback_days` in microseconds.
    pub lookback: i64,
    /// `half_life_days` in microseconds.
    pub half_life: i64,
    /// The snapshot instant: non-converting leads' paths end here.
    pub as_of: i64,
}

pub use crate::periods::US_PER_DAY;

impl Settings {
    /// The contract's defaults: by channel, `won`, lookback 365 days, half-life 7 days.
    pub fn new(as_of: i64) -> Settings {
        Settings {
            by: By::Channel,
            credit: CreditKind::Won,
            lookback: 365 * US_PER_DAY,
            half_life: 7 * US_PER_DAY,
            as_of,
        }
    }
}

/// One conversion's credit under one model: (unit, fraction of the
/// conversion), units in byte order, fractions summing to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Credit {
    pub conversion: usize,
    pub units: Vec<(Name, f64)>,
}

/// The engine's result: output rows and what goes beside them.
#[derive(Debug, Clone)]
pub struct Attribution {
    pub rows: Vec<Row>,
    /// Per-conversion credits, per model (same order as the models asked);
    /// empty unless `EngineOptions::keep_credits`.
    pub credits: Vec<(Model, Vec<Credit>)>,
    /// The Markov chain: P and the removal effect of every output unit.
    pub markov: Markov,
    /// Removal effect per output unit (null when P = 0), units in byte order.
    pub removal_effects: Vec<(Name, Option<f64>)>,
    /// Conversions whose path had more than `shapley::MAX_EXACT` distinct
    /// units and got their `linear` credit under `shapley`.
    pub shapley_fallbacks: usize,
    /// Conversions credited through the fallback one-touch path.
    pub fallback_paths: usize,
    /// Every lead path (population of Markov and Shapley) by shape, most common first.
    pub paths: Vec<paths::PathShape>,
}

/// Run the engine on plain structs, keeping every per-conversion credit.
pub fn attribute(input: &Input, s: &Settings, models: &[Model]) -> Attribution {
    let o = EngineOptions {
        keep_credits: true,
        ..EngineOptions::default()
    };
    attribute_compact(&input.compact(), s, models, &o)
}
