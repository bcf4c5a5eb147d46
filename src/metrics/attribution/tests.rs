//! Known answers (`fixtures/attribution/EXPECTED.md`) and properties of the
//! engine. The input structs are built straight from the fixture's CSV files
//! (csv + chrono, no polars): this tests the engine, not the loader.

use std::collections::HashMap;

use chrono::{DateTime, Datelike};

use super::models::{weights, Weights};
use super::*;
use crate::metrics::testutil::{expected, fixture_dir, ts};

const AS_OF: &str = "2024-07-01T00:00:00Z";

fn read(name: &str) -> Vec<HashMap<String, String>> {
    let path = fixture_dir("attribution").join(name);
    let mut r = csv::Reader::from_path(&path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.trim().to_string()))
                .collect()
        })
        .collect()
}

/// Month index of an instant (months since year 0).
fn month(t: i64) -> i64 {
    let d = DateTime::from_timestamp_micros(t).unwrap();
    d.year() as i64 * 12 + d.month0() as i64
}

fn month_name(p: i64) -> String {
    format!("{:04}-{:02}", p / 12, p % 12 + 1)
}

/// The fixture as engine input, `--credit won`, periods 2024-03 .. 2024-06.
fn fixture_input() -> Input {
    let campaigns = read("campaigns.csv");
    let mut campaign_channel: HashMap<String, String> = HashMap::new();
    for r in &campaigns {
        if !r["channel"].is_empty() {
            campaign_channel
                .entry(r["campaign_id"].clone())
                .or_insert(r["channel"].clone());
        }
    }
    let resolve = |channel: &str, campaign: &str| -> String {
        if channel.is_empty() {
            campaign_channel.get(campaign).cloned().unwrap_or_default()
        } else {
            channel.to_string()
        }
    };
    let leads: Vec<Lead> = read("leads.csv")
        .iter()
        .map(|r| Lead {
            id: r["lead_id"].clone(),
            created_at: ts(&r["created_at"]),
            channel: resolve(&r["channel"], &r["campaign_id"]).into(),
            campaign_id: r["campaign_id"].as_str().into(),
        })
        .collect();
    let lead_index: HashMap<&str, usize> = leads
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.as_str(), i))
        .collect();
    let touches = read("touches.csv")
        .iter()
        .enumerate()
        .map(|(i, r)| Touch {
            lead: lead_index[r["lead_id"].as_str()],
            at: ts(&r["touched_at"]),
            channel: resolve(&r["channel"], &r["campaign_id"]).into(),
            campaign_id: r["campaign_id"].as_str().into(),
            touch_type: r["touch_type"].as_str().into(),
            order: i as u64,
        })
        .collect();
    let conversions = read("opportunities.csv")
        .iter()
        .filter(|r| r["status"] == "won" && !r["close_date"].is_empty() && !r["lead_id"].is_empty())
        .map(|r| {
            let instant = ts(&r["close_date"]);
            Conversion {
                id: r["opportunity_id"].clone(),
                lead: lead_index[r["lead_id"].as_str()],
                instant,
                value: r["amount"].parse().unwrap_or(0.0),
                opp_created_at: Some(ts(&r["created_at"])),
                period: month(instant),
            }
        })
        .collect();
    let spend = campaigns
        .iter()
        .map(|r| SpendRow {
            period: month(ts(&r["date"])),
            unit: match resolve(&r["channel"], &r["campaign_id"]) {
                c if c.is_empty() => none_unit(),
                c => c.into(),
            },
            amount: r["spend"].parse().unwrap(),
        })
        .collect();
    let march = month(ts("2024-03-01"));
    Input {
        leads,
        touches,
        conversions,
        periods: (march..march + 4).collect(),
        spend: Some(spend),
    }
}

fn settings() -> Settings {
    Settings::new(ts(AS_OF))
}

fn known(block: &str) -> Vec<(String, Vec<String>)> {
    let md = std::fs::read_to_string(fixture_dir("attribution").join("EXPECTED.md")).unwrap();
    expected::block(&md, block)
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".to_string(), |v| v.to_string())
}

