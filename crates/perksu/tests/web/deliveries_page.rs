//! The platform admin's deliveries page of one tenant: its emails with a status filter and a
//! retry for given-up rows, its fired low-balance alerts and its webhook attempts; behind the
//! admin role and the form token. Rows are made dead by a worker pass against an SMTP port
//! nothing listens on, so no mail server is needed.

use perksu_api::email::{EmailSender, EmailSettings};
use perksu_api::webhooks::deliver_due_webhooks;
use perksu_api::AppState;
use perksu_store::EmailRetryPolicy;
use serde_json::{json, Value};

use crate::backend_tests;

use crate::browser::Browser;
use crate::common::{Company, TestApp, CALLBACK_SECRET};

const ADMIN: &str = "root@platform.test";

fn page_of(company: &Company) -> String {
    format!("/admin/tenants/{}/deliveries", company.tenant_id)
}

/// A loopback address that refuses connections: a port that was just free.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    port
}

/// One worker pass that cannot reach a mail server: every due email fails its only attempt
/// and is given up as dead.
async fn fail_every_due_email(app: &TestApp) {
    let sender = EmailSender::new(EmailSettings {
        smtp_url: format!("smtp://127.0.0.1:{}", closed_port().await),
        mail_from: "Perksu Points <no-reply@perksu.test>".into(),
        public_url: "http://perksu.test".into(),
        retry: EmailRetryPolicy {
            max_attempts: 1,
            base: std::time::Duration::from_millis(10),
        },
        poll_interval: std::time::Duration::from_millis(10),
        invitation_ttl: std::time::Duration::from_secs(3600),
    })
    .expect("the SMTP settings are usable");
    assert!(
        sender.deliver_due(&app.store).await >= 1,
        "no email was attempted"
    );
}

/// The email to `recipient` as the API lists it.
async fn email_to(app: &TestApp, company: &Company, recipient: &str) -> Value {
    let path = format!("/api/email-deliveries?tenant_id={}", company.tenant_id);
    let reply = app.get(&path, &app.admin_token).await;
    reply.assert_status(200);
    let rows = reply.body["items"].as_array().cloned().unwrap_or_default();
    let found: Vec<Value> = rows
        .into_iter()
        .filter(|r| r["recipient"] == recipient)
        .collect();
    assert_eq!(found.len(), 1, "one email to {recipient}: {found:?}");
    found[0].clone()
}

async fn recognise_alice(app: &TestApp, company: &Company) {
    app.post(
        "/api/recognitions",
        &company.manager.1,
        json!({"to_user_id": company.alice.0, "points": 5, "message": "Thanks"}),
    )
    .await
    .assert_status(200);
}

