//! The audience rule language: what a marketer means by "bought pastry in the last 30 days but
//! never beans", as a tree of conditions over a member's profile, facts, models, tags and other
//! segments.
//!
//! A rule has an include condition and an optional exclude condition; conditions nest `and`,
//! `or` and `not` to any depth. The text form (`parse`, and `Display` for the canonical text) is
//! for people and the CLI:
//!
//! ```text
//! include nesl in (S1, S2) and bought(category = "pastry", within = 30d) and not tag("vip")
//! exclude tag("blacklisted")
//! ```
//!
//! Loyalty reads the same way: `tier >= gold and points >= 500`,
//! `points_expiring(within = 30d) >= 100`, `unused_coupons(template = "birthday") >= 1`.
//!
//! The JSON form of the API is a mirror of these types (see `regulars-formats`). Names of model
//! segments, stores and tags are checked where the rule is compiled against a brand, not here.

mod lex;
mod parse;
mod print;
#[cfg(any(test, feature = "proptest"))]
pub mod strategies;
#[cfg(test)]
mod tests;

use jiff::civil::Date;

use crate::{ConsentChannel, EventKind, InteractionChannel, StoreChannel};

pub use parse::{ParseError, parse_rule};

/// A saved or previewed audience: the members matching `include` and not matching `exclude`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceRule {
    /// Who is in.
    pub include: Condition,
    /// Who is taken out again (the default blacklist of other platforms goes here).
    pub exclude: Option<Condition>,
}

impl AudienceRule {
    /// Every test of the rule, include block first, in reading order.
    pub fn predicates(&self) -> Vec<&Predicate> {
        let mut out = Vec::new();
        self.include.collect_predicates(&mut out);
        if let Some(exclude) = &self.exclude {
            exclude.collect_predicates(&mut out);
        }
        out
    }

    /// The saved segments the rule reads (`segment("…")`), each once, in reading order.
    pub fn segments_read(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for predicate in self.predicates() {
            if let Predicate::Segment(name) = predicate
                && !names.contains(&name.as_str())
            {
                names.push(name);
            }
        }
        names
    }
}

impl Condition {
    fn collect_predicates<'a>(&'a self, out: &mut Vec<&'a Predicate>) {
        match self {
            Self::All(parts) | Self::Any(parts) => {
                for part in parts {
                    part.collect_predicates(out);
                }
            }
            Self::Not(inner) => inner.collect_predicates(out),
            Self::Test(predicate) => out.push(predicate),
        }
    }
}

/// A condition on one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Every condition holds (`a and b`); never empty.
    All(Vec<Self>),
    /// At least one holds (`a or b`); never empty.
    Any(Vec<Self>),
    /// The condition does not hold.
    Not(Box<Self>),
    /// One test.
    Test(Predicate),
}

