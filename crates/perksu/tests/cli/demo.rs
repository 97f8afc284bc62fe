//! `perksu serve --demo` seeds a past: ninety days of allocations, a reversal, recognitions of
//! every type, orders in every state, an expiry run and fired alerts, with the books balanced.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::Row;

use crate::process::{perksu, Server};
use crate::{demo_password, TempDb};

async fn get(client: &reqwest::Client, server: &Server, path: &str, token: &str) -> Value {
    let reply = client
        .get(format!("{}{path}", server.base_url))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(reply.status(), 200, "GET {path}");
    reply.json().await.expect("JSON")
}

fn at(value: &Value) -> DateTime<Utc> {
    value["created_at"]
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("no created_at in {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_ninety_days_of_history_and_balanced_books() {
    let db = TempDb::new();
    let server = Server::start(&db.url, &["--demo"]);
    let password = demo_password(&server.banner);
    let client = reqwest::Client::new();
    let admin = server.login(&client, "admin@perksu.local", &password).await;
    let manager = server.login(&client, "maya@acme.example", &password).await;

    let logs = get(
        &client,
        &server,
        "/api/v1/points/allocation-logs?limit=100",
        &admin,
    )
    .await;
    let logs = logs["items"].as_array().expect("items");
    let times: Vec<DateTime<Utc>> = logs.iter().map(at).collect();
    let (oldest, newest) = (times.iter().min(), times.iter().max());
    let span = newest.zip(oldest).map(|(newest, oldest)| *newest - *oldest);
    assert!(
        span >= Some(Duration::days(80)),
        "allocations span {span:?}"
    );
    assert!(logs.len() >= 7, "{logs:?}");
    assert!(
        logs.iter().any(|log| log["reversed_amount"] == "2000"),
        "no reversed allocation: {logs:?}"
    );
    let alerts = get(&client, &server, "/api/v1/points/alerts", &manager).await;
    assert!(
        !alerts["items"].as_array().expect("items").is_empty(),
        "no alert fired: {alerts}"
    );

    let mut connection = db.connect().await;
    let statuses: BTreeSet<String> = sqlx::query("select distinct status from redemptions")
        .fetch_all(&mut connection)
        .await
        .expect("orders")
        .iter()
        .map(|row| row.get("status"))
        .collect();
    let every = [
        "cancelled",
        "delivered",
        "expired",
        "failed",
        "pending",
        "processing",
        "rejected",
        "shipped",
    ];
    assert_eq!(statuses, every.iter().map(|s| s.to_string()).collect());
    let types: BTreeSet<String> = sqlx::query("select distinct recognition_type from recognitions")
        .fetch_all(&mut connection)
        .await
        .expect("recognitions")
        .iter()
        .map(|row| row.get("recognition_type"))
        .collect();
    let every = ["ecard", "group_award", "individual_award", "standard"];
    assert_eq!(types, every.iter().map(|s| s.to_string()).collect());
    let expired: i64 =
        sqlx::query("select count(*) as n from journal_entries where kind = 'wallet_expiry'")
            .fetch_one(&mut connection)
            .await
            .expect("expiry")
            .get("n");
    assert!(expired > 0, "the expiry run expired nothing");
    let days: i64 = sqlx::query(
        "select count(distinct substr(created_at, 1, 10)) as n from journal_entries \
         where kind = 'recognition'",
    )
    .fetch_one(&mut connection)
    .await
    .expect("days")
    .get("n");
    assert!(days >= 55, "recognitions on only {days} days");
    drop(server);
    perksu(&["verify", "--database-url", &db.url], None).assert_success();
}
