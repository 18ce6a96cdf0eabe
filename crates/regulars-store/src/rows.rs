//! Rows as plain column values, and their conversion to and from domain types, shared by both
//! backends so that how a fact is laid out in a table is decided once.
//!
//! Instants are stored as Unix microseconds (`BIGINT`), civil dates as `YYYY-MM-DD` text, money
//! as minor units (`BIGINT`) beside a currency code, enums as their canonical names.

use anyhow::{Context as _, anyhow};
use jiff::Timestamp;
use regulars_domain::{
    ApiRole, BehaviourEvent, Consent, ConsentChannel, Currency, Email, EventId, EventKind,
    FactOrigin, Gender, Interaction, InteractionChannel, InteractionId, InteractionKind,
    LineUserId, Member, MemberId, MemberProfile, Money, NewReturn, Order, OrderId, OrderLine,
    OrderStatus, Phone, ReturnId, ReturnLine, Sku, Store as ShopStore, StoreChannel, StoreId,
    parse_date,
};

use crate::ApiKeyRecord;

/// Unix microseconds of an instant.
pub fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// The instant of Unix microseconds.
pub fn instant(micros: i64) -> anyhow::Result<Timestamp> {
    Timestamp::from_microsecond(micros).context("stored instant out of range")
}

fn parse<T>(
    what: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> anyhow::Result<T> {
    parse(value).map_err(|reason| anyhow!("stored {what} is invalid: {reason}"))
}

fn parse_opt<T>(
    what: &str,
    value: Option<String>,
    parser: impl Fn(&str) -> Result<T, String>,
) -> anyhow::Result<Option<T>> {
    value.map(|v| parse(what, &v, parser)).transpose()
}

/// A `stores` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRow {
    /// `store_id`
    pub store_id: String,
    /// `name`
    pub name: String,
    /// `channel`
    pub channel: String,
    /// `time_zone`
    pub time_zone: String,
    /// `created_from_order`
    pub created_from_order: bool,
}

impl From<&ShopStore> for StoreRow {
    fn from(store: &ShopStore) -> Self {
        Self {
            store_id: store.store_id.to_string(),
            name: store.name.clone(),
            channel: store.channel.as_str().to_owned(),
            time_zone: store.time_zone_name().to_owned(),
            created_from_order: store.created_from_order,
        }
    }
}

impl TryFrom<StoreRow> for ShopStore {
    type Error = anyhow::Error;
    fn try_from(row: StoreRow) -> anyhow::Result<Self> {
        Ok(Self {
            store_id: parse("store_id", &row.store_id, StoreId::parse)?,
            name: row.name,
            channel: parse("channel", &row.channel, StoreChannel::parse)?,
            time_zone: parse("time_zone", &row.time_zone, Self::parse_time_zone)?,
            created_from_order: row.created_from_order,
        })
    }
}

/// The store an order names before it is described: its id as its name, offline, in `zone`.
pub fn placeholder_store(store_id: &StoreId, zone: &str) -> StoreRow {
    StoreRow {
        store_id: store_id.to_string(),
        name: store_id.to_string(),
        channel: StoreChannel::Offline.as_str().to_owned(),
        time_zone: zone.to_owned(),
        created_from_order: true,
    }
}

/// The consent columns of one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentColumns {
    /// `consent_<channel>`
    pub granted: Option<bool>,
    /// `consent_<channel>_at`
    pub at: Option<i64>,
    /// `consent_<channel>_source`
    pub source: Option<String>,
}

/// A `members` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberRow {
    /// `member_id`
    pub member_id: String,
    /// `name`
    pub name: Option<String>,
    /// `phone`
    pub phone: Option<String>,
    /// `email`
    pub email: Option<String>,
    /// `line_user_id`
    pub line_user_id: Option<String>,
    /// `birthday`
    pub birthday: Option<String>,
    /// `gender`
    pub gender: Option<String>,
    /// `region`
    pub region: Option<String>,
    /// `joined_at`
    pub joined_at: Option<i64>,
    /// `home_store_id`
    pub home_store_id: Option<String>,
    /// `referrer_id`
    pub referrer_id: Option<String>,
    /// The consent columns, in [`ConsentChannel::ALL`] order.
    pub consents: [ConsentColumns; 4],
    /// `created_from`
    pub created_from: Option<String>,
    /// `revision`
    pub revision: i64,
}

/// The member columns after `member_id`, in the order [`MemberRow`] lists them; both backends
/// write and read them in this order.
pub const MEMBER_COLUMNS: &str = "member_id, name, phone, email, line_user_id, birthday, gender, \
    region, joined_at, home_store_id, referrer_id, \
    consent_line, consent_line_at, consent_line_source, consent_sms, consent_sms_at, \
    consent_sms_source, consent_email, consent_email_at, consent_email_source, consent_push, \
    consent_push_at, consent_push_source, created_from, revision";

