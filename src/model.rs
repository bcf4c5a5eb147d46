//! The canonical tables every input is mapped onto (see `docs/inputs.md`).
//!
//! Each table is a polars frame with every canonical column present and typed:
//! text columns are `String`, timestamps are `Datetime(Microseconds, None)` in
//! UTC, numbers are `Float64`. A column the input did not provide is all-null,
//! and `Table::present` says which columns the input really had, so a metric
//! can tell "missing input" (null) from "nothing happened" (0).

use std::collections::BTreeSet;

use polars::prelude::*;

use crate::dict::Dict;
use crate::hash::FastMap;

/// The four canonical tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableKind {
    Leads,
    Opportunities,
    Campaigns,
    Revenue,
    /// Marketing touches (attribution only): never in `ALL`, loaded only by
    /// the commands that read it, after `as_of` is known.
    Touches,
}

impl TableKind {
    pub const ALL: [TableKind; 4] = [
        TableKind::Leads,
        TableKind::Opportunities,
        TableKind::Campaigns,
        TableKind::Revenue,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TableKind::Leads => "leads",
            TableKind::Opportunities => "opportunities",
            TableKind::Campaigns => "campaigns",
            TableKind::Revenue => "revenue",
            TableKind::Touches => "touches",
        }
    }

    pub fn from_name(s: &str) -> Option<TableKind> {
        TableKind::ALL.into_iter().find(|k| k.name() == s)
    }

    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            TableKind::Leads => LEADS,
            TableKind::Opportunities => OPPORTUNITIES,
            TableKind::Campaigns => CAMPAIGNS,
            TableKind::Revenue => REVENUE,
            TableKind::Touches => TOUCHES,
        }
    }

    pub fn column(self, name: &str) -> Option<&'static ColumnSpec> {
        self.columns().iter().find(|c| c.name == name)
    }

    pub fn required(self) -> impl Iterator<Item = &'static ColumnSpec> {
        self.columns().iter().filter(|c| c.required)
    }

    /// The column holding the row's id, when the table has one.
    pub fn id_column(self) -> Option<&'static str> {
        match self {
            TableKind::Leads => Some("lead_id"),
            TableKind::Opportunities => Some("opportunity_id"),
            _ => None,
        }
    }

    /// The column that dates a row's creation: rows after `as_of` by this
    /// column are left out.
    pub fn date_column(self) -> &'static str {
        match self {
            TableKind::Leads | TableKind::Opportunities => "created_at",
            TableKind::Campaigns => "date",
            TableKind::Revenue => "month",
            TableKind::Touches => "touched_at",
        }
    }
}

/// How a canonical column is parsed and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Free text, stored as `String`.
    Text,
    /// A point in time, stored as `Datetime(Microseconds, None)` in UTC.
    Timestamp,
    /// A money amount or count, stored as `Float64`.
    Number,
    /// `open` / `won` / `lost`, stored as `String`.
    Status,
    /// `new_business` / `expansion` / `renewal`, stored as `String`.
    DealType,
}

#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnKind,
    pub required: bool,
}

const fn c(name: &'static str, kind: ColumnKind, required: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required,
    }
}

use ColumnKind::*;

pub const LEADS: &[ColumnSpec] = &[
    c("lead_id", Text, true),
    c("created_at", Timestamp, true),
    c("channel", Text, false),
    c("campaign_id", Text, false),
    c("segment", Text, false),
    c("owner", Text, false),
    c("account_id", Text, false),
    c("mql_at", Timestamp, false),
    c("sal_at", Timestamp, false),
    c("sql_at", Timestamp, false),
    c("first_contact_at", Timestamp, false),
    c("disqualified_at", Timestamp, false),
    c("disqualify_reason", Text, false),
];

pub const OPPORTUNITIES: &[ColumnSpec] = &[
    c("opportunity_id", Text, true),
    c("created_at", Timestamp, true),
    c("close_date", Timestamp, false),
    c("stage", Text, false),
    c("status", Status, false),
    c("amount", Number, false),
    c("type", DealType, false),
    c("account_id", Text, false),
    c("lead_id", Text, false),
    c("campaign_id", Text, false),
    c("channel", Text, false),
    c("segment", Text, false),
    c("owner", Text, false),
    c("loss_reason", Text, false),
    c("currency", Text, false),
];

