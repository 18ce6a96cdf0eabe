//! The SQLite migrations, embedded in the binary; the Postgres crate has the same versions.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

/// Every migration: version, description and SQL, in order.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "facts", include_str!("../migrations/0001_facts.sql")),
    (
        2,
        "api keys",
        include_str!("../migrations/0002_api_keys.sql"),
    ),
    (
        3,
        "segments",
        include_str!("../migrations/0003_segments.sql"),
    ),
    (
        4,
        "lean segment writes",
        include_str!("../migrations/0004_lean_segment_writes.sql"),
    ),
    (
        5,
        "order completion",
        include_str!("../migrations/0005_order_completion.sql"),
    ),
    (
        6,
        "audiences",
        include_str!("../migrations/0006_audiences.sql"),
    ),
    (7, "points", include_str!("../migrations/0007_points.sql")),
    (
        8,
        "points earning",
        include_str!("../migrations/0008_points_earning.sql"),
    ),
    (9, "coupons", include_str!("../migrations/0009_coupons.sql")),
    (10, "tiers", include_str!("../migrations/0010_tiers.sql")),
    (
        11,
        "referrals",
        include_str!("../migrations/0011_referrals.sql"),
    ),
    (
        12,
        "tier changes by member",
        include_str!("../migrations/0012_tier_changes_by_member.sql"),
    ),
    (
        13,
        "earning caps",
        include_str!("../migrations/0013_earning_caps.sql"),
    ),
    (
        14,
        "points warnings",
        include_str!("../migrations/0014_points_warnings.sql"),
    ),
];

pub(crate) fn migrator() -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_migrations_folder_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let embedded: Vec<String> = MIGRATIONS
            .iter()
            .map(|(version, description, _)| {
                format!("{version:04}_{}.sql", description.replace(' ', "_"))
            })
            .collect();
        assert_eq!(files, embedded);
    }

    #[test]
    fn order_completion_is_backfilled_from_the_status_history() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        for (version, _, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v < 5) {
            db.execute_batch(sql)
                .unwrap_or_else(|e| panic!("migration {version}: {e}"));
        }
        // O1 is completed; O2 moved paid → completed → cancelled; O3 arrived completed and was
        // cancelled; O4 moved paid → cancelled; O5 is paid.
        db.execute_batch(
            "INSERT INTO members (member_id, created_at, updated_at) VALUES ('M1', 0, 0); \
             INSERT INTO orders (order_id, member_id, placed_at, status, status_at, currency, amount, discount, shipping, recorded_at) VALUES \
               ('O1', 'M1', 10, 'completed', 11, 'TWD', 100, 0, 0, 0), \
               ('O2', 'M1', 20, 'cancelled', 23, 'TWD', 100, 0, 0, 0), \
               ('O3', 'M1', 30, 'cancelled', 33, 'TWD', 100, 0, 0, 0), \
               ('O4', 'M1', 40, 'cancelled', 41, 'TWD', 100, 0, 0, 0), \
               ('O5', 'M1', 50, 'paid', 50, 'TWD', 100, 0, 0, 0); \
             INSERT INTO order_status_changes (order_id, from_status, to_status, at, recorded_at) VALUES \
               ('O2', 'paid', 'completed', 22, 0), ('O2', 'completed', 'cancelled', 23, 0), \
               ('O3', 'completed', 'cancelled', 33, 0), ('O4', 'paid', 'cancelled', 41, 0);",
        )
        .unwrap();
        let (_, _, completion) = MIGRATIONS.iter().find(|(v, _, _)| *v == 5).unwrap();
        db.execute_batch(completion).unwrap();
        let completed: Vec<(String, Option<i64>)> = db
            .prepare("SELECT order_id, completed_at FROM orders ORDER BY order_id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<(String, Option<i64>)> = vec![
            ("O1".into(), Some(11)),
            ("O2".into(), Some(22)),
            ("O3".into(), Some(30)),
            ("O4".into(), None),
            ("O5".into(), None),
        ];
        assert_eq!(completed, expected);
    }

    #[test]
    fn the_lean_segment_tables_keep_every_row_and_keep_counting_seq_up() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        for (version, _, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v < 4) {
            db.execute_batch(sql)
                .unwrap_or_else(|e| panic!("migration {version}: {e}"));
        }
        db.execute_batch(
            "INSERT INTO segment_transitions (member_id, model, from_segment, to_segment, day, at, cause) \
             VALUES ('M1', 'nesl', 'prospect', 'N', '2026-11-01', 1, 'order:O1'), \
                    ('M1', 'nesl', 'N', 'S1', '2026-11-20', 2, 'time'); \
             INSERT INTO segment_memberships VALUES ('M1', 'lost', 'general_retain', 'S1', 'lost', 'dormancy');",
        )
        .unwrap();
        let (_, _, lean) = MIGRATIONS.iter().find(|(v, _, _)| *v == 4).unwrap();
        db.execute_batch(lean).unwrap();
        let log: Vec<(i64, String)> = db
            .prepare("SELECT seq, to_segment FROM segment_transitions ORDER BY seq")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(log, [(1, "N".to_owned()), (2, "S1".to_owned())]);
        db.execute(
            "INSERT INTO segment_transitions (member_id, model, from_segment, to_segment, day, at, cause) \
             VALUES ('M1', 'nesl', 'S1', 'E0', '2026-11-21', 3, 'order:O2')",
            [],
        )
        .unwrap();
        assert_eq!(db.last_insert_rowid(), 3);
        let nesl: String = db
            .query_row(
                "SELECT nesl FROM segment_memberships WHERE member_id = 'M1'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(nesl, "S1");
    }
}
