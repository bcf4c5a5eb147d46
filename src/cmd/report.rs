//! `revcycle report`.

use std::process::ExitCode;

use crate::cli::ReportCmd;
use crate::Ctx;

pub fn run(_cmd: &ReportCmd, _ctx: Ctx) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`revcycle report` is not built yet")
}
