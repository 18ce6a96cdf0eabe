//! The engine's configuration: the defaults of `domain-spec.md` §10, every option validated.
//! Multipliers are exact ratios, so thresholds compare without rounding.

use std::fmt;

/// An exact non-negative ratio `num / den`, read from a decimal like `2.5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    /// Numerator.
    pub num: i64,
    /// Denominator, positive.
    pub den: i64,
}

impl Ratio {
    /// A whole number.
    pub const fn whole(n: i64) -> Self {
        Self { num: n, den: 1 }
    }

    /// Reads a non-negative decimal with at most six decimals (`2`, `2.5`, `0.10`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let has_point = text.contains('.');
        if !digits(whole) || (has_point && !digits(fraction)) || fraction.len() > 6 {
            return Err(format!(
                "`{text}` is not a non-negative decimal with at most 6 decimals"
            ));
        }
        let den = 10_i64.pow(fraction.len() as u32);
        let whole: i64 = whole
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            fraction
                .parse()
                .map_err(|_| format!("`{text}` is too large"))?
        };
        Ok(Self::reduced(whole * den + fraction, den))
    }

    /// `num / den` in lowest terms, so equal ratios compare equal.
    fn reduced(num: i64, den: i64) -> Self {
        let (mut a, mut b) = (num.abs(), den.abs());
        while b != 0 {
            (a, b) = (b, a % b);
        }
        let divisor = a.max(1);
        Self {
            num: num / divisor,
            den: den / divisor,
        }
    }

    /// `a/b < c/d`, exactly.
    pub fn lt(self, other: Self) -> bool {
        i128::from(self.num) * i128::from(other.den) < i128::from(other.num) * i128::from(self.den)
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}", self.num as f64 / self.den as f64)
        }
    }
}

/// How the store cycle `C` aggregates inter-purchase intervals (§1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreAggregation {
    /// The median of every interval of every repeater (SHOPLINE's current definition).
    PooledMedian,
    /// The mean of every interval of every repeater (SmartPush).
    PooledMean,
    /// The median over repeaters of each one's median interval (SHOPLINE's older example).
    MedianOfMedians,
    /// One cycle per purchase count (RetentionX's next-order date): `C_n` is the median of the
    /// intervals from a repeater's n-th purchase-day to their next, for n = 1 … 4, and of every
    /// later interval pooled for n ≥ 5. A member with n purchase-days is judged against `C_n`;
    /// a count with no intervals uses the pooled median.
    ByOrderCount,
}

/// Purchase counts with a store cycle of their own under `by_order_count` (the last pools every
/// higher count).
pub const CYCLE_COUNTS: usize = 5;

/// Which cycle NESL measures a member's recency against (§2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerMode {
    /// The member's own mean interval shrunk toward `C`, clamped to `[C/4, 4C]`.
    Hybrid,
    /// The member's own mean interval when they have enough, else `C`.
    Customer,
    /// The store cycle `C` for everyone.
    Store,
}

/// What RFM-8 compares each dimension with (§3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rfm8Threshold {
    /// The population's mean of the raw values.
    Mean,
    /// The population's median of the raw values.
    Median,
    /// The population's average 1–5 score.
    ScoreMean,
    /// Fixed values set by the merchant.
    Fixed {
        /// Recent when fewer days than this.
        recency_days: i64,
        /// Frequent from this many purchase-days.
        frequency: u32,
        /// Valuable from this spend, minor units.
        monetary: i64,
    },
}

/// Which spend RFM-8 uses (§3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rfm8Monetary {
    /// Total net spend in the window.
    Total,
    /// Net spend per valid order in the window.
    AverageOrder,
}

/// What frequency counts (§0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrequencyUnit {
    /// Distinct local days with a valid order.
    PurchaseDay,
    /// Valid orders.
    Order,
}

