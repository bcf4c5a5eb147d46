//! `revcycle demo`: write a realistic, seeded sample data set to a folder.

use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;

use crate::cli::{DemoCmd, HeadersArg};
use crate::demo::{self, DemoOptions, Headers};
use crate::Ctx;

pub fn run(cmd: &DemoCmd, ctx: Ctx) -> anyhow::Result<ExitCode> {
    let start = NaiveDate::parse_from_str(cmd.start.trim(), "%Y-%m-%d")
        .ok()
        .with_context(|| {
            format!(
                "--start `{}` is not a date (expected YYYY-MM-DD)",
                cmd.start
            )
        })?;
    let opts = DemoOptions {
        leads: cmd.leads,
        seed: cmd.seed,
        months: cmd.months,
        start,
        headers: match cmd.headers {
            HeadersArg::Canonical => Headers::Canonical,
            HeadersArg::Salesforce => Headers::Salesforce,
            HeadersArg::Hubspot => Headers::Hubspot,
        },
    };
    let stats = demo::write_dir(&opts, &cmd.out, cmd.force)?;
    if !ctx.quiet {
        eprintln!(
            "revcycle: wrote {} leads, {} opportunities, {} campaign rows, {} revenue rows, {} touches and the truth ({} conversions) to `{}`",
            stats.leads,
            stats.opportunities,
            stats.campaign_rows,
            stats.revenue_rows,
            stats.touch_rows,
            stats.truth.conversions,
            cmd.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