pub const CAMPAIGNS: &[ColumnSpec] = &[
    c("date", Timestamp, true),
    c("spend", Number, true),
    c("campaign_id", Text, false),
    c("campaign_name", Text, false),
    c("channel", Text, false),
    c("impressions", Number, false),
    c("clicks", Number, false),
    c("conversions", Number, false),
    // What the platform reports its conversions were worth (Google Ads
    // "Conv. value"): feeds `platform_revenue` and `platform_roas`.
    c("conversion_value", Number, false),
    c("currency", Text, false),
];

pub const REVENUE: &[ColumnSpec] = &[
    c("account_id", Text, true),
    c("month", Timestamp, true),
    c("mrr", Number, true),
];

pub const TOUCHES: &[ColumnSpec] = &[
    c("lead_id", Text, true),
    c("touched_at", Timestamp, true),
    c("channel", Text, false),
    c("campaign_id", Text, false),
    c("touch_type", Text, false),
    c("source", Text, false),
    c("medium", Text, false),
];

/// The polars dtype a column kind is stored as.
pub fn dtype_of(kind: ColumnKind) -> DataType {
    match kind {
        Text | Status | DealType => DataType::String,
        Timestamp => DataType::Datetime(TimeUnit::Microseconds, None),
        Number => DataType::Float64,
    }
}

/// Where a table's rows are: in memory, or spilled to Parquet files in the
/// run's temporary folder (`--spill`; written by the input layer).
#[derive(Clone)]
pub enum Backing {
    Memory(DataFrame),
    Spilled(Spilled),
}

/// A table on disk: a lazy scan of its Parquet file(s) with the selection,
/// renames and `as_of` cut applied lazily, and the small facts about it
/// computed once (so `has_values` and `height` never scan).
#[derive(Clone)]
pub struct Spilled {
    /// `scan_parquet` of each file, the timestamp reading of each column
    /// picked and renamed, the files concatenated in order, then the cut.
    pub plan: LazyFrame,
    pub stats: Stats,
    /// Keeps the temporary folder alive as long as a table reads from it.
    pub dir: std::sync::Arc<tempfile::TempDir>,
}

/// Row count, per-column non-null counts and the largest value of each
/// timestamp column (microseconds) of a spilled table.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub height: usize,
    pub non_null: std::collections::BTreeMap<String, usize>,
    pub max: std::collections::BTreeMap<String, i64>,
    pub min: std::collections::BTreeMap<String, i64>,
}

impl Stats {
    /// Aggregations over `lf`: its height, each column's non-null count,
    /// the min and max of each of `timestamps`. One query per column, so
    /// that a spilled table's file is read a column at a time (polars'
    /// in-memory engine holds every column a query reads).
    pub fn of(lf: LazyFrame, columns: &[String], timestamps: &[String]) -> PolarsResult<Stats> {
        let get_u = |df: &DataFrame, name: &str| -> PolarsResult<Option<u64>> {
            let c = df.column(name)?.cast(&DataType::UInt64)?;
            Ok(c.u64()?.get(0))
        };
        let get_i = |df: &DataFrame, name: &str| -> PolarsResult<Option<i64>> {
            let c = df.column(name)?.cast(&DataType::Int64)?;
            Ok(c.i64()?.get(0))
        };
        // One query per column; the height comes with the first (a lone
        // `len()` over several files' scans takes a fast path that fails
        // in polars 0.55: "casting from UInt32 to UInt128").
        let mut queries: Vec<(&String, bool)> = timestamps.iter().map(|c| (c, true)).collect();
        queries.extend(columns.iter().map(|c| (c, false)));
        let mut out = Stats::default();
        let mut height = None;
        for (c, ts) in queries {
            let mut sel = if ts {
                let phys = col(c.as_str()).cast(DataType::Int64);
                vec![phys.clone().max().alias("__max"), phys.min().alias("__min")]
            } else {
                vec![col(c.as_str()).count().alias("__c")]
            };
            if height.is_none() {
                sel.push(len().alias("__n"));
            }
            let df = lf.clone().select(sel).collect()?;
            if height.is_none() {
                height = Some(get_u(&df, "__n")?.unwrap_or(0) as usize);
            }
            if ts {
                if let Some(m) = get_i(&df, "__max")? {
                    out.max.insert(c.clone(), m);
                }
                if let Some(m) = get_i(&df, "__min")? {
                    out.min.insert(c.clone(), m);
                }
            } else {
                out.non_null
                    .insert(c.clone(), get_u(&df, "__c")?.unwrap_or(0) as usize);
            }
        }
        out.height = match height {
            Some(h) => h,
            None => {
                let df = lf.select([len().alias("__n"), lit(0i64).alias("__x")]).collect()?;
                get_u(&df, "__n")?.unwrap_or(0) as usize
            }
        };
        Ok(out)
    }
}

