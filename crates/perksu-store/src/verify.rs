//! `perksu verify`: recompute every balance from the journal and check the ledger's laws.
//!
//! The laws (docs/ECONOMY.md): every stored balance equals its journal credits minus debits;
//! the stored balances add up to the points the platform issued, net of clawbacks (so all
//! accounts, issuance and the legacy budget accounts included, sum to zero); no account but
//! those is negative; the spec's audit tables, the wallet ledger and the budgets' counters agree
//! with the journal.

use std::collections::BTreeMap;

use perksu_domain::rewards::RedemptionStatus;
use perksu_domain::{Account, Points};
use sqlx::{AnyConnection, Row};

use crate::db::Backend;
use crate::error::StoreResult;
use crate::verify_budgets::check_budgets;
use crate::Store;

/// What `verify` found. `violations` is empty when every law holds.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub accounts_checked: usize,
    pub journal_entries: i64,
    pub issued_net: Points,
    pub pools_total: Points,
    pub leads_total: Points,
    pub wallets_total: Points,
    pub holds_total: Points,
    pub redeemed_total: Points,
    /// Wallet points that expired unspent (`expired:<user id>`).
    pub expired_total: Points,
    /// Points legacy tenants' budgets paid out (minus the `budget:<tenant id>` accounts).
    pub budgets_minted: Points,
    pub violations: Vec<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }
}

impl Store {
    pub async fn verify(&self) -> StoreResult<VerifyReport> {
        // One snapshot for every query, so a movement committed halfway through the check
        // cannot look like a discrepancy.
        let mut tx = self.read().begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("set transaction isolation level repeatable read, read only")
                .execute(&mut *tx)
                .await?;
        }
        let report = check(&mut tx).await?;
        tx.rollback().await?;
        Ok(report)
    }
}

async fn check(conn: &mut AnyConnection) -> StoreResult<VerifyReport> {
    let mut report = VerifyReport::default();
    let journal = journal_balances(conn, &mut report).await?;
    let stored = stored_balances(conn).await?;

    let mut totals = [Points::ZERO; 6];
    for (key, balance) in &stored {
        let derived = journal.get(key).copied().unwrap_or(0);
        if derived != *balance {
            report.violations.push(format!(
                "{key}: stored balance {} but journal says {}",
                Points::from_hundredths(*balance),
                Points::from_hundredths(derived)
            ));
        }
        if *balance < 0 {
            report.violations.push(format!(
                "{key}: negative balance {}",
                Points::from_hundredths(*balance)
            ));
        }
        let slot = match Account::from_key(key) {
            Some(Account::Pool(_)) => 0,
            Some(Account::Lead(_)) => 1,
            Some(Account::Hold(_)) => 3,
            Some(Account::Redeemed(_)) => 4,
            Some(Account::Expired(_)) => 5,
            _ => 2,
        };
        totals[slot] = Points::from_hundredths(totals[slot].hundredths() + balance);
    }
    for key in journal.keys() {
        let unstored = matches!(
            Account::from_key(key),
            Some(Account::Issuance | Account::Budget(_))
        );
        if !unstored && !stored.contains_key(key) {
            report
                .violations
                .push(format!("{key}: in the journal but has no stored balance"));
        }
    }
    let issued = -journal.get("issuance").copied().unwrap_or(0);
    let minted: i64 = -journal
        .iter()
        .filter(|(key, _)| matches!(Account::from_key(key), Some(Account::Budget(_))))
        .map(|(_, balance)| balance)
        .sum::<i64>();
    let held: i64 = stored.values().sum();
    if issued + minted != held {
        report.violations.push(format!(
            "accounts do not sum to zero: issued {} and minted by budgets {} but {} is held",
            Points::from_hundredths(issued),
            Points::from_hundredths(minted),
            Points::from_hundredths(held)
        ));
    }
    report.budgets_minted = Points::from_hundredths(minted);
    report.accounts_checked = stored.len();
    report.issued_net = Points::from_hundredths(issued);
    [
        report.pools_total,
        report.leads_total,
        report.wallets_total,
        report.holds_total,
        report.redeemed_total,
        report.expired_total,
    ] = totals;

    check_audit_tables(conn, &mut report).await?;
    check_allocation_reversals(conn, &mut report).await?;
    check_redemptions(conn, &mut report).await?;
    check_budgets(conn, &journal, &mut report).await?;
    Ok(report)
}

