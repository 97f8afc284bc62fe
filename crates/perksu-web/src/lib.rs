//! The web UI: server-rendered pages for platform admins, tenant managers, leads and
//! employees, over the same store calls as the JSON API.
//!
//! Architecture invariant: pages call `perksu-store` functions, never SQL, and parse amounts
//! and text once with `perksu_domain` as the API does. Every template, style and script is
//! compiled into the binary; no page loads anything from another origin.
//!
//! Sessions are the store's login tokens carried in an HTTP-only cookie; every form carries a
//! token derived from the session (see [`session`]), and every page checks the viewer's role
//! before it reads anything.

mod admin;
mod assets;
mod auth;
mod chart;
mod csv;
mod format;
mod forms;
mod lead;
mod listing;
mod manager;
mod me;
mod page;
mod pool_card;
mod session;
mod set_password;

use axum::routing::{get, post};
use axum::Router;
use perksu_store::Store;

pub use me::{DispatchFuture, Fulfilment};

/// What every page handler can reach.
#[derive(Clone)]
pub struct WebState {
    pub store: Store,
    /// Where orders placed from a page go (see [`Fulfilment`]).
    pub fulfilment: Fulfilment,
}

/// The web pages and their assets, ready to merge into the application's router. Orders
/// placed from the pages wait for a manager to fulfil them by hand; see
/// [`router_with_fulfilment`].
pub fn router<S>(store: Store) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router_with_fulfilment(store, Fulfilment::manual())
}

/// The web pages, with orders handed to the same fulfilment providers as the JSON API's.
pub fn router_with_fulfilment<S>(store: Store, fulfilment: Fulfilment) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/", get(auth::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/set-password",
            get(set_password::set_password_page).post(set_password::set_password),
        )
        .merge(admin::router())
        .merge(manager::router())
        .merge(me::router())
        .merge(lead::router())
        .layer(axum::middleware::map_response(page::page_headers))
        .merge(assets::router())
        .with_state(WebState { store, fulfilment })
}
