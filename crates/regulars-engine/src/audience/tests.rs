//! Audiences against a plain reading of the facts: the compiled, integer-interned evaluation
//! must agree, member by member, with the rule read word by word over the members' own facts.

use jiff::civil::{Date, date};
use proptest::prelude::*;
use regulars_domain::audience::{
    Attribute, AttributeTest, AudienceRule, CompareOp, Condition, FactFilter, Measure, Number,
    Predicate, Value, Window, parse_rule,
};
use regulars_domain::{ConsentChannel, EventKind, Gender, InteractionChannel, StoreChannel};

use super::*;
use crate::{Day, MemberSegments, Nesl, RfmScores};

const AS_OF: Date = date(2026, 3, 31);

fn day(d: Date) -> Day {
    Day::from_date(d)
}

fn context() -> RuleContext {
    RuleContext {
        as_of: day(AS_OF),
        currency_exponent: 0,
    }
}

fn order(on: Date, amount: i64, lines: &[(&str, &str, i64)]) -> AudienceOrder {
    AudienceOrder {
        key: order_key(&format!("{on}/{amount}")),
        day: day(on),
        cancelled_from: Day(i32::MAX),
        amount,
        store: Some("S01".to_owned()),
        channel: Some(StoreChannel::Offline),
        lines: lines
            .iter()
            .map(|(sku, category, amount)| {
                ((*sku).to_owned(), Some((*category).to_owned()), *amount)
            })
            .collect(),
        returns: Vec::new(),
    }
}

/// An empty table for a brand with the tiers of [`TIERS`].
fn table() -> AudienceTable {
    AudienceTable::with_tiers(&TIERS.map(str::to_owned))
}

fn no_models() -> MemberSegments {
    panic!("this rule does not read the models")
}

/// The indices of `members` matching `text`, with the models of `models(m)`.
fn select(
    members: &[AudienceMember],
    text: &str,
    models: &(dyn Fn(usize) -> MemberSegments + Sync),
) -> Vec<u32> {
    let mut table = table();
    for member in members {
        table.push(member);
    }
    let rule = parse_rule(text).expect("the rule parses");
    let audience = Audience::compile(&rule, &table, context(), &[]).expect("the rule compiles");
    let lookups = Lookups {
        models,
        segment: &|_, _| unreachable!("no segments here"),
    };
    audience.select(&table, lookups, 2)
}

#[test]
fn interest_users_carted_lately_and_have_not_bought_since() {
    let cart = |on: Date| AudienceEvent {
        day: day(on),
        kind: EventKind::CartAdd,
        sku: Some("beans-1kg".to_owned()),
        category: Some("beans".to_owned()),
    };
    let members = vec![
        // carted 3 days ago, last bought a month ago: interested
        AudienceMember {
            events: vec![cart(date(2026, 3, 28))],
            orders: vec![order(date(2026, 2, 28), 300, &[])],
            ..AudienceMember::default()
        },
        // carted, then bought the same day: not
        AudienceMember {
            events: vec![cart(date(2026, 3, 28))],
            orders: vec![order(date(2026, 3, 28), 300, &[])],
            ..AudienceMember::default()
        },
        // carted 10 days ago: outside the window
        AudienceMember {
            events: vec![cart(date(2026, 3, 21))],
            ..AudienceMember::default()
        },
        // carted and never bought: interested
        AudienceMember {
            events: vec![cart(date(2026, 3, 31))],
            ..AudienceMember::default()
        },
    ];
    assert_eq!(
        select(
            &members,
            "event(cart_add, within = 7d, no_purchase_since)",
            &|_| no_models()
        ),
        vec![0, 3]
    );
}

#[test]
fn bought_pastry_lately_but_never_beans() {
    let members = vec![
        AudienceMember {
            orders: vec![order(
                date(2026, 3, 20),
                120,
                &[("croissant", "pastry", 120)],
            )],
            ..AudienceMember::default()
        },
        AudienceMember {
            orders: vec![
                order(date(2026, 3, 20), 120, &[("croissant", "pastry", 120)]),
                order(date(2025, 1, 5), 450, &[("beans-1kg", "beans", 450)]),
            ],
            ..AudienceMember::default()
        },
        AudienceMember {
            orders: vec![order(
                date(2026, 2, 20),
                120,
                &[("croissant", "pastry", 120)],
            )],
            ..AudienceMember::default()
        },
    ];
    let rule = r#"bought(category = "pastry", within = 30d) and not bought(category = "beans")"#;
    assert_eq!(select(&members, rule, &|_| no_models()), vec![0]);
}

#[test]
fn the_repurchase_cohort_bought_an_often_rebought_item_within_its_cycle() {
    let beans = |on: Date| order(on, 450, &[("beans-1kg", "beans", 450)]);
    let mug = |on: Date| order(on, 300, &[("mug", "gear", 300)]);
    let days_ago = |n: i64| {
        AS_OF
            .checked_sub(jiff::Span::new().days(n))
            .expect("a date")
    };
    // Beans: four buyers, three of whom bought again, every 14 days (a 75% rate, a 14-day
    // cycle). Mugs: four buyers, one of whom bought again (25%).
    let members = vec![
        // bought beans 10 days ago, inside the 14-day cycle: in
        AudienceMember {
            orders: vec![beans(days_ago(24)), beans(days_ago(10))],
            ..AudienceMember::default()
        },
        // bought beans 20 days ago: past the cycle, out
        AudienceMember {
            orders: vec![beans(days_ago(34)), beans(days_ago(20))],
            ..AudienceMember::default()
        },
        // bought beans once, 14 days ago, on the cycle's last day: in
        AudienceMember {
            orders: vec![beans(days_ago(14)), mug(days_ago(3))],
            ..AudienceMember::default()
        },
        // rebought beans long ago, and mugs lately: mugs are not rebought often enough, out
        AudienceMember {
            orders: vec![
                beans(days_ago(300)),
                beans(days_ago(286)),
                mug(days_ago(40)),
                mug(days_ago(1)),
            ],
            ..AudienceMember::default()
        },
        AudienceMember {
            orders: vec![mug(days_ago(2))],
            ..AudienceMember::default()
        },
        AudienceMember {
            orders: vec![mug(days_ago(5))],
            ..AudienceMember::default()
        },
    ];
    let rule = "repurchase_cycle(min_rate = 50, min_buyers = 4)";
    assert_eq!(select(&members, rule, &|_| no_models()), vec![0, 2]);
    // With a rate low enough for mugs (cycle 39 days), their recent buyers join.
    let rule = "repurchase_cycle(min_rate = 25, min_buyers = 4)";
    assert_eq!(
        select(&members, rule, &|_| no_models()),
        vec![0, 2, 3, 4, 5]
    );
    // Too few buyers for either item: nobody.
    let rule = "repurchase_cycle(min_rate = 25, min_buyers = 5)";
    assert!(select(&members, rule, &|_| no_models()).is_empty());
    // Narrowed to a category.
    let rule = r#"repurchase_cycle(min_rate = 25, min_buyers = 4, category = "gear")"#;
    assert_eq!(select(&members, rule, &|_| no_models()), vec![2, 3, 4, 5]);
}

