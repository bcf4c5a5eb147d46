//! Loading exports onto the canonical tables: file formats, presets, column
//! maps, parsing of timestamps and amounts, the `as_of` cut, and the
//! data-quality findings `validate` reports and analysis commands warn about.

pub mod parse;
pub mod presets;
pub mod quality;
pub mod read;
pub mod table;
pub mod touches;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::config::Config;
use crate::model::{Dataset, Table, TableKind};
use read::Source;
use table::{FileReport, TableLoad};

/// Which files feed which table, as the user named them.
#[derive(Debug, Clone, Default)]
pub struct InputSpec {
    pub dir: Option<PathBuf>,
    pub leads: Option<PathBuf>,
    pub opportunities: Option<PathBuf>,
    pub campaigns: Vec<PathBuf>,
    pub revenue: Option<PathBuf>,
    pub demo: bool,
    /// `validate` reads any table alone (a campaigns export by itself).
    pub any_table: bool,
    /// Optional leads columns the command does not read (saves memory on
    /// large exports; see `TableLoad::skip`).
    pub skip_lead_columns: Vec<&'static str>,
    /// `--touches FILE` (repeatable, added up).
    pub touches: Vec<PathBuf>,
    /// Load the touches table (attribution, report, validate); the other
    /// commands never read it.
    pub with_touches: bool,
}

/// Extensions a table file may have inside a folder, in order of preference.
const EXTENSIONS: &[&str] = &[
    "csv",
    "csv.gz",
    "tsv",
    "tsv.gz",
    "txt",
    "parquet",
    "pq",
    "ndjson",
    "ndjson.gz",
    "jsonl",
    "jsonl.gz",
    "json",
    "xlsx",
    "xlsm",
    "xlsb",
    "xls",
    "ods",
];

/// Which files feed which table, and what a folder held besides.
#[derive(Debug, Default)]
pub struct Resolved {
    pub sources: BTreeMap<TableKind, Vec<Source>>,
    /// Folder files read though not named `leads.*` ...: path -> why.
    pub picked: BTreeMap<PathBuf, String>,
    /// Folder files that look like exports and were not read: (path, why).
    pub unread: Vec<(PathBuf, String)>,
    /// The touches files (only when `InputSpec::with_touches`).
    pub touches: Vec<Source>,
}

impl Resolved {
    /// One warning finding per folder file that looks like an export and was not read.
    pub fn findings(&self) -> Vec<quality::Finding> {
        self.unread
            .iter()
            .map(|(p, why)| quality::Finding {
                severity: "warning",
                table: "inputs".into(),
                check: "unread_file",
                count: 1,
                message: format!(
                    "`{}` looks like an export and was not read: {why}",
                    p.display()
                ),
                samples: vec![],
                warn: true,
            })
            .collect()
    }
}

/// A loaded table before the `as_of` cut, with `__line`/`__src` columns.
pub struct RawTable {
    pub kind: TableKind,
    pub frame: DataFrame,
    pub present: BTreeSet<String>,
    pub files: Vec<String>,
}

/// Everything loading produced.
pub struct Loaded {
    /// The tables as they stood at `as_of`, ids deduplicated: what metrics read.
    pub dataset: Dataset,
    pub files: Vec<FileReport>,
    pub findings: Vec<quality::Finding>,
    /// True when `--as-of` was given (else it is the latest event that has happened).
    pub as_of_given: bool,
    /// Where `as_of` came from: "--as-of", or the table and column of the
    /// latest event ("opportunities.close_date").
    pub as_of_source: String,
}

impl Loaded {
    /// Where `as_of` came from, for people: "--as-of", or "the latest event
    /// that has happened, leads.created_at".
    pub fn as_of_origin(&self) -> String {
        if self.as_of_given {
            "--as-of".to_string()
        } else {
            format!("the latest event that has happened, {}", self.as_of_source)
        }
    }

    /// One warning line per finding that changes what the analysis sees.
    pub fn warnings(&self) -> Vec<String> {
        self.findings
            .iter()
            .filter(|f| f.warn)
            .map(|f| f.one_line())
            .collect()
    }
}

