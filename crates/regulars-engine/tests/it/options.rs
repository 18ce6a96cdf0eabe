//! The options that change what a member's facts mean, each on a brand small enough to check by
//! hand: fixed R and M breakpoints, rank bins, frequency counted in orders, and the store cycle by
//! purchase count.

use regulars_engine::{
    Day, EngineConfig, FrequencyUnit, Model, Rfim, StoreAggregation, ValueBins, evaluate, explain,
};

use crate::{Member, table};

/// as_of = day 1000: A bought on 1000, B on 950, C on 700 and D on 100 (outside the window).
fn brand() -> Vec<Member> {
    vec![
        Member::buying(&[(1000, 300)]),
        Member::buying(&[(950, 400)]),
        Member::buying(&[(700, 500)]),
        Member::buying(&[(100, 50)]),
    ]
}

#[test]
fn fixed_breakpoints_score_by_the_merchants_days_and_spend() {
    let config = EngineConfig {
        r_bins: ValueBins::Fixed([30, 90, 180, 365]),
        m_bins: ValueBins::Fixed([200, 400, 450, 1_000]),
        ..EngineConfig::default()
    };
    let evaluation = evaluate(
        &table(&brand()),
        &regulars_engine::IndexOrder,
        &config,
        Day(1000),
    );
    let cells: Vec<Option<u16>> = evaluation
        .members
        .iter()
        .map(|m| m.rfm.map(|s| s.cell()))
        .collect();
    // A: 0 days ≤ 30 → R5, 300 ≥ 200 → M2. B: 50 days ≤ 90 → R4, 400 ≥ 400 → M3 (at least).
    // C: 300 days ≤ 365 → R2, 500 ≥ 450 → M4. D: nothing in the window → 111.
    assert_eq!(cells, [Some(512), Some(413), Some(214), Some(111)]);
    assert_eq!(
        evaluation.cuts.monetary_breaks,
        Some([200.0, 400.0, 450.0, 1_000.0]),
        "fixed thresholds are shown as given"
    );
}

#[test]
fn counting_orders_makes_two_orders_on_one_day_a_frequency_of_two() {
    let members = vec![Member::buying(&[(990, 100), (990, 100), (995, 100)])];
    let days = evaluate(
        &table(&members),
        &regulars_engine::IndexOrder,
        &EngineConfig::default(),
        Day(1000),
    );
    let orders = evaluate(
        &table(&members),
        &regulars_engine::IndexOrder,
        &EngineConfig {
            frequency_unit: FrequencyUnit::Order,
            ..EngineConfig::default()
        },
        Day(1000),
    );
    let f = |e: &regulars_engine::Evaluation| {
        let f = e.members[0].features;
        (f.frequency, f.frequency_730, f.purchase_days)
    };
    assert_eq!(f(&days), (2, 2, 2));
    assert_eq!(f(&orders), (3, 3, 2), "purchase-days stay days");
    // Three orders make the member loyal (loyal_min_f = 3) only when orders are counted.
    assert!(!days.members[0].loyal && orders.members[0].loyal);
}

#[test]
fn by_order_count_judges_each_member_against_the_cycle_after_their_count() {
    // Two repeaters take 10 days from their first purchase-day to their second and 40 to their
    // third; E bought once, 15 days ago; F bought twice, 85 days apart, the last 15 days ago.
    let members = vec![
        Member::buying(&[(600, 10), (610, 10), (650, 10)]),
        Member::buying(&[(700, 10), (710, 10), (750, 10)]),
        Member::buying(&[(985, 10)]),
        Member::buying(&[(900, 10), (985, 10)]),
    ];
    let config = EngineConfig {
        store_aggregation: StoreAggregation::ByOrderCount,
        ..EngineConfig::default()
    };
    let evaluation = evaluate(
        &table(&members),
        &regulars_engine::IndexOrder,
        &config,
        Day(1000),
    );
    let cuts = &evaluation.cuts;
    assert_eq!(cuts.store_cycle, 40, "pooled median of 10 10 40 40 85");
    // C_1 = median(10, 10, 85); C_2 = median(40, 40); no one has a third interval.
    assert_eq!(cuts.store_cycle_by_count, Some([10, 40, 40, 40, 40]));
    // E (1 purchase-day, C_1 = 10): 15 days is more than 1 × 10, so ready to repurchase, where
    // the pooled 40 days would call them recent. F (2 purchase-days, C_2 = 40): recent.
    let e = &evaluation.members[2];
    let f = &evaluation.members[3];
    assert_eq!(e.rfim, Rfim::ReadyNew);
    assert_eq!(f.rfim, Rfim::Active);
    assert_eq!(cuts.store_cycle_of(1), 10);
    assert_eq!(cuts.store_cycle_of(9), 40, "five or more share C_5");
    let money = |minor: i64| format!("NT${minor}");
    let rfim = explain(e, cuts, Model::Rfim, &config, &money);
    assert!(
        rfim.contains("at most 2 × the 10-day store cycle after a 1st purchase-day"),
        "{rfim}"
    );
}

