//! The registry against the outputs: every emitted column is a known id.

use super::*;
use crate::metrics::testutil::load_fixture;
use crate::settings::Analysis;

/// Every metric column `kpis`, `funnel` and `cycle` emit is a registry id
/// of that computation, so the availability post-pass can reach it.
#[test]
fn every_output_column_is_registered() {
    let ds = load_fixture("basic", "2024-05-03T00:00:00");
    let a = Analysis::default();
    let keys = ["period", "cohort", "stage", "cohort_age_days"];
    for c in [Kpis, Funnel, Cycle] {
        let df = crate::metrics::analysis::frame(&ds, &a, c).unwrap();
        let command = c.name();
        for name in df.get_column_names() {
            let name = name.as_str();
            if keys.contains(&name) {
                continue;
            }
            assert!(
                METRICS.iter().any(|d| d.computation == c && d.id == name),
                "{command}.{name} is not in the registry"
            );
        }
    }
}

/// Each computation's table names its periods in the column the registry
/// says (none for misalignment, whose one row covers the range), and
/// every metric's command is its computation's name.
#[test]
fn computations_name_their_period_column() {
    let ds = load_fixture("basic", "2024-05-03T00:00:00");
    let a = Analysis::default();
    for c in Computation::ALL {
        let df = crate::metrics::analysis::frame(&ds, &a, c).unwrap();
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        match c.period_column() {
            Some(p) => assert!(names.contains(&p), "{}: no `{p}` in {names:?}", c.name()),
            None => {
                assert!(!names.contains(&"period") && !names.contains(&"cohort"));
                assert_eq!(df.height(), 1, "{}", c.name());
            }
        }
        assert_eq!(names.contains(&"stage"), c.has_stages(), "{}", c.name());
    }
    assert!(METRICS.iter().all(|d| d.command == d.computation.name()));
}

/// The misalignment spec ids are all registered.
#[test]
fn misalignment_ids_are_registered() {
    for id in crate::metrics::misalignment::SPEC_IDS {
        assert!(
            find(id).is_some_and(|d| d.computation == Misalignment),
            "{id}"
        );
    }
}

/// The basic fixture has every shape's opposite: no artifact.
#[test]
fn basic_fixture_has_no_artifact_shape() {
    let ds = load_fixture("basic", "2024-05-03T00:00:00");
    assert!(shapes(&ds).unwrap().is_empty());
}
