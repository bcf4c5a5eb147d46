//! `revcycle attribution`: credit per unit (channel or campaign) under the
//! eight models side by side, joined to spend; the Markov removal effects;
//! the most common paths; with `--truth`, each model's error against a
//! known answer. CSV/JSON carry the long rows (JSON also `removal_effects`,
//! `paths`, `truth_error`).

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::cli::{AttrByArg, AttributionCmd, CreditArg, MeasureArg, PeriodArg, PeriodArgs};
use crate::cmd::common;
use crate::metrics::attribution::{self, By, CreditKind, Model};
use crate::model::Touches;
use crate::output::{self, Document, OutputOptions, Section};
use crate::settings::Analysis;
use crate::Ctx;

pub use crate::metrics::analysis::attribution::{
    compute_owned, unit_column, Options, Run, ONE_TOUCH_NOTE,
};

/// Parse `--model`: `all` or a comma-separated list (contract order kept as given).
pub fn parse_models(text: &str) -> Result<Vec<Model>> {
    if text.trim().eq_ignore_ascii_case("all") {
        return Ok(Model::ALL.to_vec());
    }
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let m = Model::from_name(&part.to_lowercase()).with_context(|| {
            format!(
                "--model: `{part}` is not a model{}; models are: {}, or all",
                crate::input::suggest(part, Model::ALL.iter().map(|m| m.name())),
                Model::ALL.map(|m| m.name()).join(", ")
            )
        })?;
        if !out.contains(&m) {
            out.push(m);
        }
    }
    if out.is_empty() {
        bail!("--model: name at least one model, or all");
    }
    Ok(out)
}

/// Known channel shares: `channel` and `share`, or `channel` and
/// `conversions_lost` (shares = lost / their sum).
pub fn read_truth(name: &str, bytes: &[u8]) -> Result<Vec<(String, f64)>> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let headers: Vec<String> = rdr
        .headers()
        .with_context(|| format!("`{name}`: reading the header row"))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let pos = |c: &str| headers.iter().position(|h| h == c);
    let Some(ch) = pos("channel") else {
        bail!("`{name}`: no `channel` column (a truth file has channel, and share or conversions_lost)");
    };
    let (vcol, is_share) = match (pos("share"), pos("conversions_lost")) {
        (Some(s), _) => (s, true),
        (None, Some(l)) => (l, false),
        _ => bail!("`{name}`: no `share` or `conversions_lost` column"),
    };
    let mut out: Vec<(String, f64)> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("`{name}`: line {line}"))?;
        let channel = rec.get(ch).unwrap_or("").trim().to_string();
        let text = rec.get(vcol).unwrap_or("").trim();
        let v = if text.is_empty() {
            0.0
        } else {
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => v,
                _ => bail!(
                    "`{name}`: line {line}, column `{}`: `{}` is not a non-negative number",
                    headers[vcol],
                    crate::shown(text)
                ),
            }
        };
        out.push((channel, v));
    }
    if !is_share {
        let total: f64 = out.iter().map(|x| x.1).sum();
        for x in &mut out {
            x.1 = if total > 0.0 { x.1 / total } else { 0.0 };
        }
    }
    Ok(out)
}

/// Each model's share of the credited conversions over all reported periods, per unit.
pub fn model_shares(run: &Run) -> BTreeMap<Model, BTreeMap<String, f64>> {
    let mut conv: BTreeMap<Model, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for r in &run.result.rows {
        conv.entry(r.model)
            .or_default()
            .entry(r.unit.to_string())
            .or_default()
            .push(r.conversions);
    }
    conv.into_iter()
        .map(|(m, units)| {
            let sums: BTreeMap<String, f64> = units
                .into_iter()
                .map(|(u, v)| (u, attribution::exact::sum(v)))
                .collect();
            let total = attribution::exact::sum(sums.values().copied());
            let shares = sums
                .into_iter()
                .map(|(u, v)| (u, if total > 0.0 { v / total } else { 0.0 }))
                .collect();
            (m, shares)
        })
        .collect()
}

