//! `GET /api/security-events`: what the service refused to protect accounts (today: throttled
//! sign-ins), newest first, for platform admins.

use axum::extract::State;
use axum::Json;
use perksu_store::SecurityEventRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_security_events))
}

#[derive(Serialize, ToSchema)]
pub struct SecurityEventBody {
    id: String,
    /// `login_throttled`.
    kind: String,
    /// `account` (the subject is an email) or `address` (a client IP address).
    scope: String,
    subject: String,
    /// How long the client was told to wait.
    retry_after_seconds: i64,
    occurred_at: String,
}

impl From<SecurityEventRow> for SecurityEventBody {
    fn from(row: SecurityEventRow) -> Self {
        SecurityEventBody {
            id: row.id,
            kind: row.kind,
            scope: row.scope,
            subject: row.subject,
            retry_after_seconds: row.retry_after_seconds,
            occurred_at: row.occurred_at.to_string(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct SecurityEventsQuery {
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Events to skip, default 0.
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// Security events, newest first (platform admin).
#[utoipa::path(get, path = "/", tag = "Security", params(SecurityEventsQuery),
    responses((status = 200, body = Vec<SecurityEventBody>),
        (status = 403, body = ErrorBody)))]
async fn list_security_events(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<SecurityEventsQuery>,
) -> ApiResult<Json<Vec<SecurityEventBody>>> {
    let rows = state
        .store
        .security_events(
            &auth.actor,
            query.limit.unwrap_or(50),
            query.offset.unwrap_or(0),
        )
        .await?;
    Ok(Json(
        rows.into_iter().map(SecurityEventBody::from).collect(),
    ))
}
