//! RFM-8 (§3.1–3.2, pinned by §3.5.11): each dimension is high or low against a threshold over
//! the members with a purchase-day in the RFM window, kept as an exact fraction `num / den`.
//! R is high when recency is strictly below (ties low); F and M when at or above (ties high).

use crate::{EngineConfig, MemberFeatures, Rfm8, Rfm8Monetary, Rfm8Threshold, RfmScores};

/// A threshold `num / den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fraction {
    num: i128,
    den: i128,
}

impl Fraction {
    fn above_or_at(self, value: i64) -> bool {
        i128::from(value) * self.den >= self.num
    }

    fn below(self, value: i64) -> bool {
        i128::from(value) * self.den < self.num
    }

    fn value(self) -> f64 {
        self.num as f64 / self.den as f64
    }
}

/// The median of `values` (reordered) as `2m / 2`.
fn median(values: &mut [i64]) -> Fraction {
    let n = values.len();
    if n == 0 {
        return Fraction { num: 0, den: 1 };
    }
    let (_, &mut upper, _) = values.select_nth_unstable(n / 2);
    let twice = if n % 2 == 1 {
        2 * upper
    } else {
        values[..n / 2].iter().copied().max().unwrap_or(upper) + upper
    };
    Fraction {
        num: i128::from(twice),
        den: 2,
    }
}

/// The spend RFM-8 uses: total, or per order in whole minor units (rounded down).
pub(crate) fn monetary(features: &MemberFeatures, config: &EngineConfig) -> i64 {
    match config.rfm8_monetary {
        Rfm8Monetary::Total => features.monetary,
        Rfm8Monetary::AverageOrder => features
            .monetary
            .checked_div(i64::from(features.orders))
            .unwrap_or(0),
    }
}

/// The three thresholds and what they are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rfm8Rule {
    on_scores: bool,
    r: Fraction,
    f: Fraction,
    m: Fraction,
    basis: &'static str,
}

/// One member of the scoring population: recency, frequency, RFM-8 spend, scores.
pub(crate) type Scored = (i64, u32, i64, RfmScores);

impl Rfm8Rule {
    /// The rule for this population under the configured threshold.
    pub(crate) fn new(population: &[Scored], config: &EngineConfig) -> Self {
        let n = i128::from(population.len().max(1) as u32);
        let sum = |pick: &dyn Fn(&Scored) -> i64| Fraction {
            num: population.iter().map(|s| i128::from(pick(s))).sum(),
            den: n,
        };
        match config.rfm8_threshold {
            Rfm8Threshold::Mean => Self {
                on_scores: false,
                r: sum(&|s| s.0),
                f: sum(&|s| i64::from(s.1)),
                m: sum(&|s| s.2),
                basis: "mean",
            },
            Rfm8Threshold::Median => {
                let mut r: Vec<i64> = population.iter().map(|s| s.0).collect();
                let mut f: Vec<i64> = population.iter().map(|s| i64::from(s.1)).collect();
                let mut m: Vec<i64> = population.iter().map(|s| s.2).collect();
                Self {
                    on_scores: false,
                    r: median(&mut r),
                    f: median(&mut f),
                    m: median(&mut m),
                    basis: "median",
                }
            }
            Rfm8Threshold::ScoreMean => Self {
                on_scores: true,
                r: sum(&|s| i64::from(s.3.r)),
                f: sum(&|s| i64::from(s.3.f)),
                m: sum(&|s| i64::from(s.3.m)),
                basis: "average score",
            },
            Rfm8Threshold::Fixed {
                recency_days,
                frequency,
                monetary,
            } => Self {
                on_scores: false,
                r: Fraction {
                    num: i128::from(recency_days),
                    den: 1,
                },
                f: Fraction {
                    num: i128::from(frequency),
                    den: 1,
                },
                m: Fraction {
                    num: i128::from(monetary),
                    den: 1,
                },
                basis: "fixed threshold",
            },
        }
    }

    /// The smallest recency at which a member's R stops being high by value; `None` when R is
    /// judged on scores (the R breakpoints decide then).
    pub(crate) fn recency_flip(&self) -> Option<i64> {
        // High while `recency · den < num`: low from `ceil(num / den)`.
        (!self.on_scores).then(|| {
            i64::try_from((self.r.num + self.r.den - 1).div_euclid(self.r.den)).unwrap_or(i64::MAX)
        })
    }

