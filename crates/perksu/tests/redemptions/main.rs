//! Redemptions over HTTP: holds, fulfilment, refunds, timeout, codes, callbacks, races, views.

#[path = "../common/mod.rs"]
mod common;

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use common::{Company, Reply, TestApp, CALLBACK_SECRET};

/// A funded company with three items at one point per currency unit and no markup: a hoodie
/// (merchandise, 50 points, 3 in stock, shipped by hand), a book voucher (gift card of 10 or
/// 25, issued at once by the simulated provider) and a day off (custom, 100, unlimited).
/// Alice and Bob have 500 points each.
struct Shop {
    company: Company,
    hoodie: String,
    voucher: String,
    day_off: String,
}

async fn shop(app: &TestApp, slug: &str) -> Shop {
    let company = app.company(slug, json!(100000)).await;
    let (_, manager) = &company.manager;
    let hoodie = create_item(
        app,
        manager,
        json!({"kind": "merchandise", "name": "Hoodie", "face_value": 50, "stock": 3}),
    )
    .await;
    let voucher = create_item(
        app,
        manager,
        json!({"kind": "gift_card", "name": "Book Voucher", "denominations": [10, 25]}),
    )
    .await;
    let day_off = create_item(
        app,
        manager,
        json!({"kind": "custom", "name": "Day Off", "face_value": 100}),
    )
    .await;
    award(app, manager, &company.alice.0, 500).await;
    award(app, manager, &company.bob.0, 500).await;
    Shop {
        company,
        hoodie,
        voucher,
        day_off,
    }
}

async fn create_item(app: &TestApp, manager: &str, item: Value) -> String {
    let reply = app.post("/api/rewards", manager, item).await;
    reply.assert_status(201);
    reply.str("id")
}

/// Gives `user_id` points out of the tenant's pool.
async fn award(app: &TestApp, manager: &str, user_id: &str, amount: i64) {
    app.post(
        "/api/v1/points/award-to-user",
        manager,
        json!({"to_user_id": user_id, "amount": amount, "recognition_message": "Shop money"}),
    )
    .await
    .assert_status(200);
}

async fn patch_tenant(app: &TestApp, manager: &str, tenant_id: &str, patch: Value) -> Reply {
    let reply = app
        .patch(&format!("/api/tenants/{tenant_id}"), manager, patch)
        .await;
    reply.assert_status(200);
    reply
}

async fn order(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post("/api/redemptions", token, body).await
}

/// Places an order that must succeed; returns its id.
async fn place(app: &TestApp, token: &str, body: Value) -> String {
    let reply = order(app, token, body).await;
    reply.assert_status(201);
    reply.str("id")
}

/// One order with its history, as `token` sees it.
async fn show(app: &TestApp, token: &str, id: &str) -> Value {
    let reply = app.get(&format!("/api/redemptions/{id}"), token).await;
    reply.assert_status(200);
    reply.body
}

async fn status_of(app: &TestApp, token: &str, id: &str) -> String {
    show(app, token, id).await["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

/// Moves an order along as `token` (POST /status).
async fn advance(app: &TestApp, token: &str, id: &str, body: Value) -> Reply {
    app.post(&format!("/api/redemptions/{id}/status"), token, body)
        .await
}

async fn cancel(app: &TestApp, token: &str, id: &str) -> Reply {
    app.post(&format!("/api/redemptions/{id}/cancel"), token, json!({}))
        .await
}

async fn confirm(app: &TestApp, token: &str, id: &str, code: &str) -> Reply {
    app.post(
        &format!("/api/redemptions/{id}/confirm"),
        token,
        json!({"code": code}),
    )
    .await
}

/// An item's stock as its tenant's manager sees it (`null` when unlimited).
async fn stock(app: &TestApp, manager: &str, item_id: &str) -> Value {
    let reply = app.get(&format!("/api/rewards/{item_id}"), manager).await;
    reply.assert_status(200);
    reply.body["stock"].clone()
}

async fn wallet(app: &TestApp, token: &str) -> Value {
    let reply = app.get("/api/wallets/me", token).await;
    reply.assert_status(200);
    reply.body
}

/// An order's history as `[from, to, actor, note]` rows, oldest first.
fn steps(order: &Value) -> Vec<Value> {
    order["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history in {order}"))
        .iter()
        .map(|e| json!([e["from_status"], e["to_status"], e["actor_id"], e["note"]]))
        .collect()
}

/// The last history row of an order.
fn last_step(order: &Value) -> Value {
    steps(order).pop().expect("at least one step")
}

/// What `perksu verify` counts on hold and redeemed, after checking every law holds.
async fn held_and_redeemed(app: &TestApp) -> (String, String) {
    let report = app.store.verify().await.expect("verify runs");
    assert!(
        report.is_ok(),
        "ledger violations: {:#?}",
        report.violations
    );
    (
        report.holds_total.to_string(),
        report.redeemed_total.to_string(),
    )
}

fn totals(held: &str, redeemed: &str) -> (String, String) {
    (held.to_owned(), redeemed.to_owned())
}

/// Ids of a list of orders, in the order given.
fn ids(reply: &Reply) -> Vec<String> {
    reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {reply:?}"))
        .iter()
        .map(|order| order["id"].as_str().expect("id").to_owned())
        .collect()
}

/// `sha256=<hex HMAC-SHA256(body)>` under `secret`.
fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts a provider callback with this exact body and, if given, this signature header.
async fn callback(app: &TestApp, provider: &str, body: &str, signature: Option<&str>) -> Reply {
    let mut request = app
        .client
        .post(format!(
            "{}/api/redemptions/callbacks/{provider}",
            app.base_url
        ))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("x-perksu-signature", signature);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    }
}

/// Posts a correctly signed callback.
async fn signed_callback(app: &TestApp, provider: &str, event: &Value) -> Reply {
    let body = event.to_string();
    callback(app, provider, &body, Some(&sign(CALLBACK_SECRET, &body))).await
}

/// The confirmation code the employee was sent for `order_id`.
async fn confirmation_code(app: &TestApp, token: &str, order_id: &str) -> String {
    let reply = app.get("/api/notifications", token).await;
    reply.assert_status(200);
    let notice = reply.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|n| n["kind"] == "redemption_confirmation_code" && n["reference_id"] == order_id)
        .unwrap_or_else(|| panic!("no confirmation code for {order_id} in {reply:?}"))
        .clone();
    let body = notice["body"].as_str().expect("body");
    body.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .unwrap_or_else(|| panic!("no six-digit code in {body:?}"))
        .to_owned()
}

/// A six-digit code that is not `code`.
fn wrong(code: &str) -> &'static str {
    if code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// A whole-second instant, so stored timestamps compare exactly.
fn whole_second_now() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("a valid instant")
}

fn instant(text: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

mod callbacks;
mod confirmation;
mod lifecycle;
mod races;
mod refunds;
mod views;
