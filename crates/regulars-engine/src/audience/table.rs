//! The facts audiences read beyond the models' columns, member-major like `FactTable`: each
//! member's profile, orders with their store and lines, returns, behaviour events,
//! interactions, tags and loyalty (tier, points lots, coupons; see `loyalty`). Names (regions,
//! stores, skus, categories, tags, coupon templates) are interned to small integers once, so a
//! scan compares integers.
//!
//! The table is kept live like the engine: [`AudienceTable::apply`] changes one member. What a
//! change adds (an order later than the member's last, its lines and returns, an event, an
//! interaction) goes to a tail of the member's own, read after their shared rows, and a
//! cancellation changes the shared row in place, so the usual change copies nothing. A change
//! a tail cannot hold (an order dated before the member's last, new lines or a return for a
//! shared order) copies the member's rows out whole, once. [`AudienceTable::compact`] folds
//! tails and copies back into the columns, which the live audiences do at each day boundary
//! (rebuilding costs about a pass over every row, far more than a change).

use std::collections::HashMap;

use regulars_domain::{ConsentChannel, EventKind, Gender, InteractionChannel, StoreChannel};

use super::loyalty::{AudienceLoyalty, CouponRow, LotRow, Ragged, UNRANKED};
use crate::Day;

/// Names as small integers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    ids: HashMap<String, u32, foldhash::fast::FixedState>,
}

/// The id no interned name has: a test naming something never seen matches nobody.
pub(crate) const UNSEEN: u32 = u32::MAX;

impl Names {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = u32::try_from(self.ids.len()).expect("fewer than 2^32 names");
        self.ids.insert(name.to_owned(), id);
        id
    }

    fn intern_opt(&mut self, name: Option<&str>) -> u32 {
        name.map_or(UNSEEN, |n| self.intern(n))
    }

    /// How many names there are (ids run from 0 to this).
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The id of `name`, or [`UNSEEN`].
    pub(crate) fn get(&self, name: &str) -> u32 {
        self.ids.get(name).copied().unwrap_or(UNSEEN)
    }
}

/// A member's profile as audiences read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceProfile {
    /// Gender, when known.
    pub gender: Option<Gender>,
    /// Birthday, when known.
    pub birthday: Option<jiff::civil::Date>,
    /// Region, when known.
    pub region: Option<String>,
    /// The day the member joined, when known.
    pub joined: Option<Day>,
    /// Home store id, when known.
    pub home_store: Option<String>,
    /// The channels the member consents to now.
    pub consents: Vec<ConsentChannel>,
}

/// One member's facts, as the builder takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceMember {
    /// The profile.
    pub profile: AudienceProfile,
    /// Orders, in any order.
    pub orders: Vec<AudienceOrder>,
    /// Behaviour events, in any order.
    pub events: Vec<AudienceEvent>,
    /// Interactions, in any order.
    pub interactions: Vec<(Day, InteractionChannel)>,
    /// Tags.
    pub tags: Vec<String>,
    /// Tier, points and coupons.
    pub loyalty: AudienceLoyalty,
}

/// One change to a member, as ingest makes it. Orders are named by [`order_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceChange {
    /// The profile now.
    Profile(AudienceProfile),
    /// A new order (valid or already cancelled).
    Order(AudienceOrder),
    /// An order's lines now (they replace what it had).
    Lines {
        /// The order.
        order: u64,
        /// Sku, category, and quantity × unit price in minor units.
        lines: Vec<(String, Option<String>, i64)>,
    },
    /// An order stops counting from a day.
    Cancel {
        /// The order.
        order: u64,
        /// The first day it no longer counts.
        from: Day,
    },
    /// A completed return against an order.
    Return {
        /// The order.
        order: u64,
        /// The day it completed.
        day: Day,
        /// Money refunded, minor units.
        amount: i64,
    },
    /// A behaviour event.
    Event(AudienceEvent),
    /// An interaction on a channel.
    Interaction(Day, InteractionChannel),
    /// The member's tags now.
    Tags(Vec<String>),
    /// The member's tier, points lots and unused coupons now.
    Loyalty(AudienceLoyalty),
}

