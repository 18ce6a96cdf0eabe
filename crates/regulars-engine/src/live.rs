//! The engine kept current: every member's features and segments as of `today`, changed by one
//! fact at a time, by the passing of days, and by recomputing the cut points.
//!
//! When a member's segment can change:
//! - **A fact** (order, cancellation, return, interaction) re-reads that member's facts and
//!   places them against the current cut points, at once.
//! - **A day passing** moves only the members scheduled for that day: each member is filed under
//!   the first day on which anything they are judged by changes with nothing new happening
//!   (their recency crosses an R breakpoint, a NESL bound, an RFIM band, the lost limit or the
//!   RFM-8 recency threshold; a purchase or interaction leaves its window; a dated fact takes
//!   effect), so a day boundary never scans everyone.
//! - **A recompute** finds the population's cut points again (store cycle, R, F and M quintiles,
//!   RFM-8 thresholds, the top share) and places everyone against them.
//!
//! A brand whose last recompute saw no buyer recomputes at its first buyer's fact.
//!
//! Between recomputes the cut points stay as they were, so a member's placement is always
//! exactly what [`Cuts::label`] gives for their current features; right after a recompute it is
//! exactly what a full [`crate::evaluate`] gives.

use std::collections::{BTreeMap, HashMap};

use crate::cycle::PooledIntervals;
use crate::evaluate::{evaluate_parts, features, for_chunks_of};
use crate::facts::MemberView;
use crate::{
    Cuts, Day, EngineConfig, FactTable, IndexOrder, MemberFeatures, MemberIds, MemberSegments,
    Model, OrderFact, ReturnFact,
};

/// One fact about a member, as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// A new order (already cancelled when `cancelled_from` is set).
    Order(OrderFact),
    /// An order placed on `day` for `amount` was cancelled from `from`.
    Cancel {
        /// The order's day.
        day: Day,
        /// The order's amount.
        amount: i64,
        /// The day the cancellation took effect.
        from: Day,
    },
    /// A completed return against an order placed on `order_day` for `order_amount`.
    Return {
        /// The order's day.
        order_day: Day,
        /// The order's amount.
        order_amount: i64,
        /// The day the return completed.
        day: Day,
        /// Money refunded.
        amount: i64,
    },
    /// An interaction on a day.
    Interaction(Day),
}

/// Why a fact could not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactError {
    /// No member has that index.
    UnknownMember,
    /// The member has no order with that day and amount (to cancel or return against).
    UnknownOrder,
}

impl std::fmt::Display for FactError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::UnknownMember => "no member has that index",
            Self::UnknownOrder => "the member has no such order",
        })
    }
}

impl std::error::Error for FactError {}

/// A member moved from one segment of a model to another on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The member's index.
    pub member: u32,
    /// The model.
    pub model: Model,
    /// The segment left, as a code of [`Model::segments`].
    pub from: u8,
    /// The segment entered.
    pub to: u8,
    /// The day it happened.
    pub on: Day,
}

/// Changed members by index: internal keys, so a fixed fast hash.
type MovedFacts = HashMap<u32, OwnedFacts, foldhash::fast::FixedState>;

/// A member's facts once they changed after the columns were built.
#[derive(Debug, Clone, Default)]
struct OwnedFacts {
    orders: Vec<OrderFact>,
    /// `order` is the position in `orders`.
    returns: Vec<ReturnFact>,
    interactions: Vec<Day>,
}

impl OwnedFacts {
    /// A member's facts, with room for the next order and interaction (the usual next fact).
    fn of(view: MemberView<'_>) -> Self {
        fn with_room<T: Copy>(facts: &[T]) -> Vec<T> {
            let mut owned = Vec::with_capacity(facts.len() + 1);
            owned.extend_from_slice(facts);
            owned
        }
        Self {
            orders: with_room(view.orders),
            returns: view.own_returns().collect(),
            interactions: with_room(view.interactions),
        }
    }

    fn view(&self) -> MemberView<'_> {
        MemberView {
            orders: &self.orders,
            returns: &self.returns,
            order_base: 0,
            interactions: &self.interactions,
        }
    }

    /// Inserts an order after those of its day and earlier, keeping the returns pointing at
    /// their orders.
    fn insert_order(&mut self, order: OrderFact) {
        let at = self.orders.partition_point(|o| o.day <= order.day);
        self.orders.insert(at, order);
        for r in &mut self.returns {
            if r.order as usize >= at {
                r.order += 1;
            }
        }
    }

    fn find_order(&self, day: Day, amount: i64, uncancelled: bool) -> Option<usize> {
        self.orders.iter().position(|o| {
            o.day == day && o.amount == amount && (!uncancelled || o.cancelled_from.0 == i32::MAX)
        })
    }

    fn heap_bytes(&self) -> usize {
        self.orders.capacity() * size_of::<OrderFact>()
            + self.returns.capacity() * size_of::<ReturnFact>()
            + self.interactions.capacity() * size_of::<Day>()
    }
}

