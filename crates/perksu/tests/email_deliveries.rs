//! The email outbox through `/api/email-deliveries`, black-box: who may list it and retry
//! rows, tenant isolation, the status filter, and a dead row made deliverable again. The
//! worker's passes are called directly against a real SMTP receiver (aiosmtpd), and the
//! injected clock is stepped, so nothing waits for a scheduler.

mod common;
#[allow(dead_code)]
#[path = "email/receiver.rs"]
mod receiver;

use chrono::Duration;
use common::{Company, TestApp};
use perksu_api::email::{EmailSender, EmailSettings};
use perksu_store::{Clock, EmailRetryPolicy, Timestamp};
use receiver::{python, Receiver};
use serde_json::{json, Value};

/// A recognition from the tenant's manager to `to`, which queues one email to them.
async fn recognise(app: &TestApp, company: &Company, to: &(String, String)) {
    app.post(
        "/api/recognitions",
        &company.manager.1,
        json!({"to_user_id": to.0, "points": 5, "message": "Thanks for the demo"}),
    )
    .await
    .assert_status(200);
}

/// The deliveries `token` sees at `query` (a query string, possibly empty).
async fn deliveries(app: &TestApp, token: &str, query: &str) -> Value {
    let reply = app
        .get(&format!("/api/email-deliveries{query}"), token)
        .await;
    reply.assert_status(200);
    reply.body.clone()
}

/// The one delivery addressed to `recipient` in a listing.
fn delivery_to(page: &Value, recipient: &str) -> Value {
    let rows: Vec<&Value> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|row| row["recipient"] == recipient)
        .collect();
    assert_eq!(rows.len(), 1, "one mail to {recipient} in {page}");
    rows[0].clone()
}

fn tenants_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|row| row["tenant_id"].as_str().unwrap_or("none").to_owned())
        .collect()
}

/// One worker pass against `receiver`, giving a row up after its first failed attempt.
async fn deliver_once(app: &TestApp, receiver: &Receiver) -> usize {
    let sender = EmailSender::new(EmailSettings {
        smtp_url: receiver.url(),
        mail_from: "Perksu Points <no-reply@perksu.test>".into(),
        public_url: "http://perksu.test".into(),
        retry: EmailRetryPolicy {
            max_attempts: 1,
            base: std::time::Duration::from_millis(10),
        },
        poll_interval: std::time::Duration::from_millis(10),
        invitation_ttl: std::time::Duration::from_secs(3600),
    })
    .expect("the test SMTP settings are usable");
    sender.deliver_due(&app.store).await
}

