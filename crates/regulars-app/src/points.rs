//! Points: earning, redeeming and adjusting a member's points through the append-only ledger,
//! each under an idempotency key so a retry or a second process never counts twice; and reading
//! the balance (available, pending, expiring, owed) with the history. Earning from orders is in
//! `earning`, expiry and its warnings in `expiry`.

use regulars_domain::{
    EarnRules, MemberId, PointsBalance, PointsExpiry, PointsKind, parse_cause, parse_points_key,
};
use regulars_store::{Draw, PointsEntry, PointsOutcome, PointsRequest, StoreError};

use crate::{App, AppError, AppResult};

/// The points rules (`[points]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsSettings {
    /// When granted points stop counting.
    pub expiry: PointsExpiry,
    /// How orders earn points; `None` when they earn none.
    pub earn: Option<EarnRules>,
    /// Days an order's points stay pending after it became valid, so a return within the
    /// window takes them back before they can be spent.
    pub pending_days: u32,
    /// Days before their points expire that members are warned (`warn_days`), largest first.
    pub warn_days: Vec<u32>,
}

impl Default for PointsSettings {
    fn default() -> Self {
        Self {
            expiry: PointsExpiry::PerGrant(365),
            earn: Some(EarnRules {
                unit: regulars_domain::Money::from_minor(10_000, regulars_domain::Currency::TWD),
                include_shipping: false,
                categories: Vec::new(),
                skus: Vec::new(),
                bonus_periods: Vec::new(),
                cap: None,
            }),
            pending_days: 14,
            warn_days: vec![30, 7],
        }
    }
}

/// A change to a member's points, as a person or a system asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsChange {
    /// Whose points.
    pub member_id: MemberId,
    /// How many: above 0 to earn or redeem; above or below 0 to adjust.
    pub points: i64,
    /// The idempotency key: the same key again changes nothing and answers the same.
    pub key: String,
    /// Why, in words.
    pub reason: String,
    /// What caused it: `order:ID`, `return:ID`, `campaign:NAME`, `journey:NAME` or
    /// `operator:WHO`.
    pub cause: String,
}

/// What a change recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsRecorded {
    /// The ledger entries (a debit has one per grant it draws on).
    pub entries: Vec<PointsEntry>,
    /// What it added to the member's debt, or (below 0) paid off.
    pub owed: i64,
    /// True when the key had been used for this change before, and nothing new was recorded.
    pub replayed: bool,
    /// The member's balance after it.
    pub balance: PointsBalance,
}

/// A member's points now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsAccount {
    /// Available, pending, expiring and owed points today.
    pub balance: PointsBalance,
    /// Ledger entries, newest first.
    pub entries: Vec<PointsEntry>,
}

/// The most points one change may move.
const MAX_POINTS: i64 = 1_000_000_000;

impl App {
    /// Credits `change.points` (above 0) earned now, spendable at once, expiring per the rules.
    pub async fn earn_points(&self, change: PointsChange) -> AppResult<PointsRecorded> {
        positive(change.points)?;
        self.record_points(change, PointsKind::Earn).await
    }

    /// Spends `change.points` (above 0), earliest-expiring points first; refused, with nothing
    /// spent, when the available points fall short.
    pub async fn redeem_points(&self, mut change: PointsChange) -> AppResult<PointsRecorded> {
        positive(change.points)?;
        change.points = -change.points;
        self.record_points(change, PointsKind::Redeem).await
    }

    /// Corrects a member's points up (a new grant) or down (spent like a redemption).
    pub async fn adjust_points(&self, change: PointsChange) -> AppResult<PointsRecorded> {
        if change.points == 0 || change.points.abs() > MAX_POINTS {
            return Err(AppError::Invalid {
                field: "points",
                reason: format!("an adjustment is from -{MAX_POINTS} to {MAX_POINTS}, not 0"),
            });
        }
        self.record_points(change, PointsKind::Adjust).await
    }

    /// The member's balance today and their newest `limit` entries (before entry `before`).
    pub async fn points_account(
        &self,
        member_id: &MemberId,
        limit: u32,
        before: Option<i64>,
    ) -> AppResult<PointsAccount> {
        // An unknown member is an error, not an empty account.
        self.known_member(member_id).await?;
        let balance = self.points_balance(member_id).await?;
        let entries = self.store.points_history(member_id, before, limit).await?;
        Ok(PointsAccount { balance, entries })
    }

    async fn record_points(
        &self,
        change: PointsChange,
        kind: PointsKind,
    ) -> AppResult<PointsRecorded> {
        let key = idempotency_key(&change.key)?;
        let cause = cause_text(&change.cause)?;
        let reason = reason_text(&change.reason)?;
        let today = self.today();
        let request = PointsRequest {
            member_id: change.member_id.clone(),
            key,
            kind,
            points: change.points,
            available_on: today,
            expires_on: self.points.expiry.expires_on(today),
            draw: Draw::Spendable,
            reason,
            cause,
            day: today,
            at: self.now(),
            cap: None,
        };
        let outcome = self
            .store
            .record_points(&request)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound(format!("member {}", change.member_id)),
                other => other.into(),
            })?;
        let (operation, replayed) = match outcome {
            PointsOutcome::Recorded(operation) => (operation, false),
            PointsOutcome::Replayed(operation) => (operation, true),
            PointsOutcome::Short(available) => {
                return Err(AppError::InsufficientPoints {
                    available,
                    asked: -change.points,
                });
            }
            PointsOutcome::KeyReused => {
                return Err(AppError::KeyReused(format!(
                    "idempotency key `{}` was used for another points change",
                    change.key
                )));
            }
        };
        if !replayed {
            let cause = format!("points:{}", change.key);
            self.refresh_loyalty(std::slice::from_ref(&change.member_id), &cause)
                .await?;
        }
        Ok(PointsRecorded {
            entries: operation.entries,
            owed: operation.owed,
            replayed,
            balance: self.points_balance(&change.member_id).await?,
        })
    }

    /// The member's balance today.
    pub(crate) async fn points_balance(&self, member_id: &MemberId) -> AppResult<PointsBalance> {
        let holdings = self.store.points_holdings(member_id).await?;
        Ok(PointsBalance::of(&holdings.lots, self.today()).with_debt(holdings.debt))
    }
}

/// An idempotency key of a points change, a coupon issue or a redemption.
pub(crate) fn idempotency_key(text: &str) -> AppResult<String> {
    parse_points_key(text).map_err(|reason| AppError::Invalid {
        field: "idempotency_key",
        reason,
    })
}

/// What caused a change: `order:ID`, `campaign:NAME`, `operator:WHO`, ….
pub(crate) fn cause_text(text: &str) -> AppResult<String> {
    parse_cause(text).map_err(|reason| AppError::Invalid {
        field: "cause",
        reason,
    })
}

/// A reason a person gave: 1 to 500 characters.
pub(crate) fn reason_text(text: &str) -> AppResult<String> {
    regulars_domain::parse_text(text, 500)
        .map_err(|reason| AppError::Invalid {
            field: "reason",
            reason,
        })?
        .ok_or(AppError::Invalid {
            field: "reason",
            reason: "say why".to_owned(),
        })
}

fn positive(points: i64) -> AppResult<()> {
    if (1..=MAX_POINTS).contains(&points) {
        Ok(())
    } else {
        Err(AppError::Invalid {
            field: "points",
            reason: format!("from 1 to {MAX_POINTS}"),
        })
    }
}
