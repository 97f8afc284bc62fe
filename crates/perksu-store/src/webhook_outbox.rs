//! The webhook outbox: alerts waiting to be posted to their tenant's webhook, the claims
//! (leases) workers take on them, and the log of every attempt.
//!
//! Delivery is at least once. A worker claims a row (a lease of [`LEASE_SECONDS`]) before it
//! posts, so two workers never post the same row at the same time; a worker that dies after
//! posting but before recording leaves the row to be posted again once the lease runs out.
//! Receivers dedupe by alert id. The HTTP side lives in the API crate; this module only reads
//! and writes rows.

use chrono::Duration;
use perksu_domain::access::Actor;
use perksu_domain::Points;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::alerts::{listing_scope, AlertFilter};
use crate::audit::{Page, MAX_PAGE_SIZE};
use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{integer, optional_text, points, text, timestamp};
use crate::tx::new_id;
use crate::Store;

/// How long a claim keeps other workers off a row: far longer than one post may take.
pub const LEASE_SECONDS: i64 = 30;
/// Attempts before a row is given up as `failed`.
pub const MAX_WEBHOOK_ATTEMPTS: i64 = 8;
/// The wait after the first failed attempt; it doubles after each further failure.
pub const FIRST_RETRY_SECONDS: i64 = 30;
/// The longest wait between two attempts.
pub const MAX_RETRY_SECONDS: i64 = 3600;
/// The longest error text kept per attempt.
const MAX_ERROR_CHARS: usize = 500;

/// A row a worker has claimed and must post now: the alert, where to, and with which key.
#[derive(Clone, Debug)]
pub struct WebhookDelivery {
    pub outbox_id: String,
    /// Which attempt this is, from 1.
    pub attempt: i64,
    pub lease_token: String,
    pub url: String,
    /// The tenant's signing key, for the HMAC only; never logged or returned.
    pub secret: String,
    pub alert_id: String,
    pub tenant_id: String,
    pub account: String,
    pub balance: Points,
    pub threshold: Points,
    pub created_at: Timestamp,
}

/// What the receiver made of one attempt.
#[derive(Clone, Debug)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Delivered { status_code: u16 },
    /// Any other answer.
    Refused { status_code: u16 },
    /// No answer: connection refused, timeout, invalid URL...
    Unreachable { error: String },
}

/// One logged attempt.
#[derive(Clone, Debug)]
pub struct WebhookAttemptRow {
    pub id: String,
    pub outbox_id: String,
    pub alert_id: String,
    pub tenant_id: String,
    pub attempt: i64,
    pub url: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub attempted_at: Timestamp,
    /// Where the alert's delivery stands now: `pending`, `delivered` or `failed`.
    pub delivery_status: String,
    /// When the next attempt is due, while the delivery is pending.
    pub next_attempt_at: Option<Timestamp>,
}

impl WebhookAttemptRow {
    fn from_row(row: &AnyRow) -> StoreResult<WebhookAttemptRow> {
        let delivery_status = text(row, "delivery_status")?;
        let next_attempt_at = (delivery_status == "pending")
            .then(|| timestamp(row, "next_attempt_at"))
            .transpose()?;
        Ok(WebhookAttemptRow {
            id: text(row, "id")?,
            outbox_id: text(row, "outbox_id")?,
            alert_id: text(row, "alert_id")?,
            tenant_id: text(row, "tenant_id")?,
            attempt: integer(row, "attempt")?,
            url: text(row, "url")?,
            status_code: row.try_get::<Option<i64>, _>("status_code")?,
            error: optional_text(row, "error")?,
            attempted_at: timestamp(row, "created_at")?,
            delivery_status,
            next_attempt_at,
        })
    }
}

/// The wait before the attempt after failed attempt number `attempt` (1-based).
pub fn retry_delay_seconds(attempt: i64) -> i64 {
    let doublings = u32::try_from(attempt.clamp(1, 20) - 1).unwrap_or(0);
    FIRST_RETRY_SECONDS
        .saturating_mul(1_i64 << doublings)
        .min(MAX_RETRY_SECONDS)
}

