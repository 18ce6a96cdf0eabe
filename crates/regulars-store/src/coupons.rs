//! What the store keeps of coupons: the templates, the coupons issued from them (each once
//! under its issue key, within the template's limits, from a generated code or the template's
//! pool, paid with points in the same transaction when it is an exchange), their redemptions
//! against orders (each once under its key, a coupon only while it is active and has what it
//! gives), voids, and each template's figures.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::{CouponCode, CouponTemplate, MemberId, OrderId, TemplateName};

use crate::{PointsRequest, StoreResult};

/// Where an issued coupon stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponStatus {
    /// May be used (within its days; see [`Coupon::usable_on`]).
    Active,
    /// Used up: redeemed, or its store credit spent.
    Redeemed,
    /// Withdrawn by the brand.
    Voided,
}

impl CouponStatus {
    /// Its name in rows and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Redeemed => "redeemed",
            Self::Voided => "voided",
        }
    }

    /// Reads a name.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "active" => Ok(Self::Active),
            "redeemed" => Ok(Self::Redeemed),
            "voided" => Ok(Self::Voided),
            other => Err(format!("`{other}` is not a coupon status")),
        }
    }
}

/// An issued coupon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    /// Its code.
    pub code: CouponCode,
    /// Its template.
    pub template: TemplateName,
    /// Whose it is.
    pub member_id: MemberId,
    /// The key it was issued under.
    pub issue_key: String,
    /// Its first day.
    pub valid_from: Date,
    /// Its last day.
    pub valid_until: Date,
    /// Store credit left (0 for other offers).
    pub credit: i64,
    /// Where it stands.
    pub status: CouponStatus,
    /// What issued it (`operator:WHO`, `audience:NAME`, `journey:NAME`, `points`, …).
    pub cause: String,
    /// The brand's day it was issued.
    pub issued_on: Date,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// The points operation that paid for it, for an exchange.
    pub points_key: Option<String>,
}

impl Coupon {
    /// True when it may be used on `today`: active and within its days.
    pub fn usable_on(&self, today: Date) -> bool {
        self.status == CouponStatus::Active && self.valid_from <= today && today <= self.valid_until
    }

    /// What it is on `today`, for people: `active`, `redeemed`, `voided`, `expired` (its last
    /// day has passed) or `scheduled` (its first day has not come).
    pub fn state_on(&self, today: Date) -> &'static str {
        match self.status {
            CouponStatus::Active if today > self.valid_until => "expired",
            CouponStatus::Active if today < self.valid_from => "scheduled",
            status => status.as_str(),
        }
    }
}

/// A coupon to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRequest {
    /// Its key: the same key again issues nothing and answers with the coupon it issued.
    pub key: String,
    /// The template.
    pub template: TemplateName,
    /// To whom.
    pub member_id: MemberId,
    /// A new code, or `None` to take the template's next pool code.
    pub code: Option<CouponCode>,
    /// Its first day.
    pub valid_from: Date,
    /// Its last day.
    pub valid_until: Date,
    /// The store credit it starts with.
    pub credit: i64,
    /// What issued it.
    pub cause: String,
    /// For an exchange, the points it costs, spent in the same transaction.
    pub points: Option<PointsRequest>,
    /// Today in the brand's zone.
    pub day: Date,
    /// Now.
    pub at: Timestamp,
}

/// What issuing one coupon did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    /// Issued this.
    Issued(Coupon),
    /// The key issued this before; nothing new.
    Replayed(Coupon),
    /// The key was used for another template or member; nothing issued.
    KeyReused,
    /// The member has the template's most coupons already.
    MemberLimit,
    /// The template has issued its most coupons.
    TotalLimit,
    /// The template's pool has no code left.
    PoolEmpty,
    /// The new code is taken (a generated code met an old one): try another.
    CodeTaken,
    /// The points it costs are more than the member has available (this many).
    Short(i64),
}

/// A coupon to redeem against an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeemRequest {
    /// Its key: the same key again redeems nothing and answers with the first redemption.
    pub key: String,
    /// The coupon.
    pub code: CouponCode,
    /// The member presenting it: only its owner may.
    pub member_id: MemberId,
    /// The order it is used on.
    pub order_id: OrderId,
    /// What it takes off, as worked out against the basket.
    pub discount: i64,
    /// Today in the brand's zone: the coupon must be valid on it.
    pub day: Date,
    /// Now.
    pub at: Timestamp,
}

