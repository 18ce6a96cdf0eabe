//! The documented file formats for facts (`docs/import-format.md`): reading CSV, JSON Lines and
//! Shopify exports into validated facts row by row, and writing the generic CSV.
//!
//! Reading is streaming: a [`RowSource`] yields one [`Row`] at a time, each either a fact or the
//! field errors that refused it, so one bad row never stops a file and memory stays flat.
//! The request-to-fact conversion in [`convert`] is the same one the HTTP API uses.

pub mod audience;
pub mod convert;
pub mod coupons;
mod csv_read;
mod csv_write;
pub mod export;
mod jsonl;
pub mod member_list;
mod shopify;

use std::collections::HashMap;
use std::io::Read;

use jiff::tz::TimeZone;
use regulars_domain::{Currency, FieldErrors};

pub use csv_read::{CsvFact, CsvSource};
pub use csv_write::{CsvRecord, CsvSink};
pub use jsonl::{JsonFact, JsonlSource};
pub use shopify::{ShopifyCustomers, ShopifyOrders};

/// The fact kinds a file can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactKind {
    /// Store descriptions.
    Stores,
    /// Member profiles.
    Members,
    /// Orders (without or with their lines, by format).
    Orders,
    /// Order lines, apart from their orders.
    OrderLines,
    /// Returns.
    Returns,
    /// Interactions.
    Interactions,
    /// Behaviour events.
    Events,
}

impl FactKind {
    /// Every kind, in the order a full import must run (stores and members before the facts
    /// that name them, orders before their lines and returns).
    pub const IMPORT_ORDER: [Self; 7] = [
        Self::Stores,
        Self::Members,
        Self::Orders,
        Self::OrderLines,
        Self::Returns,
        Self::Interactions,
        Self::Events,
    ];

    /// The name used on the command line and as the file stem (`order-lines`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stores => "stores",
            Self::Members => "members",
            Self::Orders => "orders",
            Self::OrderLines => "order-lines",
            Self::Returns => "returns",
            Self::Interactions => "interactions",
            Self::Events => "events",
        }
    }
}

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The generic CSV with a header row.
    Csv,
    /// One JSON object per line, in the API's request shapes.
    Jsonl,
    /// Shopify's customers or orders CSV export.
    Shopify,
}

/// What a reader needs to know to read local times and amounts.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// The brand's time zone: local times are read in it unless their store has its own.
    pub zone: TimeZone,
    /// The brand's currency, used when a row names none.
    pub currency: Currency,
    /// Time zones of known stores, by store id.
    pub store_zones: HashMap<String, TimeZone>,
}

impl ParseContext {
    /// A context for a brand with no stores known yet.
    pub fn new(zone: TimeZone, currency: Currency) -> Self {
        Self {
            zone,
            currency,
            store_zones: HashMap::new(),
        }
    }

    /// The zone local times of `store_id`'s facts are read in.
    pub fn zone_for(&self, store_id: Option<&str>) -> &TimeZone {
        store_id
            .and_then(|id| self.store_zones.get(id.trim()))
            .unwrap_or(&self.zone)
    }
}

/// One row of a file: its line number and the fact, or why it was refused.
#[derive(Debug)]
pub struct Row<T> {
    /// The line it starts on, from 1 (the header is line 1 in CSV).
    pub line: u64,
    /// The fact, or the field errors.
    pub result: Result<T, FieldErrors>,
}

/// A stream of rows from one file.
pub trait RowSource<T>: Send {
    /// The next row, or `None` at the end of the file.
    fn next_row(&mut self) -> Option<Row<T>>;
    /// Bytes consumed so far, for progress.
    fn bytes_read(&self) -> u64;
    /// Columns of the header that the format does not know and that were ignored.
    fn ignored_columns(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The header lacks required columns.
    #[error("the header lacks the required column(s): {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// The header names a column twice.
    #[error("the header names column `{0}` twice")]
    DuplicateColumn(String),
    /// The file has no header row.
    #[error("the file is empty: a header row is required")]
    Empty,
    /// The header cannot be read.
    #[error("the header cannot be read: {0}")]
    BadHeader(String),
    /// The format does not carry this kind of fact.
    #[error("the {format} format has no {kind}")]
    Unsupported {
        /// The format.
        format: &'static str,
        /// The kind.
        kind: &'static str,
    },
}

/// The longest field we accept, in bytes; longer ones are refused with a row error.
pub const MAX_FIELD_BYTES: usize = 4096;

/// Opens a CSV or JSON Lines source for any fact type both formats know.
pub fn open_source<T, R>(
    format: Format,
    reader: R,
    context: ParseContext,
) -> Result<Box<dyn RowSource<T>>, FormatError>
where
    T: CsvFact + JsonFact + Send + 'static,
    R: Read + Send + 'static,
{
    match format {
        Format::Csv => Ok(Box::new(CsvSource::<R, T>::new(reader, context)?)),
        Format::Jsonl => Ok(Box::new(JsonlSource::<R, T>::new(reader, context))),
        Format::Shopify => Err(FormatError::Unsupported {
            format: "shopify",
            kind: T::KIND,
        }),
    }
}