impl Backing {
    pub fn lazy(&self) -> LazyFrame {
        match self {
            Backing::Memory(df) => df.clone().lazy(),
            Backing::Spilled(s) => s.plan.clone(),
        }
    }

    pub fn height(&self) -> usize {
        match self {
            Backing::Memory(df) => df.height(),
            Backing::Spilled(s) => s.stats.height,
        }
    }

    pub fn is_spilled(&self) -> bool {
        matches!(self, Backing::Spilled(_))
    }

    /// One column (in memory: shared, not copied; spilled: that column
    /// read from disk).
    pub fn column(&self, name: &str) -> PolarsResult<Column> {
        match self {
            Backing::Memory(df) => df.column(name).cloned(),
            Backing::Spilled(s) => s
                .plan
                .clone()
                .select([col(name)])
                .collect()?
                .column(name)
                .cloned(),
        }
    }

    /// Rows with a value in `column` (0 when there is no such column).
    pub fn non_null(&self, column: &str) -> usize {
        match self {
            Backing::Memory(df) => df
                .column(column)
                .map(|c| c.len() - c.null_count())
                .unwrap_or(0),
            Backing::Spilled(s) => s.stats.non_null.get(column).copied().unwrap_or(0),
        }
    }

    /// The physical (i64) min or max of a timestamp column; None when
    /// every value is null.
    fn extreme(&self, column: &str, max: bool) -> PolarsResult<Option<i64>> {
        match self {
            Backing::Memory(df) => {
                let c = df.column(column)?;
                let phys = c.as_materialized_series().to_physical_repr();
                let ca = phys.i64()?;
                Ok(if max { ca.max() } else { ca.min() })
            }
            Backing::Spilled(s) => {
                // Absent: every value is null (the extremes of every
                // timestamp column are computed).
                let m = if max { &s.stats.max } else { &s.stats.min };
                Ok(m.get(column).copied())
            }
        }
    }

    /// The largest value of a timestamp column (microseconds), if any.
    pub fn max_micros(&self, column: &str) -> PolarsResult<Option<i64>> {
        self.extreme(column, true)
    }

    /// The smallest value of a timestamp column (microseconds), if any.
    pub fn min_micros(&self, column: &str) -> PolarsResult<Option<i64>> {
        self.extreme(column, false)
    }
}

/// One loaded canonical table.
#[derive(Clone)]
pub struct Table {
    pub kind: TableKind,
    /// Every canonical column of `kind`, in spec order: in memory or spilled.
    pub data: Backing,
    /// Canonical columns the input really provided (mapped from a source
    /// column or set to a constant).
    pub present: BTreeSet<String>,
    /// The sorted hashes of the id column (`lead_id` for leads), made the
    /// first time a query matches rows to ids (`Table::id_hashes`) and
    /// shared by the clones of the table.
    pub id_hashes: IdHashes,
}

/// A table's id hashes, computed once ([`Table::id_hashes`]).
pub type IdHashes = std::sync::Arc<std::sync::OnceLock<crate::ids::Hashed>>;

impl Table {
    pub fn lazy(&self) -> LazyFrame {
        self.data.lazy()
    }

    /// Rows in the table.
    pub fn height(&self) -> usize {
        self.data.height()
    }

