//! Test helpers of the cycle tests, over the real loader (see `testutil`).

use std::path::PathBuf;

pub fn parse_ts(s: &str) -> anyhow::Result<i64> {
    Ok(super::testutil::ts(s))
}

pub fn fixture(name: &str) -> PathBuf {
    super::testutil::fixture_dir(name)
}
