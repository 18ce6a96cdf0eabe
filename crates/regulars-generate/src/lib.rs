//! A realistic, deterministic brand for demos, tests and benchmarks: a coffee chain with a dozen
//! stores and an online shop, whose members join over two years and buy with their own rhythm.
//!
//! Every member is generated from the seed and their own index alone, so a member is the same
//! whatever the brand's size, and generation streams: nothing holds the whole brand in memory.
//! What it models: Pareto-like value (the top fifth of buyers bring most of the revenue), a
//! purchase rhythm per member, members drifting to sleep and some coming back, Lunar New Year
//! and Mid-Autumn gift buying, baskets from a menu with categories, some returns, LINE and
//! social interactions (including members who interact but never buy), and browse, favourite
//! and cart events (including abandoned carts).

mod catalogue;
mod rng;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use regulars_domain::{
    BehaviourEvent, Consent, ConsentChannel, Currency, Email, EventId, EventKind, Gender,
    Interaction, InteractionChannel, InteractionId, InteractionKind, LineUserId, MemberId,
    MemberProfile, Money, NewReturn, Order, OrderId, OrderLine, OrderStatus, Phone, ReturnId,
    ReturnLine, Sku, Store, StoreChannel, StoreId,
};

pub use catalogue::{Item, MENU, STORES};
pub use rng::Rng;

/// How long the generated history is, in days, ending on `BrandSpec::end`.
pub const HISTORY_DAYS: i64 = 730;

/// What to generate.
#[derive(Debug, Clone)]
pub struct BrandSpec {
    /// How many members.
    pub members: u32,
    /// The seed: the same seed (and end date) gives the same brand.
    pub seed: u64,
    /// The last day of history, in the brand's zone: facts run through the end of it, so pass a
    /// day that is over (yesterday) to keep every fact in the past.
    pub end: Date,
    /// The brand's time zone.
    pub zone: TimeZone,
}

/// One member and everything they did.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedMember {
    /// The profile.
    pub profile: MemberProfile,
    /// Their orders, with lines, oldest first.
    pub orders: Vec<Order>,
    /// Returns against their orders.
    pub returns: Vec<NewReturn>,
    /// Their interactions.
    pub interactions: Vec<Interaction>,
    /// Their behaviour events.
    pub events: Vec<BehaviourEvent>,
}

/// The online shop's store id.
pub const ONLINE_STORE: &str = "WEB";

/// The chain's stores: the physical ones and the online shop.
pub fn stores(spec: &BrandSpec) -> Vec<Store> {
    let mut stores: Vec<Store> = STORES
        .iter()
        .map(|(id, name, _)| Store {
            store_id: StoreId::parse(id).expect("valid id"),
            name: (*name).to_owned(),
            channel: StoreChannel::Offline,
            time_zone: spec.zone.clone(),
            created_from_order: false,
        })
        .collect();
    stores.push(Store {
        store_id: StoreId::parse(ONLINE_STORE).expect("valid id"),
        name: "線上商店 Online shop".to_owned(),
        channel: StoreChannel::Online,
        time_zone: spec.zone.clone(),
        created_from_order: false,
    });
    stores
}

/// Every member, in index order.
pub fn members(spec: &BrandSpec) -> impl Iterator<Item = GeneratedMember> + '_ {
    (0..spec.members).map(move |index| member(spec, index))
}

/// Lunar New Year and Mid-Autumn Festival dates, when gift buying peaks.
const FESTIVALS: &[(i16, i8, i8)] = &[
    (2023, 1, 22),
    (2023, 9, 29),
    (2024, 2, 10),
    (2024, 9, 17),
    (2025, 1, 29),
    (2025, 10, 6),
    (2026, 2, 17),
    (2026, 9, 25),
    (2027, 2, 6),
    (2027, 9, 15),
    (2028, 1, 26),
    (2028, 10, 3),
];

struct Calendar<'a> {
    spec: &'a BrandSpec,
    first: Date,
}

