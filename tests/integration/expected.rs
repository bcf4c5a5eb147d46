//! Known answers written in a fixture's `EXPECTED.md`, shared by the unit
//! tests (through `#[path]`) and the integration tests. Pure std.
//!
//! A block is a fenced code block whose info string is `expected <name>`
//! (one line per column: the column name, then one value per output row) or
//! `expected-rows <name>` (a header line of column names, then one line per
//! output row). Values are separated by whitespace; `-` is null; numbers may
//! be written as fractions (`2/3`).
#![allow(dead_code)]

/// The columns of block `name` in `md`, in order: (column name, values).
pub fn block(md: &str, name: &str) -> Vec<(String, Vec<String>)> {
    let mut lines = md.lines();
    let mut rows_layout = None;
    for line in lines.by_ref() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("```expected-rows ") {
            if rest.trim() == name {
                rows_layout = Some(true);
                break;
            }
        } else if let Some(rest) = l.strip_prefix("```expected ") {
            if rest.trim() == name {
                rows_layout = Some(false);
                break;
            }
        }
    }
    let rows_layout = rows_layout.unwrap_or_else(|| panic!("no block `{name}` in EXPECTED.md"));
    let body: Vec<Vec<String>> = lines
        .take_while(|l| !l.trim().starts_with("```"))
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    if rows_layout {
        let header = &body[0];
        header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), body[1..].iter().map(|r| r[i].clone()).collect()))
            .collect()
    } else {
        body.into_iter()
            .map(|mut r| {
                let name = r.remove(0);
                (name, r)
            })
            .collect()
    }
}

pub fn number(s: &str) -> Option<f64> {
    if let Some((a, b)) = s.split_once('/') {
        return Some(a.parse::<f64>().ok()? / b.parse::<f64>().ok()?);
    }
    s.parse().ok()
}

/// Whether an actual cell (`-` for null) matches an expected one: numbers
/// within 1e-9 (relative), anything else exactly.
pub fn cell_matches(expected: &str, actual: &str) -> bool {
    if expected == "-" || actual == "-" {
        return expected == actual;
    }
    match (number(expected), actual.parse::<f64>().ok()) {
        (Some(e), Some(a)) => (e - a).abs() <= 1e-9 * e.abs().max(1.0),
        _ => expected == actual,
    }
}

/// The exact decimal of `v`'s nearest millionth, trailing zeros dropped
/// (`580/9` -> `64.444444`, `2` -> `2`): how outputs print money.
pub fn millionths_text(v: f64) -> String {
    let m = (v * 1_000_000.0).round() as i64;
    let sign = if m < 0 { "-" } else { "" };
    let a = m.unsigned_abs();
    let (int, frac) = (a / 1_000_000, a % 1_000_000);
    if frac == 0 {
        format!("{sign}{int}")
    } else {
        let f = format!("{frac:06}");
        format!("{sign}{int}.{}", f.trim_end_matches('0'))
    }
}

/// Compare whole outputs given as (column, cells); panics with every mismatch.
pub fn assert_matches(
    what: &str,
    expected: &[(String, Vec<String>)],
    actual: &[(String, Vec<String>)],
) {
    assert_matches_with(what, expected, actual, &|_| false)
}

/// [`assert_matches`] for printed outputs: in the columns `money` says are
/// money, a number must print exactly as [`millionths_text`] of the
/// hand-derived value.
pub fn assert_matches_with(
    what: &str,
    expected: &[(String, Vec<String>)],
    actual: &[(String, Vec<String>)],
    money: &dyn Fn(&str) -> bool,
) {
    let names_e: Vec<&str> = expected.iter().map(|c| c.0.as_str()).collect();
    let names_a: Vec<&str> = actual.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names_a, names_e, "{what}: columns");
    let mut errors = Vec::new();
    for ((name, exp), (_, act)) in expected.iter().zip(actual) {
        assert_eq!(act.len(), exp.len(), "{what}: row count of column {name}");
        // Money prints the exact decimal of its nearest millionth: the text
        // must be exactly that of the hand-derived value (580/9 -> 64.444444).
        let is_money = money(name);
        for (i, (e, a)) in exp.iter().zip(act).enumerate() {
            let ok = match (is_money, number(e)) {
                (true, Some(v)) => millionths_text(v) == *a,
                _ => cell_matches(e, a),
            };
            if !ok {
                errors.push(format!("{name}[{i}]: expected {e}, got {a}"));
            }
        }
    }
    assert!(
        errors.is_empty(),
        "{what}: {} mismatches:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
