//! The connections to the file, through rusqlite: one writer thread that runs every write
//! transaction in turn, and a few reader connections used on tokio's blocking threads.
//!
//! sqlx's SQLite driver runs each connection on a worker thread and hands every statement, bound
//! value and row across a channel; at ingest rates that hop cost more than SQLite itself. Here a
//! job is one closure: it crosses to the thread once, runs its statements (prepared once and
//! cached), and its result crosses back once.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use regulars_store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior, ffi};
use tokio::sync::oneshot;

/// How long a statement waits for a lock another process holds before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Idle reader connections kept open for the next read.
const IDLE_READERS: usize = 4;

/// Why a database call failed: SQLite itself, or what the store made of the rows it read.
#[derive(Debug)]
pub(crate) enum Failure {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

/// The result of work done on a connection.
pub(crate) type DbResult<T> = Result<T, Failure>;

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self::Store(StoreError::Other(error))
    }
}

impl From<Failure> for StoreError {
    /// Unique-key violations are conflicts; other SQLite errors are `Other`.
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Store(error) => error,
            Failure::Sqlite(rusqlite::Error::SqliteFailure(code, message))
                if matches!(
                    code.extended_code,
                    ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
            {
                Self::Conflict(message.unwrap_or_else(|| code.to_string()))
            }
            Failure::Sqlite(error) => Self::Other(error.into()),
        }
    }
}

/// Opens the file with the settings every connection shares.
fn open(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "cache_size", -65_536)?;
    connection.pragma_update(None, "temp_store", "memory")?;
    Ok(connection)
}

/// A connection that only reads, for the scans that run on a thread of their own.
pub(crate) fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    open(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

enum Message {
    Job(Job),
    /// Close the connection (checkpointing the WAL) and stop.
    Close(oneshot::Sender<()>),
}

/// The one connection that writes, on a thread of its own. Every write is a job run there in
/// one `BEGIN IMMEDIATE` transaction, so writers in this process queue instead of failing and
/// writers in other processes wait on the busy timeout.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Message>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Opens (creating if needed) the file in WAL mode and starts the writer thread.
    pub(crate) fn open(path: &Path) -> anyhow::Result<Self> {
        let connection = open(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.pragma_update(None, "journal_mode", "wal")?;
        connection.pragma_update(None, "synchronous", "normal")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        connection.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        connection.set_prepared_statement_cache_capacity(64);
        let checkpointer = Checkpointer::start(path)?;
        let (jobs, queue) = mpsc::channel::<Message>();
        std::thread::Builder::new()
            .name("regulars-sqlite-writer".to_owned())
            .spawn(move || {
                let mut connection = connection;
                while let Ok(message) = queue.recv() {
                    match message {
                        Message::Job(job) => {
                            job(&mut connection);
                            checkpointer.nudge();
                        }
                        Message::Close(done) => {
                            drop(checkpointer);
                            drop(connection);
                            let _ = done.send(());
                            return;
                        }
                    }
                }
            })?;
        Ok(Self { jobs })
    }

    /// Runs `work` in one immediate transaction on the writer thread, committing when it
    /// succeeds and rolling back when it fails. A job that panics is rolled back and fails alone:
    /// the thread, and every later write, carries on.
    pub(crate) async fn write<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> DbResult<R> + Send + 'static,
    ) -> StoreResult<R> {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |connection: &mut Connection| {
            let run = AssertUnwindSafe(|| -> DbResult<R> {
                let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let value = work(&tx)?;
                tx.commit()?;
                Ok(value)
            });
            let outcome = std::panic::catch_unwind(run).unwrap_or_else(|_| {
                Err(Failure::Store(StoreError::Other(anyhow::anyhow!(
                    "a write panicked and was rolled back"
                ))))
            });
            let _ = reply.send(outcome);
        });
        self.jobs.send(Message::Job(job)).map_err(|_| closed())?;
        Ok(result.await.map_err(|_| closed())??)
    }

    /// Closes the connection once the jobs queued before have run.
    pub(crate) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Message::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }
}

/// WAL pages after which the writer checkpoints by itself: a backstop for when the checkpointer
/// falls behind (SQLite's default is 1,000).
const WRITER_CHECKPOINT_PAGES: i64 = 16_000;

