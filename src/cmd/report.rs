//! `revcycle report --out DIR`: every table as CSV (kpis, funnel, cycle,
//! funnel versus cycle, misalignment, alignment, data quality), `summary.md`
//! and `manifest.json`, written into a temporary folder beside DIR and renamed
//! into place at the end: a failed or killed run leaves no DIR.
//!
//! Choices (for docs/cli.md):
//! - `--out` is a strftime pattern expanded with the local date and time at
//!   run time (`reports/%Y-%m-%d`); its parent folders are created.
//! - An existing DIR is refused unless `--force`; with `--force` the old DIR
//!   is renamed away, the new one renamed in, then the old one deleted.
//! - `alignment.csv` holds the alignment score and its five components (the
//!   same values are also columns of `misalignment.csv`).
//! - `summary.md` is about the latest complete period of the unsplit KPIs (a
//!   period whose end is at or before `as_of`), compared with the period
//!   before it; the misalignment cost it quotes is over the report's range
//!   (all data unless `--from`/`--to`), as in `misalignment.csv`.
//! - `REVCYCLE_TEST_FAIL_AFTER_FIRST_FILE=1` makes the writer fail after the
//!   first file (tests of the atomic write).

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::format::{Item, StrftimeItems};
use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::cli::ReportCmd;
use crate::metrics::frames::{frame_f64, frame_periods, latest_complete_row};
use crate::cmd::common::{self, Prepared};
use crate::input::{self, read::Source};
use crate::metrics::cycle::cycle_report_from;
use crate::metrics::funnel::funnel_from;
use crate::metrics::kpis::{kpis_from, Base};
use crate::metrics::misalignment::{self, misalignment_from, Misalignment};
use crate::metrics::shared::Shared;
use crate::metrics::periods::{PeriodKind, PeriodSpec};
use crate::metrics::registry;
use crate::output::format::{change, change_kind, human_change, human_f64, kind_of};
use crate::output::machine::to_csv;
use crate::settings::Analysis;
use crate::Ctx;

/// Set to `1` to make the writer fail after the first file (tests).
pub const FAIL_ENV: &str = "REVCYCLE_TEST_FAIL_AFTER_FIRST_FILE";

/// The alignment score and its components, in spec order.
pub const ALIGNMENT_COLUMNS: &[&str] = crate::metrics::misalignment::ALIGNMENT_IDS;

/// KPI ids in the summary's headline table (those the inputs support).
const HEADLINE_KPIS: [&str; 15] = [
    "leads",
    "mqls",
    "sqls",
    "opportunities",
    "won_deals",
    "new_bookings",
    "pipeline_created",
    "marketing_spend",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "speed_to_lead_hours",
    "followup_rate",
    "cac",
    "roas",
];
const HEADLINE_CYCLE: [&str; 3] = ["cycle_revenue", "ending_mrr", "nrr"];

/// The five money components of `misalignment_cost`.
const COST_COMPONENTS: [&str; 5] = [
    "unworked_mql_lost_revenue",
    "unworked_mql_wasted_spend",
    "slow_followup_lost_revenue",
    "rejected_mql_wasted_spend",
    "misfit_lost_pipeline",
];

