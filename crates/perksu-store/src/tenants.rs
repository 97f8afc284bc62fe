//! Tenants: the client companies, each with its allocation pool.

use perksu_domain::access::Actor;
use perksu_domain::recognition::AwardTier;
use perksu_domain::stats::PoolState;
use perksu_domain::{Entity, Error, FundingMode, Points, TenantStatus};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{flag, integer, optional_text, points, text, timestamp, word};
use crate::tenant_programs::parse_award_tiers;
use crate::tx::{new_id, WriteTx};
use crate::Store;

#[derive(Clone, Debug)]
pub struct TenantRow {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub currency: String,
    pub currency_label: String,
    pub status: TenantStatus,
    pub funding_mode: FundingMode,
    pub low_balance_threshold: Points,
    pub points_allocation_balance: Points,
    /// Points per unit of currency, for reward prices (100 hundredths = 1 point per unit).
    pub points_per_currency_unit: Points,
    /// Markup on reward prices in hundredths of a percent.
    pub redemption_markup_bp: i64,
    pub redemptions_paused: bool,
    pub redemption_confirmation_required: bool,
    pub redemption_timeout_hours: i64,
    /// Lead balances below this raise an alert; `None`: no lead alerts.
    pub lead_low_balance_threshold: Option<Points>,
    /// Where low-balance alerts are posted.
    pub alert_webhook_url: Option<String>,
    /// Whether a webhook signing secret is stored; the secret itself is never read here.
    pub alert_webhook_secret_set: bool,
    /// Days allocated pool points stay before they return to the platform; `None`: never.
    pub pool_expiry_days: Option<i64>,
    /// Days earned wallet points stay spendable; `None`: never.
    pub wallet_expiry_days: Option<i64>,
    /// Days before wallet points expire that their owner is warned; 0: no warning.
    pub wallet_expiry_warning_days: i64,
    /// The tiers an individual award picks from.
    pub award_tiers: Vec<AwardTier>,
    /// Whether employees may give points to colleagues.
    pub peer_to_peer_enabled: bool,
    /// The most an employee may give per calendar month; `None`: no allowance.
    pub monthly_giving_allowance: Option<Points>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const TENANT_COLUMNS: &str = "id, name, slug, currency, currency_label, status, funding_mode, \
     low_balance_threshold, points_allocation_balance, points_per_currency_unit, \
     redemption_markup_bp, redemptions_paused, redemption_confirmation_required, \
     redemption_timeout_hours, lead_low_balance_threshold, alert_webhook_url, \
     cast(case when alert_webhook_secret is null then 0 else 1 end as bigint) \
     as alert_webhook_secret_set, \
     pool_expiry_days, wallet_expiry_days, wallet_expiry_warning_days, \
     award_tiers, peer_to_peer_enabled, monthly_giving_allowance, created_at, updated_at";

impl TenantRow {
    fn from_row(row: &AnyRow) -> StoreResult<TenantRow> {
        Ok(TenantRow {
            id: text(row, "id")?,
            name: text(row, "name")?,
            slug: text(row, "slug")?,
            currency: text(row, "currency")?,
            currency_label: text(row, "currency_label")?,
            status: word(row, "status", TenantStatus::parse)?,
            funding_mode: word(row, "funding_mode", FundingMode::parse)?,
            low_balance_threshold: points(row, "low_balance_threshold")?,
            points_allocation_balance: points(row, "points_allocation_balance")?,
            points_per_currency_unit: points(row, "points_per_currency_unit")?,
            redemption_markup_bp: integer(row, "redemption_markup_bp")?,
            redemptions_paused: flag(row, "redemptions_paused")?,
            redemption_confirmation_required: flag(row, "redemption_confirmation_required")?,
            redemption_timeout_hours: integer(row, "redemption_timeout_hours")?,
            lead_low_balance_threshold: row
                .try_get::<Option<i64>, _>("lead_low_balance_threshold")?
                .map(Points::from_hundredths),
            alert_webhook_url: optional_text(row, "alert_webhook_url")?,
            alert_webhook_secret_set: flag(row, "alert_webhook_secret_set")?,
            pool_expiry_days: row.try_get::<Option<i64>, _>("pool_expiry_days")?,
            wallet_expiry_days: row.try_get::<Option<i64>, _>("wallet_expiry_days")?,
            wallet_expiry_warning_days: integer(row, "wallet_expiry_warning_days")?,
            award_tiers: parse_award_tiers(&text(row, "award_tiers")?)?,
            peer_to_peer_enabled: flag(row, "peer_to_peer_enabled")?,
            monthly_giving_allowance: row
                .try_get::<Option<i64>, _>("monthly_giving_allowance")?
                .map(Points::from_hundredths),
            created_at: timestamp(row, "created_at")?,
            updated_at: timestamp(row, "updated_at")?,
        })
    }

