//! Parsing of the values real exports write: timestamps in ISO, US and
//! day-first forms, and amounts with currency symbols, thousands separators
//! and an optional decimal comma.

use chrono::NaiveDate;

const US_PER_SEC: i64 = 1_000_000;
const US_PER_DAY: i64 = 86_400 * US_PER_SEC;

/// A parsed timestamp. Numeric `a/b/yyyy` dates are ambiguous until the
/// column is seen as a whole, so they keep both readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ts {
    /// Microseconds since the epoch, UTC.
    Exact(i64),
    /// A plain number in `SERIAL_RANGE`, read as an Excel serial date
    /// (microseconds): a date only when the whole column is such numbers.
    Serial(i64),
    /// `a/b/y`: `month_first` reads a as the month, `day_first` as the day;
    /// either is `None` when that reading is not a valid date.
    Slash {
        month_first: Option<i64>,
        day_first: Option<i64>,
        a: u32,
        b: u32,
    },
}

/// `str::trim` with a fast path: a cell that starts and ends with a
/// printable ASCII character is returned as it is (most cells; `trim`
/// decodes characters from both ends). Same result as `str::trim` always.
pub fn trim(s: &str) -> &str {
    // ASCII bytes that are Unicode white space: \t \n \x0B \x0C \r and space.
    let plain = |c: u8| c.is_ascii() && !matches!(c, b'\t'..=b'\r' | b' ');
    match s.as_bytes() {
        [] => s,
        [first, .., last] if plain(*first) && plain(*last) => s,
        [only] if plain(*only) => s,
        _ => s.trim(),
    }
}

/// Values that mean "no value" in exports besides the empty string.
pub fn is_null_token(s: &str) -> bool {
    matches!(
        s,
        "" | "--" | "-" | "NULL" | "null" | "N/A" | "n/a" | "#N/A" | "NaN" | "nan" | "None"
    )
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    /// 1..=max_len digits.
    fn digits(&mut self, max_len: usize) -> Option<(u32, usize)> {
        let start = self.i;
        let mut v: u32 = 0;
        while self.i < self.b.len() && self.i - start < max_len && self.b[self.i].is_ascii_digit() {
            v = v * 10 + (self.b[self.i] - b'0') as u32;
            self.i += 1;
        }
        let n = self.i - start;
        (n > 0).then_some((v, n))
    }
    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ') | Some(b'\t')) {
            self.i += 1;
        }
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
    fn rest(&self) -> &'a [u8] {
        &self.b[self.i..]
    }
}

fn days_from_civil(y: i32, m: u32, d: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    Some(
        date.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?)
            .num_days(),
    )
}