pub fn run(cmd: &ReportCmd, ctx: Ctx) -> Result<ExitCode> {
    let target = expand_out(&cmd.out, &chrono::Local::now())?;
    if target.as_os_str().is_empty() {
        bail!("--out is empty");
    }
    if fs::symlink_metadata(&target).is_ok() && !cmd.force {
        bail!(
            "`{}` already exists; use --force to replace it",
            target.display()
        );
    }
    let mut p = common::prepare_with_touches(&cmd.input, &cmd.period, ctx)?;
    // Only attribution reads the touches: it consumes them.
    let touches = p.loaded.dataset.touches.take();
    let steps = crate::output::progress::Steps::new(ctx.quiet);
    let files = build(&p, touches, cmd, &steps)?;
    steps.step("writing the report folder");
    let fail_after_first = std::env::var(FAIL_ENV)
        .is_ok_and(|v| v == "1")
        .then_some(FAIL_ENV);
    crate::output::atomic::write_atomic_folder(&target, &files, cmd.force, fail_after_first)?;
    if !ctx.quiet {
        eprintln!(
            "revcycle: wrote {} files to {}",
            files.len(),
            target.display()
        );
    }
    if cmd.open {
        open_in_browser(&target.join("report.html"), ctx);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--open`: hands the page to `$BROWSER`, else the desktop's opener. Not
/// being on a desktop is not an error (the report is written): one line says
/// where the page is.
fn open_in_browser(page: &Path, ctx: Ctx) {
    use std::process::{Command, Stdio};
    let browser = std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty());
    let desktop = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    let mut command = if let Some(b) = browser {
        let mut c = Command::new(b.trim());
        c.arg(page);
        c
    } else if cfg!(target_os = "macos") {
        let mut c = Command::new("open");
        c.arg(page);
        c
    } else if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.args(["/C", "start", ""]).arg(page);
        c
    } else if desktop {
        let mut c = Command::new("xdg-open");
        c.arg(page);
        c
    } else {
        if !ctx.quiet {
            eprintln!(
                "revcycle: --open: no desktop here (no DISPLAY or WAYLAND_DISPLAY, no BROWSER); the page is {}",
                page.display()
            );
        }
        return;
    };
    let spawned = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    // Not waited for: a browser started directly runs until it is closed,
    // and this process ends right after.
    match spawned {
        Ok(_) => {}
        Err(e) => {
            if !ctx.quiet {
                eprintln!("revcycle: warning: --open: could not start a browser ({e}); the page is {}", page.display());
            }
        }
    }
}

/// Expands strftime `%` codes of `pattern` with `now`; a bad code is an error.
pub fn expand_out<Tz: chrono::TimeZone>(
    pattern: &str,
    now: &chrono::DateTime<Tz>,
) -> Result<PathBuf>
where
    Tz::Offset: std::fmt::Display,
{
    if !pattern.contains('%') {
        return Ok(PathBuf::from(pattern));
    }
    let items: Vec<Item> = StrftimeItems::new(pattern).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        bail!("--out `{pattern}`: not a valid strftime pattern (use %Y, %m, %d, %H, %M, %%...)");
    }
    let mut s = String::new();
    write!(s, "{}", now.format_with_items(items.into_iter()))
        .map_err(|_| anyhow::anyhow!("--out `{pattern}`: not a valid strftime pattern"))?;
    Ok(PathBuf::from(s))
}

/// Every file of the report, manifest last: (name, bytes).
fn build(
    p: &Prepared,
    touches: Option<crate::model::Touches>,
    cmd: &ReportCmd,
    steps: &crate::output::progress::Steps,
) -> Result<Vec<(String, Vec<u8>)>> {
    let ds = &p.loaded.dataset;
    let a = &p.analysis;
    // Attribution first: it consumes the touches (16 bytes each, and their
    // lead dictionary), so that the tables below never hold them.
    steps.step("crediting channels (attribution)");
    let attribution = crate::cmd::attribution::for_report(p, touches)?;
    // The lead stages (and under `--by` the deals' values) every table below
    // starts from, collected once.
    steps.step("computing lead stages");
    let shared = Shared::collect(ds, a.by).context("computing lead stages")?;
    steps.step("computing kpis and the funnel");
    let (k, f) = kpis_and_funnel(&shared, a)?;
    steps.step("computing the revenue cycle");
    // The report draws its bow tie from the tables (`html_page`).
    let c = cycle_report_from(&shared, a, false).context("computing the revenue cycle")?;
    steps.step("computing the misalignment cost");
    let mg = misalignment::gathered(&shared, a).context("computing the misalignment cost")?;
    let m = misalignment_from(ds, a, &mg).context("computing the misalignment cost")?;

    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("kpis.csv".into(), to_csv(&k)?),
        ("funnel.csv".into(), to_csv(&f)?),
        ("cycle.csv".into(), to_csv(&c.cycle)?),
        ("funnel_vs_cycle.csv".into(), to_csv(&c.funnel_vs_cycle)?),
        ("misalignment.csv".into(), to_csv(&m.frame)?),
        (
            "alignment.csv".into(),
            to_csv(&alignment_frame(&m.frame, a)?)?,
        ),
        (
            "data_quality.csv".into(),
            input::quality::findings_csv(&p.loaded.findings)?,
        ),
    ];
    steps.step("planning against the targets");
    let plan = crate::cmd::plan::for_report(p, &shared, cmd.targets.as_deref(), cmd.period.period)?;
    if let Some((csv, _, _)) = &plan {
        files.push(("plan.csv".into(), csv.clone()));
    }

    // The summary and the page read the unsplit tables.
    let (k1, f1, c1, m1) = if a.by.is_some() {
        steps.step("computing the unsplit tables for the summary");
        let plain = Analysis {
            by: None,
            ..a.clone()
        };
        let (k1, f1) = kpis_and_funnel(&shared, &plain)?;
        // Under `--by channel` the whole range adds up the channel groups
        // just gathered.
        let m1 = if mg.serves(&plain) {
            misalignment_from(ds, &plain, &mg)?
        } else {
            misalignment_from(ds, &plain, &misalignment::gathered(&shared, &plain)?)?
        };
        (k1, f1, cycle_report_from(&shared, &plain, false)?, m1)
    } else {
        (k, f, c, m)
    };
    // The retention heatmap of the page reads the MRR months (small).
    let months = shared.mrr_months()?;
    drop(mg);
    drop(shared);
    if let Some(a) = &attribution {
        files.push(("attribution.csv".into(), a.csv.clone()));
    }
    steps.step("summary and report.html");
    let mut s = summary(p, &k1, &c1.cycle, &m1)?;
    let mut extra = Vec::new();
    if let Some(a) = attribution {
        s.text.push_str(&a.markdown);
        extra.push(("attribution".to_string(), a.title, a.html));
    }
    if let Some((_, md, html)) = plan {
        s.text.push_str(&md);
        extra.push(("plan".to_string(), "Shared goals: do the targets add up?".to_string(), html));
    }
    let page = html_page(p, &k1, &f1, &c1, &m1, months.as_ref(), extra)?;
    files.push(("summary.md".into(), s.text.into_bytes()));
    files.push(("report.html".into(), page.into_bytes()));
    let manifest = manifest(p, cmd, &files, s.latest.as_deref(), &m1.assumptions)?;
    files.push(("manifest.json".into(), manifest));
    Ok(files)
}

/// The KPIs and the funnel on one [`Base`] (lead stages, resolved deals and
/// spend rows), built once for both and dropped before the next table.
fn kpis_and_funnel(shared: &Shared, a: &Analysis) -> Result<(DataFrame, DataFrame)> {
    let ds = shared.dataset();
    let base = Base::from_shared(shared, a).context("computing kpis")?;
    let k = kpis_from(ds, a, &base).context("computing kpis")?;
    let f = funnel_from(ds, a, &base).context("computing the funnel")?;
    Ok((k, f))
}

/// `report.html` (see `output::html`): the unsplit tables drawn as charts;
/// `months` is `common::mrr_months` (the retention heatmap).
fn html_page(
    p: &Prepared,
    k: &DataFrame,
    f: &DataFrame,
    c: &crate::metrics::cycle::CycleReport,
    m: &Misalignment,
    months: Option<&DataFrame>,
    extra: Vec<(String, String, String)>,
) -> Result<String> {
    let ds = &p.loaded.dataset;
    let a = &p.analysis;
    let periods = frame_periods(k, "period")?;
    let latest = if a.period == PeriodKind::All {
        (!periods.is_empty()).then_some(0)
    } else {
        let spec = PeriodSpec::new(a.period, a.fiscal_year_start, 0);
        latest_complete_row(&periods, &spec, ds.as_of)
    };
    let retention = months
        .map(|m| crate::metrics::retention::gather_from(m, ds.as_of))
        .transpose()
        .context("computing cohort retention")?
        .map(|g| crate::metrics::retention::compute(&g, 12, 12));
    // The bow tie of the latest complete period (the one the KPI cards and
    // the MRR bridge show), read from the tables.
    let bow_tie = match latest {
        Some(r) => {
            let cperiods = frame_periods(&c.cycle, "period")?;
            let cr = cperiods.iter().position(|x| *x == periods[r]);
            let kv = |id: &str| -> Result<Option<f64>> {
                if k.column(id).is_err() { return Ok(None); }
                frame_f64(k, id, r)
            };
            let cv = |id: &str| -> Result<Option<f64>> {
                match cr {
                    Some(i) if c.cycle.column(id).is_ok() => frame_f64(&c.cycle, id, i),
                    _ => Ok(None),
                }
            };
            let mrr = ds.revenue.is_some();
            let mv = |id: &str| -> Result<Option<f64>> { if mrr { cv(id) } else { Ok(None) } };
            Some(crate::metrics::cycle::BowTie {
                period: chrono::NaiveDate::parse_from_str(&periods[r], "%Y-%m-%d").unwrap_or_default(),
                period_kind: a.period.name(),
                complete: true,
                leads: kv("leads")?,
                mqls: kv("mqls")?,
                sqls: kv("sqls")?,
                opportunities: kv("opportunities")?,
                new_customers: kv("new_customers")?,
                new_bookings: cv("new_bookings")?,
                expansion_bookings: cv("expansion_bookings")?,
                renewal_bookings: cv("renewal_bookings")?,
                starting_mrr: mv("starting_mrr")?,
                new_mrr: mv("new_mrr")?,
                expansion_mrr: mv("expansion_mrr")?,
                contraction_mrr: mv("contraction_mrr")?,
                churned_mrr: mv("churned_mrr")?,
                ending_mrr: mv("ending_mrr")?,
                nrr: mv("nrr")?,
            })
        }
        None => None,
    };
    let cost_components = m
        .components
        .iter()
        .map(|c| {
            let range = c.low.zip(c.high);
            (c.id.to_string(), c.value, range)
        })
        .collect::<Vec<_>>();
    let page = crate::output::html::Page {
        version: env!("CARGO_PKG_VERSION"),
        as_of: ts_text(ds.as_of),
        as_of_source: if p.loaded.as_of_given {
            "--as-of".to_string()
        } else {
            format!("the latest event, {}", p.loaded.as_of_source)
        },
        period: a.period.name(),
        currency: &a.currency,
        inputs: p.loaded.files.iter().map(|f| f.file.clone()).collect(),
        kpis: k,
        latest,
        funnel: f,
        cycle: &c.cycle,
        bow_tie: bow_tie.as_ref(),
        retention: retention.as_ref(),
        misalignment: &m.frame,
        cost_components,
        findings: &p.loaded.findings,
        extra,
        has_revenue: ds.revenue.is_some(),
        has_campaigns: ds.campaigns.is_some(),
        has_leads: ds.leads.is_some(),
        has_opportunities: ds.opportunities.is_some(),
    };
    crate::output::html::page(&page)
}

/// `alignment.csv`: the dimension column (with `--by`) and the score columns.
fn alignment_frame(frame: &DataFrame, a: &Analysis) -> Result<DataFrame> {
    let mut cols: Vec<&str> = Vec::new();
    if let Some(d) = a.by {
        cols.push(d.name());
    }
    cols.extend(ALIGNMENT_COLUMNS.iter().filter(|c| frame.column(c).is_ok()));
    frame
        .select(cols)
        .map_err(|e| anyhow::anyhow!("selecting the alignment columns: {e}"))
}

struct Summary {
    text: String,
    /// First day of the latest complete period, when there is one.
    latest: Option<String>,
}

fn ts_text(us: i64) -> String {
    crate::periods::instant_text(us)
}

fn rfc3339(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// `summary.md`: headline numbers of the latest complete period against the
/// previous one, the largest misalignment cost component, the data-quality
/// warnings.
fn summary(p: &Prepared, k: &DataFrame, c: &DataFrame, m: &Misalignment) -> Result<Summary> {
    let ds = &p.loaded.dataset;
    let a = &p.analysis;
    let avail = registry::availability(ds)?;
    let cur_label = &a.currency;
    let mut s = String::new();
    let _ = writeln!(s, "# revcycle report\n");
    let _ = writeln!(
        s,
        "- as of: {} UTC ({})",
        ts_text(ds.as_of),
        p.loaded.as_of_origin()
    );
    let periods = frame_periods(k, "period")?;
    let spec = PeriodSpec::new(a.period, a.fiscal_year_start, 0);
    let (row, label) = if a.period == PeriodKind::All {
        // One period over everything: nothing to compare it with.
        (
            if periods.is_empty() { None } else { Some(0) },
            "the whole data (--period all)".to_string(),
        )
    } else {
        (
            latest_complete_row(&periods, &spec, ds.as_of),
            format!("{}", a.period.name()),
        )
    };
    let latest = row.map(|r| periods[r].clone());
    match (&latest, a.period) {
        (Some(l), PeriodKind::All) => {
            let _ = writeln!(s, "- period: {label}, from {l}");
        }
        (Some(l), _) => {
            let _ = writeln!(s, "- period: {label}; latest complete {label}: {l}");
        }
        (None, _) => {
            let _ = writeln!(s, "- period: {label}; no complete {label} before as_of");
        }
    }
    let _ = writeln!(s);

    if let Some(r) = row {
        let prev = if r > 0 && a.period != PeriodKind::All {
            Some(r - 1)
        } else {
            None
        };
        let cur_name = &periods[r];
        let _ = writeln!(s, "## Headline numbers, {cur_name}\n");
        match prev {
            Some(pr) => {
                let _ = writeln!(s, "| metric | {} | {} | change |", cur_name, periods[pr]);
                let _ = writeln!(s, "|---|---:|---:|---:|");
            }
            None => {
                let _ = writeln!(s, "| metric | {cur_name} |");
                let _ = writeln!(s, "|---|---:|");
            }
        }
        let cperiods = frame_periods(c, "period")?;
        let c_rows = |name: &str| cperiods.iter().position(|x| x == name);
        let mut lines = Vec::new();
        for id in HEADLINE_KPIS {
            lines.push((id, k, Some(r), prev));
        }
        for id in HEADLINE_CYCLE {
            lines.push((
                id,
                c,
                c_rows(cur_name),
                prev.and_then(|pr| c_rows(&periods[pr])),
            ));
        }
        for (id, frame, cr, pr) in lines {
            let supported = registry::METRICS
                .iter()
                .find(|d| d.id == id)
                .map(|d| avail.is_available(d.command, d.id))
                .unwrap_or(false);
            if !supported || frame.column(id).is_err() {
                continue;
            }
            let kind = kind_of(id);
            let cur = match cr {
                Some(i) => frame_f64(frame, id, i)?,
                None => None,
            };
            match pr {
                Some(pi) => {
                    let before = frame_f64(frame, id, pi)?;
                    let how = change_kind(kind);
                    let _ = writeln!(
                        s,
                        "| {id} | {} | {} | {} |",
                        human_f64(cur, kind, cur_label),
                        human_f64(before, kind, cur_label),
                        human_change(change(before, cur, how), how)
                    );
                }
                None => {
                    let _ = writeln!(s, "| {id} | {} |", human_f64(cur, kind, cur_label));
                }
            }
        }
        let _ = writeln!(s);
    }

    let _ = writeln!(s, "## Misalignment cost\n");
    let range = match (a.from, a.to) {
        (None, None) => "over all data up to as_of".to_string(),
        (f, t) => format!(
            "over {} to {}",
            f.map(ts_text).unwrap_or_else(|| "the first row".into()),
            t.map(ts_text).unwrap_or_else(|| "as_of".into())
        ),
    };
    let total = if m.frame.height() > 0 {
        frame_f64(&m.frame, "misalignment_cost", 0)?
    } else {
        None
    };
    let mut largest: Option<(&str, f64)> = None;
    if m.frame.height() > 0 {
        for id in COST_COMPONENTS {
            if let Some(v) = frame_f64(&m.frame, id, 0)? {
                if largest.map_or(true, |(_, b)| v > b) {
                    largest = Some((id, v));
                }
            }
        }
    }
    match (largest, total) {
        (Some((id, v)), Some(t)) => {
            let share = if t > 0.0 {
                format!(" ({:.1}% of it)", v / t * 100.0)
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "Estimated misalignment cost {range}: {}; the largest component is `{id}`: {}{share}. \
                 Every assumption is in misalignment.csv and manifest.json.",
                human_f64(Some(t), kind_of("misalignment_cost"), cur_label),
                human_f64(Some(v), kind_of(id), cur_label),
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "Not computable from these inputs (see `revcycle validate`)."
            );
        }
    }
    if m.frame.height() > 0 {
        if let Some(score) = frame_f64(&m.frame, "alignment_score", 0)? {
            let _ = writeln!(
                s,
                "\nAlignment score: {} / 100.",
                human_f64(Some(score), kind_of("alignment_score"), "")
            );
        }
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Data quality\n");
    let artifacts = avail.warnings();
    if p.loaded.findings.is_empty() && artifacts.is_empty() {
        let _ = writeln!(s, "No findings.");
    } else {
        for f in &p.loaded.findings {
            let _ = writeln!(s, "- {}: {}", f.severity, f.one_line());
        }
        // Shapes of the export that make metrics artifacts (null).
        for w in &artifacts {
            let _ = writeln!(s, "- artifact: {w}");
        }
    }
    Ok(Summary { text: s, latest })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut f = File::open(path)
        .with_context(|| format!("reading `{}` for its checksum", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n_total = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading `{}` for its checksum", path.display()))?;
        if n == 0 {
            break;
        }
        n_total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((n_total, hex(&h.finalize())))
}

/// `manifest.json`: inputs (size, sha256), as_of, options, version, files.
fn manifest(
    p: &Prepared,
    cmd: &ReportCmd,
    files: &[(String, Vec<u8>)],
    latest: Option<&str>,
    assumptions: &[(String, String)],
) -> Result<Vec<u8>> {
    let a = &p.analysis;
    let spec = common::input_spec(&cmd.input);
    let sources = input::resolve_sources(&spec, &p.cfg)?;
    let mut inputs = Vec::new();
    for (kind, srcs) in &sources {
        for src in srcs {
            let (bytes, sha) = match src {
                Source::Path(path) => {
                    let (n, h) = sha256_file(path)?;
                    (Some(n), Some(h))
                }
                Source::Bytes { data, .. } => (
                    Some(data.len() as u64),
                    Some(hex(&Sha256::digest(data.as_slice()))),
                ),
                Source::Stdin => (None, None),
            };
            inputs.push(serde_json::json!({
                "table": kind.name(),
                "file": src.display(),
                "bytes": bytes,
                "sha256": sha,
            }));
        }
    }
    let written: Vec<serde_json::Value> = files
        .iter()
        .map(|(name, bytes)| {
            serde_json::json!({"file": name, "bytes": bytes.len(), "sha256": hex(&Sha256::digest(bytes))})
        })
        .collect();
    // Misalignment assumptions as printed by `revcycle misalignment`.
    let assumptions: serde_json::Map<String, serde_json::Value> = assumptions
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let v = serde_json::json!({
        "revcycle_version": env!("CARGO_PKG_VERSION"),
        "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "as_of": rfc3339(p.loaded.dataset.as_of),
        "as_of_given": p.loaded.as_of_given,
        "as_of_source": p.loaded.as_of_source,
        "latest_complete_period": latest,
        "config": p.cfg.source.as_ref().map(|s| s.display().to_string()),
        "options": {
            "period": a.period.name(),
            "fiscal_year_start": a.fiscal_year_start,
            "from": a.from.map(rfc3339),
            "to": a.to.map(rfc3339),
            "by": a.by.map(|d| d.name()),
            "sla_days": a.sla_days,
            "gross_margin": a.gross_margin,
            "sales_cost": a.sales_cost,
            "min_sample": a.min_sample,
            "misfit_reasons": a.misfit_reasons,
            "uplift": a.uplift,
            "response_buckets_hours": a.response_buckets_hours,
            "currency": a.currency,
        },
        "misalignment_assumptions": assumptions,
        "inputs": inputs,
        "files": written,
    });
    let mut out = serde_json::to_vec_pretty(&v)?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn out_pattern_expands_with_the_date() {
        let now = chrono::Utc.with_ymd_and_hms(2024, 3, 4, 5, 6, 7).unwrap();
        assert_eq!(
            expand_out("reports/%Y-%m-%d", &now).unwrap(),
            PathBuf::from("reports/2024-03-04")
        );
        assert_eq!(
            expand_out("r/%Y%m%dT%H%M", &now).unwrap(),
            PathBuf::from("r/20240304T0506")
        );
        assert_eq!(expand_out("plain", &now).unwrap(), PathBuf::from("plain"));
        assert_eq!(expand_out("100%%", &now).unwrap(), PathBuf::from("100%"));
        assert!(expand_out("bad-%Q", &now).is_err());
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn folder_is_written_whole_and_replaced_only_with_force() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("sub").join("r");
        let files = vec![
            ("a.csv".to_string(), b"1\n".to_vec()),
            ("b.md".to_string(), b"x".to_vec()),
        ];
        crate::output::atomic::write_atomic_folder(&target, &files, false, None).unwrap();
        assert_eq!(names(&target), vec!["a.csv", "b.md"]);
        let err = crate::output::atomic::write_atomic_folder(
            &target,
            &[("c".into(), vec![])],
            false,
            None,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("--force"));
        assert_eq!(names(&target), vec!["a.csv", "b.md"]);
        crate::output::atomic::write_atomic_folder(
            &target,
            &[("c".into(), b"new".to_vec())],
            true,
            None,
        )
        .unwrap();
        assert_eq!(names(&target), vec!["c"]);
        assert_eq!(
            names(&d.path().join("sub")),
            vec!["r"],
            "no temporary or old folder left"
        );
    }
}
