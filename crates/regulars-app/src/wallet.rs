//! The member wallet: what a brand's app or LINE OA shows a member, read in one call: the
//! points balance with what expires soon, the coupons usable today, the tier with the progress to
//! the next, and the referral code. It reads, except that a member of a referral programme who
//! has no code yet is given one.

use jiff::civil::Date;
use regulars_domain::{MemberId, PointsBalance, ReferralCode};
use regulars_store::Coupon;

use crate::tiers::TierStatus;
use crate::{App, AppError, AppResult};

/// A member's wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wallet {
    /// The member.
    pub member_id: MemberId,
    /// The brand day it was read.
    pub today: Date,
    /// Their points.
    pub points: PointsBalance,
    /// Coupons usable today, soonest to end first.
    pub coupons: Vec<Coupon>,
    /// Their tier, when the brand has a programme.
    pub tier: Option<TierStatus>,
    /// Their referral code, when the brand runs referrals.
    pub referral_code: Option<ReferralCode>,
}

impl App {
    /// The member's wallet today; `NotFound` for an unknown member.
    pub async fn wallet(&self, member_id: &MemberId) -> AppResult<Wallet> {
        self.known_member(member_id).await?;
        let today = self.today();
        let (points, coupons, tier, referral_code) = tokio::try_join!(
            self.points_balance(member_id),
            async {
                let mut coupons: Vec<Coupon> = self
                    .store
                    .member_coupons(member_id)
                    .await?
                    .into_iter()
                    .filter(|coupon| coupon.usable_on(today))
                    .collect();
                coupons.sort_by(|a, b| {
                    (a.valid_until, a.code.as_str()).cmp(&(b.valid_until, b.code.as_str()))
                });
                Ok::<_, AppError>(coupons)
            },
            async {
                match self.tier_rules() {
                    Some(_) => self.tier_status(member_id, 10).await.map(Some),
                    None => Ok(None),
                }
            },
            self.referral_code_of(member_id),
        )?;
        Ok(Wallet {
            member_id: member_id.clone(),
            today,
            points,
            coupons,
            tier,
            referral_code,
        })
    }
}
