//! Sign-ins throttled per account and per client address, through the real server (which knows
//! each client's address): 429 `too_many_login_attempts` with `Retry-After`, one
//! `security_events` row per account or address per episode, and the right password works
//! again once the wait is over.

use std::time::Duration;

use serde_json::{json, Value};
use sqlx::Row;

use crate::process::Server;
use crate::{create_admin, TempDb, ADMIN_PASSWORD};

const ROOT: &str = "root@x.test";
const OTHER: &str = "other@x.test";
const GHOST: &str = "ghost@x.test";

struct Attempt {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

async fn sign_in(server: &Server, email: &str, password: &str) -> Attempt {
    let reply = reqwest::Client::new()
        .post(format!("{}/api/auth/login", server.base_url))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("sign-in sent");
    let retry_after = reply
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    Attempt {
        status: reply.status().as_u16(),
        retry_after,
        body: reply.json().await.unwrap_or(Value::Null),
    }
}

/// Asserts a 429 in our format that says to wait about an account's refill; returns the wait.
fn assert_throttled(attempt: &Attempt) -> u64 {
    assert_throttled_for(attempt, 3)
}

/// Asserts a 429 in our format that says to wait 1 to `at_most` seconds; returns the wait.
fn assert_throttled_for(attempt: &Attempt, at_most: u64) -> u64 {
    assert_eq!(attempt.status, 429, "{:?}", attempt.body);
    assert_eq!(attempt.body["code"], "too_many_login_attempts");
    let seconds = attempt.retry_after.expect("a Retry-After header");
    assert!((1..=at_most).contains(&seconds), "Retry-After: {seconds}");
    let detail = attempt.body["detail"].as_str().expect("a detail");
    assert!(detail.contains(&format!("{seconds} seconds")), "{detail}");
    seconds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_past_the_account_or_address_limit_get_429_audited_once_then_work_again() {
    let db = TempDb::new();
    for email in [ROOT, OTHER] {
        create_admin(&db, email, ADMIN_PASSWORD).assert_success();
    }
    let limits = [
        "--login-account-burst",
        "3",
        "--login-account-refill-seconds",
        "3",
        "--login-address-burst",
        "11",
        "--login-address-refill-ms",
        "600000",
    ];
    let server = Server::start(&db.url, &limits);

    // An account: three wrong passwords, then even the right one waits.
    for _ in 0..3 {
        assert_eq!(sign_in(&server, ROOT, "wrong").await.status, 401);
    }
    let wait = assert_throttled(&sign_in(&server, ROOT, ADMIN_PASSWORD).await);
    assert_throttled(&sign_in(&server, " Root@X.test ", ADMIN_PASSWORD).await);
    // Another account from the same address is not held up.
    assert_eq!(sign_in(&server, OTHER, ADMIN_PASSWORD).await.status, 200);
    // An email nobody has is throttled exactly like a real one.
    for _ in 0..3 {
        assert_eq!(sign_in(&server, GHOST, "wrong").await.status, 401);
    }
    assert_throttled(&sign_in(&server, GHOST, "wrong").await);
    // After the wait it was told, the right password works again.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let later = sign_in(&server, ROOT, ADMIN_PASSWORD).await;
    assert_eq!(later.status, 200, "{:?}", later.body);
    // That was the address's eleventh attempt: its twelfth is refused whatever the account.
    assert_throttled_for(&sign_in(&server, OTHER, ADMIN_PASSWORD).await, 600);

    let mut connection = db.connect().await;
    let rows = sqlx::query(
        "select kind, scope, subject, retry_after_seconds from security_events \
         order by occurred_at, scope",
    )
    .fetch_all(&mut connection)
    .await
    .expect("security events");
    let events: Vec<(String, String, String)> = rows
        .iter()
        .map(|row| {
            assert_eq!(row.get::<String, _>("kind"), "login_throttled");
            assert!(row.get::<i64, _>("retry_after_seconds") >= 1);
            (row.get("kind"), row.get("scope"), row.get("subject"))
        })
        .collect();
    let subjects: Vec<(&str, &str)> = events
        .iter()
        .map(|(_, scope, subject)| (scope.as_str(), subject.as_str()))
        .collect();
    assert_eq!(
        subjects,
        [
            ("account", ROOT),
            ("account", GHOST),
            ("address", "127.0.0.1")
        ],
        "one row per account or address per episode"
    );
}
