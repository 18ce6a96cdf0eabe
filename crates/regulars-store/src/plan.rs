//! Planning an ingest batch: given the batch and what the store already holds of the ids it
//! names, decide each item's outcome and the exact writes, the same way on every backend.
//!
//! A backend loads the stored rows, calls a `plan_*` function, then performs the plan's writes in
//! one transaction. Items later in a batch see the effect of earlier ones, so a batch means the
//! same as sending its items one by one.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use regulars_domain::{
    BehaviourEvent, Interaction, Member, MemberChange, MemberId, MemberProfile, NewReturn, Order,
    OrderId, OrderLine, OrderStatus, Resend, ReturnId, ReturnLine, Store as ShopStore, StoreId,
    classify_order_resend, merge_profile,
};

use crate::{Accepted, IngestOptions, ItemOutcome, Rejection};

/// The stores to write.
#[derive(Debug, Default)]
pub struct StoresPlan {
    /// One outcome per item.
    pub outcomes: Vec<ItemOutcome>,
    /// Stores to insert or overwrite, at most one per id.
    pub upserts: Vec<ShopStore>,
}

/// Plans a batch of store descriptions: new ids are created, changed descriptions replace the
/// stored one (a store's description is not history), identical ones are duplicates.
pub fn plan_stores(batch: &[ShopStore], stored: &HashMap<StoreId, ShopStore>) -> StoresPlan {
    let mut plan = StoresPlan::default();
    let mut current: HashMap<StoreId, usize> = HashMap::new();
    for store in batch {
        let previous = match current.get(&store.store_id) {
            Some(&idx) => Some(&plan.upserts[idx]),
            None => stored.get(&store.store_id),
        };
        let outcome = match previous {
            None => Accepted::Created,
            Some(previous) if previous == store => Accepted::Duplicate,
            Some(_) => Accepted::Updated,
        };
        plan.outcomes.push(Ok(outcome));
        if outcome != Accepted::Duplicate {
            match current.get(&store.store_id) {
                Some(&idx) => plan.upserts[idx] = store.clone(),
                None => {
                    current.insert(store.store_id.clone(), plan.upserts.len());
                    plan.upserts.push(store.clone());
                }
            }
        }
    }
    plan
}

/// The members to write.
#[derive(Debug, Default)]
pub struct MembersPlan {
    /// One outcome per item.
    pub outcomes: Vec<ItemOutcome>,
    /// New members, at most one per id.
    pub inserts: Vec<Member>,
    /// Stored members to overwrite with their merged profile, at most one per id.
    pub updates: Vec<Member>,
    /// The field changes of each update, with the revision they produced.
    pub changes: Vec<(MemberId, i64, Vec<MemberChange>)>,
}

/// Plans a batch of profiles: each is merged into the stored member (or a new one).
pub fn plan_members(batch: &[MemberProfile], stored: &HashMap<MemberId, Member>) -> MembersPlan {
    enum Slot {
        Insert(usize),
        Update(usize),
    }
    let mut plan = MembersPlan::default();
    let mut slots: HashMap<MemberId, Slot> = HashMap::new();
    for profile in batch {
        if profile.referrer.as_ref() == Some(&profile.member_id) {
            plan.outcomes.push(Err(Rejection::Invalid {
                field: "referrer",
                reason: "a member cannot refer themselves".to_owned(),
            }));
            continue;
        }
        let id = &profile.member_id;
        let base = match slots.get(id) {
            Some(Slot::Insert(idx)) => plan.inserts[*idx].clone(),
            Some(Slot::Update(idx)) => plan.updates[*idx].clone(),
            None => stored.get(id).cloned().unwrap_or_else(|| Member {
                profile: MemberProfile::empty(id.clone()),
                created_from: None,
                revision: 0,
            }),
        };
        let is_new = !stored.contains_key(id) && !slots.contains_key(id);
        let (merged, changes) = merge_profile(&base, profile);
        let outcome = if is_new {
            Accepted::Created
        } else if changes.is_empty() {
            Accepted::Duplicate
        } else {
            Accepted::Updated
        };
        plan.outcomes.push(Ok(outcome));
        if outcome == Accepted::Duplicate {
            continue;
        }
        match slots.get(id) {
            Some(Slot::Insert(idx)) => plan.inserts[*idx] = merged,
            Some(Slot::Update(idx)) => {
                plan.changes.push((id.clone(), merged.revision, changes));
                plan.updates[*idx] = merged;
            }
            None if is_new => {
                slots.insert(id.clone(), Slot::Insert(plan.inserts.len()));
                plan.inserts.push(merged);
            }
            None => {
                plan.changes.push((id.clone(), merged.revision, changes));
                slots.insert(id.clone(), Slot::Update(plan.updates.len()));
                plan.updates.push(merged);
            }
        }
    }
    plan
}

