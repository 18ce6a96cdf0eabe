//! Configuration: the raw file (`ConfigFile`, every field optional, unknown keys refused), the
//! environment overlay, the command-line overrides, and the validated `Config` that leaves this
//! crate. The annotated `config/example.toml` is embedded and printed by `regulars config example`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use regulars_api::ApiSettings;
use regulars_app::segments::{OrderRules, ValidOrderMode};
use regulars_app::{BirthdayIssue, PointsSettings};
use regulars_app::{Brand, IngestSettings, SegmentSettings};
use regulars_domain::{
    BonusPeriod, CapPeriod, Currency, DowngradeMode, EarnCap, EarnRules, Money, Multiplier,
    PointsExpiry, ReferralRules, RenewalWindow, Sku, Store, TemplateName, TierBenefits, TierLevel,
    TierMetric, TierName, TierRules,
};
use regulars_engine::{
    CustomerMode, EngineConfig, FrequencyUnit, Ratio, Rfm8Monetary, Rfm8Threshold,
    StoreAggregation, ValueBins,
};
use regulars_store::DatabaseUrl;
use serde::Deserialize;

/// The annotated example configuration, with every key.
pub const EXAMPLE_CONFIG: &str = include_str!("../../../config/example.toml");

/// The file `Config::load` reads when no path is given, if it exists.
const DEFAULT_FILE: &str = "regulars.toml";

/// `REGULARS_` variables that are not configuration keys.
const NOT_KEYS: &[&str] = &[
    "REGULARS_CONFIG",
    "REGULARS_DATABASE_URL",
    "REGULARS_TEST_BACKEND",
    "REGULARS_LOG",
];

/// The configuration file as written: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Where Regulars keeps its files.
    pub data_dir: Option<PathBuf>,
    /// `[database]`
    pub database: Option<DatabaseSection>,
    /// `[server]`
    pub server: Option<ServerSection>,
    /// `[brand]`
    pub brand: Option<BrandSection>,
    /// `[ingest]`
    pub ingest: Option<IngestSection>,
    /// `[log]`
    pub log: Option<LogSection>,
    /// `[orders]`
    pub orders: Option<OrdersSection>,
    /// `[cycle]`
    pub cycle: Option<CycleSection>,
    /// `[rfim]`
    pub rfim: Option<RfimSection>,
    /// `[nesl]`
    pub nesl: Option<NeslSection>,
    /// `[rfm8]`
    pub rfm8: Option<Rfm8Section>,
    /// `[rfm555]`
    pub rfm555: Option<Rfm555Section>,
    /// `[segments]`
    pub segments: Option<SegmentsSection>,
    /// `[points]`
    pub points: Option<PointsSection>,
    /// `[tiers]`
    pub tiers: Option<TiersSection>,
    /// `[referrals]`
    pub referrals: Option<ReferralsSection>,
}

/// `[referrals]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralsSection {
    /// Run the programme.
    pub enabled: Option<bool>,
    /// Points for the referrer.
    pub referrer_points: Option<u32>,
    /// Points for the referee.
    pub referee_points: Option<u32>,
    /// Coupon template for the referrer.
    pub referrer_coupon: Option<String>,
    /// Coupon template for the referee.
    pub referee_coupon: Option<String>,
    /// Coupon template for the referee at once.
    pub welcome_coupon: Option<String>,
    /// The least first order, whole currency units.
    pub min_order: Option<u64>,
    /// The most referrals per referrer.
    pub max_per_referrer: Option<u32>,
    /// Days after the first order before it pays.
    pub wait_days: Option<u32>,
}

/// `[tiers]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TiersSection {
    /// `spend`, `points` or `orders`.
    pub metric: Option<String>,
    /// The rolling window, in days.
    pub window_days: Option<u32>,
    /// The term in months; 0: tiers never expire.
    pub term_months: Option<u32>,
    /// `term` or `rolling`.
    pub renewal_window: Option<String>,
    /// The upgrading order counts toward renewal.
    pub count_qualifying_order_for_renewal: Option<bool>,
    /// `to_qualifying` or `one_step`.
    pub downgrade: Option<String>,
    /// Days between a term's end and the renewal check.
    pub grace_days: Option<u32>,
    /// Returns that drop a member below their level move them down.
    pub downgrade_on_return: Option<bool>,
    /// `month_start` or `birthday`.
    pub birthday_coupon_on: Option<String>,
    /// The ladder, base first; none: no tiers.
    pub levels: Option<Vec<TierLevelSection>>,
}

/// `[[tiers.levels]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierLevelSection {
    /// Its name.
    pub name: String,
    /// What members see.
    pub title: Option<String>,
    /// The qualifying value that reaches it (whole currency units for `spend`).
    pub entry: u64,
    /// The value over a term that keeps it.
    pub retain: Option<u64>,
    /// One order of at least this (whole currency units) reaches it at once.
    pub fast_upgrade: Option<u64>,
    /// Points multiplier.
    pub multiplier: Option<f64>,
    /// Birthday coupon template.
    pub birthday_coupon: Option<String>,
    /// Free shipping online.
    pub free_shipping: Option<bool>,
    /// Points on reaching it.
    pub entry_points: Option<u32>,
    /// Coupon template on reaching it.
    pub entry_coupon: Option<String>,
}

/// `[points]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsSection {
    /// `per_grant`, `month_end`, `year_end` or `never`.
    pub expiry: Option<String>,
    /// Days a grant counts under `per_grant`.
    pub expiry_days: Option<u32>,
    /// Months after the grant's month under `month_end`.
    pub expiry_months: Option<u32>,
    /// Years after the grant's year under `year_end`.
    pub expiry_years: Option<u32>,
    /// The last day that counts under `year_end`, `MM-DD`.
    pub year_end: Option<String>,
    /// Days before points expire that the member is warned (for journeys).
    pub warn_days: Option<Vec<u32>>,
    /// The most points a member's orders earn per `cap_period`; 0: no cap.
    pub cap_points: Option<u64>,
    /// `day`, `week`, `month` or `year`.
    pub cap_period: Option<String>,
    /// Orders earn points.
    pub earn: Option<bool>,
    /// The spend (major units of the brand's currency) that earns one base point.
    pub unit: Option<u64>,
    /// Days an order's points stay pending.
    pub pending_days: Option<u32>,
    /// Category multipliers.
    pub categories: Option<std::collections::BTreeMap<String, f64>>,
    /// Sku multipliers.
    pub skus: Option<std::collections::BTreeMap<String, f64>>,
    /// Days that earn more.
    pub bonus_periods: Option<Vec<BonusPeriodSection>>,
}

/// `[[points.bonus_periods]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BonusPeriodSection {
    /// Its name.
    pub name: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    /// Only these weekdays (`mon` … `sun`).
    pub weekdays: Option<Vec<String>>,
    /// What orders in it earn, times.
    pub multiplier: f64,
}

/// `[segments]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentsSection {
    /// Recompute the cut points every this many days.
    pub recompute_every_days: Option<u32>,
    /// Keep daily snapshots this many days.
    pub snapshot_keep_days: Option<u32>,
    /// How often the server checks for a new day, seconds.
    pub tick_seconds: Option<u64>,
}

/// `[orders]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersSection {
    /// `paid`.
    pub valid_order_mode: Option<String>,
    /// Count shipping in spend.
    pub include_shipping: Option<bool>,
    /// `purchase_day`.
    pub frequency_unit: Option<String>,
}

/// `[cycle]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CycleSection {
    /// Window of `C`, days.
    pub store_window_days: Option<i32>,
    /// `pooled_median`, `pooled_mean` or `median_of_medians`.
    pub store_aggregation: Option<String>,
    /// Store age below which `C` falls back.
    pub min_store_age_days: Option<i32>,
    /// The fallback `C`.
    pub category_default_days: Option<i32>,
    /// `hybrid`, `customer` or `store`.
    pub customer_mode: Option<String>,
    /// Intervals for a cycle of one's own.
    pub customer_min_intervals: Option<i32>,
    /// Shrinkage toward `C`.
    pub shrinkage_kappa: Option<f64>,
}

