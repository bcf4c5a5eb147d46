//! revcycle's integration tests: one test binary (polars links once).

mod util;

mod architecture;
mod bad_input;
mod attribution;
mod check;
mod cli_docs;
mod cycle;
mod datasets;
mod demo;
mod expected;
mod formats;
mod golden;
mod init;
mod kpis;
mod loader;
mod misalignment;
mod output;
mod plan;
mod presets;
mod report;
mod report_html;
mod snapshots;
mod spill;
mod trust_input;
mod trust_metrics;
mod trust_output;
