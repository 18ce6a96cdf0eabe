//! Evaluating every model for every member as of one day: one pass over the columns for the
//! features and the pooled intervals, then the population cut points (store cycle, quintiles,
//! means, the top share), then the labels.

use crate::cycle::{CustomerCycle, PooledIntervals, store_cycle};
use crate::facts::MemberView;
use crate::{
    Cuts, Day, EngineConfig, FactTable, FrequencyUnit, Lifecycle, MemberIds, Nesl, Rfim, RfimBand,
    Rfm8, RfmScores, RfmSegment,
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
    /// Purchase-days (or orders, by `frequency_unit`) in the RFM window (365 days).
    pub frequency: u32,
    /// Net spend in the RFM window, minor units.
    pub monetary: i64,
    /// Valid orders in the RFM window (for RFM-8's average-order spend).
    pub orders: u32,
    /// Purchase-days (or orders, by `frequency_unit`) in the lifecycle window (730 days).
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
    /// The population's cut points on that day.
    pub cuts: Cuts,
    /// Every member's verdicts, in the table's member order.
    pub members: Vec<MemberSegments>,
}

/// The features of one member's facts as of `as_of`, and the first later day on which they change
/// with no new fact (a purchase or interaction leaves its window, or a dated order, return,
/// cancellation or interaction takes effect). Adds the member's intervals in the store window to
/// `pooled` when given; `scratch` is reused between members.
pub(crate) fn features(
    view: MemberView<'_>,
    as_of: Day,
    config: &EngineConfig,
    pooled: Option<&mut PooledIntervals>,
    scratch: &mut Vec<i32>,
) -> (MemberFeatures, Option<Day>) {
    let rfm_start = as_of.window_start(config.rfm_window_days);
    let life_start = as_of.window_start(config.lifecycle_window_days);
    let store_start = Day(as_of.0 - config.store_window_days);
    let mut returns = view.returns.iter().peekable();
    let mut out = MemberFeatures::default();
    let mut previous_in_store_window: Option<Day> = None;
    // The first day after `as_of` on which a fact takes effect or leaves a window.
    let mut next = i32::MAX;
    let mut later = |day: Day| {
        if day > as_of {
            next = next.min(day.0);
        }
    };
    let mut first_interval_count: Option<u32> = None;
    let mut first_in_rfm_window = None;
    let mut first_in_life_window = None;
    scratch.clear();
    for (offset, order) in view.orders.iter().enumerate() {
        let index = view.order_base + offset as u32;
        let mut refunded = 0;
        while let Some(refund) = returns.next_if(|r| r.order == index) {
            if refund.day <= as_of {
                refunded += refund.amount;
            } else {
                later(refund.day);
            }
        }
        later(order.day);
        if !order.valid_on(as_of) {
            continue;
        }
        if order.cancelled_from.0 != i32::MAX {
            later(order.cancelled_from);
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
                    // The previous purchase-day was the (purchase_days − 1)-th.
                    first_interval_count.get_or_insert(out.purchase_days - 1);
                    scratch.push(day.since(previous));
                }
                previous_in_store_window = Some(day);
            }
        }
        let counted = match config.frequency_unit {
            FrequencyUnit::PurchaseDay => u32::from(new_day),
            FrequencyUnit::Order => 1,
        };
        if day >= rfm_start {
            first_in_rfm_window.get_or_insert(day);
            out.frequency += counted;
            out.monetary += net;
            out.orders += 1;
        }
        if day >= life_start {
            first_in_life_window.get_or_insert(day);
            out.frequency_730 += counted;
            out.monetary_730 += net;
        }
    }
    if let Some(pooled) = pooled {
        pooled.add_member(scratch, first_interval_count.unwrap_or(1));
    }
    out.recency = out.last_day.map(|last| i64::from(as_of.since(last)));
    let interaction_start = as_of.window_start(config.interaction_window_days);
    let mut first_in_interaction_window = None;
    for day in view.interactions {
        if *day >= interaction_start && *day <= as_of {
            first_in_interaction_window.get_or_insert(*day);
            out.interactions += 1;
        }
        later(*day);
    }
    // A day leaves an n-day window ending on `as_of` when `as_of` reaches `day + n`.
    let leaves = |first: Option<Day>, n: i32| first.map(|d| Day(d.0.saturating_add(n)));
    for exit in [
        leaves(first_in_rfm_window, config.rfm_window_days),
        leaves(first_in_life_window, config.lifecycle_window_days),
        leaves(first_in_interaction_window, config.interaction_window_days),
    ]
    .into_iter()
    .flatten()
    {
        later(exit);
    }
    (out, (next != i32::MAX).then_some(Day(next)))
}

