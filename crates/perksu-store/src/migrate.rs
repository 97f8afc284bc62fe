//! Embedded migrations, one folder per backend, applied on start.

use sqlx::migrate::{Migrate, Migrator};
use sqlx::Row;

use crate::db::Backend;
use crate::error::{StoreError, StoreResult};
use crate::Store;

static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");
static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The applied and known migration versions.
pub struct MigrationStatus {
    pub applied: Vec<i64>,
    pub known: Vec<(i64, String)>,
}

impl Store {
    fn migrator(&self) -> &'static Migrator {
        match self.backend() {
            Backend::Postgres => &POSTGRES,
            Backend::Sqlite => &SQLITE,
        }
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        self.migrator().run(self.write_pool()).await?;
        Ok(())
    }

    /// Applies the pending migrations up to `version` and none after it: an operator can
    /// upgrade in steps, and the upgrade test builds an earlier release's schema this way.
    pub async fn migrate_to(&self, version: i64) -> StoreResult<()> {
        let migrator = self.migrator();
        if !migrator.version_exists(version) {
            return Err(StoreError::Config(format!(
                "there is no migration {version}"
            )));
        }
        let mut connection = self.write_pool().acquire().await?;
        connection.ensure_migrations_table().await?;
        let applied = connection.list_applied_migrations().await?;
        if let Some(newer) = applied.iter().find(|m| m.version > version) {
            return Err(StoreError::Config(format!(
                "migration {} is already applied; use --rollback to go back",
                newer.version
            )));
        }
        let pending = migrator.iter().filter(|m| {
            m.migration_type.is_up_migration()
                && m.version <= version
                && !applied.iter().any(|done| done.version == m.version)
        });
        for migration in pending {
            connection.apply(migration).await?;
        }
        Ok(())
    }

    pub async fn migration_status(&self) -> StoreResult<MigrationStatus> {
        let rows = sqlx::query("select version from _sqlx_migrations order by version")
            .fetch_all(self.read())
            .await?;
        let applied = rows
            .iter()
            .map(|row| row.try_get::<i64, _>(0))
            .collect::<Result<Vec<_>, _>>()?;
        let known = self
            .migrator()
            .iter()
            .filter(|m| m.migration_type.is_up_migration() || !m.migration_type.is_down_migration())
            .map(|m| (m.version, m.description.to_string()))
            .collect();
        Ok(MigrationStatus { applied, known })
    }

    /// Reverts the latest applied migration (PostgreSQL only: its migrations carry `down`
    /// scripts). Returns the version reverted.
    pub async fn rollback_one(&self) -> StoreResult<i64> {
        if self.backend() != Backend::Postgres {
            return Err(StoreError::Config(
                "rollback is supported on PostgreSQL only; SQLite migrations are forward-only"
                    .into(),
            ));
        }
        let status = self.migration_status().await?;
        let Some((&latest, earlier)) = status.applied.split_last() else {
            return Err(StoreError::Config("no migration is applied".into()));
        };
        let target = earlier.last().copied().unwrap_or(0);
        self.migrator().undo(self.write_pool(), target).await?;
        Ok(latest)
    }
}
