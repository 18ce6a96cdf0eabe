//! The rule language: what texts mean, what errors say, and that printing and parsing agree.

use jiff::civil::{Date, date};
use proptest::prelude::*;

use super::*;
use crate::{ConsentChannel, EventKind, InteractionChannel, StoreChannel};

fn parsed(text: &str) -> AudienceRule {
    parse_rule(text).unwrap_or_else(|e| panic!("`{text}` did not parse: {e}"))
}

fn error(text: &str) -> String {
    parse_rule(text)
        .map(|rule| format!("parsed as {rule}"))
        .unwrap_or_else(|e| e.to_string())
}

fn attribute(attribute: Attribute, test: AttributeTest) -> Condition {
    Condition::Test(Predicate::Attribute { attribute, test })
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

#[test]
fn the_issue_example_means_what_it_says() {
    let rule = parsed(
        r#"nesl in (S1, S2) and bought(category = "pastry", within = 30d) and not tag("vip")"#,
    );
    assert_eq!(
        rule,
        AudienceRule {
            include: Condition::All(vec![
                attribute(
                    Attribute::Nesl,
                    AttributeTest::In(vec![text("S1"), text("S2")])
                ),
                Condition::Test(Predicate::Bought(FactFilter {
                    window: Window::Last(30),
                    category: Some("pastry".to_owned()),
                    ..FactFilter::default()
                })),
                Condition::Not(Box::new(Condition::Test(Predicate::Tag("vip".to_owned())))),
            ]),
            exclude: None,
        }
    );
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_and() {
    let rule = parsed("tag(a) or not tag(b) and tag(c)");
    let tag = |t: &str| Condition::Test(Predicate::Tag(t.to_owned()));
    assert_eq!(
        rule.include,
        Condition::Any(vec![
            tag("a"),
            Condition::All(vec![Condition::Not(Box::new(tag("b"))), tag("c")]),
        ])
    );
    assert_eq!(rule.to_string(), r#"tag("a") or not tag("b") and tag("c")"#);
}

#[test]
fn include_and_exclude_blocks_span_lines_and_comments() {
    let rule = parsed(
        "# lapsed regulars\ninclude lifecycle = dormancy\n  and orders >= 3 # ever\nexclude consent(line)\n",
    );
    assert_eq!(
        rule.exclude,
        Some(Condition::Test(Predicate::Consent(ConsentChannel::Line)))
    );
    assert_eq!(
        rule.to_string(),
        "include lifecycle = dormancy and orders >= 3\nexclude consent(line)"
    );
}

#[test]
fn every_kind_of_predicate_reads_and_prints_canonically() {
    for (input, canonical) in [
        ("age>=30", "age >= 30"),
        ("gender = \"female\"", "gender = female"),
        (
            "region in (\"Taipei\", 台中)",
            "region in (\"Taipei\", \"台中\")",
        ),
        ("joined >= 2026-01-01", "joined >= 2026-01-01"),
        ("last_purchase within 30d", "last_purchase within 30d"),
        ("birthday_month = 11", "birthday_month = 11"),
        ("rfm_cell in (555, 554)", "rfm_cell in (555, 554)"),
        ("rfm8 != general_win_back", "rfm8 != general_win_back"),
        (
            "spent(within = 365d, channel = online) > 1000.50",
            "spent(within = 365d, channel = online) > 1000.5",
        ),
        (
            "orders(store = \"S01\", between = 2026-01-01..2026-03-31) >= 2",
            "orders(between = 2026-01-01..2026-03-31, store = \"S01\") >= 2",
        ),
        ("purchase_days() >= 2", "purchase_days >= 2"),
        (
            "average_order(within = 90d) >= 300",
            "average_order(within = 90d) >= 300",
        ),
        (
            "interactions(channel = line, within = 30d) >= 1",
            "interactions(within = 30d, channel = line) >= 1",
        ),
        ("bought(sku = \"B-01\")", "bought(sku = \"B-01\")"),
        ("bought()", "bought()"),
        (
            "event(cart_add, no_purchase_since, within = 7d)",
            "event(cart_add, within = 7d, no_purchase_since)",
        ),
        ("event(favorite)", "event(favorite)"),
        ("segment(\"interest users\")", "segment(\"interest users\")"),
        ("tag(\"say \\\"hi\\\"\")", "tag(\"say \\\"hi\\\"\")"),
        ("NOT (tag(a) OR tag(b))", "not (tag(\"a\") or tag(\"b\"))"),
        (
            "(tag(a) and tag(b)) and tag(c)",
            "(tag(\"a\") and tag(\"b\")) and tag(\"c\")",
        ),
    ] {
        let rule = parsed(input);
        assert_eq!(rule.to_string(), canonical, "{input}");
        assert_eq!(parsed(canonical), rule, "{canonical} reads back");
    }
}

#[test]
fn errors_say_line_column_what_was_expected_and_what_was_found() {
    for (input, message) in [
        (
            "nesl in (S1, S2",
            "line 1, column 16: expected `,` or `)`, found the end of the rule",
        ),
        (
            "nesl in (S1)\n  and bought(category = \"pastry\", within = 30)",
            "line 2, column 44: expected a number of days such as 30d, found the number 30",
        ),
        (
            "nesl >= S1",
            "line 1, column 6: expected `=`, `!=` or `in` after `nesl`, found `>=`",
        ),
        (
            "age = old",
            "line 1, column 7: expected a number for `age`, found `old`",
        ),
        (
            "bought(colour = \"red\")",
            "line 1, column 8: expected an argument: `within`, `between`, `sku`, `category`, `channel`, `store`, found `colour`",
        ),
        (
            "shoe_size > 40",
            "line 1, column 1: expected a condition: an attribute such as `nesl` or `age`, a measure such as `orders(…)`, `bought(…)`, `event(…)`, `consent(…)`, `tag(…)`, `segment(…)`, `not` or `(`, found `shoe_size`",
        ),
        (
            "tag(a) tag(b)",
            "line 1, column 8: expected `and`, `or`, `exclude` or the end of the rule, found `tag`",
        ),
        (
            "event(basket)",
            "line 1, column 7: expected an event kind, found `basket` is not an event kind (view, cart_add, favorite, search, checkout_started)",
        ),
        (
            "orders(between = 2026-03-01..2026-01-01) > 1",
            "line 1, column 30: expected a last day on or after 2026-03-01, found the date 2026-01-01",
        ),
        (
            "orders(within = 30d, within = 60d) > 1",
            "line 1, column 22: expected each argument once (and `within` or `between`, not both), found `within`",
        ),
        (
            "tag(\"vip",
            "line 1, column 5: expected a closing `\"`, found a string that never ends",
        ),
        (
            "spent > 1.234",
            "line 1, column 9: expected a number, found `1.234` has more than two decimal places",
        ),
        (
            "",
            "line 1, column 1: expected a condition: an attribute such as `nesl` or `age`, a measure such as `orders(…)`, `bought(…)`, `event(…)`, `consent(…)`, `tag(…)`, `segment(…)`, `not` or `(`, found the end of the rule",
        ),
        (
            "joined within 2026-01-01",
            "line 1, column 15: expected a number of days such as 30d, found the date 2026-01-01",
        ),
        (
            "tag(a) @",
            "line 1, column 8: expected a condition, a value or an operator, found `@`",
        ),
    ] {
        assert_eq!(error(input), message, "{input}");
    }
}

#[test]
fn numbers_keep_two_decimal_places_exactly() {
    assert_eq!(Number::parse("12"), Ok(Number(1200)));
    assert_eq!(Number::parse("12.5"), Ok(Number(1250)));
    assert_eq!(Number::parse("12.05"), Ok(Number(1205)));
    assert_eq!(Number(1205).to_string(), "12.05");
    assert_eq!(Number(1250).to_string(), "12.5");
    assert!(Number::parse("1.").is_err());
    assert!(Number::parse(".5").is_err());
}

// Arbitrary rules in the shape the parser produces: `and`/`or` with at least two parts.

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
            AttributeKind::Name => names().prop_map(Value::Text).boxed(),
        };
        let ordered = matches!(
            attribute.kind(),
            AttributeKind::Number | AttributeKind::Date
        );
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
                let filter = if measure.over_interactions() {
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
        prop::sample::select(ConsentChannel::ALL.to_vec()).prop_map(Predicate::Consent),
        words().prop_map(Predicate::Tag),
        words().prop_map(Predicate::Segment),
    ]
}

/// Conditions as the parser builds them.
pub(crate) fn conditions() -> impl Strategy<Value = Condition> {
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
pub(crate) fn rules() -> impl Strategy<Value = AudienceRule> {
    (conditions(), proptest::option::of(conditions()))
        .prop_map(|(include, exclude)| AudienceRule { include, exclude })
}

proptest! {
    #[test]
    fn printing_then_parsing_gives_the_same_rule(rule in rules()) {
        let text = rule.to_string();
        let back = parse_rule(&text).map_err(|e| TestCaseError::fail(format!("{text}\n{e}")))?;
        prop_assert_eq!(back, rule, "{}", text);
    }

    #[test]
    fn any_text_is_parsed_or_refused_without_panicking(text in "\\PC{0,60}") {
        let _ = parse_rule(&text);
    }
}
