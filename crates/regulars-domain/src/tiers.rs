//! Member tiers (domain-spec §4.2): a ladder of up to ten levels, the rules that move members
//! along it, and the replay that places a member from their orders alone.
//!
//! A member's tier is a pure function of their qualifying orders and the day: [`TierRules::timeline`]
//! replays every event in day order (an order placed, a return or cancellation taking value
//! back, a term ending) from the base level, so evaluating again, in another process or after a
//! restart, gives the same tier and the same history of changes.
//!
//! The rules, to the letter:
//! - **Qualifying value** on day `d`: the metric (spend net of shipping, points the orders
//!   earn at ×1, or the number of orders) of the valid orders placed in the rolling window
//!   `[d − window + 1, d]`, each counted as it stood on `d` (returns completed by then reduce it;
//!   a cancellation takes all of it).
//! - **Upgrade** on a day an order is placed: to the highest level whose `entry` the qualifying
//!   value meets, or whose `fast_upgrade` one order placed that day meets on its own. Levels may
//!   be skipped. The term starts that day and ends `term` months later, less a day.
//! - **Renewal** on `term end + grace + 1`: the value counted from the term's start (or over the
//!   rolling window ending the day before, `renewal_window = rolling`), without the order that
//!   made the upgrade unless `count_qualifying_order_for_renewal`. When it meets `retain` the
//!   tier renews for another term from the day after the old one ended; otherwise the member
//!   moves down to the highest level whose `retain` it meets (`to_qualifying`) or one level
//!   (`one_step`), for a term starting that day (the base level never expires).
//! - **Returns**, with `downgrade_on_return`: on a day a return or cancellation lowers an order,
//!   a member whose current term began with an upgrade and who no longer qualifies for their
//!   level (by value or by a fast-upgrade order still in the window) moves to the highest level
//!   they do qualify for.
//! - Within a day: a renewal due is decided first, then the orders placed that day upgrade (each
//!   counted as placed, earlier orders as they stood the day before), then that day's returns
//!   and cancellations take value back.

use std::collections::BTreeSet;

use jiff::Span;
use jiff::civil::Date;

use crate::coupons::parse_name;
use crate::{Multiplier, OrderId, TemplateName};

/// The most levels a ladder has.
pub const MAX_TIER_LEVELS: usize = 10;

/// A tier's name (`gold`): 1 to 32 of a-z, 0-9, - and _.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TierName(String);

impl TierName {
    /// Checks a name.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_name(text, 32, "a tier name").map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TierName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What qualifies a member for a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierMetric {
    /// Spend net of shipping and returns, in minor units (`spend`).
    Spend,
    /// Points the orders earn at ×1 (`points`).
    Points,
    /// Valid orders (`orders`).
    Orders,
}

impl TierMetric {
    /// Its configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spend => "spend",
            Self::Points => "points",
            Self::Orders => "orders",
        }
    }

    /// From its configuration name.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "spend" => Ok(Self::Spend),
            "points" => Ok(Self::Points),
            "orders" => Ok(Self::Orders),
            other => Err(format!("`{other}` is not `spend`, `points` or `orders`")),
        }
    }
}

/// Which spend a renewal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalWindow {
    /// From the term's start (`term`).
    Term,
    /// The rolling window ending the day before the check (`rolling`).
    Rolling,
}

impl RenewalWindow {
    /// Its configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Term => "term",
            Self::Rolling => "rolling",
        }
    }

    /// From its configuration name.
    pub fn parse(text: &str) -> Result<Self, String> {
        [Self::Term, Self::Rolling]
            .into_iter()
            .find(|window| window.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not `term` or `rolling`"))
    }
}

/// Where a member who does not renew goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DowngradeMode {
    /// To the highest level whose retain threshold is met (`to_qualifying`).
    ToQualifying,
    /// One level down (`one_step`).
    OneStep,
}

impl DowngradeMode {
    /// Its configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ToQualifying => "to_qualifying",
            Self::OneStep => "one_step",
        }
    }

    /// From its configuration name.
    pub fn parse(text: &str) -> Result<Self, String> {
        [Self::ToQualifying, Self::OneStep]
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not `to_qualifying` or `one_step`"))
    }
}

