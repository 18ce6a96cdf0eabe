//! Coupons: saving templates and their code pools, issuing coupons (to one member, to every
//! member of a saved audience, or in exchange for points), checking coupons against a basket,
//! redeeming one or several together (all or none) against an order, voiding, and each
//! template's figures. Every issue and every redemption runs under an idempotency key, so a
//! retry or a second process never issues or redeems twice.

use regulars_domain::{
    Basket, CodeSource, CouponCode, CouponTemplate, Discount, MemberId, OrderId, PointsKind,
    TemplateName, discounts,
};
use regulars_store::{
    Coupon, CouponStats, Draw, IssueOutcome, IssueRequest, PointsRequest, RedeemOutcome,
    RedeemRequest, Redemption, StoreError,
};

use crate::points::{cause_text, idempotency_key, reason_text};
use crate::{App, AppError, AppResult};

/// Why a coupon was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponRefusal {
    /// The member, or the template, has had the most coupons it allows.
    LimitReached,
    /// The template's pool of imported codes is used up.
    PoolEmpty,
    /// The coupon does not apply to the basket.
    NotApplicable,
    /// The coupon is used, voided, expired or not valid yet.
    NotUsable,
}

/// A request to issue one coupon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponIssue {
    /// The template.
    pub template: String,
    /// To whom.
    pub member_id: MemberId,
    /// The idempotency key.
    pub key: String,
    /// What issued it: `operator:WHO`, `campaign:NAME`, `journey:NAME`, … (for an exchange, the
    /// points operation's cause too).
    pub cause: String,
    /// Pay the template's points cost from the member's points.
    pub with_points: bool,
}

/// An issued coupon, and whether the key had issued it before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCoupon {
    /// The coupon.
    pub coupon: Coupon,
    /// True when nothing new was issued.
    pub replayed: bool,
}

/// What issuing to a whole audience did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkIssue {
    /// Coupons issued now.
    pub issued: u64,
    /// Members who had one from this key already.
    pub replayed: u64,
    /// Members who got none, with why.
    pub refused: Vec<(MemberId, String)>,
}

/// What one coupon takes off a basket, or why it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponCheck {
    /// The code as asked.
    pub code: String,
    /// Its template, when the coupon is known.
    pub template: Option<String>,
    /// What it takes off, or why not.
    pub result: Result<Discount, String>,
}

/// A coupon with its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponDetail {
    /// The coupon.
    pub coupon: Coupon,
    /// Its template.
    pub template: CouponTemplate,
    /// Its uses, oldest first.
    pub redemptions: Vec<Redemption>,
}

/// A redemption, and whether the key had made it before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeemedCoupon {
    /// The use.
    pub redemption: Redemption,
    /// The coupon after it.
    pub coupon: Coupon,
    /// True when nothing new was redeemed.
    pub replayed: bool,
}

/// Issues per store transaction when issuing to an audience.
const BULK_BATCH: usize = 500;

/// Tries at a fresh generated code when one meets a code already taken.
const CODE_TRIES: usize = 5;

fn refused(kind: CouponRefusal, message: impl Into<String>) -> AppError {
    AppError::CouponRefused {
        kind,
        message: message.into(),
    }
}

fn template_name(text: &str) -> AppResult<TemplateName> {
    TemplateName::parse(text).map_err(|reason| AppError::Invalid {
        field: "template",
        reason,
    })
}

fn coupon_code(text: &str) -> AppResult<CouponCode> {
    CouponCode::parse(text).map_err(|reason| AppError::Invalid {
        field: "code",
        reason,
    })
}

/// 64 random bits for a generated code (a coupon's, a referral's).
pub(crate) fn random_u64() -> AppResult<u64> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Other(anyhow::anyhow!("no randomness available: {e}")))?;
    Ok(u64::from_le_bytes(bytes))
}

