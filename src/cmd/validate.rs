//! `revcycle validate`: what was read from each file and how it was mapped,
//! the data-quality findings, and which metrics these inputs can support.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use polars::prelude::DataFrame;

use crate::cli::ValidateCmd;
use crate::cmd::common;
use crate::input::Loaded;
use crate::metrics::registry;
use crate::output::{self, Document, Format, Records, Renderer, Section};
use crate::Ctx;

pub fn run(cmd: &ValidateCmd, ctx: Ctx) -> Result<ExitCode> {
    let (cfg, loaded) = common::load_with(&cmd.input, ctx, true)?;
    let avail = registry::availability(&loaded.dataset)?;
    let currency = cfg.currency.clone().unwrap_or_default();
    let meta = common::meta(&loaded, None, &currency);
    let opts = common::output_options(&cmd.output, ctx.quiet, &currency);
    let rows: Vec<serde_json::Value> = loaded
        .findings
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<_, _>>()?;
    let fields = json(&loaded, &avail);
    let csv = match opts.format {
        Format::Csv => Some(crate::input::quality::findings_csv(&loaded.findings)?),
        _ => None,
    };
    // The page states `as_of` at its head: no footer.
    let page = Renderer::Text {
        table: human(&loaded, &avail),
        markdown: markdown(&loaded, &avail),
    };
    let section = Section::new("validate", DataFrame::empty()).with_render(page);
    let doc = Document::single(section)
        .with_meta(meta)
        .with_records(Records {
            fields,
            rows,
            csv,
        })
        .without_footer();
    output::emit(&doc, &opts)?;
    let errors = loaded.findings.iter().any(|f| f.severity == "error");
    Ok(if cmd.strict && errors {
        ExitCode::from(crate::EXIT_FINDING)
    } else {
        ExitCode::SUCCESS
    })
}

fn fmt_ts(us: i64) -> String {
    crate::periods::instant_text(us)
}

fn human(l: &Loaded, avail: &registry::Availability) -> String {
    let mut s = String::new();
    let ds = &l.dataset;
    let _ = writeln!(s, "as_of: {} ({})\n", fmt_ts(ds.as_of), l.as_of_origin());
    for f in &l.files {
        let mut how = vec![f.format.clone()];
        if f.gzip {
            how.push("gzip".into());
        }
        if let Some(d) = &f.delimiter {
            how.push(format!("delimiter \"{d}\""));
        }
        if let Some(sh) = &f.sheet {
            how.push(format!("sheet \"{sh}\""));
        }
        how.push(format!("preset {} ({})", f.preset, f.preset_choice));
        let _ = writeln!(s, "{} <- {} [{}]", f.table, f.file, how.join(", "));
        if let Some(why) = &f.picked_up {
            let _ = writeln!(s, "  picked up from the folder by its {why}");
        }
        let mut rows = format!("  rows: {} read, {} kept", f.rows_read, f.rows_kept);
        if f.preamble_lines > 0 {
            let _ = write!(rows, "; {} preamble lines skipped", f.preamble_lines);
        }
        if f.footer_rows > 0 {
            let _ = write!(rows, "; {} total/footer rows skipped", f.footer_rows);
        }
        let _ = writeln!(s, "{rows}");
        let w = f.mapping.iter().map(|m| m.column.len()).max().unwrap_or(0);
        for m in &f.mapping {
            let src = if m.source.starts_with('=') {
                m.source.clone()
            } else {
                format!("\"{}\"", m.source)
            };
            let _ = writeln!(s, "  {:w$} <- {}  ({})", m.column, src, m.via, w = w);
        }
        if !f.unmapped_headers.is_empty() {
            let _ = writeln!(s, "  not used: {}", f.unmapped_headers.join(", "));
        }
        for v in &f.value_maps {
            let _ = writeln!(
                s,
                "  {} values \"{}\" -> \"{}\": {} rows ({})",
                v.column, v.from, v.to, v.rows, v.via
            );
        }
        for (c, d) in &f.date_orders {
            let _ = writeln!(s, "  dates in {c}: {d}");
        }
        if let Some(c) = &f.header_currency {
            let _ = writeln!(s, "  currency from the header: {c}");
        }
        let _ = writeln!(s);
    }
    let shapes = avail.warnings();
    if !shapes.is_empty() {
        let _ = writeln!(
            s,
            "artifacts of the export (these metrics are null, not a confident number):"
        );
        for w in &shapes {
            let _ = writeln!(s, "  {w}");
        }
        let _ = writeln!(s);
    }
    if l.findings.is_empty() {
        let _ = writeln!(s, "findings: none\n");
    } else {
        let _ = writeln!(s, "findings:");
        for f in &l.findings {
            let _ = writeln!(
                s,
                "  {:7}  {}",
                f.severity,
                crate::escape_controls(&f.one_line())
            );
        }
        let _ = writeln!(s);
    }
    let (supported, missing) = support(avail);
    let _ = writeln!(s, "metrics these inputs support: {}", supported.len());
    for chunk in supported.chunks(6) {
        let _ = writeln!(s, "  {}", chunk.join(", "));
    }
    if !missing.is_empty() {
        let _ = writeln!(
            s,
            "\nmetrics these inputs cannot support: {} (null in every output)",
            missing.len()
        );
        let w = missing.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
        for (id, m) in &missing {
            let _ = writeln!(s, "  {id:w$}  {m}");
        }
    }
    s
}

