//! The month-by-month simulation behind [`super::generate`].
//!
//! Month by month: draw that month's leads (each lead's whole life at once:
//! stage dates, first contact, disqualification, its opportunities and their
//! outcome) and write them; write the deals that have no lead; write the
//! month's campaign spend; then step every customer account one month (MRR
//! row, expansion, contraction, renewal, churn, win-back). Nothing is kept
//! per lead; the only state that grows is one small record per customer
//! account (about 3.5% of leads).
//!
//! Anything dated at or after the export instant (the first day after the
//! last month) is left out, as an export taken that day would: such dates
//! are empty, such deals are open and have no close date.

mod accounts;
mod campaigns;
mod deals;

use std::io::Write;

use anyhow::{bail, Context, Result};

use super::fmt::{civil_from_days, days_from_civil, push_padded, weekday, Row, MIN_PER_DAY};
use super::model::*;
use super::rng::Rng;
use super::touches::{Journeys, LeadFacts};
use super::{DemoOptions, DemoSinks, DemoStats, Headers};
use crate::model::TableKind;
use crate::presets;
pub use campaigns::push_campaign_id;
use deals::resolve;

const NONE: u32 = u32::MAX;
const BLOCKED: u32 = u32::MAX - 1;

pub const LEAD_COLS: [&str; 13] = [
    "lead_id",
    "created_at",
    "channel",
    "campaign_id",
    "segment",
    "owner",
    "account_id",
    "mql_at",
    "sal_at",
    "sql_at",
    "first_contact_at",
    "disqualified_at",
    "disqualify_reason",
];
pub const OPP_COLS: [&str; 14] = [
    "opportunity_id",
    "created_at",
    "close_date",
    "stage",
    "status",
    "amount",
    "type",
    "account_id",
    "lead_id",
    "campaign_id",
    "channel",
    "segment",
    "owner",
    "loss_reason",
];
pub const CAMPAIGN_COLS: [&str; 8] = [
    "date",
    "campaign_id",
    "campaign_name",
    "channel",
    "spend",
    "impressions",
    "clicks",
    "conversions",
];
pub const REVENUE_COLS: [&str; 3] = ["account_id", "month", "mrr"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Active,
    Churned,
    Gone,
}

/// One customer account: the only state kept across months (about 80 bytes).
#[derive(Clone, Copy)]
struct Account {
    num: u64,
    /// Current MRR in cents (0 while churned).
    mrr: i64,
    /// MRR before churn (the base of a win-back offer).
    prev_mrr: i64,
    /// First billed month (simulation month index).
    start: u32,
    /// Next contract anniversary month.
    anniv: u32,
    churned_at: u32,
    /// Pending won expansion: applies from `exp_month` (NONE: none, BLOCKED: deal open).
    exp_month: u32,
    exp_delta: i64,
    /// Renewal outcome applied at the anniversary `ren_month`: MRR factor, 0 = churn.
    ren_month: u32,
    ren_factor: f64,
    /// Pending won win-back: MRR comes back from `winback_month`.
    winback_month: u32,
    winback_mrr: i64,
    seg: u8,
    owner: u8,
    state: State,
}

/// A first-touch campaign: a slot (8 ad campaigns, the month's webinar, the
/// month's event) and the month it belongs to.
#[derive(Clone, Copy)]
pub struct Camp {
    pub slot: u8,
    pub month: u32,
}

struct Opp {
    created: i64,
    close_day: Option<i64>,
    stage: usize,
    amount: Option<i64>,
    typ: usize,
    account: Option<u64>,
    lead: Option<u64>,
    campaign: Option<Camp>,
    channel: Option<usize>,
    segment: Option<usize>,
    owner: usize,
    loss_reason: Option<&'static str>,
}

/// How a deal ended, as seen at the export instant.
struct Outcome {
    close_day: Option<i64>,
    stage: usize,
    amount: Option<i64>,
    loss_reason: Option<&'static str>,
}

impl Outcome {
    fn won(&self) -> bool {
        self.stage == STAGE_WON
    }
}

