//! Expiry: points left unspent longer than their tenant's period go back where they belong,
//! and wallet owners are warned beforehand.
//!
//! - Pool points: pool → issuance (`pool_expiry`). The recent part of a pool is what the
//!   allocations made within the period brought in, net of their reversals; the rest is older.
//! - Wallet points: wallet → `expired:<user id>` (`wallet_expiry`) with a `wallet_ledger` debit
//!   (source `expiry`). The recent part is what recognitions and awards credited within the
//!   period.
//! - Warnings: a `points_expiring` notification naming what expires within the tenant's warning
//!   window, at most once per user and expiry day (`expiry_warnings` remembers them).
//!
//! Spending takes the oldest points first (see `perksu_domain::expiry`). One transaction per
//! account: it locks the account row first and computes what expires inside the transaction,
//! so a second run, on this server or another, waits for the first and then finds nothing
//! left. A dry run does the same work and rolls every transaction back.

mod policy;
mod warnings;

use chrono::{DateTime, TimeDelta, Utc};
use perksu_domain::expiry::expired_part;
use perksu_domain::{Account, Error, MovementKind, Points};

use self::policy::{Policy, EARNING_SOURCES, POLICY_COLUMNS};
pub use self::warnings::EXPIRY_WARNING_NOTIFICATION;
use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::ledger::Transfer;
use crate::rows::text;
use crate::tx::WriteTx;
use crate::Store;

/// Points that left a tenant's pool (or would have, in a dry run).
#[derive(Clone, Debug)]
pub struct PoolExpired {
    pub tenant_id: String,
    pub tenant_name: String,
    pub amount: Points,
    pub pool_balance_after: Points,
}

/// Points that left a wallet (or would have).
#[derive(Clone, Debug)]
pub struct WalletExpired {
    pub tenant_id: String,
    pub user_id: String,
    pub email: String,
    pub amount: Points,
    pub wallet_balance_after: Points,
}

/// A warning sent (or that would have been).
#[derive(Clone, Debug)]
pub struct ExpiryWarning {
    pub tenant_id: String,
    pub user_id: String,
    pub email: String,
    /// All that expires within the warning window.
    pub amount: Points,
    /// The first UTC day (`YYYY-MM-DD`) on which some of it expires.
    pub first_expires_on: String,
}

/// An account the run could not process; the others were still processed.
#[derive(Clone, Debug)]
pub struct ExpiryFailure {
    pub account: String,
    pub error: String,
}

/// What one run expired and warned about, per tenant and user.
#[derive(Clone, Debug)]
pub struct ExpiryReport {
    pub dry_run: bool,
    /// The instant the run measured every period from.
    pub at: Timestamp,
    pub pools: Vec<PoolExpired>,
    pub wallets: Vec<WalletExpired>,
    pub warnings: Vec<ExpiryWarning>,
    pub failures: Vec<ExpiryFailure>,
}

impl ExpiryReport {
    pub fn pools_total(&self) -> Points {
        total(self.pools.iter().map(|p| p.amount))
    }

    pub fn wallets_total(&self) -> Points {
        total(self.wallets.iter().map(|w| w.amount))
    }

    pub fn is_empty(&self) -> bool {
        self.pools.is_empty() && self.wallets.is_empty() && self.warnings.is_empty()
    }
}

fn total(amounts: impl Iterator<Item = Points>) -> Points {
    Points::from_hundredths(amounts.map(Points::hundredths).sum())
}

/// The wallet a transaction works on.
#[derive(Clone, Copy)]
struct WalletRef<'a> {
    tenant_id: &'a str,
    user_id: &'a str,
    email: &'a str,
}

impl Store {
    /// Expires what every tenant's policy says has expired, and sends the warnings due. With
    /// `dry_run`, reports the same and changes nothing.
    pub async fn run_expiry(&self, dry_run: bool) -> StoreResult<ExpiryReport> {
        let now = self.clock_now();
        let mut report = ExpiryReport {
            dry_run,
            at: Timestamp::from(now),
            pools: Vec::new(),
            wallets: Vec::new(),
            warnings: Vec::new(),
            failures: Vec::new(),
        };
        let sql = format!(
            "select {POLICY_COLUMNS} from tenants \
             where pool_expiry_days is not null or wallet_expiry_days is not null order by id"
        );
        let tenants = sqlx::query(&sql).fetch_all(self.read()).await?;
        for row in tenants {
            let tenant_id = text(&row, "id")?;
            let policy = Policy::from_row(&row)?;
            if policy.pool_expiry_days.is_some() {
                match self.expire_pool(&tenant_id, now, dry_run).await {
                    Ok(Some(expired)) => report.pools.push(expired),
                    Ok(None) => {}
                    Err(error) => report.failures.push(ExpiryFailure {
                        account: Account::Pool(tenant_id.clone()).key(),
                        error: error.to_string(),
                    }),
                }
            }
            if let Some(days) = policy.wallet_expiry_days {
                let warning_days = policy.wallet_expiry_warning_days;
                for (user_id, email) in self
                    .wallets_due(&tenant_id, now, days, warning_days)
                    .await?
                {
                    let wallet = WalletRef {
                        tenant_id: &tenant_id,
                        user_id: &user_id,
                        email: &email,
                    };
                    match self.expire_wallet(wallet, now, dry_run).await {
                        Ok((expired, warning)) => {
                            report.wallets.extend(expired);
                            report.warnings.extend(warning);
                        }
                        Err(error) => report.failures.push(ExpiryFailure {
                            account: Account::Wallet(user_id.clone()).key(),
                            error: error.to_string(),
                        }),
                    }
                }
            }
        }
        Ok(report)
    }