fn columns(names: &[&str], rows: Vec<Vec<String>>) -> Vec<(String, Vec<String>)> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), rows.iter().map(|r| r[i].clone()).collect()))
        .collect()
}

#[test]
fn attribution_known_credits_per_conversion() {
    let input = fixture_input();
    let a = attribute(&input, &settings(), &Model::ALL);
    let mut rows = Vec::new();
    for (i, c) in input.conversions.iter().enumerate() {
        for (model, credits) in &a.credits {
            let credit = &credits[i];
            assert_eq!(credit.conversion, i);
            for (unit, f) in &credit.units {
                rows.push(vec![
                    c.id.clone(),
                    model.name().into(),
                    unit.to_string(),
                    f.to_string(),
                ]);
            }
        }
    }
    let actual = columns(&["conversion", "model", "unit", "credit"], rows);
    expected::assert_matches("credits", &known("credits"), &actual);
    assert_eq!(a.fallback_paths, 1, "O5's window is empty");
    assert_eq!(a.shapley_fallbacks, 0);
}

#[test]
fn attribution_known_markov_removal_effects() {
    let a = attribute(&fixture_input(), &settings(), &[Model::Markov]);
    assert!((a.markov.p - 0.5).abs() < 1e-12, "P = {}", a.markov.p);
    let rows = a
        .removal_effects
        .iter()
        .map(|(u, e)| vec![u.to_string(), opt(*e)])
        .collect();
    let actual = columns(&["unit", "removal_effect"], rows);
    expected::assert_matches("markov", &known("markov"), &actual);
    // display is on no lead path: exactly 0, not merely small.
    assert_eq!(a.removal_effects[0], ("display".into(), Some(0.0)));
}

#[test]
fn attribution_known_path_shapes() {
    let a = attribute(&fixture_input(), &settings(), &[Model::Linear]);
    let rows = a
        .paths
        .iter()
        .map(|p| {
            vec![
                p.path.replace(" > ", ">").replace(' ', "_"),
                p.leads.to_string(),
                p.conversions.to_string(),
                p.conversion_rate().to_string(),
            ]
        })
        .collect();
    let names = ["path", "leads", "conversions", "conversion_rate"];
    expected::assert_matches("paths", &known("paths"), &columns(&names, rows));
}

#[test]
fn attribution_known_long_tables() {
    let input = fixture_input();
    let a = attribute(&input, &settings(), &Model::ALL);
    for model in Model::ALL {
        let rows = a
            .rows
            .iter()
            .filter(|r| r.model == model)
            .map(|r| {
                vec![
                    month_name(r.period),
                    r.unit.to_string(),
                    r.model.name().to_string(),
                    r.conversions.to_string(),
                    r.value.to_string(),
                    opt(r.share),
                    opt(r.spend),
                    opt(r.cost_per_conversion),
                    opt(r.roas),
                ]
            })
            .collect();
        let names = [
            "period",
            "channel",
            "model",
            "conversions",
            "value",
            "share",
            "spend",
            "cost_per_conversion",
            "roas",
        ];
        let block = format!("long-{}", model.name());
        expected::assert_matches(&block, &known(&block), &columns(&names, rows));
    }
}

#[test]
fn attribution_credits_sum_to_conversions_and_value_in_every_period() {
    let input = fixture_input();
    for by in [By::Channel, By::Campaign] {
        let s = Settings { by, ..settings() };
        let a = attribute(&input, &s, &Model::ALL);
        for (model, credits) in &a.credits {
            for c in credits {
                let total = exact::sum(c.units.iter().map(|u| u.1));
                assert!(
                    (total - 1.0).abs() < 1e-12,
                    "{model:?} conversion {}: {total}",
                    c.conversion
                );
            }
        }
        for &p in &input.periods {
            let convs: Vec<&Conversion> =
                input.conversions.iter().filter(|c| c.period == p).collect();
            let value = exact::sum(convs.iter().map(|c| c.value));
            for model in Model::ALL {
                let rows: Vec<&Row> = a
                    .rows
                    .iter()
                    .filter(|r| r.period == p && r.model == model)
                    .collect();
                let n = exact::sum(rows.iter().map(|r| r.conversions));
                let v = exact::sum(rows.iter().map(|r| r.value));
                assert!(
                    (n - convs.len() as f64).abs() < 1e-9,
                    "{by:?} {model:?} {p}: {n} conversions"
                );
                assert!(
                    (v - value).abs() < 1e-9 * value.max(1.0),
                    "{by:?} {model:?} {p}: {v} value"
                );
                if !convs.is_empty() {
                    let share = exact::sum(rows.iter().map(|r| r.share.unwrap()));
                    assert!(
                        (share - 1.0).abs() < 1e-9,
                        "{by:?} {model:?} {p}: share {share}"
                    );
                }
            }
        }
    }
}

