//! Command-line definitions (clap derive) and nothing else: `settings` turns
//! these into resolved settings, the commands never read clap types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "revcycle",
    version,
    about = "Revenue-cycle analytics from CRM and ad exports: one set of KPIs for marketing and sales",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    /// Print nothing but errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The shared KPI scorecard, by period
    Kpis(AnalysisCmd),
    /// The cohort funnel, stage by stage
    Funnel(AnalysisCmd),
    /// Revenue-cycle metrics and funnel versus cycle
    Cycle(AnalysisCmd),
    /// What sales and marketing misalignment costs, and the alignment score
    Misalignment(AnalysisCmd),
    /// Every table as CSV plus summary.md and manifest.json, into a folder
    Report(ReportCmd),
    /// KPI threshold rules for CI: exit 1 when a rule fails
    Check(CheckCmd),
    /// Data-quality report of the inputs and which metrics they support
    Validate(ValidateCmd),
    /// Write a realistic, seeded sample data set
    Demo(DemoCmd),
    /// Write a commented revcycle.toml, pre-filled from input files
    Init(InitCmd),
}

/// Where the data comes from; shared by every command that reads inputs.
#[derive(Debug, Args, Clone, Default)]
pub struct InputArgs {
    /// Folder holding leads.*, opportunities.*, campaigns.*, revenue.*
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Leads export (CSV, .csv.gz, Parquet, NDJSON; - for standard input)
    #[arg(long, value_name = "FILE")]
    pub leads: Option<PathBuf>,

    /// Opportunities / deals export
    #[arg(long, value_name = "FILE")]
    pub opportunities: Option<PathBuf>,

    /// Campaign spend export; repeat to add several ad platforms up
    #[arg(long, value_name = "FILE")]
    pub campaigns: Vec<PathBuf>,

    /// MRR per account per month (billing export)
    #[arg(long, value_name = "FILE")]
    pub revenue: Option<PathBuf>,

    /// Use the sample data set built into the binary
    #[arg(long)]
    pub demo: bool,

    /// Configuration file [default: ./revcycle.toml when present]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The instant the analysis looks from [default: latest timestamp in the inputs]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct PeriodArgs {
    /// Reporting period
    #[arg(long, value_enum)]
    pub period: Option<PeriodArg>,

    /// First reported period: the one holding DATE
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,

    /// Last reported period: the one holding DATE
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,

    /// Split every metric by a dimension
    #[arg(long, value_enum)]
    pub by: Option<ByArg>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct OutputArgs {
    /// Output format [default: from the extension of -o FILE (.csv, .json,
    /// .ndjson/.jsonl, .md), else table]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Write to FILE instead of standard output (atomically); its extension
    /// sets the format unless --format is given
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct AnalysisCmd {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ReportCmd {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Output folder; strftime patterns allowed (reports/%Y-%m-%d)
    #[arg(long, value_name = "DIR")]
    pub out: String,
    /// Replace DIR when it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct CheckCmd {
    /// Rules file (TOML)
    #[arg(value_name = "RULES")]
    pub rules: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    /// Reporting period the rules look at
    #[arg(long, value_enum)]
    pub period: Option<PeriodArg>,
    /// Write JUnit XML (one testcase per rule)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ValidateCmd {
    #[command(flatten)]
    pub input: InputArgs,
    /// Exit 1 when an error-level finding is reported
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct DemoCmd {
    /// Folder to write leads, opportunities, campaigns and revenue into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of leads
    #[arg(long = "leads", value_name = "N", default_value_t = 5000)]
    pub leads: u64,
    /// Random seed: the same seed writes the same bytes
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Months of history
    #[arg(long, default_value_t = 24)]
    pub months: u32,
    /// First day of the data (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", default_value = "2023-01-01")]
    pub start: String,
    /// Header style of leads.csv and opportunities.csv (campaigns.csv and
    /// revenue.csv always have canonical headers)
    #[arg(long, value_enum, default_value_t = HeadersArg::Canonical)]
    pub headers: HeadersArg,
    /// Overwrite files in DIR
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct InitCmd {
    #[command(flatten)]
    pub input: InputArgs,
    /// Where to write the configuration
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "revcycle.toml"
    )]
    pub output: PathBuf,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum PeriodArg {
    Week,
    Month,
    Quarter,
    Year,
    All,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ByArg {
    Channel,
    Segment,
    Owner,
    Campaign,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum FormatArg {
    #[default]
    Table,
    Csv,
    Json,
    /// One JSON object per row, one per line
    Ndjson,
    Markdown,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum HeadersArg {
    Canonical,
    Salesforce,
    Hubspot,
}
