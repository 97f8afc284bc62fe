//! `GET /healthz`: 200 once the database answers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    database: &'static str,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "Health",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.store.ping().await.map_err(|error| {
        tracing::warn!(%error, "health check: database unreachable");
        ApiError::Request {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "database_unavailable",
            detail: "The database is not reachable".into(),
        }
    })?;
    Ok(Json(Health {
        status: "ok",
        database: state.store.backend().name(),
    }))
}
