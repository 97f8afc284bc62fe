//! Departments under `/api/departments`. Users join one with `PATCH /api/users/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use perksu_domain::validate;
use perksu_store::DepartmentRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery, Auth};
use crate::movement;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_department, list_departments))
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentBody {
    id: String,
    tenant_id: String,
    name: String,
    member_count: i64,
    created_at: String,
}

impl From<DepartmentRow> for DepartmentBody {
    fn from(d: DepartmentRow) -> Self {
        DepartmentBody {
            id: d.id,
            tenant_id: d.tenant_id,
            name: d.name,
            member_count: d.member_count,
            created_at: d.created_at.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateDepartmentRequest {
    /// Required for platform admins; tenant managers may omit it.
    tenant_id: Option<String>,
    name: String,
}

/// Create a department (tenant manager, or platform admin naming the tenant).
#[utoipa::path(post, path = "/", tag = "Departments", request_body = CreateDepartmentRequest,
    responses((status = 201, body = DepartmentBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn create_department(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(request): AppJson<CreateDepartmentRequest>,
) -> ApiResult<(StatusCode, Json<DepartmentBody>)> {
    let name = validate::name("name", &request.name)?;
    let actor = auth.actor.clone();
    let tenant_id = request.tenant_id;
    let department = movement::write(&state, move |tx| {
        Box::pin(async move {
            tx.create_department(&actor, tenant_id.as_deref(), &name)
                .await
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(DepartmentBody::from(department))))
}

#[derive(Deserialize, IntoParams)]
pub struct DepartmentsQuery {
    /// Platform admins: one tenant's departments.
    tenant_id: Option<String>,
}

/// The caller's tenant's departments.
#[utoipa::path(get, path = "/", tag = "Departments", params(DepartmentsQuery),
    responses((status = 200, body = Vec<DepartmentBody>)))]
async fn list_departments(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<DepartmentsQuery>,
) -> ApiResult<Json<Vec<DepartmentBody>>> {
    let departments = state
        .store
        .departments(&auth.actor, query.tenant_id.as_deref())
        .await?;
    Ok(Json(
        departments.into_iter().map(DepartmentBody::from).collect(),
    ))
}
