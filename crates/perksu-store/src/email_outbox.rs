//! Email delivery of the notification outbox: the claims (leases) workers take on due rows,
//! what each attempt did, and the list operators read.
//!
//! Delivery is at least once. A worker claims a batch of due rows with a lease of
//! [`EMAIL_LEASE_SECONDS`] before it sends, so two workers (or two servers on one database)
//! never send the same row at the same time; a worker that dies after sending but before
//! recording leaves the row to be claimed and sent again once its lease has run out. The SMTP
//! side lives in the API crate; this module only reads and writes rows.

use chrono::Duration;
use perksu_domain::access::Actor;
use perksu_domain::{Entity, Error};
use sqlx::any::AnyRow;

use crate::alerts::listing_scope;
use crate::audit::{Page, MAX_PAGE_SIZE};
use crate::clock::Timestamp;
use crate::db::Backend;
use crate::error::StoreResult;
use crate::rows::{integer, optional_text, text, timestamp};
use crate::tx::new_id;
use crate::Store;

/// How long a claim keeps other workers off a row: far longer than one SMTP exchange.
pub const EMAIL_LEASE_SECONDS: i64 = 60;
/// The longest wait between two attempts, whatever the base.
const MAX_RETRY_MILLIS: i64 = 3_600_000;
/// The longest error text kept.
const MAX_ERROR_CHARS: usize = 500;

/// How the worker retries: attempts before a row is `dead`, and the first wait (doubled after
/// each further failure).
#[derive(Clone, Copy, Debug)]
pub struct EmailRetryPolicy {
    pub max_attempts: i64,
    pub base: std::time::Duration,
}

impl Default for EmailRetryPolicy {
    fn default() -> EmailRetryPolicy {
        EmailRetryPolicy {
            max_attempts: 8,
            base: std::time::Duration::from_secs(30),
        }
    }
}

impl EmailRetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based): base, 2×base, 4×base...
    pub fn delay_after(&self, attempt: i64) -> Duration {
        let doublings = u32::try_from(attempt.clamp(1, 30) - 1).unwrap_or(0);
        let base = i64::try_from(self.base.as_millis()).unwrap_or(MAX_RETRY_MILLIS);
        Duration::milliseconds(
            base.saturating_mul(1_i64 << doublings)
                .min(MAX_RETRY_MILLIS),
        )
    }
}

/// A row a worker has claimed and must send now, with what the mail is made from.
#[derive(Clone, Debug)]
pub struct EmailDelivery {
    pub outbox_id: String,
    /// Which attempt this is, from 1.
    pub attempt: i64,
    /// The attempts made before an operator's last retry; the give-up limit and the backoff
    /// count only the attempts after it.
    pub attempts_before_retry: i64,
    pub lease_token: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub reference_id: Option<String>,
    pub user_id: String,
    pub recipient: String,
    pub first_name: String,
    pub tenant_name: Option<String>,
    pub currency_label: Option<String>,
    pub created_at: Timestamp,
}

