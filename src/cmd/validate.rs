//! `revcycle validate`.

use std::process::ExitCode;

use crate::cli::ValidateCmd;
use crate::Ctx;

pub fn run(_cmd: &ValidateCmd, _ctx: Ctx) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`revcycle validate` is not built yet")
}
