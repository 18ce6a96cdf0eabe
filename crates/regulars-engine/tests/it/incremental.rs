//! Incremental equals batch: random facts applied one at a time, in random order, with days
//! passing in between, leave every member exactly where a full evaluation of the same facts puts
//! them, for every model; and the day boundary misses no member whose segment time changes.

use proptest::prelude::*;
use regulars_engine::{
    Day, Engine, EngineConfig, Evaluation, Fact, FactTableBuilder, FrequencyUnit, IndexOrder,
    MemberIds, Model, OrderFact, StoreAggregation, Transition, ValueBins, evaluate,
};

use crate::{Member, table};

/// One order: day, amount, cancelled after some days, returned (after some days, an amount).
type GeneratedOrder = (i32, i64, Option<i32>, Option<(i32, i64)>);

/// A fact for the member at an index.
type MemberFact = (u32, Fact);

#[derive(Debug, Clone)]
struct Brand {
    members: Vec<(Vec<GeneratedOrder>, Vec<i32>)>,
}

/// The defaults, or a mix of the options that change what a member's facts mean (fixed, value or
/// rank bins for R, F and M, frequency counted in orders, the store cycle by order count, other
/// aggregations).
fn config() -> impl Strategy<Value = EngineConfig> {
    prop_oneof![
        2 => Just(EngineConfig::default()),
        2 => (0..3usize, 0..3usize, 0..3usize, 0..3usize).prop_map(|(r, f, m, aggregation)| {
            EngineConfig {
                r_bins: [ValueBins::QuintileValue, ValueBins::QuintileRank, ValueBins::Fixed([5, 20, 40, 90])][r],
                f_bins: [ValueBins::Fixed([2, 3, 5, 8]), ValueBins::QuintileValue, ValueBins::QuintileRank][f],
                m_bins: [ValueBins::QuintileValue, ValueBins::QuintileRank, ValueBins::Fixed([1, 2_000, 4_000, 8_000])][m],
                frequency_unit: FrequencyUnit::Order,
                store_aggregation: [
                    StoreAggregation::ByOrderCount,
                    StoreAggregation::PooledMean,
                    StoreAggregation::MedianOfMedians,
                ][aggregation],
                ..EngineConfig::default()
            }
        }),
    ]
}

fn brand() -> impl Strategy<Value = Brand> {
    let order = (
        0..420i32,
        1..5_000i64,
        proptest::option::weighted(0.15, 0..30i32),
        proptest::option::weighted(0.15, (0..20i32, 1..3_000i64)),
    );
    let member = (
        proptest::collection::vec(order, 0..7),
        proptest::collection::vec(300..430i32, 0..4),
    );
    proptest::collection::vec(member, 1..25).prop_map(|members| Brand { members })
}

impl Brand {
    /// The same facts as the batch table's members.
    fn members(&self) -> Vec<Member> {
        self.members
            .iter()
            .map(|(orders, interactions)| Member {
                orders: orders
                    .iter()
                    .map(|&(day, amount, cancel, refund)| {
                        (
                            OrderFact {
                                day: Day(day),
                                cancelled_from: cancel.map_or(Day(i32::MAX), |c| Day(day + c)),
                                amount,
                            },
                            refund
                                .map(|(after, r)| (Day(day + after), r))
                                .into_iter()
                                .collect(),
                        )
                    })
                    .collect(),
                interactions: interactions.iter().map(|d| Day(*d)).collect(),
            })
            .collect()
    }

    /// Every fact as the engine takes it: orders and interactions first, then the cancellations
    /// and returns that need their order.
    fn facts(&self) -> (Vec<MemberFact>, Vec<MemberFact>) {
        let mut first = Vec::new();
        let mut then = Vec::new();
        for (idx, (orders, interactions)) in self.members.iter().enumerate() {
            let member = idx as u32;
            for &(day, amount, cancel, refund) in orders {
                first.push((member, Fact::Order(OrderFact::paid(Day(day), amount))));
                if let Some(after) = cancel {
                    then.push((
                        member,
                        Fact::Cancel {
                            day: Day(day),
                            amount,
                            from: Day(day + after),
                        },
                    ));
                }
                if let Some((after, refunded)) = refund {
                    then.push((
                        member,
                        Fact::Return {
                            order_day: Day(day),
                            order_amount: amount,
                            day: Day(day + after),
                            amount: refunded,
                        },
                    ));
                }
            }
            for day in interactions {
                first.push((member, Fact::Interaction(Day(*day))));
            }
        }
        (first, then)
    }
}

