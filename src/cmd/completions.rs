//! `revcycle completions SHELL`: shell completions generated from the clap
//! definitions (clap_complete), printed to standard output.

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsCmd};
use crate::Ctx;

pub fn run(c: &CompletionsCmd, ctx: Ctx) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(c.shell, &mut cmd, "revcycle", &mut buf);
    super::write_output(None, &buf, ctx)?;
    Ok(ExitCode::SUCCESS)
}
