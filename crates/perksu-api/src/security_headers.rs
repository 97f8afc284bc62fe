//! Headers every response carries, whatever answered it: the JSON API, the assets, a 404.
//!
//! The web pages set a fuller Content-Security-Policy of their own (`perksu-web`'s
//! `page_headers`: scripts and styles from our own origin only, no inline script); every other
//! response gets one that allows nothing, since no browser should render it as a document.

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;

const EVERY_RESPONSE: [(HeaderName, &str); 4] = [
    // Load nothing, be framed by nobody.
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Adds each header the response does not already have.
pub async fn add(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in EVERY_RESPONSE {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
