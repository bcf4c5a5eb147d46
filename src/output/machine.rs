//! CSV and JSON: raw values for scripts, column names and order exactly as in
//! the frame.
//!
//! CSV: null, NaN and infinity are empty cells; dates `YYYY-MM-DD`,
//! timestamps RFC 3339 in UTC (`2024-01-01T09:30:00Z`); numbers as Rust's
//! shortest round-trip text (`0.1`, `12345`, no rounding); text that a
//! spreadsheet would run as a formula gets a leading `'`.
//! JSON: numbers as numbers, null/NaN/infinity as `null`, dates as ISO text.

use anyhow::{Context, Result};
use polars::prelude::{Column, DataFrame};

use super::format::Val;

/// The frame as CSV text (header row first).
pub fn to_csv(df: &DataFrame) -> Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let columns = df.columns();
    w.write_record(columns.iter().map(|c| escape_formula(c.name().as_str())))
        .context("writing CSV header")?;
    let mut record: Vec<String> = Vec::with_capacity(columns.len());
    for row in 0..df.height() {
        record.clear();
        for col in columns {
            record.push(csv_cell(&cell(col, row)?));
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

/// OWASP CSV-injection defence: a cell beginning with `=`, `+`, `-`, `@`, a
/// tab or a carriage return is prefixed with `'` unless it is a plain number
/// (`-5`, `+1.5e3`), which a spreadsheet reads as a number anyway.
pub fn escape_formula(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if !is_plain_number(s) => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// Digits, sign, point and exponent only, and parses as a finite number
/// (`inf` and `NaN` parse in Rust but are not numbers to a spreadsheet).
fn is_plain_number(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && s.parse::<f64>().map(|f| f.is_finite()).unwrap_or(false)
}

/// The rows of a frame as a JSON array of objects, one per line, keys in
/// column order. `indent` is put before each row.
pub fn json_rows(df: &DataFrame, indent: &str, out: &mut String) -> Result<()> {
    let columns = df.columns();
    let keys: Vec<String> = columns
        .iter()
        .map(|c| serde_json::to_string(c.name().as_str()))
        .collect::<std::result::Result<_, _>>()
        .context("writing JSON")?;
    if df.height() == 0 {
        out.push_str("[]");
        return Ok(());
    }
    out.push_str("[\n");
    for row in 0..df.height() {
        out.push_str(indent);
        out.push_str("  {");
        for (i, (col, key)) in columns.iter().zip(&keys).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(key);
            out.push(':');
            json_value(&cell(col, row)?, out)?;
        }
        out.push('}');
        if row + 1 < df.height() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str(indent);
    out.push(']');
    Ok(())
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

/// One frame as a JSON array, or several as an object keyed by section name.
pub fn to_json(sections: &[(&str, &DataFrame)]) -> Result<Vec<u8>> {
    let mut out = String::new();
    if let [(_, df)] = sections {
        json_rows(df, "", &mut out)?;
    } else {
        out.push_str("{\n");
        for (i, (name, df)) in sections.iter().enumerate() {
            out.push_str("  ");
            out.push_str(&serde_json::to_string(name).context("writing JSON")?);
            out.push_str(": ");
            json_rows(df, "  ", &mut out)?;
            if i + 1 < sections.len() {
                out.push(',');
            }
            out.push('\n');
        }
        out.push('}');
    }
    out.push('\n');
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
            2024-02-01,0,,0.30000000000000004,-5,\n\
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
    fn json_single_section_is_an_array() {
        let text = String::from_utf8(to_json(&[("kpis", &frame())]).unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let rows = v.as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0]["period"], "2024-01-01");
        assert_eq!(rows[0]["leads"], 10);
        assert_eq!(rows[0]["win_rate"], 0.25);
        assert!(rows[1]["win_rate"].is_null(), "null stays null");
        assert!(rows[2]["win_rate"].is_null(), "NaN becomes null");
        assert_eq!(rows[2]["channel"], "-abc", "no formula escaping in JSON");
        // Keys keep the frame's column order.
        let first_line = text.lines().nth(1).unwrap();
        let p = first_line.find("\"period\"").unwrap();
        let l = first_line.find("\"leads\"").unwrap();
        let n = first_line.find("\"note\"").unwrap();
        assert!(p < l && l < n, "{first_line}");
    }

    #[test]
    fn json_several_sections_is_an_object() {
        let f = frame();
        let empty = f.head(Some(0));
        let text = String::from_utf8(to_json(&[("kpis", &f), ("notes", &empty)]).unwrap()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["kpis"].as_array().unwrap().len(), 3);
        assert_eq!(v["notes"].as_array().unwrap().len(), 0);
    }
}
