//! Redemptions over HTTP: holds, fulfilment, refunds, timeout, codes, callbacks, races, views.

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

backend_tests! {
    async fn ordering_puts_the_price_on_hold_and_takes_the_stock(app: TestApp) {
        let shop = shop(&app, "hold").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;

        let reply = order(
            &app,
            alice,
            json!({"item_id": shop.hoodie, "shipping_address": "1 Main Street"}),
        )
        .await;
        reply.assert_status(201);
        assert_eq!(reply.str("status"), "pending");
        assert_eq!(reply.str("points_cost"), "50");
        assert_eq!(reply.str("face_value"), "50");
        assert_eq!(reply.body["quantity"], 1);
        assert_eq!(reply.str("provider"), "manual");
        assert_eq!(reply.str("item_name"), "Hoodie");
        assert_eq!(reply.str("kind"), "merchandise");
        assert_eq!(reply.str("user_id"), *alice_id);
        assert_eq!(reply.str("shipping_address"), "1 Main Street");
        // Unless the tenant says otherwise, an order has two weeks to be fulfilled.
        assert_eq!(
            instant(&reply.body["fulfil_by"]) - instant(&reply.body["created_at"]),
            Duration::hours(336)
        );
        let id = reply.str("id");

        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        // A manual order waits for an admin.
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "pending");
        assert_eq!(steps(&seen), [json!([null, "pending", alice_id, null])]);
        let ledger = app.get("/api/wallets/me/ledger", alice).await;
        let line = &ledger.body["items"][0];
        assert_eq!(line["transaction_type"], "debit");
        assert_eq!(line["source"], "redemption");
        assert_eq!(line["amount"], "50");
        assert_eq!(line["balance_after"], "450");
        assert_eq!(line["reference_id"].as_str(), Some(id.as_str()));

        // Two more take the rest of the stock and their whole price.
        let reply = order(&app, alice, json!({"item_id": shop.hoodie, "quantity": 2})).await;
        reply.assert_status(201);
        assert_eq!(reply.str("points_cost"), "100");
        assert_eq!(reply.body["quantity"], 2);
        assert_eq!(app.wallet_balance(alice).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 0);
        assert_eq!(held_and_redeemed(&app).await, totals("150", "0"));
        // The unlimited item keeps no count.
        place(&app, alice, json!({"item_id": shop.day_off})).await;
        assert_eq!(stock(&app, manager, &shop.day_off).await, Value::Null);
        assert_eq!(app.wallet_balance(alice).await, "250");
        app.assert_ledger_consistent().await;
    }

    async fn an_order_that_cannot_be_met_holds_nothing_and_takes_no_stock(app: TestApp) {
        let shop = shop(&app, "refuse").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let trip = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Trip", "face_value": 600, "stock": 2}),
        )
        .await;
        let archived = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Old", "face_value": 5, "status": "archived"}),
        )
        .await;

        let reply = order(&app, alice, json!({"item_id": trip})).await;
        reply.assert_error(400, "insufficient_wallet_balance");
        assert_eq!(
            reply.str("detail"),
            "Insufficient wallet balance. Available: 500, Required: 600"
        );
        // The stock taken before the wallet was found short went back with the transaction.
        assert_eq!(stock(&app, manager, &trip).await, 2);

        order(&app, alice, json!({"item_id": shop.hoodie, "quantity": 4}))
            .await
            .assert_error(409, "out_of_stock");
        for quantity in [0, -1, 101] {
            order(
                &app,
                alice,
                json!({"item_id": shop.day_off, "quantity": quantity}),
            )
            .await
            .assert_error(400, "invalid_quantity");
        }
        order(&app, alice, json!({"item_id": shop.voucher}))
            .await
            .assert_error(400, "invalid_denomination");
        order(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 20}),
        )
        .await
        .assert_error(400, "invalid_denomination");
        order(
            &app,
            alice,
            json!({"item_id": shop.hoodie, "face_value": 40}),
        )
        .await
        .assert_error(400, "invalid_denomination");
        order(&app, alice, json!({"item_id": archived}))
            .await
            .assert_error(409, "reward_unavailable");
        order(&app, alice, json!({"item_id": "no-such-item"}))
            .await
            .assert_error(404, "reward_not_found");
        order(&app, &app.admin_token, json!({"item_id": shop.hoodie}))
            .await
            .assert_error(403, "forbidden");

        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        let mine = app.get("/api/redemptions", alice).await;
        assert_eq!(ids(&mine), Vec::<String>::new());
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn an_order_costs_the_servers_price_whatever_the_client_says(app: TestApp) {
        let shop = shop(&app, "pricing").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"points_per_currency_unit": "2.5", "redemption_markup_percent": "12.5"}),
        )
        .await;
        let sticker = create_item(
            &app,
            manager,
            json!({"kind": "merchandise", "name": "Sticker", "face_value": "9.99", "stock": 10}),
        )
        .await;

        // 7 × 9.99 × 2.5 × 1.125 = 196.678125, rounded up once for the order: 196.68.
        let reply = order(
            &app,
            alice,
            json!({"item_id": sticker, "quantity": 7, "points_cost": 1, "price": "1"}),
        )
        .await;
        reply.assert_status(201);
        assert_eq!(reply.str("points_cost"), "196.68");
        assert_eq!(reply.str("face_value"), "9.99");
        assert_eq!(app.wallet_balance(alice).await, "303.32");
        assert_eq!(stock(&app, manager, &sticker).await, 3);

        // 25 × 2.5 × 1.125 = 70.3125 → 70.32, redeemed at once.
        let reply = order(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": "25.00"}),
        )
        .await;
        reply.assert_status(201);
        assert_eq!(reply.str("points_cost"), "70.32");
        assert_eq!(app.wallet_balance(alice).await, "233");
        assert_eq!(wallet(&app, alice).await["lifetime_spent"], "70.32");
        assert_eq!(held_and_redeemed(&app).await, totals("196.68", "70.32"));
        app.assert_ledger_consistent().await;
    }

    async fn a_gift_card_is_issued_at_once_and_its_points_become_redeemed(app: TestApp) {
        let shop = shop(&app, "giftcard").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;

        let reply = order(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 25}),
        )
        .await;
        reply.assert_status(201);
        // The reply is the order as placed; the provider answers right after.
        assert_eq!(reply.str("status"), "pending");
        assert_eq!(reply.str("provider"), "simulated_gift_card");
        let id = reply.str("id");

        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "delivered");
        let code = seen["gift_card_code"].as_str().expect("a gift-card code");
        assert_eq!(code.len(), 16);
        assert!(
            code.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
            "{code}"
        );
        assert!(
            seen["provider_reference"]
                .as_str()
                .is_some_and(|r| r.starts_with("SIM-")),
            "{seen}"
        );
        assert_eq!(
            steps(&seen),
            [
                json!([null, "pending", alice_id, null]),
                json!(["pending", "delivered", null, "Issued by the provider"]),
            ]
        );
        // The code is the employee's alone.
        let as_manager = show(&app, manager, &id).await;
        assert_eq!(as_manager["status"], "delivered");
        assert_eq!(as_manager["gift_card_code"], Value::Null);

        let after = wallet(&app, alice).await;
        assert_eq!(after["balance"], "475");
        assert_eq!(after["lifetime_spent"], "25");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "25"));
        // Delivered is final: no refund path is open any more.
        cancel(&app, alice, &id)
            .await
            .assert_error(409, "redemption_closed");
        advance(&app, manager, &id, json!({"status": "rejected"}))
            .await
            .assert_error(409, "invalid_redemption_transition");
        assert_eq!(app.wallet_balance(alice).await, "475");
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_ships_an_order_with_tracking_then_marks_it_delivered(app: TestApp) {
        let shop = shop(&app, "manual").await;
        let (manager_id, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        let reply = advance(
            &app,
            manager,
            &id,
            json!({"status": "processing", "note": "Packing"}),
        )
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "processing");
        // Once fulfilment has started the employee can no longer cancel.
        cancel(&app, alice, &id)
            .await
            .assert_error(409, "fulfilment_started");
        assert_eq!(app.wallet_balance(alice).await, "450");

        let reply = advance(
            &app,
            manager,
            &id,
            json!({"status": "shipped", "tracking_number": "TRK-123", "note": "Sent by courier"}),
        )
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "shipped");
        assert_eq!(reply.str("tracking_number"), "TRK-123");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));

        let reply = advance(&app, manager, &id, json!({"status": "delivered"})).await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "delivered");

        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["tracking_number"], "TRK-123");
        assert_eq!(
            steps(&seen),
            [
                json!([null, "pending", alice_id, null]),
                json!(["pending", "processing", manager_id, "Packing"]),
                json!(["processing", "shipped", manager_id, "Sent by courier"]),
                json!(["shipped", "delivered", manager_id, null]),
            ]
        );
        let after = wallet(&app, alice).await;
        assert_eq!(after["balance"], "450");
        assert_eq!(after["lifetime_spent"], "50");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("0", "50"));

        // Each step reached the employee.
        let notices = app.get("/api/notifications", alice).await;
        let bodies: Vec<&str> = notices.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|n| n["kind"] == "redemption_status" && n["reference_id"] == id.as_str())
            .map(|n| n["body"].as_str().expect("body"))
            .collect();
        assert_eq!(
            bodies,
            [
                "Your redemption of Hoodie is now delivered.",
                "Your redemption of Hoodie is now shipped.",
                "Your redemption of Hoodie is now processing.",
            ]
        );
        app.assert_ledger_consistent().await;
    }

    async fn an_employee_cancelling_before_fulfilment_gets_points_and_stock_back(app: TestApp) {
        let shop = shop(&app, "cancel").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let id = place(&app, alice, json!({"item_id": shop.hoodie, "quantity": 2})).await;
        assert_eq!(app.wallet_balance(alice).await, "400");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 1);

        // Nobody else can cancel it.
        cancel(&app, bob, &id)
            .await
            .assert_error(404, "redemption_not_found");
        cancel(&app, manager, &id)
            .await
            .assert_error(404, "redemption_not_found");
        assert_eq!(status_of(&app, alice, &id).await, "pending");

        let reply = cancel(&app, alice, &id).await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "cancelled");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        let seen = show(&app, alice, &id).await;
        assert_eq!(
            last_step(&seen),
            json!([
                "pending",
                "cancelled",
                alice_id,
                "Cancelled by the employee"
            ])
        );
        let ledger = app.get("/api/wallets/me/ledger", alice).await;
        let line = &ledger.body["items"][0];
        assert_eq!(line["transaction_type"], "credit");
        assert_eq!(line["source"], "redemption_refund");
        assert_eq!(line["amount"], "100");
        assert_eq!(line["balance_after"], "500");
        // A refund is not income.
        assert_eq!(wallet(&app, alice).await["lifetime_earned"], "500");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));

        // Cancelling twice refunds once.
        cancel(&app, alice, &id).await.assert_status(409);
        advance(&app, manager, &id, json!({"status": "delivered"}))
            .await
            .assert_error(409, "invalid_redemption_transition");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_rejecting_an_order_returns_its_points_and_stock(app: TestApp) {
        let shop = shop(&app, "reject").await;
        let (manager_id, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let pending = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let processing = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        advance(&app, manager, &processing, json!({"status": "processing"}))
            .await
            .assert_status(200);
        assert_eq!(app.wallet_balance(alice).await, "400");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 1);

        let reply = advance(
            &app,
            manager,
            &pending,
            json!({"status": "rejected", "note": "Not for contractors"}),
        )
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "rejected");
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);

        advance(
            &app,
            manager,
            &processing,
            json!({"status": "rejected", "note": "Discontinued"}),
        )
        .await
        .assert_status(200);
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);

        assert_eq!(
            last_step(&show(&app, alice, &pending).await),
            json!(["pending", "rejected", manager_id, "Not for contractors"])
        );
        assert_eq!(
            last_step(&show(&app, alice, &processing).await),
            json!(["processing", "rejected", manager_id, "Discontinued"])
        );
        let notices = app.get("/api/notifications", alice).await;
        assert_eq!(
            notices.body["items"][0]["body"],
            "Your redemption of Hoodie is now rejected."
        );
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn a_failed_fulfilment_returns_the_points_and_stock_even_after_shipping(app: TestApp) {
        let shop = shop(&app, "failed").await;
        let (manager_id, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        for status in ["processing", "shipped"] {
            advance(&app, manager, &id, json!({"status": status}))
                .await
                .assert_status(200);
        }
        assert_eq!(app.wallet_balance(alice).await, "450");

        let reply = advance(
            &app,
            manager,
            &id,
            json!({"status": "failed", "note": "Lost in transit"}),
        )
        .await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "failed");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        assert_eq!(
            last_step(&show(&app, manager, &id).await),
            json!(["shipped", "failed", manager_id, "Lost in transit"])
        );
        assert_eq!(wallet(&app, alice).await["lifetime_spent"], "0");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn the_lifecycle_refuses_moves_it_does_not_allow(app: TestApp) {
        let shop = shop(&app, "moves").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let shipped = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        advance(&app, manager, &shipped, json!({"status": "shipped"}))
            .await
            .assert_status(200);
        let delivered = place(&app, alice, json!({"item_id": shop.day_off})).await;
        advance(&app, manager, &delivered, json!({"status": "delivered"}))
            .await
            .assert_status(200);
        let cancelled = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        cancel(&app, alice, &cancelled).await.assert_status(200);

        for (id, status) in [
            (&shipped, "rejected"),
            (&shipped, "processing"),
            (&delivered, "failed"),
            (&delivered, "rejected"),
            (&cancelled, "processing"),
            (&cancelled, "delivered"),
            (&cancelled, "failed"),
        ] {
            advance(&app, manager, id, json!({"status": status}))
                .await
                .assert_error(409, "invalid_redemption_transition");
        }
        // Only the fulfilment moves may be asked for.
        for status in [
            "cancelled",
            "expired",
            "pending",
            "pending_confirmation",
            "lost",
        ] {
            advance(&app, manager, &shipped, json!({"status": status}))
                .await
                .assert_error(400, "invalid_field");
        }
        assert_eq!(status_of(&app, alice, &shipped).await, "shipped");
        assert_eq!(status_of(&app, alice, &delivered).await, "delivered");
        assert_eq!(status_of(&app, alice, &cancelled).await, "cancelled");
        assert_eq!(app.wallet_balance(alice).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("50", "100"));
        app.assert_ledger_consistent().await;
    }

    async fn only_the_tenants_manager_moves_its_orders(app: TestApp) {
        let shop = shop(&app, "fulfil").await;
        let other = app.company("elsewhere", json!(100000)).await;
        let (_, alice) = &shop.company.alice;
        let (_, lead) = &shop.company.lead;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        for token in [alice, lead] {
            for status in ["delivered", "rejected"] {
                advance(&app, token, &id, json!({"status": status}))
                    .await
                    .assert_error(403, "forbidden");
            }
        }
        advance(&app, &other.manager.1, &id, json!({"status": "rejected"}))
            .await
            .assert_error(404, "redemption_not_found");
        app.get(&format!("/api/redemptions/{id}"), &other.manager.1)
            .await
            .assert_error(404, "redemption_not_found");
        advance(
            &app,
            &shop.company.manager.1,
            "no-such-order",
            json!({"status": "delivered"}),
        )
        .await
        .assert_error(404, "redemption_not_found");

        assert_eq!(status_of(&app, alice, &id).await, "pending");
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn an_order_not_fulfilled_in_time_expires_and_is_refunded(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "timeout").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let reply = patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_timeout_hours": 2}),
        )
        .await;
        assert_eq!(reply.body["redemption_timeout_hours"], 2);

        let reply = order(&app, alice, json!({"item_id": shop.hoodie})).await;
        reply.assert_status(201);
        assert_eq!(
            instant(&reply.body["fulfil_by"]),
            start + Duration::hours(2)
        );
        let pending = reply.str("id");
        let processing = place(&app, alice, json!({"item_id": shop.day_off})).await;
        advance(&app, manager, &processing, json!({"status": "processing"}))
            .await
            .assert_status(200);
        let shipped = place(&app, bob, json!({"item_id": shop.hoodie})).await;
        advance(&app, manager, &shipped, json!({"status": "shipped"}))
            .await
            .assert_status(200);
        let delivered = place(
            &app,
            bob,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        assert_eq!(status_of(&app, bob, &delivered).await, "delivered");
        assert_eq!(app.wallet_balance(alice).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 1);

        app.clock
            .set(start + Duration::hours(2) - Duration::seconds(1));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            0
        );
        assert_eq!(status_of(&app, alice, &pending).await, "pending");
        assert_eq!(app.wallet_balance(alice).await, "350");

        app.clock.set(start + Duration::hours(2));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            2
        );
        assert_eq!(status_of(&app, alice, &pending).await, "expired");
        assert_eq!(status_of(&app, alice, &processing).await, "expired");
        // In transit or done: not the sweep's to end.
        assert_eq!(status_of(&app, bob, &shipped).await, "shipped");
        assert_eq!(status_of(&app, bob, &delivered).await, "delivered");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(app.wallet_balance(bob).await, "440");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(
            last_step(&show(&app, alice, &pending).await),
            json!(["pending", "expired", null, "Not fulfilled in time"])
        );
        assert_eq!(
            last_step(&show(&app, alice, &processing).await),
            json!(["processing", "expired", null, "Not fulfilled in time"])
        );
        assert_eq!(held_and_redeemed(&app).await, totals("50", "10"));

        // Expired is final, and a later sweep finds nothing more.
        app.clock.set(start + Duration::hours(10));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            0
        );
        advance(&app, manager, &pending, json!({"status": "delivered"}))
            .await
            .assert_error(409, "invalid_redemption_transition");
        cancel(&app, alice, &pending).await.assert_status(409);
        assert_eq!(app.wallet_balance(alice).await, "500");
        app.assert_ledger_consistent().await;
    }

    async fn two_sweeps_at_once_expire_each_order_once(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "sweeps").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_timeout_hours": 1}),
        )
        .await;
        let mut orders = Vec::new();
        for (token, item) in [
            (alice, &shop.hoodie),
            (alice, &shop.hoodie),
            (alice, &shop.day_off),
            (bob, &shop.hoodie),
            (bob, &shop.day_off),
        ] {
            orders.push((token, place(&app, token, json!({"item_id": item})).await));
        }
        assert_eq!(app.wallet_balance(alice).await, "300");
        assert_eq!(app.wallet_balance(bob).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 0);

        app.clock.set(start + Duration::hours(2));
        let (first, second) = tokio::join!(
            app.store.expire_overdue_redemptions(),
            app.store.expire_overdue_redemptions()
        );
        let expired = first.expect("first sweep") + second.expect("second sweep");
        assert_eq!(expired, 5, "each order expired by exactly one sweep");

        for (token, id) in &orders {
            let seen = show(&app, token, id).await;
            assert_eq!(seen["status"], "expired");
            let expiries = steps(&seen)
                .iter()
                .filter(|step| step[1] == "expired")
                .count();
            assert_eq!(expiries, 1, "{seen}");
        }
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(app.wallet_balance(bob).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        // One award, three holds and three refunds.
        let ledger = app.get("/api/wallets/me/ledger", alice).await;
        assert_eq!(ledger.body["total"], 7);
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn an_order_awaits_the_confirmation_code_sent_to_the_employee(app: TestApp) {
        let shop = shop(&app, "confirm").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let reply = patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        assert_eq!(reply.body["redemption_confirmation_required"], true);

        let reply = order(&app, alice, json!({"item_id": shop.hoodie})).await;
        reply.assert_status(201);
        assert_eq!(reply.str("status"), "pending_confirmation");
        let id = reply.str("id");
        // The points are held and the stock taken while the code is awaited.
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        let queue = app.get("/api/redemptions/queue", manager).await;
        assert_eq!(ids(&queue), Vec::<String>::new());

        let code = confirmation_code(&app, alice, &id).await;
        let theirs = app.get("/api/notifications", bob).await;
        let leaked = theirs.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|n| {
                n["reference_id"] == id.as_str()
                    || n["body"].as_str().is_some_and(|b| b.contains(&code))
            });
        assert!(!leaked, "{theirs:?}");
        confirm(&app, bob, &id, &code)
            .await
            .assert_error(404, "redemption_not_found");
        confirm(&app, manager, &id, &code)
            .await
            .assert_error(404, "redemption_not_found");

        let reply = confirm(&app, alice, &id, wrong(&code)).await;
        reply.assert_error(400, "wrong_confirmation_code");
        assert!(
            reply.str("detail").contains("4 attempt(s) left"),
            "{reply:?}"
        );
        assert_eq!(status_of(&app, alice, &id).await, "pending_confirmation");

        let reply = confirm(&app, alice, &id, &code).await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "pending");
        assert_eq!(
            steps(&show(&app, alice, &id).await),
            [
                json!([null, "pending_confirmation", alice_id, null]),
                json!(["pending_confirmation", "pending", alice_id, "Confirmed"]),
            ]
        );
        let queue = app.get("/api/redemptions/queue", manager).await;
        assert_eq!(ids(&queue), [id.as_str()]);
        confirm(&app, alice, &id, &code)
            .await
            .assert_error(409, "not_awaiting_confirmation");
        assert_eq!(app.wallet_balance(alice).await, "450");

        // A confirmed gift card goes to its provider straight away.
        let card = place(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 25}),
        )
        .await;
        assert_eq!(status_of(&app, alice, &card).await, "pending_confirmation");
        let code = confirmation_code(&app, alice, &card).await;
        let reply = confirm(&app, alice, &card, &format!(" {code} ")).await;
        reply.assert_status(200);
        assert_eq!(reply.str("status"), "delivered");
        assert!(reply.body["gift_card_code"].is_string(), "{reply:?}");
        assert_eq!(app.wallet_balance(alice).await, "425");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "25"));

        // Cancelling while the code is awaited refunds too.
        let third = place(&app, alice, json!({"item_id": shop.day_off})).await;
        assert_eq!(app.wallet_balance(alice).await, "325");
        cancel(&app, alice, &third).await.assert_status(200);
        assert_eq!(app.wallet_balance(alice).await, "425");
        assert_eq!(
            last_step(&show(&app, alice, &third).await),
            json!([
                "pending_confirmation",
                "cancelled",
                alice_id,
                "Cancelled by the employee"
            ])
        );
        app.assert_ledger_consistent().await;
    }

    async fn five_wrong_codes_cancel_the_order_and_return_points_and_stock(app: TestApp) {
        let shop = shop(&app, "attempts").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        let id = place(&app, alice, json!({"item_id": shop.hoodie, "quantity": 2})).await;
        let code = confirmation_code(&app, alice, &id).await;
        assert_eq!(app.wallet_balance(alice).await, "400");

        for left in [4, 3, 2, 1] {
            let reply = confirm(&app, alice, &id, wrong(&code)).await;
            reply.assert_error(400, "wrong_confirmation_code");
            assert_eq!(
                reply.str("detail"),
                format!("That code is not correct; {left} attempt(s) left")
            );
            assert_eq!(app.wallet_balance(alice).await, "400");
        }
        let reply = confirm(&app, alice, &id, wrong(&code)).await;
        reply.assert_error(409, "redemption_ended");
        assert!(reply.str("detail").contains("cancelled"), "{reply:?}");

        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "cancelled");
        assert_eq!(
            last_step(&seen),
            json!([
                "pending_confirmation",
                "cancelled",
                alice_id,
                "Too many wrong confirmation codes"
            ])
        );
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        // The right code is too late now.
        confirm(&app, alice, &id, &code)
            .await
            .assert_error(409, "not_awaiting_confirmation");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn a_confirmation_code_expires_after_fifteen_minutes(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "codetime").await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        let early = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let late = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let early_code = confirmation_code(&app, alice, &early).await;
        let late_code = confirmation_code(&app, alice, &late).await;
        assert_eq!(app.wallet_balance(alice).await, "400");

        app.clock
            .set(start + Duration::minutes(15) - Duration::seconds(1));
        confirm(&app, alice, &early, &early_code)
            .await
            .assert_status(200);
        assert_eq!(status_of(&app, alice, &early).await, "pending");

        app.clock.set(start + Duration::minutes(15));
        let reply = confirm(&app, alice, &late, &late_code).await;
        reply.assert_error(409, "redemption_ended");
        let seen = show(&app, alice, &late).await;
        assert_eq!(seen["status"], "expired");
        assert_eq!(
            last_step(&seen),
            json!([
                "pending_confirmation",
                "expired",
                alice_id,
                "The confirmation code expired"
            ])
        );
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn the_sweep_expires_orders_whose_code_was_never_entered(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "unconfirmed").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        assert_eq!(app.wallet_balance(alice).await, "450");

        app.clock.set(start + Duration::minutes(14));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            0
        );
        assert_eq!(status_of(&app, alice, &id).await, "pending_confirmation");

        app.clock.set(start + Duration::minutes(16));
        assert_eq!(
            app.store.expire_overdue_redemptions().await.expect("sweep"),
            1
        );
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "expired");
        assert_eq!(
            last_step(&seen),
            json!([
                "pending_confirmation",
                "expired",
                null,
                "Not fulfilled in time"
            ])
        );
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn a_signed_provider_callback_moves_the_order_and_a_replay_changes_nothing(app: TestApp) {
        let shop = shop(&app, "callback").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        let shipped = json!({"event_id": "evt-1", "redemption_id": id, "status": "shipped",
                             "reference": "PRV-7", "tracking_number": "ZX-9"});
        let reply = signed_callback(&app, "manual", &shipped).await;
        reply.assert_status(200);
        assert_eq!(reply.body, json!({"applied": true, "status": "shipped"}));
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "shipped");
        assert_eq!(seen["provider_reference"], "PRV-7");
        assert_eq!(seen["tracking_number"], "ZX-9");
        assert_eq!(
            last_step(&seen),
            json!(["pending", "shipped", null, "Reported by the provider"])
        );
        let history_length = steps(&seen).len();

        let reply = signed_callback(&app, "manual", &shipped).await;
        reply.assert_status(200);
        assert_eq!(reply.body, json!({"applied": false, "status": "shipped"}));
        assert_eq!(steps(&show(&app, alice, &id).await).len(), history_length);

        let delivered = json!({"event_id": "evt-2", "redemption_id": id, "status": "delivered",
                               "reason": "Signed for at reception"});
        let reply = signed_callback(&app, "manual", &delivered).await;
        assert_eq!(reply.body, json!({"applied": true, "status": "delivered"}));
        let seen = show(&app, alice, &id).await;
        assert_eq!(
            last_step(&seen),
            json!(["shipped", "delivered", null, "Signed for at reception"])
        );
        assert_eq!(held_and_redeemed(&app).await, totals("0", "50"));

        // Replaying either event again moves nothing, money included.
        for event in [&shipped, &delivered] {
            let reply = signed_callback(&app, "manual", event).await;
            assert_eq!(reply.body, json!({"applied": false, "status": "delivered"}));
        }
        assert_eq!(
            steps(&show(&app, alice, &id).await).len(),
            history_length + 1
        );
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(wallet(&app, alice).await["lifetime_spent"], "50");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        assert_eq!(held_and_redeemed(&app).await, totals("0", "50"));
        app.assert_ledger_consistent().await;
    }

    async fn an_unsigned_or_forged_callback_changes_nothing(app: TestApp) {
        let shop = shop(&app, "forged").await;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let failed = json!({"event_id": "evt-f", "redemption_id": id, "status": "failed",
                            "reason": "Forged"})
        .to_string();
        let delivered =
            json!({"event_id": "evt-f", "redemption_id": id, "status": "delivered"}).to_string();
        let genuine = sign(CALLBACK_SECRET, &failed);
        let upper = format!("sha256={}", genuine["sha256=".len()..].to_uppercase());
        let refusals = [
            (failed.clone(), None),
            (failed.clone(), Some(sign("not-the-secret", &failed))),
            (failed.clone(), Some(genuine["sha256=".len()..].to_owned())),
            (failed.clone(), Some("sha256=".to_owned())),
            (failed.clone(), Some("sha256=zz".to_owned())),
            (
                failed.clone(),
                Some(format!("sha1={}", &genuine["sha256=".len()..])),
            ),
            // A genuine signature does not cover another body.
            (delivered.clone(), Some(genuine.clone())),
            (format!("{failed} "), Some(genuine.clone())),
        ];
        for (body, signature) in &refusals {
            callback(&app, "manual", body, signature.as_deref())
                .await
                .assert_error(401, "invalid_signature");
        }
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "pending");
        assert_eq!(steps(&seen).len(), 1);
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));

        // None of them used up the event id: the genuine event applies once it comes, and hex
        // case does not matter.
        let reply = callback(&app, "manual", &failed, Some(&upper)).await;
        reply.assert_status(200);
        assert_eq!(reply.body, json!({"applied": true, "status": "failed"}));
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, &shop.company.manager.1, &shop.hoodie).await, 3);
        assert_eq!(
            last_step(&show(&app, alice, &id).await),
            json!(["pending", "failed", null, "Forged"])
        );
        app.assert_ledger_consistent().await;
    }

    async fn a_provider_reporting_failure_refunds_the_order(app: TestApp) {
        let shop = shop(&app, "provfail").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie, "quantity": 3})).await;
        assert_eq!(app.wallet_balance(alice).await, "350");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 0);
        let processing = json!({"event_id": "p-1", "redemption_id": id, "status": "processing",
                                "reference": "SUP-1"});
        assert_eq!(
            signed_callback(&app, "manual", &processing).await.body["applied"],
            true
        );

        let failed = json!({"event_id": "p-2", "redemption_id": id, "status": "failed",
                            "reason": "Supplier out of stock"});
        let reply = signed_callback(&app, "manual", &failed).await;
        reply.assert_status(200);
        assert_eq!(reply.body, json!({"applied": true, "status": "failed"}));
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);
        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["provider_reference"], "SUP-1");
        assert_eq!(
            last_step(&seen),
            json!(["processing", "failed", null, "Supplier out of stock"])
        );
        // A later, contradicting event is refused and changes nothing.
        let delivered = json!({"event_id": "p-3", "redemption_id": id, "status": "delivered"});
        signed_callback(&app, "manual", &delivered)
            .await
            .assert_error(409, "invalid_redemption_transition");
        assert_eq!(status_of(&app, alice, &id).await, "failed");
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn a_callback_must_name_an_order_of_that_provider_and_a_provider_status(app: TestApp) {
        let shop = shop(&app, "cbchecks").await;
        let (_, alice) = &shop.company.alice;
        let id = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        let event = json!({"event_id": "x-1", "redemption_id": id, "status": "delivered"});
        signed_callback(&app, "simulated_gift_card", &event)
            .await
            .assert_error(404, "redemption_not_found");
        let unknown =
            json!({"event_id": "x-2", "redemption_id": "no-such-order", "status": "delivered"});
        signed_callback(&app, "manual", &unknown)
            .await
            .assert_error(404, "redemption_not_found");
        for status in ["cancelled", "rejected", "expired", "pending"] {
            let event = json!({"event_id": "x-3", "redemption_id": id, "status": status});
            signed_callback(&app, "manual", &event)
                .await
                .assert_error(400, "invalid_field");
        }
        let garbage = "not json";
        callback(
            &app,
            "manual",
            garbage,
            Some(&sign(CALLBACK_SECRET, garbage)),
        )
        .await
        .assert_error(400, "invalid_json");

        let seen = show(&app, alice, &id).await;
        assert_eq!(seen["status"], "pending");
        assert_eq!(steps(&seen).len(), 1);
        assert_eq!(app.wallet_balance(alice).await, "450");
        // The event refused for naming the wrong provider is still unused.
        let reply = signed_callback(&app, "manual", &event).await;
        assert_eq!(reply.body, json!({"applied": true, "status": "delivered"}));
        assert_eq!(held_and_redeemed(&app).await, totals("0", "50"));
        app.assert_ledger_consistent().await;
    }

    async fn the_same_callback_delivered_twice_at_once_applies_once(app: TestApp) {
        let shop = shop(&app, "cbrace").await;
        let (_, alice) = &shop.company.alice;
        let mut orders = Vec::new();
        for _ in 0..3 {
            orders.push(place(&app, alice, json!({"item_id": shop.day_off})).await);
        }
        for (n, id) in orders.iter().enumerate() {
            let event =
                json!({"event_id": format!("dup-{n}"), "redemption_id": id, "status": "failed"});
            let replies = join_all((0..4).map(|_| signed_callback(&app, "manual", &event))).await;
            let applied = replies
                .iter()
                .inspect(|reply| {
                    reply.assert_status(200);
                    assert_eq!(reply.body["status"], "failed", "{reply:?}");
                })
                .filter(|reply| reply.body["applied"] == true)
                .count();
            assert_eq!(applied, 1, "{replies:?}");
            let failures = steps(&show(&app, alice, id).await)
                .iter()
                .filter(|step| step[1] == "failed")
                .count();
            assert_eq!(failures, 1);
        }
        assert_eq!(app.wallet_balance(alice).await, "500");
        let ledger = app.get("/api/wallets/me/ledger", alice).await;
        assert_eq!(
            ledger.body["total"], 7,
            "one award, three holds, three refunds"
        );
        assert_eq!(held_and_redeemed(&app).await, totals("0", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn two_employees_racing_for_the_last_item_end_with_exactly_one_order(app: TestApp) {
        let shop = shop(&app, "lastone").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let mut alice_wins = 0;
        for round in 0..5 {
            let item = create_item(
                &app,
                manager,
                json!({"kind": "merchandise", "name": format!("Last one {round}"),
                       "face_value": 50, "stock": 1}),
            )
            .await;
            let (first, second) = tokio::join!(
                order(&app, alice, json!({"item_id": item})),
                order(&app, bob, json!({"item_id": item}))
            );
            let winners = [&first, &second].iter().filter(|r| r.status == 201).count();
            assert_eq!(winners, 1, "{first:?} {second:?}");
            for reply in [&first, &second] {
                if reply.status != 201 {
                    reply.assert_error(409, "out_of_stock");
                }
            }
            if first.status == 201 {
                alice_wins += 1;
            }
            assert_eq!(stock(&app, manager, &item).await, 0);
        }
        assert_eq!(
            app.wallet_balance(alice).await,
            (500 - 50 * alice_wins).to_string()
        );
        assert_eq!(
            app.wallet_balance(bob).await,
            (500 - 50 * (5 - alice_wins)).to_string()
        );
        let all = app.get("/api/redemptions", manager).await;
        assert_eq!(ids(&all).len(), 5);
        assert_eq!(held_and_redeemed(&app).await, totals("250", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn one_employee_racing_orders_against_one_balance_gets_what_fits(app: TestApp) {
        let company = app.company("onebalance", json!(100000)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        let (bob_id, bob) = &company.bob;
        award(&app, manager, bob_id, 100).await;
        let dinner = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Dinner", "face_value": 60}),
        )
        .await;
        let (first, second) = tokio::join!(
            order(&app, bob, json!({"item_id": dinner})),
            order(&app, bob, json!({"item_id": dinner}))
        );
        assert_eq!(
            [&first, &second].iter().filter(|r| r.status == 201).count(),
            1
        );
        for reply in [&first, &second] {
            if reply.status != 201 {
                reply.assert_error(400, "insufficient_wallet_balance");
            }
        }
        assert_eq!(app.wallet_balance(bob).await, "40");

        // Ten at once against room for three: three orders, three units of stock.
        award(&app, manager, alice_id, 100).await;
        let lunch = create_item(
            &app,
            manager,
            json!({"kind": "merchandise", "name": "Lunch", "face_value": 30, "stock": 10}),
        )
        .await;
        let replies =
            join_all((0..10).map(|_| order(&app, alice, json!({"item_id": lunch})))).await;
        let placed = replies.iter().filter(|r| r.status == 201).count();
        assert_eq!(placed, 3, "{replies:?}");
        for reply in replies.iter().filter(|r| r.status != 201) {
            reply.assert_error(400, "insufficient_wallet_balance");
        }
        assert_eq!(app.wallet_balance(alice).await, "10");
        assert_eq!(stock(&app, manager, &lunch).await, 7);
        let mine = app.get("/api/redemptions", alice).await;
        assert_eq!(ids(&mine).len(), 3);
        assert_eq!(held_and_redeemed(&app).await, totals("150", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn an_order_retried_with_its_idempotency_key_is_placed_once(app: TestApp) {
        let shop = shop(&app, "retry").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let body = json!({"item_id": shop.hoodie});
        let headers = [("idempotency-key", "order-1")];
        let first = app
            .request(
                reqwest::Method::POST,
                "/api/redemptions",
                Some(alice),
                Some(&body),
                &headers,
            )
            .await;
        first.assert_status(201);
        let again = app
            .request(
                reqwest::Method::POST,
                "/api/redemptions",
                Some(alice),
                Some(&body),
                &headers,
            )
            .await;
        again.assert_status(201);
        assert_eq!(again.str("id"), first.str("id"));
        let other = json!({"item_id": shop.day_off});
        app.request(
            reqwest::Method::POST,
            "/api/redemptions",
            Some(alice),
            Some(&other),
            &headers,
        )
        .await
        .assert_error(409, "idempotency_key_reused");

        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        let mine = app.get("/api/redemptions", alice).await;
        assert_eq!(ids(&mine), [first.str("id")]);
        app.assert_ledger_consistent().await;
    }

    async fn a_manager_pausing_redemptions_stops_new_orders_until_resumed(app: TestApp) {
        let shop = shop(&app, "paused").await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let tenant = format!("/api/tenants/{}", shop.company.tenant_id);
        let before = place(&app, alice, json!({"item_id": shop.hoodie})).await;

        app.patch(&tenant, alice, json!({"redemptions_paused": true}))
            .await
            .assert_error(403, "forbidden");
        let reply = patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemptions_paused": true}),
        )
        .await;
        assert_eq!(reply.body["redemptions_paused"], true);

        let reply = order(&app, alice, json!({"item_id": shop.hoodie})).await;
        reply.assert_error(409, "redemptions_paused");
        order(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await
        .assert_error(409, "redemptions_paused");
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 2);
        // Orders already placed can still end, with their refund.
        cancel(&app, alice, &before).await.assert_status(200);
        assert_eq!(app.wallet_balance(alice).await, "500");
        assert_eq!(stock(&app, manager, &shop.hoodie).await, 3);

        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemptions_paused": false}),
        )
        .await;
        place(&app, alice, json!({"item_id": shop.hoodie})).await;
        assert_eq!(app.wallet_balance(alice).await, "450");
        assert_eq!(held_and_redeemed(&app).await, totals("50", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn orders_pause_while_the_pool_is_below_its_threshold(app: TestApp) {
        // The default low-balance threshold is 1000 points.
        let company = app.company("lowpool", json!(1600)).await;
        let (_, manager) = &company.manager;
        let (alice_id, alice) = &company.alice;
        let (bob_id, bob) = &company.bob;
        let lunch = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Lunch", "face_value": 100}),
        )
        .await;
        award(&app, manager, alice_id, 500).await;
        assert_eq!(app.pool_balance(manager).await, "1100");
        place(&app, alice, json!({"item_id": lunch})).await;

        award(&app, manager, bob_id, 150).await;
        assert_eq!(app.pool_balance(manager).await, "950");
        for token in [alice, bob] {
            order(&app, token, json!({"item_id": lunch}))
                .await
                .assert_error(409, "redemptions_paused_low_pool");
        }
        assert_eq!(app.wallet_balance(alice).await, "400");
        assert_eq!(app.wallet_balance(bob).await, "150");

        // Back at the threshold, orders flow again.
        app.allocate(&company.tenant_id, json!(50))
            .await
            .assert_status(200);
        assert_eq!(app.pool_balance(manager).await, "1000");
        place(&app, bob, json!({"item_id": lunch})).await;
        assert_eq!(app.wallet_balance(bob).await, "50");
        assert_eq!(held_and_redeemed(&app).await, totals("200", "0"));
        app.assert_ledger_consistent().await;
    }

    async fn employees_see_their_own_orders_and_managers_their_tenants(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "views").await;
        let other = app.company("views-other", json!(100000)).await;
        let (manager_id, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let (_, lead) = &shop.company.lead;
        let first = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        app.clock.set(start + Duration::minutes(1));
        let second = place(&app, alice, json!({"item_id": shop.day_off})).await;
        cancel(&app, alice, &second).await.assert_status(200);
        app.clock.set(start + Duration::minutes(2));
        let third = place(
            &app,
            bob,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        advance(
            &app,
            manager,
            &first,
            json!({"status": "processing", "note": "Picked"}),
        )
        .await
        .assert_status(200);

        let mine = app.get("/api/redemptions", alice).await;
        assert_eq!(ids(&mine), [second.clone(), first.clone()], "newest first");
        assert_eq!(
            ids(&app.get("/api/redemptions", bob).await),
            [third.as_str()]
        );
        assert!(app.get("/api/redemptions", bob).await.body[0]["gift_card_code"].is_string());
        assert_eq!(
            ids(&app.get("/api/redemptions", lead).await),
            Vec::<String>::new()
        );
        let all = app.get("/api/redemptions", manager).await;
        assert_eq!(ids(&all), [third.clone(), second.clone(), first.clone()]);
        assert_eq!(all.body[0]["gift_card_code"], Value::Null);
        assert_eq!(
            ids(&app.get("/api/redemptions?status=cancelled", alice).await),
            [second.as_str()]
        );
        assert_eq!(
            ids(&app.get("/api/redemptions?status=processing", manager).await),
            [first.as_str()]
        );
        app.get("/api/redemptions?status=lost", alice)
            .await
            .assert_error(400, "invalid_field");

        // My order with its history: who moved it and why.
        let seen = show(&app, alice, &first).await;
        assert_eq!(
            steps(&seen),
            [
                json!([null, "pending", alice_id, null]),
                json!(["pending", "processing", manager_id, "Picked"]),
            ]
        );
        assert_eq!(seen["history"][0]["created_at"], seen["created_at"]);
        assert_eq!(steps(&show(&app, manager, &first).await).len(), 2);
        for token in [bob, lead, &other.manager.1, &other.alice.1] {
            app.get(&format!("/api/redemptions/{first}"), token)
                .await
                .assert_error(404, "redemption_not_found");
        }
        assert_eq!(
            ids(&app.get("/api/redemptions", &other.manager.1).await),
            Vec::<String>::new()
        );
        app.assert_ledger_consistent().await;
    }

    async fn the_fulfilment_queue_lists_open_orders_oldest_first(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "queue").await;
        let other = app.company("queue-other", json!(100000)).await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        let mut minute = 0;
        let mut next_minute = || {
            minute += 1;
            start + Duration::minutes(minute)
        };
        let pending = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        app.clock.set(next_minute());
        let processing = place(&app, bob, json!({"item_id": shop.day_off})).await;
        app.clock.set(next_minute());
        let shipped = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        app.clock.set(next_minute());
        let delivered = place(
            &app,
            bob,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        app.clock.set(next_minute());
        let cancelled = place(&app, bob, json!({"item_id": shop.day_off})).await;
        cancel(&app, bob, &cancelled).await.assert_status(200);
        advance(&app, manager, &shipped, json!({"status": "shipped"}))
            .await
            .assert_status(200);
        advance(&app, manager, &processing, json!({"status": "processing"}))
            .await
            .assert_status(200);
        patch_tenant(
            &app,
            manager,
            &shop.company.tenant_id,
            json!({"redemption_confirmation_required": true}),
        )
        .await;
        app.clock.set(next_minute());
        let unconfirmed = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        assert_eq!(
            status_of(&app, alice, &unconfirmed).await,
            "pending_confirmation"
        );
        assert_eq!(status_of(&app, bob, &delivered).await, "delivered");

        let queue = app.get("/api/redemptions/queue", manager).await;
        queue.assert_status(200);
        assert_eq!(ids(&queue), [pending, processing, shipped]);
        for token in [alice, &shop.company.lead.1] {
            app.get("/api/redemptions/queue", token)
                .await
                .assert_error(403, "forbidden");
        }
        assert_eq!(
            ids(&app.get("/api/redemptions/queue", &other.manager.1).await),
            Vec::<String>::new()
        );
        app.assert_ledger_consistent().await;
    }

    async fn analytics_total_what_was_redeemed_what_is_on_hold_and_the_top_items(app: TestApp) {
        let shop = shop(&app, "analytics").await;
        let other = app.company("analytics-other", json!(100000)).await;
        let (_, manager) = &shop.company.manager;
        let (_, alice) = &shop.company.alice;
        let (_, bob) = &shop.company.bob;
        place(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 25}),
        )
        .await;
        place(
            &app,
            alice,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        place(
            &app,
            bob,
            json!({"item_id": shop.voucher, "face_value": 10}),
        )
        .await;
        let shipped = place(&app, alice, json!({"item_id": shop.hoodie})).await;
        advance(&app, manager, &shipped, json!({"status": "delivered"}))
            .await
            .assert_status(200);
        place(&app, alice, json!({"item_id": shop.hoodie})).await;
        let cancelled = place(&app, alice, json!({"item_id": shop.day_off})).await;
        cancel(&app, alice, &cancelled).await.assert_status(200);

        let reply = app.get("/api/redemptions/analytics", manager).await;
        reply.assert_status(200);
        assert_eq!(reply.str("points_redeemed"), "95");
        assert_eq!(reply.str("points_on_hold"), "50");
        assert_eq!(
            reply.body["status_counts"],
            json!({"cancelled": 1, "delivered": 4, "pending": 1})
        );
        assert_eq!(
            reply.body["top_items"],
            json!([
                {"item_id": shop.voucher, "item_name": "Book Voucher", "orders": 3, "points": "45"},
                {"item_id": shop.hoodie, "item_name": "Hoodie", "orders": 1, "points": "50"},
            ])
        );
        // The same totals `perksu verify` finds in the ledger.
        assert_eq!(held_and_redeemed(&app).await, totals("50", "95"));
        assert_eq!(app.wallet_balance(alice).await, "365");

        let elsewhere = app
            .get("/api/redemptions/analytics", &other.manager.1)
            .await;
        assert_eq!(elsewhere.str("points_redeemed"), "0");
        assert_eq!(elsewhere.str("points_on_hold"), "0");
        assert_eq!(elsewhere.body["top_items"], json!([]));
        for token in [alice, &shop.company.lead.1] {
            app.get("/api/redemptions/analytics", token)
                .await
                .assert_error(403, "forbidden");
        }
        app.assert_ledger_consistent().await;
    }

    async fn the_csv_export_lists_every_order_of_the_managers_tenant(app: TestApp) {
        let start = whole_second_now();
        app.clock.set(start);
        let shop = shop(&app, "export").await;
        let other = app.company("export-other", json!(100000)).await;
        let (_, manager) = &shop.company.manager;
        let (alice_id, alice) = &shop.company.alice;
        let (bob_id, bob) = &shop.company.bob;
        let mug = create_item(
            &app,
            manager,
            json!({"kind": "custom", "name": "Mug, \"large\"", "face_value": 20}),
        )
        .await;
        let first = place(&app, alice, json!({"item_id": mug})).await;
        app.clock.set(start + Duration::minutes(1));
        let second = place(&app, bob, json!({"item_id": shop.hoodie, "quantity": 2})).await;
        advance(
            &app,
            manager,
            &second,
            json!({"status": "shipped", "tracking_number": "TRK-1"}),
        )
        .await
        .assert_status(200);
        let their_item = create_item(
            &app,
            &other.manager.1,
            json!({"kind": "custom", "name": "Theirs", "face_value": 1}),
        )
        .await;
        award(&app, &other.manager.1, &other.alice.0, 10).await;
        place(&app, &other.alice.1, json!({"item_id": their_item})).await;

        let response = app
            .client
            .get(format!("{}/api/redemptions/export.csv", app.base_url))
            .bearer_auth(manager)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status().as_u16(), 200);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            header("content-type").starts_with("text/csv"),
            "{}",
            header("content-type")
        );
        assert!(header("content-disposition").contains("redemptions.csv"));
        let csv = response.text().await.expect("body");
        let created = |minutes: i64| {
            (start + Duration::minutes(minutes))
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        };
        let expected = format!(
            "id,created_at,user_id,item_name,kind,quantity,face_value,points_cost,status,provider,\
             tracking_number\n\
             {second},{},{bob_id},Hoodie,merchandise,2,50,100,shipped,manual,TRK-1\n\
             {first},{},{alice_id},\"Mug, \"\"large\"\"\",custom,1,20,20,pending,manual,\n",
            created(1),
            created(0),
        );
        assert_eq!(csv, expected);

        for token in [alice, &shop.company.lead.1] {
            app.get("/api/redemptions/export.csv", token)
                .await
                .assert_error(403, "forbidden");
        }
        app.assert_ledger_consistent().await;
    }
}
