//! Segment memberships: the transition log with its filters, the memberships now, and daily
//! snapshots with their migration matrix.

use jiff::civil::date;
use regulars_store::{Membership, SegmentTransition, TransitionFilter};

use crate::{DynStore, at, store_test};

fn moved(member: &str, model: &'static str, from: &str, to: &str, day: i8) -> SegmentTransition {
    SegmentTransition {
        member_id: member.to_owned(),
        model,
        from: from.to_owned(),
        to: to.to_owned(),
        day: date(2026, 11, day),
        at: at("2026-11-22T04:00:00Z"),
        cause: "time".to_owned(),
    }
}

fn membership(member: &str, nesl: &str) -> Membership {
    Membership {
        member_id: member.to_owned(),
        segments: [
            "champions".to_owned(),
            "important_value".to_owned(),
            nesl.to_owned(),
            "active".to_owned(),
            "growth".to_owned(),
        ],
    }
}

store_test!(
    transitions_are_logged_in_order_and_filtered_by_model_segment_and_day,
    |store: DynStore| async move {
        let log = [
            moved("M1", "nesl", "prospect", "N", 1),
            moved("M1", "nesl", "N", "S1", 10),
            moved("M2", "rfm", "prospect", "new_customers", 12),
            moved("M2", "nesl", "prospect", "N", 12),
        ];
        store
            .record_transitions(&log, &[membership("M1", "S1"), membership("M2", "N")])
            .await
            .unwrap();
        let all = store
            .list_transitions(&TransitionFilter {
                limit: 100,
                ..TransitionFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            all.iter()
                .map(|t| &t.transition)
                .cloned()
                .collect::<Vec<_>>(),
            log
        );
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));

        let into_or_out_of_n = store
            .list_transitions(&TransitionFilter {
                model: Some("nesl"),
                segment: Some("N".to_owned()),
                from_day: Some(date(2026, 11, 2)),
                to_day: Some(date(2026, 11, 12)),
                limit: 100,
                ..TransitionFilter::default()
            })
            .await
            .unwrap();
        let days: Vec<_> = into_or_out_of_n
            .iter()
            .map(|t| (t.transition.member_id.as_str(), t.transition.day))
            .collect();
        assert_eq!(
            days,
            [("M1", date(2026, 11, 10)), ("M2", date(2026, 11, 12))]
        );

        let m2 = store
            .list_transitions(&TransitionFilter {
                member_id: Some("M2".to_owned()),
                limit: 100,
                ..TransitionFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            m2.iter().map(|t| t.seq).collect::<Vec<_>>(),
            [all[2].seq, all[3].seq]
        );

        let page = store
            .list_transitions(&TransitionFilter {
                after_seq: Some(all[1].seq),
                limit: 1,
                ..TransitionFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].seq, all[2].seq);

        let mut now = store.memberships().await.unwrap();
        now.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        assert_eq!(now, [membership("M1", "S1"), membership("M2", "N")]);
    }
);

store_test!(
    a_snapshot_copies_every_membership_and_migrations_compare_two_days,
    |store: DynStore| async move {
        store
            .record_transitions(
                &[],
                &[
                    membership("M1", "N"),
                    membership("M2", "N"),
                    membership("M3", "S1"),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .snapshot_memberships(date(2026, 10, 31), date(2026, 1, 1))
                .await
                .unwrap(),
            3
        );
        store
            .record_transitions(
                &[
                    moved("M1", "nesl", "N", "S1", 20),
                    moved("M3", "nesl", "S1", "S2", 20),
                ],
                &[membership("M1", "S1"), membership("M3", "S2")],
            )
            .await
            .unwrap();
        // Taking the same day twice replaces it.
        store
            .snapshot_memberships(date(2026, 11, 21), date(2026, 1, 1))
            .await
            .unwrap();
        assert_eq!(
            store
                .snapshot_memberships(date(2026, 11, 21), date(2026, 1, 1))
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            store.snapshot_days().await.unwrap(),
            [date(2026, 10, 31), date(2026, 11, 21)]
        );

        let matrix = store
            .migration_matrix("nesl", date(2026, 10, 31), date(2026, 11, 21))
            .await
            .unwrap();
        let cells: Vec<_> = matrix
            .iter()
            .map(|c| (c.from.as_str(), c.to.as_str(), c.members))
            .collect();
        assert_eq!(cells, [("N", "N", 1), ("N", "S1", 1), ("S1", "S2", 1)]);

        // Snapshots before the kept range are dropped.
        store
            .snapshot_memberships(date(2026, 11, 22), date(2026, 11, 1))
            .await
            .unwrap();
        assert_eq!(
            store.snapshot_days().await.unwrap(),
            [date(2026, 11, 21), date(2026, 11, 22)]
        );
    }
);