#[test]
fn model_labels_and_scores_read_the_members_verdicts() {
    let verdicts = |m: usize| MemberSegments {
        nesl: [Nesl::S1, Nesl::E0, Nesl::S2][m],
        rfm: Some(RfmScores {
            r: [2, 5, 1][m],
            f: 3,
            m: 4,
        }),
        top: m == 2,
        ..MemberSegments::default()
    };
    let members = vec![AudienceMember::default(); 3];
    assert_eq!(select(&members, "nesl in (S1, S2)", &verdicts), vec![0, 2]);
    assert_eq!(
        select(&members, "nesl != E0 and r_score >= 2", &verdicts),
        vec![0]
    );
    assert_eq!(select(&members, "rfm_cell = 534", &verdicts), vec![1]);
    assert_eq!(select(&members, "top_spender = 1", &verdicts), vec![2]);
}

/// A member holding `lots` (available from, expiring on, points) and `coupons` (template, first
/// and last day), days counted from the evaluated day.
fn holder(
    tier: Option<&str>,
    lots: &[(i32, Option<i32>, i64)],
    coupons: &[(&str, i32, i32)],
) -> AudienceMember {
    let on = |ahead: i32| Day(day(AS_OF).0 + ahead);
    AudienceMember {
        loyalty: AudienceLoyalty {
            tier: tier.map(str::to_owned),
            lots: lots
                .iter()
                .map(|&(from, until, remaining)| AudienceLot {
                    available_on: on(from),
                    expires_on: until.map(on),
                    remaining,
                })
                .collect(),
            coupons: coupons
                .iter()
                .map(|&(template, from, until)| AudienceCoupon {
                    template: template.to_owned(),
                    valid_from: on(from),
                    valid_until: on(until),
                })
                .collect(),
        },
        ..AudienceMember::default()
    }
}

#[test]
fn points_count_from_their_first_spendable_day_until_they_expire() {
    let members = [
        // 100 spendable, expiring in 30 days; 50 pending until tomorrow; 70 expired today.
        holder(
            None,
            &[(-10, Some(30), 100), (1, Some(60), 50), (-40, Some(0), 70)],
            &[],
        ),
        // 300 that never expire, spendable from today.
        holder(None, &[(0, None, 300)], &[]),
        holder(None, &[], &[]),
    ];
    let none = &|_| no_models();
    assert_eq!(select(&members, "points = 100", none), vec![0]);
    assert_eq!(select(&members, "points >= 100", none), vec![0, 1]);
    assert_eq!(select(&members, "pending_points = 50", none), vec![0]);
    assert_eq!(
        select(&members, "points = 0 and pending_points = 0", none),
        vec![2]
    );
    // A lot whose first day without counting is 30 days on expires within 30 days, not 29.
    assert_eq!(
        select(&members, "points_expiring(within = 30d) >= 100", none),
        vec![0]
    );
    assert_eq!(
        select(&members, "points_expiring(within = 29d) > 0", none),
        Vec::<u32>::new()
    );
}

#[test]
fn unused_coupons_are_those_inside_their_days_and_expiring_counts_their_last_day() {
    let members = [
        // A birthday coupon whose last day is today, a welcome one until next week.
        holder(None, &[], &[("birthday", -5, 0), ("welcome", -1, 7)]),
        // One ended yesterday, one starts tomorrow: neither is usable today.
        holder(None, &[], &[("welcome", -30, -1), ("welcome", 1, 30)]),
    ];
    let none = &|_| no_models();
    assert_eq!(select(&members, "unused_coupons >= 1", none), vec![0]);
    assert_eq!(select(&members, "unused_coupons = 0", none), vec![1]);
    assert_eq!(
        select(&members, "unused_coupons(template = \"welcome\") = 1", none),
        vec![0]
    );
    assert_eq!(
        select(&members, "unused_coupons(expires_within = 1d) = 1", none),
        vec![0],
        "1d: the last day is today"
    );
    assert_eq!(
        select(&members, "unused_coupons(expires_within = 8d) = 2", none),
        vec![0]
    );
    assert_eq!(
        select(&members, "unused_coupons(expires_within = 7d) = 1", none),
        vec![0]
    );
}

#[test]
fn tiers_compare_by_rank_and_a_member_not_yet_evaluated_holds_the_lowest() {
    let members = [
        holder(Some("gold"), &[], &[]),
        holder(Some("silver"), &[], &[]),
        holder(None, &[], &[]),
        holder(Some("diamond"), &[], &[]),
    ];
    let none = &|_| no_models();
    assert_eq!(select(&members, "tier >= silver", none), vec![0, 1]);
    assert_eq!(select(&members, "tier = member", none), vec![2]);
    assert_eq!(select(&members, "tier in (member, gold)", none), vec![0, 2]);
    assert_eq!(
        select(&members, "not tier >= member", none),
        vec![3],
        "a tier the brand no longer has fails every tier test"
    );
}

