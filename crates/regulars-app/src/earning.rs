//! Earning points from orders, and taking them back. Every order recorded, moved to another
//! status or returned against waits on the store's queue (written with the fact itself); this
//! works through it: a valid order earns once (pending until the return window has passed), a
//! return takes back what its amount earned, a cancellation takes back the rest. Each step has
//! an idempotency key derived from the order or return, so working an order again, from any
//! process, changes nothing. An order earns at its member's tier multiplier (the tier held when
//! the day it was placed began); its members' tiers are evaluated first. Under an earning cap
//! the store grants an order at most what its period has left, net of what returns took back.

use std::collections::HashMap;

use regulars_domain::{
    EarnRules, MemberId, Multiplier, NewReturn, Order, OrderStatus, PointsKind, ReturnLine,
};
use regulars_store::{Draw, PointsCap, PointsOperation, PointsOutcome, PointsRequest};

use crate::segments::ValidOrderMode;
use crate::tiers::Evaluated;
use crate::{App, AppResult};

/// What one pass over the queue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accrued {
    /// Orders looked at.
    pub orders: u64,
    /// Points earned (pending or available).
    pub earned: i64,
    /// Points taken back by returns and cancellations, owed part included.
    pub reversed: i64,
    /// Tier changes the orders made.
    pub tier_changes: u64,
}

/// How many queued orders one step reads.
const BATCH: u32 = 500;

impl App {
    /// Works through the queue of orders whose points may need earning or taking back, until it
    /// is empty, a batch of orders at a time: what the batch's orders have recorded is read at
    /// once, their earnings written in one transaction, then what returns and cancellations take
    /// back in another. The server runs it as orders arrive and on every tick; an import and the
    /// demo when they end.
    pub async fn accrue_points(&self) -> AppResult<Accrued> {
        let mut accrued = Accrued::default();
        loop {
            let queued = self.store.queued_point_orders(BATCH).await?;
            if queued.is_empty() {
                return Ok(accrued);
            }
            if self.points.earn.is_some() || self.tier_rules().is_some() {
                let mut ids: Vec<_> = queued.iter().map(|(_, id)| id.clone()).collect();
                ids.sort();
                ids.dedup();
                let orders = self.store.get_orders(&ids).await?;
                // Tiers first: an order earns at the tier its member held when the day began,
                // and the qualifying order upgrades at once.
                let mut members: Vec<_> = orders.iter().map(|o| o.member_id.clone()).collect();
                members.sort();
                members.dedup();
                let tiers = self.evaluate_members(&members).await?;
                accrued.tier_changes += tiers.done.changes;
                if let Some(rules) = &self.points.earn {
                    let returns = self.store.get_returns(&ids).await?;
                    self.accrue_orders(rules, &orders, &returns, &tiers, &mut accrued)
                        .await?;
                }
            }
            let seqs: Vec<i64> = queued.iter().map(|(seq, _)| *seq).collect();
            self.store.dequeue_point_orders(&seqs).await?;
        }
    }

    /// Completes when orders or returns were recorded since the last call (at once if some were
    /// recorded before the first): the server then runs [`App::accrue_points`].
    pub async fn points_due(&self) {
        self.points_queued.notified().await;
    }