/// Mean absolute error of each model's channel shares against the truth's,
/// over the truth's channels (a channel the model never credits has share 0).
pub fn truth_errors(run: &Run, truth: &[(String, f64)]) -> Vec<(Model, f64)> {
    let shares = model_shares(run);
    run.models
        .iter()
        .map(|m| {
            let s = shares.get(m);
            let errs: Vec<f64> = truth
                .iter()
                .map(|(c, t)| (s.and_then(|s| s.get(c)).copied().unwrap_or(0.0) - t).abs())
                .collect();
            let mae = if errs.is_empty() {
                0.0
            } else {
                attribution::exact::sum(errs.iter().copied()) / errs.len() as f64
            };
            (*m, mae)
        })
        .collect()
}

pub fn run(cmd: &AttributionCmd, ctx: Ctx) -> Result<ExitCode> {
    let models = parse_models(&cmd.model)?;
    // A bad hidden setting fails before the loading, not after.
    crate::metrics::analysis::attribution::engine_options()?;
    let cfg = common::config(&cmd.input)?;
    let period = PeriodArgs {
        period: Some(cmd.period.unwrap_or(PeriodArg::All)),
        from: cmd.from.clone(),
        to: cmd.to.clone(),
        by: None,
    };
    let analysis = common::analysis(&cfg, &period)?;
    let truth = match &cmd.truth {
        None => None,
        Some(p) if p.as_os_str() == "demo" && !p.exists() => {
            if !cmd.input.demo {
                bail!("--truth without a file needs --demo (or name a file: --truth truth.csv)");
            }
            let d = crate::demo::builtin();
            Some(read_truth("demo/truth.csv", &d.truth_csv)?)
        }
        Some(p) => {
            let bytes = std::fs::read(p)
                .with_context(|| format!("reading truth file `{}`", p.display()))?;
            Some(read_truth(&p.display().to_string(), &bytes)?)
        }
    };
    let mut spec = common::input_spec(&cmd.input);
    spec.with_touches = true;
    spec.skip_lead_columns = common::ATTRIBUTION_UNREAD.to_vec();
    spec.skip_opportunity_columns = common::ATTRIBUTION_UNREAD_OPPORTUNITIES.to_vec();
    let mut loaded = crate::input::load(&spec, &cfg, cmd.input.as_of.as_deref(), ctx.quiet)?;
    // The data-quality warnings only: the KPI registry's shape warnings
    // (open_pipeline null...) are not about attribution.
    if !ctx.quiet {
        for w in loaded.warnings() {
            eprintln!("revcycle: warning: {}", crate::escape_controls(&w));
        }
    }
    let o = Options {
        models,
        credit: match cmd.credit {
            CreditArg::Won => CreditKind::Won,
            CreditArg::Opportunity => CreditKind::Opportunity,
            CreditArg::Mql => CreditKind::Mql,
        },
        by: match cmd.by {
            AttrByArg::Channel => By::Channel,
            AttrByArg::Campaign => By::Campaign,
        },
        lookback_days: cmd.lookback_days,
        half_life_days: cmd.half_life_days,
    };
    if truth.is_some() && o.by != By::Channel {
        bail!("--truth compares channel shares: it needs --by channel");
    }
    let steps = crate::output::progress::Steps::new(ctx.quiet);
    steps.step("crediting channels under each model");
    // The touches are consumed by the run (nothing else reads them).
    let touches = loaded.dataset.touches.take();
    let run = compute_owned(&loaded.dataset, touches, &analysis, &cfg, &o)?;
    steps.done();
    if !ctx.quiet {
        for w in &run.warnings {
            eprintln!("revcycle: warning: {w}");
        }
    }
    let measure = cmd.measure.unwrap_or(if truth.is_some() {
        MeasureArg::Share
    } else {
        MeasureArg::Value
    });
    let opts = common::output_options(&cmd.output, ctx.quiet, &analysis.currency);
    let errors = truth.as_ref().map(|t| truth_errors(&run, t));
    let doc = document(
        &run,
        &opts,
        measure,
        cmd.paths,
        truth.as_deref(),
        errors.as_deref(),
    )?;
    let meta = common::meta(&loaded, Some(analysis.period), &analysis.currency);
    output::emit(&doc.with_meta(meta), &opts)?;
    Ok(ExitCode::SUCCESS)
}

