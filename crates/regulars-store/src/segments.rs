//! What the store keeps of segment memberships: the transition log, every member's segments now,
//! and daily copies of those.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;

use crate::StoreResult;

/// The models whose memberships are stored, in column order.
pub const SEGMENT_MODELS: [&str; 5] = ["rfm", "rfm8", "nesl", "rfim", "lifecycle"];

/// One member moved from one segment of a model to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentTransition {
    /// The member.
    pub member_id: String,
    /// One of [`SEGMENT_MODELS`].
    pub model: &'static str,
    /// The segment left (canonical name).
    pub from: String,
    /// The segment entered.
    pub to: String,
    /// The brand's civil day it happened on.
    pub day: Date,
    /// When it was recorded.
    pub at: Timestamp,
    /// What moved them: `order:ID`, `return:ID`, `interaction:ID`, `time` or `recompute`.
    pub cause: String,
}

/// A stored transition with its place in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedTransition {
    /// Its position in the log: increasing, for paging.
    pub seq: i64,
    /// The transition.
    pub transition: SegmentTransition,
}

/// A member's segment in every model, in the order of [`SEGMENT_MODELS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The member.
    pub member_id: String,
    /// Segment names.
    pub segments: [String; 5],
}

/// Which transitions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitionFilter {
    /// Only this model (one of [`SEGMENT_MODELS`]).
    pub model: Option<&'static str>,
    /// Only transitions into or out of this segment.
    pub segment: Option<String>,
    /// Only this member.
    pub member_id: Option<String>,
    /// From this day on.
    pub from_day: Option<Date>,
    /// Up to and including this day.
    pub to_day: Option<Date>,
    /// After this position in the log.
    pub after_seq: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// Members who were in `from` on one day and in `to` on another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationCell {
    /// The segment on the first day.
    pub from: String,
    /// The segment on the second day.
    pub to: String,
    /// How many members.
    pub members: u64,
}

/// The column of a model, checked against the fixed list so it can go into SQL.
pub fn model_column(model: &str) -> Option<&'static str> {
    SEGMENT_MODELS.into_iter().find(|m| *m == model)
}

/// Segment memberships.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    /// Appends transitions to the log and stores the memberships they leave (at most one per
    /// member), in one transaction.
    async fn record_transitions(
        &self,
        transitions: &[SegmentTransition],
        memberships: &[Membership],
    ) -> StoreResult<()>;
    /// Every member's stored segments.
    async fn memberships(&self) -> StoreResult<Vec<Membership>>;
    /// Transitions matching `filter`, in log order.
    async fn list_transitions(
        &self,
        filter: &TransitionFilter,
    ) -> StoreResult<Vec<LoggedTransition>>;
    /// Copies every member's segments as the snapshot of `day` (replacing an earlier copy of that
    /// day) and drops snapshots before `keep_from`. Returns the members copied.
    async fn snapshot_memberships(&self, day: Date, keep_from: Date) -> StoreResult<u64>;
    /// The days that have a snapshot, oldest first.
    async fn snapshot_days(&self) -> StoreResult<Vec<Date>>;
    /// For one model, how many members moved from each segment on snapshot `from` to each on
    /// snapshot `to` (members in both snapshots).
    async fn migration_matrix(
        &self,
        model: &'static str,
        from: Date,
        to: Date,
    ) -> StoreResult<Vec<MigrationCell>>;
}