#[test]
fn an_invalid_rule_is_refused_when_it_is_compiled() {
    let table = table();
    for (text, message) in [
        (
            "nesl = S9",
            "`S9` is not a nesl label (N, E0, S1, S2, S3, L, prospect)",
        ),
        (
            "gender = robot",
            "`robot` is not a gender (female, male or other)",
        ),
        (
            "segment(\"nobody\")",
            "there is no saved segment named \"nobody\"",
        ),
        (
            "tier >= diamond",
            "`diamond` is not a tier (member, silver, gold)",
        ),
    ] {
        let rule = parse_rule(text).expect("the rule parses");
        let error = Audience::compile(&rule, &table, context(), &["vip"]).expect_err(text);
        assert_eq!(error.to_string(), message, "{text}");
    }
    let rule = parse_rule("tier >= gold").expect("parses");
    assert_eq!(
        Audience::compile(&rule, &AudienceTable::new(), context(), &[])
            .expect_err("a brand without tiers")
            .to_string(),
        "`tier` needs tiers, and the brand has none configured ([tiers])"
    );
}

// The property: arbitrary members and rules, against a word-by-word reading.

const SKUS: [&str; 3] = ["latte", "croissant", "beans-1kg"];
const CATEGORIES: [&str; 2] = ["drinks", "pastry"];
const STORES: [&str; 2] = ["S01", "WEB"];
const REGIONS: [&str; 2] = ["Taipei", "Taichung"];
const TIERS: [&str; 3] = ["member", "silver", "gold"];
const TEMPLATES: [&str; 2] = ["welcome", "birthday"];
const TAGS: [&str; 2] = ["vip", "staff"];

fn dates() -> impl Strategy<Value = Date> {
    (0i64..120).prop_map(|back| {
        AS_OF
            .checked_sub(jiff::Span::new().days(back - 10))
            .expect("a date")
    })
}

fn members() -> impl Strategy<Value = AudienceMember> {
    let orders = prop::collection::vec(
        (
            dates(),
            proptest::option::of(dates()),
            0i64..1000,
            prop::sample::select(STORES.to_vec()),
            prop::collection::vec((0usize..3, 0usize..2, 0i64..500), 0..3),
            prop::collection::vec((dates(), 0i64..300), 0..2),
        )
            .prop_map(
                |(on, cancelled, amount, store, lines, returns)| AudienceOrder {
                    key: 0,
                    day: day(on),
                    cancelled_from: cancelled.map_or(Day(i32::MAX), day),
                    amount,
                    store: Some(store.to_owned()),
                    channel: Some(if store == "WEB" {
                        StoreChannel::Online
                    } else {
                        StoreChannel::Offline
                    }),
                    lines: lines
                        .into_iter()
                        .map(|(s, c, a)| (SKUS[s].to_owned(), Some(CATEGORIES[c].to_owned()), a))
                        .collect(),
                    returns: returns.into_iter().map(|(on, a)| (day(on), a)).collect(),
                },
            ),
        0..5,
    )
    .prop_map(|orders| {
        orders
            .into_iter()
            .enumerate()
            .map(|(at, order)| AudienceOrder {
                key: at as u64,
                ..order
            })
            .collect::<Vec<_>>()
    });
    let events = prop::collection::vec(
        (
            dates(),
            prop::sample::select(EventKind::ALL.to_vec()),
            proptest::option::of(0usize..3),
            proptest::option::of(0usize..2),
        )
            .prop_map(|(on, kind, sku, category)| AudienceEvent {
                day: day(on),
                kind,
                sku: sku.map(|s| SKUS[s].to_owned()),
                category: category.map(|c| CATEGORIES[c].to_owned()),
            }),
        0..4,
    );
    (
        proptest::option::of(prop::sample::select(vec![
            Gender::Female,
            Gender::Male,
            Gender::Other,
        ])),
        proptest::option::of(
            (1950i16..2010, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d)),
        ),
        proptest::option::of(prop::sample::select(REGIONS.to_vec())),
        proptest::option::of(dates()),
        prop::collection::vec(prop::sample::select(ConsentChannel::ALL.to_vec()), 0..3),
        orders,
        events,
        prop::collection::vec(
            (
                dates(),
                prop::sample::select(InteractionChannel::ALL.to_vec()),
            ),
            0..4,
        ),
        prop::collection::vec(prop::sample::select(TAGS.to_vec()), 0..2),
        loyalty(),
    )
        .prop_map(
            |(
                gender,
                birthday,
                region,
                joined,
                consents,
                orders,
                events,
                interactions,
                tags,
                loyalty,
            )| {
                AudienceMember {
                    profile: AudienceProfile {
                        gender,
                        birthday,
                        region: region.map(str::to_owned),
                        joined: joined.map(day),
                        home_store: Some("S01".to_owned()),
                        consents,
                    },
                    orders,
                    events,
                    interactions: interactions
                        .into_iter()
                        .map(|(on, c)| (day(on), c))
                        .collect(),
                    tags: tags.into_iter().map(str::to_owned).collect(),
                    loyalty,
                }
            },
        )
}

/// Days around the evaluated day, where lots and coupons start and end.
fn near() -> impl Strategy<Value = Date> {
    (-10i64..15).prop_map(|ahead| {
        AS_OF
            .checked_add(jiff::Span::new().days(ahead))
            .expect("a date")
    })
}