/// What the engine keeps of each member between changes: the features that do not move with
/// the day, the segments, and the day they are next looked at.
#[derive(Debug, Clone, Copy)]
struct MemberState {
    first_day: i32,
    last_day: i32,
    purchase_days: u32,
    frequency: u32,
    frequency_730: u32,
    orders: u32,
    interactions: u32,
    monetary: i64,
    monetary_730: i64,
    /// The next day to look at the member again; `i32::MAX` for never.
    wake: i32,
    codes: [u8; 5],
}

const NONE: i32 = i32::MIN;

impl MemberState {
    fn of(f: &MemberFeatures, codes: [u8; 5], wake: i32) -> Self {
        Self {
            first_day: f.first_day.map_or(NONE, |d| d.0),
            last_day: f.last_day.map_or(NONE, |d| d.0),
            purchase_days: f.purchase_days,
            frequency: f.frequency,
            frequency_730: f.frequency_730,
            orders: f.orders,
            interactions: f.interactions,
            monetary: f.monetary,
            monetary_730: f.monetary_730,
            wake,
            codes,
        }
    }

    fn features(&self, today: Day) -> MemberFeatures {
        let day = |d: i32| (d != NONE).then_some(Day(d));
        MemberFeatures {
            first_day: day(self.first_day),
            last_day: day(self.last_day),
            purchase_days: self.purchase_days,
            recency: day(self.last_day).map(|last| i64::from(today.since(last))),
            frequency: self.frequency,
            monetary: self.monetary,
            orders: self.orders,
            frequency_730: self.frequency_730,
            monetary_730: self.monetary_730,
            interactions: self.interactions,
        }
    }
}

/// Every member's segments, kept current.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    threads: usize,
    today: Day,
    table: FactTable,
    moved: MovedFacts,
    cuts: Cuts,
    members: Vec<MemberState>,
    calendar: BTreeMap<i32, Vec<u32>>,
    counts: [Vec<u64>; 5],
    scratch: Vec<i32>,
}

impl Engine {
    /// Evaluates `table` as of `today` and keeps it current from there, on up to `threads`
    /// threads for recomputes. Every call that places members takes the members' `ids`, which
    /// break the ties of rank bins.
    pub fn new(
        table: FactTable,
        ids: &dyn MemberIds,
        config: EngineConfig,
        today: Day,
        threads: usize,
    ) -> Self {
        let (evaluation, _) = evaluate_parts(&FactTable::default(), &IndexOrder, &config, today, 1);
        let mut engine = Self {
            config,
            threads: threads.max(1),
            today,
            table,
            moved: MovedFacts::default(),
            cuts: evaluation.cuts,
            members: Vec::new(),
            calendar: BTreeMap::new(),
            counts: Model::ALL.map(|m| vec![0; m.segments().len()]),
            scratch: Vec::new(),
        };
        engine.rebuild(ids, None);
        engine
    }