    pub fn pool_state(&self) -> PoolState {
        PoolState::of(self.points_allocation_balance, self.low_balance_threshold)
    }
}

/// A validated request to create a tenant.
pub struct NewTenant {
    pub name: String,
    pub slug: String,
    pub currency: String,
    pub currency_label: String,
    pub funding_mode: FundingMode,
    pub low_balance_threshold: Points,
}

/// Changes to a tenant; `None` leaves a field as it is. A tenant manager may change the
/// settings of their own tenant; only a platform admin changes its name or status.
#[derive(Default)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub currency_label: Option<String>,
    pub status: Option<TenantStatus>,
    pub low_balance_threshold: Option<Points>,
    pub points_per_currency_unit: Option<Points>,
    pub redemption_markup_bp: Option<i64>,
    pub redemptions_paused: Option<bool>,
    pub redemption_confirmation_required: Option<bool>,
    pub redemption_timeout_hours: Option<i64>,
    /// `Some(None)` switches lead alerts off.
    pub lead_low_balance_threshold: Option<Option<Points>>,
    /// `Some(None)` removes the webhook. A URL needs a secret, given or already stored.
    pub alert_webhook_url: Option<Option<String>>,
    pub alert_webhook_secret: Option<Option<String>>,
    /// `Some(None)`: pool points never expire.
    pub pool_expiry_days: Option<Option<i64>>,
    /// `Some(None)`: wallet points never expire.
    pub wallet_expiry_days: Option<Option<i64>>,
    pub wallet_expiry_warning_days: Option<i64>,
    pub award_tiers: Option<Vec<AwardTier>>,
    pub peer_to_peer_enabled: Option<bool>,
    /// `Some(None)` removes the allowance.
    pub monthly_giving_allowance: Option<Option<Points>>,
}

impl TenantPatch {
    fn touches_platform_fields(&self) -> bool {
        self.name.is_some() || self.status.is_some()
    }
}

/// What a tenant's users see of their pool.
pub struct TenantStats {
    pub tenant: TenantRow,
    pub state: PoolState,
    pub message: String,
}

