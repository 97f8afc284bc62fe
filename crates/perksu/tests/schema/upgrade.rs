//! A database made by an earlier release migrates forward with every row kept: the demo's
//! rows at migration 0007 (written by `scripts/upgrade-fixture.sh`, and never regenerated) are
//! loaded into a schema at that migration, then `perksu migrate` brings it up to date, and the
//! books and the balances the API shows are those the earlier release showed.

use serde_json::Value;
use sqlx::{Connection, PgConnection};

use crate::fresh_db::FreshDb;
use crate::postgres_or_skip;
use crate::process::{perksu, Server};

const FIXTURE_VERSION: &str = "7";
const FIXTURE: &str = include_str!("fixtures/postgres-0007.sql");

/// What `perksu verify` printed on the fixture's database at migration 0007.
const BOOKS_AT_0007: &str = include_str!("fixtures/postgres-0007.verify.txt");

/// Each demo tenant's pool as `GET /api/tenants` showed it at migration 0007.
const POOLS_AT_0007: [(&str, &str); 2] = [("acme", POOL_ACME), ("globex", POOL_GLOBEX)];
const POOL_ACME: &str = "38000";
const POOL_GLOBEX: &str = "0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_from_migration_0007_upgrades_with_every_balance_kept() {
    let Some(base_url) = postgres_or_skip() else {
        return;
    };
    let db = FreshDb::postgres(&base_url).await;
    perksu(
        &[
            "migrate",
            "--to",
            FIXTURE_VERSION,
            "--database-url",
            &db.url,
        ],
        None,
    )
    .assert_success();
    let mut connection = PgConnection::connect(&db.url).await.expect("connect");
    sqlx::raw_sql(FIXTURE)
        .execute(&mut connection)
        .await
        .expect("load the fixture's rows");
    connection.close().await.expect("close");

    let migrated = perksu(&["migrate", "--database-url", &db.url], None);
    migrated.assert_success();
    assert!(!migrated.stdout.contains("pending"), "{migrated:?}");
    let verified = perksu(&["verify", "--database-url", &db.url], None);
    verified.assert_success();
    assert_eq!(verified.stdout, BOOKS_AT_0007, "{verified:?}");

    let server = Server::start(&db.url, &[]);
    let client = reqwest::Client::new();
    let token = server
        .login(&client, "admin@perksu.local", "perksu-demo")
        .await;
    let tenants: Value = client
        .get(format!("{}/api/tenants", server.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET /api/tenants")
        .json()
        .await
        .expect("JSON");
    for (slug, pool) in POOLS_AT_0007 {
        let tenant = tenants
            .as_array()
            .and_then(|all| all.iter().find(|t| t["slug"] == slug))
            .unwrap_or_else(|| panic!("no tenant {slug} in {tenants}"));
        assert_eq!(
            tenant["points_allocation_balance"], pool,
            "{slug}: {tenant}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_to_stops_at_its_version_and_refuses_one_it_cannot_reach() {
    let db = FreshDb::sqlite();
    let stepped = perksu(&["migrate", "--to", "2", "--database-url", &db.url], None);
    stepped.assert_success();
    assert!(
        stepped.stdout.contains("0002 points allocation system"),
        "{stepped:?}"
    );
    assert!(stepped.stdout.contains("applied"), "{stepped:?}");
    assert!(
        stepped.stdout.contains("pending"),
        "0003 on is left pending: {stepped:?}"
    );
    perksu(&["migrate", "--to", "99", "--database-url", &db.url], None)
        .assert_failure_saying("there is no migration 99");
    perksu(&["migrate", "--database-url", &db.url], None).assert_success();
    perksu(&["migrate", "--to", "2", "--database-url", &db.url], None)
        .assert_failure_saying("is already applied; use --rollback to go back");
}
