//! Referrals: referring a member with a code, one referral, a member's code with the referrals
//! they made, and what a settling pass did.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Refers a new member with a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRequest {
    /// The referrer's code.
    pub code: String,
    /// The member referred (a first-time customer).
    pub referee_member_id: String,
    /// The referee's device (app install id, LINE user's device): a device refers once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The day it was made (`YYYY-MM-DD`), for history from another system; default today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_on: Option<String>,
}

/// One referral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReferralView {
    /// Who was referred.
    pub referee_member_id: String,
    /// Who referred them.
    pub referrer_member_id: String,
    /// The code used.
    pub code: String,
    /// `pending` (no valid order yet), `qualified` (its first order waits out the return
    /// window), `rewarded` or `rejected`.
    pub status: String,
    /// Why it was rejected, or when it pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The referee's first valid order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The day it was made.
    pub referred_on: String,
    /// The day it was rewarded or rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_on: Option<String>,
}

/// A member's code and referrals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MemberReferralsView {
    /// The member.
    pub member_id: String,
    /// Their referral code.
    pub code: String,
    /// The referrals they made, newest first.
    pub referrals: Vec<ReferralView>,
    /// How many of them were rewarded.
    pub rewarded: u64,
    /// The referral that brought them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_by: Option<ReferralView>,
}

/// What settling did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReferralsSettledView {
    /// Open referrals looked at.
    pub open: u64,
    /// Newly qualified.
    pub qualified: u64,
    /// Rewarded now.
    pub rewarded: u64,
    /// Rejected now.
    pub rejected: u64,
}
