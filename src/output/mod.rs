//! The output layer shared by every command: one place owns output policy
//! (format, `-o FILE` written atomically, quiet, colour, terminal width).
//!
//! A command builds a [`Document`] (named sections, each a polars frame plus
//! notes and the way a person should see it) and hands it to [`emit`]:
//! - `csv`: the main section only (the first, unless [`Document::with_main`]),
//!   raw values, formula-injection escaping;
//! - `json`: one object: the document's [`Meta`] (`as_of`, `as_of_source`,
//!   `period`, `currency`, `inputs`), then the rows under `rows` for one
//!   section, under each section's name for several;
//! - `ndjson`: one JSON object per row of the main section, nothing else;
//! - `markdown`: a GitHub table per section;
//! - `table`: per section, the section's [`Renderer`] fitted to the terminal.
//!
//! Money columns print the exact decimal of the nearest millionth in csv,
//! json and ndjson (`30332.86`).
//!
//! Notes are printed under the tables (table, markdown), then the `as_of`
//! footer. In csv/json/ndjson they go to standard error, only when it is a
//! terminal, so that data stays clean. `-q` drops notes and the footer; the
//! data itself is always written.
//!
//! Without `--format`, `-o FILE` picks the format from FILE's extension
//! ([`Format::from_extension`]); standard output gets a table.

pub mod atomic;
pub mod bowtie;
pub mod chart;
pub mod format;
pub mod html;
pub mod junit;
pub(crate) mod grid;
pub mod machine;
pub(crate) mod markdown;
pub mod misalignment;
pub mod plan;
pub mod progress;
pub mod table;

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use polars::prelude::DataFrame;

pub use atomic::{write_atomic, write_atomic_with};
pub use format::{human, kind_of, ValueKind};
pub use machine::escape_formula;
pub use table::{funnel_table, generic_table, kpis_table};

/// Output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Ndjson,
    Markdown,
}

impl Format {
    /// The format a file name asks for: `.csv`, `.json`, `.ndjson` or
    /// `.jsonl`, `.md` or `.markdown` (any case); `None` for anything else.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "md" | "markdown" => Some(Format::Markdown),
            _ => None,
        }
    }

    /// `--format` when given, else the extension of `-o FILE`, else a table.
    pub fn resolve(args: &OutputRequest) -> Format {
        match args.format {
            Some(f) => f,
            None => args
                .output
                .as_deref()
                .filter(|p| p.as_os_str() != "-")
                .and_then(Format::from_extension)
                .unwrap_or(Format::Table),
        }
    }

    /// Whether this format is for scripts (notes go to a terminal's stderr).
    pub fn is_machine(self) -> bool {
        matches!(self, Format::Csv | Format::Json | Format::Ndjson)
    }
}

/// What the command line asked of the output (`--format`, `-o FILE`), already
/// out of clap's types (`cmd::common::output_request` converts them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputRequest {
    pub format: Option<Format>,
    pub output: Option<PathBuf>,
}

/// Resolved output settings: no clap type below this point.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    pub format: Format,
    /// `-o FILE`; `None` is standard output.
    pub path: Option<PathBuf>,
    pub quiet: bool,
    /// Currency label for money in tables (`$`, `USD`, empty for none).
    pub currency: String,
    /// Colour in tables: standard output is a terminal, `NO_COLOR` is unset
    /// or empty, `TERM` is not `dumb`, and there is no `-o`.
    pub color: bool,
    /// Width to fit tables to: `COLUMNS` when set, else the terminal's width
    /// when standard output is one; `None` (no fitting) with `-o` or a pipe.
    pub width: Option<u16>,
}

impl OutputOptions {
    /// Resolves `--format` / `-o` against the environment. `-o -` is standard
    /// output.
    pub fn resolve(args: &OutputRequest, quiet: bool, currency: &str) -> OutputOptions {
        let env = Env {
            stdout_terminal: io::stdout().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            dumb_term: std::env::var_os("TERM").is_some_and(|t| t == "dumb"),
            columns: std::env::var("COLUMNS").ok(),
            terminal_width: || comfy_table::Table::new().width(),
        };
        OutputOptions::resolve_in(args, quiet, currency, env)
    }

