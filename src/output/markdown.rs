//! GitHub-flavoured markdown tables, from the same grids as the terminal
//! tables (so `kpis` reads metrics down the side here too), never fitted to a
//! width and never coloured.

use super::grid::{Align, Grid, Layout};

/// Cell text safe inside a markdown table.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

pub(crate) fn grid_md(g: &Grid, out: &mut String) {
    if let Some(h) = &g.heading {
        out.push_str(&format!("**{}**\n\n", escape(h)));
    }
    let row = |cells: Vec<String>, out: &mut String| {
        out.push('|');
        for c in cells {
            out.push(' ');
            out.push_str(&c);
            out.push_str(" |");
        }
        out.push('\n');
    };
    row(g.header.iter().map(|h| escape(h)).collect(), out);
    row(
        g.align
            .iter()
            .map(|a| match a {
                Align::Left => "---".to_string(),
                Align::Right => "---:".to_string(),
            })
            .collect(),
        out,
    );
    for r in &g.rows {
        row(r.iter().map(|c| escape(&c.text)).collect(), out);
    }
}

pub(crate) fn layout_md(layout: &Layout, extra_notes: &[String], out: &mut String) {
    for (i, g) in layout.grids.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        grid_md(g, out);
    }
    let notes: Vec<&String> = layout.notes.iter().chain(extra_notes).collect();
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            out.push_str(&format!("_{}_\n", escape(n).replace('_', "\\_")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::grid::GridCell;

    #[test]
    fn escapes_and_aligns() {
        let g = Grid {
            heading: Some("channel: a|b".into()),
            header: vec!["metric".into(), "2024-01-01".into()],
            align: vec![Align::Left, Align::Right],
            rows: vec![vec![GridCell::plain("leads"), GridCell::plain("1,234")]],
        };
        let mut out = String::new();
        layout_md(
            &Layout {
                grids: vec![g],
                notes: vec!["MRR needs --revenue".into()],
            },
            &[],
            &mut out,
        );
        assert_eq!(
            out,
            "**channel: a\\|b**\n\n| metric | 2024-01-01 |\n| --- | ---: |\n| leads | 1,234 |\n\n_MRR needs --revenue_\n"
        );
    }
}
