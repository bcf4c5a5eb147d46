//! Known answers of the misalignment metric (fixtures/misalignment/EXPECTED.md).

mod known_answers {
    //! Known answers: fixtures/misalignment/EXPECTED.md.
    use super::super::*;
    use crate::metrics::testutil::fixture;

    fn analysis(by: Option<Dimension>) -> Analysis {
        Analysis {
            by,
            min_sample: 2,
            ..Analysis::default()
        }
    }

    fn row_of(df: &DataFrame, by: Option<&str>, key: Option<&str>) -> usize {
        match (by, key) {
            (Some(b), Some(k)) => df
                .column(b)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .position(|v| v == Some(k))
                .unwrap_or_else(|| panic!("no group {k}")),
            _ => 0,
        }
    }

    fn num(df: &DataFrame, name: &str, r: usize) -> Option<f64> {
        let c = df
            .column(name)
            .unwrap_or_else(|_| panic!("no column {name}"));
        let c = c.cast(&DataType::Float64).unwrap();
        c.f64().unwrap().get(r)
    }

    #[track_caller]
    fn close(df: &DataFrame, name: &str, r: usize, want: Option<f64>) {
        let got = num(df, name, r);
        match (got, want) {
            (Some(g), Some(w)) => assert!(
                (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                "{name} row {r}: got {g}, want {w}"
            ),
            (None, None) => {}
            _ => panic!("{name} row {r}: got {got:?}, want {want:?}"),
        }
    }

    /// Every spec id plus the measured inputs of one group.
    struct Want {
        ids: [Option<f64>; 19],
        inputs: Vec<(&'static str, Option<f64>)>,
    }

    fn check(df: &DataFrame, r: usize, w: &Want) {
        for (name, v) in SPEC_IDS.iter().zip(w.ids.iter()) {
            close(df, name, r, *v);
        }
        for (name, v) in &w.inputs {
            close(df, name, r, *v);
        }
    }

    #[test]
    fn wilson_known_values() {
        let (lo, hi) = wilson(3.0, 10.0).unwrap();
        assert!(
            (lo - 0.107791267406).abs() < 1e-11 && (hi - 0.603221852539).abs() < 1e-11,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0.0, 1.0).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.793450685623).abs() < 1e-11);
        let (lo, hi) = wilson(2.0, 2.0).unwrap();
        assert!((lo - 0.342380227507).abs() < 1e-11);
        assert_eq!(hi, 1.0);
        assert!(wilson(0.0, 0.0).is_none());
    }

    #[test]
    fn whole_range() {
        let ds = fixture("misalignment");
        let m = misalignment(&ds, &analysis(None)).unwrap();
        assert_eq!(m.frame.height(), 1);
        let names: Vec<String> = m
            .frame
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names, columns(&[1.0, 24.0, 72.0]));
        // The known answers: EXPECTED.md's `misalignment whole` block.
        use crate::metrics::testutil::{cells, expected, fixture_dir};
        let md = std::fs::read_to_string(fixture_dir("misalignment").join("EXPECTED.md")).unwrap();
        let want = expected::block(&md, "misalignment whole");
        let cols: Vec<&str> = want.iter().map(|c| c.0.as_str()).collect();
        let got = cells(&m.frame.select(cols).unwrap());
        expected::assert_matches("misalignment whole", &want, &got);
        let base = m
            .frame
            .column("followup_base_bucket")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .map(str::to_string);
        assert_eq!(base.as_deref(), Some("<= 1h"));
        assert!(m.notes.is_empty(), "{:?}", m.notes);

