//! How an order earns points (domain-spec §4.3): `floor(net item amount / unit)` base points,
//! where a line of a category or sku with a multiplier counts that many times its share of what
//! was paid, then times the bonus period's multiplier (double-points days) and the member's tier
//! multiplier, rounded down. What returns take back is what the order would earn without them.

use jiff::civil::{Date, Weekday};

use crate::{Money, Order, ReturnLine, Sku};

/// A multiplier in hundredths: 100 is ×1, 125 is ×1.25, 200 is ×2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Multiplier(u32);

impl Multiplier {
    /// ×1.
    pub const ONE: Self = Self(100);

    /// From hundredths, 1 (×0.01) to 10,000 (×100).
    pub fn from_hundredths(hundredths: u32) -> Result<Self, String> {
        if (1..=10_000).contains(&hundredths) {
            Ok(Self(hundredths))
        } else {
            Err(format!(
                "×{}.{:02} is not between ×0.01 and ×100",
                hundredths / 100,
                hundredths % 100
            ))
        }
    }

    /// From a decimal such as 1.25, to the nearest hundredth.
    pub fn from_decimal(value: f64) -> Result<Self, String> {
        if !value.is_finite() || !(0.01..=100.0).contains(&value) {
            return Err(format!("×{value} is not between ×0.01 and ×100"));
        }
        // In range, so the rounded value fits.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Self::from_hundredths((value * 100.0).round() as u32)
    }

    /// In hundredths.
    pub fn hundredths(self) -> u32 {
        self.0
    }

    /// As a decimal: 1.25 for ×1.25.
    pub fn to_decimal(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

/// Days on which orders earn more: from `from` to `to` (both included), on every day or only on
/// the given weekdays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BonusPeriod {
    /// Its name (`double points weekend`).
    pub name: String,
    /// Its first day.
    pub from: Date,
    /// Its last day.
    pub to: Date,
    /// When not empty, only these weekdays within it.
    pub weekdays: Vec<Weekday>,
    /// What orders placed in it earn, times.
    pub multiplier: Multiplier,
}

impl BonusPeriod {
    /// True when an order of `day` is in it.
    pub fn covers(&self, day: Date) -> bool {
        self.from <= day
            && day <= self.to
            && (self.weekdays.is_empty() || self.weekdays.contains(&day.weekday()))
    }
}

/// The earning rules (`[points]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarnRules {
    /// The spend that earns one base point (`unit`, in the brand's currency); orders in another
    /// currency earn nothing.
    pub unit: Money,
    /// Count the shipping fee as spend.
    pub include_shipping: bool,
    /// Lines of these categories count this many times.
    pub categories: Vec<(String, Multiplier)>,
    /// Lines of these skus count this many times (over their category's multiplier).
    pub skus: Vec<(Sku, Multiplier)>,
    /// Days that earn more; where several cover a day, the largest multiplier holds.
    pub bonus_periods: Vec<BonusPeriod>,
    /// The most points a member's orders earn in a period, if limited.
    pub cap: Option<EarnCap>,
}

/// A limit on what a member's orders earn: at most `points` for the orders placed in one
/// `period` (net of what returns took back); an order over it earns what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarnCap {
    /// The most points per member and period (above 0).
    pub points: i64,
    /// The calendar period it counts over.
    pub period: CapPeriod,
}

/// The calendar period an earning cap counts over, in the brand's days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapPeriod {
    /// One day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar year.
    Year,
}

impl CapPeriod {
    /// Every period.
    pub const ALL: [Self; 4] = [Self::Day, Self::Week, Self::Month, Self::Year];

    /// Its name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// Reads a name.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| format!("`{name}` is not a period (day, week, month or year)"))
    }

    /// The period holding `day`, as the store keys it: `day:2026-03-05`, `week:2026-W10`,
    /// `month:2026-03`, `year:2026`.
    pub fn key(self, day: Date) -> String {
        match self {
            Self::Day => format!("day:{day}"),
            Self::Week => {
                let week = day.iso_week_date();
                format!("week:{:04}-W{:02}", week.year(), week.week())
            }
            Self::Month => format!("month:{:04}-{:02}", day.year(), day.month()),
            Self::Year => format!("year:{:04}", day.year()),
        }
    }
}