impl WriteTx {
    pub async fn create_tenant(&mut self, actor: &Actor, new: NewTenant) -> StoreResult<TenantRow> {
        actor.require_platform_admin()?;
        let id = new_id();
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into tenants (id, name, slug, currency, currency_label, status, funding_mode, \
             low_balance_threshold, points_allocation_balance, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, 'active', $6, $7, 0, $8, $8)",
        )
        .bind(&id)
        .bind(&new.name)
        .bind(&new.slug)
        .bind(&new.currency)
        .bind(&new.currency_label)
        .bind(new.funding_mode.as_str())
        .bind(new.low_balance_threshold.hundredths())
        .bind(&now)
        .execute(self.conn())
        .await?;
        self.tenant(&id).await
    }

    pub async fn update_tenant(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        patch: TenantPatch,
    ) -> StoreResult<TenantRow> {
        if !actor.is_platform_admin() {
            if actor.tenant_id.as_deref() != Some(tenant_id) {
                return Err(Error::not_found(Entity::Tenant).into());
            }
            actor.require_tenant_manager()?;
            if patch.touches_platform_fields() {
                return Err(Error::forbidden(
                    "Only a platform admin may rename a tenant or change its status",
                )
                .into());
            }
        }
        let current = self.tenant(tenant_id).await?;
        self.update_alert_settings(&current, &patch).await?;
        self.update_expiry_policy(&current, &patch).await?;
        self.update_program_settings(&current, &patch).await?;
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "update tenants set name = $1, currency_label = $2, status = $3, \
             low_balance_threshold = $4, points_per_currency_unit = $5, \
             redemption_markup_bp = $6, redemptions_paused = $7, \
             redemption_confirmation_required = $8, redemption_timeout_hours = $9, \
             updated_at = $10 where id = $11",
        )
        .bind(patch.name.unwrap_or(current.name))
        .bind(patch.currency_label.unwrap_or(current.currency_label))
        .bind(patch.status.unwrap_or(current.status).as_str())
        .bind(
            patch
                .low_balance_threshold
                .unwrap_or(current.low_balance_threshold)
                .hundredths(),
        )
        .bind(
            patch
                .points_per_currency_unit
                .unwrap_or(current.points_per_currency_unit)
                .hundredths(),
        )
        .bind(
            patch
                .redemption_markup_bp
                .unwrap_or(current.redemption_markup_bp),
        )
        .bind(i64::from(
            patch
                .redemptions_paused
                .unwrap_or(current.redemptions_paused),
        ))
        .bind(i64::from(
            patch
                .redemption_confirmation_required
                .unwrap_or(current.redemption_confirmation_required),
        ))
        .bind(
            patch
                .redemption_timeout_hours
                .unwrap_or(current.redemption_timeout_hours),
        )
        .bind(now)
        .bind(tenant_id)
        .execute(self.conn())
        .await?;
        self.tenant(tenant_id).await
    }

    /// The tenant as this transaction sees it, or `Tenant not found`.
    pub(crate) async fn tenant(&mut self, tenant_id: &str) -> StoreResult<TenantRow> {
        let sql = format!("select {TENANT_COLUMNS} from tenants where id = $1");
        let row = sqlx::query(&sql)
            .bind(tenant_id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Tenant))?;
        TenantRow::from_row(&row)
    }

    /// The tenant with this slug, for the operator's commands, which name tenants by slug.
    pub(crate) async fn tenant_by_slug(&mut self, slug: &str) -> StoreResult<TenantRow> {
        let sql = format!("select {TENANT_COLUMNS} from tenants where slug = $1");
        let row = sqlx::query(&sql)
            .bind(slug)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Tenant))?;
        TenantRow::from_row(&row)
    }

    /// The tenant whose points are about to move: it must exist and be active.
    pub(crate) async fn active_tenant(&mut self, tenant_id: &str) -> StoreResult<TenantRow> {
        let tenant = self.tenant(tenant_id).await?;
        if tenant.status != TenantStatus::Active {
            return Err(Error::tenant_suspended().into());
        }
        Ok(tenant)
    }
}

impl Store {
    /// One tenant, if the caller may see it: platform admins see all, users their own.
    pub async fn tenant(&self, actor: &Actor, tenant_id: &str) -> StoreResult<TenantRow> {
        if !actor.can_see_tenant(Some(tenant_id)) {
            return Err(Error::not_found(Entity::Tenant).into());
        }
        let sql = format!("select {TENANT_COLUMNS} from tenants where id = $1");
        let row = sqlx::query(&sql)
            .bind(tenant_id)
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Tenant))?;
        TenantRow::from_row(&row)
    }

    pub async fn tenants(&self, actor: &Actor) -> StoreResult<Vec<TenantRow>> {
        actor.require_platform_admin()?;
        let sql = format!("select {TENANT_COLUMNS} from tenants order by name, id");
        let rows = sqlx::query(&sql).fetch_all(self.read()).await?;
        rows.iter().map(TenantRow::from_row).collect()
    }

    /// A tenant with its pool state, for the manager's pool card: the caller's own tenant, or
    /// for a platform admin the one named.
    pub async fn tenant_stats(
        &self,
        actor: &Actor,
        requested: Option<&str>,
    ) -> StoreResult<TenantStats> {
        let tenant_id = match (actor.tenant_id.as_deref(), requested) {
            (_, Some(requested)) => requested,
            (Some(own), None) => own,
            (None, None) => {
                return Err(Error::invalid("tenant_id_required", "tenant_id is required").into())
            }
        };
        let tenant = self.tenant(actor, tenant_id).await?;
        let state = tenant.pool_state();
        let message = state.message(tenant.points_allocation_balance, &tenant.currency_label);
        Ok(TenantStats {
            tenant,
            state,
            message,
        })
    }
}