    fn resolve_in<W: FnOnce() -> Option<u16>>(
        args: &OutputRequest,
        quiet: bool,
        currency: &str,
        env: Env<W>,
    ) -> OutputOptions {
        let format = Format::resolve(args);
        let path = args.output.clone().filter(|p| p.as_os_str() != "-");
        let terminal = path.is_none() && env.stdout_terminal;
        let columns = env
            .columns
            .and_then(|c| c.trim().parse::<u16>().ok())
            .filter(|&c| c > 0);
        let width = if path.is_some() {
            None
        } else if columns.is_some() {
            columns
        } else if terminal {
            (env.terminal_width)()
        } else {
            None
        };
        OutputOptions {
            format,
            path,
            quiet,
            currency: currency.to_string(),
            color: terminal && !env.no_color && !env.dumb_term && format == Format::Table,
            width,
        }
    }

    /// Options for writing `format` with no terminal involved: no colour, no
    /// width fitting, standard output (tests, `report`).
    pub fn plain(format: Format, currency: &str) -> OutputOptions {
        OutputOptions {
            format,
            path: None,
            quiet: false,
            currency: currency.to_string(),
            color: false,
            width: None,
        }
    }
}

/// What `resolve` reads from the process environment (a struct so tests
/// need not touch the real environment).
struct Env<W> {
    stdout_terminal: bool,
    /// `NO_COLOR` is set and not empty (no-color.org).
    no_color: bool,
    dumb_term: bool,
    columns: Option<String>,
    terminal_width: W,
}

/// How a section reads as a table for people.
#[derive(Debug, Clone, PartialEq)]
pub enum Renderer {
    /// Rows as rows, columns as columns, values formatted by column kind.
    Generic,
    /// Metrics down the side, periods across, change column ([`kpis_table`]).
    Kpis,
    /// Each cohort's ladder with bars ([`funnel_table`]).
    Funnel,
    /// Text the command drew itself, printed as is in `table` format
    /// (markdown falls back on the generic table of the frame).
    Custom(String),
    /// A page the command wrote itself for both people formats, each printed
    /// as is (`validate`).
    Text { table: String, markdown: String },
}

/// One named table of a document.
#[derive(Debug, Clone)]
pub struct Section {
    /// Key in JSON with several sections; heading unless `title` is set.
    pub name: String,
    /// Heading for people (table, markdown).
    pub title: Option<String>,
    pub frame: DataFrame,
    /// Lines printed under the table (`MRR metrics need --revenue`).
    pub notes: Vec<String>,
    pub render: Renderer,
    /// The frame CSV writes when it is not the one people see (`check`:
    /// raw values against formatted text).
    pub csv: Option<DataFrame>,
}

impl Section {
    pub fn new(name: impl Into<String>, frame: DataFrame) -> Section {
        Section {
            name: name.into(),
            title: None,
            frame,
            notes: Vec::new(),
            render: Renderer::Generic,
            csv: None,
        }
    }

    /// Sets the frame CSV writes instead of `frame` (builder style).
    pub fn with_csv_frame(mut self, frame: DataFrame) -> Section {
        self.csv = Some(frame);
        self
    }

