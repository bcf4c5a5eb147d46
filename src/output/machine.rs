//! CSV and JSON: raw values for scripts, column names and order exactly as in
//! the frame.
//!
//! CSV: null, NaN and infinity are empty cells; dates `YYYY-MM-DD`,
//! timestamps RFC 3339 in UTC (`2024-01-01T09:30:00Z`); numbers as Rust's
//! shortest round-trip text (`0.1`, `12345`, no rounding); text that a
//! spreadsheet would run as a formula gets a leading `'`.
//! JSON: numbers as numbers, null/NaN/infinity as `null`, dates as ISO text.
//! Money columns ([`kind_of`] says which) print the exact decimal of the
//! nearest millionth in both (`30332.86`, never `30332.859999999997`).
//! NDJSON: one JSON object per row, one row per line, nothing around them.

use anyhow::{Context, Result};
use polars::prelude::{Column, DataFrame};

use super::format::{kind_of, money_decimal, Val, ValueKind};
pub use crate::text::escape_formula;

/// Whether a column holds money (its values print as exact decimals).
fn is_money(col: &Column) -> bool {
    kind_of(col.name().as_str()) == ValueKind::Money
}

/// A money cell's text when it is a float: the exact decimal of its nearest
/// millionth; `None` for anything else (printed as usual).
fn money_text(v: &Val, money: bool) -> Option<String> {
    match v {
        Val::Float(f) if money => money_decimal(*f),
        _ => None,
    }
}

/// The frame as CSV text (header row first).
pub fn to_csv(df: &DataFrame) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let columns = df.columns();
    w.write_record(columns.iter().map(|c| escape_formula(c.name().as_str())))
        .context("writing CSV header")?;
    let money: Vec<bool> = columns.iter().map(is_money).collect();
    let mut record: Vec<String> = Vec::with_capacity(columns.len());
    for row in 0..df.height() {
        record.clear();
        for (col, &m) in columns.iter().zip(&money) {
            let v = cell(col, row)?;
            record.push(money_text(&v, m).unwrap_or_else(|| csv_cell(&v)));
        }
        w.write_record(&record).context("writing CSV row")?;
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))
}

pub(crate) fn cell(col: &Column, row: usize) -> Result<Val> {
    let v = col
        .get(row)
        .with_context(|| format!("reading row {row} of column `{}`", col.name()))?;
    Ok(Val::from_any(&v))
}

fn csv_cell(v: &Val) -> String {
    match v {
        Val::Null => String::new(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) if f.is_finite() => f.to_string(),
        Val::Float(_) => String::new(),
        Val::Str(s) => escape_formula(s),
        Val::Date(_) | Val::DateTime(_) => v.iso().unwrap_or_default(),
    }
}

/// The rows of a frame as a JSON array of objects, one per line, keys in
/// column order. `indent` is put before each row.
pub fn json_rows(df: &DataFrame, indent: &str, out: &mut String) -> Result<()> {
    let keys = json_keys(df)?;
    if df.height() == 0 {
        out.push_str("[]");
        return Ok(());
    }
    let money: Vec<bool> = df.columns().iter().map(is_money).collect();
    out.push_str("[\n");
    for row in 0..df.height() {
        out.push_str(indent);
        out.push_str("  ");
        json_object(df, &keys, &money, row, out)?;
        if row + 1 < df.height() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str(indent);
    out.push(']');
    Ok(())
}

fn json_keys(df: &DataFrame) -> Result<Vec<String>> {
    df.columns()
        .iter()
        .map(|c| serde_json::to_string(c.name().as_str()))
        .collect::<std::result::Result<_, _>>()
        .context("writing JSON")
}

/// Row `row` of the frame as one JSON object on one line.
fn json_object(
    df: &DataFrame,
    keys: &[String],
    money: &[bool],
    row: usize,
    out: &mut String,
) -> Result<()> {
    out.push('{');
    for (i, ((col, key), &m)) in df.columns().iter().zip(keys).zip(money).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push(':');
        let v = cell(col, row)?;
        match money_text(&v, m) {
            Some(text) => out.push_str(&text),
            None => json_value(&v, out)?,
        }
    }
    out.push('}');
    Ok(())
}

