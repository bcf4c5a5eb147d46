//! `revcycle init`.

use std::process::ExitCode;

use crate::cli::InitCmd;
use crate::Ctx;

pub fn run(_cmd: &InitCmd, _ctx: Ctx) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`revcycle init` is not built yet")
}
