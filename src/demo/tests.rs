//! Tests of the demo generator: determinism, well-formed CSV, the designed
//! properties counted in the output, and the three header styles carrying
//! the same information.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};

use super::sim::{LEAD_COLS, OPP_COLS};
use super::*;
use crate::input::presets;
use crate::model::TableKind;

fn opts(leads: u64, seed: u64, headers: Headers) -> DemoOptions {
    DemoOptions {
        leads,
        seed,
        months: 24,
        start: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
        headers,
    }
}

fn gen(o: &DemoOptions) -> (BuiltinDemo, DemoStats) {
    let (d, stats, _) = gen_logged(o);
    (d, stats)
}

/// The data set, its stats and every lead's U (lead number, U).
fn gen_logged(o: &DemoOptions) -> (BuiltinDemo, DemoStats, Vec<(u64, f64)>) {
    let mut sinks = DemoSinks {
        leads: Vec::new(),
        opportunities: Vec::new(),
        campaigns: Vec::new(),
        revenue: Vec::new(),
        touches: Vec::new(),
    };
    let mut sim = sim::Sim::new(o, &mut sinks).unwrap();
    sim.journeys.u_log = Some(Vec::new());
    let stats = sim.run_mut().unwrap();
    let log = sim.journeys.u_log.take().unwrap();
    let out = BuiltinDemo {
        leads: sinks.leads,
        opportunities: sinks.opportunities,
        campaigns: sinks.campaigns,
        revenue: sinks.revenue,
        touches: sinks.touches,
        truth_csv: truth_csv(&stats.truth),
        truth: stats.truth.clone(),
    };
    (out, stats, log)
}

/// Rows as header -> value maps; fails on a malformed CSV (the `csv` crate
/// rejects records whose length differs from the header's).
fn parse(bytes: &[u8]) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(bytes);
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn ts(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, sa) = gen(&opts(2000, 7, Headers::Canonical));
    let (b, sb) = gen(&opts(2000, 7, Headers::Canonical));
    let (c, _) = gen(&opts(2000, 8, Headers::Canonical));
    assert_eq!(sa, sb);
    assert!(a.leads == b.leads && a.opportunities == b.opportunities);
    assert!(a.campaigns == b.campaigns && a.revenue == b.revenue);
    assert_ne!(a.leads, c.leads);
    assert_ne!(a.opportunities, c.opportunities);
    assert_ne!(a.revenue, c.revenue);
}

#[test]
fn builtin_is_the_default_demo() {
    let b = builtin();
    let (g, _) = gen(&builtin_options());
    assert_eq!(b.leads, g.leads);
    assert_eq!(b.revenue, g.revenue);
    let leads = parse(&b.leads);
    assert_eq!(leads.len(), 5000);
}

#[test]
fn row_counts_match_stats_and_exact_lead_count() {
    // An odd count and a start in the middle of a month.
    let mut o = opts(12_345, 3, Headers::Canonical);
    o.start = NaiveDate::from_ymd_opt(2023, 1, 15).unwrap();
    o.months = 7;
    let (d, s) = gen(&o);
    assert_eq!(s.leads, 12_345);
    assert_eq!(parse(&d.leads).len() as u64, s.leads);
    assert_eq!(parse(&d.opportunities).len() as u64, s.opportunities);
    assert_eq!(parse(&d.campaigns).len() as u64, s.campaign_rows);
    assert_eq!(parse(&d.revenue).len() as u64, s.revenue_rows);
    // Nothing before the start, nothing at or after the export instant
    // (2023-08-01, the first day after the seventh month).
    let first = ts("2023-01-15 00:00:00");
    let end = ts("2023-08-01 00:00:00");
    for l in parse(&d.leads) {
        let c = ts(&l["created_at"]);
        assert!(c >= first && c < end, "{c}");
        for col in [
            "mql_at",
            "sal_at",
            "sql_at",
            "first_contact_at",
            "disqualified_at",
        ] {
            if !l[col].is_empty() {
                assert!(ts(&l[col]) < end, "{col} {}", l[col]);
            }
        }
    }
}

