//! A tenant's funding mode under `/api/tenants/{id}`: the one-way move from legacy to pool mode
//! and its history. See docs/ECONOMY.md, "Pool mode and legacy mode".

use axum::extract::{Path, State};
use axum::Json;
use perksu_domain::{validate, FundingMode};
use perksu_store::FundingModeChange;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, Auth};
use crate::movement;
use crate::routes::tenants::TenantBody;
use crate::wire::parse_word;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(switch_funding_mode))
        .routes(routes!(funding_mode_changes))
}

#[derive(Deserialize, ToSchema)]
pub struct SwitchFundingModeRequest {
    /// `pool`: the only mode a tenant can move to.
    funding_mode: String,
    /// Why, for the record.
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FundingModeChangeBody {
    id: String,
    tenant_id: String,
    from_mode: String,
    to_mode: String,
    changed_by: String,
    reason: Option<String>,
    created_at: String,
}

impl From<FundingModeChange> for FundingModeChangeBody {
    fn from(c: FundingModeChange) -> Self {
        FundingModeChangeBody {
            id: c.id,
            tenant_id: c.tenant_id,
            from_mode: c.from_mode,
            to_mode: c.to_mode,
            changed_by: c.changed_by,
            reason: c.reason,
            created_at: c.created_at.to_string(),
        }
    }
}

/// Move a legacy tenant to pool mode (platform admin). One-way: going back is 409.
#[utoipa::path(post, path = "/{id}/funding-mode", tag = "Tenants", params(("id" = String, Path)),
    request_body = SwitchFundingModeRequest,
    responses((status = 200, body = TenantBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn switch_funding_mode(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    AppJson(request): AppJson<SwitchFundingModeRequest>,
) -> ApiResult<Json<TenantBody>> {
    let mode = parse_word(
        "funding_mode",
        &request.funding_mode,
        FundingMode::parse,
        FundingMode::expected(),
    )?;
    let reason = request
        .reason
        .as_deref()
        .map(|r| validate::text("reason", r))
        .transpose()?;
    let actor = auth.actor.clone();
    let tenant = movement::write(&state, move |tx| {
        Box::pin(async move {
            tx.switch_funding_mode(&actor, &id, mode, reason.as_deref())
                .await
        })
    })
    .await?;
    Ok(Json(TenantBody::from(tenant)))
}

/// A tenant's funding-mode changes, oldest first.
#[utoipa::path(get, path = "/{id}/funding-mode-changes", tag = "Tenants",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<FundingModeChangeBody>), (status = 404, body = ErrorBody)))]
async fn funding_mode_changes(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<FundingModeChangeBody>>> {
    let changes = state.store.funding_mode_changes(&auth.actor, &id).await?;
    Ok(Json(changes.into_iter().map(Into::into).collect()))
}
