//! Known answers of the KPIs (fixtures/basic).

use super::*;
use crate::periods::PeriodKind;
use crate::settings::Dimension;
use crate::metrics::testutil::{assert_expected, load_fixture, ts};

const AS_OF: &str = "2024-05-03T00:00:00";

fn analysis(period: PeriodKind, by: Option<Dimension>) -> Analysis {
    Analysis {
        period,
        by,
        ..Analysis::default()
    }
}

fn run(period: PeriodKind, by: Option<Dimension>) -> DataFrame {
    kpis(&load_fixture("basic", AS_OF), &analysis(period, by)).unwrap()
}

fn column(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    floats(df, name).unwrap()
}

#[test]
fn month() {
    assert_expected("basic", "kpis month", &run(PeriodKind::Month, None));
}

#[test]
fn quarter() {
    assert_expected("basic", "kpis quarter", &run(PeriodKind::Quarter, None));
}

#[test]
fn all() {
    assert_expected("basic", "kpis all", &run(PeriodKind::All, None));
}

#[test]
fn month_by_channel() {
    assert_expected(
        "basic",
        "kpis month by channel",
        &run(PeriodKind::Month, Some(Dimension::Channel)),
    );
}

#[test]
fn quarter_by_channel() {
    assert_expected(
        "basic",
        "kpis quarter by channel",
        &run(PeriodKind::Quarter, Some(Dimension::Channel)),
    );
}

#[test]
fn period_is_a_date_column() {
    let df = run(PeriodKind::Month, None);
    assert_eq!(df.column("period").unwrap().dtype(), &DataType::Date);
    assert_eq!(df.column("leads").unwrap().dtype(), &DataType::Int64);
}

#[test]
fn from_cuts_rows_but_lead_velocity_reads_the_period_before() {
    let ds = load_fixture("basic", AS_OF);
    let a = Analysis {
        from: Some(ts("2024-03-15")),
        to: Some(ts("2024-04-01")),
        ..Analysis::default()
    };
    let df = kpis(&ds, &a).unwrap();
    let periods: Vec<String> = crate::metrics::testutil::cells(&df)[0].1.clone();
    assert_eq!(periods, ["2024-03-01", "2024-04-01"]);
    // Mar reads Feb's 4 MQLs although Feb is not reported.
    assert_eq!(column(&df, "lead_velocity_rate"), [Some(-0.5), Some(0.5)]);
    // open pipeline still accumulates from February.
    assert_eq!(column(&df, "open_pipeline"), [Some(7300.0), Some(800.0)]);
}

#[test]
fn without_sal_the_pair_is_mql_to_sql() {
    let mut ds = load_fixture("basic", AS_OF);
    let leads = ds.leads.as_mut().unwrap();
    leads.present.remove("sal_at");
    let mut frame = leads.collect().unwrap();
    let n = frame.height();
    frame
        .with_column(Column::full_null(
            "sal_at".into(),
            n,
            &DataType::Datetime(TimeUnit::Microseconds, None),
        ))
        .unwrap();
    leads.data = crate::model::Backing::Memory(frame);
    let df = kpis(&ds, &analysis(PeriodKind::Month, None)).unwrap();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let i = names
        .iter()
        .position(|c| c == "mql_to_sql_rate")
        .expect("mql_to_sql_rate");
    assert_eq!(names[i - 1], "sal_to_sql_rate");
    assert_eq!(names[i + 1], "sql_to_opportunity_rate");
    assert_eq!(column(&df, "sals"), [None, None, None, None]);
    assert_eq!(column(&df, "mql_to_sal_rate"), [None, None, None, None]);
    // Feb: 3 of 4 MQLs reached SQL; Mar: L7 of L6, L7; Apr: none of 3.
    assert_eq!(
        column(&df, "mql_to_sql_rate"),
        [Some(0.75), Some(0.5), Some(0.0), None]
    );
}