#[test]
fn zero_months_is_an_error() {
    let mut o = opts(10, 1, Headers::Canonical);
    o.months = 0;
    let mut sinks = DemoSinks {
        leads: vec![],
        opportunities: vec![],
        campaigns: vec![],
        revenue: vec![],
        touches: vec![],
    };
    let e = generate(&o, &mut sinks).unwrap_err();
    assert!(e.to_string().contains("--months"), "{e}");
}

/// The messy-CRM properties issue 3 asks for, counted in the output.
#[test]
fn designed_properties_are_present() {
    let (d, _) = gen(&opts(4000, 11, Headers::Canonical));
    let leads = parse(&d.leads);
    let opps = parse(&d.opportunities);
    let revenue = parse(&d.revenue);
    let campaigns = parse(&d.campaigns);
    let has = |r: &HashMap<String, String>, c: &str| !r[c].is_empty();

    let sql_without_mql = leads
        .iter()
        .filter(|l| has(l, "sql_at") && !has(l, "mql_at"))
        .count();
    let sql_without_sal = leads
        .iter()
        .filter(|l| has(l, "sql_at") && !has(l, "sal_at"))
        .count();
    let contact_before_mql = leads
        .iter()
        .filter(|l| has(l, "mql_at") && has(l, "first_contact_at"))
        .filter(|l| ts(&l["first_contact_at"]) < ts(&l["mql_at"]))
        .count();
    let never_contacted_mqls = leads
        .iter()
        .filter(|l| has(l, "mql_at") && !has(l, "first_contact_at"))
        .filter(|l| !has(l, "sal_at") && !has(l, "sql_at"))
        .count();
    let disqualified_mqls = leads
        .iter()
        .filter(|l| has(l, "mql_at") && has(l, "disqualified_at") && has(l, "disqualify_reason"))
        .count();
    let responses: Vec<f64> = leads
        .iter()
        .filter(|l| has(l, "mql_at") && has(l, "first_contact_at"))
        .map(|l| (ts(&l["first_contact_at"]) - ts(&l["mql_at"])).num_minutes() as f64)
        .filter(|m| *m >= 0.0)
        .collect();
    let within_5_min = responses.iter().filter(|m| **m <= 5.0).count();
    let over_2_weeks = responses.iter().filter(|m| **m > 14.0 * 1440.0).count();
    assert!(sql_without_mql > 20, "sql without mql: {sql_without_mql}");
    assert!(sql_without_sal > 20, "sql without sal: {sql_without_sal}");
    assert!(
        contact_before_mql > 20,
        "contact before mql: {contact_before_mql}"
    );
    assert!(
        never_contacted_mqls > 50,
        "never contacted: {never_contacted_mqls}"
    );
    assert!(
        disqualified_mqls > 50,
        "disqualified mqls: {disqualified_mqls}"
    );
    assert!(
        within_5_min > 10 && over_2_weeks > 10,
        "{within_5_min} {over_2_weeks}"
    );

    let count = |typ: &str, status: &str| {
        opps.iter()
            .filter(|o| o["type"] == typ && o["status"] == status)
            .count()
    };
    for typ in ["new_business", "expansion", "renewal"] {
        for status in ["won", "lost", "open"] {
            assert!(count(typ, status) > 0, "no {status} {typ} deal");
        }
    }
    let no_lead = opps.iter().filter(|o| o["lead_id"].is_empty()).count();
    let no_lead_new = opps
        .iter()
        .filter(|o| o["lead_id"].is_empty() && o["type"] == "new_business")
        .count();
    let mut per_lead: HashMap<&str, usize> = HashMap::new();
    for o in opps.iter().filter(|o| has(o, "lead_id")) {
        *per_lead.entry(&o["lead_id"]).or_default() += 1;
    }
    let two_opps = per_lead.values().filter(|n| **n >= 2).count();
    assert!(no_lead > 20 && no_lead_new > 5, "{no_lead} {no_lead_new}");
    assert!(two_opps > 5, "leads with two opportunities: {two_opps}");
    // Closed deals have close dates, open ones do not; losses have reasons.
    for o in &opps {
        assert_eq!(o["status"] != "open", has(o, "close_date"), "{o:?}");
        assert_eq!(o["status"] == "lost", has(o, "loss_reason"), "{o:?}");
    }
    let reasons: HashSet<&str> = opps.iter().map(|o| o["loss_reason"].as_str()).collect();
    for r in [
        "Not a fit",
        "No budget",
        "Lost to competitor",
        "Timing",
        "No decision",
    ] {
        assert!(reasons.contains(r), "no loss reason {r}");
    }

    // Revenue: months are first days; churned accounts (active, then
    // absent in the last month), reactivated ones (a gap), expansion and
    // contraction (MRR up and down between consecutive months).
    let mut months: Vec<&str> = revenue.iter().map(|r| r["month"].as_str()).collect();
    months.sort();
    months.dedup();
    assert!(months.iter().all(|m| m.ends_with("-01")));
    let last = *months.last().unwrap();
    let mut by_acct: HashMap<&str, Vec<(usize, f64)>> = HashMap::new();
    for r in &revenue {
        let i = months.binary_search(&r["month"].as_str()).unwrap();
        let mrr: f64 = r["mrr"].parse().unwrap();
        assert!(mrr > 0.0);
        by_acct.entry(&r["account_id"]).or_default().push((i, mrr));
    }
    let last_i = months.binary_search(&last).unwrap();
    let churned = by_acct
        .values()
        .filter(|v| v.iter().all(|(i, _)| *i < last_i))
        .count();
    let reactivated = by_acct
        .values()
        .filter(|v| v.windows(2).any(|w| w[1].0 > w[0].0 + 1))
        .count();
    let up = by_acct
        .values()
        .filter(|v| v.windows(2).any(|w| w[1].1 > w[0].1))
        .count();
    let down = by_acct
        .values()
        .filter(|v| v.windows(2).any(|w| w[1].1 < w[0].1))
        .count();
    assert!(churned > 5, "churned accounts: {churned}");
    assert!(reactivated > 0, "reactivated accounts: {reactivated}");
    assert!(up > 5 && down > 5, "expansion {up} contraction {down}");

    // Campaigns: paid channels only, organic/referral/outbound spend nothing.
    let spend_channels: HashSet<&str> = campaigns.iter().map(|c| c["channel"].as_str()).collect();
    let expected: HashSet<&str> = ["Paid Search", "Paid Social", "Events", "Webinar"].into();
    assert_eq!(spend_channels, expected);
    let lead_channels: HashSet<&str> = leads.iter().map(|l| l["channel"].as_str()).collect();
    for c in CHANNELS.iter() {
        assert!(lead_channels.contains(c.name), "no lead from {}", c.name);
    }
    // Growth: the last 6 months hold more leads than the first 6.
    let early = leads
        .iter()
        .filter(|l| l["created_at"].as_str() < "2023-07")
        .count();
    let late = leads
        .iter()
        .filter(|l| l["created_at"].as_str() >= "2024-07")
        .count();
    assert!(
        late as f64 > 1.5 * early as f64,
        "early {early} late {late}"
    );
}

