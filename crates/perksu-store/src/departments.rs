//! Departments: named groups of a tenant's users.

use perksu_domain::access::{Actor, TenantScope};
use perksu_domain::{Entity, Error};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{integer, text, timestamp};
use crate::tx::{new_id, WriteTx};
use crate::Store;

#[derive(Clone, Debug)]
pub struct DepartmentRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub member_count: i64,
    pub created_at: Timestamp,
}

const DEPARTMENT_SELECT: &str = "select d.id, d.tenant_id, d.name, d.created_at, \
     (select count(*) from users u where u.department_id = d.id) as member_count \
     from departments d";

impl DepartmentRow {
    fn from_row(row: &AnyRow) -> StoreResult<DepartmentRow> {
        Ok(DepartmentRow {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            name: text(row, "name")?,
            member_count: integer(row, "member_count")?,
            created_at: timestamp(row, "created_at")?,
        })
    }
}

impl WriteTx {
    pub async fn create_department(
        &mut self,
        actor: &Actor,
        tenant_id: Option<&str>,
        name: &str,
    ) -> StoreResult<DepartmentRow> {
        let tenant_id = match actor.tenant_for_management(tenant_id)? {
            TenantScope::Named(id) => id.to_owned(),
            TenantScope::Foreign => return Err(Error::not_found(Entity::Tenant).into()),
        };
        self.tenant(&tenant_id).await?;
        let id = new_id();
        sqlx::query(
            "insert into departments (id, tenant_id, name, created_at) values ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(&tenant_id)
        .bind(name)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        let sql = format!("{DEPARTMENT_SELECT} where d.id = $1");
        let row = sqlx::query(&sql).bind(&id).fetch_one(self.conn()).await?;
        DepartmentRow::from_row(&row)
    }
}

impl Store {
    /// The caller's tenant's departments; a platform admin names the tenant or sees all.
    pub async fn departments(
        &self,
        actor: &Actor,
        tenant_id: Option<&str>,
    ) -> StoreResult<Vec<DepartmentRow>> {
        let scope = if actor.is_platform_admin() {
            tenant_id
        } else {
            let own = actor.own_tenant()?;
            // Another tenant is answered as one that does not exist, as everywhere else.
            if tenant_id.is_some_and(|requested| requested != own) {
                return Err(Error::not_found(Entity::Tenant).into());
            }
            Some(own)
        };
        let rows = match scope {
            Some(tenant_id) => {
                let sql = format!("{DEPARTMENT_SELECT} where d.tenant_id = $1 order by d.name");
                sqlx::query(&sql)
                    .bind(tenant_id)
                    .fetch_all(self.read())
                    .await?
            }
            None => {
                let sql = format!("{DEPARTMENT_SELECT} order by d.tenant_id, d.name");
                sqlx::query(&sql).fetch_all(self.read()).await?
            }
        };
        rows.iter().map(DepartmentRow::from_row).collect()
    }
}
