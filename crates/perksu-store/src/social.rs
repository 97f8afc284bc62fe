//! The social side of recognitions: who may see one, how it reads with its recipients,
//! reactions and comments, and the badges, comments, reactions and statistics around it
//! (docs/PROGRAMS.md, "Badges, comments, reactions, feed").
//!
//! One rule decides who sees a recognition, [`visible_to`]: the recognition listing, the
//! single read, the feed, comments and reactions all put that one SQL predicate in their
//! `where` clause, so they cannot disagree. A recognition the caller may not see is answered
//! as one that does not exist.

mod badges;
mod comments;
mod reactions;
mod stats;

use std::collections::HashMap;

use perksu_domain::access::Actor;
use perksu_domain::{Entity, Error, Points};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

pub use self::badges::{BadgeRow, NewBadge};
pub use self::comments::CommentRow;
pub use self::reactions::{ReactionCounts, ReactionState, REACTION_KINDS};
pub use self::stats::{BadgeCount, RecognitionStats, TypeCounts};
use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{integer, optional_text, points, text, timestamp};
use crate::tx::WriteTx;
use crate::Store;

/// The visibility rule, as a predicate on the recognition aliased `r`: in the caller's tenant
/// (placeholder `$tenant`), and public, or given by the caller (placeholder `$user`), or
/// received by the caller, or department-visible and given from the caller's current
/// department.
pub(crate) fn visible_to(tenant: usize, user: usize) -> String {
    format!(
        "(r.tenant_id = ${tenant} and (r.visibility = 'public' or r.from_user_id = ${user} \
         or exists (select 1 from recognition_recipients vr \
             where vr.recognition_id = r.id and vr.user_id = ${user}) \
         or (r.visibility = 'department' and r.department_id = \
             (select vu.department_id from users vu where vu.id = ${user}))))"
    )
}

/// `$start, $start+1, ...`: `count` placeholders for an `in (...)` list.
pub(crate) fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One recipient's share of a recognition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientShare {
    pub user_id: String,
    pub points: Points,
}

/// A recognition as its readers see it: the row, its recipients in the order given, and what
/// the tenant made of it (reactions, comments).
#[derive(Clone, Debug)]
pub struct RecognitionView {
    pub id: String,
    pub tenant_id: String,
    pub from_user_id: String,
    pub to_user_id: String,
    pub points: Points,
    pub message: String,
    pub funding_source: String,
    pub recognition_type: String,
    pub award_tier: Option<String>,
    pub split_mode: Option<String>,
    pub ecard_template: Option<String>,
    pub badge_id: Option<String>,
    pub visibility: String,
    pub department_budget_id: Option<String>,
    pub lead_allocation_id: Option<String>,
    pub created_at: Timestamp,
    pub recipients: Vec<RecipientShare>,
    pub reactions: ReactionCounts,
    /// The kinds the caller reacted with.
    pub my_reactions: Vec<String>,
    pub comment_count: i64,
}

const VIEW_COLUMNS: &str = "r.id, r.tenant_id, r.from_user_id, r.to_user_id, r.points, \
     r.message, r.funding_source, r.recognition_type, r.award_tier, r.split_mode, \
     r.ecard_template, r.badge_id, r.visibility, r.department_budget_id, r.lead_allocation_id, \
     r.created_at";

impl RecognitionView {
    fn from_row(row: &AnyRow) -> StoreResult<RecognitionView> {
        Ok(RecognitionView {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            from_user_id: text(row, "from_user_id")?,
            to_user_id: text(row, "to_user_id")?,
            points: points(row, "points")?,
            message: text(row, "message")?,
            funding_source: text(row, "funding_source")?,
            recognition_type: text(row, "recognition_type")?,
            award_tier: optional_text(row, "award_tier")?,
            split_mode: optional_text(row, "split_mode")?,
            ecard_template: optional_text(row, "ecard_template")?,
            badge_id: optional_text(row, "badge_id")?,
            visibility: text(row, "visibility")?,
            department_budget_id: optional_text(row, "department_budget_id")?,
            lead_allocation_id: optional_text(row, "lead_allocation_id")?,
            created_at: timestamp(row, "created_at")?,
            recipients: Vec::new(),
            reactions: ReactionCounts::default(),
            my_reactions: Vec::new(),
            comment_count: 0,
        })
    }
}

