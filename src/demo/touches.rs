//! Marketing touches of the demo leads: multi-touch journeys with a known
//! causal effect per channel, and the truth that follows from them (how many
//! conversions disappear when one channel's touches are removed).
//!
//! The causal model (numbers in `model.rs`, prose in `docs/demo.md`): a lead
//! converts (its first won new-business deal, as the simulation already
//! decided it) iff `U < p(J)`, where `J` is the set of channels with a causal
//! effect on its journey, `p(J) = base + sum of their effects` and `U` is
//! uniform on [0, 1). Given the outcome, `J` is drawn from `P(J | outcome)`
//! by rejection sampling from the journey prior, then `U` from its
//! conditional range. Direct and Brand Search (no effect) are added after
//! that, just before the conversion, on converting journeys only. The truth
//! for channel `c`: the lead's conversion is lost iff `U >= p(J \ c)`.
//!
//! Every lead draws from its own generator, keyed by (seed, lead number),
//! never from the lead, campaign or account streams: the four other tables
//! are the same bytes with or without touches. Rows are written lead by lead
//! (in time order within a lead); nothing is kept per lead beyond the lead
//! being drawn.

use std::io::Write;

use anyhow::{Context, Result};

use super::fmt::{civil_from_days, days_from_civil, Row, MIN_PER_DAY};
use super::model::*;
use super::rng::Rng;
use super::sim::{push_campaign_id, Camp};
use super::{Headers, Truth};

pub const TOUCH_COLS: [&str; 7] = [
    "lead_id",
    "touched_at",
    "channel",
    "campaign_id",
    "touch_type",
    "source",
    "medium",
];
pub const TRUTH_COLS: [&str; 3] = ["channel", "conversions_lost", "share"];

/// Domain of the per-lead touch generators (any constant other streams do
/// not use).
const TOUCH_DOMAIN: u64 = 0x7011_C4E5;
/// Rejection sampling gives up after this many draws and keeps the last one
/// (never reached in practice: the acceptance rate is above 1/20).
const MAX_DRAWS: u32 = 10_000;
/// Channels with a causal effect: bits 0-7 (Direct and Brand Search have none).
const CAUSAL: u16 = 0b1111_1111;

/// What the touches of one lead depend on.
pub struct LeadFacts {
    pub num: u64,
    /// Creation instant, minutes.
    pub created: i64,
    /// Source channel (an index of `CHANNELS`, the same in `TOUCH_CHANNELS`).
    pub channel: usize,
    pub campaign: Option<Camp>,
    /// Conversion instant (the won deal's close date, midnight), minutes.
    pub conversion: Option<i64>,
}

#[derive(Clone, Copy)]
struct Touch {
    at: i64,
    ch: usize,
    camp: Option<Camp>,
    touch_type: &'static str,
    utm: Option<(&'static str, &'static str)>,
    blank_channel: bool,
}

/// The touch writer: per-run counters and a reusable per-lead buffer.
pub struct Journeys {
    seed: u64,
    /// First instant of the data and the export instant, minutes.
    start: i64,
    end: i64,
    month0: i64,
    months: u32,
    lost: [u64; 10],
    conversions: u64,
    pub rows: u64,
    touches: Vec<Touch>,
    buf: Vec<u8>,
    /// (lead number, U) of every lead, kept only when asked (tests replay
    /// the truth from the written files and these).
    pub u_log: Option<Vec<(u64, f64)>>,
}

impl Journeys {
    pub fn new(seed: u64, start: i64, end: i64, month0: i64, months: u32) -> Journeys {
        Journeys {
            seed,
            start,
            end,
            month0,
            months,
            lost: [0; 10],
            conversions: 0,
            rows: 0,
            touches: Vec::with_capacity(MAX_TOUCHES),
            buf: Vec::with_capacity(128),
            u_log: None,
        }
    }

    pub fn write_header<W: Write>(out: &mut W) -> Result<()> {
        out.write_all(format!("{}\n", TOUCH_COLS.join(",")).as_bytes())
            .context("writing touches")
    }

    /// The truth so far: conversions, and conversions lost per channel.
    pub fn truth(&self) -> Truth {
        Truth {
            conversions: self.conversions,
            lost: TOUCH_CHANNELS
                .iter()
                .zip(self.lost)
                .map(|(c, n)| (c.name, n))
                .collect(),
        }
    }