/// `[rfim]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RfimSection {
    /// Band multiplier.
    pub k_ready: Option<f64>,
    /// Band multiplier.
    pub k_sleeping: Option<f64>,
    /// Band multiplier.
    pub k_lost: Option<f64>,
    /// Interactions for Engaged.
    pub engaged_min_interactions: Option<u32>,
    /// Interaction window, days.
    pub interaction_window_days: Option<i32>,
    /// Top share.
    pub top_pct: Option<f64>,
    /// Purchase-days for Loyal.
    pub loyal_min_f: Option<u32>,
    /// RFIM window, days.
    pub window_days: Option<i32>,
}

/// `[nesl]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeslSection {
    /// S1 bound.
    pub s1: Option<f64>,
    /// S2 bound.
    pub s2: Option<f64>,
    /// S3 bound.
    pub s3: Option<f64>,
    /// Lost beyond this multiple of the cycle (0 = off).
    pub lost_multiple: Option<f64>,
    /// Lost beyond this many days.
    pub lost_max_days: Option<i32>,
}

/// `[rfm8]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rfm8Section {
    /// `mean`, `median`, `score_mean` or `fixed`.
    pub threshold: Option<String>,
    /// `total` or `avg_order`.
    pub monetary: Option<String>,
    /// Window, days.
    pub window_days: Option<i32>,
    /// Fixed R threshold, days.
    pub fixed_recency_days: Option<i64>,
    /// Fixed F threshold, purchase-days.
    pub fixed_frequency: Option<u32>,
    /// Fixed M threshold, major units.
    pub fixed_monetary: Option<String>,
}

/// `[rfm555]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rfm555Section {
    /// `quintile_value`, `quintile_rank` or `fixed`.
    pub r_bins: Option<String>,
    /// `quintile_value`, `quintile_rank` or `fixed`.
    pub m_bins: Option<String>,
    /// Fixed R breakpoints: the most days that still score 5, 4, 3 and 2.
    pub r_fixed_days: Option<[i64; 4]>,
    /// Fixed M thresholds, major units: the least spend that scores 2, 3, 4 and 5.
    pub m_fixed: Option<[String; 4]>,
    /// Lower bounds of F scores, or `quintile_value` or `quintile_rank`.
    pub f_bins: Option<FrequencyBins>,
}

/// `f_bins`: the lower bounds of F scores 1..5, or the name of a quintile method.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FrequencyBins {
    /// `[1, 2, 3, 5, 8]`
    Bounds([u32; 5]),
    /// `quintile_value` or `quintile_rank`
    Method(String),
}

/// `[database]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    /// The database URL.
    pub url: Option<String>,
    /// Most PostgreSQL connections.
    pub max_connections: Option<u32>,
}

/// `[server]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Listen address.
    pub listen: Option<String>,
    /// Largest body, MiB.
    pub body_limit_mib: Option<u32>,
    /// Serve /metrics.
    pub metrics: Option<bool>,
    /// Hours an idempotency key and its answer are kept.
    pub idempotency_keep_hours: Option<u32>,
}

/// `[brand]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandSection {
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// ISO 4217 currency.
    pub currency: Option<String>,
}

/// `[ingest]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSection {
    /// Refuse unknown references.
    pub strict: Option<bool>,
    /// Most interactions and events per member read.
    pub member_facts_limit: Option<u32>,
}

/// `[log]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// Tracing filter.
    pub filter: Option<String>,
    /// `text` or `json`.
    pub format: Option<String>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people.
    Text,
    /// For log collectors.
    Json,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// Tracing filter.
    pub filter: String,
    /// Output format.
    pub format: LogFormat,
}

/// Settings given on the command line; they win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config PATH`
    pub config_path: Option<PathBuf>,
    /// `--database URL`
    pub database_url: Option<String>,
    /// `--listen ADDR`
    pub listen: Option<String>,
    /// `--data-dir DIR`
    pub data_dir: Option<PathBuf>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where Regulars keeps its files.
    pub data_dir: PathBuf,
    /// The database.
    pub database_url: DatabaseUrl,
    /// Most PostgreSQL connections.
    pub max_connections: u32,
    /// The listen address.
    pub listen: SocketAddr,
    /// Router settings.
    pub api: ApiSettings,
    /// The brand's conventions.
    pub brand: Brand,
    /// Ingest behaviour.
    pub ingest: IngestSettings,
    /// Logging.
    pub log: LogSettings,
    /// The segmentation models' options.
    pub engine: EngineConfig,
    /// How orders become segmentation facts (`[orders]`).
    pub orders: OrderRules,
    /// When the live segments recompute and how long snapshots are kept.
    pub segments: SegmentSettings,
    /// The points rules (`[points]`).
    pub points: PointsSettings,
    /// The tier programme (`[tiers]`); `None`: no tiers.
    pub tiers: Option<TierRules>,
    /// When birthday coupons of tiers are issued (`[tiers] birthday_coupon_on`).
    pub birthday_coupon_on: BirthdayIssue,
    /// The referral programme (`[referrals]`); `None`: no referrals.
    pub referrals: Option<ReferralRules>,
    /// How often the server checks for a new day.
    pub tick: std::time::Duration,
    /// How long an idempotency key and its stored answer are kept (`[server]
    /// idempotency_keep_hours`): a retry within it replays, one after it runs again.
    pub idempotency_keep: jiff::SignedDuration,
    /// Things worth telling the operator (unknown variables).
    pub warnings: Vec<String>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file (with the environment overlay) is not valid TOML for Regulars.
    #[error("{origin}: {message}")]
    Parse {
        /// Where it came from.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A value breaks its rule.
    #[error("`{key}`: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

fn invalid(key: &'static str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.to_string(),
    }
}

