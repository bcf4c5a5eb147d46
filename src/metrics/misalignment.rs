//! misalignment metrics (docs/metrics.md).
