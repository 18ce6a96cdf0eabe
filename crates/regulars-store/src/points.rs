//! What the store keeps of points: the append-only ledger (each operation's entries under its
//! idempotency key), what each credit has left, the debts reversals leave and the next credits
//! settle, the queue of orders whose points may need earning or taking back, and the warnings
//! that points are about to expire.

use std::borrow::Cow;

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::{Lot, MemberId, OrderId, PointsKind};

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
    /// For a debit, what it draws on.
    pub draw: Draw,
    /// Why, in words.
    pub reason: String,
    /// What caused it.
    pub cause: String,
    /// Today in the brand's zone: the entries' day, and the day lots are spendable on.
    pub day: Date,
    /// Now.
    pub at: Timestamp,
    /// The earning cap it counts toward, if any: a credit then grants at most what the period
    /// has left, and a reversal gives the period back what it takes.
    pub cap: Option<PointsCap>,
}

/// An earning cap as the store applies it: operations under the same `period` key (one member's)
/// add up, and a credit grants no more than `limit` less that sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsCap {
    /// The period's key (`month:2026-03`, from `regulars_domain::CapPeriod::key`).
    pub period: String,
    /// The most the member's operations in it may add up to.
    pub limit: i64,
}

impl PointsRequest {
    /// The expiry of what `lot` has left, drawn on that lot alone under the key `expire:SEQ`
    /// (so expiring it again writes nothing twice), recorded on `today`.
    pub fn expire_lot(member_id: &MemberId, lot: &Lot, today: Date, at: Timestamp) -> Self {
        Self {
            member_id: member_id.clone(),
            key: format!("expire:{}", lot.seq),
            kind: PointsKind::Expire,
            points: -lot.remaining,
            available_on: today,
            expires_on: None,
            draw: Draw::Lot(lot.seq),
            reason: format!(
                "expired on {}",
                lot.expires_on.map_or_else(String::new, |d| d.to_string())
            ),
            cause: format!("expiry:{}", lot.seq),
            day: today,
            at,
            cap: None,
        }
    }
}

/// What a debit draws on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draw {
    /// Spendable points, earliest expiry first; refused when they fall short (a redemption, an
    /// adjustment down).
    Spendable,
    /// What one lot has left, and only it (an expiry); refused when it falls short.
    Lot(i64),
    /// These lots first (the grant being taken back, even while pending), then spendable points;
    /// what they do not hold becomes a debt the next credits settle (a reversal).
    Reverse(Vec<i64>),
}

/// One operation as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsOperation {
    /// Its idempotency key.
    pub key: String,
    /// What it was.
    pub kind: PointsKind,
    /// The points it moved: a credit's grant (above 0), or all a debit took, owed part included
    /// (below 0).
    pub points: i64,
    /// Its ledger entries: a credit's lot (and the draw that settled a debt from it), or a
    /// debit's draws.
    pub entries: Vec<PointsEntry>,
    /// What it added to the member's debt (a reversal that could not draw it all), or, below 0,
    /// what it paid off (a credit settling a debt).
    pub owed: i64,
    /// The points a credit asked for beyond its cap, not granted (`points` is what was).
    pub capped: i64,
}

/// What a points request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointsOutcome {
    /// Recorded this.
    Recorded(PointsOperation),
    /// The key was used before for the same operation: what it recorded then, nothing new.
    Replayed(PointsOperation),
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
    async fn record_points(&self, request: &PointsRequest) -> StoreResult<PointsOutcome> {
        let mut outcomes = self
            .record_points_batch(std::slice::from_ref(request))
            .await?;
        Ok(outcomes.pop().expect("one outcome per request"))
    }
    /// Records operations in one transaction, in order, each as [`PointsStore::record_points`]
    /// would, planned against what the ones before it wrote: an outcome per request. `NotFound`,
    /// with nothing recorded, when one names an unknown member.
    async fn record_points_batch(
        &self,
        requests: &[PointsRequest],
    ) -> StoreResult<Vec<PointsOutcome>>;
    /// Every credit of the member with what it has left (drawn-dry ones included), oldest first,
    /// and what the member owes.
    async fn points_holdings(&self, member_id: &MemberId) -> StoreResult<PointsHoldings>;
    /// The recorded operations among these keys, in key order; unknown keys are left out.
    async fn points_operations(&self, keys: &[String]) -> StoreResult<Vec<PointsOperation>>;
    /// The oldest queued orders whose points may need earning or taking back (an order
    /// recorded, moved to another status, or returned against), as `(queue seq, order)`, at most
    /// `limit`; an order may be queued more than once.
    async fn queued_point_orders(&self, limit: u32) -> StoreResult<Vec<(i64, OrderId)>>;
    /// Takes handled orders off the queue.
    async fn dequeue_point_orders(&self, seqs: &[i64]) -> StoreResult<()>;
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
    /// The points that stop counting after `today` and by `through` (what lots, pending ones
    /// included, have left), summed per expiry day and member in that order, after `after` when
    /// given, at most `limit`.
    async fn expiring_points(
        &self,
        today: Date,
        through: Date,
        after: Option<&(Date, MemberId)>,
        limit: u32,
    ) -> StoreResult<Vec<ExpiringPoints>>;
    /// Records the warnings not recorded before (one per member, expiry day and stage); returns
    /// how many were new.
    async fn record_points_warnings(&self, warnings: &[PointsWarning]) -> StoreResult<u64>;
    /// The warning log, newest first: the member's only when given, before `before_seq` when
    /// given, at most `limit`.
    async fn points_warnings(
        &self,
        member_id: Option<&MemberId>,
        before_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<PointsWarning>>;
}

