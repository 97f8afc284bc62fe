//! One test per kind of mail the worker sends, each caused the way a user causes it: a pool
//! crossing its low-balance mark, an order that needs a confirmation code, an order moved on
//! by a manager, and wallet points nearing their expiry. Each mail must reach the right
//! person, and both its text and its HTML part must name the tenant and its points label.

use reqwest::Method;
use serde_json::{json, Value};

use crate::company::{Answer, Api, Company};
use crate::database::Database;
use crate::delivery::start;
use crate::process::perksu;
use crate::receiver::{python, Receiver};

/// A label no default text contains, so finding it proves the tenant's own was used.
const LABEL: &str = "Kudos";

/// The company `slug` with its points called [`LABEL`] and `pool` of them.
async fn company(api: &Api, slug: &str, pool: i64) -> Company {
    let company = Company::create(api, slug, pool).await;
    patch(
        api,
        &format!("/api/tenants/{}", company.tenant_id),
        &company.admin_token,
        json!({"currency_label": LABEL}),
    )
    .await
    .assert_status(200);
    company
}

async fn patch(api: &Api, path: &str, token: &str, body: Value) -> Answer {
    api.try_send(Method::PATCH, path, token, Some(&body), None)
        .await
        .unwrap_or_else(|error| panic!("PATCH {path}: {error}"))
}

/// Both decoded parts of `mail` contain every one of `texts`.
fn assert_both_parts_contain(mail: &Value, texts: &[&str]) {
    for part in ["text", "html"] {
        let body = mail[part].as_str().unwrap_or_default();
        for text in texts {
            assert!(
                body.contains(text),
                "{text:?} missing from the {part} part: {mail}"
            );
        }
    }
}

/// The tenant's email rows of `kind`, as a platform admin lists them.
async fn recipients_of(api: &Api, company: &Company, kind: &str) -> Vec<String> {
    let path = format!(
        "/api/email-deliveries?tenant_id={}&limit=200",
        company.tenant_id
    );
    let answer = api.get(&path, &company.admin_token).await;
    answer.assert_status(200);
    let mut recipients: Vec<String> = answer.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|row| row["kind"] == kind)
        .filter_map(|row| row["recipient"].as_str().map(str::to_owned))
        .collect();
    recipients.sort();
    recipients
}

async fn award(api: &Api, company: &Company, to: &str, amount: i64) {
    api.post(
        "/api/v1/points/award-to-user",
        &company.manager.token,
        json!({"to_user_id": to, "amount": amount, "recognition_message": "For the shop"}),
    )
    .await
    .assert_status(200);
}

/// A hoodie in the catalogue, and an order of it by the first employee; returns the order.
async fn order_a_hoodie(api: &Api, company: &Company) -> Value {
    let item = api
        .post(
            "/api/rewards",
            &company.manager.token,
            json!({"kind": "merchandise", "name": "Hoodie", "face_value": 50, "stock": 3}),
        )
        .await;
    item.assert_status(201);
    award(api, company, &company.employees[0].id, 5000).await;
    let order = api
        .post(
            "/api/redemptions",
            &company.employees[0].token,
            json!({"item_id": item.str("id")}),
        )
        .await;
    order.assert_status(201);
    order.body
}

async fn a_pool_below_its_mark_mails_every_manager_and_nobody_else(db: Database) {
    let Some(python) = python() else { return };
    let receiver = Receiver::start(&python, 0);
    db.create_admin();
    let server = start(&db, Some(&receiver.url()));
    let api = Api::new(&server.base_url);
    let company = company(&api, "lowpool", 2000).await;
    api.post(
        "/api/users",
        &company.admin_token,
        json!({
            "tenant_id": company.tenant_id, "email": "second@lowpool.test",
            "password": crate::database::PASSWORD, "first_name": "Second",
            "last_name": "Manager", "role": "tenant_manager",
        }),
    )
    .await
    .assert_status(201);
    // The default mark is 1000: 2000 − 1500 crosses it.
    award(&api, &company, &company.employees[0].id, 1500).await;
    for manager in ["manager@lowpool.test", "second@lowpool.test"] {
        let mail = receiver.wait_for_mail(manager, "running low").await;
        assert_eq!(
            mail["subject"],
            "Tenant lowpool: the Kudos pool is running low"
        );
        assert_both_parts_contain(&mail, &["Tenant lowpool", "500 Kudos"]);
    }
    assert_eq!(
        recipients_of(&api, &company, "low_balance").await,
        ["manager@lowpool.test", "second@lowpool.test"]
    );
    assert!(receiver
        .mails_to("employee0@lowpool.test", "running low")
        .is_empty());
    drop(server);
    db.drop_schema().await;
}

