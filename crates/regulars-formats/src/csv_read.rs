//! The generic CSV format: a header row naming columns (any order, any case), then one fact per
//! row. Every row is read into the API's request shape and converted by [`crate::convert`].

use std::collections::HashMap;
use std::io::Read;
use std::marker::PhantomData;

use regulars_api_types::{
    ConsentRequest, EventRequest, InteractionRequest, MemberRequest, OrderLineImportRequest,
    OrderLineRequest, OrderRequest, ReturnLineRequest, ReturnRequest, StoreRequest,
};
use regulars_domain::{
    BehaviourEvent, Consent, ConsentChannel, Currency, FieldErrors, Interaction, MemberProfile,
    Money, NewReturn, Order, OrderId, OrderLine, Store,
};

use crate::{FormatError, MAX_FIELD_BYTES, ParseContext, Row, RowSource, convert};

/// The field name used for problems with a whole row.
pub(crate) const ROW_FIELD: &str = "(row)";

/// One CSV row's values by lower-case column name; blank values read as absent.
pub struct Fields<'a> {
    columns: &'a HashMap<String, usize>,
    values: &'a [&'a str],
}

impl<'a> Fields<'a> {
    pub(crate) fn new(columns: &'a HashMap<String, usize>, values: &'a [&'a str]) -> Self {
        Self { columns, values }
    }

    /// The first of several columns that has a value.
    pub fn first_of(&self, names: &[&str]) -> Option<&'a str> {
        names.iter().find_map(|name| self.get(name))
    }

    /// The trimmed value of a column, `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        let value = self.values.get(*self.columns.get(name)?)?.trim();
        (!value.is_empty()).then_some(value)
    }

    /// The value as an owned string.
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(ToOwned::to_owned)
    }

    /// The value of a required column (already known to be in the header); empty when blank.
    pub fn required(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// An amount in major units (`123.45`) as minor units of `currency`; an error is recorded
    /// under the column's name and 0 returned.
    pub fn minor_units(
        &self,
        errors: &mut FieldErrors,
        name: &str,
        currency: Currency,
    ) -> Option<i64> {
        let value = self.get(name)?;
        Some(
            errors
                .check(name, Money::parse_major_non_negative(value, currency))
                .map_or(0, |m| m.minor()),
        )
    }

    /// A whole number; an error is recorded under the column's name and 1 returned.
    pub fn integer(&self, errors: &mut FieldErrors, name: &str) -> Option<i64> {
        let value = self.get(name)?;
        Some(
            errors
                .check(
                    name,
                    value
                        .parse::<i64>()
                        .map_err(|_| format!("`{value}` is not a whole number")),
                )
                .unwrap_or(1),
        )
    }
}

/// What a reader remembers from row to row: the order whose lines are being numbered.
#[derive(Debug, Default)]
pub struct ReadState {
    current_order: Option<String>,
    next_line_no: u32,
}

impl ReadState {
    /// The line number of an order line given without one: its position in the current run of
    /// rows of the same order.
    pub(crate) fn next_line_no(&mut self, order_id: &str) -> u32 {
        if self.current_order.as_deref() != Some(order_id) {
            self.current_order = Some(order_id.to_owned());
            self.next_line_no = 0;
        }
        self.next_line_no += 1;
        self.next_line_no
    }
}

/// A fact that the generic CSV format carries.
pub trait CsvFact: Sized {
    /// The kind's name in messages.
    const KIND: &'static str;
    /// Columns every file must have.
    const REQUIRED: &'static [&'static str];
    /// Columns a file may have.
    const OPTIONAL: &'static [&'static str];
    /// Reads one row.
    fn from_fields(
        fields: &Fields<'_>,
        context: &ParseContext,
        state: &mut ReadState,
    ) -> Result<Self, FieldErrors>;
}

/// Joins the errors found while reading columns with those of the conversion.
fn finish<T>(mut errors: FieldErrors, converted: Result<T, FieldErrors>) -> Result<T, FieldErrors> {
    match converted {
        Ok(value) if errors.is_empty() => Ok(value),
        Ok(_) => Err(errors),
        Err(more) => {
            for error in more.0 {
                if !errors.0.iter().any(|e| e.field == error.field) {
                    errors.0.push(error);
                }
            }
            Err(errors)
        }
    }
}

