//! Importing a file: rows are parsed on a blocking thread while the previous batch is written,
//! so parsing and writing overlap on two cores; only two batches are ever in memory, whatever
//! the file's size. Bad rows are reported to an observer (the errors file) and the good rows land.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regulars_domain::{
    BehaviourEvent, FieldError, Interaction, MemberProfile, NewReturn, Order, OrderId, OrderLine,
    Store as ShopStore,
};
use regulars_formats::{
    CsvFact, FactKind, Format, FormatError, JsonFact, ParseContext, RowSource, ShopifyCustomers,
    ShopifyOrders, open_source,
};
use regulars_store::StoreError;

use crate::{App, AppError, Ingest, IngestSummary};

/// How an import runs.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// What the file holds.
    pub kind: FactKind,
    /// How it is written.
    pub format: Format,
    /// Refuse facts for unknown members and stores; the configured default when `None`.
    pub strict: Option<bool>,
    /// Rows per batch written to the store.
    pub batch_size: usize,
}

impl ImportOptions {
    /// Options for `kind` in `format`, with the default batch size.
    pub fn new(kind: FactKind, format: Format) -> Self {
        Self {
            kind,
            format,
            strict: None,
            batch_size: 5_000,
        }
    }
}

/// One refused row (a row with several bad fields gives several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The file.
    pub file: String,
    /// The line the row starts on.
    pub line: u64,
    /// The field at fault, or `(row)`.
    pub field: String,
    /// Why.
    pub reason: String,
}

/// Watches an import as it runs.
pub trait ImportObserver: Send {
    /// Called after each batch with the bytes read so far, the file's size and the rows read.
    fn progress(&mut self, _bytes_read: u64, _total_bytes: u64, _rows: u64) {}
    /// Called for each refused row's errors.
    fn rejected(&mut self, error: &RowError) -> std::io::Result<()>;
}

/// An observer that keeps the errors in memory (for tests and small imports).
#[derive(Debug, Default)]
pub struct SilentObserver {
    /// Every error reported.
    pub errors: Vec<RowError>,
}

impl ImportObserver for SilentObserver {
    fn rejected(&mut self, error: &RowError) -> std::io::Result<()> {
        self.errors.push(error.clone());
        Ok(())
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The file.
    pub file: String,
    /// What it held.
    pub kind: FactKind,
    /// Rows read.
    pub rows: u64,
    /// What became of them.
    pub counts: IngestSummary,
    /// Header columns the format does not know, ignored.
    pub ignored_columns: Vec<String>,
    /// How long it took.
    pub elapsed: Duration,
}

/// An import that could not run (rows that fail are not errors: they are reported and counted).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file's header or format is unusable.
    #[error("{path}: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        source: FormatError,
    },
    /// The errors file cannot be written.
    #[error("writing the errors file: {0}")]
    Report(std::io::Error),
    /// The store failed; batches before the failure are stored, and running the import again
    /// finishes it without duplicating anything.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for ImportError {
    fn from(error: StoreError) -> Self {
        Self::App(AppError::Store(error))
    }
}

/// A batch on its way from the parser to the store.
struct Chunk<T> {
    facts: Vec<T>,
    lines: Vec<u64>,
    errors: Vec<(u64, Vec<FieldError>)>,
    rows: u64,
    bytes: u64,
}

impl App {
    /// What the readers need: the brand's zone and currency and the zones of known stores.
    pub async fn parse_context(&self) -> Result<ParseContext, AppError> {
        let mut context = ParseContext::new(self.brand.time_zone.clone(), self.brand.currency);
        for store in self.stores().await? {
            context
                .store_zones
                .insert(store.store_id.to_string(), store.time_zone);
        }
        Ok(context)
    }

    /// Imports one file.
    #[tracing::instrument(skip_all, fields(file = %path.display(), kind = options.kind.as_str()))]
    pub async fn import_file(
        &self,
        path: &Path,
        options: &ImportOptions,
        observer: &mut dyn ImportObserver,
    ) -> Result<ImportSummary, ImportError> {
        let io = |source| ImportError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let total = file.metadata().map_err(io)?.len();
        let context = self.parse_context().await?;
        let format_error = |source| ImportError::Format {
            path: path.to_owned(),
            source,
        };
        let name = path.display().to_string();
        let run = Run {
            app: self,
            file: name,
            total,
            options,
            observer,
        };
        match (options.kind, options.format) {
            (FactKind::Members, Format::Shopify) => {
                run.rows::<MemberProfile>(Box::new(
                    ShopifyCustomers::new(file, context).map_err(format_error)?,
                ))
                .await
            }
            (FactKind::Orders, Format::Shopify) => {
                run.rows::<Order>(Box::new(
                    ShopifyOrders::new(file, context).map_err(format_error)?,
                ))
                .await
            }
            (FactKind::Stores, format) => {
                run.rows(open::<ShopStore>(format, file, context).map_err(format_error)?)
                    .await
            }
            (FactKind::Members, format) => {
                run.rows(open::<MemberProfile>(format, file, context).map_err(format_error)?)
                    .await
            }
            (FactKind::Orders, format) => {
                run.rows(open::<Order>(format, file, context).map_err(format_error)?)
                    .await
            }
            (FactKind::OrderLines, format) => {
                run.rows(open::<(OrderId, OrderLine)>(format, file, context).map_err(format_error)?)
                    .await
            }
            (FactKind::Returns, format) => {
                run.rows(open::<NewReturn>(format, file, context).map_err(format_error)?)
                    .await
            }
            (FactKind::Interactions, format) => {
                run.rows(open::<Interaction>(format, file, context).map_err(format_error)?)
                    .await
            }
            (FactKind::Events, format) => {
                run.rows(open::<BehaviourEvent>(format, file, context).map_err(format_error)?)
                    .await
            }
        }
    }

