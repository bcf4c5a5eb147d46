//! `revcycle check`.

use std::process::ExitCode;

use crate::cli::CheckCmd;
use crate::Ctx;

pub fn run(_cmd: &CheckCmd, _ctx: Ctx) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`revcycle check` is not built yet")
}
