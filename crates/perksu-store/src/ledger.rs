//! The one way points move: a transfer from one account to another, journaled in the same
//! transaction as the two balance changes.
//!
//! Architecture invariant: no other code writes a balance column. A debit is a conditional
//! update (`... where balance >= amount`), so two transactions racing for the same points can
//! never both succeed, on either backend, without a read-then-write window.

use perksu_domain::{Account, Error, MovementKind, Points};
use sqlx::Row;

use crate::error::{StoreError, StoreResult};
use crate::tx::{new_id, WriteTx};

/// A movement to apply.
pub(crate) struct Transfer<'a> {
    pub kind: MovementKind,
    pub from: Account,
    pub to: Account,
    pub amount: Points,
    pub tenant_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub reference_id: Option<&'a str>,
    /// The refusal when `from` holds less than `amount`: (available, required) → error.
    pub on_short: fn(Points, Points) -> Error,
}

/// What a transfer did: its journal entry and both balances after it.
pub(crate) struct Applied {
    pub journal_entry_id: String,
    pub from_balance_after: Points,
    pub to_balance_after: Points,
}

impl WriteTx {
    /// Applies `transfer`, or refuses with the account's own "insufficient" error and changes
    /// nothing (the caller rolls the transaction back on any error).
    pub(crate) async fn transfer(&mut self, transfer: Transfer<'_>) -> StoreResult<Applied> {
        if transfer.amount <= Points::ZERO {
            return Err(
                Error::invalid("invalid_amount", "amount must be greater than zero").into(),
            );
        }
        // Points a wallet receives as recognition count towards its lifetime earnings; a refund
        // of its own points would not.
        let earns = matches!(
            transfer.kind,
            MovementKind::Award | MovementKind::Recognition
        );
        // Rows are locked in one global order (the order of `Account`) so that two opposite
        // transfers cannot deadlock on PostgreSQL. The debit always runs first, so a refused
        // transfer has written nothing and the caller may try another source in the same
        // transaction.
        if transfer.to < transfer.from {
            self.lock_account(&transfer.to).await?;
        }
        let from_balance_after = self
            .debit(&transfer.from, transfer.amount, transfer.on_short)
            .await?;
        let to_balance_after = self.credit(&transfer.to, transfer.amount, earns).await?;
        let journal_entry_id = new_id();
        sqlx::query(
            "insert into journal_entries \
             (id, tenant_id, kind, debit_account, credit_account, amount, actor_id, reason, \
              reference_id, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&journal_entry_id)
        .bind(transfer.tenant_id)
        .bind(transfer.kind.as_str())
        .bind(transfer.from.key())
        .bind(transfer.to.key())
        .bind(transfer.amount.hundredths())
        .bind(transfer.actor_id)
        .bind(transfer.reason)
        .bind(transfer.reference_id)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        self.count_movement();
        self.watch_low_balances(
            &transfer,
            from_balance_after,
            to_balance_after,
            &journal_entry_id,
        )
        .await?;
        Ok(Applied {
            journal_entry_id,
            from_balance_after,
            to_balance_after,
        })
    }

    /// Takes `amount` from `account`; the balance after, or the account's "insufficient" error.
    async fn debit(
        &mut self,
        account: &Account,
        amount: Points,
        on_short: fn(Points, Points) -> Error,
    ) -> StoreResult<Points> {
        let Some((table, column, key, id)) = balance_column(account) else {
            return Ok(Points::ZERO);
        };
        let sql = format!(
            "update {table} set {column} = {column} - $1, updated_at = $2 \
             where {key} = $3 and {column} >= $1 returning {column}"
        );
        let row = sqlx::query(&sql)
            .bind(amount.hundredths())
            .bind(self.now().as_str().to_owned())
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        if let Some(row) = row {
            return Ok(Points::from_hundredths(row.try_get::<i64, _>(0)?));
        }
        let available = self.balance_of(account).await?;
        Err(on_short(available, amount).into())
    }

    /// Waits for, and holds until commit, the row lock on an account without changing it;
    /// returns its balance. On SQLite the single writer already excludes everyone else.
    pub(crate) async fn lock_account(&mut self, account: &Account) -> StoreResult<Points> {
        let Some((table, column, key, id)) = balance_column(account) else {
            return Ok(Points::ZERO);
        };
        let sql =
            format!("update {table} set {column} = {column} where {key} = $1 returning {column}");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no row for account {}", account.key())))?;
        Ok(Points::from_hundredths(row.try_get::<i64, _>(0)?))
    }

    async fn credit(
        &mut self,
        account: &Account,
        amount: Points,
        earns: bool,
    ) -> StoreResult<Points> {
        let Some((table, column, key, id)) = balance_column(account) else {
            return Ok(Points::ZERO);
        };
        let earned = if earns && matches!(account, Account::Wallet(_)) {
            ", lifetime_earned = lifetime_earned + $1"
        } else {
            ""
        };
        let sql = format!(
            "update {table} set {column} = {column} + $1, updated_at = $2{earned} \
             where {key} = $3 and {column} <= $4 returning {column}"
        );
        let row = sqlx::query(&sql)
            .bind(amount.hundredths())
            .bind(self.now().as_str().to_owned())
            .bind(id)
            .bind(Points::MAX.hundredths() - amount.hundredths())
            .fetch_optional(self.conn())
            .await?;
        match row {
            Some(row) => Ok(Points::from_hundredths(row.try_get::<i64, _>(0)?)),
            None => {
                // Either the account does not exist (a bug in the caller) or it is full.
                self.balance_of(account).await?;
                Err(Error::balance_overflow().into())
            }
        }
    }

    /// The stored balance of a real account.
    pub(crate) async fn balance_of(&mut self, account: &Account) -> StoreResult<Points> {
        let Some((table, column, key, id)) = balance_column(account) else {
            return Err(StoreError::Corrupt(
                "the issuance account has no stored balance".into(),
            ));
        };
        let sql = format!("select {column} from {table} where {key} = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no row for account {}", account.key())))?;
        Ok(Points::from_hundredths(row.try_get::<i64, _>(0)?))
    }
}

/// Where an account's balance is stored: table, balance column, key column, key.
fn balance_column(account: &Account) -> Option<(&'static str, &'static str, &'static str, &str)> {
    match account {
        Account::Issuance | Account::Budget(_) => None,
        Account::Pool(id) => Some(("tenants", "points_allocation_balance", "id", id)),
        Account::Lead(id) => Some(("users", "lead_distribution_balance", "id", id)),
        Account::Wallet(id) => Some(("wallets", "balance", "user_id", id)),
        Account::Hold(id) => Some(("redemptions", "hold_balance", "id", id)),
        Account::Redeemed(id) => Some(("redemptions", "redeemed_balance", "id", id)),
        Account::Expired(id) => Some(("wallets", "expired_balance", "user_id", id)),
    }
}
