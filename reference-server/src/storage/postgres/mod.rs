//! PostgreSQL: one database shared by every replica of the server, reached through a pool of
//! connections ([`PgDatabase`]), with versioned migrations that replicas starting together
//! apply exactly once.
//!
//! The PostgreSQL mode (`--database-url postgres://…`): [`PgRepository`] keeps the
//! repository, the push and the twin records there, each store with its own list of
//! [`PgMigration`]s, as on SQLite (`storage/sqlite/migrations.rs`). Why tokio-postgres with
//! deadpool-postgres and not sqlx: `docs/dependencies.md`.
//!
//! # Migrations
//!
//! Each store has a numbered list of migrations and its version in `schema_versions`. Opening
//! takes a transaction-scoped advisory lock ([`MIGRATION_LOCK`]) before it even looks at that
//! table, so of replicas starting together one migrates while the others wait, then find every
//! migration applied. Each store's missing migrations are applied in one transaction with the
//! version update: a migration that fails leaves the store at its old version. A store whose
//! recorded version is newer than this build knows is refused ([`PgError::Newer`]): an older
//! server would misread tables it does not know the shape of.
//!
//! # Connections
//!
//! The URL is libpq's (`postgres://user[:password]@host[:port]/database[?options]`); errors
//! never show it, since it may hold a password. TLS to the database is not built in yet: a
//! URL that requires it (`sslmode=require`) fails to connect, and says so. Nothing waits
//! without bound ([`PgOptions`]): making a connection, waiting for a pooled one, and waiting
//! for another replica's migrations each have a timeout.

use std::time::Duration;

use deadpool_postgres::{
    Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::{IsolationLevel, NoTls};

use super::database_error::DatabaseErrorKind;
use super::{DatabaseError, StorageError, StoreError};

mod records;
mod repository;
mod twin_leases;

pub use repository::{DEFAULT_JOB_LEASE, PgRepository};
pub use twin_leases::PgTwinLeases;

/// A statement's failure with what PostgreSQL said (`tokio_postgres::Error` itself shows only
/// "db error"): its severity, SQLSTATE and message (which may quote a value of the request,
/// never the connection's settings).
#[derive(Debug, thiserror::Error)]
#[error("{said}")]
struct Refused {
    said: String,
    #[source]
    source: tokio_postgres::Error,
}

impl From<tokio_postgres::Error> for DatabaseError {
    fn from(error: tokio_postgres::Error) -> Self {
        let kind = match error.code() {
            Some(code) if *code == SqlState::DISK_FULL => DatabaseErrorKind::DiskFull,
            _ => DatabaseErrorKind::Other,
        };
        match error.as_db_error() {
            Some(db) => {
                let said = format!(
                    "PostgreSQL: {} {}: {}",
                    db.severity(),
                    db.code().code(),
                    db.message()
                );
                DatabaseError::new(
                    kind,
                    Refused {
                        said,
                        source: error,
                    },
                )
            }
            None => DatabaseError::new(kind, error),
        }
    }
}

impl From<PgError> for DatabaseError {
    fn from(error: PgError) -> Self {
        match error {
            PgError::Statement(error) => error.into(),
            other => DatabaseError::new(DatabaseErrorKind::Other, other),
        }
    }
}

impl From<tokio_postgres::Error> for StorageError {
    fn from(error: tokio_postgres::Error) -> Self {
        StorageError::Database(error.into())
    }
}

impl From<PgError> for StorageError {
    fn from(error: PgError) -> Self {
        StorageError::Database(error.into())
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        StoreError::Database(error.into())
    }
}

impl From<PgError> for StoreError {
    fn from(error: PgError) -> Self {
        StoreError::Database(error.into())
    }
}

/// The advisory lock held while migrations run (any fixed number all replicas agree on; this
/// one spells "aas-rsmg").
pub const MIGRATION_LOCK: i64 = 0x6161_732d_7273_6d67;

/// Run on every pooled connection when it is made (see [`PgDatabase::open`]).
const READ_COMMITTED: &str =
    "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED";

/// The default number of pooled connections per replica.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;

/// How long making a connection may take by default, when the URL sets no `connect_timeout`:
/// an address that accepts TCP but never answers fails instead of hanging.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request may wait for a free pooled connection by default.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a replica waits by default for another one's migrations (the advisory lock, and
/// every lock a migration takes) before it gives up starting.
pub const DEFAULT_MIGRATION_WAIT: Duration = Duration::from_secs(300);

/// Why the database cannot be used. Never shows the database URL (it may hold a password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The database URL could not be read.
    #[error("the database URL is not a PostgreSQL connection URL (postgres://user@host/db)")]
    Url(#[source] tokio_postgres::Error),
    /// The pool could not be made.
    #[error("the PostgreSQL connection pool could not be made")]
    Pool(#[source] deadpool_postgres::BuildError),
    /// No connection could be had from the pool (the database is not reachable, refused the
    /// login, or every connection is taken for longer than allowed).
    #[error("no connection to the PostgreSQL database")]
    Connect(#[source] deadpool_postgres::PoolError),
    /// A statement failed.
    #[error("PostgreSQL statement failed")]
    Statement(#[from] tokio_postgres::Error),
    /// A migration failed; the store stays at its previous version.
    #[error("migration {version} of the {store} tables ({what}) failed")]
    Migration {
        /// The store whose migration failed.
        store: &'static str,
        /// The migration's version.
        version: u32,
        /// What the migration does.
        what: &'static str,
        /// What PostgreSQL answered.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The database was migrated by a newer server.
    #[error(
        "the database's {store} tables are at version {found}, newer than this build knows \
         ({known}): run the newer server, or restore a backup made before the upgrade"
    )]
    Newer {
        /// The store.
        store: String,
        /// The version recorded in the database.
        found: i64,
        /// The newest version this build knows.
        known: u32,
    },
}

/// One step of a store's schema.
#[derive(Debug, Clone, Copy)]
pub struct PgMigration {
    /// 1, 2, 3…: the version the store has after this step.
    pub version: u32,
    /// What it does (logged when applied, named when it fails).
    pub what: &'static str,
    /// The statements, run as one batch in the store's migration transaction.
    pub sql: &'static str,
}

/// A store's name in `schema_versions` and its migrations, oldest first. Never edit a
/// migration that shipped: add another.
#[derive(Debug, Clone, Copy)]
pub struct PgStore {
    /// The store's name.
    pub name: &'static str,
    /// Its migrations, versions 1, 2, 3… in order.
    pub migrations: &'static [PgMigration],
}

/// How the pool is made, and how long anything may wait.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// The most connections this replica holds ([`DEFAULT_MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// How long making a connection may take when the URL says nothing
    /// ([`DEFAULT_CONNECT_TIMEOUT`]); also the bound on making one for the pool.
    pub connect_timeout: Duration,
    /// How long waiting for a free connection may take ([`DEFAULT_WAIT_TIMEOUT`]).
    pub wait_timeout: Duration,
    /// How long opening waits for another replica's migrations ([`DEFAULT_MIGRATION_WAIT`]).
    pub migration_wait: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            wait_timeout: DEFAULT_WAIT_TIMEOUT,
            migration_wait: DEFAULT_MIGRATION_WAIT,
        }
    }
}

