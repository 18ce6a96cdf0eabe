//! What the store keeps of points: the append-only ledger (each operation's entries under its
//! idempotency key) and, derived from it, what each credit has left.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::{Lot, MemberId, PointsKind};

use crate::StoreResult;

/// One ledger entry. A credit (points above 0) is a lot; a debit (below 0) draws on `lot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsEntry {
    /// Its place in the ledger.
    pub seq: i64,
    /// Whose points.
    pub member_id: MemberId,
    /// What moved them.
    pub kind: PointsKind,
    /// Points added (above 0) or taken (below 0).
    pub points: i64,
    /// For a debit, the credit it draws on.
    pub lot: Option<i64>,
    /// For a credit, the first day it may be spent.
    pub available_on: Option<Date>,
    /// For a credit, the first day it no longer counts, if it expires.
    pub expires_on: Option<Date>,
    /// The operation's idempotency key (a debit drawing on several lots has an entry for each).
    pub key: String,
    /// Why, in words.
    pub reason: String,
    /// What caused it (`order:ID`, `operator:WHO`, …).
    pub cause: String,
    /// The brand's civil day it was made on.
    pub day: Date,
    /// When it was recorded.
    pub at: Timestamp,
}

/// One operation on a member's points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsRequest {
    /// Whose points.
    pub member_id: MemberId,
    /// Its idempotency key: a second request with the same key records nothing.
    pub key: String,
    /// What it is.
    pub kind: PointsKind,
    /// Points added (above 0) or taken (below 0), never 0.
    pub points: i64,
    /// For a credit, the first day it may be spent.
    pub available_on: Date,
    /// For a credit, the first day it no longer counts, if it expires.
    pub expires_on: Option<Date>,
    /// For a debit, the one lot to draw on (an expiry takes what an expired lot has left);
    /// otherwise the earliest-expiring spendable lots.
    pub lot: Option<i64>,
    /// Why, in words.
    pub reason: String,
    /// What caused it.
    pub cause: String,
    /// Today in the brand's zone: the entries' day, and the day lots are spendable on.
    pub day: Date,
    /// Now.
    pub at: Timestamp,
}

/// What a points request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointsOutcome {
    /// Recorded these entries.
    Recorded(Vec<PointsEntry>),
    /// The key was used before for the same operation: its entries, nothing new.
    Replayed(Vec<PointsEntry>),
    /// A debit larger than the spendable points (this many): nothing recorded.
    Short(i64),
    /// The key was used before for a different operation: nothing recorded.
    KeyReused,
}

/// The points ledger.
#[async_trait]
pub trait PointsStore: Send + Sync {
    /// Records one operation atomically: a credit as one entry, a debit as one entry per lot it
    /// draws on (`regulars_domain::plan_debit` over the lots as they are inside the
    /// transaction, so concurrent debits never spend a point twice). `NotFound` for an unknown
    /// member.
    async fn record_points(&self, request: &PointsRequest) -> StoreResult<PointsOutcome>;
    /// Every credit of the member with what it has left (drawn-dry ones included), oldest first.
    async fn points_lots(&self, member_id: &MemberId) -> StoreResult<Vec<Lot>>;
    /// Lots that stopped counting by `today` (`expires_on` on or before it) with points left,
    /// oldest first, at most `limit`, with their members.
    async fn expired_lots(&self, today: Date, limit: u32) -> StoreResult<Vec<(MemberId, Lot)>>;
    /// The member's entries, newest first, before `before_seq` when given, at most `limit`.
    async fn points_history(
        &self,
        member_id: &MemberId,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<PointsEntry>>;
}

/// The draws of a request whose key is new, given the member's lots as they are inside the
/// transaction: a credit is one entry with no lot, a debit one `(lot, points below 0)` per lot
/// it draws on (or on the one lot it names). The error is the points there are to draw when a
/// debit asks for more.
pub fn entry_draws(request: &PointsRequest, lots: &[Lot]) -> Result<Vec<(Option<i64>, i64)>, i64> {
    if request.points > 0 {
        return Ok(vec![(None, request.points)]);
    }
    if let Some(seq) = request.lot {
        let left = lots
            .iter()
            .find(|lot| lot.seq == seq)
            .map_or(0, |lot| lot.remaining);
        if left < -request.points {
            return Err(left);
        }
        return Ok(vec![(Some(seq), request.points)]);
    }
    let draws = regulars_domain::plan_debit(lots, -request.points, request.day)?;
    Ok(draws
        .into_iter()
        .map(|(lot, points)| (Some(lot), -points))
        .collect())
}

/// Whether an operation stored under the request's key (member, kind, points) is the same one.
pub fn same_operation(request: &PointsRequest, member_id: &str, kind: &str, points: i64) -> bool {
    request.member_id.as_str() == member_id
        && request.kind.as_str() == kind
        && request.points == points
}
