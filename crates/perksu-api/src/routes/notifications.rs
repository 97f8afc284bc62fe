//! The caller's in-app notifications under `/api/notifications`.

use axum::extract::State;
use axum::Json;
use perksu_store::NotificationRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery, Auth};
use crate::movement;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
}

#[derive(Serialize, ToSchema)]
pub struct NotificationBody {
    id: String,
    kind: String,
    title: String,
    body: String,
    reference_id: Option<String>,
    read: bool,
    created_at: String,
}

impl From<NotificationRow> for NotificationBody {
    fn from(n: NotificationRow) -> Self {
        NotificationBody {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            reference_id: n.reference_id,
            read: n.read_at.is_some(),
            created_at: n.created_at.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationsBody {
    items: Vec<NotificationBody>,
    unread_count: i64,
}

#[derive(Deserialize, IntoParams)]
pub struct NotificationsQuery {
    /// 1 to 200, default 50.
    limit: Option<i64>,
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/", tag = "Notifications", params(NotificationsQuery),
    responses((status = 200, body = NotificationsBody)))]
async fn list_notifications(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<NotificationsQuery>,
) -> ApiResult<Json<NotificationsBody>> {
    let (items, unread_count) = state
        .store
        .notifications(&auth.actor, query.limit.unwrap_or(50))
        .await?;
    Ok(Json(NotificationsBody {
        items: items.into_iter().map(NotificationBody::from).collect(),
        unread_count,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UnreadCountBody {
    unread: i64,
}

/// How many of the caller's notifications are unread.
#[utoipa::path(get, path = "/unread-count", tag = "Notifications",
    responses((status = 200, body = UnreadCountBody)))]
async fn unread_count(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<UnreadCountBody>> {
    let unread = state.store.unread_notifications(&auth.actor).await?;
    Ok(Json(UnreadCountBody { unread }))
}

#[derive(Deserialize, ToSchema)]
pub struct MarkReadRequest {
    /// One notification; absent marks all read.
    id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MarkReadResponse {
    marked: u64,
}

/// Mark one notification, or all of them, read.
#[utoipa::path(post, path = "/read", tag = "Notifications", request_body = MarkReadRequest,
    responses((status = 200, body = MarkReadResponse), (status = 404, body = ErrorBody)))]
async fn mark_read(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(request): AppJson<MarkReadRequest>,
) -> ApiResult<Json<MarkReadResponse>> {
    let actor = auth.actor.clone();
    let marked = movement::write(&state, move |tx| {
        Box::pin(async move {
            tx.mark_notifications_read(&actor, request.id.as_deref())
                .await
        })
    })
    .await?;
    Ok(Json(MarkReadResponse { marked }))
}
