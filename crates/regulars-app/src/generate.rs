//! Writing a generated brand as import files, one CSV per fact kind.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use regulars_formats::{CsvRecord, CsvSink, FactKind};
use regulars_generate::{BrandSpec, members, stores};

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// What it holds.
    pub kind: FactKind,
    /// Where it is.
    pub path: PathBuf,
    /// How many rows.
    pub rows: u64,
}

struct Sink<T: CsvRecord> {
    sink: CsvSink<BufWriter<File>, T>,
    rows: u64,
    kind: FactKind,
    path: PathBuf,
}

impl<T: CsvRecord> Sink<T> {
    fn create(dir: &Path, kind: FactKind, spec: &BrandSpec) -> std::io::Result<Self> {
        let path = dir.join(format!("{}.csv", kind.as_str()));
        let file = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        Ok(Self {
            sink: CsvSink::new(file, spec.zone.clone())?,
            rows: 0,
            kind,
            path,
        })
    }

    fn write(&mut self, record: &T) -> std::io::Result<()> {
        self.rows += 1;
        self.sink.write(record)
    }

    fn finish(self) -> std::io::Result<GeneratedFile> {
        self.sink.finish()?.flush()?;
        Ok(GeneratedFile {
            kind: self.kind,
            path: self.path,
            rows: self.rows,
        })
    }
}

/// Writes the brand `spec` describes into `dir` (created if needed) as `<kind>.csv` files in the
/// generic CSV format, streaming member by member.
pub fn write_brand(spec: &BrandSpec, dir: &Path) -> std::io::Result<Vec<GeneratedFile>> {
    std::fs::create_dir_all(dir)?;
    let mut store_sink = Sink::create(dir, FactKind::Stores, spec)?;
    for store in stores(spec) {
        store_sink.write(&store)?;
    }
    let mut member_sink = Sink::create(dir, FactKind::Members, spec)?;
    let mut order_sink = Sink::create(dir, FactKind::Orders, spec)?;
    let mut line_sink = Sink::create(dir, FactKind::OrderLines, spec)?;
    let mut return_sink = Sink::create(dir, FactKind::Returns, spec)?;
    let mut interaction_sink = Sink::create(dir, FactKind::Interactions, spec)?;
    let mut event_sink = Sink::create(dir, FactKind::Events, spec)?;
    for member in members(spec) {
        member_sink.write(&member.profile)?;
        for order in &member.orders {
            order_sink.write(order)?;
            for line in &order.lines {
                line_sink.write(&(order.order_id.clone(), line.clone()))?;
            }
        }
        for item in &member.returns {
            return_sink.write(item)?;
        }
        for item in &member.interactions {
            interaction_sink.write(item)?;
        }
        for item in &member.events {
            event_sink.write(item)?;
        }
    }
    Ok(vec![
        store_sink.finish()?,
        member_sink.finish()?,
        order_sink.finish()?,
        line_sink.finish()?,
        return_sink.finish()?,
        interaction_sink.finish()?,
        event_sink.finish()?,
    ])
}
