//! Shopify's CSV exports: the customers export becomes member profiles, the orders export (one
//! row per line item, the order's fields on its first row) becomes orders with their lines.
//!
//! Shopify's orders export names no customer id, only an e-mail and a phone, so a Shopify member
//! is identified by e-mail (else phone, else Shopify's customer id) in both files, which links a
//! customer to their orders without a lookup.

use std::io::Read;

use regulars_api_types::{ConsentRequest, MemberRequest, OrderLineRequest, OrderRequest};
use regulars_domain::{Currency, FieldErrors, MemberProfile, Money, Order, derived_id};

use crate::csv_read::{Fields, Header, LineLimit, csv_reader, decode_record, read_header};
use crate::{FormatError, ParseContext, Row, RowSource, convert};

/// The store id of Shopify orders that name no location (the online store).
pub const SHOPIFY_ONLINE_STORE: &str = "shopify-online";

fn require(header: &Header, groups: &[&[&str]]) -> Result<(), FormatError> {
    let missing: Vec<String> = groups
        .iter()
        .filter(|names| !names.iter().any(|n| header.columns.contains_key(*n)))
        .map(|names| names.join(" or "))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(FormatError::MissingColumns(missing))
    }
}

/// Shopify writes ids as `'1234` so spreadsheets keep them as text.
fn clean_id(value: &str) -> String {
    value.trim().trim_start_matches('\'').to_owned()
}

fn member_key(
    email: Option<&str>,
    phone: Option<&str>,
    customer_id: Option<&str>,
) -> Option<String> {
    email
        .map(|e| e.trim().to_lowercase())
        .or_else(|| {
            phone.map(|p| {
                regulars_domain::Phone::parse(p)
                    .map_or_else(|_| p.trim().to_owned(), |p| p.to_string())
            })
        })
        .or_else(|| customer_id.map(clean_id))
}

/// Reads `true`/`yes` (and Shopify's newer `subscribed`) as consent.
fn accepts(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "yes" | "true" | "subscribed" => Some(true),
        "no" | "false" | "not_subscribed" | "unsubscribed" | "pending" => Some(false),
        _ => None,
    }
}

/// The customers export read as member profiles.
pub struct ShopifyCustomers<R: Read> {
    reader: csv::Reader<LineLimit<R>>,
    header: Header,
    record: csv::ByteRecord,
    context: ParseContext,
}

impl<R: Read> ShopifyCustomers<R> {
    /// Reads the header; it must name an e-mail, a phone or a customer id column.
    pub fn new(reader: R, context: ParseContext) -> Result<Self, FormatError> {
        let mut reader = csv_reader(reader);
        let header = read_header(&mut reader)?;
        require(&header, &[&["email", "phone", "customer id"]])?;
        Ok(Self {
            reader,
            header,
            record: csv::ByteRecord::new(),
            context,
        })
    }

    fn profile(&self, fields: &Fields<'_>) -> Result<MemberProfile, FieldErrors> {
        let email = fields.get("email");
        let phone = fields.first_of(&["phone", "default address phone"]);
        let Some(member_id) = member_key(email, phone, fields.get("customer id")) else {
            let mut errors = FieldErrors::default();
            errors.push(
                "email",
                "a customer needs an e-mail, a phone or a customer id",
            );
            return Err(errors);
        };
        let first = fields.get("first name").unwrap_or_default();
        let last = fields.get("last name").unwrap_or_default();
        let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        let name = if cjk(first) || cjk(last) {
            format!("{last}{first}")
        } else {
            format!("{first} {last}")
        };
        let mut consents = Vec::new();
        for (channel, columns) in [
            ("email", ["accepts email marketing", "accepts marketing"]),
            ("sms", ["accepts sms marketing", "accepts sms marketing"]),
        ] {
            if let Some(granted) = fields.first_of(&columns).and_then(accepts) {
                consents.push(ConsentRequest {
                    channel: channel.to_owned(),
                    granted,
                    at: None,
                    source: Some("shopify".to_owned()),
                });
            }
        }
        let request = MemberRequest {
            member_id,
            name: Some(name.trim().to_owned()).filter(|n| !n.is_empty()),
            phone: phone.map(ToOwned::to_owned),
            email: email.map(ToOwned::to_owned),
            region: fields
                .first_of(&[
                    "default address city",
                    "city",
                    "default address province code",
                    "province",
                ])
                .map(ToOwned::to_owned),
            consents,
            ..MemberRequest::default()
        };
        convert::member(&request, &self.context)
    }
}

impl<R: Read + Send> RowSource<MemberProfile> for ShopifyCustomers<R> {
    fn next_row(&mut self) -> Option<Row<MemberProfile>> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) | Err(_) => return None,
            }
            let line = self.record.position().map_or(0, csv::Position::line);
            if self.record.iter().all(<[u8]>::is_empty) {
                continue;
            }
            let result = decode_record(&self.record, &self.header)
                .and_then(|values| self.profile(&Fields::new(&self.header.columns, &values)));
            return Some(Row { line, result });
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }
}

/// An order being assembled from its rows.
struct Pending {
    name: String,
    line: u64,
    request: OrderRequest,
    errors: FieldErrors,
    currency: Currency,
}

/// The orders export read as orders with their lines.
pub struct ShopifyOrders<R: Read> {
    reader: csv::Reader<LineLimit<R>>,
    header: Header,
    record: csv::ByteRecord,
    context: ParseContext,
    pending: Option<Pending>,
}