    /// Brings each order's points to what its state earns.
    async fn accrue_orders(
        &self,
        rules: &EarnRules,
        orders: &[Order],
        returns: &[NewReturn],
        tiers: &Evaluated,
        accrued: &mut Accrued,
    ) -> AppResult<()> {
        let mut keys = Vec::with_capacity(orders.len() * 2 + returns.len());
        for order in orders {
            keys.push(earn_key(order));
            keys.push(cancel_key(order));
        }
        keys.extend(returns.iter().map(return_key));
        let mut done: HashMap<String, PointsOperation> = self
            .store
            .points_operations(&keys)
            .await?
            .into_iter()
            .map(|op| (op.key.clone(), op))
            .collect();

        // First every order that has not earned yet and counts now earns, pending.
        let earns: Vec<PointsRequest> = orders
            .iter()
            .filter(|order| !done.contains_key(&earn_key(order)) && self.is_valid(order))
            .filter_map(|order| {
                let day = self.brand_day(order.placed_at);
                let tier = self.tier_multiplier(tiers, &order.member_id, day);
                self.earn_request(rules, order, tier)
            })
            .collect();
        for (operation, now) in self.record_derived(&earns).await? {
            if now {
                accrued.earned += operation.points;
            }
            done.insert(operation.key.clone(), operation);
        }

        // Then returns and cancellations take back what the orders no longer earn.
        let mut reversals = Vec::new();
        for order in orders {
            let Some(earned) = done.get(&earn_key(order)) else {
                continue;
            };
            let lots = earn_lots(earned);
            let mut taken: i64 = std::iter::once(cancel_key(order))
                .chain(
                    returns
                        .iter()
                        .filter(|r| r.order_id == order.order_id)
                        .map(return_key),
                )
                .filter_map(|key| done.get(&key))
                .map(|op| -op.points)
                .sum();
            let placed_on = self.brand_day(order.placed_at);
            let (mut refunded, mut returned) = (0, Vec::<ReturnLine>::new());
            for item in returns.iter().filter(|r| r.order_id == order.order_id) {
                refunded += item.amount.minor();
                returned.extend(item.lines.iter().cloned());
                let key = return_key(item);
                if done.contains_key(&key) {
                    continue;
                }
                let keeps = kept(rules, order, placed_on, earned.points, refunded, &returned);
                let take = earned.points - taken - keeps;
                if take > 0 {
                    let mut request = self.order_request(order, key, PointsKind::Reverse, -take);
                    request.cause = format!("return:{}", item.return_id);
                    request.reason =
                        format!("return {} of order {}", item.return_id, order.order_id);
                    request.draw = Draw::Reverse(lots.clone());
                    request.cap = self.order_cap(rules, order);
                    reversals.push(request);
                    taken += take;
                }
            }
            let take = earned.points - taken;
            if order.status == OrderStatus::Cancelled
                && take > 0
                && !done.contains_key(&cancel_key(order))
            {
                let mut request =
                    self.order_request(order, cancel_key(order), PointsKind::Reverse, -take);
                request.reason = format!("order {} cancelled", order.order_id);
                request.draw = Draw::Reverse(lots);
                request.cap = self.order_cap(rules, order);
                reversals.push(request);
            }
        }
        for (operation, now) in self.record_derived(&reversals).await? {
            if now {
                accrued.reversed -= operation.points;
            }
        }
        accrued.orders += orders.len() as u64;
        Ok(())
    }

    /// The request that earns `order` its points, pending from the day it became valid; `None`
    /// when it earns none.
    fn earn_request(
        &self,
        rules: &EarnRules,
        order: &Order,
        tier: Multiplier,
    ) -> Option<PointsRequest> {
        let placed_on = self.brand_day(order.placed_at);
        let points = rules.order_points(order, placed_on, tier, 0, &[]);
        if points <= 0 {
            return None;
        }
        let valid_on = self.valid_on(order);
        let available_on = valid_on
            .checked_add(jiff::Span::new().days(i64::from(self.points.pending_days)))
            .unwrap_or(valid_on);
        Some(PointsRequest {
            expires_on: self.points.expiry.expires_on(available_on),
            available_on,
            cap: self.order_cap(rules, order),
            ..self.order_request(order, earn_key(order), PointsKind::Earn, points)
        })
    }

    /// The earning cap an order's points count toward: the period of the day it was placed.
    fn order_cap(&self, rules: &EarnRules, order: &Order) -> Option<PointsCap> {
        rules.cap.map(|cap| PointsCap {
            period: cap.period.key(self.brand_day(order.placed_at)),
            limit: cap.points,
        })
    }