        // Bucket table: labels, roles, per-bucket lost revenue and bounds.
        let b = &m.buckets;
        assert_eq!(b.height(), 4);
        let labels: Vec<_> = b
            .column("bucket")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        assert_eq!(labels, ["<= 1h", "<= 24h", "<= 72h", "> 72h"]);
        let roles: Vec<_> = b
            .column("role")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        assert_eq!(roles, ["base", "slower", "slower", "slower"]);
        close(b, "lost_revenue", 0, None);
        close(b, "lost_revenue", 1, Some(4500.0));
        close(b, "lost_revenue", 2, Some(4500.0));
        close(b, "lost_revenue", 3, Some(6750.0));
        close(b, "lost_revenue_low", 1, Some(0.0));
        close(b, "lost_revenue_high", 1, Some(22762.2480522783));
        close(b, "lost_revenue_high", 3, Some(12632.3096080385));
        close(b, "q_low", 0, Some(0.300641842582));
        close(b, "q_high", 0, Some(0.954412739190));
        close(b, "q_high", 3, Some(0.793450685623));
    }

    #[test]
    fn by_channel() {
        let ds = fixture("misalignment");
        let m = misalignment(&ds, &analysis(Some(Dimension::Channel))).unwrap();
        let groups: Vec<_> = m
            .frame
            .column("channel")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        assert_eq!(groups, ["Organic", "Paid"]);
        assert_eq!(m.frame.get_column_names()[0].as_str(), "channel");
        let paid = Want {
            ids: [
                Some(0.2),
                Some(2.0),
                Some(4000.0),
                Some(300.0),
                Some(15000.0),
                Some(2.0),
                Some(300.0),
                Some(3000.0),
                Some(22600.0),
                Some(1891.6694070540),
                Some(45686.1839983172),
                Some(2.26),
                Some(3400.0),
                Some(100.0 * (5.0 / 7.0 + 0.6 + 0.375 + 0.75 + 1.0) / 5.0),
                Some(5.0 / 7.0),
                Some(0.6),
                Some(0.375),
                Some(0.75),
                Some(1.0),
            ],
            inputs: vec![
                ("mqls_reached", Some(8.0)),
                ("worked_mqls", Some(5.0)),
                ("worked_mqls_won", Some(1.0)),
                ("worked_mql_win_rate_low", Some(0.036224108632)),
                ("worked_mql_win_rate_high", Some(0.624465370237)),
                ("sla_mqls", Some(7.0)),
                ("contacted_mqls", Some(5.0)),
                ("contacted_within_24h", Some(3.0)),
                ("accepted_mqls", Some(3.0)),
                ("sql_reached", Some(2.0)),
                ("sql_won", Some(1.0)),
                ("sql_win_rate", Some(0.5)),
                ("bucket_le_1h_n", Some(2.0)),
                ("bucket_le_1h_q", Some(1.0)),
                ("bucket_le_24h_n", Some(1.0)),
                ("bucket_le_24h_q", Some(0.0)),
                ("bucket_le_72h_n", Some(1.0)),
                ("bucket_gt_72h_n", Some(1.0)),
                ("won_deals", Some(1.0)),
                ("lost_deals", Some(1.0)),
                ("win_rate", Some(0.5)),
                ("new_bookings", Some(10000.0)),
                ("avg_deal_size", Some(10000.0)),
                ("marketing_spend", Some(1200.0)),
                ("cost_per_mql", Some(150.0)),
                ("misfit_lost_deals", Some(1.0)),
                ("misfit_lost_amount", Some(6000.0)),
            ],
        };
        let organic = Want {
            ids: [
                Some(0.4),
                Some(1.0),
                Some(7000.0),
                Some(150.0),
                Some(0.0),
                Some(1.0),
                Some(150.0),
                Some(2000.0),
                Some(9300.0),
                Some(2958.5195056799),
                Some(40120.1237864138),
                Some(9300.0 / 35000.0),
                Some(11900.0),
                Some(100.0 * (5.0 / 6.0 + 0.75 + 4.0 / 6.0 + 5.0 / 6.0 + 1.0) / 5.0),
                Some(5.0 / 6.0),
                Some(0.75),
                Some(4.0 / 6.0),
                Some(5.0 / 6.0),
                Some(1.0),
            ],
            inputs: vec![
                ("mqls_reached", Some(6.0)),
                ("worked_mqls", Some(5.0)),
                ("worked_mqls_won", Some(2.0)),
                ("worked_mql_win_rate_low", Some(0.117620774233)),
                ("worked_mql_win_rate_high", Some(0.769275718724)),
                ("sla_mqls", Some(6.0)),
                ("contacted_mqls", Some(4.0)),
                ("contacted_within_24h", Some(3.0)),
                ("accepted_mqls", Some(4.0)),
                ("sql_reached", Some(3.0)),
                ("sql_won", Some(2.0)),
                ("sql_win_rate", Some(2.0 / 3.0)),
                ("bucket_le_1h_n", Some(2.0)),
                ("bucket_le_1h_q", Some(0.5)),
                ("bucket_le_24h_n", Some(1.0)),
                ("bucket_le_24h_q", Some(1.0)),
                ("bucket_le_72h_n", Some(1.0)),
                ("bucket_gt_72h_n", Some(0.0)),
                ("bucket_gt_72h_q", None),
                ("won_deals", Some(2.0)),
                ("lost_deals", Some(2.0)),
                ("win_rate", Some(0.5)),
                ("new_bookings", Some(35000.0)),
                ("avg_deal_size", Some(17500.0)),
                ("marketing_spend", Some(900.0)),
                ("cost_per_mql", Some(150.0)),
                ("misfit_lost_deals", Some(1.0)),
                ("misfit_lost_amount", Some(4000.0)),
            ],
        };
        check(
            &m.frame,
            row_of(&m.frame, Some("channel"), Some("Paid")),
            &paid,
        );
        check(
            &m.frame,
            row_of(&m.frame, Some("channel"), Some("Organic")),
            &organic,
        );
        assert_eq!(m.buckets.height(), 8);
        assert_eq!(m.buckets.get_column_names()[0].as_str(), "channel");
    }

    #[test]
    fn min_sample_too_high_nulls_slow_followup_only() {
        let ds = fixture("misalignment");
        let a = Analysis {
            min_sample: 5,
            ..Analysis::default()
        };
        let m = misalignment(&ds, &a).unwrap();
        close(&m.frame, "slow_followup_lost_revenue", 0, None);
        // The other four money components still add up: 13500 + 450 + 450 + 5000.
        close(&m.frame, "misalignment_cost", 0, Some(19400.0));
        close(&m.frame, "misalignment_cost_low", 0, Some(7626.7700981101));
        close(
            &m.frame,
            "misalignment_cost_high",
            0,
            Some(94325.6260120170 - 58156.8057125951),
        );
        assert!(
            m.notes
                .iter()
                .any(|n| n.contains("no response-time bucket has 5 contacted MQLs (min_sample)")),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn no_first_contact_column() {
        let ds = fixture("misalignment-nocontact");
        let m = misalignment(&ds, &analysis(None)).unwrap();
        let f = &m.frame;
        // Worked = reached sal, sql or opportunity: L01 L02 L04 L10 L11 L12
        // L14 = 7, won L01 L10 L11 = 3.
        close(f, "worked_mql_win_rate", 0, Some(3.0 / 7.0));
        close(f, "worked_mqls", 0, Some(7.0));
        close(f, "worked_mql_win_rate_low", 0, Some(0.158219855251));
        close(f, "worked_mql_win_rate_high", 0, Some(0.749541635472));
        for id in [
            "unworked_mqls",
            "unworked_mql_lost_revenue",
            "unworked_mql_wasted_spend",
            "slow_followup_lost_revenue",
            "followup_component",
            "speed_component",
            "contacted_mqls",
            "bucket_le_1h_n",
        ] {
            close(f, id, 0, None);
        }
        close(f, "rejected_mqls", 0, Some(3.0));
        close(f, "rejected_mql_wasted_spend", 0, Some(450.0));
        close(f, "misfit_lost_pipeline", 0, Some(5000.0));
        close(f, "misalignment_cost", 0, Some(5450.0));
        close(f, "misalignment_cost_low", 0, Some(450.0 + 1876.1630648265));
        close(
            f,
            "misalignment_cost_high",
            0,
            Some(450.0 + 8123.8369351735),
        );
        close(f, "misalignment_cost_share", 0, Some(5450.0 / 45000.0));
        close(f, "alignment_uplift_scenario", 0, Some(15300.0));
        close(f, "acceptance_component", 0, Some(0.5));
        close(f, "icp_component", 0, Some(17.0 / 21.0));
        close(f, "channel_component", 0, Some(41.0 / 63.0));
        close(
            f,
            "alignment_score",
            0,
            Some(100.0 * (0.5 + 17.0 / 21.0 + 41.0 / 63.0) / 3.0),
        );
        close(f, "mqls_reached", 0, Some(14.0));
        close(f, "sql_win_rate", 0, Some(0.6));
        assert_eq!(m.buckets.height(), 0);
        assert!(
            m.notes
                .iter()
                .any(|n| n.contains("follow-up components need leads.first_contact_at")),
            "{:?}",
            m.notes
        );
    }

    #[test]
    fn date_range_keeps_whole_periods() {
        // --period week --from 2024-01-01 --to 2024-01-03: the ISO week of
        // 2024-01-01 (a Monday), i.e. [2024-01-01, 2024-01-08): leads L01-L06;
        // no deal closes in it; spend is the 2024-01-01 rows (600 + 450).
        let ds = fixture("misalignment");
        let ts = crate::metrics::testutil::ts;
        let a = Analysis {
            period: PeriodKind::Week,
            from: Some(ts("2024-01-01")),
            to: Some(ts("2024-01-03")),
            min_sample: 2,
            ..Analysis::default()
        };
        assert_eq!(
            range_bounds(&a),
            (Some(ts("2024-01-01")), Some(ts("2024-01-08")))
        );
        let m = misalignment(&ds, &a).unwrap();
        let f = &m.frame;
        close(f, "mqls_reached", 0, Some(6.0));
        close(f, "unworked_mqls", 0, Some(1.0)); // L06
        close(f, "rejected_mqls", 0, Some(1.0)); // L03
        close(f, "marketing_spend", 0, Some(1050.0));
        close(f, "cost_per_mql", 0, Some(175.0));
        close(f, "won_deals", 0, Some(0.0));
        close(f, "worked_mql_win_rate", 0, Some(0.2)); // L01 of L01-L05 won (in February)
        close(f, "win_rate", 0, None);
        close(f, "avg_deal_size", 0, None);
        close(f, "unworked_mql_lost_revenue", 0, None);
        close(f, "slow_followup_lost_revenue", 0, None);
        close(f, "misfit_lost_pipeline", 0, None);
        close(f, "misalignment_cost", 0, Some(350.0));
        close(f, "misalignment_cost_share", 0, None);
        // Month periods: --from 2024-01-15 --to 2024-02-10 covers January and February.
        let a = Analysis {
            from: Some(ts("2024-01-15")),
            to: Some(ts("2024-02-10")),
            ..a
        };
        let a = Analysis {
            period: PeriodKind::Month,
            ..a
        };
        assert_eq!(
            range_bounds(&a),
            (Some(ts("2024-01-01")), Some(ts("2024-03-01")))
        );
    }
}

mod real_loader_tests {
    //! The same known answers through the real loader and configuration
    //! (fixtures/misalignment/revcycle.toml sets min_sample = 2).
    use super::super::*;
    use crate::cli::PeriodArgs;
    use crate::config::Config;
    use crate::input::{load, InputSpec};

    fn load_fixture(name: &str, by: Option<Dimension>) -> (Dataset, Analysis) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        let cfg = Config::load(Some(&dir.join("revcycle.toml"))).expect("config");
        let spec = InputSpec {
            dir: Some(dir),
            ..InputSpec::default()
        };
        let loaded = load(&spec, &cfg, None, true).expect("loads");
        let mut a = crate::cmd::common::analysis(&cfg, &PeriodArgs::default()).expect("settings");
        a.by = by;
        (loaded.dataset, a)
    }

    fn get(df: &DataFrame, name: &str, r: usize) -> Option<f64> {
        df.column(name)
            .unwrap()
            .cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .get(r)
    }

    #[test]
    fn real_loader_gives_the_same_answers() {
        let (ds, a) = load_fixture("misalignment", None);
        assert_eq!(a.min_sample, 2);
        assert_eq!(ds.as_of, crate::metrics::testutil::ts("2024-04-30"));
        let m = misalignment(&ds, &a).unwrap();
        let f = &m.frame;
        for (id, want) in [
            ("misalignment_cost", 35150.0),
            ("misalignment_cost_low", 7626.7700981101),
            ("misalignment_cost_high", 94325.6260120170),
            ("slow_followup_lost_revenue", 15750.0),
            ("unworked_mqls", 3.0),
            ("rejected_mqls", 3.0),
            ("alignment_score", 67.924297924298),
        ] {
            let got = get(f, id, 0).unwrap_or_else(|| panic!("{id} null"));
            assert!(
                (got - want).abs() < 1e-6 * want.max(1.0),
                "{id}: {got} vs {want}"
            );
        }
        let (ds, a) = load_fixture("misalignment", Some(Dimension::Channel));
        let m = misalignment(&ds, &a).unwrap();
        assert_eq!(m.frame.height(), 2);
        let (ds, a) = load_fixture("misalignment-nocontact", None);
        let m = misalignment(&ds, &a).unwrap();
        assert_eq!(get(&m.frame, "slow_followup_lost_revenue", 0), None);
        let got = get(&m.frame, "misalignment_cost", 0).unwrap();
        assert!((got - 5450.0).abs() < 1e-6, "{got}");
    }
}

