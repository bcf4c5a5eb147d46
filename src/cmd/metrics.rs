//! `revcycle metrics`: every metric id of the registry with its kind, the
//! table and command that compute it, the inputs it needs and its formula
//! (what `dbt ls` is to dbt). Needs no data.

use std::process::ExitCode;

use polars::prelude::*;

use crate::cli::MetricsCmd;
use crate::errors::PolarsCtx;
use crate::metrics::registry::METRICS;
use crate::output::{self, Document, Section};
use crate::Ctx;

/// The registry as a frame: `id`, `kind`, `table`, `command`, `inputs`,
/// `formula`, one row per (id, command), in registry order.
pub fn frame() -> anyhow::Result<DataFrame> {
    let col = |name: &str, v: Vec<String>| Column::new(name.into(), v);
    let ids = METRICS.iter().map(|d| d.id.to_string()).collect();
    let kinds = METRICS
        .iter()
        .map(|d| d.kind().name().to_string())
        .collect();
    let tables = METRICS.iter().map(|d| table_of(d.command, d.id)).collect();
    let commands = METRICS.iter().map(|d| d.command.to_string()).collect();
    let inputs = METRICS.iter().map(|d| d.inputs()).collect();
    let formulas = METRICS.iter().map(|d| d.formula()).collect();
    DataFrame::new_infer_height(vec![
        col("id", ids),
        col("kind", kinds),
        col("table", tables),
        col("command", commands),
        col("inputs", inputs),
        col("formula", formulas),
    ])
    .ctx("building the metric list")
}

/// The output table a metric is a column of (the `report` folder's file).
fn table_of(command: &str, id: &str) -> String {
    match command {
        "misalignment" if crate::metrics::misalignment::ALIGNMENT_IDS.contains(&id) => {
            "misalignment, alignment".into()
        }
        c => c.to_string(),
    }
}

pub fn run(cmd: &MetricsCmd, ctx: Ctx) -> anyhow::Result<ExitCode> {
    let opts = crate::cmd::common::output_options(&cmd.output, ctx.quiet, "");
    let doc = Document::single(Section::new("metrics", frame()?));
    output::emit(&doc, &opts)?;
    Ok(ExitCode::SUCCESS)
}
