//! Tables for people, built as plain grids of formatted text before any
//! drawing: the terminal renderer (`table`) draws them with comfy-table, the
//! markdown writer as GitHub tables. Three layouts: generic (rows as rows),
//! kpis (metrics down the side, periods across, change column) and funnel
//! (each cohort's ladder with bars).

use std::collections::HashMap;

use anyhow::{bail, Result};
use polars::prelude::{Column, DataFrame};

use super::format::{
    change, change_kind, higher_is_better, human_change, human_val, kind_of, ChangeKind, Val,
    ValueKind,
};
use super::machine::cell;
use super::OutputOptions;

/// The dimension columns `--by` adds, in the order they are looked for.
pub const DIMENSIONS: [&str; 4] = ["channel", "segment", "owner", "campaign"];

/// How the text of a cell should be coloured on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Plain,
    Good,
    Bad,
    Bar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GridCell {
    pub text: String,
    pub tone: Tone,
}

impl GridCell {
    pub fn plain(text: impl Into<String>) -> Self {
        GridCell {
            text: text.into(),
            tone: Tone::Plain,
        }
    }
}

/// One table: an optional heading line, a header row, aligned columns.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grid {
    pub heading: Option<String>,
    pub header: Vec<String>,
    pub align: Vec<Align>,
    pub rows: Vec<Vec<GridCell>>,
}

impl Grid {
    /// Widths of the columns in characters (content only).
    pub fn column_widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.header.iter().map(|h| text_width(h)).collect();
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                if i < w.len() {
                    w[i] = w[i].max(text_width(&c.text));
                }
            }
        }
        w
    }
}

/// Grids plus the notes to print under them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layout {
    pub grids: Vec<Grid>,
    pub notes: Vec<String>,
}

/// Width of text on a terminal: everything we print is one column per char
/// (ASCII, `–`, `Δ`, block elements).
pub(crate) fn text_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// Width of a drawn table with the given content widths: one space of padding
/// on each side of every cell and one border character between and around.
pub(crate) fn drawn_width(widths: &[usize]) -> usize {
    widths.iter().map(|w| w + 3).sum::<usize>() + 1
}

fn is_numeric(col: &Column) -> bool {
    col.dtype().is_primitive_numeric()
}

fn dimension_of(df: &DataFrame) -> Option<&'static str> {
    DIMENSIONS
        .into_iter()
        .find(|d| df.get_column_index(d).is_some())
}

fn dim_label(v: &Val) -> String {
    match v {
        Val::Null => "(none)".to_string(),
        Val::Str(s) if s.is_empty() => "(none)".to_string(),
        other => human_val(other, ValueKind::Text, ""),
    }
}

/// Rows as rows, columns as columns, each value formatted by its column's kind.
pub(crate) fn generic(df: &DataFrame, opts: &OutputOptions) -> Result<Layout> {
    let columns = df.columns();
    let mut grid = Grid {
        heading: None,
        header: columns.iter().map(|c| c.name().to_string()).collect(),
        align: columns
            .iter()
            .map(|c| {
                if is_numeric(c) {
                    Align::Right
                } else {
                    Align::Left
                }
            })
            .collect(),
        rows: Vec::with_capacity(df.height()),
    };
    let kinds: Vec<ValueKind> = columns.iter().map(|c| kind_of(c.name())).collect();
    for row in 0..df.height() {
        let mut cells = Vec::with_capacity(columns.len());
        for (col, kind) in columns.iter().zip(&kinds) {
            cells.push(GridCell::plain(human_val(
                &cell(col, row)?,
                *kind,
                &opts.currency,
            )));
        }
        grid.rows.push(cells);
    }
    Ok(Layout {
        grids: vec![grid],
        notes: Vec::new(),
    })
}

/// Distinct values of a time column, sorted, with their labels.
struct Periods {
    keys: Vec<i64>,
    labels: Vec<String>,
}

fn periods_of(col: &Column) -> Result<(Periods, Vec<Option<usize>>)> {
    let mut per_row = Vec::with_capacity(col.len());
    let mut seen: Vec<(i64, String)> = Vec::new();
    for row in 0..col.len() {
        let v = cell(col, row)?;
        let key = match (v.time_key(), v.as_f64()) {
            (Some(k), _) => Some(k),
            (None, Some(f)) => Some(f as i64),
            _ => None,
        };
        if let Some(k) = key {
            if !seen.iter().any(|(s, _)| *s == k) {
                seen.push((k, human_val(&v, ValueKind::Date, "")));
            }
        }
        per_row.push(key);
    }
    seen.sort_by_key(|(k, _)| *k);
    let index: HashMap<i64, usize> = seen.iter().enumerate().map(|(i, (k, _))| (*k, i)).collect();
    let rows = per_row
        .into_iter()
        .map(|k| k.and_then(|k| index.get(&k).copied()))
        .collect();
    let (keys, labels) = seen.into_iter().unzip();
    Ok((Periods { keys, labels }, rows))
}

