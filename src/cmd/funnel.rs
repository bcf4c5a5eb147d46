//! `revcycle funnel`: the cohort funnel, stage by stage.

use std::process::ExitCode;

use crate::cli::AnalysisCmd;
use crate::cmd::common;
use crate::metrics::funnel::funnel;
use crate::output::{self, Document, Renderer, Section};
use crate::Ctx;

pub fn run(cmd: &AnalysisCmd, ctx: Ctx) -> anyhow::Result<ExitCode> {
    let p = common::prepare_reading(&cmd.input, &cmd.period, ctx, common::FUNNEL_UNREAD)?;
    let steps = crate::output::progress::Steps::new(ctx.quiet);
    steps.step("computing the funnel");
    let frame = funnel(&p.loaded.dataset, &p.analysis)?;
    steps.done();
    let opts = crate::cmd::common::output_options(&cmd.output, ctx.quiet, &p.analysis.currency);
    let doc = Document::single(Section::new("funnel", frame).with_render(Renderer::Funnel));
    output::emit(&doc.with_meta(common::meta_of(&p)), &opts)?;
    Ok(ExitCode::SUCCESS)
}
