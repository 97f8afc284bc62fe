//! Logins and bearer-token sessions (passwords are hashed in `passwords.rs`).
//!
//! A token is 32 random bytes shown to the client once; the database keeps only its SHA-256.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use perksu_domain::{Error, ErrorKind, UserStatus};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::sign_in_throttle::Throttled;
use crate::users::{UserRow, INVITED_PASSWORD_HASH, USER_COLUMNS};
use crate::Store;

/// How long a login lasts.
pub const SESSION_LIFETIME_HOURS: i64 = 12;

/// A successful login.
pub struct Login {
    pub access_token: String,
    pub expires_at: Timestamp,
    pub user: UserRow,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A hash to verify against when the email is unknown, so a wrong email costs as much time
/// as a wrong password and does not reveal which accounts exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0CVZwMMnbtWZEmoZh9Yc1MmQBmx2vV1QXrdVf8mWYq8";

impl Store {
    /// Signs in `email` with `password`, attempted from `address` (when the HTTP layer knows
    /// it). Throttled attempts are refused before any password is hashed.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> StoreResult<Login> {
        let email = email.trim().to_lowercase();
        if let Err(throttled) = self.inner.sign_ins.attempt(&email, address) {
            return Err(self.refuse_throttled(throttled).await);
        }
        let sql = format!("select {USER_COLUMNS}, password_hash from users where email = $1");
        let row = sqlx::query(&sql)
            .bind(&email)
            .fetch_optional(self.read())
            .await?;
        let stored_hash = match &row {
            Some(row) => crate::rows::text(row, "password_hash")?,
            None => DUMMY_HASH.to_owned(),
        };
        // An invited user has no password yet: they are checked against the dummy hash, at
        // the same cost as an unknown email, and refused whatever the password.
        let invited = stored_hash == INVITED_PASSWORD_HASH;
        let checked_hash = if invited {
            DUMMY_HASH.to_owned()
        } else {
            stored_hash
        };
        let matches = self.passwords().verify(checked_hash, password).await? && !invited;
        let refused = || {
            StoreError::from(Error::new(
                ErrorKind::Unauthenticated,
                "invalid_credentials",
                "Incorrect email or password",
            ))
        };
        let Some(row) = row.filter(|_| matches) else {
            return Err(refused());
        };
        let user = UserRow::from_row(&row)?;
        if user.status != UserStatus::Active {
            return Err(refused());
        }
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let access_token = hex::encode(bytes);
        let now: DateTime<Utc> = self.clock_now();
        let expires_at = Timestamp::from(now + Duration::hours(SESSION_LIFETIME_HOURS));
        sqlx::query(
            "insert into sessions (token_hash, user_id, created_at, expires_at) \
             values ($1, $2, $3, $4)",
        )
        .bind(token_hash(&access_token))
        .bind(&user.id)
        .bind(Timestamp::from(now).as_str().to_owned())
        .bind(expires_at.as_str().to_owned())
        .execute(self.write_pool())
        .await?;
        Ok(Login {
            access_token,
            expires_at,
            user,
        })
    }

    /// The active user a live token belongs to, or `None`.
    pub async fn authenticate(&self, token: &str) -> StoreResult<Option<UserRow>> {
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "select {columns} from sessions s join users u on u.id = s.user_id \
             where s.token_hash = $1 and s.expires_at > $2 and u.status = 'active'"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash(token))
            .bind(self.now().as_str().to_owned())
            .fetch_optional(self.read())
            .await?;
        row.as_ref().map(UserRow::from_row).transpose()
    }

    pub async fn logout(&self, token: &str) -> StoreResult<()> {
        sqlx::query("delete from sessions where token_hash = $1")
            .bind(token_hash(token))
            .execute(self.write_pool())
            .await?;
        Ok(())
    }
}

impl Store {
    /// The 429 for a throttled sign-in, after writing its `security_events` row when it opens
    /// an episode. A failed write is logged and the attempt refused all the same.
    pub(crate) async fn refuse_throttled(&self, throttled: Throttled) -> StoreError {
        if throttled.first_of_episode {
            let written = sqlx::query(
                "insert into security_events (id, kind, scope, subject, retry_after_seconds, \
                 occurred_at) values ($1, 'login_throttled', $2, $3, $4, $5)",
            )
            .bind(crate::tx::new_id())
            .bind(throttled.scope.as_str())
            .bind(&throttled.subject)
            .bind(i64::try_from(throttled.retry_after_seconds).unwrap_or(i64::MAX))
            .bind(Timestamp::from(self.clock_now()).as_str().to_owned())
            .execute(self.write_pool())
            .await;
            if let Err(error) = written {
                tracing::warn!(%error, "could not record a throttled sign-in");
            }
            tracing::warn!(
                scope = throttled.scope.as_str(),
                retry_after_seconds = throttled.retry_after_seconds,
                "sign-ins throttled"
            );
        }
        let seconds = throttled.retry_after_seconds;
        StoreError::from(Error::new(
            ErrorKind::TooManyRequests {
                retry_after_seconds: seconds,
            },
            "too_many_login_attempts",
            format!("Too many sign-in attempts; try again in {seconds} seconds"),
        ))
    }
}
