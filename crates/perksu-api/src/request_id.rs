//! Every request has an id: the client's `X-Request-Id` when it sent a sensible one, else a new
//! UUID. The id is on the request's tracing span (so on every log line the request causes), in
//! the response's `X-Request-Id`, and in the body of a 5xx, so the person who saw the failure
//! can quote it and an operator can find its log lines.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longer ids, or ids with other characters, are replaced: they would only bloat or garble
/// the logs.
const MAX_CLIENT_ID: usize = 128;

/// A 5xx body larger than this is left as it is (ours are a few dozen bytes).
const MAX_ERROR_BODY: usize = 16 * 1024;

/// The request's id, as the span and the response carry it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_CLIENT_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Assigns the id before anything else runs, and writes it into the response.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable(id))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    request.headers_mut().insert(HEADER.clone(), value.clone());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    response.headers_mut().insert(HEADER.clone(), value);
    if response.status().is_server_error() {
        response = with_id_in_body(response, &id).await;
    }
    response
}

/// The id of a request that went through [`assign`], for the tracing span.
pub fn of(request: &Request) -> &str {
    request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.as_str())
        .unwrap_or("-")
}

/// Adds `request_id` to a JSON error body.
async fn with_id_in_body(response: Response, id: &str) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let mut json = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(json)) => json,
        _ => return Response::from_parts(parts, Body::from(bytes)),
    };
    json.insert("request_id".into(), Value::String(id.to_owned()));
    let Ok(bytes) = serde_json::to_vec(&json) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn a_client_id_is_kept_only_when_short_and_plain() {
        assert!(acceptable("3f2a-req_1.retry:2"));
        assert!(!acceptable(""));
        assert!(!acceptable("with space"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable(&"x".repeat(129)));
    }
}
