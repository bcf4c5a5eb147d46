//! Terminal tables (comfy-table): draws the grids of `grid`, colour only when
//! the resolved options allow it (a terminal, no `NO_COLOR`, no `-o`).

use anyhow::Result;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, CellAlignment, Color, ContentArrangement, Table};
use polars::prelude::DataFrame;

use super::grid::{self, Align, Grid, Layout, Tone};
use super::OutputOptions;

/// Rows as rows, columns as columns, values formatted by column kind.
/// Returns the drawn text and the notes to print under it.
pub fn generic_table(df: &DataFrame, opts: &OutputOptions) -> Result<(String, Vec<String>)> {
    Ok(draw_layout(&grid::generic(df, opts)?, opts, true))
}

/// The KPI scorecard: frame columns `period` (Date), an optional dimension
/// (`channel`, `segment`, `owner`, `campaign`) and metric columns; drawn with
/// metrics down the side, periods across (newest last) and a `Δ vs prev`
/// column, earliest periods left out to fit `opts.width` (said in a note).
pub fn kpis_table(df: &DataFrame, opts: &OutputOptions) -> Result<(String, Vec<String>)> {
    Ok(draw_layout(&grid::kpis(df, opts)?, opts, false))
}

/// The cohort funnel: frame columns `cohort`, optional dimension, `stage`,
/// `reached`, `conversion_from_previous`, `conversion_from_lead`,
/// `median_days_from_previous`, `dropped`, `cohort_age_days`; one table per
/// cohort (newest last) with a bar per stage.
pub fn funnel_table(df: &DataFrame, opts: &OutputOptions) -> Result<(String, Vec<String>)> {
    Ok(draw_layout(&grid::funnel(df, opts)?, opts, false))
}

pub(crate) fn draw_layout(
    layout: &Layout,
    opts: &OutputOptions,
    wrap: bool,
) -> (String, Vec<String>) {
    let mut out = String::new();
    for (i, g) in layout.grids.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if let Some(h) = &g.heading {
            out.push_str(&bold(h, opts.color));
            out.push('\n');
        }
        out.push_str(&draw(g, opts, wrap));
        out.push('\n');
    }
    (out, layout.notes.clone())
}