    pub fn with_render(mut self, render: Renderer) -> Section {
        self.render = render;
        self
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Section {
        self.title = Some(title.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Section {
        self.notes.push(note.into());
        self
    }

    pub fn with_notes<I, S>(mut self, notes: I) -> Section
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.notes.extend(notes.into_iter().map(Into::into));
        self
    }

    fn heading(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}

/// Where a document's numbers come from: the head of every JSON document
/// and the footer of every table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    /// The `as_of` instant (microseconds since the epoch, UTC).
    pub as_of: Option<i64>,
    /// `--as-of`, or the `table.column` the default `as_of` was taken from.
    pub as_of_source: Option<String>,
    /// The reporting period (`month`, ...); `None` for commands without one.
    pub period: Option<String>,
    /// The configured currency label; `None` when none is configured.
    pub currency: Option<String>,
    /// Each table read and the files it was read from, in reading order.
    pub inputs: Vec<(String, Vec<String>)>,
}

impl Meta {
    /// `as_of` as RFC 3339 in UTC: `2024-06-30T00:00:00Z`.
    pub fn as_of_text(&self) -> Option<String> {
        let t = chrono::DateTime::from_timestamp_micros(self.as_of?)?;
        Some(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }

    /// The JSON fields, in order: `as_of`, `as_of_source`, `period`,
    /// `currency`, `inputs` (null when unknown).
    pub fn json_fields(&self) -> Vec<(&'static str, serde_json::Value)> {
        use serde_json::{json, Value};
        let inputs: Vec<Value> = self
            .inputs
            .iter()
            .map(|(table, files)| json!({"table": table, "files": files}))
            .collect();
        vec![
            ("as_of", json!(self.as_of_text())),
            ("as_of_source", json!(self.as_of_source)),
            ("period", json!(self.period)),
            ("currency", json!(self.currency)),
            ("inputs", Value::Array(inputs)),
        ]
    }

    /// The table footer: `as_of 2024-06-30 (from opportunities.close_date)`;
    /// `None` when `as_of` is unknown.
    pub fn footer(&self) -> Option<String> {
        let t = chrono::DateTime::from_timestamp_micros(self.as_of?)?;
        let when = if t.time() == chrono::NaiveTime::MIN {
            t.format("%Y-%m-%d").to_string()
        } else {
            t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        };
        Some(match &self.as_of_source {
            Some(src) => format!("as_of {when} (from {src})"),
            None => format!("as_of {when}"),
        })
    }
}

/// What a command prints: one or more sections, one of them the main one
/// (the one CSV writes).
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub sections: Vec<Section>,
    /// Index of the section CSV writes.
    pub main: usize,
    /// Where the numbers come from (JSON head, table footer).
    pub meta: Meta,
    /// JSON and NDJSON that are not the sections' frames (see [`Records`]).
    pub records: Option<Records>,
    /// No `as_of` footer under the table and Markdown (a page that states
    /// its `as_of` at the head, `validate`).
    pub no_footer: bool,
}

/// What a document writes for scripts when its rows are not a frame's (nested
/// objects: `check`'s bounds and filters). With records, `--format json`
/// writes the meta head then `fields`, pretty-printed, and `ndjson` one line
/// per value of `rows`; the sections still make the table, Markdown and CSV.
#[derive(Debug, Clone, Default)]
pub struct Records {
    pub fields: Vec<(&'static str, serde_json::Value)>,
    pub rows: Vec<serde_json::Value>,
    /// CSV the command wrote itself; `None` is the main section's frame.
    pub csv: Option<Vec<u8>>,
}

impl Document {
    pub fn new() -> Document {
        Document::default()
    }

    /// A document of one section.
    pub fn single(section: Section) -> Document {
        Document {
            sections: vec![section],
            main: 0,
            meta: Meta::default(),
            records: None,
            no_footer: false,
        }
    }

    /// Leaves out the `as_of` footer (builder style).
    pub fn without_footer(mut self) -> Document {
        self.no_footer = true;
        self
    }

    /// Sets the JSON and NDJSON of the document (builder style).
    pub fn with_records(mut self, records: Records) -> Document {
        self.records = Some(records);
        self
    }

    /// Sets where the numbers come from (builder style).
    pub fn with_meta(mut self, meta: Meta) -> Document {
        self.meta = meta;
        self
    }

    /// Adds a section (builder style).
    pub fn with(mut self, section: Section) -> Document {
        self.sections.push(section);
        self
    }

    pub fn push(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// Makes the section called `name` the one CSV writes.
    pub fn with_main(mut self, name: &str) -> Result<Document> {
        match self.sections.iter().position(|s| s.name == name) {
            Some(i) => {
                self.main = i;
                Ok(self)
            }
            None => bail!("no section `{name}` in the document"),
        }
    }

    pub fn main_section(&self) -> Option<&Section> {
        self.sections.get(self.main)
    }
}

/// Writes the document in the chosen format to standard output or, with
/// `-o`, atomically to the file. A closed pipe comes back as an
/// `io::Error` of kind `BrokenPipe` in the chain (the caller exits 0).
pub fn emit(doc: &Document, opts: &OutputOptions) -> Result<()> {
    let bytes = render(doc, opts)?;
    match &opts.path {
        Some(path) => write_atomic(path, &bytes)?,
        None => write_stdout(&bytes)?,
    }
    if opts.format.is_machine() && !opts.quiet && io::stderr().is_terminal() {
        let sections: Vec<&Section> = match opts.format {
            Format::Csv | Format::Ndjson => doc.main_section().into_iter().collect(),
            _ => doc.sections.iter().collect(),
        };
        let mut err = io::stderr().lock();
        for note in sections.iter().flat_map(|s| &s.notes) {
            // Best effort: a note that cannot be shown is no reason to fail.
            let _ = writeln!(err, "note: {note}");
        }
    }
    Ok(())
}

/// The document as bytes in the chosen format.
pub fn render(doc: &Document, opts: &OutputOptions) -> Result<Vec<u8>> {
    match opts.format {
        Format::Csv if doc.records.as_ref().is_some_and(|r| r.csv.is_some()) => {
            Ok(doc.records.as_ref().and_then(|r| r.csv.clone()).unwrap_or_default())
        }
        Format::Csv => match doc.main_section() {
            Some(s) => machine::to_csv(s.csv.as_ref().unwrap_or(&s.frame))
                .with_context(|| format!("writing `{}` as CSV", s.name)),
            None => Ok(Vec::new()),
        },
        Format::Json if doc.records.is_some() => {
            let mut fields = doc.meta.json_fields();
            fields.extend(doc.records.iter().flat_map(|r| r.fields.iter().cloned()));
            machine::json_fields_text(&fields)
        }
        Format::Ndjson if doc.records.is_some() => {
            machine::values_ndjson(doc.records.as_ref().map_or(&[][..], |r| &r.rows))
        }
        Format::Json => {
            let parts: Vec<(&str, &DataFrame)> = doc
                .sections
                .iter()
                .map(|s| (s.name.as_str(), &s.frame))
                .collect();
            machine::to_json(&doc.meta.json_fields(), &parts)
        }
        Format::Ndjson => match doc.main_section() {
            Some(s) => machine::to_ndjson(&s.frame)
                .with_context(|| format!("writing `{}` as NDJSON", s.name)),
            None => Ok(Vec::new()),
        },
        Format::Markdown => render_markdown(doc, opts).map(String::into_bytes),
        Format::Table => render_table(doc, opts).map(String::into_bytes),
    }
}

fn layout_of(s: &Section, opts: &OutputOptions) -> Result<grid::Layout> {
    let layout = match s.render {
        Renderer::Kpis => grid::kpis(&s.frame, opts),
        Renderer::Funnel => grid::funnel(&s.frame, opts),
        Renderer::Generic | Renderer::Custom(_) | Renderer::Text { .. } => {
            grid::generic(&s.frame, opts)
        }
    };
    layout.with_context(|| format!("drawing the `{}` table", s.name))
}

fn titled(doc: &Document, s: &Section) -> bool {
    // An empty title means "no heading" (a custom rendering that titles itself).
    s.title.as_deref() != Some("") && (doc.sections.len() > 1 || s.title.is_some())
}

fn render_table(doc: &Document, opts: &OutputOptions) -> Result<String> {
    let mut out = String::new();
    for (i, s) in doc.sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if titled(doc, s) {
            out.push_str(&table::bold(s.heading(), opts.color));
            out.push('\n');
        }
        let (text, mut notes) = match &s.render {
            Renderer::Custom(text) | Renderer::Text { table: text, .. } => {
                (text.clone(), Vec::new())
            }
            _ => table::draw_layout(&layout_of(s, opts)?, opts, s.render == Renderer::Generic),
        };
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
        notes.extend(s.notes.iter().cloned());
        if !opts.quiet {
            for n in notes {
                out.push_str(&table::dim(&n, opts.color));
                out.push('\n');
            }
        }
    }
    if let (false, false, Some(footer)) = (opts.quiet, doc.no_footer, doc.meta.footer()) {
        out.push_str(&table::dim(&footer, opts.color));
        out.push('\n');
    }
    Ok(out)
}

fn render_markdown(doc: &Document, opts: &OutputOptions) -> Result<String> {
    // Markdown is never fitted to a terminal.
    let md_opts = OutputOptions {
        width: None,
        color: false,
        ..opts.clone()
    };
    let mut out = String::new();
    for (i, s) in doc.sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if titled(doc, s) {
            out.push_str(&format!("## {}\n\n", s.heading()));
        }
        let notes: &[String] = if opts.quiet { &[] } else { &s.notes };
        if let Renderer::Text { markdown, .. } = &s.render {
            out.push_str(markdown);
            for n in notes {
                out.push_str(&format!("\n_{n}_\n"));
            }
            continue;
        }
        let mut layout = layout_of(s, &md_opts)?;
        if opts.quiet {
            layout.notes.clear();
        }
        markdown::layout_md(&layout, notes, &mut out);
    }
    if let (false, false, Some(footer)) = (opts.quiet, doc.no_footer, doc.meta.footer()) {
        out.push_str(&format!("\n_{footer}_\n"));
    }
    Ok(out)
}

/// Writes to standard output (locked, buffered), propagating every error,
/// a closed pipe included.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let stdout = io::stdout();
    let mut w = BufWriter::new(stdout.lock());
    w.write_all(bytes).context("writing to standard output")?;
    w.flush().context("writing to standard output")?;
    Ok(())
}

#[cfg(test)]
mod tests;
