//! Output formats and atomic file writes.
