//! A fresh, empty database per use: a SQLite file in a temporary directory, or a PostgreSQL
//! schema of its own (in the database `PERKSU_TEST_POSTGRES_URL` names) that is dropped when
//! the value is dropped, even when the test fails. A migrated one can be emptied again, for
//! tests that need many fresh databases and would otherwise spend their time migrating.
#![allow(dead_code)]

use std::time::Duration;

use sqlx::{AnyConnection, Connection};

/// The PostgreSQL database tests may create schemas in, if one is configured.
pub fn postgres_base_url() -> Option<String> {
    std::env::var("PERKSU_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Which database to make.
#[derive(Clone, Debug)]
pub enum Target {
    Sqlite,
    Postgres { base_url: String },
}

pub struct FreshDb {
    /// The URL to give `Store::open` or sqlx; on PostgreSQL it selects the schema.
    pub url: String,
    _sqlite_dir: Option<tempfile::TempDir>,
    postgres_schema: Option<PostgresSchema>,
}

struct PostgresSchema {
    base_url: String,
    name: String,
}

impl FreshDb {
    pub async fn create(target: &Target) -> FreshDb {
        match target {
            Target::Sqlite => FreshDb::sqlite(),
            Target::Postgres { base_url } => FreshDb::postgres(base_url).await,
        }
    }

    pub fn sqlite() -> FreshDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("perksu.db").display());
        FreshDb {
            url,
            _sqlite_dir: Some(dir),
            postgres_schema: None,
        }
    }

    pub async fn postgres(base_url: &str) -> FreshDb {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        run_postgres(base_url, &[&format!("create schema {name}")])
            .await
            .expect("create a PostgreSQL schema");
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{separator}options=-c%20search_path%3D{name}");
        FreshDb {
            url,
            _sqlite_dir: None,
            postgres_schema: Some(PostgresSchema {
                base_url: base_url.to_owned(),
                name,
            }),
        }
    }
}

impl FreshDb {
    /// Deletes every row of every table except sqlx's migration history: afterwards the
    /// database is as a fresh one is just after migrating.
    pub async fn empty(&self) -> Result<(), sqlx::Error> {
        sqlx::any::install_default_drivers();
        let mut connection = AnyConnection::connect(&self.url).await?;
        if self.postgres_schema.is_some() {
            let tables: Vec<String> = sqlx::query_scalar(
                "select quote_ident(table_name::text) from information_schema.tables \
                 where table_schema = current_schema() and table_type = 'BASE TABLE' \
                 and table_name <> '_sqlx_migrations'",
            )
            .fetch_all(&mut connection)
            .await?;
            if !tables.is_empty() {
                let sql = format!("truncate table {} cascade", tables.join(", "));
                sqlx::query(&sql).execute(&mut connection).await?;
            }
        } else {
            let tables: Vec<String> = sqlx::query_scalar(
                "select name from sqlite_master where type = 'table' \
                 and name not like 'sqlite_%' and name <> '_sqlx_migrations'",
            )
            .fetch_all(&mut connection)
            .await?;
            // With foreign keys unchecked the tables can be emptied in any order.
            sqlx::query("pragma foreign_keys = off")
                .execute(&mut connection)
                .await?;
            for table in tables {
                sqlx::query(&format!("delete from \"{table}\""))
                    .execute(&mut connection)
                    .await?;
            }
        }
        connection.close().await
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        let Some(schema) = self.postgres_schema.take() else {
            return;
        };
        // Drop may run inside an async runtime (or while a failed test unwinds), where blocking
        // on a future is not allowed: the clean-up gets a thread and a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(run_postgres(
                &schema.base_url,
                &[
                    // A connection a failed test left inside a transaction must not make the
                    // clean-up wait forever.
                    "set lock_timeout = '10s'",
                    &format!("drop schema {} cascade", schema.name),
                ],
            ))
        });
        match cleanup.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("could not drop a test schema: {error}"),
            Err(_) => eprintln!("could not drop a test schema: the clean-up thread panicked"),
        }
    }
}

/// Runs statements, in order, on one connection to the PostgreSQL test database.
async fn run_postgres(base_url: &str, statements: &[&str]) -> Result<(), sqlx::Error> {
    let connect = sqlx::PgConnection::connect(base_url);
    let mut connection = tokio::time::timeout(Duration::from_secs(30), connect)
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
    for statement in statements {
        sqlx::query(statement).execute(&mut connection).await?;
    }
    connection.close().await
}
