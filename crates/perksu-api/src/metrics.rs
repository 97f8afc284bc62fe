//! Prometheus metrics, served on a listener of their own (`perksu serve --metrics-listen`),
//! never on the public one: requests by route and status with their latency, recorded by a
//! layer of [`crate::app`]; and, sampled at each scrape, where the points are, the outboxes'
//! backlog, alerts fired and the connection pools' use; and, from the store, the write path's
//! transaction and commit latency and how many movements each commit carries.
//!
//! Without `--metrics-listen` no recorder is installed and the layer's calls cost next to
//! nothing.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use perksu_domain::Points;
use perksu_store::Store;

const REQUESTS: &str = "perksu_http_requests_total";
const LATENCY: &str = "perksu_http_request_duration_seconds";
const EMAIL_ATTEMPTS: &str = "perksu_email_attempts_total";
/// From a cached read to a request held to the 30-second timeout.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

/// From one movement per transaction to a large bulk allocation.
const BATCH_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0];

/// Counts one SMTP attempt by its outcome (`sent` or `failed`).
pub fn email_attempt(outcome: &'static str) {
    metrics::counter!(EMAIL_ATTEMPTS, "outcome" => outcome).increment(1);
}

/// Installs the process-wide recorder; the handle renders what it gathered.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(LATENCY.into()), &LATENCY_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full(perksu_store::WRITE_TRANSACTION_SECONDS.into()),
            &LATENCY_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(perksu_store::WRITE_COMMIT_SECONDS.into()),
            &LATENCY_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(perksu_store::WRITE_BATCH_MOVEMENTS.into()),
            &BATCH_BUCKETS,
        )?
        .install_recorder()
}

/// Counts each request and its latency under its route's template (`/api/users/{id}`, not
/// the id itself, so the number of series stays that of the routes).
pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(LATENCY, &labels).record(started.elapsed().as_secs_f64());
    response
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Store,
}

/// The metrics listener's router: `GET /metrics` in the Prometheus text format.
pub fn router(handle: PrometheusHandle, store: Store) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(Scrape { handle, store })
}

fn points(amount: Points) -> f64 {
    // Exact for any balance below 2^53 hundredths; metrics need no more.
    amount.hundredths() as f64 / 100.0
}

async fn scrape(State(scrape): State<Scrape>) -> Response {
    match scrape.store.gauges().await {
        Ok(gauges) => {
            metrics::gauge!("perksu_points_issued").set(points(gauges.issued));
            for (account, total) in gauges.held {
                metrics::gauge!("perksu_points_held", "account" => account).set(points(total));
            }
            metrics::gauge!("perksu_outbox_pending", "outbox" => "notification")
                .set(gauges.notification_outbox_pending as f64);
            metrics::gauge!("perksu_outbox_pending", "outbox" => "webhook")
                .set(gauges.webhook_outbox_pending as f64);
            metrics::gauge!("perksu_webhook_deliveries_failed")
                .set(gauges.webhook_outbox_failed as f64);
            metrics::gauge!("perksu_alerts_fired").set(gauges.alerts_fired as f64);
            metrics::gauge!("perksu_metrics_database_up").set(1.0);
        }
        Err(error) => {
            tracing::warn!(%error, "metrics: the database could not be sampled");
            metrics::gauge!("perksu_metrics_database_up").set(0.0);
        }
    }
    for pool in scrape.store.pool_gauges() {
        let idle = pool.idle as f64;
        metrics::gauge!("perksu_db_pool_connections", "pool" => pool.name, "state" => "idle")
            .set(idle);
        metrics::gauge!("perksu_db_pool_connections", "pool" => pool.name, "state" => "in_use")
            .set((f64::from(pool.size) - idle).max(0.0));
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        scrape.handle.render(),
    )
        .into_response()
}
