//! `report.html`: one self-contained page (no URL, no script), every section
//! present, known values of fixtures/cycle drawn where they belong, a section
//! whose input is absent saying which input would fill it, and `--open`.
//! The page in a real browser: `browser_renders_the_demo_page` (ignored
//! without Chromium).

use std::path::{Path, PathBuf};

use crate::util::{fixture, run, show};

fn report(args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r");
    let mut all = vec!["report", "--out", out.to_str().unwrap(), "-q"];
    all.extend_from_slice(args);
    let o = run(&all);
    assert!(o.status.success(), "{}", show(&all, &o));
    (d, out)
}

fn page(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("report.html")).unwrap()
}

/// The text between `<section id="ID">` and its `</section>`.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no section {id}"));
    let end = html[start..].find("</section>").unwrap() + start;
    &html[start..end]
}

#[test]
fn the_page_is_self_contained_with_every_section() {
    let (_d, out) = report(&["--demo"]);
    let html = page(&out);
    assert!(html.starts_with("<!doctype html>"));
    // Nothing to fetch: no URL of any scheme, no script, no external style.
    for banned in ["http:", "https:", "//cdn", "<script", "<link", "@import", "url(", "src="] {
        assert!(!html.contains(banned), "report.html contains {banned:?}");
    }
    for id in ["kpis", "funnel", "bowtie", "mrr", "retention", "misalignment", "quality"] {
        let s = section(&html, id);
        assert!(s.contains("<p class=\"reading\">"), "section {id} has no reading sentence");
    }
    // Printable: sections break pages; readable on a phone: a viewport.
    assert!(html.contains("@media print{"));
    assert!(html.contains("break-before:page"));
    assert!(html.contains("name=\"viewport\""));
}

/// fixtures/cycle at as_of 2024-04-15 (fixtures/cycle/EXPECTED.md): the
/// latest complete month is 2024-03. Its MRR bridge: starting 430, new 60
/// (A3 back), expansion 0, contraction 0, churned 30 (A6), ending 460; MRR
/// grew (460 - 430) / 430 = 6.98% -> "7.0%"; gains 60 + 0, losses 0 + 30.
/// Retention: cohorts 2023-11 (4 accounts: 380, 380, 250, 300, 330, 330),
/// 2024-01 (A4: 80, 80, 80, 0) and 2024-02 (A5: 50, 50, 70) give 6 + 4 + 3
/// cells: 100%, 100%, 66%, 79%, 87%, 87%; 100%, 100%, 100%, 0%; 100%, 100%,
/// 140% (seven cells read 100%). The reading takes the furthest month at
/// least half the cohorts reach: month 3 (2023-11 at 300/380 and 2024-01 at
/// 0), mean 39.5% -> "39%".
#[test]
fn known_values_of_the_cycle_fixture() {
    let dir = fixture("cycle");
    let (_d, out) = report(&[dir.to_str().unwrap(), "--as-of", "2024-04-15"]);
    let html = page(&out);

    let mrr = section(&html, "mrr");
    assert!(
        mrr.contains("MRR grew 7.0% in the month of 2024-03-01: 60 new and expansion against 30 contracted and churned."),
        "{mrr}"
    );
    let waterfall = &mrr[mrr.find("<svg").unwrap()..mrr.find("</svg>").unwrap()];
    assert_eq!(waterfall.matches("<rect class=\"bar\"").count(), 6, "{waterfall}");
    for text in [">430</text>", ">+60</text>", ">+0</text>", ">−0</text>", ">−30</text>", ">460</text>"] {
        assert!(waterfall.contains(text), "no {text} in {waterfall}");
    }

    let ret = section(&html, "retention");
    assert_eq!(ret.matches("<rect class=\"cell\"").count(), 13, "{ret}");
    for (label, n) in [(">100%</text>", 7), (">66%</text>", 1), (">79%</text>", 1), (">87%</text>", 2), (">0%</text>", 1), (">140%</text>", 1)] {
        assert_eq!(ret.matches(label).count(), n, "{label} in {ret}");
    }
    assert!(ret.contains("3 months after their first month, accounts bring 39% of their first month"), "{ret}");
    for row in [">2023-11 (4)</text>", ">2024-01 (1)</text>", ">2024-02 (1)</text>"] {
        assert!(ret.contains(row), "no {row}");
    }

    // The bow tie is the same month: 2024-03 MRR from 430 to 460.
    let bow = section(&html, "bowtie");
    assert!(bow.contains("MRR went from 430 to 460"), "{bow}");
    assert_eq!(bow.matches("<rect class=\"bar\"").count(), 5 + 6);
}

#[test]
fn a_section_without_its_input_says_which_input_would_fill_it() {
    let dir = fixture("basic");
    let (_d, out) = report(&[dir.to_str().unwrap()]);
    let html = page(&out);
    for id in ["mrr", "retention"] {
        let s = section(&html, id);
        assert!(s.contains("class=\"absent\""), "{s}");
        assert!(s.contains("needs a revenue table"), "{s}");
        assert!(!s.contains("<svg"), "no empty chart: {s}");
    }
}

