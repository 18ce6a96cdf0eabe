//! The points ledger's rules (domain-spec §4.3). The ledger is append-only: a credit (an earn,
//! or an adjustment up) is a lot with the day it becomes spendable and the day it stops
//! counting; a debit (a redemption, an adjustment down, an expiry) names the lot it draws from.
//! A lot never gives more than it has, so no balance goes below zero, and spending takes the
//! earliest-expiring points first (never-expiring ones last, then the oldest grant).
//!
//! Taking back points already spent (a return after a redemption) leaves a debt rather than a
//! negative balance: a `reverse` entry on no lot. The next credits settle it: a `settle` entry
//! draws on the new lot and a matching one on no lot pays the debt down, so the entries on no lot
//! always add up to minus the debt, and all entries to the points held less the debt.

use jiff::civil::Date;

/// What moved points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PointsKind {
    /// Points earned (from an order, a campaign, a journey).
    Earn,
    /// Points spent.
    Redeem,
    /// Points that reached their expiry unspent.
    Expire,
    /// A correction by an operator, up or down.
    Adjust,
    /// Points taken back because what earned them was returned or cancelled.
    Reverse,
    /// Points of a new credit that paid off a debt.
    Settle,
}

impl PointsKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::Earn,
        Self::Redeem,
        Self::Expire,
        Self::Adjust,
        Self::Reverse,
        Self::Settle,
    ];

    /// Its name in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Earn => "earn",
            Self::Redeem => "redeem",
            Self::Expire => "expire",
            Self::Adjust => "adjust",
            Self::Reverse => "reverse",
            Self::Settle => "settle",
        }
    }

    /// Reads a name.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .ok_or_else(|| {
                format!(
                    "`{name}` is not a points kind (earn, redeem, expire, adjust, reverse, settle)"
                )
            })
    }
}

/// What an entry is for: `order:ID`, `return:ID`, `campaign:NAME`, `journey:NAME`,
/// `operator:WHO`, `expiry:SEQ` (the grant whose points ran out), `tier:NAME` (a tier's entry
/// or birthday reward) or `referral:MEMBER` (the referee a referral reward is for), checked by
/// [`parse_cause`].
pub const CAUSE_KINDS: [&str; 8] = [
    "order", "return", "campaign", "journey", "operator", "expiry", "tier", "referral",
];

/// Checks a cause: one of [`CAUSE_KINDS`], a colon, and a name of at most 200 characters.
pub fn parse_cause(text: &str) -> Result<String, String> {
    let text = text.trim();
    let valid = text.split_once(':').is_some_and(|(kind, name)| {
        CAUSE_KINDS.contains(&kind)
            && !name.trim().is_empty()
            && name.chars().count() <= 200
            && !name.chars().any(char::is_control)
    });
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a cause: write order:ID, return:ID, campaign:NAME, journey:NAME, operator:WHO, tier:NAME or referral:MEMBER"
        ))
    }
}

/// Checks an idempotency key: 1 to 200 visible characters.
pub fn parse_points_key(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.chars().count() <= 200
        && !text.chars().any(|c| c.is_control() || c.is_whitespace());
    if valid {
        Ok(text.to_owned())
    } else {
        Err("an idempotency key is 1 to 200 characters without spaces".to_owned())
    }
}

/// When granted points stop counting (domain-spec §4.3: per grant, on calendar dates, or never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointsExpiry {
    /// This many days after the grant (`expiry = "per_grant"`, `expiry_days`).
    PerGrant(u32),
    /// At the end of the month this many months after the grant's month (`expiry =
    /// "month_end"`, `expiry_months`; 0 is the end of the grant's own month).
    MonthEnd(u32),
    /// At the end of `month`-`day` in the year this many years after the grant's year
    /// (`expiry = "year_end"`, `expiry_years`, `year_end = "MM-DD"`); when that day comes before
    /// the grant, a year later.
    YearEnd {
        /// Years after the grant's year (0: the same year).
        years: u32,
        /// The month of the last day that counts (1 to 12).
        month: i8,
        /// The last day that counts in it (never 29 February).
        day: i8,
    },
    /// Never.
    Never,
}