impl AudienceChange {
    /// What the change can move: the facts it changes, and the models when it is a fact the
    /// models count.
    pub fn reaches(&self) -> super::Reads {
        use super::Reads;
        match self {
            Self::Profile(_) => Reads::PROFILE,
            Self::Order(_) | Self::Lines { .. } | Self::Cancel { .. } | Self::Return { .. } => {
                Reads::ORDERS.with(Reads::MODELS)
            }
            Self::Event(_) => Reads::EVENTS,
            Self::Interaction(..) => Reads::INTERACTIONS.with(Reads::MODELS),
            Self::Tags(_) => Reads::TAGS,
            Self::Loyalty(_) => Reads::LOYALTY,
        }
    }
}

/// Why a change could not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// No member has that index.
    #[error("no member has that index")]
    UnknownMember,
    /// The member has no order with that key.
    #[error("the member has no such order")]
    UnknownOrder,
}

/// The key that names an order in [`AudienceChange`]s: a hash of its id, unique among one
/// member's orders for any practical purpose.
pub fn order_key(order_id: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5EED_A0D1_E9CE).hash_one(order_id)
}

/// One order as audiences read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceOrder {
    /// Its [`order_key`].
    pub key: u64,
    /// The day it counts from (placement, or completion under `valid_order_mode = "completed"`).
    pub day: Day,
    /// The day it stops counting (a cancellation), or `Day(i32::MAX)`.
    pub cancelled_from: Day,
    /// Its amount in minor units, as the models count it (shipping per `include_shipping`).
    pub amount: i64,
    /// Its store, when known.
    pub store: Option<String>,
    /// Its store's channel, when known.
    pub channel: Option<StoreChannel>,
    /// Its lines: sku, category, and quantity × unit price in minor units.
    pub lines: Vec<(String, Option<String>, i64)>,
    /// Completed returns against it: the day and the amount refunded.
    pub returns: Vec<(Day, i64)>,
}

/// One behaviour event as audiences read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceEvent {
    /// Its day.
    pub day: Day,
    /// Its kind.
    pub kind: EventKind,
    /// The sku it was about, if any.
    pub sku: Option<String>,
    /// The category it was about, if any.
    pub category: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct OrderRow {
    pub(crate) key: u64,
    pub(crate) day: i32,
    pub(crate) cancelled_from: i32,
    pub(crate) amount: i64,
    pub(crate) store: u32,
    /// 0 unknown, 1 online, 2 offline.
    pub(crate) channel: u8,
    pub(crate) lines: u32,
    pub(crate) returns: u32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct LineRow {
    pub(crate) sku: u32,
    pub(crate) category: u32,
    pub(crate) amount: i64,
}

/// A member's profile as rules test it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProfileRow {
    /// [`pack_birthday`], or 0 when unknown.
    pub(crate) birthday: u32,
    pub(crate) region: u32,
    /// The day joined, or `i32::MIN` when unknown.
    pub(crate) joined: i32,
    pub(crate) home_store: u32,
    /// [`gender_code`].
    pub(crate) gender: u8,
    /// [`consent_bit`]s.
    pub(crate) consent: u8,
}

impl ProfileRow {
    const UNKNOWN: Self = Self {
        birthday: 0,
        region: UNSEEN,
        joined: i32::MIN,
        home_store: UNSEEN,
        gender: 0,
        consent: 0,
    };
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct EventRow {
    pub(crate) day: i32,
    pub(crate) kind: u8,
    pub(crate) sku: u32,
    pub(crate) category: u32,
}

/// A birthday packed as `year << 9 | month << 5 | day`, or 0 when unknown.
pub(crate) fn pack_birthday(date: jiff::civil::Date) -> u32 {
    let year = u32::try_from(date.year()).unwrap_or(0);
    (year << 9)
        | (u32::from(date.month().unsigned_abs()) << 5)
        | u32::from(date.day().unsigned_abs())
}

pub(crate) fn store_channel_code(channel: Option<StoreChannel>) -> u8 {
    match channel {
        None => 0,
        Some(StoreChannel::Online) => 1,
        Some(StoreChannel::Offline) => 2,
    }
}

pub(crate) fn gender_code(gender: Option<Gender>) -> u8 {
    match gender {
        None => 0,
        Some(Gender::Female) => 1,
        Some(Gender::Male) => 2,
        Some(Gender::Other) => 3,
    }
}

pub(crate) fn consent_bit(channel: ConsentChannel) -> u8 {
    1 << ConsentChannel::ALL
        .iter()
        .position(|c| *c == channel)
        .expect("every channel is listed")
}

pub(crate) fn event_code(kind: EventKind) -> u8 {
    u8::try_from(
        EventKind::ALL
            .iter()
            .position(|k| *k == kind)
            .expect("listed"),
    )
    .expect("few")
}

pub(crate) fn interaction_code(channel: InteractionChannel) -> u8 {
    u8::try_from(
        InteractionChannel::ALL
            .iter()
            .position(|c| *c == channel)
            .expect("listed"),
    )
    .expect("few")
}

/// Rows of orders (each with its lines and returns running to the next order's start),
/// events and interactions: a member's part of the shared columns, or rows of their own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part<'a> {
    /// Orders in day order; their `lines`/`returns` starts count from `lines[0]`/`returns[0]`
    /// plus the first order's start.
    orders: &'a [OrderRow],
    lines: &'a [LineRow],
    returns: &'a [(i32, i64)],
    events: &'a [EventRow],
    interactions: &'a [(i32, u8)],
}

