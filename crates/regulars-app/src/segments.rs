//! Facts to the engine's columns: each order becomes a 16-byte `OrderFact` on its civil day in
//! the brand's zone, its amount without shipping (`include_shipping = false`), cancelled from the
//! day its cancellation took effect; returns count from the day they completed. Under
//! `valid_order_mode = "completed"` only orders completed by the end of the evaluated day are
//! loaded, each on the day it was placed.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use regulars_domain::{Interaction, NewReturn, Order, OrderStatus};
use regulars_engine::{Day, FactTableBuilder, OrderFact};
pub use regulars_engine::{Model, explain};

/// The civil day of an instant in `zone`.
pub fn day_of(at: Timestamp, zone: &TimeZone) -> Day {
    // The local date of `at` is the UTC instant shifted by the zone's offset then, so its day
    // count is a floor division; this is the loader's inner loop, so no civil date is built.
    let whole = at.as_second() - i64::from(at.subsec_nanosecond() < 0);
    let local = whole + i64::from(zone.to_offset(at).seconds());
    Day(local.div_euclid(86_400) as i32)
}

/// The hasher of the member indexes: fast on short ids, seeded per process.
pub(crate) type FastHash = foldhash::fast::RandomState;

/// Members' positions in the engine, by id.
pub type MemberIndex = HashMap<regulars_domain::MemberId, u32, FastHash>;

/// Which orders are valid (`domain-spec.md` §0, `valid_order_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ValidOrderMode {
    /// Paid or completed, and not cancelled.
    #[default]
    Paid,
    /// Completed (from the moment it completed), and not cancelled.
    Completed,
}

/// How orders become the engine's facts: `[orders]` of the configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderRules {
    /// Which orders are valid.
    pub valid_order_mode: ValidOrderMode,
    /// Count shipping in spend.
    pub include_shipping: bool,
}

/// An order as the engine sees it: on its local day, without shipping unless `include_shipping`,
/// cancelled from the day its cancellation took effect.
pub fn order_fact(order: &Order, zone: &TimeZone, include_shipping: bool) -> OrderFact {
    let day = day_of(order.placed_at, zone);
    let cancelled_from = match order.status {
        OrderStatus::Cancelled => day_of(order.status_at.unwrap_or(order.placed_at), zone),
        _ => Day(i32::MAX),
    };
    let shipping = if include_shipping {
        0
    } else {
        order.shipping.minor()
    };
    OrderFact {
        day,
        cancelled_from,
        amount: order.amount.minor() - shipping,
    }
}

