//! Output formats and atomic file writes.

pub mod misalignment;
