//! `revcycle kpis`: the shared KPI scorecard by period.

use std::process::ExitCode;

use crate::cli::AnalysisCmd;
use crate::cmd::common;
use crate::metrics::kpis::kpis;
use crate::output::{self, Document, Renderer, Section};
use crate::Ctx;

pub fn run(cmd: &AnalysisCmd, ctx: Ctx) -> anyhow::Result<ExitCode> {
    let p = common::prepare_reading(&cmd.input, &cmd.period, ctx, common::FUNNEL_UNREAD)?;
    let frame = kpis(&p.loaded.dataset, &p.analysis)?;
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
