//! Repurchase cycles: the store's `C` (§1.3, §3.5.4) and each member's `c_i` (§2.2, §3.5.5),
//! the latter kept as an exact fraction.

use crate::{CYCLE_COUNTS, CustomerMode, EngineConfig, Ratio, StoreAggregation};

/// How the store cycle was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoreCycle {
    pub(crate) days: i64,
    pub(crate) fallback: bool,
    /// `C_1 … C_5` under `by_order_count` (unless `C` fell back).
    pub(crate) by_count: Option<[i64; CYCLE_COUNTS]>,
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

    /// Adds another histogram's counts.
    pub(crate) fn merge(&mut self, other: &Self) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
    }

    /// The median, times two (so an even count's half-way value stays exact).
    fn median_times_two(&self) -> i64 {
        self.nth((self.total - 1) / 2) + self.nth(self.total / 2)
    }

    /// The sum of every value.
    fn sum(&self) -> i64 {
        self.counts
            .iter()
            .enumerate()
            .map(|(value, count)| value as i64 * *count as i64)
            .sum()
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

/// What the store cycle is computed from: every repeater's intervals pooled, and each
/// repeater's own median interval (times two, as half-days are possible).
#[derive(Debug, Clone)]
pub(crate) struct PooledIntervals {
    pub(crate) all: IntervalHistogram,
    pub(crate) member_medians_times_two: IntervalHistogram,
    /// Whether member medians are wanted (only `median_of_medians` uses them).
    per_member: bool,
    /// The intervals after each purchase count (only `by_order_count` fills them).
    by_count: Vec<IntervalHistogram>,
}

impl PooledIntervals {
    pub(crate) fn new(config: &EngineConfig) -> Self {
        Self {
            all: IntervalHistogram::new(config.store_window_days),
            member_medians_times_two: IntervalHistogram::new(2 * config.store_window_days),
            per_member: config.store_aggregation == StoreAggregation::MedianOfMedians,
            by_count: if config.store_aggregation == StoreAggregation::ByOrderCount {
                vec![IntervalHistogram::new(config.store_window_days); CYCLE_COUNTS]
            } else {
                Vec::new()
            },
        }
    }

    /// Adds another pool (from another chunk of members).
    pub(crate) fn merge(&mut self, other: &Self) {
        self.all.merge(&other.all);
        self.member_medians_times_two
            .merge(&other.member_medians_times_two);
        for (mine, theirs) in self.by_count.iter_mut().zip(&other.by_count) {
            mine.merge(theirs);
        }
    }

    /// Adds one repeater's intervals in the window, in order, the first starting at their
    /// `first_count`-th purchase-day; they are reordered.
    pub(crate) fn add_member(&mut self, intervals: &mut [i32], first_count: u32) {
        if intervals.is_empty() {
            return;
        }
        for interval in intervals.iter() {
            self.all.add(*interval);
        }
        if !self.by_count.is_empty() {
            for (k, interval) in intervals.iter().enumerate() {
                let count = (first_count as usize + k).clamp(1, CYCLE_COUNTS);
                self.by_count[count - 1].add(*interval);
            }
        }
        if !self.per_member {
            return;
        }
        let n = intervals.len();
        let (_, &mut upper, _) = intervals.select_nth_unstable(n / 2);
        let twice = if n % 2 == 1 {
            2 * upper
        } else {
            intervals[..n / 2].iter().copied().max().unwrap_or(upper) + upper
        };
        self.member_medians_times_two.add(twice);
    }
}

/// `C` by the configured aggregation, rounded half up to whole days, at least 1; or the category
/// default when the store is younger than `min_store_age_days`, has no repeaters, or no orders
/// in the window.
pub(crate) fn store_cycle(
    pooled: &PooledIntervals,
    store_age: Option<i32>,
    orders_in_window: bool,
    config: &EngineConfig,
) -> StoreCycle {
    let young = store_age.is_none_or(|age| age < config.min_store_age_days);
    if young || pooled.all.total == 0 || !orders_in_window {
        return StoreCycle {
            days: i64::from(config.category_default_days),
            fallback: true,
            by_count: None,
        };
    }
    // Each aggregation is a fraction num / den; half up is (2·num + den) / (2·den).
    let half_up = |num: i64, den: i64| ((2 * num + den) / (2 * den)).max(1);
    let (num, den) = match config.store_aggregation {
        StoreAggregation::PooledMedian | StoreAggregation::ByOrderCount => {
            (pooled.all.median_times_two(), 2)
        }
        StoreAggregation::PooledMean => (pooled.all.sum(), pooled.all.total as i64),
        StoreAggregation::MedianOfMedians => {
            (pooled.member_medians_times_two.median_times_two(), 4)
        }
    };
    let days = half_up(num, den);
    let by_count = (!pooled.by_count.is_empty()).then(|| {
        std::array::from_fn(|k| {
            let after = &pooled.by_count[k];
            if after.total == 0 {
                days
            } else {
                half_up(after.median_times_two(), 2)
            }
        })
    });
    StoreCycle {
        days,
        fallback: false,
        by_count,
    }
}

/// A member's cycle `c_i = p / q` days, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerCycle {
    /// Numerator.
    pub p: i64,
    /// Denominator, positive.
    pub q: i64,
    /// Intervals the member's own history has (0 when they fall back to `C`).
    pub intervals: u32,
}