fn new_code() -> AppResult<CouponCode> {
    Ok(CouponCode::generate(random_u64()?))
}

impl App {
    /// Creates or replaces a template, refused with the first broken rule.
    pub async fn save_coupon_template(&self, template: CouponTemplate) -> AppResult<()> {
        if let Some((field, reason)) = template.check().into_iter().next() {
            return Err(AppError::Invalid { field, reason });
        }
        self.store.save_template(&template, self.now()).await?;
        Ok(())
    }

    /// Every template with its figures, by name.
    pub async fn coupon_templates(&self) -> AppResult<Vec<(CouponTemplate, CouponStats)>> {
        let mut out = Vec::new();
        for template in self.store.list_templates().await? {
            let stats = self.store.coupon_stats(&template.name).await?;
            out.push((template, stats));
        }
        Ok(out)
    }

    /// One template with its figures.
    pub async fn coupon_template(&self, name: &str) -> AppResult<(CouponTemplate, CouponStats)> {
        let template = self.template(name).await?;
        let stats = self.store.coupon_stats(&template.name).await?;
        Ok((template, stats))
    }

    pub(crate) async fn template(&self, name: &str) -> AppResult<CouponTemplate> {
        self.store
            .get_template(&template_name(name)?)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("coupon template `{name}`")))
    }

    /// Adds imported codes to a pool template; returns how many were new.
    pub async fn add_coupon_codes(&self, name: &str, codes: &[String]) -> AppResult<u64> {
        let template = self.template(name).await?;
        if template.codes != CodeSource::Pool {
            return Err(AppError::Invalid {
                field: "template",
                reason: format!("`{name}` generates its codes; it has no pool"),
            });
        }
        let mut parsed = Vec::with_capacity(codes.len());
        for (at, code) in codes.iter().enumerate() {
            parsed.push(CouponCode::parse(code).map_err(|reason| AppError::Invalid {
                field: "codes",
                reason: format!("code {}: {reason}", at + 1),
            })?);
        }
        Ok(self.store.add_pool_codes(&template.name, &parsed).await?)
    }

    /// Issues one coupon; the same key again answers with the coupon it issued.
    pub async fn issue_coupon(&self, issue: CouponIssue) -> AppResult<IssuedCoupon> {
        let template = self.template(&issue.template).await?;
        let request = self.issue_request(&template, &issue)?;
        let outcome = self.issue(&template, vec![request]).await?.pop();
        match outcome.expect("one outcome per request") {
            IssueOutcome::Issued(coupon) => Ok(IssuedCoupon {
                coupon,
                replayed: false,
            }),
            IssueOutcome::Replayed(coupon) => Ok(IssuedCoupon {
                coupon,
                replayed: true,
            }),
            other => Err(issue_refusal(&template, &other)),
        }
    }

    /// Issues a coupon a programme rewards with (a tier's entry, a referral), under `key`;
    /// returns true when it was issued now. A refusal (a missing template, a limit reached) is
    /// logged rather than failing the programme's other rewards.
    pub(crate) async fn issue_reward_coupon(
        &self,
        template: &str,
        member_id: &MemberId,
        key: &str,
        cause: &str,
    ) -> AppResult<bool> {
        let issued = self
            .issue_coupon(CouponIssue {
                template: template.to_owned(),
                member_id: member_id.clone(),
                key: key.to_owned(),
                cause: cause.to_owned(),
                with_points: false,
            })
            .await;
        match issued {
            Ok(issued) => Ok(!issued.replayed),
            Err(error @ (AppError::CouponRefused { .. } | AppError::NotFound(_))) => {
                tracing::warn!(%error, member = %member_id, template, "a reward coupon was not issued");
                Ok(false)
            }
            Err(other) => Err(other),
        }
    }

    /// Issues one coupon of `template` to every member of a saved audience now, each under
    /// `KEY:MEMBER`, so running it again issues only to members who joined since.
    pub async fn issue_coupons_to_audience(
        &self,
        template: &str,
        audience: &str,
        key: &str,
        cause: &str,
    ) -> AppResult<BulkIssue> {
        let template = self.template(template).await?;
        let (_, members) = self.audience_members(audience).await?;
        self.issue_to_members(
            &template,
            &members,
            |member_id| format!("{key}:{member_id}"),
            cause,
        )
        .await
    }

    /// Issues one coupon of `template` to each of `members`, under the key `key_of` gives
    /// each, a batch per store transaction.
    pub(crate) async fn issue_to_members(
        &self,
        template: &CouponTemplate,
        members: &[MemberId],
        key_of: impl Fn(&MemberId) -> String,
        cause: &str,
    ) -> AppResult<BulkIssue> {
        let mut summary = BulkIssue::default();
        for chunk in members.chunks(BULK_BATCH) {
            let requests = chunk
                .iter()
                .map(|member_id| {
                    self.issue_request(
                        template,
                        &CouponIssue {
                            template: template.name.to_string(),
                            member_id: member_id.clone(),
                            key: key_of(member_id),
                            cause: cause.to_owned(),
                            with_points: false,
                        },
                    )
                })
                .collect::<AppResult<Vec<_>>>()?;
            for (member_id, outcome) in chunk.iter().zip(self.issue(template, requests).await?) {
                match outcome {
                    IssueOutcome::Issued(_) => summary.issued += 1,
                    IssueOutcome::Replayed(_) => summary.replayed += 1,
                    other => summary.refused.push((
                        member_id.clone(),
                        issue_refusal(template, &other).to_string(),
                    )),
                }
            }
        }
        Ok(summary)
    }

    fn issue_request(
        &self,
        template: &CouponTemplate,
        issue: &CouponIssue,
    ) -> AppResult<IssueRequest> {
        let key = idempotency_key(&issue.key)?;
        let cause = cause_text(&issue.cause)?;
        let today = self.today();
        let Some((valid_from, valid_until)) = template.validity.window(today) else {
            return Err(refused(
                CouponRefusal::NotUsable,
                format!("`{}` ended before today", template.name),
            ));
        };
        let points = if issue.with_points {
            let Some(cost) = template.points_cost else {
                return Err(AppError::Invalid {
                    field: "with_points",
                    reason: format!("`{}` cannot be had for points", template.name),
                });
            };
            Some(PointsRequest {
                member_id: issue.member_id.clone(),
                key: format!("coupon:{key}"),
                kind: PointsKind::Redeem,
                points: -cost,
                available_on: today,
                expires_on: None,
                draw: Draw::Spendable,
                reason: format!("exchanged for {}", template.title),
                cause: cause.clone(),
                day: today,
                at: self.now(),
                cap: None,
            })
        } else {
            None
        };
        Ok(IssueRequest {
            key,
            template: template.name.clone(),
            member_id: issue.member_id.clone(),
            code: None,
            valid_from,
            valid_until,
            credit: template.offer.credit(),
            cause,
            points,
            day: today,
            at: self.now(),
        })
    }

    /// Writes issue requests, giving generated templates fresh codes and trying again with
    /// new ones for the few that meet a code already taken.
    async fn issue(
        &self,
        template: &CouponTemplate,
        mut requests: Vec<IssueRequest>,
    ) -> AppResult<Vec<IssueOutcome>> {
        let mut outcomes: Vec<Option<IssueOutcome>> = vec![None; requests.len()];
        let mut pending: Vec<usize> = (0..requests.len()).collect();
        for _ in 0..CODE_TRIES {
            for &at in &pending {
                if template.codes == CodeSource::Generated {
                    requests[at].code = Some(new_code()?);
                }
            }
            let batch: Vec<IssueRequest> = pending.iter().map(|&at| requests[at].clone()).collect();
            let answers = self
                .store
                .issue_coupons(&batch)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => AppError::NotFound("member".to_owned()),
                    other => other.into(),
                })?;
            let mut again = Vec::new();
            for (&at, answer) in pending.iter().zip(answers) {
                if answer == IssueOutcome::CodeTaken && template.codes == CodeSource::Generated {
                    again.push(at);
                } else {
                    outcomes[at] = Some(answer);
                }
            }
            pending = again;
            if pending.is_empty() {
                break;
            }
        }
        let outcomes: Vec<IssueOutcome> = outcomes
            .into_iter()
            .map(|o| o.unwrap_or(IssueOutcome::CodeTaken))
            .collect();
        let issued: Vec<MemberId> = outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                IssueOutcome::Issued(coupon) => Some(coupon.member_id.clone()),
                _ => None,
            })
            .collect();
        let cause = format!("coupon:{}", template.name);
        self.refresh_loyalty(&issued, &cause).await?;
        Ok(outcomes)
    }

    /// A member's coupons, newest first.
    pub async fn member_coupons(&self, member_id: &MemberId) -> AppResult<Vec<Coupon>> {
        self.known_member(member_id).await?;
        Ok(self.store.member_coupons(member_id).await?)
    }

    /// A coupon with its template and uses.
    pub async fn coupon(&self, code: &str) -> AppResult<CouponDetail> {
        let code = coupon_code(code)?;
        let coupon = self
            .store
            .get_coupon(&code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("coupon {code}")))?;
        let template = self.template(coupon.template.as_str()).await?;
        let redemptions = self.store.coupon_redemptions(&code).await?;
        Ok(CouponDetail {
            coupon,
            template,
            redemptions,
        })
    }

    /// The basket with its channel filled in from its store when it names a store but no
    /// channel.
    async fn complete_basket(&self, basket: &Basket) -> AppResult<Basket> {
        let mut basket = basket.clone();
        if basket.channel.is_none()
            && let Some(store_id) = &basket.store
        {
            basket.channel = self
                .store
                .list_stores()
                .await?
                .into_iter()
                .find(|s| &s.store_id == store_id)
                .map(|s| s.channel);
        }
        Ok(basket)
    }

    /// What each of `codes`, used together in that order by `member_id`, takes off `basket`
    /// today, or why it does not apply.
    pub async fn check_coupons(
        &self,
        member_id: &MemberId,
        codes: &[String],
        basket: &Basket,
    ) -> AppResult<Vec<CouponCheck>> {
        let basket = &self.complete_basket(basket).await?;
        let today = self.today();
        let mut checks = Vec::with_capacity(codes.len());
        let mut usable: Vec<(usize, CouponTemplate, i64)> = Vec::new();
        for (at, text) in codes.iter().enumerate() {
            let mut check = CouponCheck {
                code: text.clone(),
                template: None,
                result: Err(String::new()),
            };
            let found = match CouponCode::parse(text) {
                Ok(code) => self.store.get_coupon(&code).await?,
                Err(_) => None,
            };
            match found {
                Some(coupon) if &coupon.member_id == member_id => {
                    check.template = Some(coupon.template.to_string());
                    if coupon.usable_on(today) {
                        let template = self.template(coupon.template.as_str()).await?;
                        usable.push((at, template, coupon.credit));
                    } else {
                        check.result = Err(format!("the coupon is {}", coupon.state_on(today)));
                    }
                }
                _ => check.result = Err("no such coupon for this member".to_owned()),
            }
            checks.push(check);
        }
        let pairs: Vec<(&CouponTemplate, i64)> = usable.iter().map(|(_, t, c)| (t, *c)).collect();
        for ((at, _, _), result) in usable.iter().zip(discounts(&pairs, basket)) {
            checks[*at].result = result.map_err(|e| e.to_string());
        }
        Ok(checks)
    }

    /// Redeems one coupon of `member_id` against an order of `basket`, taking off what it gives
    /// that basket; refused, with nothing used, when it does not apply or is not usable. The
    /// same key again answers with the first redemption.
    pub async fn redeem_coupon(
        &self,
        code: &str,
        member_id: &MemberId,
        order_id: &OrderId,
        basket: &Basket,
        key: &str,
    ) -> AppResult<RedeemedCoupon> {
        let key = idempotency_key(key)?;
        let code = coupon_code(code)?;
        let mut redeemed = self
            .redeem_together(&[(code, key)], member_id, order_id, basket)
            .await?;
        Ok(redeemed.pop().expect("one redemption per coupon"))
    }

    /// Redeems several coupons of `member_id` against one order of `basket`, all or none: each
    /// takes off what it gives the basket after the ones before it (in the order given, as
    /// [`App::check_coupons`] works them out), under the key `KEY/CODE`, so one of them redeemed
    /// alone under `KEY/CODE` before is replayed, not used twice. Refused whole, with nothing
    /// used, when one does not apply, does not combine or is not usable.
    pub async fn redeem_coupons(
        &self,
        codes: &[String],
        member_id: &MemberId,
        order_id: &OrderId,
        basket: &Basket,
        key: &str,
    ) -> AppResult<Vec<RedeemedCoupon>> {
        let key = idempotency_key(key)?;
        if codes.is_empty() || codes.len() > MAX_CODES_TOGETHER {
            return Err(AppError::Invalid {
                field: "codes",
                reason: format!("from 1 to {MAX_CODES_TOGETHER} codes"),
            });
        }
        let mut keyed: Vec<(CouponCode, String)> = Vec::with_capacity(codes.len());
        for text in codes {
            let code = coupon_code(text)?;
            if keyed.iter().any(|(seen, _)| *seen == code) {
                return Err(AppError::Invalid {
                    field: "codes",
                    reason: format!("{code} is named twice"),
                });
            }
            let coupon_key = idempotency_key(&format!("{key}/{code}"))?;
            keyed.push((code, coupon_key));
        }
        self.redeem_together(&keyed, member_id, order_id, basket)
            .await
    }

    /// Redeems the coupons under their keys, all or none.
    async fn redeem_together(
        &self,
        keyed: &[(CouponCode, String)],
        member_id: &MemberId,
        order_id: &OrderId,
        basket: &Basket,
    ) -> AppResult<Vec<RedeemedCoupon>> {
        let mut coupons = Vec::with_capacity(keyed.len());
        for (code, _) in keyed {
            let coupon = self.store.get_coupon(code).await?;
            let Some(coupon) = coupon.filter(|c| &c.member_id == member_id) else {
                return Err(AppError::NotFound(format!(
                    "coupon {code} of member {member_id}"
                )));
            };
            let template = self.template(coupon.template.as_str()).await?;
            coupons.push((coupon, template));
        }
        let basket = &self.complete_basket(basket).await?;
        let today = self.today();
        let pairs: Vec<(&CouponTemplate, i64)> =
            coupons.iter().map(|(c, t)| (t, c.credit)).collect();
        let mut requests = Vec::with_capacity(keyed.len());
        for (((code, key), (coupon, _)), discount) in
            keyed.iter().zip(&coupons).zip(discounts(&pairs, basket))
        {
            // A replay must answer even though the coupon is used now: the store decides.
            let discount = match discount {
                Ok(discount) => discount.total(),
                Err(reason) if coupon.usable_on(today) => {
                    return Err(refused(
                        CouponRefusal::NotApplicable,
                        format!("coupon {code}: {reason}"),
                    ));
                }
                Err(_) => 0,
            };
            requests.push(RedeemRequest {
                key: key.clone(),
                code: code.clone(),
                member_id: member_id.clone(),
                order_id: order_id.clone(),
                discount,
                day: today,
                at: self.now(),
            });
        }
        let outcomes = self.store.redeem_coupons(&requests).await?;
        let mut redeemed = Vec::with_capacity(outcomes.len());
        for (outcome, request) in outcomes.into_iter().zip(&requests) {
            redeemed.push(redemption_of(outcome, request)?);
        }
        if redeemed.iter().any(|r| !r.replayed) {
            let cause = format!("order:{order_id}");
            self.refresh_loyalty(std::slice::from_ref(member_id), &cause)
                .await?;
        }
        Ok(redeemed)
    }

    /// Voids an active coupon (voiding it again changes nothing); a used one is left as it is
    /// and refused.
    pub async fn void_coupon(&self, code: &str, reason: &str) -> AppResult<Coupon> {
        let code = coupon_code(code)?;
        let reason = reason_text(reason)?;
        let coupon = self
            .store
            .void_coupon(&code, &reason, self.now())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("coupon {code}")))?;
        if coupon.status != regulars_store::CouponStatus::Voided {
            return Err(refused(
                CouponRefusal::NotUsable,
                format!("coupon {code} is {}", coupon.status.as_str()),
            ));
        }
        let cause = format!("coupon:{code}");
        self.refresh_loyalty(std::slice::from_ref(&coupon.member_id), &cause)
            .await?;
        Ok(coupon)
    }
}