impl<'a> Part<'a> {
    const EMPTY: Part<'static> = Part {
        orders: &[],
        lines: &[],
        returns: &[],
        events: &[],
        interactions: &[],
    };

    /// The orders, each with its lines and returns.
    fn orders(self) -> impl Iterator<Item = OrderView<'a>> + 'a {
        let line_base = self.orders.first().map_or(0, |o| o.lines as usize);
        let return_base = self.orders.first().map_or(0, |o| o.returns as usize);
        (0..self.orders.len()).map(move |o| {
            let row = &self.orders[o];
            let (line_end, return_end) =
                self.orders
                    .get(o + 1)
                    .map_or((self.lines.len(), self.returns.len()), |next| {
                        (
                            next.lines as usize - line_base,
                            next.returns as usize - return_base,
                        )
                    });
            OrderView {
                row,
                lines: &self.lines[row.lines as usize - line_base..line_end],
                returns: &self.returns[row.returns as usize - return_base..return_end],
            }
        })
    }
}

/// One member's rows: their part of the shared columns, then the rows added since (orders no
/// earlier than the last shared one, so the orders stay in day order).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemberRows<'a> {
    head: Part<'a>,
    tail: Part<'a>,
    tags: &'a [u32],
}

impl<'a> MemberRows<'a> {
    /// The orders in day order, each with its lines and returns.
    pub(crate) fn orders(self) -> impl Iterator<Item = OrderView<'a>> + 'a {
        self.head.orders().chain(self.tail.orders())
    }

    pub(crate) fn events(self) -> impl Iterator<Item = &'a EventRow> + 'a {
        self.head.events.iter().chain(self.tail.events)
    }

    pub(crate) fn interactions(self) -> impl Iterator<Item = &'a (i32, u8)> + 'a {
        self.head.interactions.iter().chain(self.tail.interactions)
    }

    pub(crate) fn tags(self) -> &'a [u32] {
        self.tags
    }
}

/// The rows of one member who changed after the columns were built. Usually a tail: only the
/// rows added since, read after the member's shared rows, so a change copies nothing already
/// there. A change a tail cannot hold (an order dated before the member's last one, new lines or
/// a return for a shared order) makes it whole: a copy of every row, changed freely.
#[derive(Debug, Clone, Default)]
struct OwnRows {
    /// True when these are all the member's rows, false for a tail.
    whole: bool,
    orders: Vec<OrderRow>,
    lines: Vec<LineRow>,
    returns: Vec<(i32, i64)>,
    events: Vec<EventRow>,
    interactions: Vec<(i32, u8)>,
    /// The member's tags, or (for a tail) `None` while the shared ones hold.
    tags: Option<Vec<u32>>,
}

impl OwnRows {
    /// A copy of all of `rows`, whole.
    fn whole(rows: MemberRows<'_>) -> Self {
        let mut own = Self {
            whole: true,
            events: rows.events().copied().collect(),
            interactions: rows.interactions().copied().collect(),
            tags: Some(rows.tags.to_vec()),
            ..Self::default()
        };
        for order in rows.orders() {
            own.orders.push(OrderRow {
                lines: offset(own.lines.len()),
                returns: offset(own.returns.len()),
                ..*order.row
            });
            own.lines.extend_from_slice(order.lines);
            own.returns.extend_from_slice(order.returns);
        }
        own
    }

