//! Storage ports: the traits every backend implements, the errors they return, the database URL
//! that chooses a backend, and the backend-independent planning of every ingest batch.
//!
//! This crate never depends on sqlx: the SQL lives in `regulars-store-sqlite` and
//! `regulars-store-postgres`, which both run the plans made here, so the rules that decide what a
//! re-sent fact means are written once.
#![warn(missing_docs)]

mod audience;
mod coupons;
mod error;
mod ingest;
mod keys;
pub mod plan;
mod points;
mod referrals;
pub mod rows;
mod saved;
mod segments;
mod tiers;
mod url;

use async_trait::async_trait;
use jiff::Timestamp;
use regulars_domain::{
    BehaviourEvent, Email, Interaction, Member, MemberId, MemberProfile, NewReturn, Order, OrderId,
    OrderLine, Phone, Store as ShopStore,
};

pub use audience::{
    AudienceVisitor, EventScan, LineScan, LoyaltyCoupon, MemberLoyalty, MemberScan,
};
pub use coupons::{
    Coupon, CouponStats, CouponStatus, CouponStore, IssueOutcome, IssueRequest, RedeemOutcome,
    RedeemRequest, Redemption, TEMPLATE_COLUMNS, TemplateRow,
};
pub use error::{StoreError, StoreResult};
pub use ingest::{Accepted, IngestOptions, ItemOutcome, Rejection};
pub use keys::{ApiKeyRecord, IdempotencyClaim};
pub use points::{
    Draw, ExpiringPoints, Planned, PointsCap, PointsEntry, PointsHoldings, PointsOperation,
    PointsOutcome, PointsRequest, PointsStore, PointsWarning, SETTLE_REASON, apply_cap,
    plan_entries, same_operation,
};
pub use referrals::{Referral, ReferralOutcome, ReferralStore};
pub use saved::{AudienceMove, AudienceStore, LogFilter, Logged, SavedAudience, TagChange};
pub use segments::{
    LoggedTransition, Membership, MigrationCell, SEGMENT_MODELS, SegmentStore, SegmentTransition,
    TransitionFilter, model_column,
};
pub use tiers::{LoggedTierChange, MemberTier, TierChangeFilter, TierChangeRecord, TierStore};
pub use url::{Backend, DatabaseUrl, DatabaseUrlError};

/// Everything one member has: their profile and their facts, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberFacts {
    /// The member.
    pub member: Member,
    /// Their orders with lines, newest first.
    pub orders: Vec<Order>,
    /// Returns against their orders, newest first.
    pub returns: Vec<NewReturn>,
    /// Their most recent interactions, newest first, at most `limit`.
    pub interactions: Vec<Interaction>,
    /// Their most recent behaviour events, newest first, at most `limit`.
    pub events: Vec<BehaviourEvent>,
}

/// An order as a full scan for the segmentation engine reads it: only the columns it needs,
/// borrowed from the row (instants in Unix microseconds, money in minor units).
#[derive(Debug, Clone, Copy)]
pub struct OrderScan<'a> {
    /// The member.
    pub member_id: &'a str,
    /// The order.
    pub order_id: &'a str,
    /// When it was placed.
    pub placed_at: i64,
    /// `paid`, `completed` or `cancelled`.
    pub status: &'a str,
    /// When it took that status.
    pub status_at: i64,
    /// What was paid.
    pub amount: i64,
    /// The shipping included in `amount`.
    pub shipping: i64,
    /// When it became completed, if it ever did.
    pub completed_at: Option<i64>,
}

/// A return as a full scan reads it.
#[derive(Debug, Clone, Copy)]
pub struct ReturnScan<'a> {
    /// The order's member.
    pub member_id: &'a str,
    /// The order.
    pub order_id: &'a str,
    /// When it completed.
    pub completed_at: i64,
    /// Money refunded.
    pub amount: i64,
}