/// What a level gives its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierBenefits {
    /// Orders earn points times this.
    pub multiplier: Multiplier,
    /// The coupon issued in the birthday month (or on the day).
    pub birthday_coupon: Option<TemplateName>,
    /// Online orders ship free.
    pub free_shipping: bool,
    /// Points granted on reaching the level (once per promotion).
    pub entry_points: i64,
    /// The coupon issued on reaching the level (once per promotion).
    pub entry_coupon: Option<TemplateName>,
}

impl Default for TierBenefits {
    fn default() -> Self {
        Self {
            multiplier: Multiplier::ONE,
            birthday_coupon: None,
            free_shipping: false,
            entry_points: 0,
            entry_coupon: None,
        }
    }
}

/// One level of the ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierLevel {
    /// Its name.
    pub name: TierName,
    /// What members see (`Gold`, `金卡`).
    pub title: String,
    /// The qualifying value that reaches it (0 for the base level).
    pub entry: i64,
    /// The value over a term that keeps it (at most `entry`).
    pub retain: i64,
    /// One order of at least this amount (minor units) reaches it at once.
    pub fast_upgrade: Option<i64>,
    /// What it gives.
    pub benefits: TierBenefits,
}

/// The tier programme (`[tiers]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRules {
    levels: Vec<TierLevel>,
    /// What qualifies.
    pub metric: TierMetric,
    /// The rolling window, in days.
    pub window_days: u32,
    /// The term in months; `None`: tiers never expire.
    pub term_months: Option<u32>,
    /// Which spend a renewal counts.
    pub renewal_window: RenewalWindow,
    /// The upgrading order counts toward the renewal.
    pub count_qualifying_order_for_renewal: bool,
    /// Where a member who does not renew goes.
    pub downgrade: DowngradeMode,
    /// Days between a term's end and the renewal check.
    pub grace_days: u32,
    /// Returns that drop a member below their level move them down.
    pub downgrade_on_return: bool,
}

/// One order as tiers count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifyingOrder {
    /// The order.
    pub order_id: OrderId,
    /// The brand day it was placed (or became valid).
    pub day: Date,
    /// Its metric value when placed.
    pub value: i64,
    /// Its amount net of shipping when placed, for fast upgrades.
    pub amount: i64,
    /// Later changes, in day order: from that day, `(day, value, amount)`.
    pub changes: Vec<(Date, i64, i64)>,
}

impl QualifyingOrder {
    /// Its value and amount as they stood at the end of `day`.
    fn as_of(&self, day: Date) -> (i64, i64) {
        self.changes
            .iter()
            .rev()
            .find(|(changed, _, _)| *changed <= day)
            .map_or((self.value, self.amount), |(_, value, amount)| {
                (*value, *amount)
            })
    }
}

/// Where a member stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierState {
    /// Their level (0: the base).
    pub level: usize,
    /// The current term's first day (`None` on the base level before any change).
    pub since: Option<Date>,
    /// The current term's last day (`None`: it does not expire).
    pub until: Option<Date>,
    /// The order that made the upgrade starting this term (none after a renewal or downgrade).
    pub order_id: Option<OrderId>,
}

impl TierState {
    /// The base level, never changed.
    pub const BASE: Self = Self {
        level: 0,
        since: None,
        until: None,
        order_id: None,
    };
}

/// Why a tier changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierChangeKind {
    /// Reached a higher level by the qualifying value.
    Upgrade,
    /// Reached a higher level by one large order.
    FastUpgrade,
    /// Kept the level for another term.
    Renewal,
    /// Did not renew and moved down.
    Downgrade,
    /// A return or cancellation took them below their level.
    ReturnDowngrade,
}

impl TierChangeKind {
    /// Its name in the API and the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upgrade => "upgrade",
            Self::FastUpgrade => "fast_upgrade",
            Self::Renewal => "renewal",
            Self::Downgrade => "downgrade",
            Self::ReturnDowngrade => "return_downgrade",
        }
    }

    /// From its name.
    pub fn parse(text: &str) -> Result<Self, String> {
        [
            Self::Upgrade,
            Self::FastUpgrade,
            Self::Renewal,
            Self::Downgrade,
            Self::ReturnDowngrade,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| format!("`{text}` is not a tier change"))
    }

    /// True for a move to a higher level.
    pub fn is_promotion(self) -> bool {
        matches!(self, Self::Upgrade | Self::FastUpgrade)
    }
}

