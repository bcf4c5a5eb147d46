//! Civil-date arithmetic on plain integers and the byte-level CSV field
//! writers of the demo generator (fast enough for ten million rows).
//!
//! Times are minutes since 1970-01-01 00:00 UTC, dates are days since then.

use super::Headers;

pub const MIN_PER_DAY: i64 = 1440;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day 1-31) of a day number (inverse of `days_from_civil`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

/// 0 = Monday ... 6 = Sunday.
pub fn weekday(day: i64) -> u32 {
    // 1970-01-01 was a Thursday (3).
    ((day + 3).rem_euclid(7)) as u32
}

fn push_uint(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// `n` left-padded with zeros to `width` digits (wider numbers stay whole).
pub fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut digits = 1;
    let mut x = n;
    while x >= 10 {
        x /= 10;
        digits += 1;
    }
    for _ in digits..width {
        buf.push(b'0');
    }
    push_uint(buf, n);
}

fn push_iso_date(buf: &mut Vec<u8>, y: i64, m: u32, d: u32) {
    push_padded(buf, y.max(0) as u64, 4);
    buf.push(b'-');
    push_padded(buf, m as u64, 2);
    buf.push(b'-');
    push_padded(buf, d as u64, 2);
}

fn push_us_date(buf: &mut Vec<u8>, y: i64, m: u32, d: u32) {
    push_uint(buf, m as u64);
    buf.push(b'/');
    push_uint(buf, d as u64);
    buf.push(b'/');
    push_uint(buf, y.max(0) as u64);
}

/// A date (no time) as each vendor writes it: ISO `2024-01-31`, or
/// Salesforce's US `1/31/2024`.
pub fn push_date(buf: &mut Vec<u8>, style: Headers, day: i64) {
    let (y, m, d) = civil_from_days(day);
    match style {
        Headers::Canonical | Headers::Hubspot => push_iso_date(buf, y, m, d),
        Headers::Salesforce => push_us_date(buf, y, m, d),
    }
}

/// A date-time at minute precision: canonical `2024-01-31 14:05:00`,
/// HubSpot `2024-01-31 14:05`, Salesforce `1/31/2024 2:05 PM`. All UTC.
pub fn push_datetime(buf: &mut Vec<u8>, style: Headers, minutes: i64) {
    let day = minutes.div_euclid(MIN_PER_DAY);
    let mod_ = minutes.rem_euclid(MIN_PER_DAY);
    let (hh, mm) = ((mod_ / 60) as u64, (mod_ % 60) as u64);
    let (y, m, d) = civil_from_days(day);
    match style {
        Headers::Canonical => {
            push_iso_date(buf, y, m, d);
            buf.push(b' ');
            push_padded(buf, hh, 2);
            buf.push(b':');
            push_padded(buf, mm, 2);
            buf.extend_from_slice(b":00");
        }
        Headers::Hubspot => {
            push_iso_date(buf, y, m, d);
            buf.push(b' ');
            push_padded(buf, hh, 2);
            buf.push(b':');
            push_padded(buf, mm, 2);
        }
        Headers::Salesforce => {
            push_us_date(buf, y, m, d);
            buf.push(b' ');
            let h12 = match hh % 12 {
                0 => 12,
                h => h,
            };
            push_uint(buf, h12);
            buf.push(b':');
            push_padded(buf, mm, 2);
            buf.extend_from_slice(if hh < 12 { b" AM" } else { b" PM" });
        }
    }
}

/// Cents as a plain number with two decimals: `1234.50`.
pub fn push_cents(buf: &mut Vec<u8>, cents: i64) {
    if cents < 0 {
        buf.push(b'-');
    }
    let c = cents.unsigned_abs();
    push_uint(buf, c / 100);
    buf.push(b'.');
    push_padded(buf, c % 100, 2);
}

/// One CSV row built in a reusable buffer. Every value the generator writes
/// comes from its own fixed lists, none holds a comma, quote or newline, so
/// no quoting is needed (a test parses the output with the `csv` crate).
pub struct Row<'a> {
    pub buf: &'a mut Vec<u8>,
    pub style: Headers,
    n: usize,
}

impl<'a> Row<'a> {
    pub fn new(buf: &'a mut Vec<u8>, style: Headers) -> Row<'a> {
        buf.clear();
        Row { buf, style, n: 0 }
    }

    fn sep(&mut self) {
        if self.n > 0 {
            self.buf.push(b',');
        }
        self.n += 1;
    }

    pub fn text(&mut self, s: &str) {
        self.sep();
        debug_assert!(!s.contains([',', '"', '\n', '\r']), "{s}");
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub fn opt_text(&mut self, s: Option<&str>) {
        self.text(s.unwrap_or(""));
    }

    /// `prefix` + zero-padded number (`L-00000042`), or empty.
    pub fn id(&mut self, prefix: &str, n: Option<u64>, width: usize) {
        self.sep();
        if let Some(n) = n {
            self.buf.extend_from_slice(prefix.as_bytes());
            push_padded(self.buf, n, width);
        }
    }

    pub fn datetime(&mut self, t: Option<i64>) {
        self.sep();
        if let Some(t) = t {
            push_datetime(self.buf, self.style, t);
        }
    }

    pub fn date(&mut self, day: Option<i64>) {
        self.sep();
        if let Some(d) = day {
            push_date(self.buf, self.style, d);
        }
    }

    pub fn cents(&mut self, c: Option<i64>) {
        self.sep();
        if let Some(c) = c {
            push_cents(self.buf, c);
        }
    }

    pub fn uint(&mut self, n: Option<u64>) {
        self.sep();
        if let Some(n) = n {
            push_uint(self.buf, n);
        }
    }

    /// Raw bytes already formatted (a campaign id).
    pub fn raw(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        self.sep();
        f(self.buf);
    }

    pub fn end(self) {
        self.buf.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 1, 31), 19_753);
        assert_eq!(civil_from_days(19_753), (2024, 1, 31));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(weekday(days_from_civil(2024, 1, 31)), 2); // a Wednesday
        for z in -1000..40_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn vendor_formats() {
        let t = days_from_civil(2024, 1, 31) * MIN_PER_DAY + 14 * 60 + 5;
        let show = |style, t| {
            let mut b = Vec::new();
            push_datetime(&mut b, style, t);
            String::from_utf8(b).unwrap()
        };
        assert_eq!(show(Headers::Canonical, t), "2024-01-31 14:05:00");
        assert_eq!(show(Headers::Hubspot, t), "2024-01-31 14:05");
        assert_eq!(show(Headers::Salesforce, t), "1/31/2024 2:05 PM");
        assert_eq!(show(Headers::Salesforce, t - 14 * 60), "1/31/2024 12:05 AM");
        assert_eq!(show(Headers::Salesforce, t - 2 * 60), "1/31/2024 12:05 PM");
        let mut b = Vec::new();
        push_cents(&mut b, 123_405);
        push_cents(&mut b, 7);
        assert_eq!(b, b"1234.050.07");
    }
}
