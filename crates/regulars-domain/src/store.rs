//! Stores: the shops and the online shop where orders are placed.

use jiff::tz::TimeZone;

use crate::StoreId;

/// Whether a store sells online or in person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreChannel {
    /// The web shop or app.
    Online,
    /// A physical store.
    Offline,
}

impl StoreChannel {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Offline => "offline",
        }
    }

    /// Accepts `online`/`web`/`ecommerce` and `offline`/`store`/`retail`/`pos`.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_lowercase().as_str() {
            "online" | "web" | "ecommerce" | "e-commerce" | "app" => Ok(Self::Online),
            "offline" | "store" | "retail" | "pos" | "physical" => Ok(Self::Offline),
            other => Err(format!(
                "`{other}` is not a store channel (online or offline)"
            )),
        }
    }
}

/// A store.
#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    /// The brand's id for the store.
    pub store_id: StoreId,
    /// Its name.
    pub name: String,
    /// Online or offline.
    pub channel: StoreChannel,
    /// The store's IANA time zone; local times of its orders are read in it.
    pub time_zone: TimeZone,
    /// True when an order named the store before it was described.
    pub created_from_order: bool,
}

impl Store {
    /// Looks up an IANA time zone by name.
    pub fn parse_time_zone(value: &str) -> Result<TimeZone, String> {
        TimeZone::get(value.trim())
            .map_err(|_| format!("`{}` is not an IANA time zone", value.trim()))
    }

    /// The time zone's IANA name.
    pub fn time_zone_name(&self) -> &str {
        self.time_zone.iana_name().unwrap_or("UTC")
    }
}
