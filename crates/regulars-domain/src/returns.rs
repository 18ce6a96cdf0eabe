//! Returns against an order (whole or some lines) and the rule that keeps them within the order.

use jiff::Timestamp;

use crate::{Money, Order, OrderId, ReturnId, Sku};

/// One returned product and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnLine {
    /// The product returned.
    pub sku: Sku,
    /// How many, at least 1.
    pub quantity: u32,
}

/// A completed return: money given back against an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReturn {
    /// The brand's id for the return.
    pub return_id: ReturnId,
    /// The order it returns against.
    pub order_id: OrderId,
    /// The money refunded, in the order's currency.
    pub amount: Money,
    /// When the return was completed.
    pub completed_at: Timestamp,
    /// The lines returned; empty for the whole order or an amount-only refund.
    pub lines: Vec<ReturnLine>,
}

impl NewReturn {
    /// Checks the return against its order and what earlier returns already refunded: same
    /// currency, no more money back than was paid, only products the order holds and no more of
    /// them than it held, and not before the order was placed.
    pub fn check_against(
        &self,
        order: &Order,
        refunded_before: i64,
        returned_before: &[ReturnLine],
    ) -> Result<(), String> {
        if self.amount.currency() != order.amount.currency() {
            return Err(format!(
                "is in {} but order {} is in {}",
                self.amount.currency(),
                order.order_id,
                order.amount.currency()
            ));
        }
        if refunded_before + self.amount.minor() > order.amount.minor() {
            return Err(format!(
                "brings the refunds of order {} to {} but it was paid {}",
                order.order_id,
                Money::from_minor(
                    refunded_before + self.amount.minor(),
                    order.amount.currency()
                ),
                order.amount
            ));
        }
        if self.completed_at < order.placed_at {
            return Err(format!("is before order {} was placed", order.order_id));
        }
        if order.lines.is_empty() {
            return Ok(());
        }
        for line in &self.lines {
            let ordered: u32 = order
                .lines
                .iter()
                .filter(|l| l.sku == line.sku)
                .map(|l| l.quantity)
                .sum();
            if ordered == 0 {
                return Err(format!(
                    "sku {} is not in order {}",
                    line.sku, order.order_id
                ));
            }
            let before: u32 = returned_before
                .iter()
                .filter(|l| l.sku == line.sku)
                .map(|l| l.quantity)
                .sum();
            if before + line.quantity > ordered {
                return Err(format!(
                    "returns {} of sku {} but order {} has {ordered} ({before} returned before)",
                    before + line.quantity,
                    line.sku,
                    order.order_id
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Currency, MemberId, OrderLine, OrderStatus};

    fn order() -> Order {
        let twd = Currency::TWD;
        Order {
            order_id: OrderId::parse("O1").unwrap(),
            member_id: MemberId::parse("M1").unwrap(),
            store_id: None,
            placed_at: "2024-03-01T01:30:00Z".parse().unwrap(),
            status: OrderStatus::Completed,
            status_at: None,
            amount: Money::from_minor(30_000, twd),
            discount: Money::zero(twd),
            shipping: Money::zero(twd),
            coupon_codes: vec![],
            lines: vec![OrderLine {
                line_no: 1,
                sku: Sku::parse("BEANS").unwrap(),
                name: None,
                category: None,
                quantity: 2,
                unit_price: Money::from_minor(15_000, twd),
            }],
        }
    }

    fn refund(amount: i64, quantity: u32) -> NewReturn {
        NewReturn {
            return_id: ReturnId::parse("R1").unwrap(),
            order_id: OrderId::parse("O1").unwrap(),
            amount: Money::from_minor(amount, Currency::TWD),
            completed_at: "2024-03-05T00:00:00Z".parse().unwrap(),
            lines: vec![ReturnLine {
                sku: Sku::parse("BEANS").unwrap(),
                quantity,
            }],
        }
    }

    #[test]
    fn a_return_within_the_order_is_accepted() {
        assert!(refund(15_000, 1).check_against(&order(), 0, &[]).is_ok());
    }

    #[test]
    fn refunds_never_exceed_what_was_paid() {
        let error = refund(20_000, 1)
            .check_against(&order(), 15_000, &[])
            .unwrap_err();
        assert!(error.contains("was paid 300.00 TWD"), "{error}");
    }

    #[test]
    fn no_more_items_come_back_than_were_bought() {
        let earlier = [ReturnLine {
            sku: Sku::parse("BEANS").unwrap(),
            quantity: 2,
        }];
        assert!(refund(0, 1).check_against(&order(), 0, &earlier).is_err());
        let mut unknown = refund(100, 1);
        unknown.lines[0].sku = Sku::parse("MUG").unwrap();
        assert!(
            unknown
                .check_against(&order(), 0, &[])
                .unwrap_err()
                .contains("not in order")
        );
    }
}