/// Paid Social: most MQLs, fewest wins per MQL. Events: slowest follow-up
/// and most MQLs never contacted.
#[test]
fn channels_differ_in_quality() {
    let (d, _) = gen(&opts(20_000, 5, Headers::Canonical));
    let leads = parse(&d.leads);
    let opps = parse(&d.opportunities);
    let won_leads: HashSet<&str> = opps
        .iter()
        .filter(|o| o["type"] == "new_business" && o["status"] == "won")
        .map(|o| o["lead_id"].as_str())
        .collect();
    let mut mqls: HashMap<&str, f64> = HashMap::new();
    let mut wins: HashMap<&str, f64> = HashMap::new();
    let mut never: HashMap<&str, f64> = HashMap::new();
    let mut resp: HashMap<&str, Vec<i64>> = HashMap::new();
    for l in leads.iter().filter(|l| !l["mql_at"].is_empty()) {
        let ch = l["channel"].as_str();
        *mqls.entry(ch).or_default() += 1.0;
        if won_leads.contains(l["lead_id"].as_str()) {
            *wins.entry(ch).or_default() += 1.0;
        }
        if l["first_contact_at"].is_empty() {
            if l["sal_at"].is_empty() && l["sql_at"].is_empty() {
                *never.entry(ch).or_default() += 1.0;
            }
        } else {
            let m = (ts(&l["first_contact_at"]) - ts(&l["mql_at"]))
                .num_minutes()
                .max(0);
            resp.entry(ch).or_default().push(m);
        }
    }
    let inbound = [
        "Paid Search",
        "Organic Search",
        "Paid Social",
        "Events",
        "Referral",
        "Webinar",
    ];
    let most_mqls = inbound
        .iter()
        .max_by(|a, b| mqls[*a].total_cmp(&mqls[*b]))
        .unwrap();
    let rate = |c: &str| wins.get(c).copied().unwrap_or(0.0) / mqls[c];
    let worst_win = inbound
        .iter()
        .min_by(|a, b| rate(a).total_cmp(&rate(b)))
        .unwrap();
    assert_eq!(*most_mqls, "Paid Social");
    assert_eq!(*worst_win, "Paid Social");
    let never_share = |c: &str| never.get(c).copied().unwrap_or(0.0) / mqls[c];
    let median = |c: &str| {
        let mut v = resp[c].clone();
        v.sort();
        v[v.len() / 2]
    };
    let most_neglected = inbound
        .iter()
        .max_by(|a, b| never_share(a).total_cmp(&never_share(b)))
        .unwrap();
    let slowest = inbound.iter().max_by_key(|c| median(c)).unwrap();
    assert_eq!(*most_neglected, "Events");
    assert_eq!(*slowest, "Events");
    assert!(
        median("Events") > 24 * 60,
        "Events median response {} min",
        median("Events")
    );
}

