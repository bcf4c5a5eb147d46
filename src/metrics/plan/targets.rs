//! Targets files of `revcycle plan` (docs/plan.md "Targets"): CSV or TOML
//! files, or `[[target]]` tables of `revcycle.toml`, parsed and validated into
//! [`Target`]s. Every bad row is a one-line error naming the file and line.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;

use crate::metrics::common::Stage;
use crate::periods::{micros_of_date, PeriodKind, PeriodSpec};
use crate::settings::Dimension;

/// A metric a target can be set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    Leads,
    Mqls,
    Sals,
    Sqls,
    Opportunities,
    WonDeals,
    NewCustomers,
    NewBookings,
    PipelineCreated,
    MarketingSpend,
}

/// How a target's number becomes a volume at its stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// The number is the stage's volume.
    Volume,
    /// Money: divided by `avg_deal_size` (new_bookings, pipeline_created).
    DealMoney,
    /// Money: divided by `cost_per_lead` (marketing_spend).
    SpendMoney,
}

impl Metric {
    pub const ALL: [Metric; 10] = [
        Metric::Leads,
        Metric::Mqls,
        Metric::Sals,
        Metric::Sqls,
        Metric::Opportunities,
        Metric::WonDeals,
        Metric::NewCustomers,
        Metric::NewBookings,
        Metric::PipelineCreated,
        Metric::MarketingSpend,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Leads => "leads",
            Metric::Mqls => "mqls",
            Metric::Sals => "sals",
            Metric::Sqls => "sqls",
            Metric::Opportunities => "opportunities",
            Metric::WonDeals => "won_deals",
            Metric::NewCustomers => "new_customers",
            Metric::NewBookings => "new_bookings",
            Metric::PipelineCreated => "pipeline_created",
            Metric::MarketingSpend => "marketing_spend",
        }
    }

    pub fn from_name(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == s)
    }

    /// The ladder stage the target anchors at.
    pub fn stage(self) -> Stage {
        match self {
            Metric::Leads | Metric::MarketingSpend => Stage::Lead,
            Metric::Mqls => Stage::Mql,
            Metric::Sals => Stage::Sal,
            Metric::Sqls => Stage::Sql,
            Metric::Opportunities | Metric::PipelineCreated => Stage::Opportunity,
            Metric::WonDeals | Metric::NewCustomers | Metric::NewBookings => Stage::Won,
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::NewBookings | Metric::PipelineCreated => Unit::DealMoney,
            Metric::MarketingSpend => Unit::SpendMoney,
            _ => Unit::Volume,
        }
    }

    /// The team a target on this metric belongs to when a command-line
    /// target names none: marketing up to SAL and for spend, sales after.
    pub fn default_owner(self) -> Owner {
        match self.stage() {
            Stage::Lead | Stage::Mql | Stage::Sal => Owner::Marketing,
            _ => Owner::Sales,
        }
    }
}

/// The team a target belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owner {
    Marketing,
    Sales,
    /// No owner: pairs with both teams.
    None,
}

impl Owner {
    pub fn name(self) -> &'static str {
        match self {
            Owner::Marketing => "marketing",
            Owner::Sales => "sales",
            Owner::None => "",
        }
    }

    pub fn parse(s: &str) -> Option<Owner> {
        match s.trim().to_lowercase().as_str() {
            "marketing" => Some(Owner::Marketing),
            "sales" => Some(Owner::Sales),
            "" => Some(Owner::None),
            _ => None,
        }
    }

    /// Whether a target of this owner is held against one of `other`: two
    /// targets of one team never pair; an empty owner pairs with anyone.
    pub fn pairs_with(self, other: Owner) -> bool {
        self == Owner::None || other == Owner::None || self != other
    }
}

/// One target row.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// First day of the target's period.
    pub period: NaiveDate,
    pub metric: Metric,
    pub target: f64,
    pub owner: Owner,
    /// The `--by` dimension's value, with `--by`.
    pub dim_value: Option<String>,
    /// "`targets.csv`, line 3": where the row came from, for messages.
    pub origin: String,
}

impl Target {
    /// `metric:owner`, the `anchor` column.
    pub fn anchor(&self) -> String {
        format!("{}:{}", self.metric.name(), self.owner.name())
    }
}

