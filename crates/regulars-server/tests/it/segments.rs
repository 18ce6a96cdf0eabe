//! Segment endpoints: counts per model, one member's segments with explanations, the members of
//! a segment; answers follow new facts.

use regulars_api_types::{MemberSegmentsView, SegmentCountsView, SegmentMembersView};
use regulars_domain::ApiRole;

use crate::{order, spawn_or_skip};

async fn get<T: serde::de::DeserializeOwned>(
    client: &regulars_client::Client,
    path: &str,
) -> (u16, Option<T>, String) {
    let raw = client
        .raw(reqwest::Method::GET, path, None, &[])
        .await
        .unwrap();
    (raw.status, raw.json().ok(), raw.text)
}

#[tokio::test]
async fn counts_explanations_and_members_of_segments_follow_the_facts() {
    let app = spawn_or_skip!();
    let mut first = order("O1", "M1", 10_000);
    first.placed_at = "2026-11-01".into();
    let mut second = order("O2", "M1", 10_000);
    second.placed_at = "2026-11-11".into();
    let mut third = order("O3", "M1", 10_000);
    third.placed_at = "2026-11-21".into();
    let mut lapsed = order("O4", "M2", 5_000);
    lapsed.placed_at = "2024-06-01".into();
    app.client
        .batch("orders", &[first, second, third, lapsed], None)
        .await
        .unwrap();

    let (status, counts, text) =
        get::<SegmentCountsView>(&app.client, "/api/v1/segments/nesl?as_of=2026-11-22").await;
    assert_eq!(status, 200, "{text}");
    let counts = counts.unwrap();
    assert_eq!((counts.members, counts.as_of.as_str()), (2, "2026-11-22"));
    let by_name: Vec<(&str, u64)> = counts
        .segments
        .iter()
        .map(|s| (s.segment.as_str(), s.members))
        .collect();
    assert_eq!(by_name, [("E0", 1), ("L", 1)]);
    assert_eq!(counts.segments[1].label_zh, "流失顧客");

    let (status, member, text) =
        get::<MemberSegmentsView>(&app.client, "/api/v1/members/M2/segments?as_of=2026-11-22")
            .await;
    assert_eq!(status, 200, "{text}");
    let member = member.unwrap();
    let nesl = member.models.iter().find(|m| m.model == "nesl").unwrap();
    assert_eq!(nesl.segment, "L");
    assert!(
        nesl.explanation
            .starts_with("L: 904 days since the last purchase, more than 365"),
        "{}",
        nesl.explanation
    );
    assert_eq!(member.models.len(), 5);

    let (_, page, _) = get::<SegmentMembersView>(
        &app.client,
        "/api/v1/segments/nesl/E0/members?as_of=2026-11-22&limit=10",
    )
    .await;
    let page = page.unwrap();
    assert_eq!(
        (
            page.total,
            page.members.as_slice(),
            page.next_after.as_deref()
        ),
        (1, ["M1".to_owned()].as_slice(), None)
    );

    // A new order moves M2 back, and the next answer shows it.
    let mut back = order("O5", "M2", 5_000);
    back.placed_at = "2026-11-22".into();
    app.client.record_order(&back, None).await.unwrap();
    let (_, counts, _) =
        get::<SegmentCountsView>(&app.client, "/api/v1/segments/nesl?as_of=2026-11-22").await;
    let by_name: Vec<(String, u64)> = counts
        .unwrap()
        .segments
        .into_iter()
        .map(|s| (s.segment, s.members))
        .collect();
    assert_eq!(by_name, [("E0".to_owned(), 2)]);
}

