//! The full scans the live segments read at startup (every fact, and every member's stored
//! segments), read with rusqlite off the async threads.
//!
//! sqlx's SQLite driver hands every row from its worker thread to the caller through a channel,
//! which costs about 5 µs a row, most of it thread wake-ups: 55 s for 10,000,000 orders. Here
//! one thread steps the statements directly and sends the rows on in batches, so the scan costs
//! what SQLite costs. All four fact tables are read in one transaction, hence from one snapshot.

use std::path::Path;

use regulars_store::{FactVisitor, Membership, OrderScan, ReturnScan, StoreError, StoreResult};
use rusqlite::{Connection, Row};
use tokio::sync::mpsc;

use crate::connections::open_read_only;

/// Rows per batch sent from the scanning thread.
const BATCH_ROWS: usize = 8_192;

/// An order row, owned so it can cross threads.
struct OrderRow {
    member_id: String,
    order_id: String,
    placed_at: i64,
    status: String,
    status_at: i64,
    amount: i64,
    shipping: i64,
    completed_at: Option<i64>,
}

/// A return row, owned.
struct ReturnRow {
    member_id: String,
    order_id: String,
    completed_at: i64,
    amount: i64,
}

/// What the scanning thread sends: batches of one table's rows, in the order
/// [`FactVisitor`] promises (members, returns, orders, interactions), then how it ended.
enum Message {
    Members(Vec<String>),
    Returns(Vec<ReturnRow>),
    Orders(Vec<OrderRow>),
    Interactions(Vec<(String, i64)>),
    Failed(String),
}

/// Reads every fact of the file at `path` and hands it to `visitor`.
pub(crate) async fn scan_facts(path: &Path, visitor: &mut dyn FactVisitor) -> StoreResult<()> {
    let (sender, mut receiver) = mpsc::channel(4);
    let path = path.to_owned();
    std::thread::Builder::new()
        .name("regulars-scan".to_owned())
        .spawn(move || {
            if let Err(error) = scan(&path, &sender) {
                let _ = sender.blocking_send(Message::Failed(error.to_string()));
            }
        })
        .map_err(|e| StoreError::Other(anyhow::anyhow!("starting the fact scan: {e}")))?;
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Members(ids) => ids.iter().for_each(|id| visitor.member(id)),
            Message::Returns(rows) => {
                for row in &rows {
                    visitor.return_(ReturnScan {
                        member_id: &row.member_id,
                        order_id: &row.order_id,
                        completed_at: row.completed_at,
                        amount: row.amount,
                    });
                }
            }
            Message::Orders(rows) => {
                for row in &rows {
                    visitor.order(OrderScan {
                        member_id: &row.member_id,
                        order_id: &row.order_id,
                        placed_at: row.placed_at,
                        status: &row.status,
                        status_at: row.status_at,
                        amount: row.amount,
                        shipping: row.shipping,
                        completed_at: row.completed_at,
                    });
                }
            }
            Message::Interactions(rows) => {
                for (member_id, at) in &rows {
                    visitor.interaction(member_id, *at);
                }
            }
            Message::Failed(error) => {
                return Err(StoreError::Other(anyhow::anyhow!(
                    "scanning the facts failed: {error}"
                )));
            }
        }
    }
    Ok(())
}

/// Every member's stored segments, read on a blocking thread.
pub(crate) async fn read_memberships(path: &Path) -> StoreResult<Vec<Membership>> {
    let path = path.to_owned();
    let read = move || -> rusqlite::Result<Vec<Membership>> {
        let connection = open_read_only(&path)?;
        let mut statement = connection.prepare(
            "SELECT member_id, rfm, rfm8, nesl, rfim, lifecycle FROM segment_memberships",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(Membership {
                member_id: text(row, 0)?,
                segments: [
                    text(row, 1)?,
                    text(row, 2)?,
                    text(row, 3)?,
                    text(row, 4)?,
                    text(row, 5)?,
                ],
            })
        })?;
        rows.collect()
    };
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| StoreError::Other(anyhow::anyhow!("reading the memberships stopped: {e}")))?
        .map_err(|e| StoreError::Other(anyhow::anyhow!("reading the memberships failed: {e}")))
}

/// Why a scan stopped early.
enum ScanError {
    /// SQLite failed.
    Sqlite(rusqlite::Error),
    /// The receiver went away: the caller stopped listening, so the scan stops too.
    Abandoned,
}

impl From<rusqlite::Error> for ScanError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

fn scan(path: &Path, sender: &mpsc::Sender<Message>) -> Result<(), rusqlite::Error> {
    match scan_tables(path, sender) {
        Ok(()) | Err(ScanError::Abandoned) => Ok(()),
        Err(ScanError::Sqlite(error)) => Err(error),
    }
}

fn scan_tables(path: &Path, sender: &mpsc::Sender<Message>) -> Result<(), ScanError> {
    let connection = open_read_only(path)?;
    let snapshot = connection.unchecked_transaction()?;
    stream(
        &snapshot,
        "SELECT member_id FROM members ORDER BY member_id",
        sender,
        Message::Members,
        |row| text(row, 0),
    )?;
    stream(
        &snapshot,
        "SELECT o.member_id, r.order_id, r.completed_at, r.amount FROM returns r JOIN orders o ON o.order_id = r.order_id",
        sender,
        Message::Returns,
        |row| {
            Ok(ReturnRow {
                member_id: text(row, 0)?,
                order_id: text(row, 1)?,
                completed_at: row.get_ref(2)?.as_i64()?,
                amount: row.get_ref(3)?.as_i64()?,
            })
        },
    )?;
    stream(
        &snapshot,
        "SELECT member_id, order_id, placed_at, status, status_at, amount, shipping, completed_at \
         FROM orders",
        sender,
        Message::Orders,
        |row| {
            Ok(OrderRow {
                member_id: text(row, 0)?,
                order_id: text(row, 1)?,
                placed_at: row.get_ref(2)?.as_i64()?,
                status: text(row, 3)?,
                status_at: row.get_ref(4)?.as_i64()?,
                amount: row.get_ref(5)?.as_i64()?,
                shipping: row.get_ref(6)?.as_i64()?,
                completed_at: row.get_ref(7)?.as_i64_or_null()?,
            })
        },
    )?;
    stream(
        &snapshot,
        "SELECT member_id, at FROM interactions",
        sender,
        Message::Interactions,
        |row| Ok((text(row, 0)?, row.get_ref(1)?.as_i64()?)),
    )?;
    snapshot.finish()?;
    Ok(())
}

fn text(row: &Row<'_>, column: usize) -> rusqlite::Result<String> {
    Ok(row.get_ref(column)?.as_str()?.to_owned())
}

/// Runs `sql` and sends its rows, read by `read`, in batches wrapped by `wrap`.
fn stream<T>(
    connection: &Connection,
    sql: &str,
    sender: &mpsc::Sender<Message>,
    wrap: fn(Vec<T>) -> Message,
    read: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<(), ScanError> {
    let mut statement = connection.prepare(sql)?;
    let mut rows = statement.query([])?;
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    while let Some(row) = rows.next()? {
        batch.push(read(row)?);
        if batch.len() == BATCH_ROWS {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
            sender
                .blocking_send(wrap(full))
                .map_err(|_| ScanError::Abandoned)?;
        }
    }
    if !batch.is_empty() {
        sender
            .blocking_send(wrap(batch))
            .map_err(|_| ScanError::Abandoned)?;
    }
    Ok(())
}
