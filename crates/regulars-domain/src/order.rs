//! Orders with their lines, their status, and the rule that judges an order sent again.

use jiff::Timestamp;

use crate::{MemberId, Money, OrderId, Sku, StoreId};

/// Where an order stands. An order moves forward only: paid → completed, and either → cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Paid, not yet completed.
    Paid,
    /// Fulfilled or picked up; the sale is final but for returns.
    Completed,
    /// Cancelled: not a valid order.
    Cancelled,
}

impl OrderStatus {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Accepts the canonical names and common synonyms (`canceled`, `complete`, `fulfilled`).
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_lowercase().as_str() {
            "paid" => Ok(Self::Paid),
            "completed" | "complete" | "fulfilled" | "done" => Ok(Self::Completed),
            "cancelled" | "canceled" | "voided" | "void" => Ok(Self::Cancelled),
            other => Err(format!(
                "`{other}` is not an order status (paid, completed or cancelled)"
            )),
        }
    }

    /// How far along the order is; a status change must not go back.
    fn rank(self) -> u8 {
        match self {
            Self::Paid => 0,
            Self::Completed => 1,
            Self::Cancelled => 2,
        }
    }
}

/// One line of an order's basket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    /// The line's number within its order, from 1.
    pub line_no: u32,
    /// The product.
    pub sku: Sku,
    /// The product's name.
    pub name: Option<String>,
    /// The product's category (`coffee`, `pastry`, …).
    pub category: Option<String>,
    /// How many, at least 1.
    pub quantity: u32,
    /// The price of one, in the order's currency, never negative.
    pub unit_price: Money,
}

/// An order, as sent and as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The brand's id for the order.
    pub order_id: OrderId,
    /// Who placed it.
    pub member_id: MemberId,
    /// Where it was placed (a store or the online shop).
    pub store_id: Option<StoreId>,
    /// When it was placed.
    pub placed_at: Timestamp,
    /// Its status.
    pub status: OrderStatus,
    /// When it took that status; a stored order always has one.
    pub status_at: Option<Timestamp>,
    /// What the member paid: after discounts, shipping included.
    pub amount: Money,
    /// The discounts it received.
    pub discount: Money,
    /// The shipping fee included in `amount`.
    pub shipping: Money,
    /// Coupon codes used on it.
    pub coupon_codes: Vec<String>,
    /// Its basket; empty when the lines were not sent with it.
    pub lines: Vec<OrderLine>,
}

