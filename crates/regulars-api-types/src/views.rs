//! Response bodies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ErrorBody;

/// What became of one fact sent on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IngestResultView {
    /// The fact's id.
    pub id: String,
    /// `created`, `updated` or `duplicate`.
    pub outcome: String,
}

/// What became of one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchItemView {
    /// Its position in `items`, from 0.
    pub index: usize,
    /// Its id, when it had a readable one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `created`, `updated`, `duplicate` or `rejected`.
    pub outcome: String,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// What became of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BatchResultView {
    /// Items received.
    pub received: usize,
    /// Items stored as new.
    pub created: usize,
    /// Items that updated a stored one.
    pub updated: usize,
    /// Items stored already.
    pub duplicates: usize,
    /// Items refused; each has an `error` in `results`.
    pub rejected: usize,
    /// One entry per item, in order.
    pub results: Vec<BatchItemView>,
}

/// A store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoreView {
    /// Its id.
    pub store_id: String,
    /// Its name.
    pub name: String,
    /// `online` or `offline`.
    pub channel: String,
    /// IANA time zone.
    pub time_zone: String,
    /// True when an order named it before it was described.
    pub created_from_order: bool,
}

/// Consent on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentView {
    /// `line`, `sms`, `email` or `push`.
    pub channel: String,
    /// Granted or not.
    pub granted: bool,
    /// When it was given or withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// How.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A member's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// The brand's id.
    pub member_id: String,
    /// Display name.
    pub name: Option<String>,
    /// Phone, E.164.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// LINE user id.
    pub line_user_id: Option<String>,
    /// Birthday.
    pub birthday: Option<String>,
    /// Gender.
    pub gender: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// When they joined.
    pub joined_at: Option<String>,
    /// Home store.
    pub home_store_id: Option<String>,
    /// Who referred them.
    pub referrer_id: Option<String>,
    /// Consent per channel.
    pub consents: Vec<ConsentView>,
    /// `order`, `interaction` or `event` when a fact named them before their profile arrived.
    pub created_from: Option<String>,
    /// How many profile changes were applied.
    pub revision: i64,
}

/// An order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderLineView {
    /// Line number.
    pub line_no: u32,
    /// Product.
    pub sku: String,
    /// Product name.
    pub name: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// How many.
    pub quantity: u32,
    /// Price of one, minor units.
    pub unit_price: i64,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    /// Its id.
    pub order_id: String,
    /// Who placed it.
    pub member_id: String,
    /// Where.
    pub store_id: Option<String>,
    /// When.
    pub placed_at: String,
    /// `paid`, `completed` or `cancelled`.
    pub status: String,
    /// When it took that status.
    pub status_at: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Paid, minor units.
    pub amount: i64,
    /// Discounts, minor units.
    pub discount: i64,
    /// Shipping, minor units.
    pub shipping: i64,
    /// Coupon codes used.
    pub coupon_codes: Vec<String>,
    /// The basket.
    pub lines: Vec<OrderLineView>,
}

/// A returned product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReturnLineView {
    /// Product.
    pub sku: String,
    /// How many.
    pub quantity: u32,
}

/// A return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReturnView {
    /// Its id.
    pub return_id: String,
    /// The order.
    pub order_id: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Refunded, minor units.
    pub amount: i64,
    /// When it completed.
    pub completed_at: String,
    /// Products returned.
    pub lines: Vec<ReturnLineView>,
}

/// An interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InteractionView {
    /// Its id.
    pub interaction_id: String,
    /// When.
    pub at: String,
    /// Where.
    pub channel: String,
    /// What kind.
    pub kind: String,
}

/// A behaviour event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// Its id.
    pub event_id: String,
    /// When.
    pub at: String,
    /// What.
    pub kind: String,
    /// Product.
    pub sku: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Search text.
    pub query: Option<String>,
}

/// A member with their facts, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberFactsView {
    /// The profile.
    pub member: MemberView,
    /// Every order, with lines.
    pub orders: Vec<OrderView>,
    /// Every return against those orders.
    pub returns: Vec<ReturnView>,
    /// The most recent interactions (at most `limit`).
    pub interactions: Vec<InteractionView>,
    /// The most recent behaviour events (at most `limit`).
    pub events: Vec<EventView>,
}

