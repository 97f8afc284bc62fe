//! A tenant's allocation history and billing log, filtered by date (and type), a page at a
//! time or as a CSV of every matching row.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_store::{AllocationLogRow, BillingLogRow, Page, TenantRow};

use crate::csv;
use crate::format::{points, when};
use crate::listing::{every_row, query, ListingQuery, Pager};
use crate::page::{pages, render, Chrome, Failure, PageError, Section};
use crate::session::{Admin, Viewer};
use crate::WebState;

/// The billing log's transaction types.
const BILLING_TYPES: &[&str] = &["CREDIT_INJECTION", "CLAWBACK", "ALLOCATION_REVERSAL"];

pub struct AllocationLine {
    pub id: String,
    /// Some of it can still be reversed: the row links to the reversal page.
    pub reversible: bool,
    pub when: String,
    pub amount: String,
    pub label: String,
    pub previous: String,
    pub new: String,
    pub note: String,
    pub status: &'static str,
}

impl AllocationLine {
    pub fn new(row: &AllocationLogRow, label: &str) -> AllocationLine {
        AllocationLine {
            id: row.id.clone(),
            reversible: !row.reversible_amount().is_zero(),
            when: when(&row.created_at),
            amount: points(row.amount),
            label: label.to_owned(),
            previous: points(row.previous_balance),
            new: points(row.new_balance),
            note: row.reference_note.clone().unwrap_or_default(),
            status: row.status().as_str(),
        }
    }
}

pub struct BillingLine {
    pub when: String,
    pub kind: String,
    pub amount: String,
    pub currency: String,
    pub note: String,
}

impl From<&BillingLogRow> for BillingLine {
    fn from(row: &BillingLogRow) -> BillingLine {
        BillingLine {
            when: when(&row.created_at),
            kind: row.transaction_type.clone(),
            amount: points(row.amount),
            currency: row.currency.clone(),
            note: row.reference_note.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/allocations.html")]
struct AllocationsPage {
    chrome: Chrome,
    tenant_id: String,
    tenant_name: String,
    filters: ListingQuery,
    error: Option<String>,
    rows: Vec<AllocationLine>,
    pager: Option<Pager>,
    csv_link: String,
}

#[derive(Template)]
#[template(path = "admin/billing.html")]
struct BillingPage {
    chrome: Chrome,
    tenant_id: String,
    tenant_name: String,
    filters: ListingQuery,
    types: &'static [&'static str],
    error: Option<String>,
    rows: Vec<BillingLine>,
    pager: Option<Pager>,
    csv_link: String,
}

pages!(AllocationsPage, BillingPage);

async fn tenant(
    state: &WebState,
    viewer: &Viewer,
    tenant_id: &str,
) -> Result<TenantRow, PageError> {
    state
        .store
        .tenant(&viewer.actor, tenant_id)
        .await
        .map_err(|error| PageError::from_store(error, viewer.chrome(Section::AdminTenants)))
}

/// A refusal to show above the table (bad filters), or an error page.
fn split<T>(result: Result<T, Failure>) -> Result<Result<T, (StatusCode, String)>, PageError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(Failure::Refused(refusal)) => Ok(Err((refusal.status, refusal.message))),
        Err(Failure::Page(error)) => Err(error),
    }
}