impl Calendar<'_> {
    /// The date of day `offset` (0 is the first day of history).
    fn date(&self, offset: i64) -> Date {
        self.first
            .checked_add(jiff::Span::new().days(offset))
            .expect("in range")
    }

    fn instant(&self, offset: i64, minute_of_day: i64) -> Timestamp {
        let time = Time::new((minute_of_day / 60) as i8, (minute_of_day % 60) as i8, 0, 0)
            .expect("valid time");
        self.date(offset)
            .to_datetime(time)
            .to_zoned(self.spec.zone.clone())
            .expect("valid zone")
            .timestamp()
    }

    /// True when day `offset` falls in the two weeks before a festival.
    fn before_festival(&self, offset: i64) -> bool {
        let date = self.date(offset);
        FESTIVALS.iter().any(|&(y, m, d)| {
            let festival = Date::new(y, m, d).expect("valid date");
            (0..14).contains(&(festival - date).get_days())
        })
    }
}

/// How a member relates to the brand.
#[derive(Clone, Copy, PartialEq)]
enum Persona {
    /// Signed up, never bought, barely interacts.
    Dormant,
    /// Interacts (LINE, social, visits) but never buys.
    Engaged,
    /// Buys.
    Buyer,
}

/// Generates member `index` (from 0).
pub fn member(spec: &BrandSpec, index: u32) -> GeneratedMember {
    let mut rng = Rng::new(spec.seed, u64::from(index) + 1);
    let calendar = Calendar {
        spec,
        first: spec
            .end
            .checked_sub(jiff::Span::new().days(HISTORY_DAYS - 1))
            .expect("in range"),
    };
    let member_id = MemberId::parse(&format!("M{:07}", index + 1)).expect("valid id");
    let last = HISTORY_DAYS - 1;
    // More members join lately: the brand grows.
    let join_day = last - (HISTORY_DAYS as f64 * rng.unit().powf(1.4)) as i64;
    let persona = match rng.unit() {
        u if u < 0.12 => Persona::Dormant,
        u if u < 0.20 => Persona::Engaged,
        _ => Persona::Buyer,
    };
    let home = rng.range(0, STORES.len() as i64) as usize;
    let online_share = if rng.chance(0.15) {
        0.6 + 0.4 * rng.unit()
    } else {
        0.25 * rng.unit().powi(2)
    };
    let profile = profile(&mut rng, &calendar, &member_id, index, join_day, home);

    let mut orders = Vec::new();
    if persona == Persona::Buyer {
        orders = purchases(
            &mut rng,
            &calendar,
            &member_id,
            &profile,
            join_day,
            home,
            online_share,
        );
    }
    let returns = returns(&mut rng, &calendar, &orders);
    let interactions = interactions(&mut rng, &calendar, &member_id, persona, join_day);
    let events = events(
        &mut rng,
        &calendar,
        &member_id,
        persona,
        join_day,
        online_share,
        &orders,
    );
    GeneratedMember {
        profile,
        orders,
        returns,
        interactions,
        events,
    }
}

