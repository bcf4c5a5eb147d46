//! The rules file of `revcycle check`: the `[[rule]]` tables, checked into
//! [`Rule`]s. Any problem is one error line naming the file and the rule
//! (index and line), with "did you mean" for a misspelt key or metric.

use std::path::Path;

use anyhow::{anyhow, bail, Result};

use crate::input;
use crate::output::format::{human_change, human_f64, kind_of, ChangeKind};
use crate::settings::Dimension;

/// Which period a rule looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum RulePeriod {
    /// The latest complete period (default).
    Latest,
    /// The whole data as one period.
    All,
    /// The period holding this instant (as written, microseconds).
    Date(String, i64),
}

/// One `[[rule]]` of the rules file, checked.
#[derive(Debug, Clone)]
pub struct Rule {
    /// 1-based position in the file.
    pub index: usize,
    /// Line of its `[[rule]]` header, when found.
    pub line: Option<usize>,
    pub name: Option<String>,
    pub metric: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// A dimension filter (`channel = "Paid Search"`).
    pub by: Option<(Dimension, String)>,
    /// `stage = "sql"` for funnel metrics.
    pub stage: Option<String>,
    pub period: RulePeriod,
    pub change_min: Option<f64>,
    pub change_max: Option<f64>,
    /// The metric at least this share of its target (`revcycle plan` targets).
    pub min_vs_target: Option<f64>,
    /// The pace of the period in progress at least this (docs/plan.md "Pacing").
    pub pace_min: Option<f64>,
    /// `table = "attribution"`: the metric is a column of `revcycle
    /// attribution` (conversions, value, share, spend, cost_per_conversion,
    /// roas) or `removal_effect`, for one `model` and one `by` unit.
    pub attribution: Option<AttrRule>,
}

/// The attribution part of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrRule {
    pub model: Option<crate::metrics::attribution::Model>,
    pub credit: crate::metrics::attribution::CreditKind,
}

/// The metrics an attribution rule can name.
pub const ATTRIBUTION_METRICS: [&str; 7] = [
    "conversions",
    "value",
    "share",
    "spend",
    "cost_per_conversion",
    "roas",
    "removal_effect",
];

impl Rule {
    /// `channel=Paid Search, stage=sql`, or empty.
    pub fn filter(&self) -> String {
        let mut parts = Vec::new();
        if let Some((d, v)) = &self.by {
            parts.push(format!("{}={v}", d.name()));
        }
        if let Some(s) = &self.stage {
            parts.push(format!("stage={s}"));
        }
        if let Some(a) = &self.attribution {
            if let Some(m) = a.model {
                parts.push(format!("model={}", m.name()));
            }
        }
        parts.join(", ")
    }

    /// The bounds for people: `>= 20.0%; change >= -10.0%`.
    pub fn bound_text(&self, currency: &str) -> String {
        let kind = kind_of(self.metric_id());
        let mut parts = Vec::new();
        if let Some(m) = self.min {
            parts.push(format!(">= {}", human_f64(Some(m), kind, currency)));
        }
        if let Some(m) = self.max {
            parts.push(format!("<= {}", human_f64(Some(m), kind, currency)));
        }
        if let Some(m) = self.change_min {
            parts.push(format!(
                "change >= {}",
                human_change(Some(m), ChangeKind::Relative)
            ));
        }
        if let Some(m) = self.change_max {
            parts.push(format!(
                "change <= {}",
                human_change(Some(m), ChangeKind::Relative)
            ));
        }
        if let Some(m) = self.min_vs_target {
            parts.push(format!(
                ">= {} of target",
                human_f64(Some(m), crate::output::ValueKind::Rate, "")
            ));
        }
        if let Some(m) = self.pace_min {
            parts.push(format!(
                "pace >= {}",
                human_f64(Some(m), crate::output::ValueKind::Rate, "")
            ));
        }
        parts.join("; ")
    }

    /// The id without a `command.` prefix.
    pub fn metric_id(&self) -> &str {
        self.metric
            .rsplit_once('.')
            .map(|(_, id)| id)
            .unwrap_or(&self.metric)
    }

