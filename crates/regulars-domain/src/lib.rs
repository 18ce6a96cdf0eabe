//! The facts Regulars stands on, as validated values: members, stores, orders with their lines,
//! returns, interactions and behaviour events, plus the rules that judge a re-sent fact.
//!
//! This crate does no IO, reads no clock and knows no serialisation format: a value of one of
//! its types has passed its rules, so the layers above never re-check them.
#![warn(missing_docs)]

pub mod audience;
mod contact;
mod coupons;
mod earning;
mod error;
mod event;
mod id;
mod interaction;
mod key;
mod member;
mod member_list;
mod money;
mod order;
mod points;
mod referrals;
mod returns;
mod store;
mod tiers;
mod time;

pub use contact::{Email, LineUserId, Phone};
pub use coupons::{
    Basket, BasketLine, CodeSource, CouponCode, CouponTemplate, Discount, DiscountClass,
    Eligibility, NotApplicable, Offer, TemplateName, Validity, discount, discounts,
};
pub use earning::{BonusPeriod, CapPeriod, EarnCap, EarnRules, Multiplier};
pub use error::{FieldError, FieldErrors};
pub use event::{BehaviourEvent, EventKind};
pub use id::{EventId, InteractionId, MemberId, OrderId, ReturnId, Sku, StoreId, derived_id};
pub use interaction::{Interaction, InteractionChannel, InteractionKind};
pub use key::ApiRole;
pub use member::{
    Consent, ConsentChannel, FactOrigin, Gender, Member, MemberChange, MemberProfile, merge_profile,
};
pub use member_list::MemberList;
pub use money::{Currency, Money};
pub use order::{Order, OrderLine, OrderStatus, Resend, classify_order_resend};
pub use points::{
    CAUSE_KINDS, Lot, PointsBalance, PointsExpiry, PointsKind, parse_cause, parse_points_key,
    plan_debit, plan_reversal,
};
pub use referrals::{
    FirstOrder, ReferralCode, ReferralRules, ReferralStatus, Settlement, screen_referral,
};
pub use returns::{NewReturn, ReturnLine};
pub use store::{Store, StoreChannel};
pub use tiers::{
    DowngradeMode, MAX_TIER_LEVELS, QualifyingOrder, RenewalWindow, TierBenefits, TierChange,
    TierChangeKind, TierLevel, TierMetric, TierName, TierProgress, TierRules, TierState,
    TierTimeline,
};
pub use time::{parse_date, parse_instant};

/// A bounded piece of free text (a name, a region, a category), trimmed, with no control characters.
///
/// Returns `None` for an empty value.
pub fn parse_text(value: &str, max_chars: usize) -> Result<Option<String>, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max_chars {
        return Err(format!("longer than {max_chars} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("contains control characters".to_owned());
    }
    Ok(Some(trimmed.to_owned()))
}