    fn part(&self) -> Part<'_> {
        Part {
            orders: &self.orders,
            lines: &self.lines,
            returns: &self.returns,
            events: &self.events,
            interactions: &self.interactions,
        }
    }

    fn order_at(&self, key: u64) -> Option<usize> {
        self.orders.iter().position(|o| o.key == key)
    }

    /// Where order `o`'s lines and returns end.
    fn ends(&self, o: usize) -> (usize, usize) {
        self.orders
            .get(o + 1)
            .map_or((self.lines.len(), self.returns.len()), |next| {
                (next.lines as usize, next.returns as usize)
            })
    }

    /// Moves the line and return starts of the orders after `o` by the rows added there.
    fn shift_after(&mut self, o: usize, lines: i64, returns: i64) {
        for order in &mut self.orders[o + 1..] {
            order.lines = offset((i64::from(order.lines) + lines) as usize);
            order.returns = offset((i64::from(order.returns) + returns) as usize);
        }
    }

    /// Puts `row` (with its lines and returns) in day order, after orders of the same day.
    fn insert_order(&mut self, mut row: OrderRow, lines: Vec<LineRow>, returns: Vec<(i32, i64)>) {
        let at = self.orders.partition_point(|o| o.day <= row.day);
        let (line_at, return_at) = self
            .orders
            .get(at)
            .map_or((self.lines.len(), self.returns.len()), |next| {
                (next.lines as usize, next.returns as usize)
            });
        row.lines = offset(line_at);
        row.returns = offset(return_at);
        self.orders.insert(at, row);
        self.shift_after(at, lines.len() as i64, returns.len() as i64);
        self.lines.splice(line_at..line_at, lines);
        self.returns.splice(return_at..return_at, returns);
    }
}

/// `own` for a member whose rows are still in the shared columns.
const SHARED: u32 = u32::MAX;

/// Every member's audience facts, in the engine's member order.
#[derive(Debug, Clone, Default)]
pub struct AudienceTable {
    /// Each member's profile, side by side so one test reads one cache line.
    pub(crate) profile: Vec<ProfileRow>,
    /// Member `m`'s orders are `orders[order_start[m]..order_start[m + 1]]`; each order's
    /// lines and returns run to the next order's start.
    order_start: Vec<u32>,
    orders: Vec<OrderRow>,
    lines: Vec<LineRow>,
    returns: Vec<(i32, i64)>,
    event_start: Vec<u32>,
    events: Vec<EventRow>,
    interaction_start: Vec<u32>,
    interactions: Vec<(i32, u8)>,
    tag_start: Vec<u32>,
    tags: Vec<u32>,
    /// Per member, [`SHARED`] or their index in `own_rows`.
    own: Vec<u32>,
    own_rows: Vec<OwnRows>,
    pub(crate) regions: Names,
    pub(crate) stores: Names,
    pub(crate) skus: Names,
    pub(crate) categories: Names,
    pub(crate) tag_names: Names,
    /// The brand's tier names, lowest first.
    pub(crate) tier_names: Vec<String>,
    /// Each member's tier as its rank in `tier_names`, or [`UNRANKED`].
    pub(crate) tier: Vec<u8>,
    pub(crate) lots: Ragged<LotRow>,
    pub(crate) coupons: Ragged<CouponRow>,
    pub(crate) templates: Names,
}

fn loyalty_lots(loyalty: &AudienceLoyalty) -> Vec<LotRow> {
    loyalty
        .lots
        .iter()
        .filter(|lot| lot.remaining > 0)
        .map(LotRow::of)
        .collect()
}

fn offset(len: usize) -> u32 {
    u32::try_from(len).expect("fewer than 2^32 rows")
}

impl AudienceTable {
    /// An empty table.
    pub fn new() -> Self {
        Self {
            order_start: vec![0],
            event_start: vec![0],
            interaction_start: vec![0],
            tag_start: vec![0],
            ..Self::default()
        }
    }

    /// An empty table for a brand whose tiers are `tiers`, lowest first (none: no tier rules).
    pub fn with_tiers(tiers: &[String]) -> Self {
        Self {
            tier_names: tiers.to_vec(),
            ..Self::new()
        }
    }

    /// The rank of tier `name` (`None`: the lowest).
    fn tier_rank(&self, name: Option<&str>) -> u8 {
        match name {
            None => 0,
            Some(name) => self
                .tier_names
                .iter()
                .position(|t| t == name)
                .and_then(|at| u8::try_from(at).ok())
                .unwrap_or(UNRANKED),
        }
    }

    fn set_loyalty(&mut self, m: usize, loyalty: &AudienceLoyalty) {
        self.tier[m] = self.tier_rank(loyalty.tier.as_deref());
        self.lots.set(m, loyalty_lots(loyalty));
        let coupons = self.coupon_rows(loyalty);
        self.coupons.set(m, coupons);
    }