    /// Name for people and JUnit: the rule's `name`, else
    /// `rule N: metric [filter] bounds`.
    pub fn title(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let f = self.filter();
        let f = if f.is_empty() {
            String::new()
        } else {
            format!(" [{f}]")
        };
        format!(
            "rule {}: {}{f} {}",
            self.index,
            self.metric,
            self.bound_text("")
        )
        .trim_end()
        .to_string()
    }
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Lines of the `[[rule]]` headers, in order.
fn rule_header_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let squeezed: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            squeezed.starts_with("[[rule]]")
        })
        .map(|(i, _)| i + 1)
        .collect()
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// Reads and checks the rules file; any problem is one error line naming the
/// file and the rule (index and line).
pub fn parse_rules(text: &str, path: &Path) -> Result<Vec<Rule>> {
    let file = path.display().to_string();
    let doc: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let line = e
                .span()
                .map(|s| format!(":{}", line_of(text, s.start)))
                .unwrap_or_default();
            bail!("rules file `{file}`{line}: {}", e.message().trim());
        }
    };
    for key in doc.keys() {
        if key != "rule" {
            bail!("rules file `{file}`: unknown key `{key}`; rules are written as [[rule]] tables");
        }
    }
    let Some(list) = doc.get("rule") else {
        bail!("rules file `{file}`: no rules; write each as a [[rule]] table with `metric` and `min`/`max`");
    };
    let Some(list) = list.as_array() else {
        bail!("rules file `{file}`: `rule` must be written as [[rule]] tables");
    };
    if list.is_empty() {
        bail!("rules file `{file}`: no rules");
    }
    let lines = rule_header_lines(text);
    let lines = if lines.len() == list.len() {
        lines
    } else {
        Vec::new()
    };
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let line = lines.get(i).copied();
            let at = match line {
                Some(l) => format!("rules file `{file}`, rule {} (line {l})", i + 1),
                None => format!("rules file `{file}`, rule {}", i + 1),
            };
            parse_rule(v, i + 1, line).map_err(|e| anyhow!("{at}: {e}"))
        })
        .collect()
}

