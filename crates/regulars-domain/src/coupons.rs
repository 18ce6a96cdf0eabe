//! Coupons (domain-spec §4.4): what a template offers (an amount or a percentage off, a spend or
//! quantity threshold, a free item, free shipping, buy X get Y, store credit), where it applies
//! (categories, skus, stores, channel, a minimum spend), how long an issued coupon is valid, and
//! what it takes off a basket, or the reason it does not apply.
//!
//! Amounts are minor units of the template's currency. A discount never exceeds what the items
//! it applies to cost (nor the shipping, for free shipping), and several coupons on one basket
//! never take off more than the basket costs.

use jiff::civil::Date;

use crate::{Currency, Sku, StoreChannel, StoreId};

/// A template's name: 1 to 64 lower-case letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TemplateName(String);

impl TemplateName {
    /// Checks a name.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_name(text, 64, "a template name").map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TemplateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name people give a thing in the configuration or the API (a template, a tier): `text` when
/// it is 1 to `max` of a-z, 0-9, - and _; otherwise why not, naming `what`.
pub(crate) fn parse_name(text: &str, max: usize, what: &str) -> Result<String, String> {
    let valid = (1..=max).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "`{text}` is not {what}: 1 to {max} of a-z, 0-9, - and _"
        ))
    }
}

/// The letters of generated codes: no 0, 1, I or O, which people misread.
pub(crate) const CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A code people type (a coupon's, a referral's): `text` trimmed and upper-cased when it is 4 to
/// `max` of A-Z, 0-9 and `-`; otherwise why not, naming `what`.
pub(crate) fn parse_code(text: &str, max: usize, what: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    let valid = (4..=max).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(code)
    } else {
        Err(format!(
            "`{}` is not {what}: 4 to {max} of A-Z, 0-9 and -",
            text.trim()
        ))
    }
}

