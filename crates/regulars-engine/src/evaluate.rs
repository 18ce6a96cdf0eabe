//! Evaluating every model for every member as of one day: one pass over the columns for the
//! features and the pooled intervals, then the population cut points (store cycle, quintiles,
//! means, the top share), then the labels.

use crate::cycle::{CustomerCycle, PooledIntervals, store_cycle};
use crate::quantile::{Quintiles, top_threshold};
use crate::rfm8::{self, Rfm8Rule, Scored};
use crate::{
    Day, EngineConfig, FactTable, Lifecycle, Nesl, Ratio, Rfim, RfimBand, Rfm8, RfmScores,
    RfmSegment,
};

/// What the models read of one member, as of the evaluation day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberFeatures {
    /// The first purchase-day.
    pub first_day: Option<Day>,
    /// The last purchase-day.
    pub last_day: Option<Day>,
    /// Purchase-days over all history.
    pub purchase_days: u32,
    /// Days since the last purchase-day (never windowed).
    pub recency: Option<i64>,
    /// Purchase-days in the RFM window (365 days).
    pub frequency: u32,
    /// Net spend in the RFM window, minor units.
    pub monetary: i64,
    /// Valid orders in the RFM window (for RFM-8's average-order spend).
    pub orders: u32,
    /// Purchase-days in the lifecycle window (730 days).
    pub frequency_730: u32,
    /// Net spend in the lifecycle window, minor units.
    pub monetary_730: i64,
    /// Interactions in the interaction window (90 days).
    pub interactions: u32,
}

/// Every model's verdict on one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberSegments {
    /// The inputs.
    pub features: MemberFeatures,
    /// The member's cycle, for members with a purchase.
    pub cycle: Option<CustomerCycle>,
    /// R, F, M scores, for members with a purchase.
    pub rfm: Option<RfmScores>,
    /// The RF-grid segment.
    pub rfm_segment: RfmSegment,
    /// The RFM-8 class, for members with a purchase.
    pub rfm8: Option<Rfm8>,
    /// NESL.
    pub nesl: Nesl,
    /// The RFIM recency band, for members with a purchase.
    pub rfim_band: Option<RfimBand>,
    /// RFIM.
    pub rfim: Rfim,
    /// In the top share of 730-day spend (whatever the band).
    pub top: bool,
    /// Enough purchase-days in 730 days to be loyal (whatever the band).
    pub loyal: bool,
    /// The lifecycle stage.
    pub lifecycle: Lifecycle,
}

impl Default for MemberSegments {
    /// A member with no facts: a prospect in every model.
    fn default() -> Self {
        Self {
            features: MemberFeatures::default(),
            cycle: None,
            rfm: None,
            rfm_segment: RfmSegment::Prospect,
            rfm8: None,
            nesl: Nesl::Prospect,
            rfim_band: None,
            rfim: Rfim::Prospect,
            top: false,
            loyal: false,
            lifecycle: Lifecycle::Prospect,
        }
    }
}

/// How many members each population holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Population {
    /// Members with a valid order.
    pub buyers: u32,
    /// Members with a purchase-day in the RFM window: the RFM scoring and RFM-8 population.
    pub rfm: u32,
    /// Members with a purchase-day in the lifecycle window: the RFIM Top population.
    pub lifecycle: u32,
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The day evaluated.
    pub as_of: Day,
    /// The store cycle `C`, days.
    pub store_cycle: i64,
    /// True when `C` is the category default.
    pub store_cycle_fallback: bool,
    /// Population sizes.
    pub population: Population,
    /// Recency quintile breakpoints (days), for explanations.
    pub recency_breaks: Option<[f64; 4]>,
    /// Spend quintile breakpoints (minor units), for explanations.
    pub monetary_breaks: Option<[f64; 4]>,
    /// The smallest 730-day spend that is Top.
    pub top_threshold: Option<i64>,
    /// The RFM-8 thresholds of recency, frequency and spend (or of the three scores).
    pub rfm8_thresholds: [f64; 3],
    /// What the RFM-8 thresholds are (`mean`, `median`, `average score`, `fixed threshold`).
    pub rfm8_basis: &'static str,
    /// True when RFM-8 compares scores rather than values.
    pub rfm8_on_scores: bool,
    /// Every member's verdicts, in the table's member order.
    pub members: Vec<MemberSegments>,
}

