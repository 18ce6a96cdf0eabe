//! Use cases: everything Regulars does, in domain terms, over the storage ports. The HTTP API,
//! the command line and the demo all call this crate; none of them reach the store another way.
//!
//! It knows no HTTP and no SQL. It owns the one place that reads the system clock
//! ([`SystemClock`]) and the import pipeline that streams files into the store.

mod audience;
mod birthdays;
mod clock;
mod coupons;
mod earning;
mod expiry;
mod generate;
mod import;
mod ingest;
mod keys;
mod live;
mod member_list;
mod metrics;
mod points;
mod presets;
mod referrals;
mod saved;
pub mod segments;
mod tiers;
mod wallet;

use std::sync::Arc;

use jiff::tz::TimeZone;
use regulars_domain::Currency;
use regulars_store::{Store, StoreError};

pub use audience::AudiencePreview;
pub use birthdays::BirthdayIssue;
pub use clock::{Clock, SystemClock};
pub use coupons::{
    BulkIssue, CouponCheck, CouponDetail, CouponIssue, CouponRefusal, IssuedCoupon,
    MAX_CODES_TOGETHER, RedeemedCoupon,
};
pub use earning::Accrued;
pub use generate::{GeneratedFile, write_brand};
pub use import::{ImportObserver, ImportOptions, ImportSummary, RowError, SilentObserver};
pub use ingest::{Ingest, IngestSummary, audience_member};
pub use keys::{ApiKey, AuthError, KEY_PREFIX};
pub use live::{Live, SegmentChange, SegmentSettings};
pub use member_list::ResolvedMembers;
pub use metrics::Metrics;
pub use points::{PointsAccount, PointsChange, PointsRecorded, PointsSettings};
pub use presets::{PRESETS, Preset};
pub use referrals::{MemberReferrals, ReferralRequest, ReferralsSettled};
pub use regulars_formats::{FactKind, Format};
pub use regulars_store::{
    Accepted, AudienceMove, Coupon, CouponStats, CouponStatus, ExpiringPoints, FactCounts,
    IdempotencyClaim, ItemOutcome, LogFilter, Logged, LoggedTierChange, LoggedTransition,
    MemberFacts, MemberTier, MigrationCell, PointsEntry, PointsWarning, Redemption, Referral,
    Rejection, SavedAudience, TagChange, TierChangeFilter, TransitionFilter,
};
pub use saved::{
    AudienceContent, AudienceDraft, AudienceExport, AudienceSummary, SavedOutcome, TagOutcome,
};
pub use tiers::{TierEvaluation, TierStatus};
pub use wallet::Wallet;

/// The brand's conventions.
#[derive(Debug, Clone)]
pub struct Brand {
    /// The brand's time zone: civil dates and local times are taken in it.
    pub time_zone: TimeZone,
    /// The brand's currency, for facts that name none.
    pub currency: Currency,
}

impl Default for Brand {
    fn default() -> Self {
        Self {
            time_zone: TimeZone::get("Asia/Taipei")
                .expect("the time zone database knows Asia/Taipei"),
            currency: Currency::TWD,
        }
    }
}

/// How ingest behaves by default.
#[derive(Debug, Clone, Copy)]
pub struct IngestSettings {
    /// Refuse facts that name unknown members or stores instead of creating them.
    pub strict: bool,
    /// How many interactions and events a member read returns at most.
    pub member_facts_limit: u32,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            strict: false,
            member_facts_limit: 200,
        }
    }
}

/// A use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// What was asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// An audience rule cannot run (an unknown label, gender or segment).
    #[error("{0}")]
    InvalidRule(String),
    /// A request broke a rule of its own (a name, a tag, an unknown member), with the field.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The request conflicts with what is stored (an audience another one reads).
    #[error("{0}")]
    Conflict(String),
    /// A redemption larger than the member's available points; nothing was spent.
    #[error("{asked} points asked, {available} available")]
    InsufficientPoints {
        /// Points available.
        available: i64,
        /// Points asked for.
        asked: i64,
    },
    /// An idempotency key used before for a different change.
    #[error("{0}")]
    KeyReused(String),
    /// A coupon could not be issued, applied or used, and nothing changed.
    #[error("{message}")]
    CouponRefused {
        /// Why.
        kind: CouponRefusal,
        /// For people.
        message: String,
    },
    /// A referral broke a rule, and nothing was recorded.
    #[error("{0}")]
    ReferralRefused(String),
    /// The storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The result of a use case.