pub struct Sim<'s, W: Write> {
    sinks: &'s mut DemoSinks<W>,
    style: Headers,
    lead_rng: Rng,
    camp_rng: Rng,
    acct_rng: Rng,
    start_day: i64,
    /// Calendar month of the start, as year * 12 + month - 1.
    month0: i64,
    months: u32,
    /// The export instant, minutes: nothing at or after it exists.
    end: i64,
    lead_counts: Vec<u64>,
    hour_cum: [f64; 25],
    accounts: Vec<Account>,
    next_lead: u64,
    next_opp: u64,
    next_account: u64,
    counts: [[u32; 31]; SLOTS],
    buf: Vec<u8>,
    stats: DemoStats,
    /// Touches: their own per-lead streams, so the tables above are the
    /// same bytes with or without them.
    pub journeys: Journeys,
}

fn to_minutes(x: f64) -> i64 {
    // Durations are clipped to 400 days so a lognormal tail cannot overflow.
    x.round().clamp(0.0, 400.0 * MIN_PER_DAY as f64) as i64
}

fn cents(x: f64) -> i64 {
    (x * 100.0).round().max(0.0) as i64
}

impl<'s, W: Write> Sim<'s, W> {
    pub fn new(opts: &DemoOptions, sinks: &'s mut DemoSinks<W>) -> Result<Self> {
        use chrono::Datelike;
        if opts.months == 0 {
            bail!("--months must be at least 1");
        }
        if opts.months > 1200 {
            bail!("--months must be at most 1200 (100 years)");
        }
        let start_day = days_from_civil(
            opts.start.year() as i64,
            opts.start.month(),
            opts.start.day(),
        );
        let month0 = opts.start.year() as i64 * 12 + opts.start.month0() as i64;
        let mut sim = Sim {
            sinks,
            style: opts.headers,
            lead_rng: Rng::new(opts.seed, 1),
            camp_rng: Rng::new(opts.seed, 2),
            acct_rng: Rng::new(opts.seed, 3),
            start_day,
            month0,
            months: opts.months,
            end: 0,
            lead_counts: Vec::new(),
            hour_cum: [0.0; 25],
            accounts: Vec::new(),
            next_lead: 1,
            next_opp: 1,
            next_account: 1,
            counts: [[0; 31]; SLOTS],
            buf: Vec::with_capacity(512),
            stats: DemoStats::default(),
            journeys: Journeys::new(opts.seed, 0, 0, month0, opts.months),
        };
        sim.end = sim.cal_start(opts.months) * MIN_PER_DAY;
        sim.journeys = Journeys::new(
            opts.seed,
            start_day * MIN_PER_DAY,
            sim.end,
            month0,
            opts.months,
        );
        for h in 0..24 {
            sim.hour_cum[h + 1] = sim.hour_cum[h] + HOURS[h];
        }
        // Leads per month: growth x season x share of the month covered,
        // rounded so that the months add up to exactly `leads`.
        let weights: Vec<f64> = (0..opts.months)
            .map(|m| {
                let (d0, d1) = sim.range(m);
                let full = (sim.cal_start(m + 1) - sim.cal_start(m)) as f64;
                let cal = ((sim.month0 + m as i64).rem_euclid(12)) as usize;
                GROWTH.powi(m as i32) * SEASON[cal] * (d1 - d0) as f64 / full
            })
            .collect();
        let total: f64 = weights.iter().sum();
        let mut cum = 0.0;
        let mut prev = 0u64;
        for (i, w) in weights.iter().enumerate() {
            cum += w;
            let upto = if i + 1 == weights.len() {
                opts.leads
            } else {
                ((opts.leads as f64) * cum / total).floor() as u64
            };
            sim.lead_counts.push(upto.saturating_sub(prev));
            prev = prev.max(upto);
        }
        Ok(sim)
    }

    /// First day of the calendar month `idx` months after the start's month.
    fn cal_start(&self, idx: u32) -> i64 {
        let t = self.month0 + idx as i64;
        days_from_civil(t.div_euclid(12), (t.rem_euclid(12) + 1) as u32, 1)
    }

    /// Days [first, end) of simulation month `idx` (the first may be partial).
    fn range(&self, idx: u32) -> (i64, i64) {
        (
            self.start_day.max(self.cal_start(idx)),
            self.cal_start(idx + 1),
        )
    }

    /// Simulation month index of a day (may be past the last month).
    fn month_of_day(&self, day: i64) -> i64 {
        let (y, m, _) = civil_from_days(day);
        y * 12 + m as i64 - 1 - self.month0
    }

