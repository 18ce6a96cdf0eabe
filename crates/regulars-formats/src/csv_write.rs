//! Writing facts as the generic CSV (what `regulars generate` produces and `import` reads back).

use std::io::Write;
use std::marker::PhantomData;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use regulars_domain::{
    BehaviourEvent, ConsentChannel, Interaction, MemberProfile, NewReturn, Order, OrderId,
    OrderLine, Store,
};

/// How instants are written: in this zone, with its offset.
fn instant(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned(zone.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
        .to_string()
}

fn opt<T: ToString>(value: Option<&T>) -> String {
    value.map(ToString::to_string).unwrap_or_default()
}

/// A fact the generic CSV writer knows.
pub trait CsvRecord {
    /// The header row.
    const HEADER: &'static [&'static str];
    /// The row's values, in header order; instants are written in `zone`.
    fn values(&self, zone: &TimeZone) -> Vec<String>;
}

impl CsvRecord for Store {
    const HEADER: &'static [&'static str] = &["store_id", "name", "channel", "time_zone"];
    fn values(&self, _: &TimeZone) -> Vec<String> {
        vec![
            self.store_id.to_string(),
            self.name.clone(),
            self.channel.as_str().to_owned(),
            self.time_zone_name().to_owned(),
        ]
    }
}

impl CsvRecord for MemberProfile {
    const HEADER: &'static [&'static str] = &[
        "member_id",
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
    fn values(&self, zone: &TimeZone) -> Vec<String> {
        let mut values = vec![
            self.member_id.to_string(),
            self.name.clone().unwrap_or_default(),
            opt(self.phone.as_ref()),
            opt(self.email.as_ref()),
            self.line_user_id
                .as_ref()
                .map(|l| l.as_str().to_owned())
                .unwrap_or_default(),
            opt(self.birthday.as_ref()),
            self.gender
                .map(|g| g.as_str().to_owned())
                .unwrap_or_default(),
            self.region.clone().unwrap_or_default(),
            self.joined_at
                .map(|at| instant(at, zone))
                .unwrap_or_default(),
            opt(self.home_store.as_ref()),
            opt(self.referrer.as_ref()),
        ];
        for channel in ConsentChannel::ALL {
            match self.consent(channel) {
                Some(consent) => {
                    values.push(if consent.granted { "granted" } else { "denied" }.to_owned());
                    values.push(consent.at.map(|at| instant(at, zone)).unwrap_or_default());
                    values.push(consent.source.clone().unwrap_or_default());
                }
                None => values.extend([String::new(), String::new(), String::new()]),
            }
        }
        values
    }
}

impl CsvRecord for Order {
    const HEADER: &'static [&'static str] = &[
        "order_id",
        "member_id",
        "store_id",
        "placed_at",
        "status",
        "status_at",
        "currency",
        "amount",
        "discount",
        "shipping",
        "coupon_codes",
    ];
    fn values(&self, zone: &TimeZone) -> Vec<String> {
        vec![
            self.order_id.to_string(),
            self.member_id.to_string(),
            opt(self.store_id.as_ref()),
            instant(self.placed_at, zone),
            self.status.as_str().to_owned(),
            self.status_at
                .map(|at| instant(at, zone))
                .unwrap_or_default(),
            self.amount.currency().to_string(),
            self.amount.to_major(),
            self.discount.to_major(),
            self.shipping.to_major(),
            self.coupon_codes.join(";"),
        ]
    }
}

impl CsvRecord for (OrderId, OrderLine) {
    const HEADER: &'static [&'static str] = &[
        "order_id",
        "line_no",
        "sku",
        "name",
        "category",
        "quantity",
        "unit_price",
        "currency",
    ];
    fn values(&self, _: &TimeZone) -> Vec<String> {
        let (order_id, line) = self;
        vec![
            order_id.to_string(),
            line.line_no.to_string(),
            line.sku.to_string(),
            line.name.clone().unwrap_or_default(),
            line.category.clone().unwrap_or_default(),
            line.quantity.to_string(),
            line.unit_price.to_major(),
            line.unit_price.currency().to_string(),
        ]
    }
}

impl CsvRecord for NewReturn {
    const HEADER: &'static [&'static str] = &[
        "return_id",
        "order_id",
        "amount",
        "currency",
        "completed_at",
        "lines",
    ];
    fn values(&self, zone: &TimeZone) -> Vec<String> {
        vec![
            self.return_id.to_string(),
            self.order_id.to_string(),
            self.amount.to_major(),
            self.amount.currency().to_string(),
            instant(self.completed_at, zone),
            self.lines
                .iter()
                .map(|l| format!("{}:{}", l.sku, l.quantity))
                .collect::<Vec<_>>()
                .join(";"),
        ]
    }
}

impl CsvRecord for Interaction {
    const HEADER: &'static [&'static str] =
        &["interaction_id", "member_id", "at", "channel", "kind"];
    fn values(&self, zone: &TimeZone) -> Vec<String> {
        vec![
            self.interaction_id.to_string(),
            self.member_id.to_string(),
            instant(self.at, zone),
            self.channel.as_str().to_owned(),
            self.kind.as_str().to_owned(),
        ]
    }
}

impl CsvRecord for BehaviourEvent {
    const HEADER: &'static [&'static str] = &[
        "event_id",
        "member_id",
        "at",
        "kind",
        "sku",
        "category",
        "query",
    ];
    fn values(&self, zone: &TimeZone) -> Vec<String> {
        vec![
            self.event_id.to_string(),
            self.member_id.to_string(),
            instant(self.at, zone),
            self.kind.as_str().to_owned(),
            opt(self.sku.as_ref()),
            self.category.clone().unwrap_or_default(),
            self.query.clone().unwrap_or_default(),
        ]
    }
}

/// A streaming CSV writer of `T`s, header first.
pub struct CsvSink<W: Write, T> {
    writer: csv::Writer<W>,
    zone: TimeZone,
    _fact: PhantomData<fn(&T)>,
}

impl<W: Write, T: CsvRecord> CsvSink<W, T> {
    /// Writes the header and returns the sink; instants are written in `zone`.
    pub fn new(writer: W, zone: TimeZone) -> std::io::Result<Self> {
        let mut writer = csv::Writer::from_writer(writer);
        writer.write_record(T::HEADER)?;
        Ok(Self {
            writer,
            zone,
            _fact: PhantomData,
        })
    }

    /// Writes one record.
    pub fn write(&mut self, record: &T) -> std::io::Result<()> {
        self.writer.write_record(record.values(&self.zone))?;
        Ok(())
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> std::io::Result<W> {
        self.writer.into_inner().map_err(|e| e.into_error())
    }
}
