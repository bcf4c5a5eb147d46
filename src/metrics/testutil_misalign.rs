//! Test helpers of the misalignment tests, over the real loader (see `testutil`).

use std::path::Path;

use anyhow::Result;

use crate::model::Dataset;

pub fn ts(s: &str) -> Result<i64> {
    Ok(super::testutil::ts(s))
}

/// The fixture as of its latest timestamp.
pub fn load_dir(dir: &Path) -> Result<Dataset> {
    super::testutil::load_dir(dir, None)
}

pub fn fixture(name: &str) -> Dataset {
    load_dir(&super::testutil::fixture_dir(name)).expect("fixture loads")
}
