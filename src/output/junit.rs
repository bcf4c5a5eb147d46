//! JUnit XML for CI: one testsuite, one testcase per check; `<failure>` on a
//! failed check, `<error>` when it could not be evaluated. The command builds
//! the [`Case`]s; this only writes them.

use std::fmt::Write as _;

/// How one case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Failure,
    Error,
}

/// One testcase.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub class: String,
    pub verdict: Verdict,
    /// The `message` attribute of `<failure>`/`<error>`.
    pub message: String,
    /// The `type` attribute of `<failure>`/`<error>`.
    pub kind: String,
    /// The element's text.
    pub detail: String,
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// The document: `<testsuites name="{suites}">` holding one `<testsuite
/// name="{suite}">` of `cases`.
pub fn junit(suites: &str, suite: &str, cases: &[Case]) -> String {
    let count = |v: Verdict| cases.iter().filter(|c| c.verdict == v).count();
    let (n, f, e) = (cases.len(), count(Verdict::Failure), count(Verdict::Error));
    let suites = xml_escape(suites);
    let suite = xml_escape(suite);
    let mut x = String::new();
    let _ = writeln!(x, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        x,
        r#"<testsuites name="{suites}" tests="{n}" failures="{f}" errors="{e}">"#
    );
    let _ = writeln!(
        x,
        r#"  <testsuite name="{suite}" tests="{n}" failures="{f}" errors="{e}" skipped="0">"#
    );
    for c in cases {
        let name = xml_escape(&c.name);
        let class = xml_escape(&c.class);
        let _ = write!(x, r#"    <testcase name="{name}" classname="{class}""#);
        let tag = match c.verdict {
            Verdict::Pass => {
                let _ = writeln!(x, "/>");
                continue;
            }
            Verdict::Failure => "failure",
            Verdict::Error => "error",
        };
        let _ = writeln!(x, ">");
        let _ = writeln!(
            x,
            r#"      <{tag} message="{}" type="{}">{}</{tag}>"#,
            xml_escape(&c.message),
            xml_escape(&c.kind),
            xml_escape(&c.detail)
        );
        let _ = writeln!(x, "    </testcase>");
    }
    let _ = writeln!(x, "  </testsuite>");
    let _ = writeln!(x, "</testsuites>");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_counts() {
        let cases = vec![
            Case {
                name: "a < b & c".into(),
                class: "k".into(),
                verdict: Verdict::Failure,
                message: "x \"y\"".into(),
                kind: "threshold".into(),
                detail: "d".into(),
            },
            Case {
                name: "ok".into(),
                class: "k".into(),
                verdict: Verdict::Pass,
                message: String::new(),
                kind: String::new(),
                detail: String::new(),
            },
        ];
        let x = junit("s", "r.toml", &cases);
        assert!(x.contains(r#"name="a &lt; b &amp; c""#), "{x}");
        assert!(
            x.contains(r#"<failure message="x &quot;y&quot;" type="threshold">d</failure>"#),
            "{x}"
        );
        assert!(x.contains(r#"tests="2" failures="1" errors="0""#), "{x}");
        assert!(x.contains(r#"<testcase name="ok" classname="k"/>"#), "{x}");
    }
}
