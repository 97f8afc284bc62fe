//! Fiscal budgets: how many points a tenant means to spend in a year or a quarter, and how
//! that total is split across departments and leads (see docs/PROGRAMS.md, "Budgets").
//!
//! A budget is `draft`, `active` or `closed`; at most one per tenant is active (the partial
//! unique index `budgets_one_active_per_tenant` is the guard). Every write locks the budget
//! row first, so changes to one budget run one after the other, and appends a
//! `budget_events` row in the same transaction. The split lives in [`split`], the field
//! checks in [`fields`], and what managers and leads read in [`reads`].

mod fields;
mod reads;
mod split;

use perksu_domain::access::Actor;
use perksu_domain::{Entity, Error, Points};
use sqlx::any::AnyRow;
use sqlx::Row;

use self::fields::{
    check_expiry_date, check_fiscal_quarter, check_fiscal_year, check_name, check_total, or_none,
    period,
};
pub use self::split::{DepartmentShare, DepartmentShareRow, LeadAllocationRow};
use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::rows::{integer, optional_text, points, text, timestamp, word};
use crate::tx::{new_id, WriteTx};

/// Where a budget is in its life: draft → active → closed, or draft → closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetStatus {
    Draft,
    Active,
    Closed,
}

impl BudgetStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            BudgetStatus::Draft => "draft",
            BudgetStatus::Active => "active",
            BudgetStatus::Closed => "closed",
        }
    }

    pub fn parse(word: &str) -> Option<BudgetStatus> {
        match word {
            "draft" => Some(BudgetStatus::Draft),
            "active" => Some(BudgetStatus::Active),
            "closed" => Some(BudgetStatus::Closed),
            _ => None,
        }
    }

    /// The accepted words, for error messages.
    pub fn expected() -> String {
        "draft, active, closed".to_owned()
    }
}

#[derive(Clone, Debug)]
pub struct BudgetRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub fiscal_year: i64,
    pub fiscal_quarter: Option<i64>,
    pub total_points: Points,
    /// What the department shares and lead allocations add up to.
    pub allocated_points: Points,
    /// What the shares and allocations have spent.
    pub spent_points: Points,
    pub status: BudgetStatus,
    /// The last day (`YYYY-MM-DD`, UTC) on which the budget is in force.
    pub expiry_date: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub activated_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

impl BudgetRow {
    pub fn unallocated_points(&self) -> Points {
        Points::from_hundredths(
            (self.total_points.hundredths() - self.allocated_points.hundredths()).max(0),
        )
    }

    fn from_row(row: &AnyRow) -> StoreResult<BudgetRow> {
        Ok(BudgetRow {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            name: text(row, "name")?,
            fiscal_year: integer(row, "fiscal_year")?,
            fiscal_quarter: row.try_get::<Option<i64>, _>("fiscal_quarter")?,
            total_points: points(row, "total_points")?,
            allocated_points: points(row, "allocated_points")?,
            spent_points: points(row, "spent_points")?,
            status: word(row, "status", BudgetStatus::parse)?,
            expiry_date: optional_text(row, "expiry_date")?,
            created_by: text(row, "created_by")?,
            created_at: timestamp(row, "created_at")?,
            updated_at: timestamp(row, "updated_at")?,
            activated_at: optional_text(row, "activated_at")?.map(Timestamp::from_stored),
            closed_at: optional_text(row, "closed_at")?.map(Timestamp::from_stored),
        })
    }
}

const BUDGET_SELECT: &str = "select b.id, b.tenant_id, b.name, b.fiscal_year, b.fiscal_quarter, \
     b.total_points, b.allocated_points, b.status, b.expiry_date, b.created_by, b.created_at, \
     b.updated_at, b.activated_at, b.closed_at, \
     cast((select coalesce(sum(d.spent_points), 0) from department_budgets d \
           where d.budget_id = b.id) \
        + (select coalesce(sum(l.spent_points), 0) from lead_allocations l \
           where l.budget_id = b.id) as bigint) as spent_points \
     from budgets b";

/// A request to create a budget; the store checks every field.
pub struct NewBudget {
    pub name: String,
    pub fiscal_year: i64,
    pub fiscal_quarter: Option<i64>,
    pub total_points: Points,
    /// `YYYY-MM-DD`.
    pub expiry_date: Option<String>,
}

/// Changes to a budget; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Default)]
pub struct BudgetPatch {
    pub name: Option<String>,
    pub fiscal_year: Option<i64>,
    pub fiscal_quarter: Option<Option<i64>>,
    pub total_points: Option<Points>,
    pub expiry_date: Option<Option<String>>,
}

/// One change to a budget: who made it, what it was, and its amounts in words.
#[derive(Clone, Debug)]
pub struct BudgetEventRow {
    pub id: String,
    pub budget_id: String,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub detail: String,
    pub created_at: Timestamp,
}

