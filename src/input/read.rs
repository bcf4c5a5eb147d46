//! Reading files as header + rows of text: CSV (any of `,` `;` tab `|`, BOM,
//! CRLF, quotes, preamble lines), gzip-compressed CSV, NDJSON, Parquet and
//! spreadsheets (`.xlsx`, `.xls`, `.ods`), from a path, standard input or
//! bytes built into the binary.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

/// Where a table's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    Path(PathBuf),
    Stdin,
    /// Built-in bytes (the demo data set), with a display name.
    Bytes {
        name: String,
        data: Arc<Vec<u8>>,
    },
}

impl Source {
    pub fn display(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
            Source::Bytes { name, .. } => name.clone(),
        }
    }

    pub fn from_arg(p: &Path) -> Source {
        if p == Path::new("-") {
            Source::Stdin
        } else {
            Source::Path(p.to_path_buf())
        }
    }

    /// Size in bytes when known (for progress).
    pub fn len(&self) -> Option<u64> {
        match self {
            Source::Path(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Source::Stdin => None,
            Source::Bytes { data, .. } => Some(data.len() as u64),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
    Parquet,
    /// `.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods` (read with calamine).
    Spreadsheet,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Ndjson => "NDJSON",
            Format::Parquet => "Parquet",
            Format::Spreadsheet => "spreadsheet",
        }
    }
}

/// Open a source: check it is a readable file, un-gzip it, and tell its format
/// from the extension or, failing that, from its first bytes.
pub struct Opened {
    pub format: Format,
    pub gzip: bool,
    /// The first bytes (decompressed), already read.
    pub prefix: Vec<u8>,
    /// The rest of the stream after `prefix`.
    pub rest: Box<dyn Read + Send>,
}

const PREFIX_LEN: usize = 64 * 1024;

pub fn open(src: &Source) -> Result<Opened> {
    let (raw, ext): (Box<dyn Read + Send>, String) = match src {
        Source::Path(p) => {
            let meta = std::fs::metadata(p).map_err(|e| io_error(e, p))?;
            if meta.is_dir() {
                bail!("`{}` is a directory, expected a file", p.display());
            }
            let f = File::open(p).map_err(|e| io_error(e, p))?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            (Box::new(f), name)
        }
        Source::Stdin => (Box::new(std::io::stdin()), String::new()),
        Source::Bytes { name, data } => (
            Box::new(Cursor::new(ArcBytes(data.clone()))),
            name.to_lowercase(),
        ),
    };
    let mut raw = BufReader::with_capacity(256 * 1024, raw);
    let magic = raw
        .fill_buf()
        .with_context(|| format!("reading `{}`", src.display()))?;
    let gzip = magic.starts_with(&[0x1f, 0x8b]);
    let mut stream: Box<dyn Read + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::read::MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    };
    let mut prefix = Vec::with_capacity(PREFIX_LEN);
    (&mut stream)
        .take(PREFIX_LEN as u64)
        .read_to_end(&mut prefix)
        .with_context(|| {
            format!(
                "reading `{}`{}",
                src.display(),
                if gzip { " (gzip)" } else { "" }
            )
        })?;
    let stem = ext.trim_end_matches(".gz");
    let format = if is_spreadsheet_name(stem)
        || (!has_text_extension(stem)
            && !gzip
            && (prefix.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) || prefix.starts_with(b"PK\x03\x04")))
    {
        Format::Spreadsheet
    } else if prefix.starts_with(b"PAR1") || stem.ends_with(".parquet") || stem.ends_with(".pq") {
        Format::Parquet
    } else if stem.ends_with(".ndjson") || stem.ends_with(".jsonl") || stem.ends_with(".json") {
        Format::Ndjson
    } else if stem.ends_with(".csv") || stem.ends_with(".tsv") || stem.ends_with(".txt") {
        Format::Csv
    } else if prefix.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        Format::Ndjson
    } else {
        Format::Csv
    };
    Ok(Opened {
        format,
        gzip,
        prefix,
        rest: stream,
    })
}

