//! Tests of the demo's touches: the designed journeys, the truth replayed
//! from the written files, determinism and the `truth.csv` format.

use std::collections::{HashMap, HashSet};

use super::*;

/// A touch's channel as the contract resolves it: `channel` as written, else
/// its campaign's channel, else the default UTM rules (the subset the demo
/// writes), else `(none)`.
fn resolve_channel(
    t: &HashMap<String, String>,
    campaign_channel: &HashMap<String, String>,
) -> String {
    if !t["channel"].is_empty() {
        return t["channel"].clone();
    }
    if let Some(c) = campaign_channel.get(&t["campaign_id"]) {
        return c.clone();
    }
    let (s, m) = (t["source"].to_lowercase(), t["medium"].to_lowercase());
    let social = [
        "facebook",
        "instagram",
        "linkedin",
        "twitter",
        "x",
        "tiktok",
        "reddit",
    ];
    let name = match m.as_str() {
        "cpc" | "ppc" | "paid" | "paidsearch" | "sem" if social.contains(&s.as_str()) => {
            "Paid Social"
        }
        "cpc" | "ppc" | "paid" | "paidsearch" | "sem" => "Paid Search",
        "social" | "social-network" | "sm" => "Organic Social",
        "email" => "Email",
        "referral" => "Referral",
        "display" | "banner" | "cpm" => "Display",
        "affiliate" => "Partner",
        "organic" => "Organic",
        _ if s == "(direct)" || m == "(none)" || m == "none" => "Direct",
        _ => "(none)",
    };
    name.to_string()
}

fn minutes(s: &str) -> i64 {
    ts(s).and_utc().timestamp() / 60
}

