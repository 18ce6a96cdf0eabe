//! Recording facts and reading them back.

use std::future::Future;

use regulars_domain::{
    BehaviourEvent, Interaction, MemberId, MemberProfile, NewReturn, Order, OrderId, OrderLine,
    Store as ShopStore,
};
use regulars_formats::FactKind;
use regulars_store::{
    Accepted, FactCounts, IngestOptions, ItemOutcome, MemberFacts, Recorded, StoreError,
    StoreResult,
};

use crate::segments::{ValidOrderMode, day_of, order_fact};
use crate::{App, AppError, AppResult, SegmentChange};
use regulars_domain::{OrderStatus, StoreChannel};
use regulars_engine::{
    AudienceChange, AudienceEvent, AudienceMember, AudienceOrder, AudienceProfile, Day, Fact,
    OrderFact, order_key,
};
use std::collections::HashMap;

/// A fact type the store records in batches.
pub trait Ingest: Sized + Send + Sync + 'static {
    /// Its kind.
    const KIND: FactKind;
    /// Records a batch, one outcome per item.
    fn record(
        app: &App,
        items: &[Self],
        options: IngestOptions,
    ) -> impl Future<Output = StoreResult<Recorded>> + Send;

    /// What the items the store accepted change in the live segments (nothing by default).
    fn segment_changes(
        app: &App,
        items: &[Self],
        recorded: &Recorded,
    ) -> impl Future<Output = AppResult<Vec<SegmentChange>>> + Send {
        let _ = (app, items, recorded);
        std::future::ready(Ok(Vec::new()))
    }
}

/// The items whose outcome is `wanted`.
fn accepted<'a, T>(
    items: &'a [T],
    outcomes: &'a [ItemOutcome],
    wanted: &'a [Accepted],
) -> impl Iterator<Item = &'a T> + 'a {
    items
        .iter()
        .zip(outcomes)
        .filter(move |(_, outcome)| outcome.as_ref().is_ok_and(|a| wanted.contains(a)))
        .map(|(item, _)| item)
}

/// A profile as audiences read it.
fn audience_profile(profile: &MemberProfile, zone: &jiff::tz::TimeZone) -> AudienceProfile {
    let mut consents: Vec<regulars_domain::ConsentChannel> = Vec::new();
    for consent in &profile.consents {
        consents.retain(|c| *c != consent.channel);
        if consent.granted {
            consents.push(consent.channel);
        }
    }
    AudienceProfile {
        gender: profile.gender,
        birthday: profile.birthday,
        region: profile.region.clone(),
        joined: profile.joined_at.map(|at| day_of(at, zone)),
        home_store: profile.home_store.as_ref().map(ToString::to_string),
        consents,
    }
}

/// An order's lines as audiences read them: sku, category, quantity × unit price.
fn audience_lines(lines: &[OrderLine]) -> Vec<(String, Option<String>, i64)> {
    lines
        .iter()
        .map(|l| {
            (
                l.sku.to_string(),
                l.category.clone(),
                i64::from(l.quantity).saturating_mul(l.unit_price.minor()),
            )
        })
        .collect()
}

/// A new order as audiences read it (its lines as sent with it).
fn audience_order(
    order: &Order,
    fact: OrderFact,
    channels: &HashMap<String, StoreChannel>,
) -> AudienceOrder {
    let store = order.store_id.as_ref().map(ToString::to_string);
    AudienceOrder {
        key: order_key(order.order_id.as_str()),
        day: fact.day,
        cancelled_from: fact.cancelled_from,
        amount: fact.amount,
        channel: store.as_ref().and_then(|s| channels.get(s).copied()),
        store,
        lines: audience_lines(&order.lines),
        returns: Vec::new(),
    }
}

/// A behaviour event as audiences read it.
fn audience_event(event: &BehaviourEvent, zone: &jiff::tz::TimeZone) -> AudienceEvent {
    AudienceEvent {
        day: day_of(event.at, zone),
        kind: event.kind,
        sku: event.sku.as_ref().map(ToString::to_string),
        category: event.category.clone(),
    }
}