/// Spreadsheet file extensions (lower case, with the dot).
pub const SPREADSHEET_EXTENSIONS: &[&str] = &[".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"];

/// A name ending in `.csv`, `.tsv`, `.txt`, `.ndjson`, `.jsonl`, `.json`,
/// `.parquet` or `.pq`: its extension decides, not its first bytes.
fn has_text_extension(name: &str) -> bool {
    [
        ".csv", ".tsv", ".txt", ".ndjson", ".jsonl", ".json", ".parquet", ".pq",
    ]
    .iter()
    .any(|e| name.ends_with(e))
}

fn is_spreadsheet_name(name: &str) -> bool {
    SPREADSHEET_EXTENSIONS.iter().any(|e| name.ends_with(e))
}

struct ArcBytes(Arc<Vec<u8>>);
impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn io_error(e: std::io::Error, p: &Path) -> anyhow::Error {
    match e.kind() {
        std::io::ErrorKind::NotFound => anyhow::anyhow!("`{}`: file not found", p.display()),
        std::io::ErrorKind::PermissionDenied => {
            anyhow::anyhow!("`{}`: permission denied", p.display())
        }
        _ => anyhow::Error::new(e).context(format!("reading `{}`", p.display())),
    }
}

/// Check the first bytes of a text file: not empty, not binary, not UTF-16.
pub fn check_text_prefix(name: &str, prefix: &[u8]) -> Result<()> {
    if prefix.iter().all(|b| b.is_ascii_whitespace()) {
        bail!("`{name}` is empty");
    }
    if prefix.starts_with(&[0xFF, 0xFE]) || prefix.starts_with(&[0xFE, 0xFF]) {
        bail!("`{name}` is UTF-16 text; save it as UTF-8 (CSV UTF-8) and try again");
    }
    if prefix.contains(&0) {
        bail!("`{name}` is a binary file, not CSV or NDJSON text");
    }
    Ok(())
}

