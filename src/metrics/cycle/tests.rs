//! Known answers of `fixtures/cycle` (derivations in its EXPECTED.md).

use super::compute::div;
use super::gather::col_i64;
use super::*;
use crate::metrics::testutil::{fixture_dir as fixture, ts};
use crate::periods::{PeriodKind, PeriodSpec};
use crate::settings::Dimension;

const N: Option<f64> = None;

/// The fixture through the real loader (`input::load`), as `revcycle
/// cycle fixtures/cycle --as-of 2024-04-15` reads it.
fn ds() -> Dataset {
    let spec = crate::input::InputSpec {
        dir: Some(fixture("cycle")),
        ..Default::default()
    };
    let cfg = crate::config::Config::default();
    crate::input::load(&spec, &cfg, Some("2024-04-15"), true)
        .expect("fixture loads")
        .dataset
}

fn analysis(period: PeriodKind) -> Analysis {
    Analysis {
        period,
        ..Analysis::default()
    }
}

fn periods(df: &DataFrame) -> Vec<String> {
    let c = df
        .column("period")
        .unwrap()
        .cast(&DataType::String)
        .unwrap();
    c.str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect()
}

fn value(df: &DataFrame, name: &str, row: usize) -> Option<f64> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().get(row)
}

fn close(got: Option<f64>, want: Option<f64>) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(g), Some(w)) => (g - w).abs() <= 1e-9 * w.abs().max(1.0),
        _ => false,
    }
}

fn assert_rows(df: &DataFrame, cols: &[&str], expected: &[(&str, Vec<Option<f64>>)]) {
    assert_eq!(
        periods(df),
        expected.iter().map(|r| r.0.to_string()).collect::<Vec<_>>()
    );
    for (row, (period, want)) in expected.iter().enumerate() {
        assert_eq!(want.len(), cols.len(), "test table row {period}");
        for (name, w) in cols.iter().zip(want) {
            let got = value(df, name, row);
            assert!(close(got, *w), "{period} {name}: got {got:?}, want {w:?}");
        }
    }
}

fn s(v: f64) -> Option<f64> {
    Some(v)
}

/// Expected cycle rows by month, columns in CYCLE_METRICS order: the
/// `cycle month` block of fixtures/cycle/EXPECTED.md.
fn month_rows() -> Vec<(&'static str, Vec<Option<f64>>)> {
    use crate::metrics::testutil::expected;
    let md = std::fs::read_to_string(fixture("cycle").join("EXPECTED.md")).unwrap();
    let cols = expected::block(&md, "cycle month");
    assert_eq!(cols[0].0, "period");
    let names: Vec<&str> = cols[1..].iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, CYCLE_METRICS, "the block's columns");
    (0..cols[0].1.len())
        .map(|r| {
            let period: &'static str = Box::leak(cols[0].1[r].clone().into_boxed_str());
            let values = cols[1..]
                .iter()
                .map(|c| match c.1[r].as_str() {
                    "-" => None,
                    v => Some(expected::number(v).unwrap_or_else(|| panic!("{v}"))),
                })
                .collect();
            (period, values)
        })
        .collect()
}

fn quarter_rows() -> Vec<(&'static str, Vec<Option<f64>>)> {
    let q1_churn = 1.0 - 0.75f64.powf(1.0 / 3.0);
    let q1_ltv = 92.0 * 0.8 / q1_churn;
    let q1_cac = 1900.0 / 3.0;
    vec![
        (
            "2023-10-01",
            vec![
                s(0.),
                s(0.),
                s(1200.),
                s(0.),
                s(1200.),
                s(1.),
                s(1.),
                s(0.),
                s(380.),
                s(0.),
                s(0.),
                s(0.),
                s(380.),
                N,
                N,
                N,
                s(95.),
                N,
                N,
                N,
            ],
        ),
        (
            "2024-01-01",
            vec![
                s(1980.),
                s(750.),
                s(1440.),
                s(1980.),
                s(4170.),
                s(2190. / 4170.),
                s(1. / 3.),
                s(380.),
                s(130.),
                s(60.),
                s(80.),
                s(30.),
                s(460.),
                s(330. / 380.),
                s(270. / 380.),
                s(0.25),
                s(92.),
                s(q1_ltv),
                s(q1_ltv / q1_cac),
                s(q1_cac / 73.6),
            ],
        ),
        (
            "2024-04-01",
            vec![
                s(0.),
                s(240.),
                s(0.),
                s(0.),
                s(240.),
                s(1.),
                N,
                s(460.),
                s(0.),
                s(20.),
                s(0.),
                s(80.),
                s(400.),
                s(400. / 460.),
                s(380. / 460.),
                s(0.2),
                s(100.),
                s(400.),
                N,
                N,
            ],
        ),
    ]
}

