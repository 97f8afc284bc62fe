//! Redemptions under `/api/redemptions`: ordering, confirming, cancelling, fulfilling, the
//! provider callback, and the admin's queue, analytics and export.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hmac::{Hmac, Mac};
use perksu_domain::rewards::RedemptionStatus;
use perksu_domain::{validate, Error, ErrorKind};
use perksu_store::{
    Confirmation, OrderCommand, RedemptionEventRow, RedemptionFilter, RedemptionRow,
    TransitionRequest,
};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery, Auth, Movement};
use crate::fulfilment::{self, provider_for_kind};
use crate::movement;
use crate::wire::{amount, csv_field, parse_word, AmountField};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place_order, list_redemptions))
        .routes(routes!(fulfilment_queue))
        .routes(routes!(analytics))
        .routes(routes!(export_csv))
        .routes(routes!(get_redemption))
        .routes(routes!(confirm))
        .routes(routes!(cancel))
        .routes(routes!(advance))
        .routes(routes!(provider_callback))
}

#[derive(Serialize, ToSchema)]
pub struct RedemptionBody {
    id: String,
    tenant_id: String,
    user_id: String,
    item_id: String,
    item_name: String,
    kind: String,
    quantity: i64,
    face_value: String,
    points_cost: String,
    /// `pending_confirmation`, `pending`, `processing`, `shipped`, `delivered`, `failed`,
    /// `cancelled`, `rejected` or `expired`.
    status: String,
    provider: String,
    provider_reference: Option<String>,
    tracking_number: Option<String>,
    /// Shown to the employee who ordered it only.
    gift_card_code: Option<String>,
    shipping_address: Option<String>,
    /// Not fulfilled by then, the order expires and its points come back.
    fulfil_by: String,
    created_at: String,
    updated_at: String,
}

impl RedemptionBody {
    fn for_viewer(r: RedemptionRow, viewer_id: &str) -> RedemptionBody {
        let owner = r.user_id == viewer_id;
        RedemptionBody {
            id: r.id,
            tenant_id: r.tenant_id,
            user_id: r.user_id,
            item_id: r.item_id,
            item_name: r.item_name,
            kind: r.kind,
            quantity: r.quantity,
            face_value: amount(r.face_value),
            points_cost: amount(r.points_cost),
            status: r.status.as_str().to_owned(),
            provider: r.provider,
            provider_reference: r.provider_reference,
            tracking_number: r.tracking_number,
            gift_card_code: r.gift_card_code.filter(|_| owner),
            shipping_address: r.shipping_address,
            fulfil_by: r.fulfil_by.to_string(),
            created_at: r.created_at.to_string(),
            updated_at: r.updated_at.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct OrderRequest {
    item_id: String,
    /// For rewards with several denominations: which one.
    face_value: Option<AmountField>,
    /// Default 1.
    quantity: Option<i64>,
    shipping_address: Option<String>,
}

/// Order a reward: its price in points goes from the wallet on hold, stock is taken, and the
/// order goes to its provider (after the confirmation code, if the tenant asks for one). The
/// reply is the order as placed; read it again for the provider's answer.
#[utoipa::path(post, path = "/", tag = "Redemptions",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = OrderRequest,
    responses((status = 201, body = RedemptionBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn place_order(
    State(state): State<AppState>,
    auth: Auth,
    request: Movement<OrderRequest>,
) -> ApiResult<Response> {
    let body = &request.body;
    let command = OrderCommand {
        item_id: body.item_id.clone(),
        face_value: body
            .face_value
            .as_ref()
            .map(|v| v.positive("face_value"))
            .transpose()?,
        quantity: body.quantity.unwrap_or(1),
        shipping_address: validate::note("shipping_address", body.shipping_address.as_deref())?,
    };
    let actor = auth.actor.clone();
    let viewer = auth.actor.user_id.clone();
    let (response, placed) =
        movement::run_keeping(&state, &auth, &request, StatusCode::CREATED, move |tx| {
            Box::pin(async move {
                tx.place_order(&actor, command, provider_for_kind)
                    .await
                    .map(|order| Placed {
                        body: RedemptionBody::for_viewer(order.clone(), &viewer),
                        order,
                    })
            })
        })
        .await?;
    if let Some(Placed { order, .. }) = placed {
        // The order stands whatever the provider says; a failure here leaves it pending for
        // an admin or the timeout.
        if let Err(error) = fulfilment::dispatch(&state, order).await {
            tracing::warn!(%error, "fulfilment dispatch failed");
        }
    }
    Ok(response)
}

/// A placed order: the row, kept for dispatch after the commit, and the body sent.
struct Placed {
    order: RedemptionRow,
    body: RedemptionBody,
}

impl Serialize for Placed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    status: Option<String>,
    /// 1 to 1000, default 100.
    limit: Option<i64>,
    offset: Option<i64>,
}

fn status_filter(status: Option<&str>) -> Result<Option<RedemptionStatus>, Error> {
    status
        .map(|s| {
            parse_word(
                "status",
                s,
                RedemptionStatus::parse,
                "pending_confirmation, pending, processing, shipped, delivered, failed, \
                 cancelled, rejected, expired"
                    .into(),
            )
        })
        .transpose()
}

/// Orders, newest first: the caller's own, or their tenant's for a manager.
#[utoipa::path(get, path = "/", tag = "Redemptions", params(ListQuery),
    responses((status = 200, body = Vec<RedemptionBody>), (status = 400, body = ErrorBody)))]
async fn list_redemptions(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<ListQuery>,
) -> ApiResult<Json<Vec<RedemptionBody>>> {
    let filter = RedemptionFilter {
        status: status_filter(query.status.as_deref())?,
        queue: false,
        limit: query.limit.unwrap_or(100),
        offset: query.offset.unwrap_or(0),
    };
    let rows = state.store.redemptions(&auth.actor, filter).await?;
    let viewer = &auth.actor.user_id;
    Ok(Json(
        rows.into_iter()
            .map(|r| RedemptionBody::for_viewer(r, viewer))
            .collect(),
    ))
}

/// Orders waiting for fulfilment (pending, processing, shipped), oldest first (tenant manager).
#[utoipa::path(get, path = "/queue", tag = "Redemptions",
    responses((status = 200, body = Vec<RedemptionBody>), (status = 403, body = ErrorBody)))]