/// "; did you mean 'x'?" for the closest of `options` to `name`, or "".
pub fn suggest<'a>(name: &str, options: impl Iterator<Item = &'a str>) -> String {
    let mut best: Option<(&str, f64)> = None;
    for o in options {
        let s = strsim::normalized_levenshtein(&name.to_lowercase(), &o.to_lowercase());
        if best.map_or(true, |(_, b)| s > b) {
            best = Some((o, s));
        }
    }
    match best {
        Some((o, s)) if s >= 0.4 => format!("; did you mean '{o}'?"),
        _ => String::new(),
    }
}

/// Resolve which sources feed each table: CLI flags over the configuration's
/// `[inputs]` over the folder's files.
pub fn resolve_sources(spec: &InputSpec, cfg: &Config) -> Result<BTreeMap<TableKind, Vec<Source>>> {
    Ok(resolve_inputs(spec, cfg)?.sources)
}

/// `resolve_sources`, with what the folder scan found.
pub fn resolve_inputs(spec: &InputSpec, cfg: &Config) -> Result<Resolved> {
    let mut out: BTreeMap<TableKind, Vec<Source>> = BTreeMap::new();
    let mut folder: Option<folder::Scan> = None;
    if spec.demo {
        let demo = crate::demo::builtin();
        for (kind, bytes) in [
            (TableKind::Leads, demo.leads),
            (TableKind::Opportunities, demo.opportunities),
            (TableKind::Campaigns, demo.campaigns),
            (TableKind::Revenue, demo.revenue),
        ] {
            out.insert(
                kind,
                vec![Source::Bytes {
                    name: format!("demo/{}.csv", kind.name()),
                    data: Arc::new(bytes),
                }],
            );
        }
        let touches = if spec.with_touches {
            vec![Source::Bytes {
                name: "demo/touches.csv".to_string(),
                data: Arc::new(demo.touches),
            }]
        } else {
            Vec::new()
        };
        return Ok(Resolved {
            sources: out,
            touches,
            ..Default::default()
        });
    }
    let dir = spec
        .dir
        .clone()
        .or_else(|| cfg.inputs.dir.as_ref().map(|d| cfg.resolve_path(d)));
    if let Some(dir) = &dir {
        let meta = std::fs::metadata(dir).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                anyhow::anyhow!("`{}`: folder not found", dir.display())
            }
            _ => anyhow::Error::new(e).context(format!("reading `{}`", dir.display())),
        })?;
        if !meta.is_dir() {
            bail!(
                "`{}` is a file, not a folder; name files with --leads, --opportunities, --campaigns, --revenue",
                dir.display()
            );
        }
        let scan = folder::scan(dir, cfg)?;
        for (kind, paths) in &scan.tables {
            out.insert(
                *kind,
                paths.iter().map(|p| Source::Path(p.clone())).collect(),
            );
        }
        if out.is_empty() {
            let unread: Vec<String> = scan
                .unread
                .iter()
                .map(|(p, why)| format!("`{}` ({why})", p.display()))
                .collect();
            bail!(
                "`{}` holds none of leads.*, opportunities.*, campaigns.*, revenue.* (csv, csv.gz, tsv, parquet, ndjson, xlsx, xls, ods) nor a file whose name or headers say which table it is{}",
                dir.display(),
                if unread.is_empty() {
                    String::new()
                } else {
                    format!("; not read: {}", unread.join(", "))
                }
            );
        }
        folder = Some(scan);
    }
    let cfg_one = |p: &Option<PathBuf>| p.as_ref().map(|p| Source::from_arg(&cfg.resolve_path(p)));
    for (kind, cli, conf) in [
        (TableKind::Leads, &spec.leads, &cfg.inputs.leads),
        (
            TableKind::Opportunities,
            &spec.opportunities,
            &cfg.inputs.opportunities,
        ),
        (TableKind::Revenue, &spec.revenue, &cfg.inputs.revenue),
    ] {
        if let Some(p) = cli {
            out.insert(kind, vec![Source::from_arg(p)]);
        } else if let Some(s) = cfg_one(conf) {
            out.entry(kind).or_insert_with(|| vec![s]);
        }
    }
    if !spec.campaigns.is_empty() {
        out.insert(
            TableKind::Campaigns,
            spec.campaigns.iter().map(|p| Source::from_arg(p)).collect(),
        );
    } else {
        let conf = cfg.inputs.campaigns.paths();
        if !conf.is_empty() {
            out.entry(TableKind::Campaigns).or_insert_with(|| {
                conf.iter()
                    .map(|p| Source::from_arg(&cfg.resolve_path(p)))
                    .collect()
            });
        }
    }
    let stdin_users = out
        .values()
        .flatten()
        .filter(|s| matches!(s, Source::Stdin))
        .count();
    if stdin_users > 1 {
        bail!("only one input can be read from standard input (`-`)");
    }
    // Any one table is enough: campaign-only and revenue-only inputs give the
    // metrics they support, every other metric is null.
    if out.is_empty() {
        bail!("no input: give a folder (revcycle kpis DIR), files (--leads FILE --opportunities FILE ...), [inputs] in revcycle.toml, or --demo");
    }
    let mut resolved = Resolved {
        sources: out,
        ..Default::default()
    };
    if spec.with_touches {
        // --touches over [inputs] touches over the folder's touches.*.
        let conf = cfg.inputs.touches.paths();
        resolved.touches = if !spec.touches.is_empty() {
            spec.touches.iter().map(|p| Source::from_arg(p)).collect()
        } else if !conf.is_empty() {
            conf.iter()
                .map(|p| Source::from_arg(&cfg.resolve_path(p)))
                .collect()
        } else {
            dir.as_deref()
                .and_then(|d| find_in_dir(d, "touches"))
                .map(|p| vec![Source::Path(p)])
                .unwrap_or_default()
        };
    }
    if let Some(scan) = folder {
        // A folder file replaced by a flag or [inputs] is not read either.
        let used: BTreeSet<PathBuf> = resolved
            .sources
            .values()
            .flatten()
            .filter_map(|s| match s {
                Source::Path(p) => Some(p.clone()),
                _ => None,
            })
            .collect();
        for (kind, paths) in &scan.tables {
            for p in paths.iter().filter(|p| !used.contains(*p)) {
                resolved.unread.push((
                    p.clone(),
                    format!("{} are read from the files given instead", kind.name()),
                ));
            }
        }
        resolved.picked = scan
            .picked
            .into_iter()
            .filter(|(p, _)| used.contains(p))
            .collect();
        resolved.unread.extend(scan.unread);
        resolved.unread.sort();
    }
    Ok(resolved)
}

