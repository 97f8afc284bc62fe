//! The storage layer's error: a domain refusal, or a failure of the database itself.

use perksu_domain::Error;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule refused the request; nothing was changed.
    #[error(transparent)]
    Domain(#[from] Error),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Stored data that breaks an invariant the code relies on: a bug, never the client's fault.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl StoreError {
    /// The name of the database constraint that refused a write, when that is what happened.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            StoreError::Database(sqlx::Error::Database(error)) => error
                .constraint()
                .or_else(|| constraint_from_sqlite_message(error.message())),
            _ => None,
        }
    }
}

/// SQLite does not report a constraint's name separately; it is in the message, as in
/// `CHECK constraint failed: positive_points_allocation_balance` or
/// `UNIQUE constraint failed: users.email`.
fn constraint_from_sqlite_message(message: &str) -> Option<&str> {
    message
        .split_once("constraint failed: ")
        .map(|(_, rest)| rest.trim())
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// A write refused by a named constraint that a client can cause, as the refusal to send.
    /// The database enforces uniqueness; we never pre-check it racily.
    pub fn as_refusal(&self) -> Option<Error> {
        let constraint = self.constraint()?;
        let refusal = match constraint {
            "tenants_slug_key" | "tenants.slug" => {
                Error::conflict("slug_taken", "A tenant with this slug already exists")
            }
            "users_email_key" | "users.email" => {
                Error::conflict("email_taken", "A user with this email already exists")
            }
            "departments_tenant_name_key" | "departments.tenant_id, departments.name" => {
                Error::conflict(
                    "department_exists",
                    "A department with this name already exists",
                )
            }
            _ => return None,
        };
        Some(refusal)
    }
}