    /// True when the rows are in Parquet files, not in memory.
    pub fn is_spilled(&self) -> bool {
        self.data.is_spilled()
    }

    /// The whole table as one frame (reads a spilled table into memory:
    /// for small tables and tests only).
    pub fn collect(&self) -> PolarsResult<DataFrame> {
        match &self.data {
            Backing::Memory(df) => Ok(df.clone()),
            Backing::Spilled(s) => s.plan.clone().collect(),
        }
    }

    /// True when the input provided `column` and at least one row has a value.
    pub fn has_values(&self, column: &str) -> bool {
        self.present.contains(column) && self.data.non_null(column) > 0
    }

    pub fn has(&self, column: &str) -> bool {
        self.present.contains(column)
    }

    /// The largest value of timestamp `column` (microseconds), if any.
    pub fn max_micros(&self, column: &str) -> PolarsResult<Option<i64>> {
        self.data.max_micros(column)
    }

    /// The smallest value of timestamp `column` (microseconds), if any.
    pub fn min_micros(&self, column: &str) -> PolarsResult<Option<i64>> {
        self.data.min_micros(column)
    }

    /// An all-null table of `kind` with no rows (used when a table is absent
    /// but a computation wants a frame to join against).
    pub fn empty(kind: TableKind) -> Table {
        let cols: Vec<Column> = kind
            .columns()
            .iter()
            .map(|c| Column::full_null(c.name.into(), 0, &dtype_of(c.kind)))
            .collect();
        Table {
            kind,
            data: Backing::Memory(DataFrame::new_infer_height(cols).expect("static schema")),
            present: BTreeSet::new(),
            id_hashes: IdHashes::default(),
        }
    }

    /// The in-memory id column (`lead_id` for leads) and its sorted hashes
    /// (made on the first call): what `ids::rows_of` matches
    /// references against. `None` for a spilled table or one without an id.
    pub fn id_hashes(&self) -> Option<PolarsResult<(StringChunked, &crate::ids::Hashed)>> {
        let Backing::Memory(df) = &self.data else {
            return None;
        };
        let id = self.kind.id_column()?;
        let run = || -> PolarsResult<_> {
            let ids = df.column(id)?.str()?.clone();
            let h = self
                .id_hashes
                .get_or_init(|| crate::ids::Hashed::new(&ids));
            Ok((ids, h))
        };
        Some(run())
    }
}

/// The touches table, loaded as coded rows (never as text columns: at
/// scale it is the largest table, several touches a lead). A row is a
/// `Touch` of 16 bytes whatever its texts: `lead` a code into `lead_ids`,
/// `touched_at`, and `kind`, an index into the distinct tuples of the
/// other five text columns' codes (`kinds`), each code into its column's
/// dictionary (`dict::NULL` for null). A reader looks each distinct lead id
/// and each distinct kind up once instead of once a touch. Rows in file
/// order (the files one after the other), all at or before `as_of`.
///
/// `Touch` is also the attribution engine's record (`compact::CTouch`):
/// gathering rewrites these rows in place (lead code to lead index, kind to
/// the engine's kind) and sorts them, so no second copy of the touches is
/// ever made (`docs/attribution.md`, "How the engine scales").
#[derive(Debug, Clone, Default)]
pub struct Touches {
    pub rows: Vec<Touch>,
    /// The dictionary of `lead_id` (`Touch::lead` codes into it).
    pub lead_ids: Dict,
    /// Distinct code tuples of `KIND_COLUMNS`.
    pub kinds: Vec<[u32; 5]>,
    /// The dictionaries of `KIND_COLUMNS`, in that order.
    pub dicts: [Dict; 5],
    /// Canonical columns the input really provided (as `Table::present`).
    pub present: BTreeSet<String>,
}

/// One touch (16 bytes). Loaded: `lead` is a code into `Touches::lead_ids`
/// and `kind` an index into `Touches::kinds`; in the engine's input
/// (`compact::CTouch`): `lead` is the lead's index and `kind` the engine's
/// kind. Ordered by (lead, at, kind), the engine's path order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Touch {
    pub lead: u32,
    /// `touched_at`, microseconds since the epoch (UTC); never null.
    pub at: i64,
    pub kind: u32,
}

