//! The storage layer's error: a domain refusal, or a failure of the database itself.

use perksu_domain::{Error, ErrorKind};

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
    /// The refusal to send the client, when the error is one a client can act on: a write
    /// refused by a named constraint it caused (the database enforces uniqueness; we never
    /// pre-check it racily), or a database that is out of reach for the moment.
    pub fn as_refusal(&self) -> Option<Error> {
        if self.is_unavailable() {
            tracing::warn!(error = %self, "database unavailable: answering 503");
            return Some(Error::new(
                ErrorKind::Unavailable,
                "database_unavailable",
                "The database is not reachable at the moment; try again shortly",
            ));
        }
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

impl StoreError {
    /// Whether the database itself is out of reach (its connection lost, the server shutting
    /// down or refusing connections, no connection free in time), as opposed to a query it
    /// refused. The transaction of the request rolled back or never began; whether a `COMMIT`
    /// that lost its connection took effect is unknown, which is why clients retry with the
    /// same idempotency key.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(error) => sqlx_error_is_unavailable(error),
            StoreError::Migration(sqlx::migrate::MigrateError::Execute(error)) => {
                sqlx_error_is_unavailable(error)
            }
            _ => false,
        }
    }
}

fn sqlx_error_is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's class 08 (connection exception), 57P01..57P03 (administrator command,
        // crash shutdown, cannot connect now) and 53300 (too many connections).
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_unavailable_and_a_refused_query_is_not() {
        let lost = StoreError::Database(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset",
        )));
        assert!(lost.is_unavailable());
        let refusal = lost.as_refusal().expect("a refusal");
        assert_eq!(refusal.kind, ErrorKind::Unavailable);
        assert_eq!(refusal.code, "database_unavailable");
        assert!(StoreError::Database(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::Corrupt("x".into()).is_unavailable());
    }
}