/// A forward move of an order's status, kept as history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The order.
    pub order_id: OrderId,
    /// The status before.
    pub from: OrderStatus,
    /// The status after.
    pub to: OrderStatus,
    /// When it took effect.
    pub at: Timestamp,
}

/// The orders to write.
#[derive(Debug, Default)]
pub struct OrdersPlan {
    /// One outcome per item.
    pub outcomes: Vec<ItemOutcome>,
    /// Members to create because an order named them first.
    pub new_members: Vec<MemberId>,
    /// Stores to create because an order named them first.
    pub new_stores: Vec<StoreId>,
    /// Orders to insert, with `status_at` set, each with its lines (see [`Self::lines`]).
    pub inserts: Vec<Order>,
    /// Lines for stored orders that had none.
    pub added_lines: Vec<(OrderId, OrderLine)>,
    /// Status moves, applied after the inserts.
    pub status_changes: Vec<StatusChange>,
}

impl OrdersPlan {
    /// Every line to insert: the new orders' lines, then those added to stored orders. They are
    /// borrowed, not copied: the writer binds them straight from the plan.
    pub fn lines(&self) -> Vec<(&OrderId, &OrderLine)> {
        let new = self
            .inserts
            .iter()
            .flat_map(|order| order.lines.iter().map(move |line| (&order.order_id, line)));
        new.chain(self.added_lines.iter().map(|(id, line)| (id, line)))
            .collect()
    }
}

/// Plans a batch of orders against the stored orders of the same ids and the members and stores
/// the store knows among those the batch names.
pub fn plan_orders(
    batch: &[Order],
    stored: &HashMap<OrderId, Order>,
    known_members: &HashSet<MemberId>,
    known_stores: &HashSet<StoreId>,
    options: IngestOptions,
    recorded_at: Timestamp,
) -> OrdersPlan {
    let mut plan = OrdersPlan::default();
    let mut members: HashSet<MemberId> = HashSet::new();
    let mut stores: HashSet<StoreId> = HashSet::new();
    // Orders as they stand after the items planned so far: those this batch inserts by their
    // place in `plan.inserts`, those it updates by value (the newer).
    let mut inserted: HashMap<&OrderId, usize> = HashMap::new();
    let mut updated: HashMap<&OrderId, Order> = HashMap::new();
    for order in batch {
        let previous = match updated.get(&order.order_id) {
            Some(current) => Some(current),
            None => match inserted.get(&order.order_id) {
                Some(&at) => Some(&plan.inserts[at]),
                None => stored.get(&order.order_id),
            },
        };
        let Some(previous) = previous else {
            let member_known =
                known_members.contains(&order.member_id) || members.contains(&order.member_id);
            if !member_known && options.strict {
                plan.outcomes
                    .push(Err(Rejection::UnknownMember(order.member_id.clone())));
                continue;
            }
            if let Some(store_id) = &order.store_id
                && !known_stores.contains(store_id)
                && !stores.contains(store_id)
            {
                if options.strict {
                    plan.outcomes
                        .push(Err(Rejection::UnknownStore(store_id.clone())));
                    continue;
                }
                stores.insert(store_id.clone());
                plan.new_stores.push(store_id.clone());
            }
            if !member_known {
                members.insert(order.member_id.clone());
                plan.new_members.push(order.member_id.clone());
            }
            let mut new_order = order.clone();
            new_order.status_at = Some(order.status_at.unwrap_or(order.placed_at));
            inserted.insert(&order.order_id, plan.inserts.len());
            plan.inserts.push(new_order);
            plan.outcomes.push(Ok(Accepted::Created));
            continue;
        };
        match classify_order_resend(previous, order) {
            Resend::Duplicate | Resend::Stale => plan.outcomes.push(Ok(Accepted::Duplicate)),
            Resend::Conflict(fields) => plan.outcomes.push(Err(Rejection::Conflict {
                kind: "order",
                id: order.order_id.to_string(),
                fields,
            })),
            Resend::Update { status, add_lines } => {
                let mut moved = previous.clone();
                if let Some((from, to)) = status {
                    let at = order.status_at.unwrap_or(recorded_at);
                    plan.status_changes.push(StatusChange {
                        order_id: order.order_id.clone(),
                        from,
                        to,
                        at,
                    });
                    moved.status = to;
                    moved.status_at = Some(at);
                }
                if add_lines {
                    plan.added_lines.extend(
                        order
                            .lines
                            .iter()
                            .map(|line| (order.order_id.clone(), line.clone())),
                    );
                    moved.lines = order.lines.clone();
                }
                updated.insert(&order.order_id, moved);
                plan.outcomes.push(Ok(Accepted::Updated));
            }
        }
    }
    plan
}