fn find_in_dir(dir: &Path, table: &str) -> Option<PathBuf> {
    EXTENSIONS
        .iter()
        .map(|e| dir.join(format!("{table}.{e}")))
        .find(|p| p.is_file())
}

/// Files in an input folder: `leads.*` ... by their exact names, then any
/// other export whose file name or headers say which table it is.
mod folder {
    use super::*;
    use crate::input::table::TableLoad;

    pub struct Scan {
        pub tables: BTreeMap<TableKind, Vec<PathBuf>>,
        pub picked: BTreeMap<PathBuf, String>,
        pub unread: Vec<(PathBuf, String)>,
    }

    /// Extensions of files that look like exports (a `.txt` or `.json` file
    /// does only when named after a table).
    const EXPORT_EXTENSIONS: &[&str] = &[
        ".csv", ".tsv", ".parquet", ".pq", ".ndjson", ".jsonl", ".xlsx", ".xlsm", ".xlsb", ".xls",
        ".ods",
    ];

    /// Words of a file name that say which table it is (`google_ads_2024.csv`,
    /// `hubspot-deals-all.csv`, `Salesforce Leads.xlsx`).
    fn table_by_name(name: &str) -> Option<TableKind> {
        let stem = name.to_lowercase();
        let words: Vec<&str> = stem
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has = |ws: &[&str]| words.iter().any(|w| ws.contains(w));
        let joined = words.join("_");
        let kinds: Vec<TableKind> = [
            (
                TableKind::Leads,
                has(&[
                    "leads", "lead", "contacts", "contact", "persons", "people", "mqls", "mql",
                ]),
            ),
            (
                TableKind::Opportunities,
                has(&[
                    "opportunities",
                    "opportunity",
                    "opps",
                    "deals",
                    "deal",
                    "pipeline",
                ]),
            ),
            (
                TableKind::Campaigns,
                has(&["campaigns", "campaign", "ads", "adwords", "spend"])
                    || joined.contains("ad_spend"),
            ),
            (
                TableKind::Revenue,
                has(&["revenue", "mrr", "subscriptions", "billing"]),
            ),
        ]
        .into_iter()
        .filter(|(_, hit)| *hit)
        .map(|(k, _)| k)
        .collect();
        match kinds.as_slice() {
            [k] => Some(*k),
            _ => None,
        }
    }

