//! The stylesheet and the script, compiled into the binary and served under `/assets/`.
//!
//! Pages link them with a `?v=` of their content's hash, so a browser may keep them for a year
//! and still never run an old copy after an upgrade.

use std::sync::LazyLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use crate::WebState;

const STYLESHEET: &str = include_str!("../assets/app.css");
const SCRIPT: &str = include_str!("../assets/app.js");

/// The first 12 hex digits of the SHA-256 of both assets.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hasher = Sha256::new();
    hasher.update(STYLESHEET.as_bytes());
    hasher.update(SCRIPT.as_bytes());
    hex::encode(hasher.finalize())[..12].to_owned()
});

/// The version pages put in asset links.
pub fn version() -> &'static str {
    VERSION.as_str()
}

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/assets/app.css", get(stylesheet))
        .route("/assets/app.js", get(script))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}
