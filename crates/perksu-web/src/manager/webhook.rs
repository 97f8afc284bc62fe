//! Where the tenant's low-balance alerts are posted: the webhook URL and its signing secret,
//! set, changed or removed through the same store call as `PATCH /api/tenants/{id}`, with the
//! same checks. The secret is write-only: the page says whether one is stored, never what.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::Error;
use perksu_store::{validate_webhook_secret, validate_webhook_url, TenantPatch, TenantRow};
use serde::Deserialize;

use crate::forms::{run_write, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{Manager, Viewer};
use crate::WebState;

const PAGE: &str = "/manager/settings/webhook";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WebhookFields {
    url: String,
    /// Empty: keep the stored secret.
    secret: String,
    remove: Option<String>,
}

#[derive(Template)]
#[template(path = "manager/webhook.html")]
struct WebhookPage {
    chrome: Chrome,
    url: String,
    secret_set: bool,
    error: Option<String>,
}

pages!(WebhookPage);

async fn current(state: &WebState, viewer: &Viewer) -> Result<TenantRow, PageError> {
    let chrome = || viewer.chrome(Section::ManagerSettings);
    let tenant_id = viewer
        .actor
        .own_tenant()
        .map_err(|e| PageError::from_store(e.into(), chrome()))?;
    state
        .store
        .tenant(&viewer.actor, tenant_id)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))
}

pub async fn show(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let tenant = current(&state, &viewer).await?;
    let page = WebhookPage {
        chrome: viewer.chrome(Section::ManagerSettings),
        url: tenant.alert_webhook_url.unwrap_or_default(),
        secret_set: tenant.alert_webhook_secret_set,
        error: None,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The patch a post asks for: remove both, or set the URL and, if typed, a new secret.
fn patch(form: &WebhookFields) -> Result<TenantPatch, Error> {
    if form.remove.is_some() {
        return Ok(TenantPatch {
            alert_webhook_url: Some(None),
            alert_webhook_secret: Some(None),
            ..TenantPatch::default()
        });
    }
    if form.url.trim().is_empty() {
        return Err(Error::invalid(
            "invalid_webhook_url",
            "Give the webhook's URL, or tick the box to remove the webhook",
        ));
    }
    let secret = (!form.secret.is_empty())
        .then(|| validate_webhook_secret(&form.secret))
        .transpose()?;
    Ok(TenantPatch {
        alert_webhook_url: Some(Some(validate_webhook_url(&form.url)?)),
        alert_webhook_secret: secret.map(Some),
        ..TenantPatch::default()
    })
}

pub async fn update(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    CsrfForm(form): CsrfForm<WebhookFields>,
) -> Result<Response, PageError> {
    let tenant = current(&state, &viewer).await?;
    let saved = match patch(&form) {
        Ok(patch) => {
            let actor = viewer.actor.clone();
            let tenant_id = tenant.id.clone();
            run_write(&state.store, move |tx| {
                Box::pin(async move { tx.update_tenant(&actor, &tenant_id, patch).await })
            })
            .await
        }
        Err(error) => Err(Failure::from(error)),
    };
    match saved {
        Ok(saved) => {
            let message = if saved.alert_webhook_url.is_some() {
                "Webhook saved: alerts will be posted to it."
            } else {
                "Webhook removed: alerts are only shown here."
            };
            Ok(redirect_with_flash(PAGE, message))
        }
        Err(Failure::Refused(refusal)) => {
            let page = WebhookPage {
                chrome: viewer.chrome(Section::ManagerSettings),
                url: form.url,
                secret_set: tenant.alert_webhook_secret_set,
                error: Some(refusal.message),
            };
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}
