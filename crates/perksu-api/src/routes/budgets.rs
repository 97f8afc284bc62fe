//! Fiscal budgets under `/api/budgets`: tenant managers create, change, activate and close
//! them and split them across departments and leads; leads may read them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perksu_store::{
    BudgetEventRow, BudgetPatch, BudgetRow, BudgetStatus, DepartmentShare, DepartmentShareRow,
    LeadAllocationRow, NewBudget,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery, Auth};
use crate::movement;
use crate::wire::{amount, optional_positive, parse_word, AmountField};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_budget, list_budgets))
        .routes(routes!(get_budget, update_budget))
        .routes(routes!(activate_budget))
        .routes(routes!(close_budget))
        .routes(routes!(list_department_shares))
        .routes(routes!(set_department_share))
        .routes(routes!(list_lead_allocations))
        .routes(routes!(set_lead_allocation))
        .routes(routes!(list_budget_events))
}

#[derive(Serialize, ToSchema)]
pub struct BudgetBody {
    id: String,
    tenant_id: String,
    name: String,
    fiscal_year: i64,
    fiscal_quarter: Option<i64>,
    total_points: String,
    /// What the department shares and lead allocations add up to.
    allocated_points: String,
    unallocated_points: String,
    /// What the shares and allocations have spent.
    spent_points: String,
    /// `draft`, `active` or `closed`.
    status: String,
    /// The last day (UTC) the budget is in force, `YYYY-MM-DD`.
    expiry_date: Option<String>,
    created_at: String,
    updated_at: String,
    activated_at: Option<String>,
    closed_at: Option<String>,
}

