//! Coupons: templates, issuing, checking against a basket, redeeming and voiding, and the
//! views of templates (with their figures) and issued coupons. Amounts are integers of minor
//! units of the template's or basket's currency.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a coupon gives: `kind` and the fields that kind reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferJson {
    /// `amount_off` (`amount`), `percent_off` (`percent`, optional `cap`), `spend_threshold`
    /// (滿額折: `threshold`, `amount`, and `each: true` for 每滿), `quantity_threshold` (滿件折:
    /// `quantity`, `amount`), `free_item` (`sku`), `free_shipping` (optional `cap`),
    /// `buy_x_get_y` (`buy`, `get`, `percent`, 100 for free) or `store_credit` (購物金:
    /// `amount`).
    pub kind: String,
    /// The amount off, or the store credit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// Percent off, 1 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u32>,
    /// The most a percentage or free shipping takes off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<i64>,
    /// The spend a threshold discount needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
    /// With a spend threshold: take `amount` off for every whole `threshold`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub each: bool,
    /// The items a quantity threshold needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Buy X get Y: the items paid in full per group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy: Option<u32>,
    /// Buy X get Y: the items discounted per group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get: Option<u32>,
    /// The item a free-item coupon gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

/// Where a coupon applies; empty lists mean everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityJson {
    /// Only items of these categories count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Only these items count (beside the categories).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<String>,
    /// Only at these stores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stores: Vec<String>,
    /// Only `online` or only `offline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The eligible items must cost at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_spend: Option<i64>,
}

/// How long an issued coupon may be used: `days` from the day it is issued, or `from` and
/// `until` (both included, `YYYY-MM-DD`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidityJson {
    /// Days from issue, the issue day included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// The first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A coupon template, as saved with `PUT /api/v1/coupon-templates/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponTemplateRequest {
    /// What members see.
    pub title: String,
    /// The currency of its amounts (default the brand's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// What it gives.
    pub offer: OfferJson,
    /// Where it applies.
    #[serde(default)]
    pub eligibility: EligibilityJson,
    /// How long an issued coupon may be used.
    pub validity: ValidityJson,
    /// At most this many to one member (voided ones do not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_member: Option<u32>,
    /// At most this many in all (voided ones do not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u32>,
    /// The discounts it may be used with on one order: `order`, `product`, `shipping`
    /// (default none; both coupons must allow each other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combines_with: Option<Vec<String>>,
    /// Points a member may spend to get one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_cost: Option<i64>,
    /// `generated` (default: a unique code each) or `pool` (codes imported beforehand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes: Option<String>,
}

/// A template's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CouponStatsView {
    /// Coupons issued.
    pub issued: u64,
    /// Coupons used at least once.
    pub redeemed: u64,
    /// `redeemed / issued`, from 0 to 1 (0 when none were issued).
    pub redemption_rate: f64,
    /// Coupons voided.
    pub voided: u64,
    /// Discount given.
    pub discount: i64,
    /// What the orders they were used on paid (orders recorded and not cancelled).
    pub revenue: i64,
    /// Pool codes not issued yet.
    pub pool_left: u64,
}

/// A template with its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CouponTemplateView {
    /// Its name.
    pub name: String,
    /// The template as saved (defaults filled in).
    pub template: CouponTemplateRequest,
    /// How it has done.
    pub stats: CouponStatsView,
}

/// Every template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CouponTemplateListView {
    /// By name.
    pub templates: Vec<CouponTemplateView>,
}

/// Codes for a pool template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponCodesRequest {
    /// 4 to 32 of A-Z, 0-9 and `-` each (read without regard to case).
    pub codes: Vec<String>,
}

/// What adding pool codes did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponCodesAddedView {
    /// Codes new to the pool (codes already in a pool or issued are left out).
    pub added: u64,
}

/// Issue coupons of a template: to one member, or to every member of a saved audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponIssueRequest {
    /// The member (or give `audience`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// A saved audience: one coupon to each member now, each under `KEY:MEMBER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Required: the same key again issues nothing and answers the same.
    pub idempotency_key: String,
    /// What issued it (default `operator:api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Pay the template's `points_cost` from the member's points (one member only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub with_points: bool,
}

/// One use of a coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RedemptionView {
    /// The order.
    pub order_id: String,
    /// What it took off.
    pub discount: i64,
    /// The idempotency key it was made under.
    pub idempotency_key: String,
    /// The brand's day.
    pub day: String,
    /// When.
    pub at: String,
}