async fn an_order_needing_confirmation_mails_its_code_to_the_buyer(db: Database) {
    let Some(python) = python() else { return };
    let receiver = Receiver::start(&python, 0);
    db.create_admin();
    let server = start(&db, Some(&receiver.url()));
    let api = Api::new(&server.base_url);
    let company = company(&api, "confirm", 100_000).await;
    patch(
        &api,
        &format!("/api/tenants/{}", company.tenant_id),
        &company.manager.token,
        json!({"redemption_confirmation_required": true}),
    )
    .await
    .assert_status(200);
    let order = order_a_hoodie(&api, &company).await;
    assert_eq!(order["status"], "pending_confirmation");
    let mail = receiver
        .wait_for_mail("employee0@confirm.test", "confirmation code")
        .await;
    let notices = api
        .get("/api/notifications", &company.employees[0].token)
        .await;
    let code_notice = notices.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|n| n["kind"] == "redemption_confirmation_code")
        .cloned()
        .expect("a confirmation code notification");
    let body = code_notice["body"].as_str().expect("body");
    assert_both_parts_contain(&mail, &["Tenant confirm", LABEL, body]);
    assert_eq!(
        recipients_of(&api, &company, "redemption_confirmation_code").await,
        ["employee0@confirm.test"]
    );
    drop(server);
    db.drop_schema().await;
}

async fn an_order_moved_on_by_a_manager_mails_the_buyer(db: Database) {
    let Some(python) = python() else { return };
    let receiver = Receiver::start(&python, 0);
    db.create_admin();
    let server = start(&db, Some(&receiver.url()));
    let api = Api::new(&server.base_url);
    let company = company(&api, "orders", 100_000).await;
    let order = order_a_hoodie(&api, &company).await;
    let id = order["id"].as_str().expect("id");
    api.post(
        &format!("/api/redemptions/{id}/status"),
        &company.manager.token,
        json!({"status": "processing"}),
    )
    .await
    .assert_status(200);
    let mail = receiver
        .wait_for_mail("employee0@orders.test", "order was updated")
        .await;
    assert_both_parts_contain(
        &mail,
        &[
            "Tenant orders",
            LABEL,
            "Your redemption of Hoodie is now processing.",
        ],
    );
    assert_eq!(
        recipients_of(&api, &company, "redemption_status").await,
        ["employee0@orders.test"]
    );
    drop(server);
    db.drop_schema().await;
}

async fn points_near_their_expiry_mail_a_warning_to_their_owner(db: Database) {
    let Some(python) = python() else { return };
    let receiver = Receiver::start(&python, 0);
    db.create_admin();
    let server = start(&db, Some(&receiver.url()));
    let api = Api::new(&server.base_url);
    let company = company(&api, "expiring", 100_000).await;
    // Points expire after 30 days and their owner hears of it 30 days ahead: at once.
    patch(
        &api,
        &format!("/api/tenants/{}", company.tenant_id),
        &company.manager.token,
        json!({"wallet_expiry_days": 30, "wallet_expiry_warning_days": 30}),
    )
    .await
    .assert_status(200);
    award(&api, &company, &company.employees[1].id, 75).await;
    // The operator's run; the server's own hourly run does the same.
    perksu(&["expire", "--database-url", db.url()], None).assert_success();
    let mail = receiver
        .wait_for_mail("employee1@expiring.test", "expiring soon")
        .await;
    assert_eq!(mail["subject"], "Tenant expiring: Kudos expiring soon");
    assert_both_parts_contain(&mail, &["Tenant expiring", "75 Kudos"]);
    assert_eq!(
        recipients_of(&api, &company, "points_expiring").await,
        ["employee1@expiring.test"]
    );
    drop(server);
    db.drop_schema().await;
}

on_both_backends!(
    a_pool_below_its_mark_mails_every_manager_and_nobody_else,
    an_order_needing_confirmation_mails_its_code_to_the_buyer,
    an_order_moved_on_by_a_manager_mails_the_buyer,
    points_near_their_expiry_mail_a_warning_to_their_owner
);