/// A pool of connections to one PostgreSQL database, its stores migrated.
#[derive(Clone)]
pub struct PgDatabase {
    pool: Pool,
    /// How to connect, for connections outside the pool (listening for notifications).
    config: tokio_postgres::Config,
}

impl std::fmt::Debug for PgDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PgDatabase")
            .field("max_connections", &status.max_size)
            .field("connections", &status.size)
            .finish()
    }
}

impl PgDatabase {
    /// Connects to the database at `url` and brings each of `stores` to its newest version.
    pub async fn open(url: &str, options: &PgOptions, stores: &[PgStore]) -> Result<Self, PgError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(PgError::Url)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        // A connection whose peer vanished without closing it (a failover, a cut network) is
        // found out within about 25 s instead of the system's two hours: the twins' leases
        // hang on one.
        if config.get_keepalives_idle() == Duration::from_secs(2 * 3600) {
            config
                .keepalives_idle(Duration::from_secs(10))
                .keepalives_interval(Duration::from_secs(5))
                .keepalives_retries(3);
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                // A connection that broke is found out by its next statement, which fails the
                // request that ran it, not by a probe before each use.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: Some(options.wait_timeout),
                create: Some(options.connect_timeout),
                recycle: Some(options.connect_timeout),
            })
            // Every transaction at read committed, whatever the database's default: the row
            // locks, `ON CONFLICT` and `SKIP LOCKED` claims are written for it (under
            // repeatable read a concurrent create or claim fails with a serialization error
            // instead of waiting). Set per session, not as a startup option, which connection
            // poolers such as PgBouncer refuse.
            .post_create(Hook::async_fn(|client, _| {
                Box::pin(async move {
                    (client.batch_execute(READ_COMMITTED).await).map_err(HookError::Backend)
                })
            }))
            .build()
            .map_err(PgError::Pool)?;
        let database = Self { pool, config };
        database.migrate(stores, options.migration_wait).await?;
        Ok(database)
    }

    /// A connection from the pool, returned to it when dropped.
    pub async fn connection(&self) -> Result<deadpool_postgres::Object, PgError> {
        self.pool.get().await.map_err(PgError::Connect)
    }

    /// The version recorded for `store`, if any.
    #[cfg(test)]
    pub async fn version(&self, store: &str) -> Result<Option<i64>, PgError> {
        let client = self.connection().await?;
        let exists: bool = client
            .query_one("SELECT to_regclass('schema_versions') IS NOT NULL", &[])
            .await?
            .get(0);
        if !exists {
            return Ok(None);
        }
        Ok(client
            .query_opt(
                "SELECT version FROM schema_versions WHERE store = $1",
                &[&store],
            )
            .await?
            .map(|row| row.get(0)))
    }

    async fn migrate(&self, stores: &[PgStore], wait: Duration) -> Result<(), PgError> {
        let mut client = self.connection().await?;
        for store in stores {
            // Read committed whatever the database's default: under repeatable read the
            // snapshot would be taken before the lock is granted, and a replica that waited
            // would not see the versions the one before it recorded.
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::ReadCommitted)
                .start()
                .await?;
            tx.batch_execute(&format!(
                "SET LOCAL lock_timeout = {}",
                wait.as_millis().max(1)
            ))
            .await?;
            // Taken before `schema_versions` is created or read: two replicas creating it at
            // once would collide in PostgreSQL's catalog.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_versions \
                 (store TEXT PRIMARY KEY, version BIGINT NOT NULL)",
            )
            .await?;
            let found: i64 = tx
                .query_opt(
                    "SELECT version FROM schema_versions WHERE store = $1",
                    &[&store.name],
                )
                .await?
                .map_or(0, |row| row.get(0));
            let known = store.migrations.last().map_or(0, |m| m.version);
            if found > i64::from(known) {
                return Err(PgError::Newer {
                    store: store.name.to_owned(),
                    found,
                    known,
                });
            }
            let missing = store
                .migrations
                .iter()
                .filter(|m| i64::from(m.version) > found);
            for migration in missing {
                tx.batch_execute(migration.sql)
                    .await
                    .map_err(|source| PgError::Migration {
                        store: store.name,
                        version: migration.version,
                        what: migration.what,
                        source,
                    })?;
                tracing::info!(
                    store = store.name,
                    version = migration.version,
                    what = migration.what,
                    "migrated"
                );
            }
            tx.execute(
                "INSERT INTO schema_versions (store, version) VALUES ($1, $2) \
                 ON CONFLICT (store) DO UPDATE SET version = excluded.version",
                &[&store.name, &i64::from(known)],
            )
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aas_conformance_tests::postgres::Postgres;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// A store whose first migration fails if it runs twice (no `IF NOT EXISTS`).
    const NOTES: PgStore = PgStore {
        name: "notes",
        migrations: &[
            PgMigration {
                version: 1,
                what: "the notes table",
                sql: "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, text TEXT NOT NULL)",
            },
            PgMigration {
                version: 2,
                what: "an index on text",
                sql: "CREATE INDEX notes_text ON notes (text)",
            },
        ],
    };

    /// Also where the database's default isolation is stricter than read committed, which
    /// would let a replica that waited for the lock read the versions from before it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_opening_together_migrate_once_and_all_open() -> TestResult {
        let cluster = Postgres::start();
        for isolation in ["read committed", "repeatable read", "serializable"] {
            let name = isolation.replace(' ', "_");
            cluster.psql(&format!("CREATE DATABASE {name}"))?;
            cluster.psql(&format!(
                "ALTER DATABASE {name} SET default_transaction_isolation = '{isolation}'"
            ))?;
            let url = format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port);
            let opens: Vec<_> = (0..4)
                .map(|_| {
                    let url = url.clone();
                    tokio::spawn(async move {
                        PgDatabase::open(&url, &PgOptions::default(), &[NOTES]).await
                    })
                })
                .collect();
            for open in opens {
                open.await?.map_err(|e| format!("{isolation}: {e:?}"))?;
            }
            let database = PgDatabase::open(&url, &PgOptions::default(), &[NOTES]).await?;
            assert_eq!(database.version("notes").await?, Some(2), "{isolation}");
        }
        let database = PgDatabase::open(&cluster.url(), &PgOptions::default(), &[NOTES]).await?;
        assert_eq!(database.version("notes").await?, Some(2));
        let indexes: i64 = database
            .connection()
            .await?
            .query_one(
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'notes_text'",
                &[],
            )
            .await?
            .get(0);
        assert_eq!(indexes, 1);
        Ok(())
    }

    #[tokio::test]
    async fn a_database_migrated_by_a_newer_server_is_refused_and_says_why() -> TestResult {
        let cluster = Postgres::start();
        let database = PgDatabase::open(&cluster.url(), &PgOptions::default(), &[NOTES]).await?;
        database
            .connection()
            .await?
            .execute(
                "UPDATE schema_versions SET version = 7 WHERE store = 'notes'",
                &[],
            )
            .await?;
        let refused = PgDatabase::open(&cluster.url(), &PgOptions::default(), &[NOTES]).await;
        let Err(error @ PgError::Newer { .. }) = refused else {
            return Err(format!("not refused as newer: {refused:?}").into());
        };
        assert_eq!(
            error.to_string(),
            "the database's notes tables are at version 7, newer than this build knows (2): \
             run the newer server, or restore a backup made before the upgrade"
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_failing_migration_leaves_the_store_at_its_old_version() -> TestResult {
        const BROKEN: PgStore = PgStore {
            name: "notes",
            migrations: &[
                NOTES.migrations[0],
                PgMigration {
                    version: 2,
                    what: "a broken step",
                    sql: "CREATE TABLE half (id INT); SELECT no_such_function()",
                },
            ],
        };
        let cluster = Postgres::start();
        let first = [PgStore {
            name: "notes",
            migrations: &NOTES.migrations[..1],
        }];
        PgDatabase::open(&cluster.url(), &PgOptions::default(), &first).await?;
        let failed = PgDatabase::open(&cluster.url(), &PgOptions::default(), &[BROKEN]).await;
        let Err(error @ PgError::Migration { version: 2, .. }) = failed else {
            return Err(format!("the broken migration did not fail: {failed:?}").into());
        };
        assert!(error.to_string().contains("a broken step"), "{error}");
        let database = PgDatabase::open(&cluster.url(), &PgOptions::default(), &first).await?;
        assert_eq!(database.version("notes").await?, Some(1));
        let half: bool = database
            .connection()
            .await?
            .query_one("SELECT to_regclass('half') IS NOT NULL", &[])
            .await?
            .get(0);
        assert!(
            !half,
            "the failed migration's first statement was rolled back"
        );
        Ok(())
    }

    /// A listener that accepts connections and never answers: opening fails after the
    /// connect timeout instead of hanging.
    #[tokio::test]
    async fn a_database_that_never_answers_fails_after_the_connect_timeout() -> TestResult {
        let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!("postgres://u@{}/db", silent.local_addr()?);
        let options = PgOptions {
            connect_timeout: Duration::from_millis(500),
            ..PgOptions::default()
        };
        let opened = tokio::time::timeout(
            Duration::from_secs(20),
            PgDatabase::open(&url, &options, &[NOTES]),
        )
        .await
        .map_err(|_| "opening hung past 20 s")?;
        assert!(matches!(opened, Err(PgError::Connect(_))), "{opened:?}");
        Ok(())
    }

    /// A peer that vanishes without closing the connection (its machine is gone) is found out
    /// by TCP keepalives after 10 s idle, unless the URL sets its own.
    #[tokio::test]
    async fn connections_probe_a_silent_peer_unless_the_url_says_otherwise() -> TestResult {
        let cluster = Postgres::start();
        let default = PgDatabase::open(&cluster.url(), &PgOptions::default(), &[]).await?;
        assert_eq!(
            default.config.get_keepalives_idle(),
            Duration::from_secs(10)
        );
        let url = format!("{}?keepalives_idle=60", cluster.url());
        let own = PgDatabase::open(&url, &PgOptions::default(), &[]).await?;
        assert_eq!(own.config.get_keepalives_idle(), Duration::from_secs(60));
        Ok(())
    }

    #[tokio::test]
    async fn errors_never_show_the_url_and_its_password() -> TestResult {
        let unreadable = PgDatabase::open("postgres://u:s3cret@[::1", &PgOptions::default(), &[])
            .await
            .err()
            .ok_or("an unreadable URL was accepted")?;
        // Nobody listens on port 1 of the loopback address.
        let unreachable = PgDatabase::open(
            "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=5",
            &PgOptions::default(),
            &[],
        )
        .await
        .err()
        .ok_or("an unreachable database was accepted")?;
        assert!(
            matches!(unreachable, PgError::Connect(_)),
            "{unreachable:?}"
        );
        for error in [unreadable, unreachable] {
            let mut chain = format!("{error} {error:?}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                chain.push_str(&format!(" {cause} {cause:?}"));
                source = cause.source();
            }
            assert!(!chain.contains("s3cret"), "{chain}");
        }
        Ok(())
    }
}
