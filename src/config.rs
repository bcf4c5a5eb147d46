//! revcycle.toml.