#[test]
fn open_hands_the_page_to_the_browser() {
    let d = tempfile::tempdir().unwrap();
    let seen = d.path().join("seen.txt");
    let browser = d.path().join("browser.sh");
    std::fs::write(&browser, format!("#!/bin/sh\necho \"$1\" > '{}'\n", seen.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = d.path().join("r");
    let args = ["report", "--demo", "--out", out.to_str().unwrap(), "--open", "-q"];
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_revcycle"))
        .args(args)
        .env("BROWSER", &browser)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&args, &o));
    // The browser runs on its own; give it a moment.
    for _ in 0..50 {
        if seen.is_file() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let got = std::fs::read_to_string(&seen).expect("the browser was started");
    assert_eq!(got.trim(), out.join("report.html").to_str().unwrap());
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|b| d.join(b)))
        .find(|p| p.is_file())
        .expect("chromium on PATH (this test is ignored when build.rs did not find it)")
}

/// Loads `report.html` in an iframe `width` pixels wide inside a harness page
/// (the report itself has no script) and returns what the harness measured:
/// `{"scrollWidth", "clientWidth", "height", "sections"}` as text, plus the
/// browser's console lines.
fn measure(dir: &Path, width: u32) -> (String, String) {
    let harness = dir.join(format!("harness-{width}.html"));
    std::fs::write(
        &harness,
        format!(
            r#"<!doctype html><html><body style="margin:0">
<iframe id="f" src="report.html" style="width:{width}px;height:900px;border:0"></iframe>
<script>
document.getElementById('f').onload = function () {{
  var d = this.contentDocument, e = d.documentElement;
  var r = {{scrollWidth: e.scrollWidth, clientWidth: e.clientWidth, height: e.scrollHeight,
           sections: Array.prototype.map.call(d.querySelectorAll('section'), function (s) {{ return s.id; }})}};
  document.body.setAttribute('data-result', JSON.stringify(r));
}};
</script></body></html>"#
        ),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--allow-file-access-from-files",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", harness.display()))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&o.stdout).to_string();
    let start = dom.find("data-result=\"").expect("the harness measured the page") + 13;
    let end = dom[start..].find('"').unwrap() + start;
    let result = dom[start..end].replace("&quot;", "\"");
    let console: String = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.contains("CONSOLE"))
        .collect::<Vec<_>>()
        .join("\n");
    (result, console)
}

fn number(json: &str, key: &str) -> f64 {
    let at = json.find(&format!("\"{key}\":")).unwrap() + key.len() + 3;
    let end = json[at..].find([',', '}']).unwrap() + at;
    json[at..end].parse().unwrap()
}

#[test]
#[cfg_attr(not(has_chromium), ignore = "needs chromium on PATH (apt-get install chromium)")]
fn browser_renders_the_demo_page() {
    let (_d, out) = report(&["--demo"]);
    for width in [1280, 390] {
        let (r, console) = measure(&out, width);
        assert!(console.is_empty(), "console messages at {width} px:\n{console}");
        assert!(
            r.contains(r#""sections":["kpis","funnel","bowtie","mrr","retention","misalignment","attribution","quality"]"#),
            "{r}"
        );
        // No horizontal scroll, on a phone too.
        assert!(number(&r, "scrollWidth") <= number(&r, "clientWidth"), "horizontal scroll at {width} px: {r}");
        // A sane length: the sections are there, and nothing blew up in size.
        let h = number(&r, "height");
        assert!((1500.0..12000.0).contains(&h), "page height {h} at {width} px");
    }
}

/// With targets, the page has a plan section: the verdicts of
/// `plan --demo` (docs/demo.md: Q1 2025 marketing's 480 MQLs cover about 91%
/// of what sales' 1.45M quota needs) and the waterfall rows.
#[test]
fn targets_add_the_plan_section() {
    let d = tempfile::tempdir().unwrap();
    let targets = d.path().join("targets.csv");
    std::fs::write(&targets, revcycle::demo::builtin_targets()).unwrap();
    let (_r, out) = report(&["--demo", "--targets", targets.to_str().unwrap()]);
    let html = page(&out);
    let plan = section(&html, "plan");
    assert!(plan.contains("sales&#39; Q1 2025 target of 1.45M new_bookings needs 526 MQLs"), "{plan}");
    assert!(plan.contains("91% coverage"), "{plan}");
    assert!(plan.contains("Goal alignment score"), "{plan}");
    assert!(plan.contains("<th class=\"t\">stage</th>"), "{plan}");
    // Without targets there is no plan section.
    let (_r2, out2) = report(&["--demo"]);
    assert!(!page(&out2).contains("<section id=\"plan\">"));
}
