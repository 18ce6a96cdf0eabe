//! Multi-row inserts: one statement per [`ROWS_PER_INSERT`] rows saves SQLite's per-statement
//! work (step, reset, bookkeeping) on the writer, the one thread every write waits for.

use rusqlite::{Connection, Statement};

use crate::connections::DbResult;

/// Rows one insert statement carries.
pub(crate) const ROWS_PER_INSERT: usize = 32;

/// `INSERT INTO {into} VALUES (?1, …), … {tail}`: `rows` rows of `width` parameters each.
fn insert_rows_sql(into: &str, width: usize, rows: usize, tail: &str) -> String {
    let row = |r: usize| {
        let params: Vec<String> = (1..=width).map(|c| format!("?{}", r * width + c)).collect();
        format!("({})", params.join(", "))
    };
    let rows: Vec<String> = (0..rows).map(row).collect();
    format!("INSERT INTO {into} VALUES {} {tail}", rows.join(", "))
}

/// Inserts `items` into `into` (`width` columns, `tail` after the values, such as an
/// `ON CONFLICT` clause), [`ROWS_PER_INSERT`] rows per statement; `bind` binds one item's
/// columns from the parameter after `offset`.
pub(crate) fn insert_rows<T>(
    conn: &Connection,
    into: &str,
    width: usize,
    tail: &str,
    items: &[T],
    bind: impl Fn(&mut Statement<'_>, usize, &T) -> rusqlite::Result<()>,
) -> DbResult<()> {
    let mut chunks = items.chunks_exact(ROWS_PER_INSERT);
    if items.len() >= ROWS_PER_INSERT {
        let sql = insert_rows_sql(into, width, ROWS_PER_INSERT, tail);
        let mut statement = conn.prepare_cached(&sql)?;
        for chunk in &mut chunks {
            for (row, item) in chunk.iter().enumerate() {
                bind(&mut statement, row * width, item)?;
            }
            statement.raw_execute()?;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut statement = conn.prepare_cached(&insert_rows_sql(into, width, 1, tail))?;
        for item in rest {
            bind(&mut statement, 0, item)?;
            statement.raw_execute()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .expect("a table");
        conn
    }

    fn bind(
        statement: &mut Statement<'_>,
        at: usize,
        item: &(i64, String),
    ) -> rusqlite::Result<()> {
        statement.raw_bind_parameter(at + 1, item.0)?;
        statement.raw_bind_parameter(at + 2, &item.1)
    }

    fn stored(conn: &Connection) -> Vec<(i64, String)> {
        let mut statement = conn
            .prepare("SELECT k, v FROM t ORDER BY k")
            .expect("a query");
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    }

    #[test]
    fn every_row_is_inserted_whatever_the_count_against_the_statement_size() {
        for n in [
            0,
            1,
            ROWS_PER_INSERT - 1,
            ROWS_PER_INSERT,
            3 * ROWS_PER_INSERT + 5,
        ] {
            let conn = table();
            let items: Vec<(i64, String)> = (0..n as i64).map(|k| (k, format!("v{k}"))).collect();
            insert_rows(&conn, "t (k, v)", 2, "", &items, bind).expect("inserted");
            assert_eq!(stored(&conn), items, "{n} rows");
        }
    }

    #[test]
    fn the_tail_applies_to_every_row_of_a_statement() {
        let conn = table();
        let first: Vec<(i64, String)> = (0..40).map(|k| (k, "old".to_owned())).collect();
        insert_rows(&conn, "t (k, v)", 2, "", &first, bind).expect("inserted");
        let again: Vec<(i64, String)> = (0..40).map(|k| (k, format!("new{k}"))).collect();
        let tail = "ON CONFLICT (k) DO UPDATE SET v = excluded.v";
        insert_rows(&conn, "t (k, v)", 2, tail, &again, bind).expect("upserted");
        assert_eq!(stored(&conn), again);
    }
}