/// One change of tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierChange {
    /// The day it took effect.
    pub day: Date,
    /// The level before.
    pub from: usize,
    /// The level after.
    pub to: usize,
    /// Why.
    pub kind: TierChangeKind,
    /// The qualifying value that decided it.
    pub value: i64,
    /// The order that made it, for upgrades.
    pub order_id: Option<OrderId>,
    /// The rule that decided it, in words.
    pub reason: String,
}

/// A member's tier today and every change that led to it, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierTimeline {
    /// Where they stand.
    pub state: TierState,
    /// How they got there.
    pub changes: Vec<TierChange>,
}

impl TierTimeline {
    /// The level in effect at the start of `day`, before that day's changes.
    pub fn level_before(&self, day: Date) -> usize {
        self.changes
            .iter()
            .rev()
            .find(|change| change.day < day)
            .map_or(0, |change| change.to)
    }
}

/// How far a member is from the next level and from keeping theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierProgress {
    /// The qualifying value over the rolling window today.
    pub value: i64,
    /// The next level up, if any.
    pub next: Option<usize>,
    /// The value still missing to reach it.
    pub to_next: Option<i64>,
    /// The value counted toward renewing the current term.
    pub renewal_value: Option<i64>,
    /// The value still missing to renew (0 when already met).
    pub to_renew: Option<i64>,
    /// The day the renewal is decided.
    pub renews_on: Option<Date>,
}