impl Store {
    /// Rows due for an attempt and not claimed by a live lease, oldest due first.
    pub async fn due_webhooks(&self, limit: i64) -> StoreResult<Vec<String>> {
        let now = self.now();
        let rows = sqlx::query(
            "select id from webhook_outbox where status = 'pending' and next_attempt_at <= $1 \
             and (lease_until is null or lease_until < $1) \
             order by next_attempt_at, id limit $2",
        )
        .bind(now.as_str())
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.read())
        .await?;
        rows.iter().map(|row| text(row, "id")).collect()
    }

    /// Claims one due row for [`LEASE_SECONDS`] and counts the attempt. `None` when another
    /// worker holds it, it is no longer due, or it was given up (too many attempts, or the
    /// tenant removed its webhook).
    pub async fn claim_webhook(&self, outbox_id: &str) -> StoreResult<Option<WebhookDelivery>> {
        let now = self.now();
        let lease_until = Timestamp::from(self.clock_now() + Duration::seconds(LEASE_SECONDS));
        let lease_token = new_id();
        let mut tx = self.begin().await?;
        let claimed = sqlx::query(
            "update webhook_outbox set lease_until = $1, lease_token = $2, \
             attempts = attempts + 1, updated_at = $3 \
             where id = $4 and status = 'pending' and next_attempt_at <= $3 \
             and (lease_until is null or lease_until < $3)",
        )
        .bind(lease_until.as_str())
        .bind(&lease_token)
        .bind(now.as_str())
        .bind(outbox_id)
        .execute(tx.conn())
        .await?;
        if claimed.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let row = sqlx::query(
            "select o.attempts, a.id as alert_id, a.tenant_id, a.account, a.balance, \
             a.threshold, a.created_at, t.alert_webhook_url, t.alert_webhook_secret \
             from webhook_outbox o join alerts a on a.id = o.alert_id \
             join tenants t on t.id = a.tenant_id where o.id = $1",
        )
        .bind(outbox_id)
        .fetch_one(tx.conn())
        .await?;
        let attempt = integer(&row, "attempts")?;
        let url = optional_text(&row, "alert_webhook_url")?;
        let secret = optional_text(&row, "alert_webhook_secret")?;
        let (url, secret) = match (url, secret) {
            (Some(url), Some(secret)) if attempt <= MAX_WEBHOOK_ATTEMPTS => (url, secret),
            (Some(_), Some(_)) => {
                // Only a worker that died after claiming, again and again, gets here.
                let error = format!("gave up after {MAX_WEBHOOK_ATTEMPTS} attempts");
                give_up(&mut tx, outbox_id, &error, now.as_str()).await?;
                tx.commit().await?;
                return Ok(None);
            }
            _ => {
                let error = "the tenant no longer has an alert webhook";
                give_up(&mut tx, outbox_id, error, now.as_str()).await?;
                tx.commit().await?;
                return Ok(None);
            }
        };
        let delivery = WebhookDelivery {
            outbox_id: outbox_id.to_owned(),
            attempt,
            lease_token,
            url,
            secret,
            alert_id: text(&row, "alert_id")?,
            tenant_id: text(&row, "tenant_id")?,
            account: text(&row, "account")?,
            balance: points(&row, "balance")?,
            threshold: points(&row, "threshold")?,
            created_at: timestamp(&row, "created_at")?,
        };
        tx.commit().await?;
        Ok(Some(delivery))
    }

    /// Logs an attempt and moves the row on: delivered, retried later with backoff, or given
    /// up after [`MAX_WEBHOOK_ATTEMPTS`]. Returns `false`, recording nothing, when the claim
    /// was lost (the lease ran out and another worker took the row over).
    pub async fn record_webhook_attempt(
        &self,
        delivery: &WebhookDelivery,
        outcome: &AttemptOutcome,
    ) -> StoreResult<bool> {
        let now = self.now();
        let (status_code, error) = match outcome {
            AttemptOutcome::Delivered { status_code } => (Some(i64::from(*status_code)), None),
            AttemptOutcome::Refused { status_code } => (
                Some(i64::from(*status_code)),
                Some(format!("the receiver answered {status_code}")),
            ),
            AttemptOutcome::Unreachable { error } => {
                (None, Some(error.chars().take(MAX_ERROR_CHARS).collect()))
            }
        };
        let delivered = matches!(outcome, AttemptOutcome::Delivered { .. });
        let status = if delivered {
            "delivered"
        } else if delivery.attempt >= MAX_WEBHOOK_ATTEMPTS {
            "failed"
        } else {
            "pending"
        };
        let next_attempt_at = if status == "pending" {
            let delay = Duration::seconds(retry_delay_seconds(delivery.attempt));
            Timestamp::from(self.clock_now() + delay)
        } else {
            now.clone()
        };
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "update webhook_outbox set status = $1, next_attempt_at = $2, lease_until = null, \
             lease_token = null, last_error = $3, delivered_at = $4, updated_at = $5 \
             where id = $6 and lease_token = $7",
        )
        .bind(status)
        .bind(next_attempt_at.as_str())
        .bind(error.as_deref())
        .bind(delivered.then_some(now.as_str()))
        .bind(now.as_str())
        .bind(&delivery.outbox_id)
        .bind(&delivery.lease_token)
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "insert into webhook_delivery_attempts (id, outbox_id, alert_id, tenant_id, attempt, \
             url, status_code, error, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(&delivery.outbox_id)
        .bind(&delivery.alert_id)
        .bind(&delivery.tenant_id)
        .bind(delivery.attempt)
        .bind(&delivery.url)
        .bind(status_code)
        .bind(error.as_deref())
        .bind(now.as_str())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The delivery log, newest first: a tenant manager's own tenant's, any for a platform
    /// admin; optionally one alert's.
    pub async fn webhook_attempts(
        &self,
        actor: &Actor,
        filter: AlertFilter,
    ) -> StoreResult<Page<WebhookAttemptRow>> {
        let tenant = listing_scope(actor, filter.tenant_id)?.unwrap_or_default();
        let alert = filter.alert_id.unwrap_or_default();
        let limit = filter.limit.clamp(1, MAX_PAGE_SIZE);
        let offset = filter.offset.max(0);
        let total = sqlx::query(
            "select count(*) as total from webhook_delivery_attempts \
             where ($1 = '' or tenant_id = $1) and ($2 = '' or alert_id = $2)",
        )
        .bind(&tenant)
        .bind(&alert)
        .fetch_one(self.read())
        .await?;
        let rows = sqlx::query(
            "select d.id, d.outbox_id, d.alert_id, d.tenant_id, d.attempt, d.url, \
             d.status_code, d.error, d.created_at, o.status as delivery_status, \
             o.next_attempt_at \
             from webhook_delivery_attempts d join webhook_outbox o on o.id = d.outbox_id \
             where ($1 = '' or d.tenant_id = $1) and ($2 = '' or d.alert_id = $2) \
             order by d.created_at desc, d.attempt desc, d.id desc limit $3 offset $4",
        )
        .bind(&tenant)
        .bind(&alert)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.read())
        .await?;
        Ok(Page {
            items: rows
                .iter()
                .map(WebhookAttemptRow::from_row)
                .collect::<StoreResult<_>>()?,
            total: integer(&total, "total")?,
            limit,
            offset,
        })
    }
}

/// Marks a claimed row `failed` without an attempt.
async fn give_up(
    tx: &mut crate::WriteTx,
    outbox_id: &str,
    error: &str,
    now: &str,
) -> StoreResult<()> {
    sqlx::query(
        "update webhook_outbox set status = 'failed', lease_until = null, lease_token = null, \
         last_error = $1, updated_at = $2 where id = $3",
    )
    .bind(error)
    .bind(now)
    .bind(outbox_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}
