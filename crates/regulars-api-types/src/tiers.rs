//! Tiers and the member wallet: the programme with its ladder and member counts, where one
//! member stands, the tier change log, members near their next tier, and the wallet a brand's
//! app or LINE OA shows. Values of the `spend` metric are minor units of the brand's currency.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{CouponView, PointsBalanceView};

/// One level of the ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TierLevelView {
    /// Its name.
    pub name: String,
    /// What members see.
    pub title: String,
    /// The qualifying value that reaches it.
    pub entry: i64,
    /// The value over a term that keeps it.
    pub retain: i64,
    /// One order of at least this amount (minor units) reaches it at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_upgrade: Option<i64>,
    /// Orders earn points times this.
    pub points_multiplier: f64,
    /// The coupon template issued in the birthday month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday_coupon: Option<String>,
    /// Online orders ship free.
    pub free_shipping: bool,
    /// Points granted on reaching it.
    pub entry_points: i64,
    /// The coupon template issued on reaching it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_coupon: Option<String>,
    /// Members on it now (in the programme view).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<u64>,
}

/// The tier programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TierProgramView {
    /// `spend`, `points` or `orders`.
    pub metric: String,
    /// The rolling window, in days.
    pub window_days: u32,
    /// The term in months; absent: tiers never expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_months: Option<u32>,
    /// `term` or `rolling`.
    pub renewal_window: String,
    /// `to_qualifying` or `one_step`.
    pub downgrade: String,
    /// Days between a term's end and the renewal check.
    pub grace_days: u32,
    /// The ladder, base first, with the members on each level.
    pub levels: Vec<TierLevelView>,
}

/// One recorded tier change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierChangeView {
    /// Its place in the log.
    pub seq: i64,
    /// Whose.
    pub member_id: String,
    /// The brand day it took effect.
    pub day: String,
    /// The tier before.
    pub from_tier: String,
    /// The tier after.
    pub to_tier: String,
    /// `upgrade`, `fast_upgrade`, `renewal`, `downgrade` or `return_downgrade`.
    pub kind: String,
    /// The qualifying value that decided it.
    pub value: i64,
    /// The order that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The rule that decided it.
    pub reason: String,
    /// When it was recorded.
    pub recorded_at: String,
}

/// A page of the tier change log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierChangesView {
    /// The changes.
    pub changes: Vec<TierChangeView>,
    /// Pass as `before` for the next page (absent on the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// Where a member stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MemberTierView {
    /// The member.
    pub member_id: String,
    /// Their level.
    pub tier: TierLevelView,
    /// The current term's first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The current term's last day (absent: it does not expire).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// `spend`, `points` or `orders`.
    pub metric: String,
    /// The qualifying value over the rolling window today.
    pub value: i64,
    /// The next level up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_tier: Option<TierLevelView>,
    /// The value still missing to reach it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_next: Option<i64>,
    /// The value counted toward renewing the term so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_value: Option<i64>,
    /// The value still missing to renew (0 when met).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_renew: Option<i64>,
    /// The day the renewal is decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews_on: Option<String>,
    /// Their recorded changes, newest first.
    pub changes: Vec<TierChangeView>,
}

/// A member near their next tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NearTierMemberView {
    /// The member.
    pub member_id: String,
    /// Their tier.
    pub tier: String,
    /// The next one.
    pub next_tier: String,
    /// Their qualifying value.
    pub value: i64,
    /// What is missing.
    pub to_next: i64,
    /// The brand day it was evaluated.
    pub evaluated_on: String,
}

/// Members near their next tier, nearest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NearTierView {
    /// The members.
    pub members: Vec<NearTierMemberView>,
}

/// Which members to evaluate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierEvaluateRequest {
    /// These members; absent or empty: every member with an order.
    #[serde(default)]
    pub member_ids: Vec<String>,
}

/// What an evaluation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierEvaluationView {
    /// Members evaluated.
    pub members: u64,
    /// Tier changes recorded now.
    pub changes: u64,
    /// Entry rewards granted now.
    pub rewards: u64,
}

/// What a member's app shows: points, coupons usable now, tier and progress, referral code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WalletView {
    /// The member.
    pub member_id: String,
    /// The brand day it was read.
    pub today: String,
    /// Points: available, pending, expiring and owed.
    pub points: PointsBalanceView,
    /// Coupons usable today, soonest to end first.
    pub coupons: Vec<CouponView>,
    /// Their tier, when the brand has a programme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<WalletTierView>,
    /// Their referral code, when the brand runs referrals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_code: Option<String>,
}

/// The wallet's tier: the level and the progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WalletTierView {
    /// The level's name.
    pub name: String,
    /// What members see.
    pub title: String,
    /// The current term's last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The qualifying value now.
    pub value: i64,
    /// The next level's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_title: Option<String>,
    /// What is missing for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_next: Option<i64>,
    /// What is missing to renew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_renew: Option<i64>,
    /// Orders earn points times this.
    pub points_multiplier: f64,
    /// Online orders ship free.
    pub free_shipping: bool,
}