    fn coupon_rows(&mut self, loyalty: &AudienceLoyalty) -> Vec<CouponRow> {
        loyalty
            .coupons
            .iter()
            .map(|c| CouponRow {
                template: self.templates.intern(&c.template),
                valid_from: c.valid_from.0,
                valid_until: c.valid_until.0,
            })
            .collect()
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.profile.len()
    }

    /// True without members.
    pub fn is_empty(&self) -> bool {
        self.profile.is_empty()
    }

    fn set_profile(&mut self, m: usize, profile: &AudienceProfile) {
        self.profile[m] = ProfileRow {
            birthday: profile.birthday.map_or(0, pack_birthday),
            region: self.regions.intern_opt(profile.region.as_deref()),
            joined: profile.joined.map_or(i32::MIN, |d| d.0),
            home_store: self.stores.intern_opt(profile.home_store.as_deref()),
            gender: gender_code(profile.gender),
            consent: profile
                .consents
                .iter()
                .fold(0, |bits, c| bits | consent_bit(*c)),
        };
    }

    fn order_row(&mut self, order: &AudienceOrder, lines: usize, returns: usize) -> OrderRow {
        OrderRow {
            key: order.key,
            day: order.day.0,
            cancelled_from: order.cancelled_from.0,
            amount: order.amount,
            store: self.stores.intern_opt(order.store.as_deref()),
            channel: store_channel_code(order.channel),
            lines: offset(lines),
            returns: offset(returns),
        }
    }

    fn line_row(&mut self, (sku, category, amount): &(String, Option<String>, i64)) -> LineRow {
        LineRow {
            sku: self.skus.intern(sku),
            category: self.categories.intern_opt(category.as_deref()),
            amount: *amount,
        }
    }

    fn event_row(&mut self, event: &AudienceEvent) -> EventRow {
        EventRow {
            day: event.day.0,
            kind: event_code(event.kind),
            sku: self.skus.intern_opt(event.sku.as_deref()),
            category: self.categories.intern_opt(event.category.as_deref()),
        }
    }

    fn tag_ids(&mut self, tags: &[String]) -> Vec<u32> {
        let mut ids: Vec<u32> = tags.iter().map(|t| self.tag_names.intern(t)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Appends the next member (index [`Self::len`] before the call).
    pub fn push(&mut self, member: &AudienceMember) {
        let m = self.len();
        self.profile.push(ProfileRow::UNKNOWN);
        self.own.push(SHARED);
        self.set_profile(m, &member.profile);
        let mut orders: Vec<&AudienceOrder> = member.orders.iter().collect();
        orders.sort_by_key(|o| o.day);
        for order in orders {
            let row = self.order_row(order, self.lines.len(), self.returns.len());
            self.orders.push(row);
            for line in &order.lines {
                let line = self.line_row(line);
                self.lines.push(line);
            }
            self.returns
                .extend(order.returns.iter().map(|(day, amount)| (day.0, *amount)));
        }
        self.order_start.push(offset(self.orders.len()));
        for event in &member.events {
            let row = self.event_row(event);
            self.events.push(row);
        }
        self.event_start.push(offset(self.events.len()));
        self.interactions.extend(
            member
                .interactions
                .iter()
                .map(|(day, channel)| (day.0, interaction_code(*channel))),
        );
        self.interaction_start.push(offset(self.interactions.len()));
        let tags = self.tag_ids(&member.tags);
        self.tags.extend(tags);
        self.tag_start.push(offset(self.tags.len()));
        let rank = self.tier_rank(member.loyalty.tier.as_deref());
        self.tier.push(rank);
        self.lots.push(loyalty_lots(&member.loyalty));
        let coupons = self.coupon_rows(&member.loyalty);
        self.coupons.push(coupons);
    }

    /// Adds a member without facts; returns their index.
    pub fn add_member(&mut self) -> usize {
        self.push(&AudienceMember::default());
        self.len() - 1
    }

    /// Member `m`'s part of the shared columns (their old rows once they are whole).
    fn shared_part(&self, m: usize) -> Part<'_> {
        let (os, oe) = (
            self.order_start[m] as usize,
            self.order_start[m + 1] as usize,
        );
        let (lines, returns) = if os == oe {
            (&self.lines[..0], &self.returns[..0])
        } else {
            let (line_end, return_end) = self
                .orders
                .get(oe)
                .map_or((self.lines.len(), self.returns.len()), |next| {
                    (next.lines as usize, next.returns as usize)
                });
            (
                &self.lines[self.orders[os].lines as usize..line_end],
                &self.returns[self.orders[os].returns as usize..return_end],
            )
        };
        Part {
            orders: &self.orders[os..oe],
            lines,
            returns,
            events: &self.events[self.event_start[m] as usize..self.event_start[m + 1] as usize],
            interactions: &self.interactions
                [self.interaction_start[m] as usize..self.interaction_start[m + 1] as usize],
        }
    }

    fn shared_tags(&self, m: usize) -> &[u32] {
        &self.tags[self.tag_start[m] as usize..self.tag_start[m + 1] as usize]
    }

    /// Member `m`'s rows.
    pub(crate) fn rows(&self, m: usize) -> MemberRows<'_> {
        match self.own[m] {
            SHARED => MemberRows {
                head: self.shared_part(m),
                tail: Part::EMPTY,
                tags: self.shared_tags(m),
            },
            at => {
                let own = &self.own_rows[at as usize];
                let tags = own.tags.as_deref();
                if own.whole {
                    MemberRows {
                        head: own.part(),
                        tail: Part::EMPTY,
                        tags: tags.unwrap_or_default(),
                    }
                } else {
                    MemberRows {
                        head: self.shared_part(m),
                        tail: own.part(),
                        tags: tags.unwrap_or_else(|| self.shared_tags(m)),
                    }
                }
            }
        }
    }

