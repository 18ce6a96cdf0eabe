//! Saved audiences through the API: a rule kept live by facts, tags and the passing of days,
//! with every entering and leaving logged with its cause; static lists; manual and auto tags;
//! and the refusals (a cycle, an unknown segment, deleting an audience another one reads).

use regulars_api_types::{AudienceSaveRequest, MemberRequest, TagRequest};

use crate::{error_code, member_ids, pastry_order, rule, spawn_or_skip};

async fn members(app: &regulars_test_support::TestApp, genders: &[(&str, &str)]) {
    for (id, gender) in genders {
        let member = MemberRequest {
            member_id: (*id).to_owned(),
            gender: Some((*gender).to_owned()),
            ..MemberRequest::default()
        };
        app.client.upsert_member(&member, None).await.unwrap();
    }
}

#[tokio::test]
async fn a_saved_rule_is_kept_live_by_facts_and_days_and_logs_who_moved_and_why() {
    let app = spawn_or_skip!();
    app.app.start_segments().await.unwrap();
    members(&app, &[("M1", "female"), ("M2", "male"), ("M3", "female")]).await;
    app.client
        .batch(
            "orders",
            &[pastry_order("O1", "M1", "2026-11-20 09:00")],
            None,
        )
        .await
        .unwrap();

    let saved = app
        .client
        .save_audience(
            "pastry lovers",
            &rule(r#"bought(category = "pastry", within = 30d)"#),
        )
        .await
        .unwrap();
    assert!(saved.created);
    assert_eq!(
        (saved.entered, saved.left, saved.audience.members),
        (1, 0, 1)
    );
    assert_eq!(saved.audience.kind, "rule");

    // An order brings M2 in at once.
    app.client
        .batch(
            "orders",
            &[pastry_order("O2", "M2", "2026-11-21 10:00")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(member_ids(&app, "pastry lovers").await, ["M1", "M2"]);

    // Forty days on, both purchases left the window.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 40));
    app.app.tick_segments().await.unwrap();
    assert!(member_ids(&app, "pastry lovers").await.is_empty());

    let moves = app
        .client
        .audience_moves("pastry lovers", None)
        .await
        .unwrap()
        .moves;
    let seen: Vec<(&str, bool, &str)> = moves
        .iter()
        .map(|m| (m.member_id.as_str(), m.entered, m.cause.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("M1", true, "saved"),
            ("M2", true, "order:O2"),
            ("M1", false, "time"),
            ("M2", false, "time"),
        ]
    );
    let after = app
        .client
        .audience_moves("pastry lovers", Some(moves[1].seq))
        .await
        .unwrap();
    assert_eq!(after.moves.len(), 2);

    // Saving it again with another rule logs the difference as `edited`.
    let edited = app
        .client
        .save_audience("pastry lovers", &rule("gender = female"))
        .await
        .unwrap();
    assert!(!edited.created);
    assert_eq!((edited.entered, edited.left), (2, 0));
    let listed = app.client.audiences().await.unwrap().audiences;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].text.as_deref(), Some("gender = female"));
    assert_eq!(listed[0].members, 2);
}

#[tokio::test]
async fn a_static_list_holds_exactly_its_members_and_refuses_unknown_ones() {
    let app = spawn_or_skip!();
    members(&app, &[("M1", "female"), ("M2", "male"), ("M3", "female")]).await;
    let list = |ids: &[&str]| AudienceSaveRequest {
        members: Some(ids.iter().map(|s| (*s).to_owned()).collect()),
        text: None,
        ..rule("")
    };
    let saved = app
        .client
        .save_audience("launch guests", &list(&["M3", "M1"]))
        .await
        .unwrap();
    assert_eq!((saved.audience.kind.as_str(), saved.entered), ("list", 2));
    assert_eq!(member_ids(&app, "launch guests").await, ["M1", "M3"]);
    let refused = app
        .client
        .save_audience("launch guests", &list(&["M1", "M9"]))
        .await
        .unwrap_err();
    assert_eq!(error_code(&refused), (422, "validation_failed"));
    // The refused save changed nothing; a new list replaces the old one.
    assert_eq!(member_ids(&app, "launch guests").await, ["M1", "M3"]);
    let replaced = app
        .client
        .save_audience("launch guests", &list(&["M2"]))
        .await
        .unwrap();
    assert_eq!((replaced.entered, replaced.left), (1, 2));
    // Facts never move a static list.
    app.client
        .batch(
            "orders",
            &[pastry_order("O1", "M1", "2026-11-20 09:00")],
            None,
        )
        .await
        .unwrap();
    assert_eq!(member_ids(&app, "launch guests").await, ["M2"]);
}

#[tokio::test]
async fn a_static_list_by_phone_and_email_names_every_member_with_them_and_reports_the_rest() {
    let app = spawn_or_skip!();
    for (id, phone, email) in [
        ("M1", Some("0912-345-678"), None),
        ("M2", Some("+886912345678"), Some("wei@example.com")),
        ("M3", None, Some("Ming@Example.com")),
        ("M4", None, None),
    ] {
        let member = MemberRequest {
            member_id: id.to_owned(),
            phone: phone.map(str::to_owned),
            email: email.map(str::to_owned),
            ..MemberRequest::default()
        };
        app.client.upsert_member(&member, None).await.unwrap();
    }
    let request = AudienceSaveRequest {
        text: None,
        members: Some(vec!["M4".to_owned()]),
        phones: Some(vec!["0912345678".to_owned(), "0987-654-321".to_owned()]),
        emails: Some(vec![
            "ming@example.com".to_owned(),
            "nobody@example.com".to_owned(),
        ]),
        ..rule("")
    };
    let saved = app
        .client
        .save_audience("fair visitors", &request)
        .await
        .unwrap();
    assert_eq!(saved.entered, 4);
    assert_eq!(saved.unmatched, ["+886987654321", "nobody@example.com"]);
    assert_eq!(
        member_ids(&app, "fair visitors").await,
        ["M1", "M2", "M3", "M4"]
    );

    let bad = AudienceSaveRequest {
        emails: Some(vec!["not an address".to_owned()]),
        ..rule("")
    };
    let bad = AudienceSaveRequest { text: None, ..bad };
    let refused = app
        .client
        .save_audience("fair visitors", &bad)
        .await
        .unwrap_err();
    assert_eq!(error_code(&refused), (422, "validation_failed"));
    assert_eq!(
        member_ids(&app, "fair visitors").await,
        ["M1", "M2", "M3", "M4"]
    );
}

#[tokio::test]
async fn manual_and_auto_tags_move_the_rules_that_read_them_and_every_change_is_logged() {
    let app = spawn_or_skip!();
    members(&app, &[("M1", "female"), ("M2", "male"), ("M3", "female")]).await;
    app.client
        .save_audience("vips", &rule(r#"tag("vip")"#))
        .await
        .unwrap();
    let tagged = app
        .client
        .tag(
            "vip",
            &TagRequest {
                add: vec!["M1".to_owned(), "M2".to_owned()],
                remove: vec![],
            },
        )
        .await
        .unwrap();
    assert_eq!((tagged.changed, tagged.unchanged), (2, 0));
    assert_eq!(member_ids(&app, "vips").await, ["M1", "M2"]);
    app.client
        .tag(
            "vip",
            &TagRequest {
                add: vec!["M1".to_owned()],
                remove: vec!["M2".to_owned()],
            },
        )
        .await
        .unwrap();
    assert_eq!(member_ids(&app, "vips").await, ["M1"]);
    let both = app
        .client
        .tag(
            "vip",
            &TagRequest {
                add: vec!["M3".to_owned()],
                remove: vec!["M3".to_owned()],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error_code(&both), (422, "validation_failed"));
    let unknown = app
        .client
        .tag(
            "vip",
            &TagRequest {
                add: vec!["M3".to_owned()],
                remove: vec!["M404".to_owned()],
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error_code(&unknown), (422, "validation_failed"));
    // Neither refused request tagged anyone.
    assert_eq!(member_ids(&app, "vips").await, ["M1"]);
    let moves = app.client.audience_moves("vips", None).await.unwrap().moves;
    assert_eq!(moves.last().map(|m| m.cause.as_str()), Some("tag:vip"));

    // An auto tag: pastry buyers carry `pastry`, and another rule reads that tag.
    let mut auto = rule(r#"bought(category = "pastry")"#);
    auto.tag = Some("pastry".to_owned());
    app.client
        .save_audience("pastry buyers", &auto)
        .await
        .unwrap();
    app.client
        .save_audience(
            "pastry women",
            &rule(r#"tag("pastry") and gender = female and segment("pastry buyers")"#),
        )
        .await
        .unwrap();
    app.client
        .batch(
            "orders",
            &[
                pastry_order("O1", "M1", "2026-11-20 09:00"),
                pastry_order("O2", "M2", "2026-11-20 09:30"),
            ],
            None,
        )
        .await
        .unwrap();
    assert_eq!(member_ids(&app, "pastry buyers").await, ["M1", "M2"]);
    assert_eq!(member_ids(&app, "pastry women").await, ["M1"]);
    let changes = app.client.tag_changes("pastry").await.unwrap().changes;
    let seen: Vec<(&str, bool, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c.member_id.as_str(),
                c.added,
                c.source.as_str(),
                c.cause.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("M1", true, "audience:pastry buyers", "order:O1"),
            ("M2", true, "audience:pastry buyers", "order:O2"),
        ]
    );
    let vip = app.client.tag_changes("vip").await.unwrap().changes;
    assert_eq!(
        vip.len(),
        3,
        "two added, one removed; re-adding M1 changed nothing"
    );
    assert!(vip.iter().all(|c| c.source == "manual" && c.cause == "api"));
}

#[tokio::test]
async fn cycles_unknown_segments_and_deleting_a_read_audience_are_refused() {
    let app = spawn_or_skip!();
    members(&app, &[("M1", "female")]).await;
    let unknown = app
        .client
        .save_audience("a", &rule(r#"segment("nowhere")"#))
        .await
        .unwrap_err();
    assert_eq!(error_code(&unknown), (422, "validation_failed"));
    app.client
        .save_audience("a", &rule("gender = female"))
        .await
        .unwrap();
    app.client
        .save_audience("b", &rule(r#"segment("a")"#))
        .await
        .unwrap();
    let cycle = app
        .client
        .save_audience("a", &rule(r#"segment("b")"#))
        .await
        .unwrap_err();
    assert_eq!(error_code(&cycle), (422, "validation_failed"));
    // The refused edit left `a` as it was.
    let a = app.client.audience("a").await.unwrap();
    assert_eq!((a.text.as_deref(), a.members), (Some("gender = female"), 1));
    assert_eq!(member_ids(&app, "b").await, ["M1"]);

    let read = app.client.delete_audience("a").await.unwrap_err();
    assert_eq!(error_code(&read), (409, "conflict"));
    app.client.delete_audience("b").await.unwrap();
    app.client.delete_audience("a").await.unwrap();
    let gone = app.client.audience("a").await.unwrap_err();
    assert_eq!(error_code(&gone), (404, "not_found"));
    let moves = app.client.audience_moves("a", None).await.unwrap().moves;
    assert_eq!(
        moves
            .iter()
            .map(|m| (m.entered, m.cause.as_str()))
            .collect::<Vec<_>>(),
        [(true, "saved"), (false, "deleted")]
    );
}

#[tokio::test]
async fn an_export_gives_the_chosen_columns_and_the_ad_file_hashed_contacts() {
    let app = spawn_or_skip!();
    for (id, name, phone, email) in [
        (
            "M1",
            "林小美",
            Some("0912-345-678"),
            Some("Mei.Lin@gmail.com"),
        ),
        ("M2", "Chen, Wei", None, None),
        ("M3", "王大明", None, Some("daming@example.com")),
    ] {
        let member = MemberRequest {
            member_id: id.to_owned(),
            name: Some(name.to_owned()),
            phone: phone.map(str::to_owned),
            email: email.map(str::to_owned),
            ..MemberRequest::default()
        };
        app.client.upsert_member(&member, None).await.unwrap();
    }
    app.client
        .save_audience("everyone", &rule("nesl = prospect"))
        .await
        .unwrap();
    let get = |path: String| {
        let client = app.client.clone();
        async move {
            client
                .raw(reqwest::Method::GET, &path, None, &[])
                .await
                .unwrap()
        }
    };
    let csv =
        get("/api/v1/audiences/everyone/export?columns=member_id,name,email,nesl".into()).await;
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.text,
        "\u{feff}member_id,name,email,nesl\n\
         M1,林小美,mei.lin@gmail.com,prospect\n\
         M2,\"Chen, Wei\",,prospect\n\
         M3,王大明,daming@example.com,prospect\n"
    );
    let bad = get("/api/v1/audiences/everyone/export?columns=member_id,shoe_size".into()).await;
    assert_eq!(bad.status, 422);

    let ad = get("/api/v1/audiences/everyone/ad-file?platform=meta".into()).await;
    assert_eq!(ad.status, 200);
    let hash = regulars_formats::export::sha256_hex;
    assert_eq!(
        ad.text,
        format!(
            "\u{feff}email,phone\n{},{}\n{},\n",
            hash("mei.lin@gmail.com"),
            hash("886912345678"),
            hash("daming@example.com")
        ),
        "M2 has neither and is left out"
    );
}

#[tokio::test]
async fn a_restart_logs_only_what_changed_while_the_audiences_were_not_live() {
    let app = spawn_or_skip!();
    members(&app, &[("M1", "female")]).await;
    let mut women = rule("gender = female");
    women.tag = Some("w".to_owned());
    app.client.save_audience("women", &women).await.unwrap();
    app.client
        .save_audience("tagged", &rule(r#"tag("w")"#))
        .await
        .unwrap();

    // Another process over the same database, not live: a member arrives unseen.
    let config = &app.db.config;
    let offline = regulars_server::app::App::new(
        app.db.store.clone(),
        app.clock.clone(),
        config.brand.clone(),
        config.ingest,
    )
    .with_segmentation(config.engine.clone(), config.orders);
    let member = regulars_domain::MemberProfile {
        gender: Some(regulars_domain::Gender::Female),
        ..regulars_domain::MemberProfile::empty(regulars_domain::MemberId::parse("M2").unwrap())
    };
    offline.ingest(&[member], None).await.unwrap();
    offline.start_segments().await.unwrap();

    for name in ["women", "tagged"] {
        let moves = app.client.audience_moves(name, None).await.unwrap().moves;
        let seen: Vec<(&str, &str)> = moves
            .iter()
            .map(|m| (m.member_id.as_str(), m.cause.as_str()))
            .collect();
        assert_eq!(seen, [("M1", "saved"), ("M2", "restart")], "{name}");
    }
}

#[tokio::test]
async fn renaming_an_auto_tag_moves_the_tag_on_the_members_who_stay() {
    let app = spawn_or_skip!();
    members(&app, &[("M1", "female"), ("M2", "male")]).await;
    let mut women = rule("gender = female");
    women.tag = Some("w".to_owned());
    app.client.save_audience("women", &women).await.unwrap();
    app.client
        .save_audience("reads f", &rule(r#"tag("f")"#))
        .await
        .unwrap();
    assert!(member_ids(&app, "reads f").await.is_empty());
    women.tag = Some("f".to_owned());
    let edited = app.client.save_audience("women", &women).await.unwrap();
    assert_eq!((edited.entered, edited.left), (0, 0));
    assert_eq!(member_ids(&app, "reads f").await, ["M1"]);
    let w = app.client.tag_changes("w").await.unwrap().changes;
    assert_eq!(
        w.iter()
            .map(|c| (c.member_id.as_str(), c.added))
            .collect::<Vec<_>>(),
        [("M1", true), ("M1", false)]
    );
    let f = app.client.tag_changes("f").await.unwrap().changes;
    assert_eq!(
        f.iter()
            .map(|c| (c.member_id.as_str(), c.added))
            .collect::<Vec<_>>(),
        [("M1", true)]
    );
}

#[tokio::test]
async fn presets_are_listed_and_saved_once_through_the_api() {
    let app = spawn_or_skip!();
    let listed = app.client.audience_presets().await.unwrap();
    let names: Vec<&str> = listed.presets.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "interest users",
            "cart abandoners",
            "new customers",
            "repurchase cohort",
            "vip",
            "birthday this month"
        ]
    );
    assert!(listed.presets.iter().all(|p| !p.saved));
    // A brand's own audience under a preset's name is kept.
    app.client
        .save_audience("vip", &rule("orders >= 10"))
        .await
        .unwrap();

    let installed = app.client.install_audience_presets().await.unwrap();
    let names: Vec<&str> = installed
        .audiences
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "interest users",
            "cart abandoners",
            "new customers",
            "repurchase cohort",
            "birthday this month"
        ]
    );
    assert_eq!(
        app.client.audience("vip").await.unwrap().text.as_deref(),
        Some("orders >= 10")
    );
    let again = app.client.install_audience_presets().await.unwrap();
    assert!(again.audiences.is_empty());
    let listed = app.client.audience_presets().await.unwrap();
    assert!(listed.presets.iter().all(|p| p.saved));
}