/// Guess the delimiter among `,` `;` tab `|`: the one that splits the most
/// lines into the same number of fields.
pub fn sniff_delimiter(prefix: &[u8]) -> u8 {
    let text = String::from_utf8_lossy(prefix);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(30)
        .collect();
    let mut best = (b',', 0usize, 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        // the most common non-zero count, and on how many lines it occurs
        let mut freq: std::collections::HashMap<usize, usize> = Default::default();
        for &c in counts.iter().filter(|&&c| c > 0) {
            *freq.entry(c).or_default() += 1;
        }
        if let Some((&count, &lines_with)) = freq.iter().max_by_key(|(c, n)| (**n, **c)) {
            if (lines_with, count) > (best.1, best.2) {
                best = (d, lines_with, count);
            }
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, d: u8) -> usize {
    let mut inq = false;
    let mut n = 0;
    for &b in line.as_bytes() {
        if b == b'"' {
            inq = !inq;
        } else if b == d && !inq {
            n += 1;
        }
    }
    n
}

/// A CSV stream positioned after its header row.
pub struct CsvRows {
    pub headers: Vec<String>,
    /// Lines before the header row that were skipped (report preambles).
    pub preamble_lines: u64,
    pub delimiter: u8,
    pub reader: csv::Reader<Box<dyn Read + Send>>,
}

/// Open a CSV stream, find its header row (the row among the first 30 with
/// the best `score`, for preambles such as Google Ads' report title and date
/// range), and leave the reader on the first data row.
pub fn csv_rows(
    name: &str,
    opened: Opened,
    delimiter: Option<u8>,
    score: &dyn Fn(&[String]) -> usize,
) -> Result<CsvRows> {
    let Opened {
        mut prefix, rest, ..
    } = opened;
    check_text_prefix(name, &prefix)?;
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        prefix.drain(..3);
    }
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(&prefix));
    // Find the header row in the prefix. Line endings are normalised to `\n`
    // first: the csv crate counts lines by `\n` and, after a `\r\n`, reports
    // the next record one line too low (the first data row as the header's line).
    let probe_bytes = {
        let mut v = Vec::with_capacity(prefix.len());
        let mut n = CrToLf::new(&prefix[..]);
        n.read_to_end(&mut v)
            .with_context(|| format!("reading `{name}`"))?;
        v
    };
    let mut probe = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(&probe_bytes[..]);
    let mut best: Option<(usize, usize, u64)> = None; // (score, record index, line)
    let mut first_nonempty: Option<(usize, u64)> = None;
    for (i, rec) in probe.byte_records().take(30).enumerate() {
        let Ok(rec) = rec else { break };
        let cells: Vec<String> = rec
            .iter()
            .map(|c| String::from_utf8_lossy(c).trim().to_string())
            .collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        let line = rec.position().map(|p| p.line()).unwrap_or(1);
        if first_nonempty.is_none() {
            first_nonempty = Some((i, line));
        }
        let s = score(&cells);
        if s > 0 && best.map_or(true, |(bs, _, _)| s > bs) {
            best = Some((s, i, line));
        }
    }
    let (header_idx, header_line) = match (best, first_nonempty) {
        (Some((_, i, line)), _) => (i, line),
        (None, Some((i, line))) => (i, line),
        (None, None) => bail!("`{name}` is empty"),
    };
    let stream: Box<dyn Read + Send> = Box::new(CrToLf::new(Cursor::new(prefix).chain(rest)));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(256 * 1024)
        .from_reader(stream);
    let mut rec = csv::ByteRecord::new();
    let mut seen = 0;
    let headers = loop {
        if !reader
            .read_byte_record(&mut rec)
            .with_context(|| format!("reading `{name}`"))?
        {
            bail!("`{name}` is empty");
        }
        if rec.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if seen == header_idx {
            break rec
                .iter()
                .enumerate()
                .map(|(i, c)| match std::str::from_utf8(c) {
                    Ok(s) => Ok(s.trim().to_string()),
                    Err(_) => bail!(
                        "`{name}`: line {header_line}, column {}: header is not UTF-8 text",
                        i + 1
                    ),
                })
                .collect::<Result<Vec<_>>>()?;
        }
        seen += 1;
    };
    Ok(CsvRows {
        headers,
        preamble_lines: header_line.saturating_sub(1),
        delimiter,
        reader,
    })
}

/// A reader that turns every line ending into `\n`: `\r\n` and a lone `\r`
/// (old Mac files) alike, inside quoted cells too, so that line numbers
/// counted by `\n` are the file's physical lines.
pub struct CrToLf<R> {
    inner: R,
    /// The last byte handed out was a `\r` turned into `\n`: a `\n` right
    /// after it belongs to the same line ending.
    after_cr: bool,
}

impl<R: Read> CrToLf<R> {
    pub fn new(inner: R) -> Self {
        CrToLf {
            inner,
            after_cr: false,
        }
    }
}

impl<R: Read> Read for CrToLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            // Most files have no `\r` at all: hand the bytes out as read.
            if !self.after_cr && !buf[..n].contains(&b'\r') {
                return Ok(n);
            }
            let mut w = 0;
            for r in 0..n {
                let b = buf[r];
                if b == b'\n' && self.after_cr {
                    self.after_cr = false;
                    continue;
                }
                self.after_cr = b == b'\r';
                buf[w] = if b == b'\r' { b'\n' } else { b };
                w += 1;
            }
            // A read of only the `\n` of a `\r\n` gives nothing: read on
            // (returning 0 would mean the end of the stream).
            if w > 0 {
                return Ok(w);
            }
        }
    }
}

/// A spreadsheet's chosen sheet as header + rows of text. `line` is the
/// sheet's row number (1 = the sheet's first row).
pub struct SheetRows {
    pub sheet: String,
    pub headers: Vec<String>,
    pub preamble_lines: u64,
    pub rows: Vec<(u64, Vec<Option<String>>)>,
}

