//! `revcycle cycle`.

use std::process::ExitCode;

use crate::cli::AnalysisCmd;
use crate::Ctx;

pub fn run(_cmd: &AnalysisCmd, _ctx: Ctx) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`revcycle cycle` is not built yet")
}
