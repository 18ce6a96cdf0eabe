//! Audience previews through the API: a rule as text or JSON, counted over the stored facts
//! and the live segments; a bad rule gets `validation_failed` with where it is wrong.

use regulars_api_types::{AudiencePreviewRequest, MemberRequest};

use crate::{order, pastry_order, spawn_or_skip};

fn request(text: &str) -> AudiencePreviewRequest {
    AudiencePreviewRequest {
        rule: None,
        text: Some(text.to_owned()),
        as_of: Some("2026-11-22".to_owned()),
        sample: None,
    }
}

#[tokio::test]
async fn a_preview_counts_the_members_a_rule_selects_in_text_or_json() {
    let app = spawn_or_skip!();
    for (id, gender) in [("M1", "female"), ("M2", "male"), ("M3", "female")] {
        let member = MemberRequest {
            member_id: id.to_owned(),
            gender: Some(gender.to_owned()),
            ..MemberRequest::default()
        };
        app.client.upsert_member(&member, None).await.unwrap();
    }
    let pastry = pastry_order("O1", "M1", "2026-11-20");
    let mut beans = order("O2", "M2", 450);
    beans.placed_at = "2026-11-01".into();
    app.client
        .batch("orders", &[pastry, beans], None)
        .await
        .unwrap();

    let text = r#"bought(within = 30d, category = "pastry") or gender = male"#;
    let preview = app.client.preview_audience(&request(text)).await.unwrap();
    assert_eq!((preview.count, preview.members), (2, 3));
    assert_eq!(preview.sample, ["M1", "M2"]);
    assert_eq!(preview.as_of, "2026-11-22");
    assert_eq!(preview.text, text);

    // The JSON the answer gives back is the same rule.
    let again = app
        .client
        .preview_audience(&AudiencePreviewRequest {
            rule: Some(preview.rule.clone()),
            text: None,
            as_of: Some("2026-11-22".to_owned()),
            sample: Some(1),
        })
        .await
        .unwrap();
    assert_eq!(
        (again.count, again.sample.as_slice()),
        (2, &["M1".to_owned()][..])
    );

    let nesl = app
        .client
        .preview_audience(&request("nesl = prospect"))
        .await
        .unwrap();
    assert_eq!(nesl.sample, ["M3"], "M3 never bought");
}

#[tokio::test]
async fn a_bad_rule_is_refused_with_where_and_why() {
    let app = spawn_or_skip!();
    let refused = |body: serde_json::Value| {
        let client = app.client.clone();
        async move {
            let raw = client
                .raw(
                    reqwest::Method::POST,
                    "/api/v1/audiences/preview",
                    Some(&body),
                    &[],
                )
                .await
                .unwrap();
            let body: serde_json::Value = raw.json().unwrap();
            (raw.status, body)
        }
    };
    let (status, body) = refused(serde_json::json!({"text": "nesl in (S1, S2"})).await;
    assert_eq!(status, 422);
    assert_eq!(body["code"], "validation_failed");
    assert_eq!(body["details"][0]["field"], "text");
    assert_eq!(
        body["details"][0]["reason"],
        "line 1, column 16: expected `,` or `)`, found the end of the rule"
    );

    let (status, body) = refused(serde_json::json!({
        "rule": {"include": {"attribute": {"name": "age", "op": ">", "value": "old"}}}
    }))
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["details"][0]["field"], "rule.include.attribute.value");

    let (status, body) = refused(serde_json::json!({"text": "nesl = S9"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "validation_failed");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("`S9` is not a nesl label"),
        "{body}"
    );

    let (status, _) = refused(serde_json::json!({})).await;
    assert_eq!(status, 422);
}
