//! Allocating to many tenants in one transaction, and reversing one allocation with an audit
//! trail.
//!
//! A bulk allocation runs every entry through [`WriteTx::allocate_to_tenant`], so a dry run
//! (the same calls in a transaction that is rolled back) and a commit cannot disagree. A
//! reversal is a new pool → issuance movement that points at the allocation it undoes; the
//! allocation's own row is never edited.

use std::collections::HashSet;

use perksu_domain::access::Actor;
use perksu_domain::reversal::{reversal_amount, reversible_amount, AllocationStatus};
use perksu_domain::{Account, Entity, Error, MovementKind, Points};

use crate::audit::{AllocationLogRow, ALLOCATION_LOG_COLUMNS};
use crate::error::{StoreError, StoreResult};
use crate::ledger::Transfer;
use crate::points_ops::{AllocateCommand, AllocationOutcome};
use crate::rows::{points, text};
use crate::tx::{new_id, WriteTx};
use crate::Store;

/// The most tenants one bulk request may name: a limit on how long it holds its locks.
pub const MAX_BULK_ALLOCATIONS: usize = 500;

/// One tenant's part of a bulk allocation.
pub struct BulkEntry {
    pub tenant_id: String,
    pub amount: Points,
    /// Overrides the request's note for this tenant.
    pub reference_note: Option<String>,
}

/// An entry the HTTP layer already refused while reading it (a malformed amount or note). It
/// is reported in its place with the others rather than failing the whole request, so the
/// caller learns about every bad entry at once.
pub struct RefusedEntry {
    pub tenant_id: String,
    pub error: Error,
}

pub struct BulkAllocateCommand {
    /// In request order.
    pub entries: Vec<Result<BulkEntry, RefusedEntry>>,
    pub currency: Option<String>,
    pub reference_note: Option<String>,
}

/// What happened, or would happen, to one tenant.
pub struct BulkEntryOutcome {
    pub tenant_id: String,
    pub result: Result<AllocationOutcome, Error>,
}

/// The per-tenant results, in request order.
pub struct BulkAllocationOutcome {
    pub entries: Vec<BulkEntryOutcome>,
}

impl BulkAllocationOutcome {
    pub fn refused(&self) -> usize {
        self.entries.iter().filter(|e| e.result.is_err()).count()
    }

    pub fn all_allocated(&self) -> bool {
        self.refused() == 0
    }
}

pub struct ReverseAllocationCommand {
    pub allocation_log_id: String,
    /// `None` reverses everything reversible.
    pub amount: Option<Points>,
    pub reason: String,
}

pub struct ReversalOutcome {
    pub reversal_id: String,
    pub amount_reversed: Points,
    pub new_allocation_balance: Points,
    pub billing_log_id: String,
    pub journal_entry_id: String,
    /// The allocation as it stands after this reversal.
    pub allocation: AllocationLogRow,
}

impl AllocationLogRow {
    /// What a reversal may take back now.
    pub fn reversible_amount(&self) -> Points {
        reversible_amount(self.amount, self.reversed_amount, self.pool_balance)
    }

    pub fn status(&self) -> AllocationStatus {
        AllocationStatus::of(self.amount, self.reversed_amount)
    }
}

