//! Test helpers shared by the integration suites: `TestDb` (a SQLite temp file or a fresh
//! PostgreSQL database), `FakeClock`, and `TestApp` (the real server on 127.0.0.1:0 driven
//! through `regulars-client`). Never a normal dependency of a shipping crate.
//!
//! PostgreSQL tests use `TEST_POSTGRES_URL` (a database the tests may `CREATE DATABASE` from).
//! Without it they report themselves skipped, except under `CI=true`, where they fail: a green
//! CI means both backends ran.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use regulars_client::Client;
use regulars_domain::ApiRole;
use regulars_server::app::{App, Clock};
use regulars_server::{Config, DatabaseUrl, Overrides, Server};
use regulars_store::Store;
use sqlx::Connection as _;
use tempfile::TempDir;

/// Reads a test setting from the environment.
#[allow(clippy::disallowed_methods)] // Tests are configured by the environment, read only here.
fn setting(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// True under CI, where skipping a backend is a failure.
pub fn in_ci() -> bool {
    setting("CI").is_some_and(|v| v == "true" || v == "1")
}

/// The storage backends tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A SQLite temp file.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

impl TestBackend {
    /// The backend the API suites use: `REGULARS_TEST_BACKEND=postgres` or SQLite.
    pub fn from_env() -> Self {
        match setting("REGULARS_TEST_BACKEND").as_deref() {
            Some("postgres") => Self::Postgres,
            _ => Self::Sqlite,
        }
    }
}

/// A random-enough suffix for database names, from the process's hash keys.
fn unique_suffix() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

/// Drops a PostgreSQL test database when the test ends.
struct PostgresCleanup {
    admin_url: String,
    name: String,
}

impl Drop for PostgresCleanup {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside any runtime we may block, so a thread with its own does the work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A fresh, migrated database for one test.
pub struct TestDb {
    /// Its URL.
    pub url: DatabaseUrl,
    /// The store over it.
    pub store: Arc<dyn Store>,
    /// The configuration that opens it.
    pub config: Config,
    _dir: TempDir,
    _cleanup: Option<PostgresCleanup>,
}

impl TestDb {
    /// A database on `backend`, or `None` when PostgreSQL is not configured outside CI.
    pub async fn new(backend: TestBackend) -> Option<Self> {
        match backend {
            TestBackend::Sqlite => Some(Self::sqlite().await),
            TestBackend::Postgres => Self::postgres().await,
        }
    }

    /// A SQLite temp file.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let url = DatabaseUrl::sqlite_file(&dir.path().join("test.db"));
        Self::open(url, dir, None).await
    }

    /// A fresh PostgreSQL database from `TEST_POSTGRES_URL`; `None` (reported as skipped) when
    /// it is not set, a panic under CI.
    pub async fn postgres() -> Option<Self> {
        let Some(admin_url) = setting("TEST_POSTGRES_URL") else {
            assert!(
                !in_ci(),
                "CI=true but TEST_POSTGRES_URL is not set: the PostgreSQL tests must run"
            );
            eprintln!("skipped: set TEST_POSTGRES_URL to run the PostgreSQL variant");
            return None;
        };
        let name = format!("regulars_test_{}", unique_suffix());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at TEST_POSTGRES_URL does not answer: {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("creating a test database");
        let _ = conn.close().await;
        let (base, query) = match admin_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (admin_url.as_str(), String::new()),
        };
        let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
        let url = DatabaseUrl::parse(&format!("{prefix}/{name}{query}")).expect("a valid URL");
        let cleanup = PostgresCleanup {
            admin_url: admin_url.clone(),
            name,
        };
        Some(Self::open(url, tempfile::tempdir().expect("a temp dir"), Some(cleanup)).await)
    }

    async fn open(url: DatabaseUrl, dir: TempDir, cleanup: Option<PostgresCleanup>) -> Self {
        let overrides = Overrides {
            database_url: Some(url.expose().to_owned()),
            listen: Some("127.0.0.1:0".to_owned()),
            data_dir: Some(dir.path().to_owned()),
            ..Overrides::default()
        };
        let config = Config::from_sources(None, &[], &overrides, &|p| std::fs::read_to_string(p))
            .expect("a valid test configuration");
        let store = regulars_server::open_store(&config)
            .await
            .expect("opening the test store");
        Self {
            url,
            store,
            config,
            _dir: dir,
            _cleanup: cleanup,
        }
    }

    /// The temp folder of this test.
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

/// A clock tests set and move.
#[derive(Debug)]
pub struct FakeClock(Mutex<Timestamp>);

impl FakeClock {
    /// A clock showing `now`.
    pub fn at(now: &str) -> Arc<Self> {
        Arc::new(Self(Mutex::new(now.parse().expect("an RFC 3339 instant"))))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: jiff::SignedDuration) {
        let mut now = self.0.lock().expect("the clock lock");
        *now += by;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("the clock lock")
    }
}

/// The real server on 127.0.0.1:0 over a fresh database, with an admin client.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// A client with an admin key.
    pub client: Client,
    /// The application, for setting up state directly.
    pub app: App,
    /// The clock the application reads.
    pub clock: Arc<FakeClock>,
    /// The database.
    pub db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    /// Starts a server on the backend `REGULARS_TEST_BACKEND` names (SQLite by default); `None`
    /// when that backend is PostgreSQL and it is not configured outside CI.
    pub async fn spawn() -> Option<Self> {
        Self::spawn_on(TestBackend::from_env()).await
    }

    /// Starts a server on `backend`.
    pub async fn spawn_on(backend: TestBackend) -> Option<Self> {
        Self::spawn_configured(backend, |_| {}).await
    }

    /// Starts a server on `backend` with its configuration changed by `change` (model options,
    /// say).
    pub async fn spawn_configured(
        backend: TestBackend,
        change: impl FnOnce(&mut Config),
    ) -> Option<Self> {
        let mut db = TestDb::new(backend).await?;
        change(&mut db.config);
        let clock = FakeClock::at("2026-11-22T04:00:00Z");
        let app = App::new(
            db.store.clone(),
            clock.clone(),
            db.config.brand.clone(),
            db.config.ingest,
        )
        .with_segmentation(db.config.engine.clone(), db.config.orders)
        .with_points_settings(db.config.points.clone())
        .with_tier_rules(db.config.tiers.clone())
        .with_birthday_issue(db.config.birthday_coupon_on)
        .with_referral_rules(db.config.referrals.clone());
        let server = Server::with_app(&db.config, app.clone())
            .await
            .expect("binding the test server");
        let address = format!("http://{}", server.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run_until(async {
            let _ = stopped.await;
        }));
        let (token, _) = app
            .create_api_key(ApiRole::Admin, Some("test".to_owned()))
            .await
            .expect("an admin key");
        let client = Client::new(&address, Some(&token));
        Some(Self {
            address,
            client,
            app,
            clock,
            db,
            stop: Some(stop),
        })
    }

    /// A client whose key has `role`.
    pub async fn client_with_role(&self, role: ApiRole) -> Client {
        let (token, _) = self.app.create_api_key(role, None).await.expect("a key");
        self.client.with_token(Some(&token))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Re-exported for test crates that build requests.
pub use regulars_api_types as api_types;
