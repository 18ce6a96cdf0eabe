//! A brand small enough to work out on paper, every number of it checked.
//!
//! as_of = day 1000. Store-cycle window [270, 1000]; RFM window [636, 1000]; 730-day window
//! [271, 1000]; interaction window [911, 1000].
//!
//! | member | purchase days (amount)         | interactions        |
//! |--------|--------------------------------|---------------------|
//! | A      | 990, 995, 1000 (100 each)      |                     |
//! | B      | 900, 950 (200 each)            |                     |
//! | C      | 700 (500)                      |                     |
//! | D      | 100, 200 (50 each)             |                     |
//! | E      |                                | 950, 960, 999       |
//! | F      |                                | 999                 |
//!
//! Pooled intervals in the store window: A 5, 5; B 50 → median 5, so C = 5 (store age 900).
//! A scores R5 (recency 0 is above no breakpoint), F3 (3 purchase-days), M1 (300 is below 340).
//! RFM population A, B, C: recencies 0, 50, 300 give breakpoints 20, 40, 100, 200; spends 300,
//! 400, 500 give 340, 380, 420, 460. Means: r 116.7, f 2, m 400. Top 10 % of 3 is 1: spend ≥ 500.

use regulars_engine::{Nesl, Rfim, RfimBand, Rfm8, RfmSegment};

use crate::{Member, run};

fn brand() -> Vec<Member> {
    vec![
        Member::buying(&[(990, 100), (995, 100), (1000, 100)]),
        Member::buying(&[(900, 200), (950, 200)]),
        Member::buying(&[(700, 500)]),
        Member::buying(&[(100, 50), (200, 50)]),
        Member::interacting(&[950, 960, 999]),
        Member::interacting(&[999]),
    ]
}

#[test]
fn the_population_figures_are_the_ones_worked_by_hand() {
    let evaluation = run(&brand(), 1000);
    assert_eq!(evaluation.cuts.store_cycle, 5);
    assert!(!evaluation.cuts.store_cycle_fallback);
    assert_eq!(
        (
            evaluation.cuts.population.buyers,
            evaluation.cuts.population.rfm,
            evaluation.cuts.population.lifecycle
        ),
        (4, 3, 3)
    );
    assert_eq!(
        evaluation.cuts.recency_breaks,
        Some([20.0, 40.0, 100.0, 200.0])
    );
    assert_eq!(
        evaluation.cuts.monetary_breaks,
        Some([340.0, 380.0, 420.0, 460.0])
    );
    assert_eq!(evaluation.cuts.top_threshold, Some(500));
}

