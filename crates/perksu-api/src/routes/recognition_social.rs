//! Reading recognitions and what their readers do with them, under `/api/recognitions`: one
//! recognition, the caller's statistics, the e-card templates, comments and reactions.
//! Creating and listing recognitions is in `recognitions.rs`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perksu_domain::ecards::ECARD_TEMPLATES;
use perksu_domain::validate;
use perksu_store::{CommentRow, ReactionCounts, ReactionState, RecognitionStats, RecognitionView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery, Auth};
use crate::movement;
use crate::wire::amount;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_recognition))
        .routes(routes!(my_stats))
        .routes(routes!(ecard_templates))
        .routes(routes!(list_comments, add_comment))
        .routes(routes!(react))
        .routes(routes!(unreact))
}

#[derive(Serialize, ToSchema)]
pub struct RecipientBody {
    user_id: String,
    points: String,
}

/// How many reactions of each kind.
#[derive(Serialize, ToSchema)]
pub struct ReactionCountsBody {
    like: i64,
    clap: i64,
    celebrate: i64,
    heart: i64,
    insightful: i64,
}

impl From<ReactionCounts> for ReactionCountsBody {
    fn from(c: ReactionCounts) -> Self {
        ReactionCountsBody {
            like: c.like,
            clap: c.clap,
            celebrate: c.celebrate,
            heart: c.heart,
            insightful: c.insightful,
        }
    }
}

/// A recognition as its readers see it.
#[derive(Serialize, ToSchema)]
pub struct RecognitionDetailBody {
    id: String,
    tenant_id: String,
    from_user_id: String,
    /// The first recipient.
    to_user_id: String,
    /// The total given.
    points: String,
    message: String,
    funding_source: String,
    /// `standard`, `individual_award`, `group_award` or `ecard`.
    recognition_type: String,
    award_tier: Option<String>,
    split_mode: Option<String>,
    ecard_template: Option<String>,
    badge_id: Option<String>,
    /// `public`, `private` or `department`.
    visibility: String,
    department_budget_id: Option<String>,
    lead_allocation_id: Option<String>,
    /// In the order given.
    recipients: Vec<RecipientBody>,
    reactions: ReactionCountsBody,
    /// The kinds the caller reacted with.
    my_reactions: Vec<String>,
    comment_count: i64,
    created_at: String,
}

impl From<RecognitionView> for RecognitionDetailBody {
    fn from(r: RecognitionView) -> Self {
        RecognitionDetailBody {
            id: r.id,
            tenant_id: r.tenant_id,
            from_user_id: r.from_user_id,
            to_user_id: r.to_user_id,
            points: amount(r.points),
            message: r.message,
            funding_source: r.funding_source,
            recognition_type: r.recognition_type,
            award_tier: r.award_tier,
            split_mode: r.split_mode,
            ecard_template: r.ecard_template,
            badge_id: r.badge_id,
            visibility: r.visibility,
            department_budget_id: r.department_budget_id,
            lead_allocation_id: r.lead_allocation_id,
            recipients: r
                .recipients
                .into_iter()
                .map(|share| RecipientBody {
                    user_id: share.user_id,
                    points: amount(share.points),
                })
                .collect(),
            reactions: r.reactions.into(),
            my_reactions: r.my_reactions,
            comment_count: r.comment_count,
            created_at: r.created_at.to_string(),
        }
    }
}