    /// The class of a member. On scores, a higher R score is better, so R is high when strictly
    /// above the average score.
    pub(crate) fn classify(
        &self,
        recency: i64,
        frequency: u32,
        monetary: i64,
        scores: RfmScores,
    ) -> Rfm8 {
        if self.on_scores {
            let r = i128::from(scores.r) * self.r.den > self.r.num;
            return Rfm8::of(
                r,
                self.f.above_or_at(i64::from(scores.f)),
                self.m.above_or_at(i64::from(scores.m)),
            );
        }
        Rfm8::of(
            self.r.below(recency),
            self.f.above_or_at(i64::from(frequency)),
            self.m.above_or_at(monetary),
        )
    }

    /// The thresholds for explanations, and their name (`mean`, `median`, …).
    pub(crate) fn display(&self) -> ([f64; 3], &'static str, bool) {
        (
            [self.r.value(), self.f.value(), self.m.value()],
            self.basis,
            self.on_scores,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(recency: i64, frequency: u32, monetary: i64) -> Scored {
        (recency, frequency, monetary, RfmScores { r: 3, f: 3, m: 3 })
    }

    #[test]
    fn medians_are_exact_halves() {
        let population = [
            scored(10, 1, 100),
            scored(20, 2, 200),
            scored(30, 4, 300),
            scored(40, 8, 400),
        ];
        let config = EngineConfig {
            rfm8_threshold: Rfm8Threshold::Median,
            ..EngineConfig::default()
        };
        let rule = Rfm8Rule::new(&population, &config);
        assert_eq!(rule.display().0, [25.0, 3.0, 250.0]);
        assert_eq!(
            rule.classify(24, 3, 250, RfmScores { r: 1, f: 1, m: 1 }),
            Rfm8::ImportantValue
        );
        assert_eq!(
            rule.classify(25, 2, 249, RfmScores { r: 1, f: 1, m: 1 }),
            Rfm8::GeneralWinBack
        );
    }

    #[test]
    fn fixed_thresholds_use_the_merchants_values() {
        let config = EngineConfig {
            rfm8_threshold: Rfm8Threshold::Fixed {
                recency_days: 10,
                frequency: 3,
                monetary: 20_000,
            },
            ..EngineConfig::default()
        };
        let rule = Rfm8Rule::new(&[], &config);
        assert_eq!(
            rule.classify(9, 3, 20_000, RfmScores { r: 1, f: 1, m: 1 }),
            Rfm8::ImportantValue
        );
        assert_eq!(
            rule.classify(10, 2, 19_999, RfmScores { r: 1, f: 1, m: 1 }),
            Rfm8::GeneralWinBack
        );
    }

    #[test]
    fn average_scores_compare_scores_not_values() {
        let population = [
            (0, 1, 0, RfmScores { r: 5, f: 1, m: 1 }),
            (0, 1, 0, RfmScores { r: 1, f: 5, m: 5 }),
        ];
        let config = EngineConfig {
            rfm8_threshold: Rfm8Threshold::ScoreMean,
            ..EngineConfig::default()
        };
        let rule = Rfm8Rule::new(&population, &config);
        // Average scores are 3, 3, 3: R 3 is not above, F and M 3 are at.
        assert_eq!(
            rule.classify(0, 0, 0, RfmScores { r: 3, f: 3, m: 3 }),
            Rfm8::GeneralRetention.with_m(true)
        );
        assert_eq!(
            rule.classify(0, 0, 0, RfmScores { r: 4, f: 2, m: 2 }),
            Rfm8::GeneralDevelopment
        );
    }

    #[test]
    fn average_order_spend_divides_by_orders_in_the_window() {
        let features = MemberFeatures {
            monetary: 1_001,
            orders: 2,
            ..MemberFeatures::default()
        };
        let config = EngineConfig {
            rfm8_monetary: Rfm8Monetary::AverageOrder,
            ..EngineConfig::default()
        };
        assert_eq!(monetary(&features, &config), 500);
        assert_eq!(monetary(&MemberFeatures::default(), &config), 0);
    }

    impl Rfm8 {
        fn with_m(self, m: bool) -> Self {
            let (r, f, _) = self.highs();
            Self::of(r, f, m)
        }
    }
}