/// Read a spreadsheet (`.xlsx`, `.xls`, `.ods`, ...): the sheet named `sheet`
/// or else the first one; the header row is found as in CSV files. Dates
/// stored as dates become `YYYY-MM-DD HH:MM:SS` text (Excel serials counted
/// from 1899-12-30).
pub fn spreadsheet_rows(
    name: &str,
    opened: Opened,
    sheet: Option<&str>,
    score: &dyn Fn(&[String]) -> usize,
) -> Result<SheetRows> {
    use calamine::{Data, Reader};
    let Opened {
        prefix, mut rest, ..
    } = opened;
    let mut bytes = prefix;
    rest.read_to_end(&mut bytes)
        .with_context(|| format!("reading `{name}`"))?;
    if bytes.is_empty() {
        bail!("`{name}` is empty");
    }
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        anyhow::anyhow!("`{name}`: not a readable spreadsheet (.xlsx, .xls, .ods): {e}")
    })?;
    let names = book.sheet_names();
    let chosen = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.trim().eq_ignore_ascii_case(s.trim()))
            })
            .cloned()
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "`{name}`: no sheet named `{s}`{}; sheets: {}",
                    super::suggest(s, names.iter().map(String::as_str)),
                    names.join(", ")
                )
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("`{name}` has no sheets"))?,
    };
    let range = book
        .worksheet_range(&chosen)
        .map_err(|e| anyhow::anyhow!("`{name}`: sheet `{chosen}` cannot be read: {e}"))?;
    let first_row = range.start().map(|(r, _)| r as u64).unwrap_or(0);
    let cell_text = |c: &Data| -> Option<String> {
        match c {
            Data::Empty => None,
            Data::String(s) => Some(s.clone()),
            Data::Int(i) => Some(i.to_string()),
            Data::Float(f) => Some(if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                format!("{f}")
            }),
            Data::Bool(b) => Some(b.to_string()),
            Data::DateTime(d) if d.is_datetime() => Some(
                super::parse::excel_serial(d.as_f64())
                    .map(super::parse::format_ts)
                    .unwrap_or_else(|| format!("{}", d.as_f64())),
            ),
            Data::DateTime(d) => Some(format!("{}", d.as_f64())),
            Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
            Data::Error(e) => Some(e.to_string()),
        }
    };
    let mut all: Vec<(u64, Vec<Option<String>>)> = range
        .rows()
        .enumerate()
        .map(|(i, r)| (first_row + i as u64 + 1, r.iter().map(cell_text).collect()))
        .collect();
    let is_blank = |r: &[Option<String>]| {
        r.iter()
            .all(|c| c.as_deref().map_or(true, |s| s.trim().is_empty()))
    };
    let mut best: Option<(usize, usize)> = None; // (score, index)
    let mut first_nonempty = None;
    for (i, (_, r)) in all
        .iter()
        .enumerate()
        .filter(|(_, (_, r))| !is_blank(r))
        .take(30)
    {
        first_nonempty.get_or_insert(i);
        let cells: Vec<String> = r
            .iter()
            .map(|c| c.as_deref().unwrap_or("").trim().to_string())
            .collect();
        let s = score(&cells);
        if s > 0 && best.map_or(true, |(bs, _)| s > bs) {
            best = Some((s, i));
        }
    }
    let Some(header_idx) = best.map(|b| b.1).or(first_nonempty) else {
        bail!("`{name}`: sheet `{chosen}` is empty");
    };
    let mut rows = all.split_off(header_idx + 1);
    let (header_line, header) = all.pop().expect("header row");
    let headers: Vec<String> = header
        .into_iter()
        .map(|c| c.unwrap_or_default().trim().to_string())
        .collect();
    rows.retain(|(_, r)| !is_blank(r));
    Ok(SheetRows {
        sheet: chosen,
        headers,
        preamble_lines: header_line - 1,
        rows,
    })
}

