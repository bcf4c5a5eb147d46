//! Ids matched by sorting hashes instead of probing a hash set: whether a
//! text column repeats a value (`duplicate_ids`), which rows of one column
//! name no value of another (`orphans`), and which row of the other holds
//! each one's value (`rows_of`: a deal's lead row).
//!
//! A hash set of 10M ids no longer fits the CPU's caches: every insert or
//! probe is a cache miss, so the check grew faster than the data (polars'
//! `n_unique` and `is_in` were a quarter of `funnel`'s time at 10M leads).
//! Here each value is hashed once into a `(hash, row)` pair, the pairs are
//! sorted (in parallel, sequential memory access), and equal values meet as
//! neighbours. Equal hashes are always confirmed on the texts themselves, so
//! the answers are exact whatever the hash collides on.

use std::hash::Hasher;

use polars::prelude::*;
use rayon::slice::ParallelSliceMut;

use crate::hash::Fx;

/// Every non-null value of a text column as `(hash, row)`, sorted.
pub struct Hashed {
    pairs: Vec<(u64, u64)>,
}

/// The project's fast hash of a text: the sorted order only groups equal
/// hashes, so its quality matters for speed, never for the answer.
#[inline]
fn hash(b: &[u8]) -> u64 {
    let mut h = Fx::default();
    h.write(b);
    h.finish()
}

impl Hashed {
    pub fn new(ca: &StringChunked) -> Hashed {
        let mut pairs = Vec::with_capacity(ca.len() - ca.null_count());
        let mut row = 0u64;
        for arr in ca.downcast_iter() {
            for v in arr.iter() {
                if let Some(v) = v {
                    pairs.push((hash(v.as_bytes()), row));
                }
                row += 1;
            }
        }
        pairs.par_sort_unstable();
        Hashed { pairs }
    }

    /// The runs of pairs with equal hashes.
    fn runs(&self) -> impl Iterator<Item = &[(u64, u64)]> {
        self.pairs.chunk_by(|a, b| a.0 == b.0)
    }
}

fn text(ca: &StringChunked, row: u64) -> &str {
    ca.get(row as usize).unwrap_or("")
}

/// True when some non-null value of `ca` appears twice (`h` its hashes).
pub fn has_duplicates(ca: &StringChunked, h: &Hashed) -> bool {
    h.runs().any(|run| {
        if run.len() < 2 {
            return false;
        }
        let mut texts: Vec<&str> = run.iter().map(|&(_, r)| text(ca, r)).collect();
        texts.sort_unstable();
        texts.windows(2).any(|w| w[0] == w[1])
    })
}

/// Every pair `(ref_row, id_row)` of a row of `refs` and a row of `ids`
/// holding the same text (nulls match nothing), given to `f` in hash order
/// and, for one reference, in id row order. `rh` and `ih` are their hashes.
/// Both sorted lists are walked once, side by side: no hash table of every
/// id, so the cost stays linear where a hash join's random probes into a
/// table of millions of ids miss the caches.
pub fn for_each_match(
    refs: &StringChunked,
    rh: &Hashed,
    ids: &StringChunked,
    ih: &Hashed,
    mut f: impl FnMut(usize, usize),
) {
    let mut targets = ih.runs().peekable();
    for run in rh.runs() {
        let h = run[0].0;
        while targets.peek().is_some_and(|t| t[0].0 < h) {
            targets.next();
        }
        let found: &[(u64, u64)] = match targets.peek() {
            Some(t) if t[0].0 == h => t,
            _ => continue,
        };
        for &(_, r) in run {
            let v = text(refs, r);
            for &(_, i) in found {
                if text(ids, i) == v {
                    f(r as usize, i as usize);
                }
            }
        }
    }
}

/// No row of `ids` holds the value (see [`rows_of`]).
pub const NO_ROW: u32 = u32::MAX;

/// For each row of `refs`: the first row of `ids` holding the same text, or
/// [`NO_ROW`] (a null reference, or a value no id has).
pub fn rows_of(refs: &StringChunked, rh: &Hashed, ids: &StringChunked, ih: &Hashed) -> Vec<u32> {
    let mut out = vec![NO_ROW; refs.len()];
    for_each_match(refs, rh, ids, ih, |r, i| {
        if out[r] == NO_ROW {
            out[r] = i as u32;
        }
    });
    out
}

