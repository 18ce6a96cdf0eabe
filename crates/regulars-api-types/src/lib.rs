//! The HTTP API's wire types: `*Request` bodies in, `*View` bodies out, and the table of stable
//! error codes. Serde and OpenAPI schemas only: no HTTP types and no domain types, so the client
//! and outside users compile none of the server.
//!
//! Conventions: money is an integer count of minor units beside a `currency` code (`12345` with
//! `TWD` is 123.45 TWD); instants are RFC 3339 text; optional fields may be left out.
#![warn(missing_docs)]

mod audience;
mod coupons;
mod error;
mod facts;
mod points;
mod referrals;
mod tiers;
mod views;

pub use audience::{
    AttributeTestJson, AudienceListView, AudienceMembersView, AudienceMoveView, AudienceMovesView,
    AudiencePresetView, AudiencePresetsView, AudiencePreviewRequest, AudiencePreviewView,
    AudienceRuleJson, AudienceSaveRequest, AudienceSavedView, AudienceView, ConditionJson,
    DateRangeJson, EventJson, FactFilterJson, MeasureJson, PointsExpiringJson, RepurchaseCycleJson,
    ScalarJson, TagChangeView, TagChangesView, TagOutcomeView, TagRequest, UnusedCouponsJson,
};
pub use coupons::{
    BasketJson, BasketLineJson, CouponBulkIssuedView, CouponCheckRequest, CouponCheckView,
    CouponChecksView, CouponCodesAddedView, CouponCodesRequest, CouponIssueRequest,
    CouponIssuedView, CouponRedeemRequest, CouponRedeemedView, CouponRefusedView, CouponStatsView,
    CouponTemplateListView, CouponTemplateRequest, CouponTemplateView, CouponView,
    CouponVoidRequest, CouponsRedeemRequest, CouponsRedeemedView, EligibilityJson,
    MemberCouponsView, OfferJson, RedemptionView, ValidityJson,
};
pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use facts::{
    ConsentRequest, EventRequest, InteractionRequest, MemberRequest, OrderLineImportRequest,
    OrderLineRequest, OrderRequest, ReturnLineRequest, ReturnRequest, StoreRequest,
};
pub use points::{
    ExpiringMemberView, ExpiringMembersView, ExpiringPointsView, PointsAccountView,
    PointsBalanceView, PointsChangeRequest, PointsEntryView, PointsRecordedView, PointsWarningView,
    PointsWarningsView,
};
pub use referrals::{MemberReferralsView, ReferralRequest, ReferralView, ReferralsSettledView};
pub use tiers::{
    MemberTierView, NearTierMemberView, NearTierView, TierChangeView, TierChangesView,
    TierEvaluateRequest, TierEvaluationView, TierLevelView, TierProgramView, WalletTierView,
    WalletView,
};
pub use views::{
    ApiKeyCreatedView, BatchItemView, BatchResultView, ConsentView, EventView, HealthView,
    IngestResultView, InteractionView, MemberFactsView, MemberSegmentsView, MemberView,
    MigrationCellView, MigrationView, ModelVerdictView, OrderLineView, OrderView, ReturnLineView,
    ReturnView, SegmentCountView, SegmentCountsView, SegmentMembersView, StatsView, StoreView,
    TransitionView, TransitionsView,
};

/// The most items one batch request may carry.
pub const MAX_BATCH_ITEMS: usize = 10_000;

/// A batch of items of one kind, each checked on its own: bad items are reported by index and
/// the good ones are stored.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BatchRequest<T> {
    /// Up to 10,000 items.
    pub items: Vec<T>,
}