impl Store {
    /// One recognition the caller may see, or `recognition_not_found`.
    pub async fn recognition_view(&self, actor: &Actor, id: &str) -> StoreResult<RecognitionView> {
        let tenant_id = actor.own_tenant()?;
        let sql = format!(
            "select {VIEW_COLUMNS} from recognitions r where r.id = $3 and {}",
            visible_to(1, 2)
        );
        let row = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(&actor.user_id)
            .bind(id)
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Recognition))?;
        let mut views = vec![RecognitionView::from_row(&row)?];
        let mut conn = self.read().acquire().await?;
        complete_views(&mut conn, &actor.user_id, &mut views).await?;
        Ok(views.remove(0))
    }

    /// Recognitions by id, already known to be visible to `viewer_id`, in any order.
    pub(crate) async fn recognition_views(
        &self,
        viewer_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<RecognitionView>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "select {VIEW_COLUMNS} from recognitions r where r.id in ({})",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(self.read()).await?;
        let mut views = rows
            .iter()
            .map(RecognitionView::from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut conn = self.read().acquire().await?;
        complete_views(&mut conn, viewer_id, &mut views).await?;
        Ok(views)
    }
}

impl WriteTx {
    /// Fails with `recognition_not_found` unless the caller may see the recognition; for the
    /// writes that hang off one (comments, reactions). Returns its tenant.
    pub(crate) async fn visible_recognition(
        &mut self,
        actor: &Actor,
        recognition_id: &str,
    ) -> StoreResult<String> {
        let tenant_id = actor.own_tenant()?;
        let sql = format!(
            "select r.tenant_id from recognitions r where r.id = $3 and {}",
            visible_to(1, 2)
        );
        let row = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(&actor.user_id)
            .bind(recognition_id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Recognition))?;
        text(&row, "tenant_id")
    }
}

impl Store {
    /// Fails with `recognition_not_found` unless the caller may see the recognition.
    pub(crate) async fn require_visible(
        &self,
        actor: &Actor,
        recognition_id: &str,
    ) -> StoreResult<()> {
        let tenant_id = actor.own_tenant()?;
        let sql = format!(
            "select r.id from recognitions r where r.id = $3 and {}",
            visible_to(1, 2)
        );
        sqlx::query(&sql)
            .bind(tenant_id)
            .bind(&actor.user_id)
            .bind(recognition_id)
            .fetch_optional(self.read())
            .await?
            .ok_or_else(|| Error::not_found(Entity::Recognition))?;
        Ok(())
    }
}

/// Fills in the recipients, reaction counts, the viewer's reactions and comment counts of
/// `views`, four queries for the lot.
pub(crate) async fn complete_views(
    conn: &mut AnyConnection,
    viewer_id: &str,
    views: &mut [RecognitionView],
) -> StoreResult<()> {
    if views.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = views.iter().map(|v| v.id.clone()).collect();
    let index: HashMap<String, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), i))
        .collect();
    let list = placeholders(1, ids.len());

    let sql = format!(
        "select recognition_id, user_id, points from recognition_recipients \
         where recognition_id in ({list}) order by recognition_id, position"
    );
    for row in bind_all(&sql, &ids).fetch_all(&mut *conn).await? {
        if let Some(&i) = index.get(&text(&row, "recognition_id")?) {
            views[i].recipients.push(RecipientShare {
                user_id: text(&row, "user_id")?,
                points: points(&row, "points")?,
            });
        }
    }

    let sql = format!(
        "select recognition_id, kind, count(*) as n from recognition_reactions \
         where recognition_id in ({list}) group by recognition_id, kind"
    );
    for row in bind_all(&sql, &ids).fetch_all(&mut *conn).await? {
        if let Some(&i) = index.get(&text(&row, "recognition_id")?) {
            views[i]
                .reactions
                .set(&text(&row, "kind")?, integer(&row, "n")?);
        }
    }

    let sql = format!(
        "select recognition_id, kind from recognition_reactions \
         where recognition_id in ({list}) and user_id = ${} order by kind",
        ids.len() + 1
    );
    for row in bind_all(&sql, &ids)
        .bind(viewer_id)
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some(&i) = index.get(&text(&row, "recognition_id")?) {
            views[i].my_reactions.push(text(&row, "kind")?);
        }
    }

    let sql = format!(
        "select recognition_id, count(*) as n from recognition_comments \
         where recognition_id in ({list}) group by recognition_id"
    );
    for row in bind_all(&sql, &ids).fetch_all(&mut *conn).await? {
        if let Some(&i) = index.get(&text(&row, "recognition_id")?) {
            views[i].comment_count = integer(&row, "n")?;
        }
    }
    Ok(())
}

fn bind_all<'q>(
    sql: &'q str,
    values: &'q [String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    values
        .iter()
        .fold(sqlx::query(sql), |query, value| query.bind(value))
}