/// For each row of `refs`: true when it holds a value that is no value of
/// `ids` (null rows are false). `rh` and `ih` are their hashes.
pub fn missing(refs: &StringChunked, rh: &Hashed, ids: &StringChunked, ih: &Hashed) -> Vec<bool> {
    let rows = rows_of(refs, rh, ids, ih);
    refs.iter()
        .zip(rows)
        .map(|(v, row)| v.is_some() && row == NO_ROW)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca(v: &[Option<&str>]) -> StringChunked {
        StringChunked::from_iter_options("x".into(), v.iter().copied())
    }

    #[test]
    fn duplicates_are_found_only_when_a_value_repeats() {
        let a = ca(&[Some("L-1"), None, Some("L-2"), None, Some("L-3")]);
        assert!(!has_duplicates(&a, &Hashed::new(&a)), "nulls never repeat");
        let b = ca(&[Some("L-1"), Some("L-2"), Some("L-1")]);
        assert!(has_duplicates(&b, &Hashed::new(&b)));
        // Several chunks (files stacked): the second chunk repeats the first.
        let mut c = ca(&[Some("a"), Some("b")]);
        c.append(&ca(&[Some("c"), Some("a")])).unwrap();
        assert_eq!(c.chunks().len(), 2);
        assert!(has_duplicates(&c, &Hashed::new(&c)));
        let e = ca(&[]);
        assert!(!has_duplicates(&e, &Hashed::new(&e)));
    }

    #[test]
    fn equal_hashes_are_confirmed_on_the_text() {
        // Force every value into one run: the answer must still be exact.
        let a = ca(&[Some("x"), Some("y"), Some("z")]);
        let forced = Hashed {
            pairs: vec![(7, 0), (7, 1), (7, 2)],
        };
        assert!(!has_duplicates(&a, &forced));
        let refs = ca(&[Some("y"), Some("w")]);
        let rh = Hashed {
            pairs: vec![(7, 0), (7, 1)],
        };
        assert_eq!(missing(&refs, &rh, &a, &forced), vec![false, true]);
    }

    #[test]
    fn rows_of_gives_the_first_row_holding_each_value() {
        // ids: row 0 "L-1", 1 "L-2", 2 null, 3 "L-4", 4 "L-2" (a repeat:
        // the first row, 1, is the answer).
        let ids = ca(&[Some("L-1"), Some("L-2"), None, Some("L-4"), Some("L-2")]);
        let refs = ca(&[Some("L-2"), None, Some("L-3"), Some("L-1"), Some("L-4"), Some("l-1")]);
        let got = rows_of(&refs, &Hashed::new(&refs), &ids, &Hashed::new(&ids));
        assert_eq!(got, vec![1, NO_ROW, NO_ROW, 0, 3, NO_ROW]);
        // Every value forced into one hash run: still matched on the text.
        // (Nulls are never hashed: ids row 2 and refs row 1 are left out.)
        let forced = |rows: &[u64]| Hashed {
            pairs: rows.iter().map(|&r| (7, r)).collect(),
        };
        let got = rows_of(&refs, &forced(&[0, 2, 3, 4, 5]), &ids, &forced(&[0, 1, 3, 4]));
        assert_eq!(got, vec![1, NO_ROW, NO_ROW, 0, 3, NO_ROW]);
        // Every pair: "L-2" (ref 0) is held by id rows 1 and 4.
        let mut pairs = Vec::new();
        for_each_match(&refs, &Hashed::new(&refs), &ids, &Hashed::new(&ids), |r, i| pairs.push((r, i)));
        pairs.sort_unstable();
        assert_eq!(pairs, vec![(0, 1), (0, 4), (3, 0), (4, 3)]);
    }

    #[test]
    fn missing_marks_the_rows_naming_no_id() {
        let ids = ca(&[Some("L-1"), Some("L-2"), None, Some("L-4")]);
        let refs = ca(&[
            Some("L-2"),
            None,
            Some("L-3"),
            Some("L-1"),
            Some("L-3"),
            Some("l-1"),
            Some("L-4 "),
        ]);
        let got = missing(&refs, &Hashed::new(&refs), &ids, &Hashed::new(&ids));
        assert_eq!(got, vec![false, false, true, false, true, true, true]);
        // No ids at all: every non-null reference is missing.
        let none = ca(&[]);
        let got = missing(&refs, &Hashed::new(&refs), &none, &Hashed::new(&none));
        assert_eq!(got, vec![true, false, true, true, true, true, true]);
    }
}