/// The rows of a frame as NDJSON: one object per line.
pub fn to_ndjson(df: &DataFrame) -> Result<Vec<u8>> {
    let keys = json_keys(df)?;
    let money: Vec<bool> = df.columns().iter().map(is_money).collect();
    let mut out = String::new();
    for row in 0..df.height() {
        json_object(df, &keys, &money, row, &mut out)?;
        out.push('\n');
    }
    Ok(out.into_bytes())
}

fn json_value(v: &Val, out: &mut String) -> Result<()> {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(i) => out.push_str(&i.to_string()),
        // Rust's `{}` of a finite f64 is the shortest text that reads back to
        // the same number, and never uses an exponent: valid JSON.
        Val::Float(f) if f.is_finite() => out.push_str(&f.to_string()),
        Val::Float(_) => out.push_str("null"),
        Val::Str(s) => out.push_str(&serde_json::to_string(s).context("writing JSON")?),
        Val::Date(_) | Val::DateTime(_) => {
            let iso = v.iso().unwrap_or_default();
            out.push_str(&serde_json::to_string(&iso).context("writing JSON")?)
        }
    }
    Ok(())
}

/// The JSON document every command writes: one object, the `head` fields
/// first (`as_of`, `period`, ...: each value on one line), then the rows:
/// under `"rows"` for one section, under each section's name for several.
pub fn to_json(
    head: &[(&str, serde_json::Value)],
    sections: &[(&str, &DataFrame)],
) -> Result<Vec<u8>> {
    let mut out = String::from("{\n");
    let mut fields: Vec<String> = Vec::new();
    for (key, value) in head {
        fields.push(format!(
            "  {}: {}",
            serde_json::to_string(key).context("writing JSON")?,
            serde_json::to_string(value).context("writing JSON")?
        ));
    }
    for (name, df) in sections {
        let key = if sections.len() == 1 { "rows" } else { name };
        let mut f = format!(
            "  {}: ",
            serde_json::to_string(key).context("writing JSON")?
        );
        json_rows(df, "  ", &mut f)?;
        fields.push(f);
    }
    out.push_str(&fields.join(",\n"));
    out.push_str("\n}\n");
    Ok(out.into_bytes())
}

/// A JSON object of ready-made values, keys in the order given, each value
/// pretty-printed under its key (the shape of [`to_json`] for commands that
/// build their rows as JSON values: `check`, `validate`).
pub fn json_fields_text(fields: &[(&str, serde_json::Value)]) -> Result<Vec<u8>> {
    let mut parts = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        let text = serde_json::to_string_pretty(value).context("writing JSON")?;
        parts.push(format!(
            "  {}: {}",
            serde_json::to_string(key).context("writing JSON")?,
            text.replace('\n', "\n  ")
        ));
    }
    Ok(format!("{{\n{}\n}}\n", parts.join(",\n")).into_bytes())
}

