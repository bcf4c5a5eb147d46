//! One module per subcommand, each with `pub fn run(...)`.

use std::process::ExitCode;

use crate::cli::Command;
use crate::Ctx;

pub mod attribution;
pub mod check;
pub mod common;
pub mod completions;
pub mod cycle;
pub mod demo;
pub mod funnel;
pub mod init;
pub mod kpis;
pub mod man;
pub mod metrics;
pub mod misalignment;
pub mod plan;
pub mod report;
pub mod validate;

pub fn run(command: Command, ctx: Ctx) -> anyhow::Result<ExitCode> {
    match command {
        Command::Kpis(c) => kpis::run(&c, ctx),
        Command::Funnel(c) => funnel::run(&c, ctx),
        Command::Cycle(c) => cycle::run(&c, ctx),
        Command::Misalignment(c) => misalignment::run(&c, ctx),
        Command::Attribution(c) => attribution::run(&c, ctx),
        Command::Report(c) => report::run(&c, ctx),
        Command::Check(c) => check::run(&c, ctx),
        Command::Plan(c) => plan::run(&c, ctx),
        Command::Validate(c) => validate::run(&c, ctx),
        Command::Demo(c) => demo::run(&c, ctx),
        Command::Init(c) => init::run(&c, ctx),
        Command::Metrics(c) => metrics::run(&c, ctx),
        Command::Completions(c) => completions::run(&c, ctx),
        Command::Man(c) => man::run(&c, ctx),
    }
}

/// Write a finished text to `-o FILE` (atomically) or to standard output.
pub fn write_output(path: Option<&std::path::Path>, bytes: &[u8], _ctx: Ctx) -> anyhow::Result<()> {
    match path {
        Some(p) if p != std::path::Path::new("-") => crate::output::write_atomic(p, bytes),
        _ => crate::output::write_stdout(bytes),
    }
}