impl FrequencyUnit {
    /// `1 purchase-day`, `3 orders`.
    pub fn count(self, n: u32) -> String {
        let unit = match self {
            Self::PurchaseDay => "purchase-day",
            Self::Order => "order",
        };
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    }
}

/// How R, F or M values become scores 1–5 (§3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueBins {
    /// Breakpoints at the value quintiles of the scoring population; equal values share a score.
    QuintileValue,
    /// Quintiles of rank (`qcut(rank(method="first"), 5)`): the scoring population ranked by
    /// value, equal values by member id, in five bins of (nearly) equal size.
    QuintileRank,
    /// The merchant's own breakpoints. For R, the most days since the last purchase that still
    /// score 5, 4, 3 and 2; for F and M, the least frequency or spend (minor units) that scores
    /// 2, 3, 4 and 5.
    Fixed([i64; 4]),
}

/// Every option of the models (defaults: `domain-spec.md` §10, pinned by §3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Window of the store cycle `C`, in days before `as_of` (`[as_of − N, as_of]`).
    pub store_window_days: i32,
    /// How `C` aggregates intervals.
    pub store_aggregation: StoreAggregation,
    /// Which cycle NESL uses.
    pub customer_mode: CustomerMode,
    /// The store's age below which `C` falls back to `category_default_days`.
    pub min_store_age_days: i32,
    /// `C` when it cannot be measured.
    pub category_default_days: i32,
    /// Intervals a member needs for a cycle of their own (else `c_i = C`).
    pub customer_min_intervals: i32,
    /// Shrinkage of a member's cycle toward `C`.
    pub shrinkage_kappa: Ratio,
    /// RFIM band multipliers of `C`: ready, sleeping, lost.
    pub rfim_bands: [Ratio; 3],
    /// Interactions (with no purchase ever) that make a member Engaged.
    pub engaged_min_interactions: u32,
    /// The window interactions are counted in, days.
    pub interaction_window_days: i32,
    /// The top share of spend that is Top.
    pub top_pct: Ratio,
    /// Purchase-days in 730 days that make a member Loyal.
    pub loyal_min_f: u32,
    /// NESL multipliers of the member's cycle: S1, S2, S3.
    pub nesl_bounds: [Ratio; 3],
    /// NESL: Lost beyond this many days without a purchase.
    pub lost_max_days: i32,
    /// NESL: also Lost beyond this multiple of the cycle (0 = off).
    pub lost_multiple: Ratio,
    /// The window of RFM scoring and RFM-8, days.
    pub rfm_window_days: i32,
    /// What RFM-8 compares with.
    pub rfm8_threshold: Rfm8Threshold,
    /// Which spend RFM-8 uses.
    pub rfm8_monetary: Rfm8Monetary,
    /// The window of RFIM's frequency and spend, days.
    pub lifecycle_window_days: i32,
    /// How frequency in the RFM window becomes the F score.
    pub f_bins: ValueBins,
    /// How recency becomes the R score.
    pub r_bins: ValueBins,
    /// How spend becomes the M score.
    pub m_bins: ValueBins,
    /// What frequency counts.
    pub frequency_unit: FrequencyUnit,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            store_window_days: 730,
            store_aggregation: StoreAggregation::PooledMedian,
            customer_mode: CustomerMode::Hybrid,
            min_store_age_days: 180,
            category_default_days: 60,
            customer_min_intervals: 2,
            shrinkage_kappa: Ratio::whole(2),
            rfim_bands: [Ratio::whole(1), Ratio::whole(2), Ratio::whole(3)],
            engaged_min_interactions: 3,
            interaction_window_days: 90,
            top_pct: Ratio { num: 1, den: 10 },
            loyal_min_f: 3,
            nesl_bounds: [Ratio::whole(1), Ratio::whole(2), Ratio::whole(3)],
            lost_max_days: 365,
            lost_multiple: Ratio::whole(0),
            rfm_window_days: 365,
            rfm8_threshold: Rfm8Threshold::Mean,
            rfm8_monetary: Rfm8Monetary::Total,
            lifecycle_window_days: 730,
            f_bins: ValueBins::Fixed([2, 3, 5, 8]),
            r_bins: ValueBins::QuintileValue,
            m_bins: ValueBins::QuintileValue,
            frequency_unit: FrequencyUnit::PurchaseDay,
        }
    }
}

