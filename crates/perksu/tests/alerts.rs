//! Low-balance alerts, black-box: pool and lead crossings, notifications, and the signed
//! webhook with its retries and its recovery after a server stops mid-delivery. Webhook
//! deliveries are driven by calling the delivery pass directly and stepping the injected
//! clock, never by waiting for the scheduler.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Duration;
use common::{Company, TestApp, CALLBACK_SECRET};
use hmac::{Hmac, Mac};
use perksu_api::webhooks::deliver_due_webhooks;
use perksu_api::AppState;
use perksu_store::{retry_delay_seconds, AttemptOutcome, Clock, Store, MAX_WEBHOOK_ATTEMPTS};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::sync::mpsc;

const WEBHOOK_SECRET: &str = "a-tenant-webhook-secret";

// ---- a webhook receiver on 127.0.0.1:0 that records what it is sent ----

#[derive(Clone, Debug)]
struct Received {
    alert_id: Option<String>,
    signature: Option<String>,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the webhook body is JSON")
    }
}

/// How the receiver answers the next requests.
#[derive(Default)]
struct Script {
    /// Statuses for the next requests, in order; 200 once they run out.
    statuses: VecDeque<u16>,
    /// Take requests and never answer them (a server that stops mid-delivery).
    hold: bool,
}

#[derive(Clone)]
struct ReceiverState {
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
    arrived: mpsc::UnboundedSender<()>,
}

struct Receiver {
    url: String,
    state: ReceiverState,
    arrived: mpsc::UnboundedReceiver<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Receiver {
        let (arrived_tx, arrived) = mpsc::unbounded_channel();
        let state = ReceiverState {
            received: Arc::default(),
            script: Arc::default(),
            arrived: arrived_tx,
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let address = listener.local_addr().expect("receiver address");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serves");
        });
        Receiver {
            url: format!("http://{address}/hook"),
            state,
            arrived,
            server,
        }
    }

    fn answer_next(&self, statuses: &[u16]) {
        let mut script = self.state.script.lock().expect("script");
        script.statuses = statuses.iter().copied().collect();
    }

    fn hold(&self, hold: bool) {
        self.state.script.lock().expect("script").hold = hold;
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("received").clone()
    }

    /// How many requests each alert id got.
    fn per_alert(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for request in self.received() {
            *counts
                .entry(request.alert_id.unwrap_or_default())
                .or_insert(0) += 1;
        }
        counts
    }

    fn stop(self) {
        self.server.abort();
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    state.received.lock().expect("received").push(Received {
        alert_id: header("x-perksu-alert-id"),
        signature: header("x-perksu-signature"),
        body: body.to_vec(),
    });
    let (hold, status) = {
        let mut script = state.script.lock().expect("script");
        (script.hold, script.statuses.pop_front().unwrap_or(200))
    };
    let _ = state.arrived.send(());
    if hold {
        std::future::pending::<()>().await;
    }
    StatusCode::from_u16(status).expect("a status code")
}

/// Checks `sha256=<hex>` against an HMAC-SHA256 of the body made here, with the secret.
fn signature_is_valid(received: &Received, secret: &str) -> bool {
    let Some(hex_digest) = received
        .signature
        .as_deref()
        .and_then(|s| s.strip_prefix("sha256="))
    else {
        return false;
    };
    let Ok(given) = hex::decode(hex_digest) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(&received.body);
    mac.verify_slice(&given).is_ok()
}

// ---- helpers over the API ----

impl TestApp {
    fn alert_state(&self) -> AppState {
        AppState::new(self.store.clone(), CALLBACK_SECRET.as_bytes().to_vec())
    }

    fn advance_clock(&self, seconds: i64) {
        self.clock
            .set(self.clock.now() + Duration::seconds(seconds));
    }

    async fn alerts(&self, token: &str) -> Value {
        let reply = self.get("/api/v1/points/alerts", token).await;
        reply.assert_status(200);
        reply.body
    }

    async fn deliveries(&self, token: &str) -> Value {
        let reply = self.get("/api/v1/points/webhook-deliveries", token).await;
        reply.assert_status(200);
        reply.body
    }

