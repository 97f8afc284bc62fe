//! The email outbox for operators under `/api/email-deliveries`: what was sent, what waits,
//! what was given up, and a retry of what was given up (platform admins, and a tenant's
//! managers for their own tenant).

use axum::extract::{Path, State};
use axum::Json;
use perksu_domain::Error;
use perksu_store::{EmailDeliveryFilter, EmailDeliveryRow, EMAIL_STATUSES};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth};
use crate::wire::{parse_word, PageBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_email_deliveries))
        .routes(routes!(retry_email_delivery))
}

#[derive(Deserialize, IntoParams)]
pub struct EmailDeliveryQuery {
    /// A platform admin's choice of tenant; a manager sees only their own.
    tenant_id: Option<String>,
    /// Only rows in this state: `pending`, `sent`, `failed` or `dead`.
    status: Option<String>,
    /// 1 to 200, default 50.
    limit: Option<i64>,
    offset: Option<i64>,
}

impl EmailDeliveryQuery {
    fn into_filter(self) -> Result<EmailDeliveryFilter, Error> {
        let status = self
            .status
            .map(|status| {
                parse_word(
                    "status",
                    &status,
                    |word| EMAIL_STATUSES.contains(&word).then(|| word.to_owned()),
                    EMAIL_STATUSES.join(", "),
                )
            })
            .transpose()?;
        Ok(EmailDeliveryFilter {
            tenant_id: self.tenant_id,
            status,
            limit: self.limit.unwrap_or(50),
            offset: self.offset.unwrap_or(0),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct EmailDeliveryBody {
    id: String,
    /// Null for a platform admin's own notifications.
    tenant_id: Option<String>,
    /// The notification kind, e.g. `low_balance` or `redemption_status`.
    kind: String,
    /// The address the mail goes to.
    recipient: String,
    /// `pending`, `sent`, `failed` or `dead` (given up after the last attempt).
    status: String,
    /// Attempts made so far, including those before a retry.
    attempts: i64,
    /// Why the latest failed attempt did not deliver.
    last_error: Option<String>,
    /// When the next attempt is due, while pending.
    next_attempt_at: Option<String>,
    sent_at: Option<String>,
    created_at: String,
}

impl From<EmailDeliveryRow> for EmailDeliveryBody {
    fn from(r: EmailDeliveryRow) -> Self {
        EmailDeliveryBody {
            id: r.id,
            tenant_id: r.tenant_id,
            kind: r.kind,
            recipient: r.recipient,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at.map(|at| at.to_string()),
            sent_at: r.sent_at.map(|at| at.to_string()),
            created_at: r.created_at.to_string(),
        }
    }
}

/// Email deliveries, newest first.
#[utoipa::path(get, path = "/", tag = "Email", params(EmailDeliveryQuery),
    responses((status = 200, body = PageBody<EmailDeliveryBody>),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn list_email_deliveries(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<EmailDeliveryQuery>,
) -> ApiResult<Json<PageBody<EmailDeliveryBody>>> {
    let page = state
        .store
        .email_deliveries(&auth.actor, query.into_filter()?)
        .await?;
    Ok(Json(PageBody::from_page(page, EmailDeliveryBody::from)))
}

/// Send a dead or failed email again: it is pending and due at once, with its attempts kept
/// and a fresh round of them. A sent row is `email_already_sent`, a pending one
/// `email_already_pending`.
#[utoipa::path(post, path = "/{id}/retry", tag = "Email", params(("id" = String, Path)),
    responses((status = 200, body = EmailDeliveryBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retry_email_delivery(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<EmailDeliveryBody>> {
    let row = state.store.retry_email(&auth.actor, None, &id).await?;
    Ok(Json(EmailDeliveryBody::from(row)))
}
