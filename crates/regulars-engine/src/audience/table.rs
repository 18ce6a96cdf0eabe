//! The facts audiences read beyond the models' columns, member-major like `FactTable`: each
//! member's profile, orders with their store and lines, returns, behaviour events,
//! interactions and tags. Names (regions, stores, skus, categories, tags) are interned to small
//! integers once, so a scan compares integers.

use std::collections::HashMap;

use regulars_domain::{ConsentChannel, EventKind, Gender, InteractionChannel, StoreChannel};

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

    /// The id of `name`, or [`UNSEEN`].
    pub(crate) fn get(&self, name: &str) -> u32 {
        self.ids.get(name).copied().unwrap_or(UNSEEN)
    }
}

/// One member's facts, as the builder takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceMember {
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
    /// Orders, in any order.
    pub orders: Vec<AudienceOrder>,
    /// Behaviour events, in any order.
    pub events: Vec<AudienceEvent>,
    /// Interactions, in any order.
    pub interactions: Vec<(Day, InteractionChannel)>,
    /// Tags.
    pub tags: Vec<String>,
}

/// One order as audiences read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceOrder {
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

/// Every member's audience facts, in the engine's member order.
#[derive(Debug, Clone, Default)]
pub struct AudienceTable {
    pub(crate) gender: Vec<u8>,
    pub(crate) birthday: Vec<u32>,
    pub(crate) region: Vec<u32>,
    pub(crate) joined: Vec<i32>,
    pub(crate) home_store: Vec<u32>,
    pub(crate) consent: Vec<u8>,
    /// Member `m`'s orders are `orders[order_start[m]..order_start[m + 1]]`; each order's
    /// lines and returns run to the next order's start.
    pub(crate) order_start: Vec<u32>,
    pub(crate) orders: Vec<OrderRow>,
    pub(crate) lines: Vec<LineRow>,
    pub(crate) returns: Vec<(i32, i64)>,
    pub(crate) event_start: Vec<u32>,
    pub(crate) events: Vec<EventRow>,
    pub(crate) interaction_start: Vec<u32>,
    pub(crate) interactions: Vec<(i32, u8)>,
    pub(crate) tag_start: Vec<u32>,
    pub(crate) tags: Vec<u32>,
    pub(crate) regions: Names,
    pub(crate) stores: Names,
    pub(crate) skus: Names,
    pub(crate) categories: Names,
    pub(crate) tag_names: Names,
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

    /// How many members.
    pub fn len(&self) -> usize {
        self.gender.len()
    }

    /// True without members.
    pub fn is_empty(&self) -> bool {
        self.gender.is_empty()
    }

    /// Appends the next member (index [`Self::len`] before the call).
    pub fn push(&mut self, member: &AudienceMember) {
        self.gender.push(gender_code(member.gender));
        self.birthday.push(member.birthday.map_or(0, pack_birthday));
        self.region
            .push(self.regions.intern_opt(member.region.as_deref()));
        self.joined.push(member.joined.map_or(i32::MIN, |d| d.0));
        self.home_store
            .push(self.stores.intern_opt(member.home_store.as_deref()));
        self.consent.push(
            member
                .consents
                .iter()
                .fold(0, |bits, c| bits | consent_bit(*c)),
        );
        let mut orders: Vec<&AudienceOrder> = member.orders.iter().collect();
        orders.sort_by_key(|o| o.day);
        for order in orders {
            self.orders.push(OrderRow {
                day: order.day.0,
                cancelled_from: order.cancelled_from.0,
                amount: order.amount,
                store: self.stores.intern_opt(order.store.as_deref()),
                channel: store_channel_code(order.channel),
                lines: offset(self.lines.len()),
                returns: offset(self.returns.len()),
            });
            for (sku, category, amount) in &order.lines {
                let line = LineRow {
                    sku: self.skus.intern(sku),
                    category: self.categories.intern_opt(category.as_deref()),
                    amount: *amount,
                };
                self.lines.push(line);
            }
            self.returns
                .extend(order.returns.iter().map(|(day, amount)| (day.0, *amount)));
        }
        self.order_start.push(offset(self.orders.len()));
        for event in &member.events {
            let row = EventRow {
                day: event.day.0,
                kind: event_code(event.kind),
                sku: self.skus.intern_opt(event.sku.as_deref()),
                category: self.categories.intern_opt(event.category.as_deref()),
            };
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
        let mut tags: Vec<u32> = member
            .tags
            .iter()
            .map(|t| self.tag_names.intern(t))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        self.tags.extend(tags);
        self.tag_start.push(offset(self.tags.len()));
    }

    /// Member `m`'s orders, each with its lines and returns.
    pub(crate) fn orders_of(&self, m: usize) -> impl Iterator<Item = OrderView<'_>> + '_ {
        let (start, end) = (
            self.order_start[m] as usize,
            self.order_start[m + 1] as usize,
        );
        (start..end).map(move |o| {
            let row = &self.orders[o];
            let (line_end, return_end) = match self.orders.get(o + 1) {
                Some(next) => (next.lines as usize, next.returns as usize),
                None => (self.lines.len(), self.returns.len()),
            };
            OrderView {
                row,
                lines: &self.lines[row.lines as usize..line_end],
                returns: &self.returns[row.returns as usize..return_end],
            }
        })
    }

    pub(crate) fn events_of(&self, m: usize) -> &[EventRow] {
        &self.events[self.event_start[m] as usize..self.event_start[m + 1] as usize]
    }

    pub(crate) fn interactions_of(&self, m: usize) -> &[(i32, u8)] {
        &self.interactions
            [self.interaction_start[m] as usize..self.interaction_start[m + 1] as usize]
    }

    pub(crate) fn tags_of(&self, m: usize) -> &[u32] {
        &self.tags[self.tag_start[m] as usize..self.tag_start[m + 1] as usize]
    }
}

/// One order with its lines and returns.
pub(crate) struct OrderView<'a> {
    pub(crate) row: &'a OrderRow,
    pub(crate) lines: &'a [LineRow],
    pub(crate) returns: &'a [(i32, i64)],
}
