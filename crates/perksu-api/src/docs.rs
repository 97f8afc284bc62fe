//! `/api/docs`: Swagger UI over `/api/openapi.json`, its files built into the binary (no CDN).
//!
//! Its page loads scripts and styles from its own folder only, so it gets a policy of its own:
//! the one every other API answer gets (`default-src 'none'`) would leave it blank. Swagger UI
//! sets `style` attributes from its script, so inline styles are allowed on this page alone;
//! scripts still come from its own files only.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;
use utoipa_swagger_ui::{Config, SwaggerUi};

const POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'none'";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let ui = SwaggerUi::new("/api/docs").config(Config::new(["/api/openapi.json"]));
    Router::from(ui).layer(axum::middleware::map_response(policy))
}

async fn policy(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    response
}