/// One use of a coupon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    /// Its key.
    pub key: String,
    /// The coupon.
    pub code: CouponCode,
    /// The order.
    pub order_id: OrderId,
    /// What it took off.
    pub discount: i64,
    /// The brand's day.
    pub day: Date,
    /// When.
    pub at: Timestamp,
}

/// What redeeming did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedeemOutcome {
    /// Redeemed; the coupon as it is now.
    Redeemed(Redemption, Coupon),
    /// The key redeemed this before; nothing new.
    Replayed(Redemption, Coupon),
    /// The key was used for another coupon or order; nothing redeemed.
    KeyReused,
    /// No such coupon, or it is another member's.
    Unknown,
    /// Not usable on the day (redeemed, voided, expired or not yet valid): its state.
    NotUsable(&'static str),
    /// Already used on this order under another key.
    AlreadyOnOrder,
    /// Store credit: less left than the discount (this much).
    CreditShort(i64),
}

impl RedeemOutcome {
    /// True when the coupon is used on the order: redeemed now or before under the key.
    pub fn taken(&self) -> bool {
        matches!(self, Self::Redeemed(..) | Self::Replayed(..))
    }
}

/// A template's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CouponStats {
    /// Coupons issued.
    pub issued: u64,
    /// Coupons used at least once.
    pub redeemed: u64,
    /// Coupons voided.
    pub voided: u64,
    /// Discount given, in minor units.
    pub discount: i64,
    /// What the orders they were used on paid, in minor units (each order once; orders not
    /// recorded yet count nothing).
    pub revenue: i64,
    /// Pool codes not issued yet.
    pub pool_left: u64,
}

/// Coupons.
#[async_trait]
pub trait CouponStore: Send + Sync {
    /// Creates or replaces a template. Coupons already issued keep their days and credit.
    async fn save_template(&self, template: &CouponTemplate, at: Timestamp) -> StoreResult<()>;
    /// A template, if there is one of that name.
    async fn get_template(&self, name: &TemplateName) -> StoreResult<Option<CouponTemplate>>;
    /// Every template, by name.
    async fn list_templates(&self) -> StoreResult<Vec<CouponTemplate>>;
    /// Adds codes to a template's pool; returns how many were new (a code already in a pool or
    /// issued is left out). `NotFound` for an unknown template.
    async fn add_pool_codes(
        &self,
        template: &TemplateName,
        codes: &[CouponCode],
    ) -> StoreResult<u64>;
    /// Issues coupons in one transaction, in order, each checked against the limits as the ones
    /// before it left them: an outcome per request. `NotFound`, with nothing issued, when one
    /// names an unknown template or member.
    async fn issue_coupons(&self, requests: &[IssueRequest]) -> StoreResult<Vec<IssueOutcome>>;
    /// A coupon by code.
    async fn get_coupon(&self, code: &CouponCode) -> StoreResult<Option<Coupon>>;
    /// A member's coupons, newest first.
    async fn member_coupons(&self, member_id: &MemberId) -> StoreResult<Vec<Coupon>>;
    /// Redeems a coupon atomically: at most once per key, per order, and (but for store
    /// credit, which is spent down) per coupon.
    async fn redeem_coupon(&self, request: &RedeemRequest) -> StoreResult<RedeemOutcome> {
        let mut outcomes = self.redeem_coupons(std::slice::from_ref(request)).await?;
        Ok(outcomes.pop().expect("one outcome per request"))
    }
    /// Redeems coupons together, all or none, in one transaction: each in order as
    /// [`CouponStore::redeem_coupon`] would, up to the first that is neither redeemed nor
    /// replayed. The outcomes up to that one; when there is one, none of the others is kept.
    async fn redeem_coupons(&self, requests: &[RedeemRequest]) -> StoreResult<Vec<RedeemOutcome>>;
    /// A coupon's redemptions, oldest first.
    async fn coupon_redemptions(&self, code: &CouponCode) -> StoreResult<Vec<Redemption>>;
    /// Voids an active coupon; `Ok(None)` when there is no such coupon, else the coupon as it is
    /// now (a used or voided coupon stays as it was).
    async fn void_coupon(
        &self,
        code: &CouponCode,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<Option<Coupon>>;
    /// A template's figures.
    async fn coupon_stats(&self, template: &TemplateName) -> StoreResult<CouponStats>;
}

/// A template laid out in columns, as both backends store it: the offer's numbers in the
/// columns its kind uses (the rest `None`), lists one item a line (no item holds a control
/// character), days as `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TemplateRow {
    pub name: String,
    pub title: String,
    pub currency: String,
    pub offer: String,
    pub amount: Option<i64>,
    pub percent: Option<i64>,
    pub cap: Option<i64>,
    pub threshold: Option<i64>,
    pub quantity: Option<i64>,
    pub get_quantity: Option<i64>,
    pub each_threshold: bool,
    pub sku: Option<String>,
    pub categories: String,
    pub skus: String,
    pub stores: String,
    pub channel: Option<String>,
    pub min_spend: Option<i64>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub valid_days: Option<i64>,
    pub per_member: Option<i64>,
    pub total_limit: Option<i64>,
    pub combines_with: String,
    pub points_cost: Option<i64>,
    pub codes: String,
}

