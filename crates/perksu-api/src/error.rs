//! `ApiError`: the one error type of the HTTP layer, and the JSON body every error becomes.
//!
//! Architecture invariant: a 5xx never carries its cause to the client; it is logged once,
//! here, with the request's context added by the trace layer.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use perksu_domain::{Error, ErrorKind};
use perksu_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub detail: String,
    /// A stable word for programs, e.g. `insufficient_allocation_pool`.
    pub code: String,
    /// On a 5xx only: the request's id (its `X-Request-Id`), to quote when reporting it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug)]
pub enum ApiError {
    /// A refusal the client can act on.
    Refused(Error),
    /// A request the HTTP layer itself rejects (bad JSON, oversized body...).
    Request {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    /// Anything else: logged, answered with a bare 500.
    Internal(String),
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::Request {
            status: StatusCode::BAD_REQUEST,
            code,
            detail: detail.into(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        ApiError::Refused(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        if let Some(refusal) = error.as_refusal() {
            return ApiError::Refused(refusal);
        }
        match error {
            StoreError::Domain(refusal) => ApiError::Refused(refusal),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> ApiError {
        ApiError::Internal(format!("serialising a response: {error}"))
    }
}

fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
    }
}

pub fn error_response(status: StatusCode, code: &str, detail: String) -> Response {
    let body = ErrorBody {
        detail,
        code: code.to_owned(),
        request_id: None,
    };
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Refused(error) => {
                let mut response = error_response(status_of(error.kind), error.code, error.detail);
                if let ErrorKind::TooManyRequests {
                    retry_after_seconds,
                } = error.kind
                {
                    response.headers_mut().insert(
                        axum::http::header::RETRY_AFTER,
                        axum::http::HeaderValue::from(retry_after_seconds),
                    );
                }
                response
            }
            ApiError::Request {
                status,
                code,
                detail,
            } => error_response(status, code, detail),
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "The server could not complete the request".to_owned(),
                )
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