/// Read an NDJSON stream into headers (the keys of the first object, then any
/// new key met in the first 1,000 lines) and rows of text.
pub fn ndjson_rows(
    name: &str,
    opened: Opened,
) -> Result<(Vec<String>, Vec<(u64, Vec<Option<String>>)>)> {
    let Opened {
        mut prefix, rest, ..
    } = opened;
    check_text_prefix(name, &prefix)?;
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        prefix.drain(..3);
    }
    let reader = BufReader::new(Cursor::new(prefix).chain(rest));
    let mut headers: Vec<String> = Vec::new();
    let mut objects = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let lineno = i as u64 + 1;
        let line =
            line.map_err(|_| anyhow::anyhow!("`{name}`: line {lineno} is not UTF-8 text"))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("`{name}`: line {lineno}: not a JSON object ({e})"))?;
        let serde_json::Value::Object(map) = v else {
            bail!(
                "`{name}`: line {lineno}: expected a JSON object, found `{}`",
                truncate(&line, 40)
            );
        };
        if i < 1000 {
            for k in map.keys() {
                if !headers.contains(k) {
                    headers.push(k.clone());
                }
            }
        }
        objects.push((lineno, map));
    }
    let rows = objects
        .into_iter()
        .map(|(line, map)| {
            let vals = headers
                .iter()
                .map(|h| match map.get(h) {
                    None | Some(serde_json::Value::Null) => None,
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                })
                .collect();
            (line, vals)
        })
        .collect();
    Ok((headers, rows))
}

/// Read a Parquet file into headers and rows of text (typed columns are cast
/// to text and parsed like CSV cells; line numbers are row numbers).
pub fn parquet_rows(
    name: &str,
    opened: Opened,
) -> Result<(Vec<String>, Vec<(u64, Vec<Option<String>>)>)> {
    use polars::prelude::*;
    let Opened {
        prefix, mut rest, ..
    } = opened;
    let mut bytes = prefix;
    rest.read_to_end(&mut bytes)
        .with_context(|| format!("reading `{name}`"))?;
    let df = ParquetReader::new(Cursor::new(bytes))
        .finish()
        .map_err(|e| anyhow::anyhow!("`{name}`: not a readable Parquet file ({e})"))?;
    let headers: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut cols = Vec::new();
    for c in df.columns() {
        let s = c.cast(&DataType::String).map_err(|e| {
            anyhow::anyhow!(
                "`{name}`: column `{}` cannot be read as text ({e})",
                c.name()
            )
        })?;
        cols.push(s.str().map_err(|e| anyhow::anyhow!("{e}"))?.clone());
    }
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let vals = cols
            .iter()
            .map(|c| c.get(i).map(|s| s.to_string()))
            .collect();
        rows.push((i as u64 + 1, vals));
    }
    Ok((headers, rows))
}

pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_delimiters() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(
            sniff_delimiter(b"id;c_date;spend\n1;2021-02-01;7307,37\n2;2021-02-02;1,5\n"),
            b';'
        );
        assert_eq!(sniff_delimiter(b"a\tb\tc\n1\t2,5\t3\n"), b'\t');
        assert_eq!(sniff_delimiter(b"a|b\n1|2\n"), b'|');
        // a quoted comma does not count
        assert_eq!(sniff_delimiter(b"a;b\n\"x, y\";2\n\"p, q\";3\n"), b';');
    }

    #[test]
    fn line_endings_become_lf() {
        let mut out = Vec::new();
        // a reader handing out one byte at a time splits every `\r\n`
        struct OneByte<'a>(&'a [u8]);
        impl Read for OneByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() || buf.is_empty() {
                    return Ok(0);
                }
                buf[0] = self.0[0];
                self.0 = &self.0[1..];
                Ok(1)
            }
        }
        CrToLf::new(OneByte(b"a\r\nb\rc\n\r\nd\r"))
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"a\nb\nc\n\nd\n");
    }
}