/// Distinct values of the dimension column in order of first appearance.
fn dims_of(df: &DataFrame, dim: Option<&str>) -> Result<(Vec<String>, Vec<usize>)> {
    let Some(name) = dim else {
        return Ok((vec![String::new()], vec![0; df.height()]));
    };
    let col = df.column(name)?;
    let mut labels: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(df.height());
    for row in 0..df.height() {
        let label = dim_label(&cell(col, row)?);
        let i = match labels.iter().position(|l| *l == label) {
            Some(i) => i,
            None => {
                labels.push(label);
                labels.len() - 1
            }
        };
        rows.push(i);
    }
    Ok((labels, rows))
}

/// The KPI scorecard: metrics down the side, periods across (newest last),
/// then the change of the latest period against the one before. With a
/// dimension column, one table per value. Fitted to `opts.width` by leaving
/// out the earliest periods.
pub(crate) fn kpis(df: &DataFrame, opts: &OutputOptions) -> Result<Layout> {
    let Some(period_col) = df.get_column_index("period").map(|i| &df.columns()[i]) else {
        return generic(df, opts);
    };
    if df.height() == 0 {
        return generic(df, opts);
    }
    let dim = dimension_of(df);
    let (periods, row_period) = periods_of(period_col)?;
    let (dims, row_dim) = dims_of(df, dim)?;
    let metrics: Vec<&Column> = df
        .columns()
        .iter()
        .filter(|c| c.name().as_str() != "period" && Some(c.name().as_str()) != dim)
        .collect();
    let n = periods.keys.len();

    // (dim, period) -> row of the frame.
    let mut at: HashMap<(usize, usize), usize> = HashMap::new();
    for row in 0..df.height() {
        if let Some(p) = row_period[row] {
            at.entry((row_dim[row], p)).or_insert(row);
        }
    }

    let with_change = n >= 2;
    // Every block's cells for every period: blocks[d][m] = (values, change);
    // trends[d][m] = the numbers, for the `trend` sparkline (None for text).
    let mut blocks: Vec<Vec<(Vec<GridCell>, GridCell)>> = Vec::with_capacity(dims.len());
    let mut trends: Vec<Vec<Option<Vec<Option<f64>>>>> = Vec::with_capacity(dims.len());
    for d in 0..dims.len() {
        let mut rows = Vec::with_capacity(metrics.len());
        let mut row_trends = Vec::with_capacity(metrics.len());
        for col in &metrics {
            let name = col.name().as_str();
            let kind = kind_of(name);
            let mut values = Vec::with_capacity(n);
            let mut numbers = Vec::with_capacity(n);
            for p in 0..n {
                let v = match at.get(&(d, p)) {
                    Some(&row) => cell(col, row)?,
                    None => Val::Null,
                };
                numbers.push(v.as_f64());
                values.push(GridCell::plain(human_val(&v, kind, &opts.currency)));
            }
            let delta = if with_change {
                let how = if is_numeric(col) {
                    change_kind(kind)
                } else {
                    ChangeKind::None
                };
                let dv = change(numbers[n - 2], numbers[n - 1], how);
                let text = if how == ChangeKind::None {
                    String::new()
                } else {
                    human_change(dv, how)
                };
                // Colour a change that shows as one (not `0.0%`), by whether
                // that direction is good news for this metric.
                let moved = text.starts_with('+') || text.starts_with('-');
                let tone = match (dv, higher_is_better(name)) {
                    (Some(x), Some(up_good)) if moved => {
                        if (x > 0.0) == up_good {
                            Tone::Good
                        } else {
                            Tone::Bad
                        }
                    }
                    _ => Tone::Plain,
                };
                GridCell { text, tone }
            } else {
                GridCell::plain("")
            };
            row_trends.push(is_numeric(col).then_some(numbers));
            rows.push((values, delta));
        }
        blocks.push(rows);
        trends.push(row_trends);
    }

    // Column widths over all blocks, so every block shows the same periods.
    let label_w = metrics
        .iter()
        .map(|c| text_width(c.name()))
        .max()
        .unwrap_or(0)
        .max(text_width("metric"));
    let mut period_w: Vec<usize> = periods.labels.iter().map(|l| text_width(l)).collect();
    let change_header = "Δ vs prev";
    let mut change_w = text_width(change_header);
    for rows in &blocks {
        for (values, delta) in rows {
            for (p, v) in values.iter().enumerate() {
                period_w[p] = period_w[p].max(text_width(&v.text));
            }
            change_w = change_w.max(text_width(&delta.text));
        }
    }
    // The trend column: one sparkline character per period shown. It is
    // left out when keeping it would leave fewer than two periods on screen.
    let trend_header = "trend";
    let trend_w = |shown: usize| shown.max(text_width(trend_header));
    let fit = |with_trend: bool| -> usize {
        let mut shown = n;
        if let Some(width) = opts.width {
            while shown > 1 {
                let mut widths = vec![label_w];
                widths.extend_from_slice(&period_w[n - shown..]);
                if with_change {
                    widths.push(change_w);
                    if with_trend {
                        widths.push(trend_w(shown));
                    }
                }
                if drawn_width(&widths) <= width as usize {
                    break;
                }
                shown -= 1;
            }
        }
        shown
    };
    let with_trend = with_change && fit(true) >= 2;
    let shown = fit(with_trend);
    let first = n - shown;

    let mut header = vec!["metric".to_string()];
    header.extend(periods.labels[first..].iter().cloned());
    let mut align = vec![Align::Left];
    align.extend(std::iter::repeat_n(Align::Right, shown));
    if with_change {
        header.push(change_header.to_string());
        align.push(Align::Right);
    }
    if with_trend {
        header.push(trend_header.to_string());
        align.push(Align::Left);
    }
    let mut layout = Layout::default();
    for (d, (rows, row_trends)) in blocks.into_iter().zip(trends).enumerate() {
        let mut grid = Grid {
            heading: dim.map(|name| format!("{name}: {}", dims[d])),
            header: header.clone(),
            align: align.clone(),
            rows: Vec::with_capacity(rows.len()),
        };
        for ((col, (values, delta)), numbers) in metrics.iter().zip(rows).zip(row_trends) {
            let mut r = vec![GridCell::plain(col.name().as_str())];
            r.extend(values.into_iter().skip(first));
            if with_change {
                r.push(delta);
            }
            if with_trend {
                // Text, so it stays under NO_COLOR and in pipes; CSV and JSON
                // never carry it.
                r.push(GridCell::plain(
                    numbers
                        .map(|v| super::chart::spark_text(&v[first..]))
                        .unwrap_or_default(),
                ));
            }
            grid.rows.push(r);
        }
        layout.grids.push(grid);
    }
    if first > 0 {
        layout.notes.push(format!(
            "{first} earlier {} not shown (use --format csv, or a wider terminal)",
            if first == 1 { "period" } else { "periods" }
        ));
    }
    Ok(layout)
}