/// Bold text on a colour terminal.
pub(crate) fn bold(text: &str, color: bool) -> String {
    if color {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A dimmed note line on a colour terminal.
pub(crate) fn dim(text: &str, color: bool) -> String {
    if color {
        format!("\x1b[2m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// One grid as a comfy-table. `wrap`: let comfy-table wrap cells to fit the
/// width (generic tables); otherwise the layout already fitted itself.
fn draw(g: &Grid, opts: &OutputOptions, wrap: bool) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).force_no_tty();
    if opts.color {
        t.enforce_styling();
    }
    match (wrap, opts.width) {
        (true, Some(w)) => {
            t.set_width(w)
                .set_content_arrangement(ContentArrangement::Dynamic);
        }
        _ => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    let header: Vec<Cell> = g
        .header
        .iter()
        .map(|h| {
            let c = Cell::new(h);
            if opts.color {
                c.add_attribute(Attribute::Bold)
            } else {
                c
            }
        })
        .collect();
    t.set_header(header);
    for row in &g.rows {
        let cells: Vec<Cell> = row
            .iter()
            .map(|c| {
                let cell = Cell::new(&c.text);
                match (opts.color, c.tone) {
                    (true, Tone::Good) => cell.fg(Color::Green),
                    (true, Tone::Bad) => cell.fg(Color::Red),
                    (true, Tone::Bar) => cell.fg(Color::Cyan),
                    _ => cell,
                }
            })
            .collect();
        t.add_row(cells);
    }
    for (i, a) in g.align.iter().enumerate() {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(match a {
                Align::Left => CellAlignment::Left,
                Align::Right => CellAlignment::Right,
            });
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Format, OutputOptions};
    use chrono::NaiveDate;
    use polars::prelude::*;

    fn opts(width: Option<u16>) -> OutputOptions {
        OutputOptions {
            format: Format::Table,
            path: None,
            quiet: false,
            currency: "$".into(),
            color: false,
            width,
        }
    }

    fn d(y: i32, m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, 1).unwrap()
    }

    /// Three months of a small scorecard.
    fn kpis_frame() -> DataFrame {
        let period = Series::new("period".into(), &[d(2024, 1), d(2024, 2), d(2024, 3)]);
        let leads = Series::new("leads".into(), &[9000u32, 11000, 12345]);
        let rate = Series::new("win_rate".into(), &[Some(0.25), Some(0.20), Some(0.234)]);
        let bookings = Series::new(
            "new_bookings".into(),
            &[Some(50_000.0), Some(80_000.0), Some(60_000.0)],
        );
        let cycle = Series::new("sales_cycle_days".into(), &[Some(30.0), None, Some(42.26)]);
        DataFrame::new_infer_height(vec![
            period.into(),
            leads.into(),
            rate.into(),
            bookings.into(),
            cycle.into(),
        ])
        .unwrap()
    }

    fn line_of<'a>(text: &'a str, label: &str) -> &'a str {
        text.lines()
            .find(|l| cells(l).first().map(|c| c == label).unwrap_or(false))
            .unwrap_or_else(|| panic!("no row {label} in\n{text}"))
    }

    fn cells(line: &str) -> Vec<String> {
        line.split(['│', '┆'])
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    }

    #[test]
    fn kpis_transposes_and_computes_the_change() {
        let (text, notes) = kpis_table(&kpis_frame(), &opts(None)).unwrap();
        assert!(notes.is_empty());
        let header = cells(line_of(&text, "metric"));
        assert_eq!(
            header,
            [
                "metric",
                "2024-01-01",
                "2024-02-01",
                "2024-03-01",
                "Δ vs prev",
                "trend"
            ]
        );
        // leads: 11,000 -> 12,345 = 1,345 / 11,000 = +12.23% -> "+12.2%".
        // Trend in eighths of 9,000..12,345: 0, 2,000 / 3,345 * 7 = 4.2, 7.
        assert_eq!(
            cells(line_of(&text, "leads")),
            ["leads", "9,000", "11,000", "12,345", "+12.2%", "▁▅█"]
        );
        // win_rate: 0.20 -> 0.234 = +3.4 percentage points; trend over
        // 0.20..0.25: 7, 0, 0.034 / 0.05 * 7 = 4.8.
        assert_eq!(
            cells(line_of(&text, "win_rate")),
            ["win_rate", "25.0%", "20.0%", "23.4%", "+3.4 pp", "█▁▆"]
        );
        // new_bookings: 80,000 -> 60,000 = -25%; trend 0, 7, 10/30 * 7 = 2.3.
        assert_eq!(
            cells(line_of(&text, "new_bookings")),
            ["new_bookings", "$50,000", "$80,000", "$60,000", "-25.0%", "▁█▃"]
        );
        // sales_cycle_days: February is null, so no change (and a gap).
        assert_eq!(
            cells(line_of(&text, "sales_cycle_days")),
            ["sales_cycle_days", "30.0", "–", "42.3", "–", "▁ █"]
        );
    }

    #[test]
    fn kpis_fit_the_width_by_dropping_the_earliest_periods() {
        let full = kpis_table(&kpis_frame(), &opts(None)).unwrap().0;
        let full_width = full.lines().map(|l| l.chars().count()).max().unwrap();
        // One period column is 10 chars of content + 3 = 13 wide: one less fits.
        let width = (full_width - 1) as u16;
        let (text, notes) = kpis_table(&kpis_frame(), &opts(Some(width))).unwrap();
        assert!(
            text.lines().all(|l| l.chars().count() <= width as usize),
            "{text}"
        );
        assert!(!text.contains("2024-01-01"), "{text}");
        assert!(text.contains("2024-02-01") && text.contains("2024-03-01"));
        assert_eq!(
            notes,
            ["1 earlier period not shown (use --format csv, or a wider terminal)"]
        );
        assert_eq!(
            full_width - 13,
            text.lines().map(|l| l.chars().count()).max().unwrap()
        );
        // Far too narrow: the latest period and the change stay.
        let (text, notes) = kpis_table(&kpis_frame(), &opts(Some(20))).unwrap();
        assert!(text.contains("2024-03-01") && !text.contains("2024-02-01"));
        assert!(text.contains("+12.2%"));
        assert_eq!(
            notes,
            ["2 earlier periods not shown (use --format csv, or a wider terminal)"]
        );
    }

    #[test]
    fn kpis_one_block_per_dimension_value() {
        let period = Series::new("period".into(), &[d(2024, 1), d(2024, 1), d(2024, 2)]);
        let channel = Series::new(
            "channel".into(),
            &[Some("Paid Search"), None, Some("Paid Search")],
        );
        let leads = Series::new("leads".into(), &[10u32, 4, 15]);
        let df =
            DataFrame::new_infer_height(vec![period.into(), channel.into(), leads.into()]).unwrap();
        let (text, _) = kpis_table(&df, &opts(None)).unwrap();
        assert!(text.contains("channel: Paid Search"), "{text}");
        assert!(text.contains("channel: (none)"), "{text}");
        // Paid Search 10 -> 15 = +50%; (none) has no February row.
        assert!(text.contains("+50.0%"), "{text}");
        let none_block = text.split("channel: (none)").nth(1).unwrap();
        // One value: a flat sparkline of one character, blanks for the gaps.
        assert_eq!(
            cells(line_of(none_block, "leads")),
            ["leads", "4", "–", "–", "▄"]
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let mut o = opts(None);
        let (plain, _) = kpis_table(&kpis_frame(), &o).unwrap();
        assert!(!plain.contains('\x1b'));
        o.color = true;
        let (coloured, _) = kpis_table(&kpis_frame(), &o).unwrap();
        assert!(coloured.contains('\x1b'));
    }

    fn funnel_frame() -> DataFrame {
        let cohort = Series::new(
            "cohort".into(),
            &[
                d(2024, 2),
                d(2024, 2),
                d(2024, 2),
                d(2024, 1),
                d(2024, 1),
                d(2024, 1),
            ],
        );
        let stage = Series::new(
            "stage".into(),
            &["lead", "mql", "won", "lead", "mql", "won"],
        );
        let reached = Series::new("reached".into(), &[200u32, 100, 50, 100, 25, 0]);
        let from_prev = Series::new(
            "conversion_from_previous".into(),
            &[None, Some(0.5), Some(0.5), None, Some(0.25), Some(0.0)],
        );
        let from_lead = Series::new(
            "conversion_from_lead".into(),
            &[
                Some(1.0),
                Some(0.5),
                Some(0.25),
                Some(1.0),
                Some(0.25),
                Some(0.0),
            ],
        );
        let median = Series::new(
            "median_days_from_previous".into(),
            &[None, Some(3.5), Some(40.0), None, Some(2.0), None],
        );
        let dropped = Series::new(
            "dropped".into(),
            &[None, Some(100u32), Some(50), None, Some(75), Some(25)],
        );
        let age = Series::new(
            "cohort_age_days".into(),
            &[29.5f64, 29.5, 29.5, 60.5, 60.5, 60.5],
        );
        DataFrame::new_infer_height(vec![
            cohort.into(),
            stage.into(),
            reached.into(),
            from_prev.into(),
            from_lead.into(),
            median.into(),
            dropped.into(),
            age.into(),
        ])
        .unwrap()
    }

    fn bar_len(line: &str) -> usize {
        line.chars().filter(|&c| c == '█').count()
    }

    #[test]
    fn funnel_bars_are_proportional() {
        let (text, notes) = funnel_table(&funnel_frame(), &opts(None)).unwrap();
        assert!(notes.is_empty());
        // Newest last: January's block comes first.
        let jan = text.find("cohort 2024-01-01").unwrap();
        let feb = text.find("cohort 2024-02-01").unwrap();
        assert!(jan < feb, "{text}");
        let feb_block = &text[feb..];
        assert!(
            feb_block.starts_with("cohort 2024-02-01 · 200 leads · 29.5 days old"),
            "{feb_block}"
        );
        // 200, 100, 50 of 200 with 24-char bars: 24, 12, 6 full blocks.
        assert_eq!(bar_len(line_of(feb_block, "lead")), 24);
        assert_eq!(bar_len(line_of(feb_block, "mql")), 12);
        assert_eq!(bar_len(line_of(feb_block, "won")), 6);
        let mql = cells(line_of(feb_block, "mql"));
        assert_eq!(mql[2..], ["100", "50.0%", "50.0%", "3.5", "100"]);
        // January: 25 of 100 = 6 blocks; 0 won = no bar.
        let jan_block = &text[jan..feb];
        assert_eq!(bar_len(line_of(jan_block, "mql")), 6);
        assert_eq!(bar_len(line_of(jan_block, "won")), 0);
        assert_eq!(
            cells(line_of(jan_block, "lead"))[2..],
            ["100", "–", "100.0%", "–", "–"]
        );
    }

    #[test]
    fn funnel_partial_blocks() {
        assert_eq!(grid::bar(0.5, 3), "█▌");
        assert_eq!(grid::bar(1.0, 4), "████");
        assert_eq!(grid::bar(0.0, 4), "");
        assert_eq!(grid::bar(1.0 / 16.0, 1), "▏"); // half of one eighth rounds up
    }

    #[test]
    fn funnel_leaves_out_earlier_cohorts_on_a_terminal() {
        // 12 cohorts of 3 stages: 9 lines each; 60 lines hold 6 cohorts.
        let mut cohort = Vec::new();
        let mut stage = Vec::new();
        let mut reached = Vec::new();
        for m in 1..=12 {
            for (s, r) in [("lead", 10u32), ("mql", 5), ("won", 1)] {
                cohort.push(d(2024, m));
                stage.push(s);
                reached.push(r);
            }
        }
        let df = DataFrame::new_infer_height(vec![
            Series::new("cohort".into(), &cohort).into(),
            Series::new("stage".into(), &stage).into(),
            Series::new("reached".into(), &reached).into(),
        ])
        .unwrap();
        let (text, notes) = funnel_table(&df, &opts(Some(100))).unwrap();
        assert_eq!(
            notes,
            ["6 earlier cohorts not shown (use --format csv, or --from)"]
        );
        assert!(!text.contains("cohort 2024-06-01") && text.contains("cohort 2024-07-01"));
        assert!(text.contains("cohort 2024-12-01"));
        // Not a terminal: everything.
        let (text, notes) = funnel_table(&df, &opts(None)).unwrap();
        assert!(notes.is_empty() && text.contains("cohort 2024-01-01"));
    }

    #[test]
    fn empty_frames_draw_the_header_only() {
        let empty = kpis_frame().head(Some(0));
        let (text, notes) = kpis_table(&empty, &opts(Some(80))).unwrap();
        assert!(
            text.contains("period") && text.contains("win_rate") && notes.is_empty(),
            "{text}"
        );
        let (text, _) = funnel_table(&funnel_frame().head(Some(0)), &opts(Some(80))).unwrap();
        assert!(
            text.contains("cohort") && text.contains("reached"),
            "{text}"
        );
    }

    #[test]
    fn generic_formats_by_column_kind() {
        let df = DataFrame::new_infer_height(vec![
            Series::new("stage".into(), &["lead", "mql"]).into(),
            Series::new("reached".into(), &[12345u32, 6789]).into(),
            Series::new("win_rate".into(), &[Some(0.5), None]).into(),
        ])
        .unwrap();
        let (text, _) = generic_table(&df, &opts(None)).unwrap();
        assert_eq!(cells(line_of(&text, "lead")), ["lead", "12,345", "50.0%"]);
        assert_eq!(cells(line_of(&text, "mql")), ["mql", "6,789", "–"]);
    }
}
