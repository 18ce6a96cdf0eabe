//! The full scans read at startup (every fact for the live segments, what audience rules read,
//! and every member's stored segments), read with rusqlite off the async threads.
//!
//! sqlx's SQLite driver hands every row from its worker thread to the caller through a channel,
//! which costs about 5 µs a row, most of it thread wake-ups: 55 s for 10,000,000 orders. Here
//! one thread steps the statements directly and sends the rows on in batches, so the scan costs
//! what SQLite costs. All four fact tables are read in one transaction, hence from one snapshot.

use std::path::Path;

use regulars_store::{
    AudienceVisitor, EventScan, FactVisitor, LineScan, MemberScan, Membership, OrderScan,
    ReturnScan, StoreError, StoreResult,
};
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

impl OrderRow {
    fn scan(&self) -> OrderScan<'_> {
        OrderScan {
            member_id: &self.member_id,
            order_id: &self.order_id,
            placed_at: self.placed_at,
            status: &self.status,
            status_at: self.status_at,
            amount: self.amount,
            shipping: self.shipping,
            completed_at: self.completed_at,
        }
    }
}

impl ReturnRow {
    fn scan(&self) -> ReturnScan<'_> {
        ReturnScan {
            member_id: &self.member_id,
            order_id: &self.order_id,
            completed_at: self.completed_at,
            amount: self.amount,
        }
    }
}

/// A member's profile, owned.
struct ProfileRow {
    member_id: String,
    gender: Option<String>,
    birthday: Option<String>,
    region: Option<String>,
    joined_at: Option<i64>,
    home_store_id: Option<String>,
    consents: [Option<bool>; 4],
}

/// An order line with its member, owned.
struct LineRow {
    member_id: String,
    order_id: String,
    sku: String,
    category: Option<String>,
    quantity: i64,
    unit_price: i64,
}

/// A behaviour event, owned.
struct EventRow {
    member_id: String,
    at: i64,
    kind: String,
    sku: Option<String>,
    category: Option<String>,
}

/// What the scanning thread sends: batches of one table's rows, in the order the visitor
/// promises, then how it ended.
enum Message {
    Members(Vec<String>),
    Returns(Vec<ReturnRow>),
    Orders(Vec<OrderRow>),
    Interactions(Vec<(String, i64)>),
    Profiles(Vec<ProfileRow>),
    StoreOrders(Vec<(OrderRow, Option<String>, Option<String>)>),
    Lines(Vec<LineRow>),
    Events(Vec<EventRow>),
    ChannelInteractions(Vec<(String, i64, String)>),
    Failed(String),
}

/// Runs `tables` on a scanning thread over one read snapshot of the file at `path`, and
/// returns the receiving end of its batches.
fn start(
    path: &Path,
    tables: fn(&Connection, &mpsc::Sender<Message>) -> Result<(), ScanError>,
) -> StoreResult<mpsc::Receiver<Message>> {
    let (sender, receiver) = mpsc::channel(4);
    let path = path.to_owned();
    std::thread::Builder::new()
        .name("regulars-scan".to_owned())
        .spawn(move || {
            if let Err(error) = scan(&path, &sender, tables) {
                let _ = sender.blocking_send(Message::Failed(error.to_string()));
            }
        })
        .map_err(|e| StoreError::Other(anyhow::anyhow!("starting the fact scan: {e}")))?;
    Ok(receiver)
}

fn failed(error: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("scanning the facts failed: {error}"))
}

/// Reads every fact of the file at `path` and hands it to `visitor`.
pub(crate) async fn scan_facts(path: &Path, visitor: &mut dyn FactVisitor) -> StoreResult<()> {
    let mut receiver = start(path, fact_tables)?;
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Members(ids) => ids.iter().for_each(|id| visitor.member(id)),
            Message::Returns(rows) => {
                rows.iter().for_each(|row| visitor.return_(row.scan()));
            }
            Message::Orders(rows) => {
                rows.iter().for_each(|row| visitor.order(row.scan()));
            }
            Message::Interactions(rows) => {
                for (member_id, at) in &rows {
                    visitor.interaction(member_id, *at);
                }
            }
            Message::Failed(error) => return Err(failed(&error)),
            _ => unreachable!("the fact scan sends only its own rows"),
        }
    }
    Ok(())
}

