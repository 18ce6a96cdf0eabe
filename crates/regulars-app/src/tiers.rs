//! Tiers: placing members on the brand's ladder from their orders, recording every change once,
//! granting entry rewards once per promotion, and answering where a member stands and how far
//! the next tier is.
//!
//! A member's tier is replayed from all their orders ([`TierRules::timeline`]), so evaluating
//! again (after a restart, from another process, or because a late order arrived) gives the same
//! tier and records nothing twice. Members are evaluated when their orders are worked for points
//! (so the qualifying order upgrades at once), and each day those whose evaluation changes with
//! time alone: a renewal check is due, or an order leaves the rolling window.

use std::collections::HashMap;

use jiff::Span;
use jiff::civil::Date;
use regulars_domain::{
    EarnRules, MemberId, Multiplier, NewReturn, Order, OrderStatus, QualifyingOrder, ReturnLine,
    TierChange, TierChangeKind, TierLevel, TierMetric, TierProgress, TierRules, TierTimeline,
};
use regulars_store::{
    FactVisitor, LoggedTierChange, MemberTier, OrderScan, ReturnScan, TierChangeFilter,
    TierChangeRecord,
};

use crate::points::PointsChange;
use crate::segments::ValidOrderMode;
use crate::{App, AppError, AppResult};

/// Members evaluated per store read and write.
const BATCH: usize = 500;

/// Promotions at most this many days old earn their entry reward; older ones (history from an
/// import) are recorded without one.
const REWARD_DAYS: i64 = 1;

/// What an evaluation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierEvaluation {
    /// Members evaluated.
    pub members: u64,
    /// Tier changes recorded now.
    pub changes: u64,
    /// Entry rewards granted now.
    pub rewards: u64,
}

impl TierEvaluation {
    fn add(&mut self, other: Self) {
        self.members += other.members;
        self.changes += other.changes;
        self.rewards += other.rewards;
    }
}

/// Members evaluated: each one's timeline, and the tally.
#[derive(Debug, Default)]
pub(crate) struct Evaluated {
    /// Each member's timeline.
    pub(crate) timelines: HashMap<MemberId, TierTimeline>,
    /// What it did.
    pub(crate) done: TierEvaluation,
}

/// Collects the members of every order in a full scan.
#[derive(Default)]
struct OrderingMembers(Vec<String>);

impl FactVisitor for OrderingMembers {
    fn member(&mut self, _: &str) {}
    fn return_(&mut self, _: ReturnScan<'_>) {}
    fn order(&mut self, row: OrderScan<'_>) {
        if self.0.last().is_none_or(|last| last != row.member_id) {
            self.0.push(row.member_id.to_owned());
        }
    }
    fn interaction(&mut self, _: &str, _: i64) {}
}

/// Where a member stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierStatus {
    /// The member.
    pub member_id: MemberId,
    /// Their level.
    pub level: TierLevel,
    /// The current term's first day.
    pub since: Option<Date>,
    /// The current term's last day (`None`: it does not expire).
    pub until: Option<Date>,
    /// What qualifies (`spend`, `points`, `orders`).
    pub metric: TierMetric,
    /// Progress to the next level and to renewal.
    pub progress: TierProgress,
    /// The next level, if any.
    pub next: Option<TierLevel>,
    /// Their changes, newest first.
    pub changes: Vec<LoggedTierChange>,
}

impl App {
    /// The same application with this tier programme (`None`: no tiers).
    #[must_use]
    pub fn with_tier_rules(mut self, rules: Option<TierRules>) -> Self {
        self.tiers = rules.map(std::sync::Arc::new);
        self
    }

    /// The tier programme, if the brand has one.
    pub fn tier_rules(&self) -> Option<&TierRules> {
        self.tiers.as_deref()
    }

    /// The tier programme, or `NotFound` when the brand has none.
    fn tier_rules_or_not_found(&self) -> AppResult<&TierRules> {
        self.tier_rules().ok_or_else(|| {
            AppError::NotFound("a tier programme ([tiers] in the configuration)".to_owned())
        })
    }

    /// Where `member_id` stands today, replayed from their orders now (without saving: the
    /// evaluations on orders and the daily pass keep the stored tiers current).
    pub async fn member_tier(&self, member_id: &MemberId) -> AppResult<TierStatus> {
        self.tier_rules_or_not_found()?;
        self.known_member(member_id).await?;
        self.tier_status(member_id, 100).await
    }

