//! Latency percentiles: exact for small inputs, a DDSketch beyond.

use std::collections::BTreeMap;

use serde::Serialize;

/// Up to this many values are kept and percentiles are exact (nearest rank); past it,
/// the values move into a [`DdSketch`].
pub const EXACT_LIMIT: usize = 10_000;

/// Relative accuracy of the sketch: every percentile it returns is within 1% of a
/// value of the right rank.
pub const RELATIVE_ERROR: f64 = 0.01;

/// Durations of one function's calls, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    exact: Vec<f64>,
    sketch: Option<DdSketch>,
}

/// p50, p90 and p99 of a [`Latencies`], in milliseconds, and whether they are exact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// `false` when estimated by the sketch (within [`RELATIVE_ERROR`]).
    pub exact: bool,
}

impl Latencies {
    /// Adds one duration; negative and non-finite values are ignored.
    pub fn add(&mut self, ms: f64) {
        if !ms.is_finite() || ms < 0.0 {
            return;
        }
        match &mut self.sketch {
            Some(sketch) => sketch.add(ms),
            None => {
                self.exact.push(ms);
                if self.exact.len() > EXACT_LIMIT {
                    let mut sketch = DdSketch::new(RELATIVE_ERROR);
                    for v in self.exact.drain(..) {
                        sketch.add(v);
                    }
                    self.exact.shrink_to_fit();
                    self.sketch = Some(sketch);
                }
            }
        }
    }

    /// The percentiles, or `None` without values.
    pub fn percentiles(&self) -> Option<Percentiles> {
        if let Some(sketch) = &self.sketch {
            return Some(Percentiles {
                p50: sketch.quantile(0.5)?,
                p90: sketch.quantile(0.9)?,
                p99: sketch.quantile(0.99)?,
                exact: false,
            });
        }
        if self.exact.is_empty() {
            return None;
        }
        let mut sorted = self.exact.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| sorted[nearest_rank(q, sorted.len())];
        Some(Percentiles {
            p50: rank(0.5),
            p90: rank(0.9),
            p99: rank(0.99),
            exact: true,
        })
    }
}

/// Index (0-based) of the nearest-rank `q` quantile among `n` sorted values:
/// the smallest value with at least `q * n` values at or below it.
fn nearest_rank(q: f64, n: usize) -> usize {
    ((q * n as f64).ceil() as usize).clamp(1, n) - 1
}

/// A DDSketch (Masson, Rim and Lee, VLDB 2019) over positive values: logarithmic
/// buckets of ratio `gamma = (1 + a) / (1 - a)`, so that any quantile is returned with a
/// relative error of at most `a`. Mergeable: two sketches with the same accuracy add
/// bucket by bucket. Memory grows with the logarithm of the value range.
#[derive(Debug, Clone)]
pub struct DdSketch {
    gamma_ln: f64,
    gamma: f64,
    buckets: BTreeMap<i32, u64>,
    zeros: u64,
    count: u64,
}

/// Values below this count as zero.
const MIN_VALUE: f64 = 1e-9;

impl DdSketch {
    /// An empty sketch with relative accuracy `alpha` (e.g. `0.01`).
    pub fn new(alpha: f64) -> DdSketch {
        let gamma = (1.0 + alpha) / (1.0 - alpha);
        DdSketch {
            gamma_ln: gamma.ln(),
            gamma,
            buckets: BTreeMap::new(),
            zeros: 0,
            count: 0,
        }
    }

    /// Adds a value (negative values count as zero).
    pub fn add(&mut self, value: f64) {
        self.count += 1;
        if value < MIN_VALUE {
            self.zeros += 1;
            return;
        }
        let key = (value.ln() / self.gamma_ln).ceil() as i32;
        *self.buckets.entry(key).or_default() += 1;
    }

    /// Adds every value of `other`, which must have the same accuracy.
    pub fn merge(&mut self, other: &DdSketch) {
        debug_assert!((self.gamma - other.gamma).abs() < 1e-12);
        self.count += other.count;
        self.zeros += other.zeros;
        for (k, n) in &other.buckets {
            *self.buckets.entry(*k).or_default() += n;
        }
    }

    /// Number of values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q` quantile (nearest rank), `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = nearest_rank(q, self.count as usize) as u64; // 0-based
        if rank < self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        for (key, n) in &self.buckets {
            seen += n;
            if seen > rank {
                return Some(2.0 * self.gamma.powi(*key) / (self.gamma + 1.0));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_percentiles_use_nearest_rank() {
        let mut l = Latencies::default();
        for v in 1..=10 {
            l.add(f64::from(v));
        }
        l.add(f64::NAN);
        let p = l.percentiles().unwrap();
        assert_eq!((p.p50, p.p90, p.p99, p.exact), (5.0, 9.0, 10.0, true));
        assert_eq!(Latencies::default().percentiles(), None);
    }

    #[test]
    fn sketch_is_within_its_relative_error() {
        let mut l = Latencies::default();
        let n = 100_000u32;
        // A skewed distribution over five orders of magnitude.
        let values: Vec<f64> = (1..=n).map(|i| (f64::from(i) / 1000.0).powi(2)).collect();
        for v in values.iter().rev() {
            l.add(*v);
        }
        let p = l.percentiles().unwrap();
        assert!(!p.exact);
        for (q, got) in [(0.5, p.p50), (0.9, p.p90), (0.99, p.p99)] {
            let want = values[nearest_rank(q, values.len())];
            assert!(
                (got - want).abs() <= RELATIVE_ERROR * want,
                "q{q}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn sketches_merge() {
        let (mut a, mut b, mut all) = (
            DdSketch::new(0.01),
            DdSketch::new(0.01),
            DdSketch::new(0.01),
        );
        for i in 0..1000 {
            let v = f64::from(i);
            if i % 2 == 0 {
                a.add(v)
            } else {
                b.add(v)
            }
            all.add(v);
        }
        a.merge(&b);
        assert_eq!(a.count(), 1000);
        assert_eq!(a.quantile(0.9), all.quantile(0.9));
        assert_eq!(a.quantile(0.0001), Some(0.0));
    }
}
