//! Persistence. One module per aggregate; SQLite and PostgreSQL behind one interface.
//!
//! Both databases are reached through `sqlx::Any` with SQL written once in the subset both speak
//! (`$n` placeholders, `RETURNING`, `ON CONFLICT`), ids as UUID text and times as Unix
//! milliseconds. Where the dialects must differ, `Db::backend()` says which one is in use. See
//! docs/decisions/0001-one-sql-dialect-through-sqlx-any.md.
//!
//! Every function that touches tenant data takes the `TenantId` and filters by it.

pub mod alerts;
pub mod api_keys;
pub mod app_records;
pub mod audit;
pub mod change_feed;
pub mod change_sequences;
pub mod connection_usage;
pub mod connections;
pub mod environments;
pub mod failed_records;
pub mod jobs;
pub mod login_throttle;
pub mod oauth_states;
pub mod pipelines;
pub mod sessions;
pub mod support;
pub mod sync_history;
pub mod sync_links;
pub mod sync_seen;
pub mod tenants;
pub mod users;
pub mod vault_secrets;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Something a query can run on: the pool, a connection or a transaction.
pub trait Exec<'c>: Executor<'c, Database = Any> {}
impl<'c, T: Executor<'c, Database = Any>> Exec<'c> for T {}

pub type Tx = sqlx::Transaction<'static, Any>;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{what} already exists")]
    Duplicate { what: &'static str },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl RepoError {
    /// Turns a unique-constraint violation into `Duplicate`, leaving other errors alone.
    pub fn duplicate_as(error: sqlx::Error, what: &'static str) -> RepoError {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => RepoError::Duplicate { what },
            _ => RepoError::Database(error),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The connection pool and which database it talks to.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects, creating the SQLite file (and its directory) when needed.
    pub async fn connect(url: &SecretString, max_connections: u32) -> Result<Db, RepoError> {
        sqlx::any::install_default_drivers();
        let url = url.expose_secret();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(RepoError::Database(sqlx::Error::Configuration(
                "database_url must start with sqlite:// or postgres://".into(),
            )));
        };
        if backend == Backend::Sqlite {
            create_sqlite_parent_dir(url)?;
        }
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers work while one writer commits; the busy timeout makes a
                        // second writer wait instead of failing at once.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db { pool, backend })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies pending migrations. Safe to run from several instances at once: sqlx takes an
    /// advisory lock on PostgreSQL, and SQLite serialises writers.
    pub async fn migrate(&self) -> Result<(), RepoError> {
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// (applied, expected) migration counts.
    pub async fn migration_status(&self) -> Result<(i64, i64), RepoError> {
        let expected = self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .count() as i64;
        let table_exists: i64 = match self.backend {
            Backend::Sqlite => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(&self.pool)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = '_sqlx_migrations' \
                     AND table_schema = current_schema()",
                )
                .fetch_one(&self.pool)
                .await?
            }
        };
        if table_exists == 0 {
            return Ok((0, expected));
        }
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.pool)
            .await?;
        Ok((applied, expected))
    }

    pub async fn ping(&self) -> Result<(), RepoError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Starts a transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`) so that
    /// two read-then-write transactions wait for each other instead of failing with "database is
    /// locked" halfway through.
    pub async fn begin(&self) -> Result<Tx, RepoError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn create_sqlite_parent_dir(url: &str) -> Result<(), RepoError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            RepoError::Database(sqlx::Error::Configuration(
                format!("cannot create the database directory {}: {e}", parent.display()).into(),
            ))
        })?;
    }
    Ok(())
}

/// Now, as stored: Unix milliseconds.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn to_datetime(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

pub fn parse_id<T: FromStr>(value: &str, what: &str) -> Result<T, RepoError> {
    value
        .parse()
        .map_err(|_| RepoError::Corrupt(format!("{what} is not a valid id: {value:?}")))
}

/// A new, time-ordered identifier.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
