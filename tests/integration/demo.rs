//! `revcycle demo` writes files the loader reads back: the canonical frames
//! are identical whichever header style was written.

use revcycle::config::Config;
use revcycle::input::{self, InputSpec};
use revcycle::model::TableKind;

use crate::util::{run, show};

fn load_dir(dir: &std::path::Path) -> revcycle::input::Loaded {
    let spec = InputSpec {
        dir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    input::load(&spec, &Config::default(), None, true).expect("demo files load")
}

#[test]
fn header_styles_load_to_identical_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let mut loaded = Vec::new();
    for style in ["canonical", "salesforce", "hubspot"] {
        let out = tmp.path().join(style);
        let outs = out.to_string_lossy().to_string();
        let args = [
            "demo",
            "--out",
            &outs,
            "--leads",
            "400",
            "--seed",
            "7",
            "--months",
            "6",
            "--headers",
            style,
        ];
        let o = run(&args);
        assert!(o.status.success(), "{}", show(&args, &o));
        let l = load_dir(&out);
        let preset = &l.files.iter().find(|f| f.table == "leads").unwrap().preset;
        assert_eq!(preset, style, "preset detected for {style}");
        loaded.push((style, l));
    }
    let (_, base) = &loaded[0];
    for (style, l) in &loaded[1..] {
        assert_eq!(base.dataset.as_of, l.dataset.as_of, "{style}: as_of");
        for kind in TableKind::ALL {
            let a = &base.dataset.table(kind).unwrap().collect().unwrap();
            let b = &l.dataset.table(kind).unwrap().collect().unwrap();
            assert_eq!(a.height(), b.height(), "{style} {}: rows", kind.name());
            for c in kind.columns() {
                let (ca, cb) = (a.column(c.name).unwrap(), b.column(c.name).unwrap());
                if c.name == "stage" {
                    continue; // raw stage names are the vendor's own
                }
                assert!(
                    ca.as_materialized_series()
                        .equals_missing(cb.as_materialized_series()),
                    "{style} {}.{} differs from canonical",
                    kind.name(),
                    c.name
                );
            }
        }
    }
}

#[test]
fn same_seed_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for run_no in 0..2 {
        let out = tmp.path().join(format!("r{run_no}"));
        let outs = out.to_string_lossy().to_string();
        let args = [
            "demo", "--out", &outs, "--leads", "300", "--seed", "11", "--months", "4",
        ];
        let o = run(&args);
        assert!(o.status.success(), "{}", show(&args, &o));
        let mut files = Vec::new();
        for name in ["leads.csv", "touches.csv", "truth.csv"] {
            files.push(std::fs::read(out.join(name)).unwrap());
        }
        bytes.push(files);
    }
    assert_eq!(bytes[0], bytes[1]);
}

/// `revcycle demo --out DIR` writes the touches and the truth beside the
/// four tables; the truth names every touch channel once and its shares add
/// up to 1; `--force` is needed to write over any of the six files.
#[test]
fn demo_writes_touches_and_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let outs = out.to_string_lossy().to_string();
    let args = ["demo", "--out", &outs, "--leads", "3000", "--seed", "5"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(" touches and the truth ("), "{stderr}");
    let touches = std::fs::read_to_string(out.join("touches.csv")).unwrap();
    assert!(
        touches.starts_with("lead_id,touched_at,channel,campaign_id,touch_type,source,medium\n"),
        "{}",
        &touches[..80]
    );
    let rows = touches.lines().count() - 1;
    assert!(
        (3000 * 37 / 10..3000 * 43 / 10).contains(&rows),
        "{rows} touches"
    );
    let truth = std::fs::read_to_string(out.join("truth.csv")).unwrap();
    let mut lines = truth.lines();
    assert_eq!(lines.next(), Some("channel,conversions_lost,share"));
    let mut channels = Vec::new();
    let mut share = 0.0;
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 3, "{l}");
        f[1].parse::<u64>().unwrap();
        share += f[2].parse::<f64>().unwrap();
        channels.push(f[0].to_string());
    }
    channels.sort();
    assert_eq!(
        channels,
        [
            "Brand Search",
            "Direct",
            "Email",
            "Events",
            "Organic Search",
            "Outbound",
            "Paid Search",
            "Paid Social",
            "Referral",
            "Webinar"
        ]
    );
    assert!((share - 1.0).abs() < 1e-5, "{share}");
    std::fs::remove_file(out.join("leads.csv")).unwrap();
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("touches.csv, truth.csv; use --force"),
        "{stderr}"
    );
}

/// `demo --out` writes targets.csv: with the built-in options it is exactly
/// the built-in targets `plan --demo` reads (data 2023-01 .. 2024-12: the
/// quarter of the last day is 2024-10-01, the next 2025-01-01); with
/// `--rows 10000` every volume doubles (10,000 / 5,000) and the plan reads it.
#[test]
fn demo_writes_targets_plan_can_read() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("d");
    let outs = out.to_string_lossy().to_string();
    let args = ["demo", "--out", &outs, "-q"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    assert_eq!(
        std::fs::read_to_string(out.join("targets.csv")).unwrap(),
        revcycle::demo::builtin_targets()
    );
    let args = ["demo", "--out", &outs, "--rows", "10000", "--months", "18", "--force", "-q"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    // 18 months from 2023-01-01: the last day is 2024-06-30 (Q2 2024).
    assert_eq!(
        std::fs::read_to_string(out.join("targets.csv")).unwrap(),
        "period,metric,target,owner\n2024-04-01,mqls,900,marketing\n2024-04-01,won_deals,120,sales\n2024-07-01,mqls,960,marketing\n2024-07-01,new_bookings,2900000,sales\n"
    );
    let targets = out.join("targets.csv");
    let args = ["plan", &outs, "--targets", targets.to_str().unwrap(), "--format", "csv", "-q"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    // targets.csv, touches.csv and truth.csv beside the tables are revcycle's
    // own files: reading the folder names none of them as an unread export.
    let args = ["kpis", &outs, "--format", "csv"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("was not read"), "{}", show(&args, &o));
    // Without --force an existing targets.csv is refused like the tables.
    let args = ["demo", "--out", &outs, "-q"];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
}