    fn is_export_name(name: &str) -> bool {
        let n = name.to_lowercase();
        let n = n.strip_suffix(".gz").unwrap_or(&n);
        EXPORT_EXTENSIONS.iter().any(|e| n.ends_with(e))
    }

    fn is_data_name(name: &str) -> bool {
        let n = name.to_lowercase();
        EXTENSIONS.iter().any(|e| n.ends_with(&format!(".{e}")))
    }

    /// The required columns of `kind` that `path`'s headers do not give
    /// (empty when it can be read as `kind`), with how many columns map.
    fn fit(path: &Path, kind: TableKind, cfg: &Config) -> Option<(Vec<&'static str>, usize)> {
        let loader = TableLoad {
            kind,
            cfg,
            quiet: true,
            skip: &[],
        };
        let (report, _) = loader.detect(&Source::Path(path.to_path_buf())).ok()?;
        let mapped: BTreeSet<&str> = report.mapping.iter().map(|m| m.column.as_str()).collect();
        let missing = kind
            .required()
            .map(|c| c.name)
            .filter(|c| !mapped.contains(c))
            .collect();
        Some((missing, report.mapping.len()))
    }

    /// Files revcycle itself reads or writes beside the tables, never a table
    /// export: `targets.*` (plan), `touches.*` (attribution), `truth.*` (the
    /// demo's known answer). Not picked up, not warned about.
    fn is_companion(name: &str) -> bool {
        let stem = name.split('.').next().unwrap_or(name).to_ascii_lowercase();
        matches!(stem.as_str(), "targets" | "touches" | "truth")
    }

    pub fn scan(dir: &Path, cfg: &Config) -> Result<Scan> {
        let mut tables: BTreeMap<TableKind, Vec<PathBuf>> = BTreeMap::new();
        let mut picked = BTreeMap::new();
        let mut unread = Vec::new();
        for kind in TableKind::ALL {
            if let Some(p) = find_in_dir(dir, kind.name()) {
                tables.insert(kind, vec![p]);
            }
        }
        let exact: BTreeSet<PathBuf> = tables.values().flatten().cloned().collect();
        let mut names: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
            .with_context(|| format!("reading `{}`", dir.display()))?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| (e.file_name().to_string_lossy().to_string(), e.path()))
            .filter(|(n, p)| {
                !n.starts_with('.')
                    && !n.starts_with("~$")
                    && is_data_name(n)
                    && !exact.contains(p)
                    && !is_companion(n)
            })
            .collect();
        names.sort();
        // Candidates for the single-file tables, to choose from once all are seen.
        let mut candidates: BTreeMap<TableKind, Vec<(PathBuf, String)>> = BTreeMap::new();
        for (name, path) in names {
            let stem = name.split('.').next().unwrap_or(&name).to_string();
            let by_name = table_by_name(&stem);
            let (kind, why) = match by_name {
                Some(kind) => match fit(&path, kind, cfg) {
                    Some((missing, _)) if missing.is_empty() => (kind, "file name".to_string()),
                    Some((missing, _)) => {
                        unread.push((
                            path,
                            format!(
                                "its name says {} but it has no column for {}",
                                kind.name(),
                                missing.join(", ")
                            ),
                        ));
                        continue;
                    }
                    None => {
                        unread.push((
                            path,
                            format!("its name says {} but it cannot be read", kind.name()),
                        ));
                        continue;
                    }
                },
                None => {
                    if !is_export_name(&name) {
                        continue;
                    }
                    // Which tables its headers fit; the one mapping most columns.
                    let mut fits: Vec<(usize, TableKind)> = TableKind::ALL
                        .into_iter()
                        .filter_map(|k| match fit(&path, k, cfg) {
                            Some((missing, n)) if missing.is_empty() => Some((n, k)),
                            _ => None,
                        })
                        .collect();
                    fits.sort_by(|a, b| b.0.cmp(&a.0));
                    match fits.as_slice() {
                        [] => {
                            unread.push((
                                path,
                                "neither its name nor its headers say which table it is"
                                    .to_string(),
                            ));
                            continue;
                        }
                        [(a, _), (b, _), ..] if a == b => {
                            unread.push((
                                path,
                                format!(
                                    "its headers fit both {} and {}",
                                    fits[0].1.name(),
                                    fits[1].1.name()
                                ),
                            ));
                            continue;
                        }
                        [(_, k), ..] => (*k, "headers".to_string()),
                    }
                }
            };
            candidates.entry(kind).or_default().push((path, why));
        }
        for (kind, found) in candidates {
            let taken = tables.get(&kind).and_then(|v| v.first()).cloned();
            if kind == TableKind::Campaigns {
                // Several campaign exports add up, as with --campaigns.
                for (p, why) in found {
                    picked.insert(p.clone(), why);
                    tables.entry(kind).or_default().push(p);
                }
                continue;
            }
            match (taken, found.len()) {
                (Some(t), _) => {
                    for (p, _) in found {
                        unread.push((
                            p,
                            format!("{} are read from `{}`", kind.name(), t.display()),
                        ));
                    }
                }
                (None, 1) => {
                    let (p, why) = found.into_iter().next().expect("one");
                    picked.insert(p.clone(), why);
                    tables.insert(kind, vec![p]);
                }
                (None, _) => {
                    let list: Vec<String> = found
                        .iter()
                        .map(|(p, _)| format!("`{}`", p.display()))
                        .collect();
                    bail!(
                        "`{}`: several files look like {}: {}; name one with --{} or in [inputs] of revcycle.toml",
                        dir.display(),
                        kind.name(),
                        list.join(", "),
                        kind.name()
                    );
                }
            }
        }
        Ok(Scan {
            tables,
            picked,
            unread,
        })
    }
}

