//! The rule language: what texts mean, what errors say, and that printing and parsing agree.

use proptest::prelude::*;

use super::strategies::rules;
use super::*;
use crate::ConsentChannel;

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
        (
            "repurchase_cycle(category = beans, min_rate = 30.0, min_buyers = 10)",
            "repurchase_cycle(min_rate = 30, category = \"beans\")",
        ),
        (
            "repurchase_cycle(min_buyers = 3, min_rate = 25.5)",
            "repurchase_cycle(min_rate = 25.5, min_buyers = 3)",
        ),
        ("segment(\"interest users\")", "segment(\"interest users\")"),
        ("tier >= \"gold\"", "tier >= gold"),
        ("tier in (silver, gold)", "tier in (silver, gold)"),
        ("points >= 500", "points >= 500"),
        ("pending_points > 0", "pending_points > 0"),
        (
            "points_expiring(within=30d)>=100",
            "points_expiring(within = 30d) >= 100",
        ),
        ("unused_coupons >= 1", "unused_coupons >= 1"),
        ("unused_coupons() = 0", "unused_coupons = 0"),
        (
            "unused_coupons(expires_within = 7d, template = birthday) >= 1",
            "unused_coupons(template = \"birthday\", expires_within = 7d) >= 1",
        ),
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
            "line 1, column 1: expected a condition: an attribute such as `nesl` or `age`, a measure such as `orders(…)`, `bought(…)`, `event(…)`, `repurchase_cycle(…)`, `points_expiring(…)`, `unused_coupons`, `consent(…)`, `tag(…)`, `segment(…)`, `not` or `(`, found `shoe_size`",
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
            "line 1, column 1: expected a condition: an attribute such as `nesl` or `age`, a measure such as `orders(…)`, `bought(…)`, `event(…)`, `repurchase_cycle(…)`, `points_expiring(…)`, `unused_coupons`, `consent(…)`, `tag(…)`, `segment(…)`, `not` or `(`, found the end of the rule",
        ),
        (
            "joined within 2026-01-01",
            "line 1, column 15: expected a number of days such as 30d, found the date 2026-01-01",
        ),
        (
            "repurchase_cycle(category = \"beans\")",
            "line 1, column 36: expected `min_rate = N`, the least repurchase rate in percent, found `)`",
        ),
        (
            "repurchase_cycle(min_rate = 130)",
            "line 1, column 29: expected a percentage from 0 to 100, found 130",
        ),
        (
            "repurchase_cycle(min_rate = 30, within = 30d)",
            "line 1, column 33: expected an argument: `min_rate`, `min_buyers`, `sku`, `category`, found `within`",
        ),
        (
            "points_expiring(within = 30) > 1",
            "line 1, column 26: expected a number of days such as 30d, found the number 30",
        ),
        (
            "points_expiring() > 1",
            "line 1, column 17: expected `within = Nd`, found `)`",
        ),
        (
            "unused_coupons(kind = \"x\") > 0",
            "line 1, column 16: expected an argument: `template`, `expires_within`, found `kind`",
        ),
        (
            "unused_coupons(template = a, template = b) > 0",
            "line 1, column 30: expected each argument once, found `template`",
        ),
        (
            "unused_coupons",
            "line 1, column 15: expected a comparison after `unused_coupons`, found the end of the rule",
        ),
        (
            "points = many",
            "line 1, column 10: expected a number for `points`, found `many`",
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
fn loyalty_reads_as_marketers_say_it() {
    let rule = parsed(
        "tier >= gold and points_expiring(within = 30d) >= 100 \
         and not unused_coupons(template = \"birthday\") >= 1",
    );
    assert_eq!(
        rule.include,
        Condition::All(vec![
            attribute(
                Attribute::Tier,
                AttributeTest::Compare(CompareOp::Ge, text("gold"))
            ),
            Condition::Test(Predicate::PointsExpiring {
                within: 30,
                op: CompareOp::Ge,
                value: Number::whole(100),
            }),
            Condition::Not(Box::new(Condition::Test(Predicate::UnusedCoupons {
                template: Some("birthday".to_owned()),
                expires_within: None,
                op: CompareOp::Ge,
                value: Number::whole(1),
            }))),
        ])
    );
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