impl CsvFact for Store {
    const KIND: &'static str = "stores";
    const REQUIRED: &'static [&'static str] = &["store_id", "name"];
    const OPTIONAL: &'static [&'static str] = &["channel", "time_zone"];
    fn from_fields(
        fields: &Fields<'_>,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        let request = StoreRequest {
            store_id: fields.required("store_id"),
            name: fields.required("name"),
            channel: fields.string("channel"),
            time_zone: fields.string("time_zone"),
        };
        convert::store(&request, context)
    }
}

/// The member columns of the consent of each channel: `consent_<channel>`, `…_at`, `…_source`.
const MEMBER_OPTIONAL: &[&str] = &[
    "name",
    "phone",
    "email",
    "line_user_id",
    "birthday",
    "gender",
    "region",
    "joined_at",
    "home_store_id",
    "referrer_id",
    "consent_line",
    "consent_line_at",
    "consent_line_source",
    "consent_sms",
    "consent_sms_at",
    "consent_sms_source",
    "consent_email",
    "consent_email_at",
    "consent_email_source",
    "consent_push",
    "consent_push_at",
    "consent_push_source",
];

impl CsvFact for MemberProfile {
    const KIND: &'static str = "members";
    const REQUIRED: &'static [&'static str] = &["member_id"];
    const OPTIONAL: &'static [&'static str] = MEMBER_OPTIONAL;
    fn from_fields(
        fields: &Fields<'_>,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut consents = Vec::new();
        for channel in ConsentChannel::ALL {
            let column = format!("consent_{}", channel.as_str());
            if let Some(value) = fields.get(&column)
                && let Some(granted) = errors.check(&column, Consent::parse_granted(value))
            {
                consents.push(ConsentRequest {
                    channel: channel.as_str().to_owned(),
                    granted,
                    at: fields.string(&format!("{column}_at")),
                    source: fields.string(&format!("{column}_source")),
                });
            }
        }
        let request = MemberRequest {
            member_id: fields.required("member_id"),
            name: fields.string("name"),
            phone: fields.string("phone"),
            email: fields.string("email"),
            line_user_id: fields.string("line_user_id"),
            birthday: fields.string("birthday"),
            gender: fields.string("gender"),
            region: fields.string("region"),
            joined_at: fields.string("joined_at"),
            home_store_id: fields.string("home_store_id"),
            referrer_id: fields.string("referrer_id"),
            consents,
        };
        finish(errors, convert::member(&request, context))
    }
}

fn row_currency(errors: &mut FieldErrors, fields: &Fields<'_>, context: &ParseContext) -> Currency {
    match fields.get("currency") {
        Some(code) => errors
            .check("currency", Currency::parse(code))
            .unwrap_or(context.currency),
        None => context.currency,
    }
}

impl CsvFact for Order {
    const KIND: &'static str = "orders";
    const REQUIRED: &'static [&'static str] = &["order_id", "member_id", "placed_at", "amount"];
    const OPTIONAL: &'static [&'static str] = &[
        "store_id",
        "status",
        "status_at",
        "currency",
        "discount",
        "shipping",
        "coupon_codes",
    ];
    fn from_fields(
        fields: &Fields<'_>,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let currency = row_currency(&mut errors, fields, context);
        let amount = fields.minor_units(&mut errors, "amount", currency);
        if amount.is_none() {
            errors.push("amount", "is empty");
        }
        let request = OrderRequest {
            order_id: fields.required("order_id"),
            member_id: fields.required("member_id"),
            store_id: fields.string("store_id"),
            placed_at: fields.required("placed_at"),
            status: fields.string("status"),
            status_at: fields.string("status_at"),
            currency: Some(currency.to_string()),
            amount: amount.unwrap_or(0),
            discount: fields.minor_units(&mut errors, "discount", currency),
            shipping: fields.minor_units(&mut errors, "shipping", currency),
            coupon_codes: fields
                .get("coupon_codes")
                .map(|codes| {
                    codes
                        .split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(ToOwned::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            lines: Vec::new(),
        };
        finish(errors, convert::order(&request, context))
    }
}

impl CsvFact for (OrderId, OrderLine) {
    const KIND: &'static str = "order-lines";
    const REQUIRED: &'static [&'static str] = &["order_id", "sku", "quantity", "unit_price"];
    const OPTIONAL: &'static [&'static str] = &["line_no", "name", "category", "currency"];
    fn from_fields(
        fields: &Fields<'_>,
        context: &ParseContext,
        state: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let currency = row_currency(&mut errors, fields, context);
        let order_id = fields.required("order_id");
        let line_no = fields.integer(&mut errors, "line_no");
        let default_line_no = state.next_line_no(&order_id);
        let request = OrderLineImportRequest {
            order_id,
            line: OrderLineRequest {
                line_no,
                sku: fields.required("sku"),
                name: fields.string("name"),
                category: fields.string("category"),
                quantity: fields.integer(&mut errors, "quantity").unwrap_or(0),
                unit_price: fields
                    .minor_units(&mut errors, "unit_price", currency)
                    .unwrap_or(0),
            },
        };
        finish(
            errors,
            convert::order_line(&request, default_line_no, currency),
        )
    }
}

