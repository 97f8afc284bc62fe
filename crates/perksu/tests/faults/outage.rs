//! PostgreSQL going away under the server: its connections terminated mid-load, and the whole
//! database out of reach at start and mid-run. The server answers 503 `database_unavailable`
//! for what it could not do, never hangs and never moves part of a request, and recovers by
//! itself once the database is back.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use reqwest::Url;
use sqlx::{Connection, PgConnection};
use tokio::sync::watch;

use crate::company::{recognition, Answer, Api, Company};
use crate::database::Database;
use crate::process::{Server, Starting};

const REQUESTS: usize = 300;
const IN_FLIGHT: usize = 16;
const POOL: i64 = 100_000;
/// Connections are cut this many times during the load.
const ROUNDS: usize = 3;
/// A round starts after this many more answers than the one before.
const ANSWERS_BETWEEN_ROUNDS: usize = 60;
/// How many recognitions must be stuck in the database when a round cuts their connections.
const STUCK: i64 = 4;
/// How long the test waits for any condition it polls for.
const DEADLINE: Duration = Duration::from_secs(30);

fn key(i: usize) -> String {
    format!("outage-{i}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_postgres_connections_cost_503s_and_nothing_else() {
    let Some(db) = Database::postgres().await else {
        return;
    };
    let Database::Postgres {
        base_url,
        schema,
        application_name,
        ..
    } = &db
    else {
        unreachable!("a PostgreSQL database");
    };
    db.create_admin();
    let server = Server::start(db.url(), &[]);
    let api = Api::new(&server.base_url);
    let company = Arc::new(Company::create(&api, "outage", POOL).await);

    let (answered, watch_answered) = watch::channel(0usize);
    let answered = Arc::new(answered);
    let chaos = tokio::spawn(cut_connections_under_load(
        base_url.clone(),
        format!("{schema}.tenants"),
        application_name.clone(),
        company.tenant_id.clone(),
        watch_answered,
    ));
    let answers: Vec<(usize, Answer)> = stream::iter(0..REQUESTS)
        .map(|i| {
            let (api, company, answered) = (api.clone(), company.clone(), answered.clone());
            async move {
                let answer = api
                    .recognise_keyed(&company, &recognition(&company, i), &key(i))
                    .await
                    .unwrap_or_else(|error| panic!("recognition {i} got no answer: {error}"));
                answered.send_modify(|count| *count += 1);
                (i, answer)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let terminated = chaos.await.expect("the connections were cut");

    let mut unavailable = Vec::new();
    for (i, answer) in &answers {
        if answer.status == 200 {
            continue;
        }
        assert_eq!(
            answer.status, 503,
            "neither done nor unavailable: {answer:?}"
        );
        assert_eq!(answer.body["code"], "database_unavailable", "{answer:?}");
        assert!(answer.body["detail"].is_string(), "{answer:?}");
        unavailable.push(*i);
    }
    assert!(
        unavailable.len() >= ROUNDS,
        "each round cut at least one recognition in flight, yet only {} answered 503",
        unavailable.len()
    );

    // Recovered by itself: every key again, answered 200 or 503 the first time.
    let mut retried_ids = std::collections::BTreeSet::new();
    for i in 0..REQUESTS {
        let retried = api
            .recognise_keyed(&company, &recognition(&company, i), &key(i))
            .await
            .expect("the server answers after the outage");
        retried.assert_status(200);
        retried_ids.insert(retried.str("id"));
    }
    assert_eq!(retried_ids.len(), REQUESTS);
    assert_eq!(company.wallets_total(&api).await, REQUESTS as i64);
    assert_eq!(
        api.pool(&company.manager.token).await,
        POOL - REQUESTS as i64
    );
    let health = api.get("/healthz", "").await;
    health.assert_status(200);
    eprintln!(
        "pg_terminate_backend: {ROUNDS} rounds cut {terminated} connections during {REQUESTS} \
         keyed recognitions; {} answered 503 database_unavailable, {} answered 200; after \
         retrying every key: {} recognitions, wallets {}, no duplicates",
        unavailable.len(),
        REQUESTS - unavailable.len(),
        retried_ids.len(),
        REQUESTS
    );
    drop(server);
    db.assert_verified();
    db.drop_schema().await;
}

/// Each round holds the tenant's pool row locked until recognitions are stuck waiting for it
/// (so a cut connection is certainly mid-request), then terminates every connection of the
/// server. Returns how many connections were terminated.
async fn cut_connections_under_load(
    base_url: String,
    tenants: String,
    application_name: String,
    tenant_id: String,
    mut answered: watch::Receiver<usize>,
) -> i64 {
    let mut terminated = 0;
    for round in 1..=ROUNDS {
        answered
            .wait_for(|count| *count >= round * ANSWERS_BETWEEN_ROUNDS)
            .await
            .expect("the load is running");
        let mut locker = PgConnection::connect(&base_url).await.expect("connect");
        let mut lock = locker.begin().await.expect("begin");
        let schema_tenant = sqlx::query(&format!(
            "select id from {tenants} where id = $1 for update"
        ))
        .bind(&tenant_id)
        .fetch_optional(&mut *lock)
        .await
        .expect("lock the pool row");
        assert!(schema_tenant.is_some(), "the tenant row exists");
        let mut watcher = PgConnection::connect(&base_url).await.expect("connect");
        let deadline = Instant::now() + DEADLINE;
        loop {
            let (stuck,): (i64,) = sqlx::query_as(
                "select count(*) from pg_stat_activity \
                 where application_name = $1 and wait_event_type = 'Lock'",
            )
            .bind(&application_name)
            .fetch_one(&mut watcher)
            .await
            .expect("read pg_stat_activity");
            if stuck >= STUCK {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "recognitions never queued on the lock"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (cut,): (i64,) = sqlx::query_as(
            "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity \
             where application_name = $1) as terminated",
        )
        .bind(&application_name)
        .fetch_one(&mut watcher)
        .await
        .expect("terminate the server's connections");
        terminated += cut;
        lock.rollback().await.expect("release the pool row");
    }
    terminated
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_is_waited_for_at_start_and_reported_by_healthz_mid_run() {
    let Some(db) = Database::postgres().await else {
        return;
    };
    db.create_admin();
    let mut url = Url::parse(db.url()).expect("a PostgreSQL URL");
    let upstream: SocketAddr = (
        url.host_str().expect("a host").to_owned(),
        url.port().unwrap_or(5432),
    )
        .to_socket_addrs()
        .expect("resolve the database host")
        .next()
        .expect("an address");
    let proxy = crate::proxy::Proxy::start_down(upstream).await;
    url.set_ip_host(proxy.address.ip()).expect("set host");
    url.set_port(Some(proxy.address.port())).expect("set port");

    // At start: the server says it waits, and listens once the database is there.
    let starting = Starting::spawn(url.as_str(), &[]);
    let line = starting.wait_for_log("database not reachable");
    assert!(line.contains("retrying in"), "{line}");
    proxy.up();
    let server = starting.listening();
    let client = reqwest::Client::builder()
        .timeout(DEADLINE)
        .build()
        .expect("client");
    server.wait_until_healthy(&client).await;

    // Mid-run: /healthz says 503 promptly while the database is gone, and 200 once it is back.
    for _ in 0..2 {
        proxy.down();
        let asked = Instant::now();
        let reply = client
            .get(format!("{}/healthz", server.base_url))
            .send()
            .await
            .expect("/healthz answers while the database is gone");
        let waited = asked.elapsed();
        assert_eq!(reply.status(), 503);
        let request_id = reply.headers()["x-request-id"]
            .to_str()
            .expect("an id")
            .to_owned();
        let body: serde_json::Value = reply.json().await.expect("JSON");
        assert_eq!(body["code"], "database_unavailable", "{body}");
        assert_eq!(
            body["request_id"], request_id,
            "a 5xx body names its request"
        );
        assert!(waited < Duration::from_secs(3), "/healthz took {waited:?}");
        eprintln!("database unreachable mid-run: /healthz answered 503 in {waited:?}");
        proxy.up();
        server.wait_until_healthy(&client).await;
    }
    drop(server);
    db.drop_schema().await;
}
