//! What the store keeps of tiers: each member's tier now (with the value that placed them and
//! the day they are next due for evaluation), and the append-only log of tier changes, each
//! recorded once per member, day, kind and tier however often the member is evaluated.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::{MemberId, OrderId};

use crate::StoreResult;

/// A member's tier as last evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberTier {
    /// The member.
    pub member_id: MemberId,
    /// The level's name.
    pub tier: String,
    /// The current term's first day.
    pub since: Option<Date>,
    /// The current term's last day (`None`: it does not expire).
    pub until: Option<Date>,
    /// The order that made the upgrade starting the term.
    pub order_id: Option<OrderId>,
    /// The qualifying value over the rolling window on `evaluated_on`.
    pub value: i64,
    /// The next level's name, if any.
    pub next_tier: Option<String>,
    /// The value still missing for the next level.
    pub to_next: Option<i64>,
    /// The first day the evaluation can change without a new fact: a renewal check, or an
    /// order leaving the window.
    pub due_on: Option<Date>,
    /// The brand day it was evaluated.
    pub evaluated_on: Date,
}

/// One tier change to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierChangeRecord {
    /// Whose.
    pub member_id: MemberId,
    /// The day it took effect.
    pub day: Date,
    /// The level before.
    pub from_tier: String,
    /// The level after.
    pub to_tier: String,
    /// `upgrade`, `fast_upgrade`, `renewal`, `downgrade` or `return_downgrade`.
    pub kind: String,
    /// The qualifying value that decided it.
    pub value: i64,
    /// The order that made it.
    pub order_id: Option<OrderId>,
    /// The rule, in words.
    pub reason: String,
}

/// A recorded tier change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedTierChange {
    /// Its place in the log.
    pub seq: i64,
    /// What changed.
    pub change: TierChangeRecord,
    /// When it was recorded.
    pub recorded_at: Timestamp,
}

/// Which tier changes to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TierChangeFilter {
    /// Only this member's.
    pub member_id: Option<MemberId>,
    /// Only those into this tier.
    pub to_tier: Option<String>,
    /// Only those of this kind.
    pub kind: Option<String>,
    /// Only those that took effect on or after this day.
    pub from: Option<Date>,
    /// Only those that took effect on or before this day.
    pub to: Option<Date>,
    /// Only those before this sequence number (paging back).
    pub before: Option<i64>,
}

/// Tiers in the store.
#[async_trait]
pub trait TierStore: Send + Sync {
    /// Saves the members' tiers and records the changes not recorded before, in one
    /// transaction; returns, for each change, true when it was recorded now.
    async fn save_tiers(
        &self,
        tiers: &[MemberTier],
        changes: &[TierChangeRecord],
        at: Timestamp,
    ) -> StoreResult<Vec<bool>>;
    /// The members' tiers, for those evaluated (in no particular order).
    async fn member_tiers(&self, member_ids: &[MemberId]) -> StoreResult<Vec<MemberTier>>;
    /// Up to `limit` members due for evaluation on or before `day`, in id order.
    async fn tiers_due(&self, day: Date, limit: u32) -> StoreResult<Vec<MemberId>>;
    /// Members per tier name, for the members evaluated.
    async fn tier_counts(&self) -> StoreResult<Vec<(String, u64)>>;
    /// Members whose next tier is at most `within` away (or at most `percent` of the next
    /// tier's entry, when given), nearest first, at most `limit`.
    async fn near_next_tier(
        &self,
        within: Option<i64>,
        percent: Option<u32>,
        limit: u32,
    ) -> StoreResult<Vec<MemberTier>>;
    /// Recorded changes matching `filter`, newest first, at most `limit`.
    async fn tier_changes(
        &self,
        filter: &TierChangeFilter,
        limit: u32,
    ) -> StoreResult<Vec<LoggedTierChange>>;
    /// Members born in `month` (1 to 12), in id order, with their birthday and their tier (`None`
    /// when never evaluated).
    async fn birthday_members(
        &self,
        month: i8,
    ) -> StoreResult<Vec<(MemberId, Date, Option<String>)>>;
}