#[test]
fn attribution_rule_weights_are_exact_fractions() {
    let input = fixture_input();
    let s = settings();
    let compact = input.compact();
    let u = paths::Units {
        of_kind: compact
            .kinds
            .iter()
            .map(|k| if compact.names[k[0] as usize].is_empty() { compact.id(NONE_UNIT).unwrap() } else { k[0] })
            .collect(),
        leads: &compact.leads,
        none: compact.id(NONE_UNIT).unwrap(),
        empty: compact.id("").unwrap(),
        by_campaign: false,
    };
    let mut denominators = Vec::new();
    for c in &input.conversions {
        let ts: Vec<_> = compact
            .touches
            .iter()
            .filter(|t| t.lead as usize == c.lead)
            .copied()
            .collect();
        let mut path = Vec::new();
        paths::conversion_path(&ts, &u, c, s.lookback, &mut path);
        let created = input.leads[c.lead].created_at;
        for m in [
            Model::FirstTouch,
            Model::LastTouch,
            Model::Linear,
            Model::Position,
            Model::WShaped,
        ] {
            match weights(m, &path, created, c.opp_created_at, &s) {
                Weights::Exact { parts, den } => {
                    assert_eq!(parts.iter().sum::<u64>(), den, "{m:?} {}", c.id);
                    if m == Model::WShaped {
                        denominators.push((c.id.clone(), parts, den));
                    }
                }
                Weights::Real(_) => panic!("{m:?} should be exact"),
            }
        }
    }
    // O4: keys t1, t2, t4 (0.3 = 6/20 each), non-keys t3, t5 (0.05 = 1/20).
    assert!(denominators.contains(&("O4".to_string(), vec![6, 6, 1, 6, 1], 20)));
    // O3: every touch a key: 0.3 + 0.1/3 = 10/30 each.
    assert!(denominators.contains(&("O3".to_string(), vec![10, 10, 10], 30)));
}

/// A lead whose path has one channel (several touches, several campaigns)
/// gives that channel all the credit under every model.
#[test]
fn attribution_one_channel_path_gets_all_credit_under_every_model() {
    let mut input = fixture_input();
    let day = US_PER_DAY;
    let l = input.leads.len();
    input.leads.push(Lead {
        id: "X1".into(),
        created_at: ts("2024-03-01T00:00:00Z"),
        channel: "email".into(),
        campaign_id: "EM1".into(),
    });
    for (i, campaign) in ["EM1", "EM2", "EM1", "EM3"].iter().enumerate() {
        input.touches.push(Touch {
            lead: l,
            at: ts("2024-03-02T00:00:00Z") + i as i64 * 3 * day,
            channel: "email".into(),
            campaign_id: (*campaign).into(),
            touch_type: "email_click".into(),
            order: 1000 + i as u64,
        });
    }
    let instant = ts("2024-03-20T00:00:00Z");
    input.conversions.push(Conversion {
        id: "X1-deal".into(),
        lead: l,
        instant,
        value: 700.0,
        opp_created_at: Some(ts("2024-03-06T00:00:00Z")),
        period: month(instant),
    });
    let k = input.conversions.len() - 1;
    let a = attribute(&input, &settings(), &Model::ALL);
    for (model, credits) in &a.credits {
        assert_eq!(credits[k].units, vec![("email".into(), 1.0)], "{model:?}");
    }
    // And every one-touch conversion of the fixture (O1 search, O5 email).
    for (model, credits) in &a.credits {
        assert_eq!(
            credits[0].units,
            vec![("search".into(), 1.0)],
            "{model:?} O1"
        );
        assert_eq!(
            credits[4].units,
            vec![("email".into(), 1.0)],
            "{model:?} O5"
        );
    }
}