    /// Draw, count and write the touches of one lead.
    pub fn lead<W: Write>(&mut self, out: &mut W, lead: &LeadFacts) -> Result<()> {
        let mut r = Rng::keyed(self.seed, TOUCH_DOMAIN, lead.num);
        let converted = lead.conversion.is_some();
        let src: u16 = 1 << lead.channel;
        let (set, u) = draw_causal_set(&mut r, src, converted);
        if let Some(log) = &mut self.u_log {
            log.push((lead.num, u));
        }
        if converted {
            self.conversions += 1;
            for c in 0..8 {
                let bit = 1u16 << c;
                if set & bit != 0 && u >= conversion_probability(set & !bit) {
                    self.lost[c] += 1;
                }
            }
        }
        self.place(&mut r, lead, set);
        for t in &self.touches {
            let ch = &TOUCH_CHANNELS[t.ch];
            let mut row = Row::new(&mut self.buf, Headers::Canonical);
            row.id("L-", Some(lead.num), 8);
            row.datetime(Some(t.at));
            row.text(if t.blank_channel { "" } else { ch.name });
            let month0 = self.month0;
            row.raw(|b| push_campaign_id(b, t.camp, month0));
            row.text(t.touch_type);
            row.text(t.utm.map_or("", |u| u.0));
            row.text(t.utm.map_or("", |u| u.1));
            row.end();
            out.write_all(&self.buf).context("writing touches")?;
        }
        self.rows += self.touches.len() as u64;
        Ok(())
    }

    /// The lead's touches, in time order, into `self.touches`: one per
    /// channel of `set` (the source channel's at the creation instant), then
    /// repeats while there is room, then the closing touches of a
    /// converting lead.
    fn place(&mut self, r: &mut Rng, lead: &LeadFacts, set: u16) {
        self.touches.clear();
        let created = lead.created;
        let day = MIN_PER_DAY;
        // Causal touches fall in [lo, hi]; closing ones in (hi, conversion].
        let hi = match lead.conversion {
            Some(c) => c - (CLOSING_DAYS * day).min((c - created).max(0) / 2),
            None => (created + OPEN_JOURNEY_DAYS * day).min(self.end - day),
        }
        .max(created);
        let lo = (created - EARLY_DAYS * day).max(self.start).min(created);
        let mut closing = Vec::new();
        if lead.conversion.is_some() {
            for ch in [DIRECT, BRAND_SEARCH] {
                if r.chance(TOUCH_CHANNELS[ch].prior) {
                    closing.push(ch);
                    if ch == DIRECT && r.chance(TOUCH_REPEAT) {
                        closing.push(ch);
                    }
                }
            }
        }
        let room = MAX_TOUCHES - closing.len();
        // One touch per channel of the set.
        let mut repeats = [0u8; 8];
        for (ch, rep) in repeats.iter_mut().enumerate() {
            if set & (1 << ch) == 0 {
                continue;
            }
            let t = if ch == lead.channel {
                self.creation_touch(r, lead)
            } else {
                self.touch(r, ch, lo, created, hi)
            };
            self.touches.push(t);
            let mut n = 1;
            while n < 4 && r.chance(TOUCH_REPEAT) {
                n += 1;
            }
            *rep = n - 1;
        }
        for (ch, rep) in repeats.iter().enumerate() {
            for _ in 0..*rep {
                if self.touches.len() >= room {
                    break;
                }
                let t = self.touch(r, ch, lo, created, hi);
                self.touches.push(t);
            }
        }
        if let Some(conv) = lead.conversion {
            for ch in closing {
                let at = if conv > hi {
                    hi + 1 + r.below((conv - hi) as u64) as i64
                } else {
                    conv
                };
                let t = self.styled(r, ch, at, None, TOUCH_CHANNELS[ch].touch_type);
                self.touches.push(t);
            }
        }
        self.touches.sort_by_key(|t| (t.at, t.ch));
    }

    /// The touch that created the lead: its own channel and campaign, at its
    /// creation instant.
    fn creation_touch(&self, r: &mut Rng, lead: &LeadFacts) -> Touch {
        let touch_type = match lead.channel {
            EVENTS => "badge_scan",
            OUTBOUND => "sales_email",
            REFERRAL => "referral",
            _ => "form_fill",
        };
        self.styled(r, lead.channel, lead.created, lead.campaign, touch_type)
    }

    /// Another touch of channel `ch`, at a time its phase gives.
    fn touch(&self, r: &mut Rng, ch: usize, lo: i64, created: i64, hi: i64) -> Touch {
        let (pre, post) = ((created - lo) as f64, (hi - created) as f64);
        let c = &TOUCH_CHANNELS[ch];
        let mut late = c.phase == Phase::Late;
        if ch == PAID_SOCIAL {
            // Half of Paid Social is retargeting, late in the journey.
            late = r.chance(0.5);
        }
        let at = if late {
            created + (post * r.range(0.6, 1.0)) as i64
        } else if c.phase == Phase::Mid {
            created + (post * r.range(0.05, 0.7)) as i64
        } else if pre >= 1.0 && r.chance(0.7) {
            created - 1 - r.below(pre as u64) as i64
        } else {
            created + (post * r.range(0.0, 0.3)) as i64
        };
        let at = if ch == EVENTS {
            self.event_day(r, at, lo, hi)
        } else {
            at
        };
        let month = self.month_of(at);
        let camp = match ch {
            PAID_SEARCH | PAID_SOCIAL if r.chance(0.92) => {
                let w: Vec<f64> = AD_CAMPAIGNS
                    .iter()
                    .enumerate()
                    .map(|(i, a)| match (ch, late) {
                        (PAID_SOCIAL, true) => f64::from(u8::from(i == 5)),
                        (PAID_SOCIAL, false) if i == 5 => 0.0,
                        _ if a.2 == ch => a.3,
                        _ => 0.0,
                    })
                    .collect();
                Some(Camp {
                    slot: r.pick(&w) as u8,
                    month,
                })
            }
            WEBINAR => Some(Camp {
                slot: SLOT_WEBINAR as u8,
                month,
            }),
            EVENTS => Some(Camp {
                slot: SLOT_EVENT as u8,
                month,
            }),
            _ => None,
        };
        let touch_type = match (ch, late) {
            (PAID_SOCIAL, false) => "form_fill",
            _ => c.touch_type,
        };
        self.styled(r, ch, at, camp, touch_type)
    }

