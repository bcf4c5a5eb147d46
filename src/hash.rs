//! A fast hasher for hot maps keyed by ids or short texts (the attribution
//! engine's units, id slices and lead ids; the touches' lead ids when loading):
//! the multiply-rotate hash of rustc's `FxHasher`, a few instructions per
//! word instead of SipHash's rounds. Not resistant to chosen collisions;
//! the keys are the user's own data on the user's own machine. No map keyed
//! by it is iterated into the output without sorting first.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl Fx {
    #[inline]
    fn add(&mut self, x: u64) {
        self.0 = self.0.wrapping_add(x).wrapping_mul(K);
    }
}

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply leaves its best bits at the top; the table uses both ends.
        self.0.rotate_left(26)
    }
}

/// A `HashMap` with the fast hasher.
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// An empty `FastMap` with room for `n` entries.
pub fn with_capacity<K, V>(n: usize) -> FastMap<K, V> {
    FastMap::with_capacity_and_hasher(n, Default::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_map_keys_of_every_shape() {
        let mut m: FastMap<Box<[u32]>, u32> = FastMap::default();
        for i in 0..2000u32 {
            m.insert(vec![i % 7, i, i / 3].into(), i);
        }
        assert_eq!(m.len(), 2000);
        assert_eq!(m.get(&[5u32, 12, 4][..]), Some(&12));
        let ids: Vec<String> = (0..5000).map(|i| format!("L-{i:08}")).collect();
        let mut s: FastMap<&str, usize> = with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            s.insert(id, i);
        }
        assert!(ids.iter().enumerate().all(|(i, id)| s[id.as_str()] == i));
        assert_eq!(s.get("L-0000000"), None);
    }
}
