//! The platform admin's pages under `/admin`: the dashboard with every tenant, a new tenant
//! with its first manager, one tenant's pool and history (in [`tenant`] and [`history`]), bulk
//! allocation, the reversal of one allocation, and usage reports.

mod bulk;
mod dashboard;
mod deliveries;
mod history;
mod reports;
mod reversal;
mod tenant;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use perksu_domain::{validate, Error, FundingMode, Role};
use perksu_store::{NewTenant, NewUser, TenantRow};
use serde::Deserialize;

use crate::format::{points, pool_state_label};
use crate::forms::{non_negative_amount, run_write, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::Admin;
use crate::WebState;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/admin", get(dashboard::show))
        .route("/admin/tenants/new", get(new_tenant_form))
        .route("/admin/tenants", post(create_tenant))
        .route("/admin/tenants/{id}", get(tenant::show))
        .route("/admin/tenants/{id}/allocate", post(tenant::allocate))
        .route("/admin/tenants/{id}/clawback", post(tenant::clawback))
        .route("/admin/tenants/{id}/allocations", get(history::allocations))
        .route("/admin/tenants/{id}/billing", get(history::billing))
        .route(
            "/admin/allocations/bulk",
            get(bulk::show).post(bulk::submit),
        )
        .route(
            "/admin/allocations/{id}/reverse",
            get(reversal::show).post(reversal::reverse),
        )
        .route("/admin/reports", get(reports::show))
        .merge(deliveries::router())
}

/// One row of the tenants grid.
struct TenantLine {
    id: String,
    name: String,
    slug: String,
    pool: String,
    currency_label: String,
    status: &'static str,
    mode: &'static str,
    state: &'static str,
    state_label: &'static str,
}

impl From<&TenantRow> for TenantLine {
    fn from(tenant: &TenantRow) -> TenantLine {
        let state = tenant.pool_state();
        TenantLine {
            id: tenant.id.clone(),
            name: tenant.name.clone(),
            slug: tenant.slug.clone(),
            pool: points(tenant.points_allocation_balance),
            currency_label: tenant.currency_label.clone(),
            status: tenant.status.as_str(),
            mode: tenant.funding_mode.as_str(),
            state: state.as_str(),
            state_label: pool_state_label(state),
        }
    }
}

pages!(NewTenantPage);

/// The new tenant form's fields, kept as typed so a refused form shows them again.
#[derive(Deserialize)]
#[serde(default)]
pub struct NewTenantFields {
    name: String,
    slug: String,
    currency: String,
    currency_label: String,
    funding_mode: String,
    low_balance_threshold: String,
    manager_email: String,
    manager_first_name: String,
    manager_last_name: String,
    manager_password: String,
}

impl Default for NewTenantFields {
    fn default() -> NewTenantFields {
        NewTenantFields {
            name: String::new(),
            slug: String::new(),
            currency: "INR".into(),
            currency_label: "Points".into(),
            funding_mode: FundingMode::Pool.as_str().into(),
            low_balance_threshold: "1000".into(),
            manager_email: String::new(),
            manager_first_name: String::new(),
            manager_last_name: String::new(),
            manager_password: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/new_tenant.html")]
struct NewTenantPage {
    chrome: Chrome,
    form: NewTenantFields,
    error: Option<String>,
}

async fn new_tenant_form(Admin(viewer): Admin) -> Response {
    render(
        StatusCode::OK,
        &NewTenantPage {
            chrome: viewer.chrome(Section::AdminNewTenant),
            form: NewTenantFields::default(),
            error: None,
        },
    )
}

/// Creates the tenant and its first manager in one transaction: both or neither.
async fn create_tenant(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    CsrfForm(mut form): CsrfForm<NewTenantFields>,
) -> Result<Response, PageError> {
    match create(&state, &viewer.actor, &form).await {
        Ok(tenant) => Ok(redirect_with_flash(
            &format!("/admin/tenants/{}", tenant.id),
            &format!(
                "Created {} with its manager {}. Allocate points to open its pool.",
                tenant.name,
                form.manager_email.trim().to_lowercase()
            ),
        )),
        Err(Failure::Refused(refusal)) => {
            // A password is never sent back to the browser.
            form.manager_password.clear();
            Ok(render(
                refusal.status,
                &NewTenantPage {
                    chrome: viewer.chrome(Section::AdminNewTenant),
                    form,
                    error: Some(refusal.message),
                },
            ))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn create(
    state: &WebState,
    actor: &perksu_domain::access::Actor,
    form: &NewTenantFields,
) -> Result<TenantRow, Failure> {
    let tenant = NewTenant {
        name: validate::name("Company name", &form.name)?,
        slug: validate::slug(&form.slug)?,
        currency: validate::currency(&form.currency)?,
        currency_label: validate::name("Points label", &form.currency_label)?,
        funding_mode: FundingMode::parse(form.funding_mode.trim()).ok_or_else(|| {
            Error::invalid(
                "invalid_field",
                format!("Funding mode must be one of: {}", FundingMode::expected()),
            )
        })?,
        low_balance_threshold: non_negative_amount(
            "Low-balance mark",
            &form.low_balance_threshold,
        )?,
    };
    let email = validate::email(&form.manager_email)?;
    let first_name = validate::name("Manager's first name", &form.manager_first_name)?;
    let last_name = validate::name("Manager's last name", &form.manager_last_name)?;
    validate::password(&form.manager_password)?;
    // Hashing is slow on purpose: done before the transaction, not inside it.
    let password_hash = state.store.hash_password(&form.manager_password).await?;
    let actor = actor.clone();
    run_write(&state.store, move |tx| {
        Box::pin(async move {
            let tenant = tx.create_tenant(&actor, tenant).await?;
            tx.create_user(
                &actor,
                NewUser {
                    tenant_id: Some(tenant.id.clone()),
                    email,
                    password_hash,
                    first_name,
                    last_name,
                    role: Role::TenantManager,
                    department_id: None,
                    manager_id: None,
                },
            )
            .await?;
            Ok(tenant)
        })
    })
    .await
}
