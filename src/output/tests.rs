//! Tests of the document model and its renderers (`output::render`).

use super::*;
use chrono::NaiveDate;
use polars::prelude::*;

fn kpis() -> DataFrame {
    let d = |m| NaiveDate::from_ymd_opt(2024, m, 1).unwrap();
    DataFrame::new_infer_height(vec![
        Series::new("period".into(), &[d(1), d(2)]).into(),
        Series::new("leads".into(), &[100u32, 120]).into(),
        Series::new("marketing_spend".into(), &[None, Some(2500.4)]).into(),
    ])
    .unwrap()
}

fn notes_frame() -> DataFrame {
    DataFrame::new_infer_height(vec![Series::new("assumption".into(), &["uplift"]).into()]).unwrap()
}

fn doc() -> Document {
    Document::single(
        Section::new("kpis", kpis())
            .with_render(Renderer::Kpis)
            .with_note("MRR metrics need a revenue table (--revenue)"),
    )
    .with(Section::new("assumptions", notes_frame()))
}

fn text(doc: &Document, format: Format) -> String {
    String::from_utf8(render(doc, &OutputOptions::plain(format, "$")).unwrap()).unwrap()
}

#[test]
fn csv_writes_the_main_section() {
    assert_eq!(
        text(&doc(), Format::Csv),
        "period,leads,marketing_spend\n2024-01-01,100,\n2024-02-01,120,2500.4\n"
    );
    let other = doc().with_main("assumptions").unwrap();
    assert_eq!(text(&other, Format::Csv), "assumption\nuplift\n");
    assert!(doc().with_main("nope").is_err());
}

#[test]
fn json_one_or_several_sections() {
    let one = Document::single(Section::new("kpis", kpis())).with_meta(meta());
    let v: serde_json::Value = serde_json::from_str(&text(&one, Format::Json)).unwrap();
    assert_eq!(v["rows"][1]["marketing_spend"], 2500.4);
    assert!(v["rows"][0]["marketing_spend"].is_null());
    // 1709251200 s = 2024-03-01T00:00:00Z.
    assert_eq!(v["as_of"], "2024-03-01T00:00:00Z");
    assert_eq!(v["as_of_source"], "leads.created_at");
    assert_eq!(v["period"], "month");
    assert!(v["currency"].is_null());
    assert_eq!(v["inputs"][0]["table"], "leads");
    assert_eq!(v["inputs"][0]["files"][0], "leads.csv");
    let v: serde_json::Value = serde_json::from_str(&text(&doc(), Format::Json)).unwrap();
    assert_eq!(v["kpis"][1]["leads"], 120);
    assert_eq!(v["assumptions"][0]["assumption"], "uplift");
}

fn meta() -> Meta {
    Meta {
        as_of: Some(1_709_251_200_000_000),
        as_of_source: Some("leads.created_at".into()),
        period: Some("month".into()),
        currency: None,
        inputs: vec![("leads".into(), vec!["leads.csv".into()])],
    }
}

#[test]
fn table_and_markdown_end_with_the_as_of_footer() {
    let d = doc().with_meta(meta());
    let t = text(&d, Format::Table);
    assert!(
        t.ends_with("\nas_of 2024-03-01 (from leads.created_at)\n"),
        "{t}"
    );
    let m = text(&d, Format::Markdown);
    assert!(
        m.ends_with("\n_as_of 2024-03-01 (from leads.created_at)_\n"),
        "{m}"
    );
    let quiet = OutputOptions {
        quiet: true,
        ..OutputOptions::plain(Format::Table, "$")
    };
    let q = String::from_utf8(render(&d, &quiet).unwrap()).unwrap();
    assert!(!q.contains("as_of"), "{q}");
}

#[test]
fn ndjson_writes_the_main_section() {
    let t = text(&doc(), Format::Ndjson);
    assert_eq!(
        t,
        "{\"period\":\"2024-01-01\",\"leads\":100,\"marketing_spend\":null}\n\
         {\"period\":\"2024-02-01\",\"leads\":120,\"marketing_spend\":2500.4}\n"
    );
}

#[test]
fn the_extension_picks_the_format_unless_format_is_given() {
    let f = |format: Option<Format>, out: Option<&str>| {
        Format::resolve(&OutputRequest {
            format,
            output: out.map(PathBuf::from),
        })
    };
    assert_eq!(f(None, None), Format::Table);
    assert_eq!(f(None, Some("out.csv")), Format::Csv);
    assert_eq!(f(None, Some("OUT.CSV")), Format::Csv);
    assert_eq!(f(None, Some("k.json")), Format::Json);
    assert_eq!(f(None, Some("k.ndjson")), Format::Ndjson);
    assert_eq!(f(None, Some("k.jsonl")), Format::Ndjson);
    assert_eq!(f(None, Some("k.md")), Format::Markdown);
    assert_eq!(f(None, Some("k.txt")), Format::Table);
    assert_eq!(f(None, Some("-")), Format::Table);
    assert_eq!(f(Some(Format::Json), Some("out.csv")), Format::Json);
    assert_eq!(f(Some(Format::Table), Some("out.csv")), Format::Table);
}

