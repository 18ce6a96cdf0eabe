//! API keys and idempotency claims.

use regulars_domain::ApiRole;
use regulars_store::{ApiKeyRecord, IdempotencyClaim, StoreError};

use crate::{DynStore, at, store_test};

fn key(id: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        key_id: id.to_owned(),
        role: ApiRole::Ingest,
        secret_sha256: "ab".repeat(32),
        label: Some("pos sync".to_owned()),
        created_at: at("2026-11-01T00:00:00Z"),
        revoked_at: None,
    }
}

store_test!(
    keys_are_stored_once_and_read_back,
    |store: DynStore| async move {
        store.create_api_key(&key("k1")).await.unwrap();
        assert!(matches!(
            store.create_api_key(&key("k1")).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(store.get_api_key("k1").await.unwrap(), key("k1"));
        assert!(matches!(
            store.get_api_key("k2").await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(store.list_api_keys().await.unwrap(), [key("k1")]);
    }
);

store_test!(
    an_idempotency_key_runs_once_and_replays_its_answer,
    |store: DynStore| async move {
        let now = at("2026-11-22T04:00:00Z");
        let earlier = at("2026-11-22T03:55:00Z");
        let claim = |fingerprint: &'static str, now| {
            let store = store.clone();
            async move {
                store
                    .claim_idempotency_key(
                        "k1 POST /api/v1/orders",
                        "abc",
                        fingerprint,
                        now,
                        earlier,
                    )
                    .await
                    .unwrap()
            }
        };
        assert_eq!(claim("f1", now).await, IdempotencyClaim::Claimed);
        assert_eq!(claim("f1", now).await, IdempotencyClaim::InFlight);
        assert_eq!(claim("f2", now).await, IdempotencyClaim::Mismatch);
        store
            .complete_idempotency_key("k1 POST /api/v1/orders", "abc", 201, "{\"ok\":true}")
            .await
            .unwrap();
        assert_eq!(
            claim("f1", now).await,
            IdempotencyClaim::Replay {
                status: 201,
                body: "{\"ok\":true}".to_owned()
            }
        );
        // Another scope is another key.
        let other = store
            .claim_idempotency_key("k2 POST /api/v1/orders", "abc", "f1", now, earlier)
            .await
            .unwrap();
        assert_eq!(other, IdempotencyClaim::Claimed);
    }
);

store_test!(
    a_released_or_abandoned_idempotency_key_can_be_claimed_again,
    |store: DynStore| async move {
        let now = at("2026-11-22T04:00:00Z");
        let scope = "k1 POST /api/v1/orders";
        assert_eq!(
            store
                .claim_idempotency_key(scope, "x", "f", now, at("2026-11-22T03:55:00Z"))
                .await
                .unwrap(),
            IdempotencyClaim::Claimed
        );
        store.release_idempotency_key(scope, "x").await.unwrap();
        assert_eq!(
            store
                .claim_idempotency_key(scope, "x", "f", now, at("2026-11-22T03:55:00Z"))
                .await
                .unwrap(),
            IdempotencyClaim::Claimed
        );
        // A claim that never completed is taken over once it is stale.
        let later = at("2026-11-22T04:10:00Z");
        assert_eq!(
            store
                .claim_idempotency_key(scope, "x", "f", later, at("2026-11-22T04:05:00Z"))
                .await
                .unwrap(),
            IdempotencyClaim::Claimed
        );
    }
);

store_test!(
    old_idempotency_keys_are_forgotten_with_their_answers_and_recent_ones_kept,
    |store: DynStore| async move {
        let scope = "k1 POST /api/v1/orders";
        let stale = at("2026-11-20T00:00:00Z");
        let claim = |key: &'static str, now| {
            let store = store.clone();
            async move {
                store
                    .claim_idempotency_key(scope, key, "f", now, stale)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            claim("old", at("2026-11-21T04:00:00Z")).await,
            IdempotencyClaim::Claimed
        );
        store
            .complete_idempotency_key(scope, "old", 201, "{}")
            .await
            .unwrap();
        assert_eq!(
            claim("new", at("2026-11-22T04:00:00Z")).await,
            IdempotencyClaim::Claimed
        );
        store
            .complete_idempotency_key(scope, "new", 201, "{}")
            .await
            .unwrap();
        let forgotten = store
            .forget_idempotency_keys(at("2026-11-22T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!(forgotten, 1);
        let now = at("2026-11-22T05:00:00Z");
        assert_eq!(claim("old", now).await, IdempotencyClaim::Claimed);
        assert_eq!(
            claim("new", now).await,
            IdempotencyClaim::Replay {
                status: 201,
                body: "{}".to_owned()
            }
        );
    }
);
