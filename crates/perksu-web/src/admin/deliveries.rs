//! One tenant's deliveries for the platform admin: its email outbox (filtered by status, a
//! page at a time, with a retry for rows given up or failed), and the low-balance alerts that
//! fired with the attempts to post them to the tenant's webhook.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use perksu_domain::Error;
use perksu_store::{
    AlertFilter, AlertRow, EmailDeliveryFilter, EmailDeliveryRow, Page, TenantRow,
    WebhookAttemptRow, EMAIL_STATUSES,
};
use serde::{Deserialize, Serialize};

use crate::format::{points, when};
use crate::forms::CsrfForm;
use crate::listing::{query, Pager, PAGE_SIZE};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{Admin, Viewer};
use crate::WebState;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/admin/tenants/{id}/deliveries", get(show))
        .route(
            "/admin/tenants/{id}/deliveries/{delivery}/retry",
            post(retry),
        )
}

/// Alerts and webhook attempts shown: the latest ones; the API pages through the rest.
const LATEST_ROWS: i64 = 20;

/// The email table's filter and position, as typed.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DeliveriesQuery {
    /// One of [`EMAIL_STATUSES`], or empty for all.
    status: String,
    #[serde(skip_serializing)]
    offset: String,
}

impl DeliveriesQuery {
    fn filter(&self, tenant_id: &str) -> Result<EmailDeliveryFilter, Error> {
        let status = self.status.trim();
        if !status.is_empty() && !EMAIL_STATUSES.contains(&status) {
            return Err(Error::invalid(
                "invalid_query",
                format!("Status must be one of: {}", EMAIL_STATUSES.join(", ")),
            ));
        }
        Ok(EmailDeliveryFilter {
            tenant_id: Some(tenant_id.to_owned()),
            status: (!status.is_empty()).then(|| status.to_owned()),
            limit: PAGE_SIZE,
            offset: self.offset.trim().parse::<i64>().unwrap_or(0).max(0),
        })
    }

    /// The page's address with this filter (and `offset` when past the first page).
    fn link(&self, path: &str, offset: i64) -> String {
        let mut pairs = Vec::new();
        if !self.status.trim().is_empty() {
            pairs.push(("status", self.status.trim().to_owned()));
        }
        if offset > 0 {
            pairs.push(("offset", offset.to_string()));
        }
        match serde_urlencoded::to_string(&pairs) {
            Ok(query) if !query.is_empty() => format!("{path}?{query}"),
            _ => path.to_owned(),
        }
    }

    fn pager(&self, page: &Page<EmailDeliveryRow>, path: &str) -> Pager {
        let shown = page.items.len() as i64;
        Pager {
            summary: if page.total == 0 {
                "No emails match.".to_owned()
            } else {
                format!(
                    "Emails {} to {} of {}.",
                    page.offset + 1,
                    page.offset + shown,
                    page.total
                )
            },
            previous: (page.offset > 0).then(|| self.link(path, (page.offset - page.limit).max(0))),
            next: (page.offset + shown < page.total)
                .then(|| self.link(path, page.offset + page.limit)),
        }
    }
}

struct EmailLine {
    id: String,
    created: String,
    kind: String,
    recipient: String,
    status: String,
    attempts: i64,
    error: String,
    /// When it is due (pending) or was sent; empty otherwise.
    next_or_sent: String,
    retryable: bool,
}

impl From<&EmailDeliveryRow> for EmailLine {
    fn from(row: &EmailDeliveryRow) -> EmailLine {
        let next_or_sent = row
            .next_attempt_at
            .as_ref()
            .map(|at| format!("due {}", when(at)))
            .or_else(|| row.sent_at.as_ref().map(|at| format!("sent {}", when(at))))
            .unwrap_or_default();
        EmailLine {
            id: row.id.clone(),
            created: when(&row.created_at),
            kind: row.kind.clone(),
            recipient: row.recipient.clone(),
            retryable: row.status == "dead" || row.status == "failed",
            status: row.status.clone(),
            attempts: row.attempts,
            error: row.last_error.clone().unwrap_or_default(),
            next_or_sent,
        }
    }
}

struct AlertLine {
    when: String,
    account: String,
    balance: String,
    threshold: String,
    webhook: String,
}

impl From<&AlertRow> for AlertLine {
    fn from(row: &AlertRow) -> AlertLine {
        AlertLine {
            when: when(&row.created_at),
            account: row.account_kind().to_owned(),
            balance: points(row.balance),
            threshold: points(row.threshold),
            webhook: match (&row.webhook_status, row.webhook_attempts) {
                (Some(status), Some(attempts)) => format!("{status} after {attempts} attempts"),
                (Some(status), None) => status.clone(),
                _ => "no webhook".to_owned(),
            },
        }
    }
}