/// What `report` writes for attribution: `attribution.csv` (every model,
/// `--credit won`, by channel, the report's periods), a summary.md section
/// and a report.html section.
pub struct ReportPart {
    pub csv: Vec<u8>,
    pub markdown: String,
    pub title: String,
    pub html: String,
}

/// `None` when leads or opportunities are missing (nothing to credit).
/// `touches`: the dataset's, taken out of it (consumed by the run).
pub fn for_report(p: &common::Prepared, touches: Option<Touches>) -> Result<Option<ReportPart>> {
    let ds = &p.loaded.dataset;
    if ds.leads.is_none() || ds.opportunities.is_none() {
        return Ok(None);
    }
    let a = Analysis {
        by: None,
        ..p.analysis.clone()
    };
    let run = compute_owned(ds, touches, &a, &p.cfg, &Options::default())
        .context("computing attribution")?;
    let csv = output::machine::to_csv(&run.rows).context("writing attribution.csv")?;
    // The whole range: each model's share of the credited won deals per channel.
    let shares = model_shares(&run);
    let truth = if p.loaded.files.iter().any(|f| f.file == "demo/touches.csv") {
        Some(read_truth(
            "demo/truth.csv",
            &crate::demo::builtin().truth_csv,
        )?)
    } else {
        None
    };
    let mut units: Vec<String> = shares
        .values()
        .flat_map(|m| m.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let total_conv: f64 = run
        .result
        .rows
        .iter()
        .filter(|r| r.model == Model::Linear)
        .map(|r| r.conversions)
        .sum();
    units.retain(|u| {
        shares.values().any(|m| m.get(u).is_some_and(|v| *v > 0.0))
            || truth.as_ref().is_some_and(|t| t.iter().any(|x| &x.0 == u))
    });
    let pct = |v: Option<f64>| {
        crate::output::format::human_f64(v, crate::output::format::ValueKind::Rate, "")
    };
    let esc = crate::output::chart::escape;
    let mut html = String::from("<div class=\"scroll\"><table><tr><th class=\"t\">channel</th>");
    let mut md =
        String::from("\n## Attribution (share of credited won deals by channel)\n\n| channel |");
    for m in &run.models {
        html.push_str(&format!("<th>{}</th>", esc(&m.name().replace('_', " "))));
        md.push_str(&format!(" {} |", m.name()));
    }
    if truth.is_some() {
        html.push_str("<th>truth</th>");
        md.push_str(" truth |");
    }
    html.push_str("</tr>");
    md.push_str("\n|---|");
    for _ in 0..run.models.len() + truth.is_some() as usize {
        md.push_str("---|");
    }
    md.push('\n');
    // The channel the models disagree on most: (channel, lowest, highest).
    type Extreme = (Model, f64);
    let mut spread: Option<(String, Extreme, Extreme)> = None;
    for u in &units {
        html.push_str(&format!("<tr><td class=\"t\">{}</td>", esc(u)));
        md.push_str(&format!("| {u} |"));
        let mut lo: Option<(Model, f64)> = None;
        let mut hi: Option<(Model, f64)> = None;
        for m in &run.models {
            let v = shares.get(m).and_then(|s| s.get(u)).copied().unwrap_or(0.0);
            // A heat table: the cell's blue deepens with the share (Okabe-Ito blue).
            html.push_str(&format!(
                "<td style=\"background:rgba(0,114,178,{:.2})\">{}</td>",
                (v * 1.6).clamp(0.0, 0.8),
                esc(&pct(Some(v)))
            ));
            md.push_str(&format!(" {} |", pct(Some(v))));
            if lo.is_none_or(|l| v < l.1) {
                lo = Some((*m, v));
            }
            if hi.is_none_or(|h| v > h.1) {
                hi = Some((*m, v));
            }
        }
        if let Some(t) = &truth {
            let v = t.iter().find(|x| &x.0 == u).map(|x| x.1);
            html.push_str(&format!(
                "<td style=\"background:rgba(230,159,0,{:.2})\"><strong>{}</strong></td>",
                (v.unwrap_or(0.0) * 1.6).clamp(0.0, 0.8),
                esc(&pct(v))
            ));
            md.push_str(&format!(" {} |", pct(v)));
        }
        html.push_str("</tr>");
        md.push('\n');
        if let (Some(l), Some(h)) = (lo, hi) {
            if spread.as_ref().is_none_or(|s| h.1 - l.1 > s.2 .1 - s.1 .1) {
                spread = Some((u.clone(), l, h));
            }
        }
    }
    html.push_str("</table></div>");
    let mut reading = if total_conv == 0.0 {
        "No won deal with a lead is credited in this range.".to_string()
    } else {
        match &spread {
            Some((_, l, h)) if h.1 - l.1 < 1e-12 => format!(
                "Over {} credited won deals, every model gives each channel the same share.",
                total_conv.round()
            ),
            Some((u, l, h)) => format!(
                "Over {} credited won deals, the models disagree most on {u}: from {} under {} to {} under {}.",
                total_conv.round(),
                pct(Some(l.1)),
                l.0.name(),
                pct(Some(h.1)),
                h.0.name()
            ),
            None => String::new(),
        }
    };
    for n in &run.notes {
        reading.push(' ');
        reading.push_str(&format!("Note: {n}."));
    }
    let html = format!("<p>{}</p>{html}", esc(&reading));
    md.push_str(&format!("\n{reading}\n"));
    Ok(Some(ReportPart {
        csv,
        markdown: md,
        title: "Attribution: which channels earn the won deals?".to_string(),
        html,
    }))
}

/// The side-by-side frame as a terminal table, every model's cell formatted
/// as its measure (shares and the truth as percentages, value as money, roas
/// as a multiple).
fn draw_side_by_side(df: &DataFrame, measure: MeasureArg, currency: &str) -> Result<String> {
    use crate::output::format::{human_f64, ValueKind};
    use comfy_table::presets::UTF8_FULL_CONDENSED;
    use comfy_table::{Cell, CellAlignment, Table};
    let kind = match measure {
        MeasureArg::Conversions => ValueKind::Number,
        MeasureArg::Value => ValueKind::Money,
        MeasureArg::Share => ValueKind::Rate,
        MeasureArg::Roas => ValueKind::Ratio,
    };
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).force_no_tty();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    t.set_header(names.iter().map(|n| Cell::new(n)));
    let cols = df.columns();
    for row in 0..df.height() {
        let mut cells = Vec::new();
        for (i, c) in cols.iter().enumerate() {
            if i < 2 {
                let v = c.str()?.get(row).unwrap_or("").to_string();
                cells.push(Cell::new(v));
            } else {
                let v = c.f64()?.get(row);
                let k = if names[i] == "truth" {
                    ValueKind::Rate
                } else {
                    kind
                };
                cells
                    .push(Cell::new(human_f64(v, k, currency)).set_alignment(CellAlignment::Right));
            }
        }
        t.add_row(cells);
    }
    Ok(format!("{t}\n"))
}