#[test]
fn cycle_by_month() {
    let df = cycle(&ds(), &analysis(PeriodKind::Month)).unwrap();
    let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
    let mut want = vec!["period"];
    want.extend(CYCLE_METRICS);
    assert_eq!(names, want);
    assert_eq!(df.column("period").unwrap().dtype(), &DataType::Date);
    assert_rows(&df, &CYCLE_METRICS, &month_rows());
}

#[test]
fn cycle_by_quarter() {
    let df = cycle(&ds(), &analysis(PeriodKind::Quarter)).unwrap();
    assert_rows(&df, &CYCLE_METRICS, &quarter_rows());
    // Spot-check the literal Q1 values of EXPECTED.md.
    assert!(close(value(&df, "ltv", 1), Some(804.9019967835357)));
    assert!(close(value(&df, "ltv_to_cac", 1), Some(1.2708978896582142)));
    assert!(close(
        value(&df, "cac_payback_months", 1),
        Some(8.605072463768115)
    ));
}

#[test]
fn sales_cost_enters_cac() {
    let a = Analysis {
        sales_cost: 100.0,
        ..analysis(PeriodKind::Month)
    };
    let df = cycle(&ds(), &a).unwrap();
    // January: cac = (800 + 100) / 1 = 900.
    assert!(close(value(&df, "ltv_to_cac", 2), Some(264.0 / 900.0)));
    assert!(close(
        value(&df, "cac_payback_months", 2),
        Some(900.0 / 66.0)
    ));
}

#[test]
fn from_still_reads_earlier_months() {
    let a = Analysis {
        from: Some(ts("2024-02-01")),
        ..analysis(PeriodKind::Month)
    };
    let df = cycle(&ds(), &a).unwrap();
    let rows: Vec<_> = month_rows().into_iter().skip(3).collect();
    assert_rows(&df, &CYCLE_METRICS, &rows);
}

#[test]
fn without_revenue_mrr_metrics_are_null() {
    let mut d = ds();
    d.revenue = None;
    let df = cycle(&d, &analysis(PeriodKind::Month)).unwrap();
    let mut rows = month_rows();
    for (_, r) in rows.iter_mut() {
        for v in r.iter_mut().skip(7) {
            *v = None;
        }
    }
    assert_rows(&df, &CYCLE_METRICS, &rows);
    assert_eq!(
        notes(&d, &analysis(PeriodKind::Month)),
        vec![NOTE_NO_REVENUE.to_string()]
    );
    assert!(notes(&ds(), &analysis(PeriodKind::Month)).is_empty());
}

#[test]
fn without_opportunities_bookings_are_null() {
    let mut d = ds();
    d.opportunities = None;
    let df = cycle(&d, &analysis(PeriodKind::Month)).unwrap();
    for row in 0..6 {
        for name in &CYCLE_METRICS[..7] {
            assert_eq!(value(&df, name, row), None, "{name}");
        }
    }
    // MRR still computed; CAC needs new customers, so LTV:CAC is null.
    assert!(close(value(&df, "ltv", 2), Some(264.0)));
    assert_eq!(value(&df, "ltv_to_cac", 2), None);
}

