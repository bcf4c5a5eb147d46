//! Planning a file's columns: which preset its headers match (or the
//! configured one), which header or constant feeds each canonical column,
//! the value maps, and the stage/type maps of opportunities.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};

use super::suggest;
use super::table::{FileReport, Mapped};
use crate::config::TableConfig;
use crate::model::{ColumnSpec, TableKind};
use crate::presets::{self, Preset};

/// Where a canonical column's values come from.
#[derive(Debug, Clone)]
pub(super) enum From {
    Header(usize),
    Constant(String),
}

/// One canonical column of the table and its source in the file.
pub(super) struct Plan {
    pub(super) spec: &'static ColumnSpec,
    pub(super) from: Option<From>,
}

/// The value map of `column`: raw value (trimmed, case-sensitive) ->
/// (value, where the entry comes from). The configuration's entries win over
/// the preset's.
pub(super) fn value_map(
    preset: &Preset,
    tcfg: &TableConfig,
    column: &str,
) -> BTreeMap<String, (String, String)> {
    let mut m: BTreeMap<String, (String, String)> = presets::value_map(preset, column)
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                (v.to_string(), format!("preset {}", preset.name)),
            )
        })
        .collect();
    if let Some(user) = tcfg.value_map.get(column) {
        for (k, v) in user {
            m.insert(
                k.trim().to_string(),
                (v.clone(), "revcycle.toml".to_string()),
            );
        }
    }
    m
}

pub(super) fn source_label(from: &Option<From>, headers: &[String]) -> String {
    match from {
        Some(From::Header(i)) => headers.get(*i).map(|h| crate::shown(h)).unwrap_or_default(),
        Some(From::Constant(v)) => format!("constant \"{v}\""),
        None => String::new(),
    }
}

pub(super) fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// How well a row of cells looks like a header for `kind`: the best count of
/// cells matching one preset's aliases, plus configured header names.
pub(super) fn header_score(
    kind: TableKind,
    preset: Option<&str>,
    configured: &[String],
    cells: &[String],
) -> usize {
    let cells_n: BTreeSet<String> = cells.iter().map(|c| norm(c)).collect();
    let conf = configured
        .iter()
        .filter(|c| cells_n.contains(&norm(c)))
        .count();
    presets::PRESETS
        .iter()
        .filter(|p| p.table == kind && preset.map_or(true, |n| p.name.eq_ignore_ascii_case(n)))
        .map(|p| preset_matches(p, cells))
        .max()
        .unwrap_or(0)
        + conf
}

fn preset_matches(p: &Preset, headers: &[String]) -> usize {
    let hs: Vec<String> = headers.iter().map(|h| norm(h)).collect();
    let mut n = 0;
    for (_, aliases) in p.columns {
        if aliases.iter().any(|a| hs.contains(&norm(a))) {
            n += 1;
        }
    }
    for (_, prefix) in p.prefix_columns {
        let pl = norm(prefix);
        if hs.iter().any(|h| h.starts_with(&pl)) {
            n += 1;
        }
    }
    n
}