impl BudgetEventRow {
    fn from_row(row: &AnyRow) -> StoreResult<BudgetEventRow> {
        Ok(BudgetEventRow {
            id: text(row, "id")?,
            budget_id: text(row, "budget_id")?,
            actor_id: text(row, "actor_id")?,
            actor_name: full_name(row)?,
            action: text(row, "action")?,
            detail: text(row, "detail")?,
            created_at: timestamp(row, "created_at")?,
        })
    }
}

/// `first_name last_name` of a joined `users` row.
fn full_name(row: &AnyRow) -> StoreResult<String> {
    Ok(format!(
        "{} {}",
        text(row, "first_name")?,
        text(row, "last_name")?
    ))
}

fn budget_not_found() -> Error {
    Error::not_found(Entity::Budget)
}

fn budget_closed() -> Error {
    Error::conflict(
        "budget_closed",
        "This budget is closed: it can no longer be changed",
    )
}

fn invalid_transition(detail: &str) -> Error {
    Error::conflict("invalid_budget_transition", detail)
}

impl WriteTx {
    /// Creates a draft budget in the manager's tenant.
    pub async fn create_budget(&mut self, actor: &Actor, new: NewBudget) -> StoreResult<BudgetRow> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        let name = check_name(&new.name)?;
        let fiscal_year = check_fiscal_year(new.fiscal_year)?;
        let fiscal_quarter = check_fiscal_quarter(new.fiscal_quarter)?;
        let total = check_total(new.total_points)?;
        let expiry_date = check_expiry_date(new.expiry_date)?;
        let id = new_id();
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into budgets (id, tenant_id, name, fiscal_year, fiscal_quarter, \
             total_points, allocated_points, status, expiry_date, created_by, created_at, \
             updated_at) values ($1, $2, $3, $4, $5, $6, 0, 'draft', $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(&tenant_id)
        .bind(&name)
        .bind(fiscal_year)
        .bind(fiscal_quarter)
        .bind(total.hundredths())
        .bind(expiry_date.as_deref())
        .bind(&actor.user_id)
        .bind(&now)
        .execute(self.conn())
        .await?;
        let detail = format!(
            "Created \"{name}\" ({}) with a total of {total}, expiring {}",
            period(fiscal_year, fiscal_quarter),
            expiry_date.as_deref().unwrap_or("never"),
        );
        self.budget_event(&tenant_id, &id, &actor.user_id, "created", detail)
            .await?;
        self.budget_row(&id).await
    }

