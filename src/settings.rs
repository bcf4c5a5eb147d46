//! Resolved settings for the analysis commands: CLI flags merged over
//! `revcycle.toml` over defaults. Metrics read these plain structs, never clap types.

use crate::periods::PeriodKind;

/// A dimension to split metrics by (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    Channel,
    Segment,
    Owner,
    Campaign,
}

impl Dimension {
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Channel => "channel",
            Dimension::Segment => "segment",
            Dimension::Owner => "owner",
            Dimension::Campaign => "campaign",
        }
    }

    /// The canonical column holding this dimension.
    pub fn column(self) -> &'static str {
        match self {
            Dimension::Campaign => "campaign_id",
            d => d.name(),
        }
    }
}

/// The label of rows with no value for the `--by` dimension.
pub const NONE_GROUP: &str = "(none)";

/// Everything a metric computation needs besides the data.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub period: PeriodKind,
    /// 1..=12, first month of the fiscal year (quarter and year periods).
    pub fiscal_year_start: u32,
    /// Report periods overlapping [from, to] (microseconds, UTC), when given.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub by: Option<Dimension>,
    /// Days after which an untouched MQL counts as not followed up (default 7).
    pub sla_days: f64,
    /// Gross margin for LTV and CAC payback (default 0.8).
    pub gross_margin: f64,
    /// Sales cost per period added to marketing spend in CAC (default 0).
    pub sales_cost: f64,
    /// Smallest response-time bucket used as the base (default 30).
    pub min_sample: u64,
    /// Loss reasons (lower case substrings) that mark a misfit deal.
    pub misfit_reasons: Vec<String>,
    /// Published uplift of aligned teams (default 0.34).
    pub uplift: f64,
    /// Upper bounds of the response-time buckets in hours (default 1, 24, 72).
    pub response_buckets_hours: Vec<f64>,
    /// Currency label for tables ("USD", "$", "EUR"...), empty for none.
    pub currency: String,
}

impl Default for Analysis {
    fn default() -> Self {
        Analysis {
            period: PeriodKind::Month,
            fiscal_year_start: 1,
            from: None,
            to: None,
            by: None,
            sla_days: 7.0,
            gross_margin: 0.8,
            sales_cost: 0.0,
            min_sample: 30,
            misfit_reasons: [
                "not a fit",
                "bad fit",
                "poor fit",
                "persona",
                "unqualified",
                "no need",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            uplift: 0.34,
            response_buckets_hours: vec![1.0, 24.0, 72.0],
            currency: String::new(),
        }
    }
}