fn profile(
    rng: &mut Rng,
    calendar: &Calendar<'_>,
    member_id: &MemberId,
    index: u32,
    join_day: i64,
    home: usize,
) -> MemberProfile {
    const SURNAMES: &[&str] = &[
        "陳", "林", "黃", "張", "李", "王", "吳", "劉", "蔡", "楊", "許", "鄭", "謝", "郭", "洪",
        "曾",
    ];
    const GIVEN: &[&str] = &[
        "怡君", "雅婷", "家豪", "志明", "淑芬", "冠宇", "宜蓁", "俊傑", "佳穎", "承翰", "詩涵",
        "建宏", "欣怡", "宗翰", "美玲", "柏翰",
    ];
    const DOMAINS: &[&str] = &[
        "gmail.com",
        "yahoo.com.tw",
        "hotmail.com",
        "outlook.com",
        "icloud.com",
    ];
    const SOURCES: &[&str] = &["signup_form", "pos", "app"];
    let mut profile = MemberProfile::empty(member_id.clone());
    profile.name = Some(format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN)));
    let number = 10_000_000 + (u64::from(index) * 7_919 + rng.range(0, 7_919) as u64) % 90_000_000;
    profile.phone = Phone::parse(&format!("09{number:08}")).ok();
    if rng.chance(0.7) {
        profile.email = Email::parse(&format!("member{:07}@{}", index + 1, rng.pick(DOMAINS))).ok();
    }
    let line_follower = rng.chance(0.62);
    if line_follower {
        profile.line_user_id =
            LineUserId::parse(&format!("U{:016x}{:016x}", rng.next_u64(), rng.next_u64())).ok();
    }
    let year = rng.range(1962, 2007) as i16;
    profile.birthday = Date::new(year, rng.range(1, 13) as i8, rng.range(1, 29) as i8).ok();
    profile.gender = Some(match rng.unit() {
        u if u < 0.58 => Gender::Female,
        u if u < 0.97 => Gender::Male,
        _ => Gender::Other,
    });
    profile.region = Some(STORES[home].2.to_owned());
    let joined_at = calendar.instant(join_day, rng.range(8 * 60, 22 * 60));
    profile.joined_at = Some(joined_at);
    profile.home_store = StoreId::parse(STORES[home].0).ok();
    if index > 50 && rng.chance(0.06) {
        profile.referrer = MemberId::parse(&format!("M{:07}", rng.range(1, i64::from(index)))).ok();
    }
    let source = (*rng.pick(SOURCES)).to_owned();
    for (channel, p) in [
        (ConsentChannel::Line, 0.9),
        (ConsentChannel::Sms, 0.45),
        (ConsentChannel::Email, 0.5),
        (ConsentChannel::Push, 0.3),
    ] {
        let has_address = match channel {
            ConsentChannel::Line => line_follower,
            ConsentChannel::Email => profile.email.is_some(),
            _ => true,
        };
        if has_address {
            profile.set_consent(Consent {
                channel,
                granted: rng.chance(p),
                at: Some(joined_at),
                source: Some(if channel == ConsentChannel::Line {
                    "line_follow".to_owned()
                } else {
                    source.clone()
                }),
            });
        }
    }
    profile
}

fn purchases(
    rng: &mut Rng,
    calendar: &Calendar<'_>,
    member_id: &MemberId,
    profile: &MemberProfile,
    join_day: i64,
    home: usize,
    online_share: f64,
) -> Vec<Order> {
    let last = HISTORY_DAYS - 1;
    // Value: heavy-tailed; valuable members come more often and buy more each time.
    let value = rng.pareto(1.3).min(40.0);
    let mean_gap = (55.0 / value.powf(0.9)).clamp(3.0, 150.0) * (0.3 * rng.normal()).exp();
    let basket_factor = 1.0 + 0.35 * value.ln();
    let sleep_chance = 0.025 + 0.09 / value;
    let birthday_month = profile.birthday.map(|b| b.month());

    let mut orders = Vec::new();
    let mut day = join_day + rng.exponential(4.0) as i64;
    let mut seq = 0u32;
    while day <= last {
        let same_day_orders = if rng.chance(0.05) { 2 } else { 1 };
        for _ in 0..same_day_orders {
            seq += 1;
            let online = rng.chance(online_share);
            let gift = calendar.before_festival(day) && rng.chance(0.35);
            orders.push(order(
                rng,
                calendar,
                member_id,
                seq,
                day,
                home,
                online,
                gift,
                basket_factor,
                birthday_month,
            ));
        }
        if calendar.before_festival(day) && rng.chance(0.25) && day < last {
            // An extra gift run before the holiday.
            seq += 1;
            let online = rng.chance(0.5);
            orders.push(order(
                rng,
                calendar,
                member_id,
                seq,
                day + 1,
                home,
                online,
                true,
                basket_factor,
                birthday_month,
            ));
        }
        let gap = (mean_gap * (0.5 * rng.normal()).exp()).round().max(1.0) as i64;
        day += gap;
        if rng.chance(sleep_chance) {
            // Drift to sleep; about a third come back much later.
            if rng.chance(0.35) {
                day += 90 + rng.exponential(150.0) as i64;
            } else {
                break;
            }
        }
    }
    orders
}

