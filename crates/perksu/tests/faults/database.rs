//! A fresh database per test: a SQLite file, or a PostgreSQL schema of its own.

use crate::common::run_postgres;
use crate::process::perksu;

pub const ADMIN_EMAIL: &str = "root@faults.test";
pub const PASSWORD: &str = "correct horse battery";

pub enum Database {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
        base_url: String,
        schema: String,
        /// Every connection of the servers under test says this, so a test can terminate
        /// them and nobody else's.
        application_name: String,
    },
}

impl Database {
    pub fn sqlite() -> Database {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("perksu.db").display());
        Database::Sqlite { url, _dir: dir }
    }

    /// A schema of its own in `PERKSU_TEST_POSTGRES_URL`, or `None` when that is not set.
    pub async fn postgres() -> Option<Database> {
        let Some(base_url) = std::env::var("PERKSU_TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            eprintln!("PERKSU_TEST_POSTGRES_URL is not set: PostgreSQL leg skipped");
            return None;
        };
        let id = uuid::Uuid::new_v4().simple().to_string();
        let schema = format!("t_{id}");
        let application_name = format!("perksu_faults_{}", &id[..12]);
        run_postgres(&base_url, &format!("create schema {schema}")).await;
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!(
            "{base_url}{separator}options=-c%20search_path%3D{schema}\
             &application_name={application_name}"
        );
        Some(Database::Postgres {
            url,
            base_url,
            schema,
            application_name,
        })
    }

    pub fn url(&self) -> &str {
        match self {
            Database::Sqlite { url, .. } | Database::Postgres { url, .. } => url,
        }
    }

    /// Creates the platform admin the tests sign in as (this also migrates the database).
    pub fn create_admin(&self) {
        perksu(
            &[
                "admin",
                "create",
                "--email",
                ADMIN_EMAIL,
                "--database-url",
                self.url(),
            ],
            Some(PASSWORD),
        )
        .assert_success();
    }

    /// Asserts `perksu verify` finds the books balanced.
    pub fn assert_verified(&self) {
        let verified = perksu(&["verify", "--database-url", self.url()], None);
        verified.assert_success();
        assert!(
            verified.stdout.contains("OK: every balance matches"),
            "{verified:?}"
        );
    }

    pub async fn drop_schema(self) {
        if let Database::Postgres {
            base_url, schema, ..
        } = &self
        {
            run_postgres(base_url, &format!("drop schema {schema} cascade")).await;
        }
    }
}