/// Load every table, apply the `as_of` cut and deduplicate ids.
pub fn load(spec: &InputSpec, cfg: &Config, as_of: Option<&str>, quiet: bool) -> Result<Loaded> {
    let resolved = resolve_inputs(spec, cfg)?;
    let sources = &resolved.sources;
    let mut raw = Vec::new();
    let mut files = Vec::new();
    for (kind, srcs) in sources {
        let skip: &[&str] = if *kind == TableKind::Leads {
            &spec.skip_lead_columns
        } else {
            &[]
        };
        let loader = TableLoad {
            kind: *kind,
            cfg,
            quiet,
            skip,
        };
        let mut frames = Vec::new();
        let mut present = BTreeSet::new();
        let mut names = Vec::new();
        for (i, src) in srcs.iter().enumerate() {
            let (df, p, mut report) = loader
                .load(src, i as u32)
                .with_context(|| format!("loading {}", kind.name()))?;
            if let Source::Path(path) = src {
                report.picked_up = resolved.picked.get(path).cloned();
            }
            frames.push(df);
            present.extend(p);
            names.push(src.display());
            files.push(report);
        }
        let mut frame = frames.remove(0);
        for f in frames {
            frame
                .vstack_mut(&f)
                .map_err(|e| anyhow::anyhow!("stacking {} files: {e}", kind.name()))?;
        }
        raw.push(RawTable {
            kind: *kind,
            frame,
            present,
            files: names,
        });
    }

    let now = now_micros()?;
    let (as_of, as_of_given, as_of_source) = match as_of {
        Some(text) => (
            parse_instant(text, cfg.day_first.unwrap_or(false)).with_context(|| "--as-of")?,
            true,
            "--as-of".to_string(),
        ),
        None => {
            let (t, source) = latest_timestamp(&raw, now)?.context(
                "the inputs hold no timestamp at or before the current clock: give --as-of",
            )?;
            (t, false, source)
        }
    };
    let mut findings = quality::check(&raw, &files, as_of)?;
    let touches = if resolved.touches.is_empty() {
        None
    } else {
        let (table, reports, after) = touches::load_touches(&resolved.touches, cfg, quiet, as_of)?;
        findings.extend(quality::check(&[], &reports, as_of)?);
        files.extend(reports);
        if after > 0 {
            findings.push(quality::Finding {
                severity: "warning",
                table: "touches".into(),
                check: "touches_after_as_of",
                count: after,
                message: format!(
                    "{after} touch(es) after as_of are left out (touches never move as_of)"
                ),
                samples: vec![],
                warn: true,
            });
        }
        Some(table)
    };
    findings.extend(quality::future_timestamps(&raw, now)?);
    findings.extend(resolved.findings());
    let mut ds = Dataset {
        leads: None,
        opportunities: None,
        campaigns: None,
        revenue: None,
        touches,
        as_of,
    };
    // Each table as read is dropped once cut: only one copy is alive at a time.
    for t in raw {
        let dups = findings
            .iter()
            .any(|f| f.check == "duplicate_ids" && f.table == t.kind.name());
        let frame = cut_at(t.kind, t.frame, as_of, dups)?;
        *ds.table_mut(t.kind) = Some(Table {
            kind: t.kind,
            frame,
            present: t.present,
        });
    }
    findings.extend(touch_findings(&ds)?);
    Ok(Loaded {
        dataset: ds,
        files,
        findings,
        as_of_given,
        as_of_source,
    })
}

