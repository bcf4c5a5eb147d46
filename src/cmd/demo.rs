//! `revcycle demo`.

use std::process::ExitCode;

use crate::cli::DemoCmd;
use crate::Ctx;

pub fn run(_cmd: &DemoCmd, _ctx: Ctx) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`revcycle demo` is not built yet")
}