impl From<&Member> for MemberRow {
    fn from(member: &Member) -> Self {
        let p = &member.profile;
        let consents = ConsentChannel::ALL.map(|channel| match p.consent(channel) {
            Some(c) => ConsentColumns {
                granted: Some(c.granted),
                at: c.at.map(micros),
                source: c.source.clone(),
            },
            None => ConsentColumns::default(),
        });
        Self {
            member_id: p.member_id.to_string(),
            name: p.name.clone(),
            phone: p.phone.as_ref().map(ToString::to_string),
            email: p.email.as_ref().map(ToString::to_string),
            line_user_id: p.line_user_id.as_ref().map(|l| l.as_str().to_owned()),
            birthday: p.birthday.map(|d| d.to_string()),
            gender: p.gender.map(|g| g.as_str().to_owned()),
            region: p.region.clone(),
            joined_at: p.joined_at.map(micros),
            home_store_id: p.home_store.as_ref().map(ToString::to_string),
            referrer_id: p.referrer.as_ref().map(ToString::to_string),
            consents,
            created_from: member.created_from.map(|o| o.as_str().to_owned()),
            revision: member.revision,
        }
    }
}

impl TryFrom<MemberRow> for Member {
    type Error = anyhow::Error;
    fn try_from(row: MemberRow) -> anyhow::Result<Self> {
        let mut profile =
            MemberProfile::empty(parse("member_id", &row.member_id, MemberId::parse)?);
        profile.name = row.name;
        profile.phone = parse_opt("phone", row.phone, Phone::parse)?;
        profile.email = parse_opt("email", row.email, Email::parse)?;
        profile.line_user_id = parse_opt("line_user_id", row.line_user_id, LineUserId::parse)?;
        profile.birthday = parse_opt("birthday", row.birthday, parse_date)?;
        profile.gender = parse_opt("gender", row.gender, Gender::parse)?;
        profile.region = row.region;
        profile.joined_at = row.joined_at.map(instant).transpose()?;
        profile.home_store = parse_opt("home_store_id", row.home_store_id, StoreId::parse)?;
        profile.referrer = parse_opt("referrer_id", row.referrer_id, MemberId::parse)?;
        for (channel, columns) in ConsentChannel::ALL.into_iter().zip(row.consents) {
            if let Some(granted) = columns.granted {
                profile.set_consent(Consent {
                    channel,
                    granted,
                    at: columns.at.map(instant).transpose()?,
                    source: columns.source,
                });
            }
        }
        Ok(Self {
            profile,
            created_from: parse_opt("created_from", row.created_from, FactOrigin::parse)?,
            revision: row.revision,
        })
    }
}

/// A member that a fact named before its profile arrived.
pub fn placeholder_member(member_id: &MemberId, origin: FactOrigin) -> MemberRow {
    MemberRow::from(&Member {
        profile: MemberProfile::empty(member_id.clone()),
        created_from: Some(origin),
        revision: 0,
    })
}

/// An `orders` row (its lines are [`OrderLineRow`]s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// `order_id`
    pub order_id: String,
    /// `member_id`
    pub member_id: String,
    /// `store_id`
    pub store_id: Option<String>,
    /// `placed_at`
    pub placed_at: i64,
    /// `status`
    pub status: String,
    /// `status_at`
    pub status_at: i64,
    /// `currency`
    pub currency: String,
    /// `amount`
    pub amount: i64,
    /// `discount`
    pub discount: i64,
    /// `shipping`
    pub shipping: i64,
    /// `coupon_codes`, one per line
    pub coupon_codes: String,
}

impl From<&Order> for OrderRow {
    fn from(order: &Order) -> Self {
        Self {
            order_id: order.order_id.to_string(),
            member_id: order.member_id.to_string(),
            store_id: order.store_id.as_ref().map(ToString::to_string),
            placed_at: micros(order.placed_at),
            status: order.status.as_str().to_owned(),
            status_at: micros(order.status_at.unwrap_or(order.placed_at)),
            currency: order.amount.currency().to_string(),
            amount: order.amount.minor(),
            discount: order.discount.minor(),
            shipping: order.shipping.minor(),
            coupon_codes: coupon_codes_column(&order.coupon_codes).into_owned(),
        }
    }
}

