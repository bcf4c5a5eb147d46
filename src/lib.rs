//! revcycle: revenue-cycle analytics for RevOps. The binary is a thin shell
//! over this library: `main` parses arguments, dispatches to one `cmd` module
//! per subcommand and maps the outcome to an exit code.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod demo;
pub mod input;
pub mod metrics;
pub mod model;
pub mod output;
pub mod settings;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes (see `docs/cli.md`): 0 success, 1 a finding (`check` rule
/// failed, `validate --strict` error), 2 bad usage, configuration or input.
pub const EXIT_FINDING: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// What every command may need to know about how it was run.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub quiet: bool,
}

pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let ctx = Ctx { quiet: cli.quiet };
    match cmd::run(cli.command, ctx) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("revcycle: {}", one_line(&err));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The error and its causes on one line: `outer: inner: root`.
pub fn one_line(err: &anyhow::Error) -> String {
    format!("{err:#}").replace('\n', " ")
}

/// A closed pipe (`revcycle kpis | head`) is not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .map(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            .unwrap_or(false)
    })
}
