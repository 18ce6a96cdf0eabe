//! Storage ports: the traits every backend implements, the errors they return, the database URL
//! that chooses a backend, and the backend-independent planning of every ingest batch.
//!
//! This crate never depends on sqlx: the SQL lives in `regulars-store-sqlite` and
//! `regulars-store-postgres`, which both run the plans made here, so the rules that decide what a
//! re-sent fact means are written once.
#![warn(missing_docs)]

mod error;
mod ingest;
mod keys;
pub mod plan;
pub mod rows;
mod url;

use async_trait::async_trait;
use jiff::Timestamp;
use regulars_domain::{
    BehaviourEvent, Interaction, Member, MemberId, MemberProfile, NewReturn, Order, OrderId,
    OrderLine, Store as ShopStore,
};

pub use error::{StoreError, StoreResult};
pub use ingest::{Accepted, IngestOptions, ItemOutcome, Rejection};
pub use keys::{ApiKeyRecord, IdempotencyClaim};
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

/// One member's facts as the segmentation engine reads them: orders without their lines,
/// returns without their lines, interactions. Events are not part of it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberHistory {
    /// The member.
    pub member_id: MemberId,
    /// Every order, whatever its status, without lines.
    pub orders: Vec<Order>,
    /// Every return against those orders, without lines.
    pub returns: Vec<NewReturn>,
    /// Every interaction.
    pub interactions: Vec<Interaction>,
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
    /// Records orders (with their lines, if sent).
    async fn record_orders(
        &self,
        orders: &[Order],
        options: IngestOptions,
        recorded_at: Timestamp,
    ) -> StoreResult<Vec<ItemOutcome>>;
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
    /// One member with their facts; interactions and events are cut to the newest `limit`.
    async fn get_member_facts(&self, member_id: &MemberId, limit: u32) -> StoreResult<MemberFacts>;
    /// Every store.
    async fn list_stores(&self) -> StoreResult<Vec<ShopStore>>;
    /// The histories of up to `limit` members whose ids sort after `after`, in id order: one page
    /// of a full load of the segmentation engine.
    async fn list_member_histories(
        &self,
        after: Option<&MemberId>,
        limit: u32,
    ) -> StoreResult<Vec<MemberHistory>>;
    /// How many of each fact kind are stored.
    async fn count_facts(&self) -> StoreResult<FactCounts>;
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
}

/// A whole store: every port, plus migrations.
#[async_trait]
pub trait Store: FactStore + KeyStore + IdempotencyStore {
    /// Which backend this is.
    fn backend(&self) -> Backend;
    /// Applies the migrations not yet applied.
    async fn migrate(&self) -> StoreResult<()>;
}