    /// Member `m`'s own rows: a new, empty tail on the first change.
    fn own_rows_of(&mut self, m: usize) -> &mut OwnRows {
        if self.own[m] == SHARED {
            self.own[m] = offset(self.own_rows.len());
            self.own_rows.push(OwnRows::default());
        }
        &mut self.own_rows[self.own[m] as usize]
    }

    /// Member `m`'s own rows, whole: every row copied out (once) so any change can be made.
    fn whole_rows_of(&mut self, m: usize) -> &mut OwnRows {
        let whole = self.own[m] != SHARED && self.own_rows[self.own[m] as usize].whole;
        if !whole {
            let rows = OwnRows::whole(self.rows(m));
            let at = self.own_rows_of(m);
            *at = rows;
        }
        &mut self.own_rows[self.own[m] as usize]
    }

    /// The position of order `key` among member `m`'s shared orders, when it is there and the
    /// member is not whole.
    fn shared_order(&self, m: usize, key: u64) -> Option<usize> {
        if self.own[m] != SHARED && self.own_rows[self.own[m] as usize].whole {
            return None;
        }
        let start = self.order_start[m] as usize;
        self.orders[start..self.order_start[m + 1] as usize]
            .iter()
            .position(|o| o.key == key)
            .map(|o| start + o)
    }

    /// Applies one change to member `m`.
    pub fn apply(&mut self, m: usize, change: &AudienceChange) -> Result<(), ChangeError> {
        if m >= self.len() {
            return Err(ChangeError::UnknownMember);
        }
        match change {
            AudienceChange::Profile(profile) => self.set_profile(m, profile),
            AudienceChange::Order(order) => {
                let row = self.order_row(order, 0, 0);
                let lines: Vec<LineRow> = order.lines.iter().map(|l| self.line_row(l)).collect();
                let returns: Vec<(i32, i64)> =
                    order.returns.iter().map(|(d, a)| (d.0, *a)).collect();
                let last_day = self.rows(m).orders().last().map(|o| o.row.day);
                let own = if last_day.is_none_or(|day| day <= row.day) {
                    // In day order after every order the member has: the tail (or the whole
                    // rows) take it at their end.
                    self.own_rows_of(m)
                } else {
                    self.whole_rows_of(m)
                };
                own.insert_order(row, lines, returns);
            }
            AudienceChange::Lines { order, lines } => {
                let lines: Vec<LineRow> = lines.iter().map(|l| self.line_row(l)).collect();
                let in_own = self.own[m] != SHARED
                    && self.own_rows[self.own[m] as usize]
                        .order_at(*order)
                        .is_some();
                let own = if in_own {
                    self.own_rows_of(m)
                } else {
                    self.whole_rows_of(m)
                };
                let at = own.order_at(*order).ok_or(ChangeError::UnknownOrder)?;
                let start = own.orders[at].lines as usize;
                let (end, _) = own.ends(at);
                let added = lines.len() as i64 - (end - start) as i64;
                own.lines.splice(start..end, lines);
                own.shift_after(at, added, 0);
            }
            AudienceChange::Cancel { order, from } => {
                if let Some(at) = self.shared_order(m, *order) {
                    // A shared row changes in place: nothing moves.
                    self.orders[at].cancelled_from = from.0;
                } else {
                    let own = self.own_rows_of(m);
                    let at = own.order_at(*order).ok_or(ChangeError::UnknownOrder)?;
                    own.orders[at].cancelled_from = from.0;
                }
            }
            AudienceChange::Return { order, day, amount } => {
                let own = if self.shared_order(m, *order).is_some() {
                    self.whole_rows_of(m)
                } else {
                    self.own_rows_of(m)
                };
                let at = own.order_at(*order).ok_or(ChangeError::UnknownOrder)?;
                let (_, end) = own.ends(at);
                own.returns.insert(end, (day.0, *amount));
                own.shift_after(at, 0, 1);
            }
            AudienceChange::Event(event) => {
                let row = self.event_row(event);
                self.own_rows_of(m).events.push(row);
            }
            AudienceChange::Interaction(day, channel) => {
                let row = (day.0, interaction_code(*channel));
                self.own_rows_of(m).interactions.push(row);
            }
            AudienceChange::Tags(tags) => {
                let ids = self.tag_ids(tags);
                self.own_rows_of(m).tags = Some(ids);
            }
            AudienceChange::Loyalty(loyalty) => self.set_loyalty(m, loyalty),
        }
        Ok(())
    }

