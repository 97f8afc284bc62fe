//! The platform admin's pages under `/admin`: the tenants, one tenant's pool, its history.

use axum::Router;

use crate::WebState;

pub fn router() -> Router<WebState> {
    Router::new()
}