/// The order lines to write.
#[derive(Debug, Default)]
pub struct OrderLinesPlan {
    /// One outcome per item.
    pub outcomes: Vec<ItemOutcome>,
    /// Lines to insert.
    pub inserts: Vec<(OrderId, OrderLine)>,
}

impl OrderLinesPlan {
    /// The lines to insert, borrowed as the writers bind them.
    pub fn lines(&self) -> Vec<(&OrderId, &OrderLine)> {
        self.inserts.iter().map(|(id, line)| (id, line)).collect()
    }
}

/// Plans lines sent apart from their orders: the order must be stored, a line number already
/// stored must hold the same line, and the price must be in the order's currency.
pub fn plan_order_lines(
    batch: &[(OrderId, OrderLine)],
    orders: &HashMap<OrderId, Order>,
) -> OrderLinesPlan {
    let mut plan = OrderLinesPlan::default();
    let mut planned: HashMap<(OrderId, u32), usize> = HashMap::new();
    for (order_id, line) in batch {
        let Some(order) = orders.get(order_id) else {
            plan.outcomes
                .push(Err(Rejection::UnknownOrder(order_id.clone())));
            continue;
        };
        if line.unit_price.currency() != order.amount.currency() {
            plan.outcomes.push(Err(Rejection::Invalid {
                field: "unit_price",
                reason: format!(
                    "is in {} but order {order_id} is in {}",
                    line.unit_price.currency(),
                    order.amount.currency()
                ),
            }));
            continue;
        }
        let key = (order_id.clone(), line.line_no);
        let previous = planned
            .get(&key)
            .map(|&idx| &plan.inserts[idx].1)
            .or_else(|| order.lines.iter().find(|l| l.line_no == line.line_no));
        match previous {
            Some(previous) if previous == line => plan.outcomes.push(Ok(Accepted::Duplicate)),
            Some(previous) => {
                let mut fields = Vec::new();
                for (field, same) in [
                    ("sku", previous.sku == line.sku),
                    ("name", previous.name == line.name),
                    ("category", previous.category == line.category),
                    ("quantity", previous.quantity == line.quantity),
                    ("unit_price", previous.unit_price == line.unit_price),
                ] {
                    if !same {
                        fields.push(field);
                    }
                }
                plan.outcomes.push(Err(Rejection::Conflict {
                    kind: "order line",
                    id: format!("{order_id}#{}", line.line_no),
                    fields,
                }));
            }
            None => {
                planned.insert(key, plan.inserts.len());
                plan.inserts.push((order_id.clone(), line.clone()));
                plan.outcomes.push(Ok(Accepted::Created));
            }
        }
    }
    plan
}

/// What earlier returns took back from one order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refunded {
    /// Money refunded, minor units.
    pub amount: i64,
    /// Lines returned.
    pub lines: Vec<ReturnLine>,
}

/// The returns to write.
#[derive(Debug, Default)]
pub struct ReturnsPlan {
    /// One outcome per item.
    pub outcomes: Vec<ItemOutcome>,
    /// Returns to insert.
    pub inserts: Vec<NewReturn>,
}

