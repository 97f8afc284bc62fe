//! The HTTP listener: HTTP/1.1 connections with a limit on how many are open at once and on how
//! long a client may take to send its headers, and a graceful stop.
//!
//! `axum::serve` has neither limit, so each connection (and its buffers) could be held open by a
//! client for ever and their number grew with the clients. Here a connection takes a permit
//! before it is accepted: at the limit the server stops accepting and new clients wait in the
//! kernel's backlog, so memory for connections is bounded by the limit.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How much the listener lets clients hold.
#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
    /// Connections open at once; more wait in the kernel's backlog until one closes.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers before it is disconnected.
    pub header_read_timeout: Duration,
    /// How long in-flight requests get to finish after a stop is asked for.
    pub shutdown_grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper::service::service_fn(request_handler(app.clone(), peer));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away or breaks the protocol ends only its own connection.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after the shutdown grace period");
    }
}

/// What the router answers one request with, as hyper wants it.
type Reply =
    std::pin::Pin<Box<dyn Future<Output = Result<axum::response::Response, Infallible>> + Send>>;

/// The router as a hyper service for one connection, with the client's address attached.
fn request_handler(
    app: Router,
    peer: SocketAddr,
) -> impl Fn(hyper::Request<Incoming>) -> Reply + Clone {
    move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        Box::pin(async move { app.oneshot(request.map(axum::body::Body::new)).await })
    }
}