/// The columns of [`TemplateRow`], in its order.
pub const TEMPLATE_COLUMNS: &str = "name, title, currency, offer, amount, percent, cap, \
     threshold, quantity, get_quantity, each_threshold, sku, categories, skus, stores, channel, \
     min_spend, valid_from, valid_until, valid_days, per_member, total_limit, combines_with, \
     points_cost, codes";

fn lines<T: AsRef<str>>(items: &[T]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join("\n")
}

fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').filter(|item| !item.is_empty())
}

impl From<&CouponTemplate> for TemplateRow {
    fn from(t: &CouponTemplate) -> Self {
        use regulars_domain::{Offer, Validity};
        let mut row = Self {
            name: t.name.to_string(),
            title: t.title.clone(),
            currency: t.currency.to_string(),
            offer: t.offer.kind().to_owned(),
            amount: None,
            percent: None,
            cap: None,
            threshold: None,
            quantity: None,
            get_quantity: None,
            each_threshold: false,
            sku: None,
            categories: lines(&t.eligibility.categories),
            skus: lines(&t.eligibility.skus),
            stores: lines(&t.eligibility.stores),
            channel: t.eligibility.channel.map(|c| c.as_str().to_owned()),
            min_spend: t.eligibility.min_spend,
            valid_from: None,
            valid_until: None,
            valid_days: None,
            per_member: t.per_member.map(i64::from),
            total_limit: t.total.map(i64::from),
            combines_with: t
                .combines_with
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            points_cost: t.points_cost,
            codes: t.codes.as_str().to_owned(),
        };
        match &t.offer {
            Offer::AmountOff(amount) | Offer::StoreCredit(amount) => row.amount = Some(*amount),
            Offer::PercentOff { percent, cap } => {
                row.percent = Some(i64::from(*percent));
                row.cap = *cap;
            }
            Offer::SpendThreshold {
                threshold,
                off,
                repeat,
            } => {
                row.threshold = Some(*threshold);
                row.amount = Some(*off);
                row.each_threshold = *repeat;
            }
            Offer::QuantityThreshold { quantity, off } => {
                row.quantity = Some(i64::from(*quantity));
                row.amount = Some(*off);
            }
            Offer::FreeItem(sku) => row.sku = Some(sku.to_string()),
            Offer::FreeShipping { cap } => row.cap = *cap,
            Offer::BuyXGetY { buy, get, percent } => {
                row.quantity = Some(i64::from(*buy));
                row.get_quantity = Some(i64::from(*get));
                row.percent = Some(i64::from(*percent));
            }
        }
        match t.validity {
            Validity::Between { from, until } => {
                row.valid_from = Some(from.to_string());
                row.valid_until = Some(until.to_string());
            }
            Validity::Days(days) => row.valid_days = Some(i64::from(days)),
        }
        row
    }
}

impl TryFrom<TemplateRow> for CouponTemplate {
    type Error = crate::StoreError;

