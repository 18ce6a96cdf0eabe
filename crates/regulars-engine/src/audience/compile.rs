//! A rule compiled against a brand as of a day: names checked (model labels, genders, saved
//! segments), names of stores, skus, categories, regions and tags turned into the table's
//! integers, windows turned into day bounds, and amounts scaled to the currency's minor units.
//! An invalid rule is refused here, when it is saved or previewed, never while it runs.

use regulars_domain::Gender;
use regulars_domain::audience::{
    Attribute, AttributeTest, AudienceRule, CompareOp, Condition, FactFilter, Measure, Number,
    Predicate, Value, Window,
};

use super::repurchase::{ItemStat, item_stats, window_start};
use super::table::{
    AudienceTable, UNSEEN, consent_bit, event_code, gender_code, interaction_code,
    store_channel_code,
};
use crate::{Day, Model};

/// Why a rule cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

/// How the brand counts: what a rule's amounts mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleContext {
    /// The evaluated day (windows end on it).
    pub as_of: Day,
    /// Decimal places of the brand's currency (0 for TWD, 2 for USD).
    pub currency_exponent: u32,
}

/// A compiled rule, ready to test members.
#[derive(Debug, Clone)]
pub struct Audience {
    pub(crate) include: Node,
    pub(crate) exclude: Option<Node>,
    /// What the rule reads, so a change that touches none of it need not re-test it.
    pub(crate) reads: Reads,
    pub(crate) as_of: i32,
    /// The evaluated day as (year, month, day), for ages and birthdays.
    pub(crate) today: (i32, u32, u32),
}

/// Which of a member's facts a rule reads (or a change reaches), as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads(u8);

impl Reads {
    /// Nothing.
    pub const NOTHING: Self = Self(0);
    /// The profile: gender, birthday, region, joined, home store, consents.
    pub const PROFILE: Self = Self(1);
    /// Orders, their lines and returns.
    pub const ORDERS: Self = Self(1 << 1);
    /// Behaviour events.
    pub const EVENTS: Self = Self(1 << 2);
    /// Interactions.
    pub const INTERACTIONS: Self = Self(1 << 3);
    /// Tags.
    pub const TAGS: Self = Self(1 << 4);
    /// The models' verdicts (they move with orders, returns and interactions).
    pub const MODELS: Self = Self(1 << 5);
    /// Other saved segments.
    pub const SEGMENTS: Self = Self(1 << 6);
    /// Tier, points and coupons.
    pub const LOYALTY: Self = Self(1 << 7);
    /// Everything.
    pub const EVERYTHING: Self = Self(u8::MAX);

    /// Both sets.
    #[must_use]
    pub fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// True when the sets share something.
    pub fn meets(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }
}

impl Node {
    /// What the condition reads.
    fn reads(&self) -> Reads {
        match self {
            Self::All(parts) | Self::Any(parts) => parts
                .iter()
                .fold(Reads::NOTHING, |reads, p| reads.with(p.reads())),
            Self::Not(inner) => inner.reads(),
            Self::Number(attribute, _) => match attribute {
                NumberAttribute::Age
                | NumberAttribute::BirthdayMonth
                | NumberAttribute::BirthdayDay
                | NumberAttribute::DaysToBirthday
                | NumberAttribute::MonthsToBirthday => Reads::PROFILE,
                _ => Reads::MODELS,
            },
            Self::Date(DateAttribute::Joined, _)
            | Self::Gender(..)
            | Self::Region(..)
            | Self::HomeStore(..)
            | Self::Consent(_) => Reads::PROFILE,
            Self::Date(..) | Self::Label(..) => Reads::MODELS,
            Self::Measure(Measure::Interactions, ..) => Reads::INTERACTIONS,
            Self::Measure(..) | Self::Bought(_) | Self::RepurchaseCycle(..) => Reads::ORDERS,
            Self::Event {
                no_purchase_since, ..
            } => {
                if *no_purchase_since {
                    Reads::EVENTS.with(Reads::ORDERS)
                } else {
                    Reads::EVENTS
                }
            }
            Self::Tag(_) => Reads::TAGS,
            Self::Segment(_) => Reads::SEGMENTS,
            Self::Tier(_)
            | Self::Points { .. }
            | Self::PointsExpiring(..)
            | Self::Coupons { .. } => Reads::LOYALTY,
        }
    }
}