/// `len` letters of [`CODE_ALPHABET`] from the low bits of `random`, five bits each.
pub(crate) fn generate_code(random: u64, len: usize) -> String {
    let mut bits = random;
    let mut code = String::with_capacity(len);
    for _ in 0..len {
        code.push(char::from(CODE_ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    code
}

/// A coupon's code: 4 to 32 of A-Z, 0-9 and `-`, stored upper-case (codes are read without
/// regard to case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CouponCode(String);

impl CouponCode {
    /// Checks a code, upper-casing it.
    pub fn parse(text: &str) -> Result<Self, String> {
        parse_code(text, 32, "a coupon code").map(Self)
    }

    /// A new code of ten letters from 50 random bits (about 10^15 codes, so a collision among
    /// millions is a one-in-a-billion event, and the store refuses it anyway).
    pub fn generate(random: u64) -> Self {
        Self(generate_code(random, 10))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CouponCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a discount takes money off, for stacking (`combines_with`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DiscountClass {
    /// The order's items as a whole.
    Order,
    /// Particular items (a free item, buy X get Y).
    Product,
    /// The shipping fee.
    Shipping,
}

impl DiscountClass {
    /// Every class.
    pub const ALL: [Self; 3] = [Self::Order, Self::Product, Self::Shipping];

    /// Its name in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Product => "product",
            Self::Shipping => "shipping",
        }
    }

    /// Reads a name.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not order, product or shipping"))
    }
}

/// What a coupon gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// This much off the eligible items.
    AmountOff(i64),
    /// This percentage (1 to 100) of the eligible items, at most `cap` when given.
    PercentOff {
        /// Percent, 1 to 100.
        percent: u32,
        /// The most it takes off.
        cap: Option<i64>,
    },
    /// 滿額折: `off` when the eligible items cost at least `threshold`; with `repeat` (每滿),
    /// `off` for every whole `threshold`.
    SpendThreshold {
        /// The spend that earns the discount.
        threshold: i64,
        /// What it takes off.
        off: i64,
        /// Once per whole threshold, not once.
        repeat: bool,
    },
    /// 滿件折: `off` when the basket has at least `quantity` eligible items.
    QuantityThreshold {
        /// The items needed.
        quantity: u32,
        /// What it takes off.
        off: i64,
    },
    /// One of this item free; the basket must hold it.
    FreeItem(Sku),
    /// The shipping fee, at most `cap` when given.
    FreeShipping {
        /// The most it takes off.
        cap: Option<i64>,
    },
    /// For every `buy` eligible items bought, the next `get` (the cheapest of each group) at
    /// `percent` off (100 is free).
    BuyXGetY {
        /// Items paid in full per group.
        buy: u32,
        /// Items discounted per group.
        get: u32,
        /// Percent off those, 1 to 100.
        percent: u32,
    },
    /// 購物金: this much credit, spent over one or more orders against the items, never the
    /// shipping.
    StoreCredit(i64),
}

impl Offer {
    /// Its kind's name in files and the API.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AmountOff(_) => "amount_off",
            Self::PercentOff { .. } => "percent_off",
            Self::SpendThreshold { .. } => "spend_threshold",
            Self::QuantityThreshold { .. } => "quantity_threshold",
            Self::FreeItem(_) => "free_item",
            Self::FreeShipping { .. } => "free_shipping",
            Self::BuyXGetY { .. } => "buy_x_get_y",
            Self::StoreCredit(_) => "store_credit",
        }
    }

    /// What it takes money off.
    pub fn class(&self) -> DiscountClass {
        match self {
            Self::FreeItem(_) | Self::BuyXGetY { .. } => DiscountClass::Product,
            Self::FreeShipping { .. } => DiscountClass::Shipping,
            _ => DiscountClass::Order,
        }
    }

    /// The credit an issued coupon starts with (store credit), else 0.
    pub fn credit(&self) -> i64 {
        match self {
            Self::StoreCredit(amount) => *amount,
            _ => 0,
        }
    }

    /// Checks its numbers: amounts above 0, percentages from 1 to 100, counts above 0.
    pub fn check(&self) -> Result<(), String> {
        let positive = |what: &str, v: i64| {
            if v > 0 {
                Ok(())
            } else {
                Err(format!("{what} must be above 0"))
            }
        };
        let percent = |p: u32| {
            if (1..=100).contains(&p) {
                Ok(())
            } else {
                Err(format!("{p}% is not from 1 to 100"))
            }
        };
        match self {
            Self::AmountOff(amount) | Self::StoreCredit(amount) => positive("the amount", *amount),
            Self::PercentOff { percent: p, cap } => {
                percent(*p)?;
                cap.map_or(Ok(()), |cap| positive("the cap", cap))
            }
            Self::SpendThreshold { threshold, off, .. } => {
                positive("the threshold", *threshold)?;
                positive("the amount off", *off)
            }
            Self::QuantityThreshold { quantity, off } => {
                positive("the quantity", i64::from(*quantity))?;
                positive("the amount off", *off)
            }
            Self::FreeItem(_) => Ok(()),
            Self::FreeShipping { cap } => cap.map_or(Ok(()), |cap| positive("the cap", cap)),
            Self::BuyXGetY {
                buy,
                get,
                percent: p,
            } => {
                positive("buy", i64::from(*buy))?;
                positive("get", i64::from(*get))?;
                percent(*p)
            }
        }
    }
}

/// Where a coupon applies. Empty lists mean everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Eligibility {
    /// Only items of these categories count (with `skus`, items of either count).
    pub categories: Vec<String>,
    /// Only these items count.
    pub skus: Vec<Sku>,
    /// Only orders at these stores.
    pub stores: Vec<StoreId>,
    /// Only orders on this channel.
    pub channel: Option<StoreChannel>,
    /// The eligible items must cost at least this.
    pub min_spend: Option<i64>,
}

impl Eligibility {
    /// True when a line of this sku and category counts.
    pub fn covers_item(&self, sku: &Sku, category: Option<&str>) -> bool {
        (self.categories.is_empty() && self.skus.is_empty())
            || self.skus.contains(sku)
            || category.is_some_and(|c| self.categories.iter().any(|e| e == c))
    }
}

/// How long an issued coupon may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From one day to another, both included, whenever it was issued.
    Between {
        /// The first day.
        from: Date,
        /// The last day.
        until: Date,
    },
    /// From the day it was issued, for this many days (the issue day included).
    Days(u32),
}

