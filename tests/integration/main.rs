//! revcycle's integration tests: one test binary (polars links once).

mod util;

mod bad_input;
mod datasets;
mod misalignment;
mod presets;