fn measure_name(m: MeasureArg) -> &'static str {
    match m {
        MeasureArg::Conversions => "conversions",
        MeasureArg::Value => "value",
        MeasureArg::Share => "share",
        MeasureArg::Roas => "roas",
    }
}

/// The side-by-side frame: period, unit, one column per model (the measure), truth.
pub fn side_by_side(
    run: &Run,
    measure: MeasureArg,
    truth: Option<&[(String, f64)]>,
) -> Result<DataFrame> {
    let mut keys: Vec<(i64, String)> = Vec::new();
    let mut cells: BTreeMap<(i64, String, Model), Option<f64>> = BTreeMap::new();
    for r in &run.result.rows {
        let k = (r.period, r.unit.to_string());
        if keys.last() != Some(&k) && !keys.contains(&k) {
            keys.push(k.clone());
        }
        let v = match measure {
            MeasureArg::Conversions => Some(r.conversions),
            MeasureArg::Value => Some(r.value),
            MeasureArg::Share => r.share,
            MeasureArg::Roas => r.roas,
        };
        cells.insert((k.0, k.1, r.model), v);
    }
    let mut cols = vec![
        Column::new(
            "period".into(),
            keys.iter()
                .map(|k| run.spec.start_date(k.0).to_string())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            unit_column(run.by).into(),
            keys.iter().map(|k| k.1.clone()).collect::<Vec<_>>(),
        ),
    ];
    for m in &run.models {
        let v: Vec<Option<f64>> = keys
            .iter()
            .map(|k| cells.get(&(k.0, k.1.clone(), *m)).copied().flatten())
            .collect();
        cols.push(Column::new(m.name().into(), v));
    }
    if let Some(t) = truth {
        let map: BTreeMap<&str, f64> = t.iter().map(|(c, v)| (c.as_str(), *v)).collect();
        let v: Vec<Option<f64>> = keys
            .iter()
            .map(|k| map.get(k.1.as_str()).copied())
            .collect();
        cols.push(Column::new("truth".into(), v));
    }
    Ok(DataFrame::new_infer_height(cols)?)
}

