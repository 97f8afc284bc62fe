//! Recognitions: one colleague thanking others, with or without points, as a plain
//! recognition, an individual or group award, or an e-card.
//!
//! This file checks who may give what to whom and writes the recognition, its recipients and
//! their wallet lines; `recognition_funding.rs` decides where the points come from; `feed.rs`
//! publishes it. See docs/PROGRAMS.md and docs/ECONOMY.md.

use std::collections::HashMap;

use perksu_domain::access::Actor;
use perksu_domain::ecards::ecard_template;
use perksu_domain::recognition::{
    split_shares, RecognitionType, SplitMode, Visibility, MAX_GROUP_RECIPIENTS,
};
use perksu_domain::{Entity, Error, Points, Role, TenantStatus};
use sqlx::any::AnyRow;

use crate::clock::Timestamp;
use crate::error::StoreResult;
use crate::feed::PublishedRecognition;
use crate::recognition_funding::{Funding, FundingRequest};
use crate::rows::{optional_text, points, text, timestamp};
use crate::social::{placeholders, visible_to};
use crate::tenants::TenantRow;
use crate::tx::{new_id, WriteTx};
use crate::Store;

/// A validated request to recognise colleagues.
pub struct NewRecognition {
    pub recognition_type: RecognitionType,
    /// One recipient, or 2 to 50 for a group award, in the order given.
    pub recipient_ids: Vec<String>,
    /// As given: `None` is zero for a plain recognition or an e-card and the tier's amount for
    /// an individual award.
    pub points: Option<Points>,
    pub split: Option<SplitMode>,
    pub award_tier: Option<String>,
    pub ecard_template: Option<String>,
    pub badge_id: Option<String>,
    pub visibility: Visibility,
    pub message: String,
}

impl NewRecognition {
    /// A plain, public recognition of one colleague.
    pub fn standard(to_user_id: String, points: Points, message: String) -> NewRecognition {
        NewRecognition {
            recognition_type: RecognitionType::Standard,
            recipient_ids: vec![to_user_id],
            points: Some(points),
            split: None,
            award_tier: None,
            ecard_template: None,
            badge_id: None,
            visibility: Visibility::Public,
            message,
        }
    }
}

/// One recipient's share.
#[derive(Clone, Debug)]
pub struct RecipientRow {
    pub user_id: String,
    pub points: Points,
}

#[derive(Clone, Debug)]
pub struct RecognitionRow {
    pub id: String,
    pub tenant_id: String,
    pub from_user_id: String,
    /// The first recipient.
    pub to_user_id: String,
    /// The total across recipients.
    pub points: Points,
    pub message: String,
    pub funding_source: String,
    pub journal_entry_id: Option<String>,
    pub created_at: Timestamp,
    pub recognition_type: String,
    pub award_tier: Option<String>,
    pub split_mode: Option<String>,
    pub ecard_template: Option<String>,
    pub badge_id: Option<String>,
    pub visibility: String,
    pub department_id: Option<String>,
    pub department_budget_id: Option<String>,
    pub lead_allocation_id: Option<String>,
    pub recipients: Vec<RecipientRow>,
}

const RECOGNITION_COLUMNS: &str = "id, tenant_id, from_user_id, to_user_id, points, message, \
     funding_source, journal_entry_id, created_at, recognition_type, award_tier, split_mode, \
     ecard_template, badge_id, visibility, department_id, department_budget_id, \
     lead_allocation_id";

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
            recognition_type: text(row, "recognition_type")?,
            award_tier: optional_text(row, "award_tier")?,
            split_mode: optional_text(row, "split_mode")?,
            ecard_template: optional_text(row, "ecard_template")?,
            badge_id: optional_text(row, "badge_id")?,
            visibility: text(row, "visibility")?,
            department_id: optional_text(row, "department_id")?,
            department_budget_id: optional_text(row, "department_budget_id")?,
            lead_allocation_id: optional_text(row, "lead_allocation_id")?,
            recipients: Vec::new(),
        })
    }
}

