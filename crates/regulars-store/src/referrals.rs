//! What the store keeps of referrals: each member's referral code (one per member, unique), and
//! each referral (one per referee) with where it stands. Recording a referral holds the rules
//! that need counting, inside its transaction: at most the cap of referrals (not rejected) per
//! referrer, and a device used for one referral is refused for another.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::{MemberId, OrderId, ReferralCode, ReferralStatus};

use crate::StoreResult;

/// One referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// Who was referred.
    pub referee: MemberId,
    /// Who referred them.
    pub referrer: MemberId,
    /// The code used.
    pub code: ReferralCode,
    /// The referee's device, when known.
    pub device_id: Option<String>,
    /// Where it stands.
    pub status: ReferralStatus,
    /// Why it was rejected, or when it pays.
    pub note: Option<String>,
    /// The referee's first valid order, once there is one.
    pub order_id: Option<OrderId>,
    /// The brand day it was made.
    pub referred_on: Date,
    /// The brand day it was rewarded or rejected.
    pub settled_on: Option<Date>,
    /// When it was recorded.
    pub at: Timestamp,
}

/// What recording a referral did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferralOutcome {
    /// Recorded now.
    Recorded(Referral),
    /// The referee had been referred already (by this code or another): that referral.
    Exists(Referral),
    /// The referrer has made the most referrals allowed.
    CapReached,
    /// Another referral came from the same device.
    DeviceUsed,
}

/// Referrals in the store.
#[async_trait]
pub trait ReferralStore: Send + Sync {
    /// The member's code, if they have one.
    async fn referral_code(&self, member_id: &MemberId) -> StoreResult<Option<ReferralCode>>;
    /// Gives the member `code` unless they have one: returns the member's code, or `None` when
    /// `code` belongs to another member (try another). `NotFound` for an unknown member.
    async fn claim_referral_code(
        &self,
        member_id: &MemberId,
        code: &ReferralCode,
        at: Timestamp,
    ) -> StoreResult<Option<ReferralCode>>;
    /// Whose code `code` is.
    async fn code_owner(&self, code: &ReferralCode) -> StoreResult<Option<MemberId>>;
    /// Records `referral` unless the referee has one, the referrer has `cap` referrals not
    /// rejected, or its device made another.
    async fn record_referral(&self, referral: &Referral, cap: u32) -> StoreResult<ReferralOutcome>;
    /// The referee's referral.
    async fn referral(&self, referee: &MemberId) -> StoreResult<Option<Referral>>;
    /// The referrals a member made, newest first.
    async fn referrals_by(&self, referrer: &MemberId) -> StoreResult<Vec<Referral>>;
    /// Up to `limit` referrals still open (pending or qualified), by referee after `after`.
    async fn open_referrals(
        &self,
        after: Option<&MemberId>,
        limit: u32,
    ) -> StoreResult<Vec<Referral>>;
    /// Moves an open referral on; a referral already rewarded or rejected stays as it is.
    async fn update_referral(
        &self,
        referee: &MemberId,
        status: ReferralStatus,
        note: Option<&str>,
        order_id: Option<&OrderId>,
        settled_on: Option<Date>,
    ) -> StoreResult<()>;
}
