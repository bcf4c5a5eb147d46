//! A dictionary of texts (an interner): each distinct text stored once, in
//! one arena, numbered in the order first met. Code 0 is reserved for null,
//! so a coded column is a plain `Vec<u32>` with no validity mask.
//!
//! Memory: the text's bytes, 4 bytes of offset and about 9 to 18 of hash
//! table (a bucket is the code and 32 bits of the text's hash, so growing
//! the table never reads the texts again; 1 to 2 buckets an entry) an entry; a coded value is 4 bytes however long its text. The touches
//! table is loaded this way (see `model::Touches`). Dictionaries of two
//! files (or two chunks of one) merge with `merge`, which returns the code
//! remap of the merged one.

use std::hash::{BuildHasher, BuildHasherDefault};

use hashbrown::HashTable;

use crate::hash::{FastMap, Fx};

/// The code of null in every dictionary.
pub const NULL: u32 = 0;

/// An entry's end in the arena is kept as its low `WRAP_BITS` bits (in a
/// `u32`); `Dict::wraps` gives the high ones. The unit tests wrap every 256
/// bytes, so that every dictionary they build goes through the wraps.
#[cfg(not(test))]
const WRAP_BITS: u32 = 32;
#[cfg(test)]
const WRAP_BITS: u32 = 8;
const WRAP_MASK: usize = (1 << WRAP_BITS) - 1;

#[derive(Clone, Default)]
pub struct Dict {
    /// Every entry's text, one after the other.
    arena: String,
    /// `ends[i]`: where the text of code `i + 1` ends in `arena`, its low
    /// 32 bits (4 bytes an entry, not 8; see `WRAP_BITS`).
    ends: Vec<u32>,
    /// `wraps[j]`: the first index of `ends` whose end is at or past
    /// `(j + 1) << WRAP_BITS` (empty until the arena reaches 4 GiB).
    wraps: Vec<u32>,
    /// (code, 32 bits of its text's hash), found by the hash.
    table: HashTable<(u32, u32)>,
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dict({} texts, {} bytes)", self.len(), self.arena.len())
    }
}

/// The hash of a text (32 bits, kept in the table) and the table's
/// 64-bit hash of it (the same bits twice: the table takes its bucket from
/// the low bits, its tag from the top ones). The fast hasher's bits are
/// mixed first (murmur3's finalizer): its product leaves the low bits
/// depending on the low input bytes only, and ids like `L-00000001`
/// differ in a word's high bytes.
#[inline]
fn hash(s: &str) -> (u32, u64) {
    let mut x = BuildHasherDefault::<Fx>::default().hash_one(s.as_bytes());
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    let h = (x >> 32) as u32;
    (h, wide(h))
}

#[inline]
fn wide(h: u32) -> u64 {
    (h as u64) << 32 | h as u64
}

/// `a == b`, inline for the short texts of ids and labels (no call to
/// `memcmp` a value: a coded column compares each value with the last one).
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w8 = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    let w4 = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or_default());
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        _ => a == b,
    }
}

impl Dict {
    pub fn new() -> Dict {
        Dict::default()
    }

    /// How many distinct texts (null not counted).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The text of `code`; None for `NULL` (or a code not given by this dictionary).
    pub fn get(&self, code: u32) -> Option<&str> {
        let i = (code as usize).checked_sub(1)?;
        self.ends.get(i)?;
        let (start, end) = Self::span(&self.ends, &self.wraps, i);
        Some(&self.arena[start..end])
    }

    /// Where entry `i` (code `i + 1`) starts and ends in the arena.
    #[inline(always)]
    fn span(ends: &[u32], wraps: &[u32], i: usize) -> (usize, usize) {
        let end = ends[i] as usize;
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        if wraps.is_empty() {
            return (start, end);
        }
        Self::span_wrapped(wraps, i, start, end)
    }

    /// `span` past a wrap: the high bits of both ends.
    #[cold]
    #[inline(never)]
    fn span_wrapped(wraps: &[u32], i: usize, start: usize, end: usize) -> (usize, usize) {
        let high = |i: usize| wraps.partition_point(|&w| w as usize <= i) << WRAP_BITS;
        let start = if i == 0 { 0 } else { high(i - 1) | start };
        (start, high(i) | end)
    }

