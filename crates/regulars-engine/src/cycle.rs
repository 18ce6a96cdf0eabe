//! Repurchase cycles: the store's `C` (§1.3, §3.5.4) and each member's `c_i` (§2.2, §3.5.5),
//! the latter kept as an exact fraction.

use crate::{EngineConfig, Ratio};

/// How the store cycle was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreCycle {
    pub(crate) days: i64,
    pub(crate) fallback: bool,
}

/// Pooled inter-purchase intervals as a histogram (intervals within the store window are at most
/// its length), so pooling millions of intervals needs no memory.
#[derive(Debug, Clone)]
pub(crate) struct IntervalHistogram {
    counts: Vec<u64>,
    total: u64,
}

impl IntervalHistogram {
    pub(crate) fn new(max_interval: i32) -> Self {
        Self {
            counts: vec![0; max_interval as usize + 1],
            total: 0,
        }
    }

    pub(crate) fn add(&mut self, interval: i32) {
        self.counts[interval as usize] += 1;
        self.total += 1;
    }

    /// The `rank`-th smallest interval (from 0).
    fn nth(&self, rank: u64) -> i64 {
        let mut seen = 0;
        for (interval, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen > rank {
                return interval as i64;
            }
        }
        0
    }
}

/// The median of pooled intervals, rounded half up, at least 1; or the category default when the
/// store is younger than `min_store_age_days`, has no repeaters, or no orders in the window.
pub(crate) fn store_cycle(
    intervals: &IntervalHistogram,
    store_age: Option<i32>,
    orders_in_window: bool,
    config: &EngineConfig,
) -> StoreCycle {
    let young = store_age.is_none_or(|age| age < config.min_store_age_days);
    if young || intervals.total == 0 || !orders_in_window {
        return StoreCycle {
            days: i64::from(config.category_default_days),
            fallback: true,
        };
    }
    let n = intervals.total;
    let median_times_two = intervals.nth((n - 1) / 2) + intervals.nth(n / 2);
    // Half up: (2m + 1) / 2 in integers.
    StoreCycle {
        days: ((median_times_two + 1) / 2).max(1),
        fallback: false,
    }
}

/// A member's cycle `c_i = p / q` days, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerCycle {
    /// Numerator.
    pub p: i128,
    /// Denominator, positive.
    pub q: i128,
    /// Intervals the member's own history has (0 when they fall back to `C`).
    pub intervals: i64,
}

impl CustomerCycle {
    /// `c_i` for a member whose purchase-days span `span` days over `intervals` intervals.
    pub(crate) fn of(span: i64, intervals: i64, store_cycle: i64, config: &EngineConfig) -> Self {
        if intervals < i64::from(config.customer_min_intervals) {
            return Self {
                p: i128::from(store_cycle),
                q: 1,
                intervals: 0,
            };
        }
        let Ratio { num: kn, den: kd } = config.shrinkage_kappa;
        // (n·mean + κC)/(n + κ) with n·mean = span, κ = kn/kd.
        let p = i128::from(span) * i128::from(kd) + i128::from(kn) * i128::from(store_cycle);
        let q = i128::from(intervals) * i128::from(kd) + i128::from(kn);
        let c = i128::from(store_cycle);
        // Clamp to [C/4, 4C]: p/q < C/4 ⇔ 4p < Cq.
        if 4 * p < c * q {
            return Self {
                p: c,
                q: 4,
                intervals,
            };
        }
        if p > 4 * c * q {
            return Self {
                p: 4 * c,
                q: 1,
                intervals,
            };
        }
        Self { p, q, intervals }
    }

    /// `recency / c_i ≤ k`, exactly.
    pub(crate) fn within(&self, recency: i64, k: Ratio) -> bool {
        i128::from(recency) * self.q * i128::from(k.den) <= i128::from(k.num) * self.p
    }

    /// The cycle in days, for display.
    pub fn days(&self) -> f64 {
        self.p as f64 / self.q as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EngineConfig {
        EngineConfig::default()
    }

    fn pooled(intervals: &[i32]) -> IntervalHistogram {
        let mut histogram = IntervalHistogram::new(730);
        for interval in intervals {
            histogram.add(*interval);
        }
        histogram
    }

    #[test]
    fn the_store_cycle_is_the_median_of_pooled_intervals_rounded_half_up() {
        // SHOPLINE's example shoppers A (1, 3, 5), B (10, 14, 5, 18, 17), C (6, 10), pooled.
        let c = store_cycle(
            &pooled(&[1, 3, 5, 10, 14, 5, 18, 17, 6, 10]),
            Some(400),
            true,
            &config(),
        );
        assert_eq!(
            c,
            StoreCycle {
                days: 8,
                fallback: false
            },
            "median of 6 and 10"
        );
        assert_eq!(
            store_cycle(&pooled(&[2, 3]), Some(400), true, &config()).days,
            3,
            "2.5 rounds up"
        );
        assert_eq!(
            store_cycle(&pooled(&[7]), Some(400), true, &config()).days,
            7
        );
    }

    #[test]
    fn a_young_store_or_one_without_repeaters_uses_the_category_default() {
        assert_eq!(
            store_cycle(&pooled(&[10]), Some(179), true, &config()),
            StoreCycle {
                days: 60,
                fallback: true
            }
        );
        assert_eq!(
            store_cycle(&pooled(&[]), Some(400), true, &config()).days,
            60
        );
        assert_eq!(
            store_cycle(&pooled(&[10]), Some(400), false, &config()).days,
            60
        );
    }

    #[test]
    fn a_member_cycle_shrinks_toward_the_store_and_is_clamped() {
        // Days 0, 10, 30: span 30 over 2 intervals; (30 + 2·20)/(2 + 2) = 17.5.
        let c = CustomerCycle::of(30, 2, 20, &config());
        assert_eq!((c.p, c.q), (70, 4));
        assert!(c.within(35, Ratio::whole(2)) && !c.within(36, Ratio::whole(2)));
        // One interval: the store's cycle exactly.
        assert_eq!(
            CustomerCycle::of(3, 1, 20, &config()),
            CustomerCycle {
                p: 20,
                q: 1,
                intervals: 0
            }
        );
        // Two one-day gaps: (2 + 40)/4 = 10.5 ≥ 5, no clamp; a long-gap member clamps at 4C.
        assert_eq!(CustomerCycle::of(2, 2, 20, &config()).days(), 10.5);
        assert_eq!(CustomerCycle::of(1_000, 2, 20, &config()).days(), 80.0);
        assert_eq!(CustomerCycle::of(2, 2, 100, &config()).days(), 50.5);
        assert_eq!(
            CustomerCycle::of(10, 10, 100, &config()).days(),
            25.0,
            "clamped up to C/4"
        );
    }
}