/// One outbox row as operators see it.
#[derive(Clone, Debug)]
pub struct EmailDeliveryRow {
    pub id: String,
    pub tenant_id: Option<String>,
    pub kind: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// When the next attempt is due, while the row is pending.
    pub next_attempt_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl EmailDeliveryRow {
    fn from_row(row: &AnyRow) -> StoreResult<EmailDeliveryRow> {
        let status = text(row, "status")?;
        let next_attempt_at = (status == "pending")
            .then(|| timestamp(row, "next_attempt_at"))
            .transpose()?;
        Ok(EmailDeliveryRow {
            id: text(row, "id")?,
            tenant_id: optional_text(row, "tenant_id")?,
            kind: text(row, "kind")?,
            recipient: text(row, "recipient")?,
            status,
            attempts: integer(row, "attempts")?,
            last_error: optional_text(row, "last_error")?,
            next_attempt_at,
            sent_at: optional_text(row, "sent_at")?.map(Timestamp::from_stored),
            created_at: timestamp(row, "created_at")?,
        })
    }
}

/// Which deliveries to list.
#[derive(Clone, Debug, Default)]
pub struct EmailDeliveryFilter {
    pub tenant_id: Option<String>,
    pub status: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// The statuses a row can have.
pub const EMAIL_STATUSES: [&str; 4] = ["pending", "sent", "failed", "dead"];

const DELIVERY_COLUMNS: &str = "o.id, n.tenant_id, n.kind, u.email as recipient, o.status, \
     o.attempts, o.last_error, o.next_attempt_at, o.sent_at, o.created_at";

impl Store {
    /// Claims up to `limit` due rows not held by a live lease, oldest due first, and counts
    /// the attempt on each. Rows a dying worker left past `policy.max_attempts` are given up
    /// as `dead` here instead of being sent again.
    pub async fn claim_emails(
        &self,
        limit: i64,
        policy: EmailRetryPolicy,
    ) -> StoreResult<Vec<EmailDelivery>> {
        let now = self.now();
        let lease_until =
            Timestamp::from(self.clock_now() + Duration::seconds(EMAIL_LEASE_SECONDS));
        let lease_token = new_id();
        // PostgreSQL: rows another node is claiming are skipped, not waited for. SQLite has one
        // writer, so the conditional update is atomic as it stands.
        let lock = match self.backend() {
            Backend::Postgres => " for update skip locked",
            Backend::Sqlite => "",
        };
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "update notification_outbox set lease_until = $1, lease_token = $2, \
             attempts = attempts + 1, updated_at = $3 where id in (\
             select id from notification_outbox where status = 'pending' \
             and next_attempt_at <= $3 and (lease_until is null or lease_until < $3) \
             order by next_attempt_at, id limit $4{lock})"
        ))
        .bind(lease_until.as_str())
        .bind(&lease_token)
        .bind(now.as_str())
        .bind(limit.clamp(1, 1000))
        .execute(tx.conn())
        .await?;
        let rows = sqlx::query(
            "select o.id, o.attempts, o.attempts_before_retry, n.kind, n.title, n.body, n.reference_id, n.user_id, \
             n.created_at, u.email, u.first_name, t.name as tenant_name, t.currency_label \
             from notification_outbox o join notifications n on n.id = o.notification_id \
             join users u on u.id = n.user_id left join tenants t on t.id = n.tenant_id \
             where o.lease_token = $1 order by o.next_attempt_at, o.id",
        )
        .bind(&lease_token)
        .fetch_all(tx.conn())
        .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let outbox_id = text(row, "id")?;
            let attempt = integer(row, "attempts")?;
            let attempts_before_retry = integer(row, "attempts_before_retry")?;
            if attempt - attempts_before_retry > policy.max_attempts {
                let error = format!("gave up after {} attempts", policy.max_attempts);
                sqlx::query(
                    "update notification_outbox set status = 'dead', lease_until = null, \
                     lease_token = null, last_error = $1, updated_at = $2 where id = $3",
                )
                .bind(&error)
                .bind(now.as_str())
                .bind(&outbox_id)
                .execute(tx.conn())
                .await?;
                continue;
            }
            claimed.push(EmailDelivery {
                outbox_id,
                attempt,
                attempts_before_retry,
                lease_token: lease_token.clone(),
                kind: text(row, "kind")?,
                title: text(row, "title")?,
                body: text(row, "body")?,
                reference_id: optional_text(row, "reference_id")?,
                user_id: text(row, "user_id")?,
                recipient: text(row, "email")?,
                first_name: text(row, "first_name")?,
                tenant_name: optional_text(row, "tenant_name")?,
                currency_label: optional_text(row, "currency_label")?,
                created_at: timestamp(row, "created_at")?,
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records an attempt: `Ok` marks the row sent; an error is kept and the row is due again
    /// after the policy's backoff, or `dead` after its last attempt. Returns `false`, changing
    /// nothing, when the claim was lost (the lease ran out and another worker took the row).
    pub async fn record_email_attempt(
        &self,
        delivery: &EmailDelivery,
        outcome: Result<(), String>,
        policy: EmailRetryPolicy,
    ) -> StoreResult<bool> {
        let now = self.now();
        let (status, error, next_attempt_at) = match &outcome {
            Ok(()) => ("sent", None, now.clone()),
            Err(error) => {
                let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
                let round = delivery.attempt - delivery.attempts_before_retry;
                if round >= policy.max_attempts {
                    ("dead", Some(error), now.clone())
                } else {
                    let due = self.clock_now() + policy.delay_after(round);
                    ("pending", Some(error), Timestamp::from(due))
                }
            }
        };
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "update notification_outbox set status = $1, next_attempt_at = $2, \
             lease_until = null, lease_token = null, \
             last_error = coalesce($3, last_error), sent_at = $4, updated_at = $5 \
             where id = $6 and lease_token = $7",
        )
        .bind(status)
        .bind(next_attempt_at.as_str())
        .bind(error.as_deref())
        .bind(outcome.is_ok().then_some(now.as_str()))
        .bind(now.as_str())
        .bind(&delivery.outbox_id)
        .bind(&delivery.lease_token)
        .execute(tx.conn())
        .await?;
        let recorded = updated.rows_affected() == 1;
        tx.commit().await?;
        Ok(recorded)
    }

    /// How many rows wait for a first or further attempt.
    pub async fn pending_emails(&self) -> StoreResult<i64> {
        let row =
            sqlx::query("select count(*) as n from notification_outbox where status = 'pending'")
                .fetch_one(self.read())
                .await?;
        integer(&row, "n")
    }

    /// The outbox, newest first: a tenant manager's own tenant's rows, any for a platform
    /// admin (or one tenant's with `tenant_id`); optionally of one status.
    pub async fn email_deliveries(
        &self,
        actor: &Actor,
        filter: EmailDeliveryFilter,
    ) -> StoreResult<Page<EmailDeliveryRow>> {
        let tenant = listing_scope(actor, filter.tenant_id)?.unwrap_or_default();
        let status = filter.status.unwrap_or_default();
        let limit = filter.limit.clamp(1, MAX_PAGE_SIZE);
        let offset = filter.offset.max(0);
        let total = sqlx::query(
            "select count(*) as total from notification_outbox o \
             join notifications n on n.id = o.notification_id \
             where ($1 = '' or n.tenant_id = $1) and ($2 = '' or o.status = $2)",
        )
        .bind(&tenant)
        .bind(&status)
        .fetch_one(self.read())
        .await?;
        let rows = sqlx::query(&format!(
            "select {DELIVERY_COLUMNS} from notification_outbox o \
             join notifications n on n.id = o.notification_id join users u on u.id = n.user_id \
             where ($1 = '' or n.tenant_id = $1) and ($2 = '' or o.status = $2) \
             order by o.created_at desc, o.id desc limit $3 offset $4"
        ))
        .bind(&tenant)
        .bind(&status)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.read())
        .await?;
        Ok(Page {
            items: rows
                .iter()
                .map(EmailDeliveryRow::from_row)
                .collect::<StoreResult<_>>()?,
            total: integer(&total, "total")?,
            limit,
            offset,
        })
    }

