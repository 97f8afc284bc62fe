//! `kill -9` in the middle of concurrent recognitions that each carry an idempotency key, then
//! a new process on the same database: what was acknowledged is in the books, and retrying
//! every key moves each exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use tokio::sync::Notify;

use crate::company::{recognition, Answer, Api, Company};
use crate::database::Database;
use crate::process::Server;

const REQUESTS: usize = 400;
const IN_FLIGHT: usize = 32;
/// The server dies once this many recognitions have been acknowledged.
const KILL_AFTER: usize = REQUESTS / 4;
const POOL: i64 = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_wal_keeps_every_acknowledged_recognition_through_kill_9_and_retries_move_once() {
    crash_and_recover(&Database::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_every_acknowledged_recognition_through_kill_9_and_retries_move_once() {
    let Some(db) = Database::postgres().await else {
        return;
    };
    crash_and_recover(&db).await;
    db.drop_schema().await;
}

fn key(i: usize) -> String {
    format!("crash-{i}")
}

async fn crash_and_recover(db: &Database) {
    db.create_admin();
    let first = Server::start(db.url(), &[]);
    let api = Api::new(&first.base_url);
    let company = Arc::new(Company::create(&api, "crash", POOL).await);

    let acknowledged = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let killer = {
        let enough = enough.clone();
        tokio::spawn(async move {
            enough.notified().await;
            first.kill();
        })
    };
    let answers: BTreeMap<usize, Result<Answer, reqwest::Error>> = stream::iter(0..REQUESTS)
        .map(|i| {
            let (api, company) = (api.clone(), company.clone());
            let (acknowledged, enough) = (acknowledged.clone(), enough.clone());
            async move {
                let body = recognition(&company, i);
                let answer = api.recognise_keyed(&company, &body, &key(i)).await;
                if answer.as_ref().is_ok_and(|answer| answer.status == 200)
                    && acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER
                {
                    enough.notify_one();
                }
                (i, answer)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    killer.await.expect("the server was killed");

    let mut acknowledged_ids = BTreeMap::new();
    let mut lost = 0;
    for (i, answer) in &answers {
        match answer {
            Ok(answer) => {
                answer.assert_status(200);
                acknowledged_ids.insert(*i, answer.str("id"));
            }
            Err(_) => lost += 1,
        }
    }
    assert!(
        lost > 0,
        "the kill came after every request was answered: the test proved nothing"
    );

    // A new process on the same database: every key again, answered or not.
    let second = Server::start(db.url(), &[]);
    let api = Api::new(&second.base_url);
    let mut ids = BTreeSet::new();
    for i in 0..REQUESTS {
        let retried = api
            .recognise_keyed(&company, &recognition(&company, i), &key(i))
            .await
            .expect("the new server answers");
        retried.assert_status(200);
        let id = retried.str("id");
        if let Some(first_id) = acknowledged_ids.get(&i) {
            assert_eq!(&id, first_id, "key {i} replayed another recognition");
        }
        ids.insert(id);
    }
    assert_eq!(ids.len(), REQUESTS, "each key is one recognition");

    // Every acknowledged recognition is in the books, and nothing moved twice.
    let listed = listed_recognitions(&api, &company.manager.token).await;
    let found = acknowledged_ids
        .values()
        .filter(|id| listed.contains(*id))
        .count();
    assert_eq!(found, acknowledged_ids.len(), "acknowledged but not found");
    assert_eq!(listed.len(), REQUESTS);
    assert_eq!(company.wallets_total(&api).await, REQUESTS as i64);
    assert_eq!(
        api.pool(&company.manager.token).await,
        POOL - REQUESTS as i64
    );
    eprintln!(
        "kill -9: {REQUESTS} sent, {} acknowledged before the kill, {lost} cut off, {found} \
         acknowledged found after it, {} recognitions after retrying every key, duplicates 0",
        acknowledged_ids.len(),
        listed.len()
    );
    db.assert_verified();
}

/// Every recognition the manager can list, page by page.
async fn listed_recognitions(api: &Api, token: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for page in 0.. {
        let answer = api
            .get(
                &format!("/api/recognitions?limit=200&offset={}", page * 200),
                token,
            )
            .await;
        answer.assert_status(200);
        let rows = answer.body.as_array().cloned().unwrap_or_default();
        if rows.is_empty() {
            break;
        }
        for row in rows {
            ids.insert(row["id"].as_str().expect("id").to_owned());
        }
    }
    ids
}
