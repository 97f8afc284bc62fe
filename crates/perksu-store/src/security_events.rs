//! Reading the `security_events` the sign-in throttle writes (see `sign_in_throttle.rs`).

use perksu_domain::access::Actor;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{integer, text, timestamp};
use crate::Store;

pub struct SecurityEventRow {
    pub id: String,
    pub kind: String,
    pub scope: String,
    pub subject: String,
    pub retry_after_seconds: i64,
    pub occurred_at: Timestamp,
}

impl Store {
    /// The newest `limit` (1 to 200) events from `offset` on, for a platform admin.
    pub async fn security_events(
        &self,
        actor: &Actor,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<SecurityEventRow>> {
        actor.require_platform_admin()?;
        let rows = sqlx::query(
            "select id, kind, scope, subject, retry_after_seconds, occurred_at \
             from security_events order by occurred_at desc, id desc limit $1 offset $2",
        )
        .bind(limit.clamp(1, 200))
        .bind(offset.max(0))
        .fetch_all(self.read())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SecurityEventRow {
                    id: text(row, "id")?,
                    kind: text(row, "kind")?,
                    scope: text(row, "scope")?,
                    subject: text(row, "subject")?,
                    retry_after_seconds: integer(row, "retry_after_seconds")?,
                    occurred_at: timestamp(row, "occurred_at")?,
                })
            })
            .collect()
    }
}