/// Time of day and zone after a date: `[T| ]HH:MM[:SS[.frac]] [AM|PM] [Z|UTC|±HH[:]MM]`.
/// Returns microseconds of the day minus the zone offset (so the sum with the
/// date is UTC).
fn time_part(c: &mut Cursor) -> Option<i64> {
    if c.done() {
        return Some(0);
    }
    if !(c.eat(b'T') || c.eat(b' ')) {
        return None;
    }
    c.skip_spaces();
    let (h, _) = c.digits(2)?;
    if !c.eat(b':') {
        return None;
    }
    let (mi, mn) = c.digits(2)?;
    if mn != 2 {
        return None;
    }
    let mut s = 0;
    let mut frac_us: i64 = 0;
    if c.eat(b':') {
        let (sv, sn) = c.digits(2)?;
        if sn != 2 {
            return None;
        }
        s = sv;
        if c.eat(b'.') || c.eat(b',') {
            let start = c.i;
            let mut v: i64 = 0;
            let mut n = 0;
            while let Some(d) = c.peek().filter(|d| d.is_ascii_digit()) {
                if n < 6 {
                    v = v * 10 + (d - b'0') as i64;
                    n += 1;
                }
                c.i += 1;
            }
            if c.i == start {
                return None;
            }
            for _ in n..6 {
                v *= 10;
            }
            frac_us = v;
        }
    }
    let mut hour = h;
    c.skip_spaces();
    let rest = c.rest();
    if rest.len() >= 2
        && (rest[..2].eq_ignore_ascii_case(b"AM") || rest[..2].eq_ignore_ascii_case(b"PM"))
    {
        if !(1..=12).contains(&hour) {
            return None;
        }
        let pm = rest[..2].eq_ignore_ascii_case(b"PM");
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
        c.i += 2;
        c.skip_spaces();
    }
    if hour > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut offset_us: i64 = 0;
    if !c.done() {
        let rest = c.rest();
        if rest == b"Z" || rest.eq_ignore_ascii_case(b"UTC") || rest.eq_ignore_ascii_case(b"GMT") {
            c.i = c.b.len();
        } else if matches!(c.peek(), Some(b'+') | Some(b'-')) {
            let neg = c.peek() == Some(b'-');
            c.i += 1;
            let (oh, on) = c.digits(2)?;
            if on != 2 {
                return None;
            }
            c.eat(b':');
            let om = if c.done() { 0 } else { c.digits(2)?.0 };
            let off = (oh as i64 * 3600 + om as i64 * 60) * US_PER_SEC;
            offset_us = if neg { -off } else { off };
        } else {
            return None;
        }
    }
    if !c.done() {
        return None;
    }
    Some(
        (hour as i64 * 3600 + mi as i64 * 60 + s.min(59) as i64) * US_PER_SEC + frac_us - offset_us,
    )
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_name(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| w.starts_with(m) && m.starts_with(&w[..3]))
        .map(|i| i as u32 + 1)
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `Thursday`, `Thu`, `Thu.` -> 0 (Monday) ..= 6.
fn weekday_name(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    (0..7)
        .find(|&i| w == WEEKDAYS[i] || w == FULL[i] || (w.len() == 4 && FULL[i].starts_with(&w)))
        .map(|i| i as u32)
}

/// `Jan 31, 2024`, `January 31 2024`, `31 Jan 2024`, `29-Feb-2024`,
/// `29-FEB-24`, `Thursday, February 29, 2024`, `February 29th, 2024`,
/// `Feb 2024` (the month's first day), each optionally followed by a time
/// (`06:50`, `6:50 PM`). A weekday that does not match the date is not a date.
fn parse_named_month(s: &str) -> Option<i64> {
    let mut toks: Vec<&str> = s
        .split(|c: char| c == ' ' || c == ',')
        .filter(|p| !p.is_empty())
        .collect();
    let weekday = toks.first().and_then(|t| weekday_name(t));
    if weekday.is_some() {
        toks.remove(0);
    }
    // `29-Feb-2024`, `29/Feb/2024`: one token holding day, month and year.
    let mut short_year_ok = false;
    if let Some(first) = toks.first().copied() {
        for sep in ['-', '/'] {
            let parts: Vec<&str> = first.split(sep).collect();
            if parts.len() == 3 && parts.iter().all(|p| !p.is_empty()) {
                toks.splice(0..1, parts);
                short_year_ok = true;
                break;
            }
        }
    }
    let day = |t: &str| -> Option<u32> {
        let t = t.to_ascii_lowercase();
        let t = ["st", "nd", "rd", "th"]
            .iter()
            .find_map(|suf| t.strip_suffix(suf))
            .unwrap_or(&t);
        t.parse::<u32>().ok()
    };
    let year = |t: &str| -> Option<i32> {
        let y: i32 = t.parse().ok()?;
        match t.len() {
            4 if (1000..=9999).contains(&y) => Some(y),
            2 if short_year_ok => Some(2000 + y),
            _ => None,
        }
    };
    let (m, d, y, rest) = match toks.len() {
        0 | 1 => return None,
        2 => {
            // `Feb 2024`
            if weekday.is_some() {
                return None;
            }
            (month_name(toks[0])?, 1, year(toks[1])?, &toks[2..])
        }
        _ => match month_name(toks[0]) {
            Some(m) => (m, day(toks[1])?, year(toks[2])?, &toks[3..]),
            None => (
                month_name(toks[1])?,
                day(toks[0])?,
                year(toks[2])?,
                &toks[3..],
            ),
        },
    };
    let days = days_from_civil(y, m, d)?;
    if let Some(w) = weekday {
        // 1970-01-01 was a Thursday (3).
        if (days + 3).rem_euclid(7) != w as i64 {
            return None;
        }
    }
    let tod = if rest.is_empty() {
        0
    } else {
        let t = format!(" {}", rest.join(" "));
        let mut c = Cursor {
            b: t.as_bytes(),
            i: 0,
        };
        time_part(&mut c)?
    };
    Some(days * US_PER_DAY + tod)
}

/// Days from Excel's day 0 (1899-12-30 in the 1900 date system) to 1970-01-01.
const EXCEL_EPOCH_DAYS: f64 = 25_569.0;

/// An Excel serial date (days since 1899-12-30, the fraction the time of day)
/// as microseconds since the epoch, rounded to the second.
pub fn excel_serial(v: f64) -> Option<i64> {
    if !v.is_finite() || !(1.0..=2_958_465.0).contains(&v) {
        return None;
    }
    Some(((v - EXCEL_EPOCH_DAYS) * 86_400.0).round() as i64 * US_PER_SEC)
}

/// Serial numbers a CSV date column may hold: 20000 (1954-10-03) ..= 80000
/// (2119-01-10). Read as serials only when every value of the column is one.
pub const SERIAL_RANGE: std::ops::RangeInclusive<f64> = 20_000.0..=80_000.0;

/// `45351` or `45351.2847`: a number that may be an Excel serial date.
fn serial_candidate(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.len() != 5
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    SERIAL_RANGE.contains(&v).then(|| excel_serial(v)).flatten()
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) for microseconds since the epoch.
pub fn format_ts(us: i64) -> String {
    crate::periods::timestamp_text(us).unwrap_or_default()
}

/// The forms `parse_timestamp` reads, for error messages.
pub const FORMS_TRIED: &str = "YYYY-MM-DD[ HH:MM[:SS]][zone], YYYY/MM/DD, M/D/YYYY, D/M/YYYY, DD.MM.YYYY, YYYYMMDD, YYYY-MM, Jan 31 2024, 31 Jan 2024, 31-Jan-2024 HH:MM, Thursday, February 29, 2024, Excel serial 20000-80000";

/// Parse with a strftime-style format (`date_format` in revcycle.toml): a
/// date and time, a date alone (midnight), or a date and time with a zone
/// (`%z`, converted to UTC).
pub fn parse_with_format(s: &str, fmt: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDateTime};
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
        return Some(dt.and_utc().timestamp_micros());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros());
    }
    if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
        return Some(dt.timestamp_micros());
    }
    None
}