    /// Where a known member stands today, with their newest `changes` tier changes.
    pub(crate) async fn tier_status(
        &self,
        member_id: &MemberId,
        changes: u32,
    ) -> AppResult<TierStatus> {
        let rules = self.tier_rules_or_not_found()?;
        let today = self.today();
        let orders = self
            .qualifying_orders(rules, std::slice::from_ref(member_id))
            .await?
            .remove(member_id)
            .unwrap_or_default();
        let timeline = rules.timeline(&orders, today);
        let progress = rules.progress(&timeline.state, &orders, today);
        let changes = self
            .store
            .tier_changes(
                &TierChangeFilter {
                    member_id: Some(member_id.clone()),
                    ..TierChangeFilter::default()
                },
                changes,
            )
            .await?;
        Ok(TierStatus {
            member_id: member_id.clone(),
            level: rules.levels()[timeline.state.level].clone(),
            since: timeline.state.since,
            until: timeline.state.until,
            metric: rules.metric,
            next: progress.next.map(|next| rules.levels()[next].clone()),
            progress,
            changes,
        })
    }

    /// Evaluates `member_ids`, recording their changes and granting entry rewards.
    pub async fn evaluate_tiers(&self, member_ids: &[MemberId]) -> AppResult<TierEvaluation> {
        self.tier_rules_or_not_found()?;
        Ok(self.evaluate_members(member_ids).await?.done)
    }

    /// Evaluates every member with an order.
    pub async fn evaluate_all_tiers(&self) -> AppResult<TierEvaluation> {
        self.tier_rules_or_not_found()?;
        let mut collector = OrderingMembers::default();
        self.store.scan_facts(&mut collector).await?;
        let mut members: Vec<MemberId> = collector
            .0
            .iter()
            .filter_map(|id| MemberId::parse(id).ok())
            .collect();
        members.sort();
        members.dedup();
        Ok(self.evaluate_members(&members).await?.done)
    }

    /// Evaluates every member due today or before (a renewal check, or an order leaving the
    /// window). The server runs it once a day.
    pub async fn evaluate_due_tiers(&self) -> AppResult<TierEvaluation> {
        let mut done = TierEvaluation::default();
        if self.tier_rules().is_none() {
            return Ok(done);
        }
        let today = self.today();
        loop {
            let due = self.store.tiers_due(today, BATCH as u32).await?;
            let evaluated = self.evaluate_members(&due).await?.done;
            done.add(evaluated);
            // Each evaluation moves due_on past today, so the next read finds the rest.
            if due.len() < BATCH {
                return Ok(done);
            }
        }
    }

    /// Members per tier, base first, with every level of the ladder (members never evaluated
    /// count on the base level only once they have been).
    pub async fn tier_counts(&self) -> AppResult<Vec<(TierLevel, u64)>> {
        let rules = self.tier_rules_or_not_found()?;
        let counts: HashMap<String, u64> = self.store.tier_counts().await?.into_iter().collect();
        Ok(rules
            .levels()
            .iter()
            .map(|level| {
                (
                    level.clone(),
                    counts.get(level.name.as_str()).copied().unwrap_or(0),
                )
            })
            .collect())
    }

    /// Members within `within` (metric units) or `percent` of their next tier's entry, nearest
    /// first.
    pub async fn near_next_tier(
        &self,
        within: Option<i64>,
        percent: Option<u32>,
        limit: u32,
    ) -> AppResult<Vec<MemberTier>> {
        self.tier_rules_or_not_found()?;
        if within.is_some_and(|w| w <= 0) {
            return Err(AppError::Invalid {
                field: "within",
                reason: "is above 0".to_owned(),
            });
        }
        if percent.is_some_and(|p| p == 0 || p > 100) {
            return Err(AppError::Invalid {
                field: "percent",
                reason: "is from 1 to 100".to_owned(),
            });
        }
        Ok(self.store.near_next_tier(within, percent, limit).await?)
    }

    /// Recorded tier changes, newest first; a kind that is no tier change is refused.
    pub async fn tier_changes(
        &self,
        filter: &TierChangeFilter,
        limit: u32,
    ) -> AppResult<Vec<LoggedTierChange>> {
        if let Some(kind) = &filter.kind {
            TierChangeKind::parse(kind).map_err(|reason| AppError::Invalid {
                field: "kind",
                reason,
            })?;
        }
        Ok(self.store.tier_changes(filter, limit).await?)
    }

    /// Evaluates `member_ids` a batch at a time: reads their orders, replays their tiers, saves
    /// the tiers and the changes, and grants entry rewards for promotions recorded now.
    pub(crate) async fn evaluate_members(&self, member_ids: &[MemberId]) -> AppResult<Evaluated> {
        let mut all = Evaluated::default();
        for chunk in member_ids.chunks(BATCH) {
            let batch = self.evaluate_batch(chunk).await?;
            all.done.add(batch.done);
            all.timelines.extend(batch.timelines);
        }
        Ok(all)
    }

