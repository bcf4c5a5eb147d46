//! What `revcycle check` prints and writes: the table for people, the raw
//! frame (CSV), the JSON rows and the JUnit cases.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, Result};
use polars::prelude::*;

use super::count;
use super::evaluate::{raw_value, Evaluator, Outcome, Status};
use super::parse::Rule;
use crate::output::format::{human_change, human_f64, kind_of, ChangeKind};
use crate::output::junit::{Case, Verdict};
use crate::output::{Document, Records, Section};

fn str_col(name: &str, v: Vec<String>) -> Column {
    Column::new(name.into(), v)
}

fn f64_col(name: &str, v: Vec<Option<f64>>) -> Column {
    Column::new(name.into(), v)
}

/// The table for people: rule, metric, filter, period, value, bound, status.
fn human_frame(rules: &[Rule], outs: &[Outcome], currency: &str) -> Result<DataFrame> {
    let mut cols: [Vec<String>; 7] = Default::default();
    for (r, o) in rules.iter().zip(outs) {
        let kind = kind_of(r.metric_id());
        let mut value = match o.status {
            Status::Error if o.value.is_none() => "–".to_string(),
            _ => human_f64(o.value, kind, currency),
        };
        if let (Some(c), Some(p)) = (o.change, &o.previous_period) {
            let _ = write!(
                value,
                " ({} vs {p})",
                human_change(Some(c), ChangeKind::Relative)
            );
        }
        let row = [
            match &r.name {
                Some(n) => format!("{}. {n}", r.index),
                None => r.index.to_string(),
            },
            r.metric.clone(),
            r.filter(),
            o.period.clone().unwrap_or_else(|| "–".into()),
            value,
            r.bound_text(currency),
            o.status.word().to_string(),
        ];
        for (c, v) in cols.iter_mut().zip(row) {
            c.push(v);
        }
    }
    let names = [
        "rule", "metric", "filter", "period", "value", "bound", "status",
    ];
    let columns: Vec<Column> = names.iter().zip(cols).map(|(n, v)| str_col(n, v)).collect();
    DataFrame::new_infer_height(columns).map_err(|e| anyhow!("{e}"))
}

/// The results as raw values (CSV).
fn raw_frame(rules: &[Rule], outs: &[Outcome]) -> Result<DataFrame> {
    let s = |f: &dyn Fn(&Rule, &Outcome) -> String| -> Vec<String> {
        rules.iter().zip(outs).map(|(r, o)| f(r, o)).collect()
    };
    let n = |f: &dyn Fn(&Rule, &Outcome) -> Option<f64>| -> Vec<Option<f64>> {
        rules.iter().zip(outs).map(|(r, o)| f(r, o)).collect()
    };
    let columns = vec![
        Column::new(
            "rule".into(),
            rules.iter().map(|r| r.index as i64).collect::<Vec<_>>(),
        ),
        str_col("name", s(&|r, _| r.name.clone().unwrap_or_default())),
        str_col("metric", s(&|r, _| r.metric.clone())),
        str_col("filter", s(&|r, _| r.filter())),
        str_col("period", s(&|_, o| o.period.clone().unwrap_or_default())),
        f64_col("value", n(&|r, o| raw_value(&r.metric, o.value))),
        f64_col("min", n(&|r, _| raw_value(&r.metric, r.min))),
        f64_col("max", n(&|r, _| raw_value(&r.metric, r.max))),
        str_col(
            "previous_period",
            s(&|_, o| o.previous_period.clone().unwrap_or_default()),
        ),
        f64_col(
            "previous_value",
            n(&|r, o| raw_value(&r.metric, o.previous_value)),
        ),
        f64_col("change", n(&|_, o| o.change)),
        f64_col("change_min", n(&|r, _| r.change_min)),
        f64_col("change_max", n(&|r, _| r.change_max)),
        f64_col("target", n(&|r, o| raw_value(&r.metric, o.target))),
        f64_col("vs_target", n(&|_, o| o.vs_target)),
        f64_col("min_vs_target", n(&|r, _| r.min_vs_target)),
        f64_col("pace", n(&|_, o| o.pace)),
        f64_col("pace_min", n(&|r, _| r.pace_min)),
        str_col("status", s(&|_, o| o.status.word().to_lowercase())),
        str_col("message", s(&|_, o| o.message.clone())),
    ];
    DataFrame::new_infer_height(columns).map_err(|e| anyhow!("{e}"))
}