/// Parse one timestamp. `None` when the text is not a timestamp form revcycle knows.
pub fn parse_timestamp(s: &str) -> Option<Ts> {
    let s = trim(s);
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    if let Some(v) = serial_candidate(s) {
        return Some(Ts::Serial(v));
    }
    if !b[0].is_ascii_digit()
        || (b.len() > 3
            && b.iter()
                .take(4)
                .any(|c| *c == b' ' || c.is_ascii_alphabetic()))
    {
        // `Jan 31, 2024`, `31 Jan 2024`, `29-Feb-2024`
        if let Some(v) = parse_named_month(s) {
            return Some(Ts::Exact(v));
        }
        if !b[0].is_ascii_digit() {
            return None;
        }
    }
    let mut c = Cursor { b, i: 0 };
    let (first, n1) = c.digits(8)?;
    if n1 == 8 && c.done() {
        // YYYYMMDD
        let d = days_from_civil((first / 10000) as i32, first / 100 % 100, first % 100)?;
        return Some(Ts::Exact(d * US_PER_DAY));
    }
    match c.peek() {
        Some(b'-') if n1 == 4 => {
            c.i += 1;
            let (m, _) = c.digits(2)?;
            if c.done() {
                // `2024-02`: a month, read as its first day
                let days = days_from_civil(first as i32, m, 1)?;
                return Some(Ts::Exact(days * US_PER_DAY));
            }
            if !c.eat(b'-') {
                return None;
            }
            let (d, _) = c.digits(2)?;
            let days = days_from_civil(first as i32, m, d)?;
            let tod = time_part(&mut c)?;
            Some(Ts::Exact(days * US_PER_DAY + tod))
        }
        Some(b'/') if n1 == 4 => {
            // 2024/01/31
            c.i += 1;
            let (m, _) = c.digits(2)?;
            if !c.eat(b'/') {
                return None;
            }
            let (d, _) = c.digits(2)?;
            let days = days_from_civil(first as i32, m, d)?;
            let tod = time_part(&mut c)?;
            Some(Ts::Exact(days * US_PER_DAY + tod))
        }
        Some(sep @ (b'/' | b'.' | b'-')) if n1 <= 2 => {
            c.i += 1;
            let (second, n2) = c.digits(2)?;
            let _ = n2;
            if !c.eat(sep) {
                return None;
            }
            let (y, ny) = c.digits(4)?;
            let year = match ny {
                4 => y as i32,
                2 => 2000 + y as i32,
                _ => return None,
            };
            let tod = time_part(&mut c)?;
            let a = first;
            let bb = second;
            let mf = days_from_civil(year, a, bb).map(|d| d * US_PER_DAY + tod);
            let df = days_from_civil(year, bb, a).map(|d| d * US_PER_DAY + tod);
            if sep == b'.' {
                // 31.01.2024 is day-first everywhere it is written.
                return df.map(Ts::Exact);
            }
            if mf.is_none() && df.is_none() {
                return None;
            }
            Some(Ts::Slash {
                month_first: mf,
                day_first: df,
                a,
                b: bb,
            })
        }
        _ => None,
    }
}

