//! The import direction of docs/architecture.md, checked on the source: every
//! `crate::…` path in a module's non-test code (the file up to its first
//! inline `#[cfg(test)] mod … {`; `tests.rs` and `testutil*.rs` skipped)
//! must point to its own layer or one below it, and no two modules may
//! import each other (directly or through others). There are no exceptions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util::root;

/// Layers, bottom first: a module may import its own layer and the ones
/// below. `cli` (clap types) sits at the top with `cmd`: nothing below the
/// commands sees a clap type.
fn rank(unit: &str) -> u8 {
    let top = unit.split("::").next().unwrap();
    match top {
        // Below all: the data model, the vendors' header presets, periods,
        // the polars-error idiom, text helpers (suggest, escape_formula), ids
        // matched by sorted hashes and
        // the crate root's helpers (one_line, shown, escape_controls).
        "model" | "presets" | "periods" | "errors" | "text" | "hash" | "ids" | "dict" | "root" => 0,
        "settings" | "config" => 1,
        "input" | "demo" => 2,
        "metrics" => 3,
        "output" => 4,
        "cmd" | "cli" | "main" | "lib" => 5,
        other => panic!("module {other} has no layer: add it to docs/architecture.md and here"),
    }
}

/// A file's code without its inline test module: the text up to the first
/// `#[cfg(test)]` followed by `mod NAME {`. A `#[cfg(test)] mod tests;`
/// declaration does not end the code (what follows it is scanned).
fn non_test_code(text: &str) -> &str {
    let mut from = 0;
    while let Some(i) = text[from..].find("#[cfg(test)]\nmod ") {
        let at = from + i;
        let line_end = text[at + "#[cfg(test)]\n".len()..]
            .find('\n')
            .map_or(text.len(), |e| at + "#[cfg(test)]\n".len() + e);
        if text[at..line_end].trim_end().ends_with('{') {
            return &text[..at];
        }
        from = line_end;
    }
    text
}

/// The unit of a source file: `metrics::kpis`, `output::format`, `config`, ...
fn unit_of(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    match parts.as_slice() {
        [one] => one.clone(),
        [dir, sub, ..] if ["metrics", "output", "input", "cmd"].contains(&dir.as_str()) => {
            format!("{dir}::{sub}")
        }
        [dir, ..] => dir.clone(),
        [] => unreachable!(),
    }
}

fn units_of_path(a: &str, b: Option<&str>) -> String {
    let is_module = |name: &str| {
        let src = root().join("src");
        src.join(format!("{name}.rs")).is_file() || src.join(name).is_dir()
    };
    if !is_module(a) {
        return "root".into();
    }
    match b {
        Some(b) if ["metrics", "output", "input", "cmd"].contains(&a) => {
            let dir = root().join("src").join(a);
            if dir.join(format!("{b}.rs")).is_file() || dir.join(b).is_dir() {
                format!("{a}::{b}")
            } else {
                format!("{a}::mod")
            }
        }
        _ => a.to_string(),
    }
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// unit -> the units it imports (with one example file each).
fn graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = root().join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut g: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for p in all {
        let rel = p.strip_prefix(&src).unwrap().to_path_buf();
        let name = rel.file_name().unwrap().to_string_lossy().to_string();
        if name == "tests.rs" || name.starts_with("testutil") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let code = non_test_code(&text);
        assert!(
            !code.contains("crate::{"),
            "{}: `use crate::{{...}}` hides imports from this check; name each path",
            rel.display()
        );
        let from = unit_of(&rel);
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let seg = |s: &str| -> String {
                s.chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                    .collect()
            };
            let a = seg(rest);
            if a.is_empty() {
                continue;
            }
            let after = &rest[a.len()..];
            let b = after.strip_prefix("::").map(seg).filter(|s| !s.is_empty());
            let to = units_of_path(&a, b.as_deref());
            let to = if to.ends_with("::mod") {
                to[..to.len() - 5].to_string()
            } else {
                to
            };
            if to != from {
                g.entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| rel.display().to_string());
            }
        }
    }
    g
}

fn top(u: &str) -> &str {
    u.split("::").next().unwrap()
}

#[test]
fn no_upward_import() {
    let g = graph();
    let mut bad = Vec::new();
    for (from, tos) in &g {
        for (to, file) in tos {
            if rank(to) > rank(from) {
                bad.push(format!("{file}: {from} imports {to}, a layer above it"));
            }
        }
    }
    assert!(bad.is_empty(), "upward imports:\n{}", bad.join("\n"));
}

#[test]
fn no_import_loop() {
    let g = graph();
    // Loops between units (metrics::common <-> metrics::kpis) and between
    // top-level modules (config <-> input).
    let top_graph: BTreeMap<String, BTreeSet<String>> = {
        let mut t: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, tos) in &g {
            for to in tos.keys() {
                if top(from) != top(to) {
                    t.entry(top(from).to_string())
                        .or_default()
                        .insert(top(to).to_string());
                }
            }
        }
        t
    };
    let unit_graph: BTreeMap<String, BTreeSet<String>> = g
        .iter()
        .map(|(k, v)| (k.clone(), v.keys().cloned().collect()))
        .collect();
    let mut loops = Vec::new();
    for graph in [&unit_graph, &top_graph] {
        for (a, tos) in graph {
            for b in tos {
                if a < b && reaches(graph, b, a) {
                    loops.push(format!("{a} <-> {b}"));
                }
            }
        }
    }
    assert!(loops.is_empty(), "import loops:\n{}", loops.join("\n"));
}

fn reaches(g: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut stack = vec![from.to_string()];
    let mut seen = BTreeSet::new();
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n.clone()) {
            if let Some(next) = g.get(&n) {
                stack.extend(next.iter().cloned());
            }
        }
    }
    false
}

/// The checker itself sees imports (cmd importing metrics, config and demo
/// importing the presets below them), so a broken scan cannot pass silently;
/// and the code it reads ends at an inline test module, not at a
/// `#[cfg(test)] mod tests;` line.
#[test]
fn the_import_scan_sees_imports() {
    let g = graph();
    assert!(g["cmd::kpis"].contains_key("metrics::kpis"), "{g:?}");
    assert!(g["output::bowtie"].contains_key("metrics::cycle"), "{g:?}");
    assert!(g["metrics::kpis"].contains_key("periods"), "{g:?}");
    assert!(g["config"].contains_key("presets"), "{g:?}");
    assert!(g["demo"].contains_key("presets"), "{g:?}");
    assert!(g["input::mod"].contains_key("config"), "{g:?}");
    assert_eq!(rank("cli"), 5);
    assert!(rank("metrics::kpis") > rank("settings"));
    let file = "use a;\n#[cfg(test)]\nmod tests;\nuse b;\n#[cfg(test)]\nmod tests {\nuse c;\n}\n";
    assert_eq!(
        non_test_code(file),
        "use a;\n#[cfg(test)]\nmod tests;\nuse b;\n"
    );
    assert_eq!(non_test_code("use a;\n"), "use a;\n");
}

/// docs/architecture.md names every top-level module of src/.
#[test]
fn architecture_doc_lists_every_module() {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    for e in std::fs::read_dir(root().join("src")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if name == "main" || name == "lib" {
            continue;
        }
        rank(&name);
        assert!(
            doc.contains(&format!("`{name}`")),
            "docs/architecture.md does not list `{name}`"
        );
    }
}
