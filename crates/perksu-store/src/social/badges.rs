//! Badges: the system's own (no tenant) and those a tenant manager adds for their tenant.
//!
//! A tenant's badge names are unique within the tenant, ignoring case. The schema has no
//! unique index for it, so creation first locks the tenant's row (the pool account, the first
//! lock every movement takes, and the only one held here, so no lock cycle is possible): two
//! managers adding the same name at once run one after the other, and the second sees the
//! first's badge.

use perksu_domain::access::Actor;
use perksu_domain::{validate, Account, Error};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{integer, optional_text, text, timestamp};
use crate::tx::{new_id, WriteTx};
use crate::Store;

#[derive(Clone, Debug)]
pub struct BadgeRow {
    pub id: String,
    /// `None` for a system badge.
    pub tenant_id: Option<String>,
    pub name: String,
    pub description: String,
    pub icon: String,
    pub created_at: Timestamp,
}

/// A badge to add, made by [`NewBadge::new`] from the fields as sent.
pub struct NewBadge {
    pub name: String,
    pub description: String,
    pub icon: String,
}

const MAX_NAME_CHARS: usize = 60;
const MAX_DESCRIPTION_CHARS: usize = 300;
const MAX_ICON_CHARS: usize = 30;

impl NewBadge {
    /// Checks a badge's fields, for the JSON API and the manager's page alike.
    pub fn new(name: &str, description: Option<&str>, icon: &str) -> Result<NewBadge, Error> {
        let name = validate::name("name", name)?;
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(Error::invalid(
                "invalid_field",
                format!("name must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        let description = description.map(str::trim).unwrap_or_default();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(Error::invalid(
                "invalid_field",
                format!("description must be at most {MAX_DESCRIPTION_CHARS} characters"),
            ));
        }
        let icon = icon.trim();
        let word = icon
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if icon.is_empty() || icon.len() > MAX_ICON_CHARS || !word {
            return Err(Error::invalid(
                "invalid_field",
                format!(
                    "icon must be one word of lowercase letters, digits, - or _, \
                     at most {MAX_ICON_CHARS} characters"
                ),
            ));
        }
        Ok(NewBadge {
            name,
            description: description.to_owned(),
            icon: icon.to_owned(),
        })
    }
}

const BADGE_COLUMNS: &str = "id, tenant_id, name, description, icon, created_at";

impl BadgeRow {
    fn from_row(row: &AnyRow) -> StoreResult<BadgeRow> {
        Ok(BadgeRow {
            id: text(row, "id")?,
            tenant_id: optional_text(row, "tenant_id")?,
            name: text(row, "name")?,
            description: text(row, "description")?,
            icon: text(row, "icon")?,
            created_at: timestamp(row, "created_at")?,
        })
    }
}

impl WriteTx {
    /// Adds a badge to the caller's tenant (tenant managers); 409 `badge_exists` when the
    /// tenant already has one of that name.
    pub async fn create_badge(&mut self, actor: &Actor, new: NewBadge) -> StoreResult<BadgeRow> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        self.tenant(&tenant_id).await?;
        self.lock_account(&Account::Pool(tenant_id.clone())).await?;
        let taken = sqlx::query(
            "select count(*) as n from badges where tenant_id = $1 and lower(name) = lower($2)",
        )
        .bind(&tenant_id)
        .bind(&new.name)
        .fetch_one(self.conn())
        .await?;
        if integer(&taken, "n")? > 0 {
            return Err(
                Error::conflict("badge_exists", "A badge with this name already exists").into(),
            );
        }
        let id = new_id();
        sqlx::query(
            "insert into badges (id, tenant_id, name, description, icon, created_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(&tenant_id)
        .bind(&new.name)
        .bind(&new.description)
        .bind(&new.icon)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        let sql = format!("select {BADGE_COLUMNS} from badges where id = $1");
        let row = sqlx::query(&sql).bind(&id).fetch_one(self.conn()).await?;
        BadgeRow::from_row(&row)
    }
}

impl Store {
    /// The system badges, then the caller's tenant's, each by name.
    pub async fn badges(&self, actor: &Actor) -> StoreResult<Vec<BadgeRow>> {
        let tenant_id = actor.own_tenant()?;
        let sql = format!(
            "select {BADGE_COLUMNS} from badges where tenant_id is null or tenant_id = $1 \
             order by case when tenant_id is null then 0 else 1 end, name, id"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant_id)
            .fetch_all(self.read())
            .await?;
        rows.iter().map(BadgeRow::from_row).collect()
    }
}