/// An option with a value the models cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The option.
    pub key: &'static str,
    /// Why.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.key, self.reason)
    }
}

impl EngineConfig {
    /// Checks every option; the first problem found is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |key, reason: &str| {
            Err(ConfigError {
                key,
                reason: reason.to_owned(),
            })
        };
        for (key, value) in [
            ("cycle.store_window_days", self.store_window_days),
            ("cycle.category_default_days", self.category_default_days),
            ("rfim.interaction_window_days", self.interaction_window_days),
            ("rfm555.window_days", self.rfm_window_days),
            ("rfim.window_days", self.lifecycle_window_days),
            ("nesl.lost_max_days", self.lost_max_days),
        ] {
            if value < 1 {
                return fail(key, "must be at least 1");
            }
        }
        if self.min_store_age_days < 0 || self.customer_min_intervals < 1 {
            return fail(
                "cycle.customer_min_intervals",
                "must be at least 1 (and the store age not negative)",
            );
        }
        let increasing = |bounds: &[Ratio; 3]| {
            !bounds[0].lt(Ratio::whole(0)) && bounds[0].lt(bounds[1]) && bounds[1].lt(bounds[2])
        };
        if !increasing(&self.rfim_bands) {
            return fail("rfim.k_ready/k_sleeping/k_lost", "must increase strictly");
        }
        if !increasing(&self.nesl_bounds) {
            return fail("nesl.s1/s2/s3", "must increase strictly");
        }
        if !Ratio::whole(0).lt(self.top_pct) || Ratio::whole(1).lt(self.top_pct) {
            return fail("rfim.top_pct", "must be above 0 and at most 1");
        }
        if let ValueBins::Fixed(b) = self.f_bins
            && (b[0] < 2 || b.windows(2).any(|w| w[0] >= w[1]))
        {
            return fail("rfm555.f_bins", "must start at 1 and increase strictly");
        }
        for (key, bins) in [
            ("rfm555.r_fixed_days", self.r_bins),
            ("rfm555.m_fixed", self.m_bins),
        ] {
            if let ValueBins::Fixed(b) = bins
                && (b[0] < 0 || b.windows(2).any(|w| w[0] >= w[1]))
            {
                return fail(
                    key,
                    "must be four values, not negative, increasing strictly",
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_read_decimals_exactly() {
        assert_eq!(Ratio::parse("2.5").unwrap(), Ratio { num: 5, den: 2 });
        assert_eq!(Ratio::parse("0.10").unwrap(), Ratio { num: 1, den: 10 });
        assert_eq!(Ratio::parse("0").unwrap(), Ratio { num: 0, den: 1 });
        assert!(
            Ratio::parse("-1").is_err()
                && Ratio::parse("1.").is_err()
                && Ratio::parse("x").is_err()
        );
        assert!(Ratio::parse("2.5").unwrap().lt(Ratio::whole(3)));
    }

    #[test]
    fn the_defaults_are_valid_and_bad_options_are_named() {
        assert_eq!(EngineConfig::default().validate(), Ok(()));
        let config = EngineConfig {
            nesl_bounds: [Ratio::whole(2), Ratio::whole(2), Ratio::whole(3)],
            ..EngineConfig::default()
        };
        assert_eq!(config.validate().unwrap_err().key, "nesl.s1/s2/s3");
        let config = EngineConfig {
            f_bins: ValueBins::Fixed([1, 3, 5, 8]),
            ..EngineConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "`rfm555.f_bins`: must start at 1 and increase strictly"
        );
    }
}