/// Plans returns: the order must be stored, and each return must fit in what the order and its
/// earlier returns leave.
pub fn plan_returns(
    batch: &[NewReturn],
    stored: &HashMap<ReturnId, NewReturn>,
    orders: &HashMap<OrderId, Order>,
    refunded: &HashMap<OrderId, Refunded>,
) -> ReturnsPlan {
    let mut plan = ReturnsPlan::default();
    let mut refunded = refunded.clone();
    let mut planned: HashMap<ReturnId, usize> = HashMap::new();
    for item in batch {
        let previous = planned
            .get(&item.return_id)
            .map(|&idx| &plan.inserts[idx])
            .or_else(|| stored.get(&item.return_id));
        if let Some(previous) = previous {
            plan.outcomes.push(if previous == item {
                Ok(Accepted::Duplicate)
            } else {
                Err(Rejection::Conflict {
                    kind: "return",
                    id: item.return_id.to_string(),
                    fields: differing_return_fields(previous, item),
                })
            });
            continue;
        }
        let Some(order) = orders.get(&item.order_id) else {
            plan.outcomes
                .push(Err(Rejection::UnknownOrder(item.order_id.clone())));
            continue;
        };
        let before = refunded.entry(item.order_id.clone()).or_default();
        if let Err(reason) = item.check_against(order, before.amount, &before.lines) {
            plan.outcomes.push(Err(Rejection::Invalid {
                field: "amount",
                reason,
            }));
            continue;
        }
        before.amount += item.amount.minor();
        before.lines.extend(item.lines.iter().cloned());
        planned.insert(item.return_id.clone(), plan.inserts.len());
        plan.inserts.push(item.clone());
        plan.outcomes.push(Ok(Accepted::Created));
    }
    plan
}

fn differing_return_fields(a: &NewReturn, b: &NewReturn) -> Vec<&'static str> {
    [
        ("order_id", a.order_id == b.order_id),
        ("amount", a.amount == b.amount),
        ("completed_at", a.completed_at == b.completed_at),
        ("lines", a.lines == b.lines),
    ]
    .into_iter()
    .filter(|(_, same)| !same)
    .map(|(field, _)| field)
    .collect()
}

/// A fact about one member with an id of its own: interactions and behaviour events.
pub trait MemberFact: Clone + PartialEq {
    /// The kind's name in messages.
    const KIND: &'static str;
    /// Its id.
    fn id(&self) -> &str;
    /// Its member.
    fn member_id(&self) -> &MemberId;
}

impl MemberFact for Interaction {
    const KIND: &'static str = "interaction";
    fn id(&self) -> &str {
        self.interaction_id.as_str()
    }
    fn member_id(&self) -> &MemberId {
        &self.member_id
    }
}

impl MemberFact for BehaviourEvent {
    const KIND: &'static str = "event";
    fn id(&self) -> &str {
        self.event_id.as_str()
    }
    fn member_id(&self) -> &MemberId {
        &self.member_id
    }
}

/// The member facts to write.
#[derive(Debug)]
pub struct MemberFactsPlan<F> {
    /// One outcome per item.
    pub outcomes: Vec<ItemOutcome>,
    /// Members to create because a fact named them first.
    pub new_members: Vec<MemberId>,
    /// Facts to insert.
    pub inserts: Vec<F>,
}

