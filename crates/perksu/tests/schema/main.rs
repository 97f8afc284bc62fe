//! The two migration folders must build the same schema: the same tables, columns, named
//! constraints and indexes on SQLite and PostgreSQL, with every name the spec gives. Read from
//! each database's catalogue with sqlx, not through the store. Also: PostgreSQL migrations can
//! be rolled back and applied again.

mod catalogue;
#[path = "../fresh_db/mod.rs"]
mod fresh_db;
#[allow(dead_code)]
#[path = "../cli/process.rs"]
mod process;
mod upgrade;

use std::sync::Arc;

use catalogue::{
    connect, differences, migrated_schema, read_schema, Backend, Column, Constraint, Schema,
};
use fresh_db::FreshDb;
use perksu_store::{Store, SystemClock};
use sqlx::{Connection, Row};

#[tokio::test]
async fn the_sqlite_schema_has_every_name_the_spec_gives() {
    let db = FreshDb::sqlite();
    let schema = migrated_schema(&db).await;
    assert_has_the_spec_names(&schema, "sqlite");
}

#[tokio::test]
async fn the_postgres_schema_has_every_name_the_spec_gives() {
    let Some(base_url) = postgres_or_skip() else {
        return;
    };
    let db = FreshDb::postgres(&base_url).await;
    let schema = migrated_schema(&db).await;
    assert_has_the_spec_names(&schema, "postgres");
}

#[tokio::test]
async fn the_sqlite_and_postgres_schemas_have_the_same_tables_columns_constraints_and_indexes() {
    let Some(base_url) = postgres_or_skip() else {
        return;
    };
    let sqlite_db = FreshDb::sqlite();
    let postgres_db = FreshDb::postgres(&base_url).await;
    let sqlite = migrated_schema(&sqlite_db).await;
    let postgres = migrated_schema(&postgres_db).await;
    let drift = differences(&sqlite, &postgres);
    assert!(
        drift.is_empty(),
        "the schemas drifted:\n  {}",
        drift.join("\n  ")
    );
}

#[tokio::test]
async fn a_negative_balance_set_with_raw_sql_on_sqlite_fails_naming_its_check() {
    let db = FreshDb::sqlite();
    assert_negative_balances_are_refused_by_name(&db).await;
}

#[tokio::test]
async fn a_negative_balance_set_with_raw_sql_on_postgres_fails_naming_its_check() {
    let Some(base_url) = postgres_or_skip() else {
        return;
    };
    let db = FreshDb::postgres(&base_url).await;
    assert_negative_balances_are_refused_by_name(&db).await;
}

#[tokio::test]
async fn on_postgres_rollback_one_reverts_the_latest_migration_and_migrate_reapplies_it() {
    let Some(base_url) = postgres_or_skip() else {
        return;
    };
    let db = FreshDb::postgres(&base_url).await;
    let store = Store::open(&db.url, Arc::new(SystemClock))
        .await
        .expect("open and migrate");
    let mut connection = connect(&db.url).await;
    let migrated = read_schema(&mut connection, Backend::Postgres).await;
    let known = known_migrations(&store).await;
    assert!(
        known.len() >= 2,
        "expected several migrations, got {known:?}"
    );
    assert_eq!(
        applied_migrations(&store).await,
        known,
        "all migrations applied"
    );

    let latest = *known.last().expect("a migration");
    let reverted = store.rollback_one().await.expect("roll back");
    assert_eq!(reverted, latest);
    assert_eq!(
        applied_migrations(&store).await,
        known[..known.len() - 1].to_vec()
    );
    let rolled_back = read_schema(&mut connection, Backend::Postgres).await;
    assert_ne!(
        rolled_back, migrated,
        "rolling back migration {latest} changed nothing"
    );
    store
        .migrate()
        .await
        .expect("re-apply the latest migration");
    assert_eq!(applied_migrations(&store).await, known);
    assert_eq!(
        read_schema(&mut connection, Backend::Postgres).await,
        migrated,
        "re-applying migration {latest} must rebuild the same schema"
    );

    // All the way down: every down script runs and leaves nothing of ours behind.
    for _ in 0..known.len() {
        store.rollback_one().await.expect("roll back further");
    }
    assert!(applied_migrations(&store).await.is_empty());
    let empty = read_schema(&mut connection, Backend::Postgres).await;
    assert!(
        empty.tables.is_empty() && empty.indexes.is_empty() && empty.constraints.is_empty(),
        "left behind after rolling everything back: {empty:#?}"
    );
    assert!(
        store.rollback_one().await.is_err(),
        "rolling back with nothing applied must be refused"
    );

    store.migrate().await.expect("migrate again");
    assert_eq!(applied_migrations(&store).await, known);
    let remigrated = read_schema(&mut connection, Backend::Postgres).await;
    assert_eq!(
        remigrated, migrated,
        "migrating from nothing must rebuild the same schema"
    );
    connection.close().await.expect("close");
    store.close().await;
}

#[tokio::test]
async fn on_sqlite_rollback_is_refused_because_its_migrations_are_forward_only() {
    let db = FreshDb::sqlite();
    let store = Store::open(&db.url, Arc::new(SystemClock))
        .await
        .expect("open and migrate");
    let before = applied_migrations(&store).await;
    let error = store
        .rollback_one()
        .await
        .expect_err("SQLite cannot roll back");
    assert!(
        error.to_string().contains("forward-only"),
        "unclear refusal: {error}"
    );
    assert_eq!(applied_migrations(&store).await, before);
    store.close().await;
}

// ---- what the spec names ----

