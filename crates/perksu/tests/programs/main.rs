//! Recognition programs over HTTP: where a recognition's points come from (pool, lead balance,
//! budgets, the giver's wallet), what limits them (department shares, monthly caps, the giving
//! allowance, peer-to-peer), the funding-mode switch, and the kinds of recognition. Written from
//! docs/PROGRAMS.md and the "Pool mode and legacy mode" section of docs/ECONOMY.md.

#[path = "../common/mod.rs"]
mod common;

use chrono::{DateTime, TimeZone, Utc};
use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use common::{Reply, TestApp};
use fixtures::{legacy_company, pool_company, Org, Person};

/// The spec's refusal when the pool cannot fund a recognition.
fn pool_short(available: &str, required: &str) -> String {
    format!("Insufficient company allocation pool. Available: {available}, Required: {required}")
}

/// An instant of the test's clock, UTC.
fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, second)
        .single()
        .expect("a valid instant")
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.request(Method::PUT, path, Some(token), Some(&body), &[])
        .await
}

/// `POST /api/recognitions` with any body, as `giver`.
async fn recognise(app: &TestApp, giver: &Person, body: Value) -> Reply {
    app.post("/api/recognitions", &giver.token, body).await
}

/// The foundation's body: `giver` thanks `to` with `points`.
async fn thank(app: &TestApp, giver: &Person, to: &Person, points: Value) -> Reply {
    recognise(
        app,
        giver,
        json!({"to_user_id": to.id, "points": points, "message": "Thank you"}),
    )
    .await
}

/// A thank-you that must go through; returns the recognition.
async fn thanked(app: &TestApp, giver: &Person, to: &Person, points: Value) -> Reply {
    let reply = thank(app, giver, to, points).await;
    reply.assert_status(200);
    reply
}

/// Asserts a refusal's code and its exact detail.
fn assert_refused(reply: &Reply, status: u16, code: &str, detail: &str) {
    reply.assert_error(status, code);
    assert_eq!(reply.str("detail"), detail, "{reply:?}");
}

/// The tenant's pool, as its manager sees it.
async fn pool(app: &TestApp, org: &Org) -> String {
    app.pool_balance(&org.manager.token).await
}

async fn wallet(app: &TestApp, person: &Person) -> String {
    app.wallet_balance(&person.token).await
}

/// The lead's delegated balance, as the manager sees it.
async fn lead_balance(app: &TestApp, org: &Org) -> String {
    let reply = app
        .get(&format!("/api/users/{}", org.lead.id), &org.manager.token)
        .await;
    reply.assert_status(200);
    reply.str("lead_distribution_balance")
}

/// The manager changes the tenant's settings; returns the tenant.
async fn set_tenant(app: &TestApp, org: &Org, patch: Value) -> Reply {
    let reply = app
        .patch(
            &format!("/api/tenants/{}", org.tenant_id),
            &org.manager.token,
            patch,
        )
        .await;
    reply.assert_status(200);
    reply
}

/// `GET /api/recognitions/stats/me` for `person`.
async fn stats(app: &TestApp, person: &Person) -> Value {
    let reply = app.get("/api/recognitions/stats/me", &person.token).await;
    reply.assert_status(200);
    reply.body
}

/// How many recognitions the manager can list in the tenant.
async fn recognition_count(app: &TestApp, org: &Org) -> usize {
    let reply = app
        .get("/api/recognitions?limit=200", &org.manager.token)
        .await;
    reply.assert_status(200);
    reply.body.as_array().expect("a list").len()
}

/// The id of the first e-card template `GET /api/recognitions/ecard-templates` offers.
async fn ecard_template(app: &TestApp, person: &Person) -> String {
    let reply = app
        .get("/api/recognitions/ecard-templates", &person.token)
        .await;
    reply.assert_status(200);
    let first = reply
        .body
        .as_array()
        .and_then(|templates| templates.first())
        .unwrap_or_else(|| panic!("no e-card template in {reply:?}"));
    first["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a template without an id: {first}"))
        .to_owned()
}

/// A recognition's `[{user_id, points}]` as (user id, points) pairs, in the order given.
fn recipients(reply: &Reply) -> Vec<(String, String)> {
    reply.body["recipients"]
        .as_array()
        .unwrap_or_else(|| panic!("no recipients in {reply:?}"))
        .iter()
        .map(|r| {
            (
                r["user_id"].as_str().expect("user_id").to_owned(),
                r["points"].as_str().expect("points").to_owned(),
            )
        })
        .collect()
}

/// After checking every law `perksu verify` checks: the points the platform has issued (net)
/// and the points legacy budgets have minted.
async fn issued_and_minted(app: &TestApp) -> (String, String) {
    let report = app.store.verify().await.expect("verify runs");
    assert!(
        report.is_ok(),
        "ledger violations: {:#?}",
        report.violations
    );
    (
        report.issued_net.to_string(),
        report.budgets_minted.to_string(),
    )
}

fn amounts(issued: &str, minted: &str) -> (String, String) {
    (issued.to_owned(), minted.to_owned())
}

/// Asserts every reply is a 200 or a 400 with `code`, never anything else; returns how many
/// succeeded.
fn successes_else(replies: &[Reply], code: &str) -> usize {
    for reply in replies.iter().filter(|r| r.status != 200) {
        reply.assert_error(400, code);
    }
    replies.iter().filter(|r| r.status == 200).count()
}

mod concurrency;
mod fixtures;
mod funding;
mod limits;
mod modes;
mod types;