    /// Moves every member's rows back into shared columns (at most once a day: see the top).
    pub fn compact(&mut self) {
        self.lots.compact();
        self.coupons.compact();
        if self.own_rows.is_empty() {
            return;
        }
        // Room for the shared rows and every own row, so no column grows (and is copied) midway.
        let own = |rows: fn(&OwnRows) -> usize| self.own_rows.iter().map(rows).sum::<usize>();
        let mut order_start = Vec::with_capacity(self.len() + 1);
        let mut orders = Vec::with_capacity(self.orders.len() + own(|o| o.orders.len()));
        let mut lines = Vec::with_capacity(self.lines.len() + own(|o| o.lines.len()));
        let mut returns = Vec::with_capacity(self.returns.len() + own(|o| o.returns.len()));
        let mut event_start = Vec::with_capacity(self.len() + 1);
        let mut events = Vec::with_capacity(self.events.len() + own(|o| o.events.len()));
        let mut interaction_start = Vec::with_capacity(self.len() + 1);
        let mut interactions =
            Vec::with_capacity(self.interactions.len() + own(|o| o.interactions.len()));
        let mut tag_start = Vec::with_capacity(self.len() + 1);
        let mut tags =
            Vec::with_capacity(self.tags.len() + own(|o| o.tags.as_ref().map_or(0, Vec::len)));
        order_start.push(0);
        event_start.push(0);
        interaction_start.push(0);
        tag_start.push(0);
        for m in 0..self.len() {
            let rows = self.rows(m);
            for order in rows.orders() {
                orders.push(OrderRow {
                    lines: offset(lines.len()),
                    returns: offset(returns.len()),
                    ..*order.row
                });
                lines.extend_from_slice(order.lines);
                returns.extend_from_slice(order.returns);
            }
            order_start.push(offset(orders.len()));
            events.extend(rows.events());
            event_start.push(offset(events.len()));
            interactions.extend(rows.interactions());
            interaction_start.push(offset(interactions.len()));
            tags.extend_from_slice(rows.tags);
            tag_start.push(offset(tags.len()));
        }
        self.order_start = order_start;
        self.orders = orders;
        self.lines = lines;
        self.returns = returns;
        self.event_start = event_start;
        self.events = events;
        self.interaction_start = interaction_start;
        self.interactions = interactions;
        self.tag_start = tag_start;
        self.tags = tags;
        self.own.fill(SHARED);
        self.own_rows = Vec::new();
    }

