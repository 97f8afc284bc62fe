//! Reactions: at most one of each kind per user and recognition. The primary key
//! `(recognition_id, user_id, kind)` is the guard, and a repeated reaction is an
//! `on conflict do nothing`, so any number of identical requests, concurrent or not, leave one
//! row.

use perksu_domain::access::Actor;
use perksu_domain::{Error, ErrorKind};

use crate::error::StoreResult;
use crate::rows::{integer, text};
use crate::tx::WriteTx;

/// The kinds of reaction, in the order they are shown.
pub const REACTION_KINDS: [&str; 5] = ["like", "clap", "celebrate", "heart", "insightful"];

/// How many reactions of each kind a recognition has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReactionCounts {
    pub like: i64,
    pub clap: i64,
    pub celebrate: i64,
    pub heart: i64,
    pub insightful: i64,
}

impl ReactionCounts {
    pub(crate) fn set(&mut self, kind: &str, count: i64) {
        match kind {
            "like" => self.like = count,
            "clap" => self.clap = count,
            "celebrate" => self.celebrate = count,
            "heart" => self.heart = count,
            "insightful" => self.insightful = count,
            _ => {}
        }
    }
}

/// A recognition's reactions after a change: the counts and the caller's own kinds.
#[derive(Clone, Debug)]
pub struct ReactionState {
    pub recognition_id: String,
    pub counts: ReactionCounts,
    pub mine: Vec<String>,
}

/// The kind as stored, or 400 `invalid_reaction`.
fn reaction_kind(kind: &str) -> Result<&'static str, Error> {
    REACTION_KINDS
        .iter()
        .copied()
        .find(|known| *known == kind)
        .ok_or_else(|| {
            Error::invalid(
                "invalid_reaction",
                format!("kind must be one of: {}", REACTION_KINDS.join(", ")),
            )
        })
}

impl WriteTx {
    /// Adds the caller's reaction of `kind`; reacting again with the same kind changes nothing.
    pub async fn react(
        &mut self,
        actor: &Actor,
        recognition_id: &str,
        kind: &str,
    ) -> StoreResult<ReactionState> {
        let kind = reaction_kind(kind)?;
        let tenant_id = self.visible_recognition(actor, recognition_id).await?;
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into recognition_reactions (recognition_id, user_id, tenant_id, kind, \
             created_at) values ($1, $2, $3, $4, $5) \
             on conflict (recognition_id, user_id, kind) do nothing",
        )
        .bind(recognition_id)
        .bind(&actor.user_id)
        .bind(&tenant_id)
        .bind(kind)
        .bind(now)
        .execute(self.conn())
        .await?;
        self.reaction_state(actor, recognition_id).await
    }

    /// Takes back the caller's reaction of `kind`; 404 `reaction_not_found` when there was none.
    pub async fn unreact(
        &mut self,
        actor: &Actor,
        recognition_id: &str,
        kind: &str,
    ) -> StoreResult<ReactionState> {
        let kind = reaction_kind(kind)?;
        self.visible_recognition(actor, recognition_id).await?;
        let deleted = sqlx::query(
            "delete from recognition_reactions \
             where recognition_id = $1 and user_id = $2 and kind = $3",
        )
        .bind(recognition_id)
        .bind(&actor.user_id)
        .bind(kind)
        .execute(self.conn())
        .await?
        .rows_affected();
        if deleted == 0 {
            return Err(Error::new(
                ErrorKind::NotFound,
                "reaction_not_found",
                format!("You have no {kind} reaction on this recognition"),
            )
            .into());
        }
        self.reaction_state(actor, recognition_id).await
    }

    async fn reaction_state(
        &mut self,
        actor: &Actor,
        recognition_id: &str,
    ) -> StoreResult<ReactionState> {
        let rows = sqlx::query(
            "select kind, count(*) as n from recognition_reactions where recognition_id = $1 \
             group by kind",
        )
        .bind(recognition_id)
        .fetch_all(self.conn())
        .await?;
        let mut counts = ReactionCounts::default();
        for row in &rows {
            counts.set(&text(row, "kind")?, integer(row, "n")?);
        }
        let rows = sqlx::query(
            "select kind from recognition_reactions where recognition_id = $1 and user_id = $2 \
             order by kind",
        )
        .bind(recognition_id)
        .bind(&actor.user_id)
        .fetch_all(self.conn())
        .await?;
        let mine = rows
            .iter()
            .map(|row| text(row, "kind"))
            .collect::<StoreResult<_>>()?;
        Ok(ReactionState {
            recognition_id: recognition_id.to_owned(),
            counts,
            mine,
        })
    }
}