impl Validity {
    /// The first and last day a coupon issued on `issued_on` may be used. `None` when a fixed
    /// window has already ended.
    pub fn window(self, issued_on: Date) -> Option<(Date, Date)> {
        match self {
            Self::Between { from, until } => (issued_on <= until).then_some((from, until)),
            Self::Days(days) => {
                let last = issued_on
                    .checked_add(jiff::Span::new().days(i64::from(days.max(1)) - 1))
                    .ok()?;
                Some((issued_on, last))
            }
        }
    }
}

/// Where issued codes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    /// Regulars makes a unique code per coupon.
    Generated,
    /// Codes imported beforehand (a partner's, or printed ones), each issued once.
    Pool,
}

impl CodeSource {
    /// Its name in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::Pool => "pool",
        }
    }

    /// Reads a name.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "generated" => Ok(Self::Generated),
            "pool" => Ok(Self::Pool),
            other => Err(format!("`{other}` is not generated or pool")),
        }
    }
}

/// A kind of coupon a brand issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponTemplate {
    /// Its name.
    pub name: TemplateName,
    /// What members see (`NT$100 off your birthday order`).
    pub title: String,
    /// The currency of its amounts.
    pub currency: Currency,
    /// What it gives.
    pub offer: Offer,
    /// Where it applies.
    pub eligibility: Eligibility,
    /// How long an issued coupon may be used.
    pub validity: Validity,
    /// At most this many issued to one member.
    pub per_member: Option<u32>,
    /// At most this many issued in all.
    pub total: Option<u32>,
    /// The classes of discount it may be used with on one order.
    pub combines_with: Vec<DiscountClass>,
    /// Points a member spends to get one (exchange for points), if it can be had that way.
    pub points_cost: Option<i64>,
    /// Where its codes come from.
    pub codes: CodeSource,
}

impl CouponTemplate {
    /// Checks the whole template; every broken rule, as (field, reason).
    pub fn check(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if let Err(reason) = self.offer.check() {
            errors.push(("offer", reason));
        }
        if self.title.trim().is_empty() || self.title.chars().count() > 200 {
            errors.push(("title", "1 to 200 characters".to_owned()));
        }
        match self.validity {
            Validity::Between { from, until } if until < from => {
                errors.push(("validity", format!("{until} is before {from}")));
            }
            Validity::Days(0) => errors.push(("validity", "at least 1 day".to_owned())),
            _ => {}
        }
        if self.eligibility.min_spend.is_some_and(|m| m <= 0) {
            errors.push(("min_spend", "must be above 0".to_owned()));
        }
        if self.per_member == Some(0) || self.total == Some(0) {
            errors.push(("limits", "a limit is at least 1".to_owned()));
        }
        if self.points_cost.is_some_and(|p| p <= 0) {
            errors.push(("points_cost", "must be above 0".to_owned()));
        }
        errors
    }

    /// True when a coupon of this template may be used on one order with one of `other`: each
    /// lists the other's class, except that store credit, a way to pay rather than a discount,
    /// is welcome beside any coupon its own `combines_with` accepts.
    pub fn combines(&self, other: &Self) -> bool {
        let accepts = |one: &Self, another: &Self| {
            matches!(another.offer, Offer::StoreCredit(_))
                || one.combines_with.contains(&another.offer.class())
        };
        accepts(self, other) && accepts(other, self)
    }
}

/// An item in a basket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketLine {
    /// The product.
    pub sku: Sku,
    /// Its category.
    pub category: Option<String>,
    /// How many, at least 1.
    pub quantity: u32,
    /// The price of one, in minor units, never negative.
    pub unit_price: i64,
}

/// What a member is about to buy: the order a coupon is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basket {
    /// The basket's currency.
    pub currency: Currency,
    /// The store, if known.
    pub store: Option<StoreId>,
    /// Online or in a store, if known.
    pub channel: Option<StoreChannel>,
    /// The items.
    pub lines: Vec<BasketLine>,
    /// The shipping fee, in minor units.
    pub shipping: i64,
}