/// Plans interactions or events: identical re-sends are duplicates, different content under a
/// stored id is a conflict, and unknown members are created unless ingest is strict.
pub fn plan_member_facts<F: MemberFact>(
    batch: &[F],
    stored: &HashMap<String, F>,
    known_members: &HashSet<MemberId>,
    options: IngestOptions,
) -> MemberFactsPlan<F> {
    let mut plan = MemberFactsPlan {
        outcomes: Vec::new(),
        new_members: Vec::new(),
        inserts: Vec::new(),
    };
    let mut members: HashSet<MemberId> = HashSet::new();
    let mut planned: HashMap<String, usize> = HashMap::new();
    for fact in batch {
        let previous = planned
            .get(fact.id())
            .map(|&idx| &plan.inserts[idx])
            .or_else(|| stored.get(fact.id()));
        if let Some(previous) = previous {
            plan.outcomes.push(if previous == fact {
                Ok(Accepted::Duplicate)
            } else {
                Err(Rejection::Conflict {
                    kind: F::KIND,
                    id: fact.id().to_owned(),
                    fields: vec!["content"],
                })
            });
            continue;
        }
        let member = fact.member_id();
        if !known_members.contains(member) && !members.contains(member) {
            if options.strict {
                plan.outcomes
                    .push(Err(Rejection::UnknownMember(member.clone())));
                continue;
            }
            members.insert(member.clone());
            plan.new_members.push(member.clone());
        }
        planned.insert(fact.id().to_owned(), plan.inserts.len());
        plan.inserts.push(fact.clone());
        plan.outcomes.push(Ok(Accepted::Created));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use regulars_domain::{Currency, Money};

    fn order(id: &str, member: &str, status: OrderStatus) -> Order {
        let twd = Currency::TWD;
        Order {
            order_id: OrderId::parse(id).unwrap(),
            member_id: MemberId::parse(member).unwrap(),
            store_id: Some(StoreId::parse("S1").unwrap()),
            placed_at: "2024-03-01T01:30:00Z".parse().unwrap(),
            status,
            status_at: None,
            amount: Money::from_minor(12_000, twd),
            discount: Money::zero(twd),
            shipping: Money::zero(twd),
            coupon_codes: vec![],
            lines: vec![],
        }
    }

    fn now() -> Timestamp {
        "2024-04-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn an_order_for_an_unknown_member_creates_the_member_once() {
        let batch = [
            order("O1", "M1", OrderStatus::Paid),
            order("O2", "M1", OrderStatus::Paid),
        ];
        let stores = HashSet::from([StoreId::parse("S1").unwrap()]);
        let plan = plan_orders(
            &batch,
            &HashMap::new(),
            &HashSet::new(),
            &stores,
            IngestOptions::default(),
            now(),
        );
        assert_eq!(plan.new_members, [MemberId::parse("M1").unwrap()]);
        assert_eq!(plan.inserts.len(), 2);
        assert_eq!(plan.inserts[0].status_at, Some(plan.inserts[0].placed_at));
    }

    #[test]
    fn strict_ingest_refuses_unknown_members_and_stores() {
        let batch = [order("O1", "M1", OrderStatus::Paid)];
        let strict = IngestOptions { strict: true };
        let plan = plan_orders(
            &batch,
            &HashMap::new(),
            &HashSet::new(),
            &HashSet::new(),
            strict,
            now(),
        );
        assert_eq!(
            plan.outcomes,
            [Err(Rejection::UnknownMember(
                MemberId::parse("M1").unwrap()
            ))]
        );
        let members = HashSet::from([MemberId::parse("M1").unwrap()]);
        let plan = plan_orders(
            &batch,
            &HashMap::new(),
            &members,
            &HashSet::new(),
            strict,
            now(),
        );
        assert_eq!(
            plan.outcomes,
            [Err(Rejection::UnknownStore(StoreId::parse("S1").unwrap()))]
        );
        assert!(plan.inserts.is_empty() && plan.new_members.is_empty());
    }

    #[test]
    fn a_batch_means_the_same_as_its_items_one_by_one() {
        let batch = [
            order("O1", "M1", OrderStatus::Paid),
            order("O1", "M1", OrderStatus::Paid),
            order("O1", "M1", OrderStatus::Completed),
        ];
        let members = HashSet::from([MemberId::parse("M1").unwrap()]);
        let stores = HashSet::from([StoreId::parse("S1").unwrap()]);
        let plan = plan_orders(
            &batch,
            &HashMap::new(),
            &members,
            &stores,
            IngestOptions::default(),
            now(),
        );
        assert_eq!(
            plan.outcomes,
            [
                Ok(Accepted::Created),
                Ok(Accepted::Duplicate),
                Ok(Accepted::Updated)
            ]
        );
        assert_eq!(plan.status_changes.len(), 1);
        assert_eq!(plan.status_changes[0].at, now());
    }

    #[test]
    fn a_profile_sent_twice_in_one_batch_is_created_then_a_duplicate() {
        let mut profile = MemberProfile::empty(MemberId::parse("M1").unwrap());
        profile.name = Some("Amy".to_owned());
        let plan = plan_members(&[profile.clone(), profile], &HashMap::new());
        assert_eq!(
            plan.outcomes,
            [Ok(Accepted::Created), Ok(Accepted::Duplicate)]
        );
        assert_eq!(plan.inserts.len(), 1);
        assert!(plan.changes.is_empty());
    }
}

#[cfg(test)]
mod properties {
    //! A batch means the same as its items sent one by one: planning a whole batch gives the
    //! outcomes and the final orders of planning each item against the state the ones before it
    //! left.

    use super::*;
    use proptest::prelude::*;
    use regulars_domain::{Currency, Money};

    fn arbitrary_order() -> impl Strategy<Value = Order> {
        (
            0..6u8,
            0..3u8,
            prop_oneof![Just(100i64), Just(200i64)],
            0..3u8,
            any::<bool>(),
        )
            .prop_map(|(id, member, amount, status, with_lines)| {
                let twd = Currency::TWD;
                Order {
                    order_id: OrderId::parse(&format!("O{id}")).unwrap(),
                    member_id: MemberId::parse(&format!("M{member}")).unwrap(),
                    store_id: None,
                    placed_at: "2026-03-01T00:00:00Z".parse().unwrap(),
                    status: [
                        OrderStatus::Paid,
                        OrderStatus::Completed,
                        OrderStatus::Cancelled,
                    ][status as usize],
                    status_at: None,
                    amount: Money::from_minor(amount, twd),
                    discount: Money::zero(twd),
                    shipping: Money::zero(twd),
                    coupon_codes: vec![],
                    lines: if with_lines {
                        vec![OrderLine {
                            line_no: 1,
                            sku: regulars_domain::Sku::parse("CF-LAT").unwrap(),
                            name: None,
                            category: None,
                            quantity: 1,
                            unit_price: Money::from_minor(amount, twd),
                        }]
                    } else {
                        vec![]
                    },
                }
            })
    }

    /// Applies a plan to an in-memory store of orders and members, as a backend would.
    fn apply(
        plan: &OrdersPlan,
        orders: &mut HashMap<OrderId, Order>,
        members: &mut HashSet<MemberId>,
    ) {
        members.extend(plan.new_members.iter().cloned());
        for order in &plan.inserts {
            let mut stored = order.clone();
            stored.lines.clear();
            orders.insert(order.order_id.clone(), stored);
        }
        for (order_id, line) in plan.lines() {
            orders.get_mut(order_id).unwrap().lines.push(line.clone());
        }
        for change in &plan.status_changes {
            let order = orders.get_mut(&change.order_id).unwrap();
            assert_eq!(order.status, change.from);
            order.status = change.to;
            order.status_at = Some(change.at);
        }
    }

    proptest! {
        #[test]
        fn a_batch_means_the_same_as_its_items_one_by_one(
            batch in proptest::collection::vec(arbitrary_order(), 0..24),
            strict in any::<bool>(),
        ) {
            let now: Timestamp = "2026-04-01T00:00:00Z".parse().unwrap();
            let options = IngestOptions { strict };
            let known = HashSet::from([MemberId::parse("M0").unwrap()]);

            let (mut batch_orders, mut batch_members) = (HashMap::new(), known.clone());
            let plan = plan_orders(&batch, &batch_orders, &batch_members, &HashSet::new(), options, now);
            apply(&plan, &mut batch_orders, &mut batch_members);

            let (mut one_orders, mut one_members) = (HashMap::new(), known);
            let mut one_outcomes = Vec::new();
            for order in &batch {
                let single = plan_orders(std::slice::from_ref(order), &one_orders, &one_members, &HashSet::new(), options, now);
                one_outcomes.extend(single.outcomes.iter().cloned());
                apply(&single, &mut one_orders, &mut one_members);
            }
            prop_assert_eq!(&plan.outcomes, &one_outcomes);
            prop_assert_eq!(batch_orders, one_orders);
            prop_assert_eq!(batch_members, one_members);
        }

        #[test]
        fn sending_a_batch_again_changes_nothing(batch in proptest::collection::vec(arbitrary_order(), 0..24)) {
            let now: Timestamp = "2026-04-01T00:00:00Z".parse().unwrap();
            let (mut orders, mut members) = (HashMap::new(), HashSet::new());
            let first = plan_orders(&batch, &orders, &members, &HashSet::new(), IngestOptions::default(), now);
            apply(&first, &mut orders, &mut members);
            let again = plan_orders(&batch, &orders, &members, &HashSet::new(), IngestOptions::default(), now);
            prop_assert!(again.inserts.is_empty() && again.lines().is_empty() && again.new_members.is_empty());
            // Forward status moves already applied are never applied twice.
            prop_assert!(again.status_changes.is_empty());
            let only_duplicates_or_conflicts = again
                .outcomes
                .iter()
                .all(|o| matches!(o, Ok(Accepted::Duplicate) | Err(Rejection::Conflict { .. })));
            prop_assert!(only_duplicates_or_conflicts, "a re-sent batch created or updated something");
        }
    }
}
