//! The HTTP layer: the JSON API, its OpenAPI document, and the middleware around them.
//!
//! Architecture invariant: handlers are thin. They authenticate, turn the body into a domain
//! command (parsing amounts once, here), make one store call, and shape the response. No SQL,
//! and no rule about points, lives in this crate.

mod docs;
pub mod email;
mod error;
mod expiry_job;
mod extract;
pub mod fulfilment;
pub mod metrics;
mod movement;
mod openapi;
mod request_id;
mod routes;
mod security_headers;
pub mod webhooks;
mod wire;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use perksu_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, ErrorBody};

/// The largest request body accepted; larger ones get a 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The shared secret fulfilment providers sign their callbacks with (HMAC-SHA256).
    pub callback_secret: Arc<Vec<u8>>,
    /// How to send email; `None` leaves the notification outbox pending.
    pub email: Option<email::EmailSettings>,
}

impl AppState {
    pub fn new(store: Store, callback_secret: Vec<u8>) -> AppState {
        AppState {
            store,
            callback_secret: Arc::new(callback_secret),
            email: None,
        }
    }

    /// The same state, sending email with `settings`.
    pub fn with_email(mut self, settings: Option<email::EmailSettings>) -> AppState {
        self.email = settings;
        self
    }
}

/// Starts the jobs `serve` runs beside the API: the redemption timeout sweep, once a minute,
/// the alert webhook delivery worker (see [`webhooks`]), the email worker (see [`email`]) when
/// SMTP is configured, and the hourly expiry run.
pub fn spawn_background_jobs(state: &AppState) -> tokio::task::JoinHandle<()> {
    let store = state.store.clone();
    let webhook_worker = webhooks::spawn_delivery_worker(state.store.clone());
    let expiry_job = expiry_job::spawn(state.store.clone());
    let email_worker = email::spawn_worker(state.store.clone(), state.email.clone());
    tokio::spawn(async move {
        let _email_worker = email_worker;
        // Aborting the jobs stops the webhook worker and the expiry job with them.
        let _webhook_worker = webhook_worker;
        let _expiry_job = expiry_job;
        let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            match store.expire_overdue_redemptions().await {
                Ok(0) => {}
                Ok(expired) => tracing::info!(expired, "expired overdue redemptions"),
                Err(error) => tracing::error!(%error, "redemption timeout sweep failed"),
            }
        }
    })
}

/// The API's routes and their OpenAPI document.
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(routes::health::router())
        .nest("/api/auth", routes::auth::router())
        .nest("/api/auth", routes::invitations::router())
        .nest("/api/tenants", routes::tenants::router())
        .nest("/api/tenants", routes::funding_mode::router())
        .nest("/api/users", routes::users::router())
        .nest("/api/users", routes::user_import::router())
        .nest("/api/departments", routes::departments::router())
        .nest("/api/budgets", routes::budgets::router())
        .nest("/api/recognitions", routes::recognitions::router())
        .nest("/api/recognitions", routes::recognition_social::router())
        .nest("/api/badges", routes::badges::router())
        .nest("/api/feed", routes::feed::router())
        .nest("/api/wallets", routes::wallets::router())
        .nest("/api/rewards", routes::rewards::router())
        .nest("/api/redemptions", routes::redemptions::router())
        .nest("/api/notifications", routes::notifications::router())
        .nest("/api/security-events", routes::security_events::router())
        .nest("/api/email-deliveries", routes::email_deliveries::router())
        .nest("/api/v1/points", routes::points::router())
        .nest("/api/v1/points", routes::audit::router())
        .nest("/api/v1/points", routes::alerts::router())
        .nest("/api/v1/points", routes::allocations::router())
        .nest("/api/v1/points", routes::reports::router())
        .split_for_parts();
    openapi::add_common_responses(&mut document);
    (router, document)
}

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

/// The whole application, ready to serve.
pub fn app(state: AppState) -> Router {
    let (router, openapi) = api();
    router
        // The spec's clients post to `/api/recognitions/` as well.
        .route(
            "/api/recognitions/",
            post(routes::recognitions::create_recognition)
                .get(routes::recognitions::list_recognitions),
        )
        .route(
            "/api/openapi.json",
            axum::routing::get(openapi_document(&openapi)),
        )
        .merge(docs::router())
        // The web pages call the same store as the handlers above (see perksu-web).
        .merge(perksu_web::router_with_fulfilment(
            state.store.clone(),
            web_fulfilment(&state),
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(metrics::record))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(BODY_READ_TIMEOUT))
        .layer(axum::middleware::from_fn(refuse_nul_in_uri))
        .layer(axum::middleware::from_fn(answer_within_request_timeout))
        .layer(axum::middleware::from_fn(retry_after_when_unavailable))
        .layer(CatchPanicLayer::custom(panic_response))
        // Outside the panic catcher, so even a bug's 500 carries them.
        .layer(axum::middleware::map_response(security_headers::add))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// Orders placed from the web pages go to the same providers as `POST /api/redemptions`.
fn web_fulfilment(state: &AppState) -> perksu_web::Fulfilment {
    let state = state.clone();
    perksu_web::Fulfilment::new(fulfilment::provider_for_kind, move |order| {
        let state = state.clone();
        Box::pin(async move {
            // The order stands whatever the provider says; a failure leaves it pending.
            if let Err(error) = fulfilment::dispatch(&state, order).await {
                tracing::warn!(%error, "fulfilment dispatch failed");
            }
        })
    })
}

/// The OpenAPI document, serialised once and shared by every request.
fn openapi_document(
    openapi: &utoipa::openapi::OpenApi,
) -> impl Fn() -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    let document = axum::body::Bytes::from(serde_json::to_vec(openapi).unwrap_or_default());
    move || {
        std::future::ready(
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                document.clone(),
            )
                .into_response(),
        )
    }
}

async fn not_found() -> Response {
    error::error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        "No such endpoint".into(),
    )
}

async fn method_not_allowed() -> Response {
    error::error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not accept that method".into(),
    )
}

/// The span every log line of a request is written in: its id, method and path (never the
/// query, the headers or the body, where tokens and passwords travel).
fn request_span(request: &axum::extract::Request) -> tracing::Span {
    tracing::info_span!(
        "request",
        request_id = %request_id::of(request),
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// How long a client may pause while sending a request body; past it the request gets a 408.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take in all; past it the client gets a 503 and may retry (with the
/// same idempotency key: a movement cut short rolled back, or committed and will replay).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

async fn answer_within_request_timeout(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("request cut short after {REQUEST_TIMEOUT:?}");
            error::error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "request_timeout",
                "The server could not answer in time; try again".into(),
            )
        }
    }
}

/// Seconds a client is told to wait after a 503 (a full password queue, a database gone).
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// Every 503, from the API or a page, tells the client when to try again.
async fn retry_after_when_unavailable(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(axum::http::header::RETRY_AFTER)
            .or_insert(axum::http::HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    response
}

/// A percent-encoded NUL in the path or the query would reach the database as text that
/// PostgreSQL refuses: answer 400 before any handler runs.
async fn refuse_nul_in_uri(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let uri = request.uri();
    if uri.path().contains("%00") || uri.query().is_some_and(|query| query.contains("%00")) {
        return error::error_response(
            StatusCode::BAD_REQUEST,
            "invalid_uri",
            "The URL must not contain NUL characters (%00)".into(),
        );
    }
    next.run(request).await
}

/// A panic is a bug: log it, answer a bare 500, keep serving.
fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let cause = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    ApiError::Internal(format!("panic: {cause}")).into_response()
}