    /// The day the engine's state is as of.
    pub fn today(&self) -> Day {
        self.today
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The cut points members are placed against now.
    pub fn cuts(&self) -> &Cuts {
        &self.cuts
    }

    /// Member `member`'s segments in every model, with the features and cycle behind them.
    pub fn segments(&self, member: u32, ids: &dyn MemberIds) -> Option<MemberSegments> {
        let state = self.members.get(member as usize)?;
        Some(
            self.cuts
                .label(state.features(self.today), member, ids, &self.config),
        )
    }

    /// Member `member`'s segment codes, in the order of [`Model::ALL`].
    pub fn codes(&self, member: u32) -> Option<[u8; 5]> {
        self.members.get(member as usize).map(|s| s.codes)
    }

    /// Members in each segment of `model`, by code.
    pub fn counts(&self, model: Model) -> &[u64] {
        &self.counts[model.index()]
    }

    /// The members in segment `code` of `model`, in index order.
    pub fn members_in(&self, model: Model, code: u8) -> impl Iterator<Item = u32> + '_ {
        let at = model.index();
        self.members
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.codes[at] == code)
            .map(|(idx, _)| idx as u32)
    }

    /// Adds a member with no facts: a prospect everywhere. Returns their index.
    pub fn add_member(&mut self) -> u32 {
        let idx = self.table.push_empty() as u32;
        let codes = MemberSegments::default().codes();
        for (at, code) in codes.iter().enumerate() {
            self.counts[at][*code as usize] += 1;
        }
        self.members
            .push(MemberState::of(&MemberFeatures::default(), codes, i32::MAX));
        idx
    }

    /// Applies one fact to a member and places them again, adding any segment changes to `out`.
    pub fn apply(
        &mut self,
        member: u32,
        fact: Fact,
        ids: &dyn MemberIds,
        out: &mut Vec<Transition>,
    ) -> Result<(), FactError> {
        if member as usize >= self.members.len() {
            return Err(FactError::UnknownMember);
        }
        let table = &self.table;
        let owned = self
            .moved
            .entry(member)
            .or_insert_with(|| OwnedFacts::of(table.view(member as usize)));
        match fact {
            Fact::Order(order) => owned.insert_order(order),
            Fact::Cancel { day, amount, from } => {
                // The day stays, so the orders stay sorted by day: all the features read.
                let at = owned
                    .find_order(day, amount, true)
                    .ok_or(FactError::UnknownOrder)?;
                owned.orders[at].cancelled_from = from;
            }
            Fact::Return {
                order_day,
                order_amount,
                day,
                amount,
            } => {
                let at = owned
                    .find_order(order_day, order_amount, false)
                    .ok_or(FactError::UnknownOrder)?;
                owned.returns.push(ReturnFact {
                    order: at as u32,
                    day,
                    amount,
                });
                owned
                    .returns
                    .sort_unstable_by_key(|r| (r.order, r.day, r.amount));
            }
            Fact::Interaction(day) => {
                let at = owned.interactions.partition_point(|d| *d <= day);
                owned.interactions.insert(at, day);
            }
        }
        self.refresh(member, ids, out);
        // Cut points found over nobody place nobody well: until a recompute has seen a buyer
        // (a new brand), the first buyer brings the recompute forward.
        if self.cuts.population.buyers == 0 && self.members[member as usize].last_day != NONE {
            self.rebuild(ids, Some(out));
        }
        Ok(())
    }

    /// Moves the engine's day forward to `day`, one day at a time, placing again the members
    /// filed under each day and adding their segment changes to `out`.
    pub fn advance_to(&mut self, day: Day, ids: &dyn MemberIds, out: &mut Vec<Transition>) {
        let mut due: Vec<u32> = Vec::new();
        while self.today < day {
            self.today = Day(self.today.0 + 1);
            due.clear();
            while let Some(entry) = self.calendar.first_entry() {
                if *entry.key() > self.today.0 {
                    break;
                }
                due.extend(entry.remove());
            }
            // A member filed more than once, or since refiled for a later day, is looked at
            // once, on the day they are due.
            due.sort_unstable();
            due.dedup();
            due.retain(|m| self.members[*m as usize].wake <= self.today.0);
            self.refresh_all(&due, ids, out);
        }
    }

    /// [`Self::refresh`] for many members: their features, labels and next days are found on
    /// the engine's threads, then placed in member order.
    fn refresh_all(&mut self, members: &[u32], ids: &dyn MemberIds, out: &mut Vec<Transition>) {
        /// Below this many members a thread costs more than it saves.
        const MIN_CHUNK: usize = 2_048;
        let mut placed: Vec<(MemberFeatures, [u8; 5], i32)> =
            vec![(MemberFeatures::default(), [0; 5], i32::MAX); members.len()];
        let this = &*self;
        for_chunks_of(&mut placed, self.threads, MIN_CHUNK, |start, part| {
            let mut scratch = Vec::new();
            for (slot, member) in part.iter_mut().zip(&members[start..]) {
                *slot = this.look_at(*member, ids, &mut scratch);
            }
        });
        for (member, (f, codes, wake)) in members.iter().zip(placed) {
            let before = self.place(*member, &f, wake, codes);
            self.record(*member, before, codes, out);
        }
    }

    /// Finds the cut points again as of today and places every member against them, adding the
    /// segment changes to `out`.
    pub fn recompute(&mut self, ids: &dyn MemberIds, out: &mut Vec<Transition>) {
        self.rebuild(ids, Some(out));
    }

    /// Bytes the engine holds: columns, member states, the calendar and changed members.
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.members.capacity() * size_of::<MemberState>()
            + self
                .calendar
                .values()
                .map(|v| v.capacity() * 4 + 16)
                .sum::<usize>()
            + self
                .moved
                .values()
                .map(|m| m.heap_bytes() + size_of::<OwnedFacts>() + 8)
                .sum::<usize>()
    }

    fn view(&self, member: u32) -> MemberView<'_> {
        self.moved
            .get(&member)
            .map_or_else(|| self.table.view(member as usize), OwnedFacts::view)
    }

    /// The next day to look at member `member` with features `f`, whose facts next change on
    /// `next`.
    fn wake(&self, member: u32, f: &MemberFeatures, next: Option<Day>, ids: &dyn MemberIds) -> i32 {
        let by_time = f
            .last_day
            .zip(self.cuts.next_recency_bound(f, member, ids, &self.config))
            .map_or(i32::MAX, |(last, bound)| {
                i32::try_from(i64::from(last.0) + bound).unwrap_or(i32::MAX)
            });
        next.map_or(by_time, |d| d.0.min(by_time))
    }

    /// Stores a member's new state and files them under their next day; returns their codes
    /// before.
    fn place(&mut self, member: u32, f: &MemberFeatures, wake: i32, codes: [u8; 5]) -> [u8; 5] {
        let state = &mut self.members[member as usize];
        let before = state.codes;
        *state = MemberState::of(f, codes, wake);
        if wake != i32::MAX {
            self.calendar.entry(wake).or_default().push(member);
        }
        before
    }

    fn record(&mut self, member: u32, before: [u8; 5], after: [u8; 5], out: &mut Vec<Transition>) {
        for (at, model) in Model::ALL.iter().enumerate() {
            if before[at] != after[at] {
                self.counts[at][before[at] as usize] -= 1;
                self.counts[at][after[at] as usize] += 1;
                out.push(Transition {
                    member,
                    model: *model,
                    from: before[at],
                    to: after[at],
                    on: self.today,
                });
            }
        }
    }

    /// A member's features as of today, their codes against the current cut points and the
    /// next day to look at them; changes nothing.
    fn look_at(
        &self,
        member: u32,
        ids: &dyn MemberIds,
        scratch: &mut Vec<i32>,
    ) -> (MemberFeatures, [u8; 5], i32) {
        let (f, next) = features(
            self.view(member),
            self.today,
            &self.config,
            None::<&mut PooledIntervals>,
            scratch,
        );
        let codes = self.cuts.label(f, member, ids, &self.config).codes();
        (f, codes, self.wake(member, &f, next, ids))
    }

    /// Re-reads one member's facts as of today and places them against the current cut points.
    fn refresh(&mut self, member: u32, ids: &dyn MemberIds, out: &mut Vec<Transition>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let (f, codes, wake) = self.look_at(member, ids, &mut scratch);
        self.scratch = scratch;
        let before = self.place(member, &f, wake, codes);
        self.record(member, before, codes, out);
    }

    /// Folds changed members back into the columns, evaluates everyone as of today and places
    /// them; records changes when `out` is given (not on the first build).
    fn rebuild(&mut self, ids: &dyn MemberIds, mut out: Option<&mut Vec<Transition>>) {
        if !self.moved.is_empty() {
            let mut table = FactTable::default();
            for member in 0..self.table.len() as u32 {
                table.push_view(self.view(member));
            }
            table.index_returns();
            self.table = table;
            self.moved = MovedFacts::default();
        }
        let (evaluation, next_changes) =
            evaluate_parts(&self.table, ids, &self.config, self.today, self.threads);
        self.cuts = evaluation.cuts;
        self.calendar.clear();
        let first_build = self.members.is_empty();
        if first_build {
            self.members = Vec::with_capacity(evaluation.members.len());
        }
        for (idx, (segments, next)) in evaluation.members.iter().zip(next_changes).enumerate() {
            let member = idx as u32;
            let codes = segments.codes();
            if first_build {
                let wake = self.wake(member, &segments.features, next, ids);
                self.members
                    .push(MemberState::of(&segments.features, codes, wake));
                if wake != i32::MAX {
                    self.calendar.entry(wake).or_default().push(member);
                }
                for (at, code) in codes.iter().enumerate() {
                    self.counts[at][*code as usize] += 1;
                }
            } else {
                let wake = self.wake(member, &segments.features, next, ids);
                let before = self.place(member, &segments.features, wake, codes);
                if let Some(out) = out.as_deref_mut() {
                    self.record(member, before, codes, out);
                }
            }
        }
    }
}