impl Basket {
    /// What the items cost.
    pub fn items_total(&self) -> i64 {
        self.lines
            .iter()
            .map(|l| i64::from(l.quantity) * l.unit_price)
            .sum()
    }
}

/// What a coupon takes off a basket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Discount {
    /// Off the items, in minor units.
    pub items: i64,
    /// Off the shipping, in minor units.
    pub shipping: i64,
}

impl Discount {
    /// Both together.
    pub fn total(self) -> i64 {
        self.items + self.shipping
    }
}

/// Why a coupon does not apply to a basket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotApplicable {
    /// The basket is in another currency.
    #[error("the coupon is in {coupon}, the basket in {basket}")]
    Currency {
        /// The template's.
        coupon: Currency,
        /// The basket's.
        basket: Currency,
    },
    /// Not at this store.
    #[error("not valid at this store")]
    Store,
    /// Not on this channel.
    #[error("valid {0} only")]
    Channel(&'static str),
    /// Nothing in the basket counts.
    #[error("no item in the basket is eligible")]
    NoEligibleItems,
    /// The eligible items cost less than the minimum spend.
    #[error("eligible items cost {spent}, the minimum is {needed}")]
    BelowMinimumSpend {
        /// What they cost.
        spent: i64,
        /// What is needed.
        needed: i64,
    },
    /// Too few eligible items.
    #[error("{have} eligible items, {needed} needed")]
    BelowQuantity {
        /// Items there.
        have: u32,
        /// Items needed.
        needed: u32,
    },
    /// The basket has the item a free-item coupon gives.
    #[error("the basket does not hold {0}")]
    MissingItem(String),
    /// Free shipping on a basket that pays none.
    #[error("the basket pays no shipping")]
    NoShipping,
    /// Store credit used up.
    #[error("no credit left")]
    NoCredit,
    /// Another coupon on the basket does not combine with this one.
    #[error("does not combine with {0}")]
    DoesNotCombine(String),
    /// The coupons before it already take off everything it would.
    #[error("the coupons before it already take off everything")]
    NothingLeft,
}

