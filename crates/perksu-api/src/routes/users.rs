//! Users under `/api/users`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perksu_domain::{validate, Error, Role, UserStatus};
use perksu_store::{NewUser, UserPatch, UserRow};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery, Auth};
use crate::movement;
use crate::wire::{amount, parse_word};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, update_user))
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    id: String,
    tenant_id: Option<String>,
    email: String,
    first_name: String,
    last_name: String,
    /// `platform_admin`, `tenant_manager`, `lead` or `employee`.
    role: String,
    /// `active` or `inactive`.
    status: String,
    department_id: Option<String>,
    manager_id: Option<String>,
    lead_distribution_balance: String,
    created_at: String,
    updated_at: String,
}

impl From<UserRow> for UserBody {
    fn from(u: UserRow) -> Self {
        UserBody {
            id: u.id,
            tenant_id: u.tenant_id,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            role: u.role.as_str().to_owned(),
            status: u.status.as_str().to_owned(),
            department_id: u.department_id,
            manager_id: u.manager_id,
            lead_distribution_balance: amount(u.lead_distribution_balance),
            created_at: u.created_at.to_string(),
            updated_at: u.updated_at.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateUserRequest {
    /// Required for platform admins; tenant managers may omit it.
    tenant_id: Option<String>,
    email: String,
    password: String,
    first_name: String,
    last_name: String,
    /// `tenant_manager`, `lead` or `employee`.
    role: String,
    department_id: Option<String>,
    manager_id: Option<String>,
}

/// Create a tenant user with a wallet: a platform admin for any tenant, a tenant manager for
/// their own.
#[utoipa::path(post, path = "/", tag = "Users", request_body = CreateUserRequest,
    responses((status = 201, body = UserBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(request): AppJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<UserBody>)> {
    // Refuse early: hashing a password is deliberately expensive.
    if !matches!(auth.actor.role, Role::PlatformAdmin | Role::TenantManager) {
        return Err(
            Error::forbidden("Only a platform admin or a tenant manager may create users").into(),
        );
    }
    let role = parse_word("role", &request.role, Role::parse, Role::expected())?;
    validate::password(&request.password)?;
    let new = NewUser {
        tenant_id: request.tenant_id,
        email: validate::email(&request.email)?,
        password_hash: state.store.hash_password(&request.password).await?,
        first_name: validate::name("first_name", &request.first_name)?,
        last_name: validate::name("last_name", &request.last_name)?,
        role,
        department_id: request.department_id,
        manager_id: request.manager_id,
    };
    let actor = auth.actor.clone();
    let user = movement::write(&state, move |tx| {
        Box::pin(async move { tx.create_user(&actor, new).await })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(UserBody::from(user))))
}

#[derive(Deserialize, IntoParams)]
pub struct UsersQuery {
    /// Platform admins: one tenant's users.
    tenant_id: Option<String>,
}

/// The users of the caller's tenant (platform admins: all, or `tenant_id`'s).
#[utoipa::path(get, path = "/", tag = "Users", params(UsersQuery),
    responses((status = 200, body = Vec<UserBody>)))]
async fn list_users(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<UsersQuery>,
) -> ApiResult<Json<Vec<UserBody>>> {
    let users = state
        .store
        .users(&auth.actor, query.tenant_id.as_deref())
        .await?;
    Ok(Json(users.into_iter().map(UserBody::from).collect()))
}

/// One user of the caller's tenant.
#[utoipa::path(get, path = "/{id}", tag = "Users", params(("id" = String, Path)),
    responses((status = 200, body = UserBody), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<UserBody>> {
    Ok(Json(UserBody::from(
        state.store.user(&auth.actor, &id).await?,
    )))
}

/// `null` clears a link, absence leaves it: the two must be told apart.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    first_name: Option<String>,
    last_name: Option<String>,
    role: Option<String>,
    status: Option<String>,
    /// A department id, or `null` to remove the user from their department.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    department_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    manager_id: Option<Option<String>>,
}

/// Change a user's name, role, status, department or manager (tenant manager or platform admin).
#[utoipa::path(patch, path = "/{id}", tag = "Users", params(("id" = String, Path)),
    request_body = UpdateUserRequest,
    responses((status = 200, body = UserBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    AppJson(request): AppJson<UpdateUserRequest>,
) -> ApiResult<Json<UserBody>> {
    let patch = UserPatch {
        first_name: request
            .first_name
            .as_deref()
            .map(|n| validate::name("first_name", n))
            .transpose()?,
        last_name: request
            .last_name
            .as_deref()
            .map(|n| validate::name("last_name", n))
            .transpose()?,
        role: request
            .role
            .as_deref()
            .map(|r| parse_word("role", r, Role::parse, Role::expected()))
            .transpose()?,
        status: request
            .status
            .as_deref()
            .map(|s| parse_word("status", s, UserStatus::parse, UserStatus::expected()))
            .transpose()?,
        department_id: request.department_id,
        manager_id: request.manager_id,
    };
    let actor = auth.actor.clone();
    let user = movement::write(&state, move |tx| {
        Box::pin(async move { tx.update_user(&actor, &id, patch).await })
    })
    .await?;
    Ok(Json(UserBody::from(user)))
}