impl WriteTx {
    /// Applies every entry, each under its own savepoint so that a refused entry leaves no
    /// trace and the next ones still run and report. Returns the per-tenant results; the
    /// caller commits only when every entry was allocated, and rolls back otherwise (or always,
    /// for a dry run). A database failure ends the whole request.
    pub async fn bulk_allocate(
        &mut self,
        actor: &Actor,
        command: BulkAllocateCommand,
    ) -> StoreResult<BulkAllocationOutcome> {
        actor.require_platform_admin()?;
        check_bulk_entries(&command.entries)?;
        // Entries run in tenant-id order, the order in which transfers lock pool rows, so two
        // bulk requests naming the same tenants cannot deadlock on PostgreSQL.
        let mut order: Vec<usize> = (0..command.entries.len()).collect();
        order.sort_by(|&a, &b| tenant_of(&command.entries[a]).cmp(tenant_of(&command.entries[b])));
        let mut results: Vec<Option<Result<AllocationOutcome, Error>>> =
            command.entries.iter().map(|_| None).collect();
        for index in order {
            let result = match &command.entries[index] {
                Err(refused) => Err(refused.error.clone()),
                Ok(entry) => {
                    let allocation = AllocateCommand {
                        tenant_id: entry.tenant_id.clone(),
                        amount: entry.amount,
                        currency: command.currency.clone(),
                        reference_note: entry
                            .reference_note
                            .clone()
                            .or_else(|| command.reference_note.clone()),
                    };
                    self.allocate_in_savepoint(actor, allocation).await?
                }
            };
            results[index] = Some(result);
        }
        let entries = command
            .entries
            .iter()
            .zip(results)
            .map(|(entry, result)| {
                let result = result.ok_or_else(|| {
                    StoreError::Corrupt("a bulk allocation entry was not run".into())
                })?;
                Ok(BulkEntryOutcome {
                    tenant_id: tenant_of(entry).to_owned(),
                    result,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(BulkAllocationOutcome { entries })
    }

    /// One allocation that, if refused, is undone exactly: the outer `Err` is a database
    /// failure, the inner one the entry's refusal.
    async fn allocate_in_savepoint(
        &mut self,
        actor: &Actor,
        command: AllocateCommand,
    ) -> StoreResult<Result<AllocationOutcome, Error>> {
        sqlx::query("savepoint bulk_entry")
            .execute(self.conn())
            .await?;
        match self.allocate_to_tenant(actor, command).await {
            Ok(outcome) => {
                sqlx::query("release savepoint bulk_entry")
                    .execute(self.conn())
                    .await?;
                Ok(Ok(outcome))
            }
            Err(StoreError::Domain(refusal)) => {
                sqlx::query("rollback to savepoint bulk_entry")
                    .execute(self.conn())
                    .await?;
                sqlx::query("release savepoint bulk_entry")
                    .execute(self.conn())
                    .await?;
                Ok(Err(refusal))
            }
            Err(other) => Err(other),
        }
    }

    /// Takes back (part of) one allocation: pool → issuance, with a reversal row and a billing
    /// row beside the journal entry. Like a clawback, it may act on a suspended tenant's pool:
    /// correcting a wrong allocation should not wait for the tenant to be reinstated.
    pub async fn reverse_allocation(
        &mut self,
        actor: &Actor,
        command: ReverseAllocationCommand,
    ) -> StoreResult<ReversalOutcome> {
        actor.require_platform_admin()?;
        let found =
            sqlx::query("select tenant_id, amount, currency from allocation_logs where id = $1")
                .bind(&command.allocation_log_id)
                .fetch_optional(self.conn())
                .await?
                .ok_or_else(|| Error::not_found(Entity::AllocationLog))?;
        let tenant_id = text(&found, "tenant_id")?;
        let allocated = points(&found, "amount")?;
        let currency = text(&found, "currency")?;
        let pool = Account::Pool(tenant_id.clone());
        // The pool row is locked before the earlier reversals are summed: every reversal of
        // this allocation takes the same lock first, so each one sees all those committed
        // before it and together they can never take back more than was allocated.
        let pool_balance = self.lock_account(&pool).await?;
        let reversed = self.reversed_so_far(&command.allocation_log_id).await?;
        let amount = reversal_amount(
            command.amount,
            reversible_amount(allocated, reversed, pool_balance),
        )?;
        let applied = self
            .transfer(Transfer {
                kind: MovementKind::AllocationReversal,
                from: pool,
                to: Account::Issuance,
                amount,
                tenant_id: Some(&tenant_id),
                actor_id: Some(&actor.user_id),
                reason: Some(&command.reason),
                reference_id: Some(&command.allocation_log_id),
                on_short: Error::insufficient_pool,
            })
            .await?;
        let reversal_id = new_id();
        sqlx::query(
            "insert into allocation_reversals (id, allocation_log_id, tenant_id, amount, reason, \
             reversed_by, journal_entry_id, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&reversal_id)
        .bind(&command.allocation_log_id)
        .bind(&tenant_id)
        .bind(amount.hundredths())
        .bind(&command.reason)
        .bind(&actor.user_id)
        .bind(&applied.journal_entry_id)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        let billing_log_id = self
            .billing_log(
                &tenant_id,
                actor,
                "ALLOCATION_REVERSAL",
                amount,
                &currency,
                Some(&command.reason),
                &applied.journal_entry_id,
            )
            .await?;
        let allocation = self.allocation_log_row(&command.allocation_log_id).await?;
        Ok(ReversalOutcome {
            reversal_id,
            amount_reversed: amount,
            new_allocation_balance: applied.from_balance_after,
            billing_log_id,
            journal_entry_id: applied.journal_entry_id,
            allocation,
        })
    }

    async fn reversed_so_far(&mut self, allocation_log_id: &str) -> StoreResult<Points> {
        let row = sqlx::query(
            "select cast(coalesce(sum(amount), 0) as bigint) as reversed \
             from allocation_reversals where allocation_log_id = $1",
        )
        .bind(allocation_log_id)
        .fetch_one(self.conn())
        .await?;
        points(&row, "reversed")
    }

    async fn allocation_log_row(&mut self, id: &str) -> StoreResult<AllocationLogRow> {
        let sql = format!("select {ALLOCATION_LOG_COLUMNS} from allocation_logs where id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| Error::not_found(Entity::AllocationLog))?;
        AllocationLogRow::from_row(&row)
    }
}

impl Store {
    /// Runs a bulk allocation for real and rolls it back: exactly what a commit would do now.
    pub async fn dry_run_bulk_allocation(
        &self,
        actor: &Actor,
        command: BulkAllocateCommand,
    ) -> StoreResult<BulkAllocationOutcome> {
        let mut tx = self.begin().await?;
        let outcome = tx.bulk_allocate(actor, command).await;
        tx.rollback().await?;
        outcome
    }

    /// One allocation log with its reversal state, if the caller may see its tenant (others
    /// are told it does not exist).
    pub async fn allocation_log(&self, actor: &Actor, id: &str) -> StoreResult<AllocationLogRow> {
        let sql = format!("select {ALLOCATION_LOG_COLUMNS} from allocation_logs where id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| Error::not_found(Entity::AllocationLog))?;
        let log = AllocationLogRow::from_row(&row)?;
        if !actor.can_see_tenant(Some(&log.tenant_id)) {
            return Err(Error::not_found(Entity::AllocationLog).into());
        }
        Ok(log)
    }
}

fn tenant_of(entry: &Result<BulkEntry, RefusedEntry>) -> &str {
    match entry {
        Ok(entry) => &entry.tenant_id,
        Err(refused) => &refused.tenant_id,
    }
}

/// The request-level rules: one to [`MAX_BULK_ALLOCATIONS`] entries, no tenant named twice.
fn check_bulk_entries(entries: &[Result<BulkEntry, RefusedEntry>]) -> Result<(), Error> {
    if entries.is_empty() {
        return Err(Error::invalid(
            "invalid_field",
            "allocations must name at least one tenant",
        ));
    }
    if entries.len() > MAX_BULK_ALLOCATIONS {
        return Err(Error::invalid(
            "too_many_allocations",
            format!(
                "A bulk allocation may name at most {MAX_BULK_ALLOCATIONS} tenants, not {}",
                entries.len()
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(entries.len());
    for entry in entries {
        let tenant_id = tenant_of(entry);
        if !seen.insert(tenant_id) {
            return Err(Error::invalid(
                "duplicate_tenant",
                format!("Tenant {tenant_id} is named more than once; name each tenant once"),
            ));
        }
    }
    Ok(())
}
