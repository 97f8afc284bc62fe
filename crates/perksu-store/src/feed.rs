//! The tenant feed (recognitions, awards, milestones) and what a new recognition announces:
//! its feed item, any recipient's milestone, and a notification to each recipient.
//!
//! A feed item about a recognition follows the recognition's visibility, through the same
//! predicate as every other read ([`crate::social`]); a milestone has no recognition and is
//! public, so a private recognition never shows through the milestone it completes.

use perksu_domain::access::Actor;
use perksu_domain::Points;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::notifications::Notice;
use crate::rows::{integer, optional_text, points, text, timestamp};
use crate::social::{visible_to, RecognitionView};
use crate::tx::{new_id, WriteTx};
use crate::Store;

/// The counts of recognitions received that are celebrated in the feed.
pub const MILESTONES: [i64; 5] = [1, 10, 25, 50, 100];

/// The notification kind every recipient of a recognition gets.
pub const RECOGNITION_NOTIFICATION: &str = "recognition_received";

/// A recognition just written, with its `recognition_recipients` rows, to announce.
pub(crate) struct PublishedRecognition<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub from_user_id: &'a str,
    /// `standard`, `individual_award`, `group_award` or `ecard`.
    pub recognition_type: &'a str,
    /// `public`, `private` or `department`.
    pub visibility: &'a str,
    /// The giver's department when given.
    pub department_id: Option<&'a str>,
    /// The total of all recipients' points.
    pub points: Points,
    /// In the order given.
    pub recipient_ids: &'a [String],
}

impl WriteTx {
    /// Feed item, milestones and recipient notifications for a recognition just written. Call
    /// it in the transaction that wrote the recognition and its recipients' rows; it checks
    /// that those rows are there and add up to `points`.
    pub(crate) async fn publish_recognition(
        &mut self,
        r: &PublishedRecognition<'_>,
    ) -> StoreResult<()> {
        let shares = self.recipient_shares(r).await?;
        let giver = self.full_name(r.from_user_id).await?;
        let recipients = self.full_names(r.recipient_ids).await?;
        let (first, others) = match recipients.split_first() {
            Some((first, others)) => (first.as_str(), others.len()),
            None => {
                return Err(StoreError::Corrupt(format!(
                    "recognition {} has no recipients",
                    r.id
                )))
            }
        };
        let whom = match others {
            0 => first.to_owned(),
            1 => format!("{first} and 1 other"),
            n => format!("{first} and {n} others"),
        };
        let (kind, title, notice_title) = match r.recognition_type {
            "individual_award" => (
                "award",
                format!("{giver} gave {whom} an award"),
                format!("{giver} gave you an award"),
            ),
            "group_award" => (
                "award",
                format!("{giver} gave {whom} a group award"),
                format!("{giver} gave you a group award"),
            ),
            "ecard" => (
                "recognition",
                format!("{giver} sent {whom} an e-card"),
                format!("{giver} sent you an e-card"),
            ),
            _ => (
                "recognition",
                format!("{giver} recognised {whom}"),
                format!("{giver} recognised you"),
            ),
        };
        let now = self.now().as_str().to_owned();
        sqlx::query(
            "insert into feed_items (id, tenant_id, kind, recognition_id, user_id, title, \
             visibility, department_id, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(r.tenant_id)
        .bind(kind)
        .bind(r.id)
        .bind(r.from_user_id)
        .bind(&title)
        .bind(r.visibility)
        .bind(r.department_id)
        .bind(&now)
        .execute(self.conn())
        .await?;

        let message = self.recognition_message(r.id).await?;
        for (user_id, name) in r.recipient_ids.iter().zip(&recipients) {
            self.milestone(r.tenant_id, user_id, name).await?;
            let share = shares
                .iter()
                .find(|(id, _)| id == user_id)
                .map(|(_, points)| *points)
                .unwrap_or(Points::ZERO);
            let notice_title = if share.is_zero() {
                notice_title.clone()
            } else {
                format!("{notice_title}: +{share}")
            };
            self.notify(Notice {
                tenant_id: Some(r.tenant_id),
                user_id,
                kind: RECOGNITION_NOTIFICATION,
                title: &notice_title,
                body: &message,
                reference_id: Some(r.id),
            })
            .await?;
        }
        Ok(())
    }

    /// The recognition's recipient rows, checked against what the caller says it wrote.
    async fn recipient_shares(
        &mut self,
        r: &PublishedRecognition<'_>,
    ) -> StoreResult<Vec<(String, Points)>> {
        let rows = sqlx::query(
            "select user_id, points from recognition_recipients where recognition_id = $1 \
             order by position",
        )
        .bind(r.id)
        .fetch_all(self.conn())
        .await?;
        let shares = rows
            .iter()
            .map(|row| Ok((text(row, "user_id")?, points(row, "points")?)))
            .collect::<StoreResult<Vec<_>>>()?;
        let total = shares
            .iter()
            .try_fold(Points::ZERO, |sum, (_, share)| sum.checked_add(*share));
        let listed = r
            .recipient_ids
            .iter()
            .all(|id| shares.iter().any(|(user_id, _)| user_id == id));
        if shares.len() != r.recipient_ids.len() || !listed || total != Some(r.points) {
            return Err(StoreError::Corrupt(format!(
                "recognition {} has recipient rows that do not match what it announces",
                r.id
            )));
        }
        Ok(shares)
    }

    /// A feed item when the user's count of recognitions received has just reached a
    /// milestone. The item's id is derived from the user and the count, so two transactions
    /// that both see the count reached write one item.
    async fn milestone(&mut self, tenant_id: &str, user_id: &str, name: &str) -> StoreResult<()> {
        // Counting stops past the last milestone, so the cost does not grow with a colleague's
        // history.
        let sql = format!(
            "select count(*) as n from (select 1 from recognition_recipients \
             where user_id = $1 and tenant_id = $2 limit {}) received",
            MILESTONES[MILESTONES.len() - 1] + 1
        );
        let row = sqlx::query(&sql)
            .bind(user_id)
            .bind(tenant_id)
            .fetch_one(self.conn())
            .await?;
        let count = integer(&row, "n")?;
        if !MILESTONES.contains(&count) {
            return Ok(());
        }
        let title = format!("{name} received their {} recognition", ordinal(count));
        sqlx::query(
            "insert into feed_items (id, tenant_id, kind, recognition_id, user_id, title, \
             visibility, department_id, created_at) \
             values ($1, $2, 'milestone', null, $3, $4, 'public', null, $5) \
             on conflict (id) do nothing",
        )
        .bind(milestone_id(user_id, count))
        .bind(tenant_id)
        .bind(user_id)
        .bind(&title)
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn full_name(&mut self, user_id: &str) -> StoreResult<String> {
        let row =
            sqlx::query("select first_name || ' ' || last_name as name from users where id = $1")
                .bind(user_id)
                .fetch_optional(self.conn())
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("no user {user_id}")))?;
        text(&row, "name")
    }

