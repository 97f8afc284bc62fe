//! Badges under `/api/badges`: the system's and the tenant's own.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use perksu_store::{BadgeRow, NewBadge};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, Auth};
use crate::movement;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_badges, create_badge))
}

#[derive(Serialize, ToSchema)]
pub struct BadgeBody {
    id: String,
    /// `null` for a system badge.
    tenant_id: Option<String>,
    name: String,
    description: String,
    icon: String,
    system: bool,
    created_at: String,
}

impl From<BadgeRow> for BadgeBody {
    fn from(b: BadgeRow) -> Self {
        BadgeBody {
            id: b.id,
            system: b.tenant_id.is_none(),
            tenant_id: b.tenant_id,
            name: b.name,
            description: b.description,
            icon: b.icon,
            created_at: b.created_at.to_string(),
        }
    }
}

/// The system badges, then the caller's tenant's.
#[utoipa::path(get, path = "/", tag = "Badges",
    responses((status = 200, body = Vec<BadgeBody>), (status = 403, body = ErrorBody)))]
async fn list_badges(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Vec<BadgeBody>>> {
    let badges = state.store.badges(&auth.actor).await?;
    Ok(Json(badges.into_iter().map(BadgeBody::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateBadgeRequest {
    /// 1 to 60 characters, unique among the tenant's badges (ignoring case).
    name: String,
    /// At most 300 characters.
    description: Option<String>,
    /// An icon's name: one word of lowercase letters, digits, `-` or `_`, at most 30.
    icon: String,
}

/// Add a badge to the caller's tenant (tenant manager).
#[utoipa::path(post, path = "/", tag = "Badges", request_body = CreateBadgeRequest,
    responses((status = 201, body = BadgeBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_badge(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(request): AppJson<CreateBadgeRequest>,
) -> ApiResult<(StatusCode, Json<BadgeBody>)> {
    auth.actor.require_tenant_manager()?;
    let new = NewBadge::new(&request.name, request.description.as_deref(), &request.icon)?;
    let actor = auth.actor.clone();
    let badge = movement::write(&state, move |tx| {
        Box::pin(async move { tx.create_badge(&actor, new).await })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(badge.into())))
}
