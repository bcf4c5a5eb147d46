//! Sums that do not depend on the order of their terms: the correctly
//! rounded sum of the terms (Shewchuk's algorithm, as Python's `math.fsum`).
//! Every credited total is one of these, so reordering rows never changes a byte.

/// A running exact sum: the partials of Shewchuk's algorithm, which hold the
/// sum of every term added so far exactly. `value` rounds it once, so terms
/// can be added in any order, in any number of batches, with the same result.
#[derive(Debug, Clone, Default)]
pub struct Acc {
    partials: Vec<f64>,
}

impl Acc {
    pub fn add(&mut self, mut x: f64) {
        let partials = &mut self.partials;
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }

    /// Add every term of `other` (its partials hold their sum exactly, so
    /// the result holds the exact sum of both sets of terms).
    pub fn merge(&mut self, other: &Acc) {
        for &x in &other.partials {
            self.add(x);
        }
    }

    /// The sum so far, correctly rounded to the nearest f64.
    pub fn value(&self) -> f64 {
        let partials = &self.partials;
        let Some(mut n) = partials.len().checked_sub(1) else {
            return 0.0;
        };
        let mut hi = partials[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = partials[n];
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        // Round half to even across the remaining partials.
        if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

/// The sum of `xs`, correctly rounded to the nearest f64 (finite inputs).
pub fn sum(xs: impl IntoIterator<Item = f64>) -> f64 {
    let mut acc = Acc::default();
    for x in xs {
        acc.add(x);
    }
    acc.value()
}

#[cfg(test)]
mod tests {
    use super::sum;

    #[test]
    fn exact_sum_is_correctly_rounded_and_order_free() {
        assert_eq!(0.3 + 0.3 + 0.3 + 0.1, 0.9999999999999999);
        assert_eq!(sum([0.3, 0.3, 0.3, 0.1]), 1.0);
        assert_eq!(sum([0.1, 0.3, 0.3, 0.3]), 1.0);
        assert_eq!(sum([1e100, 1.0, -1e100, 1.0]), 2.0);
        assert_eq!(sum([]), 0.0);
        let xs: Vec<f64> = (1..200).map(|i| 1.0 / i as f64).collect();
        let mut ys = xs.clone();
        ys.reverse();
        assert_eq!(sum(xs.clone()).to_bits(), sum(ys).to_bits());
        // In batches, in another order: the same bits.
        let mut whole = super::Acc::default();
        xs.iter().for_each(|x| whole.add(*x));
        let mut halves = super::Acc::default();
        xs[100..].iter().chain(&xs[..100]).for_each(|x| halves.add(*x));
        assert_eq!(whole.value().to_bits(), halves.value().to_bits());
        // Batches summed apart, then merged (the engine's workers): the same bits.
        let mut merged = super::Acc::default();
        for part in xs.chunks(37).rev() {
            let mut acc = super::Acc::default();
            part.iter().for_each(|x| acc.add(*x));
            merged.merge(&acc);
        }
        assert_eq!(merged.value().to_bits(), whole.value().to_bits());
        let mut rounded = super::Acc::default();
        for part in [[1e100, 1.0], [-1e100, 1.0]] {
            let mut acc = super::Acc::default();
            part.iter().for_each(|x| acc.add(*x));
            rounded.merge(&acc);
        }
        // Each batch's partials, not its rounded value, are merged.
        assert_eq!(rounded.value(), 2.0);
    }
}