/// How a column's numeric `a/b/y` dates are read, decided from all its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateOrder {
    /// No slash dates seen.
    #[default]
    None,
    MonthFirst,
    DayFirst,
    /// Every value had a and b <= 12: the configured `day_first` decides.
    Ambiguous,
    /// Some values need month-first and others day-first.
    Mixed,
}

/// Accumulates what a column's slash dates say about their order.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderEvidence {
    pub seen: bool,
    pub needs_month_first: bool,
    pub needs_day_first: bool,
}

impl OrderEvidence {
    pub fn add(&mut self, ts: &Ts) {
        if let Ts::Slash {
            month_first,
            day_first,
            ..
        } = ts
        {
            self.seen = true;
            if day_first.is_none() {
                self.needs_month_first = true;
            }
            if month_first.is_none() {
                self.needs_day_first = true;
            }
        }
    }

    /// Add the evidence of a later part of the same column.
    pub fn merge(&mut self, later: &OrderEvidence) {
        self.seen |= later.seen;
        self.needs_month_first |= later.needs_month_first;
        self.needs_day_first |= later.needs_day_first;
    }

    pub fn order(&self) -> DateOrder {
        match (self.seen, self.needs_month_first, self.needs_day_first) {
            (false, _, _) => DateOrder::None,
            (true, true, true) => DateOrder::Mixed,
            (true, true, false) => DateOrder::MonthFirst,
            (true, false, true) => DateOrder::DayFirst,
            (true, false, false) => DateOrder::Ambiguous,
        }
    }
}

/// Resolve a parsed timestamp with the column's order.
pub fn resolve(ts: Ts, day_first: bool) -> Option<i64> {
    match ts {
        Ts::Exact(v) | Ts::Serial(v) => Some(v),
        Ts::Slash {
            month_first,
            day_first: df,
            ..
        } => {
            if day_first {
                df
            } else {
                month_first
            }
        }
    }
}

const CURRENCY_SYMBOLS: &str = "$€£¥₹₩₽₺¢";

/// Strip currency symbols, a three-letter ISO code (`USD`, `EUR`) and white
/// space from both ends.
fn strip_currency(s: &str) -> &str {
    let is_sym = |c: char| CURRENCY_SYMBOLS.contains(c) || c.is_whitespace();
    let mut t = s.trim_matches(is_sym);
    for _ in 0..2 {
        let b = t.as_bytes();
        if b.len() > 3
            && b[..3].iter().all(|c| c.is_ascii_uppercase())
            && !b[3].is_ascii_alphabetic()
        {
            t = t[3..].trim_matches(is_sym);
        }
        let b = t.as_bytes();
        let n = b.len();
        if n > 3
            && b[n - 3..].iter().all(|c| c.is_ascii_uppercase())
            && !b[n - 4].is_ascii_alphabetic()
        {
            t = t[..n - 3].trim_matches(is_sym);
        }
        if let Some(rest) = t.strip_prefix("R$") {
            t = rest.trim_matches(is_sym);
        }
    }
    t
}

