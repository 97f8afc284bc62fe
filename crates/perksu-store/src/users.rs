//! Users: platform admins, tenant managers, leads and employees, each tenant user with a wallet.

use perksu_domain::access::{Actor, TenantScope};
use perksu_domain::{Entity, Error, Points, Role, UserStatus};
use sqlx::any::AnyRow;

use crate::batch::{values_list, ROWS_PER_STATEMENT};
use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::passwords::PasswordHash;
use crate::rows::{optional_text, points, text, timestamp, word};
use crate::tx::{new_id, WriteTx};
use crate::Store;

#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: String,
    pub tenant_id: Option<String>,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub status: UserStatus,
    pub department_id: Option<String>,
    pub manager_id: Option<String>,
    pub lead_distribution_balance: Points,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub(crate) const USER_COLUMNS: &str = "id, tenant_id, email, first_name, last_name, role, status, \
     department_id, manager_id, lead_distribution_balance, created_at, updated_at";

impl UserRow {
    pub(crate) fn from_row(row: &AnyRow) -> StoreResult<UserRow> {
        Ok(UserRow {
            id: text(row, "id")?,
            tenant_id: optional_text(row, "tenant_id")?,
            email: text(row, "email")?,
            first_name: text(row, "first_name")?,
            last_name: text(row, "last_name")?,
            role: word(row, "role", Role::parse)?,
            status: word(row, "status", UserStatus::parse)?,
            department_id: optional_text(row, "department_id")?,
            manager_id: optional_text(row, "manager_id")?,
            lead_distribution_balance: points(row, "lead_distribution_balance")?,
            created_at: timestamp(row, "created_at")?,
            updated_at: timestamp(row, "updated_at")?,
        })
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id.clone(),
            role: self.role,
            tenant_id: self.tenant_id.clone(),
        }
    }
}

/// A validated request to create a tenant user.
pub struct NewUser {
    pub tenant_id: Option<String>,
    pub email: String,
    pub password_hash: PasswordHash,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub department_id: Option<String>,
    pub manager_id: Option<String>,
}

/// A tenant user about to be written, with the wallet that comes with them.
pub(crate) struct UserInsert<'a> {
    pub id: String,
    pub email: &'a str,
    /// A PHC string, or [`INVITED_PASSWORD_HASH`] for a user who has not set one yet.
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub role: Role,
    pub department_id: Option<&'a str>,
    pub manager_id: Option<&'a str>,
}

/// The stored password hash of an invited user who has not chosen a password yet. It is not a
/// PHC string, so it matches no password; sign-in treats such a user as an unknown email.
pub const INVITED_PASSWORD_HASH: &str = "!invited";

/// Changes to a user. The outer `Option` is "leave as is"; the inner one clears a link.
#[derive(Default)]
pub struct UserPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    pub department_id: Option<Option<String>>,
    pub manager_id: Option<Option<String>>,
}

impl WriteTx {
    /// Creates a tenant user and their wallet. Platform admins are never created here.
    pub async fn create_user(&mut self, actor: &Actor, new: NewUser) -> StoreResult<UserRow> {
        if !new.role.is_tenant_role() {
            return Err(Error::forbidden(
                "Platform admins can only be created by an operator with `perksu admin create`",
            )
            .into());
        }
        let tenant_id = match actor.tenant_for_management(new.tenant_id.as_deref())? {
            TenantScope::Named(id) => id.to_owned(),
            TenantScope::Foreign => return Err(Error::not_found(Entity::Tenant).into()),
        };
        self.tenant(&tenant_id).await?;
        self.check_links(
            &tenant_id,
            new.department_id.as_deref(),
            new.manager_id.as_deref(),
        )
        .await?;
        let id = new_id();
        self.insert_tenant_users(
            &tenant_id,
            &[UserInsert {
                id: id.clone(),
                email: &new.email,
                password_hash: new.password_hash.as_str(),
                first_name: &new.first_name,
                last_name: &new.last_name,
                role: new.role,
                department_id: new.department_id.as_deref(),
                manager_id: new.manager_id.as_deref(),
            }],
        )
        .await?;
        self.user(&id).await
    }