fn fvc_rows() -> Vec<(&'static str, Vec<Option<f64>>)> {
    // revenue, customers, marketing_spend, cost_per_customer, roi, unseen_by_funnel
    vec![
        ("2023-11-01", vec![s(0.), s(0.), s(500.), N, s(-1.), N]),
        ("2023-11-01", vec![s(0.), s(0.), s(500.), N, s(-1.), s(0.)]),
        ("2023-12-01", vec![s(0.), s(0.), s(500.), N, s(-1.), N]),
        (
            "2023-12-01",
            vec![s(1200.), s(1.), s(500.), s(500.), s(1.4), s(1200.)],
        ),
        (
            "2024-01-01",
            vec![s(960.), s(1.), s(800.), s(800.), s(0.2), N],
        ),
        (
            "2024-01-01",
            vec![s(2400.), s(2.), s(800.), s(400.), s(2.0), s(1440.)],
        ),
        (
            "2024-02-01",
            vec![s(1020.), s(2.), s(700.), s(350.), s(320. / 700.), N],
        ),
        (
            "2024-02-01",
            vec![
                s(1670.),
                s(3.),
                s(700.),
                s(700. / 3.),
                s(970. / 700.),
                s(650.),
            ],
        ),
        ("2024-03-01", vec![s(0.), s(0.), s(400.), N, s(-1.), N]),
        (
            "2024-03-01",
            vec![s(100.), s(1.), s(400.), s(400.), s(-0.75), s(100.)],
        ),
        ("2024-04-01", vec![s(0.), s(0.), s(0.), N, N, N]),
        ("2024-04-01", vec![s(240.), s(1.), s(0.), s(0.), N, s(240.)]),
    ]
}

const FVC: [&str; 6] = [
    "revenue",
    "customers",
    "marketing_spend",
    "cost_per_customer",
    "roi",
    "unseen_by_funnel",
];

fn views(df: &DataFrame) -> Vec<String> {
    df.column("view")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect()
}

#[test]
fn funnel_vs_cycle_by_month() {
    let df = funnel_vs_cycle(&ds(), &analysis(PeriodKind::Month)).unwrap();
    let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
    let mut want = vec!["period"];
    want.extend(FUNNEL_VS_CYCLE_COLUMNS);
    assert_eq!(names, want);
    assert_eq!(views(&df), ["funnel", "cycle"].repeat(6));
    assert_eq!(df.column("customers").unwrap().dtype(), &DataType::Int64);
    assert_rows(&df, &FVC, &fvc_rows());
}

#[test]
fn funnel_vs_cycle_by_quarter() {
    let df = funnel_vs_cycle(&ds(), &analysis(PeriodKind::Quarter)).unwrap();
    assert_eq!(views(&df), ["funnel", "cycle"].repeat(3));
    assert_rows(
        &df,
        &FVC,
        &[
            ("2023-10-01", vec![s(0.), s(0.), s(1000.), N, s(-1.), N]),
            (
                "2023-10-01",
                vec![s(1200.), s(1.), s(1000.), s(1000.), s(0.2), s(1200.)],
            ),
            (
                "2024-01-01",
                vec![s(1980.), s(3.), s(1900.), s(1900. / 3.), s(80. / 1900.), N],
            ),
            (
                "2024-01-01",
                vec![
                    s(4170.),
                    s(6.),
                    s(1900.),
                    s(1900. / 6.),
                    s(2270. / 1900.),
                    s(2190.),
                ],
            ),
            ("2024-04-01", vec![s(0.), s(0.), s(0.), N, N, N]),
            ("2024-04-01", vec![s(240.), s(1.), s(0.), s(0.), N, s(240.)]),
        ],
    );
}

