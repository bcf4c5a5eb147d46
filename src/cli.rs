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

    /// Spill the tables to Parquet files while loading (out-of-core, for
    /// inputs larger than memory) [default: auto: when the input files
    /// total more than a quarter of the machine's memory; env
    /// REVCYCLE_SPILL]
    #[arg(long, global = true, value_name = "WHEN", value_enum)]
    pub spill: Option<SpillWhen>,

    /// Folder for the spilled tables' temporary files (removed when the
    /// run ends) [default: $TMPDIR, else /tmp]
    #[arg(long, global = true, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// `--spill` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpillWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The shared KPI scorecard, by period
    #[command(after_help = "Examples:
  revcycle kpis --demo
  revcycle kpis exports/ --period quarter --by channel
  revcycle kpis --leads leads.csv --opportunities opps.csv --format csv -o kpis.csv")]
    Kpis(AnalysisCmd),
    /// The cohort funnel, stage by stage
    #[command(after_help = "Examples:
  revcycle funnel --demo
  revcycle funnel exports/ --period quarter --from 2024-01-01
  revcycle funnel exports/ --by channel --format json")]
    Funnel(AnalysisCmd),
    /// Revenue-cycle metrics and funnel versus cycle
    #[command(after_help = "Examples:
  revcycle cycle --demo
  revcycle cycle exports/ --revenue billing/mrr.csv --period quarter")]
    Cycle(AnalysisCmd),
    /// What sales and marketing misalignment costs, and the alignment score
    #[command(after_help = "Examples:
  revcycle misalignment --demo
  revcycle misalignment exports/ --by channel
  revcycle misalignment exports/ --from 2024-01-01 --format json")]
    Misalignment(AnalysisCmd),
    /// Multi-touch attribution: credit per channel or campaign under eight models, joined to spend
    #[command(after_help = "Examples:
  revcycle attribution --demo --truth
  revcycle attribution exports/ --touches touches.csv --model markov,shapley
  revcycle attribution exports/ --credit opportunity --by campaign --period quarter --format csv")]
    Attribution(AttributionCmd),
    /// Every table as CSV plus summary.md and manifest.json, into a folder
    #[command(after_help = "Examples:
  revcycle report --demo --out weekly-report
  revcycle report exports/ --out 'reports/%Y-%m-%d' --period week
  revcycle report exports/ --out latest --force -q")]
    Report(ReportCmd),
    /// KPI threshold rules for CI: exit 1 when a rule fails
    #[command(after_help = "Examples:
  revcycle check examples/rules.toml --demo
  revcycle check rules.toml exports/ --junit check.xml

Exit codes: 0 every rule passed, 1 a rule failed, 2 a rule could not be evaluated.")]
    Check(CheckCmd),
    /// Shared goals: the reverse waterfall of targets, whether teams' targets add up, pacing
    #[command(after_help = "Examples:
  revcycle plan --demo
  revcycle plan exports/ --targets targets.csv
  revcycle plan exports/ --bookings 1500000 --mqls 2000 --for 2025-04-01")]
    Plan(PlanCmd),
    /// Data-quality report of the inputs and which metrics they support
    #[command(after_help = "Examples:
  revcycle validate exports/
  revcycle validate --config revcycle.toml --strict
  revcycle validate exports/ --format csv -o findings.csv")]
    Validate(ValidateCmd),
    /// Write a realistic, seeded sample data set
    #[command(after_help = "Examples:
  revcycle demo --out demo-data
  revcycle demo --out big --rows 1000000 --seed 7
  revcycle demo --out sf --headers salesforce")]
    Demo(DemoCmd),
    /// Write a commented revcycle.toml, pre-filled from input files
    #[command(after_help = "Examples:
  revcycle init
  revcycle init --leads leads.csv --opportunities opps.csv
  revcycle init exports/ -o exports/revcycle.toml --force")]
    Init(InitCmd),
    /// Every metric id with its kind, table, command, needed inputs and formula
    #[command(after_help = "Examples:
  revcycle metrics
  revcycle metrics --format csv -o metrics.csv
  revcycle metrics --format json")]
    Metrics(MetricsCmd),
    /// Shell completions (bash, zsh, fish, powershell, elvish) on standard output
    #[command(after_help = "Examples:
  revcycle completions bash > ~/.local/share/bash-completion/completions/revcycle
  revcycle completions zsh > ~/.zfunc/_revcycle
  revcycle completions fish > ~/.config/fish/completions/revcycle.fish")]
    Completions(CompletionsCmd),
    /// The manual page (roff) on standard output, or one page per command into a folder
    #[command(after_help = "Examples:
  revcycle man | man -l -
  revcycle man --out /usr/local/share/man/man1")]
    Man(ManCmd),
}