/// A member's profile, orders (valid per `include_shipping`, under `paid`), events and
/// interactions as audiences read them, straight from the domain's records (returns are left
/// out); the bench builds its tables this way.
pub fn audience_member(
    profile: &MemberProfile,
    orders: &[Order],
    events: &[BehaviourEvent],
    interactions: &[Interaction],
    zone: &jiff::tz::TimeZone,
    include_shipping: bool,
    channels: &HashMap<String, StoreChannel>,
) -> AudienceMember {
    AudienceMember {
        profile: audience_profile(profile, zone),
        orders: orders
            .iter()
            .map(|o| audience_order(o, order_fact(o, zone, include_shipping), channels))
            .collect(),
        events: events.iter().map(|e| audience_event(e, zone)).collect(),
        interactions: interactions
            .iter()
            .map(|i| (day_of(i.at, zone), i.channel))
            .collect(),
        tags: Vec::new(),
        loyalty: regulars_engine::AudienceLoyalty::default(),
    }
}

impl Ingest for ShopStore {
    const KIND: FactKind = FactKind::Stores;
    async fn record(app: &App, items: &[Self], _: IngestOptions) -> StoreResult<Recorded> {
        app.store.upsert_stores(items).await.map(Recorded::from)
    }
}

impl Ingest for MemberProfile {
    const KIND: FactKind = FactKind::Members;
    async fn record(app: &App, items: &[Self], _: IngestOptions) -> StoreResult<Recorded> {
        app.store
            .upsert_members(items, app.now())
            .await
            .map(Recorded::from)
    }

    /// New members, and every profile that changed (as stored after the merge) for the
    /// audiences.
    async fn segment_changes(
        app: &App,
        items: &[Self],
        recorded: &Recorded,
    ) -> AppResult<Vec<SegmentChange>> {
        let zone = &app.brand.time_zone;
        let mut changes = Vec::new();
        for (item, outcome) in items.iter().zip(&recorded.outcomes) {
            let profile = match outcome {
                Ok(Accepted::Created) => audience_profile(item, zone),
                Ok(Accepted::Updated) => {
                    audience_profile(&app.store.get_member(&item.member_id).await?.profile, zone)
                }
                _ => continue,
            };
            changes.push(
                SegmentChange::caused_by(&item.member_id, None, "member", &item.member_id)
                    .with_audience(AudienceChange::Profile(profile)),
            );
        }
        Ok(changes)
    }
}

impl Ingest for Order {
    const KIND: FactKind = FactKind::Orders;
    async fn record(app: &App, items: &[Self], options: IngestOptions) -> StoreResult<Recorded> {
        let recorded = app.store.record_orders(items, options, app.now()).await?;
        app.points_queued.notify_one();
        Ok(recorded)
    }

    /// New orders that are valid now, then every status move that starts or ends an order's
    /// validity: under `paid` a cancellation; under `completed` a completion, and the
    /// cancellation of a completed order. (A batch creates an order before it moves it.)
    async fn segment_changes(
        app: &App,
        items: &[Self],
        recorded: &Recorded,
    ) -> AppResult<Vec<SegmentChange>> {
        let zone = &app.brand.time_zone;
        let rules = app.order_rules;
        let completed_mode = rules.valid_order_mode == ValidOrderMode::Completed;
        let change = |order: &Self, fact| {
            SegmentChange::caused_by(&order.member_id, fact, "order", &order.order_id)
        };
        let channels: HashMap<String, StoreChannel> = app
            .store
            .list_stores()
            .await?
            .into_iter()
            .map(|s| (s.store_id.to_string(), s.channel))
            .collect();
        // An order not valid yet still brings its member (maybe new) into the segments.
        let mut changes: Vec<SegmentChange> =
            accepted(items, &recorded.outcomes, &[Accepted::Created])
                .map(|order| {
                    let valid = !completed_mode || order.status == OrderStatus::Completed;
                    let fact = order_fact(order, zone, rules.include_shipping);
                    let made = change(order, valid.then_some(Fact::Order(fact)));
                    if valid {
                        made.with_audience(AudienceChange::Order(audience_order(
                            order, fact, &channels,
                        )))
                    } else {
                        made
                    }
                })
                .collect();
        // An update that brought lines gives the order its lines.
        changes.extend(
            accepted(items, &recorded.outcomes, &[Accepted::Updated])
                .filter(|order| !order.lines.is_empty())
                .map(|order| {
                    change(order, None).with_audience(AudienceChange::Lines {
                        order: order_key(order.order_id.as_str()),
                        lines: audience_lines(&order.lines),
                    })
                }),
        );
        if recorded.status_changes.is_empty() {
            return Ok(changes);
        }
        let by_id: HashMap<&OrderId, &Self> = items.iter().map(|o| (&o.order_id, o)).collect();
        for moved in &recorded.status_changes {
            let Some(order) = by_id.get(&moved.order_id) else {
                continue;
            };
            let fact = order_fact(order, zone, rules.include_shipping);
            let cancel = Fact::Cancel {
                day: fact.day,
                amount: fact.amount,
                from: day_of(moved.at, zone),
            };
            let key = order_key(order.order_id.as_str());
            let cancelled = AudienceChange::Cancel {
                order: key,
                from: day_of(moved.at, zone),
            };
            let (fact, audience) = match (moved.from, moved.to) {
                (_, OrderStatus::Completed) if completed_mode => {
                    let valid = OrderFact {
                        cancelled_from: Day(i32::MAX),
                        ..fact
                    };
                    (
                        Fact::Order(valid),
                        AudienceChange::Order(audience_order(order, valid, &channels)),
                    )
                }
                (OrderStatus::Completed, OrderStatus::Cancelled) => (cancel, cancelled),
                (_, OrderStatus::Cancelled) if !completed_mode => (cancel, cancelled),
                _ => continue,
            };
            changes.push(change(order, Some(fact)).with_audience(audience));
        }
        Ok(changes)
    }
}

