//! The composition root: loads the configuration, starts telemetry, picks the storage backend
//! from the database URL, runs migrations, builds the application and serves the router.
//!
//! It is a library so that tests and the command line start exactly what production starts:
//! `Server::build(&config)`, `local_addr()`, `run_until(shutdown)`.

mod config;
mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use regulars_app::{App, Clock, SystemClock};
use regulars_store::{Backend, Store};
use regulars_store_postgres::PostgresStore;
use regulars_store_sqlite::SqliteStore;
use tokio::net::TcpListener;

pub use config::{Config, ConfigError, ConfigFile, EXAMPLE_CONFIG, Overrides};
pub use regulars_app as app;
pub use regulars_store::DatabaseUrl;
pub use telemetry::init_telemetry;

/// Opens the store the configured URL names and brings its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let zone = config.brand.time_zone.iana_name().unwrap_or("UTC");
    let store: Arc<dyn Store> = match config.database_url.backend() {
        Backend::Sqlite => Arc::new(SqliteStore::connect(&config.database_url, zone).await?),
        Backend::Postgres => Arc::new(
            PostgresStore::connect(&config.database_url, config.max_connections, zone).await?,
        ),
    };
    store
        .migrate()
        .await
        .with_context(|| format!("migrating {}", config.database_url))?;
    Ok(store)
}

/// Opens the store and builds the application on it with `clock`.
pub async fn open_app(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    let store = open_store(config).await?;
    Ok(App::new(store, clock, config.brand.clone(), config.ingest)
        .with_segmentation(config.engine.clone(), config.orders)
        .with_segment_settings(config.segments)
        .with_points_settings(config.points.clone())
        .with_tier_rules(config.tiers.clone())
        .with_birthday_issue(config.birthday_coupon_on)
        .with_referral_rules(config.referrals.clone()))
}

/// The day's loyalty pass: expiry and its warnings, tiers due, birthday coupons, referrals.
async fn daily(app: &App) -> anyhow::Result<()> {
    let points = app.expire_points().await?;
    tracing::info!(points, "expired points");
    let warnings = app.warn_expiring_points().await?;
    tracing::info!(warnings, "warned of expiring points");
    let tiers = app.evaluate_due_tiers().await?;
    tracing::info!(
        members = tiers.members,
        changes = tiers.changes,
        rewards = tiers.rewards,
        "evaluated the tiers due"
    );
    let birthdays = app.issue_birthday_coupons().await?;
    tracing::info!(
        issued = birthdays.issued,
        refused = birthdays.refused.len(),
        "issued birthday coupons"
    );
    let referrals = app.settle_referrals().await?;
    tracing::info!(
        open = referrals.open,
        rewarded = referrals.rewarded,
        rejected = referrals.rejected,
        "settled referrals"
    );
    Ok(())
}

/// How often the server forgets idempotency keys older than it keeps them.
const FORGET_EVERY: std::time::Duration = std::time::Duration::from_secs(3_600);

/// A bound, ready-to-run server.
pub struct Server {
    listener: TcpListener,
    app: App,
    router: axum::Router,
    tick: std::time::Duration,
    idempotency_keep: jiff::SignedDuration,
}

impl Server {
    /// Opens the store, migrates it and binds the listener (port 0 picks a free port).
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let app = open_app(config, Arc::new(SystemClock)).await?;
        Self::with_app(config, app).await
    }

    /// Binds a server for an application built elsewhere (tests use a fake clock), with its
    /// segments loaded and live.
    pub async fn with_app(config: &Config, app: App) -> anyhow::Result<Self> {
        if !app.segments_are_live().await {
            let started = std::time::Instant::now();
            app.start_segments().await.context("loading the segments")?;
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "segments are live"
            );
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let router = regulars_api::router(app.clone(), config.api);
        Ok(Self {
            listener,
            app,
            router,
            tick: config.tick,
            idempotency_keep: config.idempotency_keep,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The application it serves.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight. Meanwhile it
    /// earns points from the orders recorded, checks for a new day every tick and moves the
    /// segments, and once an hour forgets the idempotency keys older than `[server]
    /// idempotency_keep_hours`.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let app = self.app.clone();
        let (tick, keep) = (self.tick, self.idempotency_keep);
        let accruing = app.clone();
        let accruer = tokio::spawn(async move {
            // Orders and returns just recorded earn or take back their points at once; the
            // tick below catches what other processes (an import) queued.
            loop {
                accruing.points_due().await;
                if let Err(error) = accruing.accrue_points().await {
                    tracing::error!(%error, "earning points from orders failed");
                }
            }
        });
        let ticker = tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut forgot_at: Option<tokio::time::Instant> = None;
            let mut passed_on: Option<jiff::civil::Date> = None;
            loop {
                interval.tick().await;
                if let Err(error) = app.tick_segments().await {
                    tracing::error!(%error, "moving the segments to a new day failed");
                }
                match app.accrue_points().await {
                    Ok(accrued) if accrued.orders > 0 => tracing::info!(
                        orders = accrued.orders,
                        earned = accrued.earned,
                        reversed = accrued.reversed,
                        "points from orders"
                    ),
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "earning points from orders failed"),
                }
                // Once a day (and at start), what expired grants have left leaves the ledger,
                // members whose points expire soon are warned, members whose tier changes with
                // time alone are evaluated, and the birthday coupons due are issued.
                let today = app.today();
                if passed_on != Some(today) {
                    match daily(&app).await {
                        Ok(()) => passed_on = Some(today),
                        Err(error) => tracing::error!(%error, "the daily loyalty pass failed"),
                    }
                }
                if forgot_at.is_none_or(|at| at.elapsed() >= FORGET_EVERY) {
                    forgot_at = Some(tokio::time::Instant::now());
                    match app.forget_idempotency_keys(keep).await {
                        Ok(forgotten) => {
                            tracing::debug!(forgotten, "forgot old idempotency keys");
                        }
                        Err(error) => {
                            tracing::error!(%error, "forgetting old idempotency keys failed");
                        }
                    }
                }
            }
        });
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP");
        ticker.abort();
        accruer.abort();
        served
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("interrupted; shutting down"),
        () = terminate => tracing::info!("terminated; shutting down"),
    }
}
