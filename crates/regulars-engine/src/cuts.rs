//! The population's cut points (store cycle, R, F and M quintiles or rank breakpoints, RFM-8
//! thresholds, the top share) and the one labelling rule that places a member against them.
//! Batch evaluation and the incremental engine both label through [`Cuts::label`], so they
//! cannot disagree.

use crate::cycle::{CustomerCycle, StoreCycle};
use crate::quantile::{Breaks, Quintiles, RankBreaks, top_threshold};
use crate::rfm8::{self, Rfm8Rule, Scored};
use crate::{
    CYCLE_COUNTS, EngineConfig, Lifecycle, MemberFeatures, MemberIds, MemberSegments, Nesl,
    Population, Ratio, Rfim, RfimBand, RfmScores, RfmSegment, ValueBins,
};

/// The population-relative values every member is placed against, found at one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Cuts {
    /// The store cycle `C`, days.
    pub store_cycle: i64,
    /// True when `C` is the category default.
    pub store_cycle_fallback: bool,
    /// Under `by_order_count`, the cycle after each purchase count `C_1 … C_5` (the last for 5 or
    /// more), which a member with that many purchase-days is judged against instead of `C`.
    pub store_cycle_by_count: Option<[i64; CYCLE_COUNTS]>,
    /// Population sizes.
    pub population: Population,
    /// Recency breakpoints (days), for explanations: a recency above one scores lower.
    pub recency_breaks: Option<[f64; 4]>,
    /// Frequency breakpoints, for explanations: above a quintile, or at least a fixed threshold,
    /// scores higher.
    pub frequency_breaks: Option<[f64; 4]>,
    /// Spend breakpoints (minor units), for explanations: above a quintile, or at least a fixed
    /// threshold, scores higher.
    pub monetary_breaks: Option<[f64; 4]>,
    /// Under rank bins, the ids of the members ranked at the R, F and M breakpoints: a member
    /// whose value equals a breakpoint's is above it when their id sorts after that one.
    pub rank_ties: [Option<[String; 4]>; 3],
    /// The smallest 730-day spend that is Top.
    pub top_threshold: Option<i64>,
    /// The RFM-8 thresholds of recency, frequency and spend (or of the three scores).
    pub rfm8_thresholds: [f64; 3],
    /// What the RFM-8 thresholds are (`mean`, `median`, `average score`, `fixed threshold`).
    pub rfm8_basis: &'static str,
    /// True when RFM-8 compares scores rather than values.
    pub rfm8_on_scores: bool,
    r_breaks: Option<Breaks>,
    f_breaks: Option<Breaks>,
    m_breaks: Option<Breaks>,
    rfm8_rule: Rfm8Rule,
}

/// One dimension's values over the scoring population, gathered as its bins need them.
struct Gathered {
    bins: ValueBins,
    values: Vec<i64>,
    ranked: Vec<(i64, u32)>,
}

impl Gathered {
    fn new(bins: ValueBins) -> Self {
        Self {
            bins,
            values: Vec::new(),
            ranked: Vec::new(),
        }
    }

    fn push(&mut self, value: i64, member: u32) {
        match self.bins {
            ValueBins::QuintileValue => self.values.push(value),
            ValueBins::QuintileRank => self.ranked.push((value, member)),
            ValueBins::Fixed(_) => {}
        }
    }

    /// The breakpoints; `fixed` turns the merchant's values into value breakpoints (times five).
    fn breaks(mut self, ids: &dyn MemberIds, fixed: fn(i64) -> i128) -> Option<Breaks> {
        match self.bins {
            ValueBins::QuintileValue => Quintiles::of(&mut self.values).map(Breaks::Value),
            ValueBins::QuintileRank => RankBreaks::of(&mut self.ranked, ids).map(Breaks::Rank),
            ValueBins::Fixed(values) => Some(Breaks::Value(Quintiles(values.map(fixed)))),
        }
    }
}

/// Fixed R breakpoints compare as quintiles do: R scores 5 minus the breakpoints recency is
/// above, and the most days that still score higher is such a breakpoint.
fn most_days(days: i64) -> i128 {
    5 * i128::from(days)
}

/// Fixed F and M thresholds compare as quintiles do: the score is 1 plus the breakpoints the
/// value is above, and at least L is above L − 1.
fn at_least(least: i64) -> i128 {
    5 * (i128::from(least) - 1)
}

/// The breakpoints as explanations show them: fixed thresholds as the merchant set them.
fn shown(bins: ValueBins, breaks: Option<&Breaks>) -> Option<[f64; 4]> {
    match bins {
        ValueBins::Fixed(values) => Some(values.map(|v| v as f64)),
        _ => breaks.map(Breaks::values),
    }
}