    async fn evaluate_batch(&self, member_ids: &[MemberId]) -> AppResult<Evaluated> {
        let Some(rules) = self.tier_rules() else {
            return Ok(Evaluated::default());
        };
        let today = self.today();
        let qualifying = self.qualifying_orders(rules, member_ids).await?;
        let mut saved = Vec::with_capacity(qualifying.len());
        let mut records = Vec::new();
        let mut evaluated = HashMap::with_capacity(qualifying.len());
        for (member_id, orders) in qualifying {
            let timeline = rules.timeline(&orders, today);
            let progress = rules.progress(&timeline.state, &orders, today);
            saved.push(MemberTier {
                member_id: member_id.clone(),
                tier: rules.levels()[timeline.state.level].name.to_string(),
                since: timeline.state.since,
                until: timeline.state.until,
                order_id: timeline.state.order_id.clone(),
                value: progress.value,
                next_tier: progress
                    .next
                    .map(|next| rules.levels()[next].name.to_string()),
                to_next: progress.to_next,
                due_on: self.due_on(rules, &progress, &orders, today),
                evaluated_on: today,
            });
            records.extend(
                timeline
                    .changes
                    .iter()
                    .map(|change| change_record(rules, &member_id, change)),
            );
            evaluated.insert(member_id, timeline);
        }
        let recorded = self.store.save_tiers(&saved, &records, self.now()).await?;
        let members: Vec<MemberId> = saved.iter().map(|t| t.member_id.clone()).collect();
        self.refresh_loyalty(&members, "tiers").await?;
        let mut done = TierEvaluation {
            members: evaluated.len() as u64,
            ..TierEvaluation::default()
        };
        let recent = today
            .checked_sub(Span::new().days(REWARD_DAYS))
            .unwrap_or(today);
        for (record, now) in records.iter().zip(recorded) {
            if !now {
                continue;
            }
            done.changes += 1;
            tracing::debug!(
                member = %record.member_id,
                from = record.from_tier,
                to = record.to_tier,
                kind = record.kind,
                "tier change"
            );
            let promotion =
                TierChangeKind::parse(&record.kind).is_ok_and(TierChangeKind::is_promotion);
            if promotion && record.day >= recent {
                done.rewards += self.grant_entry_rewards(rules, record).await?;
            }
        }
        Ok(Evaluated {
            timelines: evaluated,
            done,
        })
    }

    /// Each of `member_ids`' orders as tiers count them (members without orders too).
    async fn qualifying_orders(
        &self,
        rules: &TierRules,
        member_ids: &[MemberId],
    ) -> AppResult<HashMap<MemberId, Vec<QualifyingOrder>>> {
        let pairs = self.store.member_order_ids(member_ids).await?;
        let order_ids: Vec<_> = pairs.iter().map(|(_, order)| order.clone()).collect();
        let orders = self.store.get_orders(&order_ids).await?;
        let returns = self.store.get_returns(&order_ids).await?;
        let mut returns_of: HashMap<_, Vec<&NewReturn>> = HashMap::new();
        for item in &returns {
            returns_of
                .entry(item.order_id.clone())
                .or_default()
                .push(item);
        }
        let mut qualifying: HashMap<MemberId, Vec<QualifyingOrder>> = member_ids
            .iter()
            .map(|id| (id.clone(), Vec::new()))
            .collect();
        for order in &orders {
            let item_returns = returns_of
                .get(&order.order_id)
                .map_or(&[][..], Vec::as_slice);
            if let Some(counted) = self.qualifying_order(rules, order, item_returns) {
                qualifying
                    .entry(order.member_id.clone())
                    .or_default()
                    .push(counted);
            }
        }

        Ok(qualifying)
    }

    /// The tier multiplier each member's order placed on `day` earns at: the level in effect at
    /// the start of that day.
    pub(crate) fn tier_multiplier(
        &self,
        evaluated: &Evaluated,
        member_id: &MemberId,
        day: Date,
    ) -> Multiplier {
        let Some(rules) = self.tier_rules() else {
            return Multiplier::ONE;
        };
        evaluated
            .timelines
            .get(member_id)
            .map_or(Multiplier::ONE, |timeline| {
                rules.levels()[timeline.level_before(day)]
                    .benefits
                    .multiplier
            })
    }