impl<R: Read> ShopifyOrders<R> {
    /// Reads the header; it must have `Name`, `Created at` and `Total`.
    pub fn new(reader: R, context: ParseContext) -> Result<Self, FormatError> {
        let mut reader = csv_reader(reader);
        let header = read_header(&mut reader)?;
        require(
            &header,
            &[&["name"], &["created at"], &["total"], &["email", "phone"]],
        )?;
        Ok(Self {
            reader,
            header,
            record: csv::ByteRecord::new(),
            context,
            pending: None,
        })
    }

    /// Starts an order from its first row.
    fn start(&self, fields: &Fields<'_>, name: &str, line: u64) -> Pending {
        let mut errors = FieldErrors::default();
        let currency = match fields.get("currency") {
            Some(code) => errors
                .check("currency", Currency::parse(code))
                .unwrap_or(self.context.currency),
            None => self.context.currency,
        };
        let mut money = |column: &str| -> Option<i64> {
            let value = fields.get(column)?;
            Some(
                errors
                    .check(column, Money::parse_major_non_negative(value, currency))
                    .map_or(0, |m| m.minor()),
            )
        };
        let amount = money("total").unwrap_or(0);
        let shipping = money("shipping");
        let discount = money("discount amount");
        let financial = fields
            .get("financial status")
            .unwrap_or("paid")
            .to_lowercase();
        let fulfilled = fields
            .get("fulfillment status")
            .is_some_and(|s| s.eq_ignore_ascii_case("fulfilled"));
        let status = if fields.get("cancelled at").is_some() || financial == "voided" {
            "cancelled"
        } else if matches!(
            financial.as_str(),
            "paid" | "partially_refunded" | "refunded" | "partially_paid"
        ) {
            if fulfilled { "completed" } else { "paid" }
        } else {
            errors.push(
                "financial status",
                format!("`{financial}` orders are not paid and are not imported"),
            );
            "paid"
        };
        let member_id =
            member_key(fields.get("email"), fields.get("phone"), None).unwrap_or_default();
        if member_id.is_empty() {
            errors.push("email", "an order needs the customer's e-mail or phone");
        }
        let request = OrderRequest {
            order_id: name.to_owned(),
            member_id,
            store_id: Some(
                fields
                    .get("location")
                    .unwrap_or(SHOPIFY_ONLINE_STORE)
                    .to_owned(),
            ),
            placed_at: fields.required("created at"),
            status: Some(status.to_owned()),
            status_at: fields
                .first_of(&["cancelled at", "fulfilled at", "paid at"])
                .map(ToOwned::to_owned),
            currency: Some(currency.to_string()),
            amount,
            discount,
            shipping,
            coupon_codes: fields
                .get("discount code")
                .map(|c| vec![c.to_owned()])
                .unwrap_or_default(),
            lines: Vec::new(),
        };
        Pending {
            name: name.to_owned(),
            line,
            request,
            errors,
            currency,
        }
    }

    /// Adds a row's line item to the pending order.
    fn add_line(pending: &mut Pending, fields: &Fields<'_>) {
        let Some(quantity) = fields.get("lineitem quantity") else {
            return;
        };
        let idx = pending.request.lines.len();
        let prefix = format!("lines[{idx}].");
        let quantity = match quantity.parse::<i64>() {
            Ok(q) => q,
            Err(_) => {
                pending.errors.push(
                    format!("{prefix}quantity"),
                    format!("`{quantity}` is not a whole number"),
                );
                1
            }
        };
        let price = fields.get("lineitem price").map_or(0, |value| {
            pending
                .errors
                .check(
                    &format!("{prefix}unit_price"),
                    Money::parse_major_non_negative(value, pending.currency),
                )
                .map_or(0, |m| m.minor())
        });
        let name = fields.get("lineitem name").unwrap_or_default();
        let sku = match fields.get("lineitem sku") {
            Some(sku) => sku.to_owned(),
            None if !name.is_empty() && name.chars().count() <= 64 => name.to_owned(),
            None => derived_id("sku_", &[name]),
        };
        pending.request.lines.push(OrderLineRequest {
            line_no: None,
            sku,
            name: Some(name.to_owned()).filter(|n| !n.is_empty()),
            category: fields.get("vendor").map(ToOwned::to_owned),
            quantity,
            unit_price: price,
        });
    }

    fn finish(&self, pending: Pending) -> Row<Order> {
        let Pending {
            line,
            request,
            errors,
            ..
        } = pending;
        let converted = convert::order(&request, &self.context);
        let result = match converted {
            Ok(order) if errors.is_empty() => Ok(order),
            Ok(_) => Err(errors),
            Err(more) => {
                let mut errors = errors;
                errors.0.extend(more.0);
                Err(errors)
            }
        };
        Row { line, result }
    }
}

impl<R: Read + Send> RowSource<Order> for ShopifyOrders<R> {
    fn next_row(&mut self) -> Option<Row<Order>> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) | Err(_) => return self.pending.take().map(|p| self.finish(p)),
            }
            let line = self.record.position().map_or(0, csv::Position::line);
            if self.record.iter().all(<[u8]>::is_empty) {
                continue;
            }
            let values = match decode_record(&self.record, &self.header) {
                Ok(values) => values,
                // The broken row is reported; the order it belonged to goes on without it.
                Err(errors) => {
                    return Some(Row {
                        line,
                        result: Err(errors),
                    });
                }
            };
            let fields = Fields::new(&self.header.columns, &values);
            let name = fields.get("name").unwrap_or_default().to_owned();
            match &mut self.pending {
                Some(pending) if pending.name == name => Self::add_line(pending, &fields),
                _ => {
                    let mut next = self.start(&fields, &name, line);
                    Self::add_line(&mut next, &fields);
                    if let Some(previous) = self.pending.replace(next) {
                        return Some(self.finish(previous));
                    }
                }
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }
}
