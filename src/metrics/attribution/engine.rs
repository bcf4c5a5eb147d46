//! The engine's two passes over the leads, chunk by chunk, on every core.
//!
//! The touches are sorted by lead, so a chunk of leads (a range of lead
//! indices) owns a contiguous range of touches and of conversions (sorted by
//! lead too), found by two binary searches: chunks are independent. Each
//! pass builds a chunk's paths into one flat buffer (unit ids or (instant,
//! unit) steps, with end offsets: no allocation per lead) and folds them into
//! accumulators that add up across chunks exactly:
//!
//! 1. The population (one path per lead): the path shapes' leads and
//!    conversions, from which the Markov transition counts and Shapley's
//!    conversions and paths per set of distinct units are then added up (a
//!    path's transitions and distinct units depend only on its shape). The
//!    chain is then solved once and the games are ready.
//! 2. The conversions: each one's credit under every model, added to its
//!    (period, unit, model) cell as exact sums (`exact::Acc`), which do not
//!    depend on the order or the batching of their terms.
//!
//! The chunks of a pass run in parallel (rayon): each worker folds its
//! chunks into its own accumulators, and adjacent workers' accumulators are
//! merged (integer counts added, exact sums merged exactly). So the bytes of
//! the output depend neither on the chunk size (a test runs the binary with
//! `REVCYCLE_ATTRIB_CHUNK=3`) nor on how the chunks were shared among the
//! threads, and what is held besides the compact input is, per worker, one
//! chunk's buffers and accumulators per unit, per path shape and per unit set.

use rayon::prelude::*;

use super::aggregate::{aggregate, Cells};
use super::compact::{CTouch, Compact};
use super::models::{self, Step};
use super::paths::{self, Shapes, Units};
use super::shapley::{self, Games, Memo};
use super::{markov, Attribution, By, Credit, Model, Settings, NONE_UNIT};

/// Leads per chunk by default: the chunk's flat path buffers stay a few MB.
pub const DEFAULT_CHUNK: usize = 1 << 16;

/// How the engine runs (not what it computes: the output is the same).
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// Leads per chunk (at least 1).
    pub chunk: usize,
    /// Keep every conversion's credit per model in `Attribution::credits`
    /// (tests; memory grows with the conversions).
    pub keep_credits: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            chunk: DEFAULT_CHUNK,
            keep_credits: false,
        }
    }
}

/// The first index at or after `from` whose touch fails `before` (touches
/// sorted so that `before` holds on a prefix), by galloping from `from`: a
/// few probes near `from` when the answer is near (the next converting
/// lead's touches), not a binary search over every touch left.
fn gallop(touches: &[CTouch], from: usize, before: impl Fn(&CTouch) -> bool) -> usize {
    let rest = &touches[from..];
    let mut hi = 1;
    while hi < rest.len() && before(&rest[hi - 1]) {
        hi *= 2;
    }
    let hi = hi.min(rest.len());
    // rest[..lo] all hold `before` (the probe at lo - 1 did), or lo = 0.
    let lo = if hi <= 1 { 0 } else { hi / 2 };
    from + lo + rest[lo..hi].partition_point(before)
}

/// The end of the run of touches of lead `lead` starting at `from`
/// (touches sorted by lead; `from` at or before the lead's first touch).
fn lead_end(touches: &[CTouch], from: usize, lead: usize) -> usize {
    gallop(touches, from, |t| (t.lead as usize) <= lead)
}

/// The first touch of lead `lead` or later, from `from`.
fn lead_start(touches: &[CTouch], from: usize, lead: usize) -> usize {
    gallop(touches, from, |t| (t.lead as usize) < lead)
}

/// What every chunk of both passes reads.
struct Shared<'a> {
    c: &'a Compact,
    s: &'a Settings,
    u: Units<'a>,
    /// Conversion indices grouped by lead (`paths::conversions_by_lead`).
    order: Vec<u32>,
    /// Leads per chunk.
    chunk: usize,
    n_chunks: usize,
}