/// Touches per lead, every touch's lead, timing, channels, campaigns and
/// UTM rules, counted on a 20,000-lead set.
#[test]
fn touches_have_the_designed_journeys() {
    let (d, stats) = gen(&opts(20_000, 9, Headers::Canonical));
    let touches = parse(&d.touches);
    assert_eq!(touches.len() as u64, stats.touch_rows);
    assert_eq!(
        d.touches.split(|b| *b == b'\n').next().unwrap(),
        b"lead_id,touched_at,channel,campaign_id,touch_type,source,medium"
    );
    let leads: HashMap<String, HashMap<String, String>> = parse(&d.leads)
        .into_iter()
        .map(|l| (l["lead_id"].clone(), l))
        .collect();
    // Conversion instant: midnight of the lead's won new-business deal.
    let conversion: HashMap<String, i64> = parse(&d.opportunities)
        .into_iter()
        .filter(|o| !o["lead_id"].is_empty() && o["type"] == "new_business" && o["status"] == "won")
        .map(|o| {
            (
                o["lead_id"].clone(),
                minutes(&format!("{} 00:00:00", o["close_date"])),
            )
        })
        .collect();
    assert_eq!(conversion.len() as u64, stats.truth.conversions);
    let campaigns = parse(&d.campaigns);
    let campaign_channel: HashMap<String, String> = campaigns
        .iter()
        .map(|c| (c["campaign_id"].clone(), c["channel"].clone()))
        .collect();
    let end = minutes("2025-01-01 00:00:00");
    let first = minutes("2023-01-01 00:00:00");

    type Rec = HashMap<String, String>;
    let mut by_lead: HashMap<&str, Vec<(i64, String, &Rec)>> = HashMap::new();
    let mut blank = 0;
    for t in &touches {
        assert!(
            leads.contains_key(&t["lead_id"]),
            "touch of unknown lead {}",
            t["lead_id"]
        );
        let at = minutes(&t["touched_at"]);
        assert!(at >= first && at < end, "{t:?}");
        let ch = resolve_channel(t, &campaign_channel);
        assert!(
            TOUCH_CHANNELS.iter().any(|c| c.name == ch),
            "touch resolves to {ch}: {t:?}"
        );
        if t["channel"].is_empty() {
            blank += 1;
        }
        // A campaign id is one of the demo's, of the touch's own channel.
        if !t["campaign_id"].is_empty() {
            assert_eq!(campaign_channel.get(&t["campaign_id"]), Some(&ch), "{t:?}");
        }
        by_lead.entry(&t["lead_id"]).or_default().push((at, ch, t));
    }
    assert_eq!(by_lead.len(), leads.len(), "every lead has touches");
    assert!(
        blank > 100 && blank * 10 < touches.len(),
        "blank channels: {blank}"
    );

    let mean = touches.len() as f64 / leads.len() as f64;
    assert!((3.7..4.3).contains(&mean), "mean touches per lead {mean}");
    let mut sizes = [0usize; 13];
    // Relative position in the journey (0 = first touch, 1 = last) of Paid
    // Search and Events touches.
    let mut pos: HashMap<&str, (f64, f64)> = HashMap::new();
    for (id, path) in &by_lead {
        assert!(
            (1..=12).contains(&path.len()),
            "{id}: {} touches",
            path.len()
        );
        sizes[path.len()] += 1;
        assert!(
            path.windows(2).all(|w| w[0].0 <= w[1].0),
            "{id} not in time order"
        );
        let lead = &leads[*id];
        let created = minutes(&lead["created_at"]);
        // The lead-creation touch: at its created_at, its own campaign.
        assert!(
            path.iter()
                .any(|(at, _, t)| *at == created && t["campaign_id"] == lead["campaign_id"]),
            "{id}: no creation touch"
        );
        assert!(path[0].0 >= created - 45 * 1440, "{id}: a touch too early");
        let closing = |ch: &str| ch == "Direct" || ch == "Brand Search";
        match conversion.get(*id) {
            Some(&conv) => {
                assert!(
                    path.iter().all(|(at, _, _)| *at <= conv),
                    "{id} touched after converting"
                );
                // Direct and Brand Search come last, in the last 3 days.
                let first_closing = path.iter().position(|(_, ch, _)| closing(ch));
                if let Some(i) = first_closing {
                    assert!(
                        path[i..].iter().all(|(_, ch, _)| closing(ch)),
                        "{id}: {path:?}"
                    );
                    assert!(path[i].0 >= conv - 3 * 1440, "{id}");
                }
            }
            None => assert!(
                path.iter().all(|(_, ch, _)| !closing(ch)),
                "{id}: Direct/Brand Search on a path that did not convert"
            ),
        }
        if path.len() >= 3 {
            for (i, (_, ch, _)) in path.iter().enumerate() {
                if ch == "Paid Search" || ch == "Events" {
                    let e = pos.entry(ch.as_str()).or_default();
                    e.0 += i as f64 / (path.len() - 1) as f64;
                    e.1 += 1.0;
                }
            }
        }
    }
    assert!(sizes[1] > 0 && sizes[12] > 0, "{sizes:?}");
    let avg = |c: &str| pos[c].0 / pos[c].1;
    assert!(
        avg("Paid Search") > 0.55,
        "Paid Search at {}",
        avg("Paid Search")
    );
    assert!(avg("Events") < 0.45, "Events at {}", avg("Events"));
    // Direct and Brand Search are on about half the converting paths.
    let with_closing = conversion
        .keys()
        .filter(|id| {
            by_lead[id.as_str()]
                .iter()
                .any(|(_, ch, _)| ch == "Direct" || ch == "Brand Search")
        })
        .count();
    assert!(
        with_closing * 2 > conversion.len(),
        "{with_closing} of {}",
        conversion.len()
    );
}

