//! `revcycle validate`: what was read from each file and how it was mapped,
//! the data-quality findings, and which metrics these inputs can support.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{FormatArg, ValidateCmd};
use crate::cmd::common;
use crate::input::Loaded;
use crate::metrics::periods::date_of;
use crate::metrics::registry;
use crate::Ctx;

pub fn run(cmd: &ValidateCmd, ctx: Ctx) -> Result<ExitCode> {
    let (_cfg, loaded) = common::load_with(&cmd.input, ctx, true)?;
    let text = match cmd.output.format {
        FormatArg::Json => serde_json::to_string_pretty(&json(&loaded))? + "\n",
        FormatArg::Csv => {
            String::from_utf8(crate::input::quality::findings_csv(&loaded.findings)?)?
        }
        FormatArg::Table | FormatArg::Markdown => human(&loaded),
    };
    crate::cmd::write_output(cmd.output.output.as_deref(), text.as_bytes(), ctx)?;
    let errors = loaded.findings.iter().any(|f| f.severity == "error");
    Ok(if cmd.strict && errors {
        ExitCode::from(crate::EXIT_FINDING)
    } else {
        ExitCode::SUCCESS
    })
}

fn fmt_ts(us: i64) -> String {
    let secs = us.rem_euclid(86_400_000_000) / 1_000_000;
    let d = date_of(us);
    if secs == 0 {
        d.to_string()
    } else {
        format!(
            "{d} {:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

fn human(l: &Loaded) -> String {
    let mut s = String::new();
    let ds = &l.dataset;
    let _ = writeln!(
        s,
        "as_of: {} ({})\n",
        fmt_ts(ds.as_of),
        if l.as_of_given {
            "--as-of"
        } else {
            "latest timestamp in the inputs"
        }
    );
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
    if l.findings.is_empty() {
        let _ = writeln!(s, "findings: none\n");
    } else {
        let _ = writeln!(s, "findings:");
        for f in &l.findings {
            let _ = writeln!(s, "  {:7}  {}", f.severity, f.one_line());
        }
        let _ = writeln!(s);
    }
    let mut supported = Vec::new();
    let mut missing = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for def in registry::METRICS {
        if !seen.insert((def.command, def.id)) {
            continue;
        }
        match registry::missing(def, ds) {
            None => supported.push(format!("{}.{}", def.command, def.id)),
            Some(m) => missing.push((format!("{}.{}", def.command, def.id), m)),
        }
    }
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
            let _ = writeln!(s, "  {id:w$}  needs {m}");
        }
    }
    s
}

fn json(l: &Loaded) -> serde_json::Value {
    let ds = &l.dataset;
    let metrics: Vec<serde_json::Value> = registry::METRICS
        .iter()
        .map(|def| {
            let m = registry::missing(def, ds);
            serde_json::json!({
                "command": def.command,
                "id": def.id,
                "supported": m.is_none(),
                "missing": m,
            })
        })
        .collect();
    serde_json::json!({
        "as_of": fmt_ts(ds.as_of),
        "as_of_given": l.as_of_given,
        "files": l.files,
        "findings": l.findings,
        "metrics": metrics,
    })
}
