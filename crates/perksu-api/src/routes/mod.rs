//! One module per resource, each with its own `router()` and its request and response types.

pub mod alerts;
pub mod allocations;
pub mod audit;
pub mod auth;
pub mod badges;
pub mod budgets;
pub mod departments;
pub mod email_deliveries;
pub mod feed;
pub mod funding_mode;
pub mod health;
pub mod invitations;
pub mod notifications;
pub mod points;
pub mod recognition_social;
pub mod recognitions;
pub mod redemptions;
pub mod reports;
pub mod rewards;
pub mod security_events;
pub mod tenants;
pub mod user_import;
pub mod users;
pub mod wallets;
