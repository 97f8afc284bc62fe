//! The points economy's domain core: amounts, roles, accounts and the rules between them.
//!
//! Architecture invariant: nothing here knows about HTTP, SQL or JSON. Types here do not
//! derive `Serialize`; the HTTP layer owns the wire format.

pub mod access;
pub mod account;
pub mod ecards;
pub mod error;
pub mod expiry;
pub mod points;
pub mod recognition;
pub mod reversal;
pub mod rewards;
pub mod roles;
pub mod stats;
pub mod validate;

pub use account::{Account, MovementKind};
pub use error::{AmountError, Entity, Error, ErrorKind};
pub use points::Points;
pub use roles::{FundingMode, Role, TenantStatus, UserStatus};