pub async fn allocations(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    Path(tenant_id): Path<String>,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let filters: ListingQuery = query(raw)?;
    let tenant = tenant(&state, &viewer, &tenant_id).await?;
    let path = format!("/admin/tenants/{}/allocations", tenant.id);
    let store = &state.store;
    let actor = &viewer.actor;
    let filter = filters.filter(Some(tenant.id.clone()), &[]);
    if filters.wants_csv() {
        if let Ok(filter) = filter.clone() {
            let rows = every_row(filter, |f| store.allocation_logs(actor, f))
                .await
                .map_err(|error| PageError::from_store(error, viewer.chrome(Section::None)))?;
            return Ok(csv::download(
                &format!("allocations-{}.csv", tenant.slug),
                allocations_csv(&rows),
            ));
        }
    }
    let listed: Result<Page<AllocationLogRow>, Failure> = match filter {
        Ok(filter) => store
            .allocation_logs(actor, filter)
            .await
            .map_err(Failure::from),
        Err(error) => Err(error.into()),
    };
    let (status, error, rows, pager) = match split(listed)? {
        Ok(page) => (
            StatusCode::OK,
            None,
            page.items
                .iter()
                .map(|row| AllocationLine::new(row, &tenant.currency_label))
                .collect(),
            Some(Pager::new(&page, &filters, &path)),
        ),
        Err((status, message)) => (status, Some(message), Vec::new(), None),
    };
    Ok(render(
        status,
        &AllocationsPage {
            chrome: viewer.chrome(Section::AdminTenants),
            csv_link: filters.csv_link(&path),
            tenant_id: tenant.id,
            tenant_name: tenant.name,
            filters,
            error,
            rows,
            pager,
        },
    ))
}

fn allocations_csv(rows: &[AllocationLogRow]) -> String {
    let mut body = csv::line(&[
        "id",
        "tenant_id",
        "allocated_by",
        "amount",
        "currency",
        "reference_note",
        "previous_balance",
        "new_balance",
        "created_at",
        "reversed_amount",
        "reversible_amount",
        "status",
    ]);
    for row in rows {
        body.push_str(&csv::line(&[
            &row.id,
            &row.tenant_id,
            &row.allocated_by,
            &row.amount.to_string(),
            &row.currency,
            row.reference_note.as_deref().unwrap_or_default(),
            &row.previous_balance.to_string(),
            &row.new_balance.to_string(),
            row.created_at.as_str(),
            &row.reversed_amount.to_string(),
            &row.reversible_amount().to_string(),
            row.status().as_str(),
        ]));
    }
    body
}

pub async fn billing(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    Path(tenant_id): Path<String>,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let filters: ListingQuery = query(raw)?;
    let tenant = tenant(&state, &viewer, &tenant_id).await?;
    let path = format!("/admin/tenants/{}/billing", tenant.id);
    let store = &state.store;
    let actor = &viewer.actor;
    let filter = filters.filter(Some(tenant.id.clone()), BILLING_TYPES);
    if filters.wants_csv() {
        if let Ok(filter) = filter.clone() {
            let rows = every_row(filter, |f| store.billing_logs(actor, f))
                .await
                .map_err(|error| PageError::from_store(error, viewer.chrome(Section::None)))?;
            return Ok(csv::download(
                &format!("billing-{}.csv", tenant.slug),
                billing_csv(&rows),
            ));
        }
    }
    let listed: Result<Page<BillingLogRow>, Failure> = match filter {
        Ok(filter) => store
            .billing_logs(actor, filter)
            .await
            .map_err(Failure::from),
        Err(error) => Err(error.into()),
    };
    let (status, error, rows, pager) = match split(listed)? {
        Ok(page) => (
            StatusCode::OK,
            None,
            page.items.iter().map(BillingLine::from).collect(),
            Some(Pager::new(&page, &filters, &path)),
        ),
        Err((status, message)) => (status, Some(message), Vec::new(), None),
    };
    Ok(render(
        status,
        &BillingPage {
            chrome: viewer.chrome(Section::AdminTenants),
            csv_link: filters.csv_link(&path),
            tenant_id: tenant.id,
            tenant_name: tenant.name,
            filters,
            types: BILLING_TYPES,
            error,
            rows,
            pager,
        },
    ))
}

fn billing_csv(rows: &[BillingLogRow]) -> String {
    let mut body = csv::line(&[
        "id",
        "tenant_id",
        "admin_id",
        "transaction_type",
        "amount",
        "currency",
        "reference_note",
        "created_at",
    ]);
    for row in rows {
        body.push_str(&csv::line(&[
            &row.id,
            &row.tenant_id,
            &row.admin_id,
            &row.transaction_type,
            &row.amount.to_string(),
            &row.currency,
            row.reference_note.as_deref().unwrap_or_default(),
            row.created_at.as_str(),
        ]));
    }
    body
}
