//! The rewards catalogue: items a tenant's employees can redeem points for.

use perksu_domain::access::Actor;
use perksu_domain::rewards::price;
use perksu_domain::{Entity, Error, Points, Role};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{optional_text, text, timestamp};
use crate::tenants::TenantRow;
use crate::tx::{new_id, WriteTx};
use crate::Store;

mod draft;
pub use draft::{RewardFields, MAX_STOCK, REWARD_KINDS};

/// Most items one tenant's catalogue may hold: a limit on everything.
pub const MAX_CATALOGUE_ITEMS: i64 = 2000;

#[derive(Clone, Debug)]
pub struct RewardRow {
    pub id: String,
    pub tenant_id: String,
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub face_value: Option<Points>,
    pub denominations: Vec<Points>,
    pub stock: Option<i64>,
    pub status: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An item with its prices in points under its tenant's pricing.
#[derive(Clone, Debug)]
pub struct PricedReward {
    pub item: RewardRow,
    /// One price per face value: the item's own, or each denomination's.
    pub prices: Vec<(Points, Points)>,
}

impl PricedReward {
    /// The lowest price, for sorting and "affordable" filtering.
    pub fn from_points(&self) -> Points {
        self.prices
            .iter()
            .map(|(_, points)| *points)
            .min()
            .unwrap_or(Points::MAX)
    }
}

const REWARD_COLUMNS: &str = "id, tenant_id, kind, name, description, category, brand, \
     face_value, denominations, stock, status, created_at, updated_at";

impl RewardRow {
    fn from_row(row: &AnyRow) -> StoreResult<RewardRow> {
        use sqlx::Row;
        let denominations = optional_text(row, "denominations")?
            .map(|list| {
                list.split(',')
                    .filter_map(|value| value.parse::<i64>().ok())
                    .map(Points::from_hundredths)
                    .collect()
            })
            .unwrap_or_default();
        Ok(RewardRow {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            kind: text(row, "kind")?,
            name: text(row, "name")?,
            description: optional_text(row, "description")?,
            category: optional_text(row, "category")?,
            brand: optional_text(row, "brand")?,
            face_value: row
                .try_get::<Option<i64>, _>("face_value")?
                .map(Points::from_hundredths),
            denominations,
            stock: row.try_get::<Option<i64>, _>("stock")?,
            status: text(row, "status")?,
            created_at: timestamp(row, "created_at")?,
            updated_at: timestamp(row, "updated_at")?,
        })
    }

    /// The face values a client may order.
    pub fn face_values(&self) -> Vec<Points> {
        match self.face_value {
            Some(value) => vec![value],
            None => self.denominations.clone(),
        }
    }

    pub fn priced(self, tenant: &TenantRow) -> StoreResult<PricedReward> {
        let prices = self
            .face_values()
            .into_iter()
            .map(|value| {
                price(
                    value,
                    tenant.points_per_currency_unit,
                    tenant.redemption_markup_bp,
                    1,
                )
                .map(|points| (value, points))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PricedReward { item: self, prices })
    }
}

/// A validated catalogue item. Either `face_value` or `denominations` is set (gift cards use
/// denominations).
pub struct RewardDraft {
    pub kind: String,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub face_value: Option<Points>,
    pub denominations: Vec<Points>,
    pub stock: Option<i64>,
    pub status: String,
}

fn denominations_text(values: &[Points]) -> Option<String> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|v| v.hundredths().to_string())
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// Catalogue queries from the browse page.
#[derive(Default)]
pub struct CatalogueQuery {
    pub search: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    /// Only items whose cheapest price fits this balance.
    pub affordable_with: Option<Points>,
    pub sort: CatalogueSort,
    pub include_archived: bool,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum CatalogueSort {
    #[default]
    Name,
    PointsAscending,
    PointsDescending,
}

impl WriteTx {
    pub async fn create_reward(
        &mut self,
        actor: &Actor,
        draft: RewardDraft,
    ) -> StoreResult<RewardRow> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        let count = sqlx::query("select count(*) as n from reward_items where tenant_id = $1")
            .bind(&tenant_id)
            .fetch_one(self.conn())
            .await?;
        if crate::rows::integer(&count, "n")? >= MAX_CATALOGUE_ITEMS {
            return Err(Error::conflict(
                "catalogue_full",
                format!("A catalogue holds at most {MAX_CATALOGUE_ITEMS} items"),
            )
            .into());
        }
        let id = new_id();
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into reward_items (id, tenant_id, kind, name, description, category, brand, \
             face_value, denominations, stock, status, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(&id)
        .bind(&tenant_id)
        .bind(&draft.kind)
        .bind(&draft.name)
        .bind(draft.description)
        .bind(draft.category)
        .bind(draft.brand)
        .bind(draft.face_value.map(Points::hundredths))
        .bind(denominations_text(&draft.denominations))
        .bind(draft.stock)
        .bind(&draft.status)
        .bind(&now)
        .execute(self.conn())
        .await?;
        self.reward(&tenant_id, &id).await
    }

