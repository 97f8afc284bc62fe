//! Idempotency keys: a point-moving request retried with the same key moves points once.
//!
//! The key is claimed by an insert in the same transaction as the movement it guards. On
//! PostgreSQL a concurrent retry's insert waits for the first transaction and then sees its
//! row; on SQLite the single writer orders them. Either way the second request replays the
//! first one's response. A request that failed rolled its claim back with everything else, so
//! its retry runs afresh.

use perksu_domain::Error;

use crate::error::StoreResult;
use crate::rows::{integer, text};
use crate::tx::WriteTx;

/// What a claimed key says about the request.
pub enum Claim {
    /// First use: go ahead, then record the response.
    Fresh,
    /// Seen before with the same request: send this response again.
    Replay { status: u16, body: String },
    /// Seen before with a different request.
    Mismatch,
}

const MAX_KEY_LENGTH: usize = 255;

impl WriteTx {
    pub async fn claim_idempotency_key(
        &mut self,
        user_id: &str,
        key: &str,
        request_hash: &str,
    ) -> StoreResult<Claim> {
        if key.is_empty() || key.len() > MAX_KEY_LENGTH {
            return Err(Error::invalid(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 characters",
            )
            .into());
        }
        let inserted = sqlx::query(
            "insert into idempotency_keys (user_id, idempotency_key, request_hash, \
             response_status, response_body, created_at) values ($1, $2, $3, 0, '', $4) \
             on conflict (user_id, idempotency_key) do nothing",
        )
        .bind(user_id)
        .bind(key)
        .bind(request_hash)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Claim::Fresh);
        }
        let row = sqlx::query(
            "select request_hash, response_status, response_body from idempotency_keys \
             where user_id = $1 and idempotency_key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_one(self.conn())
        .await?;
        if text(&row, "request_hash")? != request_hash {
            return Ok(Claim::Mismatch);
        }
        let status = u16::try_from(integer(&row, "response_status")?).unwrap_or(500);
        Ok(Claim::Replay {
            status,
            body: text(&row, "response_body")?,
        })
    }

    pub async fn record_idempotent_response(
        &mut self,
        user_id: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "update idempotency_keys set response_status = $1, response_body = $2 \
             where user_id = $3 and idempotency_key = $4",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(user_id)
        .bind(key)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