/// Credits minus debits per account, from the journal.
async fn journal_balances(
    conn: &mut AnyConnection,
    report: &mut VerifyReport,
) -> StoreResult<BTreeMap<String, i64>> {
    let mut balances = BTreeMap::new();
    let rows = sqlx::query(
        "select account, cast(sum(amount) as bigint) as total from ( \
           select credit_account as account, amount from journal_entries \
           union all \
           select debit_account as account, -amount as amount from journal_entries \
         ) movements group by account",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        balances.insert(
            row.try_get::<String, _>("account")?,
            sum_column(&row, "total")?,
        );
    }
    let count = sqlx::query("select count(*) as n from journal_entries")
        .fetch_one(&mut *conn)
        .await?;
    report.journal_entries = count.try_get::<i64, _>("n")?;
    Ok(balances)
}

/// Every stored balance, keyed like the journal's accounts.
async fn stored_balances(conn: &mut AnyConnection) -> StoreResult<BTreeMap<String, i64>> {
    let mut balances = BTreeMap::new();
    let queries = [
        (
            "pool",
            "select id as key, points_allocation_balance as balance from tenants",
        ),
        (
            "lead",
            "select id as key, lead_distribution_balance as balance from users \
             where tenant_id is not null",
        ),
        ("wallet", "select user_id as key, balance from wallets"),
        (
            "hold",
            "select id as key, hold_balance as balance from redemptions",
        ),
        (
            "redeemed",
            "select id as key, redeemed_balance as balance from redemptions",
        ),
        (
            "expired",
            "select user_id as key, expired_balance as balance from wallets",
        ),
    ];
    for (prefix, sql) in queries {
        for row in sqlx::query(sql).fetch_all(&mut *conn).await? {
            let key = format!("{prefix}:{}", row.try_get::<String, _>("key")?);
            balances.insert(key, row.try_get::<i64, _>("balance")?);
        }
    }
    // A zero balance that never moved is not in the journal; that is consistent.
    Ok(balances)
}

