//! Login, logout and "who am I" under `/api/auth`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Extension;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, Auth};
use crate::routes::users::UserBody;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    access_token: String,
    /// Always `bearer`.
    token_type: &'static str,
    expires_at: String,
    user: UserBody,
}

/// Exchange an email and password for a bearer token.
#[utoipa::path(post, path = "/login", tag = "Auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
        (status = 429, description = "Too many sign-in attempts for this account or address; \
            retry after `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "Too many sign-ins at once; retry after `Retry-After` seconds", body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    AppJson(request): AppJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let address = peer.map(|Extension(ConnectInfo(peer))| peer.ip());
    let login = state
        .store
        .login(&request.email, &request.password, address)
        .await?;
    Ok(Json(LoginResponse {
        access_token: login.access_token,
        token_type: "bearer",
        expires_at: login.expires_at.to_string(),
        user: UserBody::from(login.user),
    }))
}

/// Revoke the token this request carries.
#[utoipa::path(post, path = "/logout", tag = "Auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, auth: Auth) -> ApiResult<StatusCode> {
    state.store.logout(&auth.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller.
#[utoipa::path(get, path = "/me", tag = "Auth",
    responses((status = 200, body = UserBody), (status = 401, body = ErrorBody)))]
async fn me(auth: Auth) -> Json<UserBody> {
    Json(UserBody::from(auth.user))
}