    fn month_after(&self, day: i64) -> u32 {
        (self.month_of_day(day) + 1).clamp(0, NONE as i64 - 2) as u32
    }

    pub fn run(mut self) -> Result<DemoStats> {
        self.run_mut()
    }

    /// [`Sim::run`] keeping the simulation (tests read the touch log).
    pub fn run_mut(&mut self) -> Result<DemoStats> {
        self.write_headers()?;
        for m in 0..self.months {
            self.leads_month(m)?;
            self.no_lead_deals(m)?;
            self.campaigns_month(m)?;
            self.accounts_month(m)?;
        }
        self.sinks.leads.flush().context("writing leads")?;
        self.sinks
            .opportunities
            .flush()
            .context("writing opportunities")?;
        self.sinks.campaigns.flush().context("writing campaigns")?;
        self.sinks.revenue.flush().context("writing revenue")?;
        self.sinks.touches.flush().context("writing touches")?;
        self.stats.customers = self.accounts.len() as u64;
        self.stats.touch_rows = self.journeys.rows;
        self.stats.truth = self.journeys.truth();
        Ok(std::mem::take(&mut self.stats))
    }

    fn write_headers(&mut self) -> Result<()> {
        let vendor = match self.style {
            Headers::Canonical => None,
            Headers::Salesforce => Some("salesforce"),
            Headers::Hubspot => Some("hubspot"),
        };
        let header = |table: TableKind, cols: &[&str]| -> Result<Vec<u8>> {
            let mut names: Vec<&str> = Vec::new();
            for col in cols {
                match vendor {
                    None => names.push(col),
                    Some(v) => {
                        let preset = presets::find(v, table)
                            .with_context(|| format!("no {v} preset for {}", table.name()))?;
                        match preset.header_for(col) {
                            Some(h) => names.push(h),
                            // The vendors have no status column: it comes from the stage.
                            None if *col == "status" => {}
                            None => bail!("the {v} preset has no header for `{col}`"),
                        }
                    }
                }
            }
            Ok(format!("{}\n", names.join(",")).into_bytes())
        };
        let leads = header(TableKind::Leads, &LEAD_COLS)?;
        let opps = header(TableKind::Opportunities, &OPP_COLS)?;
        self.sinks
            .leads
            .write_all(&leads)
            .context("writing leads")?;
        self.sinks
            .opportunities
            .write_all(&opps)
            .context("writing opportunities")?;
        // Campaigns and revenue come from ad platforms and billing, not the
        // CRM: canonical headers whatever --headers says.
        let camp = format!("{}\n", CAMPAIGN_COLS.join(","));
        let rev = format!("{}\n", REVENUE_COLS.join(","));
        self.sinks
            .campaigns
            .write_all(camp.as_bytes())
            .context("writing campaigns")?;
        self.sinks
            .revenue
            .write_all(rev.as_bytes())
            .context("writing revenue")?;
        Journeys::write_header(&mut self.sinks.touches)?;
        Ok(())
    }

    // ---------------------------------------------------------------- leads

    fn leads_month(&mut self, m: u32) -> Result<()> {
        let (d0, d1) = self.range(m);
        let ndays = (d1 - d0) as usize;
        let n = self.lead_counts[m as usize];
        self.counts = [[0; 31]; SLOTS];
        let frac = if self.months > 1 {
            m as f64 / (self.months - 1) as f64
        } else {
            0.0
        };
        let shares: Vec<f64> = CHANNELS
            .iter()
            .map(|c| c.share_start + (c.share_end - c.share_start) * frac)
            .collect();
        let event_days = (d0..d1)
            .filter(|d| EVENT_LEAD_DAYS.contains(&civil_from_days(*d).2))
            .count();
        // Leads per day: weekdays 1, weekend days 0.35.
        let day_w: Vec<f64> = (d0..d1)
            .map(|d| if weekday(d) < 5 { 1.0 } else { 0.35 })
            .collect();
        let total_w: f64 = day_w.iter().sum();
        let mut cum = 0.0;
        let mut done = 0u64;
        for k in 0..ndays {
            let day = d0 + k as i64;
            cum += day_w[k];
            let upto = if k + 1 == ndays {
                n
            } else {
                ((n as f64) * cum / total_w).floor() as u64
            };
            let n_day = upto.saturating_sub(done);
            done = done.max(upto);
            let dom = civil_from_days(day).2;
            // Event leads arrive on the days after the show only.
            let mut w = shares.clone();
            w[EVENTS] = if EVENT_LEAD_DAYS.contains(&dom) && event_days > 0 {
                shares[EVENTS] * ndays as f64 / event_days as f64
            } else {
                0.0
            };
            for i in 0..n_day {
                // Sorted times through the day: slot i of n_day, jittered,
                // mapped through the hour-of-day profile.
                let x = (i as f64 + self.lead_rng.f64()) / n_day as f64;
                let minute = self.minute_of_day(x);
                self.lead(m, k, day * MIN_PER_DAY + minute, &w)?;
            }
        }
        Ok(())
    }