/// What a request resolves to once the tenant's tiers and the split are applied.
struct Resolved {
    shares: Vec<(String, Points)>,
    total: Points,
    award_tier: Option<String>,
    split: Option<SplitMode>,
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
        if new.recognition_type.is_award()
            && !matches!(actor.role, Role::Lead | Role::TenantManager)
        {
            return Err(Error::forbidden("Awards are given by leads and tenant managers").into());
        }
        let resolved = resolve(&tenant, &new)?;
        if !resolved.total.is_zero() {
            if tenant.status != TenantStatus::Active {
                return Err(Error::tenant_suspended().into());
            }
            if actor.role == Role::Employee && !tenant.peer_to_peer_enabled {
                return Err(Error {
                    code: "peer_to_peer_disabled",
                    ..Error::forbidden(
                        "Peer-to-peer recognition with points is turned off for this company",
                    )
                }
                .into());
            }
        }
        for (recipient_id, _) in &resolved.shares {
            self.recipient(actor, &tenant.id, recipient_id).await?;
        }
        if let Some(badge_id) = &new.badge_id {
            self.require_badge(&tenant.id, badge_id).await?;
        }
        let giver = self
            .user_in_tenant(&tenant.id, &actor.user_id, Entity::User)
            .await?;
        let id = new_id();
        let funding = if resolved.total.is_zero() {
            None
        } else {
            Some(
                self.fund_recognition(&FundingRequest {
                    actor,
                    tenant: &tenant,
                    giver_department_id: giver.department_id.as_deref(),
                    recognition_id: &id,
                    shares: &resolved.shares,
                    total: resolved.total,
                    message: &new.message,
                })
                .await?,
            )
        };
        self.insert_recognition(
            actor,
            &tenant,
            &id,
            &new,
            &resolved,
            &giver.department_id,
            &funding,
        )
        .await?;
        let recipient_ids: Vec<String> = resolved.shares.iter().map(|(id, _)| id.clone()).collect();
        self.publish_recognition(&PublishedRecognition {
            id: &id,
            tenant_id: &tenant.id,
            from_user_id: &actor.user_id,
            recognition_type: new.recognition_type.as_str(),
            visibility: new.visibility.as_str(),
            department_id: giver.department_id.as_deref(),
            points: resolved.total,
            recipient_ids: &recipient_ids,
        })
        .await?;
        self.recognition_by_id(&id).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_recognition(
        &mut self,
        actor: &Actor,
        tenant: &TenantRow,
        id: &str,
        new: &NewRecognition,
        resolved: &Resolved,
        department_id: &Option<String>,
        funding: &Option<Funding>,
    ) -> StoreResult<()> {
        let first_recipient = resolved
            .shares
            .first()
            .map(|(id, _)| id.as_str())
            .unwrap_or_default();
        let journal_entry_id = funding
            .as_ref()
            .and_then(|f| f.applied.first())
            .map(|a| a.journal_entry_id.clone());
        sqlx::query(
            "insert into recognitions (id, tenant_id, from_user_id, to_user_id, points, message, \
             funding_source, journal_entry_id, created_at, recognition_type, award_tier, \
             split_mode, ecard_template, badge_id, visibility, department_id, \
             department_budget_id, lead_allocation_id, budget_month) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19)",
        )
        .bind(id)
        .bind(&tenant.id)
        .bind(&actor.user_id)
        .bind(first_recipient)
        .bind(resolved.total.hundredths())
        .bind(&new.message)
        .bind(funding.as_ref().map_or("none", |f| f.source))
        .bind(journal_entry_id.as_deref())
        .bind(self.now().as_str().to_owned())
        .bind(new.recognition_type.as_str())
        .bind(resolved.award_tier.as_deref())
        .bind(resolved.split.map(SplitMode::as_str))
        .bind(new.ecard_template.as_deref())
        .bind(new.badge_id.as_deref())
        .bind(new.visibility.as_str())
        .bind(department_id.as_deref())
        .bind(
            funding
                .as_ref()
                .and_then(|f| f.department_budget_id.as_deref()),
        )
        .bind(
            funding
                .as_ref()
                .and_then(|f| f.lead_allocation_id.as_deref()),
        )
        .bind(funding.as_ref().and_then(|f| f.budget_month.as_deref()))
        .execute(self.conn())
        .await?;
        let applied = funding
            .as_ref()
            .map(|f| f.applied.as_slice())
            .unwrap_or(&[]);
        for (position, (recipient_id, share)) in resolved.shares.iter().enumerate() {
            let movement = applied.get(position);
            sqlx::query(
                "insert into recognition_recipients \
                 (recognition_id, user_id, tenant_id, points, journal_entry_id, position) \
                 values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(recipient_id)
            .bind(&tenant.id)
            .bind(share.hundredths())
            .bind(movement.map(|m| m.journal_entry_id.as_str()))
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(self.conn())
            .await?;
            if let Some(movement) = movement {
                self.wallet_credit_line(
                    &tenant.id,
                    recipient_id,
                    "recognition",
                    *share,
                    movement.to_balance_after,
                    Some(id),
                    &new.message,
                    &actor.user_id,
                    &movement.journal_entry_id,
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn require_badge(&mut self, tenant_id: &str, badge_id: &str) -> StoreResult<()> {
        let found = sqlx::query(
            "select id from badges where id = $1 and (tenant_id is null or tenant_id = $2)",
        )
        .bind(badge_id)
        .bind(tenant_id)
        .fetch_optional(self.conn())
        .await?;
        match found {
            Some(_) => Ok(()),
            None => Err(Error::not_found(Entity::Badge).into()),
        }
    }

    async fn recognition_by_id(&mut self, id: &str) -> StoreResult<RecognitionRow> {
        let sql = format!("select {RECOGNITION_COLUMNS} from recognitions where id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_one(self.conn()).await?;
        let mut recognition = RecognitionRow::from_row(&row)?;
        let recipients = sqlx::query(
            "select user_id, points from recognition_recipients where recognition_id = $1 \
             order by position",
        )
        .bind(id)
        .fetch_all(self.conn())
        .await?;
        recognition.recipients = recipients
            .iter()
            .map(|row| {
                Ok(RecipientRow {
                    user_id: text(row, "user_id")?,
                    points: points(row, "points")?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(recognition)
    }
}

/// Applies the type's rules: how many recipients, the tier's amount, the split.
fn resolve(tenant: &TenantRow, new: &NewRecognition) -> Result<Resolved, Error> {
    let recipients = &new.recipient_ids;
    let kind = new.recognition_type;
    let expected = |what: &str| Error::invalid("invalid_recipients", what.to_owned());
    if kind == RecognitionType::GroupAward {
        if recipients.len() < 2 || recipients.len() > MAX_GROUP_RECIPIENTS {
            return Err(expected(&format!(
                "a group award needs 2 to {MAX_GROUP_RECIPIENTS} recipient_ids"
            )));
        }
        let mut seen = std::collections::HashSet::new();
        if !recipients.iter().all(|id| seen.insert(id.as_str())) {
            return Err(expected("recipient_ids lists a colleague more than once"));
        }
    } else if recipients.len() != 1 {
        return Err(expected(
            "this recognition type has exactly one recipient (to_user_id)",
        ));
    }
    if kind != RecognitionType::GroupAward && new.split.is_some() {
        return Err(Error::invalid(
            "invalid_field",
            "split is for group awards only",
        ));
    }
    if kind != RecognitionType::IndividualAward && new.award_tier.is_some() {
        return Err(Error::invalid(
            "invalid_field",
            "award_tier is for individual awards only",
        ));
    }
    if kind != RecognitionType::Ecard && new.ecard_template.is_some() {
        return Err(Error::invalid(
            "invalid_field",
            "ecard_template is for e-cards only",
        ));
    }
    let single = |points: Points| vec![(recipients[0].clone(), points)];
    match kind {
        RecognitionType::Standard => {
            let points = new.points.unwrap_or(Points::ZERO);
            Ok(Resolved {
                shares: single(points),
                total: points,
                award_tier: None,
                split: None,
            })
        }
        RecognitionType::Ecard => {
            let template = new.ecard_template.as_deref().unwrap_or_default();
            if ecard_template(template).is_none() {
                return Err(Error::invalid(
                    "invalid_ecard_template",
                    "ecard_template must be one of the ids from /api/recognitions/ecard-templates",
                ));
            }
            let points = new.points.unwrap_or(Points::ZERO);
            Ok(Resolved {
                shares: single(points),
                total: points,
                award_tier: None,
                split: None,
            })
        }
        RecognitionType::IndividualAward => {
            let wanted = new.award_tier.as_deref().unwrap_or_default().trim();
            let tier = tenant
                .award_tiers
                .iter()
                .find(|tier| tier.name.eq_ignore_ascii_case(wanted))
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        tenant.award_tiers.iter().map(|t| t.name.as_str()).collect();
                    Error::invalid(
                        "invalid_award_tier",
                        format!("award_tier must be one of: {}", names.join(", ")),
                    )
                })?;
            if new.points.is_some_and(|points| points != tier.points) {
                return Err(Error::invalid(
                    "points_do_not_match_tier",
                    format!("The {} tier is worth {} points", tier.name, tier.points),
                ));
            }
            Ok(Resolved {
                shares: single(tier.points),
                total: tier.points,
                award_tier: Some(tier.name.clone()),
                split: None,
            })
        }
        RecognitionType::GroupAward => {
            let points = new.points.filter(|p| !p.is_zero()).ok_or_else(|| {
                Error::invalid("invalid_amount", "a group award needs points above zero")
            })?;
            let split = new.split.unwrap_or(SplitMode::Equal);
            let shares = split_shares(split, points, recipients.len())?;
            let total = Points::from_hundredths(shares.iter().map(|p| p.hundredths()).sum());
            Ok(Resolved {
                shares: recipients.iter().cloned().zip(shares).collect(),
                total,
                award_tier: None,
                split: Some(split),
            })
        }
    }
}

impl Store {
    /// The recognitions of the caller's tenant the caller may see (`social::visible_to`),
    /// newest first, each with its recipients; `limit` at most 200.
    pub async fn recognitions(
        &self,
        actor: &Actor,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<RecognitionRow>> {
        let tenant_id = actor.own_tenant()?;
        let columns = RECOGNITION_COLUMNS
            .split(", ")
            .map(|column| format!("r.{}", column.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "select {columns} from recognitions r where {} \
             order by r.created_at desc, r.id desc limit $3 offset $4",
            visible_to(1, 2)
        );
        let rows = sqlx::query(&sql)
            .bind(tenant_id)
            .bind(&actor.user_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.read())
            .await?;
        let mut recognitions = rows
            .iter()
            .map(RecognitionRow::from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        if recognitions.is_empty() {
            return Ok(recognitions);
        }
        let sql = format!(
            "select recognition_id, user_id, points from recognition_recipients \
             where recognition_id in ({}) order by position",
            placeholders(1, recognitions.len())
        );
        let mut query = sqlx::query(&sql);
        for recognition in &recognitions {
            query = query.bind(&recognition.id);
        }
        let mut by_recognition: HashMap<String, Vec<RecipientRow>> = HashMap::new();
        for row in query.fetch_all(self.read()).await? {
            by_recognition
                .entry(text(&row, "recognition_id")?)
                .or_default()
                .push(RecipientRow {
                    user_id: text(&row, "user_id")?,
                    points: points(&row, "points")?,
                });
        }
        for recognition in &mut recognitions {
            recognition.recipients = by_recognition.remove(&recognition.id).unwrap_or_default();
        }
        Ok(recognitions)
    }
}
