//! The simulation's deals: a lead's opportunities and their outcome, the
//! deals with no lead, and the opportunity rows written.

use std::io::Write;

use anyhow::{Context, Result};

use super::*;

impl<W: Write> Sim<'_, W> {
    /// Opportunities of a lead: 88% of SQLs get one a day or so later; 15%
    /// of those lost come back with a second one months later. Returns the
    /// lead's conversion instant: midnight of its won deal's close date.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn lead_opps(
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
    pub(super) fn new_business(&mut self, ch: usize, seg: usize, created: i64) -> Outcome {
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
    pub(super) fn no_lead_deals(&mut self, m: u32) -> Result<()> {
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

    pub(super) fn write_opp(&mut self, o: &Opp) -> Result<()> {
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
}

/// The deal as the export sees it: closed when its close date is before the
/// export instant, else open at a stage by how far along it is (stalled
/// deals sit in an early stage with no close date).
#[allow(clippy::too_many_arguments)]
pub(super) fn resolve(
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
