//! Items' repurchase rates and cycles, which `repurchase_cycle(…)` reads: measured over every
//! member's valid orders in the last `REPURCHASE_WINDOW_DAYS` days when a rule is compiled (the
//! live audiences recompile at each day boundary, so these move daily, like the cut points).

use regulars_domain::audience::REPURCHASE_WINDOW_DAYS;

use super::table::{AudienceTable, UNSEEN};

/// What one item's buyers did in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ItemStat {
    /// Members who bought it on at least one day.
    pub(crate) buyers: u32,
    /// Members who bought it on two days or more.
    pub(crate) repeaters: u32,
    /// The median of the days between one buyer's purchase-days of it, half up, at least 1;
    /// 0 when nobody bought it twice.
    pub(crate) cycle: u32,
}

impl ItemStat {
    /// True when at least `min_buyers` bought it and at least `min_rate` (hundredths of a
    /// percent) of them bought it again.
    pub(crate) fn qualifies(&self, min_rate: i64, min_buyers: u32) -> bool {
        self.buyers >= min_buyers.max(1)
            && self.repeaters > 0
            && i64::from(self.repeaters) * 10_000 >= min_rate * i64::from(self.buyers)
    }
}

/// The first day of the window ending on `as_of`.
pub(crate) fn window_start(as_of: i32) -> i32 {
    let days = i32::try_from(REPURCHASE_WINDOW_DAYS).expect("a small constant");
    as_of.saturating_sub(days - 1)
}

/// Per-thread tallies: buyers, repeaters and every gap, by sku.
#[derive(Default)]
struct Tally {
    buyers: Vec<u32>,
    repeaters: Vec<u32>,
    gaps: Vec<Vec<u16>>,
}

impl Tally {
    fn grow(&mut self, skus: usize) {
        self.buyers.resize(skus, 0);
        self.repeaters.resize(skus, 0);
        self.gaps.resize_with(skus, Vec::new);
    }

    fn merge(&mut self, other: Self) {
        for (sku, n) in other.buyers.into_iter().enumerate() {
            self.buyers[sku] += n;
        }
        for (sku, n) in other.repeaters.into_iter().enumerate() {
            self.repeaters[sku] += n;
        }
        for (sku, gaps) in other.gaps.into_iter().enumerate() {
            self.gaps[sku].extend(gaps);
        }
    }
}

/// Every item's stats as of `as_of`, indexed by the table's sku id, on `threads` threads.
pub(crate) fn item_stats(table: &AudienceTable, as_of: i32, threads: usize) -> Vec<ItemStat> {
    let skus = table.skus.len();
    let from = window_start(as_of);
    let n = table.len();
    let threads = threads.clamp(1, 64).min(n.max(1));
    let chunk = n.div_ceil(threads).max(1);
    let mut total = std::thread::scope(|scope| {
        let parts: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut tally = Tally::default();
                    tally.grow(skus);
                    let mut bought: Vec<(u32, i32)> = Vec::new();
                    for m in (t * chunk).min(n)..((t + 1) * chunk).min(n) {
                        bought.clear();
                        for order in table.rows(m).orders() {
                            let row = order.row;
                            if row.day < from || row.day > as_of || row.cancelled_from <= as_of {
                                continue;
                            }
                            bought.extend(
                                order
                                    .lines
                                    .iter()
                                    .filter(|l| l.sku != UNSEEN)
                                    .map(|l| (l.sku, row.day)),
                            );
                        }
                        bought.sort_unstable();
                        bought.dedup();
                        count_member(&bought, &mut tally);
                    }
                    tally
                })
            })
            .collect();
        let mut parts = parts
            .into_iter()
            .map(|p| p.join().expect("a repurchase thread panicked"));
        let mut total = parts.next().unwrap_or_default();
        total.grow(skus);
        for part in parts {
            total.merge(part);
        }
        total
    });
    (0..skus)
        .map(|sku| ItemStat {
            buyers: total.buyers[sku],
            repeaters: total.repeaters[sku],
            cycle: median_half_up(&mut total.gaps[sku]),
        })
        .collect()
}

/// Adds one member's distinct (sku, day) purchases, sorted, to the tally.
fn count_member(bought: &[(u32, i32)], tally: &mut Tally) {
    for item in bought.chunk_by(|a, b| a.0 == b.0) {
        let sku = item[0].0 as usize;
        tally.buyers[sku] += 1;
        if item.len() >= 2 {
            tally.repeaters[sku] += 1;
            for pair in item.windows(2) {
                let gap = u16::try_from(pair[1].1 - pair[0].1).expect("gaps inside the window");
                tally.gaps[sku].push(gap);
            }
        }
    }
}

/// The median, half up, at least 1; 0 for no values.
fn median_half_up(values: &mut [u16]) -> u32 {
    if values.is_empty() {
        return 0;
    }
    let (len, mid) = (values.len(), values.len() / 2);
    let (below, upper, _) = values.select_nth_unstable(mid);
    let upper = u32::from(*upper);
    let twice = if len % 2 == 1 {
        2 * upper
    } else {
        let lower = u32::from(*below.iter().max().expect("an even count has a lower half"));
        lower + upper
    };
    twice.div_ceil(2).max(1)
}

#[cfg(test)]
mod tests {
    use super::median_half_up;

    #[test]
    fn the_median_rounds_half_up_and_is_at_least_one_day() {
        assert_eq!(median_half_up(&mut []), 0);
        assert_eq!(median_half_up(&mut [7]), 7);
        assert_eq!(median_half_up(&mut [9, 4]), 7);
        assert_eq!(median_half_up(&mut [30, 2, 10, 14]), 12);
        assert_eq!(median_half_up(&mut [1, 0, 0]), 1);
    }
}