fn narrow(intervals: i64) -> u32 {
    u32::try_from(intervals).unwrap_or(u32::MAX)
}

impl CustomerCycle {
    /// `c_i` for a member whose purchase-days span `span` days over `intervals` intervals.
    pub(crate) fn of(span: i64, intervals: i64, store_cycle: i64, config: &EngineConfig) -> Self {
        if config.customer_mode == CustomerMode::Store
            || intervals < i64::from(config.customer_min_intervals)
        {
            return Self {
                p: store_cycle,
                q: 1,
                intervals: 0,
            };
        }
        if config.customer_mode == CustomerMode::Customer {
            // The member's own mean interval, unshrunk and unclamped.
            return Self {
                p: span,
                q: intervals,
                intervals: narrow(intervals),
            };
        }
        let Ratio { num: kn, den: kd } = config.shrinkage_kappa;
        // (n·mean + κC)/(n + κ) with n·mean = span, κ = kn/kd.
        let p = i128::from(span) * i128::from(kd) + i128::from(kn) * i128::from(store_cycle);
        let q = i128::from(intervals) * i128::from(kd) + i128::from(kn);
        let c = i128::from(store_cycle);
        // Clamp to [C/4, 4C]: p/q < C/4 ⇔ 4p < Cq.
        let intervals = narrow(intervals);
        if 4 * p < c * q {
            return Self {
                p: store_cycle,
                q: 4,
                intervals,
            };
        }
        if p > 4 * c * q {
            return Self {
                p: 4 * store_cycle,
                q: 1,
                intervals,
            };
        }
        // Spans are days and κ has at most six decimals, so both fit in an i64.
        Self {
            p: i64::try_from(p).unwrap_or(i64::MAX),
            q: i64::try_from(q).unwrap_or(i64::MAX),
            intervals,
        }
    }

