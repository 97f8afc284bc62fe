//! Requests that take too long: a body that stops arriving gets a 408, and a request the
//! database keeps waiting past the request timeout gets a 503 and moves nothing.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::company::{Api, Company};
use crate::database::Database;
use crate::process::Server;

/// The server's limits (`perksu_api::BODY_READ_TIMEOUT` and `REQUEST_TIMEOUT`).
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_gets_a_408_after_the_body_timeout() {
    let db = Database::sqlite();
    db.create_admin();
    let server = Server::start(db.url(), &[]);
    let address = server.base_url.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).expect("connect");
        stream
            .set_read_timeout(Some(BODY_READ_TIMEOUT * 3))
            .expect("read timeout");
        // A body of 100 bytes announced, 16 sent, the rest never.
        stream
            .write_all(
                b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{\"email\": \"root",
            )
            .expect("half a request");
        let sent = Instant::now();
        let mut answer = String::new();
        // The server closes the connection after its answer.
        let _ = stream.read_to_string(&mut answer);
        (sent.elapsed(), answer)
    })
    .await
    .expect("the slow client");
    let (waited, answer) = answer;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"body_timeout""#), "{answer}");
    assert!(
        waited >= BODY_READ_TIMEOUT && waited < BODY_READ_TIMEOUT * 2,
        "answered after {waited:?}"
    );
    eprintln!("a body that stopped arriving: 408 body_timeout after {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_held_past_the_request_timeout_gets_a_503_and_moves_nothing() {
    let Some(db) = Database::postgres().await else {
        return;
    };
    let Database::Postgres {
        base_url, schema, ..
    } = &db
    else {
        unreachable!("a PostgreSQL database");
    };
    db.create_admin();
    let server = Server::start(db.url(), &[]);
    let api = Api::new(&server.base_url);
    let company = Company::create(&api, "slow", 1000).await;
    let body = json!({"to_user_id": company.employees[0].id, "points": 5, "message": "Held"});

    // Another session holds the pool row, so the recognition waits in the database.
    let mut locker = PgConnection::connect(base_url).await.expect("connect");
    let mut lock = locker.begin().await.expect("begin");
    sqlx::query(&format!(
        "select id from {schema}.tenants where id = $1 for update"
    ))
    .bind(&company.tenant_id)
    .fetch_one(&mut *lock)
    .await
    .expect("lock the pool row");
    let sent = Instant::now();
    let held = api
        .recognise_keyed(&company, &body, "held-1")
        .await
        .expect("an answer, not a hang");
    let waited = sent.elapsed();
    lock.rollback().await.expect("release the pool row");
    held.assert_status(503);
    assert_eq!(held.body["code"], "request_timeout", "{held:?}");
    assert!(
        waited >= REQUEST_TIMEOUT && waited < REQUEST_TIMEOUT + Duration::from_secs(5),
        "answered after {waited:?}"
    );

    // Nothing moved; the retry with the same key moves the points once.
    assert_eq!(api.pool(&company.manager.token).await, 1000);
    assert_eq!(company.wallets_total(&api).await, 0);
    let retried = api
        .recognise_keyed(&company, &body, "held-1")
        .await
        .expect("the retry is answered");
    retried.assert_status(200);
    assert_eq!(api.pool(&company.manager.token).await, 995);
    assert_eq!(company.wallets_total(&api).await, 5);
    eprintln!("a request held in the database: 503 request_timeout after {waited:?}, retry 200");
    drop(server);
    db.assert_verified();
    db.drop_schema().await;
}
