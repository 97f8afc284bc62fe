//! Storage: the database schema, its migrations, and every operation that reads or moves points.
//!
//! Architecture invariant: SQL lives only in this crate. Every balance change happens inside a
//! [`WriteTx`] together with its journal entry and audit rows, so a crash or an error leaves
//! either all of them or none. The crate knows nothing of HTTP.

mod alerts;
mod allocations;
mod audit;
mod batch;
mod budgets;
mod catalogue;
mod clock;
mod db;
mod demo;
mod demo_history;
mod demo_programs;
mod departments;
mod email_outbox;
mod error;
mod expiry;
mod feed;
mod gauges;
mod idempotency;
mod invitations;
mod ledger;
mod migrate;
mod notifications;
mod passwords;
mod points_ops;
mod recognition_funding;
mod recognitions;
mod redemption_reads;
mod redemptions;
mod reports;
mod rows;
mod security_events;
mod sessions;
mod sign_in_throttle;
mod social;
mod tenant_programs;
mod tenants;
mod tx;
mod user_import;
mod users;
mod verify;
mod verify_budgets;
mod wallets;
mod webhook_outbox;
mod webhook_settings;

use std::sync::Arc;

pub use alerts::{AlertFilter, AlertRow, LOW_BALANCE_NOTIFICATION};
pub use allocations::{
    BulkAllocateCommand, BulkAllocationOutcome, BulkEntry, BulkEntryOutcome, RefusedEntry,
    ReversalOutcome, ReverseAllocationCommand, MAX_BULK_ALLOCATIONS,
};
pub use audit::{AllocationLogRow, AuditFilter, BillingLogRow, JournalRow, Page, WalletLedgerRow};
pub use budgets::{
    BudgetEventRow, BudgetPatch, BudgetRow, BudgetStatus, DepartmentShare, DepartmentShareRow,
    LeadAllocationRow, NewBudget,
};
pub use catalogue::{
    CatalogueQuery, CatalogueSort, PricedReward, RewardDraft, RewardFields, RewardRow, MAX_STOCK,
    REWARD_KINDS,
};
pub use clock::{Clock, FixedClock, SystemClock, Timestamp};
pub use db::{normalise_url, Backend, DEFAULT_DATABASE_URL};
pub use demo::{DemoLogin, DEMO_PASSWORD};
pub use departments::DepartmentRow;
pub use email_outbox::{
    EmailDelivery, EmailDeliveryFilter, EmailDeliveryRow, EmailRetryPolicy, EMAIL_LEASE_SECONDS,
    EMAIL_STATUSES,
};
pub use error::{StoreError, StoreResult};
pub use expiry::{
    ExpiryFailure, ExpiryReport, ExpiryWarning, PoolExpired, WalletExpired,
    EXPIRY_WARNING_NOTIFICATION,
};
pub use feed::{FeedItem, MILESTONES, RECOGNITION_NOTIFICATION};
pub use gauges::{Gauges, PoolGauge};
pub use idempotency::Claim;
pub use invitations::{
    invitation_expired, invitation_invalid, readable_instant, InvitedUser, IssuedInvitation,
    DEFAULT_INVITATION_TTL_HOURS,
};
pub use migrate::MigrationStatus;
pub use notifications::{NotificationRow, INVITATION_NOTIFICATION};
pub use passwords::{HasherLimits, PasswordHash, PasswordHasher};
pub use points_ops::{
    AllocateCommand, AllocationOutcome, AwardCommand, AwardOutcome, ClawbackCommand,
    ClawbackOutcome, DelegateCommand, DelegationOutcome, RecallCommand, RecallOutcome,
};
pub use recognitions::{NewRecognition, RecipientRow, RecognitionRow};
pub use redemption_reads::{RedemptionAnalytics, RedemptionEventRow, RedemptionFilter, TopItem};
pub use redemptions::{Confirmation, OrderCommand, RedemptionRow, TransitionRequest};
pub use reports::{ReportPeriod, UsageQuery, UsageReport, UsageRow, UsageTotals};
pub use security_events::SecurityEventRow;
pub use sessions::Login;
pub use sign_in_throttle::SignInLimits;
pub use social::{
    BadgeCount, BadgeRow, CommentRow, NewBadge, ReactionCounts, ReactionState, RecipientShare,
    RecognitionStats, RecognitionView, TypeCounts, REACTION_KINDS,
};
pub use tenant_programs::FundingModeChange;
pub use tenants::{NewTenant, TenantPatch, TenantRow, TenantStats};
pub use tx::{WriteTx, WRITE_BATCH_MOVEMENTS, WRITE_COMMIT_SECONDS, WRITE_TRANSACTION_SECONDS};
pub use user_import::{
    ImportError, ImportOptions, ImportProgress, ImportReport, IMPORT_COLUMNS, MAX_IMPORT_ROWS,
};
pub use users::{NewUser, UserPatch, UserRow, INVITED_PASSWORD_HASH};
pub use verify::VerifyReport;
pub use wallets::WalletRow;
pub use webhook_outbox::{
    retry_delay_seconds, AttemptOutcome, WebhookAttemptRow, WebhookDelivery, LEASE_SECONDS,
    MAX_WEBHOOK_ATTEMPTS,
};
pub use webhook_settings::{validate_webhook_secret, validate_webhook_url};

