//! Wallets: an employee's spendable points.

use perksu_domain::access::Actor;
use perksu_domain::{Error, Points};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{points, text, timestamp};
use crate::Store;

#[derive(Clone, Debug)]
pub struct WalletRow {
    pub id: String,
    pub tenant_id: String,
    pub user_id: String,
    pub balance: Points,
    pub lifetime_earned: Points,
    pub lifetime_spent: Points,
    pub updated_at: Timestamp,
}

impl WalletRow {
    fn from_row(row: &AnyRow) -> StoreResult<WalletRow> {
        Ok(WalletRow {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            user_id: text(row, "user_id")?,
            balance: points(row, "balance")?,
            lifetime_earned: points(row, "lifetime_earned")?,
            lifetime_spent: points(row, "lifetime_spent")?,
            updated_at: timestamp(row, "updated_at")?,
        })
    }
}

impl Store {
    /// The caller's own wallet. Platform admins have none.
    pub async fn my_wallet(&self, actor: &Actor) -> StoreResult<WalletRow> {
        actor.own_tenant()?;
        let row = sqlx::query(
            "select id, tenant_id, user_id, balance, lifetime_earned, lifetime_spent, updated_at \
             from wallets where user_id = $1",
        )
        .bind(&actor.user_id)
        .fetch_optional(self.read())
        .await?
        .ok_or_else(|| Error::forbidden("This user has no wallet"))?;
        WalletRow::from_row(&row)
    }
}

impl crate::tx::WriteTx {
    /// Writes the recipient's `wallet_ledger` line for a credit just applied by a transfer.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn wallet_credit_line(
        &mut self,
        tenant_id: &str,
        user_id: &str,
        source: &str,
        amount: Points,
        balance_after: Points,
        reference_id: Option<&str>,
        description: &str,
        created_by: &str,
        journal_entry_id: &str,
    ) -> StoreResult<String> {
        self.wallet_line(
            "credit",
            tenant_id,
            user_id,
            source,
            amount,
            balance_after,
            reference_id,
            description,
            Some(created_by),
            journal_entry_id,
        )
        .await
    }

    /// Writes a `wallet_ledger` line (`credit` or `debit`) for a transfer just applied.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn wallet_line(
        &mut self,
        transaction_type: &str,
        tenant_id: &str,
        user_id: &str,
        source: &str,
        amount: Points,
        balance_after: Points,
        reference_id: Option<&str>,
        description: &str,
        created_by: Option<&str>,
        journal_entry_id: &str,
    ) -> StoreResult<String> {
        let id = crate::tx::new_id();
        sqlx::query(
            "insert into wallet_ledger (id, tenant_id, wallet_id, user_id, transaction_type, \
             source, amount, balance_after, reference_id, description, created_by, \
             journal_entry_id, created_at) \
             select $1, $2, w.id, $3, $12, $4, $5, $6, $7, $8, $9, $10, $11 \
             from wallets w where w.user_id = $3",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(user_id)
        .bind(source)
        .bind(amount.hundredths())
        .bind(balance_after.hundredths())
        .bind(reference_id)
        .bind(description)
        .bind(created_by)
        .bind(journal_entry_id)
        .bind(self.now().as_str().to_owned())
        .bind(transaction_type)
        .execute(self.conn())
        .await?;
        Ok(id)
    }
}