impl From<BudgetRow> for BudgetBody {
    fn from(b: BudgetRow) -> Self {
        BudgetBody {
            unallocated_points: amount(b.unallocated_points()),
            id: b.id,
            tenant_id: b.tenant_id,
            name: b.name,
            fiscal_year: b.fiscal_year,
            fiscal_quarter: b.fiscal_quarter,
            total_points: amount(b.total_points),
            allocated_points: amount(b.allocated_points),
            spent_points: amount(b.spent_points),
            status: b.status.as_str().to_owned(),
            expiry_date: b.expiry_date,
            created_at: b.created_at.to_string(),
            updated_at: b.updated_at.to_string(),
            activated_at: b.activated_at.map(|t| t.to_string()),
            closed_at: b.closed_at.map(|t| t.to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentShareBody {
    id: String,
    budget_id: String,
    department_id: String,
    department_name: String,
    allocated_points: String,
    spent_points: String,
    remaining_points: String,
    /// The most the department may spend per calendar month (UTC); null: no cap.
    monthly_cap: Option<String>,
    /// Spent in the current calendar month (UTC).
    spent_this_month: String,
}

impl From<DepartmentShareRow> for DepartmentShareBody {
    fn from(s: DepartmentShareRow) -> Self {
        DepartmentShareBody {
            remaining_points: amount(s.remaining_points()),
            id: s.id,
            budget_id: s.budget_id,
            department_id: s.department_id,
            department_name: s.department_name,
            allocated_points: amount(s.allocated_points),
            spent_points: amount(s.spent_points),
            monthly_cap: s.monthly_cap.map(amount),
            spent_this_month: amount(s.spent_this_month),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LeadAllocationBody {
    id: String,
    budget_id: String,
    lead_id: String,
    lead_name: String,
    allocated_points: String,
    spent_points: String,
    remaining_points: String,
}

impl From<LeadAllocationRow> for LeadAllocationBody {
    fn from(a: LeadAllocationRow) -> Self {
        LeadAllocationBody {
            remaining_points: amount(a.remaining_points()),
            id: a.id,
            budget_id: a.budget_id,
            lead_id: a.lead_id,
            lead_name: a.lead_name,
            allocated_points: amount(a.allocated_points),
            spent_points: amount(a.spent_points),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BudgetEventBody {
    id: String,
    budget_id: String,
    actor_id: String,
    actor_name: String,
    /// `created`, `updated`, `activated`, `closed`, `department_share_set` or
    /// `lead_allocation_set`.
    action: String,
    /// What changed, with the amounts, in words.
    detail: String,
    created_at: String,
}

impl From<BudgetEventRow> for BudgetEventBody {
    fn from(e: BudgetEventRow) -> Self {
        BudgetEventBody {
            id: e.id,
            budget_id: e.budget_id,
            actor_id: e.actor_id,
            actor_name: e.actor_name,
            action: e.action,
            detail: e.detail,
            created_at: e.created_at.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateBudgetRequest {
    /// 1 to 120 characters.
    name: String,
    /// 2000 to 2100.
    #[schema(minimum = 2000, maximum = 2100)]
    fiscal_year: i64,
    /// 1 to 4, or null for a whole year.
    #[schema(minimum = 1, maximum = 4)]
    fiscal_quarter: Option<i64>,
    /// Zero or more.
    total_points: AmountField,
    /// `YYYY-MM-DD`: the last day (UTC) the budget is in force; null: no end.
    expiry_date: Option<String>,
}

/// Create a draft budget (tenant manager).
#[utoipa::path(post, path = "/", tag = "Budgets", request_body = CreateBudgetRequest,
    responses((status = 201, body = BudgetBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
async fn create_budget(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(request): AppJson<CreateBudgetRequest>,
) -> ApiResult<(StatusCode, Json<BudgetBody>)> {
    let new = NewBudget {
        total_points: request.total_points.non_negative("total_points")?,
        name: request.name,
        fiscal_year: request.fiscal_year,
        fiscal_quarter: request.fiscal_quarter,
        expiry_date: request.expiry_date,
    };
    let actor = auth.actor.clone();
    let budget = movement::write(&state, move |tx| {
        Box::pin(async move { tx.create_budget(&actor, new).await })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(BudgetBody::from(budget))))
}

#[derive(Deserialize, IntoParams)]
pub struct BudgetsQuery {
    /// `draft`, `active` or `closed`.
    status: Option<String>,
}

/// The tenant's budgets, newest first (tenant manager or lead).
#[utoipa::path(get, path = "/", tag = "Budgets", params(BudgetsQuery),
    responses((status = 200, body = Vec<BudgetBody>), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
async fn list_budgets(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<BudgetsQuery>,
) -> ApiResult<Json<Vec<BudgetBody>>> {
    let status = query
        .status
        .as_deref()
        .map(|s| parse_word("status", s, BudgetStatus::parse, BudgetStatus::expected()))
        .transpose()?;
    let budgets = state.store.budgets(&auth.actor, status).await?;
    Ok(Json(budgets.into_iter().map(BudgetBody::from).collect()))
}

/// One budget (tenant manager or lead).
#[utoipa::path(get, path = "/{id}", tag = "Budgets", params(("id" = String, Path)),
    responses((status = 200, body = BudgetBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn get_budget(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<BudgetBody>> {
    let budget = state.store.budget(&auth.actor, &id).await?;
    Ok(Json(BudgetBody::from(budget)))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateBudgetRequest {
    name: Option<String>,
    #[schema(minimum = 2000, maximum = 2100)]
    fiscal_year: Option<i64>,
    /// Null makes it a whole-year budget.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 4)]
    fiscal_quarter: Option<Option<i64>>,
    /// Never below what is already split.
    total_points: Option<AmountField>,
    /// Null removes the expiry date.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    expiry_date: Option<Option<String>>,
}

/// Tells a field sent as null (`Some(None)`: clear it) from one left out (`None`: keep it).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Change a budget that is not closed (tenant manager).
#[utoipa::path(patch, path = "/{id}", tag = "Budgets", params(("id" = String, Path)),
    request_body = UpdateBudgetRequest,
    responses((status = 200, body = BudgetBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn update_budget(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    AppJson(request): AppJson<UpdateBudgetRequest>,
) -> ApiResult<Json<BudgetBody>> {
    let patch = BudgetPatch {
        total_points: request
            .total_points
            .as_ref()
            .map(|t| t.non_negative("total_points"))
            .transpose()?,
        name: request.name,
        fiscal_year: request.fiscal_year,
        fiscal_quarter: request.fiscal_quarter,
        expiry_date: request.expiry_date,
    };
    let actor = auth.actor.clone();
    let budget = movement::write(&state, move |tx| {
        Box::pin(async move { tx.update_budget(&actor, &id, patch).await })
    })
    .await?;
    Ok(Json(BudgetBody::from(budget)))
}

/// Activate a draft budget; a tenant has at most one active budget (tenant manager).
#[utoipa::path(post, path = "/{id}/activate", tag = "Budgets", params(("id" = String, Path)),
    responses((status = 200, body = BudgetBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn activate_budget(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<BudgetBody>> {
    let actor = auth.actor.clone();
    let budget = movement::write(&state, move |tx| {
        Box::pin(async move { tx.activate_budget(&actor, &id).await })
    })
    .await?;
    Ok(Json(BudgetBody::from(budget)))
}

/// Close a draft or active budget for good (tenant manager).
#[utoipa::path(post, path = "/{id}/close", tag = "Budgets", params(("id" = String, Path)),
    responses((status = 200, body = BudgetBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn close_budget(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<BudgetBody>> {
    let actor = auth.actor.clone();
    let budget = movement::write(&state, move |tx| {
        Box::pin(async move { tx.close_budget(&actor, &id).await })
    })
    .await?;
    Ok(Json(BudgetBody::from(budget)))
}

/// The budget's department shares, by department name (tenant manager or lead).
#[utoipa::path(get, path = "/{id}/departments", tag = "Budgets", params(("id" = String, Path)),
    responses((status = 200, body = Vec<DepartmentShareBody>), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn list_department_shares(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<DepartmentShareBody>>> {
    let shares = state.store.budget_departments(&auth.actor, &id).await?;
    Ok(Json(
        shares.into_iter().map(DepartmentShareBody::from).collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct SetDepartmentShareRequest {
    /// Zero or more; the shares and lead allocations together stay within the total.
    allocated_points: AmountField,
    /// Greater than zero; absent or null: no monthly cap.
    monthly_cap: Option<AmountField>,
}

/// Create or change a department's share of the budget (tenant manager).
#[utoipa::path(put, path = "/{id}/departments/{department_id}", tag = "Budgets",
    params(("id" = String, Path), ("department_id" = String, Path)),
    request_body = SetDepartmentShareRequest,
    responses((status = 200, body = DepartmentShareBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn set_department_share(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, department_id)): Path<(String, String)>,
    AppJson(request): AppJson<SetDepartmentShareRequest>,
) -> ApiResult<Json<DepartmentShareBody>> {
    let share = DepartmentShare {
        allocated_points: request.allocated_points.non_negative("allocated_points")?,
        monthly_cap: optional_positive("monthly_cap", &request.monthly_cap)?,
    };
    let actor = auth.actor.clone();
    let share = movement::write(&state, move |tx| {
        Box::pin(async move {
            tx.set_department_share(&actor, &id, &department_id, share)
                .await
        })
    })
    .await?;
    Ok(Json(DepartmentShareBody::from(share)))
}

/// The budget's lead allocations, by lead name (tenant manager or lead).
#[utoipa::path(get, path = "/{id}/leads", tag = "Budgets", params(("id" = String, Path)),
    responses((status = 200, body = Vec<LeadAllocationBody>), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn list_lead_allocations(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<LeadAllocationBody>>> {
    let allocations = state.store.budget_leads(&auth.actor, &id).await?;
    Ok(Json(
        allocations
            .into_iter()
            .map(LeadAllocationBody::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct SetLeadAllocationRequest {
    /// Zero or more; the shares and lead allocations together stay within the total.
    allocated_points: AmountField,
}

/// Create or change a lead's allocation within the budget (tenant manager).
#[utoipa::path(put, path = "/{id}/leads/{lead_id}", tag = "Budgets",
    params(("id" = String, Path), ("lead_id" = String, Path)),
    request_body = SetLeadAllocationRequest,
    responses((status = 200, body = LeadAllocationBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn set_lead_allocation(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lead_id)): Path<(String, String)>,
    AppJson(request): AppJson<SetLeadAllocationRequest>,
) -> ApiResult<Json<LeadAllocationBody>> {
    let allocated = request.allocated_points.non_negative("allocated_points")?;
    let actor = auth.actor.clone();
    let allocation = movement::write(&state, move |tx| {
        Box::pin(async move {
            tx.set_lead_allocation(&actor, &id, &lead_id, allocated)
                .await
        })
    })
    .await?;
    Ok(Json(LeadAllocationBody::from(allocation)))
}

/// Who changed what in the budget, newest first (tenant manager or lead).
#[utoipa::path(get, path = "/{id}/events", tag = "Budgets", params(("id" = String, Path)),
    responses((status = 200, body = Vec<BudgetEventBody>), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn list_budget_events(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<BudgetEventBody>>> {
    let events = state.store.budget_events(&auth.actor, &id).await?;
    Ok(Json(
        events.into_iter().map(BudgetEventBody::from).collect(),
    ))
}