impl EarnRules {
    /// The points `order`, placed on `day`, earns for a member whose tier multiplies by `tier`,
    /// after `refunded` (minor units) and the returned `lines` have been given back.
    pub fn order_points(
        &self,
        order: &Order,
        day: Date,
        tier: Multiplier,
        refunded: i64,
        returned: &[ReturnLine],
    ) -> i64 {
        if order.amount.currency() != self.unit.currency() || self.unit.minor() <= 0 {
            return 0;
        }
        let shipping = if self.include_shipping {
            0
        } else {
            order.shipping.minor()
        };
        let paid = i128::from((order.amount.minor() - shipping - refunded).max(0));
        let (subtotal, weighted) = self.weighted_subtotal(order, returned);
        // What was paid, each line's share of it counted its multiplier's times, in hundredths.
        let counted = if subtotal > 0 {
            paid * weighted / subtotal
        } else {
            paid * i128::from(Multiplier::ONE.0)
        };
        let base = counted / (i128::from(self.unit.minor()) * 100);
        let bonus = self.bonus_on(day);
        let points = base * i128::from(bonus.0) * i128::from(tier.0) / 10_000;
        i64::try_from(points).unwrap_or(i64::MAX)
    }

    /// The largest bonus multiplier of `day` (×1 when none covers it).
    pub fn bonus_on(&self, day: Date) -> Multiplier {
        self.bonus_periods
            .iter()
            .filter(|period| period.covers(day))
            .map(|period| period.multiplier)
            .max()
            .unwrap_or(Multiplier::ONE)
    }

    /// The line subtotal left after `returned` (minor units), and the same counted with each
    /// line's multiplier (in hundredths).
    fn weighted_subtotal(&self, order: &Order, returned: &[ReturnLine]) -> (i128, i128) {
        let mut taken: Vec<(&Sku, u32)> = Vec::new();
        for line in returned {
            match taken.iter_mut().find(|(sku, _)| **sku == line.sku) {
                Some((_, quantity)) => *quantity += line.quantity,
                None => taken.push((&line.sku, line.quantity)),
            }
        }
        let (mut subtotal, mut weighted) = (0i128, 0i128);
        for line in &order.lines {
            let mut quantity = line.quantity;
            if let Some((_, left_to_take)) = taken.iter_mut().find(|(sku, _)| **sku == line.sku) {
                let take = quantity.min(*left_to_take);
                quantity -= take;
                *left_to_take -= take;
            }
            let amount = i128::from(line.unit_price.minor()) * i128::from(quantity);
            subtotal += amount;
            weighted +=
                amount * i128::from(self.line_multiplier(&line.sku, line.category.as_deref()).0);
        }
        (subtotal, weighted)
    }