    /// The brand day a valid order became valid: the day it was placed, or the day it was
    /// completed under `valid_order_mode = "completed"`.
    pub(crate) fn valid_on(&self, order: &Order) -> jiff::civil::Date {
        match self.order_rules.valid_order_mode {
            ValidOrderMode::Paid => self.brand_day(order.placed_at),
            ValidOrderMode::Completed => self.brand_day(order.status_at.unwrap_or(order.placed_at)),
        }
    }

    /// True when the order counts now (for points, tiers and referrals): not cancelled, and
    /// completed under `valid_order_mode = "completed"`.
    pub(crate) fn is_valid(&self, order: &Order) -> bool {
        match order.status {
            OrderStatus::Cancelled => false,
            OrderStatus::Completed => true,
            OrderStatus::Paid => self.order_rules.valid_order_mode == ValidOrderMode::Paid,
        }
    }

    /// A request about `order` under `key`, spendable today, drawing on spendable points.
    fn order_request(
        &self,
        order: &Order,
        key: String,
        kind: PointsKind,
        points: i64,
    ) -> PointsRequest {
        let today = self.today();
        PointsRequest {
            member_id: order.member_id.clone(),
            key,
            kind,
            points,
            available_on: today,
            expires_on: None,
            draw: Draw::Spendable,
            reason: format!("order {}", order.order_id),
            cause: format!("order:{}", order.order_id),
            day: today,
            at: self.now(),
            cap: None,
        }
    }

    /// Records operations the rules derived, in one transaction, and returns them, each with
    /// true when it was recorded now (false: another process recorded it first). One whose key
    /// another operation took (a process working the order under other rules) is logged and left
    /// out.
    async fn record_derived(
        &self,
        requests: &[PointsRequest],
    ) -> AppResult<Vec<(PointsOperation, bool)>> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let outcomes = self.store.record_points_batch(requests).await?;
        let mut recorded = Vec::with_capacity(outcomes.len());
        let mut members: Vec<MemberId> = Vec::new();
        for (request, outcome) in requests.iter().zip(outcomes) {
            match outcome {
                PointsOutcome::Recorded(operation) => {
                    members.push(request.member_id.clone());
                    recorded.push((operation, true));
                }
                PointsOutcome::Replayed(operation) => recorded.push((operation, false)),
                PointsOutcome::KeyReused | PointsOutcome::Short(_) => {
                    tracing::warn!(
                        key = request.key,
                        "points for an order were recorded otherwise"
                    );
                }
            }
        }
        self.refresh_loyalty(&members, "points:orders").await?;
        Ok(recorded)
    }
}

/// What an order that earned `earned` keeps after `refunded` and the `returned` lines: the same
/// share of it as the rules give the order after them at ×1 (so the tier it earned at holds).
fn kept(
    rules: &EarnRules,
    order: &Order,
    day: jiff::civil::Date,
    earned: i64,
    refunded: i64,
    returned: &[ReturnLine],
) -> i64 {
    let full = rules.order_points(order, day, Multiplier::ONE, 0, &[]);
    let after = rules.order_points(order, day, Multiplier::ONE, refunded, returned);
    if full <= 0 {
        return 0;
    }
    i64::try_from(i128::from(earned) * i128::from(after) / i128::from(full)).unwrap_or(0)
}

/// The key an order's earning is recorded under.
fn earn_key(order: &Order) -> String {
    format!("earn:order:{}", order.order_id)
}

/// The key under which an order's cancellation takes back what is left of its points.
fn cancel_key(order: &Order) -> String {
    format!("reverse:order:{}", order.order_id)
}

/// The key under which a return takes back what its amount earned.
fn return_key(item: &NewReturn) -> String {
    format!("reverse:return:{}", item.return_id)
}

/// The lots an earning wrote.
fn earn_lots(operation: &PointsOperation) -> Vec<i64> {
    operation
        .entries
        .iter()
        .filter(|entry| entry.kind == PointsKind::Earn && entry.points > 0)
        .map(|entry| entry.seq)
        .collect()
}
