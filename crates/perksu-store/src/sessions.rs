//! Logins and bearer-token sessions (passwords are hashed in `passwords.rs`).
//!
//! A token is 32 random bytes shown to the client once; the database keeps only its SHA-256.

use chrono::{DateTime, Duration, Utc};
use perksu_domain::{Error, ErrorKind, UserStatus};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::users::{UserRow, USER_COLUMNS};
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
    pub async fn login(&self, email: &str, password: &str) -> StoreResult<Login> {
        let email = email.trim().to_lowercase();
        let sql = format!("select {USER_COLUMNS}, password_hash from users where email = $1");
        let row = sqlx::query(&sql)
            .bind(&email)
            .fetch_optional(self.read())
            .await?;
        let stored_hash = match &row {
            Some(row) => crate::rows::text(row, "password_hash")?,
            None => DUMMY_HASH.to_owned(),
        };
        let matches = self.passwords().verify(stored_hash, password).await?;
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
