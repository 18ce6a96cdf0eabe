//! Testing members against a compiled [`Audience`]: one member at a time (live segments), or
//! every member on the engine's threads (previews and exports).

use std::cell::OnceCell;

use regulars_domain::audience::Measure;

use super::compile::{Audience, DateAttribute, DateTest, Filter, Node, NumberAttribute};
use super::loyalty::{LotRow, UNRANKED};
use super::table::{AudienceTable, MemberRows, OrderView};
use crate::MemberSegments;

/// What a member's test reads besides the table: for member `m`, their model verdicts as of
/// the compiled day, and whether they are in the `k`-th saved segment the rule was compiled
/// with.
#[derive(Clone, Copy)]
pub struct Lookups<'a> {
    /// Member `m`'s verdicts (asked at most once per test, and only when the rule reads a model).
    pub models: &'a (dyn Fn(usize) -> MemberSegments + Sync),
    /// Whether member `m` is in saved segment `k`.
    pub segment: &'a (dyn Fn(usize, usize) -> bool + Sync),
}

impl Lookups<'_> {
    /// Lookups for rules that read neither models nor segments (a test that reads one panics).
    pub fn none() -> Lookups<'static> {
        Lookups {
            models: &|_| panic!("this rule was said not to read the models"),
            segment: &|_, _| panic!("this rule was said not to read segments"),
        }
    }
}

/// A member's model verdicts, computed at most once and only when a rule reads them.
struct Models<'a> {
    of: &'a (dyn Fn(usize) -> MemberSegments + Sync),
    m: usize,
    cached: Option<MemberSegments>,
}

impl Models<'_> {
    fn get(&mut self) -> &MemberSegments {
        let (of, m) = (self.of, self.m);
        self.cached.get_or_insert_with(|| of(m))
    }
}

/// One member of a table, found once to be tested against many audiences (the live segments
/// re-test a changed member against each). It reads the table as it was when made.
#[derive(Clone, Copy)]
pub struct TableMember<'a> {
    table: &'a AudienceTable,
    m: usize,
    rows: MemberRows<'a>,
}

impl AudienceTable {
    /// Member `m`, to test.
    pub fn member(&self, m: usize) -> TableMember<'_> {
        TableMember {
            table: self,
            m,
            rows: self.rows(m),
        }
    }
}

impl Audience {
    /// Whether member `m` of `table` is in the audience.
    pub fn matches(&self, table: &AudienceTable, m: usize, lookups: Lookups<'_>) -> bool {
        // The rows are found only if a test reads them: a rule over the profile and the
        // models never touches the order columns.
        self.test(table, m, OnceCell::new(), lookups)
    }

    /// Whether `member` is in the audience.
    pub fn matches_member(&self, member: TableMember<'_>, lookups: Lookups<'_>) -> bool {
        self.test(member.table, member.m, OnceCell::from(member.rows), lookups)
    }

    fn test<'a>(
        &'a self,
        table: &'a AudienceTable,
        m: usize,
        rows: OnceCell<MemberRows<'a>>,
        lookups: Lookups<'a>,
    ) -> bool {
        let mut models = Models {
            of: lookups.models,
            m,
            cached: None,
        };
        let member = Member {
            table,
            rows,
            m,
            rule: self,
            segment: lookups.segment,
        };
        member.holds(&self.include, &mut models)
            && !self
                .exclude
                .as_ref()
                .is_some_and(|exclude| member.holds(exclude, &mut models))
    }

    /// Every member of `table` in the audience, in member order, tested on `threads` threads.
    pub fn select(&self, table: &AudienceTable, lookups: Lookups<'_>, threads: usize) -> Vec<u32> {
        let n = table.len();
        let threads = threads.clamp(1, 64).min(n.max(1));
        let chunk = n.div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        let range = (t * chunk).min(n)..((t + 1) * chunk).min(n);
                        range
                            .filter(|&m| self.matches(table, m, lookups))
                            .map(|m| u32::try_from(m).expect("fewer than 2^32 members"))
                            .collect::<Vec<u32>>()
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|p| p.join().expect("a selection thread panicked"))
                .collect()
        })
    }
}

