//! The audit trail's listings: allocation logs, platform billing logs, wallet ledger and journal.
//!
//! Every listing is scoped before it is filtered: a platform admin sees every tenant, a tenant
//! user only their own (and employees and leads only their own wallet lines).

use perksu_domain::access::Actor;
use perksu_domain::{Entity, Error, Points, Role};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{integer, optional_text, points, text, timestamp};
use crate::Store;

/// Filters shared by every listing. `limit` is clamped to 1..=200.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub tenant_id: Option<String>,
    pub actor_id: Option<String>,
    /// The listing's type column: `transaction_type`, the journal's `kind`, ...
    pub kind: Option<String>,
    pub user_id: Option<String>,
    /// Inclusive lower bound on `created_at`.
    pub from: Option<Timestamp>,
    /// Exclusive upper bound on `created_at`.
    pub to: Option<Timestamp>,
    pub limit: i64,
    pub offset: i64,
}

pub const MAX_PAGE_SIZE: i64 = 200;

pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

pub struct AllocationLogRow {
    pub id: String,
    pub tenant_id: String,
    pub allocated_by: String,
    pub amount: Points,
    pub currency: String,
    pub reference_note: Option<String>,
    pub previous_balance: Points,
    pub new_balance: Points,
    pub created_at: Timestamp,
    /// The sum of this allocation's reversals (see `allocations.rs`).
    pub reversed_amount: Points,
    /// The tenant's pool now: a reversal can only take back what is still there.
    pub pool_balance: Points,
}

pub struct BillingLogRow {
    pub id: String,
    pub tenant_id: String,
    pub admin_id: String,
    pub transaction_type: String,
    pub amount: Points,
    pub currency: String,
    pub reference_note: Option<String>,
    pub created_at: Timestamp,
}

pub struct WalletLedgerRow {
    pub id: String,
    pub tenant_id: String,
    pub wallet_id: String,
    pub user_id: String,
    pub transaction_type: String,
    pub source: String,
    pub amount: Points,
    pub balance_after: Points,
    pub reference_id: Option<String>,
    pub description: Option<String>,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
}

pub struct JournalRow {
    pub id: String,
    pub tenant_id: Option<String>,
    pub kind: String,
    pub debit_account: String,
    pub credit_account: String,
    pub amount: Points,
    pub actor_id: Option<String>,
    pub reason: Option<String>,
    pub reference_id: Option<String>,
    pub created_at: Timestamp,
}

/// An allocation log with its reversal state: the sum of its reversals and the tenant's pool,
/// read by correlated subqueries so the listing's filters and paging stay on `allocation_logs`.
pub(crate) const ALLOCATION_LOG_COLUMNS: &str = "id, tenant_id, allocated_by, amount, currency, \
     reference_note, previous_balance, new_balance, created_at, \
     (select cast(coalesce(sum(r.amount), 0) as bigint) from allocation_reversals r \
      where r.allocation_log_id = allocation_logs.id) as reversed_amount, \
     (select t.points_allocation_balance from tenants t \
      where t.id = allocation_logs.tenant_id) as pool_balance";

impl AllocationLogRow {
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<AllocationLogRow> {
        Ok(AllocationLogRow {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            allocated_by: text(row, "allocated_by")?,
            amount: points(row, "amount")?,
            currency: text(row, "currency")?,
            reference_note: optional_text(row, "reference_note")?,
            previous_balance: points(row, "previous_balance")?,
            new_balance: points(row, "new_balance")?,
            created_at: timestamp(row, "created_at")?,
            reversed_amount: points(row, "reversed_amount")?,
            pool_balance: points(row, "pool_balance")?,
        })
    }
}

/// The column names one listing filters on.
struct Listing {
    table: &'static str,
    columns: &'static str,
    actor_column: &'static str,
    kind_column: Option<&'static str>,
    user_column: Option<&'static str>,
}

impl Store {
    pub async fn allocation_logs(
        &self,
        actor: &Actor,
        filter: AuditFilter,
    ) -> StoreResult<Page<AllocationLogRow>> {
        let listing = Listing {
            table: "allocation_logs",
            columns: ALLOCATION_LOG_COLUMNS,
            actor_column: "allocated_by",
            kind_column: None,
            user_column: None,
        };
        self.list(actor, filter, listing, AllocationLogRow::from_row)
            .await
    }

    pub async fn billing_logs(
        &self,
        actor: &Actor,
        filter: AuditFilter,
    ) -> StoreResult<Page<BillingLogRow>> {
        let listing = Listing {
            table: "platform_billing_logs",
            columns: "id, tenant_id, admin_id, transaction_type, amount, currency, \
                      reference_note, created_at",
            actor_column: "admin_id",
            kind_column: Some("transaction_type"),
            user_column: None,
        };
        self.list(actor, filter, listing, |row| {
            Ok(BillingLogRow {
                id: text(row, "id")?,
                tenant_id: text(row, "tenant_id")?,
                admin_id: text(row, "admin_id")?,
                transaction_type: text(row, "transaction_type")?,
                amount: points(row, "amount")?,
                currency: text(row, "currency")?,
                reference_note: optional_text(row, "reference_note")?,
                created_at: timestamp(row, "created_at")?,
            })
        })
        .await
    }