/// Ids for `n` members that sort in an order of their own, not their indexes, so that the ties of
/// rank bins are broken by id and not by accident of position.
fn shuffled_ids(n: usize, seed: u64) -> Vec<String> {
    let mut ids: Vec<String> = (0..n).map(|k| format!("M{k:03}")).collect();
    shuffle(&mut ids, seed ^ 0x9e37_79b9_7f4a_7c15);
    ids
}

/// A deterministic shuffle driven by `seed`.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        items.swap(i, (seed >> 33) as usize % (i + 1));
    }
}

/// Every member placed by the engine equals the batch features placed against the engine's
/// current cut points.
fn assert_features_match(
    engine: &Engine,
    ids: &dyn MemberIds,
    batch: &Evaluation,
) -> Result<(), TestCaseError> {
    for (idx, expected) in batch.members.iter().enumerate() {
        let live = engine.segments(idx as u32, ids).unwrap();
        prop_assert_eq!(
            live.features,
            expected.features,
            "member {} on day {}",
            idx,
            engine.today().0
        );
        prop_assert_eq!(
            live,
            engine
                .cuts()
                .label(expected.features, idx as u32, ids, engine.config())
        );
        prop_assert_eq!(
            engine.codes(idx as u32).unwrap(),
            live.codes(),
            "stored codes of member {}",
            idx
        );
    }
    Ok(())
}

