//! Reading redemptions: my orders, the fulfilment queue, one order's history, analytics, and
//! the timeout sweep that expires orders nobody fulfilled.

use perksu_domain::access::Actor;
use perksu_domain::rewards::RedemptionStatus;
use perksu_domain::{Entity, Error, Points, Role};
use sqlx::Row;

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::redemptions::{RedemptionRow, TransitionRequest, REDEMPTION_COLUMNS};
use crate::rows::{integer, optional_text, text, timestamp};
use crate::Store;

#[derive(Clone, Debug)]
pub struct RedemptionEventRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Option<String>,
    pub note: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Default)]
pub struct RedemptionFilter {
    pub status: Option<RedemptionStatus>,
    /// Only the fulfilment queue: pending, processing and shipped, oldest first.
    pub queue: bool,
    pub limit: i64,
    pub offset: i64,
}

pub struct TopItem {
    pub item_id: String,
    pub item_name: String,
    pub orders: i64,
    pub points: Points,
}

pub struct RedemptionAnalytics {
    pub points_redeemed: Points,
    pub points_on_hold: Points,
    pub status_counts: Vec<(String, i64)>,
    pub top_items: Vec<TopItem>,
}

/// Managers see their tenant's orders, platform admins everyone's, others their own.
fn scope(actor: &Actor) -> StoreResult<(String, Vec<String>)> {
    match actor.role {
        Role::PlatformAdmin => Ok((String::new(), Vec::new())),
        Role::TenantManager => Ok(("tenant_id = ?".into(), vec![actor.own_tenant()?.to_owned()])),
        _ => Ok(("user_id = ?".into(), vec![actor.user_id.clone()])),
    }
}