impl Ingest for (OrderId, OrderLine) {
    const KIND: FactKind = FactKind::OrderLines;
    async fn record(app: &App, items: &[Self], _: IngestOptions) -> StoreResult<Recorded> {
        app.store
            .record_order_lines(items, app.now())
            .await
            .map(Recorded::from)
    }

    /// Each order that gained lines, with all its lines now, for the audiences.
    async fn segment_changes(
        app: &App,
        items: &[Self],
        recorded: &Recorded,
    ) -> AppResult<Vec<SegmentChange>> {
        let mut ids: Vec<OrderId> = accepted(
            items,
            &recorded.outcomes,
            &[Accepted::Created, Accepted::Updated],
        )
        .map(|(order_id, _)| order_id.clone())
        .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(app
            .store
            .get_orders(&ids)
            .await?
            .into_iter()
            .map(|order| {
                SegmentChange::caused_by(&order.member_id, None, "order", &order.order_id)
                    .with_audience(AudienceChange::Lines {
                        order: order_key(order.order_id.as_str()),
                        lines: audience_lines(&order.lines),
                    })
            })
            .collect())
    }
}

impl Ingest for NewReturn {
    const KIND: FactKind = FactKind::Returns;
    async fn record(app: &App, items: &[Self], _: IngestOptions) -> StoreResult<Recorded> {
        let recorded = app.store.record_returns(items, app.now()).await?;
        app.points_queued.notify_one();
        Ok(Recorded::from(recorded))
    }

    async fn segment_changes(
        app: &App,
        items: &[Self],
        recorded: &Recorded,
    ) -> AppResult<Vec<SegmentChange>> {
        let created: Vec<&Self> =
            accepted(items, &recorded.outcomes, &[Accepted::Created]).collect();
        if created.is_empty() || !app.segments_are_live().await {
            return Ok(Vec::new());
        }
        let ids: Vec<OrderId> = created.iter().map(|r| r.order_id.clone()).collect();
        let orders: HashMap<OrderId, Order> = app
            .store
            .get_orders(&ids)
            .await?
            .into_iter()
            .map(|o| (o.order_id.clone(), o))
            .collect();
        let zone = &app.brand.time_zone;
        Ok(created
            .into_iter()
            .filter_map(|refund| {
                let order = orders.get(&refund.order_id)?;
                // Under `completed` the engine has only completed orders; a return against
                // another is not a segment change.
                if app.order_rules.valid_order_mode == ValidOrderMode::Completed
                    && order.status != OrderStatus::Completed
                {
                    return None;
                }
                let fact = order_fact(order, zone, app.order_rules.include_shipping);
                let returned = Fact::Return {
                    order_day: fact.day,
                    order_amount: fact.amount,
                    day: day_of(refund.completed_at, zone),
                    amount: refund.amount.minor(),
                };
                Some(
                    SegmentChange::caused_by(
                        &order.member_id,
                        Some(returned),
                        "return",
                        &refund.return_id,
                    )
                    .with_audience(AudienceChange::Return {
                        order: order_key(order.order_id.as_str()),
                        day: day_of(refund.completed_at, zone),
                        amount: refund.amount.minor(),
                    }),
                )
            })
            .collect())
    }
}

