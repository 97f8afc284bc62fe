//! Extractors: the caller's identity, and JSON and CSV bodies that fail with our error format.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use perksu_domain::access::Actor;
use perksu_domain::Error;
use perksu_store::UserRow;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::AppState;

/// The authenticated caller, from `Authorization: Bearer <token>`.
pub struct Auth {
    pub actor: Actor,
    pub user: UserRow,
    pub token: String,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        let token = bearer_token(parts).ok_or_else(Error::unauthenticated)?;
        let user = state
            .store
            .authenticate(&token)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        Ok(Auth {
            actor: user.actor(),
            user,
            token,
        })
    }
}

fn bearer_token(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// A JSON body parsed into `T`; any failure is a 4xx in our error format. An empty body is
/// read as `{}`, so requests whose fields are all optional need not send one.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<AppJson<T>, ApiError> {
        let body = read_body(request, state).await?;
        parse_json(&body).map(AppJson)
    }
}

/// A point-moving request: its JSON body, plus what idempotency needs (the key, if sent, and
/// a fingerprint of the request it guards).
pub struct Movement<T> {
    pub body: T,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Movement<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Movement<T>, ApiError> {
        let idempotency_key = match request.headers().get("idempotency-key") {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| {
                        ApiError::bad_request(
                            "invalid_idempotency_key",
                            "Idempotency-Key must be visible ASCII text",
                        )
                    })?
                    .to_owned(),
            ),
        };
        let fingerprint = format!("{} {}\n", request.method(), request.uri().path());
        let body = read_body(request, state).await?;
        let mut hasher = Sha256::new();
        hasher.update(fingerprint.as_bytes());
        hasher.update(&body);
        Ok(Movement {
            body: parse_json(&body)?,
            idempotency_key,
            request_hash: hex::encode(hasher.finalize()),
        })
    }
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::Request {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "payload_too_large",
                detail: format!(
                    "The request body is larger than the limit of {} bytes",
                    crate::MAX_BODY_BYTES
                ),
            },
            _ if body_timed_out(&rejection) => ApiError::Request {
                status: StatusCode::REQUEST_TIMEOUT,
                code: "body_timeout",
                detail: format!(
                    "The request body did not arrive within {} seconds",
                    crate::BODY_READ_TIMEOUT.as_secs()
                ),
            },
            status => ApiError::Request {
                status,
                code: "invalid_body",
                detail: rejection.body_text(),
            },
        })
}

/// Whether reading the body failed because the client paused past [`crate::BODY_READ_TIMEOUT`].
fn body_timed_out(rejection: &axum::extract::rejection::BytesRejection) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = cause {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    // Syntax first, so that a malformed body is `invalid_json` even when a field error comes
    // earlier in it (`{"a": 1} trailing` would otherwise be "missing field").
    serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|error| {
        ApiError::bad_request("invalid_json", format!("Invalid request body: {error}"))
    })?;
    let parsed = serde_json::from_slice(body).map_err(|error| {
        let code = if error.is_data() {
            "invalid_field"
        } else {
            "invalid_json"
        };
        ApiError::bad_request(code, format!("Invalid request body: {error}"))
    })?;
    if has_escaped_nul(body) {
        return Err(ApiError::bad_request(
            "invalid_field",
            "Invalid request body: text must not contain NUL characters (\\u0000)",
        ));
    }
    Ok(parsed)
}

/// Whether a valid JSON text has a NUL character (`\u0000`) in a string. No field accepts
/// one, and PostgreSQL cannot store it.
fn has_escaped_nul(body: &[u8]) -> bool {
    let mut in_string = false;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => in_string = !in_string,
            b'\\' if in_string => {
                if body[i + 1..].starts_with(b"u0000") {
                    return true;
                }
                // Skip the escaped character, which may be a quote.
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// The largest CSV body accepted (`POST /api/users/import`): about 40,000 rows of typical
/// names and emails. The route sets this limit; every other keeps the app-wide one.
pub const MAX_CSV_BODY_BYTES: usize = 4 * 1024 * 1024;

/// A raw `text/csv` body. Any other `Content-Type` is a 415 before the body is read.
pub struct CsvBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<CsvBody, ApiError> {
        let is_csv = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/csv"));
        if !is_csv {
            return Err(ApiError::Request {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                detail: "The body must be a CSV file sent as Content-Type: text/csv".to_owned(),
            });
        }
        match read_body(request, state).await {
            Ok(body) => Ok(CsvBody(body)),
            Err(ApiError::Request {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code,
                ..
            }) => Err(ApiError::Request {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code,
                detail: format!(
                    "The file is larger than the limit of {} bytes (4 MiB): split it",
                    MAX_CSV_BODY_BYTES
                ),
            }),
            Err(other) => Err(other),
        }
    }
}

/// Query-string parameters parsed into `T`, failing with our error format.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<AppQuery<T>, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|query| AppQuery(query.0))
            .map_err(|rejection| ApiError::bad_request("invalid_query", rejection.body_text()))
    }
}