impl Store {
    pub async fn redemptions(
        &self,
        actor: &Actor,
        filter: RedemptionFilter,
    ) -> StoreResult<Vec<RedemptionRow>> {
        let (scope_condition, mut binds) = scope(actor)?;
        let mut conditions = vec![];
        if !scope_condition.is_empty() {
            conditions.push(scope_condition);
        }
        if let Some(status) = filter.status {
            conditions.push("status = ?".into());
            binds.push(status.as_str().into());
        }
        if filter.queue {
            conditions.push("status in ('pending', 'processing', 'shipped')".into());
        }
        let mut numbered = Vec::new();
        let mut n = 0;
        for condition in conditions {
            if condition.contains('?') {
                n += 1;
                numbered.push(condition.replace('?', &format!("${n}")));
            } else {
                numbered.push(condition);
            }
        }
        let where_clause = if numbered.is_empty() {
            String::new()
        } else {
            format!(" where {}", numbered.join(" and "))
        };
        let order = if filter.queue { "asc" } else { "desc" };
        let sql = format!(
            "select {REDEMPTION_COLUMNS} from redemptions{where_clause} \
             order by created_at {order}, id {order} limit ${} offset ${}",
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(&sql);
        for value in &binds {
            query = query.bind(value.as_str());
        }
        let rows = query
            .bind(filter.limit.clamp(1, 1000))
            .bind(filter.offset.max(0))
            .fetch_all(self.read())
            .await?;
        rows.iter().map(RedemptionRow::from_row).collect()
    }

    /// One order and its status history, if the caller may see it.
    pub async fn redemption_history(
        &self,
        actor: &Actor,
        redemption_id: &str,
    ) -> StoreResult<(RedemptionRow, Vec<RedemptionEventRow>)> {
        let sql = format!("select {REDEMPTION_COLUMNS} from redemptions where id = $1");
        let row = sqlx::query(&sql)
            .bind(redemption_id)
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Redemption))?;
        let order = RedemptionRow::from_row(&row)?;
        let visible = match actor.role {
            Role::PlatformAdmin => true,
            Role::TenantManager => actor.tenant_id.as_deref() == Some(order.tenant_id.as_str()),
            _ => order.user_id == actor.user_id,
        };
        if !visible {
            return Err(Error::not_found(Entity::Redemption).into());
        }
        let rows = sqlx::query(
            "select from_status, to_status, actor_id, note, created_at from redemption_events \
             where redemption_id = $1 order by created_at, id",
        )
        .bind(redemption_id)
        .fetch_all(self.read())
        .await?;
        let events = rows
            .iter()
            .map(|row| {
                Ok(RedemptionEventRow {
                    from_status: optional_text(row, "from_status")?,
                    to_status: text(row, "to_status")?,
                    actor_id: optional_text(row, "actor_id")?,
                    note: optional_text(row, "note")?,
                    created_at: timestamp(row, "created_at")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((order, events))
    }

    /// Totals for the caller's tenant (tenant managers).
    pub async fn redemption_analytics(&self, actor: &Actor) -> StoreResult<RedemptionAnalytics> {
        let tenant_id = actor.require_tenant_manager()?;
        let totals = sqlx::query(
            "select cast(coalesce(sum(redeemed_balance), 0) as bigint) as redeemed, \
             cast(coalesce(sum(hold_balance), 0) as bigint) as held \
             from redemptions where tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_one(self.read())
        .await?;
        let counts = sqlx::query(
            "select status, count(*) as n from redemptions where tenant_id = $1 \
             group by status order by status",
        )
        .bind(tenant_id)
        .fetch_all(self.read())
        .await?;
        let top = sqlx::query(
            "select item_id, item_name, count(*) as orders, \
             cast(sum(points_cost) as bigint) as points from redemptions \
             where tenant_id = $1 and status = 'delivered' \
             group by item_id, item_name order by orders desc, points desc, item_id limit 5",
        )
        .bind(tenant_id)
        .fetch_all(self.read())
        .await?;
        Ok(RedemptionAnalytics {
            points_redeemed: Points::from_hundredths(integer(&totals, "redeemed")?),
            points_on_hold: Points::from_hundredths(integer(&totals, "held")?),
            status_counts: counts
                .iter()
                .map(|row| Ok((text(row, "status")?, integer(row, "n")?)))
                .collect::<StoreResult<_>>()?,
            top_items: top
                .iter()
                .map(|row| {
                    Ok(TopItem {
                        item_id: text(row, "item_id")?,
                        item_name: text(row, "item_name")?,
                        orders: integer(row, "orders")?,
                        points: Points::from_hundredths(integer(row, "points")?),
                    })
                })
                .collect::<StoreResult<_>>()?,
        })
    }

    /// Expires every open order past its deadline (or its confirmation code's), returning the
    /// points and stock. Each order is its own transaction, and an order another sweeper got to
    /// first is skipped, so two sweeps at once expire each order once. Returns how many expired.
    pub async fn expire_overdue_redemptions(&self) -> StoreResult<usize> {
        let now = self.now();
        let rows = sqlx::query(
            "select id from redemptions where \
             (status in ('pending', 'processing') and fulfil_by <= $1) or \
             (status = 'pending_confirmation' and \
              (fulfil_by <= $1 or confirmation_expires_at <= $1)) \
             order by created_at limit 500",
        )
        .bind(now.as_str().to_owned())
        .fetch_all(self.read())
        .await?;
        let mut expired = 0;
        for row in rows {
            let id: String = row.try_get("id")?;
            let mut tx = self.begin().await?;
            let order = tx.redemption(&id).await?;
            let request = TransitionRequest::to(
                RedemptionStatus::Expired,
                None,
                Some("Not fulfilled in time"),
            );
            match tx.transition(&order, request).await {
                Ok(_) => {
                    tx.commit().await?;
                    expired += 1;
                }
                // Moved on meanwhile (delivered, cancelled, or expired by another sweep).
                Err(StoreError::Domain(_)) => tx.rollback().await?,
                Err(other) => return Err(other),
            }
        }
        Ok(expired)
    }
}
