//! Files in an input folder: `leads.*` ... by their exact names, then any
//! other export whose file name or headers say which table it is.

use super::table::TableLoad;
use super::*;

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

/// `DIR/TABLE.EXT` for the first extension of [`EXTENSIONS`] that exists.
pub(super) fn find_in_dir(dir: &Path, table: &str) -> Option<PathBuf> {
    EXTENSIONS
        .iter()
        .map(|e| dir.join(format!("{table}.{e}")))
        .find(|p| p.is_file())
}

/// What [`scan`] found in a folder.
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
        spill: None,
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
                            "neither its name nor its headers say which table it is".to_string(),
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