/// Adds one member's facts to the engine's table. Under `completed` only orders completed now
/// count (an order held in memory does not say whether a cancelled one was completed first).
pub fn push_member(
    builder: &mut FactTableBuilder,
    orders: &[Order],
    returns: &[NewReturn],
    interactions: &[Interaction],
    zone: &TimeZone,
    rules: OrderRules,
) -> usize {
    let mut refunds: HashMap<&str, Vec<(Day, i64)>> = HashMap::new();
    for item in returns {
        refunds
            .entry(item.order_id.as_str())
            .or_default()
            .push((day_of(item.completed_at, zone), item.amount.minor()));
    }
    let facts: Vec<(OrderFact, Vec<(Day, i64)>)> = orders
        .iter()
        .filter(|order| {
            rules.valid_order_mode == ValidOrderMode::Paid || order.status == OrderStatus::Completed
        })
        .map(|order| {
            (
                order_fact(order, zone, rules.include_shipping),
                refunds.remove(order.order_id.as_str()).unwrap_or_default(),
            )
        })
        .collect();
    let days: Vec<Day> = interactions.iter().map(|i| day_of(i.at, zone)).collect();
    builder.push_member(&facts, &days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use regulars_domain::{Currency, MemberId, Money, OrderId, ReturnId};
    use regulars_engine::{EngineConfig, evaluate};

    fn order(id: &str, placed_at: &str, amount: i64, shipping: i64, status: OrderStatus) -> Order {
        let twd = Currency::TWD;
        Order {
            order_id: OrderId::parse(id).unwrap(),
            member_id: MemberId::parse("M1").unwrap(),
            store_id: None,
            placed_at: placed_at.parse().unwrap(),
            status,
            status_at: Some(placed_at.parse().unwrap()),
            amount: Money::from_minor(amount, twd),
            discount: Money::zero(twd),
            shipping: Money::from_minor(shipping, twd),
            coupon_codes: vec![],
            lines: vec![],
        }
    }

    proptest::proptest! {
        #[test]
        fn an_instant_falls_on_its_civil_date_in_the_zone(
            micros in -3_000_000_000_000_000_i64..4_000_000_000_000_000,
            zone in proptest::sample::select(vec![
                "Asia/Taipei", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe", "UTC",
            ]),
        ) {
            let zone = TimeZone::get(zone).unwrap();
            let at = Timestamp::from_microsecond(micros).unwrap();
            proptest::prop_assert_eq!(
                day_of(at, &zone),
                Day::from_date(zone.to_datetime(at).date())
            );
        }
    }

    #[test]
    fn half_a_second_before_the_epoch_is_the_day_before_it() {
        let at: Timestamp = "1969-12-31T23:59:59.5Z".parse().unwrap();
        assert_eq!(day_of(at, &TimeZone::UTC), Day(-1));
    }

    #[test]
    fn orders_land_on_their_local_day_without_shipping_and_net_of_returns() {
        let zone = TimeZone::get("Asia/Taipei").unwrap();
        // 2026-03-01T17:00Z is already 2026-03-02 in Taipei.
        let orders = [
            order(
                "O1",
                "2026-03-01T17:00:00Z",
                58_000,
                8_000,
                OrderStatus::Completed,
            ),
            order(
                "O2",
                "2026-03-03T02:00:00Z",
                9_000,
                0,
                OrderStatus::Cancelled,
            ),
        ];
        let refund = NewReturn {
            return_id: ReturnId::parse("R1").unwrap(),
            order_id: OrderId::parse("O1").unwrap(),
            amount: Money::from_minor(10_000, Currency::TWD),
            completed_at: "2026-03-04T02:00:00Z".parse().unwrap(),
            lines: vec![],
        };
        let mut builder = FactTableBuilder::new();
        push_member(
            &mut builder,
            &orders,
            &[refund],
            &[],
            &zone,
            OrderRules::default(),
        );
        let table = builder.finish();
        let as_of = Day::from_date(jiff::civil::date(2026, 3, 10));
        let features = evaluate(
            &table,
            &regulars_engine::IndexOrder,
            &EngineConfig::default(),
            as_of,
        )
        .members[0]
            .features;
        assert_eq!(
            features.last_day,
            Some(Day::from_date(jiff::civil::date(2026, 3, 2)))
        );
        assert_eq!(
            features.purchase_days, 1,
            "the cancelled order is no purchase"
        );
        assert_eq!(
            features.monetary, 40_000,
            "580 − 80 shipping − 100 refunded"
        );
    }
}

/// Each member's position in `ids`, by id.
pub(crate) fn index_of(ids: &[regulars_domain::MemberId]) -> MemberIndex {
    ids.iter()
        .enumerate()
        .map(|(idx, id)| (id.clone(), idx as u32))
        .collect()
}

/// Runs engine work on the blocking pool, in the caller's tracing span.
pub(crate) async fn run_engine<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> crate::AppResult<T> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|e| {
            regulars_store::StoreError::Other(anyhow::anyhow!("the engine failed: {e}")).into()
        })
}

/// Every member's segments as of a day.
#[derive(Debug, Clone)]
pub struct Segmentation {
    /// The members' positions, by id.
    pub index: MemberIndex,
    /// The day evaluated.
    pub as_of: jiff::civil::Date,
    /// The members, in the engine's order.
    pub member_ids: Vec<regulars_domain::MemberId>,
    /// What the engine found.
    pub evaluation: regulars_engine::Evaluation,
}

/// Refunds of one order: completion day and amount.
type Refunds = Vec<(Day, i64)>;

