//! Referrals: each member's code (given on first ask), referring a new member with it (refused
//! with the rule it breaks, and then nothing is recorded), and settling: a referral pays both
//! sides once the referee's first valid order, of at least the minimum, is past its return
//! window. Every reward is granted under a key derived from the referee, so settling again,
//! from any process, grants nothing twice.

use jiff::civil::Date;
use regulars_domain::{
    FirstOrder, MemberId, ReferralCode, ReferralRules, ReferralStatus, Settlement, screen_referral,
};
use regulars_store::{Referral, ReferralOutcome, StoreError};

use crate::coupons::random_u64;
use crate::points::PointsChange;
use crate::{App, AppError, AppResult};

/// Referrals settled per store read.
const BATCH: u32 = 500;

/// Tries at a fresh code when one meets a code already taken.
const CODE_TRIES: usize = 8;

/// A request to refer a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralRequest {
    /// The referrer's code.
    pub code: String,
    /// The member referred.
    pub referee: MemberId,
    /// The referee's device, when known (a device refers once).
    pub device_id: Option<String>,
    /// The day it was made, for history from another system (default today).
    pub referred_on: Option<Date>,
}

/// A member's side of referrals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberReferrals {
    /// Their code.
    pub code: ReferralCode,
    /// The referrals they made, newest first.
    pub made: Vec<Referral>,
    /// The referral that brought them, if any.
    pub referred_by: Option<Referral>,
}

/// What a settling pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReferralsSettled {
    /// Referrals looked at.
    pub open: u64,
    /// Whose first order now counts, waiting for its return window.
    pub qualified: u64,
    /// Rewarded now.
    pub rewarded: u64,
    /// Rejected now.
    pub rejected: u64,
}

impl App {
    /// The same application with this referral programme (`None`: no referrals).
    #[must_use]
    pub fn with_referral_rules(mut self, rules: Option<ReferralRules>) -> Self {
        self.referrals = rules.map(std::sync::Arc::new);
        self
    }

    /// The referral programme, if the brand runs one.
    pub fn referral_rules(&self) -> Option<&ReferralRules> {
        self.referrals.as_deref()
    }

    fn referral_rules_or_not_found(&self) -> AppResult<&ReferralRules> {
        self.referral_rules().ok_or_else(|| {
            AppError::NotFound("a referral programme ([referrals] in the configuration)".to_owned())
        })
    }

