//! A budget's split: each department's share and each lead's allocation.
//!
//! Shares and allocations together never exceed the budget's total. The rule is kept by one
//! conditional update of `budgets.allocated_points` by the change (new amount − old amount),
//! in the transaction that writes the share, so concurrent changes cannot overshoot on
//! either backend. A share or allocation never drops below what it has already spent, which
//! is kept by a conditional update on the share's own row.

use perksu_domain::access::Actor;
use perksu_domain::recognition::month_of;
use perksu_domain::{Entity, Error, Points, Role};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{budget_closed, full_name, BudgetRow, BudgetStatus};
use crate::error::StoreResult;
use crate::rows::{points, text};
use crate::tx::{new_id, WriteTx};

/// A department's share of a budget.
#[derive(Clone, Debug)]
pub struct DepartmentShareRow {
    pub id: String,
    pub budget_id: String,
    pub department_id: String,
    pub department_name: String,
    pub allocated_points: Points,
    pub spent_points: Points,
    /// The most the department may spend in one calendar month (UTC); `None`: no cap.
    pub monthly_cap: Option<Points>,
    /// What it spent in the current calendar month (UTC).
    pub spent_this_month: Points,
}

impl DepartmentShareRow {
    pub fn remaining_points(&self) -> Points {
        remaining(self.allocated_points, self.spent_points)
    }

    pub(super) fn from_row(row: &AnyRow) -> StoreResult<DepartmentShareRow> {
        Ok(DepartmentShareRow {
            id: text(row, "id")?,
            budget_id: text(row, "budget_id")?,
            department_id: text(row, "department_id")?,
            department_name: text(row, "department_name")?,
            allocated_points: points(row, "allocated_points")?,
            spent_points: points(row, "spent_points")?,
            monthly_cap: row
                .try_get::<Option<i64>, _>("monthly_cap")?
                .map(Points::from_hundredths),
            spent_this_month: points(row, "spent_this_month")?,
        })
    }
}

/// A lead's allocation within a budget.
#[derive(Clone, Debug)]
pub struct LeadAllocationRow {
    pub id: String,
    pub budget_id: String,
    pub lead_id: String,
    pub lead_name: String,
    pub allocated_points: Points,
    pub spent_points: Points,
}

impl LeadAllocationRow {
    pub fn remaining_points(&self) -> Points {
        remaining(self.allocated_points, self.spent_points)
    }

    pub(super) fn from_row(row: &AnyRow) -> StoreResult<LeadAllocationRow> {
        Ok(LeadAllocationRow {
            id: text(row, "id")?,
            budget_id: text(row, "budget_id")?,
            lead_id: text(row, "lead_id")?,
            lead_name: full_name(row)?,
            allocated_points: points(row, "allocated_points")?,
            spent_points: points(row, "spent_points")?,
        })
    }
}

/// What a department's share should become.
pub struct DepartmentShare {
    pub allocated_points: Points,
    /// `None`: no monthly cap.
    pub monthly_cap: Option<Points>,
}

fn remaining(allocated: Points, spent: Points) -> Points {
    Points::from_hundredths((allocated.hundredths() - spent.hundredths()).max(0))
}

/// `$1` is the month (`YYYY-MM`) whose spending is shown.
pub(super) const SHARE_SELECT: &str = "select s.id, s.budget_id, s.department_id, \
     d.name as department_name, s.allocated_points, s.spent_points, s.monthly_cap, \
     cast(coalesce(m.spent_points, 0) as bigint) as spent_this_month \
     from department_budgets s join departments d on d.id = s.department_id \
     left join department_budget_months m on m.department_budget_id = s.id and m.month = $1";

pub(super) const LEAD_SELECT: &str =
    "select a.id, a.budget_id, a.lead_id, u.first_name, u.last_name, \
     a.allocated_points, a.spent_points \
     from lead_allocations a join users u on u.id = a.lead_id";

fn below_spent(spent: Points, requested: Points) -> Error {
    Error::invalid(
        "allocation_below_spent",
        format!(
            "An allocation cannot be below what it has already spent. Spent: {spent}, \
             Requested: {requested}"
        ),
    )
}