/// What `template` takes off `basket`, for a coupon with `credit` left (store credit; ignored
/// otherwise).
pub fn discount(
    template: &CouponTemplate,
    credit: i64,
    basket: &Basket,
) -> Result<Discount, NotApplicable> {
    if basket.currency != template.currency {
        return Err(NotApplicable::Currency {
            coupon: template.currency,
            basket: basket.currency,
        });
    }
    let rules = &template.eligibility;
    if !rules.stores.is_empty()
        && !basket
            .store
            .as_ref()
            .is_some_and(|s| rules.stores.contains(s))
    {
        return Err(NotApplicable::Store);
    }
    if let Some(channel) = rules.channel
        && basket.channel != Some(channel)
    {
        return Err(NotApplicable::Channel(channel.as_str()));
    }
    // Each eligible unit's price, dearest first.
    let mut units: Vec<i64> = Vec::new();
    for line in &basket.lines {
        if rules.covers_item(&line.sku, line.category.as_deref()) {
            units.extend(std::iter::repeat_n(
                line.unit_price.max(0),
                line.quantity as usize,
            ));
        }
    }
    units.sort_unstable_by(|a, b| b.cmp(a));
    let subtotal: i64 = units.iter().sum();
    let count = u32::try_from(units.len()).unwrap_or(u32::MAX);
    let needs_items = !matches!(template.offer, Offer::FreeShipping { .. });
    if needs_items && units.is_empty() {
        return Err(NotApplicable::NoEligibleItems);
    }
    if let Some(needed) = rules.min_spend
        && subtotal < needed
    {
        return Err(NotApplicable::BelowMinimumSpend {
            spent: subtotal,
            needed,
        });
    }
    let items = |off: i64| Discount {
        items: off.clamp(0, subtotal),
        shipping: 0,
    };
    Ok(match &template.offer {
        Offer::AmountOff(amount) => items(*amount),
        Offer::PercentOff { percent, cap } => {
            let off = subtotal * i64::from(*percent) / 100;
            items(cap.map_or(off, |cap| off.min(cap)))
        }
        Offer::SpendThreshold {
            threshold,
            off,
            repeat,
        } => {
            if subtotal < *threshold {
                return Err(NotApplicable::BelowMinimumSpend {
                    spent: subtotal,
                    needed: *threshold,
                });
            }
            let times = if *repeat { subtotal / threshold } else { 1 };
            items(off.saturating_mul(times))
        }
        Offer::QuantityThreshold { quantity, off } => {
            if count < *quantity {
                return Err(NotApplicable::BelowQuantity {
                    have: count,
                    needed: *quantity,
                });
            }
            items(*off)
        }
        Offer::FreeItem(sku) => {
            let price = basket
                .lines
                .iter()
                .filter(|l| &l.sku == sku)
                .map(|l| l.unit_price)
                .max()
                .ok_or_else(|| NotApplicable::MissingItem(sku.as_str().to_owned()))?;
            items(price)
        }
        Offer::FreeShipping { cap } => {
            if basket.shipping <= 0 {
                return Err(NotApplicable::NoShipping);
            }
            Discount {
                items: 0,
                shipping: cap.map_or(basket.shipping, |cap| basket.shipping.min(cap)),
            }
        }
        Offer::BuyXGetY { buy, get, percent } => {
            let group = (*buy + *get) as usize;
            if units.len() < group {
                return Err(NotApplicable::BelowQuantity {
                    have: count,
                    needed: *buy + *get,
                });
            }
            // Dearest first, so the last `get` of each whole group are its cheapest.
            let off: i64 = units
                .chunks_exact(group)
                .flat_map(|chunk| &chunk[*buy as usize..])
                .map(|price| price * i64::from(*percent) / 100)
                .sum();
            items(off)
        }
        Offer::StoreCredit(_) => {
            if credit <= 0 {
                return Err(NotApplicable::NoCredit);
            }
            items(credit)
        }
    })
}

/// What several coupons take off one basket, in the order given: each as [`discount`], then cut
/// to what the ones before it left of the items and the shipping. A coupon that does not combine
/// with one before it, or finds nothing left, does not apply.
pub fn discounts(
    coupons: &[(&CouponTemplate, i64)],
    basket: &Basket,
) -> Vec<Result<Discount, NotApplicable>> {
    let mut items_left = basket.items_total();
    let mut shipping_left = basket.shipping.max(0);
    let mut applied: Vec<&CouponTemplate> = Vec::new();
    coupons
        .iter()
        .map(|(template, credit)| {
            if let Some(other) = applied.iter().find(|other| !template.combines(other)) {
                return Err(NotApplicable::DoesNotCombine(other.name.to_string()));
            }
            let mut off = discount(template, *credit, basket)?;
            off.items = off.items.min(items_left);
            off.shipping = off.shipping.min(shipping_left);
            if off.total() == 0 {
                return Err(NotApplicable::NothingLeft);
            }
            items_left -= off.items;
            shipping_left -= off.shipping;
            applied.push(template);
            Ok(off)
        })
        .collect()
}