    /// The bytes of a code that is not `NULL` (no char-boundary checks:
    /// entries start and end on one).
    #[inline(always)]
    fn bytes<'a>(arena: &'a str, ends: &[u32], wraps: &[u32], code: u32) -> &'a [u8] {
        let (start, end) = Self::span(ends, wraps, code as usize - 1);
        &arena.as_bytes()[start..end]
    }

    /// True when `code` (not `NULL`) is the text `s`.
    #[inline]
    pub fn is(&self, code: u32, s: &str) -> bool {
        same(Self::bytes(&self.arena, &self.ends, &self.wraps, code), s.as_bytes())
    }

    /// The code of `s`, when it is in the dictionary.
    pub fn find(&self, s: &str) -> Option<u32> {
        let (h, wide_h) = hash(s);
        let (arena, ends, wraps) = (&self.arena, &self.ends, &self.wraps);
        self.table
            .find(wide_h, |&(c, ch)| {
                ch == h && same(Self::bytes(arena, ends, wraps, c), s.as_bytes())
            })
            .map(|&(c, _)| c)
    }

    /// The code of `s`, added when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        let (h, wide_h) = hash(s);
        let (arena, ends, wraps) = (&self.arena, &self.ends, &self.wraps);
        if let Some(&(c, _)) = self.table.find(wide_h, |&(c, ch)| {
            ch == h && same(Self::bytes(arena, ends, wraps, c), s.as_bytes())
        }) {
            return c;
        }
        let before = self.arena.len();
        self.arena.push_str(s);
        let end = self.arena.len();
        // Each boundary (4 GiB) the text's end reaches starts a wrap.
        for _ in (before >> WRAP_BITS)..(end >> WRAP_BITS) {
            self.wraps.push(self.ends.len() as u32);
        }
        self.ends.push((end & WRAP_MASK) as u32);
        let code = self.ends.len() as u32;
        self.table
            .insert_unique(wide_h, (code, h), |&(_, ch)| wide(ch));
        code
    }

    /// Every (code, text), in code order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        (1..=self.len() as u32).map(move |c| (c, self.get(c).unwrap_or_default()))
    }

    /// Add `other`'s texts: `remap[c]` is this dictionary's code of
    /// `other`'s code `c` (`remap[NULL] == NULL`).
    pub fn merge(&mut self, other: &Dict) -> Vec<u32> {
        // Room for all of `other` at once: the table is not regrown (and
        // rehashed) step by step while `other` is added.
        self.table.reserve(other.len(), |&(_, ch)| wide(ch));
        let mut remap = Vec::with_capacity(other.len() + 1);
        remap.push(NULL);
        remap.extend(other.iter().map(|(_, s)| self.intern(s)));
        remap
    }
}

/// A text column as codes into its dictionary.
#[derive(Debug, Clone, Default)]
pub struct Coded {
    pub codes: Vec<u32>,
    pub dict: Dict,
    /// Codes met lately, by a cheap key of their text (see `slot`): a
    /// column of few distinct texts (channels, touch types) is coded
    /// without hashing each value.
    recent: Recent,
}

const RECENT: usize = 64;

#[derive(Debug, Clone)]
struct Recent([u32; RECENT]);

impl Default for Recent {
    fn default() -> Recent {
        Recent([NULL; RECENT])
    }
}

/// The slot of a text in `Recent`: its length and three of its bytes.
#[inline]
fn slot(s: &[u8]) -> usize {
    let n = s.len();
    let (a, b, c) = match n {
        0 => (0, 0, 0),
        _ => (s[0], s[n / 2], s[n - 1]),
    };
    (n.wrapping_mul(7) ^ (a as usize) ^ (b as usize).wrapping_mul(5) ^ (c as usize).wrapping_mul(3))
        % RECENT
}

impl Coded {
    /// A column of `codes` into `dict`.
    pub fn new(codes: Vec<u32>, dict: Dict) -> Coded {
        Coded {
            codes,
            dict,
            recent: Recent::default(),
        }
    }

    /// The text of row `i` (None for null).
    pub fn get(&self, i: usize) -> Option<&str> {
        self.dict.get(self.codes[i])
    }

    /// Append a value (None for null). A run of one text (a lead's
    /// consecutive touches) is looked up once.
    pub fn push(&mut self, s: Option<&str>) {
        let code = match s {
            None => NULL,
            Some(s) => match self.codes.last() {
                Some(&last) if last != NULL && self.dict.is(last, s) => last,
                _ => {
                    let k = slot(s.as_bytes());
                    match self.recent.0[k] {
                        c if c != NULL && self.dict.is(c, s) => c,
                        _ => {
                            let c = self.dict.intern(s);
                            self.recent.0[k] = c;
                            c
                        }
                    }
                }
            },
        };
        self.codes.push(code);
    }

}

/// Ids (a table's `lead_id`) numbered by the first row that has each,
/// looked up through a dictionary that already holds most of them (the
/// touches' lead ids): no second hash table of every id, only of the ids
/// the dictionary lacks. `get(id)` and `of_code(code)` give the row.
pub struct IdIndex<'a> {
    dict: Option<&'a Dict>,
    /// Row of each dictionary code (`NONE` when no row has it).
    by_code: Vec<u32>,
    /// Rows of the ids not in the dictionary.
    rest: FastMap<&'a str, u32>,
    distinct: usize,
}