/// Points of one member that stop counting on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringPoints {
    /// Whose.
    pub member_id: MemberId,
    /// The first day they no longer count.
    pub expires_on: Date,
    /// How many (above 0).
    pub points: i64,
}

/// A warning that a member's points are about to expire, for journeys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsWarning {
    /// Its place in the log (0 before it is recorded).
    pub seq: i64,
    /// Whose points.
    pub member_id: MemberId,
    /// The first day they no longer count.
    pub expires_on: Date,
    /// The stage: the `warn_days` bound that the days left were within (30, 7, …).
    pub days_before: u32,
    /// How many points expire then.
    pub points: i64,
    /// The brand day it was recorded.
    pub day: Date,
    /// When it was recorded.
    pub recorded_at: Timestamp,
}

/// A member's credits with what each has left, and their debt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PointsHoldings {
    /// Every credit, oldest first.
    pub lots: Vec<Lot>,
    /// Points owed, settled from the next credits.
    pub debt: i64,
}

/// The reason on a draw that paid off owed points from a new credit.
pub const SETTLE_REASON: &str = "pays off points owed";

/// One entry an operation writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    /// The credit: a new lot of these points.
    Credit(i64),
    /// A draw of these points (below 0) on a lot.
    Draw {
        /// The lot drawn on.
        lot: i64,
        /// The points, below 0.
        points: i64,
    },
    /// A draw of these points (below 0) on the credit just written, paying off as much debt.
    Settle(i64),
    /// These points (above 0) the reversal could not draw, owed from now on.
    Owe(i64),
}

/// The request as its cap lets it be, given what the member's operations in the cap's period add
/// up to (`used`), and the points held back: a credit grants at most what the period has left
/// (0 when nothing is), and its entry says what the cap held back; anything else is unchanged.
pub fn apply_cap(request: &PointsRequest, used: i64) -> (Cow<'_, PointsRequest>, i64) {
    let Some(cap) = request.cap.as_ref().filter(|_| request.points > 0) else {
        return (Cow::Borrowed(request), 0);
    };
    let granted = request.points.min((cap.limit - used).max(0));
    let capped = request.points - granted;
    if capped == 0 {
        return (Cow::Borrowed(request), 0);
    }
    let reason = format!(
        "{} ({capped} over the cap of {} for {})",
        request.reason, cap.limit, cap.period
    );
    let request = PointsRequest {
        points: granted,
        reason,
        ..request.clone()
    };
    (Cow::Owned(request), capped)
}

/// The entries of a request whose key is new, given the member's holdings as they are inside
/// the transaction: a credit is its lot, then, when the member owes, a settling draw on it; a
/// debit one draw per lot it takes from, and for a reversal what it could not take as owed. The
/// error is the points there are to draw when a refusable debit asks for more.
pub fn plan_entries(
    request: &PointsRequest,
    holdings: &PointsHoldings,
) -> Result<Vec<Planned>, i64> {
    if request.points == 0 {
        // A credit its cap held back entirely.
        return Ok(Vec::new());
    }
    if request.points > 0 {
        let mut planned = vec![Planned::Credit(request.points)];
        let settle = holdings.debt.min(request.points);
        if settle > 0 {
            planned.push(Planned::Settle(-settle));
        }
        return Ok(planned);
    }
    let draws = match &request.draw {
        Draw::Lot(seq) => {
            let left = holdings
                .lots
                .iter()
                .find(|lot| lot.seq == *seq)
                .map_or(0, |lot| lot.remaining);
            if left < -request.points {
                return Err(left);
            }
            vec![(*seq, -request.points)]
        }
        Draw::Spendable => {
            regulars_domain::plan_debit(&holdings.lots, -request.points, request.day)?
        }
        Draw::Reverse(first) => {
            let (draws, owed) =
                regulars_domain::plan_reversal(&holdings.lots, first, -request.points, request.day);
            let mut planned: Vec<Planned> = draws
                .into_iter()
                .map(|(lot, points)| Planned::Draw {
                    lot,
                    points: -points,
                })
                .collect();
            if owed > 0 {
                planned.push(Planned::Owe(owed));
            }
            return Ok(planned);
        }
    };
    Ok(draws
        .into_iter()
        .map(|(lot, points)| Planned::Draw {
            lot,
            points: -points,
        })
        .collect())
}

/// Whether an operation stored under the request's key (member, kind, points granted and held
/// back by a cap) is the same one.
pub fn same_operation(
    request: &PointsRequest,
    member_id: &str,
    kind: &str,
    points: i64,
    capped: i64,
) -> bool {
    request.member_id.as_str() == member_id
        && request.kind.as_str() == kind
        && request.points == points + capped
}