/// The touches table against the leads: orphan touches (their `lead_id` is
/// no loaded lead: left out by attribution) and leads without any touch.
fn touch_findings(ds: &Dataset) -> Result<Vec<quality::Finding>> {
    let (Some(t), Some(l)) = (&ds.touches, &ds.leads) else {
        return Ok(Vec::new());
    };
    let strs = |df: &DataFrame, c: &str| -> Result<Vec<Option<String>>> {
        let s = df.column(c).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(s.str()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    };
    let leads: BTreeSet<String> = strs(&l.frame, "lead_id")?.into_iter().flatten().collect();
    let mut touched: BTreeSet<String> = BTreeSet::new();
    let mut orphans = 0u64;
    let mut samples: Vec<(String, u64, String)> = Vec::new();
    for id in strs(&t.frame, "lead_id")?.into_iter().flatten() {
        if leads.contains(&id) {
            touched.insert(id);
        } else {
            orphans += 1;
            if samples.len() < 3 && !samples.iter().any(|s| s.2 == id) {
                samples.push(("touches".to_string(), 0, id));
            }
        }
    }
    let mut out = Vec::new();
    if orphans > 0 {
        out.push(quality::Finding {
            severity: "warning",
            table: "touches".into(),
            check: "orphan_touches",
            count: orphans,
            message: format!(
                "{orphans} touch(es) whose lead_id is not a loaded lead are left out (e.g. {})",
                samples
                    .iter()
                    .map(|s| format!("`{}`", crate::shown(&s.2)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            samples: vec![],
            warn: true,
        });
    }
    let without = leads.len().saturating_sub(touched.len()) as u64;
    if without > 0 {
        out.push(quality::Finding {
            severity: "warning",
            table: "touches".into(),
            check: "leads_without_touches",
            count: without,
            message: format!(
                "{without} of {} leads have no touch (a converting one is credited through its own channel/campaign)",
                leads.len()
            ),
            samples: vec![],
            warn: false,
        });
    }
    Ok(out)
}

/// The environment variable that stands in for the current clock (RFC 3339
/// or a date), so that tests and reproducible runs do not depend on today.
pub const NOW_VAR: &str = "REVCYCLE_NOW";

/// The current clock in microseconds (UTC): `REVCYCLE_NOW` when set, else the
/// system clock.
pub fn now_micros() -> Result<i64> {
    match std::env::var(NOW_VAR) {
        Ok(text) if !text.trim().is_empty() => {
            let text = text.trim();
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
                return Ok(t.timestamp_micros());
            }
            parse_instant(text, false).with_context(|| format!("environment variable {NOW_VAR}"))
        }
        _ => Ok(chrono::Utc::now().timestamp_micros()),
    }
}

/// Parse `--as-of`, `--from`, `--to` values: any timestamp form of the inputs.
pub fn parse_instant(text: &str, day_first: bool) -> Result<i64> {
    parse::parse_timestamp(text)
        .and_then(|t| parse::resolve(t, day_first))
        .with_context(|| {
            format!("`{text}` is not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)")
        })
}

/// The default `as_of`: the latest event that has happened, with its
/// "table.column". An open deal's `close_date` is a plan, not an event, and a
/// timestamp after `now` has not happened (validate reports it): neither
/// counts. On a tie the first table and column in spec order names the source.
pub fn latest_timestamp(raw: &[RawTable], now: i64) -> Result<Option<(i64, String)>> {
    let mut latest: Option<(i64, String)> = None;
    for t in raw {
        for spec in t.kind.columns() {
            if spec.kind != crate::model::ColumnKind::Timestamp {
                continue;
            }
            let Some(max) = column_max(&t.frame, spec.name)? else {
                continue;
            };
            let plan = t.kind == TableKind::Opportunities && spec.name == "close_date";
            // Usually every value has happened: the column's max is the answer
            // without a filtering pass.
            let m = if max <= now && !plan {
                Some(max)
            } else {
                let ts = |v: i64| lit(v).cast(DataType::Datetime(TimeUnit::Microseconds, None));
                let mut cond = col(spec.name).lt_eq(ts(now));
                if plan {
                    cond = cond.and(col("status").neq(lit("open")));
                }
                let df = t
                    .frame
                    .clone()
                    .lazy()
                    .filter(cond)
                    .select([col(spec.name).max()])
                    .collect()
                    .map_err(|e| anyhow::anyhow!("finding the latest event: {e}"))?;
                column_max(&df, spec.name)?
            };
            if let Some(m) = m {
                if latest.as_ref().map_or(true, |(l, _)| m > *l) {
                    latest = Some((m, format!("{}.{}", t.kind.name(), spec.name)));
                }
            }
        }
    }
    Ok(latest)
}

/// The data as it stood at `as_of`: rows created after it left out, other
/// timestamps after it nulled (an opportunity closed after it is open), ids
/// deduplicated (first row kept), bookkeeping columns dropped.
fn cut_at(
    kind: TableKind,
    frame: DataFrame,
    as_of: i64,
    has_duplicates: bool,
) -> Result<DataFrame> {
    let ts = |v: i64| lit(v).cast(DataType::Datetime(TimeUnit::Microseconds, None));
    let created = kind.date_column();
    // Only do the work the data needs: usually nothing is after as_of and no
    // id repeats, and every step below would copy the whole table.
    let after = |c: &str| -> Result<bool> { Ok(column_max(&frame, c)?.is_some_and(|m| m > as_of)) };
    let filter_rows = after(created)?;
    let mut nulled: Vec<&str> = Vec::new();
    for c in kind.columns() {
        if c.kind == crate::model::ColumnKind::Timestamp && c.name != created && after(c.name)? {
            nulled.push(c.name);
        }
    }
    let dedupe = has_duplicates && kind.id_column().is_some();
    let keep: Vec<Expr> = kind.columns().iter().map(|c| col(c.name)).collect();
    if !filter_rows && nulled.is_empty() && !dedupe {
        return frame
            .lazy()
            .select(keep)
            .collect()
            .map_err(|e| anyhow::anyhow!("applying as_of: {e}"));
    }
    let mut lf = frame.lazy();
    if filter_rows {
        lf = lf.filter(col(created).lt_eq(ts(as_of)));
    }
    if kind == TableKind::Opportunities && nulled.contains(&"close_date") {
        lf = lf.with_column(
            when(
                col("close_date")
                    .gt(ts(as_of))
                    .and(col("status").neq(lit("open"))),
            )
            .then(lit("open"))
            .otherwise(col("status"))
            .alias("status"),
        );
    }
    if !nulled.is_empty() {
        lf = lf.with_columns(
            nulled
                .iter()
                .map(|c| {
                    when(col(*c).gt(ts(as_of)))
                        .then(lit(NULL).cast(DataType::Datetime(TimeUnit::Microseconds, None)))
                        .otherwise(col(*c))
                        .alias(*c)
                })
                .collect::<Vec<_>>(),
        );
    }
    if let (true, Some(id)) = (dedupe, kind.id_column()) {
        lf = lf.unique_stable(Some(cols([id])), UniqueKeepStrategy::First);
    }
    lf.select(keep)
        .collect()
        .map_err(|e| anyhow::anyhow!("applying as_of: {e}"))
}

/// The largest value of a timestamp column (microseconds), if any.
fn column_max(df: &DataFrame, name: &str) -> Result<Option<i64>> {
    let c = df.column(name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let phys = c.as_materialized_series().to_physical_repr();
    Ok(phys.i64().ok().and_then(|ca| ca.max()))
}
