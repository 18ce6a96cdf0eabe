//! Exact quintile breakpoints and top-share thresholds by selection.
//!
//! A breakpoint `b_k` (k = 1..4) is the `k/5` quantile with linear interpolation between order
//! statistics (position `k(n−1)/5`), kept as `5·b_k` so that comparing a value with it needs no
//! division: `v > b_k ⇔ 5v > 5·b_k`. Rank breakpoints (`qcut` of ranks, ties by member id) keep
//! the (value, member) ranked at each.

use crate::MemberIds;

/// Four quintile breakpoints, each times five.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quintiles(pub(crate) [i128; 4]);

impl Quintiles {
    /// The breakpoints of `values` (reordered in place); `None` when empty.
    pub(crate) fn of(values: &mut [i64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mut breaks = [0i128; 4];
        for (k, slot) in breaks.iter_mut().enumerate() {
            let position = (k + 1) * (n - 1);
            let (lo, rem) = (position / 5, position % 5);
            let (_, &mut low, upper) = values.select_nth_unstable(lo);
            let high = if rem == 0 {
                low
            } else {
                upper.iter().copied().min().unwrap_or(low)
            };
            *slot = 5 * i128::from(low) + rem as i128 * (i128::from(high) - i128::from(low));
        }
        Some(Self(breaks))
    }

    /// How many breakpoints `value` is strictly above.
    #[inline]
    pub(crate) fn above(&self, value: i64) -> u8 {
        let five_v = 5 * i128::from(value);
        self.0.iter().filter(|b| five_v > **b).count() as u8
    }
}

/// Rank breakpoints (`qcut(rank(method="first"), 5)`): members ranked 1..n by value, ties by
/// id, split at the rank quintiles `q_k = 1 + k(n−1)/5`. A member is above `q_k` when their rank
/// is above `⌊q_k⌋`, that is when their (value, id) is greater than that of the member ranked
/// `⌊q_k⌋`, whom each breakpoint keeps as (value, member index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RankBreaks(pub(crate) [(i64, u32); 4]);

impl RankBreaks {
    /// The breakpoints of `values`, each (value, member), reordered in place; `None` when empty.
    pub(crate) fn of(values: &mut [(i64, u32)], ids: &dyn MemberIds) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let by_rank =
            |a: &(i64, u32), b: &(i64, u32)| a.0.cmp(&b.0).then_with(|| ids.cmp_ids(a.1, b.1));
        let mut breaks = [(0, 0); 4];
        // Each selection leaves the larger ranks after the chosen one, so the next searches
        // only those.
        let mut from = 0;
        for (k, slot) in breaks.iter_mut().enumerate() {
            let at = (k + 1) * (n - 1) / 5;
            if at >= from {
                let (_, chosen, _) = values[from..].select_nth_unstable_by(at - from, by_rank);
                *slot = *chosen;
                from = at + 1;
            } else {
                *slot = values[at];
            }
        }
        Some(Self(breaks))
    }

    /// How many breakpoints member `member` with `value` is above.
    pub(crate) fn above(&self, value: i64, member: u32, ids: &dyn MemberIds) -> u8 {
        self.0
            .iter()
            .filter(|(v, b)| value > *v || (value == *v && ids.cmp_ids(member, *b).is_gt()))
            .count() as u8
    }
}

/// Where R, F or M scores change: value breakpoints (quintiles, or the merchant's own, times
/// five) or rank breakpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breaks {
    Value(Quintiles),
    Rank(RankBreaks),
}

impl Breaks {
    /// How many breakpoints member `member` with `value` is above. Inlined: every label calls it
    /// three times, and value breakpoints need nothing but the comparison.
    #[inline]
    pub(crate) fn above(&self, value: i64, member: u32, ids: &dyn MemberIds) -> u8 {
        match self {
            Self::Value(q) => q.above(value),
            Self::Rank(r) => r.above(value, member, ids),
        }
    }

    /// For each breakpoint, the smallest value at which member `member` is above it.
    pub(crate) fn first_above(&self, member: u32, ids: &dyn MemberIds) -> [i64; 4] {
        match self {
            // 5v > 5b ⇔ v > b: the first whole v is ⌊5b / 5⌋ + 1.
            Self::Value(q) => {
                q.0.map(|five_b| i64::try_from(five_b.div_euclid(5) + 1).unwrap_or(i64::MAX))
            }
            Self::Rank(r) => r.0.map(|(v, b)| {
                if ids.cmp_ids(member, b).is_gt() {
                    v
                } else {
                    v + 1
                }
            }),
        }
    }