    fn minute_of_day(&self, x: f64) -> i64 {
        let target = x * self.hour_cum[24];
        let mut h = 0;
        while h < 23 && self.hour_cum[h + 1] <= target {
            h += 1;
        }
        let within = ((target - self.hour_cum[h]) / HOURS[h]).clamp(0.0, 0.999_999);
        h as i64 * 60 + (within * 60.0) as i64
    }

    fn lead(&mut self, m: u32, day_idx: usize, created: i64, weights: &[f64]) -> Result<()> {
        let end = self.end;
        let r = &mut self.lead_rng;
        let ch = r.pick(weights);
        let c = &CHANNELS[ch];
        let seg = r.pick(&c.segment_mix);
        let owners = owners_of(seg);
        let owner = owners.start + r.below(owners.len() as u64) as usize;
        let o = &OWNERS[owner];
        let mut campaign = match ch {
            PAID_SEARCH | PAID_SOCIAL => {
                let w: Vec<f64> = AD_CAMPAIGNS
                    .iter()
                    .map(|a| if a.2 == ch { a.3 } else { 0.0 })
                    .collect();
                Some(Camp {
                    slot: r.pick(&w) as u8,
                    month: m,
                })
            }
            WEBINAR => Some(Camp {
                slot: SLOT_WEBINAR as u8,
                month: m,
            }),
            EVENTS => Some(Camp {
                slot: SLOT_EVENT as u8,
                month: m,
            }),
            _ => None,
        };
        // Real CRMs lose a little tracking: 3% of paid leads have no
        // campaign, 1% have a campaign but no lead source.
        if campaign.is_some() && r.chance(0.03) {
            campaign = None;
        }
        let channel_blank = campaign.is_some() && r.chance(0.01);
        if let Some(cp) = campaign {
            self.counts[cp.slot as usize][day_idx] += 1;
        }

        let mut mql = None;
        let mut sal = None;
        let mut sql = None;
        let mut contact = None;
        let mut dq = None;
        let mut dq_reason = None;
        let dq_w: &[f64] = if c.misfit_heavy {
            &DQ_WEIGHTS_MISFIT
        } else {
            &DQ_WEIGHTS
        };
        let day = MIN_PER_DAY as f64;
        if ch == OUTBOUND {
            // Prospected by sales: contacted at once, never an MQL; the
            // few that qualify go straight to SQL (a skipped stage).
            let t = created + to_minutes(r.lognormal(45.0, 1.0)).max(1);
            contact = Some(t);
            if r.chance(c.p_sql * SEG_SQL[seg]) {
                let s = t + to_minutes(r.lognormal(8.0 * day, 0.8)).max(60);
                sql = Some(s);
                if r.chance(0.5) {
                    sal = Some(t + ((s - t) as f64 * r.range(0.2, 0.8)) as i64);
                }
            } else if r.chance(0.35) {
                dq = Some(t + to_minutes(r.lognormal(6.0 * day, 1.0)).max(10));
                dq_reason = Some(DQ_REASONS[r.pick(dq_w)]);
            }
        } else if r.chance(c.p_mql) {
            // Scored at once for 45% (form fill), else after a nurture delay.
            let mq = if r.chance(0.45) {
                created + r.below(5) as i64
            } else {
                created + to_minutes(r.lognormal(36.0 * 60.0, 1.2))
            };
            mql = Some(mq);
            if r.chance((c.p_never * o.neglect).min(0.95)) {
                // Never contacted; a cleanup disqualifies some much later.
                if r.chance(0.15) {
                    dq = Some(mq + to_minutes(r.lognormal(30.0 * day, 0.5)).max(10));
                    dq_reason = Some(DQ_CLEANUP[r.below(DQ_CLEANUP.len() as u64) as usize]);
                }
            } else {
                let early = mq - created >= 30 && r.chance(0.12);
                let (t, resp) = if early {
                    // Contacted before the MQL date (sales got there first).
                    (created + 1 + r.below((mq - created - 1) as u64) as i64, 0)
                } else {
                    let resp = to_minutes(r.lognormal(c.response_median_h * 60.0 * o.speed, 1.4))
                        .clamp(1, 45 * MIN_PER_DAY);
                    (mq + resp, resp)
                };
                contact = Some(t);
                let speed = if resp <= 60 {
                    1.25
                } else if resp <= 24 * 60 {
                    1.0
                } else if resp <= 72 * 60 {
                    0.75
                } else {
                    0.5
                };
                if r.chance((c.p_sql * speed * SEG_SQL[seg]).min(0.95)) {
                    let s = t + to_minutes(r.lognormal(3.0 * day, 0.9)).max(30);
                    sql = Some(s);
                    // 15% skip SAL (no SAL date).
                    if r.chance(0.85) {
                        sal = Some(t + ((s - t) as f64 * r.range(0.1, 0.6)) as i64);
                    }
                    // Out of order: an MQL date back-filled after the SQL.
                    if r.chance(0.004) {
                        mql = Some(s + to_minutes(r.lognormal(2.0 * day, 0.5)).max(1));
                    }
                } else {
                    if r.chance(0.55) {
                        sal = Some(t + to_minutes(r.lognormal(6.0 * 60.0, 1.0)));
                    }
                    if r.chance(0.75) {
                        let from = sal.unwrap_or(t);
                        dq = Some(from + to_minutes(r.lognormal(5.0 * day, 1.0)).max(10));
                        dq_reason = Some(DQ_REASONS[r.pick(dq_w)]);
                    }
                }
            }
        } else if r.chance(0.03) {
            // Fast-tracked demo request: straight to sales, SQL without MQL date.
            let t = created + to_minutes(r.lognormal(2.0 * 60.0, 1.0)).max(1);
            contact = Some(t);
            let s = t + to_minutes(r.lognormal(2.0 * day, 0.8)).max(30);
            sql = Some(s);
            if r.chance(0.5) {
                sal = Some(t + ((s - t) as f64 * r.range(0.2, 0.8)) as i64);
            }
        } else {
            if r.chance(0.06) {
                contact = Some(created + to_minutes(r.lognormal(3.0 * day, 1.0)).max(1));
            }
            if r.chance(0.10) {
                dq = Some(created + to_minutes(r.lognormal(3.0 * day, 1.0)).max(1));
                dq_reason = Some(DQ_REASONS[r.pick(dq_w)]);
            }
        }

        let lead_id = self.next_lead;
        self.next_lead += 1;
        let account = match sql {
            Some(s) if s < end => {
                self.next_account += 1;
                Some(self.next_account - 1)
            }
            _ => None,
        };
        let seen = |t: Option<i64>| t.filter(|t| *t < end);
        let dq_seen = seen(dq);
        {
            let channel = if channel_blank { None } else { Some(c.name) };
            let mut row = Row::new(&mut self.buf, self.style);
            row.id("L-", Some(lead_id), 8);
            row.datetime(Some(created));
            row.opt_text(channel);
            row.raw(|b| push_campaign_id(b, campaign, self.month0));
            row.text(SEGMENTS[seg]);
            row.text(o.name);
            row.id("A-", account, 6);
            row.datetime(seen(mql));
            row.datetime(seen(sal));
            row.datetime(seen(sql));
            row.datetime(seen(contact));
            row.datetime(dq_seen);
            row.opt_text(dq_seen.and(dq_reason));
            row.end();
        }
        self.sinks
            .leads
            .write_all(&self.buf)
            .context("writing leads")?;
        self.stats.leads += 1;

        let conversion = self.lead_opps(
            sql,
            ch,
            seg,
            owner,
            account,
            lead_id,
            campaign,
            channel_blank,
        )?;
        let facts = LeadFacts {
            num: lead_id,
            created,
            channel: ch,
            campaign,
            conversion,
        };
        self.journeys.lead(&mut self.sinks.touches, &facts)
    }
}