pub(super) fn choose_preset(
    kind: TableKind,
    tcfg: &TableConfig,
    headers: &[String],
) -> (&'static Preset, &'static str) {
    if let Some(name) = &tcfg.preset {
        if let Some(p) = presets::find(name, kind) {
            return (p, "configured");
        }
    }
    // Every required column mapped by hand: no vendor's aliases, implied
    // channel or value map is applied behind the user's back.
    if kind
        .columns()
        .iter()
        .filter(|c| c.required)
        .all(|c| tcfg.columns.contains_key(c.name) || tcfg.constants.contains_key(c.name))
    {
        return (
            presets::find("canonical", kind).expect("canonical preset"),
            "columns mapped in revcycle.toml",
        );
    }
    let mut best: Option<(&'static Preset, usize)> = None;
    for p in presets::PRESETS.iter().filter(|p| p.table == kind) {
        let s = preset_matches(p, headers);
        if best.map_or(true, |(_, bs)| s > bs) {
            best = Some((p, s));
        }
    }
    (
        best.map(|b| b.0)
            .unwrap_or_else(|| presets::find("canonical", kind).expect("canonical preset")),
        "detected",
    )
}

fn find_header(headers: &[String], name: &str) -> Option<usize> {
    headers
        .iter()
        .position(|h| h == name)
        .or_else(|| headers.iter().position(|h| norm(h) == norm(name)))
}

pub(super) fn plan_columns(
    name: &str,
    kind: TableKind,
    preset: &'static Preset,
    tcfg: &TableConfig,
    headers: &[String],
    report: &mut FileReport,
    strict: bool,
) -> Result<Vec<Plan>> {
    let mut plans = Vec::new();
    let mut used = BTreeSet::new();
    for spec in kind.columns() {
        let col = spec.name;
        let mut from = None;
        let mut via = String::new();
        if let Some(v) = tcfg.constants.get(col) {
            from = Some(From::Constant(v.clone()));
            via = "revcycle.toml (constant)".into();
        } else if let Some(h) = tcfg.columns.get(col) {
            match find_header(headers, h) {
                Some(i) => {
                    from = Some(From::Header(i));
                    via = "revcycle.toml".into();
                }
                None => bail!(
                    "`{name}`: column `{}` (configured for {}.{col}) is not in the file{}; headers found: {}",
                    crate::shown(h),
                    kind.name(),
                    suggest(h, headers.iter().map(String::as_str)),
                    shown_headers(headers)
                ),
            }
        } else {
            for a in preset.aliases(col) {
                if let Some(i) = find_header(headers, a) {
                    from = Some(From::Header(i));
                    via = format!("preset {}", preset.name);
                    break;
                }
            }
            if from.is_none() {
                if let Some((_, prefix)) = preset.prefix_columns.iter().find(|(c, _)| *c == col) {
                    let pl = norm(prefix);
                    if let Some(i) = headers.iter().position(|h| norm(h).starts_with(&pl)) {
                        from = Some(From::Header(i));
                        via = format!("preset {}", preset.name);
                        // "Amount spent (USD)": the currency is in the header
                        let h = &headers[i];
                        if let (Some(a), Some(b)) = (h.rfind('('), h.rfind(')')) {
                            if b > a + 1 {
                                report.header_currency = Some(h[a + 1..b].trim().to_string());
                            }
                        }
                    }
                }
            }
            if from.is_none() {
                if let Some(i) = find_header(headers, col) {
                    from = Some(From::Header(i));
                    via = "canonical name".into();
                }
            }
        }
        if strict && from.is_none() && spec.required {
            let mut candidates: Vec<&str> = preset.aliases(col).to_vec();
            candidates.push(col);
            let closest = closest_header(&candidates, headers);
            bail!(
                "`{name}`: missing required column `{col}` for {} ({}); headers found: {}{}",
                kind.name(),
                if preset.name == "canonical" {
                    format!("expected a header named `{col}` or a mapping in revcycle.toml [{}.columns]", kind.name())
                } else {
                    format!(
                        "preset {} expects {}",
                        preset.name,
                        preset
                            .aliases(col)
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )
                },
                if headers.is_empty() {
                    "(none)".to_string()
                } else {
                    shown_headers(headers)
                },
                closest
                    .map(|h| format!("; did you mean '{h}'?"))
                    .unwrap_or_default()
            );
        }
        if let Some(f) = &from {
            let source = match f {
                From::Header(i) => {
                    used.insert(*i);
                    headers[*i].clone()
                }
                From::Constant(v) => format!("= \"{v}\""),
            };
            report.mapping.push(Mapped {
                column: col.to_string(),
                source,
                via,
            });
        }
        plans.push(Plan { spec, from });
    }
    report.unmapped_headers = headers
        .iter()
        .enumerate()
        .filter(|(i, h)| !used.contains(i) && !h.is_empty())
        .map(|(_, h)| h.clone())
        .collect();
    Ok(plans)
}

/// The header closest to any of `candidates` (edit distance), if any is close.
fn closest_header<'a>(candidates: &[&str], headers: &'a [String]) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for h in headers {
        for c in candidates {
            let score = strsim::normalized_levenshtein(&norm(h), &norm(c));
            if best.map_or(true, |(_, s)| score > s) {
                best = Some((h.as_str(), score));
            }
        }
    }
    best.filter(|(_, s)| *s >= 0.4).map(|(h, _)| h)
}