/// What parsing needs to know: the period kind the targets must start and
/// the `--by` dimension whose value each row names.
#[derive(Debug, Clone, Copy)]
pub struct ParseSettings {
    pub period: PeriodSpec,
    pub by: Option<Dimension>,
}

/// One row before validation: (field, text) pairs and its origin.
struct RawRow {
    fields: BTreeMap<String, String>,
    origin: String,
}

/// Read a targets file: TOML when it ends in `.toml`, CSV otherwise.
pub fn load_file(path: &Path, s: &ParseSettings) -> Result<Vec<Target>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading targets `{}`", path.display()))?;
    let name = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    {
        parse_toml(&text, &name, s)
    } else {
        parse_csv(&text, &name, s)
    }
}

/// `[[target]]` tables of a configuration file (re-read for line numbers).
pub fn from_config_file(path: &Path, s: &ParseSettings) -> Result<Vec<Target>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading configuration `{}`", path.display()))?;
    parse_toml(&text, &path.display().to_string(), s)
}

/// Targets given outside the command line, first found: `file`, else the
/// `[[target]]` tables of the configuration, else (with `demo`) the demo's.
/// None when there are none.
pub fn from_sources(
    file: Option<&Path>,
    cfg: &crate::config::Config,
    s: &ParseSettings,
    demo: bool,
) -> Result<Option<Vec<Target>>> {
    if let Some(f) = file {
        return load_file(f, s).map(Some);
    }
    if let (false, Some(src)) = (cfg.target.is_empty(), &cfg.source) {
        return from_config_file(src, s).map(Some);
    }
    if demo {
        return parse_csv(crate::demo::builtin_targets(), "demo targets.csv", s).map(Some);
    }
    Ok(None)
}

/// The targets of one period kind, as `check`'s `min_vs_target` and
/// `pace_min` rules read them.
#[derive(Debug, Clone)]
pub struct PeriodTargets {
    pub spec: PeriodSpec,
    pub targets: Vec<Target>,
}

impl PeriodTargets {
    /// The one target of metric `id` for the period starting `period`.
    pub fn find(&self, id: &str, period: NaiveDate) -> Result<f64> {
        let found: Vec<&Target> = self
            .targets
            .iter()
            .filter(|t| t.metric.name() == id && t.period == period)
            .collect();
        match found.as_slice() {
            [t] => Ok(t.target),
            [] => bail!(
                "no target for `{id}` in the {} of {period}",
                self.spec.kind.name()
            ),
            many => bail!(
                "{} targets for `{id}` in the {} of {period} ({}): keep one",
                many.len(),
                self.spec.kind.name(),
                many.iter()
                    .map(|t| t.origin.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

pub fn parse_csv(text: &str, name: &str, s: &ParseSettings) -> Result<Vec<Target>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .with_context(|| format!("targets `{name}`, line 1: unreadable header"))?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            anyhow::anyhow!("targets `{name}`, line {line}: {}", csv_reason(&e))
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.iter().all(|f| f.is_empty()) {
            continue;
        }
        let fields = headers
            .iter()
            .cloned()
            .zip(rec.iter().map(str::to_string))
            .collect();
        rows.push(RawRow {
            fields,
            origin: format!("targets `{name}`, line {line}"),
        });
    }
    validate(rows, &headers, name, s)
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => "unreadable row".to_string(),
    }
}

pub fn parse_toml(text: &str, name: &str, s: &ParseSettings) -> Result<Vec<Target>> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        target: Vec<toml::Spanned<toml::Table>>,
    }
    let line_of = |pos: usize| text[..pos.min(text.len())].matches('\n').count() + 1;
    let file: File = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|sp| format!(", line {}", line_of(sp.start)))
            .unwrap_or_default();
        anyhow::anyhow!("targets `{name}`{line}: {}", e.message())
    })?;
    let mut rows = Vec::new();
    let mut headers: Vec<String> = Vec::new();
    for t in file.target {
        let line = line_of(t.span().start);
        let origin = format!("targets `{name}`, line {line}");
        let mut fields = BTreeMap::new();
        for (k, v) in t.get_ref() {
            let text = match v {
                toml::Value::String(x) => x.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Datetime(d) => d.to_string(),
                other => bail!("{origin}: `{k}` = {other} is not a text, number or date"),
            };
            let k = k.to_lowercase();
            if !headers.contains(&k) {
                headers.push(k.clone());
            }
            fields.insert(k, text);
        }
        rows.push(RawRow { fields, origin });
    }
    for required in ["period", "metric", "target"] {
        if !rows.is_empty() && !headers.iter().any(|h| h == required) {
            headers.push(required.to_string());
        }
    }
    validate(rows, &headers, name, s)
}