impl Config {
    /// Loads the configuration from the file, the process environment and `overrides`.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        #[allow(clippy::disallowed_methods)] // The one place the environment is read.
        let env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("REGULARS_"))
            .collect();
        let path = overrides.config_path.clone().or_else(|| {
            env.iter()
                .find(|(k, _)| k == "REGULARS_CONFIG")
                .map(|(_, v)| PathBuf::from(v))
        });
        let (path, required) = match path {
            Some(path) => (path, true),
            None => (PathBuf::from(DEFAULT_FILE), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(error) if !required && error.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        let origin = path.display().to_string();
        Self::from_sources(
            text.as_deref().map(|t| (origin.as_str(), t)),
            &env,
            overrides,
            &|p| std::fs::read_to_string(p),
        )
    }

    /// Builds the configuration from a file's text, `REGULARS_` variables and overrides.
    /// `read_file` reads the files `_FILE` variables name.
    pub fn from_sources(
        file: Option<(&str, &str)>,
        env: &[(String, String)],
        overrides: &Overrides,
        read_file: &dyn Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Self, ConfigError> {
        let (origin, text) = file.unwrap_or(("defaults", ""));
        let mut table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    origin: origin.to_owned(),
                    message: e.message().to_owned(),
                })?;
        let known: toml::Table = EXAMPLE_CONFIG
            .parse()
            .expect("the example configuration is valid TOML");
        let mut warnings = Vec::new();
        let mut applied = 0;
        for (name, value) in env {
            if NOT_KEYS.contains(&name.as_str()) {
                continue;
            }
            let (name, value) = match name.strip_suffix("_FILE") {
                Some(base) => match read_file(Path::new(value)) {
                    Ok(content) => (base.to_owned(), content.trim().to_owned()),
                    Err(source) => {
                        return Err(ConfigError::Read {
                            path: PathBuf::from(value),
                            source,
                        });
                    }
                },
                None => (name.clone(), value.clone()),
            };
            let path: Vec<String> = name
                .trim_start_matches("REGULARS_")
                .split("__")
                .map(str::to_lowercase)
                .collect();
            let is_known = match path.as_slice() {
                [key] => known.get(key).is_some_and(|v| !v.is_table()),
                [section, key] => known.get(section).and_then(|s| s.get(key)).is_some(),
                _ => false,
            };
            if !is_known {
                warnings.push(format!("ignoring unknown environment variable {name}"));
                continue;
            }
            let value = if let Ok(n) = value.parse::<i64>() {
                toml::Value::Integer(n)
            } else if let Ok(b) = value.parse::<bool>() {
                toml::Value::Boolean(b)
            } else {
                toml::Value::String(value)
            };
            applied += 1;
            match path.as_slice() {
                [key] => {
                    table.insert(key.clone(), value);
                }
                [section, key] => {
                    let entry = table
                        .entry(section.clone())
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                    if let Some(section) = entry.as_table_mut() {
                        section.insert(key.clone(), value);
                    }
                }
                _ => {}
            }
        }
        let file: ConfigFile =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    origin: if applied > 0 {
                        format!("{origin} with the REGULARS_ environment")
                    } else {
                        origin.to_owned()
                    },
                    message: e.message().to_owned(),
                })?;
        let mut config = Self::validate(file, overrides)?;
        config.warnings = warnings;
        Ok(config)
    }

    fn validate(file: ConfigFile, overrides: &Overrides) -> Result<Self, ConfigError> {
        let (engine, orders) = engine_config(&file)?;
        let database = file.database.unwrap_or_default();
        let server = file.server.unwrap_or_default();
        let brand = file.brand.unwrap_or_default();
        let ingest = file.ingest.unwrap_or_default();
        let log = file.log.unwrap_or_default();
        let segments = file.segments.unwrap_or_default();
        let recompute_every_days = segments.recompute_every_days.unwrap_or(1);
        if !(1..=366).contains(&recompute_every_days) {
            return Err(ConfigError::Invalid {
                key: "segments.recompute_every_days",
                reason: format!("{recompute_every_days} is not between 1 and 366"),
            });
        }
        let tick_seconds = segments.tick_seconds.unwrap_or(60);
        if !(1..=3_600).contains(&tick_seconds) {
            return Err(ConfigError::Invalid {
                key: "segments.tick_seconds",
                reason: format!("{tick_seconds} is not between 1 and 3600"),
            });
        }

        let data_dir = overrides
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("regulars-data"));
        let url = overrides
            .database_url
            .clone()
            .or(database.url)
            .filter(|u| !u.trim().is_empty());
        let database_url = match url {
            Some(url) => DatabaseUrl::parse(&url).map_err(|e| invalid("database.url", e))?,
            None => DatabaseUrl::sqlite_file(&data_dir.join("regulars.db")),
        };
        let listen_text = overrides
            .listen
            .clone()
            .or(server.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            invalid(
                "server.listen",
                format!("`{listen_text}` is not an address like 127.0.0.1:8080"),
            )
        })?;
        let body_limit_mib = server.body_limit_mib.unwrap_or(64);
        if body_limit_mib == 0 {
            return Err(invalid("server.body_limit_mib", "must be at least 1"));
        }
        let idempotency_keep_hours = server.idempotency_keep_hours.unwrap_or(24);
        if !(1..=8_760).contains(&idempotency_keep_hours) {
            return Err(invalid(
                "server.idempotency_keep_hours",
                format!("{idempotency_keep_hours} is not between 1 and 8760 (a year)"),
            ));
        }
        let time_zone = Store::parse_time_zone(brand.time_zone.as_deref().unwrap_or("Asia/Taipei"))
            .map_err(|e| invalid("brand.time_zone", e))?;
        let currency = Currency::parse(brand.currency.as_deref().unwrap_or("TWD"))
            .map_err(|e| invalid("brand.currency", e))?;
        let format = match log.format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log.format",
                    format!("`{other}` is not text or json"),
                ));
            }
        };
        let points = points_settings(
            file.points.unwrap_or_default(),
            currency,
            orders.include_shipping,
        )?;
        let tiers_section = file.tiers.unwrap_or_default();
        let birthday_coupon_on = match tiers_section.birthday_coupon_on.as_deref() {
            None | Some("month_start") => BirthdayIssue::MonthStart,
            Some("birthday") => BirthdayIssue::Birthday,
            Some(other) => {
                return Err(invalid(
                    "tiers.birthday_coupon_on",
                    format!("`{other}` is not `month_start` or `birthday`"),
                ));
            }
        };
        let tiers = tier_rules(tiers_section, currency)?;
        let referrals = referral_rules(
            file.referrals.unwrap_or_default(),
            currency,
            points.pending_days,
        )?;
        let max_connections = database.max_connections.unwrap_or(8);
        if max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        Ok(Self {
            data_dir,
            database_url,
            max_connections,
            listen,
            api: ApiSettings {
                body_limit: body_limit_mib as usize * 1024 * 1024,
                metrics: server.metrics.unwrap_or(true),
            },
            brand: Brand {
                time_zone,
                currency,
            },
            ingest: IngestSettings {
                strict: ingest.strict.unwrap_or(false),
                member_facts_limit: ingest.member_facts_limit.unwrap_or(200),
            },
            log: LogSettings {
                filter: log.filter.unwrap_or_else(|| "info".to_owned()),
                format,
            },
            engine,
            orders,
            segments: SegmentSettings {
                recompute_every_days,
                snapshot_keep_days: segments.snapshot_keep_days.unwrap_or(400),
            },
            points,
            tiers,
            birthday_coupon_on,
            referrals,
            tick: std::time::Duration::from_secs(tick_seconds),
            idempotency_keep: jiff::SignedDuration::from_hours(i64::from(idempotency_keep_hours)),
            warnings: Vec::new(),
        })
    }
}

/// The `[points]` rules, checked.
fn points_settings(
    points: PointsSection,
    currency: Currency,
    include_shipping: bool,
) -> Result<PointsSettings, ConfigError> {
    let expiry_days = points.expiry_days.unwrap_or(365);
    if !(1..=3_660).contains(&expiry_days) {
        return Err(invalid(
            "points.expiry_days",
            format!("{expiry_days} is not between 1 and 3660"),
        ));
    }
    let expiry_months = points.expiry_months.unwrap_or(12);
    if expiry_months > 120 {
        return Err(invalid(
            "points.expiry_months",
            format!("{expiry_months} is more than 120"),
        ));
    }
    let expiry_years = points.expiry_years.unwrap_or(1);
    if expiry_years > 10 {
        return Err(invalid(
            "points.expiry_years",
            format!("{expiry_years} is more than 10"),
        ));
    }
    let (month, day) = PointsExpiry::parse_year_end(points.year_end.as_deref().unwrap_or("12-31"))
        .map_err(|reason| invalid("points.year_end", reason))?;
    let expiry = match points.expiry.as_deref().unwrap_or("per_grant") {
        "per_grant" => PointsExpiry::PerGrant(expiry_days),
        "month_end" => PointsExpiry::MonthEnd(expiry_months),
        "year_end" => PointsExpiry::YearEnd {
            years: expiry_years,
            month,
            day,
        },
        "never" => PointsExpiry::Never,
        other => {
            return Err(invalid(
                "points.expiry",
                format!("`{other}` is not `per_grant`, `month_end`, `year_end` or `never`"),
            ));
        }
    };
    let mut warn_days = points.warn_days.unwrap_or_else(|| vec![30, 7]);
    if let Some(days) = warn_days.iter().find(|d| !(1..=365).contains(*d)) {
        return Err(invalid(
            "points.warn_days",
            format!("{days} is not between 1 and 365"),
        ));
    }
    warn_days.sort_unstable_by(|a, b| b.cmp(a));
    warn_days.dedup();
    let cap_points = points.cap_points.unwrap_or(0);
    if cap_points > 1_000_000_000 {
        return Err(invalid(
            "points.cap_points",
            format!("{cap_points} is more than 1000000000"),
        ));
    }
    let cap_period = CapPeriod::parse(points.cap_period.as_deref().unwrap_or("month"))
        .map_err(|reason| invalid("points.cap_period", reason))?;
    let cap = (cap_points > 0).then(|| EarnCap {
        points: i64::try_from(cap_points).unwrap_or(i64::MAX),
        period: cap_period,
    });
    let pending_days = points.pending_days.unwrap_or(14);
    if pending_days > 365 {
        return Err(invalid(
            "points.pending_days",
            format!("{pending_days} is more than 365"),
        ));
    }
    let unit = points.unit.unwrap_or(100);
    if !(1..=1_000_000).contains(&unit) {
        return Err(invalid(
            "points.unit",
            format!("{unit} is not between 1 and 1000000"),
        ));
    }
    let unit = Money::parse_major(&unit.to_string(), currency)
        .map_err(|reason| invalid("points.unit", reason))?;
    let multiplier = |key: &'static str, name: &str, value: f64| {
        Multiplier::from_decimal(value).map_err(|reason| invalid(key, format!("{name}: {reason}")))
    };
    let mut categories = Vec::new();
    for (name, value) in points.categories.unwrap_or_default() {
        categories.push((name.clone(), multiplier("points.categories", &name, value)?));
    }
    let mut skus = Vec::new();
    for (name, value) in points.skus.unwrap_or_default() {
        let sku = Sku::parse(&name).map_err(|reason| invalid("points.skus", reason))?;
        skus.push((sku, multiplier("points.skus", &name, value)?));
    }
    let mut bonus_periods = Vec::new();
    for period in points.bonus_periods.unwrap_or_default() {
        let day = |text: &str| {
            regulars_domain::parse_date(text).map_err(|reason| {
                invalid("points.bonus_periods", format!("{}: {reason}", period.name))
            })
        };
        let (from, to) = (day(&period.from)?, day(&period.to)?);
        if to < from {
            return Err(invalid(
                "points.bonus_periods",
                format!("{}: ends on {to}, before it starts on {from}", period.name),
            ));
        }
        let mut weekdays = Vec::new();
        for name in period.weekdays.iter().flatten() {
            weekdays.push(weekday(name).ok_or_else(|| {
                invalid(
                    "points.bonus_periods",
                    format!(
                        "{}: `{name}` is not mon, tue, wed, thu, fri, sat or sun",
                        period.name
                    ),
                )
            })?);
        }
        bonus_periods.push(BonusPeriod {
            multiplier: multiplier("points.bonus_periods", &period.name, period.multiplier)?,
            name: period.name,
            from,
            to,
            weekdays,
        });
    }
    let earn = points.earn.unwrap_or(true).then_some(EarnRules {
        unit,
        include_shipping,
        categories,
        skus,
        bonus_periods,
        cap,
    });
    Ok(PointsSettings {
        expiry,
        earn,
        pending_days,
        warn_days,
    })
}

