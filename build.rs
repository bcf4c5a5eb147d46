//! Tests that read the real public exports in `../shared/datasets` are
//! compiled as `#[ignore]`d (visibly, with the reason) when the folder is not
//! beside the clone; see `tests/integration/datasets.rs`.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_datasets)");
    println!("cargo::rerun-if-changed=build.rs");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets");
    if dir.is_dir() {
        println!("cargo::rustc-cfg=has_datasets");
        // Noticed when the folder goes away (or is replaced).
        println!("cargo::rerun-if-changed={}", dir.display());
    }
}
