//! Running a point-moving request: idempotency claim, the movement, and the stored response,
//! all in one transaction.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use perksu_domain::Error;
use perksu_store::{Claim, StoreResult, WriteTx};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Movement};
use crate::AppState;

/// Applies `operation` once per idempotency key. A replay answers with the first response and
/// the header `Idempotent-Replayed: true`; the same key with another request is a 409.
pub async fn run<B, T>(
    state: &AppState,
    auth: &Auth,
    request: &Movement<B>,
    status: StatusCode,
    operation: impl for<'t> FnOnce(&'t mut WriteTx) -> BoxFuture<'t, StoreResult<T>>,
) -> ApiResult<Response>
where
    T: Serialize,
{
    run_keeping(state, auth, request, status, operation)
        .await
        .map(|(response, _)| response)
}

/// Like [`run`], and also hands back the outcome when the operation ran (not on a replay),
/// for work that must follow the commit.
pub async fn run_keeping<B, T>(
    state: &AppState,
    auth: &Auth,
    request: &Movement<B>,
    status: StatusCode,
    operation: impl for<'t> FnOnce(&'t mut WriteTx) -> BoxFuture<'t, StoreResult<T>>,
) -> ApiResult<(Response, Option<T>)>
where
    T: Serialize,
{
    let mut tx = state.store.begin().await?;
    let user_id = auth.actor.user_id.as_str();
    if let Some(key) = request.idempotency_key.as_deref() {
        match tx
            .claim_idempotency_key(user_id, key, &request.request_hash)
            .await
        {
            Ok(Claim::Fresh) => {}
            Ok(Claim::Replay { status, body }) => {
                tx.rollback().await?;
                return Ok((replayed(status, body), None));
            }
            Ok(Claim::Mismatch) => {
                tx.rollback().await?;
                return Err(Error::conflict(
                    "idempotency_key_reused",
                    "This Idempotency-Key was already used for a different request",
                )
                .into());
            }
            Err(error) => {
                let _ = tx.rollback().await;
                return Err(error.into());
            }
        }
    }
    let outcome = match operation(&mut tx).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // Nothing the operation wrote survives, the idempotency claim included.
            let _ = tx.rollback().await;
            return Err(ApiError::from(error));
        }
    };
    let body = serde_json::to_string(&outcome)?;
    if let Some(key) = request.idempotency_key.as_deref() {
        tx.record_idempotent_response(user_id, key, status.as_u16(), &body)
            .await?;
    }
    tx.commit().await?;
    Ok((json_response(status, body), Some(outcome)))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn replayed(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = json_response(status, body);
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// Runs a write that is not a point movement (no idempotency) in its own transaction.
pub async fn write<T>(
    state: &AppState,
    operation: impl for<'t> FnOnce(&'t mut WriteTx) -> BoxFuture<'t, StoreResult<T>>,
) -> ApiResult<T> {
    let mut tx = state.store.begin().await?;
    match operation(&mut tx).await {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            let _ = tx.rollback().await;
            Err(error.into())
        }
    }
}
