//! One module per subcommand, each with `pub fn run(...)`.

use std::process::ExitCode;

use crate::cli::Command;
use crate::Ctx;

pub mod check;
pub mod common;
pub mod cycle;
pub mod demo;
pub mod funnel;
pub mod init;
pub mod kpis;
pub mod misalignment;
pub mod report;
pub mod validate;

pub fn run(command: Command, ctx: Ctx) -> anyhow::Result<ExitCode> {
    match command {
        Command::Kpis(c) => kpis::run(&c, ctx),
        Command::Funnel(c) => funnel::run(&c, ctx),
        Command::Cycle(c) => cycle::run(&c, ctx),
        Command::Misalignment(c) => misalignment::run(&c, ctx),
        Command::Report(c) => report::run(&c, ctx),
        Command::Check(c) => check::run(&c, ctx),
        Command::Validate(c) => validate::run(&c, ctx),
        Command::Demo(c) => demo::run(&c, ctx),
        Command::Init(c) => init::run(&c, ctx),
    }
}

/// Write a finished text to `-o FILE` (atomically: a temporary file beside it,
/// renamed into place) or to standard output.
pub fn write_output(path: Option<&std::path::Path>, bytes: &[u8], _ctx: Ctx) -> anyhow::Result<()> {
    use std::io::Write;
    match path {
        Some(p) => write_atomic(p, bytes),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Write `bytes` to `path` through a temporary file in the same folder.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".revcycle-")
        .tempfile_in(dir)
        .with_context(|| format!("writing `{}`", path.display()))?;
    tmp.write_all(bytes).with_context(|| format!("writing `{}`", path.display()))?;
    tmp.as_file().sync_all().ok();
    tmp.persist(path).map_err(|e| anyhow::anyhow!("writing `{}`: {}", path.display(), e.error))?;
    Ok(())
}
