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

use std::io::Write;

use anyhow::{bail, Context, Result};

use super::fmt::{civil_from_days, days_from_civil, push_padded, weekday, Row, MIN_PER_DAY};
use super::model::*;
use super::rng::Rng;
use super::touches::{Journeys, LeadFacts};
use super::{DemoOptions, DemoSinks, DemoStats, Headers};
use crate::input::presets;
use crate::model::TableKind;

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

    /// Opportunities of a lead: 88% of SQLs get one a day or so later; 15%
    /// of those lost come back with a second one months later. Returns the
    /// lead's conversion instant: midnight of its won deal's close date.
    #[allow(clippy::too_many_arguments)]
    fn lead_opps(
        &mut self,
        sql: Option<i64>,
        ch: usize,
        seg: usize,
        owner: usize,
        account: Option<u64>,
        lead_id: u64,
        campaign: Option<Camp>,
        channel_blank: bool,
    ) -> Result<Option<i64>> {
        let end = self.end;
        let day = MIN_PER_DAY as f64;
        let mut conversion = None;
        let Some(s) = sql else { return Ok(None) };
        if !self.lead_rng.chance(0.88) {
            return Ok(None);
        }
        let mut created_opp = s + to_minutes(self.lead_rng.lognormal(day, 1.0)).max(10);
        for attempt in 0..2 {
            if created_opp >= end {
                break;
            }
            let out = self.new_business(ch, seg, created_opp);
            let blank_channel = channel_blank || self.lead_rng.chance(0.05);
            let blank_segment = self.lead_rng.chance(0.05);
            let opp = Opp {
                created: created_opp,
                close_day: out.close_day,
                stage: out.stage,
                amount: out.amount,
                typ: TYPE_NEW,
                account,
                lead: Some(lead_id),
                campaign,
                channel: if blank_channel { None } else { Some(ch) },
                segment: if blank_segment { None } else { Some(seg) },
                owner,
                loss_reason: out.loss_reason,
            };
            self.write_opp(&opp)?;
            if out.won() {
                conversion = out.close_day.map(|cd| cd * MIN_PER_DAY);
                if let (Some(a), Some(cd), Some(amt)) = (account, out.close_day, out.amount) {
                    self.add_customer(a, seg, owner, cd, amt);
                }
            }
            let lost = out.stage == STAGE_LOST;
            if attempt == 0 && lost && self.lead_rng.chance(0.15) {
                let cd = out.close_day.unwrap_or(created_opp / MIN_PER_DAY);
                created_opp = cd * MIN_PER_DAY
                    + to_minutes(self.lead_rng.lognormal(90.0 * day, 0.5))
                    + 9 * 60;
            } else {
                break;
            }
        }
        Ok(conversion)
    }

    /// A new-business deal from channel `ch` in segment `seg`.
    fn new_business(&mut self, ch: usize, seg: usize, created: i64) -> Outcome {
        let c = &CHANNELS[ch];
        let r = &mut self.lead_rng;
        let amount = cents(r.lognormal(SEG_ACV[seg] * c.amount_factor, SEG_ACV_SIGMA[seg]));
        let stalled = r.chance(0.04);
        let won = !stalled && r.chance(c.p_win * SEG_WIN[seg]);
        let median = SEG_CYCLE_DAYS[seg] * if won { 1.0 } else { 0.8 };
        let cycle = r.lognormal(median, 0.5).round().clamp(1.0, 720.0) as i64;
        let close_day = created.div_euclid(MIN_PER_DAY) + cycle;
        let w: &[f64] = if c.misfit_heavy {
            &LOSS_WEIGHTS_MISFIT
        } else {
            &LOSS_WEIGHTS
        };
        resolve(r, self.end, created, close_day, won, stalled, amount, w)
    }

    fn add_customer(&mut self, num: u64, seg: usize, owner: usize, close_day: i64, amount: i64) {
        let start = self.month_after(close_day);
        if start >= self.months {
            return;
        }
        self.accounts.push(Account {
            num,
            mrr: (amount as f64 / 12.0).round() as i64,
            prev_mrr: 0,
            start,
            anniv: start + 12,
            churned_at: NONE,
            exp_month: NONE,
            exp_delta: 0,
            ren_month: NONE,
            ren_factor: 1.0,
            winback_month: NONE,
            winback_mrr: 0,
            seg: seg as u8,
            owner: owner as u8,
            state: State::Pending,
        });
    }

    /// Deals with no lead: sourced by account executives or partners
    /// directly (0.4% of the month's lead volume).
    fn no_lead_deals(&mut self, m: u32) -> Result<()> {
        let (d0, d1) = self.range(m);
        let expected = self.lead_counts[m as usize] as f64 * 0.004;
        let n = (expected + self.lead_rng.f64()).floor() as u64;
        for _ in 0..n {
            let ch = if self.lead_rng.chance(0.5) {
                OUTBOUND
            } else {
                REFERRAL
            };
            let seg = self.lead_rng.pick(&[0.2, 0.4, 0.4]);
            let owners = owners_of(seg);
            let owner = owners.start + self.lead_rng.below(owners.len() as u64) as usize;
            let created =
                d0 * MIN_PER_DAY + self.lead_rng.below(((d1 - d0) * MIN_PER_DAY) as u64) as i64;
            let account = self.next_account;
            self.next_account += 1;
            let out = self.new_business(ch, seg, created);
            self.write_opp(&Opp {
                created,
                close_day: out.close_day,
                stage: out.stage,
                amount: out.amount,
                typ: TYPE_NEW,
                account: Some(account),
                lead: None,
                campaign: None,
                channel: Some(ch),
                segment: Some(seg),
                owner,
                loss_reason: out.loss_reason,
            })?;
            if out.won() {
                if let (Some(cd), Some(amt)) = (out.close_day, out.amount) {
                    self.add_customer(account, seg, owner, cd, amt);
                }
            }
        }
        Ok(())
    }

    fn write_opp(&mut self, o: &Opp) -> Result<()> {
        let id = self.next_opp;
        self.next_opp += 1;
        let (stages, types): (&[&str; 7], &[&str; 3]) = match self.style {
            Headers::Canonical => (&STAGES_CANONICAL, &TYPES_CANONICAL),
            Headers::Salesforce => (&STAGES_SALESFORCE, &TYPES_SALESFORCE),
            Headers::Hubspot => (&STAGES_HUBSPOT, &TYPES_HUBSPOT),
        };
        let month0 = self.month0;
        let mut row = Row::new(&mut self.buf, self.style);
        row.id("O-", Some(id), 7);
        row.datetime(Some(o.created));
        row.date(o.close_day);
        row.text(stages[o.stage]);
        if self.style == Headers::Canonical {
            row.text(STATUS[status_of(o.stage)]);
        }
        row.cents(o.amount);
        row.text(types[o.typ]);
        row.id("A-", o.account, 6);
        row.id("L-", o.lead, 8);
        row.raw(|b| push_campaign_id(b, o.campaign, month0));
        row.opt_text(o.channel.map(|c| CHANNELS[c].name));
        row.opt_text(o.segment.map(|s| SEGMENTS[s]));
        row.text(OWNERS[o.owner].name);
        row.opt_text(o.loss_reason);
        row.end();
        self.sinks
            .opportunities
            .write_all(&self.buf)
            .context("writing opportunities")?;
        self.stats.opportunities += 1;
        Ok(())
    }

    // ------------------------------------------------------------ campaigns

    fn campaigns_month(&mut self, m: u32) -> Result<()> {
        let (d0, d1) = self.range(m);
        let ndays = (d1 - d0) as usize;
        let mut spend = [[0i64; 31]; SLOTS];
        let r = &mut self.camp_rng;
        for (slot, daily) in spend.iter_mut().enumerate() {
            let ch = slot_channel(slot);
            let leads: u32 = self.counts[slot][..ndays].iter().sum();
            // The month's budget follows the leads it bought, at the
            // channel's cost per lead, +-15%.
            let budget = leads as f64 * CHANNELS[ch].cpl * r.range(0.85, 1.15);
            let mut w = [0f64; 31];
            for (k, wk) in w.iter_mut().enumerate().take(ndays) {
                let day = d0 + k as i64;
                let dom = civil_from_days(day).2;
                let active = match slot {
                    SLOT_WEBINAR => WEBINAR_SPEND_DAYS.contains(&dom),
                    SLOT_EVENT => EVENT_SPEND_DAYS.contains(&dom),
                    _ => true,
                };
                if active {
                    *wk = if weekday(day) < 5 { 1.0 } else { 0.5 } * r.range(0.8, 1.2);
                }
            }
            let total: f64 = w.iter().sum();
            if budget <= 0.0 || total <= 0.0 {
                continue;
            }
            for k in 0..ndays {
                if w[k] > 0.0 {
                    // At least one cent, so an active day always has a row.
                    daily[k] = cents(budget * w[k] / total).max(1);
                }
            }
        }
        for k in 0..ndays {
            let day = d0 + k as i64;
            for (slot, daily) in spend.iter().enumerate() {
                let sp = daily[k];
                if sp == 0 {
                    continue;
                }
                let ch = slot_channel(slot);
                let c = &CHANNELS[ch];
                let (impr, clicks, conv) = if c.cpc > 0.0 {
                    let r = &mut self.camp_rng;
                    let clicks = (sp as f64 / 100.0 / (c.cpc * r.range(0.85, 1.15))).round();
                    let impr = (clicks / (c.ctr * r.range(0.8, 1.2))).round();
                    (
                        Some(impr as u64),
                        Some(clicks as u64),
                        Some(self.counts[slot][k] as u64),
                    )
                } else {
                    (None, None, None)
                };
                let camp = Some(Camp {
                    slot: slot as u8,
                    month: m,
                });
                let month0 = self.month0;
                let mut row = Row::new(&mut self.buf, Headers::Canonical);
                row.date(Some(day));
                row.raw(|b| push_campaign_id(b, camp, month0));
                row.raw(|b| push_campaign_name(b, slot, m, month0));
                row.text(c.name);
                row.cents(Some(sp));
                row.uint(impr);
                row.uint(clicks);
                row.uint(conv);
                row.end();
                self.sinks
                    .campaigns
                    .write_all(&self.buf)
                    .context("writing campaigns")?;
                self.stats.campaign_rows += 1;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------- accounts

    fn accounts_month(&mut self, m: u32) -> Result<()> {
        let month_day = self.cal_start(m);
        for i in 0..self.accounts.len() {
            let mut a = self.accounts[i];
            match a.state {
                State::Gone => continue,
                State::Pending => {
                    if a.start != m {
                        continue;
                    }
                    a.state = State::Active;
                }
                State::Churned => {
                    if a.winback_month == m {
                        a.state = State::Active;
                        a.mrr = a.winback_mrr;
                        a.start = m;
                        a.anniv = m + 12;
                        a.churned_at = NONE;
                        a.winback_month = NONE;
                        self.stats.reactivated += 1;
                    } else {
                        if a.winback_month == NONE {
                            if m.saturating_sub(a.churned_at) > 18 {
                                a.state = State::Gone;
                            } else if self.acct_rng.chance(0.02) {
                                self.win_back(&mut a, m)?;
                            }
                        }
                        self.accounts[i] = a;
                        continue;
                    }
                }
                State::Active => {}
            }
            let seg = a.seg as usize;
            if a.exp_month == m {
                a.mrr += a.exp_delta;
                a.exp_month = NONE;
            }
            let mut churn = false;
            if m == a.anniv {
                if a.ren_month == m {
                    if a.ren_factor == 0.0 {
                        churn = true;
                    } else {
                        a.mrr = (a.mrr as f64 * a.ren_factor).round() as i64;
                    }
                }
                a.ren_month = NONE;
                a.anniv += 12;
            } else if self.acct_rng.chance(SEG_CHURN[seg]) {
                churn = true;
            } else if self.acct_rng.chance(0.008) {
                // Seats cut mid-term: contraction.
                a.mrr = (a.mrr as f64 * self.acct_rng.range(0.6, 0.9)).round() as i64;
            }
            if churn {
                a.state = State::Churned;
                a.churned_at = m;
                a.prev_mrr = a.mrr;
                a.mrr = 0;
                a.exp_month = NONE;
                self.stats.churned += 1;
                self.accounts[i] = a;
                continue;
            }
            if m + 2 == a.anniv {
                self.renewal(&mut a, m)?;
            }
            if m >= a.start + 2 && a.exp_month == NONE && self.acct_rng.chance(SEG_EXPANSION[seg]) {
                self.expansion(&mut a, m)?;
            }
            {
                let mut row = Row::new(&mut self.buf, Headers::Canonical);
                row.id("A-", Some(a.num), 6);
                row.date(Some(month_day));
                row.cents(Some(a.mrr));
                row.end();
            }
            self.sinks
                .revenue
                .write_all(&self.buf)
                .context("writing revenue")?;
            self.stats.revenue_rows += 1;
            self.accounts[i] = a;
        }
        Ok(())
    }

    fn random_minute(&mut self, m: u32) -> i64 {
        let (d0, d1) = self.range(m);
        d0 * MIN_PER_DAY + self.acct_rng.below(((d1 - d0) * MIN_PER_DAY) as u64) as i64
    }

    fn account_opp(&mut self, a: &Account, typ: usize, created: i64, out: &Outcome) -> Result<()> {
        self.write_opp(&Opp {
            created,
            close_day: out.close_day,
            stage: out.stage,
            amount: out.amount,
            typ,
            account: Some(a.num),
            lead: None,
            campaign: None,
            channel: if typ == TYPE_NEW {
                Some(OUTBOUND)
            } else {
                None
            },
            segment: Some(a.seg as usize),
            owner: a.owner as usize,
            loss_reason: out.loss_reason,
        })
    }

    /// Renewal deal opened two months before the anniversary, closing
    /// around it: won 80-92% (70% flat, 15% price uplift 3-10%, 15%
    /// downgrade 10-40%); lost means churn at the anniversary.
    fn renewal(&mut self, a: &mut Account, m: u32) -> Result<()> {
        let created = self.random_minute(m);
        let anniv_day = self.cal_start(a.anniv);
        let r = &mut self.acct_rng;
        let jitter = (r.normal() * 8.0).round() as i64;
        let close_day = (anniv_day + jitter).max(created.div_euclid(MIN_PER_DAY) + 1);
        let won = r.chance(SEG_RENEWAL_WIN[a.seg as usize]);
        let factor = if !won {
            0.0
        } else {
            let x = r.f64();
            if x < 0.70 {
                1.0
            } else if x < 0.85 {
                r.range(1.03, 1.10)
            } else {
                r.range(0.6, 0.9)
            }
        };
        let arr = a.mrr as f64 * 12.0 / 100.0;
        let amount = cents(if won { arr * factor } else { arr });
        let out = resolve(
            r,
            self.end,
            created,
            close_day,
            won,
            false,
            amount,
            &LOSS_WEIGHTS_RENEWAL,
        );
        if out.close_day.is_some() {
            a.ren_month = a.anniv;
            a.ren_factor = factor;
        }
        self.account_opp(a, TYPE_RENEWAL, created, &out)
    }

    /// Upsell: a quarter of the account's ARR (lognormal), won 55%.
    fn expansion(&mut self, a: &mut Account, m: u32) -> Result<()> {
        let created = self.random_minute(m);
        let r = &mut self.acct_rng;
        let arr = a.mrr as f64 * 12.0 / 100.0;
        let amount = cents(arr * r.lognormal(0.25, 0.5));
        let won = r.chance(0.55);
        let cycle = r.lognormal(25.0, 0.5).round().clamp(1.0, 365.0) as i64;
        let close_day = created.div_euclid(MIN_PER_DAY) + cycle;
        let out = resolve(
            r,
            self.end,
            created,
            close_day,
            won,
            false,
            amount,
            &LOSS_WEIGHTS_EXPANSION,
        );
        match out.close_day {
            None => a.exp_month = BLOCKED,
            Some(cd) if out.won() => {
                a.exp_month = self.month_after(cd);
                a.exp_delta = (amount as f64 / 12.0).round() as i64;
            }
            Some(_) => {}
        }
        self.account_opp(a, TYPE_EXPANSION, created, &out)
    }

    /// Win-back of a churned account: a new-business deal with no lead
    /// (Outbound), 60-100% of the old ARR, won half the time; MRR comes back
    /// the month after it closes (reactivation).
    fn win_back(&mut self, a: &mut Account, m: u32) -> Result<()> {
        let created = self.random_minute(m);
        let r = &mut self.acct_rng;
        let arr = a.prev_mrr as f64 * 12.0 / 100.0;
        let amount = cents(arr * r.range(0.6, 1.0));
        let won = r.chance(0.5);
        let cycle = r.lognormal(30.0, 0.5).round().clamp(1.0, 365.0) as i64;
        let close_day = created.div_euclid(MIN_PER_DAY) + cycle;
        let out = resolve(
            r,
            self.end,
            created,
            close_day,
            won,
            false,
            amount,
            &LOSS_WEIGHTS,
        );
        match out.close_day {
            None => a.winback_month = BLOCKED,
            Some(cd) if out.won() => {
                a.winback_month = self.month_after(cd);
                a.winback_mrr = (amount as f64 / 12.0).round() as i64;
            }
            Some(_) => {}
        }
        self.account_opp(a, TYPE_NEW, created, &out)
    }
}

/// The deal as the export sees it: closed when its close date is before the
/// export instant, else open at a stage by how far along it is (stalled
/// deals sit in an early stage with no close date).
#[allow(clippy::too_many_arguments)]
fn resolve(
    r: &mut Rng,
    end: i64,
    created: i64,
    close_day: i64,
    won: bool,
    stalled: bool,
    amount: i64,
    loss_weights: &[f64],
) -> Outcome {
    let close = close_day * MIN_PER_DAY;
    let loss_pick = r.pick(loss_weights);
    let blank_amount = r.chance(0.3);
    if stalled || close >= end {
        let stage = if stalled {
            r.below(3) as usize
        } else {
            let f = (end - created) as f64 / (close - created).max(1) as f64;
            ((f * 5.0) as usize).min(4)
        };
        // Early-stage deals often have no amount yet.
        let amount = if stage == 0 && blank_amount {
            None
        } else {
            Some(amount)
        };
        Outcome {
            close_day: None,
            stage,
            amount,
            loss_reason: None,
        }
    } else if won {
        Outcome {
            close_day: Some(close_day),
            stage: STAGE_WON,
            amount: Some(amount),
            loss_reason: None,
        }
    } else {
        Outcome {
            close_day: Some(close_day),
            stage: STAGE_LOST,
            amount: Some(amount),
            loss_reason: Some(LOSS_REASONS[loss_pick]),
        }
    }
}

fn status_of(stage: usize) -> usize {
    match stage {
        STAGE_WON => 1,
        STAGE_LOST => 2,
        _ => 0,
    }
}

fn slot_channel(slot: usize) -> usize {
    match slot {
        SLOT_WEBINAR => WEBINAR,
        SLOT_EVENT => EVENTS,
        s => AD_CAMPAIGNS[s].2,
    }
}

fn yymm(month0: i64, m: u32) -> (i64, u32) {
    let t = month0 + m as i64;
    (t.div_euclid(12), (t.rem_euclid(12) + 1) as u32)
}

pub fn push_campaign_id(b: &mut Vec<u8>, camp: Option<Camp>, month0: i64) {
    let Some(c) = camp else { return };
    let slot = c.slot as usize;
    let prefix = match slot {
        SLOT_WEBINAR => "CMP-WEB-",
        SLOT_EVENT => "CMP-EVT-",
        s => {
            b.extend_from_slice(AD_CAMPAIGNS[s].0.as_bytes());
            return;
        }
    };
    let (y, mo) = yymm(month0, c.month);
    b.extend_from_slice(prefix.as_bytes());
    push_padded(b, y.rem_euclid(100) as u64, 2);
    push_padded(b, mo as u64, 2);
}

fn push_campaign_name(b: &mut Vec<u8>, slot: usize, m: u32, month0: i64) {
    let (y, mo) = yymm(month0, m);
    let which = (month0 + m as i64).rem_euclid(6) as usize;
    let name = match slot {
        SLOT_WEBINAR => {
            b.extend_from_slice(b"Webinar - ");
            WEBINAR_TOPICS[which]
        }
        SLOT_EVENT => EVENT_NAMES[which],
        s => {
            b.extend_from_slice(AD_CAMPAIGNS[s].1.as_bytes());
            return;
        }
    };
    b.extend_from_slice(name.as_bytes());
    b.push(b' ');
    push_padded(b, y.max(0) as u64, 4);
    b.push(b'-');
    push_padded(b, mo as u64, 2);
}