/// The `[referrals]` programme, checked; `None` unless enabled. Rewards wait the points'
/// pending days unless `wait_days` says otherwise.
fn referral_rules(
    section: ReferralsSection,
    currency: Currency,
    pending_days: u32,
) -> Result<Option<ReferralRules>, ConfigError> {
    if !section.enabled.unwrap_or(false) {
        return Ok(None);
    }
    let template = |key: &'static str, text: Option<String>| {
        text.filter(|text| !text.is_empty())
            .map(|text| TemplateName::parse(&text).map_err(|reason| invalid(key, reason)))
            .transpose()
    };
    let min_order = section.min_order.unwrap_or(0);
    if min_order > 1_000_000_000 {
        return Err(invalid(
            "referrals.min_order",
            format!("{min_order} is more than 1000000000"),
        ));
    }
    let max_per_referrer = section.max_per_referrer.unwrap_or(50);
    if max_per_referrer == 0 {
        return Err(invalid("referrals.max_per_referrer", "must be at least 1"));
    }
    let wait_days = section.wait_days.unwrap_or(pending_days);
    if wait_days > 365 {
        return Err(invalid(
            "referrals.wait_days",
            format!("{wait_days} is more than 365"),
        ));
    }
    Ok(Some(ReferralRules {
        referrer_points: i64::from(section.referrer_points.unwrap_or(0)),
        referee_points: i64::from(section.referee_points.unwrap_or(0)),
        referrer_coupon: template("referrals.referrer_coupon", section.referrer_coupon)?,
        referee_coupon: template("referrals.referee_coupon", section.referee_coupon)?,
        welcome_coupon: template("referrals.welcome_coupon", section.welcome_coupon)?,
        min_order: Money::parse_major(&min_order.to_string(), currency)
            .map_err(|reason| invalid("referrals.min_order", reason))?
            .minor(),
        max_per_referrer,
        wait_days,
    }))
}

/// The `[tiers]` programme, checked; `None` without levels.
fn tier_rules(tiers: TiersSection, currency: Currency) -> Result<Option<TierRules>, ConfigError> {
    let Some(levels) = tiers.levels.filter(|levels| !levels.is_empty()) else {
        return Ok(None);
    };
    let metric = TierMetric::parse(tiers.metric.as_deref().unwrap_or("spend"))
        .map_err(|reason| invalid("tiers.metric", reason))?;
    let amount = |key: &'static str, value: u64| -> Result<i64, ConfigError> {
        if value > 1_000_000_000 {
            return Err(invalid(key, format!("{value} is more than 1000000000")));
        }
        Money::parse_major(&value.to_string(), currency)
            .map(|money| money.minor())
            .map_err(|reason| invalid(key, reason))
    };
    let mut ladder = Vec::with_capacity(levels.len());
    for level in levels {
        let name =
            TierName::parse(&level.name).map_err(|reason| invalid("tiers.levels", reason))?;
        let value = |value: u64| match metric {
            TierMetric::Spend => amount("tiers.levels", value),
            TierMetric::Points | TierMetric::Orders => i64::try_from(value)
                .map_err(|_| invalid("tiers.levels", format!("{name}: {value} is too large"))),
        };
        let template = |text: Option<String>| {
            text.map(|text| {
                TemplateName::parse(&text)
                    .map_err(|reason| invalid("tiers.levels", format!("{name}: {reason}")))
            })
            .transpose()
        };
        let multiplier = Multiplier::from_decimal(level.multiplier.unwrap_or(1.0))
            .map_err(|reason| invalid("tiers.levels", format!("{name}: {reason}")))?;
        ladder.push(TierLevel {
            title: level.title.unwrap_or_else(|| name.to_string()),
            entry: value(level.entry)?,
            retain: value(level.retain.unwrap_or(level.entry))?,
            fast_upgrade: level
                .fast_upgrade
                .map(|fast| amount("tiers.levels", fast))
                .transpose()?,
            benefits: TierBenefits {
                multiplier,
                birthday_coupon: template(level.birthday_coupon)?,
                free_shipping: level.free_shipping.unwrap_or(false),
                entry_points: i64::from(level.entry_points.unwrap_or(0)),
                entry_coupon: template(level.entry_coupon)?,
            },
            name,
        });
    }
    let window_days = tiers.window_days.unwrap_or(365);
    if !(1..=3_660).contains(&window_days) {
        return Err(invalid(
            "tiers.window_days",
            format!("{window_days} is not between 1 and 3660"),
        ));
    }
    let term_months = match tiers.term_months.unwrap_or(12) {
        0 => None,
        months @ 1..=120 => Some(months),
        other => {
            return Err(invalid(
                "tiers.term_months",
                format!("{other} is not between 0 and 120"),
            ));
        }
    };
    let renewal_window = RenewalWindow::parse(tiers.renewal_window.as_deref().unwrap_or("term"))
        .map_err(|reason| invalid("tiers.renewal_window", reason))?;
    let downgrade = DowngradeMode::parse(tiers.downgrade.as_deref().unwrap_or("to_qualifying"))
        .map_err(|reason| invalid("tiers.downgrade", reason))?;
    let grace_days = tiers.grace_days.unwrap_or(0);
    if grace_days > 365 {
        return Err(invalid(
            "tiers.grace_days",
            format!("{grace_days} is more than 365"),
        ));
    }
    TierRules::new(
        ladder,
        metric,
        window_days,
        term_months,
        renewal_window,
        tiers.count_qualifying_order_for_renewal.unwrap_or(false),
        downgrade,
        grace_days,
        tiers.downgrade_on_return.unwrap_or(true),
    )
    .map(Some)
    .map_err(|reason| invalid("tiers.levels", reason))
}