struct Member<'a> {
    table: &'a AudienceTable,
    /// The member's rows, found when a test first reads them.
    rows: OnceCell<MemberRows<'a>>,
    m: usize,
    rule: &'a Audience,
    segment: &'a (dyn Fn(usize, usize) -> bool + Sync),
}

fn in_window(filter: &Filter, day: i32) -> bool {
    filter.from <= day && day <= filter.to
}

impl<'a> Member<'a> {
    fn rows(&self) -> MemberRows<'a> {
        *self.rows.get_or_init(|| self.table.rows(self.m))
    }

    fn valid(&self, order: &OrderView<'_>) -> bool {
        order.row.day <= self.rule.as_of && order.row.cancelled_from > self.rule.as_of
    }

    /// The member's valid orders inside the filter's window, store and channel.
    fn orders<'b>(&'b self, filter: &'b Filter) -> impl Iterator<Item = OrderView<'b>> + 'b {
        self.rows().orders().filter(move |order| {
            self.valid(order)
                && in_window(filter, order.row.day)
                && filter.store.is_none_or(|s| order.row.store == s)
                && filter.channel.is_none_or(|c| order.row.channel == c)
        })
    }

    fn line_matches(filter: &Filter, sku: u32, category: u32) -> bool {
        filter.sku.is_none_or(|s| s == sku) && filter.category.is_none_or(|c| c == category)
    }

    /// The order's amount net of the returns completed by the evaluated day (never below 0).
    fn net(&self, order: &OrderView<'_>) -> i64 {
        let returned: i64 = order
            .returns
            .iter()
            .filter(|(day, _)| *day <= self.rule.as_of)
            .map(|(_, amount)| amount)
            .sum();
        (order.row.amount - returned).max(0)
    }

    /// What a measure adds up to, in hundredths (amounts: hundredths of a minor unit).
    fn measure(&self, measure: Measure, filter: &Filter) -> Option<i128> {
        if measure == Measure::Interactions {
            let count = self
                .rows()
                .interactions()
                .filter(|(day, channel)| {
                    in_window(filter, *day) && filter.channel.is_none_or(|c| c == *channel)
                })
                .count();
            return Some(count as i128 * 100);
        }
        let (mut orders, mut days, mut spent, mut last_day) = (0i128, 0i128, 0i128, None);
        for order in self.orders(filter) {
            let amount = if filter.has_items() {
                let (matched, amount) = order
                    .lines
                    .iter()
                    .filter(|l| Self::line_matches(filter, l.sku, l.category))
                    .fold((false, 0i64), |(_, sum), l| (true, sum + l.amount));
                if !matched {
                    continue;
                }
                amount
            } else {
                self.net(&order)
            };
            orders += 1;
            spent += i128::from(amount);
            if last_day != Some(order.row.day) {
                days += 1;
                last_day = Some(order.row.day);
            }
        }
        match measure {
            Measure::Orders => Some(orders * 100),
            Measure::PurchaseDays => Some(days * 100),
            Measure::Spent => Some(spent * 100),
            Measure::AverageOrder => (orders > 0).then(|| spent * 100 / orders),
            Measure::Interactions => unreachable!("counted above"),
        }
    }

    fn bought(&self, filter: &Filter) -> bool {
        self.orders(filter).any(|order| {
            !filter.has_items()
                || order
                    .lines
                    .iter()
                    .any(|l| Self::line_matches(filter, l.sku, l.category))
        })
    }

    /// A valid order in the window with a line of a qualifying item (matching the filter's
    /// items) whose cycle has not passed since the order's day.
    fn repurchase_cycle(&self, filter: &Filter, cycles: &[u32]) -> bool {
        self.orders(filter).any(|order| {
            let since = self.rule.as_of - order.row.day;
            order.lines.iter().any(|l| {
                Self::line_matches(filter, l.sku, l.category)
                    && cycles
                        .get(l.sku as usize)
                        .is_some_and(|&cycle| cycle > 0 && i64::from(since) <= i64::from(cycle))
            })
        })
    }

    fn event(&self, kind: u8, filter: &Filter, no_purchase_since: bool) -> bool {
        // The last valid purchase, looked for once and only if an event needs it.
        let last_purchase = OnceCell::new();
        let last_purchase = || {
            *last_purchase.get_or_init(|| {
                self.rows()
                    .orders()
                    .filter(|o| self.valid(o))
                    .map(|o| o.row.day)
                    .max()
            })
        };
        self.rows().events().any(|event| {
            event.kind == kind
                && in_window(filter, event.day)
                && Self::line_matches(filter, event.sku, event.category)
                && (!no_purchase_since || last_purchase().is_none_or(|last| last < event.day))
        })
    }

    /// (year, month, day) of the member's birthday, when known.
    fn birthday(&self) -> Option<(i32, u32, u32)> {
        let packed = self.table.profile[self.m].birthday;
        (packed != 0).then(|| {
            let year = i32::try_from(packed >> 9).unwrap_or(0);
            (year, (packed >> 5) & 0xF, packed & 0x1F)
        })
    }

    fn number(&self, attribute: NumberAttribute, models: &mut Models<'_>) -> Option<i128> {
        let value: i64 = match attribute {
            NumberAttribute::Age => {
                let (year, month, day) = self.birthday()?;
                let (ty, tm, td) = self.rule.today;
                i64::from(ty - year - i32::from((tm, td) < (month, day)))
            }
            NumberAttribute::BirthdayMonth => i64::from(self.birthday()?.1),
            NumberAttribute::DaysToBirthday => {
                let (_, month, day) = self.birthday()?;
                days_to_birthday(self.rule.today, month, day)?
            }
            NumberAttribute::MonthsToBirthday => {
                let (_, month, _) = self.birthday()?;
                i64::from((month + 12 - self.rule.today.1) % 12)
            }
            NumberAttribute::TopSpender => i64::from(models.get().top),
            NumberAttribute::BirthdayDay => i64::from(self.birthday()?.2),
            NumberAttribute::DaysSincePurchase => models.get().features.recency?,
            NumberAttribute::RScore => i64::from(models.get().rfm?.r),
            NumberAttribute::FScore => i64::from(models.get().rfm?.f),
            NumberAttribute::MScore => i64::from(models.get().rfm?.m),
            NumberAttribute::RfmCell => i64::from(models.get().rfm?.cell()),
        };
        Some(i128::from(value) * 100)
    }

    fn date(&self, attribute: DateAttribute, models: &mut Models<'_>) -> Option<i32> {
        match attribute {
            DateAttribute::Joined => {
                let joined = self.table.profile[self.m].joined;
                (joined != i32::MIN).then_some(joined)
            }
            DateAttribute::FirstPurchase => models.get().features.first_day.map(|d| d.0),
            DateAttribute::LastPurchase => models.get().features.last_day.map(|d| d.0),
        }
    }

    /// The points left in the member's lots that `keep` keeps.
    fn points(&self, keep: impl Fn(&LotRow) -> bool) -> i64 {
        let lots = self.table.lots.get(self.m);
        lots.iter()
            .filter(|lot| keep(lot))
            .map(|lot| lot.remaining)
            .sum()
    }

    fn holds(&self, node: &Node, models: &mut Models<'_>) -> bool {
        match node {
            Node::All(parts) => parts.iter().all(|p| self.holds(p, models)),
            Node::Any(parts) => parts.iter().any(|p| self.holds(p, models)),
            Node::Not(inner) => !self.holds(inner, models),
            Node::Number(attribute, test) => self
                .number(*attribute, models)
                .is_some_and(|value| test.holds(value)),
            Node::Date(attribute, test) => {
                self.date(*attribute, models).is_some_and(|day| match test {
                    DateTest::Compare(op, value) => op.holds(day, *value),
                    DateTest::In(values) => values.contains(&day),
                    DateTest::Since(from) => *from <= day && day <= self.rule.as_of,
                })
            }
            Node::Label(model, set) => set & (1 << models.get().code(*model)) != 0,
            Node::Gender(set, negate) => {
                let code = self.table.profile[self.m].gender;
                code != 0 && (set & (1 << code) != 0) != *negate
            }
            Node::Region(ids, negate) => set_test(self.table.profile[self.m].region, ids, *negate),
            Node::HomeStore(ids, negate) => {
                set_test(self.table.profile[self.m].home_store, ids, *negate)
            }
            Node::Measure(measure, filter, test) => self
                .measure(*measure, filter)
                .is_some_and(|value| test.holds(value)),
            Node::Bought(filter) => self.bought(filter),
            Node::RepurchaseCycle(filter, cycles) => self.repurchase_cycle(filter, cycles),
            Node::Event {
                kind,
                filter,
                no_purchase_since,
            } => self.event(*kind, filter, *no_purchase_since),
            Node::Consent(bit) => self.table.profile[self.m].consent & bit != 0,
            Node::Segment(k) => (self.segment)(self.m, *k),
            Node::Tag(tag) => self.rows().tags().binary_search(tag).is_ok(),
            Node::Tier(test) => {
                let rank = self.table.tier[self.m];
                rank != UNRANKED && test.holds(i128::from(rank) * 100)
            }
            Node::Points { pending, test } => {
                let day = self.rule.as_of;
                let points = self.points(|lot| {
                    if *pending {
                        lot.pending(day)
                    } else {
                        lot.spendable(day)
                    }
                });
                test.holds(i128::from(points) * 100)
            }
            Node::PointsExpiring(until, test) => {
                let day = self.rule.as_of;
                let points = self.points(|lot| lot.spendable(day) && lot.expires_on <= *until);
                test.holds(i128::from(points) * 100)
            }
            Node::Coupons {
                template,
                last_day,
                test,
            } => {
                let day = self.rule.as_of;
                let count = self
                    .table
                    .coupons
                    .get(self.m)
                    .iter()
                    .filter(|c| {
                        c.usable(day)
                            && template.is_none_or(|t| c.template == t)
                            && last_day.is_none_or(|last| c.valid_until <= last)
                    })
                    .count();
                test.holds(count as i128 * 100)
            }
        }
    }
}