/// One test on a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    /// An attribute of the member compared with values: `age >= 30`, `nesl in (S1, S2)`,
    /// `last_purchase within 30d`.
    Attribute {
        /// Which attribute.
        attribute: Attribute,
        /// The test.
        test: AttributeTest,
    },
    /// A number over the member's facts compared with a value: `orders(within = 90d) >= 3`.
    Measure {
        /// What is counted or summed.
        measure: Measure,
        /// Which facts count.
        filter: FactFilter,
        /// The comparison.
        op: CompareOp,
        /// The value compared with (amounts in the brand currency's major units).
        value: Number,
    },
    /// Bought an item matching the filter (`bought(category = "pastry", within = 30d)`).
    Bought(FactFilter),
    /// Had a behaviour event matching the filter, optionally with no purchase since
    /// (`event(cart_add, within = 7d, no_purchase_since)`).
    Event {
        /// The kind of event.
        kind: EventKind,
        /// Which events count (window, sku, category).
        filter: FactFilter,
        /// Only an event after the member's last purchase counts.
        no_purchase_since: bool,
    },
    /// Bought an item that many of its buyers buy again, and is still inside that item's
    /// repurchase cycle: `repurchase_cycle(min_rate = 30, category = "beans")`. Over the last
    /// [`REPURCHASE_WINDOW_DAYS`] days, an item's repurchase rate is the share of its buyers who
    /// bought it on two days or more, and its cycle the median of the days between one buyer's
    /// purchase-days of it (half up, at least 1). An item with fewer than `min_buyers` buyers
    /// has no rate. The member is in when they bought an item whose rate is at least
    /// `min_rate` percent, matching `sku` and `category` when given, no more than its cycle
    /// days before the evaluated day.
    RepurchaseCycle {
        /// The least repurchase rate, in percent (0 to 100).
        min_rate: Number,
        /// The fewest buyers an item needs for its rate to count
        /// ([`REPURCHASE_MIN_BUYERS`] unless given), at least 1.
        min_buyers: u32,
        /// Only this sku.
        sku: Option<String>,
        /// Only this category.
        category: Option<String>,
    },
    /// Consented to the channel (`consent(line)`).
    Consent(ConsentChannel),
    /// Carries the tag (`tag("vip")`).
    Tag(String),
    /// Is a member of the saved segment (`segment("interest users")`).
    Segment(String),
    /// Spendable points that stop counting within the days, compared with a value:
    /// `points_expiring(within = 30d) >= 100` (a lot counts when the first day it no longer
    /// counts is no later than the evaluated day plus `within`, as the wallet says it).
    PointsExpiring {
        /// The days ahead, from the evaluated day.
        within: u32,
        /// The comparison.
        op: CompareOp,
        /// The points compared with.
        value: Number,
    },
    /// The member's coupons usable on the evaluated day (active, inside their days), counted and
    /// compared: `unused_coupons >= 1`, `unused_coupons(template = "birthday", expires_within
    /// = 7d) >= 1`.
    UnusedCoupons {
        /// Only coupons of this template.
        template: Option<String>,
        /// Only coupons whose last day is within this many days, the evaluated day included
        /// (`1d`: their last day is the evaluated day).
        expires_within: Option<u32>,
        /// The comparison.
        op: CompareOp,
        /// The count compared with.
        value: Number,
    },
}

/// The days, ending on the evaluated day, over which items' repurchase rates and cycles are
/// measured (as for the store's cycle, domain-spec §1.1).
pub const REPURCHASE_WINDOW_DAYS: u32 = 730;

/// The fewest buyers an item needs before its repurchase rate counts, unless a rule says.
pub const REPURCHASE_MIN_BUYERS: u32 = 10;

/// What kind of value an attribute holds, which decides the tests it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeKind {
    /// A number: every comparison and `in`.
    Number,
    /// A calendar day: comparisons with a date, and `within Nd`.
    Date,
    /// Free text such as a region: `=`, `!=` and `in`, values quoted.
    Text,
    /// One of a fixed set of names such as a segment: `=`, `!=` and `in`, values bare.
    Name,
    /// One of the brand's ordered levels (its tiers): every comparison, by rank, and `in`,
    /// values bare.
    Level,
}

impl AttributeKind {
    /// Whether `<`, `<=`, `>` and `>=` apply.
    pub fn is_ordered(self) -> bool {
        self != Self::Text && self != Self::Name
    }

    /// Whether its values are names, written bare.
    pub fn takes_names(self) -> bool {
        self == Self::Name || self == Self::Level
    }
}

macro_rules! attributes {
    ($($variant:ident => $name:literal, $kind:ident, $doc:literal;)+) => {
        /// A member attribute a rule can test.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Attribute {
            $(#[doc = $doc] $variant,)+
        }

        impl Attribute {
            /// Every attribute.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name rules use.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name,)+ }
            }

            /// The kind of value it holds.
            pub fn kind(self) -> AttributeKind {
                match self { $(Self::$variant => AttributeKind::$kind,)+ }
            }

            /// The attribute with this name.
            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|a| a.as_str() == name)
            }
        }
    };
}