/// JSON values as NDJSON: each on one line.
pub fn values_ndjson(values: &[serde_json::Value]) -> Result<Vec<u8>> {
    let mut out = String::new();
    for v in values {
        out.push_str(&serde_json::to_string(v).context("writing JSON")?);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use polars::prelude::*;

    fn frame() -> DataFrame {
        let d = |m| NaiveDate::from_ymd_opt(2024, m, 1).unwrap();
        let period = Series::new("period".into(), &[d(1), d(2), d(3)]);
        let leads = Series::new("leads".into(), &[10u32, 0, 12345]);
        let rate = Series::new("win_rate".into(), &[Some(0.25), None, Some(f64::NAN)]);
        let money = Series::new(
            "new_bookings".into(),
            &[Some(1234.5), Some(0.1 + 0.2), None],
        );
        let text = Series::new(
            "channel".into(),
            &[Some("=SUM(A1)"), Some("-5"), Some("-abc")],
        );
        let at = Series::new("note".into(), &[Some("@x"), None, Some("ok")]);
        DataFrame::new_infer_height(vec![
            period.into(),
            leads.into(),
            rate.into(),
            money.into(),
            text.into(),
            at.into(),
        ])
        .unwrap()
    }

    #[test]
    fn csv_escapes_formulas_but_not_numbers() {
        assert_eq!(escape_formula("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(escape_formula("-5"), "-5");
        assert_eq!(escape_formula("+1.5e3"), "+1.5e3");
        assert_eq!(escape_formula("-abc"), "'-abc");
        assert_eq!(escape_formula("@x"), "'@x");
        assert_eq!(escape_formula("\tx"), "'\tx");
        assert_eq!(escape_formula("-inf"), "'-inf");
        assert_eq!(escape_formula("Paid Search"), "Paid Search");
        assert_eq!(escape_formula(""), "");
    }

    #[test]
    fn csv_output() {
        let text = String::from_utf8(to_csv(&frame()).unwrap()).unwrap();
        let expected = "period,leads,win_rate,new_bookings,channel,note\n\
            2024-01-01,10,0.25,1234.5,'=SUM(A1),'@x\n\
            2024-02-01,0,,0.3,-5,\n\
            2024-03-01,12345,,,'-abc,ok\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn csv_datetimes_are_rfc3339_utc() {
        // 2024-01-02T03:04:05Z = 1704164645 s since the epoch.
        let s = Series::new("created_at".into(), &[1_704_164_645_000_000i64])
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
            .unwrap();
        let df = DataFrame::new_infer_height(vec![s.into()]).unwrap();
        let text = String::from_utf8(to_csv(&df).unwrap()).unwrap();
        assert_eq!(text, "created_at\n2024-01-02T03:04:05Z\n");
    }

    #[test]
    fn json_single_section_is_rows_in_an_object() {
        let head = [("as_of", serde_json::json!("2024-03-31T00:00:00Z"))];
        let text = String::from_utf8(to_json(&head, &[("kpis", &frame())]).unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["as_of"], "2024-03-31T00:00:00Z");
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["period"], "2024-01-01");
        assert_eq!(rows[0]["leads"], 10);
        assert_eq!(rows[0]["win_rate"], 0.25);
        assert!(rows[1]["win_rate"].is_null(), "null stays null");
        assert!(rows[2]["win_rate"].is_null(), "NaN becomes null");
        assert_eq!(rows[2]["channel"], "-abc", "no formula escaping in JSON");
        // Money: the exact decimal, 0.1 + 0.2 reads 0.3.
        assert!(text.contains("\"new_bookings\":0.3,"), "{text}");
        // Keys keep the frame's column order.
        let first_line = text.lines().nth(3).unwrap();
        let p = first_line.find("\"period\"").unwrap();
        let l = first_line.find("\"leads\"").unwrap();
        let n = first_line.find("\"note\"").unwrap();
        assert!(p < l && l < n, "{first_line}");
    }

    #[test]
    fn json_several_sections_are_keyed_by_name() {
        let f = frame();
        let empty = f.head(Some(0));
        let text =
            String::from_utf8(to_json(&[], &[("kpis", &f), ("notes", &empty)]).unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["kpis"].as_array().unwrap().len(), 3);
        assert_eq!(v["notes"].as_array().unwrap().len(), 0);
        assert!(v.get("rows").is_none());
    }

    #[test]
    fn ndjson_is_one_object_per_line() {
        let text = String::from_utf8(to_ndjson(&frame()).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["leads"], 0);
        assert!(lines[1].contains("\"new_bookings\":0.3,"), "{}", lines[1]);
        assert!(text.ends_with("}\n"));
    }
}
