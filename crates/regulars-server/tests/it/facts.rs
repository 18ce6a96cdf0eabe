//! Recording facts one by one and in batches, and reading a member back.

use regulars_api_types::{
    EventRequest, InteractionRequest, MemberRequest, ReturnLineRequest, ReturnRequest, StoreRequest,
};

use crate::{error_code, order, spawn_or_skip};

#[tokio::test]
async fn an_order_is_created_once_and_a_different_resend_is_a_conflict() {
    let app = spawn_or_skip!();
    let created = app
        .client
        .record_order(&order("O1", "M1", 12_000), None)
        .await
        .unwrap();
    assert_eq!(
        (created.id.as_str(), created.outcome.as_str()),
        ("O1", "created")
    );
    let again = app
        .client
        .record_order(&order("O1", "M1", 12_000), None)
        .await
        .unwrap();
    assert_eq!(again.outcome, "duplicate");
    let error = app
        .client
        .record_order(&order("O1", "M1", 99_999), None)
        .await
        .unwrap_err();
    assert_eq!(error_code(&error), (409, "conflict"));
    let stats = app.client.stats().await.unwrap();
    assert_eq!((stats.orders, stats.order_lines, stats.members), (1, 1, 1));
}

#[tokio::test]
async fn invalid_fields_are_named_in_the_error_details() {
    let app = spawn_or_skip!();
    let mut bad = order("O1", "M1", -5);
    bad.placed_at = "someday".to_owned();
    bad.lines[0].quantity = 0;
    let raw = app
        .client
        .raw(
            reqwest::Method::POST,
            "/api/v1/orders",
            Some(&serde_json::to_value(&bad).unwrap()),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(raw.status, 422);
    let body: serde_json::Value = raw.json().unwrap();
    assert_eq!(body["code"], "validation_failed");
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "placed_at",
            "amount",
            "lines[0].quantity",
            "lines[0].unit_price"
        ]
    );
    assert_eq!(
        app.client.stats().await.unwrap().orders,
        0,
        "nothing half-written stays behind"
    );
}

#[tokio::test]
async fn malformed_json_and_unknown_fields_get_invalid_json() {
    let app = spawn_or_skip!();
    let raw = app
        .client
        .raw(
            reqwest::Method::POST,
            "/api/v1/orders",
            Some(&serde_json::json!({"order_id": 5})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(raw.status, 400);
    assert_eq!(
        raw.json::<serde_json::Value>().unwrap()["code"],
        "invalid_json"
    );
    let raw = app
        .client
        .raw(
            reqwest::Method::POST,
            "/api/v1/stores",
            Some(&serde_json::json!({"store_id": "S1", "name": "x", "colour": "red"})),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        raw.json::<serde_json::Value>().unwrap()["code"],
        "invalid_json"
    );
    assert!(raw.text.contains("unknown field `colour`"), "{}", raw.text);
}

#[tokio::test]
async fn a_batch_judges_each_item_and_stores_the_good_ones() {
    let app = spawn_or_skip!();
    let items = vec![
        serde_json::to_value(order("O1", "M1", 100)).unwrap(),
        serde_json::json!({"order_id": "O2"}),
        serde_json::to_value(order("O3", "M2", -1)).unwrap(),
        serde_json::to_value(order("O1", "M1", 100)).unwrap(),
        serde_json::to_value(order("O4", "M2", 250)).unwrap(),
    ];
    let result = app.client.batch("orders", &items, None).await.unwrap();
    assert_eq!(
        (
            result.received,
            result.created,
            result.duplicates,
            result.rejected
        ),
        (5, 2, 1, 2)
    );
    let outcomes: Vec<&str> = result.results.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        ["created", "rejected", "rejected", "duplicate", "created"]
    );
    assert_eq!(
        result.results[1].error.as_ref().unwrap().code.as_str(),
        "invalid_json"
    );
    assert_eq!(
        result.results[2].error.as_ref().unwrap().details[0]
            .field
            .as_deref(),
        Some("amount")
    );
    assert_eq!(app.client.stats().await.unwrap().orders, 2);
}

#[tokio::test]
async fn a_batch_over_ten_thousand_items_is_refused_whole() {
    let app = spawn_or_skip!();
    let items: Vec<_> = (0..10_001)
        .map(|i| serde_json::json!({"member_id": format!("M{i}")}))
        .collect();
    let error = app.client.batch("members", &items, None).await.unwrap_err();
    assert_eq!(error_code(&error), (413, "batch_too_large"));
    assert_eq!(app.client.stats().await.unwrap().members, 0);
}

#[tokio::test]
async fn a_member_reads_back_with_every_kind_of_fact() {
    let app = spawn_or_skip!();
    let client = &app.client;
    client
        .upsert_store(
            &StoreRequest {
                store_id: "S01".into(),
                name: "台北信義店".into(),
                channel: None,
                time_zone: None,
            },
            None,
        )
        .await
        .unwrap();
    let profile = MemberRequest {
        member_id: "M1".into(),
        name: Some("林小美".into()),
        phone: Some("0912-345-678".into()),
        birthday: Some("1990-07-04".into()),
        ..MemberRequest::default()
    };
    assert_eq!(
        client.upsert_member(&profile, None).await.unwrap().outcome,
        "created"
    );
    client
        .record_order(&order("O1", "M1", 12_000), None)
        .await
        .unwrap();
    let refund = ReturnRequest {
        return_id: "R1".into(),
        order_id: "O1".into(),
        amount: 12_000,
        currency: None,
        completed_at: "2026-11-21".into(),
        lines: vec![ReturnLineRequest {
            sku: "CF-LAT".into(),
            quantity: 1,
        }],
    };
    assert_eq!(
        client.record_return(&refund, None).await.unwrap().outcome,
        "created"
    );
    let interaction = InteractionRequest {
        interaction_id: None,
        member_id: "M1".into(),
        at: "2026-11-21T10:00:00+08:00".into(),
        channel: "line".into(),
        kind: "message".into(),
    };
    assert_eq!(
        client
            .record_interaction(&interaction, None)
            .await
            .unwrap()
            .outcome,
        "created"
    );
    assert_eq!(
        client
            .record_interaction(&interaction, None)
            .await
            .unwrap()
            .outcome,
        "duplicate"
    );
    let event = EventRequest {
        event_id: None,
        member_id: "M1".into(),
        at: "2026-11-21".into(),
        kind: "cart_add".into(),
        sku: Some("BN-ETH".into()),
        category: None,
        query: None,
    };
    assert_eq!(
        client.record_event(&event, None).await.unwrap().outcome,
        "created"
    );

    let member = client.member("M1").await.unwrap();
    assert_eq!(member.member.phone.as_deref(), Some("+886912345678"));
    assert_eq!(member.member.created_from, None);
    assert_eq!(
        member.orders[0].placed_at, "2026-11-20T01:30:00Z",
        "local times are read in the store's zone"
    );
    assert_eq!(member.orders[0].lines[0].sku, "CF-LAT");
    assert_eq!(member.returns[0].amount, 12_000);
    assert_eq!(member.interactions.len(), 1);
    assert_eq!(member.events[0].kind, "cart_add");
    assert_eq!(
        error_code(&client.member("M404").await.unwrap_err()),
        (404, "not_found")
    );
}