impl Shared<'_> {
    /// Chunk `i`'s leads, and where its touches and its conversions (in
    /// `order`) start.
    fn chunk(&self, i: usize) -> (usize, usize, usize, usize) {
        let a = i * self.chunk;
        let b = (a + self.chunk).min(self.c.leads.len());
        let t = self.c.touches.partition_point(|t| (t.lead as usize) < a);
        let conversions = &self.c.conversions;
        let k = self
            .order
            .partition_point(|&ci| conversions[ci as usize].lead < a);
        (a, b, t, k)
    }
}

/// Run `step` on every chunk, in parallel: each worker folds its chunks
/// into its own state (`new`), and the states are merged pairwise, left to
/// right (`merge`). The accumulators add up exactly, so the result does not
/// depend on how rayon shared the chunks out.
fn fold_chunks<S: Send>(
    n_chunks: usize,
    new: impl Fn() -> S + Sync + Send,
    step: impl Fn(&mut S, usize) + Sync + Send,
    merge: impl Fn(S, S) -> S + Sync + Send,
) -> S {
    (0..n_chunks)
        .into_par_iter()
        .fold(&new, |mut state, i| {
            step(&mut state, i);
            state
        })
        .reduce(&new, merge)
}

/// Pass 1's accumulator, the path shapes (and one chunk's buffers). A
/// lead path's Markov transitions and its set of distinct units depend only
/// on its shape (its units with consecutive repeats collapsed), so the
/// Markov counts and the games are added up from the shapes afterwards (one
/// hash lookup a lead, not three): the same integers.
struct Population {
    shapes: Shapes,
    steps: Vec<Step>,
    units: Vec<u32>,
    ends: Vec<(usize, bool)>,
}