fn loyalty() -> impl Strategy<Value = AudienceLoyalty> {
    let lots = prop::collection::vec(
        // Lots of whole fifties, so sums meet the rules' values often.
        (near(), proptest::option::of(near()), 0i64..6).prop_map(
            |(available_on, expires_on, fifties)| AudienceLot {
                available_on: day(available_on),
                expires_on: expires_on.map(day),
                remaining: fifties * 50,
            },
        ),
        0..4,
    );
    let coupons = prop::collection::vec(
        (prop::sample::select(TEMPLATES.to_vec()), near(), 0i64..20).prop_map(
            |(template, from, days)| AudienceCoupon {
                template: template.to_owned(),
                valid_from: day(from),
                valid_until: day(from
                    .checked_add(jiff::Span::new().days(days))
                    .expect("a date")),
            },
        ),
        0..3,
    );
    (
        proptest::option::of(prop::sample::select(vec![
            "member", "silver", "gold", "retired",
        ])),
        lots,
        coupons,
    )
        .prop_map(|(tier, lots, coupons)| AudienceLoyalty {
            tier: tier.map(str::to_owned),
            lots,
            coupons,
        })
}

fn windows() -> impl Strategy<Value = Window> {
    prop_oneof![
        Just(Window::Ever),
        (0u32..60).prop_map(Window::Last),
        (dates(), 0i64..40).prop_map(|(from, n)| Window::Between(
            from,
            from.checked_add(jiff::Span::new().days(n)).expect("a date")
        )),
    ]
}

fn filters() -> impl Strategy<Value = FactFilter> {
    (
        windows(),
        proptest::option::of(prop::sample::select(SKUS.to_vec())),
        proptest::option::of(prop::sample::select(CATEGORIES.to_vec())),
        proptest::option::of(prop::sample::select(vec![
            StoreChannel::Online,
            StoreChannel::Offline,
        ])),
        proptest::option::of(prop::sample::select(STORES.to_vec())),
    )
        .prop_map(|(window, sku, category, store_channel, store)| FactFilter {
            window,
            sku: sku.map(str::to_owned),
            category: category.map(str::to_owned),
            store_channel,
            store: store.map(str::to_owned),
            interaction_channel: None,
        })
}

fn ops() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(CompareOp::ALL.to_vec())
}

fn predicates() -> impl Strategy<Value = Predicate> {
    let attribute = |attribute: Attribute, test: BoxedStrategy<AttributeTest>| {
        test.prop_map(move |test| Predicate::Attribute { attribute, test })
    };
    let number = |range: std::ops::Range<i64>| {
        let values = range.prop_map(|v| Value::Number(Number::whole(v)));
        prop_oneof![
            (ops(), values.clone()).prop_map(|(op, v)| AttributeTest::Compare(op, v)),
            prop::collection::vec(values, 1..3).prop_map(AttributeTest::In),
        ]
        .boxed()
    };
    let names = |names: Vec<&'static str>| {
        let values = prop::sample::select(names).prop_map(|n| Value::Text(n.to_owned()));
        prop_oneof![
            (
                prop::sample::select(vec![CompareOp::Eq, CompareOp::Ne]),
                values.clone()
            )
                .prop_map(|(op, v)| AttributeTest::Compare(op, v)),
            prop::collection::vec(values, 1..3).prop_map(AttributeTest::In),
        ]
        .boxed()
    };
    let fifties = || {
        let values = (0i64..10).prop_map(|n| Value::Number(Number::whole(n * 50)));
        prop_oneof![
            (ops(), values.clone()).prop_map(|(op, v)| AttributeTest::Compare(op, v)),
            prop::collection::vec(values, 1..3).prop_map(AttributeTest::In),
        ]
        .boxed()
    };
    let joined = prop_oneof![
        (ops(), dates()).prop_map(|(op, d)| AttributeTest::Compare(op, Value::Date(d))),
        (0u32..60).prop_map(AttributeTest::Within),
    ]
    .boxed();
    prop_oneof![
        attribute(Attribute::Gender, names(vec!["female", "male", "other"])),
        attribute(Attribute::Age, number(15..80)),
        attribute(Attribute::BirthdayMonth, number(1..13)),
        attribute(Attribute::DaysToBirthday, number(0..40)),
        attribute(Attribute::MonthsToBirthday, number(0..3)),
        attribute(
            Attribute::Region,
            names(vec!["Taipei", "Taichung", "Tainan"])
        ),
        attribute(Attribute::HomeStore, names(vec!["S01", "S02"])),
        attribute(Attribute::Joined, joined),
        (
            prop::sample::select(Measure::ALL.to_vec()),
            filters(),
            windows(),
            proptest::option::of(prop::sample::select(InteractionChannel::ALL.to_vec())),
            ops(),
            0i64..8
        )
            .prop_map(
                |(measure, filter, window, channel, op, value)| Predicate::Measure {
                    measure,
                    filter: if measure == Measure::Interactions {
                        FactFilter {
                            window,
                            interaction_channel: channel,
                            ..FactFilter::default()
                        }
                    } else {
                        filter
                    },
                    op,
                    value: Number::whole(
                        if matches!(measure, Measure::Spent | Measure::AverageOrder) {
                            value * 150
                        } else {
                            value
                        }
                    ),
                }
            ),
        filters().prop_map(Predicate::Bought),
        (
            prop::sample::select(EventKind::ALL.to_vec()),
            windows(),
            any::<bool>()
        )
            .prop_map(|(kind, window, no_purchase_since)| Predicate::Event {
                kind,
                filter: FactFilter {
                    window,
                    ..FactFilter::default()
                },
                no_purchase_since,
            }),
        (
            0i64..=100,
            1u32..4,
            proptest::option::of(prop::sample::select(SKUS.to_vec())),
            proptest::option::of(prop::sample::select(CATEGORIES.to_vec())),
        )
            .prop_map(
                |(rate, min_buyers, sku, category)| Predicate::RepurchaseCycle {
                    min_rate: Number::whole(rate),
                    min_buyers,
                    sku: sku.map(str::to_owned),
                    category: category.map(str::to_owned),
                }
            ),
        prop::sample::select(ConsentChannel::ALL.to_vec()).prop_map(Predicate::Consent),
        prop::sample::select(vec!["vip", "staff", "nobody"])
            .prop_map(|t| Predicate::Tag(t.to_owned())),
        attribute(Attribute::Tier, {
            let values =
                prop::sample::select(TIERS.to_vec()).prop_map(|n| Value::Text(n.to_owned()));
            prop_oneof![
                (ops(), values.clone()).prop_map(|(op, v)| AttributeTest::Compare(op, v)),
                prop::collection::vec(values, 1..3).prop_map(AttributeTest::In),
            ]
            .boxed()
        }),
        attribute(Attribute::Points, fifties()),
        attribute(Attribute::PendingPoints, fifties()),
        (0u32..12, ops(), 0i64..8).prop_map(|(within, op, fifties)| Predicate::PointsExpiring {
            within,
            op,
            value: Number::whole(fifties * 50),
        }),
        (
            proptest::option::of(prop::sample::select(vec!["welcome", "birthday", "gone"])),
            proptest::option::of(0u32..12),
            ops(),
            0i64..3
        )
            .prop_map(
                |(template, expires_within, op, value)| Predicate::UnusedCoupons {
                    template: template.map(str::to_owned),
                    expires_within,
                    op,
                    value: Number::whole(value),
                }
            ),
    ]
}