    /// The breakpoints' values, for explanations.
    pub(crate) fn values(&self) -> [f64; 4] {
        match self {
            Self::Value(q) => q.0.map(|five_b| five_b as f64 / 5.0),
            Self::Rank(r) => r.0.map(|(v, _)| v as f64),
        }
    }

    /// The ids of the members ranked at the breakpoints; `None` for value breakpoints.
    pub(crate) fn tie_ids(&self, ids: &dyn MemberIds) -> Option<[String; 4]> {
        match self {
            Self::Value(_) => None,
            Self::Rank(r) => Some(r.0.map(|(_, member)| ids.id(member))),
        }
    }
}

/// The smallest value among the top `ceil(share · n)` of `values` (reordered in place), so that
/// `v ≥ threshold` selects them and every value tied with the last; `None` when empty.
pub(crate) fn top_threshold(values: &mut [i64], share_num: i64, share_den: i64) -> Option<i64> {
    let n = values.len() as i64;
    if n == 0 {
        return None;
    }
    let k = ((n * share_num + share_den - 1) / share_den).clamp(1, n);
    let (_, &mut threshold, _) = values.select_nth_unstable((n - k) as usize);
    Some(threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// numpy.quantile(values, [.2, .4, .6, .8]) (linear), times five.
    #[test]
    fn breakpoints_match_numpy_linear_quantiles() {
        // np.quantile([10, 20, 30, 40, 50, 60], [.2,.4,.6,.8]) = [20, 30, 40, 50]
        let q = Quintiles::of(&mut [60, 10, 50, 20, 40, 30]).unwrap();
        assert_eq!(q.0, [100, 150, 200, 250]);
        // np.quantile([1, 2, 4, 8], [.2,.4,.6,.8]) = [1.6, 2.4, 3.6, 5.6]
        let q = Quintiles::of(&mut [8, 4, 2, 1]).unwrap();
        assert_eq!(q.0, [8, 12, 18, 28]);
        assert_eq!(q.above(2), 1, "2 is above 1.6 only");
        assert_eq!(Quintiles::of(&mut [7]).unwrap().0, [35; 4]);
        assert!(Quintiles::of(&mut []).is_none());
    }

    #[test]
    fn a_value_equal_to_a_breakpoint_is_not_above_it() {
        let q = Quintiles::of(&mut [10, 20, 30, 40, 50, 60]).unwrap();
        assert_eq!(q.above(20), 0);
        assert_eq!(q.above(21), 1);
        assert_eq!(q.above(60), 4);
    }

    #[test]
    fn rank_breakpoints_are_the_members_ranked_at_the_floor_of_each_rank_quintile() {
        let ids = crate::IndexOrder;
        // Ten members, values tied in pairs; ranks by (value, index): q_k = 2.8, 4.6, 6.4, 8.2.
        let mut values: Vec<(i64, u32)> = (0..10).map(|m| (i64::from(m / 2), m)).collect();
        values.reverse();
        let breaks = RankBreaks::of(&mut values, &ids).unwrap();
        assert_eq!(breaks.0, [(0, 1), (1, 3), (2, 5), (3, 7)]);
        let above: Vec<u8> = (0..10)
            .map(|m| breaks.above(i64::from(m / 2), m, &ids))
            .collect();
        assert_eq!(above, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4], "bins of two");
        // Two members: every q_k is below 2, so the first ranks lowest and the second highest.
        let two = RankBreaks::of(&mut [(5, 0), (5, 1)], &ids).unwrap();
        assert_eq!((two.above(5, 0, &ids), two.above(5, 1, &ids)), (0, 4));
        assert!(RankBreaks::of(&mut [], &ids).is_none());
    }

    #[test]
    fn the_top_share_rounds_up_and_keeps_ties() {
        // 10% of 11 members is 1.1, so the top 2.
        let mut values = vec![5, 1, 9, 9, 3, 2, 8, 4, 6, 7, 0];
        assert_eq!(top_threshold(&mut values, 10, 100), Some(9));
        let mut values = vec![5, 1, 9, 8, 3, 2, 8, 4, 6, 7, 0];
        assert_eq!(top_threshold(&mut values, 10, 100), Some(8));
        assert_eq!(top_threshold(&mut [], 10, 100), None);
    }
}