/// Where the data comes from; shared by every command that reads inputs.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Input")]
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

    /// Marketing touches export, read by attribution, report and validate
    /// (other commands ignore it); repeat to add several up
    #[arg(long, value_name = "FILE")]
    pub touches: Vec<PathBuf>,

    /// Use the sample data set built into the binary
    #[arg(long)]
    pub demo: bool,

    /// Configuration file [default: ./revcycle.toml when present, except with --demo]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read no configuration file (not even ./revcycle.toml)
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// The instant the analysis looks from [default: the latest event that has happened in the inputs]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Analysis")]
pub struct PeriodArgs {
    /// Reporting period [default: month, or `period` in revcycle.toml]
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
#[command(next_help_heading = "Output")]
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
pub struct AttributionCmd {
    #[command(flatten)]
    pub input: InputArgs,
    /// Models, comma-separated, or `all`: first_touch, last_touch, linear,
    /// time_decay, position, w_shaped, markov, shapley
    #[arg(long, value_name = "M[,M...]", default_value = "all", help_heading = "Analysis")]
    pub model: String,
    /// What is credited: won deals (close_date, amount), opportunities
    /// (created_at, amount) or MQLs (mql date, value 1)
    #[arg(long, value_enum, default_value_t = CreditArg::Won, help_heading = "Analysis")]
    pub credit: CreditArg,
    /// The unit credited
    #[arg(long, value_enum, default_value_t = AttrByArg::Channel, help_heading = "Analysis")]
    pub by: AttrByArg,
    /// Reporting period [default: all]
    #[arg(long, value_enum, help_heading = "Analysis")]
    pub period: Option<PeriodArg>,
    /// First reported period: the one holding DATE
    #[arg(long, value_name = "DATE", help_heading = "Analysis")]
    pub from: Option<String>,
    /// Last reported period: the one holding DATE
    #[arg(long, value_name = "DATE", help_heading = "Analysis")]
    pub to: Option<String>,
    /// Touches more than N days before the conversion are out of its path
    #[arg(long, value_name = "N", default_value_t = 365, help_heading = "Analysis")]
    pub lookback_days: u32,
    /// Half-life of time_decay, in days
    #[arg(long, value_name = "N", default_value_t = 7.0, help_heading = "Analysis")]
    pub half_life_days: f64,
    /// How many of the most common paths to show
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Output")]
    pub paths: usize,
    /// What the side-by-side table shows per unit and model [default: value; share with --truth]
    #[arg(long, value_enum, help_heading = "Output")]
    pub measure: Option<MeasureArg>,
    /// Known channel shares to compare each model with (CSV: channel, and
    /// share or conversions_lost); `--truth` alone (or `--truth demo`) with
    /// --demo: the demo's truth
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "demo", help_heading = "Input")]
    pub truth: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CreditArg {
    Won,
    Opportunity,
    Mql,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum AttrByArg {
    Channel,
    Campaign,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MeasureArg {
    Conversions,
    Value,
    Share,
    Roas,
}

#[derive(Debug, Args, Clone)]
pub struct ReportCmd {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Output folder; strftime patterns allowed (reports/%Y-%m-%d)
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out: String,
    /// Replace DIR when it exists
    #[arg(long, help_heading = "Output")]
    pub force: bool,
    /// Open DIR/report.html in the default browser when done ($BROWSER, else
    /// xdg-open on a Linux desktop, open on macOS, start on Windows)
    #[arg(long, help_heading = "Output")]
    pub open: bool,
    /// Targets file: adds plan.csv and a plan section to summary.md (as `plan --targets`)
    #[arg(long, value_name = "FILE", help_heading = "Input")]
    pub targets: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct CheckCmd {
    /// Rules file (TOML)
    #[arg(value_name = "RULES")]
    pub rules: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    /// Reporting period the rules look at [default: month, or `period` in revcycle.toml]
    #[arg(long, value_enum, help_heading = "Analysis")]
    pub period: Option<PeriodArg>,
    /// Write JUnit XML (one testcase per rule)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub junit: Option<PathBuf>,
    /// Targets file of `min_vs_target` / `pace_min` rules (as `plan --targets`)
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct PlanCmd {
    #[command(flatten)]
    pub input: InputArgs,
    /// Targets file, CSV or TOML ([[target]] tables) [default: the [[target]]
    /// tables of revcycle.toml; with --demo, the demo's targets]
    #[arg(long, value_name = "FILE", help_heading = "Targets")]
    pub targets: Option<PathBuf>,
    /// One target typed here, METRIC=N or METRIC:OWNER=N (repeatable), e.g.
    /// `--target new_bookings=900000 --target mqls:marketing=1500`
    #[arg(long = "target", value_name = "METRIC=N", help_heading = "Targets")]
    pub target: Vec<String>,
    /// Shortcut for --target new_bookings=N (a sales bookings quota)
    #[arg(long, value_name = "N", help_heading = "Targets")]
    pub bookings: Option<String>,
    /// Shortcut for --target mqls=N (a marketing MQL target)
    #[arg(long, value_name = "N", help_heading = "Targets")]
    pub mqls: Option<String>,
    /// Period of the command-line targets: the one holding DATE [default:
    /// the period after the one holding as_of]
    #[arg(long = "for", value_name = "DATE", help_heading = "Targets")]
    pub for_date: Option<String>,
    /// Period of the targets [default: quarter]
    #[arg(long, value_enum, help_heading = "Analysis")]
    pub period: Option<PeriodArg>,
    /// Targets per value of a dimension (the targets file names it in a
    /// column of that name)
    #[arg(long, value_enum, help_heading = "Analysis")]
    pub by: Option<ByArg>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ValidateCmd {
    #[command(flatten)]
    pub input: InputArgs,
    /// Exit 1 when an error-level finding is reported
    #[arg(long, help_heading = "Output")]
    pub strict: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct DemoCmd {
    /// Folder to write leads, opportunities, campaigns, revenue, touches
    /// and the truth (truth.csv) into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of leads to generate (`--leads` is the old name of this flag)
    #[arg(long = "rows", alias = "leads", value_name = "N", default_value_t = 5000)]
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
    /// Header style of leads.csv and opportunities.csv (campaigns.csv,
    /// revenue.csv and touches.csv always have canonical headers)
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

#[derive(Debug, Args, Clone)]
pub struct MetricsCmd {
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsCmd {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args, Clone)]
pub struct ManCmd {
    /// Write revcycle.1 and one revcycle-COMMAND.1 per command into DIR
    /// instead of printing revcycle.1
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the command-line reference as Markdown (the generated part of docs/cli.md)
    #[arg(long, conflicts_with = "out")]
    pub markdown: bool,
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