/// A weekday from its three-letter English name.
fn weekday(name: &str) -> Option<jiff::civil::Weekday> {
    use jiff::civil::Weekday;
    Some(match name.to_ascii_lowercase().as_str() {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// An exact ratio from a TOML number (at most six decimals).
fn ratio(key: &'static str, value: Option<f64>, default: Ratio) -> Result<Ratio, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    let text = format!("{value:.6}");
    Ratio::parse(text.trim_end_matches('0').trim_end_matches('.'))
        .map_err(|reason| invalid(key, reason))
}

/// `quintile_value`, `quintile_rank`, or `fixed` with the breakpoints `fixed` reads.
fn value_bins(
    key: &'static str,
    name: Option<&str>,
    fixed: impl FnOnce() -> Result<[i64; 4], ConfigError>,
) -> Result<ValueBins, ConfigError> {
    match name.unwrap_or("quintile_value") {
        "quintile_value" => Ok(ValueBins::QuintileValue),
        "quintile_rank" => Ok(ValueBins::QuintileRank),
        "fixed" => fixed().map(ValueBins::Fixed),
        other => Err(invalid(
            key,
            format!("`{other}` is not quintile_value, quintile_rank or fixed"),
        )),
    }
}

/// F's bins: five lower bounds (the first 1) as the least frequencies scoring 2..5, or a
/// quintile method.
fn frequency_bins(setting: Option<&FrequencyBins>) -> Result<ValueBins, ConfigError> {
    const KEY: &str = "rfm555.f_bins";
    match setting {
        None => Ok(EngineConfig::default().f_bins),
        Some(FrequencyBins::Bounds([first, rest @ ..])) => {
            if *first != 1 {
                return Err(invalid(KEY, "must start at 1 and increase strictly"));
            }
            Ok(ValueBins::Fixed(rest.map(i64::from)))
        }
        Some(FrequencyBins::Method(name)) => value_bins(KEY, Some(name), || {
            Err(invalid(
                KEY,
                "fixed bins are the five lower bounds themselves, e.g. [1, 2, 3, 5, 8]",
            ))
        }),
    }
}

/// The segmentation options of `[orders]`, `[cycle]`, `[rfim]`, `[nesl]`, `[rfm8]` and
/// `[rfm555]`, validated; and the order rules of `[orders]`.
fn engine_config(file: &ConfigFile) -> Result<(EngineConfig, OrderRules), ConfigError> {
    let defaults = EngineConfig::default();
    let none = Default::default;
    let orders = file.orders.as_ref().map_or_else(none, |o: &OrdersSection| {
        (
            o.valid_order_mode.clone(),
            o.include_shipping,
            o.frequency_unit.clone(),
        )
    });
    let valid_order_mode = match orders.0.as_deref().unwrap_or("paid") {
        "paid" => ValidOrderMode::Paid,
        "completed" => ValidOrderMode::Completed,
        other => {
            return Err(invalid(
                "orders.valid_order_mode",
                format!("`{other}` is not paid or completed"),
            ));
        }
    };
    let frequency_unit = match orders.2.as_deref().unwrap_or("purchase_day") {
        "purchase_day" => FrequencyUnit::PurchaseDay,
        "order" => FrequencyUnit::Order,
        other => {
            return Err(invalid(
                "orders.frequency_unit",
                format!("`{other}` is not purchase_day or order"),
            ));
        }
    };
    let cycle = file.cycle.as_ref();
    let rfim = file.rfim.as_ref();
    let nesl = file.nesl.as_ref();
    let rfm8 = file.rfm8.as_ref();
    let rfm555 = file.rfm555.as_ref();
    let store_aggregation = match cycle
        .and_then(|c| c.store_aggregation.as_deref())
        .unwrap_or("pooled_median")
    {
        "pooled_median" => StoreAggregation::PooledMedian,
        "pooled_mean" => StoreAggregation::PooledMean,
        "median_of_medians" => StoreAggregation::MedianOfMedians,
        "by_order_count" => StoreAggregation::ByOrderCount,
        other => {
            return Err(invalid(
                "cycle.store_aggregation",
                format!(
                    "`{other}` is not pooled_median, pooled_mean, median_of_medians or by_order_count"
                ),
            ));
        }
    };
    let customer_mode = match cycle
        .and_then(|c| c.customer_mode.as_deref())
        .unwrap_or("hybrid")
    {
        "hybrid" => CustomerMode::Hybrid,
        "customer" => CustomerMode::Customer,
        "store" => CustomerMode::Store,
        other => {
            return Err(invalid(
                "cycle.customer_mode",
                format!("`{other}` is not hybrid, customer or store"),
            ));
        }
    };
    let brand_currency = file.brand.as_ref().and_then(|b| b.currency.as_deref());
    let currency = Currency::parse(brand_currency.unwrap_or("TWD"))
        .map_err(|e| invalid("brand.currency", e))?;
    let r_bins = value_bins(
        "rfm555.r_bins",
        rfm555.and_then(|r| r.r_bins.as_deref()),
        || {
            Ok(rfm555
                .and_then(|r| r.r_fixed_days)
                .unwrap_or([30, 90, 180, 365]))
        },
    )?;
    let m_bins = value_bins(
        "rfm555.m_bins",
        rfm555.and_then(|r| r.m_bins.as_deref()),
        || {
            let Some(fixed) = rfm555.and_then(|r| r.m_fixed.as_ref()) else {
                return Err(invalid(
                    "rfm555.m_fixed",
                    "is needed when m_bins = \"fixed\"",
                ));
            };
            let mut least = [0; 4];
            for (slot, text) in least.iter_mut().zip(fixed) {
                *slot = Money::parse_major_non_negative(text, currency)
                    .map_err(|e| invalid("rfm555.m_fixed", e))?
                    .minor();
            }
            Ok(least)
        },
    )?;
    let rfm8_threshold = match rfm8.and_then(|r| r.threshold.as_deref()).unwrap_or("mean") {
        "mean" => Rfm8Threshold::Mean,
        "median" => Rfm8Threshold::Median,
        "score_mean" => Rfm8Threshold::ScoreMean,
        "fixed" => Rfm8Threshold::Fixed {
            recency_days: rfm8.and_then(|r| r.fixed_recency_days).unwrap_or(10),
            frequency: rfm8.and_then(|r| r.fixed_frequency).unwrap_or(3),
            monetary: Money::parse_major_non_negative(
                rfm8.and_then(|r| r.fixed_monetary.as_deref())
                    .unwrap_or("200"),
                currency,
            )
            .map_err(|e| invalid("rfm8.fixed_monetary", e))?
            .minor(),
        },
        other => {
            return Err(invalid(
                "rfm8.threshold",
                format!("`{other}` is not mean, median, score_mean or fixed"),
            ));
        }
    };
    let rfm8_monetary = match rfm8.and_then(|r| r.monetary.as_deref()).unwrap_or("total") {
        "total" => Rfm8Monetary::Total,
        "avg_order" => Rfm8Monetary::AverageOrder,
        other => {
            return Err(invalid(
                "rfm8.monetary",
                format!("`{other}` is not total or avg_order"),
            ));
        }
    };
    let config = EngineConfig {
        store_window_days: cycle
            .and_then(|c| c.store_window_days)
            .unwrap_or(defaults.store_window_days),
        store_aggregation,
        customer_mode,
        min_store_age_days: cycle
            .and_then(|c| c.min_store_age_days)
            .unwrap_or(defaults.min_store_age_days),
        category_default_days: cycle
            .and_then(|c| c.category_default_days)
            .unwrap_or(defaults.category_default_days),
        customer_min_intervals: cycle
            .and_then(|c| c.customer_min_intervals)
            .unwrap_or(defaults.customer_min_intervals),
        shrinkage_kappa: ratio(
            "cycle.shrinkage_kappa",
            cycle.and_then(|c| c.shrinkage_kappa),
            defaults.shrinkage_kappa,
        )?,
        rfim_bands: [
            ratio(
                "rfim.k_ready",
                rfim.and_then(|r| r.k_ready),
                defaults.rfim_bands[0],
            )?,
            ratio(
                "rfim.k_sleeping",
                rfim.and_then(|r| r.k_sleeping),
                defaults.rfim_bands[1],
            )?,
            ratio(
                "rfim.k_lost",
                rfim.and_then(|r| r.k_lost),
                defaults.rfim_bands[2],
            )?,
        ],
        engaged_min_interactions: rfim
            .and_then(|r| r.engaged_min_interactions)
            .unwrap_or(defaults.engaged_min_interactions),
        interaction_window_days: rfim
            .and_then(|r| r.interaction_window_days)
            .unwrap_or(defaults.interaction_window_days),
        top_pct: ratio(
            "rfim.top_pct",
            rfim.and_then(|r| r.top_pct),
            defaults.top_pct,
        )?,
        loyal_min_f: rfim
            .and_then(|r| r.loyal_min_f)
            .unwrap_or(defaults.loyal_min_f),
        lifecycle_window_days: rfim
            .and_then(|r| r.window_days)
            .unwrap_or(defaults.lifecycle_window_days),
        nesl_bounds: [
            ratio("nesl.s1", nesl.and_then(|n| n.s1), defaults.nesl_bounds[0])?,
            ratio("nesl.s2", nesl.and_then(|n| n.s2), defaults.nesl_bounds[1])?,
            ratio("nesl.s3", nesl.and_then(|n| n.s3), defaults.nesl_bounds[2])?,
        ],
        lost_max_days: nesl
            .and_then(|n| n.lost_max_days)
            .unwrap_or(defaults.lost_max_days),
        lost_multiple: ratio(
            "nesl.lost_multiple",
            nesl.and_then(|n| n.lost_multiple),
            defaults.lost_multiple,
        )?,
        rfm_window_days: rfm8
            .and_then(|r| r.window_days)
            .unwrap_or(defaults.rfm_window_days),
        rfm8_threshold,
        rfm8_monetary,
        f_bins: frequency_bins(rfm555.and_then(|r| r.f_bins.as_ref()))?,
        r_bins,
        m_bins,
        frequency_unit,
    };
    config.validate().map_err(|e| ConfigError::Invalid {
        key: e.key,
        reason: e.reason,
    })?;
    Ok((
        config,
        OrderRules {
            valid_order_mode,
            include_shipping: orders.1.unwrap_or(false),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration from a `regulars.toml` of `text` alone.
    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_sources(
            Some(("regulars.toml", text)),
            &[],
            &Overrides::default(),
            &no_files,
        )
    }

    fn no_files(_: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no files in tests",
        ))
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_example_sets_every_key_and_loads() {
        let file: ConfigFile = toml::from_str(EXAMPLE_CONFIG).unwrap();
        let database = file.database.as_ref().unwrap();
        let server = file.server.as_ref().unwrap();
        let brand = file.brand.as_ref().unwrap();
        let ingest = file.ingest.as_ref().unwrap();
        let log = file.log.as_ref().unwrap();
        let every_key_set = file.data_dir.is_some()
            && database.url.is_some()
            && database.max_connections.is_some()
            && server.listen.is_some()
            && server.body_limit_mib.is_some()
            && server.metrics.is_some()
            && server.idempotency_keep_hours.is_some()
            && brand.time_zone.is_some()
            && brand.currency.is_some()
            && ingest.strict.is_some()
            && ingest.member_facts_limit.is_some()
            && log.filter.is_some()
            && log.format.is_some()
            && file.segments.as_ref().is_some_and(|s| {
                s.recompute_every_days.is_some()
                    && s.snapshot_keep_days.is_some()
                    && s.tick_seconds.is_some()
            })
            && file.points.as_ref().is_some_and(|p| {
                p.expiry.is_some()
                    && p.expiry_days.is_some()
                    && p.expiry_months.is_some()
                    && p.expiry_years.is_some()
                    && p.year_end.is_some()
                    && p.warn_days.is_some()
                    && p.cap_points.is_some()
                    && p.cap_period.is_some()
                    && p.earn.is_some()
                    && p.unit.is_some()
                    && p.pending_days.is_some()
                    && p.categories.is_some()
                    && p.skus.is_some()
                    && p.bonus_periods.is_some()
            })
            && file.tiers.as_ref().is_some_and(|t| {
                t.metric.is_some()
                    && t.window_days.is_some()
                    && t.term_months.is_some()
                    && t.renewal_window.is_some()
                    && t.count_qualifying_order_for_renewal.is_some()
                    && t.downgrade.is_some()
                    && t.grace_days.is_some()
                    && t.downgrade_on_return.is_some()
                    && t.birthday_coupon_on.is_some()
                    && t.levels.is_some()
            })
            && file.referrals.as_ref().is_some_and(|r| {
                r.enabled.is_some()
                    && r.referrer_points.is_some()
                    && r.referee_points.is_some()
                    && r.referrer_coupon.is_some()
                    && r.referee_coupon.is_some()
                    && r.welcome_coupon.is_some()
                    && r.min_order.is_some()
                    && r.max_per_referrer.is_some()
                    && r.wait_days.is_some()
            });
        assert!(every_key_set, "config/example.toml must show every key");
        let orders = file.orders.as_ref().unwrap();
        let cycle = file.cycle.as_ref().unwrap();
        let rfim = file.rfim.as_ref().unwrap();
        let nesl = file.nesl.as_ref().unwrap();
        let rfm8 = file.rfm8.as_ref().unwrap();
        let rfm555 = file.rfm555.as_ref().unwrap();
        let every_model_key_set = orders.valid_order_mode.is_some()
            && orders.include_shipping.is_some()
            && orders.frequency_unit.is_some()
            && cycle.store_window_days.is_some()
            && cycle.store_aggregation.is_some()
            && cycle.min_store_age_days.is_some()
            && cycle.category_default_days.is_some()
            && cycle.customer_mode.is_some()
            && cycle.customer_min_intervals.is_some()
            && cycle.shrinkage_kappa.is_some()
            && rfim.k_ready.is_some()
            && rfim.k_sleeping.is_some()
            && rfim.k_lost.is_some()
            && rfim.engaged_min_interactions.is_some()
            && rfim.interaction_window_days.is_some()
            && rfim.top_pct.is_some()
            && rfim.loyal_min_f.is_some()
            && rfim.window_days.is_some()
            && nesl.s1.is_some()
            && nesl.s2.is_some()
            && nesl.s3.is_some()
            && nesl.lost_multiple.is_some()
            && nesl.lost_max_days.is_some()
            && rfm8.threshold.is_some()
            && rfm8.monetary.is_some()
            && rfm8.window_days.is_some()
            && rfm8.fixed_recency_days.is_some()
            && rfm8.fixed_frequency.is_some()
            && rfm8.fixed_monetary.is_some()
            && rfm555.r_bins.is_some()
            && rfm555.m_bins.is_some()
            && rfm555.r_fixed_days.is_some()
            && rfm555.m_fixed.is_some()
            && rfm555.f_bins.is_some();
        assert!(
            every_model_key_set,
            "config/example.toml must show every model key"
        );
        let config = Config::from_sources(
            Some(("example", EXAMPLE_CONFIG)),
            &[],
            &Overrides::default(),
            &no_files,
        )
        .unwrap();
        assert_eq!(
            config.database_url.expose(),
            "sqlite://regulars-data/regulars.db"
        );
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.engine,
            EngineConfig::default(),
            "the example shows the defaults"
        );
    }

    #[test]
    fn rank_bins_are_read_for_r_f_and_m() {
        let file = "[rfm555]\nr_bins = \"quintile_rank\"\nm_bins = \"quintile_rank\"\nf_bins = \"quintile_rank\"\n";
        let engine =
            Config::from_sources(Some(("file", file)), &[], &Overrides::default(), &no_files)
                .unwrap()
                .engine;
        assert_eq!(
            [engine.r_bins, engine.f_bins, engine.m_bins],
            [ValueBins::QuintileRank; 3]
        );
        let file = "[rfm555]\nf_bins = \"quintile_value\"\n";
        let engine =
            Config::from_sources(Some(("file", file)), &[], &Overrides::default(), &no_files)
                .unwrap()
                .engine;
        assert_eq!(engine.f_bins, ValueBins::QuintileValue);
    }

    #[test]
    fn fixed_bins_the_frequency_unit_and_by_order_count_are_read() {
        let file = "[orders]\nfrequency_unit = \"order\"\n[cycle]\nstore_aggregation = \"by_order_count\"\n[rfm555]\nr_bins = \"fixed\"\nm_bins = \"fixed\"\nm_fixed = [\"10\", \"20.5\", \"30\", \"40\"]\n";
        let engine =
            Config::from_sources(Some(("file", file)), &[], &Overrides::default(), &no_files)
                .unwrap()
                .engine;
        assert_eq!(engine.frequency_unit, FrequencyUnit::Order);
        assert_eq!(engine.store_aggregation, StoreAggregation::ByOrderCount);
        assert_eq!(
            engine.r_bins,
            ValueBins::Fixed([30, 90, 180, 365]),
            "the spec's example"
        );
        assert_eq!(
            engine.m_bins,
            ValueBins::Fixed([1_000, 2_050, 3_000, 4_000])
        );
        for (text, message) in [
            (
                "[rfm555]\nm_bins = \"fixed\"\n",
                "`rfm555.m_fixed`: is needed when m_bins = \"fixed\"",
            ),
            (
                "[rfm555]\nr_bins = \"fixed\"\nr_fixed_days = [30, 20, 40, 50]\n",
                "`rfm555.r_fixed_days`: must be four values, not negative, increasing strictly",
            ),
            (
                "[rfm555]\nr_bins = \"quintile_ranks\"\n",
                "`rfm555.r_bins`: `quintile_ranks` is not quintile_value, quintile_rank or fixed",
            ),
            (
                "[rfm555]\nf_bins = [2, 3, 4, 5, 6]\n",
                "`rfm555.f_bins`: must start at 1 and increase strictly",
            ),
            (
                "[rfm555]\nf_bins = [1, 3, 3, 5, 6]\n",
                "`rfm555.f_bins`: must start at 1 and increase strictly",
            ),
            (
                "[rfm555]\nf_bins = \"fixed\"\n",
                "`rfm555.f_bins`: fixed bins are the five lower bounds themselves, e.g. [1, 2, 3, 5, 8]",
            ),
            (
                "[orders]\nfrequency_unit = \"visit\"\n",
                "`orders.frequency_unit`: `visit` is not purchase_day or order",
            ),
        ] {
            let error =
                Config::from_sources(Some(("file", text)), &[], &Overrides::default(), &no_files)
                    .unwrap_err();
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn model_options_are_read_and_bad_ones_refused_by_key() {
        let file = "[cycle]\nstore_aggregation = \"median_of_medians\"\nshrinkage_kappa = 1.5\n[rfm8]\nthreshold = \"fixed\"\nfixed_monetary = \"250.50\"\n[nesl]\ns1 = 2.0\ns2 = 2.5\n";
        let config =
            Config::from_sources(Some(("file", file)), &[], &Overrides::default(), &no_files)
                .unwrap();
        assert_eq!(
            config.engine.store_aggregation,
            StoreAggregation::MedianOfMedians
        );
        assert_eq!(config.engine.shrinkage_kappa, Ratio { num: 3, den: 2 });
        assert_eq!(
            config.engine.rfm8_threshold,
            Rfm8Threshold::Fixed {
                recency_days: 10,
                frequency: 3,
                monetary: 25_050
            }
        );
        assert_eq!(config.engine.nesl_bounds[1], Ratio { num: 5, den: 2 });
        for (text, message) in [
            (
                "[cycle]\nstore_aggregation = \"mode\"\n",
                "`cycle.store_aggregation`: `mode` is not pooled_median, pooled_mean, median_of_medians or by_order_count",
            ),
            (
                "[nesl]\ns1 = 3.0\n",
                "`nesl.s1/s2/s3`: must increase strictly",
            ),
            (
                "[orders]\nvalid_order_mode = \"shipped\"\n",
                "`orders.valid_order_mode`: `shipped` is not paid or completed",
            ),
            (
                "[rfim]\ntop_pct = 1.5\n",
                "`rfim.top_pct`: must be above 0 and at most 1",
            ),
        ] {
            let error =
                Config::from_sources(Some(("file", text)), &[], &Overrides::default(), &no_files)
                    .unwrap_err();
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn environment_beats_the_file_and_flags_beat_both() {
        let file = "[server]\nlisten = \"127.0.0.1:1000\"\n";
        let config = Config::from_sources(
            Some(("file", file)),
            &env(&[
                ("REGULARS_SERVER__LISTEN", "127.0.0.1:2000"),
                ("REGULARS_INGEST__STRICT", "true"),
            ]),
            &Overrides::default(),
            &no_files,
        )
        .unwrap();
        assert_eq!(config.listen.port(), 2000);
        assert!(config.ingest.strict);
        let overrides = Overrides {
            listen: Some("127.0.0.1:3000".into()),
            ..Overrides::default()
        };
        let config = Config::from_sources(
            Some(("file", file)),
            &env(&[("REGULARS_SERVER__LISTEN", "127.0.0.1:2000")]),
            &overrides,
            &no_files,
        )
        .unwrap();
        assert_eq!(config.listen.port(), 3000);
    }

    #[test]
    fn secrets_can_come_from_files() {
        let read = |path: &Path| -> std::io::Result<String> {
            assert_eq!(path, Path::new("/run/secrets/db"));
            Ok("postgres://app:pw@db/regulars\n".to_owned())
        };
        let config = Config::from_sources(
            None,
            &env(&[("REGULARS_DATABASE__URL_FILE", "/run/secrets/db")]),
            &Overrides::default(),
            &read,
        )
        .unwrap();
        assert_eq!(
            config.database_url.backend(),
            regulars_store::Backend::Postgres
        );
    }

    #[test]
    fn unknown_variables_warn_and_unknown_keys_fail() {
        let config = Config::from_sources(
            None,
            &env(&[("REGULARS_SERVER__LISTN", "x")]),
            &Overrides::default(),
            &no_files,
        )
        .unwrap();
        assert_eq!(
            config.warnings,
            ["ignoring unknown environment variable REGULARS_SERVER__LISTN"]
        );
        let error = Config::from_sources(
            Some(("regulars.toml", "[server]\nlistn = 1\n")),
            &[],
            &Overrides::default(),
            &no_files,
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("regulars.toml: unknown field `listn`"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_database_scheme_is_a_clear_startup_error() {
        let overrides = Overrides {
            database_url: Some("mysql://localhost/db".into()),
            ..Overrides::default()
        };
        let error = Config::from_sources(None, &[], &overrides, &no_files).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`database.url`: unsupported database URL scheme `mysql`: use sqlite://PATH or postgres://…"
        );
    }

    #[test]
    fn points_expire_per_grant_after_a_year_unless_configured() {
        let config = Config::from_sources(None, &[], &Overrides::default(), &no_files).unwrap();
        assert_eq!(config.points.expiry, PointsExpiry::PerGrant(365));
        let config = Config::from_sources(
            Some(("regulars.toml", "[points]\nexpiry = \"never\"\n")),
            &[],
            &Overrides::default(),
            &no_files,
        )
        .unwrap();
        assert_eq!(config.points.expiry, PointsExpiry::Never);
        let error = Config::from_sources(
            Some(("regulars.toml", "[points]\nexpiry = \"monthly\"\n")),
            &[],
            &Overrides::default(),
            &no_files,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`points.expiry`: `monthly` is not `per_grant`, `month_end`, `year_end` or `never`"
        );
    }

    #[test]
    fn points_may_expire_on_calendar_dates_and_bad_dates_are_named() {
        let config = load("[points]\nexpiry = \"month_end\"\nexpiry_months = 6\n").unwrap();
        assert_eq!(config.points.expiry, PointsExpiry::MonthEnd(6));
        let config = load("[points]\nexpiry = \"year_end\"\n").unwrap();
        assert_eq!(
            config.points.expiry,
            PointsExpiry::YearEnd {
                years: 1,
                month: 12,
                day: 31
            }
        );
        let config =
            load("[points]\nexpiry = \"year_end\"\nexpiry_years = 0\nyear_end = \"06-30\"\n")
                .unwrap();
        assert_eq!(
            config.points.expiry,
            PointsExpiry::YearEnd {
                years: 0,
                month: 6,
                day: 30
            }
        );
        assert_eq!(
            load("[points]\nyear_end = \"02-29\"\n")
                .unwrap_err()
                .to_string(),
            "`points.year_end`: 02-29 is not in every year: write 02-28 or 03-01"
        );
        assert_eq!(
            load("[points]\nexpiry_months = 121\n")
                .unwrap_err()
                .to_string(),
            "`points.expiry_months`: 121 is more than 120"
        );
    }

    #[test]
    fn an_earning_cap_and_expiry_warnings_are_read_and_checked() {
        let default = load("").unwrap();
        assert_eq!(default.points.earn.as_ref().unwrap().cap, None);
        assert_eq!(default.points.warn_days, [30, 7]);
        let config =
            load("[points]\ncap_points = 500\ncap_period = \"week\"\nwarn_days = [3, 14, 3]\n")
                .unwrap();
        assert_eq!(
            config.points.earn.unwrap().cap,
            Some(EarnCap {
                points: 500,
                period: CapPeriod::Week
            })
        );
        assert_eq!(config.points.warn_days, [14, 3]);
        assert_eq!(
            load("[points]\ncap_points = 10\ncap_period = \"quarter\"\n")
                .unwrap_err()
                .to_string(),
            "`points.cap_period`: `quarter` is not a period (day, week, month or year)"
        );
        assert_eq!(
            load("[points]\nwarn_days = [0]\n").unwrap_err().to_string(),
            "`points.warn_days`: 0 is not between 1 and 365"
        );
    }

    #[test]
    fn earning_rules_are_read_with_multipliers_and_bonus_days_and_bad_ones_are_named() {
        let default = Config::from_sources(None, &[], &Overrides::default(), &no_files).unwrap();
        let earn = default.points.earn.unwrap();
        assert_eq!(earn.unit, Money::from_minor(10_000, Currency::TWD));
        assert_eq!(default.points.pending_days, 14);
        let config = load(
            "[points]\nunit = 50\npending_days = 7\n\
             bonus_periods = [{ name = \"launch\", from = \"2026-12-01\", to = \"2026-12-07\", \
             weekdays = [\"sat\", \"sun\"], multiplier = 3 }]\n\
             [points.categories]\nbeans = 1.5\n[points.skus]\n\"CF-LAT\" = 2.0\n",
        )
        .unwrap();
        let earn = config.points.earn.unwrap();
        assert_eq!(earn.unit, Money::from_minor(5_000, Currency::TWD));
        assert_eq!(earn.categories[0].1.hundredths(), 150);
        assert_eq!(earn.skus[0].0.as_str(), "CF-LAT");
        let period = &earn.bonus_periods[0];
        assert_eq!(
            (period.name.as_str(), period.multiplier.hundredths()),
            ("launch", 300)
        );
        assert!(period.covers(jiff::civil::date(2026, 12, 5)));
        assert!(!period.covers(jiff::civil::date(2026, 12, 4)));
        assert!(
            load("[points]\nearn = false\n")
                .unwrap()
                .points
                .earn
                .is_none()
        );
        let errors = [
            (
                "[points.categories]\nbeans = 0\n",
                "`points.categories`: beans: ×0 is not between ×0.01 and ×100",
            ),
            (
                "[points]\nbonus_periods = [{ name = \"x\", from = \"2026-12-07\", to = \"2026-12-01\", multiplier = 2 }]\n",
                "`points.bonus_periods`: x: ends on 2026-12-01, before it starts on 2026-12-07",
            ),
            (
                "[points]\nbonus_periods = [{ name = \"x\", from = \"2026-12-01\", to = \"2026-12-07\", weekdays = [\"someday\"], multiplier = 2 }]\n",
                "`points.bonus_periods`: x: `someday` is not mon, tue, wed, thu, fri, sat or sun",
            ),
            (
                "[points]\nunit = 0\n",
                "`points.unit`: 0 is not between 1 and 1000000",
            ),
        ];
        for (text, message) in errors {
            assert_eq!(load(text).unwrap_err().to_string(), message, "{text}");
        }
    }

    #[test]
    fn tiers_are_off_until_levels_are_configured_and_then_checked() {
        let default = Config::from_sources(None, &[], &Overrides::default(), &no_files).unwrap();
        assert!(default.tiers.is_none());
        assert_eq!(default.birthday_coupon_on, BirthdayIssue::MonthStart);
        let config = load(
            "[tiers]\ngrace_days = 14\nbirthday_coupon_on = \"birthday\"\nlevels = [\n\
             { name = \"member\", entry = 0 },\n\
             { name = \"gold\", title = \"Gold\", entry = 20000, retain = 12000, \
             fast_upgrade = 10000, multiplier = 1.5, birthday_coupon = \"birthday-200\" },\n]\n",
        )
        .unwrap();
        let tiers = config.tiers.unwrap();
        assert_eq!(config.birthday_coupon_on, BirthdayIssue::Birthday);
        assert_eq!(tiers.grace_days, 14);
        assert_eq!(tiers.term_months, Some(12));
        let gold = &tiers.levels()[1];
        assert_eq!(
            (gold.entry, gold.retain, gold.fast_upgrade),
            (2_000_000, 1_200_000, Some(1_000_000))
        );
        assert_eq!(gold.benefits.multiplier.hundredths(), 150);
        assert_eq!(tiers.levels()[0].retain, 0);
        let errors = [
            (
                "[tiers]\nlevels = [{ name = \"member\", entry = 10 }]\n",
                "`tiers.levels`: the base level `member` has entry 0, retain 0 and no fast upgrade",
            ),
            (
                "[tiers]\nmetric = \"visits\"\nlevels = [{ name = \"member\", entry = 0 }]\n",
                "`tiers.metric`: `visits` is not `spend`, `points` or `orders`",
            ),
            (
                "[tiers]\ndowngrade = \"all\"\nlevels = [{ name = \"member\", entry = 0 }]\n",
                "`tiers.downgrade`: `all` is not `to_qualifying` or `one_step`",
            ),
            (
                "[tiers]\nlevels = [{ name = \"member\", entry = 0 }, { name = \"gold\", entry = 10, retain = 20 }]\n",
                "`tiers.levels`: `gold`: retain is between 0 and its entry 1000",
            ),
        ];
        for (text, message) in errors {
            assert_eq!(load(text).unwrap_err().to_string(), message, "{text}");
        }
    }

    #[test]
    fn referrals_are_off_until_enabled_and_wait_the_pending_days_by_default() {
        assert!(load("").unwrap().referrals.is_none());
        let rules = load(
            "[points]\npending_days = 10\n[referrals]\nenabled = true\nreferrer_points = 100\n\
             referee_coupon = \"welcome-50\"\nmin_order = 300\n",
        )
        .unwrap()
        .referrals
        .unwrap();
        assert_eq!(
            (
                rules.referrer_points,
                rules.min_order,
                rules.wait_days,
                rules.max_per_referrer
            ),
            (100, 30_000, 10, 50)
        );
        assert_eq!(rules.referee_coupon.unwrap().as_str(), "welcome-50");
        assert_eq!(
            load("[referrals]\nenabled = true\nmax_per_referrer = 0\n")
                .unwrap_err()
                .to_string(),
            "`referrals.max_per_referrer`: must be at least 1"
        );
    }

    #[test]
    fn idempotency_keys_are_kept_a_day_unless_configured_within_a_year() {
        let config = Config::from_sources(None, &[], &Overrides::default(), &no_files).unwrap();
        assert_eq!(
            config.idempotency_keep,
            jiff::SignedDuration::from_hours(24)
        );
        let config = Config::from_sources(
            None,
            &env(&[("REGULARS_SERVER__IDEMPOTENCY_KEEP_HOURS", "72")]),
            &Overrides::default(),
            &no_files,
        )
        .unwrap();
        assert_eq!(
            config.idempotency_keep,
            jiff::SignedDuration::from_hours(72)
        );
        let error = Config::from_sources(
            Some(("regulars.toml", "[server]\nidempotency_keep_hours = 0\n")),
            &[],
            &Overrides::default(),
            &no_files,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "`server.idempotency_keep_hours`: 0 is not between 1 and 8760 (a year)"
        );
    }
}