    /// Changes a budget's name, period, total or expiry; not once it is closed, and never
    /// its total below what is already split.
    pub async fn update_budget(
        &mut self,
        actor: &Actor,
        budget_id: &str,
        patch: BudgetPatch,
    ) -> StoreResult<BudgetRow> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        let current = self.lock_budget(&tenant_id, budget_id).await?;
        if current.status == BudgetStatus::Closed {
            return Err(budget_closed().into());
        }
        let name = match patch.name {
            Some(name) => check_name(&name)?,
            None => current.name.clone(),
        };
        let fiscal_year = match patch.fiscal_year {
            Some(year) => check_fiscal_year(year)?,
            None => current.fiscal_year,
        };
        let fiscal_quarter = match patch.fiscal_quarter {
            Some(quarter) => check_fiscal_quarter(quarter)?,
            None => current.fiscal_quarter,
        };
        let total = match patch.total_points {
            Some(total) => check_total(total)?,
            None => current.total_points,
        };
        let expiry_date = match patch.expiry_date {
            Some(date) => check_expiry_date(date)?,
            None => current.expiry_date.clone(),
        };
        let total_below_allocated = || {
            Error::invalid(
                "budget_total_below_allocated",
                format!(
                    "The total cannot be below what is already split. Allocated: {}, \
                     Requested total: {total}",
                    current.allocated_points
                ),
            )
        };
        if total.hundredths() < current.allocated_points.hundredths() {
            return Err(total_below_allocated().into());
        }
        // The row is locked, so this only repeats the check above; the condition keeps the
        // rule in the statement that writes the total.
        let updated = sqlx::query(
            "update budgets set name = $1, fiscal_year = $2, fiscal_quarter = $3, \
             total_points = $4, expiry_date = $5, updated_at = $6 \
             where id = $7 and allocated_points <= $4",
        )
        .bind(&name)
        .bind(fiscal_year)
        .bind(fiscal_quarter)
        .bind(total.hundredths())
        .bind(expiry_date.as_deref())
        .bind(self.now().as_str().to_owned())
        .bind(budget_id)
        .execute(self.conn())
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(total_below_allocated().into());
        }
        let mut changes = Vec::new();
        if name != current.name {
            changes.push(format!("name from \"{}\" to \"{name}\"", current.name));
        }
        if fiscal_year != current.fiscal_year || fiscal_quarter != current.fiscal_quarter {
            changes.push(format!(
                "period from {} to {}",
                period(current.fiscal_year, current.fiscal_quarter),
                period(fiscal_year, fiscal_quarter)
            ));
        }
        if total != current.total_points {
            changes.push(format!("total from {} to {total}", current.total_points));
        }
        if expiry_date != current.expiry_date {
            changes.push(format!(
                "expiry date from {} to {}",
                or_none(current.expiry_date.as_deref()),
                or_none(expiry_date.as_deref())
            ));
        }
        let detail = if changes.is_empty() {
            "Saved with no change".to_owned()
        } else {
            format!("Changed {}", changes.join("; "))
        };
        self.budget_event(&tenant_id, budget_id, &actor.user_id, "updated", detail)
            .await?;
        self.budget_row(budget_id).await
    }

    /// Draft → active. Another active budget in the tenant is a 409; the unique index decides
    /// between two activations racing each other.
    pub async fn activate_budget(
        &mut self,
        actor: &Actor,
        budget_id: &str,
    ) -> StoreResult<BudgetRow> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        let current = self.lock_budget(&tenant_id, budget_id).await?;
        match current.status {
            BudgetStatus::Draft => {}
            BudgetStatus::Active => {
                return Err(invalid_transition("This budget is already active").into())
            }
            BudgetStatus::Closed => return Err(budget_closed().into()),
        }
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "update budgets set status = 'active', activated_at = $1, updated_at = $1 \
             where id = $2 and status = 'draft'",
        )
        .bind(&now)
        .bind(budget_id)
        .execute(self.conn())
        .await
        .map_err(|error| already_active(error.into()))?;
        let detail = format!(
            "Activated with a total of {}, of which {} split",
            current.total_points, current.allocated_points
        );
        self.budget_event(&tenant_id, budget_id, &actor.user_id, "activated", detail)
            .await?;
        self.budget_row(budget_id).await
    }

    /// Draft or active → closed, for good: a closed budget funds and limits nothing.
    pub async fn close_budget(&mut self, actor: &Actor, budget_id: &str) -> StoreResult<BudgetRow> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        let current = self.lock_budget(&tenant_id, budget_id).await?;
        if current.status == BudgetStatus::Closed {
            return Err(invalid_transition("This budget is already closed").into());
        }
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "update budgets set status = 'closed', closed_at = $1, updated_at = $1 \
             where id = $2 and status <> 'closed'",
        )
        .bind(&now)
        .bind(budget_id)
        .execute(self.conn())
        .await?;
        let detail = format!(
            "Closed (was {}) with {} of {} spent",
            current.status.as_str(),
            current.spent_points,
            current.total_points
        );
        self.budget_event(&tenant_id, budget_id, &actor.user_id, "closed", detail)
            .await?;
        self.budget_row(budget_id).await
    }

    /// The tenant's budget in force now: active, and not past its expiry date (UTC, the
    /// date itself included). The recognition funding charges this one.
    pub(crate) async fn active_budget_id(
        &mut self,
        tenant_id: &str,
    ) -> StoreResult<Option<String>> {
        let today = utc_date(self.now());
        let row = sqlx::query(
            "select id from budgets where tenant_id = $1 and status = 'active' \
             and (expiry_date is null or expiry_date >= $2)",
        )
        .bind(tenant_id)
        .bind(today)
        .fetch_optional(self.conn())
        .await?;
        row.map(|row| text(&row, "id")).transpose()
    }

    /// Locks a budget of `tenant_id` for this transaction and reads it; another tenant's
    /// budget is not found.
    pub(crate) async fn lock_budget(
        &mut self,
        tenant_id: &str,
        budget_id: &str,
    ) -> StoreResult<BudgetRow> {
        let locked =
            sqlx::query("update budgets set status = status where id = $1 and tenant_id = $2")
                .bind(budget_id)
                .bind(tenant_id)
                .execute(self.conn())
                .await?
                .rows_affected();
        if locked == 0 {
            return Err(budget_not_found().into());
        }
        self.budget_row(budget_id).await
    }

    async fn budget_row(&mut self, budget_id: &str) -> StoreResult<BudgetRow> {
        let sql = format!("{BUDGET_SELECT} where b.id = $1");
        let row = sqlx::query(&sql)
            .bind(budget_id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(budget_not_found)?;
        BudgetRow::from_row(&row)
    }

    pub(crate) async fn budget_event(
        &mut self,
        tenant_id: &str,
        budget_id: &str,
        actor_id: &str,
        action: &str,
        detail: String,
    ) -> StoreResult<()> {
        sqlx::query(
            "insert into budget_events (id, tenant_id, budget_id, actor_id, action, detail, \
             created_at) values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(tenant_id)
        .bind(budget_id)
        .bind(actor_id)
        .bind(action)
        .bind(detail)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

/// The activation refused by `budgets_one_active_per_tenant` (SQLite names the column, not
/// the index) is the client's conflict, not a failure.
fn already_active(error: StoreError) -> StoreError {
    match error.constraint() {
        Some("budgets_one_active_per_tenant" | "budgets.tenant_id") => Error::conflict(
            "budget_already_active",
            "Another budget is already active in this tenant: close it before activating this one",
        )
        .into(),
        _ => error,
    }
}

/// `YYYY-MM-DD` of a stored timestamp.
pub(crate) fn utc_date(at: &Timestamp) -> String {
    at.as_str().chars().take(10).collect()
}