impl PointsExpiry {
    /// The first day points granted on `granted` no longer count, if any.
    pub fn expires_on(self, granted: Date) -> Option<Date> {
        let next_day = |last: Date| last.tomorrow().ok();
        match self {
            Self::PerGrant(days) => granted
                .checked_add(jiff::Span::new().days(i64::from(days)))
                .ok(),
            Self::MonthEnd(months) => granted
                .first_of_month()
                .checked_add(jiff::Span::new().months(i64::from(months) + 1))
                .ok(),
            Self::YearEnd { years, month, day } => {
                let year = i16::try_from(i64::from(granted.year()) + i64::from(years)).ok()?;
                let last = Date::new(year, month, day).ok()?;
                if last < granted {
                    next_day(Date::new(year.checked_add(1)?, month, day).ok()?)
                } else {
                    next_day(last)
                }
            }
            Self::Never => None,
        }
    }

    /// Reads `year_end`: the last day that counts as `MM-DD`, never `02-29`.
    pub fn parse_year_end(text: &str) -> Result<(i8, i8), String> {
        let refuse = || format!("`{text}` is not a month and day such as 12-31 (MM-DD)");
        let (month, day) = text.split_once('-').ok_or_else(refuse)?;
        let (month, day): (i8, i8) = (
            month.parse().map_err(|_| refuse())?,
            day.parse().map_err(|_| refuse())?,
        );
        if (month, day) == (2, 29) {
            return Err("02-29 is not in every year: write 02-28 or 03-01".to_owned());
        }
        // Any year that is not a leap year holds every other month and day.
        Date::new(2026, month, day).map_err(|_| refuse())?;
        Ok((month, day))
    }
}

/// What is left of one credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lot {
    /// The credit's ledger sequence number.
    pub seq: i64,
    /// Points not yet drawn (never below 0).
    pub remaining: i64,
    /// The first day they may be spent.
    pub available_on: Date,
    /// The first day they no longer count, if they expire.
    pub expires_on: Option<Date>,
}

impl Lot {
    /// True when its points may be spent on `today`.
    pub fn spendable(&self, today: Date) -> bool {
        self.available_on <= today && self.expires_on.is_none_or(|end| today < end)
    }

    /// True when it still counts on `today` but may not be spent yet.
    pub fn pending(&self, today: Date) -> bool {
        today < self.available_on && self.expires_on.is_none_or(|end| today < end)
    }
}

/// The draws a debit of `points` makes, as `(lot seq, points)`: spendable lots, earliest expiry
/// first (never-expiring last), then the oldest. When the spendable points fall short, the
/// error is how many there are.
pub fn plan_debit(lots: &[Lot], points: i64, today: Date) -> Result<Vec<(i64, i64)>, i64> {
    let mut order: Vec<&Lot> = lots
        .iter()
        .filter(|lot| lot.remaining > 0 && lot.spendable(today))
        .collect();
    let available: i64 = order.iter().map(|lot| lot.remaining).sum();
    if points > available {
        return Err(available);
    }
    order.sort_by_key(|lot| (lot.expires_on.is_none(), lot.expires_on, lot.seq));
    let mut left = points;
    let mut draws = Vec::new();
    for lot in order {
        if left == 0 {
            break;
        }
        let take = left.min(lot.remaining);
        draws.push((lot.seq, take));
        left -= take;
    }
    Ok(draws)
}

/// What taking back `points` draws, as `(lot seq, points)`, and the debt it leaves: first the
/// lots in `first` (the grant being reversed, spendable or still pending, unless expired), then
/// spendable lots as [`plan_debit`] orders them, then other pending lots (the soonest
/// spendable first); only what none of those hold becomes the debt.
pub fn plan_reversal(
    lots: &[Lot],
    first: &[i64],
    points: i64,
    today: Date,
) -> (Vec<(i64, i64)>, i64) {
    let unexpired = |lot: &Lot| lot.expires_on.is_none_or(|end| today < end);
    let mut left = points;
    let mut draws = Vec::new();
    let mut drawn: Vec<(i64, i64)> = Vec::new();
    for seq in first {
        if drawn.iter().any(|(s, _)| s == seq) {
            continue;
        }
        if let Some(lot) = lots.iter().find(|lot| lot.seq == *seq && unexpired(lot)) {
            let take = left.min(lot.remaining.max(0));
            if take > 0 {
                draws.push((lot.seq, take));
                drawn.push((lot.seq, take));
                left -= take;
            }
        }
    }
    if left > 0 {
        let rest: Vec<Lot> = lots
            .iter()
            .map(|lot| {
                let taken: i64 = drawn
                    .iter()
                    .filter(|(s, _)| *s == lot.seq)
                    .map(|(_, p)| p)
                    .sum();
                Lot {
                    remaining: lot.remaining - taken,
                    ..*lot
                }
            })
            .collect();
        let available = PointsBalance::of(&rest, today).available;
        let take = left.min(available);
        if let Ok(more) = plan_debit(&rest, take, today) {
            draws.extend(more);
            left -= take;
        }
        let mut pending: Vec<&Lot> = rest
            .iter()
            .filter(|lot| lot.remaining > 0 && lot.pending(today))
            .collect();
        pending.sort_by_key(|lot| (lot.available_on, lot.seq));
        for lot in pending {
            if left == 0 {
                break;
            }
            let take = left.min(lot.remaining);
            draws.push((lot.seq, take));
            left -= take;
        }
    }
    (draws, left)
}

