//! Recognitions: one colleague thanking another, with or without points.
//!
//! Funding (docs/ECONOMY.md): a lead's recognition draws on their delegated points when they
//! hold enough; otherwise it draws on the tenant's pool, which refuses with the spec's
//! "Insufficient company allocation pool" when short.

use perksu_domain::access::Actor;
use perksu_domain::{Account, Error, MovementKind, Points, Role};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::{StoreError, StoreResult};
use crate::ledger::{Applied, Transfer};
use crate::rows::{optional_text, points, text, timestamp};
use crate::tx::{new_id, WriteTx};
use crate::Store;

pub struct NewRecognition {
    pub to_user_id: String,
    pub points: Points,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct RecognitionRow {
    pub id: String,
    pub tenant_id: String,
    pub from_user_id: String,
    pub to_user_id: String,
    pub points: Points,
    pub message: String,
    pub funding_source: String,
    pub journal_entry_id: Option<String>,
    pub created_at: Timestamp,
}

const RECOGNITION_COLUMNS: &str = "id, tenant_id, from_user_id, to_user_id, points, message, \
     funding_source, journal_entry_id, created_at";

impl RecognitionRow {
    fn from_row(row: &AnyRow) -> StoreResult<RecognitionRow> {
        Ok(RecognitionRow {
            id: text(row, "id")?,
            tenant_id: text(row, "tenant_id")?,
            from_user_id: text(row, "from_user_id")?,
            to_user_id: text(row, "to_user_id")?,
            points: points(row, "points")?,
            message: text(row, "message")?,
            funding_source: text(row, "funding_source")?,
            journal_entry_id: optional_text(row, "journal_entry_id")?,
            created_at: timestamp(row, "created_at")?,
        })
    }
}

impl WriteTx {
    pub async fn create_recognition(
        &mut self,
        actor: &Actor,
        new: NewRecognition,
    ) -> StoreResult<RecognitionRow> {
        let tenant_id = actor
            .tenant_id
            .clone()
            .ok_or_else(|| Error::forbidden("Recognitions are given by tenant users"))?;
        let tenant = self.tenant(&tenant_id).await?;
        if !new.points.is_zero() {
            self.active_tenant(&tenant_id).await?;
        }
        let recipient = self.recipient(actor, &tenant.id, &new.to_user_id).await?;
        let id = new_id();
        let (funding_source, applied) = if new.points.is_zero() {
            ("none", None)
        } else {
            let (source, applied) = self
                .fund_recognition(actor, &id, &new, &recipient.id)
                .await?;
            (source, Some(applied))
        };
        let journal_entry_id = applied.as_ref().map(|a| a.journal_entry_id.clone());
        sqlx::query(
            "insert into recognitions (id, tenant_id, from_user_id, to_user_id, points, message, \
             funding_source, journal_entry_id, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(&tenant.id)
        .bind(&actor.user_id)
        .bind(&recipient.id)
        .bind(new.points.hundredths())
        .bind(&new.message)
        .bind(funding_source)
        .bind(journal_entry_id.as_deref())
        .bind(self.now().as_str().to_owned())
        .execute(self.conn())
        .await?;
        if let Some(applied) = applied {
            self.wallet_credit_line(
                &tenant.id,
                &recipient.id,
                "recognition",
                new.points,
                applied.to_balance_after,
                Some(&id),
                &new.message,
                &actor.user_id,
                &applied.journal_entry_id,
            )
            .await?;
        }
        let sql = format!("select {RECOGNITION_COLUMNS} from recognitions where id = $1");
        let row = sqlx::query(&sql).bind(&id).fetch_one(self.conn()).await?;
        RecognitionRow::from_row(&row)
    }

    /// Moves the recognition's points into the recipient's wallet from the first source that
    /// holds enough: the giver's lead balance (leads only), then the tenant's pool.
    async fn fund_recognition(
        &mut self,
        actor: &Actor,
        recognition_id: &str,
        new: &NewRecognition,
        recipient_id: &str,
    ) -> StoreResult<(&'static str, Applied)> {
        let tenant_id = actor.own_tenant()?;
        let transfer = |from: Account, on_short: fn(Points, Points) -> Error| Transfer {
            kind: MovementKind::Recognition,
            from,
            to: Account::Wallet(recipient_id.to_owned()),
            amount: new.points,
            tenant_id: Some(tenant_id),
            actor_id: Some(&actor.user_id),
            reason: Some(&new.message),
            reference_id: Some(recognition_id),
            on_short,
        };
        if actor.role == Role::Lead {
            // Lock the pool before the lead row, the order every transfer uses: on PostgreSQL a
            // debit that waited for the lead row and then found it short keeps that row locked,
            // so taking the pool after it could deadlock with a delegation or a recall.
            self.lock_account(&Account::Pool(tenant_id.to_owned()))
                .await?;
            let from_lead = transfer(
                Account::Lead(actor.user_id.clone()),
                Error::insufficient_lead_balance,
            );
            match self.transfer(from_lead).await {
                Ok(applied) => return Ok(("lead_balance", applied)),
                // A short lead balance is not final: the pool may still fund it.
                Err(StoreError::Domain(e)) if e.code == "insufficient_lead_balance" => {}
                Err(other) => return Err(other),
            }
        }
        let from_pool = transfer(
            Account::Pool(tenant_id.to_owned()),
            Error::insufficient_company_pool,
        );
        Ok(("pool", self.transfer(from_pool).await?))
    }
}

impl Store {
    /// Recognitions of the caller's tenant, newest first; `limit` at most 200.
    pub async fn recognitions(
        &self,
        actor: &Actor,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<RecognitionRow>> {
        let tenant_id = actor.own_tenant()?;
        let sql = format!(
            "select {RECOGNITION_COLUMNS} from recognitions where tenant_id = $1 \
             order by created_at desc, id desc limit $2 offset $3"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.read())
            .await?;
        rows.iter().map(RecognitionRow::from_row).collect()
    }
}
