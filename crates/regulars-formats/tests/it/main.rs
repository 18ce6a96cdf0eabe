//! The file formats from the outside: every kind of bad input gets a row- and field-level error
//! while good rows still come through, written facts read back unchanged, and no input panics.

mod audience;
mod bad_input;
mod properties;
mod shopify;

use regulars_domain::Currency;
use regulars_formats::{CsvFact, CsvSource, ParseContext, RowSource};

pub fn context() -> ParseContext {
    ParseContext::new(
        jiff::tz::TimeZone::get("Asia/Taipei").unwrap(),
        Currency::TWD,
    )
}

/// Every row of a CSV text: `Ok(fact)` or `Err("line field: reason; …")`.
pub fn read_csv<T: CsvFact + Send + 'static>(text: &[u8]) -> Vec<Result<T, String>> {
    let mut source = CsvSource::<_, T>::new(std::io::Cursor::new(text.to_vec()), context())
        .expect("the header is valid");
    let mut rows = Vec::new();
    while let Some(row) = source.next_row() {
        rows.push(row.result.map_err(|errors| {
            let parts: Vec<String> = errors
                .0
                .iter()
                .map(|e| format!("{} {}: {}", row.line, e.field, e.reason))
                .collect();
            parts.join("; ")
        }));
    }
    rows
}