    /// The member's referral code, given now if they had none; `NotFound` for an unknown member.
    pub async fn referral_code(&self, member_id: &MemberId) -> AppResult<ReferralCode> {
        self.referral_rules_or_not_found()?;
        if let Some(code) = self.store.referral_code(member_id).await? {
            return Ok(code);
        }
        for _ in 0..CODE_TRIES {
            let code = new_code()?;
            match self
                .store
                .claim_referral_code(member_id, &code, self.now())
                .await
            {
                Ok(Some(code)) => return Ok(code),
                Ok(None) => {}
                Err(StoreError::NotFound) => {
                    return Err(AppError::NotFound(format!("member {member_id}")));
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(StoreError::Other(anyhow::anyhow!(
            "no free referral code after {CODE_TRIES} tries"
        ))
        .into())
    }

    /// The member's code when the brand runs referrals, for the wallet.
    pub(crate) async fn referral_code_of(
        &self,
        member_id: &MemberId,
    ) -> AppResult<Option<ReferralCode>> {
        if self.referral_rules().is_none() {
            return Ok(None);
        }
        self.referral_code(member_id).await.map(Some)
    }

    /// The member's code, the referrals they made and the one that brought them.
    pub async fn member_referrals(&self, member_id: &MemberId) -> AppResult<MemberReferrals> {
        let code = self.referral_code(member_id).await?;
        let made = self.store.referrals_by(member_id).await?;
        let referred_by = self.store.referral(member_id).await?;
        Ok(MemberReferrals {
            code,
            made,
            referred_by,
        })
    }

    /// Refers `request.referee` with a code: refused (nothing recorded) for an unknown code, a
    /// self-referral, a shared or similar e-mail, a shared phone, a referee who has ordered, a
    /// device that referred before, or a referrer at their cap. Returns the referral and true
    /// when it was recorded now (false: the referee had been referred by this code before).
    /// The programme's welcome coupon goes to the referee at once.
    pub async fn refer(&self, request: ReferralRequest) -> AppResult<(Referral, bool)> {
        let rules = self.referral_rules_or_not_found()?;
        let code = ReferralCode::parse(&request.code).map_err(|reason| AppError::Invalid {
            field: "code",
            reason,
        })?;
        if let Some(device) = &request.device_id
            && (device.is_empty() || device.len() > 200)
        {
            return Err(AppError::Invalid {
                field: "device_id",
                reason: "is 1 to 200 characters".to_owned(),
            });
        }
        let referrer = self
            .store
            .code_owner(&code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("referral code {code}")))?;
        let members = self
            .store
            .get_members(&[referrer.clone(), request.referee.clone()])
            .await?;
        let find = |id: &MemberId| members.iter().find(|m| &m.profile.member_id == id);
        let referee = find(&request.referee)
            .ok_or_else(|| AppError::NotFound(format!("member {}", request.referee)))?;
        let referrer_member =
            find(&referrer).ok_or_else(|| AppError::NotFound(format!("member {referrer}")))?;
        if let Some(existing) = self.store.referral(&request.referee).await? {
            return if existing.code == code {
                Ok((existing, false))
            } else {
                Err(AppError::ReferralRefused(format!(
                    "{} was referred by {} already",
                    request.referee, existing.referrer
                )))
            };
        }
        let has_ordered = self.first_valid_order(&request.referee).await?.is_some();
        screen_referral(referrer_member, referee, has_ordered)
            .map_err(AppError::ReferralRefused)?;
        let referral = Referral {
            referee: request.referee.clone(),
            referrer: referrer.clone(),
            code: code.clone(),
            device_id: request.device_id.clone(),
            status: ReferralStatus::Pending,
            note: None,
            order_id: None,
            referred_on: request.referred_on.unwrap_or_else(|| self.today()),
            settled_on: None,
            at: self.now(),
        };
        let referral = match self
            .store
            .record_referral(&referral, rules.max_per_referrer)
            .await?
        {
            ReferralOutcome::Recorded(referral) => referral,
            ReferralOutcome::Exists(existing) if existing.code == code => {
                return Ok((existing, false));
            }
            ReferralOutcome::Exists(existing) => {
                return Err(AppError::ReferralRefused(format!(
                    "{} was referred by {} already",
                    request.referee, existing.referrer
                )));
            }
            ReferralOutcome::CapReached => {
                return Err(AppError::ReferralRefused(format!(
                    "{referrer} has made the most referrals allowed ({})",
                    rules.max_per_referrer
                )));
            }
            ReferralOutcome::DeviceUsed => {
                return Err(AppError::ReferralRefused(
                    "this device was used for another referral".to_owned(),
                ));
            }
        };
        if let Some(template) = &rules.welcome_coupon {
            self.issue_reward_coupon(
                template.as_str(),
                &referral.referee,
                &format!("referral:{}:welcome:coupon", referral.referee),
                &format!("campaign:referral-{}", referral.referee),
            )
            .await?;
        }
        Ok((referral, true))
    }

    /// Moves every open referral on: a referee's first valid order qualifies it (or rejects it
    /// when under the minimum), and once its return window has passed both sides are rewarded.
    /// The server runs it once a day.
    pub async fn settle_referrals(&self) -> AppResult<ReferralsSettled> {
        let mut settled = ReferralsSettled::default();
        let Some(rules) = self.referral_rules() else {
            return Ok(settled);
        };
        let today = self.today();
        let mut after: Option<MemberId> = None;
        loop {
            let open = self.store.open_referrals(after.as_ref(), BATCH).await?;
            let Some(last) = open.last() else {
                return Ok(settled);
            };
            after = Some(last.referee.clone());
            for referral in &open {
                settled.open += 1;
                let first = self.first_valid_order(&referral.referee).await?;
                match rules.settle(first.as_ref(), today) {
                    Settlement::Pending => {
                        if referral.status != ReferralStatus::Pending {
                            // Its first order was cancelled: waiting again.
                            self.store
                                .update_referral(
                                    &referral.referee,
                                    ReferralStatus::Pending,
                                    None,
                                    None,
                                    None,
                                )
                                .await?;
                        }
                    }
                    Settlement::Qualified { order_id, pays_on } => {
                        if referral.status != ReferralStatus::Qualified
                            || referral.order_id.as_ref() != Some(&order_id)
                        {
                            settled.qualified += 1;
                            self.store
                                .update_referral(
                                    &referral.referee,
                                    ReferralStatus::Qualified,
                                    Some(&format!("pays on {pays_on}")),
                                    Some(&order_id),
                                    None,
                                )
                                .await?;
                        }
                    }
                    Settlement::Reward { order_id } => {
                        self.reward_referral(rules, referral).await?;
                        self.store
                            .update_referral(
                                &referral.referee,
                                ReferralStatus::Rewarded,
                                None,
                                Some(&order_id),
                                Some(today),
                            )
                            .await?;
                        settled.rewarded += 1;
                    }
                    Settlement::Reject { order_id, reason } => {
                        self.store
                            .update_referral(
                                &referral.referee,
                                ReferralStatus::Rejected,
                                Some(&reason),
                                Some(&order_id),
                                Some(today),
                            )
                            .await?;
                        settled.rejected += 1;
                    }
                }
            }
            if open.len() < BATCH as usize {
                return Ok(settled);
            }
        }
    }

    /// Grants both sides' points and coupons, each under `referral:REFEREE:SIDE:WHAT`.
    async fn reward_referral(&self, rules: &ReferralRules, referral: &Referral) -> AppResult<()> {
        for (side, member, points, coupon) in [
            (
                "referrer",
                &referral.referrer,
                rules.referrer_points,
                rules.referrer_coupon.as_ref(),
            ),
            (
                "referee",
                &referral.referee,
                rules.referee_points,
                rules.referee_coupon.as_ref(),
            ),
        ] {
            if points > 0 {
                self.earn_points(PointsChange {
                    member_id: member.clone(),
                    points,
                    key: format!("referral:{}:{side}:points", referral.referee),
                    reason: if side == "referrer" {
                        format!("for referring {}", referral.referee)
                    } else {
                        format!("for joining with {}'s code", referral.referrer)
                    },
                    cause: format!("referral:{}", referral.referee),
                })
                .await?;
            }
            if let Some(template) = coupon {
                self.issue_reward_coupon(
                    template.as_str(),
                    member,
                    &format!("referral:{}:{side}:coupon", referral.referee),
                    &format!("campaign:referral-{}", referral.referee),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// The member's first valid order (earliest placed, not cancelled, and completed where
    /// completed orders are the valid ones), with what it is worth now.
    async fn first_valid_order(&self, member_id: &MemberId) -> AppResult<Option<FirstOrder>> {
        let ids: Vec<_> = self
            .store
            .member_order_ids(std::slice::from_ref(member_id))
            .await?
            .into_iter()
            .map(|(_, order)| order)
            .collect();
        if ids.is_empty() {
            return Ok(None);
        }
        let orders = self.store.get_orders(&ids).await?;
        let returns = self.store.get_returns(&ids).await?;
        let valid = orders.iter().filter(|order| self.is_valid(order));
        let Some(first) = valid.min_by(|a, b| {
            (a.placed_at, a.order_id.as_str()).cmp(&(b.placed_at, b.order_id.as_str()))
        }) else {
            return Ok(None);
        };
        let refunded: i64 = returns
            .iter()
            .filter(|r| r.order_id == first.order_id)
            .map(|r| r.amount.minor())
            .sum();
        Ok(Some(FirstOrder {
            order_id: first.order_id.clone(),
            day: self.valid_on(first),
            net: (first.amount.minor() - first.shipping.minor() - refunded).max(0),
        }))
    }
}

fn new_code() -> AppResult<ReferralCode> {
    Ok(ReferralCode::generate(random_u64()?))
}
