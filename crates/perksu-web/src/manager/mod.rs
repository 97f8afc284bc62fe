//! The tenant manager's pages under `/manager`.

use axum::Router;

use crate::WebState;

pub fn router() -> Router<WebState> {
    Router::new()
}