fn bits(a: &Attribution) -> Vec<String> {
    let mut out: Vec<String> = a
        .rows
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {:x} {:x} {:?} {:?} {:?} {:?}",
                r.period,
                r.unit,
                r.model.name(),
                r.conversions.to_bits(),
                r.value.to_bits(),
                r.share.map(f64::to_bits),
                r.spend.map(f64::to_bits),
                r.cost_per_conversion.map(f64::to_bits),
                r.roas.map(f64::to_bits)
            )
        })
        .collect();
    out.extend(
        a.removal_effects
            .iter()
            .map(|(u, e)| format!("{u} {:?}", e.map(f64::to_bits))),
    );
    out.push(format!("P {:x}", a.markov.p.to_bits()));
    out
}

/// Markov (and every total) gives the same bytes on every run and whatever
/// the order of the input rows.
#[test]
fn attribution_same_bytes_on_reruns_and_reordered_rows() {
    let input = fixture_input();
    let s = settings();
    let first = bits(&attribute(&input, &s, &Model::ALL));
    for _ in 0..3 {
        assert_eq!(bits(&attribute(&input, &s, &Model::ALL)), first);
    }
    let mut shuffled = input.clone();
    shuffled.touches.reverse();
    shuffled.conversions.reverse();
    if let Some(sp) = shuffled.spend.as_mut() {
        sp.reverse();
    }
    assert_eq!(bits(&attribute(&shuffled, &s, &Model::ALL)), first);
}

#[test]
fn attribution_markov_unreachable_unit_is_exactly_zero_and_no_conversion_is_null() {
    let mut input = fixture_input();
    // A `tv` touch only on a lead that never converts (L9, until now without touches).
    input.touches.push(Touch {
        lead: 8,
        at: ts("2024-05-02T00:00:00Z"),
        channel: "tv".into(),
        campaign_id: "".into(),
        touch_type: "".into(),
        order: 999,
    });
    let a = attribute(&input, &settings(), &[Model::Markov]);
    assert_eq!(a.markov.removal_effect("tv"), Some(0.0));
    // Still P = 1/2: L9's path was start -> null, now start -> tv -> null.
    assert!((a.markov.p - 0.5).abs() < 1e-12);

    input.conversions.clear();
    let a = attribute(&input, &settings(), &[Model::Markov]);
    assert_eq!(a.markov.p, 0.0);
    assert!(a.removal_effects.iter().all(|(_, e)| e.is_none()));
    assert!(a
        .rows
        .iter()
        .all(|r| r.conversions == 0.0 && r.share.is_none()));
}

#[test]
fn attribution_shapley_above_twelve_units_falls_back_to_linear() {
    let mut input = fixture_input();
    let l = 8; // L9
    let base = ts("2024-05-01T12:00:00Z");
    for i in 0..13u64 {
        // Channel c00 twice: 14 touches, 13 distinct units.
        for _ in 0..(if i == 0 { 2 } else { 1 }) {
            input.touches.push(Touch {
                lead: l,
                at: base + i as i64 * 3_600_000_000,
                channel: format!("c{i:02}").into(),
                campaign_id: "".into(),
                touch_type: "".into(),
                order: 2000 + i,
            });
        }
    }
    let instant = ts("2024-05-20T00:00:00Z");
    input.conversions.push(Conversion {
        id: "X9".into(),
        lead: l,
        instant,
        value: 140.0,
        opp_created_at: None,
        period: month(instant),
    });
    let a = attribute(&input, &settings(), &[Model::Shapley]);
    assert_eq!(a.shapley_fallbacks, 1);
    let credit = &a.credits[0].1.last().unwrap().units;
    assert_eq!(credit.len(), 13);
    assert_eq!(credit[0], ("c00".into(), 2.0 / 14.0));
    assert_eq!(credit[1], ("c01".into(), 1.0 / 14.0));
}

