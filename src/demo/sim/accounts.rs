//! The simulation's customer accounts, stepped one month at a time: MRR
//! rows, expansion, contraction, renewal, churn and win-back.

use std::io::Write;

use anyhow::{Context, Result};

use super::*;

impl<W: Write> Sim<'_, W> {
    pub(super) fn accounts_month(&mut self, m: u32) -> Result<()> {
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