/// The tables the spec describes, each stamped with its `created_at`.
const SPEC_TABLES: &[&str] = &[
    "tenants",
    "users",
    "allocation_logs",
    "platform_billing_logs",
    "wallet_ledger",
];

/// (table, column, type) the spec names.
const SPEC_COLUMNS: &[(&str, &str, &str)] = &[
    ("tenants", "points_allocation_balance", "bigint"),
    ("users", "lead_distribution_balance", "bigint"),
    ("allocation_logs", "tenant_id", "text"),
    ("allocation_logs", "allocated_by", "text"),
    ("allocation_logs", "amount", "bigint"),
    ("platform_billing_logs", "tenant_id", "text"),
    ("platform_billing_logs", "admin_id", "text"),
    ("platform_billing_logs", "transaction_type", "text"),
    ("platform_billing_logs", "amount", "bigint"),
    ("wallet_ledger", "wallet_id", "text"),
    ("wallet_ledger", "amount", "bigint"),
];

/// (table, column) that the spec says must be indexed.
const SPEC_INDEXES: &[(&str, &str)] = &[
    ("allocation_logs", "tenant_id"),
    ("allocation_logs", "allocated_by"),
    ("platform_billing_logs", "tenant_id"),
    ("platform_billing_logs", "admin_id"),
];

/// (constraint, table, column): the balances that may never go negative.
const NON_NEGATIVE_BALANCES: &[(&str, &str, &str)] = &[
    (
        "positive_points_allocation_balance",
        "tenants",
        "points_allocation_balance",
    ),
    (
        "positive_lead_distribution_balance",
        "users",
        "lead_distribution_balance",
    ),
    ("positive_wallet_balance", "wallets", "balance"),
];

fn assert_has_the_spec_names(schema: &Schema, backend: &str) {
    for (table, column, data_type) in SPEC_COLUMNS {
        let found = schema.tables.get(*table).and_then(|t| t.get(*column));
        assert_eq!(
            found,
            Some(&Column {
                data_type: (*data_type).into(),
                nullable: false,
            }),
            "{backend}: {table}.{column} should be a non-null {data_type}"
        );
    }
    for table in SPEC_TABLES {
        let created_at = schema.tables.get(*table).and_then(|t| t.get("created_at"));
        assert_eq!(
            created_at,
            Some(&Column {
                data_type: "text".into(),
                nullable: false,
            }),
            "{backend}: {table} should have a non-null created_at"
        );
    }
    for (table, column) in SPEC_INDEXES {
        let indexed = schema.indexes.values().any(|index| {
            index.table == *table && index.columns.first() == Some(&column.to_string())
        });
        assert!(indexed, "{backend}: no index leads with {table}.{column}");
    }
    for (name, table, _) in NON_NEGATIVE_BALANCES {
        assert_eq!(
            schema.constraints.get(*name),
            Some(&Constraint {
                table: (*table).into(),
                kind: "check".into(),
            }),
            "{backend}: the check {name} on {table} is missing"
        );
    }
}

/// Sets each non-negative balance below zero with raw SQL and expects the database to refuse,
/// naming the constraint.
async fn assert_negative_balances_are_refused_by_name(db: &FreshDb) {
    Store::open(&db.url, Arc::new(SystemClock))
        .await
        .expect("open and migrate")
        .close()
        .await;
    let mut connection = connect(&db.url).await;
    let now = "2026-01-01T00:00:00.000000Z";
    let fixtures = [
        "insert into tenants (id, name, slug, created_at, updated_at) \
         values ('t1', 'Tenant', 'tenant', $1, $1)",
        "insert into users (id, tenant_id, email, password_hash, first_name, last_name, role, \
         created_at, updated_at) \
         values ('u1', 't1', 'lead@tenant.test', 'x', 'A', 'Lead', 'lead', $1, $1)",
        "insert into wallets (id, tenant_id, user_id, created_at, updated_at) \
         values ('w1', 't1', 'u1', $1, $1)",
    ];
    for fixture in fixtures {
        sqlx::query(fixture)
            .bind(now)
            .execute(&mut connection)
            .await
            .expect("fixture row");
    }
    for (name, table, column) in NON_NEGATIVE_BALANCES {
        let sql = format!("update {table} set {column} = -1");
        let error = sqlx::query(&sql)
            .execute(&mut connection)
            .await
            .expect_err("a negative balance must be refused");
        let database_error = error
            .as_database_error()
            .unwrap_or_else(|| panic!("{table}.{column}: not a database error: {error}"));
        assert!(
            database_error.message().contains(name) || database_error.constraint() == Some(*name),
            "{table}.{column}: the refusal does not name {name}: {database_error}"
        );
        let row = sqlx::query(&format!("select {column} as balance from {table}"))
            .fetch_one(&mut connection)
            .await
            .expect("read back");
        assert_eq!(row.get::<i64, _>("balance"), 0, "{table}.{column} changed");
    }
    connection.close().await.expect("close");
}

// ---- migration status ----

async fn applied_migrations(store: &Store) -> Vec<i64> {
    store
        .migration_status()
        .await
        .expect("migration status")
        .applied
}

async fn known_migrations(store: &Store) -> Vec<i64> {
    let status = store.migration_status().await.expect("migration status");
    status
        .known
        .into_iter()
        .map(|(version, _)| version)
        .collect()
}

fn postgres_or_skip() -> Option<String> {
    let url = fresh_db::postgres_base_url();
    if url.is_none() {
        eprintln!("PERKSU_TEST_POSTGRES_URL is not set: PostgreSQL check skipped");
    }
    url
}