/// An issued coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponView {
    /// Its code.
    pub code: String,
    /// Its template.
    pub template: String,
    /// Whose it is.
    pub member_id: String,
    /// Today: `active`, `scheduled` (not valid yet), `expired`, `redeemed` or `voided`.
    pub state: String,
    /// Its first day.
    pub valid_from: String,
    /// Its last day.
    pub valid_until: String,
    /// Store credit left (0 for other offers).
    pub credit: i64,
    /// What issued it.
    pub cause: String,
    /// The key it was issued under.
    pub idempotency_key: String,
    /// When it was issued.
    pub issued_at: String,
    /// For an exchange, the key of the points it cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_key: Option<String>,
    /// Its uses (on reads of one coupon).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redemptions: Vec<RedemptionView>,
}

/// An issued coupon, and whether the key had issued it before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponIssuedView {
    /// The coupon.
    pub coupon: CouponView,
    /// True when nothing new was issued.
    pub replayed: bool,
}

/// A member who got no coupon, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponRefusedView {
    /// The member.
    pub member_id: String,
    /// Why.
    pub reason: String,
}

/// What issuing to an audience did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponBulkIssuedView {
    /// Coupons issued now.
    pub issued: u64,
    /// Members who had one from this key already.
    pub replayed: u64,
    /// Members who got none.
    pub refused: Vec<CouponRefusedView>,
}

/// A member's coupons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberCouponsView {
    /// The member.
    pub member_id: String,
    /// Newest first.
    pub coupons: Vec<CouponView>,
}

/// An item in a basket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BasketLineJson {
    /// The product.
    pub sku: String,
    /// Its category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// How many, at least 1.
    pub quantity: u32,
    /// The price of one.
    pub unit_price: i64,
}

/// What a member is about to buy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BasketJson {
    /// Its currency (default the brand's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The store; its channel is looked up when `channel` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    /// `online` or `offline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The items.
    pub lines: Vec<BasketLineJson>,
    /// The shipping fee.
    #[serde(default)]
    pub shipping: i64,
}

/// Check coupons against a basket, used together in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponCheckRequest {
    /// The member presenting them.
    pub member_id: String,
    /// Their codes.
    pub codes: Vec<String>,
    /// The basket.
    pub basket: BasketJson,
}

/// What one coupon takes off, or why it does not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponCheckView {
    /// The code as asked.
    pub code: String,
    /// Its template, when the coupon is the member's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// True when it applies.
    pub applies: bool,
    /// Off the items.
    pub items: i64,
    /// Off the shipping.
    pub shipping: i64,
    /// Why it does not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the coupons take off together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponChecksView {
    /// One per code, in order.
    pub checks: Vec<CouponCheckView>,
    /// All they take off.
    pub total: i64,
}

/// Redeem a coupon against an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponRedeemRequest {
    /// The member presenting it; only its owner may.
    pub member_id: String,
    /// The order it is used on.
    pub order_id: String,
    /// The order's basket: what the coupon takes off is worked out from it.
    pub basket: BasketJson,
    /// Required: the same key again redeems nothing and answers the same.
    pub idempotency_key: String,
}

/// A redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponRedeemedView {
    /// What it took off.
    pub discount: i64,
    /// The order.
    pub order_id: String,
    /// The coupon after it.
    pub coupon: CouponView,
    /// True when the key had redeemed it before and nothing new was used.
    pub replayed: bool,
}

/// Redeem several coupons on one order, all or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponsRedeemRequest {
    /// The member presenting them; only their owner may.
    pub member_id: String,
    /// The order they are used on.
    pub order_id: String,
    /// Their codes (1 to 10, any case), in the order they apply: each takes off what it gives
    /// the basket after the ones before it.
    pub codes: Vec<String>,
    /// The order's basket.
    pub basket: BasketJson,
    /// Required: each coupon is redeemed under `KEY/CODE`, so the same key again redeems
    /// nothing and answers the same.
    pub idempotency_key: String,
}

/// Coupons redeemed together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouponsRedeemedView {
    /// What they took off together.
    pub total: i64,
    /// The order.
    pub order_id: String,
    /// Each redemption, in the order asked.
    pub redemptions: Vec<CouponRedeemedView>,
    /// True when the key had redeemed all of them before and nothing new was used.
    pub replayed: bool,
}

/// Void a coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponVoidRequest {
    /// Why.
    pub reason: String,
}