backend_tests! {
    async fn the_platform_admin_lists_every_tenant_and_a_manager_only_their_own(app: TestApp) {
        let acme = app.company("acme", json!(1000)).await;
        let globex = app.company("globex", json!(1000)).await;
        recognise(&app, &acme, &acme.alice).await;
        recognise(&app, &globex, &globex.bob).await;

        let everything = deliveries(&app, &app.admin_token, "").await;
        let tenants = tenants_of(&everything);
        assert!(tenants.contains(&acme.tenant_id) && tenants.contains(&globex.tenant_id));
        assert_eq!(everything["total"], tenants.len() as i64, "{everything}");
        assert_eq!(everything["limit"], 50);
        assert_eq!(everything["offset"], 0);

        let one_tenant =
            deliveries(&app, &app.admin_token, &format!("?tenant_id={}", acme.tenant_id)).await;
        assert!(tenants_of(&one_tenant).iter().all(|t| *t == acme.tenant_id), "{one_tenant}");
        delivery_to(&one_tenant, "alice@acme.test");

        let own = deliveries(&app, &acme.manager.1, "").await;
        assert!(tenants_of(&own).iter().all(|t| *t == acme.tenant_id), "{own}");
        assert_eq!(own["total"], one_tenant["total"]);
        let pending = delivery_to(&own, "alice@acme.test");
        assert_eq!(pending["status"], "pending");
        assert_eq!(pending["kind"], "recognition_received");
        assert_eq!(pending["attempts"], 0);

        app.get(&format!("/api/email-deliveries?tenant_id={}", globex.tenant_id), &acme.manager.1)
            .await
            .assert_error(404, "tenant_not_found");
        for token in [&acme.lead.1, &acme.alice.1] {
            app.get("/api/email-deliveries", token).await.assert_error(403, "forbidden");
        }
        app.get("/api/email-deliveries", "no-such-token").await.assert_error(401, "unauthenticated");
    }

    async fn the_status_filter_keeps_one_status_and_refuses_an_unknown_one(app: TestApp) {
        let acme = app.company("acme", json!(1000)).await;
        recognise(&app, &acme, &acme.alice).await;
        recognise(&app, &acme, &acme.bob).await;
        let pending = deliveries(&app, &acme.manager.1, "?status=pending").await;
        assert!(pending["total"].as_i64().is_some_and(|n| n >= 2), "{pending}");
        assert!(pending["items"].as_array().expect("items").iter().all(|r| r["status"] == "pending"));
        let paged = deliveries(&app, &acme.manager.1, "?status=pending&limit=1&offset=1").await;
        assert_eq!(paged["items"].as_array().map(Vec::len), Some(1), "{paged}");
        assert_eq!(paged["total"], pending["total"]);
        for status in ["sent", "failed", "dead"] {
            let none = deliveries(&app, &acme.manager.1, &format!("?status={status}")).await;
            assert_eq!(none["total"], 0, "{status}: {none}");
            assert_eq!(none["items"], json!([]));
        }
        let refused = app.get("/api/email-deliveries?status=bounced", &acme.manager.1).await;
        refused.assert_error(400, "invalid_field");
        assert!(refused.body["detail"].as_str().is_some_and(|d| d.contains("dead")), "{refused:?}");
    }

    async fn retry_is_refused_to_other_tenants_other_roles_and_rows_with_nothing_to_retry(app: TestApp) {
        let acme = app.company("acme", json!(1000)).await;
        let globex = app.company("globex", json!(1000)).await;
        recognise(&app, &acme, &acme.alice).await;
        let row = delivery_to(&deliveries(&app, &acme.manager.1, "").await, "alice@acme.test");
        let retry = format!("/api/email-deliveries/{}/retry", row["id"].as_str().expect("id"));

        app.post(&retry, &globex.manager.1, json!({}))
            .await
            .assert_error(404, "email_delivery_not_found");
        for token in [&acme.lead.1, &acme.alice.1] {
            app.post(&retry, token, json!({})).await.assert_error(403, "forbidden");
        }
        app.post("/api/email-deliveries/no-such-row/retry", &app.admin_token, json!({}))
            .await
            .assert_error(404, "email_delivery_not_found");
        app.post(&retry, &acme.manager.1, json!({}))
            .await
            .assert_error(409, "email_already_pending");
        let after = delivery_to(&deliveries(&app, &acme.manager.1, "").await, "alice@acme.test");
        assert_eq!(after, row, "a refused retry changes nothing");
    }

    async fn a_dead_email_retried_is_due_now_keeps_its_attempts_and_is_then_delivered(app: TestApp) {
        let Some(python) = python() else { return };
        let acme = app.company("acme", json!(1000)).await;
        recognise(&app, &acme, &acme.alice).await;
        let refusing = Receiver::start(&python, 550);
        assert!(deliver_once(&app, &refusing).await >= 1);
        let dead = delivery_to(&deliveries(&app, &acme.manager.1, "?status=dead").await, "alice@acme.test");
        assert_eq!(dead["attempts"], 1);
        assert_eq!(dead["next_attempt_at"], Value::Null);
        assert!(dead["last_error"].as_str().is_some_and(|e| e.contains("550")), "{dead}");

        // A minute later, so "due now" differs from when the row was written.
        app.clock.set(app.clock.now() + Duration::minutes(1));
        let retry = format!("/api/email-deliveries/{}/retry", dead["id"].as_str().expect("id"));
        let retried = app.post(&retry, &acme.manager.1, json!({})).await;
        retried.assert_status(200);
        assert_eq!(retried.body["status"], "pending");
        assert_eq!(retried.body["attempts"], 1, "attempts are kept");
        assert_eq!(retried.body["next_attempt_at"], Timestamp::from(app.clock.now()).to_string());
        let listed = delivery_to(&deliveries(&app, &acme.manager.1, "?status=pending").await, "alice@acme.test");
        assert_eq!(listed, retried.body);
        app.post(&retry, &app.admin_token, json!({}))
            .await
            .assert_error(409, "email_already_pending");

        // Even though its attempts already reach the limit, the retried row gets a new round.
        let accepting = Receiver::start(&python, 0);
        assert!(deliver_once(&app, &accepting).await >= 1);
        let mail = accepting.wait_for("alice@acme.test").await;
        assert!(mail.contains("Thanks for the demo"), "{mail}");
        let sent = delivery_to(&deliveries(&app, &acme.manager.1, "?status=sent").await, "alice@acme.test");
        assert_eq!(sent["attempts"], 2);
        assert_eq!(sent["sent_at"], Timestamp::from(app.clock.now()).to_string());
        app.post(&retry, &app.admin_token, json!({}))
            .await
            .assert_error(409, "email_already_sent");
    }
}
