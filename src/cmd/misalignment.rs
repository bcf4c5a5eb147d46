//! `revcycle misalignment`: what sales and marketing misalignment costs, with
//! every assumption and measured rate printed, and the alignment score.
//! CSV: the cost/score table (one row, or one per `--by` value); JSON also the
//! response-time buckets and the assumptions.

use std::process::ExitCode;

use crate::cli::AnalysisCmd;
use crate::cmd::common;
use crate::metrics::misalignment::misalignment;
use crate::output::{self, Document, Format, Renderer, Section};
use crate::Ctx;

pub fn run(cmd: &AnalysisCmd, ctx: Ctx) -> anyhow::Result<ExitCode> {
    let p = common::prepare_reading(&cmd.input, &cmd.period, ctx, common::MISALIGNMENT_UNREAD)?;
    let steps = crate::output::progress::Steps::new(ctx.quiet);
    steps.step("computing the misalignment cost");
    let m = misalignment(&p.loaded.dataset, &p.analysis)?;
    steps.done();
    let opts = crate::cmd::common::output_options(&cmd.output, ctx.quiet, &p.analysis.currency);
    let mut main = Section::new("misalignment", m.frame.clone());
    if opts.format == Format::Table {
        let width = opts.width.unwrap_or(100) as usize;
        main = main.with_render(Renderer::Custom(output::misalignment::render(
            &m,
            &p.analysis.currency,
            width,
        )));
    } else {
        main = main.with_notes(m.notes.clone());
    }
    let mut doc = Document::single(main);
    if opts.format != Format::Table {
        doc = doc
            .with(Section::new("response_buckets", m.buckets.clone()))
            .with(Section::new("assumptions", m.assumptions_frame()?));
    }
    output::emit(&doc.with_meta(common::meta_of(&p)), &opts)?;
    Ok(ExitCode::SUCCESS)
}
