//! A tenant's expiry policy, and what arrived within its period: allocations (net of their
//! reversals) into the pool, and earnings into a wallet, the latter as lots oldest first.

use chrono::{DateTime, Utc};
use perksu_domain::Points;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::rows::{integer, points, text};
use crate::tenants::{TenantPatch, TenantRow};
use crate::tx::WriteTx;

/// `wallet_ledger` credit sources that count as earning; refunds of a user's own points do not
/// start a new period.
pub(super) const EARNING_SOURCES: &str = "('recognition', 'award')";

/// A tenant's policy as stored; `None`: never expires.
pub(super) struct Policy {
    pub(super) tenant_name: String,
    pub(super) currency_label: String,
    pub(super) pool_expiry_days: Option<i64>,
    pub(super) wallet_expiry_days: Option<i64>,
    pub(super) wallet_expiry_warning_days: i64,
}

pub(super) const POLICY_COLUMNS: &str =
    "id, name, currency_label, pool_expiry_days, wallet_expiry_days, \
     wallet_expiry_warning_days";

impl Policy {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Policy> {
        Ok(Policy {
            tenant_name: text(row, "name")?,
            currency_label: text(row, "currency_label")?,
            pool_expiry_days: row.try_get::<Option<i64>, _>("pool_expiry_days")?,
            wallet_expiry_days: row.try_get::<Option<i64>, _>("wallet_expiry_days")?,
            wallet_expiry_warning_days: integer(row, "wallet_expiry_warning_days")?,
        })
    }
}

/// One recent earning: when it was credited, and how much.
pub(super) struct Lot {
    pub(super) credited_at: DateTime<Utc>,
    pub(super) amount: Points,
}

impl WriteTx {
    /// Applies the expiry fields of a tenant patch (the caller checked who may change it).
    /// The new policy applies from the next run, to points already held as well.
    pub(crate) async fn update_expiry_policy(
        &mut self,
        current: &TenantRow,
        patch: &TenantPatch,
    ) -> StoreResult<()> {
        if patch.pool_expiry_days.is_none()
            && patch.wallet_expiry_days.is_none()
            && patch.wallet_expiry_warning_days.is_none()
        {
            return Ok(());
        }
        sqlx::query(
            "update tenants set pool_expiry_days = $1, wallet_expiry_days = $2, \
             wallet_expiry_warning_days = $3 where id = $4",
        )
        .bind(patch.pool_expiry_days.unwrap_or(current.pool_expiry_days))
        .bind(
            patch
                .wallet_expiry_days
                .unwrap_or(current.wallet_expiry_days),
        )
        .bind(
            patch
                .wallet_expiry_warning_days
                .unwrap_or(current.wallet_expiry_warning_days),
        )
        .bind(&current.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub(super) async fn expiry_policy(&mut self, tenant_id: &str) -> StoreResult<Policy> {
        let sql = format!("select {POLICY_COLUMNS} from tenants where id = $1");
        let row = sqlx::query(&sql)
            .bind(tenant_id)
            .fetch_one(self.conn())
            .await?;
        Policy::from_row(&row)
    }

    /// What the tenant's allocations after `since` brought into its pool, net of reversals.
    pub(super) async fn allocated_since(
        &mut self,
        tenant_id: &str,
        since: &Timestamp,
    ) -> StoreResult<Points> {
        let allocated = sqlx::query(
            "select cast(coalesce(sum(amount), 0) as bigint) as total from allocation_logs \
             where tenant_id = $1 and created_at > $2",
        )
        .bind(tenant_id)
        .bind(since.as_str().to_owned())
        .fetch_one(self.conn())
        .await?;
        let reversed = sqlx::query(
            "select cast(coalesce(sum(r.amount), 0) as bigint) as total \
             from allocation_reversals r join allocation_logs l on l.id = r.allocation_log_id \
             where l.tenant_id = $1 and l.created_at > $2",
        )
        .bind(tenant_id)
        .bind(since.as_str().to_owned())
        .fetch_one(self.conn())
        .await?;
        let allocated = points(&allocated, "total")?;
        let reversed = points(&reversed, "total")?;
        allocated.checked_sub(reversed).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "tenant {tenant_id}: recent allocations reversed by more than they were"
            ))
        })
    }

    /// The user's earnings credited after `since`, oldest first.
    pub(super) async fn earned_since(
        &mut self,
        user_id: &str,
        since: &Timestamp,
    ) -> StoreResult<Vec<Lot>> {
        let sql = format!(
            "select l.created_at as created_at, l.amount as amount from wallet_ledger l \
             join wallets w on w.id = l.wallet_id \
             where w.user_id = $1 and l.transaction_type = 'credit' \
             and l.source in {EARNING_SOURCES} and l.created_at > $2 \
             order by l.created_at, l.id"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .bind(since.as_str().to_owned())
            .fetch_all(self.conn())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Lot {
                    credited_at: parse_stored(&text(row, "created_at")?)?,
                    amount: points(row, "amount")?,
                })
            })
            .collect()
    }
}

fn parse_stored(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| StoreError::Corrupt(format!("stored timestamp {text:?}: {error}")))
}