// Amounts in the tests are written major_minor (120_00 is NT$120.00).
#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;

    fn template(offer: Offer) -> CouponTemplate {
        CouponTemplate {
            name: TemplateName::parse("t").unwrap(),
            title: "a coupon".to_owned(),
            currency: Currency::TWD,
            offer,
            eligibility: Eligibility::default(),
            validity: Validity::Days(30),
            per_member: None,
            total: None,
            combines_with: Vec::new(),
            points_cost: None,
            codes: CodeSource::Generated,
        }
    }

    fn line(sku: &str, category: &str, quantity: u32, unit_price: i64) -> BasketLine {
        BasketLine {
            sku: Sku::parse(sku).unwrap(),
            category: Some(category.to_owned()),
            quantity,
            unit_price,
        }
    }

    fn basket(lines: Vec<BasketLine>, shipping: i64) -> Basket {
        Basket {
            currency: Currency::TWD,
            store: None,
            channel: None,
            lines,
            shipping,
        }
    }

    fn off(template: &CouponTemplate, basket: &Basket) -> Result<i64, NotApplicable> {
        discount(template, template.offer.credit(), basket).map(Discount::total)
    }

    #[test]
    fn each_offer_takes_off_what_its_rule_says() {
        let cart = basket(
            vec![
                line("latte", "coffee", 2, 120_00),
                line("scone", "pastry", 3, 65_00),
            ],
            60_00,
        );
        // 2 × 120 + 3 × 65 = 435.
        assert_eq!(off(&template(Offer::AmountOff(50_00)), &cart), Ok(50_00));
        assert_eq!(off(&template(Offer::AmountOff(900_00)), &cart), Ok(435_00));
        let percent = Offer::PercentOff {
            percent: 20,
            cap: Some(80_00),
        };
        assert_eq!(off(&template(percent), &cart), Ok(80_00));
        let once = Offer::SpendThreshold {
            threshold: 200_00,
            off: 30_00,
            repeat: false,
        };
        assert_eq!(off(&template(once), &cart), Ok(30_00));
        let every = Offer::SpendThreshold {
            threshold: 200_00,
            off: 30_00,
            repeat: true,
        };
        assert_eq!(off(&template(every), &cart), Ok(60_00));
        let five = Offer::QuantityThreshold {
            quantity: 5,
            off: 40_00,
        };
        assert_eq!(off(&template(five), &cart), Ok(40_00));
        let six = Offer::QuantityThreshold {
            quantity: 6,
            off: 40_00,
        };
        assert_eq!(
            off(&template(six), &cart),
            Err(NotApplicable::BelowQuantity { have: 5, needed: 6 })
        );
        let scone = Offer::FreeItem(Sku::parse("scone").unwrap());
        assert_eq!(off(&template(scone), &cart), Ok(65_00));
        let shipping = Offer::FreeShipping { cap: None };
        assert_eq!(
            discount(&template(shipping), 0, &cart),
            Ok(Discount {
                items: 0,
                shipping: 60_00
            })
        );
        // Units dearest first: 120 120 65 | 65 65 — one whole group of 2 + 1, its cheapest free.
        let bxgy = Offer::BuyXGetY {
            buy: 2,
            get: 1,
            percent: 100,
        };
        assert_eq!(off(&template(bxgy), &cart), Ok(65_00));
        assert_eq!(
            discount(&template(Offer::StoreCredit(500_00)), 100_00, &cart),
            Ok(Discount {
                items: 100_00,
                shipping: 0
            })
        );
        assert_eq!(
            discount(&template(Offer::StoreCredit(500_00)), 0, &cart),
            Err(NotApplicable::NoCredit)
        );
    }

    #[test]
    fn eligibility_narrows_the_items_and_refuses_other_stores_channels_and_small_baskets() {
        let mut pastry = template(Offer::PercentOff {
            percent: 50,
            cap: None,
        });
        pastry.eligibility.categories = vec!["pastry".to_owned()];
        let cart = basket(
            vec![
                line("latte", "coffee", 1, 120_00),
                line("scone", "pastry", 2, 65_00),
            ],
            0,
        );
        assert_eq!(off(&pastry, &cart), Ok(65_00));
        pastry.eligibility.min_spend = Some(200_00);
        assert_eq!(
            off(&pastry, &cart),
            Err(NotApplicable::BelowMinimumSpend {
                spent: 130_00,
                needed: 200_00
            })
        );
        let coffee_only = basket(vec![line("latte", "coffee", 1, 120_00)], 0);
        pastry.eligibility.min_spend = None;
        assert_eq!(
            off(&pastry, &coffee_only),
            Err(NotApplicable::NoEligibleItems)
        );
        let mut online = template(Offer::AmountOff(10_00));
        online.eligibility.channel = Some(StoreChannel::Online);
        assert_eq!(off(&online, &cart), Err(NotApplicable::Channel("online")));
        let mut taipei = template(Offer::AmountOff(10_00));
        taipei.eligibility.stores = vec![StoreId::parse("S01").unwrap()];
        let mut at_s02 = cart.clone();
        at_s02.store = Some(StoreId::parse("S02").unwrap());
        assert_eq!(off(&taipei, &at_s02), Err(NotApplicable::Store));
        at_s02.store = Some(StoreId::parse("S01").unwrap());
        assert_eq!(off(&taipei, &at_s02), Ok(10_00));
        let mut usd = cart;
        usd.currency = Currency::parse("USD").unwrap();
        assert!(matches!(
            off(&taipei, &usd),
            Err(NotApplicable::Currency { .. })
        ));
    }

    #[test]
    fn coupons_stack_only_when_both_combine_and_never_take_off_more_than_the_basket() {
        let mut big = template(Offer::AmountOff(300_00));
        big.combines_with = vec![DiscountClass::Order, DiscountClass::Shipping];
        let mut second = template(Offer::AmountOff(300_00));
        second.name = TemplateName::parse("second").unwrap();
        second.combines_with = vec![DiscountClass::Order];
        let mut shipping = template(Offer::FreeShipping { cap: None });
        shipping.name = TemplateName::parse("ship").unwrap();
        let cart = basket(vec![line("beans", "beans", 1, 450_00)], 80_00);
        let results = discounts(&[(&big, 0), (&second, 0), (&shipping, 0)], &cart);
        assert_eq!(results[0].as_ref().map(|d| d.items), Ok(300_00));
        assert_eq!(results[1].as_ref().map(|d| d.items), Ok(150_00));
        // `ship` combines with nothing, so it does not apply beside them.
        assert_eq!(
            results[2],
            Err(NotApplicable::DoesNotCombine("t".to_owned()))
        );
        let alone = discounts(&[(&shipping, 0)], &cart);
        assert_eq!(alone[0].as_ref().map(|d| d.shipping), Ok(80_00));
    }

    #[test]
    fn store_credit_pays_beside_any_coupon_its_own_rule_accepts() {
        // `ship` lists no class, yet store credit is a way to pay, not a discount.
        let mut shipping = template(Offer::FreeShipping { cap: None });
        shipping.name = TemplateName::parse("ship").unwrap();
        let mut credit = template(Offer::StoreCredit(100_00));
        credit.name = TemplateName::parse("credit").unwrap();
        credit.combines_with = DiscountClass::ALL.to_vec();
        assert!(shipping.combines(&credit) && credit.combines(&shipping));
        let cart = basket(vec![line("beans", "beans", 1, 450_00)], 80_00);
        let results = discounts(&[(&shipping, 0), (&credit, 100_00)], &cart);
        assert_eq!(results[0].as_ref().map(|d| d.shipping), Ok(80_00));
        assert_eq!(results[1].as_ref().map(|d| d.items), Ok(100_00));
        // A credit that goes only with shipping discounts does not pay beside an amount off.
        credit.combines_with = vec![DiscountClass::Shipping];
        let off = template(Offer::AmountOff(50_00));
        assert!(!credit.combines(&off) && credit.combines(&shipping));
    }

    #[test]
    fn validity_is_a_window_of_days_from_issue_or_fixed_dates() {
        assert_eq!(
            Validity::Days(30).window(date(2026, 12, 2)),
            Some((date(2026, 12, 2), date(2026, 12, 31)))
        );
        let fixed = Validity::Between {
            from: date(2026, 12, 1),
            until: date(2026, 12, 25),
        };
        assert_eq!(
            fixed.window(date(2026, 11, 20)),
            Some((date(2026, 12, 1), date(2026, 12, 25)))
        );
        assert_eq!(fixed.window(date(2026, 12, 26)), None);
    }

    #[test]
    fn codes_are_checked_upper_cased_and_generated_from_an_unambiguous_alphabet() {
        assert_eq!(
            CouponCode::parse(" bday-2026 ").unwrap().as_str(),
            "BDAY-2026"
        );
        assert!(CouponCode::parse("ab").is_err());
        assert!(CouponCode::parse("with space").is_err());
        let code = CouponCode::generate(0x0123_4567_89ab_cdef);
        assert_eq!(code.as_str().len(), 10);
        assert!(code.as_str().bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_eq!(CouponCode::parse(code.as_str()), Ok(code));
        assert_ne!(CouponCode::generate(1), CouponCode::generate(2));
        assert!(TemplateName::parse("birthday-gold").is_ok());
        assert!(TemplateName::parse("Birthday").is_err());
    }

    fn offers() -> impl Strategy<Value = Offer> {
        prop_oneof![
            (1i64..100_000).prop_map(Offer::AmountOff),
            (1u32..=100, proptest::option::of(1i64..50_000))
                .prop_map(|(percent, cap)| Offer::PercentOff { percent, cap }),
            (1i64..50_000, 1i64..50_000, any::<bool>()).prop_map(|(threshold, off, repeat)| {
                Offer::SpendThreshold {
                    threshold,
                    off,
                    repeat,
                }
            }),
            (1u32..6, 1i64..50_000)
                .prop_map(|(quantity, off)| Offer::QuantityThreshold { quantity, off }),
            Just(Offer::FreeItem(Sku::parse("a").unwrap())),
            proptest::option::of(1i64..5_000).prop_map(|cap| Offer::FreeShipping { cap }),
            (1u32..4, 1u32..3, 1u32..=100).prop_map(|(buy, get, percent)| Offer::BuyXGetY {
                buy,
                get,
                percent
            }),
            (1i64..100_000).prop_map(Offer::StoreCredit),
        ]
    }

    fn baskets() -> impl Strategy<Value = Basket> {
        (
            prop::collection::vec((0usize..3, 1u32..4, 0i64..30_000), 0..5),
            0i64..10_000,
        )
            .prop_map(|(lines, shipping)| {
                basket(
                    lines
                        .into_iter()
                        .map(|(sku, quantity, price)| {
                            let name = ["a", "b", "c"][sku];
                            line(name, name, quantity, price)
                        })
                        .collect(),
                    shipping,
                )
            })
    }

    proptest! {
        #[test]
        fn no_discount_is_negative_or_larger_than_what_it_applies_to(
            offer in offers(),
            category in proptest::option::of(0usize..3),
            cart in baskets(),
        ) {
            let mut coupon = template(offer);
            if let Some(c) = category {
                coupon.eligibility.categories = vec![["a", "b", "c"][c].to_owned()];
            }
            if let Ok(d) = discount(&coupon, coupon.offer.credit(), &cart) {
                let eligible: i64 = cart
                    .lines
                    .iter()
                    .filter(|l| coupon.eligibility.covers_item(&l.sku, l.category.as_deref()))
                    .map(|l| i64::from(l.quantity) * l.unit_price)
                    .sum();
                prop_assert!(d.items >= 0 && d.shipping >= 0);
                let free_item = matches!(coupon.offer, Offer::FreeItem(_));
                let most = if free_item { cart.items_total() } else { eligible };
                prop_assert!(d.items <= most);
                prop_assert!(d.shipping <= cart.shipping);
                if let Offer::StoreCredit(credit) = coupon.offer {
                    prop_assert!(d.items <= credit);
                }
            }
        }

        #[test]
        fn stacked_coupons_never_take_off_more_than_the_basket_costs(
            offers in prop::collection::vec(offers(), 1..4),
            cart in baskets(),
        ) {
            let templates: Vec<CouponTemplate> = offers
                .into_iter()
                .enumerate()
                .map(|(i, offer)| {
                    let mut t = template(offer);
                    t.name = TemplateName::parse(&format!("t{i}")).unwrap();
                    t.combines_with = DiscountClass::ALL.to_vec();
                    t
                })
                .collect();
            let coupons: Vec<(&CouponTemplate, i64)> =
                templates.iter().map(|t| (t, t.offer.credit())).collect();
            let results = discounts(&coupons, &cart);
            let items: i64 = results.iter().flatten().map(|d| d.items).sum();
            let shipping: i64 = results.iter().flatten().map(|d| d.shipping).sum();
            prop_assert!(items <= cart.items_total());
            prop_assert!(shipping <= cart.shipping);
            prop_assert!(results.iter().flatten().all(|d| d.total() > 0));
        }
    }
}
