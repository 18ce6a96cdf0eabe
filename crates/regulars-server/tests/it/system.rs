//! Health, metrics, error shapes of unknown routes, and the OpenAPI document.

use crate::{order, spawn_or_skip};

#[tokio::test]
async fn health_needs_no_key_and_names_the_backend() {
    let app = spawn_or_skip!();
    let health = app.client.with_token(None).health().await.unwrap();
    assert_eq!(health.status, "ok");
    assert!(health.database);
    assert_eq!(health.backend, app.db.url.backend().as_str());
}

#[tokio::test]
async fn metrics_count_requests_and_ingested_facts() {
    let app = spawn_or_skip!();
    app.client
        .record_order(&order("O1", "M1", 100), None)
        .await
        .unwrap();
    app.client
        .record_order(&order("O1", "M1", 100), None)
        .await
        .unwrap();
    let raw = app
        .client
        .with_token(None)
        .raw(reqwest::Method::GET, "/metrics", None, &[])
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    assert!(
        raw.text
            .contains("regulars_facts_ingested_total{kind=\"orders\",outcome=\"created\"} 1"),
        "{}",
        raw.text
    );
    assert!(
        raw.text
            .contains("regulars_facts_ingested_total{kind=\"orders\",outcome=\"duplicate\"} 1")
    );
    assert!(raw.text.contains(
        "regulars_http_requests_total{method=\"POST\",route=\"/api/v1/orders\",status=\"201\"} 1"
    ));
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_error_shape() {
    let app = spawn_or_skip!();
    let raw = app
        .client
        .raw(reqwest::Method::GET, "/api/v1/nothing", None, &[])
        .await
        .unwrap();
    assert_eq!(raw.status, 404);
    assert_eq!(
        raw.json::<serde_json::Value>().unwrap()["code"],
        "route_not_found"
    );
    let raw = app
        .client
        .raw(reqwest::Method::DELETE, "/api/v1/orders", None, &[])
        .await
        .unwrap();
    assert_eq!(raw.status, 405);
    assert_eq!(
        raw.json::<serde_json::Value>().unwrap()["code"],
        "method_not_allowed"
    );
}

#[tokio::test]
async fn the_served_document_is_the_one_in_docs_and_every_path_in_it_exists() {
    let app = spawn_or_skip!();
    let served: serde_json::Value = app
        .client
        .raw(reqwest::Method::GET, "/api/openapi.json", None, &[])
        .await
        .unwrap()
        .json()
        .unwrap();
    let generated = serde_json::to_value(regulars_api::openapi()).unwrap();
    assert_eq!(served, generated);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == text,
        "docs/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p regulars-server --test it`"
    );
    for (path, item) in served["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = path
                .replace("{member_id}", "M1")
                .replace("{model}", "nesl")
                .replace("{segment}", "E0");
            let raw = app
                .client
                .raw(method.clone(), &concrete, None, &[])
                .await
                .unwrap();
            let code = raw
                .json::<serde_json::Value>()
                .ok()
                .and_then(|v| v["code"].as_str().map(ToOwned::to_owned));
            assert_ne!(
                code.as_deref(),
                Some("route_not_found"),
                "{method} {path} is documented but not routed"
            );
            assert_ne!(
                raw.status, 405,
                "{method} {path} is documented but not routed"
            );
        }
    }
}
