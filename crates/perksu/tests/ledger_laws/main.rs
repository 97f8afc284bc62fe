//! The ledger laws as a property: any sequence of allocations, clawbacks, delegations, recalls,
//! awards and recognitions across two tenants keeps every balance where a simple model says it
//! is, refuses what the model refuses without moving a point, keeps every account but issuance
//! at or above zero and all accounts summing to zero, and leaves `verify` nothing to report.
//!
//! Driven through the store API (not HTTP) so that hundreds of operations run in seconds; on
//! SQLite always, and on PostgreSQL when `PERKSU_TEST_POSTGRES_URL` names a database.

#[path = "../fresh_db/mod.rs"]
mod fresh_db;
mod model;
mod operations;
mod world;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::Arc;

use fresh_db::{FreshDb, Target};
use model::{Model, Prediction};
use operations::{operations, Operation};
use perksu_domain::Account;
use perksu_store::{
    HasherLimits, PasswordHash, PasswordHasher, Store, StoreError, SystemClock, VerifyReport,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use world::{execute, set_up, snapshot};

const CASES: u32 = 24;

#[test]
fn on_sqlite_any_sequence_of_operations_keeps_the_ledger_laws() {
    check_ledger_laws(&Target::Sqlite);
}

#[test]
fn on_postgres_any_sequence_of_operations_keeps_the_ledger_laws() {
    let Some(base_url) = fresh_db::postgres_base_url() else {
        eprintln!("PERKSU_TEST_POSTGRES_URL is not set: PostgreSQL leg skipped");
        return;
    };
    check_ledger_laws(&Target::Postgres { base_url });
}

fn check_ledger_laws(target: &Target) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    // Hashing is slow on purpose; every user of every case shares this one hash.
    let hash = runtime
        .block_on(
            PasswordHasher::new(HasherLimits::default())
                .expect("hasher")
                .hash("correct horse battery"),
        )
        .expect("password hash");
    // One migrated database, emptied before each case: migrating for every case would take
    // longer than the operations themselves.
    let db = runtime.block_on(FreshDb::create(target));
    let store = runtime
        .block_on(Store::open(&db.url, Arc::new(SystemClock)))
        .expect("open and migrate");
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    });
    let outcome = runner.run(&operations(), |operations| {
        runtime.block_on(async {
            db.empty().await.map_err(harness)?;
            apply_all(&store, &hash, &operations).await
        })
    });
    // Close before `db` drops its PostgreSQL schema.
    runtime.block_on(store.close());
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

async fn apply_all(
    store: &Store,
    hash: &PasswordHash,
    operations: &[Operation],
) -> Result<(), TestCaseError> {
    let world = set_up(store, hash).await.map_err(harness)?;
    let mut model = Model::new(&world);
    let (mut stored, _) = snapshot(store, &world).await?;
    prop_assert_eq!(&stored, &model.balances, "before any operation");
    for (step, operation) in operations.iter().enumerate() {
        let context = format!("step {step}: {operation:?}");
        let predicted = model.predict(&world, operation);
        let outcome = execute(store, &world, operation).await;
        let (after, report) = snapshot(store, &world).await?;
        match (&predicted, &outcome) {
            (Prediction::Refused(code), Err(StoreError::Domain(error))) => {
                prop_assert_eq!(
                    *code,
                    error.code,
                    "{}: refused for another reason",
                    &context
                );
                prop_assert_eq!(&after, &stored, "{}: a refusal moved points", &context);
            }
            (Prediction::Refused(code), outcome) => {
                return Err(TestCaseError::fail(format!(
                    "{context}: expected the refusal {code}, got {outcome:?}"
                )));
            }
            (Prediction::Moves { source, .. }, Ok(funding_source)) => {
                prop_assert_eq!(
                    source.map(str::to_owned),
                    funding_source.clone(),
                    "{}: funded from the wrong source",
                    &context
                );
            }
            (Prediction::Moves { .. }, Err(error)) => {
                return Err(TestCaseError::fail(format!(
                    "{context}: expected to succeed, refused with {error}"
                )));
            }
        }
        model.apply(&predicted);
        prop_assert_eq!(&after, &model.balances, "{}: balances", &context);
        check_laws(&after, &report, &model, &context)?;
        stored = after;
    }
    Ok(())
}

/// The laws that hold whatever happened: verify finds nothing, nothing but issuance is
/// negative, all accounts sum to zero, and each movement wrote exactly one journal entry.
fn check_laws(
    balances: &BTreeMap<Account, i64>,
    report: &VerifyReport,
    model: &Model,
    context: &str,
) -> Result<(), TestCaseError> {
    prop_assert!(
        report.is_ok(),
        "{}: verify found {:#?}",
        context,
        report.violations
    );
    for (account, balance) in balances {
        prop_assert!(
            *balance >= 0 || account.may_go_negative(),
            "{}: {} is negative ({})",
            context,
            account.key(),
            balance
        );
    }
    prop_assert_eq!(
        balances.values().sum::<i64>(),
        0,
        "{}: sum of accounts",
        context
    );
    prop_assert_eq!(
        report.journal_entries,
        model.journal_entries,
        "{}: journal entries",
        context
    );
    Ok(())
}

pub fn harness(error: impl Display) -> TestCaseError {
    TestCaseError::fail(format!("store call failed: {error}"))
}