    /// An Events touch moves to the event of its month (days 10-12, 9:00 to
    /// 17:00) when that stays within the journey.
    fn event_day(&self, r: &mut Rng, at: i64, lo: i64, hi: i64) -> i64 {
        let (y, m, _) = civil_from_days(at.div_euclid(MIN_PER_DAY));
        let day = days_from_civil(y, m, 10 + r.below(3) as u32);
        let moved = day * MIN_PER_DAY + 9 * 60 + r.below(8 * 60) as i64;
        if (lo..=hi).contains(&moved) {
            moved
        } else {
            at
        }
    }

    /// Month index of an instant, clamped to the simulated months.
    fn month_of(&self, at: i64) -> u32 {
        let (y, m, _) = civil_from_days(at.div_euclid(MIN_PER_DAY));
        (y * 12 + m as i64 - 1 - self.month0).clamp(0, self.months as i64 - 1) as u32
    }

    /// UTM values (by the channel's share) and, on some touches whose UTM
    /// values resolve to the channel, an empty `channel`.
    fn styled(
        &self,
        r: &mut Rng,
        ch: usize,
        at: i64,
        camp: Option<Camp>,
        touch_type: &'static str,
    ) -> Touch {
        let c = &TOUCH_CHANNELS[ch];
        let utm = r.chance(c.utm_share).then(|| {
            let source = match (ch, camp.map(|k| k.slot as usize)) {
                (PAID_SEARCH, Some(3)) => "bing",
                (PAID_SOCIAL, Some(6 | 7)) => "facebook",
                _ => c.utm.0,
            };
            (source, c.utm.1)
        });
        let blank_channel = utm.is_some() && c.utm_resolves && r.chance(BLANK_CHANNEL);
        Touch {
            at,
            ch,
            camp,
            touch_type,
            utm,
            blank_channel,
        }
    }
}

/// J and U of one lead: J from the journey prior (the source channel always
/// in it) conditioned on the outcome by rejection sampling (accept with
/// probability p(J) / p_max when it converted, (1 - p(J)) / (1 - p_min)
/// when not: exact, and fast because p_max and p_min bound p), then U
/// uniform on [0, p(J)) or [p(J), 1).
fn draw_causal_set(r: &mut Rng, src: u16, converted: bool) -> (u16, f64) {
    let p_max = conversion_probability(CAUSAL);
    let p_min = conversion_probability(src);
    let mut set = src;
    for _ in 0..MAX_DRAWS {
        set = src;
        for (c, ch) in TOUCH_CHANNELS.iter().enumerate().take(8) {
            if (1u16 << c) != src && r.chance(ch.prior) {
                set |= 1 << c;
            }
        }
        let p = conversion_probability(set);
        let accept = if converted {
            r.f64() * p_max < p
        } else {
            r.f64() * (1.0 - p_min) < 1.0 - p
        };
        if accept {
            break;
        }
    }
    let p = conversion_probability(set);
    let u = if converted {
        let u = p * r.f64();
        // p * x < p for x < 1 unless rounding meets p itself.
        if u < p {
            u
        } else {
            p / 2.0
        }
    } else {
        p + (1.0 - p) * r.f64()
    };
    (set, u)
}

/// `truth.csv`: one row per touch channel, most conversions lost first
/// (ties in channel order); `share` = the channel's conversions lost / the
/// sum over channels, six decimals, empty when nothing is lost.
pub fn truth_csv(truth: &Truth) -> Vec<u8> {
    let total: u64 = truth.lost.iter().map(|(_, n)| n).sum();
    let mut rows: Vec<&(&str, u64)> = truth.lost.iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    let mut out = format!("{}\n", TRUTH_COLS.join(","));
    for (name, n) in rows {
        let share = if total == 0 {
            String::new()
        } else {
            format!("{:.6}", *n as f64 / total as f64)
        };
        out.push_str(&format!("{name},{n},{share}\n"));
    }
    out.into_bytes()
}