/// A member's id (maybe unknown) in a set, or, negated, known and outside it.
fn set_test(id: u32, ids: &[u32], negate: bool) -> bool {
    id != super::table::UNSEEN && ids.contains(&id) != negate
}

/// Days from `today` (year, month, day) to the next birthday on `month`/`day`, 0 on the day; a
/// day past the month's end (29 February) falls on its last day.
fn days_to_birthday(today: (i32, u32, u32), month: u32, day: u32) -> Option<i64> {
    let (year, this_month, this_day) = today;
    let today = jiff::civil::Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(this_month).ok()?,
        i8::try_from(this_day).ok()?,
    )
    .ok()?;
    let on = |year: i16| {
        let first = jiff::civil::Date::new(year, i8::try_from(month).ok()?, 1).ok()?;
        let day = i8::try_from(day).ok()?.min(first.days_in_month());
        first.with().day(day).build().ok()
    };
    let mut next = on(today.year())?;
    if next < today {
        next = on(today.year() + 1)?;
    }
    Some(i64::from(today.until(next).ok()?.get_days()))
}

#[cfg(test)]
mod tests {
    use super::days_to_birthday;

    #[test]
    fn the_next_birthday_counts_from_today_and_a_leap_day_falls_on_the_28th() {
        assert_eq!(days_to_birthday((2026, 3, 31), 3, 31), Some(0));
        assert_eq!(days_to_birthday((2026, 3, 31), 4, 1), Some(1));
        assert_eq!(days_to_birthday((2026, 3, 31), 3, 30), Some(364));
        assert_eq!(
            days_to_birthday((2026, 3, 31), 2, 29),
            Some(334),
            "2027-02-28"
        );
        assert_eq!(
            days_to_birthday((2027, 12, 31), 2, 29),
            Some(60),
            "2028-02-29"
        );
    }
}
