//! Reading budgets, their split and their change log: tenant managers and leads, each their
//! own tenant's.

use perksu_domain::access::Actor;
use perksu_domain::recognition::month_of;
use perksu_domain::{Error, Role};

use super::split::{DepartmentShareRow, LeadAllocationRow, LEAD_SELECT, SHARE_SELECT};
use super::{budget_not_found, BudgetEventRow, BudgetRow, BudgetStatus, BUDGET_SELECT};
use crate::error::StoreResult;
use crate::Store;

/// The tenant whose budgets the caller may read: managers and leads read their own.
fn reader_tenant(actor: &Actor) -> Result<&str, Error> {
    match actor.role {
        Role::TenantManager | Role::Lead => actor.own_tenant(),
        _ => Err(Error::forbidden(
            "Only a tenant manager or a lead may read budgets",
        )),
    }
}

impl Store {
    /// The caller's tenant's budgets, newest first, optionally of one status.
    pub async fn budgets(
        &self,
        actor: &Actor,
        status: Option<BudgetStatus>,
    ) -> StoreResult<Vec<BudgetRow>> {
        let tenant_id = reader_tenant(actor)?;
        let rows = match status {
            Some(status) => {
                let sql = format!(
                    "{BUDGET_SELECT} where b.tenant_id = $1 and b.status = $2 \
                     order by b.created_at desc, b.id desc"
                );
                sqlx::query(&sql)
                    .bind(tenant_id)
                    .bind(status.as_str())
                    .fetch_all(self.read())
                    .await?
            }
            None => {
                let sql = format!(
                    "{BUDGET_SELECT} where b.tenant_id = $1 order by b.created_at desc, b.id desc"
                );
                sqlx::query(&sql)
                    .bind(tenant_id)
                    .fetch_all(self.read())
                    .await?
            }
        };
        rows.iter().map(BudgetRow::from_row).collect()
    }

    /// One budget of the caller's tenant.
    pub async fn budget(&self, actor: &Actor, budget_id: &str) -> StoreResult<BudgetRow> {
        let tenant_id = reader_tenant(actor)?;
        self.budget_of(tenant_id, budget_id).await
    }

    async fn budget_of(&self, tenant_id: &str, budget_id: &str) -> StoreResult<BudgetRow> {
        let sql = format!("{BUDGET_SELECT} where b.id = $1 and b.tenant_id = $2");
        let row = sqlx::query(&sql)
            .bind(budget_id)
            .bind(tenant_id)
            .fetch_optional(self.read())
            .await?
            .ok_or_else(budget_not_found)?;
        BudgetRow::from_row(&row)
    }

    /// Who changed what in a budget, newest first.
    pub async fn budget_events(
        &self,
        actor: &Actor,
        budget_id: &str,
    ) -> StoreResult<Vec<BudgetEventRow>> {
        let tenant_id = reader_tenant(actor)?;
        self.budget_of(tenant_id, budget_id).await?;
        let rows = sqlx::query(
            "select e.id, e.budget_id, e.actor_id, u.first_name, u.last_name, e.action, \
             e.detail, e.created_at from budget_events e join users u on u.id = e.actor_id \
             where e.budget_id = $1 and e.tenant_id = $2 \
             order by e.created_at desc, e.id desc",
        )
        .bind(budget_id)
        .bind(tenant_id)
        .fetch_all(self.read())
        .await?;
        rows.iter().map(BudgetEventRow::from_row).collect()
    }

    /// A budget's department shares, by department name, with this month's spending.
    pub async fn budget_departments(
        &self,
        actor: &Actor,
        budget_id: &str,
    ) -> StoreResult<Vec<DepartmentShareRow>> {
        let tenant_id = reader_tenant(actor)?;
        self.budget_of(tenant_id, budget_id).await?;
        let sql = format!("{SHARE_SELECT} where s.budget_id = $2 and s.tenant_id = $3");
        let rows = sqlx::query(&sql)
            .bind(month_of(self.now().as_str()).to_owned())
            .bind(budget_id)
            .bind(tenant_id)
            .fetch_all(self.read())
            .await?;
        let mut shares = rows
            .iter()
            .map(DepartmentShareRow::from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        shares.sort_by(|a, b| {
            (a.department_name.as_str(), a.id.as_str())
                .cmp(&(b.department_name.as_str(), b.id.as_str()))
        });
        Ok(shares)
    }

    /// A budget's lead allocations, by lead name.
    pub async fn budget_leads(
        &self,
        actor: &Actor,
        budget_id: &str,
    ) -> StoreResult<Vec<LeadAllocationRow>> {
        let tenant_id = reader_tenant(actor)?;
        self.budget_of(tenant_id, budget_id).await?;
        let sql = format!("{LEAD_SELECT} where a.budget_id = $1 and a.tenant_id = $2");
        let rows = sqlx::query(&sql)
            .bind(budget_id)
            .bind(tenant_id)
            .fetch_all(self.read())
            .await?;
        let mut allocations = rows
            .iter()
            .map(LeadAllocationRow::from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        allocations.sort_by(|a, b| {
            (a.lead_name.as_str(), a.id.as_str()).cmp(&(b.lead_name.as_str(), b.id.as_str()))
        });
        Ok(allocations)
    }
}