/// How many of each fact kind are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatsView {
    /// Members.
    pub members: u64,
    /// Stores.
    pub stores: u64,
    /// Orders.
    pub orders: u64,
    /// Order lines.
    pub order_lines: u64,
    /// Returns.
    pub returns: u64,
    /// Interactions.
    pub interactions: u64,
    /// Behaviour events.
    pub events: u64,
}

/// The service's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HealthView {
    /// `ok` or `degraded`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// True when the database answered.
    pub database: bool,
}

/// A newly made API key; the token is shown once and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyCreatedView {
    /// The key's public id.
    pub key_id: String,
    /// Its role.
    pub role: String,
    /// The bearer token to send as `Authorization: Bearer …`.
    pub token: String,
}

/// How many members one segment holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SegmentCountView {
    /// The segment's canonical name.
    pub segment: String,
    /// Its Traditional Chinese label.
    pub label_zh: String,
    /// Members in it.
    pub members: u64,
    /// Its share of all members, 0 to 1.
    pub share: f64,
}

/// Members per segment of one model, as of a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SegmentCountsView {
    /// `rfm`, `rfm8`, `nesl`, `rfim` or `lifecycle`.
    pub model: String,
    /// The day evaluated (the end of it), in the brand's zone.
    pub as_of: String,
    /// All members.
    pub members: u64,
    /// The store repurchase cycle `C` used, in days.
    pub store_cycle_days: i64,
    /// Every segment with members, by name.
    pub segments: Vec<SegmentCountView>,
}

/// One model's verdict on a member, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModelVerdictView {
    /// `rfm`, `rfm8`, `nesl`, `rfim` or `lifecycle`.
    pub model: String,
    /// The segment's canonical name.
    pub segment: String,
    /// Its Traditional Chinese label.
    pub label_zh: String,
    /// The inputs, thresholds and rule that placed the member, in one sentence.
    pub explanation: String,
}

/// A member's segments in every model, as of a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MemberSegmentsView {
    /// The member.
    pub member_id: String,
    /// The day evaluated.
    pub as_of: String,
    /// Days since the last purchase; absent for members who never bought.
    pub recency_days: Option<i64>,
    /// Purchase-days in the last 365 days.
    pub frequency: u32,
    /// Net spend in the last 365 days, minor units.
    pub monetary: i64,
    /// The member's repurchase cycle in days; absent for members who never bought.
    pub cycle_days: Option<f64>,
    /// R, F and M scores as `[r, f, m]`; absent for members who never bought.
    pub rfm_scores: Option<[u8; 3]>,
    /// Every model's verdict.
    pub models: Vec<ModelVerdictView>,
}

/// A page of the members of one segment, in id order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SegmentMembersView {
    /// The model.
    pub model: String,
    /// The segment.
    pub segment: String,
    /// The day evaluated.
    pub as_of: String,
    /// Members in the segment in all.
    pub total: u64,
    /// This page's member ids.
    pub members: Vec<String>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<String>,
}

/// One member's move from one segment of a model to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransitionView {
    /// Its position in the log (pass the last as `after` for the next page).
    pub seq: i64,
    /// The member.
    pub member_id: String,
    /// The model.
    pub model: String,
    /// The segment left.
    pub from: String,
    /// The segment entered.
    pub to: String,
    /// The brand's civil day it happened on.
    pub day: String,
    /// When it was recorded (RFC 3339).
    pub at: String,
    /// What moved the member: `order:ID`, `return:ID`, `interaction:ID`, `member:ID`, `time`
    /// (days passed), `recompute` (new cut points) or `restart` (caught up at startup).
    pub cause: String,
}

/// A page of the transition log, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TransitionsView {
    /// The transitions.
    pub transitions: Vec<TransitionView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<i64>,
}

/// Members who were in one segment on one snapshot day and in another on a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MigrationCellView {
    /// The segment on the first day.
    pub from: String,
    /// The segment on the second day.
    pub to: String,
    /// How many members.
    pub members: u64,
}

/// A migration matrix between two daily snapshots of one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MigrationView {
    /// The model.
    pub model: String,
    /// The first snapshot day.
    pub from: String,
    /// The second snapshot day.
    pub to: String,
    /// The non-empty cells.
    pub cells: Vec<MigrationCellView>,
    /// Every day with a snapshot, oldest first.
    pub snapshot_days: Vec<String>,
}
