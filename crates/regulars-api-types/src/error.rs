//! The one error shape of the API and its exhaustive table of stable codes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stable, documented error code. Clients match on these; they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No API key, or one that is unknown or revoked.
    Unauthorized,
    /// The key's role may not do this.
    Forbidden,
    /// The resource does not exist.
    NotFound,
    /// No endpoint at this path.
    RouteNotFound,
    /// The endpoint exists but not for this method.
    MethodNotAllowed,
    /// The body is not JSON of the expected shape.
    InvalidJson,
    /// One or more fields broke their rules; `details` names them.
    ValidationFailed,
    /// The same id is stored with different content.
    Conflict,
    /// The item names a member, store or order the store does not know.
    UnknownReference,
    /// A batch with more items than allowed.
    BatchTooLarge,
    /// A body larger than allowed.
    PayloadTooLarge,
    /// The `Idempotency-Key` was used before with a different request.
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` has not finished.
    IdempotencyKeyInFlight,
    /// The `Idempotency-Key` header is empty or longer than 255 characters.
    InvalidIdempotencyKey,
    /// A redemption larger than the member's available points; nothing was spent.
    InsufficientPoints,
    /// The member, or the template, has had the most coupons it allows; nothing was issued.
    CouponLimitReached,
    /// The template's pool of imported codes is used up; nothing was issued.
    CouponPoolEmpty,
    /// The coupon does not apply to the basket (the message says why); nothing was used.
    CouponNotApplicable,
    /// The coupon is used, voided, expired or not valid yet; nothing was used.
    CouponNotUsable,
    /// A referral broke a rule (self-referral, a shared contact or device, a returning
    /// customer, the referrer's cap); nothing was recorded.
    ReferralRefused,
    /// The server failed; the details are in its log.
    Internal,
}

impl ErrorCode {
    /// Every code, for the documentation table.
    pub const ALL: &'static [Self] = &[
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::RouteNotFound,
        Self::MethodNotAllowed,
        Self::InvalidJson,
        Self::ValidationFailed,
        Self::Conflict,
        Self::UnknownReference,
        Self::BatchTooLarge,
        Self::PayloadTooLarge,
        Self::IdempotencyKeyReused,
        Self::IdempotencyKeyInFlight,
        Self::InvalidIdempotencyKey,
        Self::InsufficientPoints,
        Self::CouponLimitReached,
        Self::CouponPoolEmpty,
        Self::CouponNotApplicable,
        Self::CouponNotUsable,
        Self::ReferralRefused,
        Self::Internal,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidJson => "invalid_json",
            Self::ValidationFailed => "validation_failed",
            Self::Conflict => "conflict",
            Self::UnknownReference => "unknown_reference",
            Self::BatchTooLarge => "batch_too_large",
            Self::PayloadTooLarge => "payload_too_large",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::IdempotencyKeyInFlight => "idempotency_key_in_flight",
            Self::InvalidIdempotencyKey => "invalid_idempotency_key",
            Self::InsufficientPoints => "insufficient_points",
            Self::CouponLimitReached => "coupon_limit_reached",
            Self::CouponPoolEmpty => "coupon_pool_empty",
            Self::CouponNotApplicable => "coupon_not_applicable",
            Self::CouponNotUsable => "coupon_not_usable",
            Self::ReferralRefused => "referral_refused",
            Self::Internal => "internal",
        }
    }
}

/// One thing wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// The field at fault (`placed_at`, `lines[1].quantity`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Why, lowercase.
    pub reason: String,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The stable code.
    pub code: ErrorCode,
    /// A sentence for people.
    pub message: String,
    /// What exactly was wrong, field by field; empty when there is nothing more to say.
    #[serde(default)]
    pub details: Vec<ErrorDetail>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_serialises_as_its_documented_name() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().to_owned()));
        }
    }
}