fn features(
    facts: &FactTable,
    idx: usize,
    as_of: Day,
    config: &EngineConfig,
    pooled: &mut PooledIntervals,
    scratch: &mut Vec<i32>,
) -> MemberFeatures {
    let rfm_start = as_of.window_start(config.rfm_window_days);
    let life_start = as_of.window_start(config.lifecycle_window_days);
    let store_start = Day(as_of.0 - config.store_window_days);
    let (first_order, orders) = facts.orders_of(idx);
    let mut returns_at = facts
        .returns
        .partition_point(|r| (r.order as usize) < first_order);
    let mut out = MemberFeatures::default();
    let mut previous_in_store_window: Option<Day> = None;
    scratch.clear();
    for (offset, order) in orders.iter().enumerate() {
        let index = first_order + offset;
        let mut refunded = 0;
        while returns_at < facts.returns.len() && facts.returns[returns_at].order as usize == index
        {
            let refund = facts.returns[returns_at];
            if refund.day <= as_of {
                refunded += refund.amount;
            }
            returns_at += 1;
        }
        if !order.valid_on(as_of) {
            continue;
        }
        let net = (order.amount - refunded).max(0);
        let day = order.day;
        let new_day = out.last_day != Some(day);
        if new_day {
            out.purchase_days += 1;
            out.first_day.get_or_insert(day);
            out.last_day = Some(day);
            if day >= store_start {
                if let Some(previous) = previous_in_store_window {
                    scratch.push(day.since(previous));
                }
                previous_in_store_window = Some(day);
            }
        }
        if day >= rfm_start {
            out.frequency += u32::from(new_day);
            out.monetary += net;
            out.orders += 1;
        }
        if day >= life_start {
            out.frequency_730 += u32::from(new_day);
            out.monetary_730 += net;
        }
    }
    pooled.add_member(scratch);
    out.recency = out.last_day.map(|last| i64::from(as_of.since(last)));
    let interaction_start = as_of.window_start(config.interaction_window_days);
    out.interactions = facts
        .interactions_of(idx)
        .iter()
        .filter(|d| **d >= interaction_start && **d <= as_of)
        .count() as u32;
    out
}

/// `recency ≤ k · C`, exactly.
fn within_store_cycles(recency: i64, k: Ratio, store_cycle: i64) -> bool {
    i128::from(recency) * i128::from(k.den) <= i128::from(k.num) * i128::from(store_cycle)
}

fn f_score(frequency: u32, bins: &[u32; 5]) -> u8 {
    bins.iter()
        .filter(|lower| frequency >= **lower)
        .count()
        .max(1) as u8
}