/// Runs `work(start, chunk)` on consecutive chunks of `items`, which it fills in place, on up to
/// `threads` threads (one for small inputs), and returns each chunk's result in order, so the
/// outcome never depends on the number of threads.
fn for_chunks<T: Send, R: Send>(
    items: &mut [T],
    threads: usize,
    work: impl Fn(usize, &mut [T]) -> R + Sync,
) -> Vec<R> {
    for_chunks_of(items, threads, 50_000, work)
}

/// [`for_chunks`] with chunks of at least `min_chunk` items (fewer items, fewer threads).
pub(crate) fn for_chunks_of<T: Send, R: Send>(
    items: &mut [T],
    threads: usize,
    min_chunk: usize,
    work: impl Fn(usize, &mut [T]) -> R + Sync,
) -> Vec<R> {
    let threads = threads.min(items.len() / min_chunk.max(1)).max(1);
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

/// As many threads as the machine has cores, at most 8: what a full evaluation uses by default.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8)
}

/// Evaluates every model for every member of `facts` as of the end of `as_of`, on
/// [`default_threads`] threads; `ids` are the members' ids, which break the ties of rank bins.
pub fn evaluate(
    facts: &FactTable,
    ids: &dyn MemberIds,
    config: &EngineConfig,
    as_of: Day,
) -> Evaluation {
    evaluate_on(facts, ids, config, as_of, default_threads())
}

/// [`evaluate`] on at most `threads` threads; the result never depends on the number.
pub fn evaluate_on(
    facts: &FactTable,
    ids: &dyn MemberIds,
    config: &EngineConfig,
    as_of: Day,
    threads: usize,
) -> Evaluation {
    evaluate_parts(facts, ids, config, as_of, threads).0
}

/// [`evaluate_on`], and for each member the first later day on which their features change with
/// no new fact.
pub(crate) fn evaluate_parts(
    facts: &FactTable,
    ids: &dyn MemberIds,
    config: &EngineConfig,
    as_of: Day,
    threads: usize,
) -> (Evaluation, Vec<Option<Day>>) {
    let n = facts.len();
    let store_start = Day(as_of.0 - config.store_window_days);
    // Each worker reads its members' features and pools its intervals; the pools add up.
    let mut all = vec![(MemberFeatures::default(), None); n];
    let parts = for_chunks(&mut all, threads, |start, out| {
        let mut pooled = PooledIntervals::new(config);
        let mut scratch = Vec::new();
        let mut first_order_day: Option<Day> = None;
        let mut orders_in_store_window = false;
        for (offset, slot) in out.iter_mut().enumerate() {
            let (f, next) = features(
                facts.view(start + offset),
                as_of,
                config,
                Some(&mut pooled),
                &mut scratch,
            );
            if let Some(first) = f.first_day {
                first_order_day = Some(first_order_day.map_or(first, |d| d.min(first)));
            }
            orders_in_store_window |= f.last_day.is_some_and(|last| last >= store_start);
            *slot = (f, next);
        }
        (pooled, first_order_day, orders_in_store_window)
    });
    let (all, next_changes): (Vec<MemberFeatures>, Vec<Option<Day>>) = all.into_iter().unzip();
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
    let cuts = Cuts::of(&all, cycle, config, ids);
    let mut members = vec![MemberSegments::default(); n];
    for_chunks(&mut members, threads, |start, out| {
        for (offset, slot) in out.iter_mut().enumerate() {
            let member = start + offset;
            *slot = cuts.label(all[member], member as u32, ids, config);
        }
    });
    (
        Evaluation {
            as_of,
            cuts,
            members,
        },
        next_changes,
    )
}
