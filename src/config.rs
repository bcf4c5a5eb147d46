//! `revcycle.toml`: input paths, presets, column and stage maps, parsing
//! options and the assumptions of the metrics. Every key is optional.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::model::TableKind;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Currency label shown in tables ("USD", "$", "EUR").
    pub currency: Option<String>,
    /// Read ambiguous numeric dates (every day <= 12) as day/month.
    pub day_first: Option<bool>,
    /// Amounts use a decimal comma (`1.200,50`).
    pub decimal_comma: Option<bool>,
    pub period: Option<crate::periods::PeriodKind>,
    /// First month of the fiscal year (1-12).
    pub fiscal_year_start: Option<u32>,
    pub sla_days: Option<f64>,
    pub gross_margin: Option<f64>,
    /// Sales cost per period, added to marketing spend in CAC.
    pub sales_cost: Option<f64>,
    #[serde(default)]
    pub inputs: Inputs,
    #[serde(default)]
    pub leads: TableConfig,
    #[serde(default)]
    pub opportunities: TableConfig,
    #[serde(default)]
    pub campaigns: TableConfig,
    #[serde(default)]
    pub revenue: TableConfig,
    /// `[touches]`: like the other tables, plus `channel_rules`.
    #[serde(default)]
    pub touches: TableConfig,
    #[serde(default)]
    pub misalignment: MisalignmentConfig,
    /// `[[target]]` tables: targets of `revcycle plan` (read with line numbers by `metrics::plan::targets`).
    #[serde(default)]
    pub target: Vec<toml::Table>,
    /// `[plan]`: `maturity_days`, `history_days` of `revcycle plan`.
    #[serde(default)]
    pub plan: PlanConfig,
    /// Folder of the config file: input paths are relative to it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Where the configuration came from, for messages.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    pub dir: Option<PathBuf>,
    pub leads: Option<PathBuf>,
    pub opportunities: Option<PathBuf>,
    #[serde(default)]
    pub campaigns: OneOrMany,
    pub revenue: Option<PathBuf>,
    /// Touches files (attribution), added up.
    #[serde(default)]
    pub touches: OneOrMany,
}

/// `campaigns = "a.csv"` or `campaigns = ["a.csv", "b.csv"]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    None,
    One(PathBuf),
    Many(Vec<PathBuf>),
}

impl OneOrMany {
    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            OneOrMany::None => vec![],
            OneOrMany::One(p) => vec![p.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// Header preset (canonical, salesforce, hubspot, pipedrive, google_ads,
    /// meta_ads, linkedin_ads); detected from the headers when absent.
    pub preset: Option<String>,
    /// Field delimiter; detected when absent.
    pub delimiter: Option<String>,
    pub day_first: Option<bool>,
    pub decimal_comma: Option<bool>,
    /// canonical column -> source header. One header may feed several columns.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// canonical column -> constant value for every row.
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
    /// Raw opportunity stage -> open / won / lost.
    #[serde(default)]
    pub stage_map: BTreeMap<String, String>,
    /// Raw opportunity type -> new_business / expansion / renewal.
    #[serde(default)]
    pub type_map: BTreeMap<String, String>,
    /// Text column -> (raw value -> value): `[campaigns.value_map.channel]
    /// Search = "Paid Search"`. Exact, case-sensitive match on the trimmed value.
    #[serde(default)]
    pub value_map: BTreeMap<String, BTreeMap<String, String>>,
    /// strftime-style format of dates revcycle does not read by itself: one
    /// for every timestamp column of the table, or per column.
    #[serde(default)]
    pub date_format: DateFormats,
    /// The sheet of a spreadsheet to read (else the first).
    pub sheet: Option<String>,
    /// `[touches.channel_rules]` only: "medium=cpc" / "source=facebook" /
    /// "source=x,medium=cpc" -> channel; checked before the default rules.
    #[serde(default)]
    pub channel_rules: BTreeMap<String, String>,
}

/// `date_format = "%d-%b-%Y"` or `[leads.date_format] created_at = "%d-%b-%Y"`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum DateFormats {
    #[default]
    None,
    All(String),
    PerColumn(BTreeMap<String, String>),
}