mod components {
    use super::super::*;
    use crate::metrics::testutil::fixture;

    /// The five money components carry the numbers of the frame, and their
    /// values, lows and highs add up to misalignment_cost, _low and _high.
    #[test]
    fn components_add_up_to_the_cost_and_its_range() {
        let ds = fixture("misalignment");
        let a = Analysis {
            min_sample: 2,
            ..Analysis::default()
        };
        let m = misalignment(&ds, &a).unwrap();
        let ids: Vec<&str> = m.components.iter().map(|c| c.id).collect();
        assert_eq!(ids, COST_COMPONENTS);
        let get = |id: &str| {
            m.frame
                .column(id)
                .unwrap()
                .cast(&DataType::Float64)
                .unwrap()
                .f64()
                .unwrap()
                .get(0)
        };
        for c in &m.components {
            assert_eq!(c.value, get(c.id), "{}", c.id);
            if let (Some(v), Some(lo), Some(hi)) = (c.value, c.low, c.high) {
                assert!(lo <= v && v <= hi, "{}: {lo} {v} {hi}", c.id);
            }
        }
        let sum = |f: fn(&Component) -> Option<f64>| m.components.iter().filter_map(f).sum::<f64>();
        for (id, total) in [
            ("misalignment_cost", sum(|c| c.value)),
            ("misalignment_cost_low", sum(|c| c.low)),
            ("misalignment_cost_high", sum(|c| c.high)),
        ] {
            let want = get(id).unwrap();
            assert!(
                (total - want).abs() < 1e-6 * want.max(1.0),
                "{id}: {total} vs {want}"
            );
        }
        // EXPECTED.md: slow follow-up 15750, its range strictly around it.
        let slow = &m.components[2];
        assert_eq!(slow.value, Some(15750.0));
        assert!(slow.low.unwrap() < 15750.0 && slow.high.unwrap() > 15750.0);
    }
}