    /// How `order` counts toward tiers, with its returns; `None` when it never counted.
    fn qualifying_order(
        &self,
        rules: &TierRules,
        order: &Order,
        returns: &[&NewReturn],
    ) -> Option<QualifyingOrder> {
        let placed_on = self.brand_day(order.placed_at);
        // A cancelled order counted while it was paid, when paid orders count.
        let was_valid = order.status == OrderStatus::Cancelled
            && self.order_rules.valid_order_mode == ValidOrderMode::Paid;
        if !self.is_valid(order) && !was_valid {
            return None;
        }
        let day = self.valid_on(order);
        let earn = self.points.earn.as_ref();
        let net = |refunded: i64| (order.amount.minor() - order.shipping.minor() - refunded).max(0);
        let value = |refunded: i64, returned: &[ReturnLine]| match rules.metric {
            TierMetric::Spend => net(refunded),
            TierMetric::Points => earn.map_or(0, |rules: &EarnRules| {
                rules.order_points(order, placed_on, Multiplier::ONE, refunded, returned)
            }),
            TierMetric::Orders => i64::from(net(refunded) > 0 || order.amount.minor() == 0),
        };
        let mut counted = QualifyingOrder {
            order_id: order.order_id.clone(),
            day,
            value: value(0, &[]),
            amount: net(0),
            changes: Vec::new(),
        };
        let mut sorted: Vec<&&NewReturn> = returns.iter().collect();
        sorted.sort_by_key(|item| (item.completed_at, item.return_id.clone()));
        let (mut refunded, mut returned) = (0, Vec::<ReturnLine>::new());
        for item in sorted {
            refunded += item.amount.minor();
            returned.extend(item.lines.iter().cloned());
            let on = self.brand_day(item.completed_at).max(day);
            counted
                .changes
                .push((on, value(refunded, &returned), net(refunded)));
        }
        if order.status == OrderStatus::Cancelled {
            // Counted from the day it was placed until the day it was cancelled; never counted
            // when that day is unknown.
            let cancelled_at = order.status_at?;
            let on = self.brand_day(cancelled_at).max(day);
            counted.changes.push((on, 0, 0));
        }
        counted.changes.sort_by_key(|(on, _, _)| *on);
        Some(counted)
    }

    /// The first day after `today` the evaluation changes with time alone: the renewal check, or
    /// the day the oldest order in the window leaves it.
    fn due_on(
        &self,
        rules: &TierRules,
        progress: &TierProgress,
        orders: &[QualifyingOrder],
        today: Date,
    ) -> Option<Date> {
        let leaving = orders
            .iter()
            .filter_map(|order| {
                order
                    .day
                    .checked_add(Span::new().days(i64::from(rules.window_days)))
                    .ok()
            })
            .filter(|leaves| *leaves > today)
            .min();
        match (progress.renews_on, leaving) {
            (Some(renews), Some(leaves)) => Some(renews.min(leaves)),
            (renews, leaves) => renews.or(leaves),
        }
    }

    /// Grants `record`'s level's entry points and coupon, each once per (member, tier, term
    /// start); returns how many were granted now.
    async fn grant_entry_rewards(
        &self,
        rules: &TierRules,
        record: &TierChangeRecord,
    ) -> AppResult<u64> {
        let Some(index) = rules.level_named(&record.to_tier) else {
            return Ok(0);
        };
        let benefits = &rules.levels()[index].benefits;
        let key = format!(
            "tier-entry:{}:{}:{}",
            record.member_id, record.to_tier, record.day
        );
        let cause = format!("tier:{}", record.to_tier);
        let mut granted = 0;
        if benefits.entry_points > 0 {
            let recorded = self
                .earn_points(PointsChange {
                    member_id: record.member_id.clone(),
                    points: benefits.entry_points,
                    key: format!("{key}:points"),
                    reason: format!("welcome to {}", rules.levels()[index].title),
                    cause: cause.clone(),
                })
                .await?;
            granted += u64::from(!recorded.replayed);
        }
        if let Some(template) = &benefits.entry_coupon {
            let issued = self
                .issue_reward_coupon(
                    template.as_str(),
                    &record.member_id,
                    &format!("{key}:coupon"),
                    &cause,
                )
                .await?;
            granted += u64::from(issued);
        }
        Ok(granted)
    }
}

/// The record of one change.
fn change_record(rules: &TierRules, member_id: &MemberId, change: &TierChange) -> TierChangeRecord {
    TierChangeRecord {
        member_id: member_id.clone(),
        day: change.day,
        from_tier: rules.levels()[change.from].name.to_string(),
        to_tier: rules.levels()[change.to].name.to_string(),
        kind: change.kind.as_str().to_owned(),
        value: change.value,
        order_id: change.order_id.clone(),
        reason: change.reason.clone(),
    }
}