/// The transitions chain from prospect to each member's codes now.
fn assert_transitions_chain(
    engine: &Engine,
    transitions: &[Transition],
) -> Result<(), TestCaseError> {
    let mut codes: Vec<[u8; 5]> =
        vec![regulars_engine::MemberSegments::default().codes(); engine.len()];
    for t in transitions {
        let at = t.model.index();
        prop_assert_eq!(codes[t.member as usize][at], t.from, "{:?}", t);
        prop_assert_ne!(t.from, t.to);
        codes[t.member as usize][at] = t.to;
    }
    for (idx, expected) in codes.iter().enumerate() {
        prop_assert_eq!(engine.codes(idx as u32).unwrap(), *expected);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn facts_applied_one_by_one_in_any_order_equal_a_full_evaluation(brand in brand(), config in config(), seed in any::<u64>(), start in 380..400i32) {
        let ids = shuffled_ids(brand.members.len(), seed);
        let ids: &dyn MemberIds = &ids;
        let mut engine = Engine::new(FactTableBuilder::new().finish(), ids, config.clone(), Day(start), 1);
        let mut transitions = Vec::new();
        for _ in &brand.members {
            engine.add_member();
        }
        let (mut first, mut then) = brand.facts();
        shuffle(&mut first, seed);
        shuffle(&mut then, seed.rotate_left(17));
        // Days pass while facts arrive.
        let end = start + 20;
        let total = (first.len() + then.len()).max(1) as i32;
        for (n, (member, fact)) in first.into_iter().chain(then).enumerate() {
            engine.advance_to(Day(start + (n as i32 * 20) / total), ids, &mut transitions);
            engine.apply(member, fact, ids, &mut transitions).unwrap();
        }
        engine.advance_to(Day(end), ids, &mut transitions);
        let facts = table(&brand.members());
        let batch = evaluate(&facts, ids, &config, Day(end));
        assert_features_match(&engine, ids, &batch)?;
        assert_transitions_chain(&engine, &transitions)?;

        engine.recompute(ids, &mut transitions);
        prop_assert_eq!(engine.cuts(), &batch.cuts);
        for (idx, expected) in batch.members.iter().enumerate() {
            prop_assert_eq!(&engine.segments(idx as u32, ids).unwrap(), expected, "member {}", idx);
        }
        for model in Model::ALL {
            let mut counts = vec![0u64; model.segments().len()];
            for m in &batch.members {
                counts[m.code(model) as usize] += 1;
            }
            prop_assert_eq!(engine.counts(model), &counts[..], "{:?}", model);
        }
        assert_transitions_chain(&engine, &transitions)?;
    }

    #[test]
    fn each_day_boundary_moves_exactly_the_members_time_moves(brand in brand(), config in config(), seed in any::<u64>(), start in 370..400i32) {
        let facts = table(&brand.members());
        let ids = shuffled_ids(brand.members.len(), seed);
        let ids: &dyn MemberIds = &ids;
        let mut engine = Engine::new(facts.clone(), ids, config.clone(), Day(start), 1);
        let mut transitions = Vec::new();
        for day in start + 1..start + 60 {
            engine.advance_to(Day(day), ids, &mut transitions);
            assert_features_match(&engine, ids, &evaluate(&facts, ids, &config, Day(day)))?;
        }
        assert_transitions_chain_from(&engine, &evaluate(&facts, ids, &config, Day(start)), &transitions)?;
    }
}

/// Like [`assert_transitions_chain`], from the codes of a first evaluation.
fn assert_transitions_chain_from(
    engine: &Engine,
    first: &Evaluation,
    transitions: &[Transition],
) -> Result<(), TestCaseError> {
    let mut codes: Vec<[u8; 5]> = first
        .members
        .iter()
        .map(regulars_engine::MemberSegments::codes)
        .collect();
    for t in transitions {
        let at = t.model.index();
        prop_assert_eq!(codes[t.member as usize][at], t.from);
        codes[t.member as usize][at] = t.to;
    }
    for (idx, expected) in codes.iter().enumerate() {
        prop_assert_eq!(engine.codes(idx as u32).unwrap(), *expected);
    }
    Ok(())
}

#[test]
fn a_cancellation_of_an_unknown_order_is_refused_and_changes_nothing() {
    let config = EngineConfig::default();
    let mut engine = Engine::new(
        FactTableBuilder::new().finish(),
        &IndexOrder,
        config,
        Day(100),
        1,
    );
    let member = engine.add_member();
    let mut out = Vec::new();
    engine
        .apply(
            member,
            Fact::Order(OrderFact::paid(Day(90), 500)),
            &IndexOrder,
            &mut out,
        )
        .unwrap();
    let before = engine.segments(member, &IndexOrder);
    let refused = engine.apply(
        member,
        Fact::Cancel {
            day: Day(91),
            amount: 500,
            from: Day(95),
        },
        &IndexOrder,
        &mut out,
    );
    assert_eq!(refused, Err(regulars_engine::FactError::UnknownOrder));
    assert_eq!(engine.segments(member, &IndexOrder), before);
    assert_eq!(
        engine.apply(7, Fact::Interaction(Day(99)), &IndexOrder, &mut out),
        Err(regulars_engine::FactError::UnknownMember)
    );
}

#[test]
fn a_first_order_makes_a_prospect_new_and_records_it() {
    let config = EngineConfig::default();
    let mut engine = Engine::new(
        FactTableBuilder::new().finish(),
        &IndexOrder,
        config,
        Day(100),
        1,
    );
    let member = engine.add_member();
    let mut out = Vec::new();
    engine
        .apply(
            member,
            Fact::Order(OrderFact::paid(Day(100), 500)),
            &IndexOrder,
            &mut out,
        )
        .unwrap();
    let nesl: Vec<_> = out.iter().filter(|t| t.model == Model::Nesl).collect();
    assert_eq!(nesl.len(), 1);
    let names = Model::Nesl.segments();
    assert_eq!(names[nesl[0].from as usize].0, "prospect");
    assert_eq!(names[nesl[0].to as usize].0, "N");
    assert_eq!(nesl[0].on, Day(100));
    assert_eq!(engine.counts(Model::Nesl)[nesl[0].to as usize], 1);
}
