//! Referrals (domain-spec §4.5): each member's code, the rules that refuse a referral when it is
//! made (self-referral, a shared or similar e-mail, a shared phone, a referee who has bought
//! before), and when a referral pays: the referee's first valid order, at least the minimum,
//! once the return window after it has passed. A shared device and the cap per referrer are
//! held by the store, where they are counted.

use jiff::Span;
use jiff::civil::Date;

use crate::coupons::{generate_code, parse_code};
use crate::{Email, Member, OrderId, TemplateName};

/// A member's referral code: 4 to 16 of A-Z, 0-9 and -, upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReferralCode(String);

impl ReferralCode {
    /// Checks a code, upper-casing it.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_code(text, 16, "a referral code").map(Self)
    }

    /// A code of eight characters from `random`, without the look-alikes 0, O, 1 and I.
    pub fn generate(random: u64) -> Self {
        Self(generate_code(random, 8))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ReferralCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The referral programme (`[referrals]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralRules {
    /// Points for the referrer when a referral pays.
    pub referrer_points: i64,
    /// Points for the referee when it pays.
    pub referee_points: i64,
    /// A coupon for the referrer when it pays.
    pub referrer_coupon: Option<TemplateName>,
    /// A coupon for the referee when it pays.
    pub referee_coupon: Option<TemplateName>,
    /// A coupon for the referee at once, for their first order.
    pub welcome_coupon: Option<TemplateName>,
    /// The least the first order (net of shipping and returns, minor units) must be.
    pub min_order: i64,
    /// The most referrals (not refused) one member may make.
    pub max_per_referrer: u32,
    /// Days after the first order before a referral pays (the return window).
    pub wait_days: u32,
}

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferralStatus {
    /// Waiting for the referee's first valid order.
    Pending,
    /// The first order counts; waiting for its return window.
    Qualified,
    /// Both sides rewarded.
    Rewarded,
    /// It will never pay, for the reason recorded.
    Rejected,
}

impl ReferralStatus {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Qualified => "qualified",
            Self::Rewarded => "rewarded",
            Self::Rejected => "rejected",
        }
    }

    /// From its name.
    pub fn parse(text: &str) -> Result<Self, String> {
        [
            Self::Pending,
            Self::Qualified,
            Self::Rewarded,
            Self::Rejected,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .ok_or_else(|| format!("`{text}` is not a referral status"))
    }

    /// True while it may still pay.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::Qualified)
    }
}

/// Why a referral is refused when it is made, or `Ok` when it may be recorded.
pub fn screen_referral(
    referrer: &Member,
    referee: &Member,
    referee_has_ordered: bool,
) -> Result<(), String> {
    let (a, b) = (&referrer.profile, &referee.profile);
    if a.member_id == b.member_id {
        return Err("a member cannot refer themselves".to_owned());
    }
    if let (Some(x), Some(y)) = (&a.email, &b.email)
        && similar_email(x, y)
    {
        return Err(format!(
            "the referee's e-mail {y} is the referrer's ({x}) or nearly"
        ));
    }
    if let (Some(x), Some(y)) = (&a.phone, &b.phone)
        && x == y
    {
        return Err(format!("the referee shares the referrer's phone {x}"));
    }
    if referee_has_ordered {
        return Err(format!(
            "{} has ordered before: only first-time customers can be referred",
            b.member_id
        ));
    }
    Ok(())
}

/// The same mailbox, give or take a `+tag` and dots in the local part.
fn similar_email(a: &Email, b: &Email) -> bool {
    let canonical = |email: &Email| {
        let text = email.as_str().to_ascii_lowercase();
        let (local, domain) = text.split_once('@').unwrap_or((&text, ""));
        let local = local.split('+').next().unwrap_or(local).replace('.', "");
        format!("{local}@{domain}")
    };
    canonical(a) == canonical(b)
}

/// The referee's first valid order as a referral sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstOrder {
    /// The order.
    pub order_id: OrderId,
    /// The brand day it became valid.
    pub day: Date,
    /// What it is worth now, net of shipping and returns (minor units).
    pub net: i64,
}

/// What a referral should become today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// No valid order yet.
    Pending,
    /// The first order counts; it pays on `pays_on`.
    Qualified {
        /// The order.
        order_id: OrderId,
        /// The day it pays.
        pays_on: Date,
    },
    /// Reward both sides now.
    Reward {
        /// The order.
        order_id: OrderId,
    },
    /// It will never pay.
    Reject {
        /// The order that settled it.
        order_id: OrderId,
        /// Why.
        reason: String,
    },
}

impl ReferralRules {
    /// What a referral whose referee's first valid order is `first` should become on `today`.
    pub fn settle(&self, first: Option<&FirstOrder>, today: Date) -> Settlement {
        let Some(first) = first else {
            return Settlement::Pending;
        };
        if first.net < self.min_order {
            return Settlement::Reject {
                order_id: first.order_id.clone(),
                reason: format!(
                    "the first order {} of {} is under the minimum {}",
                    first.order_id, first.net, self.min_order
                ),
            };
        }
        let pays_on = first
            .day
            .checked_add(Span::new().days(i64::from(self.wait_days)))
            .unwrap_or(first.day);
        if today < pays_on {
            Settlement::Qualified {
                order_id: first.order_id.clone(),
                pays_on,
            }
        } else {
            Settlement::Reward {
                order_id: first.order_id.clone(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;
    use crate::{MemberId, MemberProfile, Phone};

    fn member(id: &str, email: Option<&str>, phone: Option<&str>) -> Member {
        let mut profile = MemberProfile::empty(MemberId::parse(id).unwrap());
        profile.email = email.map(|e| Email::parse(e).unwrap());
        profile.phone = phone.map(|p| Phone::parse(p).unwrap());
        Member {
            profile,
            created_from: None,
            revision: 1,
        }
    }

    fn rules() -> ReferralRules {
        ReferralRules {
            referrer_points: 100,
            referee_points: 50,
            referrer_coupon: None,
            referee_coupon: None,
            welcome_coupon: None,
            min_order: 30_000,
            max_per_referrer: 10,
            wait_days: 14,
        }
    }

    #[test]
    fn a_referral_is_refused_for_oneself_a_shared_contact_or_a_returning_customer() {
        let amy = member("M1", Some("amy.lin+shop@example.com"), Some("0912345678"));
        let bo = member("M2", Some("bo@example.com"), Some("0922333444"));
        assert_eq!(screen_referral(&amy, &bo, false), Ok(()));
        assert!(
            screen_referral(&amy, &amy, false)
                .unwrap_err()
                .contains("themselves")
        );
        let alias = member("M3", Some("amylin@example.com"), None);
        assert!(
            screen_referral(&amy, &alias, false)
                .unwrap_err()
                .contains("e-mail")
        );
        let phone = member("M4", None, Some("+886912345678"));
        assert!(
            screen_referral(&amy, &phone, false)
                .unwrap_err()
                .contains("phone")
        );
        assert!(
            screen_referral(&amy, &bo, true)
                .unwrap_err()
                .contains("first-time")
        );
    }

    #[test]
    fn a_referral_pays_once_the_first_orders_return_window_has_passed() {
        let first = FirstOrder {
            order_id: OrderId::parse("O1").unwrap(),
            day: date(2026, 11, 1),
            net: 45_000,
        };
        let rules = rules();
        assert_eq!(rules.settle(None, date(2026, 11, 1)), Settlement::Pending);
        assert_eq!(
            rules.settle(Some(&first), date(2026, 11, 14)),
            Settlement::Qualified {
                order_id: first.order_id.clone(),
                pays_on: date(2026, 11, 15)
            }
        );
        assert_eq!(
            rules.settle(Some(&first), date(2026, 11, 15)),
            Settlement::Reward {
                order_id: first.order_id.clone()
            }
        );
        let small = FirstOrder {
            net: 29_999,
            ..first
        };
        assert!(matches!(
            rules.settle(Some(&small), date(2026, 12, 1)),
            Settlement::Reject { reason, .. } if reason.contains("under the minimum 30000")
        ));
    }

    #[test]
    fn codes_are_generated_from_the_unambiguous_alphabet_and_read_back() {
        let code = ReferralCode::generate(0x1234_5678_9abc);
        assert_eq!(code.as_str().len(), 8);
        assert_eq!(
            ReferralCode::parse(&code.as_str().to_lowercase()).unwrap(),
            code
        );
        assert!(ReferralCode::parse("a b").is_err());
    }
}
