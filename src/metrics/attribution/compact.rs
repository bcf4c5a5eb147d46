//! The engine's compact input: every text (channel, campaign, touch type)
//! interned once as a `u32` whose order is byte order, every touch 16 bytes
//! (`at`, lead index, kind), touches sorted by lead then path order. The
//! gatherer fills a `Builder` row by row; `Input` (plain structs, for tests
//! and small callers) converts to it.

use super::hash::FastMap;
use super::{Conversion, Input, Name, SpendRow, NONE_UNIT};

/// One loaded lead: what its fallback path is made of (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CLead {
    /// `created_at`, microseconds since the epoch (UTC).
    pub created_at: i64,
    /// Resolved channel (name id; the empty name when unknown).
    pub channel: u32,
    /// `campaign_id` (name id; the empty name when none).
    pub campaign: u32,
}

/// One touch (16 bytes): the loaded touches' record (`model::Touch`),
/// rewritten in place by the gatherer. `lead`: index of the touch's lead
/// in `Compact::leads`; `at`: `touched_at`, microseconds since the epoch
/// (UTC); `kind`: index in `Compact::kinds` (channel, campaign, touch type).
pub use crate::model::Touch as CTouch;

/// Everything the engine reads, compactly.
#[derive(Debug, Clone, Default)]
pub struct Compact {
    /// Distinct texts in byte order (the empty text and `(none)` always
    /// among them): a name id is an index, so ids compare as the texts do.
    pub names: Vec<Name>,
    /// Distinct (channel, campaign_id, touch_type) name ids, sorted: kind
    /// ids compare as the contract's tie order after `touched_at`.
    pub kinds: Vec<[u32; 3]>,
    pub leads: Vec<CLead>,
    /// Sorted by (lead, at, kind): each lead's touches in path order (touches
    /// equal in all three are interchangeable, so file order is not kept).
    pub touches: Vec<CTouch>,
    pub conversions: Vec<Conversion>,
    /// Reported periods, in output order.
    pub periods: Vec<i64>,
    /// Spend per (period, unit); None when no campaigns table is loaded.
    pub spend: Option<Vec<SpendRow>>,
}

impl Compact {
    /// The id of a name (it must be interned).
    pub fn id(&self, name: &str) -> Option<u32> {
        self.names
            .binary_search_by(|n| (**n).cmp(name))
            .ok()
            .map(|i| i as u32)
    }
}

/// Fills a `Compact` row by row.
#[derive(Default)]
pub struct Builder {
    ids: FastMap<Name, u32>,
    names: Vec<Name>,
    kind_ids: FastMap<[u32; 3], u32>,
    kinds: Vec<[u32; 3]>,
    leads: Vec<CLead>,
    touches: Vec<CTouch>,
}

impl Builder {
    pub fn new() -> Builder {
        let mut b = Builder::default();
        b.name("");
        b.name(NONE_UNIT);
        b
    }

    /// The (provisional) id of a text, trimmed.
    pub fn name(&mut self, s: &str) -> u32 {
        let s = s.trim();
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        let n: Name = Name::from(s);
        self.names.push(n.clone());
        self.ids.insert(n, id);
        id
    }

    /// The shared `Name` of a text (trimmed), interned with the others.
    pub fn shared(&mut self, s: &str) -> Name {
        let id = self.name(s);
        self.names[id as usize].clone()
    }

    pub fn lead(&mut self, created_at: i64, channel: &str, campaign: &str) -> u32 {
        let lead = CLead {
            created_at,
            channel: self.name(channel),
            campaign: self.name(campaign),
        };
        self.leads.push(lead);
        (self.leads.len() - 1) as u32
    }

    /// Add leads built elsewhere (channel and campaign from `name`): the
    /// gatherer's, resolved on every core.
    pub fn add_leads(&mut self, leads: Vec<CLead>) {
        if self.leads.is_empty() {
            self.leads = leads;
        } else {
            self.leads.extend_from_slice(&leads);
        }
    }

    pub fn n_leads(&self) -> usize {
        self.leads.len()
    }

