//! Recording facts and reading them back.

use std::future::Future;

use regulars_domain::{
    BehaviourEvent, Interaction, MemberId, MemberProfile, NewReturn, Order, OrderId, OrderLine,
    Store as ShopStore,
};
use regulars_formats::FactKind;
use regulars_store::{
    Accepted, FactCounts, IngestOptions, ItemOutcome, MemberFacts, StoreError, StoreResult,
};

use crate::{App, AppError, AppResult};

/// A fact type the store records in batches.
pub trait Ingest: Sized + Send + Sync + 'static {
    /// Its kind.
    const KIND: FactKind;
    /// Records a batch, one outcome per item.
    fn record(
        app: &App,
        items: &[Self],
        options: IngestOptions,
    ) -> impl Future<Output = StoreResult<Vec<ItemOutcome>>> + Send;
}

impl Ingest for ShopStore {
    const KIND: FactKind = FactKind::Stores;
    async fn record(app: &App, items: &[Self], _: IngestOptions) -> StoreResult<Vec<ItemOutcome>> {
        app.store.upsert_stores(items).await
    }
}

impl Ingest for MemberProfile {
    const KIND: FactKind = FactKind::Members;
    async fn record(app: &App, items: &[Self], _: IngestOptions) -> StoreResult<Vec<ItemOutcome>> {
        app.store.upsert_members(items, app.now()).await
    }
}

impl Ingest for Order {
    const KIND: FactKind = FactKind::Orders;
    async fn record(
        app: &App,
        items: &[Self],
        options: IngestOptions,
    ) -> StoreResult<Vec<ItemOutcome>> {
        app.store.record_orders(items, options, app.now()).await
    }
}

impl Ingest for (OrderId, OrderLine) {
    const KIND: FactKind = FactKind::OrderLines;
    async fn record(app: &App, items: &[Self], _: IngestOptions) -> StoreResult<Vec<ItemOutcome>> {
        app.store.record_order_lines(items, app.now()).await
    }
}

impl Ingest for NewReturn {
    const KIND: FactKind = FactKind::Returns;
    async fn record(app: &App, items: &[Self], _: IngestOptions) -> StoreResult<Vec<ItemOutcome>> {
        app.store.record_returns(items, app.now()).await
    }
}

impl Ingest for Interaction {
    const KIND: FactKind = FactKind::Interactions;
    async fn record(
        app: &App,
        items: &[Self],
        options: IngestOptions,
    ) -> StoreResult<Vec<ItemOutcome>> {
        app.store
            .record_interactions(items, options, app.now())
            .await
    }
}

impl Ingest for BehaviourEvent {
    const KIND: FactKind = FactKind::Events;
    async fn record(
        app: &App,
        items: &[Self],
        options: IngestOptions,
    ) -> StoreResult<Vec<ItemOutcome>> {
        app.store.record_events(items, options, app.now()).await
    }
}

/// How many items of a batch ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Stored as new.
    pub created: u64,
    /// Updated a stored item.
    pub updated: u64,
    /// Stored already.
    pub duplicates: u64,
    /// Refused.
    pub rejected: u64,
}

impl IngestSummary {
    /// Counts outcomes.
    pub fn of(outcomes: &[ItemOutcome]) -> Self {
        let mut summary = Self::default();
        summary.add(outcomes);
        summary
    }

    /// Adds outcomes to the counts.
    pub fn add(&mut self, outcomes: &[ItemOutcome]) {
        for outcome in outcomes {
            match outcome {
                Ok(Accepted::Created) => self.created += 1,
                Ok(Accepted::Updated) => self.updated += 1,
                Ok(Accepted::Duplicate) => self.duplicates += 1,
                Err(_) => self.rejected += 1,
            }
        }
    }
}

impl App {
    /// Records a batch of facts of one kind; `strict` overrides the configured default.
    #[tracing::instrument(skip_all, fields(kind = T::KIND.as_str(), items = items.len()))]
    pub async fn ingest<T: Ingest>(
        &self,
        items: &[T],
        strict: Option<bool>,
    ) -> AppResult<Vec<ItemOutcome>> {
        let options = IngestOptions {
            strict: strict.unwrap_or(self.settings.strict),
        };
        let outcomes = T::record(self, items, options).await?;
        let summary = IngestSummary::of(&outcomes);
        if summary.created + summary.updated > 0 {
            self.facts_version
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        self.metrics.record_ingest(
            T::KIND,
            [
                summary.created,
                summary.updated,
                summary.duplicates,
                summary.rejected,
            ],
        );
        Ok(outcomes)
    }

    /// One member with their facts.
    pub async fn member_facts(&self, member_id: &MemberId) -> AppResult<MemberFacts> {
        match self
            .store
            .get_member_facts(member_id, self.settings.member_facts_limit)
            .await
        {
            Err(StoreError::NotFound) => Err(AppError::NotFound(format!("member {member_id}"))),
            other => Ok(other?),
        }
    }

    /// How many of each fact kind are stored.
    pub async fn fact_counts(&self) -> AppResult<FactCounts> {
        Ok(self.store.count_facts().await?)
    }

    /// Every store.
    pub async fn stores(&self) -> AppResult<Vec<ShopStore>> {
        Ok(self.store.list_stores().await?)
    }
}
