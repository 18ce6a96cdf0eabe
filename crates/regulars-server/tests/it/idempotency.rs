//! `Idempotency-Key`: a retried write answers the same and changes nothing.

use crate::{error_code, order, spawn_or_skip};

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_first_answer() {
    let app = spawn_or_skip!();
    let body = serde_json::to_value(order("O1", "M1", 100)).unwrap();
    let headers = [("idempotency-key", "retry-1")];
    let first = app
        .client
        .raw(
            reqwest::Method::POST,
            "/api/v1/orders",
            Some(&body),
            &headers,
        )
        .await
        .unwrap();
    let second = app
        .client
        .raw(
            reqwest::Method::POST,
            "/api/v1/orders",
            Some(&body),
            &headers,
        )
        .await
        .unwrap();
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(first.text, second.text);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(app.client.stats().await.unwrap().orders, 1);
}

#[tokio::test]
async fn the_same_key_with_a_different_request_is_refused() {
    let app = spawn_or_skip!();
    app.client
        .record_order(&order("O1", "M1", 100), Some("k"))
        .await
        .unwrap();
    let error = app
        .client
        .record_order(&order("O2", "M1", 100), Some("k"))
        .await
        .unwrap_err();
    assert_eq!(error_code(&error), (422, "idempotency_key_reused"));
    assert_eq!(app.client.stats().await.unwrap().orders, 1);
    let error = app
        .client
        .record_order(&order("O2", "M1", 100), Some(&"x".repeat(300)))
        .await
        .unwrap_err();
    assert_eq!(error_code(&error), (400, "invalid_idempotency_key"));
}

#[tokio::test]
async fn keys_belong_to_the_api_key_that_sent_them() {
    let app = spawn_or_skip!();
    let other = app.client_with_role(regulars_domain::ApiRole::Ingest).await;
    app.client
        .record_order(&order("O1", "M1", 100), Some("shared"))
        .await
        .unwrap();
    // The same header from another API key is its own request.
    assert_eq!(
        other
            .record_order(&order("O2", "M1", 100), Some("shared"))
            .await
            .unwrap()
            .outcome,
        "created"
    );
}