    /// The (provisional) kind of (channel, campaign, touch type) name ids.
    pub fn kind(&mut self, channel: u32, campaign: u32, touch_type: u32) -> u32 {
        let key = [channel, campaign, touch_type];
        match self.kind_ids.get(&key) {
            Some(&k) => k,
            None => {
                let k = self.kinds.len() as u32;
                self.kinds.push(key);
                self.kind_ids.insert(key, k);
                k
            }
        }
    }

    /// A touch of lead `lead` (an index returned by `lead`), texts as name ids.
    pub fn touch_ids(&mut self, lead: u32, at: i64, channel: u32, campaign: u32, touch_type: u32) {
        let kind = self.kind(channel, campaign, touch_type);
        self.touches.push(CTouch { lead, at, kind });
    }

    /// Add touches built elsewhere (lead indices from `lead`, kinds from
    /// `kind`): the gatherer's rows, rewritten in place, are moved in.
    pub fn add_touches(&mut self, touches: Vec<CTouch>) {
        if self.touches.is_empty() {
            self.touches = touches;
        } else {
            self.touches.extend_from_slice(&touches);
        }
    }

    pub fn touch(&mut self, lead: u32, at: i64, channel: &str, campaign: &str, touch_type: &str) {
        let (c, m, t) = (self.name(channel), self.name(campaign), self.name(touch_type));
        self.touch_ids(lead, at, c, m, t);
    }

    /// Renumber names and kinds in sorted order and sort the touches.
    pub fn finish(
        self,
        conversions: Vec<Conversion>,
        periods: Vec<i64>,
        mut spend: Option<Vec<SpendRow>>,
    ) -> Compact {
        let Builder {
            names,
            kinds,
            mut leads,
            mut touches,
            ..
        } = self;
        let mut names: Vec<(Name, u32)> = names.into_iter().zip(0..).collect();
        if let Some(rows) = &spend {
            // Spend units are names too (so every output unit has an id).
            let known: std::collections::HashSet<Name> =
                names.iter().map(|n| n.0.clone()).collect();
            let mut extra: Vec<Name> = rows
                .iter()
                .map(|r| r.unit.clone())
                .filter(|u| !known.contains(u))
                .collect();
            extra.sort();
            extra.dedup();
            let n = names.len() as u32;
            names.extend(extra.into_iter().zip(n..));
        }
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let mut rank = vec![0u32; names.len()];
        for (new, (_, old)) in names.iter().enumerate() {
            rank[*old as usize] = new as u32;
        }
        for l in &mut leads {
            l.channel = rank[l.channel as usize];
            l.campaign = rank[l.campaign as usize];
        }
        let mut kinds: Vec<([u32; 3], u32)> = kinds
            .into_iter()
            .map(|k| k.map(|x| rank[x as usize]))
            .zip(0..)
            .collect();
        kinds.sort();
        let mut kind_rank = vec![0u32; kinds.len()];
        for (new, (_, old)) in kinds.iter().enumerate() {
            kind_rank[*old as usize] = new as u32;
        }
        sort_touches(&mut touches, &kind_rank);
        let names: Vec<Name> = names.into_iter().map(|n| n.0).collect();
        if let Some(rows) = spend.as_mut() {
            // One shared name per unit.
            for r in rows {
                if let Ok(i) = names.binary_search(&r.unit) {
                    r.unit = names[i].clone();
                }
            }
        }
        Compact {
            names,
            kinds: kinds.into_iter().map(|k| k.0).collect(),
            leads,
            touches,
            conversions,
            periods,
            spend,
        }
    }
}

/// Renumber the touches' kinds (`kind_rank`: old kind to new) and sort
/// them by (lead, at, kind), on every core. Touches that arrive grouped by
/// lead in the leads' order (an export of lead journeys, as `revcycle demo`
/// writes) are only sorted within each lead: one pass over them, not
/// n log n. Either way the result is the one sorted order (touches equal in
/// all three fields are alike).
fn sort_touches(touches: &mut [CTouch], kind_rank: &[u32]) {
    sort_touches_in(touches, kind_rank, 1 << 16);
}