pub type AppResult<T> = Result<T, AppError>;

/// The last segmentation computed, with the facts version it saw.
type SegmentationCache = tokio::sync::Mutex<Option<(u64, Arc<segments::Segmentation>)>>;

/// The application: the store, the clock, the brand's conventions and the metrics.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    brand: Brand,
    settings: IngestSettings,
    metrics: Arc<Metrics>,
    engine: regulars_engine::EngineConfig,
    /// How orders become the engine's facts.
    order_rules: segments::OrderRules,
    /// Bumped by every ingest that changes a fact, so cached segmentations know they are stale.
    facts_version: Arc<std::sync::atomic::AtomicU64>,
    segmentation: Arc<SegmentationCache>,
    segment_settings: SegmentSettings,
    /// The points rules.
    points: PointsSettings,
    /// Woken when orders or returns are recorded: their points are due (`accrue_points`).
    points_queued: Arc<tokio::sync::Notify>,
    /// The tier programme, if the brand has one.
    tiers: Option<Arc<regulars_domain::TierRules>>,
    /// When birthday coupons are issued.
    birthday_issue: BirthdayIssue,
    /// The referral programme, if the brand runs one.
    referrals: Option<Arc<regulars_domain::ReferralRules>>,
    /// The live segments, once started.
    live: Arc<tokio::sync::RwLock<Option<Live>>>,
    /// Held from the moment transitions leave the engine until the store has them, and always
    /// taken while `live` is held: the log is written in the engine's order, while the next
    /// batch is already applied to the engine.
    transition_log: Arc<tokio::sync::Mutex<()>>,
    /// Held from reading members' loyalty to applying it, so a later read is applied later.
    loyalty_refresh: Arc<tokio::sync::Mutex<()>>,
}

impl App {
    /// An application over `store`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        brand: Brand,
        settings: IngestSettings,
    ) -> Self {
        Self {
            store,
            clock,
            brand,
            settings,
            metrics: Arc::new(Metrics::default()),
            engine: regulars_engine::EngineConfig::default(),
            order_rules: segments::OrderRules::default(),
            facts_version: Arc::default(),
            segmentation: Arc::default(),
            segment_settings: SegmentSettings::default(),
            points: PointsSettings::default(),
            points_queued: Arc::default(),
            tiers: None,
            birthday_issue: BirthdayIssue::default(),
            referrals: None,
            live: Arc::default(),
            transition_log: Arc::default(),
            loyalty_refresh: Arc::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The brand's conventions.
    pub fn brand(&self) -> &Brand {
        &self.brand
    }

    /// The ingest settings.
    pub fn settings(&self) -> IngestSettings {
        self.settings
    }

    /// The same application with these segmentation options (validated by the caller) and
    /// order rules.
    #[must_use]
    pub fn with_segmentation(
        mut self,
        engine: regulars_engine::EngineConfig,
        order_rules: segments::OrderRules,
    ) -> Self {
        self.engine = engine;
        self.order_rules = order_rules;
        self
    }

    /// The same application with these points rules.
    #[must_use]
    pub fn with_points_settings(mut self, settings: PointsSettings) -> Self {
        self.points = settings;
        self
    }

    /// The same application with this recompute and snapshot schedule.
    #[must_use]
    pub fn with_segment_settings(mut self, settings: SegmentSettings) -> Self {
        self.segment_settings = settings;
        self
    }

    /// The segmentation models' options.
    pub fn engine_config(&self) -> &regulars_engine::EngineConfig {
        &self.engine
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Now, by the application's clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }

    /// Today in the brand's time zone.
    pub fn today(&self) -> jiff::civil::Date {
        self.brand_day(self.now())
    }

    /// The member, or `NotFound` naming them.
    pub(crate) async fn known_member(
        &self,
        member_id: &regulars_domain::MemberId,
    ) -> AppResult<regulars_domain::Member> {
        self.store.get_member(member_id).await.map_err(|e| match e {
            StoreError::NotFound => AppError::NotFound(format!("member {member_id}")),
            other => other.into(),
        })
    }

    /// The brand's civil date at `at`.
    pub fn brand_day(&self, at: jiff::Timestamp) -> jiff::civil::Date {
        at.to_zoned(self.brand.time_zone.clone()).date()
    }
}
