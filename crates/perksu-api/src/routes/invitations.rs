//! `POST /api/auth/set-password`: an invited user chooses a first password with the token
//! from their invitation mail. It answers 204 and opens no session: the user signs in next,
//! as on the set-password page, so every session starts at sign-in.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Extension;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::AppJson;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(set_password))
}

#[derive(Deserialize, ToSchema)]
pub struct SetPasswordRequest {
    /// The token of the link in the invitation mail.
    token: String,
    /// 8 to 256 characters.
    password: String,
}

/// Set the first password of an invited user with the token from their invitation mail.
#[utoipa::path(post, path = "/set-password", tag = "Auth", request_body = SetPasswordRequest,
    responses(
        (status = 204, description = "The password is set and the token used up; sign in next"),
        (status = 400, description = "The token is unknown, used or replaced \
            (`invitation_invalid`), past its expiry (`invitation_expired`), or the password \
            breaks the rules (`invalid_password`); nothing changed", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address; retry after \
            `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "Too many passwords being hashed at once; retry after \
            `Retry-After` seconds", body = ErrorBody)))]
async fn set_password(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    AppJson(request): AppJson<SetPasswordRequest>,
) -> ApiResult<StatusCode> {
    let address = peer.map(|Extension(ConnectInfo(peer))| peer.ip());
    state
        .store
        .accept_invitation(&request.token, &request.password, address)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
