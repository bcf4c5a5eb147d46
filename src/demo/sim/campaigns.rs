//! The simulation's campaign spend rows and campaign ids and names.

use std::io::Write;

use anyhow::{Context, Result};

use super::*;

impl<W: Write> Sim<'_, W> {
    pub(super) fn campaigns_month(&mut self, m: u32) -> Result<()> {
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