fn conditions() -> impl Strategy<Value = Condition> {
    predicates()
        .prop_map(Condition::Test)
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::All),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::Any),
                inner.prop_map(|c| Condition::Not(Box::new(c))),
            ]
        })
}

/// The rule read word by word over one member's facts.
mod plain {
    use super::*;

    fn within(window: Window, on: Date) -> bool {
        on <= AS_OF
            && match window {
                Window::Ever => true,
                Window::Last(n) => {
                    on > AS_OF
                        .checked_sub(jiff::Span::new().days(i64::from(n)))
                        .expect("a date")
                }
                Window::Between(from, to) => from <= on && on <= to,
            }
    }

    fn valid(order: &AudienceOrder) -> bool {
        order.day <= day(AS_OF) && order.cancelled_from > day(AS_OF)
    }

    fn kept<'a>(
        member: &'a AudienceMember,
        filter: &'a FactFilter,
    ) -> impl Iterator<Item = &'a AudienceOrder> + 'a {
        member.orders.iter().filter(move |o| {
            valid(o)
                && within(filter.window, o.day.to_date())
                && filter
                    .store
                    .as_ref()
                    .is_none_or(|s| o.store.as_ref() == Some(s))
                && filter.store_channel.is_none_or(|c| o.channel == Some(c))
        })
    }

    fn line_kept(filter: &FactFilter, sku: Option<&str>, category: Option<&str>) -> bool {
        filter.sku.as_deref().is_none_or(|s| sku == Some(s))
            && filter
                .category
                .as_deref()
                .is_none_or(|c| category == Some(c))
    }

    fn compare_value(op: CompareOp, left: &Value, right: &Value) -> bool {
        match (left, right) {
            (Value::Number(a), Value::Number(b)) => op.holds(a, b),
            (Value::Date(a), Value::Date(b)) => op.holds(a, b),
            (Value::Text(a), Value::Text(b)) => op.holds(a.as_str(), b.as_str()),
            _ => false,
        }
    }

    fn attribute(member: &AudienceMember, attribute: Attribute, test: &AttributeTest) -> bool {
        let value = match attribute {
            Attribute::Gender => member
                .profile
                .gender
                .map(|g| Value::Text(g.as_str().to_owned())),
            Attribute::Age => member.profile.birthday.map(|b| {
                let mut years = i64::from(AS_OF.year() - b.year());
                if (AS_OF.month(), AS_OF.day()) < (b.month(), b.day()) {
                    years -= 1;
                }
                Value::Number(Number::whole(years))
            }),
            Attribute::DaysToBirthday => member.profile.birthday.map(|b| {
                // Walk forward from the evaluated day to the first day that is the birthday
                // (29 February counting on the 28th in other years).
                let mut day = AS_OF;
                let mut n = 0;
                loop {
                    let feb29 = b.month() == 2 && b.day() == 29 && !day.in_leap_year();
                    let wanted = if feb29 { (2, 28) } else { (b.month(), b.day()) };
                    if (day.month(), day.day()) == wanted {
                        break;
                    }
                    day = day.tomorrow().expect("a date");
                    n += 1;
                }
                Value::Number(Number::whole(n))
            }),
            Attribute::MonthsToBirthday => member.profile.birthday.map(|b| {
                let months = (i64::from(b.month()) - i64::from(AS_OF.month())).rem_euclid(12);
                Value::Number(Number::whole(months))
            }),
            Attribute::BirthdayMonth => member
                .profile
                .birthday
                .map(|b| Value::Number(Number::whole(i64::from(b.month())))),
            Attribute::Region => member.profile.region.clone().map(Value::Text),
            Attribute::HomeStore => member.profile.home_store.clone().map(Value::Text),
            Attribute::Joined => member.profile.joined.map(|d| Value::Date(d.to_date())),
            Attribute::Tier => {
                // Ranks compare as numbers: the test's names are turned into ranks too.
                let rank = |name: &str| TIERS.iter().position(|t| *t == name);
                let Some(mine) = member.loyalty.tier.as_deref().map_or(Some(0), rank) else {
                    return false;
                };
                let rank_of = |v: &Value| match v {
                    Value::Text(name) => rank(name).expect("generated tiers are levels"),
                    _ => unreachable!("tiers are names"),
                };
                return match test {
                    AttributeTest::Compare(op, right) => op.holds(mine, rank_of(right)),
                    AttributeTest::In(values) => values.iter().any(|v| rank_of(v) == mine),
                    AttributeTest::Within(_) => false,
                };
            }
            Attribute::Points | Attribute::PendingPoints => {
                let pending = attribute == Attribute::PendingPoints;
                let points: i64 = member
                    .loyalty
                    .lots
                    .iter()
                    .filter(|lot| {
                        let counts = lot.expires_on.is_none_or(|end| day(AS_OF) < end);
                        let available = lot.available_on <= day(AS_OF);
                        counts && available != pending
                    })
                    .map(|lot| lot.remaining)
                    .sum();
                Some(Value::Number(Number::whole(points)))
            }
            other => unreachable!("not generated: {other:?}"),
        };
        let Some(value) = value else { return false };
        match test {
            AttributeTest::Compare(op, right) => compare_value(*op, &value, right),
            AttributeTest::In(values) => values.contains(&value),
            AttributeTest::Within(n) => match value {
                Value::Date(d) => within(Window::Last(*n), d),
                _ => false,
            },
        }
    }

    /// In hundredths.
    fn measure(member: &AudienceMember, measure: Measure, filter: &FactFilter) -> Option<i64> {
        if measure == Measure::Interactions {
            let n = member
                .interactions
                .iter()
                .filter(|(on, channel)| {
                    within(filter.window, on.to_date())
                        && filter.interaction_channel.is_none_or(|c| c == *channel)
                })
                .count();
            return Some(n as i64 * 100);
        }
        let items = filter.sku.is_some() || filter.category.is_some();
        let mut orders = 0;
        let mut days = std::collections::BTreeSet::new();
        let mut spent = 0;
        for order in kept(member, filter) {
            let amount = if items {
                let matching: Vec<i64> = order
                    .lines
                    .iter()
                    .filter(|(sku, category, _)| line_kept(filter, Some(sku), category.as_deref()))
                    .map(|(_, _, a)| *a)
                    .collect();
                if matching.is_empty() {
                    continue;
                }
                matching.iter().sum()
            } else {
                let returned: i64 = order
                    .returns
                    .iter()
                    .filter(|(on, _)| *on <= day(AS_OF))
                    .map(|(_, a)| a)
                    .sum();
                (order.amount - returned).max(0)
            };
            orders += 1;
            days.insert(order.day);
            spent += amount;
        }
        match measure {
            Measure::Orders => Some(orders * 100),
            Measure::PurchaseDays => Some(days.len() as i64 * 100),
            Measure::Spent => Some(spent * 100),
            Measure::AverageOrder => (orders > 0).then(|| spent * 100 / orders),
            Measure::Interactions => unreachable!(),
        }
    }

    /// Each sku's buyers, repeaters and cycle over everyone's valid orders of the last 730 days.
    pub(super) type Items = std::collections::BTreeMap<String, (u32, u32, i64)>;

    pub(super) fn items(members: &[AudienceMember]) -> Items {
        let first = AS_OF
            .checked_sub(jiff::Span::new().days(729))
            .expect("a date");
        let mut days: std::collections::BTreeMap<String, Vec<Vec<Date>>> = Default::default();
        for member in members {
            let mut mine: std::collections::BTreeMap<&str, std::collections::BTreeSet<Date>> =
                Default::default();
            for order in member
                .orders
                .iter()
                .filter(|o| valid(o) && o.day.to_date() >= first)
            {
                for (sku, _, _) in &order.lines {
                    mine.entry(sku).or_default().insert(order.day.to_date());
                }
            }
            for (sku, on) in mine {
                days.entry(sku.to_owned())
                    .or_default()
                    .push(on.into_iter().collect());
            }
        }
        days.into_iter()
            .map(|(sku, buyers)| {
                let mut gaps: Vec<i64> = buyers
                    .iter()
                    .flat_map(|on| on.windows(2).map(|w| (w[1] - w[0]).get_days().into()))
                    .collect();
                gaps.sort_unstable();
                let cycle = if gaps.is_empty() {
                    0
                } else if gaps.len() % 2 == 1 {
                    gaps[gaps.len() / 2].max(1)
                } else {
                    let sum = gaps[gaps.len() / 2 - 1] + gaps[gaps.len() / 2];
                    ((sum + 1) / 2).max(1)
                };
                let repeaters = buyers.iter().filter(|on| on.len() >= 2).count() as u32;
                (sku, (buyers.len() as u32, repeaters, cycle))
            })
            .collect()
    }

    pub(super) fn holds(member: &AudienceMember, condition: &Condition, items: &Items) -> bool {
        match condition {
            Condition::All(parts) => parts.iter().all(|p| holds(member, p, items)),
            Condition::Any(parts) => parts.iter().any(|p| holds(member, p, items)),
            Condition::Not(inner) => !holds(member, inner, items),
            Condition::Test(predicate) => match predicate {
                Predicate::Attribute { attribute: a, test } => attribute(member, *a, test),
                Predicate::Measure {
                    measure: m,
                    filter,
                    op,
                    value,
                } => measure(member, *m, filter).is_some_and(|v| op.holds(v, value.hundredths())),
                Predicate::Bought(filter) => kept(member, filter).any(|o| {
                    (filter.sku.is_none() && filter.category.is_none())
                        || o.lines.iter().any(|(sku, category, _)| {
                            line_kept(filter, Some(sku), category.as_deref())
                        })
                }),
                Predicate::Event {
                    kind,
                    filter,
                    no_purchase_since,
                } => {
                    let last = member
                        .orders
                        .iter()
                        .filter(|o| valid(o))
                        .map(|o| o.day)
                        .max();
                    member.events.iter().any(|e| {
                        e.kind == *kind
                            && within(filter.window, e.day.to_date())
                            && line_kept(filter, e.sku.as_deref(), e.category.as_deref())
                            && (!no_purchase_since || last.is_none_or(|l| l < e.day))
                    })
                }
                Predicate::RepurchaseCycle {
                    min_rate,
                    min_buyers,
                    sku,
                    category,
                } => member.orders.iter().filter(|o| valid(o)).any(|order| {
                    let since = (AS_OF - order.day.to_date()).get_days();
                    order.lines.iter().any(|(line_sku, line_category, _)| {
                        let wanted = sku.as_deref().is_none_or(|s| s == line_sku)
                            && category
                                .as_deref()
                                .is_none_or(|c| line_category.as_deref() == Some(c));
                        let Some(&(buyers, repeaters, cycle)) = items.get(line_sku) else {
                            return false;
                        };
                        wanted
                            && buyers >= *min_buyers
                            && repeaters > 0
                            && i64::from(repeaters) * 10_000
                                >= min_rate.hundredths() * i64::from(buyers)
                            && i64::from(since) <= cycle
                    })
                }),
                Predicate::Consent(channel) => member.profile.consents.contains(channel),
                Predicate::Tag(tag) => member.tags.contains(tag),
                Predicate::Segment(_) => unreachable!("not generated"),
                Predicate::PointsExpiring { within, op, value } => {
                    let until = AS_OF
                        .checked_add(jiff::Span::new().days(i64::from(*within)))
                        .expect("a date");
                    let points: i64 = member
                        .loyalty
                        .lots
                        .iter()
                        .filter(|lot| {
                            lot.available_on <= day(AS_OF)
                                && lot
                                    .expires_on
                                    .is_some_and(|end| day(AS_OF) < end && end <= day(until))
                        })
                        .map(|lot| lot.remaining)
                        .sum();
                    op.holds(points * 100, value.hundredths())
                }
                Predicate::UnusedCoupons {
                    template,
                    expires_within,
                    op,
                    value,
                } => {
                    let count = member
                        .loyalty
                        .coupons
                        .iter()
                        .filter(|c| {
                            // Usable today, and (when asked) no longer usable N days from now.
                            let usable = |on: Day| c.valid_from <= on && on <= c.valid_until;
                            usable(day(AS_OF))
                                && template.as_ref().is_none_or(|t| *t == c.template)
                                && expires_within.is_none_or(|n| {
                                    !usable(Day(day(AS_OF).0 + i32::try_from(n).expect("small")))
                                })
                        })
                        .count() as i64;
                    op.holds(count * 100, value.hundredths())
                }
            },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn compiled_rules_agree_with_a_plain_reading_of_the_facts(
        members in prop::collection::vec(members(), 1..12),
        include in conditions(),
        exclude in proptest::option::of(conditions()),
    ) {
        let mut table = table();
        for member in &members {
            table.push(member);
        }
        let rule = AudienceRule { include, exclude };
        let audience = Audience::compile(&rule, &table, context(), &[]).expect("generated rules compile");
        let items = plain::items(&members);
        let expected: Vec<u32> = members
            .iter()
            .enumerate()
            .filter(|(_, m)| plain::holds(m, &rule.include, &items) && !rule.exclude.as_ref().is_some_and(|e| plain::holds(m, e, &items)))
            .map(|(i, _)| i as u32)
            .collect();
        prop_assert_eq!(audience.select(&table, Lookups::none(), 2), expected, "{}", rule);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn repurchase_cycles_agree_with_a_plain_reading_of_everyones_facts(
        members in prop::collection::vec(members(), 1..30),
        rate in 0i64..=100,
        min_buyers in 1u32..6,
        sku in proptest::option::of(prop::sample::select(SKUS.to_vec())),
    ) {
        let mut table = table();
        for member in &members {
            table.push(member);
        }
        let predicate = Predicate::RepurchaseCycle {
            min_rate: Number::whole(rate),
            min_buyers,
            sku: sku.map(str::to_owned),
            category: None,
        };
        let rule = AudienceRule { include: Condition::Test(predicate), exclude: None };
        let audience = Audience::compile(&rule, &table, context(), &[]).expect("compiles");
        let items = plain::items(&members);
        let expected: Vec<u32> = members
            .iter()
            .enumerate()
            .filter(|(_, m)| plain::holds(m, &rule.include, &items))
            .map(|(i, _)| i as u32)
            .collect();
        prop_assert_eq!(audience.select(&table, Lookups::none(), 2), expected, "{}", rule);
    }
}

// Kept live: a table changed fact by fact agrees with one built from the final facts.

/// `member` split into what was known when the table was built (its first `known` orders,
/// events and interactions) and the changes that bring the rest, one fact at a time: orders
/// arrive bare, then their lines, returns and cancellation.
fn split(member: &AudienceMember, known: usize) -> (AudienceMember, Vec<AudienceChange>) {
    // Orders known when the table was built get their returns and cancellation later, and
    // every other one its lines, so changes reach rows in the shared columns too.
    let held_back = |order: &AudienceOrder| order.key % 2 == 1 && !order.lines.is_empty();
    let before = AudienceMember {
        profile: AudienceProfile::default(),
        orders: member
            .orders
            .iter()
            .take(known)
            .map(|order| AudienceOrder {
                cancelled_from: Day(i32::MAX),
                lines: if held_back(order) {
                    Vec::new()
                } else {
                    order.lines.clone()
                },
                returns: Vec::new(),
                ..order.clone()
            })
            .collect(),
        events: member.events.iter().take(known).cloned().collect(),
        interactions: member.interactions.iter().take(known).copied().collect(),
        tags: Vec::new(),
        loyalty: AudienceLoyalty::default(),
    };
    let mut changes = vec![AudienceChange::Profile(member.profile.clone())];
    for (at, order) in member.orders.iter().enumerate() {
        let known = at < known;
        if !known {
            changes.push(AudienceChange::Order(AudienceOrder {
                cancelled_from: Day(i32::MAX),
                lines: Vec::new(),
                returns: Vec::new(),
                ..order.clone()
            }));
        }
        if !order.lines.is_empty() && (!known || held_back(order)) {
            changes.push(AudienceChange::Lines {
                order: order.key,
                lines: order.lines.clone(),
            });
        }
        changes.extend(
            order
                .returns
                .iter()
                .map(|(day, amount)| AudienceChange::Return {
                    order: order.key,
                    day: *day,
                    amount: *amount,
                }),
        );
        if order.cancelled_from != Day(i32::MAX) {
            changes.push(AudienceChange::Cancel {
                order: order.key,
                from: order.cancelled_from,
            });
        }
    }
    changes.extend(
        member
            .events
            .iter()
            .skip(known)
            .cloned()
            .map(AudienceChange::Event),
    );
    changes.extend(
        member
            .interactions
            .iter()
            .skip(known)
            .map(|(day, channel)| AudienceChange::Interaction(*day, *channel)),
    );
    changes.push(AudienceChange::Tags(member.tags.clone()));
    changes.push(AudienceChange::Loyalty(member.loyalty.clone()));
    (before, changes)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn a_table_kept_live_fact_by_fact_agrees_with_one_built_from_the_final_facts(
        members in prop::collection::vec((members(), 0usize..4), 1..12),
        newcomers in prop::collection::vec(members(), 0..3),
        compact_after in 0usize..40,
        include in conditions(),
        exclude in proptest::option::of(conditions()),
    ) {
        let mut built = table();
        let mut live = table();
        let mut pending = Vec::new();
        for (member, known) in &members {
            built.push(member);
            let (before, changes) = split(member, *known);
            live.push(&before);
            pending.push(changes);
        }
        for member in &newcomers {
            built.push(member);
            let m = live.add_member();
            pending.push(split(member, 0).1);
            prop_assert_eq!(m, pending.len() - 1);
        }
        // Members' changes interleave, as ingest brings them; the columns are rebuilt midway.
        let mut applied = 0;
        let longest = pending.iter().map(Vec::len).max().unwrap_or(0);
        for step in 0..longest {
            for (m, changes) in pending.iter().enumerate() {
                if let Some(change) = changes.get(step) {
                    live.apply(m, change).expect("the change applies");
                    applied += 1;
                    if applied == compact_after {
                        live.compact();
                    }
                }
            }
        }
        for m in 0..built.len() {
            prop_assert_eq!(live.canonical(m), built.canonical(m), "member {}", m);
        }
        let rule = AudienceRule { include, exclude };
        let on_built = Audience::compile(&rule, &built, context(), &[]).expect("compiles");
        let on_live = Audience::compile(&rule, &live, context(), &[]).expect("compiles");
        prop_assert_eq!(
            on_live.select(&live, Lookups::none(), 2),
            on_built.select(&built, Lookups::none(), 2),
            "{}", rule
        );
    }
}

#[test]
fn a_change_naming_an_unknown_member_or_order_is_refused() {
    let mut table = table();
    let m = table.add_member();
    let cancel = AudienceChange::Cancel {
        order: order_key("O-1"),
        from: day(AS_OF),
    };
    assert_eq!(table.apply(m + 1, &cancel), Err(ChangeError::UnknownMember));
    assert_eq!(table.apply(m, &cancel), Err(ChangeError::UnknownOrder));
}

#[test]
fn a_rule_kept_live_matches_names_first_seen_after_it_was_compiled() {
    let mut table = table();
    let m = table.add_member();
    let rule = parse_rule(r#"bought(category = "matcha") and tag("vip")"#).expect("parses");
    table.learn_names(&rule);
    let audience = Audience::compile(&rule, &table, context(), &[]).expect("compiles");
    assert!(!audience.matches(&table, m, Lookups::none()));
    let mut matcha = order(date(2026, 3, 30), 180, &[("matcha-latte", "matcha", 180)]);
    matcha.key = order_key("O-9");
    table
        .apply(m, &AudienceChange::Order(matcha))
        .expect("applies");
    table
        .apply(m, &AudienceChange::Tags(vec!["vip".to_owned()]))
        .expect("applies");
    assert!(audience.matches(&table, m, Lookups::none()));
}

#[test]
fn a_segment_test_asks_whether_the_member_is_in_that_saved_segment() {
    let members = vec![AudienceMember::default(); 4];
    let mut table = table();
    for member in &members {
        table.push(member);
    }
    let rule = parse_rule(r#"segment("lapsed") and not segment("staff")"#).expect("parses");
    let audience =
        Audience::compile(&rule, &table, context(), &["staff", "lapsed"]).expect("compiles");
    // staff: 1 and 3; lapsed: 0, 1 and 2
    let membership = |m: usize, k: usize| match k {
        0 => m % 2 == 1,
        _ => m < 3,
    };
    let lookups = Lookups {
        models: &|_| no_models(),
        segment: &membership,
    };
    assert_eq!(audience.select(&table, lookups, 2), vec![0, 2]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn a_change_that_reaches_nothing_a_rule_reads_never_changes_its_answer(
        member in members(),
        later in members(),
        include in conditions(),
        exclude in proptest::option::of(conditions()),
    ) {
        let rule = AudienceRule { include, exclude };
        // Every kind of change `later` can bring to `member`.
        let (_, changes) = split(&later, 0);
        for change in changes {
            let mut table = table();
            table.push(&member);
            table.learn_names(&rule);
            let audience = Audience::compile(&rule, &table, context(), &[]).expect("compiles");
            let before = audience.matches(&table, 0, Lookups::none());
            // Orders of `later` are new to `member`; their follow-ups name them.
            if let AudienceChange::Order(order) = &change {
                table.apply(0, &AudienceChange::Order(order.clone())).expect("applies");
            } else if matches!(change, AudienceChange::Lines { .. } | AudienceChange::Cancel { .. } | AudienceChange::Return { .. }) {
                continue;
            } else {
                table.apply(0, &change).expect("applies");
            }
            let after = audience.matches(&table, 0, Lookups::none());
            if !audience.reads().meets(change.reaches()) {
                prop_assert_eq!(before, after, "{} after {:?}", rule, change);
            }
        }
    }
}