async fn fulfilment_queue(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<RedemptionBody>>> {
    auth.actor.require_tenant_manager()?;
    let filter = RedemptionFilter {
        queue: true,
        limit: 1000,
        ..RedemptionFilter::default()
    };
    let rows = state.store.redemptions(&auth.actor, filter).await?;
    let viewer = &auth.actor.user_id;
    Ok(Json(
        rows.into_iter()
            .map(|r| RedemptionBody::for_viewer(r, viewer))
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct TopItemBody {
    item_id: String,
    item_name: String,
    orders: i64,
    points: String,
}

#[derive(Serialize, ToSchema)]
pub struct AnalyticsBody {
    points_redeemed: String,
    points_on_hold: String,
    /// Orders per status.
    status_counts: std::collections::BTreeMap<String, i64>,
    /// Most delivered items.
    top_items: Vec<TopItemBody>,
}

/// Redemption totals for the caller's tenant (tenant manager).
#[utoipa::path(get, path = "/analytics", tag = "Redemptions",
    responses((status = 200, body = AnalyticsBody), (status = 403, body = ErrorBody)))]
async fn analytics(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<AnalyticsBody>> {
    let a = state.store.redemption_analytics(&auth.actor).await?;
    Ok(Json(AnalyticsBody {
        points_redeemed: amount(a.points_redeemed),
        points_on_hold: amount(a.points_on_hold),
        status_counts: a.status_counts.into_iter().collect(),
        top_items: a
            .top_items
            .into_iter()
            .map(|t| TopItemBody {
                item_id: t.item_id,
                item_name: t.item_name,
                orders: t.orders,
                points: amount(t.points),
            })
            .collect(),
    }))
}

/// Every order of the caller's tenant as CSV (tenant manager).
#[utoipa::path(get, path = "/export.csv", tag = "Redemptions",
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody)))]
async fn export_csv(State(state): State<AppState>, auth: Auth) -> ApiResult<Response> {
    auth.actor.require_tenant_manager()?;
    let filter = RedemptionFilter {
        limit: 1000,
        ..RedemptionFilter::default()
    };
    let rows = state.store.redemptions(&auth.actor, filter).await?;
    let mut csv = String::from(
        "id,created_at,user_id,item_name,kind,quantity,face_value,points_cost,status,provider,tracking_number\n",
    );
    for r in rows {
        let fields = [
            r.id,
            r.created_at.to_string(),
            r.user_id,
            r.item_name,
            r.kind,
            r.quantity.to_string(),
            amount(r.face_value),
            amount(r.points_cost),
            r.status.as_str().to_owned(),
            r.provider,
            r.tracking_number.unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        csv.push_str(&line.join(","));
        csv.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"redemptions.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct EventBody {
    from_status: Option<String>,
    to_status: String,
    actor_id: Option<String>,
    note: Option<String>,
    created_at: String,
}

impl From<RedemptionEventRow> for EventBody {
    fn from(e: RedemptionEventRow) -> Self {
        EventBody {
            from_status: e.from_status,
            to_status: e.to_status,
            actor_id: e.actor_id,
            note: e.note,
            created_at: e.created_at.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RedemptionDetail {
    #[serde(flatten)]
    redemption: RedemptionBody,
    /// Every status change, oldest first.
    history: Vec<EventBody>,
}

/// One order with its status history.
#[utoipa::path(get, path = "/{id}", tag = "Redemptions", params(("id" = String, Path)),
    responses((status = 200, body = RedemptionDetail), (status = 404, body = ErrorBody)))]
async fn get_redemption(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RedemptionDetail>> {
    let (order, events) = state.store.redemption_history(&auth.actor, &id).await?;
    Ok(Json(RedemptionDetail {
        redemption: RedemptionBody::for_viewer(order, &auth.actor.user_id),
        history: events.into_iter().map(EventBody::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmRequest {
    code: String,
}

/// Confirm an order with the code sent to the employee. Five wrong codes, or an expired one,
/// end the order and return its points.
#[utoipa::path(post, path = "/{id}/confirm", tag = "Redemptions", params(("id" = String, Path)),
    request_body = ConfirmRequest,
    responses((status = 200, body = RedemptionBody), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn confirm(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    AppJson(request): AppJson<ConfirmRequest>,
) -> ApiResult<Json<RedemptionBody>> {
    let actor = auth.actor.clone();
    // Committed whatever the code: a wrong attempt must count.
    let outcome = movement::write(&state, move |tx| {
        Box::pin(async move { tx.confirm_order(&actor, &id, &request.code).await })
    })
    .await?;
    let viewer = &auth.actor.user_id;
    match outcome {
        Confirmation::Confirmed(order) => {
            let order = match fulfilment::dispatch(&state, order.clone()).await {
                Ok(dispatched) => dispatched,
                Err(error) => {
                    tracing::warn!(%error, "fulfilment dispatch failed");
                    order
                }
            };
            Ok(Json(RedemptionBody::for_viewer(order, viewer)))
        }
        Confirmation::WrongCode { attempts_left } => Err(Error::invalid(
            "wrong_confirmation_code",
            format!("That code is not correct; {attempts_left} attempt(s) left"),
        )
        .into()),
        Confirmation::Ended(order) => Err(Error::conflict(
            "redemption_ended",
            format!(
                "This redemption is now {} and its points are back in your wallet",
                order.status.as_str()
            ),
        )
        .into()),
    }
}

/// The employee cancels their order before fulfilment starts; the points come back.
#[utoipa::path(post, path = "/{id}/cancel", tag = "Redemptions", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses((status = 200, body = RedemptionBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    request: Movement<serde_json::Value>,
) -> ApiResult<Response> {
    let actor = auth.actor.clone();
    movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            let viewer = actor.user_id.clone();
            tx.cancel_order(&actor, &id)
                .await
                .map(|order| RedemptionBody::for_viewer(order, &viewer))
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct AdvanceRequest {
    /// `processing`, `shipped`, `delivered`, `rejected` or `failed`.
    status: String,
    note: Option<String>,
    tracking_number: Option<String>,
    provider_reference: Option<String>,
}

/// Move an order along its fulfilment (tenant manager): processing, shipped (with tracking),
/// delivered (points redeemed), or rejected / failed (points and stock returned).
#[utoipa::path(post, path = "/{id}/status", tag = "Redemptions", params(("id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = AdvanceRequest,
    responses((status = 200, body = RedemptionBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn advance(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    request: Movement<AdvanceRequest>,
) -> ApiResult<Response> {
    let body = &request.body;
    let next = match RedemptionStatus::parse(&body.status) {
        Some(
            s @ (RedemptionStatus::Processing
            | RedemptionStatus::Shipped
            | RedemptionStatus::Delivered
            | RedemptionStatus::Rejected
            | RedemptionStatus::Failed),
        ) => s,
        _ => {
            return Err(Error::invalid(
                "invalid_field",
                "status must be one of: processing, shipped, delivered, rejected, failed",
            )
            .into())
        }
    };
    let note = validate::note("note", body.note.as_deref())?;
    let tracking = validate::note("tracking_number", body.tracking_number.as_deref())?;
    let reference = validate::note("provider_reference", body.provider_reference.as_deref())?;
    let actor = auth.actor.clone();
    movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            let viewer = actor.user_id.clone();
            let request = TransitionRequest {
                next,
                actor_id: Some(&actor.user_id),
                note: note.as_deref(),
                provider_reference: reference.as_deref(),
                tracking_number: tracking.as_deref(),
                gift_card_code: None,
            };
            tx.fulfil_order(&actor, &id, request)
                .await
                .map(|order| RedemptionBody::for_viewer(order, &viewer))
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct CallbackRequest {
    /// Unique per event: a replayed event changes nothing.
    event_id: String,
    redemption_id: String,
    /// `processing`, `shipped`, `delivered` or `failed`.
    status: String,
    reference: Option<String>,
    tracking_number: Option<String>,
    code: Option<String>,
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CallbackResponse {
    /// `false` when this event had already been applied.
    applied: bool,
    status: String,
}

/// Header carrying `sha256=<hex HMAC-SHA256 of the raw body>` under the callback secret.
pub const SIGNATURE_HEADER: &str = "x-perksu-signature";

fn verify_signature(secret: &[u8], headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let refused = || ApiError::Request {
        status: StatusCode::UNAUTHORIZED,
        code: "invalid_signature",
        detail: format!("The {SIGNATURE_HEADER} header is missing or does not match the body"),
    };
    let given = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
        .and_then(|v| hex::decode(v).ok())
        .ok_or_else(refused)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| refused())?;
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| refused())
}

/// A fulfilment provider reports on an order. Signed with HMAC-SHA256; each `event_id` is
/// applied once.
#[utoipa::path(post, path = "/callbacks/{provider}", tag = "Redemptions",
    params(("provider" = String, Path), ("X-Perksu-Signature" = String, Header, description = "sha256=<hex HMAC>")),
    request_body = CallbackRequest,
    responses((status = 200, body = CallbackResponse), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn provider_callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CallbackResponse>> {
    verify_signature(&state.callback_secret, &headers, &body)?;
    let event: CallbackRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("Invalid request body: {e}")))?;
    let next = match RedemptionStatus::parse(&event.status) {
        Some(
            s @ (RedemptionStatus::Processing
            | RedemptionStatus::Shipped
            | RedemptionStatus::Delivered
            | RedemptionStatus::Failed),
        ) => s,
        _ => {
            return Err(Error::invalid(
                "invalid_field",
                "status must be one of: processing, shipped, delivered, failed",
            )
            .into())
        }
    };
    let outcome = movement::write(&state, move |tx| {
        Box::pin(async move {
            let order = tx.redemption(&event.redemption_id).await?;
            if order.provider != provider {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    "redemption_not_found",
                    "Redemption not found",
                )
                .into());
            }
            if !tx
                .record_provider_event(&event.event_id, &provider, &order.id)
                .await?
            {
                // Already applied, perhaps by a twin that committed while this one waited:
                // report the status as it is now, not as first read.
                let now = tx.redemption(&order.id).await?;
                return Ok((false, now.status));
            }
            let request = TransitionRequest {
                next,
                actor_id: None,
                note: event.reason.as_deref().or(Some("Reported by the provider")),
                provider_reference: event.reference.as_deref(),
                tracking_number: event.tracking_number.as_deref(),
                gift_card_code: event.code.as_deref(),
            };
            let updated = tx.transition(&order, request).await?;
            Ok((true, updated.status))
        })
    })
    .await?;
    Ok(Json(CallbackResponse {
        applied: outcome.0,
        status: outcome.1.as_str().to_owned(),
    }))
}