/// `recency ≤ k · C`, exactly.
fn within_store_cycles(recency: i64, k: Ratio, store_cycle: i64) -> bool {
    i128::from(recency) * i128::from(k.den) <= i128::from(k.num) * i128::from(store_cycle)
}

/// The smallest whole recency `r` with `r · den > num` (`den > 0`): the first day past a bound.
fn first_beyond(num: i128, den: i128) -> i64 {
    i64::try_from(num.div_euclid(den) + 1).unwrap_or(i64::MAX)
}

impl Cuts {
    /// The cut points of a population whose features are `all` (by member index) and whose
    /// store cycle is `cycle`; `ids` breaks the ties of rank bins.
    pub(crate) fn of(
        all: &[MemberFeatures],
        cycle: StoreCycle,
        config: &EngineConfig,
        ids: &dyn MemberIds,
    ) -> Self {
        let mut population = Population::default();
        let mut recencies = Gathered::new(config.r_bins);
        let mut frequencies = Gathered::new(config.f_bins);
        let mut spends = Gathered::new(config.m_bins);
        let mut spends_730 = Vec::new();
        for (member, f) in all.iter().enumerate() {
            let Some(recency) = f.recency else { continue };
            population.buyers += 1;
            if f.frequency > 0 {
                let member = member as u32;
                population.rfm += 1;
                recencies.push(recency, member);
                frequencies.push(i64::from(f.frequency), member);
                spends.push(f.monetary, member);
            }
            if f.frequency_730 > 0 {
                population.lifecycle += 1;
                spends_730.push(f.monetary_730);
            }
        }
        let r_breaks = recencies.breaks(ids, most_days);
        let f_breaks = frequencies.breaks(ids, at_least);
        let m_breaks = spends.breaks(ids, at_least);
        let top = top_threshold(&mut spends_730, config.top_pct.num, config.top_pct.den);
        drop(spends_730);
        let mut cuts = Self {
            store_cycle: cycle.days,
            store_cycle_fallback: cycle.fallback,
            store_cycle_by_count: cycle.by_count,
            population,
            recency_breaks: shown(config.r_bins, r_breaks.as_ref()),
            frequency_breaks: shown(config.f_bins, f_breaks.as_ref()),
            monetary_breaks: shown(config.m_bins, m_breaks.as_ref()),
            rank_ties: [&r_breaks, &f_breaks, &m_breaks]
                .map(|b| b.as_ref().and_then(|b| b.tie_ids(ids))),
            top_threshold: top,
            rfm8_thresholds: [0.0; 3],
            rfm8_basis: "",
            rfm8_on_scores: false,
            r_breaks,
            f_breaks,
            m_breaks,
            rfm8_rule: Rfm8Rule::new(&[], config),
        };
        let scored: Vec<Scored> = all
            .iter()
            .enumerate()
            .filter(|(_, f)| f.frequency > 0)
            .filter_map(|(member, f)| {
                f.recency.map(|r| {
                    (
                        r,
                        f.frequency,
                        rfm8::monetary(f, config),
                        cuts.scores(f, member as u32, ids),
                    )
                })
            })
            .collect();
        cuts.rfm8_rule = Rfm8Rule::new(&scored, config);
        (cuts.rfm8_thresholds, cuts.rfm8_basis, cuts.rfm8_on_scores) = cuts.rfm8_rule.display();
        cuts
    }

    /// The store cycle a member with `purchase_days` purchase-days is judged against.
    pub fn store_cycle_of(&self, purchase_days: u32) -> i64 {
        self.store_cycle_by_count
            .map_or(self.store_cycle, |by_count| {
                by_count[(purchase_days as usize).clamp(1, CYCLE_COUNTS) - 1]
            })
    }

    /// Member `member`'s R, F and M scores: 1-1-1 without a purchase-day in the RFM window.
    fn scores(&self, f: &MemberFeatures, member: u32, ids: &dyn MemberIds) -> RfmScores {
        match (
            f.recency,
            f.frequency > 0,
            &self.r_breaks,
            &self.f_breaks,
            &self.m_breaks,
        ) {
            (Some(recency), true, Some(r), Some(fb), Some(m)) => RfmScores {
                r: 5 - r.above(recency, member, ids),
                f: 1 + fb.above(i64::from(f.frequency), member, ids),
                m: 1 + m.above(f.monetary, member, ids),
            },
            _ => RfmScores { r: 1, f: 1, m: 1 },
        }
    }

