//! Comments on a recognition, by anyone who may see it.

use perksu_domain::access::Actor;
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::rows::{text, timestamp};
use crate::tx::{new_id, WriteTx};
use crate::Store;

#[derive(Clone, Debug)]
pub struct CommentRow {
    pub id: String,
    pub recognition_id: String,
    pub user_id: String,
    /// The author's name as it is now.
    pub author_name: String,
    pub body: String,
    pub created_at: Timestamp,
}

const COMMENT_SELECT: &str = "select c.id, c.recognition_id, c.user_id, \
     u.first_name || ' ' || u.last_name as author_name, c.body, c.created_at \
     from recognition_comments c join users u on u.id = c.user_id";

impl CommentRow {
    fn from_row(row: &AnyRow) -> StoreResult<CommentRow> {
        Ok(CommentRow {
            id: text(row, "id")?,
            recognition_id: text(row, "recognition_id")?,
            user_id: text(row, "user_id")?,
            author_name: text(row, "author_name")?,
            body: text(row, "body")?,
            created_at: timestamp(row, "created_at")?,
        })
    }
}

impl WriteTx {
    /// Comments on a recognition the caller may see. `body` is already checked (1 to 2000
    /// characters).
    pub async fn add_comment(
        &mut self,
        actor: &Actor,
        recognition_id: &str,
        body: &str,
    ) -> StoreResult<CommentRow> {
        let tenant_id = self.visible_recognition(actor, recognition_id).await?;
        let id = new_id();
        sqlx::query(
            "insert into recognition_comments (id, tenant_id, recognition_id, user_id, body, \
             created_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(&tenant_id)
        .bind(recognition_id)
        .bind(&actor.user_id)
        .bind(body)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        let sql = format!("{COMMENT_SELECT} where c.id = $1");
        let row = sqlx::query(&sql).bind(&id).fetch_one(self.conn()).await?;
        CommentRow::from_row(&row)
    }
}

impl Store {
    /// The comments on a recognition the caller may see, oldest first.
    pub async fn comments(
        &self,
        actor: &Actor,
        recognition_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<CommentRow>> {
        self.require_visible(actor, recognition_id).await?;
        let sql = format!(
            "{COMMENT_SELECT} where c.recognition_id = $1 \
             order by c.created_at, c.id limit $2 offset $3"
        );
        let rows = sqlx::query(&sql)
            .bind(recognition_id)
            .bind(limit.clamp(1, 200))
            .bind(offset.max(0))
            .fetch_all(self.read())
            .await?;
        rows.iter().map(CommentRow::from_row).collect()
    }
}
