//! Points: a change to a member's points, and the ledger and balance views.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A change to a member's points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointsChangeRequest {
    /// `earn`, `redeem` or `adjust`.
    pub kind: String,
    /// Points: 1 or more to earn or redeem; above or below 0 to adjust.
    pub points: i64,
    /// Required: the same key again changes nothing and answers the same (1 to 200 characters,
    /// no spaces). A key used for a different change is `idempotency_key_reused`.
    pub idempotency_key: String,
    /// Why, in words.
    pub reason: String,
    /// What caused it: `order:ID`, `return:ID`, `campaign:NAME`, `journey:NAME` or
    /// `operator:WHO` (default `operator:api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointsEntryView {
    /// Its place in the ledger.
    pub seq: i64,
    /// `earn`, `redeem`, `expire`, `adjust`, `reverse` (taken back after a return or a
    /// cancellation) or `settle` (drawn from a new grant to pay off owed points).
    pub kind: String,
    /// Points added (above 0) or taken (below 0).
    pub points: i64,
    /// For a debit, the `seq` of the grant it draws on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<i64>,
    /// For a grant, the first day it may be spent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_on: Option<String>,
    /// For a grant, the first day it no longer counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    /// The idempotency key of the change.
    pub idempotency_key: String,
    /// Why.
    pub reason: String,
    /// What caused it.
    pub cause: String,
    /// The brand's day it was made on.
    pub day: String,
    /// When it was recorded.
    pub at: String,
}

/// Points that stop counting on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExpiringPointsView {
    /// The first day they no longer count.
    pub on: String,
    /// How many.
    pub points: i64,
}

/// A member's points today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointsBalanceView {
    /// Points that may be spent now.
    pub available: i64,
    /// Points earned but not spendable yet.
    pub pending: i64,
    /// Available points that stop counting within 30 days.
    pub expiring_within_30_days: i64,
    /// Available points by the day they stop counting, soonest first.
    pub expiring: Vec<ExpiringPointsView>,
    /// Points owed: taken back by a return after they were spent, paid off from the next
    /// grants before they can be spent. Never a negative balance.
    pub owed: i64,
}

/// What a change recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointsRecordedView {
    /// The ledger entries (a debit has one per grant it draws on).
    pub entries: Vec<PointsEntryView>,
    /// What the change added to the points owed, or (below 0) paid off.
    pub owed: i64,
    /// True when the key was used for this change before and nothing new was recorded.
    pub replayed: bool,
    /// The balance after it.
    pub balance: PointsBalanceView,
}

/// A member's points: the balance and the newest entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointsAccountView {
    /// The member.
    pub member_id: String,
    /// The balance today.
    pub balance: PointsBalanceView,
    /// Entries, newest first.
    pub entries: Vec<PointsEntryView>,
    /// Pass as `before` for older entries (none when these are the oldest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// One member's points that stop counting on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExpiringMemberView {
    /// The member.
    pub member_id: String,
    /// The first day the points no longer count.
    pub expires_on: String,
    /// How many (pending ones included).
    pub points: i64,
}

/// Members whose points expire soon, soonest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExpiringMembersView {
    /// Per expiry day and member.
    pub members: Vec<ExpiringMemberView>,
    /// Pass as `after` for the next page (none on the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// A warning that a member's points are about to expire, recorded once per member, expiry day
/// and stage, for journeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointsWarningView {
    /// Its place in the log.
    pub seq: i64,
    /// The member.
    pub member_id: String,
    /// The first day the points no longer count.
    pub expires_on: String,
    /// The stage: the `warn_days` bound the days left were within (30, 7, …).
    pub days_before: u32,
    /// How many points expire then.
    pub points: i64,
    /// The brand day it was recorded.
    pub day: String,
    /// When it was recorded.
    pub recorded_at: String,
}

/// The warning log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PointsWarningsView {
    /// The warnings.
    pub warnings: Vec<PointsWarningView>,
    /// Pass as `before` for older ones (none when these are the oldest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}
