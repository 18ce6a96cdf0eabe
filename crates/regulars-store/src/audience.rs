//! The scan audiences read at startup: what rules test beyond the models' columns (profiles,
//! each order's store and lines, returns, behaviour events, interactions with their channel),
//! borrowed from the rows (instants in Unix microseconds, money in minor units); and members'
//! loyalty (tier, points lots, coupons), read whole at startup and again for the members a
//! loyalty write touched.

use jiff::civil::Date;
use regulars_domain::Lot;

use crate::{OrderScan, ReturnScan};

/// A member's loyalty as audiences read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberLoyalty {
    /// The tier last evaluated, if the member has been.
    pub tier: Option<String>,
    /// Lots with points left that still count on or after the day asked about.
    pub lots: Vec<Lot>,
    /// Active coupons whose last day is on or after the day asked about.
    pub coupons: Vec<LoyaltyCoupon>,
}

/// An active coupon as audiences read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoyaltyCoupon {
    /// Its template's name.
    pub template: String,
    /// Its first day.
    pub valid_from: Date,
    /// Its last day.
    pub valid_until: Date,
}

/// A member's profile as the audience scan reads it.
#[derive(Debug, Clone, Copy)]
pub struct MemberScan<'a> {
    /// The member.
    pub member_id: &'a str,
    /// `female`, `male` or `other`.
    pub gender: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<&'a str>,
    /// Region.
    pub region: Option<&'a str>,
    /// When the member joined.
    pub joined_at: Option<i64>,
    /// Home store id.
    pub home_store_id: Option<&'a str>,
    /// Consent now on LINE, SMS, e-mail and push, in that order (`None`: never asked).
    pub consents: [Option<bool>; 4],
}

/// An order line with its order's member.
#[derive(Debug, Clone, Copy)]
pub struct LineScan<'a> {
    /// The order's member.
    pub member_id: &'a str,
    /// The order.
    pub order_id: &'a str,
    /// The sku.
    pub sku: &'a str,
    /// Its category.
    pub category: Option<&'a str>,
    /// How many.
    pub quantity: i64,
    /// Price of one, minor units.
    pub unit_price: i64,
}

/// A behaviour event as the audience scan reads it.
#[derive(Debug, Clone, Copy)]
pub struct EventScan<'a> {
    /// The member.
    pub member_id: &'a str,
    /// When.
    pub at: i64,
    /// `view`, `cart_add`, …
    pub kind: &'a str,
    /// The sku it was about.
    pub sku: Option<&'a str>,
    /// The category it was about.
    pub category: Option<&'a str>,
}

/// Receives every fact of an audience scan: members first, in id order; then orders; then
/// lines, returns, events and interactions, each in no particular order.
pub trait AudienceVisitor: Send {
    /// A member's profile.
    fn member(&mut self, row: MemberScan<'_>);
    /// An order with its store and the store's channel (`online`/`offline`), when known.
    fn order(&mut self, row: OrderScan<'_>, store_id: Option<&str>, channel: Option<&str>);
    /// An order line.
    fn line(&mut self, row: LineScan<'_>);
    /// A return.
    fn return_(&mut self, row: ReturnScan<'_>);
    /// A behaviour event.
    fn event(&mut self, row: EventScan<'_>);
    /// An interaction of `member_id` at (Unix microseconds) on `channel`.
    fn interaction(&mut self, member_id: &str, at: i64, channel: &str);
}