impl CsvFact for NewReturn {
    const KIND: &'static str = "returns";
    const REQUIRED: &'static [&'static str] = &["return_id", "order_id", "amount", "completed_at"];
    const OPTIONAL: &'static [&'static str] = &["currency", "lines"];
    fn from_fields(
        fields: &Fields<'_>,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let currency = row_currency(&mut errors, fields, context);
        let mut lines = Vec::new();
        for item in fields
            .get("lines")
            .unwrap_or_default()
            .split(';')
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            let parsed = item.rsplit_once(':').and_then(|(sku, quantity)| {
                Some((sku.trim(), quantity.trim().parse::<i64>().ok()?))
            });
            match parsed {
                Some((sku, quantity)) => lines.push(ReturnLineRequest {
                    sku: sku.to_owned(),
                    quantity,
                }),
                None => errors.push("lines", format!("`{item}` is not SKU:QUANTITY")),
            }
        }
        let request = ReturnRequest {
            return_id: fields.required("return_id"),
            order_id: fields.required("order_id"),
            amount: fields
                .minor_units(&mut errors, "amount", currency)
                .unwrap_or(0),
            currency: Some(currency.to_string()),
            completed_at: fields.required("completed_at"),
            lines,
        };
        finish(errors, convert::return_(&request, context))
    }
}

impl CsvFact for Interaction {
    const KIND: &'static str = "interactions";
    const REQUIRED: &'static [&'static str] = &["member_id", "at", "channel", "kind"];
    const OPTIONAL: &'static [&'static str] = &["interaction_id"];
    fn from_fields(
        fields: &Fields<'_>,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        let request = InteractionRequest {
            interaction_id: fields.string("interaction_id"),
            member_id: fields.required("member_id"),
            at: fields.required("at"),
            channel: fields.required("channel"),
            kind: fields.required("kind"),
        };
        convert::interaction(&request, context)
    }
}

impl CsvFact for BehaviourEvent {
    const KIND: &'static str = "events";
    const REQUIRED: &'static [&'static str] = &["member_id", "at", "kind"];
    const OPTIONAL: &'static [&'static str] = &["event_id", "sku", "category", "query"];
    fn from_fields(
        fields: &Fields<'_>,
        context: &ParseContext,
        _: &mut ReadState,
    ) -> Result<Self, FieldErrors> {
        let request = EventRequest {
            event_id: fields.string("event_id"),
            member_id: fields.required("member_id"),
            at: fields.required("at"),
            kind: fields.required("kind"),
            sku: fields.string("sku"),
            category: fields.string("category"),
            query: fields.string("query"),
        };
        convert::event(&request, context)
    }
}

/// The longest physical line a CSV file may have, in bytes. A longer one (a broken quote that
/// swallows the rest of the file, or no line breaks at all) stops the file instead of growing
/// memory without bound.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// A reader that fails once a line grows past [`MAX_LINE_BYTES`].
pub(crate) struct LineLimit<R> {
    inner: R,
    since_newline: usize,
}

impl<R: Read> LineLimit<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            since_newline: 0,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match buf[..n].iter().rposition(|b| *b == b'\n') {
            Some(last) => self.since_newline = n - last - 1,
            None => self.since_newline += n,
        }
        if self.since_newline > MAX_LINE_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line is longer than {MAX_LINE_BYTES} bytes"),
            ));
        }
        Ok(n)
    }
}

/// A CSV reader over `reader`, with the line limit.
pub(crate) fn csv_reader<R: Read>(reader: R) -> csv::Reader<LineLimit<R>> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(LineLimit::new(reader))
}

/// The header of a CSV file: column positions by lower-case name.
pub(crate) struct Header {
    pub(crate) columns: HashMap<String, usize>,
    pub(crate) names: Vec<String>,
}

