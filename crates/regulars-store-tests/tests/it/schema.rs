//! The schema each backend ends with after migrating, snapshotted so every schema change shows
//! up in review, and compared across backends so they keep the same tables and columns.

use regulars_test_support::TestDb;
use sqlx::{Connection as _, Row as _};

/// `table.column` for every column, sorted.
async fn sqlite_columns(db: &TestDb) -> Vec<String> {
    let path = db.url.sqlite_path().unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' AND m.name NOT LIKE 'sqlite%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut columns: Vec<String> = rows
        .iter()
        .map(|r| format!("{}.{}", r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect();
    columns.sort();
    columns
}

async fn postgres_columns(db: &TestDb) -> Vec<String> {
    let mut conn = sqlx::PgConnection::connect(db.url.expose()).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut columns: Vec<String> = rows
        .iter()
        .map(|r| format!("{}.{}", r.get::<String, _>(0), r.get::<String, _>(1)))
        .collect();
    columns.sort();
    columns
}

#[tokio::test]
async fn the_sqlite_schema_is_the_reviewed_one() {
    let db = TestDb::sqlite().await;
    insta::assert_snapshot!("schema", sqlite_columns(&db).await.join("\n"));
}

#[tokio::test]
async fn postgres_has_the_same_tables_and_columns_as_sqlite() {
    let Some(postgres) = TestDb::postgres().await else {
        return;
    };
    let sqlite = TestDb::sqlite().await;
    assert_eq!(
        postgres_columns(&postgres).await,
        sqlite_columns(&sqlite).await
    );
}
