//! Output formats and atomic file writes.
pub mod bowtie;