attributes! {
    Gender => "gender", Name, "The member's gender (female, male, other).";
    Age => "age", Number, "Whole years of age as of the evaluated day.";
    BirthdayMonth => "birthday_month", Number, "The month of the birthday, 1–12.";
    BirthdayDay => "birthday_day", Number, "The day of the month of the birthday.";
    DaysToBirthday => "days_to_birthday", Number, "Days from the evaluated day to the next birthday, 0 on the day (a 29 February birthday falls on the 28th in other years).";
    MonthsToBirthday => "months_to_birthday", Number, "Months from the evaluated day's month to the birthday's: 0 this month, 1 next month.";
    Region => "region", Text, "The member's region as the brand sends it.";
    Joined => "joined", Date, "The day the member joined.";
    HomeStore => "home_store", Text, "The member's home store id.";
    FirstPurchase => "first_purchase", Date, "The day of the first valid order.";
    LastPurchase => "last_purchase", Date, "The day of the last valid order.";
    DaysSincePurchase => "days_since_purchase", Number, "Days since the last valid order (recency).";
    RScore => "r_score", Number, "The RFM R score, 1–5.";
    FScore => "f_score", Number, "The RFM F score, 1–5.";
    MScore => "m_score", Number, "The RFM M score, 1–5.";
    TopSpender => "top_spender", Number, "1 when the member's 730-day spend is in the brand's top share (`rfim.top_pct`, 10% by default), else 0.";
    RfmCell => "rfm_cell", Number, "The RFM cell, 111–555.";
    RfmSegment => "rfm_segment", Name, "The RF-grid segment (champions … lost, prospect).";
    Rfm8 => "rfm8", Name, "The RFM-8 class (important_value … general_win_back).";
    Nesl => "nesl", Name, "The NESL label (N, E0, S1, S2, S3, L, prospect).";
    Rfim => "rfim", Name, "The RFIM segment.";
    Lifecycle => "lifecycle", Name, "The lifecycle stage (introduction … churn, prospect).";
    Tier => "tier", Level, "The member's tier among the brand's levels, lowest first: `tier >= gold` is gold and every level above it.";
    Points => "points", Number, "Points the member may spend on the evaluated day.";
    PendingPoints => "pending_points", Number, "Points earned but not spendable yet on the evaluated day (inside the return window).";
}

/// How an attribute is tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeTest {
    /// Compared with one value.
    Compare(CompareOp, Value),
    /// Equal to one of the values (never empty).
    In(Vec<Value>),
    /// A date within the last N days, the evaluated day included.
    Within(u32),
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// Every operator.
    pub const ALL: [Self; 6] = [Self::Eq, Self::Ne, Self::Lt, Self::Le, Self::Gt, Self::Ge];

    /// Its symbol.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    /// The operator with this symbol.
    pub fn parse(symbol: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == symbol)
    }

    /// Whether `left op right` holds.
    pub fn holds<T: PartialOrd + Copy>(self, left: T, right: T) -> bool {
        match self {
            Self::Eq => left == right,
            Self::Ne => left != right,
            Self::Lt => left < right,
            Self::Le => left <= right,
            Self::Gt => left > right,
            Self::Ge => left >= right,
        }
    }
}

/// A value in a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A number.
    Number(Number),
    /// Text or a name.
    Text(String),
    /// A calendar day.
    Date(Date),
}

/// A decimal number with at most two decimal places, kept as hundredths so that rules compare
/// exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Number(pub i64);

impl Number {
    /// A whole number.
    pub fn whole(value: i64) -> Self {
        Self(value.saturating_mul(100))
    }

    /// In hundredths.
    pub fn hundredths(self) -> i64 {
        self.0
    }