    /// Wallet lines. Employees and leads see only their own; managers their tenant's.
    pub async fn wallet_ledger(
        &self,
        actor: &Actor,
        mut filter: AuditFilter,
    ) -> StoreResult<Page<WalletLedgerRow>> {
        if matches!(actor.role, Role::Employee | Role::Lead) {
            filter.user_id = Some(actor.user_id.clone());
        }
        let listing = Listing {
            table: "wallet_ledger",
            columns: "id, tenant_id, wallet_id, user_id, transaction_type, source, amount, \
                      balance_after, reference_id, description, created_by, created_at",
            actor_column: "created_by",
            kind_column: Some("source"),
            user_column: Some("user_id"),
        };
        self.list(actor, filter, listing, |row| {
            Ok(WalletLedgerRow {
                id: text(row, "id")?,
                tenant_id: text(row, "tenant_id")?,
                wallet_id: text(row, "wallet_id")?,
                user_id: text(row, "user_id")?,
                transaction_type: text(row, "transaction_type")?,
                source: text(row, "source")?,
                amount: points(row, "amount")?,
                balance_after: points(row, "balance_after")?,
                reference_id: optional_text(row, "reference_id")?,
                description: optional_text(row, "description")?,
                created_by: optional_text(row, "created_by")?,
                created_at: timestamp(row, "created_at")?,
            })
        })
        .await
    }

    /// Every movement. Platform admins and tenant managers only.
    pub async fn journal(
        &self,
        actor: &Actor,
        filter: AuditFilter,
    ) -> StoreResult<Page<JournalRow>> {
        if !matches!(actor.role, Role::PlatformAdmin | Role::TenantManager) {
            return Err(Error::forbidden(
                "Only platform admins and tenant managers read the journal",
            )
            .into());
        }
        let listing = Listing {
            table: "journal_entries",
            columns: "id, tenant_id, kind, debit_account, credit_account, amount, actor_id, \
                      reason, reference_id, created_at",
            actor_column: "actor_id",
            kind_column: Some("kind"),
            user_column: None,
        };
        self.list(actor, filter, listing, |row| {
            Ok(JournalRow {
                id: text(row, "id")?,
                tenant_id: optional_text(row, "tenant_id")?,
                kind: text(row, "kind")?,
                debit_account: text(row, "debit_account")?,
                credit_account: text(row, "credit_account")?,
                amount: points(row, "amount")?,
                actor_id: optional_text(row, "actor_id")?,
                reason: optional_text(row, "reason")?,
                reference_id: optional_text(row, "reference_id")?,
                created_at: timestamp(row, "created_at")?,
            })
        })
        .await
    }

    async fn list<T>(
        &self,
        actor: &Actor,
        mut filter: AuditFilter,
        listing: Listing,
        map: impl Fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Page<T>> {
        if !actor.is_platform_admin() {
            let own = actor.own_tenant()?;
            match filter.tenant_id.as_deref() {
                Some(requested) if requested != own => {
                    return Err(Error::not_found(Entity::Tenant).into())
                }
                _ => filter.tenant_id = Some(own.to_owned()),
            }
        }
        let limit = filter.limit.clamp(1, MAX_PAGE_SIZE);
        let offset = filter.offset.max(0);
        let mut conditions: Vec<String> = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        let mut add = |condition: &str, value: String| {
            binds.push(value);
            conditions.push(condition.replace('?', &format!("${}", binds.len())));
        };
        if let Some(tenant_id) = filter.tenant_id {
            add("tenant_id = ?", tenant_id);
        }
        if let Some(actor_id) = filter.actor_id {
            add(&format!("{} = ?", listing.actor_column), actor_id);
        }
        if let (Some(kind), Some(column)) = (filter.kind, listing.kind_column) {
            add(&format!("{column} = ?"), kind);
        }
        if let (Some(user_id), Some(column)) = (filter.user_id, listing.user_column) {
            add(&format!("{column} = ?"), user_id);
        }
        if let Some(from) = filter.from {
            add("created_at >= ?", from.as_str().to_owned());
        }
        if let Some(to) = filter.to {
            add("created_at < ?", to.as_str().to_owned());
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!(" where {}", conditions.join(" and "))
        };
        let count_sql = format!(
            "select count(*) as total from {}{where_clause}",
            listing.table
        );
        let mut count = sqlx::query(&count_sql);
        for value in &binds {
            count = count.bind(value.as_str());
        }
        let total = integer(&count.fetch_one(self.read()).await?, "total")?;
        let page_sql = format!(
            "select {} from {}{where_clause} order by created_at desc, id desc limit ${} offset ${}",
            listing.columns,
            listing.table,
            binds.len() + 1,
            binds.len() + 2
        );
        let mut page = sqlx::query(&page_sql);
        for value in &binds {
            page = page.bind(value.as_str());
        }
        let rows = page.bind(limit).bind(offset).fetch_all(self.read()).await?;
        let items = rows.iter().map(map).collect::<StoreResult<Vec<T>>>()?;
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }
}