#[test]
fn attribution_spend_and_roas_nulls() {
    let mut input = fixture_input();
    // No campaigns table: spend, cost and roas are null.
    let no_spend = Input {
        spend: None,
        ..input.clone()
    };
    let a = attribute(&no_spend, &settings(), &[Model::Linear]);
    assert!(a
        .rows
        .iter()
        .all(|r| r.spend.is_none() && r.cost_per_conversion.is_none() && r.roas.is_none()));
    assert!(
        a.rows.iter().all(|r| &*r.unit != "display"),
        "display is only on a spend row"
    );
    // --credit mql --by campaign: a campaign without spend rows has null spend; roas is null.
    input
        .spend
        .as_mut()
        .unwrap()
        .retain(|r| &*r.unit != "social");
    for sp in input.spend.as_mut().unwrap() {
        sp.unit = match &*sp.unit {
            "search" => "PS1",
            "events" => "EV1",
            "email" => "EM1",
            _ => "DI1",
        }
        .into();
    }
    let s = Settings {
        by: By::Campaign,
        credit: CreditKind::Mql,
        ..settings()
    };
    let a = attribute(&input, &s, &[Model::Linear]);
    let so1: Vec<&Row> = a.rows.iter().filter(|r| &*r.unit == "SO1").collect();
    assert!(!so1.is_empty() && so1.iter().all(|r| r.spend.is_none()));
    let ps1_march = a
        .rows
        .iter()
        .find(|r| &*r.unit == "PS1" && month_name(r.period) == "2024-03")
        .unwrap();
    assert_eq!(ps1_march.spend, Some(400.0));
    assert!(a.rows.iter().all(|r| r.roas.is_none()));
}

/// Random data sets: every model's credits sum to the conversions and the
/// value in every period, and reordered input gives the same bytes.
#[test]
fn attribution_random_sets_sum_and_are_order_free() {
    let mut seed = 7u64;
    let mut below = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let channels = ["a", "b", "c", "d", "e", ""];
    let start = ts("2024-01-01T00:00:00Z");
    let day = US_PER_DAY;
    for _ in 0..5 {
        let mut input = Input::default();
        for l in 0..60 {
            input.leads.push(Lead {
                id: format!("L{l}"),
                created_at: start + below(150) as i64 * day,
                channel: channels[below(6) as usize].into(),
                campaign_id: format!("C{}", below(4)).into(),
            });
            for t in 0..below(7) {
                input.touches.push(Touch {
                    lead: l,
                    // Whole days, so ties happen.
                    at: start + below(180) as i64 * day,
                    channel: channels[below(6) as usize].into(),
                    campaign_id: if below(5) == 0 {
                        "".into()
                    } else {
                        format!("C{}", below(4)).into()
                    },
                    touch_type: "".into(),
                    order: (l * 10) as u64 + t,
                });
            }
            for d in 0..below(3) {
                let instant = start + (30 + below(150)) as i64 * day;
                input.conversions.push(Conversion {
                    id: format!("O{l}-{d}"),
                    lead: l,
                    instant,
                    value: below(5000) as f64 / 7.0,
                    opp_created_at: Some(instant - below(40) as i64 * day),
                    period: month(instant),
                });
            }
        }
        let first = month(start);
        input.periods = (first..first + 7).collect();
        input.spend = Some(
            (0..20)
                .map(|_| SpendRow {
                    period: first + below(7) as i64,
                    unit: channels[below(5) as usize].into(),
                    amount: below(1000) as f64 / 3.0,
                })
                .collect(),
        );
        for by in [By::Channel, By::Campaign] {
            let s = Settings {
                by,
                lookback: 60 * day,
                as_of: start + 200 * day,
                ..settings()
            };
            let a = attribute(&input, &s, &Model::ALL);
            for &p in &input.periods {
                let convs: Vec<&Conversion> =
                    input.conversions.iter().filter(|c| c.period == p).collect();
                let value = exact::sum(convs.iter().map(|c| c.value));
                for model in Model::ALL {
                    let rows: Vec<&Row> = a
                        .rows
                        .iter()
                        .filter(|r| r.period == p && r.model == model)
                        .collect();
                    let n = exact::sum(rows.iter().map(|r| r.conversions));
                    let v = exact::sum(rows.iter().map(|r| r.value));
                    assert!((n - convs.len() as f64).abs() < 1e-9, "{model:?} {p}: {n}");
                    assert!(
                        (v - value).abs() < 1e-9 * value.max(1.0),
                        "{model:?} {p}: {v}"
                    );
                }
            }
            let mut shuffled = input.clone();
            shuffled.touches.reverse();
            shuffled.conversions.reverse();
            shuffled.spend.as_mut().unwrap().reverse();
            assert_eq!(bits(&attribute(&shuffled, &s, &Model::ALL)), bits(&a));
            // Chunks of any size: the same bits, credits and path shapes.
            let compact = input.compact();
            for chunk in [1, 2, 7, 59] {
                let o = EngineOptions {
                    chunk,
                    keep_credits: true,
                };
                let c = attribute_compact(&compact, &s, &Model::ALL, &o);
                assert_eq!(bits(&c), bits(&a), "chunk {chunk}");
                assert_eq!(c.credits, a.credits, "chunk {chunk}");
                assert_eq!(c.paths, a.paths, "chunk {chunk}");
                assert_eq!(c.fallback_paths, a.fallback_paths);
            }
        }
    }
}