/// Salesforce and HubSpot files hold the same values as the canonical ones:
/// only header names, stage/type text and date formats differ.
#[test]
fn header_styles_carry_the_same_information() {
    let (canon, _) = gen(&opts(1500, 21, Headers::Canonical));
    for (style, vendor, dt_fmt, d_fmt) in [
        (
            Headers::Salesforce,
            "salesforce",
            "%m/%d/%Y %I:%M %p",
            "%m/%d/%Y",
        ),
        (Headers::Hubspot, "hubspot", "%Y-%m-%d %H:%M", "%Y-%m-%d"),
    ] {
        let (other, _) = gen(&opts(1500, 21, style));
        assert_eq!(canon.campaigns, other.campaigns, "{vendor}");
        assert_eq!(canon.revenue, other.revenue, "{vendor}");
        for (table, cols, a, b) in [
            (TableKind::Leads, &LEAD_COLS[..], &canon.leads, &other.leads),
            (
                TableKind::Opportunities,
                &OPP_COLS[..],
                &canon.opportunities,
                &other.opportunities,
            ),
        ] {
            let preset = presets::find(vendor, table).unwrap();
            let (ra, rb) = (parse(a), parse(b));
            assert_eq!(ra.len(), rb.len());
            for (x, y) in ra.iter().zip(&rb) {
                for col in cols.iter().copied() {
                    let cv = x[col].as_str();
                    let Some(h) = preset.header_for(col) else {
                        assert_eq!(col, "status");
                        continue;
                    };
                    let ov = y[h].as_str();
                    match col {
                        "created_at" | "mql_at" | "sal_at" | "sql_at" | "first_contact_at"
                        | "disqualified_at" => {
                            let parsed = (!ov.is_empty())
                                .then(|| NaiveDateTime::parse_from_str(ov, dt_fmt).unwrap());
                            assert_eq!(parsed, (!cv.is_empty()).then(|| ts(cv)), "{vendor} {col}");
                        }
                        "close_date" => {
                            let parsed = (!ov.is_empty())
                                .then(|| NaiveDate::parse_from_str(ov, d_fmt).unwrap());
                            let want = (!cv.is_empty())
                                .then(|| NaiveDate::parse_from_str(cv, "%Y-%m-%d").unwrap());
                            assert_eq!(parsed, want, "{vendor} {col}");
                        }
                        "stage" => {
                            // The raw stage names the status the canonical file states.
                            let status = match ov {
                                "Closed Won" | "closedwon" => "won",
                                "Closed Lost" | "closedlost" => "lost",
                                _ => "open",
                            };
                            assert_eq!(status, x["status"], "{vendor} stage {ov}");
                        }
                        "type" => {
                            let t = match ov {
                                "New Business" => "new_business",
                                "Existing Customer - Upgrade" | "Existing Business" => "expansion",
                                "Renewal" => "renewal",
                                other => panic!("unknown type {other}"),
                            };
                            assert_eq!(t, cv, "{vendor} type");
                        }
                        _ => assert_eq!(ov, cv, "{vendor} {col}"),
                    }
                }
            }
        }
    }
}

