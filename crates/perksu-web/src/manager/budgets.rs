//! Fiscal budgets: the list with a form for a new one, and one budget with its lifecycle
//! (activate, close for good), its department split and its lead allocations.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::{Error, Role};
use perksu_store::{BudgetRow, BudgetStatus, DepartmentShare, NewBudget};
use serde::Deserialize;

use crate::format::{points, when};
use crate::forms::{
    non_negative_amount, optional_positive_amount, optional_whole_number, run_write, whole_number,
    CsrfForm,
};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{Manager, Viewer};
use crate::WebState;

const LIST: &str = "/manager/budgets";

struct BudgetLine {
    id: String,
    name: String,
    period: String,
    total: String,
    allocated: String,
    unallocated: String,
    spent: String,
    status: &'static str,
    expiry: String,
}

impl From<&BudgetRow> for BudgetLine {
    fn from(budget: &BudgetRow) -> BudgetLine {
        BudgetLine {
            id: budget.id.clone(),
            name: budget.name.clone(),
            period: match budget.fiscal_quarter {
                Some(quarter) => format!("FY{} Q{quarter}", budget.fiscal_year),
                None => format!("FY{}", budget.fiscal_year),
            },
            total: points(budget.total_points),
            allocated: points(budget.allocated_points),
            unallocated: points(budget.unallocated_points()),
            spent: points(budget.spent_points),
            status: budget.status.as_str(),
            expiry: budget.expiry_date.clone().unwrap_or_default(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewBudgetFields {
    name: String,
    fiscal_year: String,
    fiscal_quarter: String,
    total_points: String,
    expiry_date: String,
}

#[derive(Template)]
#[template(path = "manager/budgets.html")]
struct BudgetsPage {
    chrome: Chrome,
    budgets: Vec<BudgetLine>,
    form: NewBudgetFields,
    error: Option<String>,
}

struct Choice {
    value: String,
    label: String,
}

struct ShareLine {
    department: String,
    allocated: String,
    spent: String,
    remaining: String,
    monthly_cap: String,
    spent_this_month: String,
}

struct LeadLine {
    lead: String,
    allocated: String,
    spent: String,
    remaining: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShareFields {
    department_id: String,
    allocated_points: String,
    monthly_cap: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LeadFields {
    lead_id: String,
    allocated_points: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LifecycleFields {
    confirm: Option<String>,
}

#[derive(Template)]
#[template(path = "manager/budget.html")]
struct BudgetPage {
    chrome: Chrome,
    budget: BudgetLine,
    closed: bool,
    draft: bool,
    activated: String,
    lifecycle_error: Option<String>,
    shares: Vec<ShareLine>,
    departments: Vec<Choice>,
    share: ShareFields,
    share_error: Option<String>,
    leads: Vec<LeadLine>,
    lead_choices: Vec<Choice>,
    lead: LeadFields,
    lead_error: Option<String>,
}

pages!(BudgetsPage, BudgetPage);

fn chrome(viewer: &Viewer) -> Chrome {
    viewer.chrome(Section::ManagerBudgets)
}

async fn budgets_page(
    state: &WebState,
    viewer: &Viewer,
    form: NewBudgetFields,
    error: Option<String>,
) -> Result<BudgetsPage, PageError> {
    let budgets = state
        .store
        .budgets(&viewer.actor, None)
        .await
        .map_err(|e| PageError::from_store(e, chrome(viewer)))?;
    Ok(BudgetsPage {
        chrome: chrome(viewer),
        budgets: budgets.iter().map(BudgetLine::from).collect(),
        form,
        error,
    })
}

pub async fn list(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let year = state
        .store
        .now()
        .as_str()
        .get(..4)
        .unwrap_or_default()
        .to_owned();
    let form = NewBudgetFields {
        fiscal_year: year,
        ..NewBudgetFields::default()
    };
    Ok(render(
        StatusCode::OK,
        &budgets_page(&state, &viewer, form, None).await?,
    ))
}

pub async fn create(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    CsrfForm(form): CsrfForm<NewBudgetFields>,
) -> Result<Response, PageError> {
    match create_budget(&state, &viewer, &form).await {
        Ok(budget) => Ok(redirect_with_flash(
            &format!("{LIST}/{}", budget.id),
            &format!(
                "Created the draft budget {}. Split it between departments and leads, then \
                 activate it.",
                budget.name
            ),
        )),
        Err(Failure::Refused(refusal)) => {
            let page = budgets_page(&state, &viewer, form, Some(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn create_budget(
    state: &WebState,
    viewer: &Viewer,
    form: &NewBudgetFields,
) -> Result<BudgetRow, Failure> {
    let expiry = form.expiry_date.trim();
    let new = NewBudget {
        name: form.name.clone(),
        fiscal_year: whole_number("Fiscal year", &form.fiscal_year)?,
        fiscal_quarter: optional_whole_number("Quarter", &form.fiscal_quarter)?,
        total_points: non_negative_amount("Total", &form.total_points)?,
        expiry_date: (!expiry.is_empty()).then(|| expiry.to_owned()),
    };
    let actor = viewer.actor.clone();
    run_write(&state.store, move |tx| {
        Box::pin(async move { tx.create_budget(&actor, new).await })
    })
    .await
}

/// The forms of a budget's page, fresh or as sent with a refusal beside one of them.
#[derive(Default)]
struct Forms {
    lifecycle_error: Option<String>,
    share: ShareFields,
    share_error: Option<String>,
    lead: LeadFields,
    lead_error: Option<String>,
}

async fn budget_page(
    state: &WebState,
    viewer: &Viewer,
    budget_id: &str,
    forms: Forms,
) -> Result<BudgetPage, PageError> {
    let store = &state.store;
    let actor = &viewer.actor;
    let fail = |e| PageError::from_store(e, chrome(viewer));
    let budget = store.budget(actor, budget_id).await.map_err(fail)?;
    let shares = store
        .budget_departments(actor, budget_id)
        .await
        .map_err(fail)?;
    let leads = store.budget_leads(actor, budget_id).await.map_err(fail)?;
    let departments = store.departments(actor, None).await.map_err(fail)?;
    let users = store.users(actor, None).await.map_err(fail)?;
    Ok(BudgetPage {
        chrome: chrome(viewer),
        closed: budget.status == BudgetStatus::Closed,
        draft: budget.status == BudgetStatus::Draft,
        activated: budget.activated_at.as_ref().map(when).unwrap_or_default(),
        budget: BudgetLine::from(&budget),
        lifecycle_error: forms.lifecycle_error,
        shares: shares
            .iter()
            .map(|share| ShareLine {
                department: share.department_name.clone(),
                allocated: points(share.allocated_points),
                spent: points(share.spent_points),
                remaining: points(share.remaining_points()),
                monthly_cap: share.monthly_cap.map(points).unwrap_or_default(),
                spent_this_month: points(share.spent_this_month),
            })
            .collect(),
        departments: departments
            .into_iter()
            .map(|d| Choice {
                value: d.id,
                label: d.name,
            })
            .collect(),
        share: forms.share,
        share_error: forms.share_error,
        leads: leads
            .iter()
            .map(|lead| LeadLine {
                lead: lead.lead_name.clone(),
                allocated: points(lead.allocated_points),
                spent: points(lead.spent_points),
                remaining: points(lead.remaining_points()),
            })
            .collect(),
        lead_choices: users
            .into_iter()
            .filter(|user| user.role == Role::Lead)
            .map(|user| Choice {
                value: user.id,
                label: format!("{} {}", user.first_name, user.last_name),
            })
            .collect(),
        lead: forms.lead,
        lead_error: forms.lead_error,
    })
}

pub async fn show(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(budget_id): Path<String>,
) -> Result<Response, PageError> {
    Ok(render(
        StatusCode::OK,
        &budget_page(&state, &viewer, &budget_id, Forms::default()).await?,
    ))
}

/// The budget's page again after a post: with the flash, or the refusal beside its form.
async fn after(
    state: &WebState,
    viewer: &Viewer,
    budget_id: &str,
    result: Result<String, Failure>,
    place: impl FnOnce(String) -> Forms,
) -> Result<Response, PageError> {
    match result {
        Ok(message) => Ok(redirect_with_flash(
            &format!("{LIST}/{budget_id}"),
            &message,
        )),
        Err(Failure::Refused(refusal)) => {
            let page = budget_page(state, viewer, budget_id, place(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

/// A budget id from the path that is safe to put back into a redirect.
async fn known_budget(
    state: &WebState,
    viewer: &Viewer,
    budget_id: &str,
) -> Result<String, PageError> {
    state
        .store
        .budget(&viewer.actor, budget_id)
        .await
        .map(|budget| budget.id)
        .map_err(|e| PageError::from_store(e, chrome(viewer)))
}

pub async fn activate(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(budget_id): Path<String>,
    CsrfForm(_): CsrfForm<LifecycleFields>,
) -> Result<Response, PageError> {
    let budget_id = known_budget(&state, &viewer, &budget_id).await?;
    let actor = viewer.actor.clone();
    let id = budget_id.clone();
    let result = run_write(&state.store, move |tx| {
        Box::pin(async move { tx.activate_budget(&actor, &id).await })
    })
    .await
    .map(|budget| format!("{} is active: it now funds and limits awards.", budget.name));
    after(&state, &viewer, &budget_id, result, |message| Forms {
        lifecycle_error: Some(message),
        ..Forms::default()
    })
    .await
}

pub async fn close(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(budget_id): Path<String>,
    CsrfForm(form): CsrfForm<LifecycleFields>,
) -> Result<Response, PageError> {
    let budget_id = known_budget(&state, &viewer, &budget_id).await?;
    let result = if form.confirm.is_none() {
        Err(Error::invalid(
            "confirmation_required",
            "Tick the confirmation box to close the budget. Nothing was changed.",
        )
        .into())
    } else {
        let actor = viewer.actor.clone();
        let id = budget_id.clone();
        run_write(&state.store, move |tx| {
            Box::pin(async move { tx.close_budget(&actor, &id).await })
        })
        .await
        .map(|budget| format!("{} is closed for good.", budget.name))
    };
    after(&state, &viewer, &budget_id, result, |message| Forms {
        lifecycle_error: Some(message),
        ..Forms::default()
    })
    .await
}

pub async fn set_share(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(budget_id): Path<String>,
    CsrfForm(form): CsrfForm<ShareFields>,
) -> Result<Response, PageError> {
    let budget_id = known_budget(&state, &viewer, &budget_id).await?;
    let result = async {
        if form.department_id.trim().is_empty() {
            return Err(Error::invalid("invalid_field", "Choose a department").into());
        }
        let share = DepartmentShare {
            allocated_points: non_negative_amount("Share", &form.allocated_points)?,
            monthly_cap: optional_positive_amount("Monthly cap", &form.monthly_cap)?,
        };
        let actor = viewer.actor.clone();
        let id = budget_id.clone();
        let department_id = form.department_id.trim().to_owned();
        run_write(&state.store, move |tx| {
            Box::pin(async move {
                tx.set_department_share(&actor, &id, &department_id, share)
                    .await
            })
        })
        .await
        .map(|row| {
            format!(
                "{} now has {} of this budget.",
                row.department_name,
                points(row.allocated_points)
            )
        })
    }
    .await;
    after(&state, &viewer, &budget_id, result, |message| Forms {
        share: form,
        share_error: Some(message),
        ..Forms::default()
    })
    .await
}

pub async fn set_lead(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(budget_id): Path<String>,
    CsrfForm(form): CsrfForm<LeadFields>,
) -> Result<Response, PageError> {
    let budget_id = known_budget(&state, &viewer, &budget_id).await?;
    let result = async {
        if form.lead_id.trim().is_empty() {
            return Err(Error::invalid("invalid_field", "Choose a lead").into());
        }
        let allocated = non_negative_amount("Allocation", &form.allocated_points)?;
        let actor = viewer.actor.clone();
        let id = budget_id.clone();
        let lead_id = form.lead_id.trim().to_owned();
        run_write(&state.store, move |tx| {
            Box::pin(async move {
                tx.set_lead_allocation(&actor, &id, &lead_id, allocated)
                    .await
            })
        })
        .await
        .map(|row| {
            format!(
                "{} now has {} of this budget.",
                row.lead_name,
                points(row.allocated_points)
            )
        })
    }
    .await;
    after(&state, &viewer, &budget_id, result, |message| Forms {
        lead: form,
        lead_error: Some(message),
        ..Forms::default()
    })
    .await
}