pub(super) fn parse_status(raw: &str) -> Option<&'static str> {
    match raw.trim().to_lowercase().as_str() {
        "open" => Some("open"),
        "won" | "closed won" | "closedwon" => Some("won"),
        "lost" | "closed lost" | "closedlost" => Some("lost"),
        _ => None,
    }
}

/// Raw stage -> status and raw type -> deal type, configured entries first.
pub(super) struct StageMap {
    stages: BTreeMap<String, String>,
    types: BTreeMap<String, String>,
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

impl StageMap {
    pub(super) fn new(t: &TableConfig) -> StageMap {
        StageMap {
            stages: t
                .stage_map
                .iter()
                .map(|(k, v)| (norm(k), v.clone()))
                .collect(),
            types: t
                .type_map
                .iter()
                .map(|(k, v)| (norm(k), v.clone()))
                .collect(),
        }
    }

    pub(super) fn status(&self, stage: &str) -> &str {
        if !self.stages.is_empty() {
            if let Some(v) = self.stages.get(&norm(stage)) {
                return v;
            }
        }
        let s = squash(stage);
        if s == "won" || s.starts_with("closedwon") || s == "win" {
            "won"
        } else if s == "lost" || s.starts_with("closedlost") || s == "lose" {
            "lost"
        } else {
            "open"
        }
    }

    pub(super) fn deal_type(&self, raw: &str) -> Option<&str> {
        if !self.types.is_empty() {
            if let Some(v) = self.types.get(&norm(raw)) {
                return Some(v);
            }
        }
        let s = squash(raw);
        match s.as_str() {
            "newbusiness" | "new" | "newbiz" | "newcustomer" | "new_business" => {
                Some("new_business")
            }
            "renewal" | "renew" | "existingbusinessrenewal" => Some("renewal"),
            _ if s.contains("renewal") => Some("renewal"),
            "expansion" | "existingbusiness" | "upsell" | "upgrade" | "crosssell" | "addon"
            | "existingcustomer" => Some("expansion"),
            _ if s.starts_with("existingcustomer")
                || s.contains("upsell")
                || s.contains("upgrade")
                || s.contains("expansion") =>
            {
                Some("expansion")
            }
            _ => None,
        }
    }
}

/// The file's headers as an error message lists them: each one escaped and
/// cut to 80 characters (`crate::shown`), comma-separated.
pub(super) fn shown_headers(headers: &[String]) -> String {
    headers
        .iter()
        .map(|h| crate::shown(h))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_and_type_defaults() {
        let m = StageMap::new(&TableConfig::default());
        assert_eq!(m.status("Closed Won"), "won");
        assert_eq!(m.status("closedlost"), "lost");
        assert_eq!(m.status("Negotiation/Review"), "open");
        assert_eq!(m.deal_type("New Business"), Some("new_business"));
        assert_eq!(m.deal_type("Existing Business"), Some("expansion"));
        assert_eq!(
            m.deal_type("Existing Customer - Upgrade"),
            Some("expansion")
        );
        assert_eq!(m.deal_type("Renewal"), Some("renewal"));
        assert_eq!(m.deal_type("Partner"), None);
        let mut t = TableConfig::default();
        t.stage_map.insert("Engaging".into(), "open".into());
        t.stage_map.insert("Signed".into(), "won".into());
        let m = StageMap::new(&t);
        assert_eq!(m.status("signed"), "won");
    }
}