/// The least time between two checkpoints the checkpointer runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Copies the WAL back into the database file on a thread and connection of its own, so the
/// writer's commits do not wait for it: SQLite's automatic checkpoint runs inside the commit
/// that crosses its threshold, which made every other 10,000-order batch 40 ms slower. A passive
/// checkpoint never blocks the writer or a reader; once the WAL is all copied, the writer's next
/// transaction starts it again from the beginning, so it stays small.
struct Checkpointer {
    nudges: mpsc::SyncSender<()>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Checkpointer {
    /// Stops the thread and waits for it, so its connection is closed before the writer's.
    fn drop(&mut self) {
        let (stopped, _) = mpsc::sync_channel(1);
        drop(std::mem::replace(&mut self.nudges, stopped));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Checkpointer {
    fn start(path: &Path) -> anyhow::Result<Self> {
        let connection = open(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let (nudges, wake) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("regulars-sqlite-checkpoint".to_owned())
            .spawn(move || {
                let mut last: Option<Instant> = None;
                while wake.recv().is_ok() {
                    // Rest since the last one, noticing meanwhile if the writer is gone.
                    if let Some(deadline) = last.map(|at| at + CHECKPOINT_EVERY) {
                        while let Some(rest) = deadline.checked_duration_since(Instant::now()) {
                            if let Err(mpsc::RecvTimeoutError::Disconnected) =
                                wake.recv_timeout(rest)
                            {
                                return;
                            }
                        }
                    }
                    if let Err(error) = checkpoint(&connection) {
                        tracing::warn!(%error, "a WAL checkpoint failed; the writer's own will run");
                    }
                    last = Some(Instant::now());
                }
            })?;
        Ok(Self {
            nudges,
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint soon; nudges while one is pending are one.
    fn nudge(&self) {
        let _ = self.nudges.try_send(());
    }
}

/// Copies the WAL back in two steps: a passive pass copies what is committed without blocking
/// anyone, then a restarting pass waits for the writer's transaction in flight, copies the few
/// frames it added and leaves the WAL wholly copied, so the writer's next transaction writes it
/// from the beginning again. (Passive passes alone never catch a moment with the WAL wholly copied
/// while the writer keeps committing, and the WAL would grow to the writer's backstop.)
fn checkpoint(connection: &Connection) -> rusqlite::Result<()> {
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    connection.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
}

fn closed() -> StoreError {
    StoreError::Other(anyhow::anyhow!("the SQLite store is closed"))
}

/// Connections that read, each used by one blocking task at a time and kept for the next.
#[derive(Debug, Clone)]
pub(crate) struct Readers {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Readers {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            idle: Arc::default(),
        }
    }

    /// Runs `work` with a reader connection on a blocking thread.
    pub(crate) async fn read<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> DbResult<R> + Send + 'static,
    ) -> StoreResult<R> {
        let readers = self.clone();
        tokio::task::spawn_blocking(move || -> StoreResult<R> {
            let connection = readers.take().map_err(Failure::from)?;
            let result = work(&connection);
            readers.put_back(connection);
            Ok(result?)
        })
        .await
        .map_err(|e| StoreError::Other(anyhow::anyhow!("a SQLite read stopped: {e}")))?
    }

    fn take(&self) -> rusqlite::Result<Connection> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match idle {
            Some(connection) => Ok(connection),
            None => {
                let connection = open(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                connection.pragma_update(None, "query_only", true)?;
                Ok(connection)
            }
        }
    }

    fn put_back(&self, connection: Connection) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(connection);
        }
    }

    /// Closes the idle connections.
    pub(crate) fn close(&self) {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_bytes(path: &Path) -> u64 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len())
    }

    #[tokio::test]
    async fn the_checkpointer_keeps_the_wal_small_while_the_writer_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wal.db");
        let writer = Writer::open(&path).unwrap();
        writer
            .write(|tx| Ok(tx.execute_batch("CREATE TABLE blobs (data BLOB NOT NULL)")?))
            .await
            .unwrap();
        // 40 commits of 1 MiB each: without checkpoints the WAL would pass 40 MiB before the
        // writer's own backstop (16,000 pages) copied it back.
        let mut largest = 0;
        for _ in 0..40 {
            writer
                .write(|tx| {
                    tx.execute("INSERT INTO blobs VALUES (zeroblob(1048576))", [])?;
                    Ok(())
                })
                .await
                .unwrap();
            largest = largest.max(wal_bytes(&path));
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(
            largest < 20 << 20,
            "the WAL grew to {largest} bytes; the checkpointer did not keep up"
        );
        writer.close().await;
    }

    #[tokio::test]
    async fn a_failed_or_panicking_job_rolls_back_alone_and_a_closed_writer_refuses_work() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.db");
        let writer = Writer::open(&path).unwrap();
        writer
            .write(|tx| Ok(tx.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY)")?))
            .await
            .unwrap();
        let failed = writer
            .write(|tx| {
                tx.execute("INSERT INTO t VALUES ('a')", [])?;
                tx.execute("INSERT INTO t VALUES ('a')", [])?;
                Ok(())
            })
            .await;
        assert!(
            matches!(failed, Err(StoreError::Conflict(_))),
            "a taken key is a conflict, got {failed:?}"
        );
        let rows: i64 = Readers::new(&path)
            .read(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))?))
            .await
            .unwrap();
        assert_eq!(
            rows, 0,
            "the first insert of the failed job was rolled back"
        );
        let panicked = writer
            .write(|tx| -> DbResult<()> {
                tx.execute("INSERT INTO t VALUES ('b')", [])?;
                panic!("a bug in a job");
            })
            .await;
        assert!(
            panicked.is_err_and(|e| e.to_string().contains("panicked")),
            "a job that panics fails alone"
        );
        writer
            .write(|tx| Ok(tx.execute("INSERT INTO t VALUES ('c')", [])?))
            .await
            .expect("the writer carries on after a job panicked");
        let rows: Vec<String> = Readers::new(&path)
            .read(|conn| {
                let mut statement = conn.prepare("SELECT id FROM t ORDER BY id")?;
                let ids = statement.query_map([], |row| row.get(0))?;
                Ok(ids.collect::<rusqlite::Result<_>>()?)
            })
            .await
            .unwrap();
        assert_eq!(rows, ["c"], "the panicked job's insert was rolled back");
        writer.close().await;
        let refused = writer.write(|_| Ok(())).await;
        assert!(
            refused.is_err_and(|e| e.to_string().contains("closed")),
            "work sent after close is refused"
        );
    }
}