impl Audience {
    /// What the rule reads: a member's result can change only when one of these does (or the
    /// day, which re-tests everyone).
    pub fn reads(&self) -> Reads {
        self.reads
    }
}

/// Numbers are compared as `lhs × lhs_scale` against `value`, both in a common unit.
#[derive(Debug, Clone)]
pub(crate) enum NumberTest {
    Compare(CompareOp, i128),
    In(Vec<i128>),
}

impl NumberTest {
    pub(crate) fn holds(&self, lhs: i128) -> bool {
        match self {
            Self::Compare(op, value) => op.holds(lhs, *value),
            Self::In(values) => values.contains(&lhs),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum NumberAttribute {
    Age,
    BirthdayMonth,
    BirthdayDay,
    DaysToBirthday,
    MonthsToBirthday,
    TopSpender,
    DaysSincePurchase,
    RScore,
    FScore,
    MScore,
    RfmCell,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum DateAttribute {
    Joined,
    FirstPurchase,
    LastPurchase,
}

#[derive(Debug, Clone)]
pub(crate) enum DateTest {
    Compare(CompareOp, i32),
    In(Vec<i32>),
    /// On or after this day (and not after the evaluated day).
    Since(i32),
}

/// Which orders (or interactions, or events) count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    /// First and last day, both included.
    pub(crate) from: i32,
    pub(crate) to: i32,
    pub(crate) sku: Option<u32>,
    pub(crate) category: Option<u32>,
    pub(crate) store: Option<u32>,
    pub(crate) channel: Option<u8>,
}

impl Filter {
    pub(crate) fn has_items(&self) -> bool {
        self.sku.is_some() || self.category.is_some()
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    All(Vec<Self>),
    Any(Vec<Self>),
    Not(Box<Self>),
    Number(NumberAttribute, NumberTest),
    Date(DateAttribute, DateTest),
    /// A model's label: member's code in the set (bit per code).
    Label(Model, u64),
    Gender(u8, bool),
    /// Region or home store: the member's id in the set, or (negated) not in it.
    Region(Vec<u32>, bool),
    HomeStore(Vec<u32>, bool),
    /// A measure, compared in hundredths (and amounts in hundredths of a minor unit).
    Measure(Measure, Filter, NumberTest),
    Bought(Filter),
    Event {
        kind: u8,
        filter: Filter,
        no_purchase_since: bool,
    },
    /// A valid order of an item matching the filter's items, whose cycle (by sku id; 0 for an
    /// item that does not qualify) has not passed since its day.
    RepurchaseCycle(Filter, std::sync::Arc<[u32]>),
    Consent(u8),
    Tag(u32),
    /// Member of the saved segment at this position of the list compiled with.
    Segment(usize),
    /// The tier's rank, compared in hundredths like other numbers.
    Tier(NumberTest),
    /// Spendable (or, `pending`, not yet spendable) points on the evaluated day, in hundredths.
    Points {
        pending: bool,
        test: NumberTest,
    },
    /// Spendable points whose lot stops counting on or before this day, in hundredths.
    PointsExpiring(i32, NumberTest),
    /// Coupons usable on the evaluated day, of the template when given and whose last day is no
    /// later than `last_day` when given, counted in hundredths.
    Coupons {
        template: Option<u32>,
        last_day: Option<i32>,
        test: NumberTest,
    },
}

impl Audience {
    /// Compiles `rule` for members of `table` as of `context.as_of`; `segments` names the
    /// saved segments a rule may refer to, and `segment("…")` tests ask [`super::Lookups::segment`]
    /// with the name's position in that list. A name the table has not seen matches nobody
    /// (see [`AudienceTable::learn_names`] for a rule kept live).
    pub fn compile(
        rule: &AudienceRule,
        table: &AudienceTable,
        context: RuleContext,
        segments: &[&str],
    ) -> Result<Self, RuleError> {
        let mut compiler = Compiler {
            table,
            context,
            segments,
            item_stats: None,
        };
        let include = compiler.condition(&rule.include)?;
        let exclude = rule
            .exclude
            .as_ref()
            .map(|c| compiler.condition(c))
            .transpose()?;
        let date = context.as_of.to_date();
        let mut reads = include.reads();
        if let Some(exclude) = &exclude {
            reads = reads.with(exclude.reads());
        }
        Ok(Self {
            include,
            exclude,
            reads,
            as_of: context.as_of.0,
            today: (
                i32::from(date.year()),
                u32::from(date.month().unsigned_abs()),
                u32::from(date.day().unsigned_abs()),
            ),
        })
    }
}

impl Compiler<'_> {
    /// `tier` tests as tests of the rank (in hundredths, as numbers are compared), each name
    /// checked against the brand's levels.
    fn tier_test(&self, test: &AttributeTest) -> Result<NumberTest, RuleError> {
        let levels = &self.table.tier_names;
        if levels.is_empty() {
            return Err(RuleError(
                "`tier` needs tiers, and the brand has none configured ([tiers])".to_owned(),
            ));
        }
        let rank = |value: &Value| -> Result<i128, RuleError> {
            let name = text(Attribute::Tier, value)?;
            levels
                .iter()
                .position(|level| *level == name)
                .map(|at| at as i128 * 100)
                .ok_or_else(|| RuleError(format!("`{name}` is not a tier ({})", levels.join(", "))))
        };
        let (op, ranks) = values_of(test, rank)?;
        Ok(match op {
            Some(op) => NumberTest::Compare(op, ranks[0]),
            None => NumberTest::In(ranks),
        })
    }
}

struct Compiler<'a> {
    table: &'a AudienceTable,
    context: RuleContext,
    segments: &'a [&'a str],
    /// Items' repurchase stats, measured once per compile when a rule first asks.
    item_stats: Option<Vec<ItemStat>>,
}

fn label_model(attribute: Attribute) -> Option<Model> {
    Some(match attribute {
        Attribute::RfmSegment => Model::Rfm,
        Attribute::Rfm8 => Model::Rfm8,
        Attribute::Nesl => Model::Nesl,
        Attribute::Rfim => Model::Rfim,
        Attribute::Lifecycle => Model::Lifecycle,
        _ => return None,
    })
}

fn values_of<T>(
    test: &AttributeTest,
    read: impl Fn(&Value) -> Result<T, RuleError>,
) -> Result<(Option<CompareOp>, Vec<T>), RuleError> {
    match test {
        AttributeTest::Compare(op, v) => Ok((Some(*op), vec![read(v)?])),
        AttributeTest::In(values) => Ok((None, values.iter().map(read).collect::<Result<_, _>>()?)),
        AttributeTest::Within(_) => Err(RuleError("`within` applies to dates only".to_owned())),
    }
}

fn text(attribute: Attribute, value: &Value) -> Result<String, RuleError> {
    match value {
        Value::Text(t) => Ok(t.clone()),
        _ => Err(RuleError(format!("`{}` takes a name", attribute.as_str()))),
    }
}

/// `=`/`in` keep the set; `!=` keeps everything else.
fn equality(op: Option<CompareOp>) -> Result<bool, RuleError> {
    match op {
        None | Some(CompareOp::Eq) => Ok(false),
        Some(CompareOp::Ne) => Ok(true),
        Some(other) => Err(RuleError(format!(
            "`{}` does not apply to names",
            other.as_str()
        ))),
    }
}

impl Compiler<'_> {
    fn condition(&mut self, condition: &Condition) -> Result<Node, RuleError> {
        Ok(match condition {
            Condition::All(parts) => Node::All(
                parts
                    .iter()
                    .map(|p| self.condition(p))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Any(parts) => Node::Any(
                parts
                    .iter()
                    .map(|p| self.condition(p))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Not(inner) => Node::Not(Box::new(self.condition(inner)?)),
            Condition::Test(predicate) => self.predicate(predicate)?,
        })
    }

    /// A number from the rule in hundredths, times `scale`.
    fn scaled(value: Number, scale: i128) -> i128 {
        i128::from(value.hundredths()) * scale
    }

    fn amount_scale(&self) -> i128 {
        10i128.pow(self.context.currency_exponent)
    }

    fn window(&self, window: Window) -> (i32, i32) {
        let as_of = self.context.as_of.0;
        match window {
            Window::Ever => (i32::MIN, as_of),
            Window::Last(days) => {
                let days = i32::try_from(days).unwrap_or(i32::MAX);
                (as_of.saturating_sub(days).saturating_add(1), as_of)
            }
            Window::Between(from, to) => (Day::from_date(from).0, Day::from_date(to).0.min(as_of)),
        }
    }

    fn filter(&self, filter: &FactFilter) -> Filter {
        let (from, to) = self.window(filter.window);
        Filter {
            from,
            to,
            sku: filter.sku.as_deref().map(|s| self.table.skus.get(s)),
            category: filter
                .category
                .as_deref()
                .map(|c| self.table.categories.get(c)),
            store: filter.store.as_deref().map(|s| self.table.stores.get(s)),
            channel: filter
                .store_channel
                .map(|c| store_channel_code(Some(c)))
                .or_else(|| filter.interaction_channel.map(interaction_code)),
        }
    }

    fn predicate(&mut self, predicate: &Predicate) -> Result<Node, RuleError> {
        Ok(match predicate {
            Predicate::Attribute { attribute, test } => self.attribute(*attribute, test)?,
            Predicate::Measure {
                measure,
                filter,
                op,
                value,
            } => {
                let scale = match measure {
                    Measure::Spent | Measure::AverageOrder => self.amount_scale(),
                    _ => 1,
                };
                Node::Measure(
                    *measure,
                    self.filter(filter),
                    NumberTest::Compare(*op, Self::scaled(*value, scale)),
                )
            }
            Predicate::Bought(filter) => Node::Bought(self.filter(filter)),
            Predicate::Event {
                kind,
                filter,
                no_purchase_since,
            } => Node::Event {
                kind: event_code(*kind),
                filter: self.filter(filter),
                no_purchase_since: *no_purchase_since,
            },
            Predicate::RepurchaseCycle {
                min_rate,
                min_buyers,
                sku,
                category,
            } => {
                let (table, as_of) = (self.table, self.context.as_of.0);
                let stats = self
                    .item_stats
                    .get_or_insert_with(|| item_stats(table, as_of, crate::default_threads()));
                let cycles = stats
                    .iter()
                    .map(|stat| {
                        if stat.qualifies(min_rate.hundredths(), *min_buyers) {
                            stat.cycle
                        } else {
                            0
                        }
                    })
                    .collect();
                let filter = Filter {
                    from: window_start(as_of),
                    to: as_of,
                    sku: sku.as_deref().map(|s| self.table.skus.get(s)),
                    category: category.as_deref().map(|c| self.table.categories.get(c)),
                    store: None,
                    channel: None,
                };
                Node::RepurchaseCycle(filter, cycles)
            }
            Predicate::PointsExpiring { within, op, value } => {
                let within = i32::try_from(*within).unwrap_or(i32::MAX);
                Node::PointsExpiring(
                    self.context.as_of.0.saturating_add(within),
                    NumberTest::Compare(*op, Self::scaled(*value, 1)),
                )
            }
            Predicate::UnusedCoupons {
                template,
                expires_within,
                op,
                value,
            } => Node::Coupons {
                template: template.as_deref().map(|t| self.table.templates.get(t)),
                last_day: expires_within.map(|days| {
                    let days = i32::try_from(days).unwrap_or(i32::MAX);
                    self.context.as_of.0.saturating_add(days).saturating_sub(1)
                }),
                test: NumberTest::Compare(*op, Self::scaled(*value, 1)),
            },
            Predicate::Consent(channel) => Node::Consent(consent_bit(*channel)),
            Predicate::Tag(tag) => Node::Tag(self.table.tag_names.get(tag)),
            Predicate::Segment(name) => match self.segments.iter().position(|s| s == name) {
                Some(k) => Node::Segment(k),
                None => {
                    return Err(RuleError(format!(
                        "there is no saved segment named \"{name}\""
                    )));
                }
            },
        })
    }

    fn attribute(&mut self, attribute: Attribute, test: &AttributeTest) -> Result<Node, RuleError> {
        let number = |v: &Value| match v {
            Value::Number(n) => Ok(Self::scaled(*n, 1)),
            _ => Err(RuleError(format!(
                "`{}` takes a number",
                attribute.as_str()
            ))),
        };
        let number_test = |test: &AttributeTest| -> Result<NumberTest, RuleError> {
            let (op, values) = values_of(test, number)?;
            Ok(match op {
                Some(op) => NumberTest::Compare(op, values[0]),
                None => NumberTest::In(values),
            })
        };
        let date = |v: &Value| match v {
            Value::Date(d) => Ok(Day::from_date(*d).0),
            _ => Err(RuleError(format!("`{}` takes a date", attribute.as_str()))),
        };
        let date_test = |test: &AttributeTest| -> Result<DateTest, RuleError> {
            if let AttributeTest::Within(days) = test {
                let days = i32::try_from(*days).unwrap_or(i32::MAX);
                return Ok(DateTest::Since(
                    self.context.as_of.0.saturating_sub(days).saturating_add(1),
                ));
            }
            let (op, values) = values_of(test, date)?;
            Ok(match op {
                Some(op) => DateTest::Compare(op, values[0]),
                None => DateTest::In(values),
            })
        };
        let numeric = |a: NumberAttribute| -> Result<Node, RuleError> {
            Ok(Node::Number(a, number_test(test)?))
        };
        if let Some(model) = label_model(attribute) {
            let (op, names) = values_of(test, |v| text(attribute, v))?;
            let negate = equality(op)?;
            let labels = model.segments();
            let mut set = 0u64;
            for name in names {
                let Some(code) = labels.iter().position(|(label, _)| *label == name) else {
                    let known: Vec<&str> = labels.iter().map(|(l, _)| *l).collect();
                    return Err(RuleError(format!(
                        "`{name}` is not a {} label ({})",
                        attribute.as_str(),
                        known.join(", ")
                    )));
                };
                set |= 1 << code;
            }
            return Ok(Node::Label(model, if negate { !set } else { set }));
        }
        Ok(match attribute {
            Attribute::Tier => Node::Tier(self.tier_test(test)?),
            Attribute::Points => Node::Points {
                pending: false,
                test: number_test(test)?,
            },
            Attribute::PendingPoints => Node::Points {
                pending: true,
                test: number_test(test)?,
            },
            Attribute::Gender => {
                let (op, names) = values_of(test, |v| text(attribute, v))?;
                let negate = equality(op)?;
                let mut set = 0u8;
                for name in names {
                    let gender = Gender::parse(&name).map_err(RuleError)?;
                    set |= 1 << gender_code(Some(gender));
                }
                Node::Gender(set, negate)
            }
            Attribute::Region | Attribute::HomeStore => {
                let (op, values) = values_of(test, |v| text(attribute, v))?;
                let negate = equality(op)?;
                let known = if attribute == Attribute::Region {
                    &self.table.regions
                } else {
                    &self.table.stores
                };
                let ids: Vec<u32> = values
                    .iter()
                    .map(|v| known.get(v))
                    .filter(|id| *id != UNSEEN)
                    .collect();
                if attribute == Attribute::Region {
                    Node::Region(ids, negate)
                } else {
                    Node::HomeStore(ids, negate)
                }
            }
            Attribute::Age => numeric(NumberAttribute::Age)?,
            Attribute::BirthdayMonth => numeric(NumberAttribute::BirthdayMonth)?,
            Attribute::DaysToBirthday => numeric(NumberAttribute::DaysToBirthday)?,
            Attribute::MonthsToBirthday => numeric(NumberAttribute::MonthsToBirthday)?,
            Attribute::TopSpender => numeric(NumberAttribute::TopSpender)?,
            Attribute::BirthdayDay => numeric(NumberAttribute::BirthdayDay)?,
            Attribute::Joined => Node::Date(DateAttribute::Joined, date_test(test)?),
            Attribute::FirstPurchase
            | Attribute::LastPurchase
            | Attribute::DaysSincePurchase
            | Attribute::RScore
            | Attribute::FScore
            | Attribute::MScore
            | Attribute::RfmCell => match attribute {
                Attribute::FirstPurchase => {
                    Node::Date(DateAttribute::FirstPurchase, date_test(test)?)
                }
                Attribute::LastPurchase => {
                    Node::Date(DateAttribute::LastPurchase, date_test(test)?)
                }
                Attribute::DaysSincePurchase => numeric(NumberAttribute::DaysSincePurchase)?,
                Attribute::RScore => numeric(NumberAttribute::RScore)?,
                Attribute::FScore => numeric(NumberAttribute::FScore)?,
                Attribute::MScore => numeric(NumberAttribute::MScore)?,
                _ => numeric(NumberAttribute::RfmCell)?,
            },
            Attribute::RfmSegment
            | Attribute::Rfm8
            | Attribute::Nesl
            | Attribute::Rfim
            | Attribute::Lifecycle => {
                unreachable!("labels are handled above")
            }
        })
    }
}