    /// Reads `12`, `12.5` or `12.05`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (text.contains('.') && !digits(fraction)) {
            return Err(format!("`{text}` is not a number"));
        }
        if fraction.len() > 2 {
            return Err(format!("`{text}` has more than two decimal places"));
        }
        let whole: i64 = whole
            .parse()
            .ok()
            .filter(|w: &i64| *w < i64::MAX / 100)
            .ok_or_else(|| format!("`{text}` is too large"))?;
        let fraction: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
        Ok(Self(whole * 100 + fraction))
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (whole, fraction) = (self.0 / 100, self.0 % 100);
        match fraction {
            0 => write!(f, "{whole}"),
            n if n % 10 == 0 => write!(f, "{whole}.{}", n / 10),
            n => write!(f, "{whole}.{n:02}"),
        }
    }
}

/// What a measure counts or sums over the facts its filter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// Valid orders.
    Orders,
    /// Net amount of the valid orders (after completed returns), in major units.
    Spent,
    /// Distinct days with a valid order.
    PurchaseDays,
    /// Net amount per valid order, in major units.
    AverageOrder,
    /// Interactions.
    Interactions,
}

impl Measure {
    /// Every measure.
    pub const ALL: [Self; 5] = [
        Self::Orders,
        Self::Spent,
        Self::PurchaseDays,
        Self::AverageOrder,
        Self::Interactions,
    ];

    /// The name rules use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Spent => "spent",
            Self::PurchaseDays => "purchase_days",
            Self::AverageOrder => "average_order",
            Self::Interactions => "interactions",
        }
    }

    /// The measure with this name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// Where a [`FactFilter`] is used, which decides the parts it may name: the text parser and
/// the JSON conversion both ask here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterScope {
    /// Orders (`orders(…)`, `spent(…)`, `bought(…)`, …): window, items, store and its channel.
    Orders,
    /// Interactions (`interactions(…)`): window and the interaction channel.
    Interactions,
    /// Behaviour events (`event(…)`): window and items.
    Events,
}

impl FilterScope {
    /// The scope of a measure's filter.
    pub fn of_measure(measure: Measure) -> Self {
        if measure == Measure::Interactions {
            Self::Interactions
        } else {
            Self::Orders
        }
    }

    /// Whether `sku` and `category` apply.
    pub fn takes_items(self) -> bool {
        self != Self::Interactions
    }

    /// Whether `store` applies.
    pub fn takes_store(self) -> bool {
        self == Self::Orders
    }

    /// Whether `channel` applies (a store channel for orders, an interaction channel else).
    pub fn takes_channel(self) -> bool {
        self != Self::Events
    }

    /// The argument names it takes, as an error lists them: `` `within`, `between`, … ``.
    pub fn argument_names(self) -> String {
        let mut names = vec!["within", "between"];
        if self.takes_items() {
            names.extend(["sku", "category"]);
        }
        if self.takes_channel() {
            names.push("channel");
        }
        if self.takes_store() {
            names.push("store");
        }
        if self == Self::Events {
            names.push("no_purchase_since");
        }
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        quoted.join(", ")
    }
}

/// Which facts a measure, `bought` or `event` looks at. Every part left out keeps everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactFilter {
    /// When.
    pub window: Window,
    /// Only lines (or events) of this sku.
    pub sku: Option<String>,
    /// Only lines (or events) of this category.
    pub category: Option<String>,
    /// Only orders in stores of this channel.
    pub store_channel: Option<StoreChannel>,
    /// Only orders in this store.
    pub store: Option<String>,
    /// Only interactions on this channel.
    pub interaction_channel: Option<InteractionChannel>,
}

/// A span of days a filter keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Window {
    /// Any day.
    #[default]
    Ever,
    /// The last N days, the evaluated day included (`within = 30d`: the evaluated day and the
    /// 29 before it).
    Last(u32),
    /// From one day to another, both included (`between = 2026-01-01..2026-03-31`).
    Between(Date, Date),
}
