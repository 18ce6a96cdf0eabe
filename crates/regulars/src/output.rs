//! What long commands print while they run: a progress line on a terminal, and the errors file
//! of refused rows.

use std::fs::File;
use std::io::{BufWriter, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use regulars_server::app::{ImportObserver, RowError};

/// Quotes a CSV field when it needs it.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// Shows progress on stderr (only when it is a terminal) and writes refused rows to a CSV file
/// created on the first error.
pub struct Reporter {
    label: String,
    errors_path: PathBuf,
    errors: Option<BufWriter<File>>,
    pub error_rows: u64,
    terminal: bool,
    started: Instant,
    last_draw: Option<Instant>,
}

impl Reporter {
    pub fn new(label: impl Into<String>, errors_path: PathBuf) -> Self {
        Self {
            label: label.into(),
            errors_path,
            errors: None,
            error_rows: 0,
            terminal: std::io::stderr().is_terminal(),
            started: Instant::now(),
            last_draw: None,
        }
    }

    pub fn errors_path(&self) -> Option<&PathBuf> {
        self.errors.as_ref().map(|_| &self.errors_path)
    }

    /// Ends the progress line and flushes the errors file.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if self.terminal && self.last_draw.is_some() {
            eprintln!();
        }
        if let Some(errors) = &mut self.errors {
            errors.flush()?;
        }
        Ok(())
    }
}

impl ImportObserver for Reporter {
    fn progress(&mut self, bytes_read: u64, total_bytes: u64, rows: u64) {
        if !self.terminal {
            return;
        }
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|last| now - last < Duration::from_millis(100))
            && bytes_read < total_bytes
        {
            return;
        }
        self.last_draw = Some(now);
        let percent = (bytes_read * 100)
            .checked_div(total_bytes)
            .unwrap_or(100)
            .min(100);
        let rate = rows as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        let width = 30;
        let filled = (percent as usize * width / 100).min(width);
        eprint!(
            "\r{} [{}{}] {percent:>3}%  {rows} rows  {rate:.0} rows/s ",
            self.label,
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
    }

    fn rejected(&mut self, error: &RowError) -> std::io::Result<()> {
        if self.errors.is_none() {
            let mut file = BufWriter::new(File::create(&self.errors_path)?);
            writeln!(file, "file,line,field,reason")?;
            self.errors = Some(file);
        }
        self.error_rows += 1;
        let file = self.errors.as_mut().expect("created above");
        writeln!(
            file,
            "{},{},{},{}",
            csv_field(&error.file),
            error.line,
            csv_field(&error.field),
            csv_field(&error.reason)
        )
    }
}