    fn line_multiplier(&self, sku: &Sku, category: Option<&str>) -> Multiplier {
        if let Some((_, multiplier)) = self.skus.iter().find(|(s, _)| s == sku) {
            return *multiplier;
        }
        category
            .and_then(|category| self.categories.iter().find(|(c, _)| c == category))
            .map_or(Multiplier::ONE, |(_, multiplier)| *multiplier)
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;
    use crate::{Currency, MemberId, OrderId, OrderLine, OrderStatus};

    fn twd(major: i64) -> Money {
        Money::from_minor(major * 100, Currency::TWD)
    }

    fn line(no: u32, sku: &str, category: &str, quantity: u32, price: i64) -> OrderLine {
        OrderLine {
            line_no: no,
            sku: Sku::parse(sku).unwrap(),
            name: None,
            category: Some(category.to_owned()),
            quantity,
            unit_price: twd(price),
        }
    }

    fn order(amount: i64, shipping: i64, lines: Vec<OrderLine>) -> Order {
        Order {
            order_id: OrderId::parse("O-1").unwrap(),
            member_id: MemberId::parse("M-1").unwrap(),
            store_id: None,
            placed_at: "2026-03-02T03:00:00Z".parse().unwrap(),
            status: OrderStatus::Paid,
            status_at: None,
            amount: twd(amount),
            discount: twd(0),
            shipping: twd(shipping),
            coupon_codes: Vec::new(),
            lines,
        }
    }

    fn rules() -> EarnRules {
        EarnRules {
            unit: twd(100),
            include_shipping: false,
            categories: vec![("coffee".to_owned(), Multiplier::from_decimal(2.0).unwrap())],
            skus: vec![(Sku::parse("BEANS").unwrap(), Multiplier::ONE)],
            bonus_periods: vec![BonusPeriod {
                name: "double Wednesdays".to_owned(),
                from: date(2026, 3, 1),
                to: date(2026, 3, 31),
                weekdays: vec![Weekday::Wednesday],
                multiplier: Multiplier::from_decimal(2.0).unwrap(),
            }],
            cap: None,
        }
    }

    #[test]
    fn a_cap_counts_over_the_calendar_period_of_the_order() {
        let day = date(2026, 3, 5);
        assert_eq!(CapPeriod::Day.key(day), "day:2026-03-05");
        assert_eq!(CapPeriod::Week.key(day), "week:2026-W10");
        assert_eq!(CapPeriod::Month.key(day), "month:2026-03");
        assert_eq!(CapPeriod::Year.key(day), "year:2026");
        // 1 January 2027 is a Friday of ISO week 53 of 2026.
        assert_eq!(CapPeriod::Week.key(date(2027, 1, 1)), "week:2026-W53");
        assert_eq!(CapPeriod::parse("month"), Ok(CapPeriod::Month));
        assert!(CapPeriod::parse("quarter").is_err());
    }

    #[test]
    fn one_point_per_hundred_paid_without_shipping_rounded_down() {
        let day = date(2026, 3, 2);
        let plain = order(1_060, 60, Vec::new());
        assert_eq!(
            rules().order_points(&plain, day, Multiplier::ONE, 0, &[]),
            10
        );
        let gold = Multiplier::from_decimal(1.25).unwrap();
        // floor(1000 / 100) = 10 base points, ×1.25 = 12.5 → 12.
        assert_eq!(rules().order_points(&plain, day, gold, 0, &[]), 12);
        let mut dollars = plain;
        dollars.amount = Money::from_minor(106_000, Currency::parse("USD").unwrap());
        assert_eq!(
            rules().order_points(&dollars, day, Multiplier::ONE, 0, &[]),
            0
        );
    }

    #[test]
    fn a_category_multiplier_counts_its_lines_share_of_what_was_paid() {
        // 300 of coffee (×2) and 100 of pastry, 40 off: 360 paid, coffee's share 270 counts 540.
        let basket = order(
            360,
            0,
            vec![
                line(1, "LATTE", "coffee", 2, 150),
                line(2, "SCONE", "pastry", 1, 100),
            ],
        );
        let day = date(2026, 3, 2);
        assert_eq!(
            rules().order_points(&basket, day, Multiplier::ONE, 0, &[]),
            6
        );
        // The sku rule wins over its category: beans are coffee but count once.
        let beans = order(400, 0, vec![line(1, "BEANS", "coffee", 1, 400)]);
        assert_eq!(
            rules().order_points(&beans, day, Multiplier::ONE, 0, &[]),
            4
        );
        // Wednesday 2026-03-04 doubles.
        let wednesday = date(2026, 3, 4);
        assert_eq!(
            rules().order_points(&basket, wednesday, Multiplier::ONE, 0, &[]),
            12
        );
    }

    #[test]
    fn returning_the_multiplied_line_takes_back_what_it_earned() {
        let basket = order(
            400,
            0,
            vec![
                line(1, "LATTE", "coffee", 2, 150),
                line(2, "SCONE", "pastry", 1, 100),
            ],
        );
        let day = date(2026, 3, 2);
        let returned = [ReturnLine {
            sku: Sku::parse("LATTE").unwrap(),
            quantity: 2,
        }];
        assert_eq!(
            rules().order_points(&basket, day, Multiplier::ONE, 0, &[]),
            7
        );
        assert_eq!(
            rules().order_points(&basket, day, Multiplier::ONE, 30_000, &returned),
            1
        );
        assert_eq!(
            rules().order_points(&basket, day, Multiplier::ONE, 40_000, &[]),
            0
        );
    }

    proptest! {
        #[test]
        fn a_refund_never_earns_more_points(
            prices in prop::collection::vec((1i64..2_000, 1u32..4, 0usize..3), 0..5),
            shipping in 0i64..100,
            discount in 0i64..300,
            refund_a in 0i64..5_000,
            refund_b in 0i64..5_000,
            bonus in 1u32..400,
        ) {
            let categories = ["coffee", "pastry", "beans"];
            let lines: Vec<OrderLine> = prices
                .iter()
                .enumerate()
                .map(|(i, (price, quantity, category))| {
                    line(i as u32 + 1, &format!("S{i}"), categories[*category], *quantity, *price)
                })
                .collect();
            let subtotal: i64 = prices.iter().map(|(p, q, _)| p * i64::from(*q)).sum();
            let amount = (subtotal - discount).max(0) + shipping;
            let order = order(amount, shipping, lines);
            let mut rules = rules();
            rules.bonus_periods[0].multiplier = Multiplier::from_hundredths(bonus).unwrap();
            let day = date(2026, 3, 4);
            let (less, more) = (refund_a.min(refund_b) * 100, refund_a.max(refund_b) * 100);
            let full = rules.order_points(&order, day, Multiplier::ONE, 0, &[]);
            let after_less = rules.order_points(&order, day, Multiplier::ONE, less, &[]);
            let after_more = rules.order_points(&order, day, Multiplier::ONE, more, &[]);
            prop_assert!(full >= after_less && after_less >= after_more && after_more >= 0);
        }
    }
}