    /// Interns every name `rule` mentions, so a compiled rule kept live matches the facts that
    /// bring those names later.
    pub fn learn_names(&mut self, rule: &regulars_domain::audience::AudienceRule) {
        use regulars_domain::audience::{Attribute, AttributeTest, Predicate, Value};
        fn learn_filter(table: &mut AudienceTable, filter: &regulars_domain::audience::FactFilter) {
            if let Some(sku) = &filter.sku {
                table.skus.intern(sku);
            }
            if let Some(category) = &filter.category {
                table.categories.intern(category);
            }
            if let Some(store) = &filter.store {
                table.stores.intern(store);
            }
        }
        for predicate in rule.predicates() {
            match predicate {
                Predicate::Attribute { attribute, test } => {
                    let names = match attribute {
                        Attribute::Region => &mut self.regions,
                        Attribute::HomeStore => &mut self.stores,
                        _ => continue,
                    };
                    let values = match test {
                        AttributeTest::Compare(_, value) => std::slice::from_ref(value),
                        AttributeTest::In(values) => values.as_slice(),
                        AttributeTest::Within(_) => &[],
                    };
                    for value in values {
                        if let Value::Text(name) = value {
                            names.intern(name);
                        }
                    }
                }
                Predicate::Measure { filter, .. }
                | Predicate::Bought(filter)
                | Predicate::Event { filter, .. } => learn_filter(self, filter),
                Predicate::RepurchaseCycle { sku, category, .. } => {
                    if let Some(sku) = sku {
                        self.skus.intern(sku);
                    }
                    if let Some(category) = category {
                        self.categories.intern(category);
                    }
                }
                Predicate::Tag(tag) => {
                    self.tag_names.intern(tag);
                }
                Predicate::UnusedCoupons {
                    template: Some(template),
                    ..
                } => {
                    self.templates.intern(template);
                }
                Predicate::Consent(_)
                | Predicate::Segment(_)
                | Predicate::PointsExpiring { .. }
                | Predicate::UnusedCoupons { .. } => {}
            }
        }
    }
}

#[cfg(test)]
impl Names {
    fn name(&self, id: u32) -> &str {
        self.ids
            .iter()
            .find(|(_, i)| **i == id)
            .map_or("-", |(name, _)| name.as_str())
    }
}

#[cfg(test)]
impl AudienceTable {
    /// Member `m`'s facts with their names, in a canonical order, for comparing tables built
    /// different ways.
    pub(crate) fn canonical(&self, m: usize) -> String {
        let rows = self.rows(m);
        let days: Vec<i32> = rows.orders().map(|o| o.row.day).collect();
        assert!(
            days.is_sorted(),
            "member {m}'s orders are out of day order: {days:?}"
        );
        let mut orders: Vec<String> = rows
            .orders()
            .map(|o| {
                let mut lines: Vec<_> = o
                    .lines
                    .iter()
                    .map(|l| {
                        (
                            self.skus.name(l.sku),
                            self.categories.name(l.category),
                            l.amount,
                        )
                    })
                    .collect();
                lines.sort_unstable();
                let mut returns = o.returns.to_vec();
                returns.sort_unstable();
                let r = o.row;
                format!(
                    "{}:{}:{}:{}:{}:{}:{lines:?}:{returns:?}",
                    r.key,
                    r.day,
                    r.cancelled_from,
                    r.amount,
                    self.stores.name(r.store),
                    r.channel
                )
            })
            .collect();
        orders.sort();
        let mut events: Vec<_> = rows
            .events()
            .map(|e| {
                (
                    e.day,
                    e.kind,
                    self.skus.name(e.sku),
                    self.categories.name(e.category),
                )
            })
            .collect();
        events.sort_unstable();
        let mut interactions: Vec<(i32, u8)> = rows.interactions().copied().collect();
        interactions.sort_unstable();
        let mut tags: Vec<&str> = rows.tags.iter().map(|t| self.tag_names.name(*t)).collect();
        tags.sort_unstable();
        let mut lots: Vec<(i32, i32, i64)> = self
            .lots
            .get(m)
            .iter()
            .map(|l| (l.available_on, l.expires_on, l.remaining))
            .collect();
        lots.sort_unstable();
        let mut coupons: Vec<(&str, i32, i32)> = self
            .coupons
            .get(m)
            .iter()
            .map(|c| (self.templates.name(c.template), c.valid_from, c.valid_until))
            .collect();
        coupons.sort_unstable();
        format!(
            "{}/{}/{}/{}/{}/{} {orders:?} {events:?} {interactions:?} {tags:?} tier {} {lots:?} \
             {coupons:?}",
            self.profile[m].gender,
            self.profile[m].birthday,
            self.regions.name(self.profile[m].region),
            self.profile[m].joined,
            self.stores.name(self.profile[m].home_store),
            self.profile[m].consent,
            self.tier[m],
        )
    }
}

/// One order with its lines and returns.
pub(crate) struct OrderView<'a> {
    pub(crate) row: &'a OrderRow,
    pub(crate) lines: &'a [LineRow],
    pub(crate) returns: &'a [(i32, i64)],
}
