//! The facts the engine reads, held as compact member-major columns: each member's orders are
//! contiguous and sorted by day, so evaluating a member is one sequential pass that stays in
//! cache. An order takes 16 bytes.

use crate::Day;

/// One order: when it was placed, from when it no longer counts (cancelled), and what it brought
/// in, in minor units, shipping excluded (the caller decides what the amount includes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFact {
    /// The civil day it was placed.
    pub day: Day,
    /// The day it was cancelled; `Day(i32::MAX)` when it never was.
    pub cancelled_from: Day,
    /// Its amount, minor units.
    pub amount: i64,
}

impl OrderFact {
    /// A paid order that was never cancelled.
    pub fn paid(day: Day, amount: i64) -> Self {
        Self {
            day,
            cancelled_from: Day(i32::MAX),
            amount,
        }
    }

    /// Whether it is a valid order as of `as_of`: placed by then and not cancelled by then.
    pub fn valid_on(&self, as_of: Day) -> bool {
        self.day <= as_of && self.cancelled_from > as_of
    }
}

/// A completed return against one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnFact {
    /// The order's index in the table's order column.
    pub order: u32,
    /// The day it was completed.
    pub day: Day,
    /// Money refunded, minor units.
    pub amount: i64,
}

/// One member's facts, wherever they are held: orders sorted by day, the returns of those orders
/// (sorted by order; `order − order_base` is the order's position in `orders`, and the slice may
/// run on past this member's returns), and interaction days, sorted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemberView<'a> {
    pub(crate) orders: &'a [OrderFact],
    pub(crate) returns: &'a [ReturnFact],
    pub(crate) order_base: u32,
    pub(crate) interactions: &'a [Day],
}

impl MemberView<'_> {
    /// This member's returns, each pointing at its order's position in `orders`.
    pub(crate) fn own_returns(&self) -> impl Iterator<Item = ReturnFact> + '_ {
        let (base, count) = (self.order_base, self.orders.len() as u32);
        self.returns.iter().map_while(move |r| {
            let offset = r.order.wrapping_sub(base);
            (r.order >= base && offset < count).then_some(ReturnFact {
                order: offset,
                ..*r
            })
        })
    }
}

/// Orders per block of the returns index.
const RETURN_BLOCK_SHIFT: u32 = 8;

/// Every member's facts, member-major.
#[derive(Debug, Clone, Default)]
pub struct FactTable {
    pub(crate) order_start: Vec<u32>,
    pub(crate) orders: Vec<OrderFact>,
    pub(crate) returns: Vec<ReturnFact>,
    pub(crate) interaction_start: Vec<u32>,
    pub(crate) interactions: Vec<Day>,
    /// For each block of 256 orders, the first return of an order in or after it (empty until
    /// [`FactTable::index_returns`]): finding a member's returns then reads a few bytes of a
    /// small index and one run of returns, not a binary search over every return.
    return_blocks: Vec<u32>,
}

impl FactTable {
    /// How many members.
    pub fn len(&self) -> usize {
        self.order_start.len().saturating_sub(1)
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Member `idx`'s facts.
    pub(crate) fn view(&self, idx: usize) -> MemberView<'_> {
        let (start, end) = (
            self.order_start[idx] as usize,
            self.order_start[idx + 1] as usize,
        );
        let before_start = |r: &ReturnFact| (r.order as usize) < start;
        let block = start >> RETURN_BLOCK_SHIFT;
        let returns_from = match self.return_blocks.get(block) {
            Some(&from) => {
                let (from, to) = (
                    from as usize,
                    self.return_blocks
                        .get(block + 1)
                        .map_or(self.returns.len(), |to| *to as usize),
                );
                from + self.returns[from..to].partition_point(before_start)
            }
            None => self.returns.partition_point(before_start),
        };
        MemberView {
            orders: &self.orders[start..end],
            returns: &self.returns[returns_from..],
            order_base: start as u32,
            interactions: &self.interactions
                [self.interaction_start[idx] as usize..self.interaction_start[idx + 1] as usize],
        }
    }

    /// Builds the returns index; call once the orders and returns are complete.
    pub(crate) fn index_returns(&mut self) {
        let blocks = (self.orders.len() >> RETURN_BLOCK_SHIFT) + 1;
        let mut index = Vec::with_capacity(blocks + 1);
        let mut at = 0;
        for block in 0..=blocks {
            let first_order = block << RETURN_BLOCK_SHIFT;
            while at < self.returns.len() && (self.returns[at].order as usize) < first_order {
                at += 1;
            }
            index.push(at as u32);
        }
        self.return_blocks = index;
    }