    /// A write transaction stamped with the run's instant, so every row of a run agrees with
    /// the periods it measured.
    async fn begin_at(&self, now: DateTime<Utc>) -> StoreResult<WriteTx> {
        let tx = self.write_pool().begin().await?;
        Ok(WriteTx::new(tx, Timestamp::from(now)))
    }

    /// Expires the old part of one tenant's pool.
    async fn expire_pool(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> StoreResult<Option<PoolExpired>> {
        let mut tx = self.begin_at(now).await?;
        let pool = Account::Pool(tenant_id.to_owned());
        // The lock comes first: whatever a concurrent run expired is in the balance read here.
        let balance = tx.lock_account(&pool).await?;
        let policy = tx.expiry_policy(tenant_id).await?;
        let Some(days) = policy.pool_expiry_days else {
            tx.rollback().await?;
            return Ok(None);
        };
        let recent = tx
            .allocated_since(tenant_id, &Timestamp::from(days_before(now, days)?))
            .await?;
        let amount = expired_part(balance, recent);
        if amount.is_zero() {
            tx.rollback().await?;
            return Ok(None);
        }
        let reason = format!("Allocated points unspent for {days} days (tenant expiry policy)");
        let applied = tx
            .transfer(Transfer {
                kind: MovementKind::PoolExpiry,
                from: pool,
                to: Account::Issuance,
                amount,
                tenant_id: Some(tenant_id),
                actor_id: None,
                reason: Some(&reason),
                reference_id: None,
                on_short: Error::insufficient_pool,
            })
            .await?;
        finish(tx, dry_run).await?;
        Ok(Some(PoolExpired {
            tenant_id: tenant_id.to_owned(),
            tenant_name: policy.tenant_name,
            amount,
            pool_balance_after: applied.from_balance_after,
        }))
    }

    /// The wallets of a tenant that hold points older than the period, or older than the
    /// period less the warning window: the only ones a run can have anything to do for.
    async fn wallets_due(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
        expiry_days: i64,
        warning_days: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        let horizon = days_before(now, expiry_days - warning_days)?;
        let sql = format!(
            "select w.user_id as user_id, u.email as email from wallets w \
             join users u on u.id = w.user_id \
             where w.tenant_id = $1 and w.balance > 0 and w.balance > coalesce(( \
               select sum(l.amount) from wallet_ledger l where l.wallet_id = w.id \
               and l.transaction_type = 'credit' and l.source in {EARNING_SOURCES} \
               and l.created_at > $2), 0) \
             order by w.user_id"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(Timestamp::from(horizon).as_str().to_owned())
            .fetch_all(self.read())
            .await?;
        rows.iter()
            .map(|row| Ok((text(row, "user_id")?, text(row, "email")?)))
            .collect()
    }

    /// Expires the old part of one wallet and warns of what expires soon.
    async fn expire_wallet(
        &self,
        target: WalletRef<'_>,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> StoreResult<(Option<WalletExpired>, Option<ExpiryWarning>)> {
        let WalletRef {
            tenant_id, user_id, ..
        } = target;
        let mut tx = self.begin_at(now).await?;
        let wallet = Account::Wallet(user_id.to_owned());
        let mut balance = tx.lock_account(&wallet).await?;
        let policy = tx.expiry_policy(tenant_id).await?;
        let Some(days) = policy.wallet_expiry_days else {
            tx.rollback().await?;
            return Ok((None, None));
        };
        let lots = tx
            .earned_since(user_id, &Timestamp::from(days_before(now, days)?))
            .await?;
        let recent = total(lots.iter().map(|lot| lot.amount));
        let amount = expired_part(balance, recent);
        let mut expired = None;
        if !amount.is_zero() {
            let reason = format!("Earned points unspent for {days} days (tenant expiry policy)");
            let applied = tx
                .transfer(Transfer {
                    kind: MovementKind::WalletExpiry,
                    from: wallet,
                    to: Account::Expired(user_id.to_owned()),
                    amount,
                    tenant_id: Some(tenant_id),
                    actor_id: None,
                    reason: Some(&reason),
                    reference_id: None,
                    on_short: Error::insufficient_wallet,
                })
                .await?;
            balance = applied.from_balance_after;
            tx.wallet_line(
                "debit",
                tenant_id,
                user_id,
                "expiry",
                amount,
                balance,
                None,
                &reason,
                None,
                &applied.journal_entry_id,
            )
            .await?;
            expired = Some(WalletExpired {
                tenant_id: tenant_id.to_owned(),
                user_id: user_id.to_owned(),
                email: target.email.to_owned(),
                amount,
                wallet_balance_after: balance,
            });
        }
        let warning = tx
            .warn_of_expiry(target, &policy, days, now, balance, &lots)
            .await?;
        if expired.is_none() && warning.is_none() {
            tx.rollback().await?;
        } else {
            finish(tx, dry_run).await?;
        }
        Ok((expired, warning))
    }
}

/// Commits, or for a dry run rolls back what was just done.
async fn finish(tx: WriteTx, dry_run: bool) -> StoreResult<()> {
    if dry_run {
        tx.rollback().await
    } else {
        tx.commit().await
    }
}

fn days(count: i64) -> StoreResult<TimeDelta> {
    TimeDelta::try_days(count)
        .ok_or_else(|| StoreError::Corrupt(format!("{count} days is out of range")))
}

/// The instant `count` days before `now`: points credited after it are within the period.
fn days_before(now: DateTime<Utc>, count: i64) -> StoreResult<DateTime<Utc>> {
    now.checked_sub_signed(days(count)?)
        .ok_or_else(|| StoreError::Corrupt(format!("{count} days before {now} is out of range")))
}