    /// Imports every `<kind>.csv` in `dir` (as `regulars generate` writes them), in dependency
    /// order; kinds without a file are skipped.
    pub async fn import_directory(
        &self,
        dir: &Path,
        observer: &mut dyn ImportObserver,
    ) -> Result<Vec<ImportSummary>, ImportError> {
        let mut summaries = Vec::new();
        for kind in FactKind::IMPORT_ORDER {
            let path = dir.join(format!("{}.csv", kind.as_str()));
            if path.exists() {
                summaries.push(
                    self.import_file(&path, &ImportOptions::new(kind, Format::Csv), observer)
                        .await?,
                );
            }
        }
        Ok(summaries)
    }
}

fn open<T>(
    format: Format,
    file: File,
    context: ParseContext,
) -> Result<Box<dyn RowSource<T>>, FormatError>
where
    T: CsvFact + JsonFact + Send + 'static,
{
    open_source(format, file, context)
}

struct Run<'a> {
    app: &'a App,
    file: String,
    total: u64,
    options: &'a ImportOptions,
    observer: &'a mut dyn ImportObserver,
}

impl Run<'_> {
    async fn rows<T: Ingest>(
        mut self,
        source: Box<dyn RowSource<T>>,
    ) -> Result<ImportSummary, ImportError> {
        let started = Instant::now();
        let batch_size = self.options.batch_size.max(1);
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Chunk<T>>(2);
        let producer = tokio::task::spawn_blocking(move || {
            let mut source = source;
            loop {
                let mut chunk = Chunk {
                    facts: Vec::with_capacity(batch_size),
                    lines: Vec::new(),
                    errors: Vec::new(),
                    rows: 0,
                    bytes: 0,
                };
                let mut done = false;
                while chunk.facts.len() < batch_size && chunk.errors.len() < batch_size {
                    let Some(row) = source.next_row() else {
                        done = true;
                        break;
                    };
                    chunk.rows += 1;
                    match row.result {
                        Ok(fact) => {
                            chunk.facts.push(fact);
                            chunk.lines.push(row.line);
                        }
                        Err(errors) => chunk.errors.push((row.line, errors.0)),
                    }
                }
                chunk.bytes = source.bytes_read();
                if sender.blocking_send(chunk).is_err() || done {
                    break;
                }
            }
            source.ignored_columns()
        });

        let mut counts = IngestSummary::default();
        let mut rows = 0;
        let mut result = Ok(());
        while let Some(chunk) = receiver.recv().await {
            rows += chunk.rows;
            if let Err(error) = self.write_chunk(chunk, &mut counts).await {
                result = Err(error);
                break;
            }
        }
        drop(receiver);
        let ignored_columns = producer
            .await
            .map_err(|e| StoreError::Other(anyhow::anyhow!("the parser failed: {e}")))?;
        result?;
        Ok(ImportSummary {
            file: self.file,
            kind: T::KIND,
            rows,
            counts,
            ignored_columns,
            elapsed: started.elapsed(),
        })
    }
}

impl Run<'_> {
    /// Reports a chunk's parse errors, stores its facts and reports what the store refused.
    async fn write_chunk<T: Ingest>(
        &mut self,
        chunk: Chunk<T>,
        counts: &mut IngestSummary,
    ) -> Result<(), ImportError> {
        for (line, errors) in &chunk.errors {
            counts.rejected += 1;
            for error in errors {
                self.report(*line, &error.field, &error.reason)?;
            }
        }
        if !chunk.facts.is_empty() {
            let outcomes = self.app.ingest(&chunk.facts, self.options.strict).await?;
            counts.add(&outcomes);
            for (outcome, line) in outcomes.iter().zip(&chunk.lines) {
                if let Err(rejection) = outcome {
                    self.report(*line, rejection.field(), &rejection.to_string())?;
                }
            }
        }
        self.observer.progress(
            chunk.bytes,
            self.total,
            counts.created + counts.updated + counts.duplicates + counts.rejected,
        );
        Ok(())
    }

    fn report(&mut self, line: u64, field: &str, reason: &str) -> Result<(), ImportError> {
        let error = RowError {
            file: self.file.clone(),
            line,
            field: field.to_owned(),
            reason: reason.to_owned(),
        };
        self.observer.rejected(&error).map_err(ImportError::Report)
    }
}