    /// Writes tenant users and their empty wallets, many rows per statement: the one place a
    /// tenant user is inserted, for a single creation and for an import alike. The caller has
    /// checked the role, the tenant and the links.
    pub(crate) async fn insert_tenant_users(
        &mut self,
        tenant_id: &str,
        users: &[UserInsert<'_>],
    ) -> StoreResult<()> {
        let now = self.now().as_str().to_owned();
        for chunk in users.chunks(ROWS_PER_STATEMENT) {
            let sql =
                format!(
                "insert into users (id, tenant_id, email, password_hash, first_name, last_name, \
                 role, status, department_id, manager_id, lead_distribution_balance, created_at, \
                 updated_at) values {}",
                values_list("(?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, 0, ?, ?)", chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for user in chunk {
                query = query
                    .bind(user.id.as_str())
                    .bind(tenant_id)
                    .bind(user.email)
                    .bind(user.password_hash)
                    .bind(user.first_name)
                    .bind(user.last_name)
                    .bind(user.role.as_str())
                    .bind(user.department_id)
                    .bind(user.manager_id)
                    .bind(now.as_str())
                    .bind(now.as_str());
            }
            query.execute(self.conn()).await?;
            let sql = format!(
                "insert into wallets (id, tenant_id, user_id, balance, lifetime_earned, \
                 lifetime_spent, created_at, updated_at) values {}",
                values_list("(?, ?, ?, 0, 0, 0, ?, ?)", chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for user in chunk {
                query = query
                    .bind(new_id())
                    .bind(tenant_id)
                    .bind(user.id.as_str())
                    .bind(now.as_str())
                    .bind(now.as_str());
            }
            query.execute(self.conn()).await?;
        }
        Ok(())
    }

    /// Creates a platform admin: the operator's command, never an API call.
    pub async fn create_platform_admin(
        &mut self,
        email: &str,
        password_hash: &PasswordHash,
    ) -> StoreResult<UserRow> {
        let id = new_id();
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into users (id, tenant_id, email, password_hash, first_name, last_name, role, \
             status, lead_distribution_balance, created_at, updated_at) \
             values ($1, null, $2, $3, 'Platform', 'Admin', 'platform_admin', 'active', 0, $4, $4)",
        )
        .bind(&id)
        .bind(email)
        .bind(password_hash.as_str())
        .bind(&now)
        .execute(self.conn())
        .await?;
        self.user(&id).await
    }

    pub async fn update_user(
        &mut self,
        actor: &Actor,
        user_id: &str,
        patch: UserPatch,
    ) -> StoreResult<UserRow> {
        let current = self.user_visible_to(actor, user_id).await?;
        let tenant_id = current
            .tenant_id
            .clone()
            .ok_or_else(|| Error::forbidden("Platform admins are managed by the operator"))?;
        if actor.tenant_for_management(Some(&tenant_id))? == TenantScope::Foreign {
            return Err(Error::not_found(Entity::User).into());
        }
        let role = patch.role.unwrap_or(current.role);
        if !role.is_tenant_role() {
            return Err(Error::forbidden("No tenant user can become a platform admin").into());
        }
        let status = patch.status.unwrap_or(current.status);
        let leaves_lead_role = current.role == Role::Lead && role != Role::Lead;
        let deactivated = status == UserStatus::Inactive;
        if (leaves_lead_role || deactivated) && !current.lead_distribution_balance.is_zero() {
            return Err(Error::conflict(
                "lead_balance_not_empty",
                format!(
                    "This lead still holds {} delegated points: recall them first",
                    current.lead_distribution_balance
                ),
            )
            .into());
        }
        let department_id = patch.department_id.unwrap_or(current.department_id);
        let manager_id = patch.manager_id.unwrap_or(current.manager_id);
        if manager_id.as_deref() == Some(user_id) {
            return Err(
                Error::invalid("invalid_manager", "A user cannot manage themselves").into(),
            );
        }
        self.check_links(&tenant_id, department_id.as_deref(), manager_id.as_deref())
            .await?;
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "update users set first_name = $1, last_name = $2, role = $3, status = $4, \
             department_id = $5, manager_id = $6, updated_at = $7 where id = $8",
        )
        .bind(patch.first_name.unwrap_or(current.first_name))
        .bind(patch.last_name.unwrap_or(current.last_name))
        .bind(role.as_str())
        .bind(status.as_str())
        .bind(department_id)
        .bind(manager_id)
        .bind(now)
        .bind(user_id)
        .execute(self.conn())
        .await?;
        if deactivated {
            // A deactivated user's tokens stop working at once.
            sqlx::query("delete from sessions where user_id = $1")
                .bind(user_id)
                .execute(self.conn())
                .await?;
        }
        self.user(user_id).await
    }

    /// A department and a manager named on a user must be in the user's tenant.
    async fn check_links(
        &mut self,
        tenant_id: &str,
        department_id: Option<&str>,
        manager_id: Option<&str>,
    ) -> StoreResult<()> {
        if let Some(department_id) = department_id {
            let found = sqlx::query("select id from departments where id = $1 and tenant_id = $2")
                .bind(department_id)
                .bind(tenant_id)
                .fetch_optional(self.conn())
                .await?;
            if found.is_none() {
                return Err(Error::not_found(Entity::Department).into());
            }
        }
        if let Some(manager_id) = manager_id {
            let found = sqlx::query("select id from users where id = $1 and tenant_id = $2")
                .bind(manager_id)
                .bind(tenant_id)
                .fetch_optional(self.conn())
                .await?;
            if found.is_none() {
                return Err(Error::not_found(Entity::User).into());
            }
        }
        Ok(())
    }

    pub(crate) async fn user(&mut self, user_id: &str) -> StoreResult<UserRow> {
        let sql = format!("select {USER_COLUMNS} from users where id = $1");
        let row = sqlx::query(&sql)
            .bind(user_id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| Error::not_found(Entity::User))?;
        UserRow::from_row(&row)
    }

    /// A user of the caller's tenant (any tenant for a platform admin), else `User not found`.
    pub(crate) async fn user_visible_to(
        &mut self,
        actor: &Actor,
        user_id: &str,
    ) -> StoreResult<UserRow> {
        let user = self.user(user_id).await?;
        if actor.can_see_tenant(user.tenant_id.as_deref()) {
            Ok(user)
        } else {
            Err(Error::not_found(Entity::User).into())
        }
    }
}

impl Store {
    pub async fn user(&self, actor: &Actor, user_id: &str) -> StoreResult<UserRow> {
        let sql = format!("select {USER_COLUMNS} from users where id = $1");
        let row = sqlx::query(&sql)
            .bind(user_id)
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| Error::not_found(Entity::User))?;
        let user = UserRow::from_row(&row)?;
        let own_self = user.id == actor.user_id;
        if own_self || actor.can_see_tenant(user.tenant_id.as_deref()) {
            Ok(user)
        } else {
            Err(Error::not_found(Entity::User).into())
        }
    }

    /// The users of the caller's tenant; a platform admin sees every tenant's, or one tenant's.
    pub async fn users(&self, actor: &Actor, tenant_id: Option<&str>) -> StoreResult<Vec<UserRow>> {
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
                let sql = format!(
                    "select {USER_COLUMNS} from users where tenant_id = $1 \
                     order by last_name, first_name, id"
                );
                sqlx::query(&sql)
                    .bind(tenant_id)
                    .fetch_all(self.read())
                    .await?
            }
            None => {
                let sql = format!("select {USER_COLUMNS} from users order by email");
                sqlx::query(&sql).fetch_all(self.read()).await?
            }
        };
        rows.iter().map(UserRow::from_row).collect()
    }
}
