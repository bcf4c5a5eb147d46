//! A dictionary of texts (an interner): each distinct text stored once, in
//! one arena, numbered in the order first met. Code 0 is reserved for null,
//! so a coded column is a plain `Vec<u32>` with no validity mask.
//!
//! Memory: the text's bytes, 8 bytes of offset and about 5 of hash table
//! an entry; a coded value is 4 bytes however long its text. The touches
//! table is loaded this way (see `model::Touches`). Dictionaries of two
//! files (or two chunks of one) merge with `merge`, which returns the code
//! remap of the merged one.

use std::hash::{BuildHasher, BuildHasherDefault};

use hashbrown::HashTable;

use crate::hash::Fx;

/// The code of null in every dictionary.
pub const NULL: u32 = 0;

#[derive(Clone, Default)]
pub struct Dict {
    /// Every entry's text, one after the other.
    arena: String,
    /// `ends[i]`: where the text of code `i + 1` ends in `arena`.
    ends: Vec<usize>,
    /// Codes, found by their text's hash.
    table: HashTable<u32>,
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dict({} texts, {} bytes)", self.len(), self.arena.len())
    }
}

fn hash(s: &str) -> u64 {
    BuildHasherDefault::<Fx>::default().hash_one(s)
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
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.arena[start..end])
    }

    /// The text of a code that is not `NULL` (for the table's rehash).
    fn text<'a>(arena: &'a str, ends: &[usize], code: u32) -> &'a str {
        let i = code as usize - 1;
        let start = if i == 0 { 0 } else { ends[i - 1] };
        &arena[start..ends[i]]
    }

    /// The code of `s`, when it is in the dictionary.
    pub fn find(&self, s: &str) -> Option<u32> {
        let (arena, ends) = (&self.arena, &self.ends);
        self.table
            .find(hash(s), |&c| Self::text(arena, ends, c) == s)
            .copied()
    }

    /// The code of `s`, added when new.
    pub fn intern(&mut self, s: &str) -> u32 {
        let h = hash(s);
        let (arena, ends) = (&self.arena, &self.ends);
        if let Some(&c) = self.table.find(h, |&c| Self::text(arena, ends, c) == s) {
            return c;
        }
        self.arena.push_str(s);
        self.ends.push(self.arena.len());
        let code = self.ends.len() as u32;
        let (arena, ends) = (&self.arena, &self.ends);
        self.table
            .insert_unique(h, code, |&c| hash(Self::text(arena, ends, c)));
        code
    }

    /// Every (code, text), in code order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        (1..=self.len() as u32).map(move |c| (c, Self::text(&self.arena, &self.ends, c)))
    }

    /// Add `other`'s texts: `remap[c]` is this dictionary's code of
    /// `other`'s code `c` (`remap[NULL] == NULL`).
    pub fn merge(&mut self, other: &Dict) -> Vec<u32> {
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
}

impl Coded {
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
                Some(&last) if last != NULL && self.dict.get(last) == Some(s) => last,
                _ => self.dict.intern(s),
            },
        };
        self.codes.push(code);
    }

    /// Append `other`'s rows (its codes remapped into this dictionary).
    pub fn append(&mut self, other: &Coded) {
        let remap = self.dict.merge(&other.dict);
        self.codes
            .extend(other.codes.iter().map(|&c| remap[c as usize]));
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
        // Many entries: the table grows and rehashes from the arena.
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
    fn coded_columns_append() {
        let mut a = Coded::default();
        for v in [Some("L1"), Some("L1"), None, Some("L2"), Some("L1")] {
            a.push(v);
        }
        assert_eq!(a.codes, vec![1, 1, NULL, 2, 1]);
        let mut b = Coded::default();
        for v in [Some("L3"), Some("L2"), None] {
            b.push(v);
        }
        a.append(&b);
        assert_eq!(a.codes, vec![1, 1, NULL, 2, 1, 3, 2, NULL]);
        let texts: Vec<Option<&str>> = (0..a.codes.len()).map(|i| a.get(i)).collect();
        assert_eq!(
            texts,
            vec![Some("L1"), Some("L1"), None, Some("L2"), Some("L1"), Some("L3"), Some("L2"), None]
        );
    }
}