    async fn full_names(&mut self, user_ids: &[String]) -> StoreResult<Vec<String>> {
        let mut names = Vec::with_capacity(user_ids.len());
        for user_id in user_ids {
            names.push(self.full_name(user_id).await?);
        }
        Ok(names)
    }

    async fn recognition_message(&mut self, recognition_id: &str) -> StoreResult<String> {
        let row = sqlx::query("select message from recognitions where id = $1")
            .bind(recognition_id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no recognition {recognition_id}")))?;
        text(&row, "message")
    }
}

/// `1st`, `2nd`, `3rd`, `10th`, `11th`, `21st`, ...
fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The id of a user's milestone feed item: a UUID made from a hash of the user and the count.
fn milestone_id(user_id: &str, count: i64) -> String {
    let digest = Sha256::digest(format!("milestone\n{user_id}\n{count}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// One entry of the feed, with its recognition when it has one and the caller may see it.
#[derive(Clone, Debug)]
pub struct FeedItem {
    pub id: String,
    /// `recognition`, `award` or `milestone`.
    pub kind: String,
    pub title: String,
    /// Who the item is about: the giver, or the user who reached a milestone.
    pub user_id: String,
    pub recognition: Option<RecognitionView>,
    pub created_at: Timestamp,
}

struct FeedRow {
    id: String,
    kind: String,
    title: String,
    user_id: String,
    recognition_id: Option<String>,
    created_at: Timestamp,
}

impl FeedRow {
    fn from_row(row: &AnyRow) -> StoreResult<FeedRow> {
        Ok(FeedRow {
            id: text(row, "id")?,
            kind: text(row, "kind")?,
            title: text(row, "title")?,
            user_id: text(row, "user_id")?,
            recognition_id: optional_text(row, "recognition_id")?,
            created_at: timestamp(row, "created_at")?,
        })
    }
}

impl Store {
    /// The caller's tenant's feed as the caller may see it, newest first; `limit` 1 to 100.
    pub async fn feed(&self, actor: &Actor, limit: i64, offset: i64) -> StoreResult<Vec<FeedItem>> {
        let tenant_id = actor.own_tenant()?;
        let sql = format!(
            "select f.id, f.kind, f.title, f.user_id, f.recognition_id, f.created_at \
             from feed_items f left join recognitions r on r.id = f.recognition_id \
             where f.tenant_id = $1 and ((f.recognition_id is null and f.visibility = 'public') \
                 or (f.recognition_id is not null and {})) \
             order by f.created_at desc, f.id desc limit $3 offset $4",
            visible_to(1, 2)
        );
        let rows = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(&actor.user_id)
            .bind(limit.clamp(1, 100))
            .bind(offset.max(0))
            .fetch_all(self.read())
            .await?;
        let rows = rows
            .iter()
            .map(FeedRow::from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut ids: Vec<String> = rows
            .iter()
            .filter_map(|row| row.recognition_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        let views = self.recognition_views(&actor.user_id, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let recognition = row
                    .recognition_id
                    .as_ref()
                    .and_then(|id| views.iter().find(|view| &view.id == id).cloned());
                FeedItem {
                    id: row.id,
                    kind: row.kind,
                    title: row.title,
                    user_id: row.user_id,
                    recognition,
                    created_at: row.created_at,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals() {
        let words: Vec<String> = [1, 2, 3, 4, 10, 11, 12, 13, 21, 25, 50, 100, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            words,
            [
                "1st", "2nd", "3rd", "4th", "10th", "11th", "12th", "13th", "21st", "25th", "50th",
                "100th", "101st", "111th"
            ]
        );
    }

    #[test]
    fn milestone_ids_depend_on_user_and_count_only() {
        assert_eq!(milestone_id("u1", 10), milestone_id("u1", 10));
        assert_ne!(milestone_id("u1", 10), milestone_id("u1", 25));
        assert_ne!(milestone_id("u1", 10), milestone_id("u2", 10));
        assert_eq!(milestone_id("u1", 1).len(), 36);
    }
}