#[test]
fn every_member_gets_the_labels_worked_by_hand() {
    let evaluation = run(&brand(), 1000);
    let rows: Vec<String> = evaluation
        .members
        .iter()
        .zip(["A", "B", "C", "D", "E", "F"])
        .map(|(m, name)| {
            let f = m.features;
            format!(
                "{name}: r={:?} f={} m={} cycle={:?} cell={:?} {} {} {} {} {}{}",
                f.recency,
                f.frequency,
                f.monetary,
                m.cycle.map(|c| c.days()),
                m.rfm.map(|s| s.cell()),
                m.rfm_segment.as_str(),
                m.rfm8.map_or("-", |c| c.as_str()),
                m.nesl.as_str(),
                m.rfim.as_str(),
                if m.top { "top " } else { "" },
                if m.loyal { "loyal" } else { "" },
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "A: r=Some(0) f=3 m=300 cycle=Some(5.0) cell=Some(531) potential_loyalist general_value E0 loyal loyal",
            "B: r=Some(50) f=2 m=400 cycle=Some(5.0) cell=Some(323) about_to_sleep important_value S3 lost ",
            "C: r=Some(300) f=1 m=500 cycle=Some(5.0) cell=Some(115) lost important_win_back S3 lost top ",
            "D: r=Some(800) f=0 m=0 cycle=Some(5.0) cell=Some(111) lost general_win_back L lost ",
            "E: r=None f=0 m=0 cycle=None cell=None prospect - prospect engaged ",
            "F: r=None f=0 m=0 cycle=None cell=None prospect - prospect prospect ",
        ]
    );
}

#[test]
fn nesl_boundaries_take_the_lower_label() {
    // C = 5 from the repeaters; single-day members have c_i = C exactly.
    let mut members = vec![
        Member::buying(&[(980, 10), (985, 10), (990, 10)]),
        Member::buying(&[(970, 10), (975, 10)]),
    ];
    for day in [995, 990, 985, 984] {
        members.push(Member::buying(&[(day, 10)]));
    }
    // An early customer makes the store old enough (900 days) to measure its own cycle.
    members.push(Member::buying(&[(100, 10)]));
    let evaluation = run(&members, 1000);
    assert_eq!(evaluation.cuts.store_cycle, 5);
    let nesl: Vec<Nesl> = evaluation.members[2..6].iter().map(|m| m.nesl).collect();
    // ρ = 1, 2, 3 and 3.2.
    assert_eq!(nesl, [Nesl::N, Nesl::S1, Nesl::S2, Nesl::S3]);
    let bands: Vec<RfimBand> = evaluation.members[2..6]
        .iter()
        .map(|m| m.rfim_band.unwrap())
        .collect();
    assert_eq!(
        bands,
        [
            RfimBand::Recent,
            RfimBand::Ready,
            RfimBand::Sleeping,
            RfimBand::Lost
        ]
    );
    assert_eq!(evaluation.members[2].rfim, Rfim::ActiveNew);
    assert_eq!(evaluation.members[3].rfim, Rfim::ReadyNew);
}

#[test]
fn lost_overrides_everything_after_lost_max_days() {
    let members = vec![
        Member::buying(&[(634, 10), (635, 10), (636, 10)]),
        Member::buying(&[(0, 10)]),
    ];
    let evaluation = run(&members, 1000);
    // 365 days is not yet lost; 366 is.
    let recent = run(&[Member::buying(&[(635, 10)])], 1000);
    assert_eq!(recent.members[0].nesl, Nesl::S3);
    let lost = run(&[Member::buying(&[(634, 10)])], 1000);
    assert_eq!(lost.members[0].nesl, Nesl::L);
    assert_eq!(evaluation.members[1].nesl, Nesl::L);
    assert_eq!(evaluation.members[1].rfm_segment, RfmSegment::Lost);
    assert_eq!(evaluation.members[1].rfm8, Some(Rfm8::GeneralWinBack));
}

#[test]
fn a_store_too_young_to_measure_uses_the_category_cycle() {
    let evaluation = run(&[Member::buying(&[(900, 10), (910, 10)])], 1000);
    assert_eq!(
        (
            evaluation.cuts.store_cycle,
            evaluation.cuts.store_cycle_fallback
        ),
        (60, true)
    );
}

#[test]
fn explanations_name_the_inputs_the_thresholds_and_the_rule() {
    use regulars_engine::{EngineConfig, Model, explain};
    let evaluation = run(&brand(), 1000);
    let config = EngineConfig::default();
    let money = |minor: i64| format!("NT${minor}");
    let say = |member: usize, model: Model| {
        explain(
            &evaluation.members[member],
            &evaluation.cuts,
            model,
            &config,
            &money,
        )
    };
    assert_eq!(
        say(1, Model::Nesl),
        "S3: 50 days since the last purchase = 10.00 × the 5-day store cycle (too few purchases for a cycle of their own) (more than 3); 2 purchase-days"
    );
    assert_eq!(
        say(0, Model::Nesl),
        "E0: 0 days since the last purchase = 0.00 × their 5-day cycle (2 intervals, shrunk toward the 5-day store cycle) (at most 1); 3 purchase-days"
    );
    assert_eq!(
        say(3, Model::Nesl),
        "L: 800 days since the last purchase, more than 365"
    );
    assert_eq!(
        say(0, Model::Rfm),
        "potential_loyalist (R5 F3 M1, cell 531): recency 0 days against breakpoints 20, 40, 100, 200 days (fewer days score higher); 3 purchase-days in 365 days against thresholds 1, 2, 3, 5, 8; spend NT$300 against breakpoints NT$340, NT$380, NT$420, NT$460"
    );
    assert_eq!(
        say(3, Model::Rfm),
        "lost (R1 F1 M1, cell 111): no purchase in the last 365 days (800 days since the last purchase), so 111"
    );
    assert_eq!(
        say(1, Model::Rfm8),
        "important_value: recency 50 days below the mean 116.7; 2 purchase-days in 365 days at or above the mean 2; spend NT$400 at or above the mean NT$400"
    );
    assert_eq!(
        say(0, Model::Rfim),
        "loyal: 0 days since the last purchase is recent (at most 1 × the 5-day store cycle), and 3 purchase-days in 730 days (at least 3)"
    );
    assert_eq!(
        say(4, Model::Rfim),
        "engaged: no purchase yet and 3 interactions in the last 90 days (at least 3)"
    );
    assert_eq!(
        say(0, Model::Lifecycle),
        "maturity: NESL E0, 3 purchase-days, 3 purchase-days in 730 days (3 for maturity)"
    );
    assert_eq!(say(5, Model::Nesl), "prospect: no valid order yet");
}
