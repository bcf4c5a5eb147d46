//! `revcycle kpis`: the shared KPI scorecard by period.

use std::process::ExitCode;

use crate::cli::AnalysisCmd;
use crate::cmd::common;
use crate::metrics::kpis::kpis;
use crate::output::{self, Document, Renderer, Section};
use crate::Ctx;

pub fn run(cmd: &AnalysisCmd, ctx: Ctx) -> anyhow::Result<ExitCode> {
    // kpis reads leads.campaign_id (platform_overclaim); funnel and cycle do not.
    let unread: Vec<&'static str> = common::FUNNEL_UNREAD
        .iter()
        .copied()
        .filter(|c| *c != "campaign_id")
        .collect();
    let p = common::prepare_reading(&cmd.input, &cmd.period, ctx, &unread)?;
    let steps = crate::output::progress::Steps::new(ctx.quiet);
    steps.step("computing kpis");
    let frame = kpis(&p.loaded.dataset, &p.analysis)?;
    steps.done();
    let opts = crate::cmd::common::output_options(&cmd.output, ctx.quiet, &p.analysis.currency);
    let note = common::in_progress_note(&p.loaded.dataset, &p.analysis);
    let doc = Document::single(
        Section::new("kpis", frame)
            .with_render(Renderer::Kpis)
            .with_notes(note),
    );
    output::emit(&doc.with_meta(common::meta_of(&p)), &opts)?;
    Ok(ExitCode::SUCCESS)
}