impl DateFormats {
    /// The format for `column`, if one is set.
    pub fn get(&self, column: &str) -> Option<&str> {
        match self {
            DateFormats::None => None,
            DateFormats::All(f) => Some(f),
            DateFormats::PerColumn(m) => m.get(column).map(String::as_str),
        }
    }

    fn entries(&self) -> Vec<(Option<&str>, &str)> {
        match self {
            DateFormats::None => vec![],
            DateFormats::All(f) => vec![(None, f.as_str())],
            DateFormats::PerColumn(m) => m
                .iter()
                .map(|(k, v)| (Some(k.as_str()), v.as_str()))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MisalignmentConfig {
    pub min_sample: Option<u64>,
    pub misfit_reasons: Option<Vec<String>>,
    pub uplift: Option<f64>,
    pub response_buckets_hours: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    pub maturity_days: Option<f64>,
    pub history_days: Option<f64>,
}

impl Config {
    pub fn table(&self, kind: TableKind) -> &TableConfig {
        match kind {
            TableKind::Leads => &self.leads,
            TableKind::Opportunities => &self.opportunities,
            TableKind::Campaigns => &self.campaigns,
            TableKind::Revenue => &self.revenue,
            TableKind::Touches => &self.touches,
        }
    }

    /// Load `path`, or `./revcycle.toml` when `path` is None and it exists.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let (path, explicit) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from("revcycle.toml"), false),
        };
        if !explicit && !path.is_file() {
            return Ok(Config {
                base_dir: PathBuf::from("."),
                ..Config::default()
            });
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading configuration `{}`", path.display()))?;
        let mut cfg: Config = toml::from_str(&text).map_err(|e| {
            let msg = e.message().to_string();
            let msg = format!("{msg}{}", did_you_mean(&msg));
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .map(|l| format!(", line {l}"))
                .unwrap_or_default();
            anyhow::anyhow!("configuration `{}`{line}: {msg}", path.display())
        })?;
        cfg.validate()
            .with_context(|| format!("configuration `{}`", path.display()))?;
        cfg.base_dir = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."))
            .to_path_buf();
        cfg.source = Some(path);
        Ok(cfg)
    }

    /// A path from the configuration, relative to the configuration's folder.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() || p == Path::new("-") {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    fn validate(&self) -> Result<()> {
        for kind in TableKind::ALL.into_iter().chain([TableKind::Touches]) {
            let t = self.table(kind);
            if kind != TableKind::Touches && !t.channel_rules.is_empty() {
                anyhow::bail!(
                    "[{}.channel_rules]: channel rules are for touches only ([touches.channel_rules])",
                    kind.name()
                );
            }
            for key in t.channel_rules.keys() {
                parse_rule_key(key)
                    .map_err(|e| anyhow::anyhow!("[touches.channel_rules] `{key}`: {e}"))?;
            }
            for key in t.columns.keys().chain(t.constants.keys()) {
                if kind.column(key).is_none() {
                    let names: Vec<&str> = kind.columns().iter().map(|c| c.name).collect();
                    anyhow::bail!(
                        "[{}] names unknown column `{key}`{}; columns are: {}",
                        kind.name(),
                        crate::text::suggest(key, names.iter().copied()),
                        names.join(", ")
                    );
                }
            }
            let names: Vec<&str> = kind.columns().iter().map(|c| c.name).collect();
            for (key, _) in &t.value_map {
                match kind.column(key) {
                    None => anyhow::bail!(
                        "[{}.value_map] names unknown column `{key}`{}; columns are: {}",
                        kind.name(),
                        crate::text::suggest(key, names.iter().copied()),
                        names.join(", ")
                    ),
                    Some(c) if c.kind != crate::model::ColumnKind::Text => anyhow::bail!(
                        "[{}.value_map.{key}]: `{key}` is not a text column (use stage_map or type_map for stage and type)",
                        kind.name()
                    ),
                    Some(_) => {}
                }
            }
            for (key, fmt) in t.date_format.entries() {
                if let Some(key) = key {
                    let ts_names: Vec<&str> = kind
                        .columns()
                        .iter()
                        .filter(|c| c.kind == crate::model::ColumnKind::Timestamp)
                        .map(|c| c.name)
                        .collect();
                    if !ts_names.contains(&key) {
                        anyhow::bail!(
                            "[{}.date_format] names `{key}`, which is not a date column{}; date columns are: {}",
                            kind.name(),
                            crate::text::suggest(key, ts_names.iter().copied()),
                            ts_names.join(", ")
                        );
                    }
                }
                if !valid_format(fmt) {
                    anyhow::bail!(
                        "[{}] date_format `{fmt}` is not a strftime format (e.g. \"%d-%b-%Y %H:%M\" for 29-Feb-2024 06:50)",
                        kind.name()
                    );
                }
            }
            if let Some(p) = &t.preset {
                if crate::presets::find(p, kind).is_none() {
                    anyhow::bail!(
                        "[{}] preset `{p}` is unknown; presets for {} are: {}",
                        kind.name(),
                        kind.name(),
                        crate::presets::names(kind).join(", ")
                    );
                }
            }
            for (raw, v) in &t.stage_map {
                if !matches!(v.as_str(), "open" | "won" | "lost") {
                    anyhow::bail!(
                        "[{}.stage_map] `{raw}` = `{v}`: a stage maps to open, won or lost",
                        kind.name()
                    );
                }
            }
            for (raw, v) in &t.type_map {
                if !matches!(v.as_str(), "new_business" | "expansion" | "renewal") {
                    anyhow::bail!(
                        "[{}.type_map] `{raw}` = `{v}`: a type maps to new_business, expansion or renewal",
                        kind.name()
                    );
                }
            }
            if let Some(d) = &t.delimiter {
                if d.chars().count() != 1 && d != "\\t" && d != "tab" {
                    anyhow::bail!(
                        "[{}] delimiter `{d}` must be one character (or \"tab\")",
                        kind.name()
                    );
                }
            }
        }
        if let Some(f) = self.fiscal_year_start {
            if !(1..=12).contains(&f) {
                anyhow::bail!("fiscal_year_start = {f}: a month number from 1 to 12");
            }
        }
        if let Some(g) = self.gross_margin {
            if !(0.0..=1.0).contains(&g) {
                anyhow::bail!("gross_margin = {g}: a fraction from 0 to 1");
            }
        }
        Ok(())
    }
}

/// Whether a `date_format` value is a usable strftime-style format (no
/// unknown `%` item); the loader parses with it (`input::parse`).
pub fn valid_format(fmt: &str) -> bool {
    use chrono::format::{Item, StrftimeItems};
    !fmt.is_empty() && !StrftimeItems::new(fmt).any(|i| matches!(i, Item::Error))
}

/// "; did you mean 'currency'?" for serde's "unknown field `curency`,
/// expected one of `currency`, ..." (empty for any other message), as a
/// rules typo gets.
fn did_you_mean(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("unknown field `") else {
        return String::new();
    };
    let Some((key, rest)) = rest.split_once('`') else {
        return String::new();
    };
    let Some((_, expected)) = rest.split_once("expected") else {
        return String::new();
    };
    let names: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .collect();
    crate::text::suggest(key, names.into_iter())
}

/// A `[touches.channel_rules]` key: `"SOURCE / MEDIUM"`, either side `*`
/// for any value. Returns (source, medium), `None` for `*`, lower-cased.
pub fn parse_rule_key(key: &str) -> Result<(Option<String>, Option<String>), String> {
    let Some((s, m)) = key.split_once('/') else {
        return Err(
            "expected \"SOURCE / MEDIUM\" (`*` for any), e.g. \"google / cpc\" or \"* / email\""
                .into(),
        );
    };
    let side = |x: &str| {
        let x = x.trim().to_lowercase();
        (x != "*").then_some(x)
    };
    let (s, m) = (side(s), side(m));
    if s.is_none() && m.is_none() {
        return Err("\"* / *\" would match every touch; name a source or a medium".into());
    }
    Ok((s, m))
}

#[cfg(test)]
mod tests {
    use super::valid_format;

    #[test]
    fn date_formats_are_checked() {
        assert!(valid_format("%d-%b-%Y %H:%M"));
        assert!(!valid_format("%Q"));
        assert!(!valid_format(""));
    }
}
