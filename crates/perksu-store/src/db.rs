//! Connecting to the database named by a URL, and the two pools every operation goes through.
//!
//! Both backends run the same SQL through sqlx's `Any` driver. Their differences are kept
//! here: SQLite gets one writer connection (it allows one writer at a time anyway, and a single
//! connection means no transaction ever fails to upgrade its lock), PostgreSQL shares one pool
//! and relies on row locks taken by conditional updates.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::error::StoreError;

/// Which database the URL named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The default database: `perksu.db` in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://perksu.db";

/// Turns what the operator typed into a URL sqlx accepts: a SQLite file is created if missing.
pub fn normalise_url(url: &str) -> Result<(Backend, String), StoreError> {
    let backend = Backend::of_url(url).ok_or_else(|| {
        StoreError::Config(format!(
            "unsupported database URL {url:?}: use sqlite://PATH or postgres://..."
        ))
    })?;
    let url = match backend {
        Backend::Sqlite if !url.contains("mode=") => {
            let separator = if url.contains('?') { '&' } else { '?' };
            format!("{url}{separator}mode=rwc")
        }
        _ => url.to_owned(),
    };
    Ok((backend, url))
}

/// How long a request waits for a PostgreSQL connection. While the database is out of reach
/// the pool keeps trying to connect for this long, then the request gets a 503: short enough
/// that a client is never left hanging, long enough to ride out a restart's first seconds.
const POSTGRES_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Pools {
    pub backend: Backend,
    pub read: AnyPool,
    pub write: AnyPool,
}

pub(crate) async fn connect(url: &str) -> Result<Pools, StoreError> {
    sqlx::any::install_default_drivers();
    let (backend, url) = normalise_url(url)?;
    let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
    match backend {
        Backend::Postgres => {
            let pool = AnyPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await?;
            Ok(Pools {
                backend,
                read: pool.clone(),
                write: pool,
            })
        }
        Backend::Sqlite => {
            // WAL lets readers go on while the writer writes; it is a property of the file.
            let write = sqlite_pool(1).connect_with(options.clone()).await?;
            write.execute("pragma journal_mode = wal").await?;
            let read = sqlite_pool(8).connect_with(options).await?;
            Ok(Pools {
                backend,
                read,
                write,
            })
        }
    }
}

fn sqlite_pool(max_connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|connection, _meta| {
            Box::pin(async move {
                // Another process (a second server, `perksu verify`) may hold the write lock
                // for a moment: wait for it rather than fail. `synchronous = full` syncs the
                // log before a commit returns, so an acknowledged movement survives a power
                // loss, not only a crash of the process (measured: about 7% slower through
                // the kill -9 test's 800 requests, see docs/RELIABILITY.md).
                connection
                    .execute(
                        "pragma busy_timeout = 10000; pragma foreign_keys = on; \
                         pragma synchronous = full;",
                    )
                    .await?;
                Ok(())
            })
        })
}