    fn try_from(row: TemplateRow) -> Result<Self, Self::Error> {
        use regulars_domain::{
            CodeSource, Currency, DiscountClass, Eligibility, Offer, Sku, StoreChannel, StoreId,
            Validity,
        };
        let bad =
            |what: &str| crate::StoreError::Other(anyhow::anyhow!("template {}: {what}", row.name));
        let number = |value: Option<i64>, what: &str| value.ok_or_else(|| bad(what));
        let count = |value: Option<i64>, what: &str| {
            number(value, what).and_then(|v| u32::try_from(v).map_err(|_| bad(what)))
        };
        let offer = match row.offer.as_str() {
            "amount_off" => Offer::AmountOff(number(row.amount, "amount")?),
            "store_credit" => Offer::StoreCredit(number(row.amount, "amount")?),
            "percent_off" => Offer::PercentOff {
                percent: count(row.percent, "percent")?,
                cap: row.cap,
            },
            "spend_threshold" => Offer::SpendThreshold {
                threshold: number(row.threshold, "threshold")?,
                off: number(row.amount, "amount")?,
                repeat: row.each_threshold,
            },
            "quantity_threshold" => Offer::QuantityThreshold {
                quantity: count(row.quantity, "quantity")?,
                off: number(row.amount, "amount")?,
            },
            "free_item" => Offer::FreeItem(
                Sku::parse(row.sku.as_deref().unwrap_or_default()).map_err(|e| bad(&e))?,
            ),
            "free_shipping" => Offer::FreeShipping { cap: row.cap },
            "buy_x_get_y" => Offer::BuyXGetY {
                buy: count(row.quantity, "buy")?,
                get: count(row.get_quantity, "get")?,
                percent: count(row.percent, "percent")?,
            },
            other => return Err(bad(&format!("unknown offer {other}"))),
        };
        let validity = match (&row.valid_from, &row.valid_until, row.valid_days) {
            (Some(from), Some(until), _) => Validity::Between {
                from: from.parse().map_err(|_| bad("valid_from"))?,
                until: until.parse().map_err(|_| bad("valid_until"))?,
            },
            (_, _, days) => Validity::Days(count(days, "valid_days")?),
        };
        let channel = match row.channel.as_deref() {
            None => None,
            Some("online") => Some(StoreChannel::Online),
            Some("offline") => Some(StoreChannel::Offline),
            Some(other) => return Err(bad(&format!("channel {other}"))),
        };
        Ok(Self {
            name: TemplateName::parse(&row.name).map_err(|e| bad(&e))?,
            title: row.title.clone(),
            currency: Currency::parse(&row.currency).map_err(|e| bad(&e))?,
            offer,
            eligibility: Eligibility {
                categories: split(&row.categories).map(str::to_owned).collect(),
                skus: split(&row.skus)
                    .map(Sku::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| bad(&e))?,
                stores: split(&row.stores)
                    .map(StoreId::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| bad(&e))?,
                channel,
                min_spend: row.min_spend,
            },
            validity,
            per_member: row.per_member.map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
            total: row
                .total_limit
                .map(|v| u32::try_from(v).unwrap_or(u32::MAX)),
            combines_with: split(&row.combines_with)
                .map(DiscountClass::parse)
                .collect::<Result<_, _>>()
                .map_err(|e| bad(&e))?,
            points_cost: row.points_cost,
            codes: CodeSource::parse(&row.codes).map_err(|e| bad(&e))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use regulars_domain::{
        CodeSource, Currency, DiscountClass, Eligibility, Offer, Sku, StoreChannel, StoreId,
        Validity,
    };

    use super::*;

    #[test]
    fn every_offer_and_eligibility_survives_its_columns() {
        let offers = [
            Offer::AmountOff(100),
            Offer::PercentOff {
                percent: 15,
                cap: Some(200),
            },
            Offer::SpendThreshold {
                threshold: 1_000,
                off: 100,
                repeat: true,
            },
            Offer::QuantityThreshold {
                quantity: 3,
                off: 50,
            },
            Offer::FreeItem(Sku::parse("scone").unwrap()),
            Offer::FreeShipping { cap: None },
            Offer::BuyXGetY {
                buy: 2,
                get: 1,
                percent: 100,
            },
            Offer::StoreCredit(500),
        ];
        for (i, offer) in offers.into_iter().enumerate() {
            let template = CouponTemplate {
                name: TemplateName::parse(&format!("t{i}")).unwrap(),
                title: "title".to_owned(),
                currency: Currency::TWD,
                offer,
                eligibility: Eligibility {
                    categories: vec!["pastry".to_owned(), "cake & tea".to_owned()],
                    skus: vec![Sku::parse("A-1").unwrap()],
                    stores: vec![StoreId::parse("S01").unwrap()],
                    channel: Some(StoreChannel::Offline),
                    min_spend: Some(300),
                },
                validity: if i % 2 == 0 {
                    Validity::Days(30)
                } else {
                    Validity::Between {
                        from: jiff::civil::date(2026, 12, 1),
                        until: jiff::civil::date(2026, 12, 31),
                    }
                },
                per_member: Some(1),
                total: (i % 3 == 0).then_some(1_000),
                combines_with: vec![DiscountClass::Shipping],
                points_cost: Some(300),
                codes: CodeSource::Pool,
            };
            let row = TemplateRow::from(&template);
            assert_eq!(CouponTemplate::try_from(row).unwrap(), template);
        }
    }
}