/// Reads what audience rules read from the file at `path` and hands it to `visitor`.
pub(crate) async fn scan_audience_facts(
    path: &Path,
    visitor: &mut dyn AudienceVisitor,
) -> StoreResult<()> {
    let mut receiver = start(path, audience_tables)?;
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Profiles(rows) => {
                for row in &rows {
                    visitor.member(MemberScan {
                        member_id: &row.member_id,
                        gender: row.gender.as_deref(),
                        birthday: row.birthday.as_deref(),
                        region: row.region.as_deref(),
                        joined_at: row.joined_at,
                        home_store_id: row.home_store_id.as_deref(),
                        consents: row.consents,
                    });
                }
            }
            Message::StoreOrders(rows) => {
                for (row, store_id, channel) in &rows {
                    visitor.order(row.scan(), store_id.as_deref(), channel.as_deref());
                }
            }
            Message::Lines(rows) => {
                for row in &rows {
                    visitor.line(LineScan {
                        member_id: &row.member_id,
                        order_id: &row.order_id,
                        sku: &row.sku,
                        category: row.category.as_deref(),
                        quantity: row.quantity,
                        unit_price: row.unit_price,
                    });
                }
            }
            Message::Returns(rows) => {
                rows.iter().for_each(|row| visitor.return_(row.scan()));
            }
            Message::Events(rows) => {
                for row in &rows {
                    visitor.event(EventScan {
                        member_id: &row.member_id,
                        at: row.at,
                        kind: &row.kind,
                        sku: row.sku.as_deref(),
                        category: row.category.as_deref(),
                    });
                }
            }
            Message::ChannelInteractions(rows) => {
                for (member_id, at, channel) in &rows {
                    visitor.interaction(member_id, *at, channel);
                }
            }
            Message::Failed(error) => return Err(failed(&error)),
            _ => unreachable!("the audience scan sends only its own rows"),
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

fn scan(
    path: &Path,
    sender: &mpsc::Sender<Message>,
    tables: fn(&Connection, &mpsc::Sender<Message>) -> Result<(), ScanError>,
) -> Result<(), rusqlite::Error> {
    let read = || -> Result<(), ScanError> {
        let connection = open_read_only(path)?;
        let snapshot = connection.unchecked_transaction()?;
        tables(&snapshot, sender)?;
        snapshot.finish()?;
        Ok(())
    };
    match read() {
        Ok(()) | Err(ScanError::Abandoned) => Ok(()),
        Err(ScanError::Sqlite(error)) => Err(error),
    }
}

const RETURNS_WITH_MEMBERS: &str = "SELECT o.member_id, r.order_id, r.completed_at, r.amount \
     FROM returns r JOIN orders o ON o.order_id = r.order_id";

fn return_row(row: &Row<'_>) -> rusqlite::Result<ReturnRow> {
    Ok(ReturnRow {
        member_id: text(row, 0)?,
        order_id: text(row, 1)?,
        completed_at: row.get_ref(2)?.as_i64()?,
        amount: row.get_ref(3)?.as_i64()?,
    })
}

/// The order columns both scans read first.
fn order_row(row: &Row<'_>) -> rusqlite::Result<OrderRow> {
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
}

fn optional_text(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<String>> {
    Ok(row.get_ref(column)?.as_str_or_null()?.map(str::to_owned))
}

fn audience_tables(snapshot: &Connection, sender: &mpsc::Sender<Message>) -> Result<(), ScanError> {
    stream(
        snapshot,
        "SELECT member_id, gender, birthday, region, joined_at, home_store_id, \
         consent_line, consent_sms, consent_email, consent_push FROM members ORDER BY member_id",
        sender,
        Message::Profiles,
        |row| {
            let consent = |c: usize| -> rusqlite::Result<Option<bool>> { row.get(c) };
            Ok(ProfileRow {
                member_id: text(row, 0)?,
                gender: optional_text(row, 1)?,
                birthday: optional_text(row, 2)?,
                region: optional_text(row, 3)?,
                joined_at: row.get_ref(4)?.as_i64_or_null()?,
                home_store_id: optional_text(row, 5)?,
                consents: [consent(6)?, consent(7)?, consent(8)?, consent(9)?],
            })
        },
    )?;
    stream(
        snapshot,
        "SELECT o.member_id, o.order_id, o.placed_at, o.status, o.status_at, o.amount, \
         o.shipping, o.completed_at, o.store_id, s.channel \
         FROM orders o LEFT JOIN stores s ON s.store_id = o.store_id",
        sender,
        Message::StoreOrders,
        |row| {
            Ok((
                order_row(row)?,
                optional_text(row, 8)?,
                optional_text(row, 9)?,
            ))
        },
    )?;
    stream(
        snapshot,
        "SELECT o.member_id, l.order_id, l.sku, l.category, l.quantity, l.unit_price \
         FROM order_lines l JOIN orders o ON o.order_id = l.order_id",
        sender,
        Message::Lines,
        |row| {
            Ok(LineRow {
                member_id: text(row, 0)?,
                order_id: text(row, 1)?,
                sku: text(row, 2)?,
                category: optional_text(row, 3)?,
                quantity: row.get_ref(4)?.as_i64()?,
                unit_price: row.get_ref(5)?.as_i64()?,
            })
        },
    )?;
    stream(
        snapshot,
        RETURNS_WITH_MEMBERS,
        sender,
        Message::Returns,
        return_row,
    )?;
    stream(
        snapshot,
        "SELECT member_id, at, kind, sku, category FROM behaviour_events",
        sender,
        Message::Events,
        |row| {
            Ok(EventRow {
                member_id: text(row, 0)?,
                at: row.get_ref(1)?.as_i64()?,
                kind: text(row, 2)?,
                sku: optional_text(row, 3)?,
                category: optional_text(row, 4)?,
            })
        },
    )?;
    stream(
        snapshot,
        "SELECT member_id, at, channel FROM interactions",
        sender,
        Message::ChannelInteractions,
        |row| Ok((text(row, 0)?, row.get_ref(1)?.as_i64()?, text(row, 2)?)),
    )
}

fn fact_tables(snapshot: &Connection, sender: &mpsc::Sender<Message>) -> Result<(), ScanError> {
    stream(
        snapshot,
        "SELECT member_id FROM members ORDER BY member_id",
        sender,
        Message::Members,
        |row| text(row, 0),
    )?;
    stream(
        snapshot,
        RETURNS_WITH_MEMBERS,
        sender,
        Message::Returns,
        return_row,
    )?;
    stream(
        snapshot,
        "SELECT member_id, order_id, placed_at, status, status_at, amount, shipping, completed_at \
         FROM orders",
        sender,
        Message::Orders,
        order_row,
    )?;
    stream(
        snapshot,
        "SELECT member_id, at FROM interactions",
        sender,
        Message::Interactions,
        |row| Ok((text(row, 0)?, row.get_ref(1)?.as_i64()?)),
    )
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