fn not_a_lead() -> Error {
    Error::invalid(
        "not_a_lead",
        "Budget allocations can only be given to a lead",
    )
}

fn cap_words(cap: Option<Points>) -> String {
    cap.map_or_else(|| "none".to_owned(), |cap| cap.to_string())
}

/// The stored amount and spending of a share or allocation that already exists.
struct Existing {
    id: String,
    allocated: Points,
    monthly_cap: Option<Points>,
}

impl WriteTx {
    /// Creates or changes a department's share of a budget.
    pub async fn set_department_share(
        &mut self,
        actor: &Actor,
        budget_id: &str,
        department_id: &str,
        share: DepartmentShare,
    ) -> StoreResult<DepartmentShareRow> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        if share.monthly_cap.is_some_and(Points::is_zero) {
            return Err(
                Error::invalid("invalid_amount", "monthly_cap must be greater than zero").into(),
            );
        }
        let budget = self.lock_budget(&tenant_id, budget_id).await?;
        if budget.status == BudgetStatus::Closed {
            return Err(budget_closed().into());
        }
        let department =
            sqlx::query("select name from departments where id = $1 and tenant_id = $2")
                .bind(department_id)
                .bind(&tenant_id)
                .fetch_optional(self.conn())
                .await?
                .ok_or_else(|| Error::not_found(Entity::Department))?;
        let department_name = text(&department, "name")?;
        let existing = sqlx::query(
            "select id, allocated_points, monthly_cap from department_budgets \
             where budget_id = $1 and department_id = $2",
        )
        .bind(budget_id)
        .bind(department_id)
        .fetch_optional(self.conn())
        .await?
        .map(|row| existing(&row))
        .transpose()?;
        let requested = share.allocated_points;
        let old = existing.as_ref().map_or(Points::ZERO, |e| e.allocated);
        self.reserve_split(&budget, old, requested).await?;
        let now = self.now().as_str().to_owned();
        let id = match &existing {
            Some(existing) => {
                let updated = sqlx::query(
                    "update department_budgets set allocated_points = $1, monthly_cap = $2, \
                     updated_at = $3 where id = $4 and spent_points <= $1",
                )
                .bind(requested.hundredths())
                .bind(share.monthly_cap.map(Points::hundredths))
                .bind(&now)
                .bind(&existing.id)
                .execute(self.conn())
                .await?
                .rows_affected();
                if updated == 0 {
                    let spent = self.spent_of("department_budgets", &existing.id).await?;
                    return Err(below_spent(spent, requested).into());
                }
                existing.id.clone()
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "insert into department_budgets (id, tenant_id, budget_id, department_id, \
                     allocated_points, spent_points, monthly_cap, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, 0, $6, $7, $7)",
                )
                .bind(&id)
                .bind(&tenant_id)
                .bind(budget_id)
                .bind(department_id)
                .bind(requested.hundredths())
                .bind(share.monthly_cap.map(Points::hundredths))
                .bind(&now)
                .execute(self.conn())
                .await?;
                id
            }
        };
        let detail = match &existing {
            Some(existing) => format!(
                "Department \"{department_name}\": {requested} (was {}), monthly cap {} \
                 (was {})",
                existing.allocated,
                cap_words(share.monthly_cap),
                cap_words(existing.monthly_cap)
            ),
            None => format!(
                "Department \"{department_name}\": {requested} (new share), monthly cap {}",
                cap_words(share.monthly_cap)
            ),
        };
        self.budget_event(
            &tenant_id,
            budget_id,
            &actor.user_id,
            "department_share_set",
            detail,
        )
        .await?;
        let sql = format!("{SHARE_SELECT} where s.id = $2");
        let row = sqlx::query(&sql)
            .bind(month_of(self.now().as_str()).to_owned())
            .bind(&id)
            .fetch_one(self.conn())
            .await?;
        DepartmentShareRow::from_row(&row)
    }

    /// Creates or changes a lead's allocation within a budget.
    pub async fn set_lead_allocation(
        &mut self,
        actor: &Actor,
        budget_id: &str,
        lead_id: &str,
        allocated_points: Points,
    ) -> StoreResult<LeadAllocationRow> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        let budget = self.lock_budget(&tenant_id, budget_id).await?;
        if budget.status == BudgetStatus::Closed {
            return Err(budget_closed().into());
        }
        let lead = self
            .user_in_tenant(&tenant_id, lead_id, Entity::Lead)
            .await?;
        if lead.role != Role::Lead {
            return Err(not_a_lead().into());
        }
        let lead_name = format!("{} {}", lead.first_name, lead.last_name);
        let existing = sqlx::query(
            "select id, allocated_points, cast(null as bigint) as monthly_cap \
             from lead_allocations where budget_id = $1 and lead_id = $2",
        )
        .bind(budget_id)
        .bind(lead_id)
        .fetch_optional(self.conn())
        .await?
        .map(|row| existing(&row))
        .transpose()?;
        let old = existing.as_ref().map_or(Points::ZERO, |e| e.allocated);
        self.reserve_split(&budget, old, allocated_points).await?;
        let now = self.now().as_str().to_owned();
        let id = match &existing {
            Some(existing) => {
                let updated = sqlx::query(
                    "update lead_allocations set allocated_points = $1, updated_at = $2 \
                     where id = $3 and spent_points <= $1",
                )
                .bind(allocated_points.hundredths())
                .bind(&now)
                .bind(&existing.id)
                .execute(self.conn())
                .await?
                .rows_affected();
                if updated == 0 {
                    let spent = self.spent_of("lead_allocations", &existing.id).await?;
                    return Err(below_spent(spent, allocated_points).into());
                }
                existing.id.clone()
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "insert into lead_allocations (id, tenant_id, budget_id, lead_id, \
                     allocated_points, spent_points, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, 0, $6, $6)",
                )
                .bind(&id)
                .bind(&tenant_id)
                .bind(budget_id)
                .bind(lead_id)
                .bind(allocated_points.hundredths())
                .bind(&now)
                .execute(self.conn())
                .await?;
                id
            }
        };
        let was = existing.as_ref().map_or_else(
            || "new allocation".to_owned(),
            |e| format!("was {}", e.allocated),
        );
        let detail = format!("Lead {lead_name}: {allocated_points} ({was})");
        self.budget_event(
            &tenant_id,
            budget_id,
            &actor.user_id,
            "lead_allocation_set",
            detail,
        )
        .await?;
        let sql = format!("{LEAD_SELECT} where a.id = $1");
        let row = sqlx::query(&sql).bind(&id).fetch_one(self.conn()).await?;
        LeadAllocationRow::from_row(&row)
    }

    /// Moves the budget's `allocated_points` by `requested − old`, refusing a split beyond
    /// the total. One conditional update: no other transaction can change the split between
    /// the check and the write.
    async fn reserve_split(
        &mut self,
        budget: &BudgetRow,
        old: Points,
        requested: Points,
    ) -> StoreResult<()> {
        let delta = requested.hundredths() - old.hundredths();
        let moved = sqlx::query(
            "update budgets set allocated_points = allocated_points + $1, updated_at = $2 \
             where id = $3 and allocated_points + $1 <= total_points \
             and allocated_points + $1 >= 0 returning allocated_points",
        )
        .bind(delta)
        .bind(self.now().as_str().to_owned())
        .bind(&budget.id)
        .fetch_optional(self.conn())
        .await?;
        if moved.is_some() {
            return Ok(());
        }
        // Read only to word the refusal; the row is locked by this transaction.
        let current = self.budget_row(&budget.id).await?;
        Err(Error::invalid(
            "budget_exceeded",
            format!(
                "Budget split exceeds the total. Unallocated: {}, Required: {}",
                current.unallocated_points(),
                Points::from_hundredths(delta.max(0))
            ),
        )
        .into())
    }

    async fn spent_of(&mut self, table: &str, id: &str) -> StoreResult<Points> {
        let sql = format!("select spent_points from {table} where id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_one(self.conn()).await?;
        points(&row, "spent_points")
    }
}

fn existing(row: &AnyRow) -> StoreResult<Existing> {
    Ok(Existing {
        id: text(row, "id")?,
        allocated: points(row, "allocated_points")?,
        monthly_cap: row
            .try_get::<Option<i64>, _>("monthly_cap")?
            .map(Points::from_hundredths),
    })
}