#[allow(clippy::too_many_arguments)]
fn order(
    rng: &mut Rng,
    calendar: &Calendar<'_>,
    member_id: &MemberId,
    seq: u32,
    day: i64,
    home: usize,
    online: bool,
    gift: bool,
    basket_factor: f64,
    birthday_month: Option<i8>,
) -> Order {
    let twd = Currency::TWD;
    let last = HISTORY_DAYS - 1;
    let day = day.min(last);
    let store = if online {
        ONLINE_STORE
    } else if rng.chance(0.85) {
        STORES[home].0
    } else {
        rng.pick(STORES).0
    };
    let placed_at = calendar.instant(
        day,
        if online {
            rng.range(0, 24 * 60)
        } else {
            rng.range(7 * 60, 21 * 60)
        },
    );
    let n_lines =
        (1.0 + rng.exponential(basket_factor * if online { 1.2 } else { 0.8 })).min(6.0) as usize;
    let mut lines: Vec<OrderLine> = Vec::new();
    for _ in 0..n_lines {
        let category = if gift {
            *rng.pick(&["beans", "merchandise", "pastry"])
        } else if online {
            *rng.pick(&["beans", "beans", "coffee", "merchandise", "pastry"])
        } else {
            *rng.pick(&[
                "coffee", "coffee", "coffee", "tea", "pastry", "pastry", "beans",
            ])
        };
        let items: Vec<&Item> = MENU
            .iter()
            .filter(|item| item.category == category)
            .collect();
        let item = *rng.pick(&items);
        if let Some(existing) = lines.iter_mut().find(|l| l.sku.as_str() == item.sku) {
            existing.quantity += 1;
            continue;
        }
        lines.push(OrderLine {
            line_no: lines.len() as u32 + 1,
            sku: Sku::parse(item.sku).expect("valid sku"),
            name: Some(item.name.to_owned()),
            category: Some(item.category.to_owned()),
            quantity: if rng.chance(0.12) { 2 } else { 1 },
            unit_price: Money::from_minor(item.price * 100, twd),
        });
    }
    let subtotal: i64 = lines
        .iter()
        .map(|l| l.unit_price.minor() * i64::from(l.quantity))
        .sum();
    let mut coupon_codes = Vec::new();
    let mut discount = 0;
    if seq == 1 && rng.chance(0.3) {
        coupon_codes.push("WELCOME10".to_owned());
        discount = subtotal / 10 / 100 * 100;
    } else if birthday_month == Some(calendar.date(day).month())
        && rng.chance(0.3)
        && subtotal > 10_000
    {
        coupon_codes.push("BDAY50".to_owned());
        discount = 5_000;
    }
    let shipping = if online && subtotal - discount < 80_000 {
        8_000
    } else {
        0
    };
    let status = if rng.chance(0.015) {
        OrderStatus::Cancelled
    } else if day >= last - 2 {
        OrderStatus::Paid
    } else {
        OrderStatus::Completed
    };
    let status_at = match status {
        OrderStatus::Paid => placed_at,
        OrderStatus::Cancelled => placed_at + jiff::SignedDuration::from_mins(rng.range(5, 120)),
        OrderStatus::Completed => {
            placed_at
                + jiff::SignedDuration::from_mins(if online {
                    rng.range(24 * 60, 3 * 24 * 60)
                } else {
                    5
                })
        }
    };
    Order {
        order_id: OrderId::parse(&format!("O{}-{seq:04}", &member_id.as_str()[1..]))
            .expect("valid id"),
        member_id: member_id.clone(),
        store_id: StoreId::parse(store).ok(),
        placed_at,
        status,
        status_at: Some(status_at),
        amount: Money::from_minor(subtotal - discount + shipping, twd),
        discount: Money::from_minor(discount, twd),
        shipping: Money::from_minor(shipping, twd),
        coupon_codes,
        lines,
    }
}