/// The columns a targets row may have besides the dimension's.
const KNOWN: [&str; 4] = ["period", "metric", "target", "owner"];

fn validate(
    rows: Vec<RawRow>,
    headers: &[String],
    name: &str,
    s: &ParseSettings,
) -> Result<Vec<Target>> {
    if s.period.kind == PeriodKind::All {
        bail!("targets need a period (week, month, quarter or year), not `all`");
    }
    if s.by == Some(Dimension::Owner) {
        bail!("targets cannot be split by owner: a targets row's `owner` is its team (marketing or sales)");
    }
    let dim_col = s.by.map(|d| d.name());
    let dims = ["channel", "segment", "campaign"];
    for h in headers {
        if !KNOWN.contains(&h.as_str()) && Some(h.as_str()) != dim_col {
            if dims.contains(&h.as_str()) && dim_col.is_none() {
                continue; // checked per row: a value needs --by
            }
            let mut options: Vec<&str> = KNOWN.to_vec();
            options.extend(dim_col);
            bail!(
                "targets `{name}`, line 1: column `{h}` is unknown{}; columns are: {}",
                crate::input::suggest(h, options.iter().copied()),
                options.join(", ")
            );
        }
    }
    for required in ["period", "metric", "target"] {
        if !headers.iter().any(|h| h == required) {
            bail!("targets `{name}`, line 1: column `{required}` is missing (columns: period, metric, target, owner)");
        }
    }
    let mut out: Vec<Target> = Vec::new();
    let mut seen: BTreeMap<(NaiveDate, Metric, Owner, Option<String>), String> = BTreeMap::new();
    for row in rows {
        let o = &row.origin;
        let get = |k: &str| row.fields.get(k).map(|v| v.trim()).unwrap_or("");
        let metric_text = get("metric");
        let metric = Metric::from_name(&metric_text.to_lowercase()).ok_or_else(|| {
            anyhow::anyhow!(
                "{o}: metric `{metric_text}` is unknown{}; metrics are: {}",
                crate::input::suggest(metric_text, Metric::ALL.iter().map(|m| m.name())),
                Metric::ALL.map(|m| m.name()).join(", ")
            )
        })?;
        let period_text = get("period");
        let period = NaiveDate::parse_from_str(period_text, "%Y-%m-%d").map_err(|_| {
            anyhow::anyhow!(
                "{o}: period `{period_text}` is not a date (YYYY-MM-DD, the period's first day)"
            )
        })?;
        let spec = s.period;
        let start = spec.start_date(spec.index_of(micros_of_date(period)));
        if start != period {
            bail!(
                "{o}: period `{period_text}` is not the first day of a {} (the {} holding it starts {start})",
                spec.kind.name(),
                spec.kind.name()
            );
        }
        let target_text = get("target");
        let target: f64 = target_text
            .replace('_', "")
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| anyhow::anyhow!("{o}: target `{target_text}` is not a number"))?;
        if target < 0.0 {
            bail!("{o}: target `{target_text}` is negative");
        }
        let owner_text = get("owner");
        let owner = Owner::parse(owner_text).ok_or_else(|| {
            anyhow::anyhow!("{o}: owner `{owner_text}` is not marketing, sales or empty")
        })?;
        let dim_value = match dim_col {
            Some(c) => {
                let v = get(c);
                if v.is_empty() {
                    bail!("{o}: `{c}` is empty; with --by {c} every target names its {c}");
                }
                Some(v.to_string())
            }
            None => {
                if let Some(d) = dims.iter().find(|d| !get(d).is_empty()) {
                    bail!(
                        "{o}: `{d}` = `{}` needs --by {d} (without it targets are for the whole company)",
                        get(d)
                    );
                }
                None
            }
        };
        let key = (period, metric, owner, dim_value.clone());
        if let Some(first) = seen.get(&key) {
            bail!(
                "{o}: duplicate target ({period} {} owner `{}`{}): {first} already sets it",
                metric.name(),
                owner.name(),
                dim_value
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default()
            );
        }
        seen.insert(key, o.clone());
        out.push(Target {
            period,
            metric,
            target,
            owner,
            dim_value,
            origin: o.clone(),
        });
    }
    Ok(out)
}