    /// Adds a member with no facts yet; returns their index.
    pub(crate) fn push_empty(&mut self) -> usize {
        if self.order_start.is_empty() {
            self.order_start.push(0);
            self.interaction_start.push(0);
        }
        self.order_start.push(self.orders.len() as u32);
        self.interaction_start.push(self.interactions.len() as u32);
        self.len() - 1
    }

    /// Adds the next member's facts as they are (already sorted).
    pub(crate) fn push_view(&mut self, view: MemberView<'_>) {
        if self.order_start.is_empty() {
            self.order_start.push(0);
            self.interaction_start.push(0);
        }
        let base = self.orders.len() as u32;
        self.orders.extend_from_slice(view.orders);
        self.returns.extend(view.own_returns().map(|r| ReturnFact {
            order: base + r.order,
            ..r
        }));
        self.order_start.push(self.orders.len() as u32);
        self.interactions.extend_from_slice(view.interactions);
        self.interaction_start.push(self.interactions.len() as u32);
    }

    /// Bytes the columns take.
    pub fn heap_bytes(&self) -> usize {
        self.order_start.capacity() * 4
            + self.orders.capacity() * size_of::<OrderFact>()
            + self.returns.capacity() * size_of::<ReturnFact>()
            + self.interaction_start.capacity() * 4
            + self.interactions.capacity() * 4
            + self.return_blocks.capacity() * 4
    }
}

/// Builds a table member by member.
#[derive(Debug, Default)]
pub struct FactTableBuilder {
    table: FactTable,
}

impl FactTableBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        let mut table = FactTable::default();
        table.order_start.push(0);
        table.interaction_start.push(0);
        Self { table }
    }

    /// Adds the next member: their orders, each with its returns `(day, amount)`, and the days
    /// of their interactions, in any order. Returns the member's index.
    pub fn push_member(
        &mut self,
        orders: &[(OrderFact, Vec<(Day, i64)>)],
        interactions: &[Day],
    ) -> usize {
        let table = &mut self.table;
        let mut sorted: Vec<&(OrderFact, Vec<(Day, i64)>)> = orders.iter().collect();
        sorted.sort_by_key(|(order, _)| (order.day, order.amount, order.cancelled_from));
        for (order, returns) in sorted {
            let index = table.orders.len() as u32;
            table.orders.push(*order);
            let mut returns = returns.clone();
            returns.sort_unstable();
            table
                .returns
                .extend(returns.into_iter().map(|(day, amount)| ReturnFact {
                    order: index,
                    day,
                    amount,
                }));
        }
        table.order_start.push(table.orders.len() as u32);
        let first = table.interactions.len();
        table.interactions.extend_from_slice(interactions);
        table.interactions[first..].sort_unstable();
        table
            .interaction_start
            .push(table.interactions.len() as u32);
        table.order_start.len() - 2
    }

    /// The finished table, its columns shrunk to their contents.
    pub fn finish(mut self) -> FactTable {
        let table = &mut self.table;
        table.order_start.shrink_to_fit();
        table.orders.shrink_to_fit();
        table.returns.shrink_to_fit();
        table.interaction_start.shrink_to_fit();
        table.interactions.shrink_to_fit();
        table.index_returns();
        self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_returns_index_finds_the_same_returns_as_a_full_search() {
        let mut builder = FactTableBuilder::new();
        // 3,000 members with 0 to 4 orders each, every third order returned once or twice, so
        // members straddle many 256-order blocks and some blocks hold no return at all.
        for member in 0..3_000_i32 {
            let orders: Vec<(OrderFact, Vec<(Day, i64)>)> = (0..member % 5)
                .map(|k| {
                    let returns = match (member + k) % 3 {
                        0 => vec![(Day(10), 5)],
                        1 if member % 7 == 0 => vec![(Day(11), 1), (Day(12), 2)],
                        _ => vec![],
                    };
                    (OrderFact::paid(Day(k), 100), returns)
                })
                .collect();
            builder.push_member(&orders, &[]);
        }
        let indexed = builder.finish();
        assert!(!indexed.return_blocks.is_empty());
        let unindexed = FactTable {
            return_blocks: Vec::new(),
            ..indexed.clone()
        };
        for member in 0..indexed.len() {
            let (a, b) = (indexed.view(member), unindexed.view(member));
            assert_eq!(
                a.own_returns().collect::<Vec<_>>(),
                b.own_returns().collect::<Vec<_>>(),
                "member {member}"
            );
            assert_eq!(a.returns.len(), b.returns.len(), "member {member}");
        }
    }
}
