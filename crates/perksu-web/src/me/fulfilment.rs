//! How an order placed from a page reaches whoever delivers it.
//!
//! The providers live with the JSON API (`perksu_api::fulfilment`), which depends on this
//! crate, so the pages cannot call them directly: the application hands them in through
//! [`crate::router_with_fulfilment`]. Without them ([`Fulfilment::manual`]) every order a page
//! places waits for a tenant manager to fulfil it by hand.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use perksu_store::RedemptionRow;

/// What a dispatch returns: nothing, once the provider's first answer has been applied (or
/// logged as failed; the order stands either way).
pub type DispatchFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

type Dispatch = dyn Fn(RedemptionRow) -> DispatchFuture + Send + Sync;

/// Which provider takes an item kind, and what to do once an order is ready for it.
#[derive(Clone)]
pub struct Fulfilment {
    provider_for_kind: fn(&str) -> &'static str,
    dispatch: Arc<Dispatch>,
}

/// The provider that leaves every order to a person.
const MANUAL: &str = "manual";

fn manual_provider(_kind: &str) -> &'static str {
    MANUAL
}

impl Fulfilment {
    /// `provider_for_kind` names the provider stored on a new order (the same function the
    /// API's `POST /api/redemptions` passes to the store); `dispatch` is called after the
    /// commit with each order that is ready for its provider (placed without a confirmation
    /// code, or just confirmed).
    pub fn new(
        provider_for_kind: fn(&str) -> &'static str,
        dispatch: impl Fn(RedemptionRow) -> DispatchFuture + Send + Sync + 'static,
    ) -> Fulfilment {
        Fulfilment {
            provider_for_kind,
            dispatch: Arc::new(dispatch),
        }
    }

    /// Every order goes to the manual provider and waits in the fulfilment queue.
    pub fn manual() -> Fulfilment {
        Fulfilment::new(manual_provider, |_order| Box::pin(async {}))
    }

    pub fn provider_for_kind(&self) -> fn(&str) -> &'static str {
        self.provider_for_kind
    }

    /// Hands an order to its provider.
    pub async fn dispatch(&self, order: RedemptionRow) {
        (self.dispatch)(order).await;
    }
}