fn parse_rule(
    v: &toml::Value,
    index: usize,
    line: Option<usize>,
) -> std::result::Result<Rule, String> {
    let t = v.as_table().ok_or("not a table")?;
    const KEYS: [&str; 12] = [
        "name",
        "metric",
        "min",
        "max",
        "by",
        "period",
        "change_vs_previous",
        "min_vs_target",
        "pace_min",
        "table",
        "model",
        "credit",
    ];
    for k in t.keys() {
        if !KEYS.contains(&k.as_str()) {
            return Err(format!(
                "unknown key `{k}`{} (keys: {})",
                input::suggest(k, KEYS.iter().copied()),
                KEYS.join(", ")
            ));
        }
    }
    let metric = match t.get("metric") {
        Some(toml::Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(_) => return Err("`metric` must be a metric id in quotes".into()),
        None => return Err("no `metric`".into()),
    };
    let name = match t.get("name") {
        None => None,
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`name` must be text".into()),
    };
    let num = |key: &str, tab: &toml::Table| -> std::result::Result<Option<f64>, String> {
        match tab.get(key) {
            None => Ok(None),
            Some(v) => number(v)
                .map(Some)
                .ok_or_else(|| format!("`{key}` must be a number")),
        }
    };
    let min = num("min", t)?;
    let max = num("max", t)?;
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            return Err(format!("`min` {a} is above `max` {b}"));
        }
    }
    let (mut change_min, mut change_max) = (None, None);
    if let Some(c) = t.get("change_vs_previous") {
        let ct = c
            .as_table()
            .ok_or("`change_vs_previous` must be a table: { min = -0.10 }")?;
        for k in ct.keys() {
            if k != "min" && k != "max" {
                return Err(format!(
                    "`change_vs_previous` has unknown key `{k}` (min, max)"
                ));
            }
        }
        change_min = num("min", ct).map_err(|e| format!("change_vs_previous: {e}"))?;
        change_max = num("max", ct).map_err(|e| format!("change_vs_previous: {e}"))?;
        if change_min.is_none() && change_max.is_none() {
            return Err("`change_vs_previous` needs `min` or `max`".into());
        }
    }
    let min_vs_target = num("min_vs_target", t)?;
    let pace_min = num("pace_min", t)?;
    let vs_target = min_vs_target.is_some() || pace_min.is_some();
    if vs_target && (min.is_some() || max.is_some() || change_min.is_some() || change_max.is_some())
    {
        return Err("`min_vs_target`/`pace_min` compare with a target: put `min`, `max`, `change_vs_previous` in another rule".into());
    }
    if min_vs_target.is_some() && pace_min.is_some() {
        return Err(
            "`min_vs_target` and `pace_min` look at different periods: one per rule".into(),
        );
    }
    if !vs_target && min.is_none() && max.is_none() && change_min.is_none() && change_max.is_none()
    {
        return Err(format!(
            "`{metric}` has no bound: give `min`, `max`, `change_vs_previous`, `min_vs_target` or `pace_min`"
        ));
    }
    let (mut by, mut stage) = (None, None);
    if let Some(b) = t.get("by") {
        let bt = b
            .as_table()
            .ok_or("`by` must be a table: { channel = \"Paid Search\" }")?;
        for (k, v) in bt {
            let val = v
                .as_str()
                .ok_or_else(|| format!("`by.{k}` must be text"))?
                .to_string();
            let dim = match k.as_str() {
                "channel" => Some(Dimension::Channel),
                "segment" => Some(Dimension::Segment),
                "owner" => Some(Dimension::Owner),
                "campaign" => Some(Dimension::Campaign),
                "stage" => None,
                other => {
                    const BY: [&str; 5] = ["channel", "segment", "owner", "campaign", "stage"];
                    return Err(format!(
                        "`by` has unknown key `{other}`{} (channel, segment, owner, campaign, stage)",
                        input::suggest(other, BY.iter().copied())
                    ));
                }
            };
            match dim {
                Some(d) => {
                    if by.is_some() {
                        return Err("`by` can filter on one dimension only (and a stage)".into());
                    }
                    by = Some((d, val));
                }
                None => stage = Some(val),
            }
        }
    }
    let period = match t.get("period") {
        None => RulePeriod::Latest,
        Some(toml::Value::String(s)) if s.trim() == "latest" => RulePeriod::Latest,
        Some(toml::Value::String(s)) if s.trim() == "all" => RulePeriod::All,
        Some(toml::Value::String(s)) => match input::parse_instant(s.trim(), false) {
            Ok(ts) => RulePeriod::Date(s.trim().to_string(), ts),
            Err(_) => {
                return Err(format!(
                    "`period` \"{s}\": use \"latest\", \"all\" or a date (YYYY-MM-DD)"
                ))
            }
        },
        Some(toml::Value::Datetime(d)) => {
            let s = d.to_string();
            match input::parse_instant(&s, false) {
                Ok(ts) => RulePeriod::Date(s, ts),
                Err(_) => {
                    return Err(format!(
                        "`period` {s}: use \"latest\", \"all\" or a date (YYYY-MM-DD)"
                    ))
                }
            }
        }
        Some(_) => return Err("`period` must be \"latest\", \"all\" or a date".into()),
    };
    if period == RulePeriod::All && (change_min.is_some() || change_max.is_some()) {
        return Err(
            "`change_vs_previous` needs a previous period; `period = \"all\"` has none".into(),
        );
    }
    let attribution = parse_attribution(t, &metric, &by, &stage, vs_target)?;
    Ok(Rule {
        index,
        line,
        name,
        metric,
        min,
        max,
        by,
        stage,
        period,
        change_min,
        change_max,
        min_vs_target,
        pace_min,
        attribution,
    })
}