#[test]
fn split_by_channel() {
    let a = Analysis {
        by: Some(Dimension::Channel),
        ..analysis(PeriodKind::Month)
    };
    let d = ds();
    let df = cycle(&d, &a).unwrap();
    assert_eq!(df.height(), 18);
    let ch: Vec<String> = df
        .column("channel")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect();
    assert_eq!(&ch[..3], ["(none)", "events", "paid_search"]);
    // February is rows 9..12.
    assert_eq!(periods(&df)[9], "2024-02-01");
    let want = [
        // (none): O3 120 new; E1 600 + E4 50 expansion
        (9, [s(120.), s(650.), s(0.)]),
        // events: O4 300 (lead L5)
        (10, [s(300.), s(0.), s(0.)]),
        // paid_search: O2 600 (lead L3)
        (11, [s(600.), s(0.), s(0.)]),
    ];
    for (row, w) in want {
        for (name, w) in ["new_bookings", "expansion_bookings", "renewal_bookings"]
            .iter()
            .zip(w)
        {
            assert!(close(value(&df, name, row), w), "row {row} {name}");
        }
        for name in &CYCLE_METRICS[7..] {
            assert_eq!(value(&df, name, row), None, "MRR is not split: {name}");
        }
    }
    assert_eq!(notes(&d, &a).len(), 1);
    let f = funnel_vs_cycle(&d, &a).unwrap();
    // Rows 18..24 are February: (none) funnel/cycle, events, paid_search.
    let cust: Vec<Option<f64>> = (18..24).map(|r| value(&f, "customers", r)).collect();
    assert_eq!(cust, [s(1.), s(2.), s(1.), s(1.), s(1.), s(1.)]);
    let spend: Vec<Option<f64>> = (18..24).map(|r| value(&f, "marketing_spend", r)).collect();
    assert_eq!(spend, [s(0.), s(0.), s(300.), s(300.), s(400.), s(400.)]);
    // Spend does not split by segment: null there.
    let seg = Analysis {
        by: Some(Dimension::Segment),
        ..analysis(PeriodKind::Month)
    };
    let f = funnel_vs_cycle(&d, &seg).unwrap();
    assert!((0..f.height()).all(|r| value(&f, "marketing_spend", r).is_none()));
}

#[test]
fn bow_tie_of_the_latest_period() {
    for kind in [PeriodKind::Month, PeriodKind::Quarter] {
        let b = bow_tie_numbers(&ds(), &analysis(kind)).unwrap().unwrap();
        assert_eq!(b.period.to_string(), "2024-04-01");
        assert!(!b.complete);
        assert_eq!(
            (b.leads, b.mqls, b.sqls, b.opportunities, b.new_customers),
            (s(3.), s(2.), s(1.), s(1.), s(0.))
        );
        assert_eq!(
            (b.new_bookings, b.expansion_bookings, b.renewal_bookings),
            (s(0.), s(240.), s(0.))
        );
        assert_eq!(
            (
                b.starting_mrr,
                b.new_mrr,
                b.expansion_mrr,
                b.contraction_mrr,
                b.churned_mrr,
                b.ending_mrr
            ),
            (s(460.), s(0.), s(20.), s(0.), s(80.), s(400.))
        );
        assert!(close(b.nrr, s(400. / 460.)));
    }
}

#[test]
fn report_holds_the_same_tables() {
    let a = analysis(PeriodKind::Quarter);
    let r = cycle_report(&ds(), &a).unwrap();
    assert!(r.cycle.equals_missing(&cycle(&ds(), &a).unwrap()));
    assert!(r
        .funnel_vs_cycle
        .equals_missing(&funnel_vs_cycle(&ds(), &a).unwrap()));
    assert_eq!(r.bow_tie, bow_tie_numbers(&ds(), &a).unwrap());
    assert!(r.notes.is_empty());
    let by = Analysis {
        by: Some(Dimension::Owner),
        ..a.clone()
    };
    let r = cycle_report(&ds(), &by).unwrap();
    assert_eq!(
        r.bow_tie,
        bow_tie_numbers(&ds(), &a).unwrap(),
        "the bow tie is never split"
    );
    assert_eq!(r.cycle.get_column_names()[1].as_str(), "owner");
}

