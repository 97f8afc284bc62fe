//! The caller's own recognition statistics (`GET /api/recognitions/stats/me`).

use chrono::{Datelike, TimeZone, Utc};
use perksu_domain::access::Actor;
use perksu_domain::recognition::month_of;
use perksu_domain::{Points, Role};
use sqlx::Row;

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::rows::{integer, points, text};
use crate::Store;

/// How often the caller received a badge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadgeCount {
    pub badge_id: String,
    pub name: String,
    pub count: i64,
}

/// Recognitions received, by type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeCounts {
    pub standard: i64,
    pub individual_award: i64,
    pub group_award: i64,
    pub ecard: i64,
}

#[derive(Clone, Debug)]
pub struct RecognitionStats {
    pub given_count: i64,
    pub received_count: i64,
    pub points_given: Points,
    pub points_received: Points,
    /// Points given in the current calendar month (UTC).
    pub given_this_month: Points,
    /// The tenant's monthly giving allowance, when it has one and it applies to the caller
    /// (employees; see docs/ECONOMY.md).
    pub monthly_giving_allowance: Option<Points>,
    /// What is left of the allowance this month, never below zero; `None` without one.
    pub allowance_remaining: Option<Points>,
    pub badges_received: Vec<BadgeCount>,
    pub by_type: TypeCounts,
}

impl Store {
    pub async fn recognition_stats(&self, actor: &Actor) -> StoreResult<RecognitionStats> {
        let tenant_id = actor.own_tenant()?;
        let user_id = actor.user_id.as_str();
        let now = self.clock_now();
        let month_start = Utc
            .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
            .single()
            .ok_or_else(|| StoreError::Corrupt(format!("no month start for {now}")))?;
        let next_month = if now.month() == 12 {
            Utc.with_ymd_and_hms(now.year() + 1, 1, 1, 0, 0, 0)
        } else {
            Utc.with_ymd_and_hms(now.year(), now.month() + 1, 1, 0, 0, 0)
        }
        .single()
        .ok_or_else(|| StoreError::Corrupt(format!("no next month for {now}")))?;
        let month_start = Timestamp::from(month_start);
        let next_month = Timestamp::from(next_month);

        let given = sqlx::query(
            "select count(*) as n, coalesce(cast(sum(points) as bigint), 0) as total, \
             coalesce(cast(sum(case when created_at >= $3 and created_at < $4 then points \
                 else 0 end) as bigint), 0) as this_month \
             from recognitions where tenant_id = $1 and from_user_id = $2",
        )
        .bind(tenant_id)
        .bind(user_id)
        .bind(month_start.as_str())
        .bind(next_month.as_str())
        .fetch_one(self.read())
        .await?;
        let received = sqlx::query(
            "select count(*) as n, coalesce(cast(sum(points) as bigint), 0) as total \
             from recognition_recipients where tenant_id = $1 and user_id = $2",
        )
        .bind(tenant_id)
        .bind(user_id)
        .fetch_one(self.read())
        .await?;

        let badge_rows = sqlx::query(
            "select b.id as badge_id, b.name as name, count(*) as n \
             from recognition_recipients rr \
             join recognitions r on r.id = rr.recognition_id \
             join badges b on b.id = r.badge_id \
             where rr.tenant_id = $1 and rr.user_id = $2 \
             group by b.id, b.name order by count(*) desc, b.name, b.id",
        )
        .bind(tenant_id)
        .bind(user_id)
        .fetch_all(self.read())
        .await?;
        let badges_received = badge_rows
            .iter()
            .map(|row| {
                Ok(BadgeCount {
                    badge_id: text(row, "badge_id")?,
                    name: text(row, "name")?,
                    count: integer(row, "n")?,
                })
            })
            .collect::<StoreResult<_>>()?;

        let type_rows = sqlx::query(
            "select r.recognition_type as recognition_type, count(*) as n \
             from recognition_recipients rr join recognitions r on r.id = rr.recognition_id \
             where rr.tenant_id = $1 and rr.user_id = $2 group by r.recognition_type",
        )
        .bind(tenant_id)
        .bind(user_id)
        .fetch_all(self.read())
        .await?;
        let mut by_type = TypeCounts::default();
        for row in &type_rows {
            let count = integer(row, "n")?;
            match text(row, "recognition_type")?.as_str() {
                "standard" => by_type.standard = count,
                "individual_award" => by_type.individual_award = count,
                "group_award" => by_type.group_award = count,
                "ecard" => by_type.ecard = count,
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "unexpected recognition_type {other:?}"
                    )))
                }
            }
        }

        let allowance = if actor.role == Role::Employee {
            let row = sqlx::query("select monthly_giving_allowance from tenants where id = $1")
                .bind(tenant_id)
                .fetch_one(self.read())
                .await?;
            row.try_get::<Option<i64>, _>("monthly_giving_allowance")?
                .map(Points::from_hundredths)
        } else {
            None
        };
        let allowance_remaining = match allowance {
            None => None,
            Some(allowance) => {
                let used = sqlx::query(
                    "select given_points from giving_allowance_usage \
                     where user_id = $1 and month = $2",
                )
                .bind(user_id)
                .bind(month_of(month_start.as_str()))
                .fetch_optional(self.read())
                .await?;
                let used = match used {
                    Some(row) => points(&row, "given_points")?,
                    None => Points::ZERO,
                };
                Some(allowance.checked_sub(used).unwrap_or(Points::ZERO))
            }
        };

        Ok(RecognitionStats {
            given_count: integer(&given, "n")?,
            received_count: integer(&received, "n")?,
            points_given: points(&given, "total")?,
            points_received: points(&received, "total")?,
            given_this_month: points(&given, "this_month")?,
            monthly_giving_allowance: allowance,
            allowance_remaining,
            badges_received,
            by_type,
        })
    }
}