impl Order {
    /// Checks the rules that span fields: one currency, shipping within the amount, distinct line
    /// numbers, and lines in the order's currency. Returns `(field, reason)` pairs.
    pub fn cross_field_errors(&self) -> Vec<(String, String)> {
        let mut errors = Vec::new();
        let currency = self.amount.currency();
        if self.shipping.minor() > self.amount.minor() {
            errors.push(("shipping".to_owned(), "is more than the amount".to_owned()));
        }
        for (field, money) in [("discount", self.discount), ("shipping", self.shipping)] {
            if money.currency() != currency {
                errors.push((field.to_owned(), format!("is not in {currency}")));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (idx, line) in self.lines.iter().enumerate() {
            if !seen.insert(line.line_no) {
                errors.push((
                    format!("lines[{idx}].line_no"),
                    format!("line {} appears twice", line.line_no),
                ));
            }
            if line.unit_price.currency() != currency {
                errors.push((
                    format!("lines[{idx}].unit_price"),
                    format!("is not in {currency}"),
                ));
            }
        }
        errors
    }
}

/// What an order sent again means for the stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resend {
    /// Nothing new: store nothing.
    Duplicate,
    /// An older status than the stored one (a late delivery): store nothing.
    Stale,
    /// A defined update: the status moved forward, or lines arrived for an order stored without.
    Update {
        /// The status change, if the status moved forward.
        status: Option<(OrderStatus, OrderStatus)>,
        /// True when the stored order had no lines and these are its first.
        add_lines: bool,
    },
    /// Something other than the status differs: refuse, naming the fields.
    Conflict(Vec<&'static str>),
}

/// Judges an order sent again against the stored one.
pub fn classify_order_resend(stored: &Order, incoming: &Order) -> Resend {
    let mut differing = Vec::new();
    let checks = [
        ("member_id", stored.member_id == incoming.member_id),
        ("store_id", stored.store_id == incoming.store_id),
        ("placed_at", stored.placed_at == incoming.placed_at),
        (
            "currency",
            stored.amount.currency() == incoming.amount.currency(),
        ),
        ("amount", stored.amount == incoming.amount),
        ("discount", stored.discount == incoming.discount),
        ("shipping", stored.shipping == incoming.shipping),
        ("coupon_codes", stored.coupon_codes == incoming.coupon_codes),
    ];
    for (field, same) in checks {
        if !same {
            differing.push(field);
        }
    }
    let add_lines = stored.lines.is_empty() && !incoming.lines.is_empty();
    if !incoming.lines.is_empty() && !stored.lines.is_empty() && stored.lines != incoming.lines {
        differing.push("lines");
    }
    if !differing.is_empty() {
        return Resend::Conflict(differing);
    }
    let status = match stored.status.rank().cmp(&incoming.status.rank()) {
        std::cmp::Ordering::Less => Some((stored.status, incoming.status)),
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater if !add_lines => return Resend::Stale,
        std::cmp::Ordering::Greater => None,
    };
    if status.is_none() && !add_lines {
        return Resend::Duplicate;
    }
    Resend::Update { status, add_lines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn order() -> Order {
        let twd = Currency::TWD;
        Order {
            order_id: OrderId::parse("O1").unwrap(),
            member_id: MemberId::parse("M1").unwrap(),
            store_id: Some(StoreId::parse("S1").unwrap()),
            placed_at: "2024-03-01T01:30:00Z".parse().unwrap(),
            status: OrderStatus::Paid,
            status_at: None,
            amount: Money::from_minor(12_000, twd),
            discount: Money::zero(twd),
            shipping: Money::zero(twd),
            coupon_codes: vec![],
            lines: vec![],
        }
    }

    #[test]
    fn the_same_order_again_is_a_duplicate() {
        assert_eq!(classify_order_resend(&order(), &order()), Resend::Duplicate);
    }

    #[test]
    fn a_status_may_move_forward_but_not_back() {
        let mut completed = order();
        completed.status = OrderStatus::Completed;
        assert_eq!(
            classify_order_resend(&order(), &completed),
            Resend::Update {
                status: Some((OrderStatus::Paid, OrderStatus::Completed)),
                add_lines: false
            }
        );
        assert_eq!(classify_order_resend(&completed, &order()), Resend::Stale);
    }

    #[test]
    fn a_different_amount_is_a_conflict_naming_the_field() {
        let mut changed = order();
        changed.amount = Money::from_minor(13_000, Currency::TWD);
        changed.placed_at = "2024-03-02T01:30:00Z".parse().unwrap();
        assert_eq!(
            classify_order_resend(&order(), &changed),
            Resend::Conflict(vec!["placed_at", "amount"])
        );
    }

    #[test]
    fn lines_may_arrive_after_their_order() {
        let mut with_lines = order();
        with_lines.lines.push(OrderLine {
            line_no: 1,
            sku: Sku::parse("LATTE").unwrap(),
            name: None,
            category: None,
            quantity: 1,
            unit_price: Money::from_minor(12_000, Currency::TWD),
        });
        assert_eq!(
            classify_order_resend(&order(), &with_lines),
            Resend::Update {
                status: None,
                add_lines: true
            }
        );
        assert_eq!(
            classify_order_resend(&with_lines, &with_lines),
            Resend::Duplicate
        );
        // An order re-sent without its lines says nothing about them.
        assert_eq!(
            classify_order_resend(&with_lines, &order()),
            Resend::Duplicate
        );
    }
}