/// The compact input's sizes that docs/attribution.md promises ("How the
/// engine scales"), and its order: names in byte order, kinds in tie order,
/// touches by (lead, touched_at, kind).
#[test]
fn attribution_compact_input_is_sixteen_bytes_a_touch_and_sorted() {
    assert_eq!(std::mem::size_of::<compact::CTouch>(), 16);
    assert_eq!(std::mem::size_of::<compact::CLead>(), 16);
    let c = fixture_input().compact();
    assert!(c.names.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(&*c.names[0], "");
    assert!(c.id(NONE_UNIT).is_some());
    assert!(c.kinds.windows(2).all(|w| w[0] < w[1]));
    assert!(c.touches.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(c.touches.len(), fixture_input().touches.len());
}

/// The engine's chunks run in parallel (rayon; each worker folds its chunks,
/// the workers' accumulators are merged): on the fixture, with every
/// chunk size from 1 lead to 5 and pools of 2 and 4 threads (a pool splits
/// the chunks among at least as many workers as it has threads, so the
/// merges run), the result is exactly the one-chunk, one-thread result:
/// every cell's bits, removal effects, the chain's counts and P, every
/// conversion's credits, the path shapes and the fallback counts.
#[test]
fn attribution_parallel_chunks_equal_one_chunk_exactly() {
    let compact = fixture_input().compact();
    assert!(compact.leads.len() >= 10, "the fixture has a dozen leads");
    let pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
    };
    for by in [By::Channel, By::Campaign] {
        let s = Settings { by, ..settings() };
        let run = |chunk: usize| {
            let o = EngineOptions {
                chunk,
                keep_credits: true,
            };
            attribute_compact(&compact, &s, &Model::ALL, &o)
        };
        let one = pool(1).install(|| run(usize::MAX));
        assert!(one.rows.iter().any(|r| r.conversions > 0.0));
        for threads in [2, 4] {
            for chunk in 1..=5 {
                let p = pool(threads).install(|| run(chunk));
                let what = format!("{by:?}, {threads} threads, chunks of {chunk}");
                assert_eq!(bits(&p), bits(&one), "{what}");
                assert_eq!(p.rows, one.rows, "{what}");
                assert_eq!(p.markov, one.markov, "{what}");
                assert_eq!(p.credits, one.credits, "{what}");
                assert_eq!(p.paths, one.paths, "{what}");
                assert_eq!(p.removal_effects, one.removal_effects, "{what}");
                assert_eq!(p.fallback_paths, one.fallback_paths, "{what}");
                assert_eq!(p.shapley_fallbacks, one.shapley_fallbacks, "{what}");
            }
        }
    }
}
