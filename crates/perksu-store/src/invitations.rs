//! Invitations: the set-password links mailed to users who were created without a password
//! (an import), and their use.
//!
//! A token is 32 random bytes shown only in the mail; the `invitations` table keeps its
//! SHA-256 and an expiry. Each send of an invitation mail issues a fresh token and deletes the
//! user's unused ones, so only the newest mail's link works: a retried or repeated send never
//! leaves several live links to one account. Using a token marks it used and sets the
//! password in one transaction, and only while the user is still waiting for a first password.

use std::net::IpAddr;

use chrono::Duration;
use perksu_domain::{validate, Error, UserStatus};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{optional_text, text, timestamp};
use crate::tx::new_id;
use crate::users::INVITED_PASSWORD_HASH;
use crate::Store;

/// How long an invitation link works when the server is not told otherwise.
pub const DEFAULT_INVITATION_TTL_HOURS: i64 = 72;

/// A token just issued, to be put in the mail, and when it stops working.
#[derive(Clone, Debug)]
pub struct IssuedInvitation {
    pub token: String,
    pub expires_at: Timestamp,
}

/// Whom a live token belongs to, for the set-password page.
#[derive(Clone, Debug)]
pub struct InvitedUser {
    pub user_id: String,
    pub email: String,
    pub first_name: String,
    pub tenant_name: Option<String>,
    pub expires_at: Timestamp,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The refusal for a token that is unknown, used, replaced by a newer one, or whose user no
/// longer waits for a first password. One answer for all, so it says nothing about accounts.
pub fn invitation_invalid() -> Error {
    Error::invalid(
        "invitation_invalid",
        "This invitation link is not valid: it has been used already, a newer invitation \
         replaced it, or it never existed. Use the link in your latest invitation email, or \
         ask your manager to invite you again.",
    )
}

/// The refusal for a token past its expiry.
pub fn invitation_expired(expires_at: &Timestamp) -> Error {
    Error::invalid(
        "invitation_expired",
        format!(
            "This invitation link expired at {}. Ask your manager to send you a new \
             invitation.",
            readable_instant(expires_at)
        ),
    )
}

/// `2026-12-10 23:47 UTC`, the way mails and pages name an instant.
pub fn readable_instant(at: &Timestamp) -> String {
    chrono::DateTime::parse_from_rfc3339(at.as_str())
        .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| at.to_string())
}

impl Store {
    /// Issues a fresh token for `user_id`, valid for `ttl`, replacing the user's unused ones.
    /// `None` when the user is no longer waiting for a first password (or is deactivated):
    /// there is nothing left to invite them to.
    pub async fn issue_invitation(
        &self,
        user_id: &str,
        ttl: Duration,
    ) -> StoreResult<Option<IssuedInvitation>> {
        let mut tx = self.begin().await?;
        let user = sqlx::query("select password_hash, status from users where id = $1")
            .bind(user_id)
            .fetch_optional(tx.conn())
            .await?;
        let waiting = match &user {
            Some(row) => {
                text(row, "password_hash")? == INVITED_PASSWORD_HASH
                    && text(row, "status")? == UserStatus::Active.as_str()
            }
            None => false,
        };
        if !waiting {
            tx.rollback().await?;
            return Ok(None);
        }
        let now = tx.now().clone();
        let expires_at = Timestamp::from(self.clock_now() + ttl);
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        sqlx::query("delete from invitations where user_id = $1 and used_at is null")
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "insert into invitations (id, user_id, token_hash, expires_at, used_at, created_at) \
             values ($1, $2, $3, $4, null, $5)",
        )
        .bind(new_id())
        .bind(user_id)
        .bind(token_hash(&token))
        .bind(expires_at.as_str())
        .bind(now.as_str())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(Some(IssuedInvitation { token, expires_at }))
    }

    /// The user a token invites, or the refusal that says why it cannot be used.
    pub async fn invitation(&self, token: &str) -> StoreResult<InvitedUser> {
        let row = sqlx::query(
            "select i.expires_at, i.used_at, u.id, u.email, u.first_name, u.password_hash, \
             u.status, t.name as tenant_name from invitations i \
             join users u on u.id = i.user_id left join tenants t on t.id = u.tenant_id \
             where i.token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(self.read())
        .await?;
        let Some(row) = row else {
            return Err(invitation_invalid().into());
        };
        let waiting = optional_text(&row, "used_at")?.is_none()
            && text(&row, "password_hash")? == INVITED_PASSWORD_HASH
            && text(&row, "status")? == UserStatus::Active.as_str();
        if !waiting {
            return Err(invitation_invalid().into());
        }
        let expires_at = timestamp(&row, "expires_at")?;
        if expires_at <= self.now() {
            return Err(invitation_expired(&expires_at).into());
        }
        Ok(InvitedUser {
            user_id: text(&row, "id")?,
            email: text(&row, "email")?,
            first_name: text(&row, "first_name")?,
            tenant_name: optional_text(&row, "tenant_name")?,
            expires_at,
        })
    }

    /// Sets the first password of the user `token` invites and uses the token up, attempted
    /// from `address`. Throttled like sign-in (per address) before anything is read; the token
    /// and the password rule are checked before the password is hashed. Nothing changes on
    /// any refusal.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> StoreResult<()> {
        if let Err(throttled) = self.inner.sign_ins.attempt_address(address) {
            return Err(self.refuse_throttled(throttled).await);
        }
        self.invitation(token).await?;
        validate::password(password)?;
        let hash = self.hash_password(password).await?;
        let mut tx = self.begin().await?;
        let now = tx.now().clone();
        // Conditional updates: of two requests racing with one token, one sets the password.
        let used = sqlx::query(
            "update invitations set used_at = $1 \
             where token_hash = $2 and used_at is null and expires_at > $1 returning user_id",
        )
        .bind(now.as_str())
        .bind(token_hash(token))
        .fetch_optional(tx.conn())
        .await?;
        let Some(used) = used else {
            tx.rollback().await?;
            // Used or expired since the check above: say which.
            self.invitation(token).await?;
            return Err(invitation_invalid().into());
        };
        let user_id = text(&used, "user_id")?;
        let set = sqlx::query(
            "update users set password_hash = $1, updated_at = $2 \
             where id = $3 and password_hash = $4 and status = 'active'",
        )
        .bind(hash.as_str())
        .bind(now.as_str())
        .bind(&user_id)
        .bind(INVITED_PASSWORD_HASH)
        .execute(tx.conn())
        .await?;
        if set.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(invitation_invalid().into());
        }
        sqlx::query("delete from invitations where user_id = $1 and used_at is null")
            .bind(&user_id)
            .execute(tx.conn())
            .await?;
        tx.commit().await
    }
}
