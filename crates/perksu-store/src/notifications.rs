//! In-app notifications, each with a `notification_outbox` row for the delivery channels
//! beyond the app (email, chat), written in the transaction that causes it.

use perksu_domain::access::Actor;
use perksu_domain::{Entity, Error};
use sqlx::any::AnyRow;

use crate::batch::{values_list, ROWS_PER_STATEMENT};
use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{integer, optional_text, text, timestamp};
use crate::tx::{new_id, WriteTx};
use crate::Store;

#[derive(Clone, Debug)]
pub struct NotificationRow {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub reference_id: Option<String>,
    pub read_at: Option<String>,
    pub created_at: Timestamp,
}

impl NotificationRow {
    fn from_row(row: &AnyRow) -> StoreResult<NotificationRow> {
        Ok(NotificationRow {
            id: text(row, "id")?,
            kind: text(row, "kind")?,
            title: text(row, "title")?,
            body: text(row, "body")?,
            reference_id: optional_text(row, "reference_id")?,
            read_at: optional_text(row, "read_at")?,
            created_at: timestamp(row, "created_at")?,
        })
    }
}

/// The kind of the notification that invites a new user to set a password. Its outbox row is
/// what the email sender delivers, with a set-password link it issues when it renders the mail.
pub const INVITATION_NOTIFICATION: &str = "invitation";

/// The invitation's title and body for a tenant called `tenant_name`.
fn invitation_text(tenant_name: &str) -> (String, String) {
    (
        format!("You're invited to {tenant_name}"),
        format!(
            "An account has been made for you at {tenant_name}. Follow the link in the \
             invitation email to set a password, then sign in. The link expires, so use it soon."
        ),
    )
}

/// A notification to write in the same transaction as what caused it.
pub(crate) struct Notice<'a> {
    pub tenant_id: Option<&'a str>,
    pub user_id: &'a str,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub reference_id: Option<&'a str>,
}

impl WriteTx {
    /// Writes the notification and its `notification_outbox` row (channel `email`, pending),
    /// the hand-off to a delivery channel, in the caller's transaction.
    pub(crate) async fn notify(&mut self, notice: Notice<'_>) -> StoreResult<()> {
        let id = new_id();
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into notifications (id, tenant_id, user_id, kind, title, body, reference_id, \
             read_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, null, $8)",
        )
        .bind(&id)
        .bind(notice.tenant_id)
        .bind(notice.user_id)
        .bind(notice.kind)
        .bind(notice.title)
        .bind(notice.body)
        .bind(notice.reference_id)
        .bind(&now)
        .execute(self.conn())
        .await?;
        sqlx::query(
            "insert into notification_outbox (id, notification_id, channel, status, attempts, \
             created_at, updated_at, next_attempt_at) \
             values ($1, $2, 'email', 'pending', 0, $3, $3, $3)",
        )
        .bind(new_id())
        .bind(&id)
        .bind(&now)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Queues the invitation of a new user of `tenant_id`: a notification of kind
    /// [`INVITATION_NOTIFICATION`] naming the user (`reference_id`), with its outbox row.
    pub async fn invite(&mut self, tenant_id: &str, user_id: &str) -> StoreResult<()> {
        let tenant = self.tenant(tenant_id).await?;
        let (title, body) = invitation_text(&tenant.name);
        self.notify(Notice {
            tenant_id: Some(tenant_id),
            user_id,
            kind: INVITATION_NOTIFICATION,
            title: &title,
            body: &body,
            reference_id: Some(user_id),
        })
        .await
    }

    /// [`WriteTx::invite`] for many users of one tenant, many rows per statement: the same
    /// notifications and outbox rows, for an import.
    pub(crate) async fn invite_all(
        &mut self,
        tenant_id: &str,
        tenant_name: &str,
        user_ids: &[&str],
    ) -> StoreResult<()> {
        let (title, body) = invitation_text(tenant_name);
        let now = self.now().as_str().to_owned();
        for chunk in user_ids.chunks(ROWS_PER_STATEMENT) {
            let ids: Vec<String> = chunk.iter().map(|_| new_id()).collect();
            let sql = format!(
                "insert into notifications (id, tenant_id, user_id, kind, title, body, \
                 reference_id, read_at, created_at) values {}",
                values_list("(?, ?, ?, ?, ?, ?, ?, null, ?)", chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for (id, user_id) in ids.iter().zip(chunk) {
                query = query
                    .bind(id.as_str())
                    .bind(tenant_id)
                    .bind(*user_id)
                    .bind(INVITATION_NOTIFICATION)
                    .bind(title.as_str())
                    .bind(body.as_str())
                    .bind(*user_id)
                    .bind(now.as_str());
            }
            query.execute(self.conn()).await?;
            let sql = format!(
                "insert into notification_outbox (id, notification_id, channel, status, \
                 attempts, created_at, updated_at, next_attempt_at) values {}",
                values_list("(?, ?, 'email', 'pending', 0, ?, ?, ?)", chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in &ids {
                query = query
                    .bind(new_id())
                    .bind(id.as_str())
                    .bind(now.as_str())
                    .bind(now.as_str())
                    .bind(now.as_str());
            }
            query.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// Marks the caller's notifications read: one, or all when `id` is `None`.
    pub async fn mark_notifications_read(
        &mut self,
        actor: &Actor,
        id: Option<&str>,
    ) -> StoreResult<u64> {
        let now = self.now().as_str().to_owned();
        let result = sqlx::query(
            "update notifications set read_at = $1 where user_id = $2 and read_at is null \
             and ($3 = '' or id = $3)",
        )
        .bind(now)
        .bind(&actor.user_id)
        .bind(id.unwrap_or(""))
        .execute(self.conn())
        .await?;
        if let (Some(id), 0) = (id, result.rows_affected()) {
            // Nothing marked: already read, or not the caller's (another user's or tenant's
            // notifications do not exist for them).
            let own = sqlx::query("select id from notifications where id = $1 and user_id = $2")
                .bind(id)
                .bind(&actor.user_id)
                .fetch_optional(self.conn())
                .await?;
            if own.is_none() {
                return Err(Error::not_found(Entity::Notification).into());
            }
        }
        Ok(result.rows_affected())
    }
}

impl Store {
    /// How many of the caller's notifications are unread.
    pub async fn unread_notifications(&self, actor: &Actor) -> StoreResult<i64> {
        let row = sqlx::query(
            "select count(*) as n from notifications where user_id = $1 and read_at is null",
        )
        .bind(&actor.user_id)
        .fetch_one(self.read())
        .await?;
        integer(&row, "n")
    }

    /// The caller's notifications, newest first, and how many are unread.
    pub async fn notifications(
        &self,
        actor: &Actor,
        limit: i64,
    ) -> StoreResult<(Vec<NotificationRow>, i64)> {
        let rows = sqlx::query(
            "select id, kind, title, body, reference_id, read_at, created_at from notifications \
             where user_id = $1 order by created_at desc, id desc limit $2",
        )
        .bind(&actor.user_id)
        .bind(limit.clamp(1, 200))
        .fetch_all(self.read())
        .await?;
        let unread = sqlx::query(
            "select count(*) as n from notifications where user_id = $1 and read_at is null",
        )
        .bind(&actor.user_id)
        .fetch_one(self.read())
        .await?;
        let items = rows
            .iter()
            .map(NotificationRow::from_row)
            .collect::<StoreResult<_>>()?;
        Ok((items, integer(&unread, "n")?))
    }
}
