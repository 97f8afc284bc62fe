//! Recognitions under `/api/recognitions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use perksu_domain::recognition::{RecognitionType, SplitMode, Visibility};
use perksu_domain::{validate, Error};
use perksu_store::{NewRecognition, RecognitionRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth, Movement};
use crate::movement;
use crate::wire::{amount, parse_word, AmountField};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_recognition, list_recognitions))
}

#[derive(Serialize, ToSchema)]
pub struct RecognitionBody {
    id: String,
    tenant_id: String,
    from_user_id: String,
    to_user_id: String,
    points: String,
    message: String,
    /// `pool` or `lead_balance` (pool mode), `lead_allocation`, `department_budget` or
    /// `wallet` (legacy mode), `none` for a recognition without points.
    funding_source: String,
    created_at: String,
    /// `standard`, `individual_award`, `group_award` or `ecard`.
    recognition_type: String,
    award_tier: Option<String>,
    /// `equal` or `each`, for group awards.
    split_mode: Option<String>,
    ecard_template: Option<String>,
    badge_id: Option<String>,
    /// `public`, `private` or `department`.
    visibility: String,
    /// Every recipient's share, in the order given.
    recipients: Vec<RecipientBody>,
    /// The department share the recognition was counted against, if any.
    department_budget_id: Option<String>,
    /// The lead allocation the recognition was counted against, if any.
    lead_allocation_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RecipientBody {
    user_id: String,
    points: String,
}

impl From<RecognitionRow> for RecognitionBody {
    fn from(r: RecognitionRow) -> Self {
        RecognitionBody {
            id: r.id,
            tenant_id: r.tenant_id,
            from_user_id: r.from_user_id,
            to_user_id: r.to_user_id,
            points: amount(r.points),
            message: r.message,
            funding_source: r.funding_source,
            created_at: r.created_at.to_string(),
            recognition_type: r.recognition_type,
            award_tier: r.award_tier,
            split_mode: r.split_mode,
            ecard_template: r.ecard_template,
            badge_id: r.badge_id,
            visibility: r.visibility,
            recipients: r
                .recipients
                .into_iter()
                .map(|recipient| RecipientBody {
                    user_id: recipient.user_id,
                    points: amount(recipient.points),
                })
                .collect(),
            department_budget_id: r.department_budget_id,
            lead_allocation_id: r.lead_allocation_id,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateRecognitionRequest {
    /// `standard` (default), `individual_award`, `group_award` or `ecard`.
    recognition_type: Option<String>,
    /// The recipient, for every type but `group_award`.
    to_user_id: Option<String>,
    /// `group_award`: 2 to 50 distinct colleagues.
    recipient_ids: Option<Vec<String>>,
    /// Zero or more; default zero. For a group award the total (`equal`) or each one's share
    /// (`each`); for an individual award optional, and then equal to the tier's amount.
    points: Option<AmountField>,
    /// `individual_award`: one of the tenant's tier names.
    award_tier: Option<String>,
    /// `group_award`: `equal` (default) or `each`.
    split: Option<String>,
    /// `ecard`: a template id from `/api/recognitions/ecard-templates`.
    ecard_template: Option<String>,
    badge_id: Option<String>,
    /// `public` (default), `private` or `department`.
    visibility: Option<String>,
    message: String,
}

impl CreateRecognitionRequest {
    fn to_command(&self) -> Result<NewRecognition, Error> {
        let recognition_type = match &self.recognition_type {
            Some(word) => parse_word(
                "recognition_type",
                word,
                RecognitionType::parse,
                RecognitionType::expected(),
            )?,
            None => RecognitionType::Standard,
        };
        let recipient_ids = match (&self.to_user_id, &self.recipient_ids) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "invalid_recipients",
                    "send either to_user_id or recipient_ids, not both",
                ))
            }
            (Some(one), None) => vec![one.clone()],
            (None, Some(many)) if recognition_type == RecognitionType::GroupAward => many.clone(),
            (None, Some(_)) => {
                return Err(Error::invalid(
                    "invalid_recipients",
                    "recipient_ids is for group awards; use to_user_id",
                ))
            }
            (None, None) => {
                return Err(Error::invalid(
                    "invalid_field",
                    "to_user_id (or recipient_ids for a group award) is required",
                ))
            }
        };
        Ok(NewRecognition {
            recognition_type,
            recipient_ids,
            points: self
                .points
                .as_ref()
                .map(|points| points.non_negative("points"))
                .transpose()?,
            split: self
                .split
                .as_deref()
                .map(|w| parse_word("split", w, SplitMode::parse, SplitMode::expected()))
                .transpose()?,
            award_tier: self.award_tier.clone(),
            ecard_template: self.ecard_template.clone(),
            badge_id: self.badge_id.clone(),
            visibility: match &self.visibility {
                Some(w) => parse_word("visibility", w, Visibility::parse, Visibility::expected())?,
                None => Visibility::Public,
            },
            message: validate::text("message", &self.message)?,
        })
    }
}

/// Recognise colleagues: a plain recognition, an individual or group award, or an e-card,
/// with points funded in the order docs/ECONOMY.md gives (allowance, budget, then the lead
/// balance or pool in pool mode; the budget or the giver's wallet in legacy mode).
#[utoipa::path(post, path = "/", tag = "Recognitions",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = CreateRecognitionRequest,
    responses((status = 200, body = RecognitionBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn create_recognition(
    State(state): State<AppState>,
    auth: Auth,
    request: Movement<CreateRecognitionRequest>,
) -> ApiResult<Response> {
    let new = request.body.to_command()?;
    let actor = auth.actor.clone();
    movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            tx.create_recognition(&actor, new)
                .await
                .map(RecognitionBody::from)
        })
    })
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct RecognitionsQuery {
    /// 1 to 200, default 50.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The caller's tenant's recognitions, newest first.
#[utoipa::path(get, path = "/", tag = "Recognitions", params(RecognitionsQuery),
    responses((status = 200, body = Vec<RecognitionBody>), (status = 403, body = ErrorBody)))]
pub(crate) async fn list_recognitions(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<RecognitionsQuery>,
) -> ApiResult<Json<Vec<RecognitionBody>>> {
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let offset = query.offset.unwrap_or(0).max(0);
    let rows = state.store.recognitions(&auth.actor, limit, offset).await?;
    Ok(Json(rows.into_iter().map(RecognitionBody::from).collect()))
}
