//! Exact quintile breakpoints and top-share thresholds by selection.
//!
//! A breakpoint `b_k` (k = 1..4) is the `k/5` quantile with linear interpolation between order
//! statistics (position `k(n−1)/5`), kept as `5·b_k` so that comparing a value with it needs no
//! division: `v > b_k ⇔ 5v > 5·b_k`.

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
    pub(crate) fn above(&self, value: i64) -> u8 {
        let five_v = 5 * i128::from(value);
        self.0.iter().filter(|b| five_v > **b).count() as u8
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
    fn the_top_share_rounds_up_and_keeps_ties() {
        // 10% of 11 members is 1.1, so the top 2.
        let mut values = vec![5, 1, 9, 9, 3, 2, 8, 4, 6, 7, 0];
        assert_eq!(top_threshold(&mut values, 10, 100), Some(9));
        let mut values = vec![5, 1, 9, 8, 3, 2, 8, 4, 6, 7, 0];
        assert_eq!(top_threshold(&mut values, 10, 100), Some(8));
        assert_eq!(top_threshold(&mut [], 10, 100), None);
    }
}