impl TierRules {
    /// Checked rules: 1 to 10 levels with unique names, the first with entry and retain 0, entries
    /// rising, each retain between 0 and its entry, fast upgrades above 0, a window and a term
    /// (if any) of at least one day and one month.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        levels: Vec<TierLevel>,
        metric: TierMetric,
        window_days: u32,
        term_months: Option<u32>,
        renewal_window: RenewalWindow,
        count_qualifying_order_for_renewal: bool,
        downgrade: DowngradeMode,
        grace_days: u32,
        downgrade_on_return: bool,
    ) -> Result<Self, String> {
        if levels.is_empty() || levels.len() > MAX_TIER_LEVELS {
            return Err(format!(
                "a ladder has 1 to {MAX_TIER_LEVELS} levels, not {}",
                levels.len()
            ));
        }
        let base = &levels[0];
        if base.entry != 0 || base.retain != 0 || base.fast_upgrade.is_some() {
            return Err(format!(
                "the base level `{}` has entry 0, retain 0 and no fast upgrade",
                base.name
            ));
        }
        for (i, level) in levels.iter().enumerate() {
            if levels[..i].iter().any(|other| other.name == level.name) {
                return Err(format!("two levels are named `{}`", level.name));
            }
            if i > 0 && level.entry <= levels[i - 1].entry {
                return Err(format!(
                    "`{}` needs a higher entry than `{}`",
                    level.name,
                    levels[i - 1].name
                ));
            }
            if level.retain < 0 || level.retain > level.entry {
                return Err(format!(
                    "`{}`: retain is between 0 and its entry {}",
                    level.name, level.entry
                ));
            }
            if level.fast_upgrade.is_some_and(|amount| amount <= 0) {
                return Err(format!("`{}`: a fast upgrade is above 0", level.name));
            }
            if level.benefits.entry_points < 0 {
                return Err(format!("`{}`: entry points are not negative", level.name));
            }
        }
        if window_days == 0 {
            return Err("the window is at least one day".to_owned());
        }
        if term_months == Some(0) {
            return Err("a term is at least one month".to_owned());
        }
        Ok(Self {
            levels,
            metric,
            window_days,
            term_months,
            renewal_window,
            count_qualifying_order_for_renewal,
            downgrade,
            grace_days,
            downgrade_on_return,
        })
    }

    /// The levels, base first.
    pub fn levels(&self) -> &[TierLevel] {
        &self.levels
    }

    /// The level named `name`.
    pub fn level_named(&self, name: &str) -> Option<usize> {
        self.levels
            .iter()
            .position(|level| level.name.as_str() == name)
    }

    /// Replays `orders` (in any order) up to the end of `today`.
    pub fn timeline(&self, orders: &[QualifyingOrder], today: Date) -> TierTimeline {
        let mut days: BTreeSet<Date> = BTreeSet::new();
        for order in orders {
            days.insert(order.day);
            days.extend(order.changes.iter().map(|(day, _, _)| *day));
        }
        let mut days = days.into_iter().filter(|day| *day <= today).peekable();
        let mut timeline = TierTimeline {
            state: TierState::BASE,
            changes: Vec::new(),
        };
        loop {
            let event = days.peek().copied();
            if let Some(check) = self.renewal_day(&timeline.state)
                && check <= today
                && event.is_none_or(|day| check <= day)
            {
                self.renew(&mut timeline, orders, check);
                continue;
            }
            let Some(day) = days.next() else {
                return timeline;
            };
            self.orders_on(&mut timeline, orders, day);
            self.returns_on(&mut timeline, orders, day);
        }
    }

    /// Where `state` stands against the next level and its renewal on `today`.
    pub fn progress(
        &self,
        state: &TierState,
        orders: &[QualifyingOrder],
        today: Date,
    ) -> TierProgress {
        let value = self.rolling_value(orders, today);
        let next = (state.level + 1 < self.levels.len()).then_some(state.level + 1);
        let to_next = next.map(|next| (self.levels[next].entry - value).max(0));
        let renews_on = self.renewal_day(state);
        let renewal_value = renews_on.map(|check| {
            let last = today.min(check.yesterday().unwrap_or(check));
            self.renewal_value(state, orders, check, last)
        });
        let to_renew =
            renewal_value.map(|counted| (self.levels[state.level].retain - counted).max(0));
        TierProgress {
            value,
            next,
            to_next,
            renewal_value,
            to_renew,
            renews_on,
        }
    }

    /// The day the state's renewal is decided, if it expires.
    pub fn renewal_day(&self, state: &TierState) -> Option<Date> {
        let until = state.until?;
        until
            .checked_add(Span::new().days(i64::from(self.grace_days) + 1))
            .ok()
    }

    /// The last day of a term starting on `since` at `level` (`None`: it does not expire).
    fn term_end(&self, level: usize, since: Date) -> Option<Date> {
        if level == 0 {
            return None;
        }
        let months = self.term_months?;
        since
            .checked_add(Span::new().months(i64::from(months)))
            .ok()
            .and_then(|end| end.yesterday().ok())
    }

    /// The first day of the rolling window ending on `day`.
    fn window_start(&self, day: Date) -> Date {
        day.checked_sub(Span::new().days(i64::from(self.window_days) - 1))
            .unwrap_or(Date::MIN)
    }

    /// The qualifying value over the rolling window ending on `day`, as orders stood then.
    fn rolling_value(&self, orders: &[QualifyingOrder], day: Date) -> i64 {
        let start = self.window_start(day);
        orders
            .iter()
            .filter(|order| start <= order.day && order.day <= day)
            .map(|order| order.as_of(day).0)
            .sum()
    }

    /// The highest level `value` reaches by entry, or `amount` by fast upgrade.
    fn qualifying_level(&self, value: i64, amount: i64) -> (usize, bool) {
        let by_value = self
            .levels
            .iter()
            .rposition(|level| value >= level.entry)
            .unwrap_or(0);
        let by_amount = self
            .levels
            .iter()
            .rposition(|level| level.fast_upgrade.is_some_and(|fast| amount >= fast))
            .unwrap_or(0);
        (by_value.max(by_amount), by_amount > by_value)
    }

    /// What a renewal decided on `check` counts, as orders stood at the end of `last`.
    fn renewal_value(
        &self,
        state: &TierState,
        orders: &[QualifyingOrder],
        check: Date,
        last: Date,
    ) -> i64 {
        let end = check.yesterday().unwrap_or(check);
        let start = match self.renewal_window {
            RenewalWindow::Term => state.since.unwrap_or(Date::MIN),
            RenewalWindow::Rolling => self.window_start(end),
        };
        orders
            .iter()
            .filter(|order| start <= order.day && order.day <= end && order.day <= last)
            .filter(|order| {
                self.count_qualifying_order_for_renewal
                    || state.order_id.as_ref() != Some(&order.order_id)
            })
            .map(|order| order.as_of(last).0)
            .sum()
    }

    /// Decides the renewal due on `check`.
    fn renew(&self, timeline: &mut TierTimeline, orders: &[QualifyingOrder], check: Date) {
        let state = timeline.state.clone();
        let level = &self.levels[state.level];
        let end = check.yesterday().unwrap_or(check);
        let counted = self.renewal_value(&state, orders, check, end);
        let window = match self.renewal_window {
            RenewalWindow::Term => "this term",
            RenewalWindow::Rolling => "the rolling window",
        };
        if counted >= level.retain {
            let since = state
                .until
                .and_then(|until| until.tomorrow().ok())
                .unwrap_or(check);
            timeline.changes.push(TierChange {
                day: check,
                from: state.level,
                to: state.level,
                kind: TierChangeKind::Renewal,
                value: counted,
                order_id: None,
                reason: format!(
                    "renewed: {} {} in {window} meets the retain threshold {}",
                    self.metric.as_str(),
                    counted,
                    level.retain
                ),
            });
            timeline.state = TierState {
                level: state.level,
                since: Some(since),
                until: self.term_end(state.level, since),
                order_id: None,
            };
            return;
        }
        let to = match self.downgrade {
            DowngradeMode::ToQualifying => self.levels[..state.level]
                .iter()
                .rposition(|lower| counted >= lower.retain)
                .unwrap_or(0),
            DowngradeMode::OneStep => state.level - 1,
        };
        timeline.changes.push(TierChange {
            day: check,
            from: state.level,
            to,
            kind: TierChangeKind::Downgrade,
            value: counted,
            order_id: None,
            reason: format!(
                "not renewed: {} {} in {window} is under the retain threshold {} of `{}`",
                self.metric.as_str(),
                counted,
                level.retain,
                level.name
            ),
        });
        timeline.state = TierState {
            level: to,
            since: Some(check),
            until: self.term_end(to, check),
            order_id: None,
        };
    }

    /// Moves the member down when `day`'s returns took them below a level they were upgraded to.
    fn returns_on(&self, timeline: &mut TierTimeline, orders: &[QualifyingOrder], day: Date) {
        let state = &timeline.state;
        let returned = orders
            .iter()
            .any(|order| order.changes.iter().any(|(changed, _, _)| *changed == day));
        if !self.downgrade_on_return || !returned || state.level == 0 || state.order_id.is_none() {
            return;
        }
        let value = self.rolling_value(orders, day);
        let start = self.window_start(day);
        let amount = orders
            .iter()
            .filter(|order| start <= order.day && order.day <= day)
            .map(|order| order.as_of(day).1)
            .max()
            .unwrap_or(0);
        let (to, _) = self.qualifying_level(value, amount);
        if to >= state.level {
            return;
        }
        timeline.changes.push(TierChange {
            day,
            from: state.level,
            to,
            kind: TierChangeKind::ReturnDowngrade,
            value,
            order_id: None,
            reason: format!(
                "returns lowered {} to {} in the last {} days, under the entry {} of `{}`",
                self.metric.as_str(),
                value,
                self.window_days,
                self.levels[state.level].entry,
                self.levels[state.level].name
            ),
        });
        timeline.state = TierState {
            level: to,
            since: Some(day),
            until: self.term_end(to, day),
            order_id: None,
        };
    }

    /// Upgrades the member when `day`'s orders bring them to a higher level.
    fn orders_on(&self, timeline: &mut TierTimeline, orders: &[QualifyingOrder], day: Date) {
        let placed: Vec<&QualifyingOrder> =
            orders.iter().filter(|order| order.day == day).collect();
        let Some(largest) = placed
            .iter()
            .max_by(|a, b| {
                a.amount
                    .cmp(&b.amount)
                    .then_with(|| b.order_id.cmp(&a.order_id))
            })
            .copied()
        else {
            return;
        };
        let before = day.yesterday().unwrap_or(day);
        let start = self.window_start(day);
        let value: i64 = orders
            .iter()
            .filter(|order| start <= order.day && order.day <= day)
            .map(|order| {
                if order.day == day {
                    order.value
                } else {
                    order.as_of(before).0
                }
            })
            .sum();
        let (to, fast) = self.qualifying_level(value, largest.amount);
        let from = timeline.state.level;
        if to <= from {
            return;
        }
        let level = &self.levels[to];
        let reason = if fast {
            format!(
                "fast upgrade: order {} of {} reaches `{}` ({} or more)",
                largest.order_id,
                largest.amount,
                level.name,
                level.fast_upgrade.unwrap_or_default()
            )
        } else {
            format!(
                "upgrade: {} {} in the last {} days meets the entry {} of `{}`",
                self.metric.as_str(),
                value,
                self.window_days,
                level.entry,
                level.name
            )
        };
        timeline.changes.push(TierChange {
            day,
            from,
            to,
            kind: if fast {
                TierChangeKind::FastUpgrade
            } else {
                TierChangeKind::Upgrade
            },
            value,
            order_id: Some(largest.order_id.clone()),
            reason,
        });
        timeline.state = TierState {
            level: to,
            since: Some(day),
            until: self.term_end(to, day),
            order_id: Some(largest.order_id.clone()),
        };
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;

    fn level(name: &str, entry: i64, retain: i64, fast: Option<i64>) -> TierLevel {
        TierLevel {
            name: TierName::parse(name).unwrap(),
            title: name.to_owned(),
            entry,
            retain,
            fast_upgrade: fast,
            benefits: TierBenefits::default(),
        }
    }

    /// Member, silver at 5,000 (keep 3,000), gold at 20,000 (keep 10,000, or one order of 15,000).
    fn rules() -> TierRules {
        TierRules::new(
            vec![
                level("member", 0, 0, None),
                level("silver", 5_000, 3_000, None),
                level("gold", 20_000, 10_000, Some(15_000)),
            ],
            TierMetric::Spend,
            365,
            Some(12),
            RenewalWindow::Term,
            false,
            DowngradeMode::ToQualifying,
            0,
            true,
        )
        .unwrap()
    }

    fn order(id: &str, day: Date, amount: i64) -> QualifyingOrder {
        QualifyingOrder {
            order_id: OrderId::parse(id).unwrap(),
            day,
            value: amount,
            amount,
            changes: Vec::new(),
        }
    }

    #[test]
    fn a_member_without_orders_stays_on_the_base_level() {
        let timeline = rules().timeline(&[], date(2026, 6, 1));
        assert_eq!(timeline.state, TierState::BASE);
        assert!(timeline.changes.is_empty());
    }

    #[test]
    fn spend_over_the_rolling_window_upgrades_on_the_order_that_reaches_the_entry() {
        let orders = [
            order("O-1", date(2026, 1, 10), 3_000),
            order("O-2", date(2026, 3, 5), 2_500),
        ];
        let timeline = rules().timeline(&orders, date(2026, 6, 1));
        assert_eq!(timeline.changes.len(), 1);
        let change = &timeline.changes[0];
        assert_eq!(
            (
                change.day,
                change.from,
                change.to,
                change.kind,
                change.value
            ),
            (date(2026, 3, 5), 0, 1, TierChangeKind::Upgrade, 5_500)
        );
        assert_eq!(change.order_id.as_ref().unwrap().as_str(), "O-2");
        assert_eq!(timeline.state.since, Some(date(2026, 3, 5)));
        assert_eq!(timeline.state.until, Some(date(2027, 3, 4)));
        assert_eq!(timeline.level_before(date(2026, 3, 5)), 0);
        assert_eq!(timeline.level_before(date(2026, 3, 6)), 1);
    }

    #[test]
    fn orders_older_than_the_window_do_not_count() {
        let orders = [
            order("O-1", date(2025, 1, 10), 3_000),
            order("O-2", date(2026, 3, 5), 2_500),
        ];
        let timeline = rules().timeline(&orders, date(2026, 6, 1));
        assert_eq!(timeline.state.level, 0);
    }

    #[test]
    fn one_large_order_fast_upgrades_past_a_level() {
        let orders = [order("O-1", date(2026, 2, 1), 16_000)];
        let timeline = rules().timeline(&orders, date(2026, 6, 1));
        assert_eq!(timeline.state.level, 2);
        assert_eq!(timeline.changes[0].kind, TierChangeKind::FastUpgrade);
        assert!(timeline.changes[0].reason.contains("O-1"));
    }

    #[test]
    fn a_term_renews_when_the_retain_threshold_is_met_without_the_upgrading_order() {
        let orders = [
            order("O-1", date(2026, 1, 10), 6_000),
            order("O-2", date(2026, 8, 1), 3_500),
        ];
        let timeline = rules().timeline(&orders, date(2027, 2, 1));
        let renewal = timeline.changes.last().unwrap();
        assert_eq!(renewal.kind, TierChangeKind::Renewal);
        assert_eq!(renewal.day, date(2027, 1, 10));
        assert_eq!(renewal.value, 3_500);
        assert_eq!(timeline.state.level, 1);
        assert_eq!(timeline.state.since, Some(date(2027, 1, 10)));
        assert_eq!(timeline.state.until, Some(date(2028, 1, 9)));
    }

    #[test]
    fn the_upgrading_order_alone_does_not_renew_unless_configured() {
        let orders = [order("O-1", date(2026, 1, 10), 6_000)];
        let timeline = rules().timeline(&orders, date(2027, 2, 1));
        let last = timeline.changes.last().unwrap();
        assert_eq!((last.kind, last.to), (TierChangeKind::Downgrade, 0));
        assert_eq!(timeline.state.until, None);

        let mut counting = rules();
        counting.count_qualifying_order_for_renewal = true;
        let timeline = counting.timeline(&orders, date(2027, 2, 1));
        assert_eq!(
            timeline.changes.last().unwrap().kind,
            TierChangeKind::Renewal
        );
    }

    #[test]
    fn a_member_who_misses_renewal_moves_to_the_highest_level_they_retain() {
        let orders = [
            order("O-1", date(2026, 1, 10), 21_000),
            order("O-2", date(2026, 5, 1), 4_000),
        ];
        let timeline = rules().timeline(&orders, date(2027, 2, 1));
        let last = timeline.changes.last().unwrap();
        assert_eq!(
            (last.kind, last.from, last.to),
            (TierChangeKind::Downgrade, 2, 1)
        );

        let mut one_step = rules();
        one_step.downgrade = DowngradeMode::OneStep;
        let orders = [order("O-1", date(2026, 1, 10), 21_000)];
        let timeline = one_step.timeline(&orders, date(2027, 2, 1));
        assert_eq!(timeline.state.level, 1);
    }

    #[test]
    fn grace_days_delay_the_renewal_check_and_orders_in_them_count() {
        let mut graceful = rules();
        graceful.grace_days = 30;
        let orders = [
            order("O-1", date(2026, 1, 10), 6_000),
            order("O-2", date(2027, 1, 20), 3_000),
        ];
        let timeline = graceful.timeline(&orders, date(2027, 3, 1));
        let last = timeline.changes.last().unwrap();
        assert_eq!(last.day, date(2027, 2, 9));
        assert_eq!(last.kind, TierChangeKind::Renewal);
        assert_eq!(timeline.state.since, Some(date(2027, 1, 10)));
    }

    #[test]
    fn a_return_that_takes_a_member_under_their_entry_moves_them_down() {
        let mut big = order("O-1", date(2026, 1, 10), 6_000);
        big.changes.push((date(2026, 1, 20), 2_000, 2_000));
        let timeline = rules().timeline(&[big.clone()], date(2026, 2, 1));
        let last = timeline.changes.last().unwrap();
        assert_eq!(
            (last.kind, last.day, last.to),
            (TierChangeKind::ReturnDowngrade, date(2026, 1, 20), 0)
        );

        let mut keeping = rules();
        keeping.downgrade_on_return = false;
        assert_eq!(keeping.timeline(&[big], date(2026, 2, 1)).state.level, 1);
    }

    #[test]
    fn an_order_returned_the_day_it_was_placed_upgrades_and_then_takes_the_member_down() {
        let mut big = order("O-1", date(2026, 1, 10), 16_000);
        big.changes.push((date(2026, 1, 10), 1_000, 1_000));
        let timeline = rules().timeline(&[big], date(2026, 2, 1));
        let kinds: Vec<_> = timeline.changes.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [TierChangeKind::FastUpgrade, TierChangeKind::ReturnDowngrade]
        );
        assert_eq!(timeline.state.level, 0);
    }

    #[test]
    fn progress_says_what_is_missing_for_the_next_level_and_for_renewal() {
        let orders = [
            order("O-1", date(2026, 1, 10), 6_000),
            order("O-2", date(2026, 3, 1), 1_000),
        ];
        let rules = rules();
        let timeline = rules.timeline(&orders, date(2026, 6, 1));
        let progress = rules.progress(&timeline.state, &orders, date(2026, 6, 1));
        assert_eq!(progress.value, 7_000);
        assert_eq!(progress.next, Some(2));
        assert_eq!(progress.to_next, Some(13_000));
        assert_eq!(progress.renewal_value, Some(1_000));
        assert_eq!(progress.to_renew, Some(2_000));
        assert_eq!(progress.renews_on, Some(date(2027, 1, 10)));
    }

    #[test]
    fn rules_refuse_a_ladder_that_cannot_work() {
        let build = |levels| {
            TierRules::new(
                levels,
                TierMetric::Spend,
                365,
                Some(12),
                RenewalWindow::Term,
                false,
                DowngradeMode::ToQualifying,
                0,
                true,
            )
        };
        assert!(build(vec![]).is_err());
        assert!(build(vec![level("member", 100, 0, None)]).is_err());
        assert!(
            build(vec![level("member", 0, 0, None), level("gold", 0, 0, None)])
                .unwrap_err()
                .contains("higher entry")
        );
        assert!(
            build(vec![
                level("member", 0, 0, None),
                level("gold", 10, 20, None)
            ])
            .unwrap_err()
            .contains("retain")
        );
        let eleven = (0..11)
            .map(|i| level(&format!("l{i}"), i * 10, 0, None))
            .collect();
        assert!(build(eleven).unwrap_err().contains("1 to 10"));
    }

    fn arbitrary_orders() -> impl Strategy<Value = Vec<QualifyingOrder>> {
        prop::collection::vec(
            (
                0i64..900,
                1i64..25_000,
                prop::option::of((0i64..60, 0i64..100)),
            ),
            0..12,
        )
        .prop_map(|raw| {
            raw.into_iter()
                .enumerate()
                .map(|(i, (offset, amount, change))| {
                    let day = date(2025, 1, 1)
                        .checked_add(Span::new().days(offset))
                        .unwrap();
                    let mut order = order(&format!("O-{i}"), day, amount);
                    if let Some((after, percent)) = change {
                        let left = amount * percent / 100;
                        let changed = day.checked_add(Span::new().days(after)).unwrap();
                        order.changes.push((changed, left, left));
                    }
                    order
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn the_timeline_depends_on_the_orders_not_their_order(
            orders in arbitrary_orders(),
            seed in any::<u64>(),
        ) {
            let rules = rules();
            let today = date(2027, 12, 31);
            let mut shuffled = orders.clone();
            let len = shuffled.len();
            for i in 0..len {
                shuffled.swap(i, (seed as usize).wrapping_add(i * 7) % len.max(1));
            }
            prop_assert_eq!(rules.timeline(&orders, today), rules.timeline(&shuffled, today));
        }

        #[test]
        fn every_change_chains_from_the_last_and_the_state_is_where_it_ends(
            orders in arbitrary_orders(),
        ) {
            let rules = rules();
            let timeline = rules.timeline(&orders, date(2027, 12, 31));
            let mut level = 0;
            let mut day = Date::MIN;
            for change in &timeline.changes {
                prop_assert_eq!(change.from, level);
                prop_assert!(change.day >= day);
                prop_assert!(change.to < rules.levels().len());
                if change.kind.is_promotion() {
                    prop_assert!(change.to > change.from);
                } else if change.kind == TierChangeKind::Renewal {
                    prop_assert_eq!(change.to, change.from);
                } else {
                    prop_assert!(change.to < change.from);
                }
                level = change.to;
                day = change.day;
            }
            prop_assert_eq!(timeline.state.level, level);
            if level == 0 {
                prop_assert_eq!(timeline.state.until, None);
            }
        }

        #[test]
        fn a_timeline_to_an_earlier_day_is_the_start_of_a_later_one(
            orders in arbitrary_orders(),
            cut in 0i64..1095,
        ) {
            // 2025-01-01 plus at most 1094 days is 2027-12-31 at the latest, never past the long timeline's day.
            let rules = rules();
            let early = date(2025, 1, 1).checked_add(Span::new().days(cut)).unwrap();
            let short = rules.timeline(&orders, early);
            let long = rules.timeline(&orders, date(2027, 12, 31));
            prop_assert_eq!(&long.changes[..short.changes.len()], &short.changes[..]);
        }
    }
}