#[test]
fn table_uses_the_section_renderer_and_prints_notes() {
    let t = text(&doc(), Format::Table);
    assert!(t.starts_with("kpis\n"), "{t}");
    assert!(t.contains("Δ vs prev") && t.contains("+20.0%"), "{t}");
    assert!(t.contains("$2,500"), "{t}");
    assert!(t.contains("MRR metrics need a revenue table (--revenue)\n"));
    assert!(t.contains("\nassumptions\n"));
    let quiet = OutputOptions {
        quiet: true,
        ..OutputOptions::plain(Format::Table, "$")
    };
    let q = String::from_utf8(render(&doc(), &quiet).unwrap()).unwrap();
    assert!(!q.contains("MRR metrics") && q.contains("+20.0%"));
}

#[test]
fn custom_text_is_printed_as_is() {
    let d = Document::single(
        Section::new("x", notes_frame()).with_render(Renderer::Custom("hello".into())),
    );
    assert_eq!(text(&d, Format::Table), "hello\n");
    assert!(text(&d, Format::Markdown).contains("| uplift |"));
}

#[test]
fn a_page_and_records_replace_the_frames() {
    let page = Renderer::Text {
        table: "page\n".into(),
        markdown: "# page\n".into(),
    };
    let mut d = Document::single(
        Section::new("x", notes_frame())
            .with_render(page)
            .with_csv_frame(df!("raw" => [1i64, 2]).unwrap()),
    )
    .with_meta(meta());
    // The frame CSV writes is the section's own; the footer is kept.
    assert_eq!(text(&d, Format::Csv), "raw\n1\n2\n");
    assert!(text(&d, Format::Table).starts_with("page\nas_of 2024-03-01"));
    assert!(text(&d, Format::Markdown).starts_with("# page\n\n_as_of 2024-03-01"));
    d = d.without_footer().with_records(Records {
        fields: vec![("n", serde_json::json!({"a": [1]}))],
        rows: vec![serde_json::json!({"a": 1}), serde_json::json!(null)],
        csv: Some(b"own\n".to_vec()),
    });
    assert_eq!(text(&d, Format::Table), "page\n");
    assert_eq!(text(&d, Format::Markdown), "# page\n");
    assert_eq!(text(&d, Format::Csv), "own\n");
    assert_eq!(text(&d, Format::Ndjson), "{\"a\":1}\nnull\n");
    let json = text(&d, Format::Json);
    assert!(
        json.starts_with("{\n  \"as_of\": \"2024-03-01T00:00:00Z\""),
        "{json}"
    );
    assert!(
        json.ends_with("  \"n\": {\n    \"a\": [\n      1\n    ]\n  }\n}\n"),
        "{json}"
    );
}

#[test]
fn markdown_has_a_heading_per_section() {
    let m = text(&doc(), Format::Markdown);
    assert!(
        m.starts_with("## kpis\n\n| metric | 2024-01-01 | 2024-02-01 | Δ vs prev | trend |\n"),
        "{m}"
    );
    assert!(m.contains("| leads | 100 | 120 | +20.0% | ▁█ |"), "{m}");
    assert!(m.contains("## assumptions"), "{m}");
    assert!(
        m.contains("_MRR metrics need a revenue table (--revenue)_"),
        "{m}"
    );
}

fn env(terminal: bool, no_color: bool, columns: Option<&str>) -> Env<fn() -> Option<u16>> {
    Env {
        stdout_terminal: terminal,
        no_color,
        dumb_term: false,
        columns: columns.map(str::to_string),
        terminal_width: || Some(120),
    }
}

#[test]
fn resolve_colour_and_width() {
    let table = OutputRequest {
        format: Some(Format::Table),
        output: None,
    };
    let o = OutputOptions::resolve_in(&table, false, "$", env(true, false, None));
    assert!(o.color);
    assert_eq!(o.width, Some(120));
    // NO_COLOR: no colour, still fitted.
    let o = OutputOptions::resolve_in(&table, false, "$", env(true, true, None));
    assert!(!o.color);
    assert_eq!(o.width, Some(120));
    // A pipe: neither, unless COLUMNS says how wide.
    let o = OutputOptions::resolve_in(&table, false, "$", env(false, false, None));
    assert!(!o.color && o.width.is_none());
    let o = OutputOptions::resolve_in(&table, false, "$", env(false, false, Some("80")));
    assert!(!o.color && o.width == Some(80));
    // -o FILE: neither, even on a terminal; `-o -` is standard output.
    let file = OutputRequest {
        format: Some(Format::Table),
        output: Some("k.txt".into()),
    };
    let o = OutputOptions::resolve_in(&file, false, "$", env(true, false, Some("80")));
    assert!(!o.color && o.width.is_none() && o.path.is_some());
    let dash = OutputRequest {
        format: Some(Format::Table),
        output: Some("-".into()),
    };
    let o = OutputOptions::resolve_in(&dash, false, "$", env(true, false, None));
    assert!(o.color && o.path.is_none());
    // Colour is for tables only.
    let csv = OutputRequest {
        format: Some(Format::Csv),
        output: None,
    };
    let o = OutputOptions::resolve_in(&csv, true, "$", env(true, false, None));
    assert!(!o.color && o.quiet && o.format == Format::Csv);
}

#[test]
fn emit_to_a_file_is_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kpis.csv");
    let opts = OutputOptions {
        path: Some(path.clone()),
        ..OutputOptions::plain(Format::Csv, "")
    };
    emit(&doc(), &opts).unwrap();
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .starts_with("period,leads"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
