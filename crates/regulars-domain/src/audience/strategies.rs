//! Arbitrary rules in the shape the parser builds (`and`/`or` with at least two parts), for
//! property tests here and in the crates that convert rules (feature `proptest`).

use jiff::civil::{Date, date};
use proptest::prelude::*;

use super::*;
use crate::{ConsentChannel, EventKind, InteractionChannel, StoreChannel};

fn words() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z][a-z0-9_]{0,8}", "[A-Za-z0-9 _\\-\"\\\\台北]{0,10}",]
}

fn names() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z][a-zA-Z0-9_]{0,6}", "[a-z ]{1,6}"]
}

fn dates() -> impl Strategy<Value = Date> {
    (2000i16..2040, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d))
}

fn numbers() -> impl Strategy<Value = Number> {
    (0i64..10_000_000).prop_map(Number)
}

fn windows() -> impl Strategy<Value = Window> {
    prop_oneof![
        Just(Window::Ever),
        (0u32..4000).prop_map(Window::Last),
        (dates(), 0i64..400).prop_map(|(from, days)| Window::Between(
            from,
            from.checked_add(jiff::Span::new().days(days))
                .expect("a date")
        )),
    ]
}

fn order_filters() -> impl Strategy<Value = FactFilter> {
    (
        windows(),
        proptest::option::of(words()),
        proptest::option::of(words()),
        proptest::option::of(prop::sample::select(vec![
            StoreChannel::Online,
            StoreChannel::Offline,
        ])),
        proptest::option::of(words()),
    )
        .prop_map(|(window, sku, category, store_channel, store)| FactFilter {
            window,
            sku,
            category,
            store_channel,
            store,
            interaction_channel: None,
        })
}

fn attribute_tests() -> impl Strategy<Value = Predicate> {
    prop::sample::select(Attribute::ALL.to_vec()).prop_flat_map(|attribute| {
        let value: BoxedStrategy<Value> = match attribute.kind() {
            AttributeKind::Number => numbers().prop_map(Value::Number).boxed(),
            AttributeKind::Date => dates().prop_map(Value::Date).boxed(),
            AttributeKind::Text => words().prop_map(Value::Text).boxed(),
            AttributeKind::Name | AttributeKind::Level => names().prop_map(Value::Text).boxed(),
        };
        let ordered = attribute.kind().is_ordered();
        let ops: Vec<CompareOp> = if ordered {
            CompareOp::ALL.to_vec()
        } else {
            vec![CompareOp::Eq, CompareOp::Ne]
        };
        let compare = (prop::sample::select(ops), value.clone())
            .prop_map(|(op, v)| AttributeTest::Compare(op, v));
        let within = (0u32..4000).prop_map(AttributeTest::Within);
        let list = prop::collection::vec(value, 1..4).prop_map(AttributeTest::In);
        let test = if attribute.kind() == AttributeKind::Date {
            prop_oneof![compare, list, within].boxed()
        } else {
            prop_oneof![compare, list].boxed()
        };
        test.prop_map(move |test| Predicate::Attribute { attribute, test })
    })
}

fn predicates() -> impl Strategy<Value = Predicate> {
    prop_oneof![
        attribute_tests(),
        (
            prop::sample::select(Measure::ALL.to_vec()),
            order_filters(),
            windows(),
            proptest::option::of(prop::sample::select(InteractionChannel::ALL.to_vec())),
            prop::sample::select(CompareOp::ALL.to_vec()),
            numbers()
        )
            .prop_map(|(measure, filter, window, channel, op, value)| {
                let filter = if measure == Measure::Interactions {
                    FactFilter {
                        window,
                        interaction_channel: channel,
                        ..FactFilter::default()
                    }
                } else {
                    filter
                };
                Predicate::Measure {
                    measure,
                    filter,
                    op,
                    value,
                }
            }),
        order_filters().prop_map(Predicate::Bought),
        (
            prop::sample::select(EventKind::ALL.to_vec()),
            windows(),
            proptest::option::of(words()),
            proptest::option::of(words()),
            any::<bool>()
        )
            .prop_map(|(kind, window, sku, category, no_purchase_since)| {
                Predicate::Event {
                    kind,
                    filter: FactFilter {
                        window,
                        sku,
                        category,
                        ..FactFilter::default()
                    },
                    no_purchase_since,
                }
            }),
        (
            (0i64..=10_000).prop_map(Number),
            1u32..50,
            proptest::option::of(words()),
            proptest::option::of(words())
        )
            .prop_map(|(min_rate, min_buyers, sku, category)| {
                Predicate::RepurchaseCycle {
                    min_rate,
                    min_buyers,
                    sku,
                    category,
                }
            }),
        prop::sample::select(ConsentChannel::ALL.to_vec()).prop_map(Predicate::Consent),
        words().prop_map(Predicate::Tag),
        words().prop_map(Predicate::Segment),
        (
            0u32..4000,
            prop::sample::select(CompareOp::ALL.to_vec()),
            numbers()
        )
            .prop_map(|(within, op, value)| Predicate::PointsExpiring {
                within,
                op,
                value
            }),
        (
            proptest::option::of(words()),
            proptest::option::of(0u32..4000),
            prop::sample::select(CompareOp::ALL.to_vec()),
            numbers()
        )
            .prop_map(
                |(template, expires_within, op, value)| Predicate::UnusedCoupons {
                    template,
                    expires_within,
                    op,
                    value,
                }
            ),
    ]
}

/// Conditions as the parser builds them.
pub fn conditions() -> impl Strategy<Value = Condition> {
    predicates()
        .prop_map(Condition::Test)
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::All),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::Any),
                inner.prop_map(|c| Condition::Not(Box::new(c))),
            ]
        })
}

/// Rules as the parser builds them.
pub fn rules() -> impl Strategy<Value = AudienceRule> {
    (conditions(), proptest::option::of(conditions()))
        .prop_map(|(include, exclude)| AudienceRule { include, exclude })
}
