//! Posting low-balance alerts to tenants' webhooks, from the store's outbox.
//!
//! Each due outbox row is claimed (a lease in the store), posted as JSON
//! `{alert_id, tenant_id, account, balance, threshold, created_at}` with the headers
//! `x-perksu-signature: sha256=<hex HMAC-SHA256 of the body under the tenant's secret>` and
//! `x-perksu-alert-id`, and the attempt is logged. A 2xx answer marks it delivered; anything
//! else is retried with exponential backoff until the store gives up.
//!
//! Delivery is at least once: a server stopped between posting and recording posts the alert
//! again after restarting (once the lease has run out). Receivers must dedupe by alert id,
//! which is the same on every attempt, as is the body.

use std::time::Duration;

use hmac::{Hmac, Mac};
use perksu_store::{AttemptOutcome, Store, WebhookDelivery};
use serde::Serialize;
use sha2::Sha256;

pub use perksu_store::{
    validate_webhook_secret as validate_secret, validate_webhook_url as validate_url,
};

use crate::wire::amount;
use crate::AppState;

/// The signature header, as on provider callbacks: `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-perksu-signature";
/// The alert's id, for receivers to dedupe on without parsing the body.
pub const ALERT_ID_HEADER: &str = "x-perksu-alert-id";
/// How often the background worker looks for due rows.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// The most rows one pass posts; the rest wait for the next pass.
const MAX_ROWS_PER_PASS: i64 = 100;
/// A receiver gets this long to answer; well inside the store's lease.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The body posted for one alert. Amounts are canonical decimal strings, as everywhere else.
#[derive(Serialize)]
struct AlertPayload<'a> {
    alert_id: &'a str,
    tenant_id: &'a str,
    account: &'a str,
    balance: String,
    threshold: String,
    created_at: &'a str,
}

/// Posts due alerts; holds one HTTP client for the worker's lifetime.
pub struct WebhookSender {
    client: reqwest::Client,
}

impl WebhookSender {
    pub fn new() -> Result<WebhookSender, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            // A redirect would post the signed alert somewhere the tenant did not configure.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("perksu-alerts")
            .build()?;
        Ok(WebhookSender { client })
    }

    /// One pass over the outbox: posts every due, unclaimed row once. Returns how many
    /// attempts it made and recorded; a store error ends the pass early (and is logged).
    pub async fn deliver_due(&self, store: &Store) -> usize {
        let due = match store.due_webhooks(MAX_ROWS_PER_PASS).await {
            Ok(due) => due,
            Err(error) => {
                tracing::error!(%error, "reading the webhook outbox failed");
                return 0;
            }
        };
        let mut attempts = 0;
        for outbox_id in due {
            match self.deliver_one(store, &outbox_id).await {
                Ok(true) => attempts += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::error!(%error, outbox_id, "webhook delivery failed to record");
                    break;
                }
            }
        }
        attempts
    }

    /// Claims, posts and records one row; `false` when another worker has it.
    async fn deliver_one(&self, store: &Store, outbox_id: &str) -> perksu_store::StoreResult<bool> {
        let Some(delivery) = store.claim_webhook(outbox_id).await? else {
            return Ok(false);
        };
        let outcome = self.post(&delivery).await;
        if let AttemptOutcome::Delivered { .. } = outcome {
            tracing::info!(alert_id = delivery.alert_id, "alert webhook delivered");
        } else {
            tracing::warn!(
                alert_id = delivery.alert_id,
                attempt = delivery.attempt,
                ?outcome,
                "alert webhook not delivered"
            );
        }
        let recorded = store.record_webhook_attempt(&delivery, &outcome).await?;
        if !recorded {
            tracing::warn!(
                alert_id = delivery.alert_id,
                "lost the claim on an alert webhook while posting it; another worker has it"
            );
        }
        Ok(recorded)
    }

    async fn post(&self, delivery: &WebhookDelivery) -> AttemptOutcome {
        let body = match payload(delivery) {
            Ok(body) => body,
            Err(error) => return AttemptOutcome::Unreachable { error },
        };
        let signature = match sign(delivery.secret.as_bytes(), &body) {
            Ok(signature) => signature,
            Err(error) => return AttemptOutcome::Unreachable { error },
        };
        let sent = self
            .client
            .post(&delivery.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(ALERT_ID_HEADER, &delivery.alert_id)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => AttemptOutcome::Delivered {
                status_code: response.status().as_u16(),
            },
            Ok(response) => AttemptOutcome::Refused {
                status_code: response.status().as_u16(),
            },
            Err(error) => AttemptOutcome::Unreachable {
                // The URL is in the attempt log already; it may carry a token.
                error: error.without_url().to_string(),
            },
        }
    }
}

/// One delivery pass with a fresh client: what the background worker runs, callable from tests
/// instead of waiting for the schedule. Returns how many attempts were made.
pub async fn deliver_due_webhooks(state: &AppState) -> usize {
    match WebhookSender::new() {
        Ok(sender) => sender.deliver_due(&state.store).await,
        Err(error) => {
            tracing::error!(%error, "cannot build the webhook HTTP client");
            0
        }
    }
}

/// Stops the worker it guards when dropped.
pub(crate) struct WorkerGuard(tokio::task::JoinHandle<()>);

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the delivery worker; it runs until the returned guard is dropped.
pub(crate) fn spawn_delivery_worker(store: Store) -> WorkerGuard {
    WorkerGuard(tokio::spawn(run_delivery_worker(store)))
}

/// Runs delivery passes every [`POLL_INTERVAL`], for ever.
async fn run_delivery_worker(store: Store) {
    let sender = match WebhookSender::new() {
        Ok(sender) => sender,
        Err(error) => {
            tracing::error!(%error, "cannot build the webhook HTTP client; alerts stay queued");
            return;
        }
    };
    let mut every_few_seconds = tokio::time::interval(POLL_INTERVAL);
    loop {
        every_few_seconds.tick().await;
        sender.deliver_due(&store).await;
    }
}

fn payload(delivery: &WebhookDelivery) -> Result<String, String> {
    serde_json::to_string(&AlertPayload {
        alert_id: &delivery.alert_id,
        tenant_id: &delivery.tenant_id,
        account: &delivery.account,
        balance: amount(delivery.balance),
        threshold: amount(delivery.threshold),
        created_at: delivery.created_at.as_str(),
    })
    .map_err(|error| format!("cannot encode the alert: {error}"))
}

/// `sha256=<hex HMAC-SHA256 of body under secret>`.
pub fn sign(secret: &[u8], body: &str) -> Result<String, String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .map_err(|error| format!("cannot sign the alert: {error}"))?;
    mac.update(body.as_bytes());
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}
