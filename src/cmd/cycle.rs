//! `revcycle cycle`: revenue-cycle metrics (bow tie for the latest period,
//! then the per-period table) and the funnel-versus-cycle comparison.
//! CSV carries the cycle table; JSON both tables (`cycle`, `funnel_vs_cycle`).

use std::process::ExitCode;

use crate::cli::AnalysisCmd;
use crate::cmd::common;
use crate::metrics::cycle::cycle_report_with;
use crate::output::{self, bowtie, Document, Format, Renderer, Section};
use crate::Ctx;

pub fn run(cmd: &AnalysisCmd, ctx: Ctx) -> anyhow::Result<ExitCode> {
    let p = common::prepare_reading(&cmd.input, &cmd.period, ctx, common::FUNNEL_UNREAD)?;
    let opts = crate::cmd::common::output_options(&cmd.output, ctx.quiet, &p.analysis.currency);
    let steps = crate::output::progress::Steps::new(ctx.quiet);
    steps.step("computing the revenue cycle");
    // Only the table draws the bow tie: CSV and JSON skip its pass over the leads.
    let r = cycle_report_with(&p.loaded.dataset, &p.analysis, opts.format == Format::Table)?;
    steps.done();
    let mut main = Section::new("cycle", r.cycle.clone()).with_notes(r.notes.clone());
    main = if opts.format == Format::Table {
        let width = opts.width.unwrap_or(100) as usize;
        let mut text = String::new();
        if let Some(b) = &r.bow_tie {
            text.push_str(&bowtie::bow_tie(b, &p.analysis.currency, width));
            text.push('\n');
        }
        let (table, notes) = output::kpis_table(&r.cycle, &opts)?;
        text.push_str(&table);
        main.with_render(Renderer::Custom(text))
            .with_notes(notes)
            .with_title("")
    } else {
        main.with_render(Renderer::Kpis)
    };
    let doc = Document::single(main)
        .with(Section::new("funnel_vs_cycle", r.funnel_vs_cycle).with_title("funnel versus cycle"));
    output::emit(&doc.with_meta(common::meta_of(&p)), &opts)?;
    Ok(ExitCode::SUCCESS)
}
