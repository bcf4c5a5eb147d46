//! A tiny seeded PRNG of our own (SplitMix64), so the demo bytes for a seed
//! never change with a dependency update.

use std::f64::consts::TAU;

/// SplitMix64's output function (a 64-bit mixer).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea and Flood 2014): one 64-bit state word, full period,
/// good enough statistical quality for synthetic data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl Rng {
    /// A generator for `seed`; `stream` separates independent parts of the
    /// generator (leads, campaigns, accounts), so that changing how one part
    /// draws does not reshuffle the others.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    /// A generator for one `key` (a lead number) within a `domain` of
    /// `seed`: its own stream, so drawing one lead's touches never moves any
    /// other generator, and a lead's draws do not depend on the leads
    /// before it.
    pub fn keyed(seed: u64, domain: u64, key: u64) -> Rng {
        let mut r = Rng(mix(
            mix(seed ^ domain.wrapping_mul(0xD1B5_4A32_D192_ED03)) ^ key
        ));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        mix(self.0)
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Uniform integer in [0, n) (Lemire's multiply-shift; n = 0 gives 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Standard normal by Box-Muller (one of the pair is used).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64(); // (0, 1]: ln is finite
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }

    /// Lognormal with the given median and log-space standard deviation.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }

    /// An index drawn with probability proportional to `weights`.
    pub fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // SplitMix64 from state 0 (no stream mixing): the published first
        // output of the reference implementation is 0xE220A8397B1DCDAF.
        let mut r = Rng(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn lognormal_median_is_close() {
        let mut r = Rng::new(1, 2);
        let mut v: Vec<f64> = (0..20_001).map(|_| r.lognormal(100.0, 0.8)).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let median = v[10_000];
        assert!((90.0..110.0).contains(&median), "median {median}");
    }
}
