//! Delegations: the tenant's leads with their balances, and the forms that move points from
//! the pool to a lead and back.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::{validate, Role};
use perksu_store::{DelegateCommand, RecallCommand, UserRow};
use serde::Deserialize;

use crate::format::points;
use crate::forms::{optional_positive_amount, positive_amount, run_movement, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{random_token, Manager, Viewer};
use crate::WebState;

const PAGE: &str = "/manager/delegations";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DelegateFields {
    lead_id: String,
    amount: String,
    note: String,
    form_key: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RecallFields {
    lead_id: String,
    amount: String,
    note: String,
    form_key: String,
}

struct LeadLine {
    id: String,
    name: String,
    email: String,
    balance: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "manager/delegations.html")]
struct DelegationsPage {
    chrome: Chrome,
    pool: String,
    currency_label: String,
    leads: Vec<LeadLine>,
    delegate: DelegateFields,
    delegate_error: Option<String>,
    recall: RecallFields,
    recall_error: Option<String>,
}

pages!(DelegationsPage);

#[derive(Default)]
struct Forms {
    delegate: DelegateFields,
    delegate_error: Option<String>,
    recall: RecallFields,
    recall_error: Option<String>,
}

fn full_name(user: &UserRow) -> String {
    format!("{} {}", user.first_name, user.last_name)
}

async fn page(
    state: &WebState,
    viewer: &Viewer,
    mut forms: Forms,
) -> Result<DelegationsPage, PageError> {
    let chrome = || viewer.chrome(Section::ManagerDelegations);
    let stats = state
        .store
        .tenant_stats(&viewer.actor, None)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let users = state
        .store
        .users(&viewer.actor, None)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    forms.delegate.form_key = random_token();
    forms.recall.form_key = random_token();
    Ok(DelegationsPage {
        chrome: chrome(),
        pool: points(stats.tenant.points_allocation_balance),
        currency_label: stats.tenant.currency_label.clone(),
        leads: users
            .iter()
            .filter(|user| user.role == Role::Lead)
            .map(|lead| LeadLine {
                id: lead.id.clone(),
                name: full_name(lead),
                email: lead.email.clone(),
                balance: points(lead.lead_distribution_balance),
                active: lead.status == perksu_domain::UserStatus::Active,
            })
            .collect(),
        delegate: forms.delegate,
        delegate_error: forms.delegate_error,
        recall: forms.recall,
        recall_error: forms.recall_error,
    })
}

pub async fn show(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let page = page(&state, &viewer, Forms::default()).await?;
    Ok(render(StatusCode::OK, &page))
}

/// The lead's name and the tenant's points label, for the message after a movement.
async fn names(
    state: &WebState,
    viewer: &Viewer,
    lead_id: &str,
) -> Result<(String, String), Failure> {
    if lead_id.is_empty() {
        return Err(perksu_domain::Error::invalid("invalid_field", "Choose a lead").into());
    }
    let lead = state.store.user(&viewer.actor, lead_id).await?;
    let stats = state.store.tenant_stats(&viewer.actor, None).await?;
    Ok((full_name(&lead), stats.tenant.currency_label))
}

pub async fn delegate(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    CsrfForm(form): CsrfForm<DelegateFields>,
) -> Result<Response, PageError> {
    match delegate_points(&state, &viewer, &form).await {
        Ok(message) => Ok(redirect_with_flash(PAGE, &message)),
        Err(Failure::Refused(refusal)) => {
            let forms = Forms {
                delegate: form,
                delegate_error: Some(refusal.message),
                ..Forms::default()
            };
            Ok(render(refusal.status, &page(&state, &viewer, forms).await?))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn delegate_points(
    state: &WebState,
    viewer: &Viewer,
    form: &DelegateFields,
) -> Result<String, Failure> {
    let command = DelegateCommand {
        lead_id: form.lead_id.trim().to_owned(),
        amount: positive_amount("Amount", &form.amount)?,
        delegation_note: validate::note("Note", Some(&form.note))?,
    };
    let (lead_name, label) = names(state, viewer, &command.lead_id).await?;
    let fingerprint = format!(
        "POST {PAGE}/delegate\n{}\n{}\n{}",
        command.lead_id,
        command.amount,
        command.delegation_note.as_deref().unwrap_or_default()
    );
    let actor = viewer.actor.clone();
    run_movement(
        &state.store,
        viewer,
        &form.form_key,
        &fingerprint,
        move |tx| Box::pin(async move { tx.delegate_to_lead(&actor, command).await }),
        |outcome| {
            format!(
                "Delegated {} {label} to {lead_name}, who now holds {} {label}. The pool has \
                 {} {label} left.",
                points(outcome.amount_delegated),
                points(outcome.lead_distribution_balance),
                points(outcome.new_allocation_balance),
            )
        },
    )
    .await
}

pub async fn recall(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    CsrfForm(form): CsrfForm<RecallFields>,
) -> Result<Response, PageError> {
    match recall_points(&state, &viewer, &form).await {
        Ok(message) => Ok(redirect_with_flash(PAGE, &message)),
        Err(Failure::Refused(refusal)) => {
            let forms = Forms {
                recall: form,
                recall_error: Some(refusal.message),
                ..Forms::default()
            };
            Ok(render(refusal.status, &page(&state, &viewer, forms).await?))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn recall_points(
    state: &WebState,
    viewer: &Viewer,
    form: &RecallFields,
) -> Result<String, Failure> {
    let command = RecallCommand {
        lead_id: form.lead_id.trim().to_owned(),
        amount: optional_positive_amount("Amount", &form.amount)?,
        note: validate::note("Note", Some(&form.note))?,
    };
    let (lead_name, label) = names(state, viewer, &command.lead_id).await?;
    let fingerprint = format!(
        "POST {PAGE}/recall\n{}\n{}\n{}",
        command.lead_id,
        command.amount.map(|a| a.to_string()).unwrap_or_default(),
        command.note.as_deref().unwrap_or_default()
    );
    let actor = viewer.actor.clone();
    run_movement(
        &state.store,
        viewer,
        &form.form_key,
        &fingerprint,
        move |tx| Box::pin(async move { tx.recall_from_lead(&actor, command).await }),
        |outcome| {
            format!(
                "Recalled {} {label} from {lead_name}, who now holds {} {label}. The pool has \
                 {} {label}.",
                points(outcome.amount_recalled),
                points(outcome.lead_distribution_balance),
                points(outcome.new_allocation_balance),
            )
        },
    )
    .await
}
