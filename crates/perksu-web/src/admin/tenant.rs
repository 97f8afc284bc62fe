//! One tenant for the platform admin: its facts and pool card, the allocation panel, the
//! clawback (with a required confirmation), and its latest allocations and billing lines.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::{validate, Error};
use perksu_store::{AllocateCommand, AuditFilter, ClawbackCommand, TenantRow};
use serde::Deserialize;

use crate::format::{points, when};
use crate::forms::{optional_positive_amount, positive_amount, run_movement, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::pool_card::PoolCard;
use crate::session::{random_token, Admin, Viewer};
use crate::WebState;

use super::history::{AllocationLine, BillingLine};

/// Latest rows shown on the tenant's page; the history pages have the rest.
const LATEST_ROWS: i64 = 5;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AllocateFields {
    amount: String,
    note: String,
    form_key: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ClawbackFields {
    amount: String,
    reason: String,
    /// The "I understand" checkbox: present only when ticked.
    confirm: Option<String>,
    form_key: String,
}

/// The facts shown at the top of the page.
struct TenantFacts {
    id: String,
    name: String,
    slug: String,
    currency: String,
    currency_label: String,
    status: &'static str,
    mode: &'static str,
    created: String,
}

impl From<&TenantRow> for TenantFacts {
    fn from(tenant: &TenantRow) -> TenantFacts {
        TenantFacts {
            id: tenant.id.clone(),
            name: tenant.name.clone(),
            slug: tenant.slug.clone(),
            currency: tenant.currency.clone(),
            currency_label: tenant.currency_label.clone(),
            status: tenant.status.as_str(),
            mode: tenant.funding_mode.as_str(),
            created: when(&tenant.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/tenant.html")]
struct TenantPage {
    chrome: Chrome,
    tenant: TenantFacts,
    pool_card: String,
    pool: String,
    allocate: AllocateFields,
    allocate_error: Option<String>,
    clawback: ClawbackFields,
    clawback_error: Option<String>,
    allocations: Vec<AllocationLine>,
    billing: Vec<BillingLine>,
}

pages!(TenantPage);

/// The forms as the page should show them: fresh, or as sent with the refusal beside them.
#[derive(Default)]
struct Forms {
    allocate: AllocateFields,
    allocate_error: Option<String>,
    clawback: ClawbackFields,
    clawback_error: Option<String>,
}

async fn page(
    state: &WebState,
    viewer: &Viewer,
    tenant_id: &str,
    mut forms: Forms,
) -> Result<TenantPage, PageError> {
    let chrome = || viewer.chrome(Section::AdminTenants);
    let store = &state.store;
    let actor = &viewer.actor;
    let stats = store
        .tenant_stats(actor, Some(tenant_id))
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let latest = || AuditFilter {
        tenant_id: Some(tenant_id.to_owned()),
        limit: LATEST_ROWS,
        ..AuditFilter::default()
    };
    let allocations = store
        .allocation_logs(actor, latest())
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let billing = store
        .billing_logs(actor, latest())
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    // Each rendering gets new keys, so a form sent twice moves points once.
    forms.allocate.form_key = random_token();
    forms.clawback.form_key = random_token();
    Ok(TenantPage {
        chrome: chrome(),
        tenant: TenantFacts::from(&stats.tenant),
        pool_card: PoolCard::new(&stats, None)
            .html()
            .map_err(|error| PageError::internal(error.to_string()))?,
        pool: points(stats.tenant.points_allocation_balance),
        allocate: forms.allocate,
        allocate_error: forms.allocate_error,
        clawback: forms.clawback,
        clawback_error: forms.clawback_error,
        allocations: allocations
            .items
            .iter()
            .map(|row| AllocationLine::new(row, &stats.tenant.currency_label))
            .collect(),
        billing: billing.items.iter().map(BillingLine::from).collect(),
    })
}

pub async fn show(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    Path(tenant_id): Path<String>,
) -> Result<Response, PageError> {
    let page = page(&state, &viewer, &tenant_id, Forms::default()).await?;
    Ok(render(StatusCode::OK, &page))
}

/// The tenant, read for its name and points label before a movement is worded.
async fn tenant(state: &WebState, viewer: &Viewer, tenant_id: &str) -> Result<TenantRow, Failure> {
    Ok(state.store.tenant(&viewer.actor, tenant_id).await?)
}

pub async fn allocate(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    Path(tenant_id): Path<String>,
    CsrfForm(form): CsrfForm<AllocateFields>,
) -> Result<Response, PageError> {
    match allocate_points(&state, &viewer, &tenant_id, &form).await {
        Ok((location, message)) => Ok(redirect_with_flash(&location, &message)),
        Err(Failure::Refused(refusal)) => {
            let forms = Forms {
                allocate: form,
                allocate_error: Some(refusal.message),
                ..Forms::default()
            };
            let page = page(&state, &viewer, &tenant_id, forms).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn allocate_points(
    state: &WebState,
    viewer: &Viewer,
    tenant_id: &str,
    form: &AllocateFields,
) -> Result<(String, String), Failure> {
    let command = AllocateCommand {
        tenant_id: tenant_id.to_owned(),
        amount: positive_amount("Amount", &form.amount)?,
        currency: None,
        reference_note: validate::note("Note", Some(&form.note))?,
    };
    let tenant = tenant(state, viewer, tenant_id).await?;
    let fingerprint = format!(
        "POST /admin/tenants/{tenant_id}/allocate\n{}\n{}",
        command.amount,
        command.reference_note.as_deref().unwrap_or_default()
    );
    let actor = viewer.actor.clone();
    let label = tenant.currency_label.clone();
    let message = run_movement(
        &state.store,
        viewer,
        &form.form_key,
        &fingerprint,
        move |tx| Box::pin(async move { tx.allocate_to_tenant(&actor, command).await }),
        |outcome| {
            format!(
                "Allocated {} {label} to {}. The pool now holds {} {label} (it held {}).",
                points(outcome.amount_allocated),
                tenant.name,
                points(outcome.new_allocation_balance),
                points(outcome.previous_balance),
            )
        },
    )
    .await?;
    Ok((format!("/admin/tenants/{}", tenant.id), message))
}

pub async fn clawback(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    Path(tenant_id): Path<String>,
    CsrfForm(form): CsrfForm<ClawbackFields>,
) -> Result<Response, PageError> {
    match claw_back(&state, &viewer, &tenant_id, &form).await {
        Ok((location, message)) => Ok(redirect_with_flash(&location, &message)),
        Err(Failure::Refused(refusal)) => {
            let forms = Forms {
                clawback: ClawbackFields {
                    // The confirmation is asked for again each time.
                    confirm: None,
                    ..form
                },
                clawback_error: Some(refusal.message),
                ..Forms::default()
            };
            let page = page(&state, &viewer, &tenant_id, forms).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn claw_back(
    state: &WebState,
    viewer: &Viewer,
    tenant_id: &str,
    form: &ClawbackFields,
) -> Result<(String, String), Failure> {
    let command = ClawbackCommand {
        tenant_id: tenant_id.to_owned(),
        amount: optional_positive_amount("Amount", &form.amount)?,
        reason: validate::note("Reason", Some(&form.reason))?,
    };
    if form.confirm.is_none() {
        return Err(Error::invalid(
            "confirmation_required",
            "Tick the confirmation box to take points back. Nothing was taken.",
        )
        .into());
    }
    let tenant = tenant(state, viewer, tenant_id).await?;
    let fingerprint = format!(
        "POST /admin/tenants/{tenant_id}/clawback\n{}\n{}",
        command.amount.map(|a| a.to_string()).unwrap_or_default(),
        command.reason.as_deref().unwrap_or_default()
    );
    let actor = viewer.actor.clone();
    let label = tenant.currency_label.clone();
    let message = run_movement(
        &state.store,
        viewer,
        &form.form_key,
        &fingerprint,
        move |tx| Box::pin(async move { tx.clawback(&actor, command).await }),
        |outcome| {
            format!(
                "Clawed back {} {label} from {}. The pool now holds {} {label}.",
                points(outcome.amount_clawed_back),
                tenant.name,
                points(outcome.new_allocation_balance),
            )
        },
    )
    .await?;
    Ok((format!("/admin/tenants/{}", tenant.id), message))
}