fn returns(rng: &mut Rng, calendar: &Calendar<'_>, orders: &[Order]) -> Vec<NewReturn> {
    let end = calendar.instant(HISTORY_DAYS - 1, 23 * 60 + 59);
    let mut out = Vec::new();
    for order in orders.iter().filter(|o| o.status == OrderStatus::Completed) {
        let online = order
            .store_id
            .as_ref()
            .is_some_and(|s| s.as_str() == ONLINE_STORE);
        if !rng.chance(if online { 0.03 } else { 0.006 }) {
            continue;
        }
        let completed_at =
            order.placed_at + jiff::SignedDuration::from_hours(rng.range(20, 6 * 24));
        if completed_at > end {
            continue;
        }
        let (amount, lines) = if order.lines.len() > 1 && rng.chance(0.6) {
            let line = rng.pick(&order.lines);
            let amount =
                (line.unit_price.minor() * i64::from(line.quantity)).min(order.amount.minor());
            (
                amount,
                vec![ReturnLine {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                }],
            )
        } else {
            (
                order.amount.minor(),
                order
                    .lines
                    .iter()
                    .map(|l| ReturnLine {
                        sku: l.sku.clone(),
                        quantity: l.quantity,
                    })
                    .collect(),
            )
        };
        out.push(NewReturn {
            return_id: ReturnId::parse(&format!("R{}", &order.order_id.as_str()[1..]))
                .expect("valid id"),
            order_id: order.order_id.clone(),
            amount: Money::from_minor(amount, order.amount.currency()),
            completed_at,
            lines,
        });
    }
    out
}

fn interactions(
    rng: &mut Rng,
    calendar: &Calendar<'_>,
    member_id: &MemberId,
    persona: Persona,
    join_day: i64,
) -> Vec<Interaction> {
    let last = HISTORY_DAYS - 1;
    let (count, from) = match persona {
        Persona::Dormant => (rng.range(0, 2), join_day),
        // Engaged non-buyers keep interacting lately, so they show as engaged.
        Persona::Engaged => (rng.range(3, 13), join_day.max(last - 75)),
        Persona::Buyer => (rng.exponential(5.0) as i64, join_day),
    };
    let mut out: Vec<Interaction> = (0..count)
        .map(|_| {
            let (channel, kind) = match rng.unit() {
                u if u < 0.25 => (InteractionChannel::Line, InteractionKind::Message),
                u if u < 0.45 => (InteractionChannel::Line, InteractionKind::Like),
                u if u < 0.55 => (InteractionChannel::Line, InteractionKind::Share),
                u if u < 0.68 => (
                    InteractionChannel::Instagram,
                    *rng.pick(&[InteractionKind::Like, InteractionKind::Comment]),
                ),
                u if u < 0.78 => (
                    InteractionChannel::Facebook,
                    *rng.pick(&[InteractionKind::Comment, InteractionKind::LiveView]),
                ),
                u if u < 0.92 => (InteractionChannel::Web, InteractionKind::Visit),
                _ => (InteractionChannel::Store, InteractionKind::Visit),
            };
            let at = calendar.instant(rng.range(from, last + 1), rng.range(8 * 60, 23 * 60));
            Interaction {
                interaction_id: InteractionId::parse(&format!(
                    "I{}-{:016x}",
                    &member_id.as_str()[1..],
                    rng.next_u64()
                ))
                .expect("valid id"),
                member_id: member_id.clone(),
                at,
                channel,
                kind,
            }
        })
        .collect();
    out.sort_by_key(|i| i.at);
    out
}