#[test]
fn explanations_speak_of_orders_and_fixed_thresholds_when_so_configured() {
    let config = EngineConfig {
        frequency_unit: FrequencyUnit::Order,
        m_bins: ValueBins::Fixed([200, 400, 450, 1_000]),
        ..EngineConfig::default()
    };
    let members = vec![Member::buying(&[(990, 300), (990, 300)])];
    let evaluation = evaluate(
        &table(&members),
        &regulars_engine::IndexOrder,
        &config,
        Day(1000),
    );
    let money = |minor: i64| format!("NT${minor}");
    let rfm = explain(
        &evaluation.members[0],
        &evaluation.cuts,
        Model::Rfm,
        &config,
        &money,
    );
    assert!(rfm.contains("2 orders in 365 days"), "{rfm}");
    assert!(
        rfm.contains("spend NT$600 against thresholds (at least) NT$200, NT$400, NT$450, NT$1000"),
        "{rfm}"
    );
}

/// Ten members who all bought once on day 990, by index: their ids and spends. Ids do not sort
/// in index order, so every tie below is broken by id, not by position.
fn ranked_brand() -> (Vec<Member>, Vec<String>) {
    let rows = [
        ("M09", 100),
        ("M03", 100),
        ("M07", 100),
        ("M01", 100),
        ("M05", 100),
        ("M02", 200),
        ("M08", 200),
        ("M06", 300),
        ("M00", 300),
        ("M04", 300),
    ];
    let members = rows
        .iter()
        .map(|(_, spend)| Member::buying(&[(990, *spend)]))
        .collect();
    let ids = rows.iter().map(|(id, _)| (*id).to_owned()).collect();
    (members, ids)
}

#[test]
fn rank_bins_split_ties_by_member_id_as_qcut_of_rank_first_does() {
    let (members, ids) = ranked_brand();
    let config = EngineConfig {
        r_bins: ValueBins::QuintileRank,
        f_bins: ValueBins::QuintileRank,
        m_bins: ValueBins::QuintileRank,
        ..EngineConfig::default()
    };
    let evaluation = evaluate(&table(&members), &ids, &config, Day(1000));
    let scores = |pick: fn(regulars_engine::RfmScores) -> u8| -> Vec<u8> {
        evaluation
            .members
            .iter()
            .map(|m| pick(m.rfm.unwrap()))
            .collect()
    };
    // Ranks 1..10 by (value, id) fall in bins of two: qcut's edges are 2.8, 4.6, 6.4 and 8.2.
    // Everyone's recency and frequency tie, so R and F follow the ids alone (R: lower rank is
    // better); M ranks the 100s by id, then the 200s, then the 300s.
    assert_eq!(scores(|s| s.r), [1, 4, 2, 5, 3, 4, 1, 2, 5, 3]);
    assert_eq!(scores(|s| s.f), [5, 2, 4, 1, 3, 2, 5, 4, 1, 3]);
    assert_eq!(scores(|s| s.m), [3, 1, 2, 1, 2, 3, 4, 5, 4, 5]);
    // Value quintiles keep equal spends together instead.
    let by_value = evaluate(&table(&members), &ids, &EngineConfig::default(), Day(1000));
    let m: Vec<u8> = by_value.members.iter().map(|m| m.rfm.unwrap().m).collect();
    assert_eq!(m, [1, 1, 1, 1, 1, 3, 3, 4, 4, 4]);

    let money = |minor: i64| format!("NT${minor}");
    let text = explain(
        &evaluation.members[7],
        &evaluation.cuts,
        Model::Rfm,
        &config,
        &money,
    );
    assert!(
        text.contains(
            "spend NT$300 against rank breakpoints NT$100 (M03), NT$100 (M07), NT$200 (M02), NT$300 (M00) (equal values ranked by member id)"
        ),
        "{text}"
    );
    assert!(
        text.contains("recency 10 days against rank breakpoints 10 days (M01), 10 days (M03)"),
        "{text}"
    );
}