    /// The caller's `low_balance` notifications.
    async fn low_balance_notices(&self, token: &str) -> Vec<Value> {
        let reply = self.get("/api/notifications", token).await;
        reply.assert_status(200);
        reply.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|n| n["kind"] == "low_balance")
            .cloned()
            .collect()
    }

    async fn award(&self, token: &str, to_user_id: &str, amount: Value) -> Value {
        let reply = self
            .post(
                "/api/v1/points/award-to-user",
                token,
                json!({
                    "to_user_id": to_user_id, "amount": amount,
                    "recognition_message": "Thanks",
                }),
            )
            .await;
        reply.assert_status(200);
        reply.body
    }

    async fn delegate(&self, manager: &str, lead_id: &str, amount: Value) {
        self.post(
            "/api/v1/points/delegate-to-lead",
            manager,
            json!({"lead_id": lead_id, "amount": amount}),
        )
        .await
        .assert_status(200);
    }

    async fn set_tenant(&self, token: &str, tenant_id: &str, patch: Value) -> Value {
        let reply = self
            .patch(&format!("/api/tenants/{tenant_id}"), token, patch)
            .await;
        reply.assert_status(200);
        reply.body
    }

    async fn configure_webhook(&self, company: &Company, url: &str) {
        self.set_tenant(
            &company.manager.1,
            &company.tenant_id,
            json!({"alert_webhook_url": url, "alert_webhook_secret": WEBHOOK_SECRET}),
        )
        .await;
    }
}