mod total_from_channels {
    //! Without `--by`, the total is the channels' gathered figures added up
    //! (`gather::total_of`): it must equal a gather of the whole range, field
    //! by field, on every fixture with leads.
    use super::super::*;
    use crate::metrics::testutil::fixture;

    /// A group as comparable text, the loss reasons in name order (an unsplit
    /// gather lists them in polars' order).
    fn text(g: &gather::Group) -> String {
        let mut g = g.clone();
        g.lost_by_reason.sort_by(|a, b| a.0.cmp(&b.0));
        format!("{g:?}")
    }

    #[test]
    fn the_sum_of_the_channels_is_the_whole_range() {
        let mut checked = 0;
        for name in ["misalignment", "misalignment-nocontact", "basic", "cycle", "trust"] {
            let ds = fixture(name);
            let whole = Analysis::default();
            let split = Analysis {
                by: Some(Dimension::Channel),
                ..Analysis::default()
            };
            let av = gather::avail(&ds, None).unwrap();
            let all = gather::gather(&crate::metrics::shared::Shared::tables(&ds), &whole, &av).unwrap();
            let channels = gather::gather(&crate::metrics::shared::Shared::tables(&ds), &split, &av).unwrap();
            let nb = whole.response_buckets_hours.len() + 1;
            let total = gather::total_of(&channels, nb);
            assert_eq!(text(&total), text(&all[ALL]), "fixture {name}");
            // Not a trivial pass: the fixtures have MQLs, deals and spend.
            checked += usize::from(total.mqls > 0 && total.won_deals > 0 && total.spend > 0.0);
            assert!(channels.len() > 1, "fixture {name} has several channels");
        }
        assert!(checked >= 2, "only {checked} fixtures had MQLs, won deals and spend");
    }

