//! Saved audiences and tags: definitions saved and replaced, memberships following the logged
//! moves, deletion with its log, manual tags following manual changes only, and both logs'
//! filters.

use jiff::civil::date;
use regulars_store::{AudienceMove, LogFilter, SavedAudience, StoreError, TagChange};

use crate::{DynStore, at, store_test};

fn audience(name: &str, rule: Option<&str>, saved: &str) -> SavedAudience {
    SavedAudience {
        name: name.to_owned(),
        rule: rule.map(str::to_owned),
        tag: None,
        description: Some("for the test".to_owned()),
        created_at: at(saved),
        updated_at: at(saved),
    }
}

fn moved(audience: &str, member: &str, entered: bool, cause: &str) -> AudienceMove {
    AudienceMove {
        audience: audience.to_owned(),
        member_id: member.to_owned(),
        entered,
        day: date(2026, 11, 22),
        at: at("2026-11-22T04:00:00Z"),
        cause: cause.to_owned(),
    }
}

fn tagged(member: &str, tag: &str, added: bool, source: &str) -> TagChange {
    TagChange {
        member_id: member.to_owned(),
        tag: tag.to_owned(),
        added,
        source: source.to_owned(),
        day: date(2026, 11, 22),
        at: at("2026-11-22T04:00:00Z"),
        cause: "test".to_owned(),
    }
}

fn all() -> LogFilter {
    LogFilter {
        limit: 100,
        ..LogFilter::default()
    }
}

store_test!(
    a_saved_audience_keeps_its_first_save_time_and_its_members_follow_the_moves,
    |store: DynStore| async move {
        let first = audience("lapsed", Some("nesl = S3"), "2026-11-20T00:00:00Z");
        store
            .save_audience(
                &first,
                &[
                    moved("lapsed", "M1", true, "saved"),
                    moved("lapsed", "M2", true, "saved"),
                ],
                &[],
            )
            .await
            .unwrap();
        let edited = SavedAudience {
            rule: Some("nesl in (S2, S3)".to_owned()),
            tag: Some("lapsing".to_owned()),
            updated_at: at("2026-11-22T00:00:00Z"),
            created_at: at("2026-11-22T00:00:00Z"),
            ..first.clone()
        };
        store
            .save_audience(
                &edited,
                &[moved("lapsed", "M3", true, "edited")],
                &[tagged("M3", "lapsing", true, "audience:lapsed")],
            )
            .await
            .unwrap();
        store
            .record_audience_moves(&[moved("lapsed", "M1", false, "order:O-1")], &[])
            .await
            .unwrap();
        let listed = store.list_audiences().await.unwrap();
        assert_eq!(
            listed,
            vec![SavedAudience {
                created_at: first.created_at,
                ..edited
            }]
        );
        let members = store.audience_memberships().await.unwrap();
        assert_eq!(
            members,
            vec![
                ("lapsed".to_owned(), "M2".to_owned()),
                ("lapsed".to_owned(), "M3".to_owned())
            ]
        );
        // An auto tag's change is logged but is not a manual tag.
        assert!(store.manual_tags().await.unwrap().is_empty());
        assert_eq!(store.list_tag_changes(&all()).await.unwrap().len(), 1);
    }
);

store_test!(
    the_move_log_is_in_order_and_filtered_by_audience_member_and_position,
    |store: DynStore| async move {
        for name in ["a", "b"] {
            store
                .save_audience(
                    &audience(name, Some("consent(line)"), "2026-11-20T00:00:00Z"),
                    &[],
                    &[],
                )
                .await
                .unwrap();
        }
        let log = [
            moved("a", "M1", true, "saved"),
            moved("b", "M1", true, "saved"),
            moved("a", "M2", true, "order:O-2"),
            moved("a", "M1", false, "time"),
        ];
        store.record_audience_moves(&log, &[]).await.unwrap();
        let entries = store.list_audience_moves(&all()).await.unwrap();
        assert_eq!(
            entries.iter().map(|e| e.entry.clone()).collect::<Vec<_>>(),
            log
        );
        assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq));
        let of_a = store
            .list_audience_moves(&LogFilter {
                subject: Some("a".to_owned()),
                ..all()
            })
            .await
            .unwrap();
        assert_eq!(of_a.len(), 3);
        let of_m1_after = store
            .list_audience_moves(&LogFilter {
                member_id: Some("M1".to_owned()),
                after_seq: Some(entries[0].seq),
                ..all()
            })
            .await
            .unwrap();
        assert_eq!(
            of_m1_after
                .iter()
                .map(|e| e.entry.clone())
                .collect::<Vec<_>>(),
            vec![log[1].clone(), log[3].clone()]
        );
        let first_two = store
            .list_audience_moves(&LogFilter { limit: 2, ..all() })
            .await
            .unwrap();
        assert_eq!(first_two.len(), 2);
    }
);

store_test!(
    deleting_an_audience_drops_its_members_keeps_its_log_and_refuses_an_unknown_name,
    |store: DynStore| async move {
        store
            .save_audience(
                &audience("vip list", None, "2026-11-20T00:00:00Z"),
                &[moved("vip list", "M1", true, "list")],
                &[],
            )
            .await
            .unwrap();
        store
            .delete_audience(
                "vip list",
                &[moved("vip list", "M1", false, "deleted")],
                &[],
            )
            .await
            .unwrap();
        assert!(store.list_audiences().await.unwrap().is_empty());
        assert!(store.audience_memberships().await.unwrap().is_empty());
        assert_eq!(store.list_audience_moves(&all()).await.unwrap().len(), 2);
        let error = store
            .delete_audience(
                "vip list",
                &[moved("vip list", "M9", false, "deleted")],
                &[],
            )
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::NotFound), "{error:?}");
        // The refused delete wrote nothing.
        assert_eq!(store.list_audience_moves(&all()).await.unwrap().len(), 2);
    }
);

store_test!(
    manual_tags_follow_manual_changes_and_every_change_is_logged,
    |store: DynStore| async move {
        store
            .record_tag_changes(&[
                tagged("M1", "vip", true, TagChange::MANUAL),
                tagged("M2", "vip", true, TagChange::MANUAL),
                tagged("M1", "staff", true, TagChange::MANUAL),
                tagged("M2", "vip", false, TagChange::MANUAL),
                tagged("M3", "lapsing", true, "audience:lapsed"),
            ])
            .await
            .unwrap();
        assert_eq!(
            store.manual_tags().await.unwrap(),
            vec![
                ("M1".to_owned(), "staff".to_owned()),
                ("M1".to_owned(), "vip".to_owned())
            ]
        );
        let vip = store
            .list_tag_changes(&LogFilter {
                subject: Some("vip".to_owned()),
                ..all()
            })
            .await
            .unwrap();
        assert_eq!(
            vip.iter()
                .map(|e| (e.entry.member_id.as_str(), e.entry.added))
                .collect::<Vec<_>>(),
            vec![("M1", true), ("M2", true), ("M2", false)]
        );
    }
);