impl Population {
    fn new() -> Population {
        Population {
            shapes: Shapes::default(),
            steps: Vec::new(),
            units: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// One path per lead of chunk `i`.
    fn chunk(&mut self, sh: &Shared, i: usize) {
        let (a, b, mut tcur, mut ccur) = sh.chunk(i);
        let (c, u, order, touches) = (sh.c, &sh.u, &sh.order, &sh.c.touches[..]);
        self.units.clear();
        self.ends.clear();
        for l in a..b {
            // Every lead in turn: a linear walk over the sorted touches.
            while tcur < touches.len() && (touches[tcur].lead as usize) < l {
                tcur += 1;
            }
            let t0 = tcur;
            while tcur < touches.len() && touches[tcur].lead as usize == l {
                tcur += 1;
            }
            let ts = &touches[t0..tcur];
            let c0 = ccur;
            while ccur < order.len() && c.conversions[order[ccur] as usize].lead == l {
                ccur += 1;
            }
            if c0 < ccur {
                // A converting lead: its first conversion's path, fallback included.
                self.steps.clear();
                let conv = &c.conversions[order[c0] as usize];
                paths::conversion_path(ts, u, conv, sh.s.lookback, &mut self.steps);
                self.units.extend(self.steps.iter().map(|t| t.unit));
                self.ends.push((self.units.len(), true));
            } else {
                let w = paths::window(ts, sh.s.as_of, sh.s.lookback);
                self.units.extend(w.iter().map(|t| u.of_kind[t.kind as usize]));
                self.ends.push((self.units.len(), false));
            }
        }
        let mut start = 0;
        for &(end, converted) in &self.ends {
            self.shapes.add(&self.units[start..end], converted);
            start = end;
        }
    }

    fn merge(mut self, other: Population) -> Population {
        self.shapes.merge(other.shapes);
        self
    }
}

/// Pass 2's accumulators (and one chunk's buffers).
struct Credited {
    /// Units met on a credited path.
    on_path: Vec<bool>,
    cells: Cells,
    memo: Memo,
    /// Per model, when kept (`EngineOptions::keep_credits`).
    credits: Vec<Vec<Credit>>,
    fallback_paths: usize,
    shapley_fallbacks: usize,
    steps: Vec<Step>,
    spans: Vec<(u32, usize, usize)>,
    set: Vec<u32>,
    pairs: Vec<(u32, f64)>,
    out: Vec<(u32, f64)>,
}

impl Credited {
    fn new(k: usize, models: usize) -> Credited {
        Credited {
            on_path: vec![false; k],
            cells: Cells::default(),
            memo: Memo::default(),
            credits: vec![Vec::new(); models],
            fallback_paths: 0,
            shapley_fallbacks: 0,
            steps: Vec::new(),
            spans: Vec::new(),
            set: Vec::new(),
            pairs: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Every conversion of chunk `i`'s leads, under every model.
    fn chunk(
        &mut self,
        sh: &Shared,
        i: usize,
        models: &[Model],
        effect: &[f64],
        games: &Games,
        keep_credits: bool,
    ) {
        let (_, b, mut tcur, mut ccur) = sh.chunk(i);
        let (c, s, order, touches) = (sh.c, sh.s, &sh.order, &sh.c.touches[..]);
        self.steps.clear();
        self.spans.clear();
        while ccur < order.len() && c.conversions[order[ccur] as usize].lead < b {
            let ci = order[ccur];
            let conv = &c.conversions[ci as usize];
            let t0 = lead_start(touches, tcur, conv.lead);
            let t1 = lead_end(touches, t0, conv.lead);
            tcur = t0;
            let start = self.steps.len();
            if paths::conversion_path(&touches[t0..t1], &sh.u, conv, s.lookback, &mut self.steps)
            {
                self.fallback_paths += 1;
            }
            self.spans.push((ci, start, self.steps.len()));
            ccur += 1;
        }
        let (set, pairs, out) = (&mut self.set, &mut self.pairs, &mut self.out);
        for &(ci, start, end) in &self.spans {
            let conv = &c.conversions[ci as usize];
            let path = &self.steps[start..end];
            for t in path {
                self.on_path[t.unit as usize] = true;
            }
            let created = c.leads[conv.lead].created_at;
            for (mi, &m) in models.iter().enumerate() {
                match m {
                    Model::Markov => {
                        set.clear();
                        set.extend(path.iter().map(|t| t.unit));
                        set.sort_unstable();
                        set.dedup();
                        markov::shares(set, |x| effect[x as usize], out);
                    }
                    Model::Shapley => {
                        set.clear();
                        set.extend(path.iter().map(|t| t.unit));
                        set.sort_unstable();
                        set.dedup();
                        if set.len() > shapley::MAX_EXACT {
                            self.shapley_fallbacks += 1;
                            models::linear(path, pairs, out);
                        } else {
                            self.memo.shares(games, set, out);
                        }
                    }
                    _ => {
                        let w = models::weights(m, path, created, conv.opp_created_at, s);
                        models::unit_shares(&w, path, pairs, out);
                    }
                }
                for &(unit, f) in out.iter() {
                    self.cells.add(conv.period, unit, mi, f, conv.value);
                }
                if keep_credits {
                    self.credits[mi].push(Credit {
                        conversion: ci as usize,
                        units: out
                            .iter()
                            .map(|&(unit, f)| (c.names[unit as usize].clone(), f))
                            .collect(),
                    });
                }
            }
        }
    }

    fn merge(mut self, other: Credited) -> Credited {
        for (x, y) in self.on_path.iter_mut().zip(&other.on_path) {
            *x |= *y;
        }
        self.cells.merge(other.cells);
        for (x, y) in self.credits.iter_mut().zip(other.credits) {
            x.extend(y);
        }
        self.fallback_paths += other.fallback_paths;
        self.shapley_fallbacks += other.shapley_fallbacks;
        self
    }
}

/// Run the engine: paths, every model asked, aggregation.
pub fn attribute_compact(
    c: &Compact,
    s: &Settings,
    models: &[Model],
    o: &EngineOptions,
) -> Attribution {
    let none = c.id(NONE_UNIT).expect("(none) is always interned");
    let empty = c.id("").expect("the empty name is always interned");
    let by_campaign = s.by == By::Campaign;
    let mut u = Units {
        of_kind: Vec::new(),
        leads: &c.leads,
        none,
        empty,
        by_campaign,
    };
    u.of_kind = c
        .kinds
        .iter()
        .map(|k| u.of_name(if by_campaign { k[1] } else { k[0] }))
        .collect();
    let k = c.names.len();
    let chunk = o.chunk.max(1);
    let sh = Shared {
        c,
        s,
        u,
        order: paths::conversions_by_lead(&c.conversions),
        chunk,
        n_chunks: c.leads.len().div_ceil(chunk),
    };

    // Pass 1: one path per lead into the Markov counts, the games, the shapes.
    let Population { shapes, .. } = fold_chunks(
        sh.n_chunks,
        Population::new,
        |p, i| p.chunk(&sh, i),
        Population::merge,
    );
    let mut in_chain = vec![false; k];
    let mut counter = markov::Counter::default();
    let mut games = Games::default();
    let mut set: Vec<u32> = Vec::new();
    for (units, leads, conversions) in shapes.iter() {
        counter.add_paths(units, leads, conversions);
        shapley::distinct(units, &mut set);
        games.add_paths(&set, leads, conversions);
        for &x in &set {
            in_chain[x as usize] = true;
        }
    }
    let chain_units: Vec<u32> = (0..k as u32).filter(|&x| in_chain[x as usize]).collect();
    let chain = counter.fit(&chain_units, &c.names);
    let effect: Vec<f64> = (0..k)
        .map(|x| {
            if in_chain[x] {
                chain.removal_effect(&c.names[x]).unwrap_or(0.0)
            } else {
                0.0
            }
        })
        .collect();
    drop(counter);

    // Pass 2: every conversion's credit under every model into the cells.
    let Credited {
        on_path,
        cells,
        credits,
        fallback_paths,
        shapley_fallbacks,
        ..
    } = fold_chunks(
        sh.n_chunks,
        || Credited::new(k, models.len()),
        |p, i| p.chunk(&sh, i, models, &effect, &games, o.keep_credits),
        Credited::merge,
    );
    drop(games);

    let mut all: Vec<bool> = in_chain.iter().zip(&on_path).map(|(a, b)| *a || *b).collect();
    if let Some(rows) = &c.spend {
        for r in rows {
            if let Some(x) = c.id(&r.unit) {
                all[x as usize] = true;
            }
        }
    }
    let grid: Vec<u32> = (0..k as u32).filter(|&x| all[x as usize]).collect();
    let removal_effects = grid
        .iter()
        .map(|&x| {
            let name = c.names[x as usize].clone();
            let e = chain.removal_effect(&name);
            (name, e)
        })
        .collect();
    let rows = aggregate(c, s, models, &cells, grid.iter().copied());
    let credits = models
        .iter()
        .zip(credits)
        .map(|(&m, mut cs)| {
            cs.sort_by_key(|x| x.conversion);
            (m, cs)
        })
        .collect();
    Attribution {
        rows,
        credits,
        removal_effects,
        markov: chain,
        shapley_fallbacks,
        fallback_paths,
        paths: shapes.finish(&c.names),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Galloping finds what a binary search over the whole rest finds, from
    /// every start, for every lead (runs of 0 to 5 touches, gaps between leads).
    #[test]
    fn gallop_finds_the_lead_runs_as_a_binary_search() {
        let mut touches = Vec::new();
        for lead in 0..40u32 {
            for i in 0..(lead * 7 % 6) {
                touches.push(CTouch {
                    lead,
                    at: i as i64,
                    kind: 0,
                });
            }
        }
        for from in 0..=touches.len() {
            for lead in 0..42usize {
                let rest = &touches[from..];
                let start = from + rest.partition_point(|t| (t.lead as usize) < lead);
                let end = from + rest.partition_point(|t| (t.lead as usize) <= lead);
                assert_eq!(lead_start(&touches, from, lead), start, "{from} {lead}");
                assert_eq!(lead_end(&touches, from, lead), end, "{from} {lead}");
            }
        }
    }
}