/// The truth replayed from the written files: each lead's causal set J from
/// its touches, p(J) from the model, the lead's U from the generator's log.
/// Every lead converts iff U < p(J), and the conversions lost per channel
/// (U >= p(J without c)) are exactly `truth.csv`'s; their count is close to
/// its expectation sum (p(J) - p(J \ c)) / p(J) (U uniform below p(J)).
#[test]
fn truth_replays_from_the_written_touches() {
    let (d, stats, log) = gen_logged(&opts(30_000, 17, Headers::Canonical));
    let campaign_channel: HashMap<String, String> = parse(&d.campaigns)
        .iter()
        .map(|c| (c["campaign_id"].clone(), c["channel"].clone()))
        .collect();
    let bit = |name: &str| TOUCH_CHANNELS.iter().position(|c| c.name == name).unwrap();
    let mut set: HashMap<u64, u16> = HashMap::new();
    for t in parse(&d.touches) {
        let n: u64 = t["lead_id"][2..].parse().unwrap();
        *set.entry(n).or_default() |= 1 << bit(&resolve_channel(&t, &campaign_channel));
    }
    let converted: HashSet<u64> = parse(&d.opportunities)
        .into_iter()
        .filter(|o| !o["lead_id"].is_empty() && o["type"] == "new_business" && o["status"] == "won")
        .map(|o| o["lead_id"][2..].parse().unwrap())
        .collect();
    assert_eq!(log.len(), 30_000);
    let causal = |s: u16| s & 0xFF;
    let mut lost = [0u64; 10];
    let mut expected = [0f64; 10];
    let mut variance = [0f64; 10];
    for (n, u) in &log {
        let j = causal(set[n]);
        let p = model::conversion_probability(j);
        assert_eq!(converted.contains(n), *u < p, "lead {n}: U {u} p(J) {p}");
        if !converted.contains(n) {
            continue;
        }
        for (c, l) in lost.iter_mut().enumerate() {
            if j & (1 << c) == 0 {
                continue;
            }
            let without = model::conversion_probability(j & !(1 << c));
            if *u >= without {
                *l += 1;
            }
            let q = (p - without) / p;
            expected[c] += q;
            variance[c] += q * (1.0 - q);
        }
    }
    let want: Vec<(&str, u64)> = TOUCH_CHANNELS.iter().map(|c| c.name).zip(lost).collect();
    assert_eq!(stats.truth.lost, want);
    assert_eq!(stats.truth.conversions, converted.len() as u64);
    for c in 0..10 {
        let sd = variance[c].sqrt();
        assert!(
            (lost[c] as f64 - expected[c]).abs() <= 4.0 * sd + 2.0,
            "{}: lost {} expected {:.1} (sd {sd:.1})",
            TOUCH_CHANNELS[c].name,
            lost[c],
            expected[c]
        );
    }
    // Designed: Referral first, Paid Search second, nothing for Direct and
    // Brand Search although they sit on most converting paths.
    let rows = parse(&d.truth_csv);
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[0]["channel"], "Referral");
    assert_eq!(rows[1]["channel"], "Paid Search");
    let total: u64 = lost.iter().sum();
    let mut share_sum = 0.0;
    for r in &rows {
        let n: u64 = r["conversions_lost"].parse().unwrap();
        assert_eq!(n, lost[bit(&r["channel"])], "{r:?}");
        let share: f64 = r["share"].parse().unwrap();
        assert!((share - n as f64 / total as f64).abs() < 1e-6, "{r:?}");
        share_sum += share;
    }
    assert!((share_sum - 1.0).abs() < 1e-5, "{share_sum}");
    assert_eq!(lost[model::DIRECT] + lost[model::BRAND_SEARCH], 0);
}

#[test]
fn touches_and_truth_same_seed_same_bytes() {
    let (a, _) = gen(&opts(1500, 4, Headers::Canonical));
    let (b, _) = gen(&opts(1500, 4, Headers::Salesforce));
    let (c, _) = gen(&opts(1500, 5, Headers::Canonical));
    // Touches keep canonical headers and dates whatever --headers says.
    assert_eq!(a.touches, b.touches);
    assert_eq!(a.truth_csv, b.truth_csv);
    assert_ne!(a.touches, c.touches);
    let again = builtin();
    assert_eq!(again.touches, builtin().touches);
    assert_eq!(again.truth_csv, truth_csv(&again.truth));
}

#[test]
fn truth_csv_format() {
    let t = Truth {
        conversions: 9,
        lost: vec![("Events", 1), ("Referral", 3), ("Direct", 0)],
    };
    assert_eq!(
        String::from_utf8(truth_csv(&t)).unwrap(),
        "channel,conversions_lost,share\nReferral,3,0.750000\nEvents,1,0.250000\nDirect,0,0.000000\n"
    );
    let none = Truth {
        conversions: 0,
        lost: vec![("Events", 0)],
    };
    assert_eq!(
        String::from_utf8(truth_csv(&none)).unwrap(),
        "channel,conversions_lost,share\nEvents,0,\n"
    );
}

/// The built-in set's truth, as docs/demo.md prints it (change both together).
#[test]
fn builtin_truth_is_the_documented_one() {
    let b = builtin();
    assert_eq!(b.truth.conversions, 170);
    assert_eq!(
        String::from_utf8(b.truth_csv).unwrap(),
        "channel,conversions_lost,share\n\
         Referral,74,0.503401\n\
         Paid Search,30,0.204082\n\
         Organic Search,14,0.095238\n\
         Webinar,12,0.081633\n\
         Events,7,0.047619\n\
         Email,7,0.047619\n\
         Paid Social,3,0.020408\n\
         Outbound,0,0.000000\n\
         Direct,0,0.000000\n\
         Brand Search,0,0.000000\n"
    );
    let rows = b.touches.iter().filter(|c| **c == b'\n').count() - 1;
    assert_eq!(
        rows, 19_990,
        "touches in the built-in set (docs/demo.md: 4.00 per lead)"
    );
}