/// The text columns of `TOUCHES` a touch's kind is made of.
pub const KIND_COLUMNS: [&str; 5] = ["channel", "campaign_id", "touch_type", "source", "medium"];

impl Touches {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The text of kind `k`'s column `KIND_COLUMNS[c]` (None for null).
    pub fn text(&self, k: u32, c: usize) -> Option<&str> {
        self.dicts[c].get(self.kinds[k as usize][c])
    }

    /// The lead id of row `i` (None for null).
    pub fn lead_id(&self, i: usize) -> Option<&str> {
        self.lead_ids.get(self.rows[i].lead)
    }

    /// Append `other`'s rows (its codes and kinds remapped into these).
    pub fn append(&mut self, other: &Touches) {
        let lead_remap = self.lead_ids.merge(&other.lead_ids);
        let remaps: Vec<Vec<u32>> = self
            .dicts
            .iter_mut()
            .zip(&other.dicts)
            .map(|(d, o)| d.merge(o))
            .collect();
        let mut ids: FastMap<[u32; 5], u32> = self.kinds.iter().copied().zip(0..).collect();
        let kind_remap: Vec<u32> = other
            .kinds
            .iter()
            .map(|k| {
                let k: [u32; 5] = std::array::from_fn(|c| remaps[c][k[c] as usize]);
                *ids.entry(k).or_insert_with(|| {
                    self.kinds.push(k);
                    self.kinds.len() as u32 - 1
                })
            })
            .collect();
        self.rows.extend(other.rows.iter().map(|t| Touch {
            lead: lead_remap[t.lead as usize],
            at: t.at,
            kind: kind_remap[t.kind as usize],
        }));
        self.present.extend(other.present.iter().cloned());
    }
}

/// Everything one command reads: up to four tables and the instant the
/// analysis looks from.
#[derive(Clone)]
pub struct Dataset {
    pub leads: Option<Table>,
    pub opportunities: Option<Table>,
    pub campaigns: Option<Table>,
    pub revenue: Option<Table>,
    /// Marketing touches at `as_of` (loaded only by the commands that read
    /// them): coded columns, not a `Table` (`table(Touches)` is None).
    pub touches: Option<Touches>,
    /// Microseconds since the Unix epoch, UTC.
    pub as_of: i64,
}

impl Dataset {
    pub fn table(&self, kind: TableKind) -> Option<&Table> {
        match kind {
            TableKind::Leads => self.leads.as_ref(),
            TableKind::Opportunities => self.opportunities.as_ref(),
            TableKind::Campaigns => self.campaigns.as_ref(),
            TableKind::Revenue => self.revenue.as_ref(),
            // Coded columns, read through `touches`.
            TableKind::Touches => None,
        }
    }

    /// Set the table of `table.kind` (the touches are set on `touches`: a
    /// touches `Table` is not kept).
    pub fn set_table(&mut self, table: Table) {
        match table.kind {
            TableKind::Leads => self.leads = Some(table),
            TableKind::Opportunities => self.opportunities = Some(table),
            TableKind::Campaigns => self.campaigns = Some(table),
            TableKind::Revenue => self.revenue = Some(table),
            TableKind::Touches => {}
        }
    }

    /// True when `table` was given and provided `column` with at least one value.
    pub fn has_values(&self, kind: TableKind, column: &str) -> bool {
        self.table(kind)
            .map(|t| t.has_values(column))
            .unwrap_or(false)
    }

    /// The folder of the spilled tables, when this run spills (`--spill`):
    /// where per-lead intermediate frames go too.
    pub fn spill_dir(&self) -> Option<std::sync::Arc<tempfile::TempDir>> {
        TableKind::ALL
            .into_iter()
            .filter_map(|k| self.table(k))
            .find_map(|t| match &t.data {
                Backing::Spilled(s) => Some(std::sync::Arc::clone(&s.dir)),
                Backing::Memory(_) => None,
            })
    }

    /// The table, or an empty all-null one when it was not given.
    pub fn table_or_empty(&self, kind: TableKind) -> Table {
        self.table(kind)
            .cloned()
            .unwrap_or_else(|| Table::empty(kind))
    }
}