/// The ids and inputs shared with `kpis` agree with it, row for row:
/// new_bookings, new_customers (funnel customers), marketing_spend, cac.
#[test]
fn agrees_with_kpis() {
    for (period, by) in [
        (PeriodKind::Month, None),
        (PeriodKind::Quarter, None),
        (PeriodKind::Month, Some(Dimension::Channel)),
    ] {
        let a = Analysis {
            period,
            by,
            sales_cost: 50.0,
            ..Analysis::default()
        };
        let d = ds();
        let k = crate::metrics::kpis::kpis(&d, &a).unwrap();
        let c = cycle(&d, &a).unwrap();
        let f = funnel_vs_cycle(&d, &a).unwrap();
        assert_eq!(k.height(), c.height(), "{period:?} {by:?}");
        assert_eq!(periods(&k), periods(&c));
        if let Some(by) = by {
            assert!(k
                .column(by.name())
                .unwrap()
                .equals_missing(c.column(by.name()).unwrap()));
        }
        for r in 0..c.height() {
            let ctx = format!("{period:?} {by:?} row {r}");
            assert!(
                close(value(&k, "new_bookings", r), value(&c, "new_bookings", r)),
                "{ctx}"
            );
            assert!(
                close(value(&k, "new_customers", r), value(&f, "customers", 2 * r)),
                "{ctx}"
            );
            assert!(
                close(
                    value(&k, "marketing_spend", r),
                    value(&f, "marketing_spend", 2 * r)
                ),
                "{ctx}"
            );
            let cac = div(
                value(&f, "marketing_spend", 2 * r).map(|s| s + 50.0),
                value(&f, "customers", 2 * r),
            );
            // Under a split kpis leaves cac null when sales_cost != 0 (it
            // does not split); the cycle's cac is only used unsplit.
            if by.is_none() {
                assert!(
                    close(value(&k, "cac", r), cac),
                    "{ctx}: kpis cac {:?}, mine {cac:?}",
                    value(&k, "cac", r)
                );
            }
        }
    }
}

#[test]
fn all_period_reads_from_the_earliest_row() {
    let df = cycle(&ds(), &analysis(PeriodKind::All)).unwrap();
    assert_eq!(periods(&df), ["2023-11-01"]);
    // s = 2023-10 (empty), e = 2024-04: every account active in April is new.
    assert!(close(value(&df, "new_mrr", 0), s(400.)));
    assert!(close(
        value(&df, "cycle_revenue", 0),
        s(1980. + 990. + 2640.)
    ));
    assert_eq!(value(&df, "nrr", 0), None);
}

/// Guards the `floor_div` fix in `periods.rs` (polars' own needs the
/// `round_series` feature): the polars index agrees with `index_of`,
/// including before 1970 and with a fiscal year. (Belongs in periods.rs.)
#[test]
fn index_expr_agrees_with_index_of() {
    let stamps: Vec<i64> = [
        "1969-12-28",
        "1969-12-29",
        "1965-03-31",
        "2023-12-31T23:59:59Z",
        "2024-01-01",
        "2024-03-31",
        "2024-04-01",
    ]
    .iter()
    .map(|t| ts(t))
    .collect();
    for (kind, fys) in [
        (PeriodKind::Week, 1),
        (PeriodKind::Quarter, 1),
        (PeriodKind::Quarter, 2),
        (PeriodKind::Year, 4),
        (PeriodKind::Month, 1),
    ] {
        let spec = PeriodSpec::new(kind, fys, 0);
        let df = df!("t" => stamps.clone())
            .unwrap()
            .lazy()
            .select([spec
                .index_expr(col("t").cast(DataType::Datetime(TimeUnit::Microseconds, None)))
                .alias("i")])
            .collect()
            .unwrap();
        let got = col_i64(&df, "i").unwrap();
        let want: Vec<Option<i64>> = stamps.iter().map(|&t| Some(spec.index_of(t))).collect();
        assert_eq!(got, want, "{kind:?} fiscal start {fys}");
    }
}
