//! Text helpers every layer may use: "did you mean" suggestions for a
//! mistyped name, and the spreadsheet formula escape of CSV cells.

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