    /// Replaces an item's editable fields (the kind stays).
    pub async fn update_reward(
        &mut self,
        actor: &Actor,
        reward_id: &str,
        draft: RewardDraft,
    ) -> StoreResult<RewardRow> {
        let tenant_id = actor.require_tenant_manager()?.to_owned();
        self.reward(&tenant_id, reward_id).await?;
        sqlx::query(
            "update reward_items set name = $1, description = $2, category = $3, brand = $4, \
             face_value = $5, denominations = $6, stock = $7, status = $8, updated_at = $9 \
             where id = $10 and tenant_id = $11",
        )
        .bind(&draft.name)
        .bind(draft.description)
        .bind(draft.category)
        .bind(draft.brand)
        .bind(draft.face_value.map(Points::hundredths))
        .bind(denominations_text(&draft.denominations))
        .bind(draft.stock)
        .bind(&draft.status)
        .bind(self.now().as_str().to_owned())
        .bind(reward_id)
        .bind(&tenant_id)
        .execute(self.conn())
        .await?;
        self.reward(&tenant_id, reward_id).await
    }

    pub(crate) async fn reward(
        &mut self,
        tenant_id: &str,
        reward_id: &str,
    ) -> StoreResult<RewardRow> {
        let sql =
            format!("select {REWARD_COLUMNS} from reward_items where id = $1 and tenant_id = $2");
        let row = sqlx::query(&sql)
            .bind(reward_id)
            .bind(tenant_id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Reward))?;
        RewardRow::from_row(&row)
    }
}

impl Store {
    /// The caller's tenant's catalogue, priced. Only managers see archived items.
    pub async fn catalogue(
        &self,
        actor: &Actor,
        query: CatalogueQuery,
    ) -> StoreResult<Vec<PricedReward>> {
        let tenant_id = actor.own_tenant()?;
        let tenant = self.tenant(actor, tenant_id).await?;
        let include_archived = query.include_archived && actor.role == Role::TenantManager;
        let sql = format!(
            "select {REWARD_COLUMNS} from reward_items where tenant_id = $1 \
             and (status = 'active' or $2 = 1) order by name, id limit {MAX_CATALOGUE_ITEMS}"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(i64::from(include_archived))
            .fetch_all(self.read())
            .await?;
        let search = query.search.map(|s| s.to_lowercase());
        let mut items = Vec::new();
        for row in &rows {
            let item = RewardRow::from_row(row)?;
            let matches_search = search.as_deref().is_none_or(|needle| {
                [
                    Some(&item.name),
                    item.description.as_ref(),
                    item.brand.as_ref(),
                ]
                .into_iter()
                .flatten()
                .any(|field| field.to_lowercase().contains(needle))
            });
            let same = |wanted: &Option<String>, actual: &Option<String>| {
                wanted
                    .as_deref()
                    .is_none_or(|w| actual.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(w)))
            };
            if matches_search
                && same(&query.category, &item.category)
                && same(&query.brand, &item.brand)
            {
                items.push(item.priced(&tenant)?);
            }
        }
        if let Some(balance) = query.affordable_with {
            items.retain(|item| item.from_points() <= balance);
        }
        match query.sort {
            CatalogueSort::Name => {}
            CatalogueSort::PointsAscending => items.sort_by_key(PricedReward::from_points),
            CatalogueSort::PointsDescending => {
                items.sort_by_key(|item| std::cmp::Reverse(item.from_points()))
            }
        }
        Ok(items)
    }

    pub async fn reward(&self, actor: &Actor, reward_id: &str) -> StoreResult<PricedReward> {
        let tenant_id = actor.own_tenant()?;
        let tenant = self.tenant(actor, tenant_id).await?;
        let sql =
            format!("select {REWARD_COLUMNS} from reward_items where id = $1 and tenant_id = $2");
        let row = sqlx::query(&sql)
            .bind(reward_id)
            .bind(tenant_id)
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Reward))?;
        let item = RewardRow::from_row(&row)?;
        // As in the catalogue, only managers see archived items.
        if item.status != "active" && actor.role != Role::TenantManager {
            return Err(Error::not_found(Entity::Reward).into());
        }
        item.priced(&tenant)
    }
}