#[test]
fn write_dir_is_atomic_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = opts(300, 1, Headers::Canonical);
    let s = write_dir(&o, &out, false).unwrap();
    assert_eq!(s.leads, 300);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "campaigns.csv",
            "leads.csv",
            "opportunities.csv",
            "revenue.csv",
            "targets.csv",
            "touches.csv",
            "truth.csv"
        ]
    );
    let before = std::fs::read(out.join("leads.csv")).unwrap();
    let e = write_dir(&opts(300, 2, Headers::Canonical), &out, false).unwrap_err();
    assert!(e.to_string().contains("--force"), "{e}");
    assert_eq!(std::fs::read(out.join("leads.csv")).unwrap(), before);
    write_dir(&opts(300, 2, Headers::Canonical), &out, true).unwrap();
    assert_ne!(std::fs::read(out.join("leads.csv")).unwrap(), before);
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        7,
        "a temporary file was left"
    );
    // A file where the folder should be.
    let file = dir.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    assert!(write_dir(&o, &file, true).is_err());
}

/// SHA-256 (first 16 hex digits) of each of the four tables, for options
/// covering every header style, a mid-month start and the built-in set.
fn old_table_hashes() -> Vec<String> {
    use sha2::{Digest, Sha256};
    let mut mid = opts(3001, 3, Headers::Canonical);
    mid.start = NaiveDate::from_ymd_opt(2023, 1, 15).unwrap();
    mid.months = 7;
    let cases = [
        builtin_options(),
        opts(2000, 7, Headers::Canonical),
        opts(1500, 21, Headers::Salesforce),
        opts(1500, 21, Headers::Hubspot),
        mid,
    ];
    let mut out = Vec::new();
    for o in &cases {
        let (d, _) = gen(o);
        let tables = [&d.leads, &d.opportunities, &d.campaigns, &d.revenue];
        let hex: Vec<String> = tables
            .iter()
            .map(|t| {
                let h = Sha256::digest(t.as_slice());
                h.iter().take(8).map(|b| format!("{b:02x}")).collect()
            })
            .collect();
        out.push(hex.join(" "));
    }
    out
}

/// The four tables are byte-identical to the generator before touches were
/// added (hashes taken from the pre-change build): touches draw from their
/// own streams and never from the lead, campaign or account streams.
#[test]
fn four_tables_unchanged_by_touches() {
    assert_eq!(
        old_table_hashes(),
        [
            "002a92972fe4bede 79417e0caca1d7db a3450292914e655c 9d06f22066b64994",
            "5ca17804e776eede c471fa5c3a8ba46f c1a3d2d183dc73c6 d9950e9290f1dec1",
            "eb45714b8cfd6d62 00406875ee484408 046f590ed19c27c4 4b6fb548d4f4228d",
            "3fd8d2c2b28ec4d9 89624f85268a3327 046f590ed19c27c4 4b6fb548d4f4228d",
            "333e6607d5a93b55 14fdbca45be3c694 2d8783d8bd8e868e a97daf7e51b9dde1",
        ]
    );
}

// ------------------------------------------------------------------ touches

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
