//! Recognitions under `/api/recognitions`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use perksu_domain::validate;
use perksu_store::{NewRecognition, RecognitionRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth, Movement};
use crate::movement;
use crate::wire::{amount, AmountField};
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
    /// `pool`, `lead_balance`, or `none` for a recognition without points.
    funding_source: String,
    created_at: String,
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
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateRecognitionRequest {
    to_user_id: String,
    /// Zero or more; default zero.
    points: Option<AmountField>,
    message: String,
}

/// Recognise a colleague, optionally with points drawn from the giver's lead balance or the
/// tenant's allocation pool.
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
    let body = &request.body;
    let new = NewRecognition {
        to_user_id: body.to_user_id.clone(),
        points: match &body.points {
            Some(points) => points.non_negative("points")?,
            None => perksu_domain::Points::ZERO,
        },
        message: validate::text("message", &body.message)?,
    };
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
