//! Properties over generated facts: results do not depend on the order members or facts arrive
//! in, every buyer has exactly one in-range cell, and prospects have none.

use proptest::prelude::*;
use regulars_engine::{Day, OrderFact, RfmSegment};

use crate::{Member, run};

fn member() -> impl Strategy<Value = Member> {
    (
        proptest::collection::vec(
            (0..1_000i32, 0..5_000i64, proptest::option::of(0..1_000i32)),
            0..8,
        ),
        proptest::collection::vec(900..1_000i32, 0..5),
    )
        .prop_map(|(orders, interactions)| Member {
            orders: orders
                .into_iter()
                .map(|(day, amount, cancel)| {
                    let cancelled_from = cancel.map_or(Day(i32::MAX), |c| Day(day + c));
                    (
                        OrderFact {
                            day: Day(day),
                            cancelled_from,
                            amount,
                        },
                        vec![],
                    )
                })
                .collect(),
            interactions: interactions.into_iter().map(Day).collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn results_do_not_depend_on_member_or_fact_order(members in proptest::collection::vec(member(), 0..30), seed in any::<u64>()) {
        let first = run(&members, 1_000);
        // Reverse the members and rotate each member's facts.
        let mut shuffled: Vec<Member> = members.iter().rev().cloned().collect();
        for (idx, m) in shuffled.iter_mut().enumerate() {
            if !m.orders.is_empty() {
                let by = (seed as usize + idx) % m.orders.len();
                m.orders.rotate_left(by);
            }
            m.interactions.reverse();
        }
        let second = run(&shuffled, 1_000);
        let mut expected = first.members.clone();
        expected.reverse();
        prop_assert_eq!(&second.members, &expected);
        prop_assert_eq!(second.cuts.store_cycle, first.cuts.store_cycle);
    }

    #[test]
    fn every_buyer_has_one_cell_in_range_and_prospects_none(members in proptest::collection::vec(member(), 0..30)) {
        let evaluation = run(&members, 1_000);
        for m in &evaluation.members {
            match (m.features.recency, m.rfm) {
                (Some(_), Some(scores)) => {
                    for score in [scores.r, scores.f, scores.m] {
                        prop_assert!((1..=5).contains(&score));
                    }
                    prop_assert_ne!(m.rfm_segment, RfmSegment::Prospect);
                    prop_assert!(m.rfm8.is_some() && m.cycle.is_some() && m.rfim_band.is_some());
                }
                (None, None) => {
                    prop_assert_eq!(m.rfm_segment, RfmSegment::Prospect);
                    prop_assert!(m.rfm8.is_none());
                }
                other => prop_assert!(false, "inconsistent member: {:?}", other),
            }
        }
    }
}

#[test]
fn the_result_does_not_depend_on_the_number_of_threads() {
    use regulars_engine::{EngineConfig, evaluate_on};
    // 120,000 members from a small deterministic generator: enough for three chunks.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    let members: Vec<Member> = (0..120_000)
        .map(|_| {
            let orders = (0..next(6))
                .map(|_| {
                    let day = 1_000 - next(900) as i32;
                    (OrderFact::paid(Day(day), next(5_000) as i64), vec![])
                })
                .collect();
            let interactions = (0..next(3))
                .map(|_| Day(1_000 - next(120) as i32))
                .collect();
            Member {
                orders,
                interactions,
            }
        })
        .collect();
    let table = crate::table(&members);
    let config = EngineConfig::default();
    let one = evaluate_on(&table, &regulars_engine::IndexOrder, &config, Day(1_000), 1);
    for threads in [2, 3] {
        assert_eq!(
            evaluate_on(
                &table,
                &regulars_engine::IndexOrder,
                &config,
                Day(1_000),
                threads
            ),
            one,
            "{threads} threads"
        );
    }
    assert!(one.cuts.population.rfm > 50_000);
}