backend_tests! {
    async fn a_pool_crossing_below_its_threshold_fires_one_alert_and_notifies_every_manager(app: TestApp) {
        // The default pool threshold is 1000.
        let company = app.company("crossing", json!(2000)).await;
        let (_, manager) = &company.manager;
        let (_, second_manager) = app
            .create_user(&company.tenant_id, "second@crossing.test", "tenant_manager")
            .await;
        let (alice_id, _) = &company.alice;

        app.award(manager, alice_id, json!(500)).await;
        assert_eq!(
            app.alerts(manager).await["total"],
            0,
            "1500 is not below 1000"
        );

        app.award(manager, alice_id, json!(600)).await;
        let alerts = app.alerts(manager).await;
        assert_eq!(alerts["total"], 1);
        let alert = &alerts["items"][0];
        assert_eq!(alert["account"], format!("pool:{}", company.tenant_id));
        assert_eq!(alert["account_kind"], "pool");
        assert_eq!(alert["balance"], "900");
        assert_eq!(alert["threshold"], "1000");
        assert_eq!(
            alert["webhook_status"],
            Value::Null,
            "no webhook is configured"
        );

        app.award(manager, alice_id, json!(100)).await;
        assert_eq!(
            app.alerts(manager).await["total"],
            1,
            "a second spend below the threshold does not fire again"
        );

        for token in [manager, &second_manager] {
            let notices = app.low_balance_notices(token).await;
            assert_eq!(
                notices.len(),
                1,
                "each manager gets one notification: {notices:?}"
            );
            assert_eq!(notices[0]["reference_id"], alert["id"]);
            assert!(notices[0]["body"].as_str().unwrap_or("").contains("900"));
        }
        assert!(app.low_balance_notices(&company.lead.1).await.is_empty());
        assert!(app.low_balance_notices(&company.alice.1).await.is_empty());
        app.assert_ledger_consistent().await;
    }

    async fn topping_the_pool_back_up_to_its_threshold_rearms_the_alert(app: TestApp) {
        let company = app.company("rearm", json!(1500)).await;
        let (_, manager) = &company.manager;
        let (alice_id, _) = &company.alice;
        app.award(manager, alice_id, json!(700)).await;
        assert_eq!(app.alerts(manager).await["total"], 1);

        // 800 + 150 is still below 1000: not recovered, not re-armed.
        app.allocate(&company.tenant_id, json!(150))
            .await
            .assert_status(200);
        app.award(manager, alice_id, json!(50)).await;
        assert_eq!(app.alerts(manager).await["total"], 1);

        // Back to exactly the threshold re-arms; the next crossing fires a second alert.
        app.allocate(&company.tenant_id, json!(100))
            .await
            .assert_status(200);
        assert_eq!(app.pool_balance(manager).await, "1000");
        assert_eq!(
            app.alerts(manager).await["total"],
            1,
            "recovering fires nothing"
        );
        app.award(manager, alice_id, json!("0.01")).await;
        let alerts = app.alerts(manager).await;
        assert_eq!(alerts["total"], 2);
        assert_eq!(alerts["items"][0]["balance"], "999.99", "newest first");
        assert_ne!(alerts["items"][0]["id"], alerts["items"][1]["id"]);
        assert_eq!(app.low_balance_notices(manager).await.len(), 2);
        app.assert_ledger_consistent().await;
    }

    async fn a_changed_pool_threshold_rearms_and_fires_on_its_next_crossing(app: TestApp) {
        let company = app.company("threshold", json!(1500)).await;
        let (_, manager) = &company.manager;
        let (alice_id, _) = &company.alice;
        app.award(manager, alice_id, json!(600)).await;
        assert_eq!(app.alerts(manager).await["total"], 1);
        // 900 left; a lower threshold of 500 starts armed and fires when 900 drops below it.
        app.set_tenant(
            manager,
            &company.tenant_id,
            json!({"low_balance_threshold": 500}),
        )
        .await;
        app.award(manager, alice_id, json!(300)).await;
        assert_eq!(app.alerts(manager).await["total"], 1, "600 is above 500");
        app.award(manager, alice_id, json!(200)).await;
        let alerts = app.alerts(manager).await;
        assert_eq!(alerts["total"], 2);
        assert_eq!(alerts["items"][0]["threshold"], "500");
        assert_eq!(alerts["items"][0]["balance"], "400");
        app.assert_ledger_consistent().await;
    }

    async fn a_lead_balance_crossing_below_the_lead_threshold_alerts_the_managers_and_the_lead(app: TestApp) {
        let company = app.company("leads", json!(10000)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        let (alice_id, _) = &company.alice;
        let tenant = app
            .set_tenant(
                manager,
                &company.tenant_id,
                json!({"lead_low_balance_threshold": 300}),
            )
            .await;
        assert_eq!(tenant["lead_low_balance_threshold"], "300");
        app.delegate(manager, lead_id, json!(1000)).await;

        app.award(lead, alice_id, json!(600)).await;
        assert_eq!(app.alerts(manager).await["total"], 0, "400 is above 300");
        app.award(lead, alice_id, json!(200)).await;
        let alerts = app.alerts(manager).await;
        assert_eq!(alerts["total"], 1);
        let alert = &alerts["items"][0];
        assert_eq!(alert["account"], format!("lead:{lead_id}"));
        assert_eq!(alert["account_kind"], "lead");
        assert_eq!(alert["lead_id"].as_str(), Some(lead_id.as_str()));
        assert_eq!(alert["balance"], "200");
        assert_eq!(alert["threshold"], "300");
        app.award(lead, alice_id, json!(50)).await;
        assert_eq!(
            app.alerts(manager).await["total"],
            1,
            "no second alert below the threshold"
        );

        let manager_notices = app.low_balance_notices(manager).await;
        let lead_notices = app.low_balance_notices(lead).await;
        assert_eq!(manager_notices.len(), 1);
        assert_eq!(lead_notices.len(), 1, "the lead is told too");
        assert_eq!(lead_notices[0]["reference_id"], alert["id"]);
        assert!(app.low_balance_notices(&company.alice.1).await.is_empty());

        // 150 + 200 = 350 re-arms; spending to 250 fires again.
        app.delegate(manager, lead_id, json!(200)).await;
        app.award(lead, alice_id, json!(100)).await;
        let alerts = app.alerts(manager).await;
        assert_eq!(alerts["total"], 2);
        assert_eq!(alerts["items"][0]["balance"], "250");
        assert_eq!(app.low_balance_notices(lead).await.len(), 2);
        app.assert_ledger_consistent().await;
    }

    async fn lead_alerts_stay_off_while_the_lead_threshold_is_null(app: TestApp) {
        let company = app.company("quiet", json!(10000)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        let (alice_id, _) = &company.alice;
        let tenant = app
            .get(&format!("/api/tenants/{}", company.tenant_id), manager)
            .await;
        assert_eq!(tenant.body["lead_low_balance_threshold"], Value::Null);

        app.delegate(manager, lead_id, json!(500)).await;
        app.award(lead, alice_id, json!(500)).await;
        assert_eq!(app.alerts(manager).await["total"], 0);

        // Set, then switched off again with null.
        app.set_tenant(
            manager,
            &company.tenant_id,
            json!({"lead_low_balance_threshold": 100}),
        )
        .await;
        let tenant = app
            .set_tenant(
                manager,
                &company.tenant_id,
                json!({"lead_low_balance_threshold": null}),
            )
            .await;
        assert_eq!(tenant["lead_low_balance_threshold"], Value::Null);
        app.delegate(manager, lead_id, json!(500)).await;
        app.award(lead, alice_id, json!(450)).await;
        assert_eq!(app.alerts(manager).await["total"], 0);
        app.assert_ledger_consistent().await;
    }

    async fn webhook_settings_are_validated_and_the_secret_is_never_returned(app: TestApp) {
        let company = app.company("settings", json!(0)).await;
        let (_, manager) = &company.manager;
        let path = format!("/api/tenants/{}", company.tenant_id);

        app.patch(
            &path,
            manager,
            json!({"alert_webhook_url": "http://127.0.0.1:9/hook"}),
        )
        .await
        .assert_error(400, "alert_webhook_secret_required");
        app.patch(
            &path,
            manager,
            json!({
                "alert_webhook_url": "ftp://127.0.0.1/hook",
                "alert_webhook_secret": WEBHOOK_SECRET,
            }),
        )
        .await
        .assert_error(400, "invalid_webhook_url");
        app.patch(
            &path,
            manager,
            json!({
                "alert_webhook_url": "http://127.0.0.1:9/hook",
                "alert_webhook_secret": "short",
            }),
        )
        .await
        .assert_error(400, "invalid_webhook_secret");
        app.patch(
            &path,
            &company.alice.1,
            json!({
                "alert_webhook_url": "http://127.0.0.1:9/hook",
                "alert_webhook_secret": WEBHOOK_SECRET,
            }),
        )
        .await
        .assert_error(403, "forbidden");

        let tenant = app
            .set_tenant(
                manager,
                &company.tenant_id,
                json!({
                    "alert_webhook_url": "http://127.0.0.1:9/hook",
                    "alert_webhook_secret": WEBHOOK_SECRET,
                }),
            )
            .await;
        assert_eq!(tenant["alert_webhook_url"], "http://127.0.0.1:9/hook");
        assert_eq!(tenant["alert_webhook_secret_set"], true);
        for body in [tenant, app.get(&path, &app.admin_token).await.body] {
            assert!(
                !body.to_string().contains(WEBHOOK_SECRET),
                "the secret leaked: {body}"
            );
        }

        // Removing the URL keeps the secret; the admin may change both too.
        let tenant = app
            .set_tenant(
                &app.admin_token,
                &company.tenant_id,
                json!({"alert_webhook_url": null}),
            )
            .await;
        assert_eq!(tenant["alert_webhook_url"], Value::Null);
        assert_eq!(tenant["alert_webhook_secret_set"], true);
    }

    async fn alert_listings_belong_to_the_tenant_managers_and_the_platform_admin(app: TestApp) {
        let company = app.company("listing", json!(1500)).await;
        let other = app.company("elsewhere", json!(0)).await;
        let (_, manager) = &company.manager;
        app.award(manager, &company.alice.0, json!(600)).await;

        app.get("/api/v1/points/alerts", &company.lead.1)
            .await
            .assert_error(403, "forbidden");
        app.get("/api/v1/points/webhook-deliveries", &company.alice.1)
            .await
            .assert_error(403, "forbidden");
        assert_eq!(
            app.alerts(&other.manager.1).await["total"],
            0,
            "another tenant's alerts"
        );
        app.get(
            &format!("/api/v1/points/alerts?tenant_id={}", company.tenant_id),
            &other.manager.1,
        )
        .await
        .assert_status(404);
        assert_eq!(app.alerts(&app.admin_token).await["total"], 1);
        let filtered = app
            .get(
                &format!("/api/v1/points/alerts?tenant_id={}", other.tenant_id),
                &app.admin_token,
            )
            .await;
        assert_eq!(filtered.body["total"], 0);
    }

    async fn an_alert_is_posted_to_the_webhook_signed_with_the_tenant_secret(app: TestApp) {
        let receiver = Receiver::start().await;
        let company = app.company("signed", json!(1500)).await;
        let (_, manager) = &company.manager;
        app.configure_webhook(&company, &receiver.url).await;
        app.award(manager, &company.alice.0, json!(600)).await;
        let alert = app.alerts(manager).await["items"][0].clone();
        assert_eq!(alert["webhook_status"], "pending");

        let state = app.alert_state();
        assert_eq!(deliver_due_webhooks(&state).await, 1);
        let received = receiver.received();
        assert_eq!(received.len(), 1);
        let request = &received[0];
        assert!(
            signature_is_valid(request, WEBHOOK_SECRET),
            "bad signature: {request:?}"
        );
        assert!(!signature_is_valid(request, "another-secret-entirely"));
        assert_eq!(request.alert_id.as_deref(), alert["id"].as_str());
        assert_eq!(
            request.json(),
            json!({
                "alert_id": alert["id"], "tenant_id": company.tenant_id,
                "account": format!("pool:{}", company.tenant_id), "balance": "900",
                "threshold": "1000", "created_at": alert["created_at"],
            })
        );

        let log = app.deliveries(manager).await;
        assert_eq!(log["total"], 1);
        assert_eq!(log["items"][0]["status_code"], 200);
        assert_eq!(log["items"][0]["attempt"], 1);
        assert_eq!(log["items"][0]["delivery_status"], "delivered");
        assert_eq!(log["items"][0]["url"], receiver.url.as_str());
        assert_eq!(
            app.alerts(manager).await["items"][0]["webhook_status"],
            "delivered"
        );

        app.advance_clock(3600);
        assert_eq!(
            deliver_due_webhooks(&state).await,
            0,
            "a delivered alert is not sent again"
        );
        assert_eq!(receiver.received().len(), 1);
        receiver.stop();
        app.assert_ledger_consistent().await;
    }

    async fn a_failing_receiver_gets_retries_with_exponential_backoff_and_each_attempt_is_logged(app: TestApp) {
        let receiver = Receiver::start().await;
        receiver.answer_next(&[503, 500]);
        let company = app.company("backoff", json!(1500)).await;
        let (_, manager) = &company.manager;
        app.configure_webhook(&company, &receiver.url).await;
        app.award(manager, &company.alice.0, json!(600)).await;
        let state = app.alert_state();

        assert_eq!(deliver_due_webhooks(&state).await, 1, "first attempt");
        assert_eq!(
            deliver_due_webhooks(&state).await,
            0,
            "not due again at once"
        );
        app.advance_clock(29);
        assert_eq!(
            deliver_due_webhooks(&state).await,
            0,
            "the first retry waits 30 s"
        );
        app.advance_clock(1);
        assert_eq!(deliver_due_webhooks(&state).await, 1, "second attempt");
        app.advance_clock(59);
        assert_eq!(
            deliver_due_webhooks(&state).await,
            0,
            "the second retry waits 60 s"
        );
        app.advance_clock(1);
        assert_eq!(deliver_due_webhooks(&state).await, 1, "third attempt");
        app.advance_clock(3600);
        assert_eq!(deliver_due_webhooks(&state).await, 0, "delivered: done");

        let received = receiver.received();
        assert_eq!(received.len(), 3);
        assert!(received
            .iter()
            .all(|r| signature_is_valid(r, WEBHOOK_SECRET)));
        assert!(
            received.iter().all(|r| r.body == received[0].body),
            "the same body each time"
        );
        assert_eq!(receiver.per_alert().len(), 1, "one alert id throughout");

        let log = app.deliveries(manager).await;
        assert_eq!(log["total"], 3);
        // Newest first.
        let attempts: Vec<(i64, Value)> = log["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|a| (a["attempt"].as_i64().unwrap_or(0), a["status_code"].clone()))
            .collect();
        assert_eq!(
            attempts,
            vec![(3, json!(200)), (2, json!(500)), (1, json!(503))]
        );
        assert!(log["items"][2]["error"]
            .as_str()
            .unwrap_or("")
            .contains("503"));
        assert_eq!(log["items"][0]["error"], Value::Null);
        assert!(log["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|a| a["delivery_status"] == "delivered"));
        receiver.stop();
        app.assert_ledger_consistent().await;
    }

    async fn a_receiver_that_never_accepts_is_given_up_after_the_last_attempt(app: TestApp) {
        let receiver = Receiver::start().await;
        receiver.answer_next(&[500; 20]);
        let company = app.company("giveup", json!(1500)).await;
        let (_, manager) = &company.manager;
        app.configure_webhook(&company, &receiver.url).await;
        app.award(manager, &company.alice.0, json!(600)).await;
        let state = app.alert_state();
        for attempt in 1..=MAX_WEBHOOK_ATTEMPTS {
            assert_eq!(deliver_due_webhooks(&state).await, 1, "attempt {attempt}");
            app.advance_clock(retry_delay_seconds(attempt));
        }
        app.advance_clock(3600);
        assert_eq!(deliver_due_webhooks(&state).await, 0, "given up");
        let log = app.deliveries(manager).await;
        assert_eq!(log["total"], MAX_WEBHOOK_ATTEMPTS);
        assert_eq!(log["items"][0]["delivery_status"], "failed");
        assert_eq!(log["items"][0]["next_attempt_at"], Value::Null);
        assert_eq!(
            app.alerts(manager).await["items"][0]["webhook_status"],
            "failed"
        );
        assert_eq!(receiver.received().len() as i64, MAX_WEBHOOK_ATTEMPTS);
        receiver.stop();
    }

    async fn an_unreachable_receiver_is_logged_with_the_error_and_retried(app: TestApp) {
        // Bound and closed again: nothing listens there any more.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", closed.local_addr().expect("address"));
        drop(closed);
        let company = app.company("unreachable", json!(1500)).await;
        let (_, manager) = &company.manager;
        app.configure_webhook(&company, &url).await;
        app.award(manager, &company.alice.0, json!(600)).await;
        assert_eq!(deliver_due_webhooks(&app.alert_state()).await, 1);
        let log = app.deliveries(manager).await;
        assert_eq!(log["items"][0]["status_code"], Value::Null);
        assert!(log["items"][0]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()));
        assert_eq!(log["items"][0]["delivery_status"], "pending");
        assert!(log["items"][0]["next_attempt_at"].is_string());
    }

    async fn two_workers_never_hold_the_same_outbox_row_and_a_stale_claim_records_nothing(app: TestApp) {
        let company = app.company("leases", json!(1500)).await;
        app.configure_webhook(&company, "http://127.0.0.1:9/hook")
            .await;
        app.award(&company.manager.1, &company.alice.0, json!(600))
            .await;
        let due = app.store.due_webhooks(10).await.expect("due rows");
        assert_eq!(due.len(), 1);

        let first = app
            .store
            .claim_webhook(&due[0])
            .await
            .expect("claim")
            .expect("claimed");
        assert!(
            app.store
                .claim_webhook(&due[0])
                .await
                .expect("claim")
                .is_none(),
            "leased"
        );
        assert!(app
            .store
            .due_webhooks(10)
            .await
            .expect("due rows")
            .is_empty());

        // The first worker stalls past its lease; a second one takes the row over.
        app.advance_clock(perksu_store::LEASE_SECONDS + 1);
        let second = app
            .store
            .claim_webhook(&due[0])
            .await
            .expect("claim")
            .expect("taken over");
        assert_eq!(second.attempt, first.attempt + 1);
        let delivered = AttemptOutcome::Delivered { status_code: 200 };
        assert!(
            !app.store
                .record_webhook_attempt(&first, &delivered)
                .await
                .expect("record"),
            "the stale claim records nothing"
        );
        assert!(app
            .store
            .record_webhook_attempt(&second, &delivered)
            .await
            .expect("record"));
        let log = app.deliveries(&company.manager.1).await;
        assert_eq!(log["total"], 1);
        assert_eq!(log["items"][0]["attempt"], 2);
    }

    async fn a_server_stopped_mid_delivery_resumes_from_the_outbox_and_delivers_each_alert_once(app: TestApp) {
        let mut receiver = Receiver::start().await;
        let company = app.company("restart", json!(10000)).await;
        let (_, manager) = &company.manager;
        let (lead_id, lead) = &company.lead;
        app.configure_webhook(&company, &receiver.url).await;
        app.set_tenant(
            manager,
            &company.tenant_id,
            json!({"lead_low_balance_threshold": 300}),
        )
        .await;
        app.delegate(manager, lead_id, json!(500)).await;
        app.award(lead, &company.alice.0, json!(300)).await; // lead alert
        app.award(manager, &company.alice.0, json!(9000)).await; // pool alert
        let alerts = app.alerts(manager).await;
        assert_eq!(alerts["total"], 2);
        let alert_ids: Vec<String> = alerts["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_owned())
            .collect();

        // The first server posts one alert and is stopped before the receiver answers.
        receiver.hold(true);
        let first_server = app.alert_state();
        let delivery = tokio::spawn(async move { deliver_due_webhooks(&first_server).await });
        receiver
            .arrived
            .recv()
            .await
            .expect("the first post arrives");
        delivery.abort();
        assert!(delivery.await.expect_err("stopped").is_cancelled());
        receiver.hold(false);

        // A new server over the same database: the held row stays leased, the other goes out.
        let store = Store::open(&app.database_url, app.clock.clone())
            .await
            .expect("reopen");
        let second_server = AppState::new(store.clone(), CALLBACK_SECRET.as_bytes().to_vec());
        assert_eq!(
            deliver_due_webhooks(&second_server).await,
            1,
            "only the unclaimed row"
        );
        assert_eq!(
            deliver_due_webhooks(&second_server).await,
            0,
            "the claimed row is leased"
        );

        // Once the lease runs out the interrupted row is posted again and recorded.
        app.advance_clock(perksu_store::LEASE_SECONDS + 1);
        assert_eq!(
            deliver_due_webhooks(&second_server).await,
            1,
            "the interrupted row"
        );
        app.advance_clock(3600);
        assert_eq!(
            deliver_due_webhooks(&second_server).await,
            0,
            "nothing left"
        );

        let per_alert = receiver.per_alert();
        let mut sent: Vec<&String> = per_alert.keys().collect();
        sent.sort();
        let mut expected: Vec<&String> = alert_ids.iter().collect();
        expected.sort();
        assert_eq!(sent, expected, "every alert reached the receiver");
        assert_eq!(
            per_alert.values().sum::<usize>(),
            3,
            "one interrupted post was repeated"
        );

        let log = app.deliveries(manager).await;
        assert_eq!(log["total"], 2, "the interrupted post was never recorded");
        for alert_id in &alert_ids {
            let rows: Vec<&Value> = log["items"]
                .as_array()
                .expect("items")
                .iter()
                .filter(|a| a["alert_id"] == alert_id.as_str())
                .collect();
            assert_eq!(rows.len(), 1, "alert {alert_id} recorded once: {log}");
            assert_eq!(rows[0]["status_code"], 200);
            assert_eq!(rows[0]["delivery_status"], "delivered");
        }
        let alerts = app.alerts(manager).await;
        assert!(alerts["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|a| a["webhook_status"] == "delivered"));
        store.close().await;
        receiver.stop();
        app.assert_ledger_consistent().await;
    }
}