struct WebhookLine {
    when: String,
    attempt: i64,
    url: String,
    outcome: String,
    delivery_status: String,
}

impl From<&WebhookAttemptRow> for WebhookLine {
    fn from(row: &WebhookAttemptRow) -> WebhookLine {
        let outcome = match (&row.error, row.status_code) {
            (Some(error), _) => error.clone(),
            (None, Some(code)) => format!("HTTP {code}"),
            (None, None) => String::new(),
        };
        WebhookLine {
            when: when(&row.attempted_at),
            attempt: row.attempt,
            url: row.url.clone(),
            outcome,
            delivery_status: row.delivery_status.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/deliveries.html")]
struct DeliveriesPage {
    chrome: Chrome,
    tenant_id: String,
    tenant_name: String,
    currency_label: String,
    statuses: [&'static str; 4],
    filters: DeliveriesQuery,
    /// A bad filter or a refused retry, shown above the email table.
    error: Option<String>,
    emails: Vec<EmailLine>,
    pager: Option<Pager>,
    alerts: Vec<AlertLine>,
    webhooks: Vec<WebhookLine>,
}

pages!(DeliveriesPage);

pub async fn show(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    Path(tenant_id): Path<String>,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let filters: DeliveriesQuery = query(raw)?;
    let (status, page) = page(&state, &viewer, &tenant_id, filters, None).await?;
    Ok(render(status, &page))
}

/// The page, with `refused` (a retry's refusal) shown above the email table.
async fn page(
    state: &WebState,
    viewer: &Viewer,
    tenant_id: &str,
    filters: DeliveriesQuery,
    refused: Option<(StatusCode, String)>,
) -> Result<(StatusCode, DeliveriesPage), PageError> {
    let chrome = || viewer.chrome(Section::AdminTenants);
    let store = &state.store;
    let actor = &viewer.actor;
    let from_store = |error| PageError::from_store(error, chrome());
    let tenant: TenantRow = store.tenant(actor, tenant_id).await.map_err(from_store)?;
    let path = format!("/admin/tenants/{}/deliveries", tenant.id);
    let listed = match filters.filter(&tenant.id) {
        Ok(filter) => store
            .email_deliveries(actor, filter)
            .await
            .map_err(Failure::from),
        Err(error) => Err(error.into()),
    };
    let (mut status, mut error, emails, pager) = match listed {
        Ok(page) => (
            StatusCode::OK,
            None,
            page.items.iter().map(EmailLine::from).collect(),
            Some(filters.pager(&page, &path)),
        ),
        Err(Failure::Refused(refusal)) => (refusal.status, Some(refusal.message), vec![], None),
        Err(Failure::Page(error)) => return Err(error),
    };
    if let Some((refused_status, message)) = refused {
        (status, error) = (refused_status, Some(message));
    }
    let latest = || AlertFilter {
        tenant_id: Some(tenant.id.clone()),
        alert_id: None,
        limit: LATEST_ROWS,
        offset: 0,
    };
    let alerts = store.alerts(actor, latest()).await.map_err(from_store)?;
    let webhooks = store
        .webhook_attempts(actor, latest())
        .await
        .map_err(from_store)?;
    let page = DeliveriesPage {
        chrome: chrome(),
        tenant_id: tenant.id,
        tenant_name: tenant.name,
        currency_label: tenant.currency_label,
        statuses: EMAIL_STATUSES,
        filters,
        error,
        emails,
        pager,
        alerts: alerts.items.iter().map(AlertLine::from).collect(),
        webhooks: webhooks.items.iter().map(WebhookLine::from).collect(),
    };
    Ok((status, page))
}

/// The retry form: the filter the admin was looking at, to come back to it.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RetryFields {
    status: String,
}

pub async fn retry(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    Path((tenant_id, delivery_id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<RetryFields>,
) -> Result<Response, PageError> {
    let filters = DeliveriesQuery {
        status: form.status,
        offset: String::new(),
    };
    let retried = state
        .store
        .retry_email(&viewer.actor, Some(tenant_id.clone()), &delivery_id)
        .await
        .map_err(Failure::from);
    match retried {
        Ok(row) => {
            let location = filters.link(&format!("/admin/tenants/{tenant_id}/deliveries"), 0);
            let message = format!(
                "The email to {} is queued again and will be sent on the next pass.",
                row.recipient
            );
            Ok(redirect_with_flash(&location, &message))
        }
        Err(Failure::Refused(refusal)) => {
            let refused = Some((refusal.status, refusal.message));
            let (status, page) = page(&state, &viewer, &tenant_id, filters, refused).await?;
            Ok(render(status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}