/// Reads and checks a header row: UTF-8 (a BOM is dropped), no repeated names.
pub(crate) fn read_header<R: Read>(reader: &mut csv::Reader<R>) -> Result<Header, FormatError> {
    let raw = reader
        .byte_headers()
        .map_err(|e| FormatError::BadHeader(e.to_string()))?
        .clone();
    if raw.is_empty() || (raw.len() == 1 && raw[0].is_empty()) {
        return Err(FormatError::Empty);
    }
    let mut columns = HashMap::new();
    let mut names = Vec::new();
    for (idx, bytes) in raw.iter().enumerate() {
        let bytes = if idx == 0 {
            bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
        } else {
            bytes
        };
        let name = std::str::from_utf8(bytes)
            .map_err(|_| FormatError::BadHeader(format!("column {} is not valid UTF-8", idx + 1)))?
            .trim()
            .to_lowercase();
        if columns.insert(name.clone(), idx).is_some() {
            return Err(FormatError::DuplicateColumn(name));
        }
        names.push(name);
    }
    Ok(Header { columns, names })
}

/// Reads one record's fields as text, refusing invalid UTF-8, oversized fields and a wrong field
/// count, each named by its column.
pub(crate) fn decode_record<'r>(
    record: &'r csv::ByteRecord,
    header: &Header,
) -> Result<Vec<&'r str>, FieldErrors> {
    let mut errors = FieldErrors::default();
    if record.len() != header.names.len() {
        errors.push(
            ROW_FIELD,
            format!(
                "has {} fields but the header has {}",
                record.len(),
                header.names.len()
            ),
        );
        return Err(errors);
    }
    let mut values = Vec::with_capacity(record.len());
    for (idx, bytes) in record.iter().enumerate() {
        let column = &header.names[idx];
        if bytes.len() > MAX_FIELD_BYTES {
            errors.push(
                column.as_str(),
                format!("is longer than {MAX_FIELD_BYTES} bytes"),
            );
            values.push("");
            continue;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => values.push(text),
            Err(_) => {
                errors.push(column.as_str(), "is not valid UTF-8");
                values.push("");
            }
        }
    }
    errors.finish(|| values)
}

/// A streaming reader of one generic CSV file of `T`s.
pub struct CsvSource<R: Read, T> {
    reader: csv::Reader<LineLimit<R>>,
    header: Header,
    record: csv::ByteRecord,
    context: ParseContext,
    state: ReadState,
    failed: bool,
    _fact: PhantomData<fn() -> T>,
}

impl<R: Read, T: CsvFact> CsvSource<R, T> {
    /// Reads the header; fails when required columns are missing.
    pub fn new(reader: R, context: ParseContext) -> Result<Self, FormatError> {
        let mut reader = csv_reader(reader);
        let header = read_header(&mut reader)?;
        let missing: Vec<String> = T::REQUIRED
            .iter()
            .filter(|name| !header.columns.contains_key(**name))
            .map(|name| (*name).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(FormatError::MissingColumns(missing));
        }
        Ok(Self {
            reader,
            header,
            record: csv::ByteRecord::new(),
            context,
            state: ReadState::default(),
            failed: false,
            _fact: PhantomData,
        })
    }
}

impl<R: Read + Send, T: CsvFact> RowSource<T> for CsvSource<R, T> {
    fn next_row(&mut self) -> Option<Row<T>> {
        loop {
            if self.failed {
                return None;
            }
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(error) => {
                    // A broken stream cannot be resynchronised: report it once and stop.
                    self.failed = true;
                    let line = error.position().map_or(0, csv::Position::line);
                    let mut errors = FieldErrors::default();
                    errors.push(ROW_FIELD, format!("cannot be read: {error}"));
                    return Some(Row {
                        line,
                        result: Err(errors),
                    });
                }
            }
            let line = self.record.position().map_or(0, csv::Position::line);
            if self.record.iter().all(<[u8]>::is_empty) {
                continue;
            }
            let result = decode_record(&self.record, &self.header).and_then(|values| {
                let fields = Fields {
                    columns: &self.header.columns,
                    values: &values,
                };
                T::from_fields(&fields, &self.context, &mut self.state)
            });
            return Some(Row { line, result });
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    fn ignored_columns(&self) -> Vec<String> {
        self.header
            .names
            .iter()
            .filter(|name| {
                !T::REQUIRED.contains(&name.as_str()) && !T::OPTIONAL.contains(&name.as_str())
            })
            .cloned()
            .collect()
    }
}