#[tokio::test]
async fn segment_requests_refuse_unknown_models_bad_dates_and_ingest_keys() {
    let app = spawn_or_skip!();
    let (status, _, text) =
        get::<serde_json::Value>(&app.client, "/api/v1/segments/astrology").await;
    assert_eq!(status, 404);
    assert!(text.contains("\"not_found\""), "{text}");
    let (status, body, _) =
        get::<serde_json::Value>(&app.client, "/api/v1/segments/rfm?as_of=yesterday").await;
    assert_eq!(status, 422);
    assert_eq!(body.unwrap()["details"][0]["field"], "as_of");
    let ingest = app.client_with_role(ApiRole::Ingest).await;
    let (status, _, _) = get::<serde_json::Value>(&ingest, "/api/v1/segments/rfm").await;
    assert_eq!(status, 403);
    let (status, _, _) =
        get::<serde_json::Value>(&app.client, "/api/v1/members/M404/segments").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_fact_moves_its_member_before_the_call_returns_and_days_move_them_later() {
    use regulars_api_types::{MigrationView, TransitionsView};
    let app = spawn_or_skip!();
    let mut first = order("O1", "M1", 10_000);
    first.placed_at = "2026-11-22 09:00".into();
    app.client.batch("orders", &[first], None).await.unwrap();

    // No as_of: the live segments, already moved.
    let (status, member, text) =
        get::<MemberSegmentsView>(&app.client, "/api/v1/members/M1/segments").await;
    assert_eq!(status, 200, "{text}");
    let member = member.unwrap();
    assert_eq!(member.as_of, "2026-11-22");
    let nesl = member.models.iter().find(|m| m.model == "nesl").unwrap();
    assert_eq!(nesl.segment, "N");

    let (status, log, text) =
        get::<TransitionsView>(&app.client, "/api/v1/transitions?model=nesl&member_id=M1").await;
    assert_eq!(status, 200, "{text}");
    let moves: Vec<(String, String, String, String)> = log
        .unwrap()
        .transitions
        .into_iter()
        .map(|t| (t.from, t.to, t.day, t.cause))
        .collect();
    assert_eq!(
        moves,
        [(
            "prospect".to_owned(),
            "N".to_owned(),
            "2026-11-22".to_owned(),
            "order:O1".to_owned()
        )]
    );

    // Seventy days later (past the 60-day cycle) the day boundary moves M1 with nothing new.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 70));
    app.app.tick_segments().await.unwrap();
    let (_, member, _) =
        get::<MemberSegmentsView>(&app.client, "/api/v1/members/M1/segments").await;
    let member = member.unwrap();
    assert_eq!(
        (member.as_of.as_str(), member.recency_days),
        ("2027-01-31", Some(70))
    );
    let (_, log, _) = get::<TransitionsView>(
        &app.client,
        "/api/v1/transitions?model=nesl&from=2026-11-23",
    )
    .await;
    let timed = log.unwrap().transitions;
    assert!(!timed.is_empty());
    assert_eq!(
        timed
            .iter()
            .map(|t| (
                t.from.as_str(),
                t.to.as_str(),
                t.day.as_str(),
                t.cause.as_str()
            ))
            .collect::<Vec<_>>(),
        [("N", "S1", "2027-01-22", "time")],
        "recency 61 > the 60-day cycle"
    );
    assert_eq!(timed.last().unwrap().to, nesl_now(&member));

    // The day that ended was kept as a snapshot.
    let (status, matrix, text) = get::<MigrationView>(
        &app.client,
        "/api/v1/segments/nesl/migration?from=2026-11-22&to=2026-11-22",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let matrix = matrix.unwrap();
    assert_eq!(matrix.snapshot_days, ["2026-11-22"]);
    assert_eq!(
        matrix
            .cells
            .iter()
            .map(|c| (c.from.as_str(), c.to.as_str(), c.members))
            .collect::<Vec<_>>(),
        [("N", "N", 1)]
    );

    let (status, _, text) =
        get::<TransitionsView>(&app.client, "/api/v1/transitions?from=someday").await;
    assert_eq!(status, 422, "{text}");
}

fn nesl_now(member: &MemberSegmentsView) -> String {
    member
        .models
        .iter()
        .find(|m| m.model == "nesl")
        .unwrap()
        .segment
        .clone()
}

#[tokio::test]
async fn under_completed_mode_an_order_counts_from_its_completion_until_its_cancellation() {
    use regulars_api_types::TransitionsView;
    use regulars_server::app::segments::ValidOrderMode;
    let Some(app) = regulars_test_support::TestApp::spawn_configured(
        regulars_test_support::TestBackend::from_env(),
        |config| config.orders.valid_order_mode = ValidOrderMode::Completed,
    )
    .await
    else {
        return;
    };
    let nesl = |path: &'static str| {
        let client = app.client.clone();
        async move {
            let (status, member, text) = get::<MemberSegmentsView>(&client, path).await;
            assert_eq!(status, 200, "{text}");
            nesl_now(&member.unwrap())
        }
    };
    let mut paid = order("O1", "M1", 10_000);
    paid.placed_at = "2026-11-20 09:00".into();
    app.client
        .batch("orders", std::slice::from_ref(&paid), None)
        .await
        .unwrap();
    assert_eq!(
        nesl("/api/v1/members/M1/segments").await,
        "prospect",
        "paid is not yet valid"
    );

    let mut completed = paid.clone();
    completed.status = Some("completed".into());
    completed.status_at = Some("2026-11-22 10:00".into());
    app.client
        .batch("orders", &[completed], None)
        .await
        .unwrap();
    assert_eq!(nesl("/api/v1/members/M1/segments").await, "N");
    // A full evaluation agrees with the live state, and the day before the completion the
    // order did not count yet, although it was placed by then.
    assert_eq!(
        nesl("/api/v1/members/M1/segments?as_of=2026-11-21").await,
        "prospect"
    );

    let mut cancelled = paid.clone();
    cancelled.status = Some("cancelled".into());
    cancelled.status_at = Some("2026-11-22 11:00".into());
    app.client
        .batch("orders", &[cancelled], None)
        .await
        .unwrap();
    assert_eq!(nesl("/api/v1/members/M1/segments").await, "prospect");

    let (_, log, _) =
        get::<TransitionsView>(&app.client, "/api/v1/transitions?model=nesl&member_id=M1").await;
    let moves: Vec<(String, String, String)> = log
        .unwrap()
        .transitions
        .into_iter()
        .map(|t| (t.from, t.to, t.cause))
        .collect();
    assert_eq!(
        moves,
        [
            ("prospect".into(), "N".into(), "order:O1".into()),
            ("N".into(), "prospect".into(), "order:O1".into()),
        ]
    );

    // A restart loads the same state: nothing to catch up.
    let restarted = regulars_server::app::App::new(
        app.db.store.clone(),
        app.clock.clone(),
        app.db.config.brand.clone(),
        app.db.config.ingest,
    )
    .with_segmentation(app.db.config.engine.clone(), app.db.config.orders);
    restarted.start_segments().await.unwrap();
    let (_, log, _) = get::<TransitionsView>(&app.client, "/api/v1/transitions?model=nesl").await;
    assert_eq!(log.unwrap().transitions.len(), 2, "no restart transitions");
}

#[tokio::test]
async fn rank_bins_break_ties_by_member_id_whatever_order_members_arrived_in() {
    use regulars_engine::ValueBins;
    let Some(app) = regulars_test_support::TestApp::spawn_configured(
        regulars_test_support::TestBackend::from_env(),
        |config| {
            config.engine.r_bins = ValueBins::QuintileRank;
            config.engine.f_bins = ValueBins::QuintileRank;
            config.engine.m_bins = ValueBins::QuintileRank;
        },
    )
    .await
    else {
        return;
    };
    // Ten members with the same purchase arrive out of id order, so the engine's indexes are
    // not the ids' order; every R, F and M ties.
    let arrival = [
        "M07", "M02", "M09", "M00", "M05", "M03", "M08", "M01", "M06", "M04",
    ];
    let orders: Vec<_> = arrival
        .iter()
        .map(|member| {
            let mut o = order(&format!("O-{member}"), member, 10_000);
            o.placed_at = "2026-11-20".into();
            o
        })
        .collect();
    app.client.batch("orders", &orders, None).await.unwrap();
    app.app.recompute_segments().await.unwrap();

    // Ranked by id, two members to a bin: M00 and M01 are ranks 1 and 2, and so on.
    for (rank, member) in (0..10).map(|k| (k, format!("M{k:02}"))) {
        let bin = 1 + rank / 2;
        let (status, view, text) =
            get::<MemberSegmentsView>(&app.client, &format!("/api/v1/members/{member}/segments"))
                .await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(
            view.unwrap().rfm_scores,
            Some([6 - bin, bin, bin]),
            "{member}: R is better for the lower rank"
        );
    }
    // A full evaluation of the stored facts, whose members come in the store's order, agrees.
    let batch = app.app.segment(app.app.today()).await.unwrap();
    for (idx, id) in batch.member_ids.iter().enumerate() {
        let rank = u8::try_from(arrival.len()).unwrap()
            - u8::try_from(arrival.iter().filter(|a| **a > id.as_str()).count()).unwrap()
            - 1;
        let bin = 1 + rank / 2;
        let scores = batch.evaluation.members[idx].rfm.unwrap();
        assert_eq!([scores.r, scores.f, scores.m], [6 - bin, bin, bin], "{id}");
    }
}