impl Ingest for Interaction {
    const KIND: FactKind = FactKind::Interactions;
    async fn record(app: &App, items: &[Self], options: IngestOptions) -> StoreResult<Recorded> {
        app.store
            .record_interactions(items, options, app.now())
            .await
            .map(Recorded::from)
    }

    async fn segment_changes(
        app: &App,
        items: &[Self],
        recorded: &Recorded,
    ) -> AppResult<Vec<SegmentChange>> {
        Ok(accepted(items, &recorded.outcomes, &[Accepted::Created])
            .map(|i| {
                let day = day_of(i.at, &app.brand.time_zone);
                SegmentChange::caused_by(
                    &i.member_id,
                    Some(Fact::Interaction(day)),
                    "interaction",
                    &i.interaction_id,
                )
                .with_audience(AudienceChange::Interaction(day, i.channel))
            })
            .collect())
    }
}

impl Ingest for BehaviourEvent {
    const KIND: FactKind = FactKind::Events;
    async fn record(app: &App, items: &[Self], options: IngestOptions) -> StoreResult<Recorded> {
        app.store
            .record_events(items, options, app.now())
            .await
            .map(Recorded::from)
    }

    /// New events, for the audiences (the models do not read them).
    async fn segment_changes(
        app: &App,
        items: &[Self],
        recorded: &Recorded,
    ) -> AppResult<Vec<SegmentChange>> {
        Ok(accepted(items, &recorded.outcomes, &[Accepted::Created])
            .map(|e| {
                SegmentChange::caused_by(&e.member_id, None, "event", &e.event_id).with_audience(
                    AudienceChange::Event(audience_event(e, &app.brand.time_zone)),
                )
            })
            .collect())
    }
}

/// How many items of a batch ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Stored as new.
    pub created: u64,
    /// Updated a stored item.
    pub updated: u64,
    /// Stored already.
    pub duplicates: u64,
    /// Refused.
    pub rejected: u64,
}

impl IngestSummary {
    /// Counts outcomes.
    pub fn of(outcomes: &[ItemOutcome]) -> Self {
        let mut summary = Self::default();
        summary.add(outcomes);
        summary
    }

    /// Adds outcomes to the counts.
    pub fn add(&mut self, outcomes: &[ItemOutcome]) {
        for outcome in outcomes {
            match outcome {
                Ok(Accepted::Created) => self.created += 1,
                Ok(Accepted::Updated) => self.updated += 1,
                Ok(Accepted::Duplicate) => self.duplicates += 1,
                Err(_) => self.rejected += 1,
            }
        }
    }
}

impl App {
    /// Records a batch of facts of one kind; `strict` overrides the configured default.
    #[tracing::instrument(skip_all, fields(kind = T::KIND.as_str(), items = items.len()))]
    pub async fn ingest<T: Ingest>(
        &self,
        items: &[T],
        strict: Option<bool>,
    ) -> AppResult<Vec<ItemOutcome>> {
        let options = IngestOptions {
            strict: strict.unwrap_or(self.settings.strict),
        };
        let recorded = T::record(self, items, options).await?;
        let summary = IngestSummary::of(&recorded.outcomes);
        if summary.created + summary.updated > 0 {
            self.facts_version
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.segments_are_live().await {
                let changes = T::segment_changes(self, items, &recorded).await?;
                self.apply_segment_changes(changes).await?;
            }
        }
        self.metrics.record_ingest(
            T::KIND,
            [
                summary.created,
                summary.updated,
                summary.duplicates,
                summary.rejected,
            ],
        );
        Ok(recorded.outcomes)
    }

    /// One member with their facts.
    pub async fn member_facts(&self, member_id: &MemberId) -> AppResult<MemberFacts> {
        match self
            .store
            .get_member_facts(member_id, self.settings.member_facts_limit)
            .await
        {
            Err(StoreError::NotFound) => Err(AppError::NotFound(format!("member {member_id}"))),
            other => Ok(other?),
        }
    }

    /// How many of each fact kind are stored.
    pub async fn fact_counts(&self) -> AppResult<FactCounts> {
        Ok(self.store.count_facts().await?)
    }

    /// Every store.
    pub async fn stores(&self) -> AppResult<Vec<ShopStore>> {
        Ok(self.store.list_stores().await?)
    }
}