/// One JSON object per rule (the rows of `--format json`, the lines of ndjson).
fn json_rows(rules: &[Rule], outs: &[Outcome]) -> Vec<serde_json::Value> {
    rules
        .iter()
        .zip(outs)
        .map(|(r, o)| {
            let by: serde_json::Map<String, serde_json::Value> =
                r.by.iter()
                    .map(|(d, v)| (d.name().to_string(), v.clone()))
                    .chain(r.stage.iter().map(|s| ("stage".to_string(), s.clone())))
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect();
            let m = |v: Option<f64>| raw_value(&r.metric, v);
            serde_json::json!({
                "rule": r.index,
                "name": r.name,
                "line": r.line,
                "metric": r.metric,
                "by": by,
                "period": o.period,
                "value": m(o.value),
                "min": m(r.min),
                "max": m(r.max),
                "previous_period": o.previous_period,
                "previous_value": m(o.previous_value),
                "change": o.change,
                "change_vs_previous": if r.change_min.is_some() || r.change_max.is_some() {
                    serde_json::json!({"min": r.change_min, "max": r.change_max})
                } else {
                    serde_json::Value::Null
                },
                "target": m(o.target),
                "vs_target": o.vs_target,
                "min_vs_target": r.min_vs_target,
                "pace": o.pace,
                "pace_min": r.pace_min,
                "status": o.status.word().to_lowercase(),
                "message": if o.message.is_empty() { None } else { Some(&o.message) },
            })
        })
        .collect()
}

/// The fields of `--format json` after the common head: the rules file, the
/// tally, and one row per rule under `rows`.
fn json(
    rules: &[Rule],
    outs: &[Outcome],
    path: &Path,
) -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("rules_file", serde_json::json!(path.display().to_string())),
        ("passed", serde_json::json!(count(outs, Status::Pass))),
        ("failed", serde_json::json!(count(outs, Status::Fail))),
        ("errors", serde_json::json!(count(outs, Status::Error))),
        ("rows", serde_json::Value::Array(json_rows(rules, outs))),
    ]
}
/// Each rule that did not pass, for people: `rule 2 (FAIL): ...`.
pub(super) fn failure_notes(rules: &[Rule], outs: &[Outcome]) -> Vec<String> {
    rules
        .iter()
        .zip(outs)
        .filter(|(_, o)| o.status != Status::Pass)
        .map(|(r, o)| format!("rule {} ({}): {}", r.index, o.status.word(), o.message))
        .collect()
}

/// The document `check` prints: the table for people (with `notes` under
/// it), the raw values for CSV, the rule objects for JSON and NDJSON.
pub(super) fn document(
    rules: &[Rule],
    outs: &[Outcome],
    path: &Path,
    currency: &str,
    notes: Vec<String>,
) -> Result<Document> {
    let section = Section::new("check", human_frame(rules, outs, currency)?)
        .with_csv_frame(raw_frame(rules, outs)?)
        .with_notes(notes);
    Ok(Document::single(section).with_records(Records {
        fields: json(rules, outs, path),
        rows: json_rows(rules, outs),
        csv: None,
    }))
}

/// JUnit XML: one testcase per rule; `<failure>` (type `threshold`) on FAIL,
/// `<error>` (type `evaluation`) when the rule could not be evaluated.
pub fn junit(rules: &[Rule], outs: &[Outcome], path: &Path) -> String {
    let cases: Vec<Case> = rules
        .iter()
        .zip(outs)
        .map(|(r, o)| {
            let class = match Evaluator::resolve(r) {
                _ if r.attribution.is_some() => "revcycle.check.attribution".to_string(),
                Ok(d) => format!("revcycle.check.{}", d.command),
                Err(_) => "revcycle.check".to_string(),
            };
            let detail = format!(
                "metric: {}\nfilter: {}\nperiod: {}\nvalue: {}\nbound: {}",
                r.metric,
                r.filter(),
                o.period.clone().unwrap_or_default(),
                o.value
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "null".into()),
                r.bound_text("")
            );
            let (verdict, kind) = match o.status {
                Status::Pass => (Verdict::Pass, ""),
                Status::Fail => (Verdict::Failure, "threshold"),
                Status::Error => (Verdict::Error, "evaluation"),
            };
            Case {
                name: r.title(),
                class,
                verdict,
                message: o.message.clone(),
                kind: kind.to_string(),
                detail,
            }
        })
        .collect();
    crate::output::junit::junit("revcycle check", &path.display().to_string(), &cases)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::check::parse_rules;

    #[test]
    fn junit_escapes_and_counts() {
        let rules = parse_rules(
            "[[rule]]\nname = \"a < b & c\"\nmetric = \"leads\"\nmin = 1\n",
            Path::new("rules.toml"),
        )
        .unwrap();
        let outs = vec![Outcome {
            status: Status::Fail,
            message: "x \"y\"".into(),
            ..Outcome::error("")
        }];
        let x = junit(&rules, &outs, Path::new("r.toml"));
        assert!(x.contains(r#"name="a &lt; b &amp; c""#), "{x}");
        assert!(x.contains(r#"<failure message="x &quot;y&quot;""#), "{x}");
        assert!(x.contains(r#"tests="1" failures="1" errors="0""#), "{x}");
    }
}