/// How a scanned order row becomes the engine's fact: the engine's and the audiences' loaders
/// read orders alike.
#[derive(Debug, Clone)]
pub(crate) struct OrderReader {
    pub(crate) zone: TimeZone,
    pub(crate) rules: OrderRules,
    /// Under `completed`, orders completed after this day do not count.
    pub(crate) as_of: Day,
}

impl OrderReader {
    /// The civil day of an instant in Unix microseconds.
    pub(crate) fn day(&self, micros: i64) -> Day {
        Timestamp::from_microsecond(micros).map_or(Day(0), |at| day_of(at, &self.zone))
    }

    /// The order as the engine counts it, or `None` when it does not count by `as_of` (under
    /// `completed`, an order not completed by then).
    pub(crate) fn fact(&self, row: &regulars_store::OrderScan<'_>) -> Option<OrderFact> {
        if self.rules.valid_order_mode == ValidOrderMode::Completed
            && row
                .completed_at
                .is_none_or(|completed| self.day(completed) > self.as_of)
        {
            return None;
        }
        let cancelled_from = if row.status == OrderStatus::Cancelled.as_str() {
            self.day(row.status_at)
        } else {
            Day(i32::MAX)
        };
        let shipping = if self.rules.include_shipping {
            0
        } else {
            row.shipping
        };
        Some(OrderFact {
            day: self.day(row.placed_at),
            cancelled_from,
            amount: row.amount - shipping,
        })
    }
}

/// Collects a full scan of the store into the engine's columns.
struct Loader {
    orders_read: OrderReader,
    member_index: HashMap<String, u32, FastHash>,
    member_ids: Vec<regulars_domain::MemberId>,
    refunds: HashMap<String, Refunds, FastHash>,
    /// Member index, the order, its refunds.
    orders: Vec<(u32, OrderFact, Refunds)>,
    interactions: Vec<(u32, Day)>,
    error: Option<anyhow::Error>,
}

impl Loader {
    fn new(zone: TimeZone, rules: OrderRules, as_of: Day) -> Self {
        Self {
            orders_read: OrderReader { zone, rules, as_of },
            member_index: HashMap::default(),
            member_ids: Vec::new(),
            refunds: HashMap::default(),
            orders: Vec::new(),
            interactions: Vec::new(),
            error: None,
        }
    }

    fn day(&self, micros: i64) -> Day {
        self.orders_read.day(micros)
    }

    /// Orders and interactions grouped by member, in member order.
    fn finish(mut self) -> (Vec<regulars_domain::MemberId>, regulars_engine::FactTable) {
        self.orders.sort_by_key(|(member, ..)| *member);
        self.interactions.sort_unstable();
        let mut builder = FactTableBuilder::new();
        let mut orders = self.orders.into_iter().peekable();
        let mut interactions = self.interactions.into_iter().peekable();
        let mut member_orders = Vec::new();
        let mut member_days = Vec::new();
        for idx in 0..self.member_ids.len() as u32 {
            member_orders.clear();
            member_days.clear();
            while let Some((_, order, refunds)) = orders.next_if(|(member, ..)| *member == idx) {
                member_orders.push((order, refunds));
            }
            while let Some((_, day)) = interactions.next_if(|(member, _)| *member == idx) {
                member_days.push(day);
            }
            builder.push_member(&member_orders, &member_days);
        }
        (self.member_ids, builder.finish())
    }
}

impl regulars_store::FactVisitor for Loader {
    fn member(&mut self, member_id: &str) {
        match regulars_domain::MemberId::parse(member_id) {
            Ok(id) => {
                self.member_index
                    .insert(member_id.to_owned(), self.member_ids.len() as u32);
                self.member_ids.push(id);
            }
            Err(reason) => {
                self.error = Some(anyhow::anyhow!(
                    "stored member id `{member_id}` is invalid: {reason}"
                ))
            }
        }
    }

    fn return_(&mut self, row: regulars_store::ReturnScan<'_>) {
        let day = self.day(row.completed_at);
        self.refunds
            .entry(row.order_id.to_owned())
            .or_default()
            .push((day, row.amount));
    }

