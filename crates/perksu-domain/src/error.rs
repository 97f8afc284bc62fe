//! The domain's errors: what went wrong, in words a client can act on, and of which kind.
//!
//! The HTTP layer turns an [`ErrorKind`] into a status code and sends `detail` and `code`
//! unchanged, so every message here is written for the person who made the request.

use std::fmt;

use crate::points::Points;

/// Why a piece of text is not an acceptable amount of points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be a decimal number such as 100 or 12.5")]
    NotANumber,
    #[error("may have at most two decimals")]
    TooPrecise,
    #[error("is larger than the largest amount, 9999999999999.99")]
    TooLarge,
    #[error("must be greater than zero")]
    NotPositive,
    #[error("must not be negative")]
    Negative,
}

/// What kind of failure an [`Error`] is; the HTTP layer maps each to one status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule (400).
    Invalid,
    /// No valid credentials (401).
    Unauthenticated,
    /// Authenticated, but not allowed (403).
    Forbidden,
    /// The thing does not exist, or belongs to another tenant (404).
    NotFound,
    /// The request conflicts with the current state (409).
    Conflict,
    /// The server cannot take the request now; the client may retry shortly (503).
    Unavailable,
    /// Too many attempts; the client may try again after this many seconds (429).
    TooManyRequests { retry_after_seconds: u64 },
}

/// A refusal with a stable machine `code` and a human `detail`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub detail: String,
}

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str, detail: impl Into<String>) -> Error {
        Error {
            kind,
            code,
            detail: detail.into(),
        }
    }

    pub fn invalid(code: &'static str, detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Forbidden, "forbidden", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, code, detail)
    }

    pub fn unauthenticated() -> Error {
        Error::new(
            ErrorKind::Unauthenticated,
            "unauthenticated",
            "A valid bearer token is required",
        )
    }

    /// `Tenant not found`, `User not found`, ... with code `tenant_not_found`, ...
    pub fn not_found(what: Entity) -> Error {
        Error::new(
            ErrorKind::NotFound,
            what.not_found_code(),
            format!("{} not found", what.name()),
        )
    }

    /// An amount field that failed to parse.
    pub fn amount(field: &str, error: AmountError) -> Error {
        Error::invalid("invalid_amount", format!("{field} {error}"))
    }

    /// The spec's refusal when a recognition would spend more than the tenant's pool holds.
    pub fn insufficient_company_pool(available: Points, required: Points) -> Error {
        Error::invalid(
            "insufficient_allocation_pool",
            format!(
                "Insufficient company allocation pool. Available: {available}, Required: {required}"
            ),
        )
    }

    /// The spec's refusal when a direct award or delegation exceeds the pool.
    pub fn insufficient_pool(available: Points, required: Points) -> Error {
        Error::invalid(
            "insufficient_allocation_pool",
            format!("Insufficient allocation pool. Available: {available}, Required: {required}"),
        )
    }

    /// The refusal when a delegation to a lead exceeds the pool.
    pub fn insufficient_allocation_balance(available: Points, required: Points) -> Error {
        Error::invalid(
            "insufficient_allocation_pool",
            format!(
                "Insufficient allocation balance. Available: {available}, Required: {required}"
            ),
        )
    }

    pub fn insufficient_lead_balance(available: Points, required: Points) -> Error {
        Error::invalid(
            "insufficient_lead_balance",
            format!(
                "Insufficient lead distribution balance. Available: {available}, Required: {required}"
            ),
        )
    }

    pub fn insufficient_wallet(available: Points, required: Points) -> Error {
        Error::invalid(
            "insufficient_wallet_balance",
            format!("Insufficient wallet balance. Available: {available}, Required: {required}"),
        )
    }

    pub fn balance_overflow() -> Error {
        Error::invalid(
            "balance_too_large",
            "The receiving balance would exceed the largest amount, 9999999999999.99",
        )
    }

    pub fn tenant_suspended() -> Error {
        Error::new(
            ErrorKind::Forbidden,
            "tenant_suspended",
            "This tenant is suspended: its users cannot move points",
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.detail, self.code)
    }
}

impl std::error::Error for Error {}

/// The things a request can name by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    Tenant,
    User,
    Lead,
    Department,
    Recognition,
    AllocationLog,
    Reward,
    Redemption,
    Budget,
    Badge,
    Notification,
    EmailDelivery,
}

impl Entity {
    fn name(self) -> &'static str {
        match self {
            Entity::Tenant => "Tenant",
            Entity::User => "User",
            Entity::Lead => "Lead",
            Entity::Department => "Department",
            Entity::Recognition => "Recognition",
            Entity::AllocationLog => "Allocation log",
            Entity::Reward => "Reward",
            Entity::Redemption => "Redemption",
            Entity::Budget => "Budget",
            Entity::Badge => "Badge",
            Entity::Notification => "Notification",
            Entity::EmailDelivery => "Email delivery",
        }
    }

    fn not_found_code(self) -> &'static str {
        match self {
            Entity::Tenant => "tenant_not_found",
            Entity::User => "user_not_found",
            Entity::Lead => "lead_not_found",
            Entity::Department => "department_not_found",
            Entity::Recognition => "recognition_not_found",
            Entity::AllocationLog => "allocation_log_not_found",
            Entity::Reward => "reward_not_found",
            Entity::Redemption => "redemption_not_found",
            Entity::Budget => "budget_not_found",
            Entity::Badge => "badge_not_found",
            Entity::Notification => "notification_not_found",
            Entity::EmailDelivery => "email_delivery_not_found",
        }
    }
}
