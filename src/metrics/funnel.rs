//! funnel metrics (docs/metrics.md).
