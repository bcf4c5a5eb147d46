//! kpis metrics (docs/metrics.md).