/// The `coupon_codes` column of an order: its codes one per line, borrowed when there is at most
/// one (as there nearly always is), so a writer binding it copies nothing.
pub fn coupon_codes_column(codes: &[String]) -> std::borrow::Cow<'_, str> {
    match codes {
        [] => std::borrow::Cow::Borrowed(""),
        [code] => std::borrow::Cow::Borrowed(code.as_str()),
        codes => std::borrow::Cow::Owned(codes.join("\n")),
    }
}

impl OrderRow {
    /// The order, with `lines` as its basket.
    pub fn into_order(self, lines: Vec<OrderLine>) -> anyhow::Result<Order> {
        let currency = parse("currency", &self.currency, Currency::parse)?;
        Ok(Order {
            order_id: parse("order_id", &self.order_id, OrderId::parse)?,
            member_id: parse("member_id", &self.member_id, MemberId::parse)?,
            store_id: parse_opt("store_id", self.store_id, StoreId::parse)?,
            placed_at: instant(self.placed_at)?,
            status: parse("status", &self.status, OrderStatus::parse)?,
            status_at: Some(instant(self.status_at)?),
            amount: Money::from_minor(self.amount, currency),
            discount: Money::from_minor(self.discount, currency),
            shipping: Money::from_minor(self.shipping, currency),
            coupon_codes: self
                .coupon_codes
                .split('\n')
                .filter(|c| !c.is_empty())
                .map(ToOwned::to_owned)
                .collect(),
            lines,
        })
    }
}

/// An `order_lines` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLineRow {
    /// `order_id`
    pub order_id: String,
    /// `line_no`
    pub line_no: i64,
    /// `sku`
    pub sku: String,
    /// `name`
    pub name: Option<String>,
    /// `category`
    pub category: Option<String>,
    /// `quantity`
    pub quantity: i64,
    /// `unit_price`, minor units of the order's currency
    pub unit_price: i64,
}

impl OrderLineRow {
    /// The row of one line of `order_id`.
    pub fn new(order_id: &OrderId, line: &OrderLine) -> Self {
        Self {
            order_id: order_id.to_string(),
            line_no: i64::from(line.line_no),
            sku: line.sku.to_string(),
            name: line.name.clone(),
            category: line.category.clone(),
            quantity: i64::from(line.quantity),
            unit_price: line.unit_price.minor(),
        }
    }

    /// The line, priced in `currency`.
    pub fn into_line(self, currency: Currency) -> anyhow::Result<OrderLine> {
        Ok(OrderLine {
            line_no: u32::try_from(self.line_no).context("stored line_no out of range")?,
            sku: parse("sku", &self.sku, Sku::parse)?,
            name: self.name,
            category: self.category,
            quantity: u32::try_from(self.quantity).context("stored quantity out of range")?,
            unit_price: Money::from_minor(self.unit_price, currency),
        })
    }
}

/// A `returns` row; its lines are `(sku, quantity)` pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnRow {
    /// `return_id`
    pub return_id: String,
    /// `order_id`
    pub order_id: String,
    /// `currency`
    pub currency: String,
    /// `amount`
    pub amount: i64,
    /// `completed_at`
    pub completed_at: i64,
}

impl From<&NewReturn> for ReturnRow {
    fn from(item: &NewReturn) -> Self {
        Self {
            return_id: item.return_id.to_string(),
            order_id: item.order_id.to_string(),
            currency: item.amount.currency().to_string(),
            amount: item.amount.minor(),
            completed_at: micros(item.completed_at),
        }
    }
}

