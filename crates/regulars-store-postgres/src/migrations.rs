//! The Postgres migrations, embedded in the binary; the SQLite crate has the same versions.

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
}
