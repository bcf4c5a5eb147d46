//! cycle metrics (docs/metrics.md).
