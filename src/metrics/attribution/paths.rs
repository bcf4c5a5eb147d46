//! Paths: each conversion's touches in its lookback window, in time order
//! with the contract's tie order, or its lead's one-touch fallback path; and
//! the one-path-per-lead population that Markov and Shapley learn from.

use std::collections::HashMap;

use super::{none_unit, By, Conversion, Input, Lead, Name, Settings, Touch};

/// One touch of a path.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at: i64,
    pub channel: Name,
    pub campaign_id: Name,
    pub touch_type: Name,
}

impl Step {
    /// The unit this touch credits: its channel, or its campaign (`(none)` when empty).
    pub fn unit(&self, by: By) -> Name {
        let u = match by {
            By::Channel => &self.channel,
            By::Campaign => &self.campaign_id,
        };
        if u.is_empty() {
            none_unit()
        } else {
            u.clone()
        }
    }
}

/// A conversion's path: t1..tn, n >= 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub steps: Vec<Step>,
    /// True when the window held no touch and the lead's own creation stands in.
    pub fallback: bool,
}

impl Path {
    pub fn units(&self, by: By) -> Vec<Name> {
        self.steps.iter().map(|t| t.unit(by)).collect()
    }
}

/// Every lead's touches, each lead's in path order.
pub struct TouchIndex<'a> {
    by_lead: Vec<Vec<&'a Touch>>,
}

/// The contract's order: time, then channel, campaign_id, touch_type (byte
/// order, empty first), then input order.
fn path_order(a: &Touch, b: &Touch) -> std::cmp::Ordering {
    (a.at, &a.channel, &a.campaign_id, &a.touch_type, a.order).cmp(&(
        b.at,
        &b.channel,
        &b.campaign_id,
        &b.touch_type,
        b.order,
    ))
}

impl<'a> TouchIndex<'a> {
    /// Group touches by lead (touches of an unknown lead index are left out).
    pub fn new(touches: &'a [Touch], n_leads: usize) -> Self {
        let mut by_lead: Vec<Vec<&Touch>> = vec![Vec::new(); n_leads];
        for t in touches {
            if let Some(v) = by_lead.get_mut(t.lead) {
                v.push(t);
            }
        }
        for v in &mut by_lead {
            v.sort_by(|a, b| path_order(a, b));
        }
        TouchIndex { by_lead }
    }

    /// Lead `lead`'s touches in (end - lookback, end], in path order.
    pub fn window(&self, lead: usize, end: i64, lookback: i64) -> &[&'a Touch] {
        let Some(v) = self.by_lead.get(lead) else {
            return &[];
        };
        let start = end.saturating_sub(lookback);
        let lo = v.partition_point(|t| t.at <= start);
        let hi = v.partition_point(|t| t.at <= end);
        &v[lo..hi.max(lo)]
    }
}

fn step(t: &Touch) -> Step {
    Step {
        at: t.at,
        channel: t.channel.clone(),
        campaign_id: t.campaign_id.clone(),
        touch_type: t.touch_type.clone(),
    }
}

/// A conversion's path: its lead's touches in (instant - lookback, instant],
/// else one touch at the lead's `created_at` with the lead's channel and
/// campaign (even when `created_at` is outside the window).
pub fn conversion_path(index: &TouchIndex, lead: &Lead, c: &Conversion, s: &Settings) -> Path {
    let w = index.window(c.lead, c.instant, s.lookback);
    if w.is_empty() {
        Path {
            steps: vec![Step {
                at: lead.created_at,
                channel: lead.channel.clone(),
                campaign_id: lead.campaign_id.clone(),
                touch_type: "".into(),
            }],
            fallback: true,
        }
    } else {
        Path {
            steps: w.iter().map(|t| step(t)).collect(),
            fallback: false,
        }
    }
}

/// One lead's path in the Markov/Shapley population: its units in path
/// order (repeats kept; Markov collapses them) and whether it converted.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadPath {
    pub units: Vec<Name>,
    pub converted: bool,
}

/// Index of each converting lead's first conversion (earliest instant, then id).
pub fn first_conversions(conversions: &[Conversion]) -> HashMap<usize, usize> {
    let mut first: HashMap<usize, usize> = HashMap::new();
    for (i, c) in conversions.iter().enumerate() {
        first
            .entry(c.lead)
            .and_modify(|j| {
                let o = &conversions[*j];
                if (c.instant, &c.id, i) < (o.instant, &o.id, *j) {
                    *j = i;
                }
            })
            .or_insert(i);
    }
    first
}

/// One path per loaded lead: a converting lead's first conversion's path
/// (fallback included), ending in conversion; any other lead's touches in
/// (as_of - lookback, as_of] (possibly none), ending in null.
pub fn lead_paths(
    index: &TouchIndex,
    input: &Input,
    conv_paths: &[Path],
    s: &Settings,
) -> Vec<LeadPath> {
    let first = first_conversions(&input.conversions);
    (0..input.leads.len())
        .map(|l| match first.get(&l) {
            Some(&c) => LeadPath {
                units: conv_paths[c].units(s.by),
                converted: true,
            },
            None => LeadPath {
                units: index
                    .window(l, s.as_of, s.lookback)
                    .iter()
                    .map(|t| step(t).unit(s.by))
                    .collect(),
                converted: false,
            },
        })
        .collect()
}

/// Consecutive repeats of one unit collapsed to one (the Markov states of a path).
pub fn collapse(units: &[Name]) -> Vec<&Name> {
    let mut out: Vec<&Name> = Vec::new();
    for u in units {
        if out.last() != Some(&u) {
            out.push(u);
        }
    }
    out
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

/// Every path shape of the population, most leads first, then by path text.
pub fn shapes(lead_paths: &[LeadPath]) -> Vec<PathShape> {
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    for lp in lead_paths {
        let c = collapse(&lp.units);
        let key = if c.is_empty() {
            "(no touch)".to_string()
        } else {
            c.iter().map(|u| &***u).collect::<Vec<&str>>().join(" > ")
        };
        let e = counts.entry(key).or_default();
        e.0 += 1;
        e.1 += lp.converted as u64;
    }
    let mut out: Vec<PathShape> = counts
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
