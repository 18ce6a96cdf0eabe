//! Every endpoint checks its caller's key and role.

use regulars_domain::ApiRole;

use crate::{error_code, order, spawn_or_skip};

#[tokio::test]
async fn requests_without_a_valid_key_are_unauthorized() {
    let app = spawn_or_skip!();
    let anonymous = app.client.with_token(None);
    assert_eq!(
        error_code(&anonymous.stats().await.unwrap_err()),
        (401, "unauthorized")
    );
    let forged = app.client.with_token(Some("rg_0123456789ab_wrongsecret"));
    assert_eq!(
        error_code(
            &forged
                .record_order(&order("O1", "M1", 100), None)
                .await
                .unwrap_err()
        ),
        (401, "unauthorized")
    );
    let garbage = app.client.with_token(Some("not-a-key"));
    assert_eq!(
        error_code(&garbage.member("M1").await.unwrap_err()),
        (401, "unauthorized")
    );
}

#[tokio::test]
async fn analysts_read_but_never_write_and_ingest_keys_write_but_never_read() {
    let app = spawn_or_skip!();
    let analyst = app.client_with_role(ApiRole::Analyst).await;
    let ingest = app.client_with_role(ApiRole::Ingest).await;
    let marketer = app.client_with_role(ApiRole::Marketer).await;

    assert_eq!(
        error_code(
            &analyst
                .record_order(&order("O1", "M1", 100), None)
                .await
                .unwrap_err()
        ),
        (403, "forbidden")
    );
    assert_eq!(
        error_code(
            &marketer
                .batch("orders", &[order("O1", "M1", 100)], None)
                .await
                .unwrap_err()
        ),
        (403, "forbidden")
    );
    assert_eq!(
        ingest
            .record_order(&order("O1", "M1", 100), None)
            .await
            .unwrap()
            .outcome,
        "created"
    );

    assert_eq!(
        error_code(&ingest.member("M1").await.unwrap_err()),
        (403, "forbidden")
    );
    assert_eq!(
        error_code(&ingest.stats().await.unwrap_err()),
        (403, "forbidden")
    );
    assert_eq!(analyst.member("M1").await.unwrap().orders.len(), 1);
    assert_eq!(marketer.stats().await.unwrap().orders, 1);
}