/// Lines a funnel listing may take on a terminal before earlier cohorts are
/// left out.
const FUNNEL_LINES: usize = 60;
/// Widest bar, in characters.
const BAR_MAX: usize = 24;
const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/// A horizontal bar `share` (0..=1) of `width` characters long, in eighths.
pub(crate) fn bar(share: f64, width: usize) -> String {
    if !share.is_finite() || share <= 0.0 || width == 0 {
        return String::new();
    }
    let eighths = (share.min(1.0) * (width * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    s.push_str(EIGHTHS[eighths % 8]);
    s
}

/// Each cohort's ladder: one table per cohort (and dimension value), newest
/// last, with a bar per stage proportional to the share of the cohort that
/// reached it.
pub(crate) fn funnel(df: &DataFrame, opts: &OutputOptions) -> Result<Layout> {
    for required in ["cohort", "stage", "reached"] {
        if df.get_column_index(required).is_none() {
            bail!("funnel table: the frame has no `{required}` column");
        }
    }
    if df.height() == 0 {
        return generic(df, opts);
    }
    let dim = dimension_of(df);
    let (cohorts, row_cohort) = periods_of(df.column("cohort")?)?;
    let (dims, row_dim) = dims_of(df, dim)?;
    let stage = df.column("stage")?;
    let reached = df.column("reached")?;
    let age = df.column("cohort_age_days").ok();

    // Groups (cohort, dim) in cohort order, then dimension order; rows in
    // frame order within a group (the ladder order).
    let mut groups: Vec<((usize, usize), Vec<usize>)> = Vec::new();
    let mut index: HashMap<(usize, usize), usize> = HashMap::new();
    for row in 0..df.height() {
        let Some(c) = row_cohort[row] else { continue };
        let key = (c, row_dim[row]);
        let g = *index.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(row);
    }
    groups.sort_by_key(|(k, _)| *k);

    // Keep the latest cohorts that fit the line budget on a terminal.
    let n_cohorts = cohorts.keys.len();
    let mut first_cohort = 0;
    if opts.width.is_some() {
        let lines_of = |c: usize| -> usize {
            groups
                .iter()
                .filter(|((gc, _), _)| *gc == c)
                .map(|(_, rows)| rows.len() + 6)
                .sum()
        };
        let mut used = 0;
        let mut kept = 0;
        for c in (0..n_cohorts).rev() {
            let l = lines_of(c);
            if kept > 0 && used + l > FUNNEL_LINES {
                break;
            }
            used += l;
            kept += 1;
        }
        first_cohort = n_cohorts - kept;
    }

    // Optional columns, shown when the frame has them.
    let optional: [(&str, &str); 4] = [
        ("conversion_from_previous", "from prev"),
        ("conversion_from_lead", "from lead"),
        ("median_days_from_previous", "median days"),
        ("dropped", "dropped"),
    ];
    let extra: Vec<(&Column, &str)> = optional
        .iter()
        .filter_map(|(id, label)| df.column(id).ok().map(|c| (c, *label)))
        .collect();

    let mut layout = Layout::default();
    let mut grids: Vec<(Grid, Vec<f64>)> = Vec::new();
    for ((c, d), rows) in groups.iter().filter(|((c, _), _)| *c >= first_cohort) {
        let mut grid = Grid {
            heading: None,
            header: vec!["stage".into(), String::new(), "reached".into()],
            align: vec![Align::Left, Align::Left, Align::Right],
            rows: Vec::new(),
        };
        for (_, label) in &extra {
            grid.header.push(label.to_string());
            grid.align.push(Align::Right);
        }
        let counts: Vec<Option<f64>> = rows
            .iter()
            .map(|&r| cell(reached, r).map(|v| v.as_f64()))
            .collect::<Result<_>>()?;
        let base = counts.first().copied().flatten();
        let mut shares = Vec::with_capacity(rows.len());
        for (&r, count) in rows.iter().zip(&counts) {
            let share = match (count, base) {
                (Some(x), Some(b)) if b > 0.0 => x / b,
                _ => 0.0,
            };
            shares.push(share);
            let mut cells = vec![
                GridCell::plain(human_val(&cell(stage, r)?, ValueKind::Text, "")),
                GridCell {
                    text: String::new(),
                    tone: Tone::Bar,
                },
                GridCell::plain(human_val(&cell(reached, r)?, ValueKind::Count, "")),
            ];
            for (col, _) in &extra {
                let kind = kind_of(col.name());
                cells.push(GridCell::plain(human_val(
                    &cell(col, r)?,
                    kind,
                    &opts.currency,
                )));
            }
            grid.rows.push(cells);
        }
        let mut heading = format!("cohort {}", cohorts.labels[*c]);
        if let Some(name) = dim {
            heading.push_str(&format!(" · {name}: {}", dims[*d]));
        }
        if let Some(b) = base {
            heading.push_str(&format!(
                " · {} leads",
                human_val(&Val::Float(b), ValueKind::Count, "")
            ));
        }
        if let Some(age) = age {
            if let Some(a) = rows
                .first()
                .map(|&r| cell(age, r))
                .transpose()?
                .and_then(|v| v.as_f64())
            {
                heading.push_str(&format!(
                    " · {} days old",
                    human_val(&Val::Float(a), ValueKind::Days, "")
                ));
            }
        }
        grid.heading = Some(heading);
        grids.push((grid, shares));
    }

    // One bar width for all cohorts, so bars compare across cohorts.
    let mut bar_w = BAR_MAX;
    if let Some(width) = opts.width {
        let others = grids
            .iter()
            .map(|(g, _)| {
                let mut w = g.column_widths();
                w[1] = 0;
                drawn_width(&w)
            })
            .max()
            .unwrap_or(0);
        bar_w = (width as usize).saturating_sub(others).clamp(6, BAR_MAX);
    }
    for (mut grid, shares) in grids {
        for (row, share) in grid.rows.iter_mut().zip(shares) {
            row[1].text = bar(share, bar_w);
        }
        layout.grids.push(grid);
    }
    if first_cohort > 0 {
        layout.notes.push(format!(
            "{first_cohort} earlier {} not shown (use --format csv, or --from)",
            if first_cohort == 1 {
                "cohort"
            } else {
                "cohorts"
            }
        ));
    }
    Ok(layout)
}