fn events(
    rng: &mut Rng,
    calendar: &Calendar<'_>,
    member_id: &MemberId,
    persona: Persona,
    join_day: i64,
    online_share: f64,
    orders: &[Order],
) -> Vec<BehaviourEvent> {
    let last = HISTORY_DAYS - 1;
    let browses =
        persona != Persona::Dormant && (online_share > 0.2 || persona == Persona::Engaged);
    if !browses {
        return Vec::new();
    }
    const QUERIES: &[&str] = &[
        "耶加雪菲",
        "冷萃",
        "掛耳包",
        "decaf",
        "保溫杯",
        "鳳梨酥禮盒",
        "拿鐵",
    ];
    let mut out = Vec::new();
    let mut push = |rng: &mut Rng, day: i64, kind: EventKind| {
        let item = rng.pick(MENU);
        let (sku, category, query) = match kind {
            EventKind::Search => (None, None, Some((*rng.pick(QUERIES)).to_owned())),
            _ => (
                Sku::parse(item.sku).ok(),
                Some(item.category.to_owned()),
                None,
            ),
        };
        out.push(BehaviourEvent {
            event_id: EventId::parse(&format!(
                "E{}-{:016x}",
                &member_id.as_str()[1..],
                rng.next_u64()
            ))
            .expect("valid id"),
            member_id: member_id.clone(),
            at: calendar.instant(day, rng.range(0, 24 * 60)),
            kind,
            sku,
            category,
            query,
        });
    };
    let count = rng.exponential(8.0) as i64;
    for _ in 0..count {
        let day = rng.range(join_day, last + 1);
        let kind = match rng.unit() {
            u if u < 0.55 => EventKind::View,
            u if u < 0.72 => EventKind::Search,
            u if u < 0.85 => EventKind::Favorite,
            u if u < 0.95 => EventKind::CartAdd,
            _ => EventKind::CheckoutStarted,
        };
        push(rng, day, kind);
    }
    // Some carts are abandoned in the last days: a cart add with no order after it.
    let last_order_day = orders.last().map_or(-1, |o| {
        (o.placed_at.to_zoned(calendar.spec.zone.clone()).date() - calendar.first).get_days() as i64
    });
    if rng.chance(0.12) && last_order_day < last - 5 {
        let day = rng.range(last - 5, last + 1);
        push(rng, day, EventKind::View);
        push(rng, day, EventKind::CartAdd);
    }
    out.sort_by_key(|e| e.at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(members: u32) -> BrandSpec {
        BrandSpec {
            members,
            seed: 42,
            end: Date::new(2026, 11, 22).unwrap(),
            zone: TimeZone::get("Asia/Taipei").unwrap(),
        }
    }

    #[test]
    fn a_seed_gives_the_same_brand_and_a_member_does_not_depend_on_brand_size() {
        let small: Vec<_> = members(&spec(50)).collect();
        let again: Vec<_> = members(&spec(50)).collect();
        assert_eq!(small, again);
        let large: Vec<_> = members(&spec(80)).take(50).collect();
        assert_eq!(small, large);
    }

    #[test]
    fn the_brand_looks_like_a_coffee_chain() {
        let spec = spec(3_000);
        let members: Vec<_> = members(&spec).collect();
        let end = spec
            .end
            .to_datetime(Time::MAX)
            .to_zoned(spec.zone)
            .unwrap()
            .timestamp();
        let mut spend: Vec<i64> = members
            .iter()
            .map(|m| m.orders.iter().map(|o| o.amount.minor()).sum())
            .collect();
        let buyers = spend.iter().filter(|s| **s > 0).count();
        let never_buy_but_interact = members
            .iter()
            .filter(|m| m.orders.is_empty() && m.interactions.len() >= 3)
            .count();
        assert!(buyers > 2_000 && buyers < 2_700, "{buyers} buyers");
        assert!(
            never_buy_but_interact > 100,
            "{never_buy_but_interact} engaged non-buyers"
        );
        // Pareto: the top fifth of buyers bring well over half of the revenue.
        spend.sort_unstable_by(|a, b| b.cmp(a));
        let total: i64 = spend.iter().sum();
        let top: i64 = spend[..buyers / 5].iter().sum();
        assert!(
            top * 100 / total > 55,
            "top fifth bring {}%",
            top * 100 / total
        );
        for member in &members {
            for order in &member.orders {
                assert!(order.placed_at <= end);
                assert!(order.cross_field_errors().is_empty());
                assert!(!order.lines.is_empty());
            }
            for item in &member.returns {
                let order = member
                    .orders
                    .iter()
                    .find(|o| o.order_id == item.order_id)
                    .unwrap();
                assert!(item.check_against(order, 0, &[]).is_ok());
            }
        }
        let returns: usize = members.iter().map(|m| m.returns.len()).sum();
        let carts = members
            .iter()
            .flat_map(|m| &m.events)
            .filter(|e| e.kind == EventKind::CartAdd)
            .count();
        assert!(returns > 0 && carts > 0);
    }
}