const NONE: u32 = u32::MAX;

impl<'a> IdIndex<'a> {
    /// The index of `ids` (row order; a row without an id is skipped).
    pub fn new(
        dict: Option<&'a Dict>,
        ids: impl ExactSizeIterator<Item = Option<&'a str>>,
    ) -> Self {
        let rows = ids.len();
        let mut by_code = vec![NONE; dict.map_or(0, |d| d.len() + 1)];
        let mut rest: FastMap<&str, u32> = match dict {
            Some(_) => FastMap::default(),
            None => crate::hash::with_capacity(rows),
        };
        let mut distinct = 0;
        // The code after the last one found is tried first: ids listed in
        // the order the touches first name them are found without a hash.
        let mut next = 1u32;
        for (i, id) in ids.enumerate() {
            let Some(id) = id else { continue };
            let code = dict.and_then(|d| match (next as usize) <= d.len() && d.is(next, id) {
                true => Some(next),
                false => d.find(id),
            });
            if let Some(c) = code {
                next = c + 1;
            }
            match code {
                Some(c) if by_code[c as usize] == NONE => {
                    by_code[c as usize] = i as u32;
                    distinct += 1;
                }
                Some(_) => {}
                None => {
                    rest.entry(id).or_insert_with(|| {
                        distinct += 1;
                        i as u32
                    });
                }
            }
        }
        IdIndex {
            dict,
            by_code,
            rest,
            distinct,
        }
    }

    /// The first row with `id`.
    pub fn get(&self, id: &str) -> Option<u32> {
        match self.dict.and_then(|d| d.find(id)) {
            Some(c) => self.of_code(c),
            None => self.rest.get(id).copied(),
        }
    }

    /// The first row whose id is the dictionary's `code`.
    #[inline]
    pub fn of_code(&self, code: u32) -> Option<u32> {
        self.by_code
            .get(code as usize)
            .copied()
            .filter(|&r| r != NONE)
    }