    fn order(&mut self, row: regulars_store::OrderScan<'_>) {
        let Some(&member) = self.member_index.get(row.member_id) else {
            return;
        };
        let Some(fact) = self.orders_read.fact(&row) else {
            return;
        };
        let refunds = if self.refunds.is_empty() {
            Refunds::new()
        } else {
            self.refunds.remove(row.order_id).unwrap_or_default()
        };
        self.orders.push((member, fact, refunds));
    }

    fn interaction(&mut self, member_id: &str, at: i64) {
        if let Some(&member) = self.member_index.get(member_id) {
            let day = self.day(at);
            self.interactions.push((member, day));
        }
    }
}

impl crate::App {
    /// Loads every member's facts into the engine's columns with one sequential scan per table,
    /// for evaluations as of `as_of` or later (only `completed` mode reads it: an order completed
    /// after it is left out, as the engine cannot date a completion).
    pub async fn load_engine_facts(
        &self,
        as_of: jiff::civil::Date,
    ) -> crate::AppResult<(Vec<regulars_domain::MemberId>, regulars_engine::FactTable)> {
        let mut loader = Loader::new(
            self.brand.time_zone.clone(),
            self.order_rules,
            Day::from_date(as_of),
        );
        self.store.scan_facts(&mut loader).await?;
        if let Some(error) = loader.error.take() {
            return Err(regulars_store::StoreError::Other(error).into());
        }
        Ok(tokio::task::spawn_blocking(move || loader.finish())
            .await
            .map_err(|e| {
                regulars_store::StoreError::Other(anyhow::anyhow!(
                    "building the engine's columns failed: {e}"
                ))
            })?)
    }

    /// Every member's segments as of the end of `as_of`, by the default model options.
    pub async fn segment(&self, as_of: jiff::civil::Date) -> crate::AppResult<Segmentation> {
        let (member_ids, table) = self.load_engine_facts(as_of).await?;
        let config = self.engine.clone();
        let day = Day::from_date(as_of);
        let (evaluation, member_ids) = run_engine(move || {
            let evaluation = regulars_engine::evaluate(&table, &member_ids, &config, day);
            (evaluation, member_ids)
        })
        .await?;
        Ok(Segmentation {
            index: index_of(&member_ids),
            as_of,
            member_ids,
            evaluation,
        })
    }

    /// Every member's segments as of `as_of` (default today): the live segments when they are
    /// running and as of that day, otherwise an evaluation of the stored facts.
    pub async fn segments(&self, as_of: Option<jiff::civil::Date>) -> crate::AppResult<Segments> {
        let guard = self.live.clone().read_owned().await;
        let wanted = as_of.unwrap_or_else(|| self.today());
        if let Ok(live) = tokio::sync::OwnedRwLockReadGuard::try_map(guard, |live| {
            live.as_ref()
                .filter(|live| live.engine().today() == Day::from_date(wanted))
        }) {
            return Ok(Segments::Live(live));
        }
        Ok(Segments::Evaluated(self.segmentation(Some(wanted)).await?))
    }

    /// Every member's segments as of `as_of` (default today), by a full evaluation of the
    /// stored facts, cached until a fact changes or another day is asked for.
    pub async fn segmentation(
        &self,
        as_of: Option<jiff::civil::Date>,
    ) -> crate::AppResult<std::sync::Arc<Segmentation>> {
        let as_of = as_of.unwrap_or_else(|| self.today());
        let mut cache = self.segmentation.lock().await;
        let version = self.facts_version.load(std::sync::atomic::Ordering::SeqCst);
        if let Some((cached_version, cached)) = cache.as_ref()
            && *cached_version == version
            && cached.as_of == as_of
        {
            return Ok(cached.clone());
        }
        let fresh = std::sync::Arc::new(self.segment(as_of).await?);
        *cache = Some((version, fresh.clone()));
        Ok(fresh)
    }
}

/// Segments from the live engine or from an evaluation of the stored facts.
pub enum Segments {
    /// The live engine, read-locked.
    Live(tokio::sync::OwnedRwLockReadGuard<Option<crate::Live>, crate::Live>),
    /// A full evaluation.
    Evaluated(std::sync::Arc<Segmentation>),
}