/// A command-line target: `METRIC=N` or `METRIC:OWNER=N`, for `period`;
/// `origin` is how the user wrote it (`--bookings 5e5`), for messages.
pub fn parse_flag(text: &str, period: NaiveDate, origin: &str) -> Result<Target> {
    let o = origin.to_string();
    let (lhs, value) = text
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("{o}: expected METRIC=N or METRIC:OWNER=N"))?;
    let (m, owner) = match lhs.split_once(':') {
        Some((m, w)) => (m.trim(), Some(w.trim())),
        None => (lhs.trim(), None),
    };
    let metric = Metric::from_name(&m.to_lowercase()).ok_or_else(|| {
        anyhow::anyhow!(
            "{o}: metric `{m}` is unknown{}; metrics are: {}",
            crate::input::suggest(m, Metric::ALL.iter().map(|m| m.name())),
            Metric::ALL.map(|m| m.name()).join(", ")
        )
    })?;
    let owner = match owner {
        Some(w) => Owner::parse(w)
            .ok_or_else(|| anyhow::anyhow!("{o}: owner `{w}` is not marketing, sales or empty"))?,
        None => metric.default_owner(),
    };
    let target: f64 = value
        .trim()
        .replace('_', "")
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| anyhow::anyhow!("{o}: `{}` is not a number", value.trim()))?;
    if target < 0.0 {
        bail!("{o}: target `{}` is negative", value.trim());
    }
    Ok(Target {
        period,
        metric,
        target,
        owner,
        dim_value: None,
        origin: o,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> ParseSettings {
        ParseSettings {
            period: PeriodSpec::new(PeriodKind::Quarter, 1, 0),
            by: None,
        }
    }

    fn err(text: &str) -> String {
        format!("{:#}", parse_csv(text, "t.csv", &settings()).unwrap_err())
    }

    #[test]
    fn reads_rows() {
        let t = parse_csv(
            "period,metric,target,owner\n2025-01-01,mqls,1500,marketing\n2025-01-01,new_bookings,900000,sales\n",
            "t.csv",
            &settings(),
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].metric, Metric::NewBookings);
        assert_eq!(t[1].anchor(), "new_bookings:sales");
        assert_eq!(t[1].origin, "targets `t.csv`, line 3");
    }

    #[test]
    fn bad_rows_name_the_line() {
        assert_eq!(
            err("period,metric,target,owner\n2025-01-01,mql,1500,marketing\n"),
            "targets `t.csv`, line 2: metric `mql` is unknown; did you mean 'mqls'?; metrics are: leads, mqls, sals, sqls, opportunities, won_deals, new_customers, new_bookings, pipeline_created, marketing_spend"
        );
        assert!(err("period,metric,target,owner\n2025-02-01,mqls,1,\n")
            .starts_with("targets `t.csv`, line 2: period `2025-02-01` is not the first day of a quarter (the quarter holding it starts 2025-01-01)"));
        assert!(err("period,metric,target,owner\n2025-01-01,mqls,-3,\n")
            .starts_with("targets `t.csv`, line 2: target `-3` is negative"));
        assert!(err(
            "period,metric,target,owner\n2025-01-01,mqls,3,sales\n2025-01-01,leads,3,sales\n2025-01-01,mqls,4,Sales\n"
        )
        .starts_with("targets `t.csv`, line 4: duplicate target"));
    }

    #[test]
    fn toml_rows_name_their_line() {
        let text = "[[target]]\nperiod = 2025-01-01\nmetric = \"mqls\"\ntarget = 1500\nowner = \"marketing\"\n\n[[target]]\nperiod = \"2025-01-01\"\nmetric = \"bookings\"\ntarget = 9\n";
        let e = format!("{:#}", parse_toml(text, "t.toml", &settings()).unwrap_err());
        assert!(
            e.starts_with("targets `t.toml`, line 7: metric `bookings` is unknown"),
            "{e}"
        );
    }

    #[test]
    fn owners_pair_across_teams_only() {
        assert!(Owner::Marketing.pairs_with(Owner::Sales));
        assert!(!Owner::Sales.pairs_with(Owner::Sales));
        assert!(Owner::None.pairs_with(Owner::Sales));
    }
}