/// `sort_touches` in pieces of about `piece_len` touches.
fn sort_touches_in(touches: &mut [CTouch], kind_rank: &[u32], piece_len: usize) {
    use rayon::prelude::*;
    let piece_len = piece_len.max(1);
    let grouped = touches
        .par_chunks_mut(piece_len)
        .map(|piece| {
            for t in piece.iter_mut() {
                t.kind = kind_rank[t.kind as usize];
            }
            piece.windows(2).all(|w| w[0].lead <= w[1].lead)
        })
        .reduce(|| true, |a, b| a && b)
        && touches
            .chunks(piece_len)
            .zip(touches.chunks(piece_len).skip(1))
            .all(|(a, b)| a[a.len() - 1].lead <= b[0].lead);
    if !grouped {
        touches.par_sort_unstable();
        return;
    }
    // Pieces of about `piece_len` touches that end at a lead's end, each sorted
    // lead by lead.
    let mut pieces: Vec<&mut [CTouch]> = Vec::new();
    let mut rest = touches;
    while !rest.is_empty() {
        let mut end = piece_len.min(rest.len());
        while end < rest.len() && rest[end].lead == rest[end - 1].lead {
            end += 1;
        }
        let (piece, tail) = rest.split_at_mut(end);
        pieces.push(piece);
        rest = tail;
    }
    pieces.into_par_iter().for_each(|piece| {
        for lead in piece.chunk_by_mut(|a, b| a.lead == b.lead) {
            lead.sort_unstable();
        }
    });
}

impl Input {
    /// The compact form of these structs (touches of an unknown lead index left out).
    pub fn compact(&self) -> Compact {
        let mut b = Builder::new();
        for l in &self.leads {
            b.lead(l.created_at, &l.channel, &l.campaign_id);
        }
        for t in &self.touches {
            if t.lead < self.leads.len() {
                b.touch(t.lead as u32, t.at, &t.channel, &t.campaign_id, &t.touch_type);
            }
        }
        b.finish(
            self.conversions.clone(),
            self.periods.clone(),
            self.spend.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(lead: u32, at: i64, kind: u32) -> CTouch {
        CTouch { lead, at, kind }
    }

    /// Touches grouped by lead in lead order (sorted within each lead
    /// only: lead 0's tie at 5 ordered by kind, lead 2 reversed) and
    /// touches in no order at all (the whole sort) end up alike: by
    /// (lead, at, kind).
    #[test]
    fn touches_sort_by_lead_then_time_then_kind() {
        let want = vec![t(0, 5, 1), t(0, 5, 3), t(0, 9, 0), t(1, 2, 2), t(2, 1, 0), t(2, 4, 0)];
        let same: Vec<u32> = (0..4).collect();
        let grouped_input = vec![t(0, 9, 0), t(0, 5, 3), t(0, 5, 1), t(1, 2, 2), t(2, 4, 0), t(2, 1, 0)];
        let mut grouped = grouped_input.clone();
        sort_touches(&mut grouped, &same);
        assert_eq!(grouped, want);
        let mixed_input = vec![t(2, 4, 0), t(0, 5, 3), t(1, 2, 2), t(0, 9, 0), t(2, 1, 0), t(0, 5, 1)];
        let mut mixed = mixed_input.clone();
        sort_touches(&mut mixed, &same);
        assert_eq!(mixed, want);
        // Kinds renumbered first (3 -> 0, 1 -> 2), then sorted by the new ones.
        let rank = [1, 2, 3, 0];
        let mut renumbered = vec![t(0, 5, 3), t(0, 5, 1), t(1, 2, 2)];
        sort_touches(&mut renumbered, &rank);
        assert_eq!(renumbered, vec![t(0, 5, 0), t(0, 5, 2), t(1, 2, 3)]);
        // In pieces of 1 to 4 touches (a lead's touches across pieces): alike.
        for piece in 1..=4 {
            for input in [&grouped_input, &mixed_input] {
                let mut ts = input.clone();
                sort_touches_in(&mut ts, &same, piece);
                assert_eq!(ts, want, "pieces of {piece}");
            }
        }
    }
}