/// One recognition the caller may see; another tenant's, or one the caller may not see, is 404.
#[utoipa::path(get, path = "/{id}", tag = "Recognitions", params(("id" = String, Path)),
    responses((status = 200, body = RecognitionDetailBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn get_recognition(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RecognitionDetailBody>> {
    let view = state.store.recognition_view(&auth.actor, &id).await?;
    Ok(Json(view.into()))
}

#[derive(Serialize, ToSchema)]
pub struct BadgeCountBody {
    badge_id: String,
    name: String,
    count: i64,
}

/// Recognitions received, by type.
#[derive(Serialize, ToSchema)]
pub struct TypeCountsBody {
    standard: i64,
    individual_award: i64,
    group_award: i64,
    ecard: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RecognitionStatsBody {
    given_count: i64,
    received_count: i64,
    points_given: String,
    points_received: String,
    /// Points given in the current calendar month (UTC).
    given_this_month: String,
    /// The tenant's monthly giving allowance, for employees when the tenant sets one.
    monthly_giving_allowance: Option<String>,
    /// What is left of it this month; `null` without an allowance.
    allowance_remaining: Option<String>,
    badges_received: Vec<BadgeCountBody>,
    by_type: TypeCountsBody,
}

impl From<RecognitionStats> for RecognitionStatsBody {
    fn from(s: RecognitionStats) -> Self {
        RecognitionStatsBody {
            given_count: s.given_count,
            received_count: s.received_count,
            points_given: amount(s.points_given),
            points_received: amount(s.points_received),
            given_this_month: amount(s.given_this_month),
            monthly_giving_allowance: s.monthly_giving_allowance.map(amount),
            allowance_remaining: s.allowance_remaining.map(amount),
            badges_received: s
                .badges_received
                .into_iter()
                .map(|b| BadgeCountBody {
                    badge_id: b.badge_id,
                    name: b.name,
                    count: b.count,
                })
                .collect(),
            by_type: TypeCountsBody {
                standard: s.by_type.standard,
                individual_award: s.by_type.individual_award,
                group_award: s.by_type.group_award,
                ecard: s.by_type.ecard,
            },
        }
    }
}

/// The caller's recognitions given and received.
#[utoipa::path(get, path = "/stats/me", tag = "Recognitions",
    responses((status = 200, body = RecognitionStatsBody), (status = 403, body = ErrorBody)))]
async fn my_stats(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<RecognitionStatsBody>> {
    let stats = state.store.recognition_stats(&auth.actor).await?;
    Ok(Json(stats.into()))
}

#[derive(Serialize, ToSchema)]
pub struct EcardTemplateBody {
    id: &'static str,
    title: &'static str,
}

/// The e-card templates an `ecard` recognition may use.
#[utoipa::path(get, path = "/ecard-templates", tag = "Recognitions",
    responses((status = 200, body = Vec<EcardTemplateBody>)))]
async fn ecard_templates(_auth: Auth) -> Json<Vec<EcardTemplateBody>> {
    Json(
        ECARD_TEMPLATES
            .iter()
            .map(|t| EcardTemplateBody {
                id: t.id,
                title: t.title,
            })
            .collect(),
    )
}

#[derive(Serialize, ToSchema)]
pub struct CommentBody {
    id: String,
    recognition_id: String,
    user_id: String,
    author_name: String,
    body: String,
    created_at: String,
}

impl From<CommentRow> for CommentBody {
    fn from(c: CommentRow) -> Self {
        CommentBody {
            id: c.id,
            recognition_id: c.recognition_id,
            user_id: c.user_id,
            author_name: c.author_name,
            body: c.body,
            created_at: c.created_at.to_string(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct CommentsQuery {
    /// 1 to 200, default 100.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The comments on a recognition, oldest first.
#[utoipa::path(get, path = "/{id}/comments", tag = "Recognitions",
    params(("id" = String, Path), CommentsQuery),
    responses((status = 200, body = Vec<CommentBody>), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn list_comments(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    AppQuery(query): AppQuery<CommentsQuery>,
) -> ApiResult<Json<Vec<CommentBody>>> {
    let comments = state
        .store
        .comments(
            &auth.actor,
            &id,
            query.limit.unwrap_or(100),
            query.offset.unwrap_or(0),
        )
        .await?;
    Ok(Json(comments.into_iter().map(CommentBody::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct CommentRequest {
    /// 1 to 2000 characters.
    body: String,
}

/// Comment on a recognition the caller may see.
#[utoipa::path(post, path = "/{id}/comments", tag = "Recognitions",
    params(("id" = String, Path)), request_body = CommentRequest,
    responses((status = 201, body = CommentBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn add_comment(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    AppJson(request): AppJson<CommentRequest>,
) -> ApiResult<(StatusCode, Json<CommentBody>)> {
    let body = validate::text("body", &request.body)?;
    let actor = auth.actor.clone();
    let comment = movement::write(&state, move |tx| {
        Box::pin(async move { tx.add_comment(&actor, &id, &body).await })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(comment.into())))
}

#[derive(Serialize, ToSchema)]
pub struct ReactionsBody {
    recognition_id: String,
    counts: ReactionCountsBody,
    /// The kinds the caller reacted with.
    mine: Vec<String>,
}

impl From<ReactionState> for ReactionsBody {
    fn from(r: ReactionState) -> Self {
        ReactionsBody {
            recognition_id: r.recognition_id,
            counts: r.counts.into(),
            mine: r.mine,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ReactionRequest {
    /// `like`, `clap`, `celebrate`, `heart` or `insightful`.
    kind: String,
}

/// React to a recognition; reacting again with the same kind changes nothing.
#[utoipa::path(post, path = "/{id}/reactions", tag = "Recognitions",
    params(("id" = String, Path)), request_body = ReactionRequest,
    responses((status = 200, body = ReactionsBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn react(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    AppJson(request): AppJson<ReactionRequest>,
) -> ApiResult<Json<ReactionsBody>> {
    let actor = auth.actor.clone();
    let reactions = movement::write(&state, move |tx| {
        Box::pin(async move { tx.react(&actor, &id, &request.kind).await })
    })
    .await?;
    Ok(Json(reactions.into()))
}

/// Take back one's reaction of this kind; 404 when the caller had none.
#[utoipa::path(delete, path = "/{id}/reactions/{kind}", tag = "Recognitions",
    params(("id" = String, Path), ("kind" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn unreact(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, kind)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let actor = auth.actor.clone();
    movement::write(&state, move |tx| {
        Box::pin(async move { tx.unreact(&actor, &id, &kind).await })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
