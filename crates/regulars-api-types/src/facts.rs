//! Request bodies that carry facts. JSON Lines import files use the same shapes, one per line.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A store's description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreRequest {
    /// The brand's id for the store.
    pub store_id: String,
    /// Its name.
    pub name: String,
    /// `online` or `offline` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// IANA time zone; the brand's zone when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// Marketing consent on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// `line`, `sms`, `email` or `push`.
    pub channel: String,
    /// True when granted, false when refused or withdrawn.
    pub granted: bool,
    /// When it was given or withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// How (`signup_form`, `pos`, `line_follow`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A member's profile; fields left out keep their stored value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRequest {
    /// The brand's id for the member.
    pub member_id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone; Taiwanese local forms such as `0912-345-678` are accepted and stored as E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// LINE user id (`U` and 32 hex digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_user_id: Option<String>,
    /// Birthday, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// `female`, `male` or `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// City or county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// When the member joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_at: Option<String>,
    /// The member's home store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_store_id: Option<String>,
    /// The member who referred them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer_id: Option<String>,
    /// Marketing consent, at most one per channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consents: Vec<ConsentRequest>,
}

/// One line of an order's basket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineRequest {
    /// The line's number from 1; its position in the list when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_no: Option<i64>,
    /// The product.
    pub sku: String,
    /// The product's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The product's category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// How many, at least 1.
    pub quantity: i64,
    /// Price of one, minor units of the order's currency.
    pub unit_price: i64,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The brand's id for the order.
    pub order_id: String,
    /// Who placed it; an unknown member is created unless ingest is strict.
    pub member_id: String,
    /// Where it was placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    /// When: an RFC 3339 instant, a local date-time or a date (local forms in the store's zone).
    pub placed_at: String,
    /// `paid` (the default), `completed` or `cancelled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// When it took that status; `placed_at` for a new order when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_at: Option<String>,
    /// ISO 4217 code; the brand's currency when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// What the member paid (after discounts, shipping included), minor units.
    pub amount: i64,
    /// Discounts received, minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<i64>,
    /// Shipping included in `amount`, minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<i64>,
    /// Coupon codes used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coupon_codes: Vec<String>,
    /// The basket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<OrderLineRequest>,
}

/// An order line sent apart from its order (JSON Lines import of `order-lines`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderLineImportRequest {
    /// The order the line belongs to.
    pub order_id: String,
    /// The line.
    #[serde(flatten)]
    pub line: OrderLineRequest,
}

/// A returned product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineRequest {
    /// The product.
    pub sku: String,
    /// How many, at least 1.
    pub quantity: i64,
}

/// A completed return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// The brand's id for the return.
    pub return_id: String,
    /// The order returned against.
    pub order_id: String,
    /// Money refunded, minor units.
    pub amount: i64,
    /// ISO 4217 code; the brand's currency when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// When the return was completed.
    pub completed_at: String,
    /// The products returned; leave out for a whole-order or amount-only return.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<ReturnLineRequest>,
}

/// An interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionRequest {
    /// Its id; derived from the other fields when left out, so re-sending is harmless.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_id: Option<String>,
    /// Who.
    pub member_id: String,
    /// When.
    pub at: String,
    /// `line`, `facebook`, `instagram`, `store` or `web`.
    pub channel: String,
    /// `message`, `comment`, `like`, `share`, `live_view` or `visit`.
    pub kind: String,
}

/// A behaviour event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRequest {
    /// Its id; derived from the other fields when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Who.
    pub member_id: String,
    /// When.
    pub at: String,
    /// `view`, `cart_add`, `favorite`, `search` or `checkout_started`.
    pub kind: String,
    /// The product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The search text (for `search`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}
