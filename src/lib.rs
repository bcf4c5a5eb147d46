//! revcycle: revenue-cycle analytics for RevOps. The binary is a thin shell
//! over this library: `main` parses arguments, dispatches to one `cmd` module
//! per subcommand and maps the outcome to an exit code.

pub mod cli;
pub mod cmd;
pub mod config;
pub mod demo;
pub mod dict;
pub mod errors;
pub mod hash;
pub mod ids;
pub mod input;
pub mod metrics;
pub mod model;
pub mod output;
pub mod periods;
pub mod presets;
pub mod settings;
pub mod text;

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
    input::spill::configure(
        cli.spill.map(|w| match w {
            cli::SpillWhen::Auto => input::spill::Mode::Auto,
            cli::SpillWhen::Always => input::spill::Mode::Always,
            cli::SpillWhen::Never => input::spill::Mode::Never,
        }),
        cli.temp_dir.clone(),
    );
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

/// The error and its causes on one line: `outer: inner: root`. A newline or
/// other control character inside (a value or header quoted by the message)
/// is shown escaped: `\n`, `\r`, `\t`, `\u{1b}`.
pub fn one_line(err: &anyhow::Error) -> String {
    escape_controls(&format!("{err:#}"))
}

/// `s` with every control character escaped (`\n`, `\t`, `\u{7}`): one line.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Longest a value or header quoted in a message is shown (in characters).
pub const SHOWN_MAX: usize = 80;

/// A value or header as a message quotes it: control characters escaped,
/// cut to [`SHOWN_MAX`] characters with `…` when longer.
pub fn shown(value: &str) -> String {
    let escaped = escape_controls(value);
    if escaped.chars().count() <= SHOWN_MAX {
        escaped
    } else {
        let mut cut: String = escaped.chars().take(SHOWN_MAX).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_line_with_controls_escaped() {
        let e = anyhow::anyhow!("`a\nb\tc\u{7}` is not a date").context("loading leads");
        assert_eq!(
            one_line(&e),
            "loading leads: `a\\nb\\tc\\u{7}` is not a date"
        );
        assert_eq!(shown("x\r\ny"), "x\\r\\ny");
        let long = "é".repeat(100);
        assert_eq!(shown(&long), format!("{}…", "é".repeat(80)));
        assert_eq!(shown(&"a".repeat(80)), "a".repeat(80));
    }
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