    /// `recency / c_i ≤ k`, exactly.
    pub(crate) fn within(&self, recency: i64, k: Ratio) -> bool {
        i128::from(recency) * i128::from(self.q) * i128::from(k.den)
            <= i128::from(k.num) * i128::from(self.p)
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

    fn pooled(intervals: &[i32]) -> PooledIntervals {
        let mut pooled = PooledIntervals::new(&EngineConfig {
            store_aggregation: StoreAggregation::MedianOfMedians,
            ..config()
        });
        pooled.add_member(&mut intervals.to_vec(), 1);
        pooled
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
                fallback: false,
                by_count: None,
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
    fn the_other_aggregations_follow_their_sources() {
        // SHOPLINE's older example: A 1, 3, 5 → 3; B 10, 14, 5, 18, 17 → 14; C 6, 10 → 8; median 8.
        let mut pooled = PooledIntervals::new(&EngineConfig {
            store_aggregation: StoreAggregation::MedianOfMedians,
            ..config()
        });
        for member in [vec![1, 3, 5], vec![10, 14, 5, 18, 17], vec![6, 10]] {
            pooled.add_member(&mut member.clone(), 1);
        }
        let with = |store_aggregation| EngineConfig {
            store_aggregation,
            ..config()
        };
        assert_eq!(
            store_cycle(
                &pooled,
                Some(400),
                true,
                &with(StoreAggregation::MedianOfMedians)
            )
            .days,
            8
        );
        // Pooled mean: 89 / 10 = 8.9 → 9.
        assert_eq!(
            store_cycle(
                &pooled,
                Some(400),
                true,
                &with(StoreAggregation::PooledMean)
            )
            .days,
            9
        );
        // Pooled median of 1 3 5 5 6 10 10 14 17 18: (6 + 10) / 2 = 8.
        assert_eq!(
            store_cycle(
                &pooled,
                Some(400),
                true,
                &with(StoreAggregation::PooledMedian)
            )
            .days,
            8
        );
        // Medians 2.5 and 3.5 → median 3.
        let mut halves = PooledIntervals::new(&EngineConfig {
            store_aggregation: StoreAggregation::MedianOfMedians,
            ..config()
        });
        halves.add_member(&mut [2, 3], 1);
        halves.add_member(&mut [3, 4], 1);
        assert_eq!(
            store_cycle(
                &halves,
                Some(400),
                true,
                &with(StoreAggregation::MedianOfMedians)
            )
            .days,
            3
        );
    }

    #[test]
    fn by_order_count_gives_each_purchase_count_the_median_interval_after_it() {
        let config = EngineConfig {
            store_aggregation: StoreAggregation::ByOrderCount,
            ..config()
        };
        let mut pooled = PooledIntervals::new(&config);
        // Member A from their 1st purchase-day: 10, 20, 30, 40, 50, 60 (the 5th and 6th pool).
        pooled.add_member(&mut [10, 20, 30, 40, 50, 60], 1);
        // Member B, whose first two purchase-days fell before the window: 2nd → 3rd is 4, …
        pooled.add_member(&mut [4, 6], 2);
        // Member C: 1st → 2nd is 12.
        pooled.add_member(&mut [12], 1);
        let c = store_cycle(&pooled, Some(400), true, &config);
        // Pooled median of 4 6 10 12 20 30 40 50 60: 20. C_1 = median(10, 12) = 11;
        // C_2 = median(20, 4) = 12; C_3 = median(30, 6) = 18; C_4 = 40; C_5+ = median(50, 60) = 55.
        assert_eq!(c.days, 20);
        assert_eq!(c.by_count, Some([11, 12, 18, 40, 55]));
        let only_firsts = {
            let mut pooled = PooledIntervals::new(&config);
            pooled.add_member(&mut [9], 1);
            pooled
        };
        assert_eq!(
            store_cycle(&only_firsts, Some(400), true, &config).by_count,
            Some([9, 9, 9, 9, 9]),
            "a count without intervals uses the pooled median"
        );
    }

    #[test]
    fn customer_and_store_modes_skip_the_shrinkage() {
        let customer = EngineConfig {
            customer_mode: CustomerMode::Customer,
            ..config()
        };
        assert_eq!(CustomerCycle::of(30, 2, 20, &customer).days(), 15.0);
        assert_eq!(
            CustomerCycle::of(1_000, 2, 20, &customer).days(),
            500.0,
            "no clamp"
        );
        let store = EngineConfig {
            customer_mode: CustomerMode::Store,
            ..config()
        };
        assert_eq!(CustomerCycle::of(30, 2, 20, &store).days(), 20.0);
    }

    #[test]
    fn a_young_store_or_one_without_repeaters_uses_the_category_default() {
        assert_eq!(
            store_cycle(&pooled(&[10]), Some(179), true, &config()),
            StoreCycle {
                days: 60,
                fallback: true,
                by_count: None,
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
