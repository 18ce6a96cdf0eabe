//! Audiences: the domain's rule language (`regulars_domain::audience`) run over the members.
//!
//! [`AudienceTable`] holds what rules read beyond the models' columns (profile, orders with
//! their store and lines, returns, events, interactions, tags); [`Audience::compile`] checks a
//! rule against a brand as of a day; [`Audience::matches`] and [`Audience::select`] test
//! members. The semantics, pinned by the tests against a plain reading of the facts:
//!
//! * A valid order counts from its day until the day it is cancelled, as in the models.
//! * Windows end on the evaluated day: `within = 30d` is that day and the 29 before it.
//! * `orders`, `purchase_days` and `bought` count valid orders in the window (and store or
//!   channel); with `sku` or `category`, only orders with such a line. `spent` is the orders'
//!   amount net of the returns completed by the evaluated day, or, with `sku` or `category`, the
//!   matching lines' quantity × unit price. `average_order` is `spent` / `orders`.
//! * `event(kind, no_purchase_since)` needs an event after the day of the last valid order.
//! * `repurchase_cycle(min_rate, min_buyers, sku, category)` reads items' repurchase rates and
//!   cycles over every member's valid orders of the last 730 days as of the compiled day (see
//!   `Predicate::RepurchaseCycle`); a member is in with a valid order of a qualifying item no
//!   more than its cycle days before the evaluated day.
//! * Loyalty is read as it stands now (the store keeps no history of lots and coupons), against
//!   the evaluated day: `points` are the lots spendable that day, `pending_points` those not yet
//!   spendable, `points_expiring(within = Nd)` the spendable lots whose first day without
//!   counting is at most N days after it, `unused_coupons` the coupons neither used up nor voided
//!   and inside their days. `tier` compares ranks among the brand's levels, lowest first; a
//!   member not yet evaluated holds the lowest.
//! * A member with no value for an attribute (no birthday, no purchase) fails every test of
//!   it, `!=` included; `not` turns that around.

mod compile;
mod eval;
mod loyalty;
mod repurchase;
mod table;
#[cfg(test)]
mod tests;

pub use compile::{Audience, Reads, RuleContext, RuleError};
pub use eval::{Lookups, TableMember};
pub use loyalty::{AudienceCoupon, AudienceLot, AudienceLoyalty};
pub use table::{
    AudienceChange, AudienceEvent, AudienceMember, AudienceOrder, AudienceProfile, AudienceTable,
    ChangeError, order_key,
};