impl std::ops::Deref for Segments {
    type Target = dyn SegmentReader;

    fn deref(&self) -> &Self::Target {
        match self {
            Self::Live(live) => &**live,
            Self::Evaluated(segmentation) => &**segmentation,
        }
    }
}

/// How many members one segment of a model holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentCount {
    /// The segment's canonical name.
    pub segment: &'static str,
    /// Its Traditional Chinese label.
    pub label_zh: &'static str,
    /// Members in it.
    pub members: u64,
}

/// One model's verdict on a member, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The model.
    pub model: Model,
    /// The segment's canonical name.
    pub segment: &'static str,
    /// Its Traditional Chinese label.
    pub label_zh: &'static str,
    /// The inputs, thresholds and rule, in one sentence.
    pub explanation: String,
}

/// Every member's segments as of one day, read the same way whether they come from a past
/// evaluation or from the live engine.
pub trait SegmentReader: Send + Sync {
    /// The day the segments are as of.
    fn as_of(&self) -> jiff::civil::Date;
    /// The members, in the engine's order.
    fn member_ids(&self) -> &[regulars_domain::MemberId];
    /// A member's position.
    fn position(&self, id: &regulars_domain::MemberId) -> Option<usize>;
    /// The cut points members were placed against.
    fn cuts(&self) -> &regulars_engine::Cuts;
    /// The member at `idx`, placed.
    fn member(&self, idx: usize) -> regulars_engine::MemberSegments;
    /// The segment code of every member in `model`, in the engine's order.
    fn codes(&self, model: Model) -> Vec<u8>;

    /// Members per segment of `model`, in the model's order; empty segments are left out.
    fn counts(&self, model: Model) -> Vec<SegmentCount> {
        let names = model.segments();
        let mut counts = vec![0u64; names.len()];
        for code in self.codes(model) {
            counts[code as usize] += 1;
        }
        names
            .into_iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|((segment, label_zh), members)| SegmentCount {
                segment,
                label_zh,
                members,
            })
            .collect()
    }

    /// The members of one segment of `model`, in id order.
    fn members_of(&self, model: Model, segment: &str) -> Vec<&regulars_domain::MemberId> {
        let Some(code) = model
            .segments()
            .iter()
            .position(|(name, _)| *name == segment)
        else {
            return Vec::new();
        };
        let mut ids: Vec<&regulars_domain::MemberId> = self
            .member_ids()
            .iter()
            .zip(self.codes(model))
            .filter(|(_, c)| usize::from(*c) == code)
            .map(|(id, _)| id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Every model's verdict on the member at `idx`, with money shown in `currency`.
    fn verdicts(
        &self,
        idx: usize,
        config: &regulars_engine::EngineConfig,
        currency: regulars_domain::Currency,
    ) -> Vec<Verdict> {
        let money = |minor: i64| regulars_domain::Money::from_minor(minor, currency).to_string();
        let member = self.member(idx);
        Model::ALL
            .iter()
            .map(|model| {
                let (segment, label_zh) = member.segment(*model);
                Verdict {
                    model: *model,
                    segment,
                    label_zh,
                    explanation: explain(&member, self.cuts(), *model, config, &money),
                }
            })
            .collect()
    }
}

impl SegmentReader for Segmentation {
    fn as_of(&self) -> jiff::civil::Date {
        self.as_of
    }

    fn member_ids(&self) -> &[regulars_domain::MemberId] {
        &self.member_ids
    }

    fn position(&self, id: &regulars_domain::MemberId) -> Option<usize> {
        self.index.get(id).map(|idx| *idx as usize)
    }

    fn cuts(&self) -> &regulars_engine::Cuts {
        &self.evaluation.cuts
    }

    fn member(&self, idx: usize) -> regulars_engine::MemberSegments {
        self.evaluation.members[idx]
    }

    fn codes(&self, model: Model) -> Vec<u8> {
        self.evaluation
            .members
            .iter()
            .map(|m| m.code(model))
            .collect()
    }
}
