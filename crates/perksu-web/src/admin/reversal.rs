//! Reversing one allocation from its history row: the reversible amount, a required reason,
//! the store's `reverse_allocation` (the API's reversal endpoint's call), and then the audit
//! rows the reversal wrote.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::validate;
use perksu_store::{AllocationLogRow, ReversalOutcome, ReverseAllocationCommand, TenantRow};
use serde::{Deserialize, Serialize};

use crate::format::{points, when};
use crate::forms::{optional_positive_amount, run_movement, CsrfForm};
use crate::page::{pages, render, Chrome, Failure, PageError, Section};
use crate::session::{random_token, Admin, Viewer};
use crate::WebState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReverseFields {
    amount: String,
    reason: String,
    form_key: String,
}

/// The allocation as the form page shows it.
struct AllocationFacts {
    id: String,
    tenant_id: String,
    tenant_name: String,
    label: String,
    when: String,
    amount: String,
    reversed: String,
    reversible: String,
    note: String,
    status: &'static str,
}

impl AllocationFacts {
    fn new(log: &AllocationLogRow, tenant: &TenantRow) -> AllocationFacts {
        AllocationFacts {
            id: log.id.clone(),
            tenant_id: tenant.id.clone(),
            tenant_name: tenant.name.clone(),
            label: tenant.currency_label.clone(),
            when: when(&log.created_at),
            amount: points(log.amount),
            reversed: points(log.reversed_amount),
            reversible: points(log.reversible_amount()),
            note: log.reference_note.clone().unwrap_or_default(),
            status: log.status().as_str(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/reversal.html")]
struct ReversalPage {
    chrome: Chrome,
    allocation: AllocationFacts,
    can_reverse: bool,
    form: ReverseFields,
    error: Option<String>,
}

/// The rows one reversal wrote, as the commit reported them. They travel as the form's
/// recorded answer, so the same form sent again shows the same rows instead of reversing
/// twice.
#[derive(Serialize, Deserialize)]
struct ReversalRows {
    reversal_id: String,
    billing_log_id: String,
    journal_entry_id: String,
    amount: String,
    reason: String,
    currency: String,
    pool_account: String,
    new_pool: String,
    reversed_total: String,
    still_reversible: String,
    status: String,
}

impl ReversalRows {
    fn new(outcome: &ReversalOutcome, reason: &str) -> ReversalRows {
        let allocation = &outcome.allocation;
        ReversalRows {
            reversal_id: outcome.reversal_id.clone(),
            billing_log_id: outcome.billing_log_id.clone(),
            journal_entry_id: outcome.journal_entry_id.clone(),
            amount: points(outcome.amount_reversed),
            reason: reason.to_owned(),
            currency: allocation.currency.clone(),
            pool_account: format!("pool:{}", allocation.tenant_id),
            new_pool: points(outcome.new_allocation_balance),
            reversed_total: points(allocation.reversed_amount),
            still_reversible: points(allocation.reversible_amount()),
            status: allocation.status().as_str().to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/reversal_done.html")]
struct ReversalDonePage {
    chrome: Chrome,
    allocation_id: String,
    tenant_id: String,
    tenant_name: String,
    label: String,
    rows: ReversalRows,
}

pages!(ReversalPage, ReversalDonePage);

async fn allocation(
    state: &WebState,
    viewer: &Viewer,
    id: &str,
) -> Result<(AllocationLogRow, TenantRow), PageError> {
    let chrome = || viewer.chrome(Section::AdminTenants);
    let log = state
        .store
        .allocation_log(&viewer.actor, id)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let tenant = state
        .store
        .tenant(&viewer.actor, &log.tenant_id)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    Ok((log, tenant))
}

async fn page(
    state: &WebState,
    viewer: &Viewer,
    id: &str,
    form: Option<ReverseFields>,
    error: Option<String>,
) -> Result<ReversalPage, PageError> {
    let (log, tenant) = allocation(state, viewer, id).await?;
    let reversible = log.reversible_amount();
    // By default the form asks for everything that can be reversed now.
    let mut form = form.unwrap_or_else(|| ReverseFields {
        amount: reversible.to_string(),
        ..ReverseFields::default()
    });
    form.form_key = random_token();
    Ok(ReversalPage {
        chrome: viewer.chrome(Section::AdminTenants),
        allocation: AllocationFacts::new(&log, &tenant),
        can_reverse: !reversible.is_zero(),
        form,
        error,
    })
}

pub async fn show(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let page = page(&state, &viewer, &id, None, None).await?;
    Ok(render(StatusCode::OK, &page))
}

pub async fn reverse(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReverseFields>,
) -> Result<Response, PageError> {
    match reverse_allocation(&state, &viewer, &id, &form).await {
        Ok(rows) => {
            let (_, tenant) = allocation(&state, &viewer, &id).await?;
            let page = ReversalDonePage {
                chrome: viewer.chrome(Section::AdminTenants),
                allocation_id: id,
                tenant_id: tenant.id,
                tenant_name: tenant.name,
                label: tenant.currency_label,
                rows,
            };
            Ok(render(StatusCode::OK, &page))
        }
        Err(Failure::Refused(refusal)) => {
            let page = page(&state, &viewer, &id, Some(form), Some(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn reverse_allocation(
    state: &WebState,
    viewer: &Viewer,
    id: &str,
    form: &ReverseFields,
) -> Result<ReversalRows, Failure> {
    let command = ReverseAllocationCommand {
        allocation_log_id: id.to_owned(),
        amount: optional_positive_amount("Amount", &form.amount)?,
        reason: validate::text("Reason", &form.reason)?,
    };
    let fingerprint = format!(
        "POST /admin/allocations/{id}/reverse\n{}\n{}",
        command.amount.map(|a| a.to_string()).unwrap_or_default(),
        command.reason
    );
    let reason = command.reason.clone();
    let actor = viewer.actor.clone();
    let recorded = run_movement(
        &state.store,
        viewer,
        &form.form_key,
        &fingerprint,
        move |tx| Box::pin(async move { tx.reverse_allocation(&actor, command).await }),
        |outcome| {
            serde_urlencoded::to_string(ReversalRows::new(outcome, &reason)).unwrap_or_default()
        },
    )
    .await?;
    serde_urlencoded::from_str(&recorded).map_err(|error| {
        Failure::Page(PageError::internal(format!(
            "reading a recorded reversal: {error}"
        )))
    })
}
