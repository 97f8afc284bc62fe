//! The tenant feed under `/api/feed`: recognitions, awards and milestones, as the caller may
//! see them.

use axum::extract::State;
use axum::Json;
use perksu_store::{FeedItem, ReactionCounts};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth};
use crate::routes::recognition_social::{ReactionCountsBody, RecognitionDetailBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(feed))
}

#[derive(Serialize, ToSchema)]
pub struct FeedItemBody {
    id: String,
    /// `recognition`, `award` or `milestone`.
    kind: String,
    title: String,
    /// Who the item is about: the giver, or the colleague who reached a milestone.
    user_id: String,
    /// The recognition, for a recognition or an award; `null` for a milestone.
    recognition: Option<RecognitionDetailBody>,
    reactions: ReactionCountsBody,
    comment_count: i64,
    created_at: String,
}

impl From<FeedItem> for FeedItemBody {
    fn from(item: FeedItem) -> Self {
        let (reactions, comment_count) = match &item.recognition {
            Some(r) => (r.reactions.clone(), r.comment_count),
            None => (ReactionCounts::default(), 0),
        };
        FeedItemBody {
            id: item.id,
            kind: item.kind,
            title: item.title,
            user_id: item.user_id,
            recognition: item.recognition.map(RecognitionDetailBody::from),
            reactions: reactions.into(),
            comment_count,
            created_at: item.created_at.to_string(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct FeedQuery {
    /// 1 to 100, default 20.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The caller's tenant's feed, newest first.
#[utoipa::path(get, path = "/", tag = "Feed", params(FeedQuery),
    responses((status = 200, body = Vec<FeedItemBody>), (status = 403, body = ErrorBody)))]
async fn feed(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<FeedQuery>,
) -> ApiResult<Json<Vec<FeedItemBody>>> {
    let items = state
        .store
        .feed(
            &auth.actor,
            query.limit.unwrap_or(20),
            query.offset.unwrap_or(0),
        )
        .await?;
    Ok(Json(items.into_iter().map(FeedItemBody::from).collect()))
}