#[test]
fn missing_tables_give_null_not_zero() {
    let mut ds = load_fixture("basic", AS_OF);
    ds.campaigns = None;
    let df = kpis(&ds, &analysis(PeriodKind::Month, None)).unwrap();
    for c in [
        "marketing_spend",
        "cost_per_lead",
        "cost_per_mql",
        "cost_per_sql",
        "cost_per_opportunity",
        "cac",
        "roas",
    ] {
        assert_eq!(column(&df, c), [None, None, None, None], "{c}");
    }
    assert_eq!(
        column(&df, "leads"),
        [Some(4.0), Some(3.0), Some(3.0), Some(0.0)]
    );
    ds.opportunities = None;
    let df = kpis(&ds, &analysis(PeriodKind::Month, None)).unwrap();
    for c in [
        "opportunities",
        "won_deals",
        "new_bookings",
        "open_pipeline",
        "win_rate",
        "sql_to_opportunity_rate",
    ] {
        assert_eq!(column(&df, c), [None, None, None, None], "{c}");
    }
    assert_eq!(
        column(&df, "sqls"),
        [Some(3.0), Some(1.0), Some(0.0), Some(0.0)]
    );
}

#[test]
fn spend_is_null_under_a_segment_split() {
    let df = run(PeriodKind::Month, Some(Dimension::Segment));
    // No segment values in the fixture: one `(none)` group per period.
    assert_eq!(df.height(), 4);
    assert_eq!(column(&df, "marketing_spend"), [None, None, None, None]);
    assert_eq!(
        column(&df, "leads"),
        [Some(4.0), Some(3.0), Some(3.0), Some(0.0)]
    );
}

#[test]
fn sales_cost_goes_into_cac() {
    let ds = load_fixture("basic", AS_OF);
    let a = Analysis {
        sales_cost: 100.0,
        ..Analysis::default()
    };
    let df = kpis(&ds, &a).unwrap();
    // Mar: (200 + 100) / 1; Apr: (230 + 100) / 3.
    assert_eq!(column(&df, "cac"), [None, Some(300.0), Some(110.0), None]);
}

#[test]
fn weeks_run_gap_free_from_monday() {
    let df = run(PeriodKind::Week, None);
    // 2024-02-01 is a Thursday (week of Mon 2024-01-29); as_of 2024-05-03
    // is in the week of Mon 2024-04-29: 13 weeks later, 14 rows.
    let periods = &crate::metrics::testutil::cells(&df)[0].1;
    assert_eq!(periods.len(), 14);
    assert_eq!(periods[0], "2024-01-29");
    assert_eq!(periods[13], "2024-04-29");
    let leads: f64 = column(&df, "leads").iter().map(|v| v.unwrap()).sum();
    assert_eq!(leads, 10.0);
    // L1, L2 (Feb 1, Feb 5 are in different weeks): first week has 1 lead.
    assert_eq!(column(&df, "leads")[0], Some(1.0));
}

#[test]
fn sales_cost_has_no_dimension() {
    let ds = load_fixture("basic", AS_OF);
    let a = Analysis {
        sales_cost: 100.0,
        by: Some(Dimension::Channel),
        ..Analysis::default()
    };
    let df = kpis(&ds, &a).unwrap();
    assert!(column(&df, "cac").iter().all(Option::is_none));
    // Without sales cost the split cac is spend / customers (see EXPECTED.md).
    let df = run(PeriodKind::Month, Some(Dimension::Channel));
    assert_eq!(column(&df, "cac")[4], Some(200.0));
}

#[test]
fn a_duplicated_lead_id_does_not_duplicate_its_opportunities() {
    let mut ds = load_fixture("basic", AS_OF);
    let leads = ds.leads.as_mut().unwrap();
    let frame = leads.collect().unwrap();
    let first = frame.head(Some(1));
    leads.data = crate::model::Backing::Memory(frame.vstack(&first).unwrap());
    let df = kpis(&ds, &analysis(PeriodKind::Month, Some(Dimension::Channel))).unwrap();
    // Feb: events O2, search O1, social O6 -- as without the duplicate.
    assert_eq!(
        &column(&df, "opportunities")[..3],
        [Some(1.0), Some(1.0), Some(1.0)]
    );
}

#[test]
fn every_output_column_has_a_kind() {
    use crate::metrics::registry::{kind_of, ValueKind};
    for df in [run(PeriodKind::Month, Some(Dimension::Channel))] {
        for name in df.get_column_names() {
            assert_ne!(kind_of(name), ValueKind::Number, "{name}");
        }
    }
    assert_eq!(kind_of("mql_to_sql_rate"), ValueKind::Rate);
    assert_eq!(kind_of("cac"), ValueKind::Money);
    assert_eq!(kind_of("nope"), ValueKind::Number);
}