    /// How many distinct ids.
    pub fn distinct(&self) -> usize {
        self.distinct
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_each_text_once_and_gives_it_back() {
        let mut d = Dict::new();
        assert_eq!(d.intern("b"), 1);
        assert_eq!(d.intern(""), 2);
        assert_eq!(d.intern("b"), 1);
        assert_eq!(d.intern("Paid Search"), 3);
        assert_eq!(d.len(), 3);
        assert_eq!(d.get(NULL), None);
        assert_eq!(d.get(2), Some(""));
        assert_eq!(d.get(3), Some("Paid Search"));
        assert_eq!(d.get(4), None);
        assert_eq!(d.find("Paid Search"), Some(3));
        assert_eq!(d.find("paid search"), None);
        // Many entries: the table grows (rehashed from the kept hashes).
        for i in 0..20_000 {
            d.intern(&format!("L-{i:06}"));
        }
        assert_eq!(d.len(), 20_003);
        assert_eq!(d.find("L-000000"), Some(4));
        assert_eq!(d.find("L-019999"), Some(20_003));
        assert_eq!(d.get(1_004), Some("L-001000"));
        let all: Vec<(u32, &str)> = d.iter().take(3).collect();
        assert_eq!(all, vec![(1, "b"), (2, ""), (3, "Paid Search")]);
    }

    /// `same` against `==` for every length up to 40: equal texts, and
    /// texts that differ at each position in turn (the inline compare reads
    /// words at both ends, which overlap for short lengths).
    #[test]
    fn same_is_byte_equality() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same(&a, &a.clone()), "len {n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert!(!same(&a, &b), "len {n}, byte {i}");
            }
            let mut longer = a.clone();
            longer.push(b'x');
            assert!(!same(&a, &longer));
        }
    }

    /// Ends kept as their low bits (8 of them in the unit tests: a wrap
    /// every 256 bytes): texts of 255, 1 (ending exactly on the boundary),
    /// 0, 600 (from 256 to 856: past 512 and 768, two wraps in one text)
    /// and 2 bytes each give their text back.
    #[test]
    fn ends_past_the_wraps_give_each_text_back() {
        assert_eq!(WRAP_BITS, 8);
        let texts: Vec<String> = [255usize, 1, 0, 600, 2]
            .iter()
            .enumerate()
            .map(|(i, &n)| (0..n).map(|j| (b'a' + ((i + j) % 26) as u8) as char).collect())
            .collect();
        let mut d = Dict::new();
        for (i, t) in texts.iter().enumerate() {
            assert_eq!(d.intern(t), i as u32 + 1);
        }
        // Boundary 256 reached by the second text (index 1), 512 and 768
        // passed by the fourth (index 3).
        assert_eq!(d.wraps, vec![1, 3, 3]);
        for (i, t) in texts.iter().enumerate() {
            assert_eq!(d.get(i as u32 + 1), Some(t.as_str()));
            assert_eq!(d.find(t), Some(i as u32 + 1));
            assert!(d.is(i as u32 + 1, t));
        }
    }

    #[test]
    fn merge_remaps_codes() {
        let mut a = Dict::new();
        a.intern("x");
        a.intern("y");
        let mut b = Dict::new();
        b.intern("y");
        b.intern("z");
        b.intern("x");
        // b's codes: y=1, z=2, x=3 -> a's: y=2, z=3 (new), x=1.
        assert_eq!(a.merge(&b), vec![NULL, 2, 3, 1]);
        assert_eq!(a.get(3), Some("z"));
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn coded_columns_push() {
        // A run of one text reuses the last code; a null is NULL and never
        // enters the dictionary; a text met before gets its first code.
        let mut a = Coded::default();
        for v in [Some("L1"), Some("L1"), None, Some("L2"), Some("L1")] {
            a.push(v);
        }
        assert_eq!(a.codes, vec![1, 1, NULL, 2, 1]);
        assert_eq!(a.dict.len(), 2);
        let texts: Vec<Option<&str>> = (0..a.codes.len()).map(|i| a.get(i)).collect();
        assert_eq!(texts, vec![Some("L1"), Some("L1"), None, Some("L2"), Some("L1")]);
    }

    /// Values that share a slot of the recent codes (same length, same
    /// first, middle and last bytes) and runs of one value: each row gives
    /// its text back, and each distinct text has one code.
    #[test]
    fn coded_push_through_colliding_recent_slots() {
        let vals: Vec<String> = (0..3000)
            .map(|i| format!("C{}X{:03}Y", i % 7, (i * 37) % 211))
            .collect();
        let mut c = Coded::default();
        for v in &vals {
            c.push(Some(v));
        }
        for (i, v) in vals.iter().enumerate() {
            assert_eq!(c.get(i), Some(v.as_str()));
            assert_eq!(c.dict.find(v), Some(c.codes[i]));
        }
        let distinct: std::collections::BTreeSet<&String> = vals.iter().collect();
        assert_eq!(c.dict.len(), distinct.len());
    }

    /// Rows numbered by their first id, through the dictionary or not: L1
    /// twice (first row 0), L9 only in the rows (not in the dictionary),
    /// a row without an id; dictionary codes of ids no row has give None.
    #[test]
    fn id_index_first_row_of_each_id() {
        let mut d = Dict::new();
        for id in ["L2", "L1", "L7"] {
            d.intern(id);
        }
        let rows = [
            Some("L1"),
            Some("L9"),
            None,
            Some("L1"),
            Some("L2"),
            Some("L9"),
        ];
        for dict in [Some(&d), None] {
            let x = IdIndex::new(dict, rows.iter().copied());
            assert_eq!(x.distinct(), 3);
            assert_eq!(x.get("L1"), Some(0));
            assert_eq!(x.get("L9"), Some(1));
            assert_eq!(x.get("L2"), Some(4));
            assert_eq!(x.get("L7"), None);
            assert_eq!(x.get("L8"), None);
        }
        let x = IdIndex::new(Some(&d), rows.iter().copied());
        assert_eq!(x.of_code(2), Some(0));
        assert_eq!(x.of_code(1), Some(4));
        assert_eq!(x.of_code(3), None);
        assert_eq!(x.of_code(NULL), None);
        // Rows in the dictionary's order (found by the guess of the next code).
        let rows = [Some("L2"), Some("L1"), Some("L7"), Some("L2")];
        let x = IdIndex::new(Some(&d), rows.iter().copied());
        assert_eq!(
            (x.of_code(1), x.of_code(2), x.of_code(3)),
            (Some(0), Some(1), Some(2))
        );
        assert_eq!(x.distinct(), 3);
    }

    /// Ids that differ only in a word's high bytes (`L-00000001` ...) must
    /// spread over the table: 100,000 of them into 65,536 buckets fill
    /// about 65,536 * (1 - e^-1.53) = 51,300 when the hash is uniform (the
    /// fast hasher's unmixed low 32 bits filled about a thousand: every
    /// lookup then walked a long probe).
    #[test]
    fn lead_like_ids_spread_over_the_buckets() {
        let mut buckets = std::collections::HashSet::new();
        let mut tags = std::collections::HashSet::new();
        for i in 0..100_000 {
            let (h, w) = hash(&format!("L-{:08}", i * 7));
            buckets.insert(w & 0xffff);
            tags.insert((w >> 57, h & 0xffff));
        }
        assert!(buckets.len() > 45_000, "{} buckets", buckets.len());
        // The tag (top 7 bits) is independent of the bucket.
        assert!(tags.len() > 90_000, "{} (tag, bucket) pairs", tags.len());
    }
}
