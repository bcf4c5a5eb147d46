//! Pure metric computations: each takes a `Dataset` and resolved `Analysis`
//! settings and returns polars frames whose columns are the metric ids of
//! `docs/metrics.md`. Nothing here prints.

pub mod analysis;
pub mod attribution;
pub mod common;
pub mod frames;
pub mod cycle;
pub mod funnel;
pub mod kinds;
pub mod kpis;
pub mod misalignment;
/// Periods moved below every layer (`crate::periods`); this path stays for
/// code written against it.
pub use crate::periods;
pub mod plan;
pub mod registry;
pub mod retention;
pub mod shared;
#[cfg(test)]
pub mod testutil;