impl ReturnRow {
    /// The return with its lines.
    pub fn into_return(self, lines: Vec<(String, i64)>) -> anyhow::Result<NewReturn> {
        Ok(NewReturn {
            return_id: parse("return_id", &self.return_id, ReturnId::parse)?,
            order_id: parse("order_id", &self.order_id, OrderId::parse)?,
            amount: Money::from_minor(
                self.amount,
                parse("currency", &self.currency, Currency::parse)?,
            ),
            completed_at: instant(self.completed_at)?,
            lines: lines
                .into_iter()
                .map(|(sku, quantity)| {
                    Ok(ReturnLine {
                        sku: parse("sku", &sku, Sku::parse)?,
                        quantity: u32::try_from(quantity)
                            .context("stored quantity out of range")?,
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        })
    }
}

/// An `interactions` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionRow {
    /// `interaction_id`
    pub interaction_id: String,
    /// `member_id`
    pub member_id: String,
    /// `at`
    pub at: i64,
    /// `channel`
    pub channel: String,
    /// `kind`
    pub kind: String,
}

impl From<&Interaction> for InteractionRow {
    fn from(item: &Interaction) -> Self {
        Self {
            interaction_id: item.interaction_id.to_string(),
            member_id: item.member_id.to_string(),
            at: micros(item.at),
            channel: item.channel.as_str().to_owned(),
            kind: item.kind.as_str().to_owned(),
        }
    }
}

impl TryFrom<InteractionRow> for Interaction {
    type Error = anyhow::Error;
    fn try_from(row: InteractionRow) -> anyhow::Result<Self> {
        Ok(Self {
            interaction_id: parse("interaction_id", &row.interaction_id, InteractionId::parse)?,
            member_id: parse("member_id", &row.member_id, MemberId::parse)?,
            at: instant(row.at)?,
            channel: parse("channel", &row.channel, InteractionChannel::parse)?,
            kind: parse("kind", &row.kind, InteractionKind::parse)?,
        })
    }
}

/// A `behaviour_events` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// `event_id`
    pub event_id: String,
    /// `member_id`
    pub member_id: String,
    /// `at`
    pub at: i64,
    /// `kind`
    pub kind: String,
    /// `sku`
    pub sku: Option<String>,
    /// `category`
    pub category: Option<String>,
    /// `query`
    pub query: Option<String>,
}

impl From<&BehaviourEvent> for EventRow {
    fn from(item: &BehaviourEvent) -> Self {
        Self {
            event_id: item.event_id.to_string(),
            member_id: item.member_id.to_string(),
            at: micros(item.at),
            kind: item.kind.as_str().to_owned(),
            sku: item.sku.as_ref().map(ToString::to_string),
            category: item.category.clone(),
            query: item.query.clone(),
        }
    }
}

impl TryFrom<EventRow> for BehaviourEvent {
    type Error = anyhow::Error;
    fn try_from(row: EventRow) -> anyhow::Result<Self> {
        Ok(Self {
            event_id: parse("event_id", &row.event_id, EventId::parse)?,
            member_id: parse("member_id", &row.member_id, MemberId::parse)?,
            at: instant(row.at)?,
            kind: parse("kind", &row.kind, EventKind::parse)?,
            sku: parse_opt("sku", row.sku, Sku::parse)?,
            category: row.category,
            query: row.query,
        })
    }
}

/// An `api_keys` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    /// `key_id`
    pub key_id: String,
    /// `role`
    pub role: String,
    /// `secret_sha256`
    pub secret_sha256: String,
    /// `label`
    pub label: Option<String>,
    /// `created_at`
    pub created_at: i64,
    /// `revoked_at`
    pub revoked_at: Option<i64>,
}

impl From<&ApiKeyRecord> for ApiKeyRow {
    fn from(key: &ApiKeyRecord) -> Self {
        Self {
            key_id: key.key_id.clone(),
            role: key.role.as_str().to_owned(),
            secret_sha256: key.secret_sha256.clone(),
            label: key.label.clone(),
            created_at: micros(key.created_at),
            revoked_at: key.revoked_at.map(micros),
        }
    }
}

impl TryFrom<ApiKeyRow> for ApiKeyRecord {
    type Error = anyhow::Error;
    fn try_from(row: ApiKeyRow) -> anyhow::Result<Self> {
        Ok(Self {
            key_id: row.key_id,
            role: parse("role", &row.role, ApiRole::parse)?,
            secret_sha256: row.secret_sha256,
            label: row.label,
            created_at: instant(row.created_at)?,
            revoked_at: row.revoked_at.map(instant).transpose()?,
        })
    }
}

/// Numbers as a JSON array, for `json_each` (SQLite) and `jsonb_array_elements_text`.
pub fn json_numbers(numbers: &[i64]) -> String {
    let items: Vec<String> = numbers.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(","))
}

/// Ids as a JSON array of strings, for `json_each` / `jsonb_array_elements_text`.
pub fn json_array<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (idx, id) in ids.into_iter().enumerate() {
        if idx > 0 {
            out.push(',');
        }
        out.push('"');
        for c in id.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_arrays_escape_what_json_needs() {
        assert_eq!(json_array(["a", "b\"c", "d\\e"]), r#"["a","b\"c","d\\e"]"#);
        assert_eq!(json_array(std::iter::empty()), "[]");
    }

    #[test]
    fn a_member_survives_its_row() {
        let mut profile = MemberProfile::empty(MemberId::parse("M1").unwrap());
        profile.phone = Some(Phone::parse("0912345678").unwrap());
        profile.birthday = Some(parse_date("1990-07-04").unwrap());
        profile.set_consent(Consent {
            channel: ConsentChannel::Email,
            granted: true,
            at: Some("2024-01-01T00:00:00Z".parse().unwrap()),
            source: Some("signup".to_owned()),
        });
        let member = Member {
            profile,
            created_from: Some(FactOrigin::Order),
            revision: 3,
        };
        assert_eq!(Member::try_from(MemberRow::from(&member)).unwrap(), member);
    }
}