    /// Every model's verdict on member `member` with features `f`; `ids` breaks the ties of
    /// rank bins.
    pub fn label(
        &self,
        f: MemberFeatures,
        member: u32,
        ids: &dyn MemberIds,
        config: &EngineConfig,
    ) -> MemberSegments {
        let Some(recency) = f.recency else {
            let rfim = if f.interactions >= config.engaged_min_interactions {
                Rfim::Engaged
            } else {
                Rfim::Prospect
            };
            return MemberSegments {
                features: f,
                rfim,
                ..MemberSegments::default()
            };
        };
        let c = self.store_cycle_of(f.purchase_days);
        let rfm = self.scores(&f, member, ids);
        let rfm8 = self
            .rfm8_rule
            .classify(recency, f.frequency, rfm8::monetary(&f, config), rfm);
        let customer_cycle = self.customer_cycle(&f, config);
        let [s1, s2, s3] = config.nesl_bounds;
        let lost = recency > i64::from(config.lost_max_days)
            || (config.lost_multiple.num > 0
                && !customer_cycle.within(recency, config.lost_multiple));
        let nesl = if lost {
            Nesl::L
        } else if customer_cycle.within(recency, s1) {
            if f.purchase_days == 1 {
                Nesl::N
            } else {
                Nesl::E0
            }
        } else if customer_cycle.within(recency, s2) {
            Nesl::S1
        } else if customer_cycle.within(recency, s3) {
            Nesl::S2
        } else {
            Nesl::S3
        };
        let [k_ready, k_sleeping, k_lost] = config.rfim_bands;
        let band = if within_store_cycles(recency, k_ready, c) {
            RfimBand::Recent
        } else if within_store_cycles(recency, k_sleeping, c) {
            RfimBand::Ready
        } else if within_store_cycles(recency, k_lost, c) {
            RfimBand::Sleeping
        } else {
            RfimBand::Lost
        };
        let is_top = f.frequency_730 > 0 && self.top_threshold.is_some_and(|t| f.monetary_730 >= t);
        let is_loyal = f.frequency_730 >= config.loyal_min_f;
        let active = matches!(band, RfimBand::Recent | RfimBand::Ready);
        let rfim = match band {
            RfimBand::Lost => Rfim::Lost,
            RfimBand::Sleeping => Rfim::Sleeping,
            _ if active && is_top => Rfim::Top,
            _ if active && is_loyal => Rfim::Loyal,
            RfimBand::Recent if f.purchase_days == 1 => Rfim::ActiveNew,
            RfimBand::Ready if f.purchase_days == 1 => Rfim::ReadyNew,
            RfimBand::Recent => Rfim::Active,
            RfimBand::Ready => Rfim::Ready,
        };
        MemberSegments {
            features: f,
            cycle: Some(customer_cycle),
            rfm: Some(rfm),
            rfm_segment: RfmSegment::of(rfm.r, rfm.f),
            rfm8: Some(rfm8),
            nesl,
            rfim_band: Some(band),
            rfim,
            top: is_top,
            loyal: is_loyal,
            lifecycle: Lifecycle::of(nesl, f.purchase_days, is_loyal),
        }
    }

    fn customer_cycle(&self, f: &MemberFeatures, config: &EngineConfig) -> CustomerCycle {
        let span = f
            .last_day
            .zip(f.first_day)
            .map_or(0, |(last, first)| i64::from(last.since(first)));
        CustomerCycle::of(
            span,
            i64::from(f.purchase_days) - 1,
            self.store_cycle_of(f.purchase_days),
            config,
        )
    }

    /// The smallest recency above member `member`'s (features `f`) at which any label could
    /// change with nothing but time passing: the next R breakpoint, NESL bound, RFIM band, lost
    /// limit or RFM-8 recency threshold. `None` for a member without a purchase.
    pub(crate) fn next_recency_bound(
        &self,
        f: &MemberFeatures,
        member: u32,
        ids: &dyn MemberIds,
        config: &EngineConfig,
    ) -> Option<i64> {
        let recency = f.recency?;
        // Called on every refresh of a member, so the bounds are folded as they are found
        // rather than collected.
        let mut next: Option<i64> = None;
        let mut consider = |bound: i64| {
            if bound > recency && next.is_none_or(|n| bound < n) {
                next = Some(bound);
            }
        };
        if let Some(breaks) = &self.r_breaks {
            breaks
                .first_above(member, ids)
                .into_iter()
                .for_each(&mut consider);
        }
        let cycle = self.customer_cycle(f, config);
        let lost_multiple = (config.lost_multiple.num > 0).then_some(config.lost_multiple);
        for k in config.nesl_bounds.iter().chain(lost_multiple.iter()) {
            consider(first_beyond(
                i128::from(k.num) * i128::from(cycle.p),
                i128::from(cycle.q) * i128::from(k.den),
            ));
        }
        consider(i64::from(config.lost_max_days) + 1);
        let store_cycle = self.store_cycle_of(f.purchase_days);
        for k in &config.rfim_bands {
            consider(first_beyond(
                i128::from(k.num) * i128::from(store_cycle),
                i128::from(k.den),
            ));
        }
        if let Some(flip) = self.rfm8_rule.recency_flip() {
            consider(flip);
        }
        next
    }
}
