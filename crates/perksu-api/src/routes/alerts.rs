//! Low-balance alerts and their webhook delivery log under `/api/v1/points` (a tenant's
//! managers, and platform admins).

use axum::extract::State;
use axum::Json;
use perksu_store::{AlertFilter, AlertRow, WebhookAttemptRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth};
use crate::wire::{amount, PageBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(list_webhook_deliveries))
}

#[derive(Deserialize, IntoParams)]
pub struct AlertQuery {
    /// A platform admin's choice of tenant; a manager sees only their own.
    tenant_id: Option<String>,
    /// Only this alert.
    alert_id: Option<String>,
    /// 1 to 200, default 50.
    limit: Option<i64>,
    offset: Option<i64>,
}

impl AlertQuery {
    fn into_filter(self) -> AlertFilter {
        AlertFilter {
            tenant_id: self.tenant_id,
            alert_id: self.alert_id,
            limit: self.limit.unwrap_or(50),
            offset: self.offset.unwrap_or(0),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AlertBody {
    /// The id webhook receivers dedupe on.
    id: String,
    tenant_id: String,
    /// `pool:<tenant id>` or `lead:<user id>`.
    account: String,
    /// `pool` or `lead`.
    account_kind: String,
    lead_id: Option<String>,
    /// The balance just after it crossed below the threshold.
    balance: String,
    threshold: String,
    /// The movement that crossed the threshold.
    journal_entry_id: String,
    created_at: String,
    /// `pending`, `delivered` or `failed`; null when the tenant had no webhook.
    webhook_status: Option<String>,
    webhook_attempts: Option<i64>,
}

impl From<AlertRow> for AlertBody {
    fn from(r: AlertRow) -> Self {
        AlertBody {
            account_kind: r.account_kind().to_owned(),
            lead_id: r.lead_id().map(str::to_owned),
            id: r.id,
            tenant_id: r.tenant_id,
            account: r.account,
            balance: amount(r.balance),
            threshold: amount(r.threshold),
            journal_entry_id: r.journal_entry_id,
            created_at: r.created_at.to_string(),
            webhook_status: r.webhook_status,
            webhook_attempts: r.webhook_attempts,
        }
    }
}

/// Low-balance alerts, newest first.
#[utoipa::path(get, path = "/alerts", tag = "Alerts", params(AlertQuery),
    responses((status = 200, body = PageBody<AlertBody>), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn list_alerts(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<AlertQuery>,
) -> ApiResult<Json<PageBody<AlertBody>>> {
    let page = state.store.alerts(&auth.actor, query.into_filter()).await?;
    Ok(Json(PageBody::from_page(page, AlertBody::from)))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookDeliveryBody {
    id: String,
    alert_id: String,
    tenant_id: String,
    /// 1 for the first attempt at this alert.
    attempt: i64,
    url: String,
    /// The receiver's HTTP status; null when it could not be reached.
    status_code: Option<i64>,
    /// Why the attempt did not deliver; null when it did.
    error: Option<String>,
    attempted_at: String,
    /// Where the alert's delivery stands now: `pending`, `delivered` or `failed`.
    delivery_status: String,
    /// When the next attempt is due, while pending.
    next_attempt_at: Option<String>,
}

impl From<WebhookAttemptRow> for WebhookDeliveryBody {
    fn from(r: WebhookAttemptRow) -> Self {
        WebhookDeliveryBody {
            id: r.id,
            alert_id: r.alert_id,
            tenant_id: r.tenant_id,
            attempt: r.attempt,
            url: r.url,
            status_code: r.status_code,
            error: r.error,
            attempted_at: r.attempted_at.to_string(),
            delivery_status: r.delivery_status,
            next_attempt_at: r.next_attempt_at.map(|at| at.to_string()),
        }
    }
}

/// Every attempt to post an alert to the tenant's webhook, newest first.
#[utoipa::path(get, path = "/webhook-deliveries", tag = "Alerts", params(AlertQuery),
    responses((status = 200, body = PageBody<WebhookDeliveryBody>),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_webhook_deliveries(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<AlertQuery>,
) -> ApiResult<Json<PageBody<WebhookDeliveryBody>>> {
    let page = state
        .store
        .webhook_attempts(&auth.actor, query.into_filter())
        .await?;
    Ok(Json(PageBody::from_page(page, WebhookDeliveryBody::from)))
}