    /// Puts a `dead` or `failed` row back to pending, due now. Its attempts are kept (they
    /// happened) and it gets a fresh round of them. A tenant manager may retry their own
    /// tenant's rows only; another tenant's row does not exist for them, nor, with `tenant_id`,
    /// a row of any tenant but that one. A sent or pending row is a conflict: there is nothing
    /// to retry.
    pub async fn retry_email(
        &self,
        actor: &Actor,
        tenant_id: Option<String>,
        id: &str,
    ) -> StoreResult<EmailDeliveryRow> {
        let tenant = listing_scope(actor, tenant_id)?.unwrap_or_default();
        let now = self.now();
        let mut tx = self.begin().await?;
        let found = sqlx::query(&format!(
            "select {DELIVERY_COLUMNS} from notification_outbox o \
             join notifications n on n.id = o.notification_id join users u on u.id = n.user_id \
             where o.id = $1 and ($2 = '' or n.tenant_id = $2)"
        ))
        .bind(id)
        .bind(&tenant)
        .fetch_optional(tx.conn())
        .await?;
        let Some(found) = found else {
            return Err(Error::not_found(Entity::EmailDelivery).into());
        };
        if EmailDeliveryRow::from_row(&found)?.status == "sent" {
            return Err(already_sent().into());
        }
        // Conditional, so a row that another request retried (or a worker claimed) meanwhile
        // is refused rather than reset twice.
        let updated = sqlx::query(
            "update notification_outbox set status = 'pending', \
             attempts_before_retry = attempts, next_attempt_at = $1, lease_until = null, \
             lease_token = null, updated_at = $1 where id = $2 and status in ('dead', 'failed')",
        )
        .bind(now.as_str())
        .bind(id)
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() == 0 {
            return Err(Error::conflict(
                "email_already_pending",
                "this email is already waiting to be sent; there is nothing to retry",
            )
            .into());
        }
        let row = sqlx::query(&format!(
            "select {DELIVERY_COLUMNS} from notification_outbox o \
             join notifications n on n.id = o.notification_id join users u on u.id = n.user_id \
             where o.id = $1"
        ))
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
        let row = EmailDeliveryRow::from_row(&row)?;
        tx.commit().await?;
        Ok(row)
    }
}

fn already_sent() -> Error {
    Error::conflict(
        "email_already_sent",
        "this email was sent already; there is nothing to retry",
    )
}