backend_tests! {
    async fn the_deliveries_page_is_the_platform_admins_alone(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        recognise_alice(&app, &company).await;
        fail_every_due_email(&app).await;
        let row = email_to(&app, &company, "alice@acme.test").await;
        let retry = format!("{}/{}/retry", page_of(&company), row["id"].as_str().expect("id"));

        Browser::new(&app).get(&page_of(&company)).await.assert_redirect("/login");
        for (email, home) in [
            ("manager@acme.test", "/manager"),
            ("lead@acme.test", "/lead"),
            ("alice@acme.test", "/me"),
        ] {
            let mut browser = Browser::signed_in(&app, email).await;
            let page = browser.get(&page_of(&company)).await;
            page.assert_status(403).assert_contains("Not allowed");
            assert!(!page.body.contains("alice@acme.test"), "{email} saw the outbox");
            // Even with a valid form token of their own, a retry is refused.
            let token = browser.get(home).await.csrf_token();
            browser.post(&retry, &[("csrf_token", &token)]).await.assert_status(403);
        }
        assert_eq!(email_to(&app, &company, "alice@acme.test").await["status"], "dead");
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        admin
            .get(&format!("/admin/tenants/{}", company.tenant_id))
            .await
            .assert_status(200)
            .assert_contains(&format!("href=\"{}\"", page_of(&company)));
    }

    async fn the_page_lists_emails_by_status_alerts_and_webhook_attempts(app: TestApp) {
        // The default pool threshold is 1000: an award of 1500 from 2000 fires the alert.
        let company = app.company("acme", json!(2000)).await;
        let webhook = format!("http://127.0.0.1:{}/hook", closed_port().await);
        app.patch(
            &format!("/api/tenants/{}", company.tenant_id),
            &company.manager.1,
            json!({"alert_webhook_url": webhook, "alert_webhook_secret": "a-webhook-secret"}),
        )
        .await
        .assert_status(200);
        app.post(
            "/api/v1/points/award-to-user",
            &company.manager.1,
            json!({"to_user_id": company.alice.0, "amount": 1500, "recognition_message": "Launch"}),
        )
        .await
        .assert_status(200);
        let state = AppState::new(app.store.clone(), CALLBACK_SECRET.as_bytes().to_vec());
        assert_eq!(deliver_due_webhooks(&state).await, 1);

        let mut admin = Browser::signed_in(&app, ADMIN).await;
        let page = admin.get(&page_of(&company)).await;
        page.assert_status(200)
            .assert_contains("manager@acme.test")
            .assert_contains("low_balance")
            .assert_contains("500")
            .assert_contains(&webhook)
            .assert_contains("pending");
        assert!(!page.body.contains(">Retry</button>"), "nothing is dead yet: {}", page.body);

        let dead = admin.get(&format!("{}?status=dead", page_of(&company))).await;
        dead.assert_status(200).assert_contains("No emails match.");
        assert!(!dead.body.contains("manager@acme.test</td>"), "{}", dead.body);

        let refused = admin.get(&format!("{}?status=bounced", page_of(&company))).await;
        refused
            .assert_status(400)
            .assert_contains("Status must be one of: pending, sent, failed, dead");
    }

    async fn a_retry_without_a_valid_form_token_changes_nothing(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        recognise_alice(&app, &company).await;
        fail_every_due_email(&app).await;
        let row = email_to(&app, &company, "alice@acme.test").await;
        let retry = format!("{}/{}/retry", page_of(&company), row["id"].as_str().expect("id"));
        let mut admin = Browser::signed_in(&app, ADMIN).await;
        admin.get(&page_of(&company)).await.assert_status(200);
        let mut manager = Browser::signed_in(&app, "manager@acme.test").await;
        let other_session_token = manager.get("/manager").await.csrf_token();
        for token in [None, Some("0".repeat(64)), Some(other_session_token)] {
            let mut fields = vec![("status", "dead")];
            if let Some(token) = token.as_deref() {
                fields.push(("csrf_token", token));
            }
            admin
                .post(&retry, &fields)
                .await
                .assert_status(403)
                .assert_contains("Nothing was changed");
        }
        assert_eq!(email_to(&app, &company, "alice@acme.test").await, row);
    }

    async fn retrying_a_dead_email_on_the_page_queues_it_again_once(app: TestApp) {
        let company = app.company("acme", json!(1000)).await;
        recognise_alice(&app, &company).await;
        fail_every_due_email(&app).await;
        let row = email_to(&app, &company, "alice@acme.test").await;
        assert_eq!(row["status"], "dead");
        let id = row["id"].as_str().expect("id");
        let dead_page = format!("{}?status=dead", page_of(&company));
        let retry = format!("{}/{id}/retry", page_of(&company));

        let mut admin = Browser::signed_in(&app, ADMIN).await;
        let page = admin.get(&dead_page).await;
        page.assert_status(200)
            .assert_contains("alice@acme.test")
            .assert_contains(&format!("action=\"{retry}\""));
        admin
            .submit(&dead_page, &retry, &[("status", "dead")])
            .await
            .assert_redirect(&dead_page);
        admin
            .get(&dead_page)
            .await
            .assert_contains("The email to alice@acme.test is queued again");
        let retried = email_to(&app, &company, "alice@acme.test").await;
        assert_eq!(retried["status"], "pending");
        assert_eq!(retried["attempts"], 1);

        // The same button sent again finds nothing to retry, and says so beside the table.
        let token = admin.get(&page_of(&company)).await.csrf_token();
        admin
            .post(&retry, &[("status", ""), ("csrf_token", &token)])
            .await
            .assert_status(409)
            .assert_contains("already waiting to be sent")
            .assert_contains("emails-error");
        assert_eq!(email_to(&app, &company, "alice@acme.test").await, retried);
    }
}
