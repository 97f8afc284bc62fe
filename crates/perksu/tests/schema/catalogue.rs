//! Reading our part of a migrated schema from each database's catalogue, and comparing two.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use perksu_store::{Store, SystemClock};
use sqlx::{AnyConnection, Connection, Row};

use crate::fresh_db::FreshDb;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Our part of a database's schema (sqlx's bookkeeping table left out).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// table → column → its type and nullability
    pub tables: BTreeMap<String, BTreeMap<String, Column>>,
    /// index name → what it indexes; only indexes made with `create index`
    pub indexes: BTreeMap<String, Index>,
    /// named check and unique constraints
    pub constraints: BTreeMap<String, Constraint>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Column {
    pub data_type: String,
    pub nullable: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Index {
    pub table: String,
    pub columns: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Constraint {
    pub table: String,
    /// `check` or `unique`
    pub kind: String,
}

const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

pub async fn connect(url: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(url)
        .await
        .expect("connect with sqlx")
}

/// Migrates `db` with the store, then reads its schema with sqlx.
pub async fn migrated_schema(db: &FreshDb) -> Schema {
    let store = Store::open(&db.url, Arc::new(SystemClock))
        .await
        .expect("open and migrate");
    let backend = match store.backend() {
        perksu_store::Backend::Sqlite => Backend::Sqlite,
        perksu_store::Backend::Postgres => Backend::Postgres,
    };
    store.close().await;
    let mut connection = connect(&db.url).await;
    let schema = read_schema(&mut connection, backend).await;
    connection.close().await.expect("close");
    schema
}

pub async fn read_schema(connection: &mut AnyConnection, backend: Backend) -> Schema {
    let result = match backend {
        Backend::Sqlite => read_sqlite_schema(connection).await,
        Backend::Postgres => read_postgres_schema(connection).await,
    };
    result.expect("read the catalogue")
}

async fn read_sqlite_schema(connection: &mut AnyConnection) -> Result<Schema, sqlx::Error> {
    let mut schema = Schema::default();
    let tables = sqlx::query(
        "select name, sql from sqlite_master where type = 'table' \
         and name not like 'sqlite_%' and name <> $1 order by name",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(&mut *connection)
    .await?;
    for table in tables {
        let name: String = table.try_get("name")?;
        let sql: String = table.try_get("sql")?;
        let columns = sqlx::query(
            "select name, lower(type) as data_type, (\"notnull\" = 0 and pk = 0) as nullable \
             from pragma_table_info($1)",
        )
        .bind(&name)
        .fetch_all(&mut *connection)
        .await?;
        let mut by_name = BTreeMap::new();
        for column in columns {
            by_name.insert(
                column.try_get("name")?,
                Column {
                    data_type: column.try_get("data_type")?,
                    nullable: column.try_get::<i64, _>("nullable")? != 0,
                },
            );
        }
        schema.tables.insert(name.clone(), by_name);
        for (constraint, kind) in named_constraints(&sql) {
            schema.constraints.insert(
                constraint,
                Constraint {
                    table: name.clone(),
                    kind,
                },
            );
        }
        let indexed = sqlx::query(
            "select il.name as index_name, ii.name as column_name \
             from pragma_index_list($1) il, pragma_index_info(il.name) ii \
             where il.origin = 'c' order by il.name, ii.seqno",
        )
        .bind(&name)
        .fetch_all(&mut *connection)
        .await?;
        for row in indexed {
            let index_name: String = row.try_get("index_name")?;
            schema
                .indexes
                .entry(index_name)
                .or_insert_with(|| Index {
                    table: name.clone(),
                    columns: Vec::new(),
                })
                .columns
                .push(row.try_get("column_name")?);
        }
    }
    Ok(schema)
}

/// SQLite keeps constraint names only in the table's SQL: every `constraint NAME check` and
/// `constraint NAME unique` in it (primary and foreign keys are left out, as on PostgreSQL).
fn named_constraints(sql: &str) -> Vec<(String, String)> {
    let words: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || "(),".contains(c))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    words
        .windows(3)
        .filter(|w| w[0] == "constraint" && (w[2] == "check" || w[2] == "unique"))
        .map(|w| (w[1].clone(), w[2].clone()))
        .collect()
}

async fn read_postgres_schema(connection: &mut AnyConnection) -> Result<Schema, sqlx::Error> {
    let mut schema = Schema::default();
    let columns = sqlx::query(
        "select c.table_name::text as table_name, c.column_name::text as column_name, \
           c.data_type::text as data_type, c.is_nullable::text = 'YES' as nullable \
         from information_schema.columns c \
         join information_schema.tables t \
           on t.table_schema = c.table_schema and t.table_name = c.table_name \
         where c.table_schema = current_schema() and t.table_type = 'BASE TABLE' \
           and c.table_name <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(&mut *connection)
    .await?;
    for column in columns {
        schema
            .tables
            .entry(column.try_get("table_name")?)
            .or_default()
            .insert(
                column.try_get("column_name")?,
                Column {
                    data_type: column.try_get("data_type")?,
                    nullable: column.try_get("nullable")?,
                },
            );
    }
    let constraints = sqlx::query(
        "select c.conname::text as name, t.relname::text as table_name, \
           case c.contype when 'c' then 'check' else 'unique' end as kind \
         from pg_constraint c join pg_class t on t.oid = c.conrelid \
         where t.relnamespace = current_schema()::regnamespace and c.contype in ('c', 'u')",
    )
    .fetch_all(&mut *connection)
    .await?;
    for row in constraints {
        schema.constraints.insert(
            row.try_get("name")?,
            Constraint {
                table: row.try_get("table_name")?,
                kind: row.try_get("kind")?,
            },
        );
    }
    // Indexes made with `create index`, not those behind a primary key or unique constraint.
    let indexed = sqlx::query(
        "select i.relname::text as index_name, t.relname::text as table_name, \
           a.attname::text as column_name \
         from pg_index x \
         join pg_class i on i.oid = x.indexrelid \
         join pg_class t on t.oid = x.indrelid \
         cross join lateral unnest(x.indkey::int2[]) with ordinality as k(attnum, position) \
         join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum \
         where t.relnamespace = current_schema()::regnamespace \
           and not exists (select 1 from pg_constraint c \
                           where c.conindid = x.indexrelid and c.contype in ('p', 'u', 'x')) \
         order by i.relname, k.position",
    )
    .fetch_all(&mut *connection)
    .await?;
    for row in indexed {
        let table: String = row.try_get("table_name")?;
        schema
            .indexes
            .entry(row.try_get("index_name")?)
            .or_insert_with(|| Index {
                table,
                columns: Vec::new(),
            })
            .columns
            .push(row.try_get("column_name")?);
    }
    Ok(schema)
}

/// Every way the two schemas differ, one line each.
pub fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut drift = Vec::new();
    let tables: BTreeSet<&String> = sqlite.tables.keys().chain(postgres.tables.keys()).collect();
    for table in tables {
        let (Some(left), Some(right)) = (sqlite.tables.get(table), postgres.tables.get(table))
        else {
            drift.push(format!("table {table}: on one backend only"));
            continue;
        };
        let columns: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
        for column in columns {
            let (left, right) = (left.get(column), right.get(column));
            if left != right {
                drift.push(format!(
                    "column {table}.{column}: sqlite {left:?}, postgres {right:?}"
                ));
            }
        }
    }
    compare_named("index", &sqlite.indexes, &postgres.indexes, &mut drift);
    compare_named(
        "constraint",
        &sqlite.constraints,
        &postgres.constraints,
        &mut drift,
    );
    drift
}

fn compare_named<T: PartialEq + std::fmt::Debug>(
    what: &str,
    sqlite: &BTreeMap<String, T>,
    postgres: &BTreeMap<String, T>,
    drift: &mut Vec<String>,
) {
    let names: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for name in names {
        let (left, right) = (sqlite.get(name), postgres.get(name));
        if left != right {
            drift.push(format!(
                "{what} {name}: sqlite {left:?}, postgres {right:?}"
            ));
        }
    }
}