/// Receives every fact of a full scan. Members come first, in id order; then returns, orders
/// and interactions in no particular order.
pub trait FactVisitor: Send {
    /// A member.
    fn member(&mut self, member_id: &str);
    /// A return.
    fn return_(&mut self, row: ReturnScan<'_>);
    /// An order.
    fn order(&mut self, row: OrderScan<'_>);
    /// An interaction of `member_id` at (Unix microseconds).
    fn interaction(&mut self, member_id: &str, at: i64);
}

/// How many of each fact kind the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactCounts {
    /// Members, including those only facts have named.
    pub members: u64,
    /// Stores.
    pub stores: u64,
    /// Orders, whatever their status.
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

/// What a batch did: one outcome per item, and, for orders, every status the batch moved (an
/// `Updated` order may only have gained lines).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recorded {
    /// One outcome per item, in order.
    pub outcomes: Vec<ItemOutcome>,
    /// The order status moves, in the order the items made them.
    pub status_changes: Vec<plan::StatusChange>,
}

impl From<Vec<ItemOutcome>> for Recorded {
    fn from(outcomes: Vec<ItemOutcome>) -> Self {
        Self {
            outcomes,
            status_changes: Vec::new(),
        }
    }
}

/// The facts: ingest (idempotent by kind and id, each item all or nothing) and reads.
///
/// Every `record_*` and `upsert_*` method answers one outcome per item, in order; an item that is
/// rejected writes nothing, and the accepted ones are committed together.
#[async_trait]
pub trait FactStore: Send + Sync {
    /// Creates or updates stores.
    async fn upsert_stores(&self, stores: &[ShopStore]) -> StoreResult<Vec<ItemOutcome>>;
    /// Creates members or merges profiles into them, recording each change.
    async fn upsert_members(
        &self,
        profiles: &[MemberProfile],
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>>;
    /// Records orders (with their lines, if sent), and says which statuses moved.
    async fn record_orders(
        &self,
        orders: &[Order],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Recorded>;
    /// Records order lines sent apart from their orders.
    async fn record_order_lines(
        &self,
        lines: &[(OrderId, OrderLine)],
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>>;
    /// Records returns.
    async fn record_returns(
        &self,
        returns: &[NewReturn],
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>>;
    /// Records interactions.
    async fn record_interactions(
        &self,
        interactions: &[Interaction],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>>;
    /// Records behaviour events.
    async fn record_events(
        &self,
        events: &[BehaviourEvent],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>>;
    /// One member; `NotFound` if unknown.
    async fn get_member(&self, member_id: &MemberId) -> StoreResult<Member>;
    /// The stored orders among `order_ids` (with their lines), in id order; unknown ids are left
    /// out.
    async fn get_orders(&self, order_ids: &[OrderId]) -> StoreResult<Vec<Order>>;
    /// The returns against these orders (with their lines), by completion then id.
    async fn get_returns(&self, order_ids: &[OrderId]) -> StoreResult<Vec<NewReturn>>;
    /// Every order of `member_ids`, as (member, order) pairs grouped by member.
    async fn member_order_ids(
        &self,
        member_ids: &[MemberId],
    ) -> StoreResult<Vec<(MemberId, OrderId)>>;
    /// The members with these ids that exist, in id order.
    async fn get_members(&self, member_ids: &[MemberId]) -> StoreResult<Vec<Member>>;
    /// The members whose stored phone or e-mail is one of these: `(phone or address, member)`
    /// pairs, ordered by contact then member; a contact shared by several members gives a pair
    /// for each, and one nobody has gives none.
    async fn find_members_by_contact(
        &self,
        phones: &[Phone],
        emails: &[Email],
    ) -> StoreResult<Vec<(String, MemberId)>>;
    /// One member with their facts; interactions and events are cut to the newest `limit`.
    async fn get_member_facts(&self, member_id: &MemberId, limit: u32) -> StoreResult<MemberFacts>;
    /// Every store.
    async fn list_stores(&self) -> StoreResult<Vec<ShopStore>>;
    /// How many of each fact kind are stored.
    async fn count_facts(&self) -> StoreResult<FactCounts>;
    /// Streams every member, return, order and interaction to `visitor`, reading only the columns
    /// the segmentation engine needs, in sequential scans: the engine's cold start.
    async fn scan_facts(&self, visitor: &mut dyn FactVisitor) -> StoreResult<()>;
    /// Streams what audience rules read to `visitor`, from one snapshot: profiles, orders with
    /// their store, lines, returns, events and interactions.
    async fn scan_audience_facts(&self, visitor: &mut dyn AudienceVisitor) -> StoreResult<()>;
    /// Members' loyalty as audiences read it, from one snapshot: their tier, the lots with
    /// points left that still count on `from` or later, and the active coupons whose last day
    /// is `from` or later. Those of `members`, or everyone's when `None`; a member with none of
    /// these is left out.
    async fn loyalty_facts(
        &self,
        members: Option<&[MemberId]>,
        from: jiff::civil::Date,
    ) -> StoreResult<Vec<(MemberId, MemberLoyalty)>>;
}

/// API keys, stored hashed.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a new key; `Conflict` if its id exists.
    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()>;
    /// One key by id; `NotFound` if unknown.
    async fn get_api_key(&self, key_id: &str) -> StoreResult<ApiKeyRecord>;
    /// Every key, oldest first.
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
}

/// Remembered responses of writes sent with an `Idempotency-Key`.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` in `scope` for a request with this fingerprint, or says what happened to it:
    /// a stored response to replay, a request still in flight, or a different request that used
    /// the key. A claim older than `stale_before` that never completed is taken over.
    async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<IdempotencyClaim>;
    /// Stores the response of a claimed key.
    async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()>;
    /// Gives a claimed key back (the request failed and may be retried).
    async fn release_idempotency_key(&self, scope: &str, key: &str) -> StoreResult<()>;
    /// Forgets every key claimed before `claimed_before`, with its stored response, so the
    /// record does not grow forever; returns how many. A forgotten key is new again.
    async fn forget_idempotency_keys(&self, claimed_before: Timestamp) -> StoreResult<u64>;
}

/// A whole store: every port, plus migrations.
#[async_trait]
pub trait Store:
    FactStore
    + KeyStore
    + IdempotencyStore
    + SegmentStore
    + AudienceStore
    + PointsStore
    + CouponStore
    + TierStore
    + ReferralStore
{
    /// Which backend this is.
    fn backend(&self) -> Backend;
    /// Applies the migrations not yet applied.
    async fn migrate(&self) -> StoreResult<()>;
}
