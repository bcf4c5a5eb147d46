//! Paths: each conversion's touches in its lookback window, in path order,
//! or its lead's one-touch fallback path; the one-path-per-lead population
//! that Markov and Shapley learn from; the common-paths table.
//!
//! A lead's touches are a slice of `Compact::touches` (sorted by lead, then
//! `touched_at`, then kind: the contract's tie order), so a window is two
//! binary searches and a path is built into a caller's buffer, never a new
//! allocation per lead.

use std::collections::HashMap;

use super::compact::{CLead, CTouch};
use super::hash::FastMap;
use super::models::Step;
use super::{Conversion, Name};

/// The touches of `touches` (one lead's, in path order) in (end - lookback, end].
pub fn window(touches: &[CTouch], end: i64, lookback: i64) -> &[CTouch] {
    let start = end.saturating_sub(lookback);
    let lo = touches.partition_point(|t| t.at <= start);
    let hi = touches.partition_point(|t| t.at <= end);
    &touches[lo..hi.max(lo)]
}

/// What turns touches and leads into steps: the unit of each touch kind and
/// of each lead's fallback touch, under one `--by`.
pub struct Units<'a> {
    /// Unit of each kind of `Compact::kinds`.
    pub of_kind: Vec<u32>,
    pub leads: &'a [CLead],
    /// `(none)`, and the empty name (which credits `(none)`).
    pub none: u32,
    pub empty: u32,
    pub by_campaign: bool,
}

impl Units<'_> {
    pub fn of_name(&self, n: u32) -> u32 {
        if n == self.empty {
            self.none
        } else {
            n
        }
    }

    pub fn of_lead(&self, lead: usize) -> u32 {
        let l = &self.leads[lead];
        self.of_name(if self.by_campaign { l.campaign } else { l.channel })
    }
}

/// A conversion's path appended to `out`: its lead's touches (`touches`) in
/// (instant - lookback, instant], else one touch at the lead's `created_at`
/// with the lead's unit (even when `created_at` is outside the window).
/// True when the fallback was taken.
pub fn conversion_path(
    touches: &[CTouch],
    u: &Units,
    c: &Conversion,
    lookback: i64,
    out: &mut Vec<Step>,
) -> bool {
    let w = window(touches, c.instant, lookback);
    if w.is_empty() {
        out.push(Step {
            at: u.leads[c.lead].created_at,
            unit: u.of_lead(c.lead),
        });
        true
    } else {
        out.extend(w.iter().map(|t| Step {
            at: t.at,
            unit: u.of_kind[t.kind as usize],
        }));
        false
    }
}

/// Conversion indices grouped by lead, each lead's first conversion
/// (earliest instant, then id, then input order) first.
pub fn conversions_by_lead(conversions: &[Conversion]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..conversions.len() as u32).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&conversions[a as usize], &conversions[b as usize]);
        (x.lead, x.instant, &x.id, a).cmp(&(y.lead, y.instant, &y.id, b))
    });
    order
}

/// One path shape (units with consecutive repeats collapsed, joined by ` > `;
/// `(no touch)` for an empty path) and how its leads converted.
#[derive(Debug, Clone, PartialEq)]
pub struct PathShape {
    pub path: String,
    pub leads: u64,
    pub conversions: u64,
}

impl PathShape {
    pub fn conversion_rate(&self) -> f64 {
        self.conversions as f64 / self.leads as f64
    }
}

/// Lead paths counted per shape (collapsed unit ids), path by path.
#[derive(Debug, Default, Clone)]
pub struct Shapes {
    counts: FastMap<Box<[u32]>, (u64, u64)>,
    scratch: Vec<u32>,
}

impl Shapes {
    pub fn add(&mut self, units: &[u32], converted: bool) {
        self.scratch.clear();
        for &u in units {
            if self.scratch.last() != Some(&u) {
                self.scratch.push(u);
            }
        }
        let e = match self.counts.get_mut(&self.scratch[..]) {
            Some(e) => e,
            None => self.counts.entry(self.scratch[..].into()).or_default(),
        };
        e.0 += 1;
        e.1 += converted as u64;
    }

    /// Every shape so far (collapsed unit ids), with its leads and
    /// conversions, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u32], u64, u64)> + '_ {
        self.counts.iter().map(|(units, &(l, c))| (&units[..], l, c))
    }

    /// Add the counts of `other` (other lead paths).
    pub fn merge(&mut self, mut other: Shapes) {
        if other.counts.len() > self.counts.len() {
            std::mem::swap(&mut self.counts, &mut other.counts);
        }
        for (shape, (leads, conversions)) in other.counts {
            let e = self.counts.entry(shape).or_default();
            e.0 += leads;
            e.1 += conversions;
        }
    }

    /// Every shape, most leads first, then by path text (two unit sequences
    /// written alike, e.g. a channel named `a > b`, are one shape).
    pub fn finish(self, names: &[Name]) -> Vec<PathShape> {
        let mut by_text: HashMap<String, (u64, u64)> = HashMap::with_capacity(self.counts.len());
        for (units, (leads, conversions)) in self.counts {
            let path = if units.is_empty() {
                "(no touch)".to_string()
            } else {
                units
                    .iter()
                    .map(|&u| &*names[u as usize])
                    .collect::<Vec<&str>>()
                    .join(" > ")
            };
            let e = by_text.entry(path).or_default();
            e.0 += leads;
            e.1 += conversions;
        }
        let mut out: Vec<PathShape> = by_text
            .into_iter()
            .map(|(path, (leads, conversions))| PathShape {
                path,
                leads,
                conversions,
            })
            .collect();
        out.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.path.cmp(&b.path)));
        out
    }
}