/// Parse an amount: `1200.50`, `$1,200.50`, `1 200,50 €` (decimal comma),
/// `(1,200.00)` (negative), `USD 1,200`. `None` when not a number.
pub fn parse_amount(s: &str, decimal_comma: bool) -> Option<f64> {
    let s = trim(s);
    if s.is_empty() {
        return None;
    }
    // Fast path: plain numbers.
    if !decimal_comma || !s.contains(',') {
        if let Ok(v) = s.parse::<f64>() {
            return v.is_finite().then_some(v);
        }
    }
    let mut neg = false;
    let mut inner = s;
    if inner.starts_with('(') && inner.ends_with(')') {
        neg = true;
        inner = &inner[1..inner.len() - 1];
    }
    let mut core = strip_currency(inner);
    if let Some(rest) = core
        .strip_prefix('-')
        .or_else(|| core.strip_prefix('\u{2212}'))
    {
        neg = !neg;
        core = strip_currency(rest);
    } else if let Some(rest) = core.strip_prefix('+') {
        core = strip_currency(rest);
    }
    let mut body = String::with_capacity(core.len());
    for ch in core.chars() {
        match ch {
            '0'..='9' | '.' | ',' => body.push(ch),
            ' ' | '\u{a0}' | '\u{202f}' | '\'' | '_' => body.push(' '),
            _ => return None,
        }
    }
    let body = body.trim();
    if body.is_empty() {
        return None;
    }
    let (int_part, frac_part) = if decimal_comma {
        let mut it = body.rsplitn(2, ',');
        let last = it.next()?;
        match it.next() {
            Some(head) => (head.to_string(), Some(last.to_string())),
            None => (last.to_string(), None),
        }
    } else {
        let mut it = body.rsplitn(2, '.');
        let last = it.next()?;
        match it.next() {
            Some(head) => (head.to_string(), Some(last.to_string())),
            None => (last.to_string(), None),
        }
    };
    let group_sep: &[char] = if decimal_comma {
        &['.', ' ']
    } else {
        &[',', ' ']
    };
    // Thousands groups must be 3 digits after the first.
    let groups: Vec<&str> = int_part.split(group_sep).collect();
    if groups
        .iter()
        .any(|g| g.is_empty() || !g.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    if groups.len() > 1 && (groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    let mut num = groups.concat();
    if let Some(f) = frac_part {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        num.push('.');
        num.push_str(&f);
    }
    let v: f64 = num.parse().ok()?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_is_str_trim() {
        for t in [
            "", " ", "a", " a", "a ", "\ta\r", "\x0Ba\x0C", "ab", "a b", "\u{a0}a", "a\u{3000}",
            "\u{2003}", "é", " é ", "\x1f", "--",
        ] {
            assert_eq!(trim(t), t.trim(), "{t:?}");
        }
    }

    fn at(y: i32, m: u32, d: u32, h: i64, mi: i64, s: i64) -> i64 {
        days_from_civil(y, m, d).unwrap() * US_PER_DAY + (h * 3600 + mi * 60 + s) * US_PER_SEC
    }

    fn exact(s: &str) -> Option<i64> {
        match parse_timestamp(s)? {
            Ts::Exact(v) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn iso_forms() {
        assert_eq!(exact("2024-01-31"), Some(at(2024, 1, 31, 0, 0, 0)));
        assert_eq!(
            exact("2024-01-31T14:05:00Z"),
            Some(at(2024, 1, 31, 14, 5, 0))
        );
        assert_eq!(
            exact("2024-01-31 14:05:09"),
            Some(at(2024, 1, 31, 14, 5, 9))
        );
        assert_eq!(exact("2024-01-31 14:05"), Some(at(2024, 1, 31, 14, 5, 0)));
        // zoned values are converted to UTC
        assert_eq!(
            exact("2024-01-31T14:05:00+02:00"),
            Some(at(2024, 1, 31, 12, 5, 0))
        );
        assert_eq!(
            exact("2024-01-31T00:30:00-0100"),
            Some(at(2024, 1, 31, 1, 30, 0))
        );
        assert_eq!(
            exact("2024-01-31T14:05:00.250Z"),
            Some(at(2024, 1, 31, 14, 5, 0) + 250_000)
        );
        assert_eq!(exact("2024-01-31 2:05 PM"), Some(at(2024, 1, 31, 14, 5, 0)));
        assert_eq!(exact("2024-01-31 12:05 AM"), Some(at(2024, 1, 31, 0, 5, 0)));
        assert_eq!(exact("19970118"), Some(at(1997, 1, 18, 0, 0, 0)));
        assert_eq!(exact("Jan 31, 2024"), Some(at(2024, 1, 31, 0, 0, 0)));
        assert_eq!(exact("31 January 2024"), Some(at(2024, 1, 31, 0, 0, 0)));
        assert_eq!(exact("31.01.2024"), Some(at(2024, 1, 31, 0, 0, 0)));
        assert_eq!(parse_timestamp("2024-02-30"), None);
        assert_eq!(parse_timestamp("2024-01-31T25:00"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2024-01-31 junk"), None);
    }

    #[test]
    fn forms_users_have() {
        assert_eq!(exact("29-Feb-2024 06:50"), Some(at(2024, 2, 29, 6, 50, 0)));
        assert_eq!(exact("29-FEB-24"), Some(at(2024, 2, 29, 0, 0, 0)));
        assert_eq!(
            exact("Thursday, February 29, 2024"),
            Some(at(2024, 2, 29, 0, 0, 0))
        );
        // the wrong weekday is not a date
        assert_eq!(parse_timestamp("Friday, February 29, 2024"), None);
        assert_eq!(exact("February 29th, 2024"), Some(at(2024, 2, 29, 0, 0, 0)));
        assert_eq!(
            exact("Jan 31, 2024 2:05 PM"),
            Some(at(2024, 1, 31, 14, 5, 0))
        );
        assert_eq!(exact("2024-02"), Some(at(2024, 2, 1, 0, 0, 0)));
        assert_eq!(exact("Feb 2024"), Some(at(2024, 2, 1, 0, 0, 0)));
        // 45351 = 2024-02-29 (45351 - 25569 = 19782 days after 1970-01-01);
        // .2847222 of a day = 24600 s = 06:50:00
        assert_eq!(
            parse_timestamp("45351.2847222"),
            Some(Ts::Serial(at(2024, 2, 29, 6, 50, 0)))
        );
        assert_eq!(parse_timestamp("19999"), None);
        assert_eq!(parse_timestamp("80001"), None);
        // YYYYMMDD is still a date, not a serial
        assert_eq!(exact("20240131"), Some(at(2024, 1, 31, 0, 0, 0)));
        assert_eq!(
            parse_with_format("29.02.2024 - 06h50", "%d.%m.%Y - %Hh%M"),
            Some(at(2024, 2, 29, 6, 50, 0))
        );
        assert_eq!(
            parse_with_format("2024|02|29", "%Y|%m|%d"),
            Some(at(2024, 2, 29, 0, 0, 0))
        );
    }

    #[test]
    fn slash_forms_keep_both_readings() {
        let t = parse_timestamp("1/31/2024").unwrap();
        assert_eq!(
            t,
            Ts::Slash {
                month_first: Some(at(2024, 1, 31, 0, 0, 0)),
                day_first: None,
                a: 1,
                b: 31
            }
        );
        let t = parse_timestamp("31/01/2024 14:05").unwrap();
        assert_eq!(resolve(t, true), Some(at(2024, 1, 31, 14, 5, 0)));
        assert_eq!(resolve(t, false), None);
        let t = parse_timestamp("02/03/2024 2:05 PM").unwrap();
        assert_eq!(resolve(t, false), Some(at(2024, 2, 3, 14, 5, 0)));
        assert_eq!(resolve(t, true), Some(at(2024, 3, 2, 14, 5, 0)));
        let mut ev = OrderEvidence::default();
        ev.add(&t);
        assert_eq!(ev.order(), DateOrder::Ambiguous);
        ev.add(&parse_timestamp("1/31/2024").unwrap());
        assert_eq!(ev.order(), DateOrder::MonthFirst);
        ev.add(&parse_timestamp("31/1/2024").unwrap());
        assert_eq!(ev.order(), DateOrder::Mixed);
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("1200.50", false), Some(1200.5));
        assert_eq!(parse_amount("$1,200.50", false), Some(1200.5));
        assert_eq!(parse_amount("USD 1,200", false), Some(1200.0));
        assert_eq!(parse_amount("1 200,50 €", true), Some(1200.5));
        assert_eq!(parse_amount("7307,37", true), Some(7307.37));
        assert_eq!(parse_amount("1.234.567,8", true), Some(1234567.8));
        assert_eq!(parse_amount("(1,200.00)", false), Some(-1200.0));
        assert_eq!(parse_amount("-5", false), Some(-5.0));
        assert_eq!(parse_amount("R$ 10", false), Some(10.0));
        // a decimal comma without the setting is not silently read as thousands
        assert_eq!(parse_amount("7307,37", false), None);
        assert_eq!(parse_amount("12abc", false), None);
        assert_eq!(parse_amount("", false), None);
        assert_eq!(parse_amount("1.5e3", false), Some(1500.0));
    }
}