/// Runs `work(start, chunk)` on consecutive chunks of `items`, which it fills in place, on up to
/// `threads` threads (one for small inputs), and returns each chunk's result in order, so the
/// outcome never depends on the number of threads.
fn for_chunks<T: Send, R: Send>(
    items: &mut [T],
    threads: usize,
    work: impl Fn(usize, &mut [T]) -> R + Sync,
) -> Vec<R> {
    const MIN_CHUNK: usize = 50_000;
    let threads = threads.min(items.len() / MIN_CHUNK).max(1);
    if threads == 1 {
        return vec![work(0, items)];
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items
            .chunks_mut(chunk)
            .enumerate()
            .map(|(k, part)| scope.spawn(move || work(k * chunk, part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an evaluation worker panicked"))
            .collect()
    })
}

/// Evaluates every model for every member of `facts` as of the end of `as_of`, on as many
/// threads as the machine has cores (at most 8).
pub fn evaluate(facts: &FactTable, config: &EngineConfig, as_of: Day) -> Evaluation {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8);
    evaluate_on(facts, config, as_of, threads)
}

/// [`evaluate`] on at most `threads` threads; the result never depends on the number.
pub fn evaluate_on(
    facts: &FactTable,
    config: &EngineConfig,
    as_of: Day,
    threads: usize,
) -> Evaluation {
    let n = facts.len();
    let store_start = Day(as_of.0 - config.store_window_days);
    // Each worker reads its members' features and pools its intervals; the pools add up.
    let mut all = vec![MemberFeatures::default(); n];
    let parts = for_chunks(&mut all, threads, |start, out| {
        let mut pooled = PooledIntervals::new(config);
        let mut scratch = Vec::new();
        let mut first_order_day: Option<Day> = None;
        let mut orders_in_store_window = false;
        for (offset, slot) in out.iter_mut().enumerate() {
            let f = features(
                facts,
                start + offset,
                as_of,
                config,
                &mut pooled,
                &mut scratch,
            );
            if let Some(first) = f.first_day {
                first_order_day = Some(first_order_day.map_or(first, |d| d.min(first)));
            }
            orders_in_store_window |= f.last_day.is_some_and(|last| last >= store_start);
            *slot = f;
        }
        (pooled, first_order_day, orders_in_store_window)
    });
    let mut pooled = PooledIntervals::new(config);
    let mut first_order_day: Option<Day> = None;
    let mut orders_in_store_window = false;
    for (part, first, in_window) in parts {
        pooled.merge(&part);
        first_order_day = match (first_order_day, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        orders_in_store_window |= in_window;
    }
    let store_age = first_order_day.map(|first| as_of.since(first));
    let cycle = store_cycle(&pooled, store_age, orders_in_store_window, config);
    let c = cycle.days;

    // Population cut points.
    let mut population = Population::default();
    let mut recencies = Vec::new();
    let mut spends = Vec::new();
    let mut spends_730 = Vec::new();
    for f in &all {
        let Some(recency) = f.recency else { continue };
        population.buyers += 1;
        if f.frequency > 0 {
            population.rfm += 1;
            recencies.push(recency);
            spends.push(f.monetary);
        }
        if f.frequency_730 > 0 {
            population.lifecycle += 1;
            spends_730.push(f.monetary_730);
        }
    }
    let r_breaks = Quintiles::of(&mut recencies);
    let m_breaks = Quintiles::of(&mut spends);
    let top = top_threshold(&mut spends_730, config.top_pct.num, config.top_pct.den);
    let scores_of = |f: &MemberFeatures, recency: i64| match (f.frequency > 0, r_breaks, m_breaks) {
        (true, Some(r_breaks), Some(m_breaks)) => RfmScores {
            r: 5 - r_breaks.above(recency),
            f: f_score(f.frequency, &config.f_bins),
            m: 1 + m_breaks.above(f.monetary),
        },
        _ => RfmScores { r: 1, f: 1, m: 1 },
    };
    let scores: Vec<RfmScores> = all
        .iter()
        .map(|f| {
            f.recency
                .map_or(RfmScores { r: 1, f: 1, m: 1 }, |r| scores_of(f, r))
        })
        .collect();
    let scored: Vec<Scored> = all
        .iter()
        .zip(&scores)
        .filter(|(f, _)| f.frequency > 0)
        .filter_map(|(f, s)| {
            f.recency
                .map(|r| (r, f.frequency, rfm8::monetary(f, config), *s))
        })
        .collect();
    let rfm8_rule = Rfm8Rule::new(&scored, config);
    drop(scored);

    let label = |f: MemberFeatures, rfm: RfmScores| {
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
        let rfm8 = rfm8_rule.classify(recency, f.frequency, rfm8::monetary(&f, config), rfm);
        let span = f
            .last_day
            .zip(f.first_day)
            .map_or(0, |(last, first)| i64::from(last.since(first)));
        let customer_cycle = CustomerCycle::of(span, i64::from(f.purchase_days) - 1, c, config);
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
        let is_top = f.frequency_730 > 0 && top.is_some_and(|t| f.monetary_730 >= t);
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
    };
    let mut members = vec![MemberSegments::default(); n];
    for_chunks(&mut members, threads, |start, out| {
        for (offset, slot) in out.iter_mut().enumerate() {
            *slot = label(all[start + offset], scores[start + offset]);
        }
    });

    let display = |q: Option<Quintiles>| q.map(|q| q.0.map(|five_b| five_b as f64 / 5.0));
    Evaluation {
        as_of,
        store_cycle: c,
        store_cycle_fallback: cycle.fallback,
        population,
        recency_breaks: display(r_breaks),
        monetary_breaks: display(m_breaks),
        top_threshold: top,
        rfm8_thresholds: rfm8_rule.display().0,
        rfm8_basis: rfm8_rule.display().1,
        rfm8_on_scores: rfm8_rule.display().2,
        members,
    }
}
