//! Evaluating as of a past day: later facts are ignored everywhere, cancellations count from
//! the day they happened, returns from the day they completed.

use regulars_engine::{Day, OrderFact};

use crate::{Member, run};

#[test]
fn an_order_cancelled_later_still_counts_before_its_cancellation() {
    let order = OrderFact {
        day: Day(990),
        cancelled_from: Day(995),
        amount: 300,
    };
    let member = Member {
        orders: vec![(order, vec![])],
        interactions: vec![],
    };
    let before = run(std::slice::from_ref(&member), 994);
    assert_eq!(
        (
            before.members[0].features.purchase_days,
            before.members[0].features.monetary
        ),
        (1, 300)
    );
    let after = run(&[member], 1000);
    assert_eq!(after.members[0].features.purchase_days, 0);
    assert_eq!(after.members[0].nesl.as_str(), "prospect");
}

#[test]
fn a_return_lowers_spend_from_the_day_it_completed() {
    let member = Member {
        orders: vec![(OrderFact::paid(Day(990), 300), vec![(Day(997), 100)])],
        interactions: vec![],
    };
    assert_eq!(
        run(std::slice::from_ref(&member), 996).members[0]
            .features
            .monetary,
        300
    );
    assert_eq!(
        run(std::slice::from_ref(&member), 1000).members[0]
            .features
            .monetary,
        200
    );
    // A refund larger than the amount kept (shipping refunded) never makes spend negative.
    let member = Member {
        orders: vec![(OrderFact::paid(Day(990), 300), vec![(Day(991), 380)])],
        interactions: vec![],
    };
    assert_eq!(run(&[member], 1000).members[0].features.monetary, 0);
}

#[test]
fn facts_after_as_of_change_nothing() {
    let before = vec![
        Member::buying(&[(900, 100), (950, 100)]),
        Member::buying(&[(980, 70)]),
    ];
    let mut with_future = before.clone();
    with_future[0]
        .orders
        .push((OrderFact::paid(Day(1001), 999), vec![]));
    with_future[1].interactions.push(Day(1003));
    assert_eq!(run(&before, 1000), run(&with_future, 1000));
}

#[test]
fn several_orders_on_one_day_are_one_purchase_day_and_a_zero_amount_order_counts() {
    let member = Member::buying(&[(990, 100), (990, 50), (995, 0)]);
    let evaluation = run(&[member], 1000);
    let features = evaluation.members[0].features;
    assert_eq!(
        (
            features.purchase_days,
            features.frequency,
            features.monetary,
            features.recency
        ),
        (2, 2, 150, Some(5))
    );
}