/// A member's points as of a day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PointsBalance {
    /// Points that may be spent now.
    pub available: i64,
    /// Points earned but not spendable yet.
    pub pending: i64,
    /// Spendable points by the first day they no longer count, soonest first.
    pub expiring: Vec<(Date, i64)>,
    /// Points taken back after they were spent, to be settled from the next credits.
    pub debt: i64,
}

impl PointsBalance {
    /// The balance `lots` give on `today`.
    pub fn of(lots: &[Lot], today: Date) -> Self {
        let mut balance = Self::default();
        for lot in lots.iter().filter(|lot| lot.remaining > 0) {
            if lot.spendable(today) {
                balance.available += lot.remaining;
                if let Some(end) = lot.expires_on {
                    match balance.expiring.iter_mut().find(|(day, _)| *day == end) {
                        Some((_, points)) => *points += lot.remaining,
                        None => balance.expiring.push((end, lot.remaining)),
                    }
                }
            } else if lot.pending(today) {
                balance.pending += lot.remaining;
            }
        }
        balance.expiring.sort_unstable();
        balance
    }

    /// The same balance owing `debt`.
    #[must_use]
    pub fn with_debt(mut self, debt: i64) -> Self {
        self.debt = debt;
        self
    }

    /// Spendable points that stop counting within `days` days of `today` (on or before
    /// `today + days`).
    pub fn expiring_within(&self, today: Date, days: u32) -> i64 {
        let Ok(until) = today.checked_add(jiff::Span::new().days(i64::from(days))) else {
            return self.expiring.iter().map(|(_, p)| p).sum();
        };
        self.expiring
            .iter()
            .filter(|(end, _)| *end <= until)
            .map(|(_, points)| points)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;

    fn lot(seq: i64, remaining: i64, expires_on: Option<Date>) -> Lot {
        Lot {
            seq,
            remaining,
            available_on: date(2026, 1, 1),
            expires_on,
        }
    }

    #[test]
    fn spending_takes_the_earliest_expiring_points_first_and_never_expiring_ones_last() {
        let lots = [
            lot(1, 50, None),
            lot(2, 30, Some(date(2026, 12, 1))),
            lot(3, 40, Some(date(2026, 6, 1))),
            lot(4, 10, Some(date(2026, 6, 1))),
        ];
        let today = date(2026, 3, 1);
        assert_eq!(
            plan_debit(&lots, 60, today),
            Ok(vec![(3, 40), (4, 10), (2, 10)])
        );
        assert_eq!(plan_debit(&lots, 131, today), Err(130));
    }

    #[test]
    fn pending_and_expired_points_cannot_be_spent() {
        let mut pending = lot(1, 100, None);
        pending.available_on = date(2026, 3, 15);
        let expired = lot(2, 100, Some(date(2026, 3, 1)));
        let today = date(2026, 3, 1);
        assert_eq!(plan_debit(&[pending, expired], 1, today), Err(0));
        let balance = PointsBalance::of(&[pending, expired], today);
        assert_eq!((balance.available, balance.pending), (0, 100));
        assert_eq!(
            plan_debit(&[pending, expired], 100, date(2026, 3, 15)),
            Ok(vec![(1, 100)])
        );
    }

    #[test]
    fn the_balance_says_what_expires_and_when() {
        let lots = [
            lot(1, 20, Some(date(2026, 4, 1))),
            lot(2, 30, Some(date(2026, 4, 1))),
            lot(3, 5, Some(date(2026, 9, 1))),
            lot(4, 7, None),
        ];
        let today = date(2026, 3, 20);
        let balance = PointsBalance::of(&lots, today);
        assert_eq!(balance.available, 62);
        assert_eq!(
            balance.expiring,
            vec![(date(2026, 4, 1), 50), (date(2026, 9, 1), 5)]
        );
        assert_eq!(balance.expiring_within(today, 30), 50);
    }

    #[test]
    fn a_reversal_takes_its_own_grant_first_then_spendable_points_and_owes_the_rest() {
        let mut own = lot(7, 40, Some(date(2027, 1, 1)));
        own.available_on = date(2026, 3, 20);
        let lots = [lot(1, 25, Some(date(2026, 6, 1))), lot(2, 10, None), own];
        let today = date(2026, 3, 10);
        // The order's own grant is still pending: it is taken back first anyway.
        assert_eq!(plan_reversal(&lots, &[7], 30, today), (vec![(7, 30)], 0));
        assert_eq!(
            plan_reversal(&lots, &[7], 80, today),
            (vec![(7, 40), (1, 25), (2, 10)], 5)
        );
        // Another order's pending points go before anything is owed.
        let mut other = lot(8, 20, None);
        other.available_on = date(2026, 3, 25);
        assert_eq!(
            plan_reversal(&[lots[0], other], &[], 30, today),
            (vec![(1, 25), (8, 5)], 0)
        );
        // An expired grant gives nothing back.
        let expired = lot(9, 50, Some(date(2026, 3, 1)));
        assert_eq!(plan_reversal(&[expired], &[9], 20, today), (vec![], 20));
    }

    #[test]
    fn causes_and_keys_are_checked() {
        assert_eq!(parse_cause(" order:O-1 "), Ok("order:O-1".to_owned()));
        assert!(parse_cause("gift:x").is_err());
        assert!(parse_cause("operator:").is_err());
        assert!(parse_points_key("redeem 1").is_err());
        assert_eq!(PointsKind::parse("redeem"), Ok(PointsKind::Redeem));
        assert_eq!(
            PointsExpiry::PerGrant(365).expires_on(date(2026, 3, 1)),
            Some(date(2027, 3, 1))
        );
    }

    #[test]
    fn calendar_expiry_ends_at_a_month_end_or_a_year_end() {
        // Granted in March 2026: with 0 months they count through 31 March, with 12 through
        // 31 March 2027, whatever the day of the grant.
        assert_eq!(
            PointsExpiry::MonthEnd(0).expires_on(date(2026, 3, 31)),
            Some(date(2026, 4, 1))
        );
        assert_eq!(
            PointsExpiry::MonthEnd(12).expires_on(date(2026, 3, 1)),
            Some(date(2027, 4, 1))
        );
        assert_eq!(
            PointsExpiry::MonthEnd(11).expires_on(date(2026, 2, 15)),
            Some(date(2027, 2, 1))
        );
        // Issued in 2026, counted through 31 December 2027 (SHOPLINE's "the following year").
        let year_end = PointsExpiry::YearEnd {
            years: 1,
            month: 12,
            day: 31,
        };
        assert_eq!(
            year_end.expires_on(date(2026, 1, 1)),
            Some(date(2028, 1, 1))
        );
        assert_eq!(
            year_end.expires_on(date(2026, 12, 31)),
            Some(date(2028, 1, 1))
        );
        // A fiscal year ending 30 June: a grant after this year's 30 June, with 0 years, counts
        // to next year's.
        let fiscal = PointsExpiry::YearEnd {
            years: 0,
            month: 6,
            day: 30,
        };
        assert_eq!(fiscal.expires_on(date(2026, 6, 30)), Some(date(2026, 7, 1)));
        assert_eq!(fiscal.expires_on(date(2026, 7, 1)), Some(date(2027, 7, 1)));
        assert_eq!(PointsExpiry::parse_year_end("06-30"), Ok((6, 30)));
        assert!(PointsExpiry::parse_year_end("02-29").is_err());
        assert!(PointsExpiry::parse_year_end("13-01").is_err());
        assert!(PointsExpiry::parse_year_end("1231").is_err());
    }

    proptest! {
        #[test]
        fn every_grant_counts_on_its_grant_day_under_every_expiry(
            offset in 0i32..20_000,
            days in 1u32..3_660,
            months in 0u32..120,
            years in 0u32..10,
            (month, day) in (1i8..=12, 1i8..=28),
        ) {
            let granted = date(2000, 1, 1)
                .checked_add(jiff::Span::new().days(i64::from(offset)))
                .unwrap();
            for expiry in [
                PointsExpiry::PerGrant(days),
                PointsExpiry::MonthEnd(months),
                PointsExpiry::YearEnd { years, month, day },
            ] {
                let end = expiry.expires_on(granted).unwrap();
                prop_assert!(granted < end, "{expiry:?} from {granted} ends {end}");
                // Calendar expiry lands on the day after a month end or the year end.
                match expiry {
                    PointsExpiry::MonthEnd(_) => prop_assert_eq!(end.day(), 1),
                    PointsExpiry::YearEnd { month: m, day: d, .. } => {
                        let last = end.yesterday().unwrap();
                        prop_assert_eq!((last.month(), last.day()), (m, d));
                        prop_assert!(last.year() >= granted.year() + i16::try_from(years).unwrap());
                    }
                    _ => {}
                }
            }
        }
    }

    fn lots() -> impl Strategy<Value = Vec<Lot>> {
        prop::collection::vec((0i64..200, 0i16..60, proptest::option::of(0i16..120)), 0..8)
            .prop_map(|rows| {
                rows.into_iter()
                    .enumerate()
                    .map(|(seq, (remaining, from, end))| Lot {
                        seq: seq as i64 + 1,
                        remaining,
                        available_on: date(2026, 1, 1)
                            .checked_add(jiff::Span::new().days(i64::from(from)))
                            .unwrap(),
                        expires_on: end.map(|d| {
                            date(2026, 1, 1)
                                .checked_add(jiff::Span::new().days(i64::from(d)))
                                .unwrap()
                        }),
                    })
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn a_reversal_draws_no_lot_below_zero_and_owes_only_what_it_could_not_draw(
            lots in lots(),
            first in prop::collection::vec(1i64..9, 0..3),
            points in 1i64..600,
            day in 0i16..120,
        ) {
            let today = date(2026, 1, 1).checked_add(jiff::Span::new().days(i64::from(day))).unwrap();
            let (draws, debt) = plan_reversal(&lots, &first, points, today);
            prop_assert_eq!(draws.iter().map(|(_, p)| p).sum::<i64>() + debt, points);
            prop_assert!(debt >= 0);
            for lot in &lots {
                let taken: i64 = draws.iter().filter(|(s, _)| *s == lot.seq).map(|(_, p)| p).sum();
                prop_assert!(taken <= lot.remaining.max(0));
            }
            if debt > 0 {
                // Nothing spendable or pending was left behind.
                let left: i64 = lots
                    .iter()
                    .filter(|l| l.spendable(today) || l.pending(today))
                    .map(|l| l.remaining - draws.iter().filter(|(s, _)| *s == l.seq).map(|(_, p)| p).sum::<i64>())
                    .sum();
                prop_assert_eq!(left, 0);
            }
        }

        #[test]
        fn a_debit_spends_exactly_what_it_asks_from_spendable_lots_earliest_expiry_first(
            lots in lots(),
            points in 0i64..600,
            day in 0i16..120,
        ) {
            let today = date(2026, 1, 1).checked_add(jiff::Span::new().days(i64::from(day))).unwrap();
            let available = PointsBalance::of(&lots, today).available;
            match plan_debit(&lots, points, today) {
                Err(short) => {
                    prop_assert_eq!(short, available);
                    prop_assert!(points > available);
                }
                Ok(draws) => {
                    prop_assert_eq!(draws.iter().map(|(_, p)| p).sum::<i64>(), points);
                    for (seq, take) in &draws {
                        let lot = lots.iter().find(|l| l.seq == *seq).unwrap();
                        prop_assert!(*take > 0 && *take <= lot.remaining && lot.spendable(today));
                    }
                    // Every lot drawn before the last was drawn dry, and no spendable lot
                    // left untouched expires before one that was drawn.
                    for (seq, take) in draws.iter().take(draws.len().saturating_sub(1)) {
                        let lot = lots.iter().find(|l| l.seq == *seq).unwrap();
                        prop_assert_eq!(*take, lot.remaining);
                    }
                    let key = |l: &Lot| (l.expires_on.is_none(), l.expires_on, l.seq);
                    if let Some((last, _)) = draws.last() {
                        let last = key(lots.iter().find(|l| l.seq == *last).unwrap());
                        for lot in lots.iter().filter(|l| l.remaining > 0 && l.spendable(today)) {
                            if !draws.iter().any(|(s, _)| *s == lot.seq) {
                                prop_assert!(key(lot) > last);
                            }
                        }
                    }
                }
            }
        }
    }
}