/// The fields of `--format json` after the common head (whose `as_of` is
/// RFC 3339): whether `--as-of` was given, then the sections `files`,
/// `findings` and `metrics`.
fn json(l: &Loaded, avail: &registry::Availability) -> Vec<(&'static str, serde_json::Value)> {
    let ds = &l.dataset;
    let metrics: Vec<serde_json::Value> = registry::METRICS
        .iter()
        .map(|def| {
            let m = avail.reason(def.command, def.id);
            serde_json::json!({
                "command": def.command,
                "id": def.id,
                "supported": m.is_none(),
                "missing": registry::missing(def, ds),
                "reason": m,
            })
        })
        .collect();
    vec![
        ("as_of_given", serde_json::json!(l.as_of_given)),
        ("files", serde_json::json!(l.files)),
        ("findings", serde_json::json!(l.findings)),
        ("artifacts", serde_json::json!(avail.warnings())),
        ("metrics", serde_json::Value::Array(metrics)),
    ]
}

/// Text safe inside a Markdown table cell or list item.
fn md(s: &str) -> String {
    crate::escape_controls(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('*', "\\*")
}

/// A name (column, header, metric id) as Markdown code in a table cell.
fn code(s: &str) -> String {
    format!(
        "`{}`",
        crate::escape_controls(s)
            .replace('`', "'")
            .replace('|', "\\|")
    )
}

/// The same report as [`human`], as GitHub Markdown: a heading per part,
/// tables for files, mappings, findings and unsupported metrics.
fn markdown(l: &Loaded, avail: &registry::Availability) -> String {
    let mut s = String::new();
    let ds = &l.dataset;
    let _ = writeln!(s, "# revcycle validate\n");
    let _ = writeln!(
        s,
        "as_of: **{}** (from {})\n",
        fmt_ts(ds.as_of),
        md(&l.as_of_source)
    );
    let _ = writeln!(s, "## Files\n");
    let _ = writeln!(
        s,
        "| table | file | format | preset | rows read | rows kept |"
    );
    let _ = writeln!(s, "| --- | --- | --- | --- | ---: | ---: |");
    for f in &l.files {
        let mut how = vec![f.format.clone()];
        if f.gzip {
            how.push("gzip".into());
        }
        if let Some(d) = &f.delimiter {
            how.push(format!("delimiter \"{d}\""));
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} ({}) | {} | {} |",
            md(&f.table),
            md(&f.file),
            md(&how.join(", ")),
            md(&f.preset),
            md(&f.preset_choice),
            f.rows_read,
            f.rows_kept
        );
    }
    for f in &l.files {
        let _ = writeln!(s, "\n### {} <- {}\n", md(&f.table), md(&f.file));
        let _ = writeln!(s, "| column | from | via |");
        let _ = writeln!(s, "| --- | --- | --- |");
        for m in &f.mapping {
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                code(&m.column),
                code(&m.source),
                md(&m.via)
            );
        }
        if !f.unmapped_headers.is_empty() {
            let _ = writeln!(s, "\nnot used: {}", md(&f.unmapped_headers.join(", ")));
        }
    }
    let shapes = avail.warnings();
    if !shapes.is_empty() {
        let _ = writeln!(s, "\n## Artifacts of the export\n\nThese metrics are null, not a confident number:\n");
        for w in &shapes {
            let _ = writeln!(s, "- {}", md(w));
        }
    }
    let _ = writeln!(s, "\n## Findings\n");
    if l.findings.is_empty() {
        let _ = writeln!(s, "none");
    } else {
        let _ = writeln!(s, "| severity | finding |");
        let _ = writeln!(s, "| --- | --- |");
        for f in &l.findings {
            let _ = writeln!(s, "| {} | {} |", md(&f.severity), md(&f.one_line()));
        }
    }
    let (supported, missing) = support(avail);
    let _ = writeln!(
        s,
        "\n## Metrics these inputs support: {}\n",
        supported.len()
    );
    let _ = writeln!(
        s,
        "{}",
        supported
            .iter()
            .map(|id| code(id))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !missing.is_empty() {
        let _ = writeln!(
            s,
            "\n## Metrics these inputs cannot support: {} (null in every output)\n",
            missing.len()
        );
        let _ = writeln!(s, "| metric | needs |");
        let _ = writeln!(s, "| --- | --- |");
        for (id, m) in &missing {
            let _ = writeln!(s, "| {} | {} |", code(id), md(m));
        }
    }
    s
}

/// The registry's metrics (each `command.id` once) the inputs support, and
/// those they do not with the reason: the table and Markdown pages list both.
fn support(avail: &registry::Availability) -> (Vec<String>, Vec<(String, String)>) {
    let mut supported = Vec::new();
    let mut missing = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for def in registry::METRICS {
        if !seen.insert((def.command, def.id)) {
            continue;
        }
        match avail.reason(def.command, def.id) {
            None => supported.push(format!("{}.{}", def.command, def.id)),
            Some(m) => missing.push((format!("{}.{}", def.command, def.id), m.to_string())),
        }
    }
    (supported, missing)
}