pub fn removal_frame(run: &Run) -> Result<DataFrame> {
    let u: Vec<&str> = run.result.removal_effects.iter().map(|x| &*x.0).collect();
    let v: Vec<Option<f64>> = run.result.removal_effects.iter().map(|x| x.1).collect();
    Ok(DataFrame::new_infer_height(vec![
        Column::new(unit_column(run.by).into(), u),
        Column::new("removal_effect".into(), v),
    ])?)
}

pub fn paths_frame(run: &Run, n: usize) -> Result<DataFrame> {
    let p: Vec<_> = run.result.paths.iter().take(n).collect();
    Ok(DataFrame::new_infer_height(vec![
        Column::new(
            "path".into(),
            p.iter().map(|x| x.path.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "leads".into(),
            p.iter().map(|x| x.leads).collect::<Vec<_>>(),
        ),
        Column::new(
            "conversions".into(),
            p.iter().map(|x| x.conversions).collect::<Vec<_>>(),
        ),
        Column::new(
            "conversion_rate".into(),
            p.iter().map(|x| x.conversion_rate()).collect::<Vec<_>>(),
        ),
    ])?)
}

fn document(
    run: &Run,
    opts: &OutputOptions,
    measure: MeasureArg,
    paths: usize,
    truth: Option<&[(String, f64)]>,
    errors: Option<&[(Model, f64)]>,
) -> Result<Document> {
    let mut doc = Document::new();
    if opts.format.is_machine() {
        doc.push(Section::new("rows", run.rows.clone()).with_notes(run.notes.clone()));
    } else {
        let title = format!(
            "{} per {} and model{}",
            measure_name(measure),
            unit_column(run.by),
            if truth.is_some() {
                " (truth: the known share)"
            } else {
                ""
            }
        );
        let frame = side_by_side(run, measure, truth)?;
        let mut section = Section::new("attribution", frame.clone())
            .with_title(title)
            .with_notes(run.notes.clone());
        if opts.format == crate::output::Format::Table {
            section = section.with_render(crate::output::Renderer::Custom(draw_side_by_side(
                &frame,
                measure,
                &opts.currency,
            )?));
        }
        doc.push(section);
    }
    let mut re =
        Section::new("removal_effects", removal_frame(run)?).with_title("markov removal effects");
    if run.result.markov.p == 0.0 {
        re = re.with_note(
            "no lead path reaches conversion: removal effects are null and Markov credit is equal",
        );
    }
    doc.push(re);
    doc.push(
        Section::new("paths", paths_frame(run, paths)?).with_title(format!(
            "most common paths (top {paths} of {})",
            run.result.paths.len()
        )),
    );
    if let Some(errs) = errors {
        let df = DataFrame::new_infer_height(vec![
            Column::new(
                "model".into(),
                errs.iter().map(|e| e.0.name()).collect::<Vec<_>>(),
            ),
            Column::new("mae".into(), errs.iter().map(|e| e.1).collect::<Vec<_>>()),
        ])?;
        let mut s = Section::new("truth_error", df).with_title(
            "error against the truth (mean absolute error of channel shares, lower is closer)",
        );
        if !opts.format.is_machine() {
            let lines: Vec<String> = errs
                .iter()
                .map(|(m, e)| format!("{}: mean absolute error {:.3}", m.name(), e))
                .collect();
            s = s.with_notes(lines);
        }
        doc.push(s);
    }
    Ok(doc)
}