    /// Issue 13: the report's whole-range misalignment under `--by channel`
    /// is computed from the channel groups it gathered for the split; the
    /// groups of another split are refused.
    #[test]
    fn issue13_channel_groups_serve_the_whole_range() {
        use crate::metrics::shared::Shared;
        for name in ["misalignment", "basic", "cycle"] {
            let ds = fixture(name);
            let shared = Shared::collect(&ds, Some(Dimension::Channel)).unwrap();
            let whole = Analysis::default();
            let split = Analysis {
                by: Some(Dimension::Channel),
                ..Analysis::default()
            };
            let g = gathered(&shared, &split).unwrap();
            assert!(g.serves(&split) && g.serves(&whole), "fixture {name}");
            let from_split = misalignment_from(&ds, &whole, &g).unwrap();
            let own = misalignment(&ds, &whole).unwrap();
            assert!(from_split.frame.height() == 1, "fixture {name}");
            assert!(from_split.frame.equals_missing(&own.frame), "fixture {name}: frame");
            assert!(from_split.buckets.equals_missing(&own.buckets), "fixture {name}: buckets");
            assert_eq!(from_split.notes, own.notes, "fixture {name}");
            assert_eq!(from_split.components, own.components, "fixture {name}");
            let ch = (from_split.channels.unwrap(), own.channels.unwrap());
            assert!(ch.0.height() > 1 && ch.0.equals_missing(&ch.1), "fixture {name}: channels");

            let by_segment = Analysis {
                by: Some(Dimension::Segment),
                ..Analysis::default()
            };
            let g = gathered(&shared, &by_segment).unwrap();
            assert!(!g.serves(&whole) && !g.serves(&split), "fixture {name}");
            assert!(misalignment_from(&ds, &whole, &g).is_err(), "fixture {name}");
        }
    }
}
