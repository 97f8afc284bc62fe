//! A tenant's recognition-program settings (award tiers, peer-to-peer, giving allowance) and
//! its funding mode, which only the platform admin changes, legacy to pool, once.

use perksu_domain::access::Actor;
use perksu_domain::recognition::{validate_award_tiers, AwardTier};
use perksu_domain::{Entity, Error, FundingMode, Points};
use serde_json::{json, Value};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::rows::{optional_text, text, timestamp};
use crate::tenants::{TenantPatch, TenantRow};
use crate::tx::{new_id, WriteTx};
use crate::Store;

/// One recorded change of a tenant's funding mode.
#[derive(Clone, Debug)]
pub struct FundingModeChange {
    pub id: String,
    pub tenant_id: String,
    pub from_mode: String,
    pub to_mode: String,
    pub changed_by: String,
    pub reason: Option<String>,
    pub created_at: Timestamp,
}

impl FundingModeChange {
    fn from_row(row: &AnyRow) -> StoreResult<FundingModeChange> {
        Ok(FundingModeChange {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            from_mode: text(row, "from_mode")?,
            to_mode: text(row, "to_mode")?,
            changed_by: text(row, "changed_by")?,
            reason: optional_text(row, "reason")?,
            created_at: timestamp(row, "created_at")?,
        })
    }
}

/// Award tiers as stored: a JSON list of `{"name", "points"}`, points in hundredths.
pub(crate) fn parse_award_tiers(stored: &str) -> StoreResult<Vec<AwardTier>> {
    let corrupt = || StoreError::Corrupt(format!("unreadable award tiers: {stored}"));
    let value: Value = serde_json::from_str(stored).map_err(|_| corrupt())?;
    let list = value.as_array().ok_or_else(corrupt)?;
    list.iter()
        .map(|tier| {
            Some(AwardTier {
                name: tier.get("name")?.as_str()?.to_owned(),
                points: Points::from_hundredths(tier.get("points")?.as_i64()?),
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(corrupt)
}

fn store_award_tiers(tiers: &[AwardTier]) -> String {
    let list: Vec<Value> = tiers
        .iter()
        .map(|tier| json!({"name": tier.name.trim(), "points": tier.points.hundredths()}))
        .collect();
    Value::Array(list).to_string()
}

impl WriteTx {
    /// Applies a patch's program settings, called by `update_tenant` before it writes the
    /// other fields.
    pub(crate) async fn update_program_settings(
        &mut self,
        current: &TenantRow,
        patch: &TenantPatch,
    ) -> StoreResult<()> {
        if let Some(tiers) = &patch.award_tiers {
            validate_award_tiers(tiers)?;
        }
        let tiers = patch.award_tiers.as_ref().unwrap_or(&current.award_tiers);
        let allowance = patch
            .monthly_giving_allowance
            .unwrap_or(current.monthly_giving_allowance);
        let peer_to_peer = patch
            .peer_to_peer_enabled
            .unwrap_or(current.peer_to_peer_enabled);
        sqlx::query(
            "update tenants set award_tiers = $1, peer_to_peer_enabled = $2, \
             monthly_giving_allowance = $3 where id = $4",
        )
        .bind(store_award_tiers(tiers))
        .bind(i64::from(peer_to_peer))
        .bind(allowance.map(Points::hundredths))
        .bind(&current.id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Moves a tenant from legacy to pool mode (platform admin), recording who and why.
    pub async fn switch_funding_mode(
        &mut self,
        actor: &Actor,
        tenant_id: &str,
        to_mode: FundingMode,
        reason: Option<&str>,
    ) -> StoreResult<TenantRow> {
        actor.require_platform_admin()?;
        // Lock the tenant row so two switches cannot both see legacy.
        let locked = sqlx::query("update tenants set funding_mode = funding_mode where id = $1")
            .bind(tenant_id)
            .execute(self.conn())
            .await?;
        if locked.rows_affected() == 0 {
            return Err(Error::not_found(Entity::Tenant).into());
        }
        let tenant = self.tenant(tenant_id).await?;
        if tenant.funding_mode == to_mode {
            return Err(Error::conflict(
                "funding_mode_unchanged",
                format!("The tenant is already in {} mode", to_mode.as_str()),
            )
            .into());
        }
        if to_mode == FundingMode::Legacy {
            return Err(Error::conflict(
                "funding_mode_one_way",
                "A tenant moves from legacy to pool mode only; it cannot go back",
            )
            .into());
        }
        let now = self.now().as_str().to_owned();
        sqlx::query("update tenants set funding_mode = $1, updated_at = $2 where id = $3")
            .bind(to_mode.as_str())
            .bind(&now)
            .bind(tenant_id)
            .execute(self.conn())
            .await?;
        sqlx::query(
            "insert into tenant_mode_changes \
             (id, tenant_id, from_mode, to_mode, changed_by, reason, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(tenant_id)
        .bind(tenant.funding_mode.as_str())
        .bind(to_mode.as_str())
        .bind(&actor.user_id)
        .bind(reason)
        .bind(&now)
        .execute(self.conn())
        .await?;
        self.tenant(tenant_id).await
    }
}

impl Store {
    /// A tenant's funding-mode changes, oldest first: the platform admin, or the tenant's own
    /// users.
    pub async fn funding_mode_changes(
        &self,
        actor: &Actor,
        tenant_id: &str,
    ) -> StoreResult<Vec<FundingModeChange>> {
        // Reading the tenant applies the visibility rule (another tenant's is not found).
        self.tenant(actor, tenant_id).await?;
        let rows = sqlx::query(
            "select id, tenant_id, from_mode, to_mode, changed_by, reason, created_at \
             from tenant_mode_changes where tenant_id = $1 order by created_at, id",
        )
        .bind(tenant_id)
        .fetch_all(self.read())
        .await?;
        rows.iter().map(FundingModeChange::from_row).collect()
    }
}
