//! Tests that need something a fresh clone may lack are compiled as
//! `#[ignore]`d (visibly, with the reason) when it is missing: the real
//! public exports in `../shared/datasets` (`has_datasets`, see
//! `tests/integration/datasets.rs`) and a headless Chromium (`has_chromium`,
//! see `tests/integration/report_html.rs`).

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_datasets)");
    println!("cargo::rustc-check-cfg=cfg(has_chromium)");
    println!("cargo::rerun-if-env-changed=PATH");
    if let Some(path) = std::env::var_os("PATH") {
        let found = std::env::split_paths(&path).any(|d| {
            ["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .any(|b| d.join(b).is_file())
        });
        if found {
            println!("cargo::rustc-cfg=has_chromium");
        }
    }
    println!("cargo::rerun-if-changed=build.rs");
    // The manifest folder of *this* build (read when the script runs, not
    // when it was compiled: a shared build folder serves several clones).
    let root = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    let dir = Path::new(&root).join("../shared/datasets");
    if dir.is_dir() {
        println!("cargo::rustc-cfg=has_datasets");
    }
    // Noticed when the folder appears, goes away or is replaced (a path that
    // does not exist makes the script run again on every build: cheap).
    println!("cargo::rerun-if-changed={}", dir.display());
}