fn issue_refusal(template: &CouponTemplate, outcome: &IssueOutcome) -> AppError {
    let name = &template.name;
    match outcome {
        IssueOutcome::KeyReused => AppError::KeyReused(
            "the idempotency key was used for another coupon or member".to_owned(),
        ),
        IssueOutcome::MemberLimit => refused(
            CouponRefusal::LimitReached,
            format!("the member has the most `{name}` coupons allowed"),
        ),
        IssueOutcome::TotalLimit => refused(
            CouponRefusal::LimitReached,
            format!("`{name}` has issued the most coupons allowed"),
        ),
        IssueOutcome::PoolEmpty => refused(
            CouponRefusal::PoolEmpty,
            format!("`{name}` has no pool code left"),
        ),
        IssueOutcome::CodeTaken => {
            AppError::Conflict("no free code was found; try again".to_owned())
        }
        IssueOutcome::Short(available) => AppError::InsufficientPoints {
            available: *available,
            asked: template.points_cost.unwrap_or_default(),
        },
        IssueOutcome::Issued(_) | IssueOutcome::Replayed(_) => {
            AppError::Conflict("issued".to_owned())
        }
    }
}

/// The most coupons redeemed together on one order.
pub const MAX_CODES_TOGETHER: usize = 10;

/// What a redemption's outcome means for the caller: the redemption, or why nothing was used.
fn redemption_of(outcome: RedeemOutcome, request: &RedeemRequest) -> AppResult<RedeemedCoupon> {
    let (code, order_id, key) = (&request.code, &request.order_id, &request.key);
    match outcome {
        RedeemOutcome::Redeemed(redemption, coupon) => Ok(RedeemedCoupon {
            redemption,
            coupon,
            replayed: false,
        }),
        RedeemOutcome::Replayed(redemption, coupon) => Ok(RedeemedCoupon {
            redemption,
            coupon,
            replayed: true,
        }),
        RedeemOutcome::KeyReused => Err(AppError::KeyReused(format!(
            "idempotency key `{key}` was used for another redemption"
        ))),
        RedeemOutcome::Unknown => Err(AppError::NotFound(format!("coupon {code}"))),
        RedeemOutcome::NotUsable(state) => Err(refused(
            CouponRefusal::NotUsable,
            format!("coupon {code} is {state}"),
        )),
        RedeemOutcome::AlreadyOnOrder => Err(refused(
            CouponRefusal::NotUsable,
            format!("coupon {code} is already used on order {order_id}"),
        )),
        RedeemOutcome::CreditShort(left) => Err(refused(
            CouponRefusal::NotApplicable,
            format!("coupon {code} has {left} credit left"),
        )),
    }
}
