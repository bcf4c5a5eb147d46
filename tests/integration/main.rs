//! revcycle's integration tests: one test binary (polars links once).

mod util;

mod bad_input;
mod check;
mod cycle;
mod datasets;
mod demo;
mod expected;
mod formats;
mod init;
mod kpis;
mod misalignment;
mod output;
mod presets;
mod report;
mod snapshots;
mod trust_input;