/// `table = "attribution"`, `model`, `credit` of a rule: checked here.
fn parse_attribution(
    t: &toml::Table,
    metric: &str,
    by: &Option<(Dimension, String)>,
    stage: &Option<String>,
    vs_target: bool,
) -> std::result::Result<Option<AttrRule>, String> {
    use crate::metrics::attribution::{CreditKind, Model};
    let text = |k: &str| -> std::result::Result<Option<String>, String> {
        match t.get(k) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(format!("`{k}` must be text")),
        }
    };
    let table = text("table")?;
    let model = text("model")?;
    let credit = text("credit")?;
    match table.as_deref() {
        None => {
            if model.is_some() || credit.is_some() {
                return Err("`model` and `credit` are for attribution rules: add table = \"attribution\"".into());
            }
            return Ok(None);
        }
        Some("attribution") => {}
        Some(other) => {
            return Err(format!(
                "`table` \"{other}\" is unknown (table = \"attribution\" is the one table a rule can name)"
            ))
        }
    }
    if !ATTRIBUTION_METRICS.contains(&metric) {
        return Err(format!(
            "`{metric}` is not an attribution metric{} ({})",
            input::suggest(metric, ATTRIBUTION_METRICS.iter().copied()),
            ATTRIBUTION_METRICS.join(", ")
        ));
    }
    if stage.is_some() || vs_target {
        return Err(
            "attribution rules take `min`, `max`, `change_vs_previous`; no stage or target".into(),
        );
    }
    match by {
        Some((Dimension::Channel | Dimension::Campaign, _)) => {}
        _ => {
            return Err("an attribution rule names its unit: by = { channel = \"Paid Search\" } or by = { campaign = \"PS1\" }".into())
        }
    }
    let model = match model {
        None if metric == "removal_effect" => None,
        None => {
            return Err(format!(
                "`{metric}` of attribution needs a `model` (e.g. model = \"markov\")"
            ))
        }
        Some(m) => Some(Model::from_name(&m).ok_or_else(|| {
            format!(
                "`model` \"{m}\" is unknown{} ({})",
                input::suggest(&m, Model::ALL.iter().map(|m| m.name())),
                Model::ALL.map(|m| m.name()).join(", ")
            )
        })?),
    };
    let credit = match credit.as_deref() {
        None | Some("won") => CreditKind::Won,
        Some("opportunity") => CreditKind::Opportunity,
        Some("mql") => CreditKind::Mql,
        Some(other) => {
            return Err(format!(
                "`credit` \"{other}\" is unknown (won, opportunity, mql)"
            ))
        }
    };
    Ok(Some(AttrRule { model, credit }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Rule>> {
        parse_rules(text, Path::new("rules.toml"))
    }

    #[test]
    fn parses_the_spec_example() {
        let rules = parse(
            r#"
[[rule]]
metric = "win_rate"
min = 0.20

[[rule]]
metric = "speed_to_lead_hours"
max = 24
by = { channel = "Paid Search" }

[[rule]]
metric = "mqls"
period = "latest"
change_vs_previous = { min = -0.10 }

[[rule]]
metric = "leads"
period = "2024-03-15"
min = 1
"#,
        )
        .unwrap();
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[0].min, Some(0.2));
        assert_eq!(rules[0].line, Some(2));
        assert_eq!(rules[1].max, Some(24.0));
        assert_eq!(
            rules[1].by,
            Some((Dimension::Channel, "Paid Search".to_string()))
        );
        assert_eq!(rules[2].change_min, Some(-0.1));
        assert_eq!(rules[2].period, RulePeriod::Latest);
        assert_eq!(rules[3].line, Some(16));
        assert!(matches!(rules[3].period, RulePeriod::Date(_, _)));
    }

    #[test]
    fn bad_rules_name_file_rule_and_line() {
        let e = format!(
            "{:#}",
            parse("[[rule]]\nmetric = \"leads\"\nmin = 1\n\n[[rule]]\nmetric = \"mqls\"\n")
                .unwrap_err()
        );
        assert!(
            e.contains("rules.toml") && e.contains("rule 2 (line 5)") && e.contains("no bound"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            parse("[[rule]]\nmetric = \"leads\"\nmin = \n").unwrap_err()
        );
        assert!(e.contains("rules.toml`:3"), "{e}");
        let e = format!(
            "{:#}",
            parse("[[rule]]\nmetric = \"leads\"\nminn = 3\n").unwrap_err()
        );
        assert!(e.contains("did you mean 'min'"), "{e}");
        let e = format!(
            "{:#}",
            parse("[[rule]]\nmetric = \"leads\"\nmin = 5\nmax = 1\n").unwrap_err()
        );
        assert!(e.contains("above `max`"), "{e}");
        let e = format!("{:#}", parse("[[rule]]\nmetric = \"leads\"\nperiod = \"all\"\nchange_vs_previous = { min = 0 }\n").unwrap_err());
        assert!(e.contains("previous period"), "{e}");
        assert!(parse("").is_err());
    }
}