/// The database behind the service. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pools: db::Pools,
    clock: Arc<dyn Clock>,
    passwords: PasswordHasher,
    sign_ins: sign_in_throttle::SignInThrottle,
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`). Does not migrate.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> StoreResult<Store> {
        Store::connect_with(url, clock, HasherLimits::default()).await
    }

    /// Connects with password hashing bounded by `limits`. Does not migrate.
    pub async fn connect_with(
        url: &str,
        clock: Arc<dyn Clock>,
        limits: HasherLimits,
    ) -> StoreResult<Store> {
        let pools = db::connect(url).await?;
        let passwords = PasswordHasher::new(limits)?;
        let sign_ins = sign_in_throttle::SignInThrottle::new(limits.sign_ins, clock.clone());
        Ok(Store {
            inner: Arc::new(Inner {
                pools,
                clock,
                passwords,
                sign_ins,
            }),
        })
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str, clock: Arc<dyn Clock>) -> StoreResult<Store> {
        Store::open_with(url, clock, HasherLimits::default()).await
    }

    /// Connects with these hashing limits and brings the schema up to date.
    pub async fn open_with(
        url: &str,
        clock: Arc<dyn Clock>,
        limits: HasherLimits,
    ) -> StoreResult<Store> {
        let store = Store::connect_with(url, clock, limits).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// The bounded pool every password hash and check goes through.
    pub fn passwords(&self) -> &PasswordHasher {
        &self.inner.passwords
    }

    /// Hashes a new password on the bounded pool (503 `server_busy` when it is full).
    pub async fn hash_password(&self, password: &str) -> StoreResult<PasswordHash> {
        self.inner.passwords.hash(password).await
    }

    pub fn backend(&self) -> Backend {
        self.inner.pools.backend
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from(self.clock_now())
    }

    pub(crate) fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    /// Starts a write transaction. On SQLite this waits for the single writer connection.
    pub async fn begin(&self) -> StoreResult<WriteTx> {
        let tx = self.inner.pools.write.begin().await?;
        Ok(WriteTx::new(tx, self.now()))
    }

    /// Answers once the database takes a query.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1").execute(self.read()).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.inner.pools.read.close().await;
        self.inner.pools.write.close().await;
    }

    pub(crate) fn read(&self) -> &sqlx::AnyPool {
        &self.inner.pools.read
    }

    pub(crate) fn write_pool(&self) -> &sqlx::AnyPool {
        &self.inner.pools.write
    }
}
