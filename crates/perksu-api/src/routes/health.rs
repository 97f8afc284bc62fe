//! `GET /healthz`: 200 once the database answers.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::AppState;

/// How long `/healthz` waits for the database before it says 503.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

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
    let unavailable = || ApiError::Request {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "database_unavailable",
        detail: "The database is not reachable".into(),
    };
    // A probe must answer promptly even while connections to a vanished database time out.
    match tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: database unreachable");
            return Err(unavailable());
        }
        Err(_) => {
            tracing::warn!("health check: the database did not answer within {PING_TIMEOUT:?}");
            return Err(unavailable());
        }
    }
    Ok(Json(Health {
        status: "ok",
        database: state.store.backend().name(),
    }))
}