/// The spec's audit tables, and the wallet ledger, must tell the journal's story.
async fn check_audit_tables(
    conn: &mut AnyConnection,
    report: &mut VerifyReport,
) -> StoreResult<()> {
    let pairs = [
        (
            "allocation_logs",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from allocation_logs",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from journal_entries where kind = 'allocation'",
        ),
        (
            "platform_billing_logs CREDIT_INJECTION",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from platform_billing_logs \
             where transaction_type = 'CREDIT_INJECTION'",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from journal_entries where kind = 'allocation'",
        ),
        (
            "platform_billing_logs CLAWBACK",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from platform_billing_logs \
             where transaction_type = 'CLAWBACK'",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from journal_entries where kind = 'clawback'",
        ),
        (
            "platform_billing_logs ALLOCATION_REVERSAL",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from platform_billing_logs \
             where transaction_type = 'ALLOCATION_REVERSAL'",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from journal_entries where kind = 'allocation_reversal'",
        ),
        (
            "allocation_reversals",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from allocation_reversals",
            "select cast(coalesce(sum(amount), 0) as bigint) as total from journal_entries where kind = 'allocation_reversal'",
        ),
    ];
    for (name, audit_sql, journal_sql) in pairs {
        let audit = sum_column(
            &sqlx::query(audit_sql).fetch_one(&mut *conn).await?,
            "total",
        )?;
        let journal = sum_column(
            &sqlx::query(journal_sql).fetch_one(&mut *conn).await?,
            "total",
        )?;
        if audit != journal {
            report.violations.push(format!(
                "{name} total {} differs from the journal's {}",
                Points::from_hundredths(audit),
                Points::from_hundredths(journal)
            ));
        }
    }
    let mismatched = sqlx::query(
        "select w.user_id as user_id, w.balance as balance, cast(coalesce(sum(case \
           when l.transaction_type = 'credit' then l.amount else -l.amount end), 0) as bigint) \
           as lines \
         from wallets w left join wallet_ledger l on l.wallet_id = w.id \
         group by w.user_id, w.balance",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in mismatched {
        let balance = row.try_get::<i64, _>("balance")?;
        let lines = sum_column(&row, "lines")?;
        if balance != lines {
            report.violations.push(format!(
                "wallet:{}: balance {} but its wallet_ledger lines sum to {}",
                row.try_get::<String, _>("user_id")?,
                Points::from_hundredths(balance),
                Points::from_hundredths(lines)
            ));
        }
    }
    Ok(())
}

/// No allocation is reversed by more than was allocated, and each reversal stays within its
/// allocation's tenant.
async fn check_allocation_reversals(
    conn: &mut AnyConnection,
    report: &mut VerifyReport,
) -> StoreResult<()> {
    let over = sqlx::query(
        "select l.id as id, l.amount as amount, \
           cast(sum(r.amount) as bigint) as reversed \
         from allocation_logs l join allocation_reversals r on r.allocation_log_id = l.id \
         group by l.id, l.amount having sum(r.amount) > l.amount",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in over {
        report.violations.push(format!(
            "allocation {}: reversed {} of an allocation of {}",
            row.try_get::<String, _>("id")?,
            Points::from_hundredths(sum_column(&row, "reversed")?),
            Points::from_hundredths(row.try_get::<i64, _>("amount")?)
        ));
    }
    let strays = sqlx::query(
        "select r.id as id from allocation_reversals r \
         join allocation_logs l on l.id = r.allocation_log_id where r.tenant_id <> l.tenant_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in strays {
        report.violations.push(format!(
            "allocation reversal {}: its tenant is not its allocation's",
            row.try_get::<String, _>("id")?
        ));
    }
    Ok(())
}

/// A `sum(...)` column. PostgreSQL sums bigints into `numeric`, which the `Any` driver cannot
/// decode, so every sum here is cast back to bigint in SQL.
fn sum_column(row: &sqlx::any::AnyRow, column: &str) -> StoreResult<i64> {
    Ok(row.try_get::<i64, _>(column)?)
}

/// A redemption's points are wholly on hold while it is open, wholly redeemed once delivered,
/// and wholly back in the wallet once refunded.
async fn check_redemptions(conn: &mut AnyConnection, report: &mut VerifyReport) -> StoreResult<()> {
    let rows = sqlx::query(
        "select id, status, points_cost, hold_balance, redeemed_balance from redemptions",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let id = row.try_get::<String, _>("id")?;
        let status = row.try_get::<String, _>("status")?;
        let cost = row.try_get::<i64, _>("points_cost")?;
        let held = row.try_get::<i64, _>("hold_balance")?;
        let redeemed = row.try_get::<i64, _>("redeemed_balance")?;
        let expected = match RedemptionStatus::parse(&status) {
            Some(s) if s.is_open() => (cost, 0),
            Some(RedemptionStatus::Delivered) => (0, cost),
            Some(_) => (0, 0),
            None => {
                report
                    .violations
                    .push(format!("redemption {id}: unknown status {status:?}"));
                continue;
            }
        };
        if (held, redeemed) != expected {
            report.violations.push(format!(
                "redemption {id} ({status}): holds {} and redeemed {} of a cost of {}",
                Points::from_hundredths(held),
                Points::from_hundredths(redeemed),
                Points::from_hundredths(cost)
            ));
        }
    }
    Ok(())
}
