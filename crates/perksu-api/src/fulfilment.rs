//! Fulfilment: who delivers a redeemed reward, behind one trait.
//!
//! A provider is told about a confirmed order and answers at once (a gift-card code), later
//! through a signed callback, or never (an admin ships it by hand). The ledger does not know
//! which: every answer becomes a [`TransitionRequest`] applied by the store, so a real
//! provider can be added here without touching how points move.

use futures::future::BoxFuture;
use perksu_domain::rewards::RedemptionStatus;
use perksu_store::{RedemptionRow, StoreResult, TransitionRequest};
use rand::distributions::Alphanumeric;
use rand::Rng;

use crate::AppState;

/// A provider's first answer to an order.
pub enum Submission {
    /// Nothing automatic: the order waits in the fulfilment queue for an admin.
    AwaitingAdmin,
    /// Accepted; the outcome arrives later by callback.
    Accepted {
        reference: String,
    },
    /// Fulfilled on the spot.
    Delivered {
        reference: String,
        code: Option<String>,
    },
    Failed {
        reason: String,
    },
}

pub trait FulfilmentProvider: Send + Sync {
    fn name(&self) -> &'static str;
    fn submit<'a>(&'a self, order: &'a RedemptionRow) -> BoxFuture<'a, Submission>;
}

/// Merchandise, custom rewards and donations: an admin marks them shipped and delivered.
pub struct ManualProvider;

impl FulfilmentProvider for ManualProvider {
    fn name(&self) -> &'static str {
        MANUAL
    }

    fn submit<'a>(&'a self, _order: &'a RedemptionRow) -> BoxFuture<'a, Submission> {
        Box::pin(async { Submission::AwaitingAdmin })
    }
}

/// Issues made-up gift-card codes at once: for demos and tests.
pub struct SimulatedGiftCardProvider;

impl FulfilmentProvider for SimulatedGiftCardProvider {
    fn name(&self) -> &'static str {
        SIMULATED_GIFT_CARD
    }

    fn submit<'a>(&'a self, order: &'a RedemptionRow) -> BoxFuture<'a, Submission> {
        Box::pin(async move {
            let code: String = rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(16)
                .map(|c| char::from(c).to_ascii_uppercase())
                .collect();
            Submission::Delivered {
                reference: format!("SIM-{}", &order.id[..8.min(order.id.len())]),
                code: Some(code),
            }
        })
    }
}

pub const MANUAL: &str = "manual";
pub const SIMULATED_GIFT_CARD: &str = "simulated_gift_card";

/// Which provider fulfils an item of this kind.
pub fn provider_for_kind(kind: &str) -> &'static str {
    match kind {
        "gift_card" => SIMULATED_GIFT_CARD,
        _ => MANUAL,
    }
}

fn provider(name: &str) -> &'static dyn FulfilmentProvider {
    match name {
        SIMULATED_GIFT_CARD => &SimulatedGiftCardProvider,
        _ => &ManualProvider,
    }
}

/// Hands a pending order to its provider and applies the first answer. Anything but a
/// pending order is left as it is.
pub async fn dispatch(state: &AppState, order: RedemptionRow) -> StoreResult<RedemptionRow> {
    if order.status != RedemptionStatus::Pending {
        return Ok(order);
    }
    let submission = provider(&order.provider).submit(&order).await;
    let request = match &submission {
        Submission::AwaitingAdmin => return Ok(order),
        Submission::Accepted { reference } => TransitionRequest {
            provider_reference: Some(reference),
            ..TransitionRequest::to(
                RedemptionStatus::Processing,
                None,
                Some("Accepted by the provider"),
            )
        },
        Submission::Delivered { reference, code } => TransitionRequest {
            provider_reference: Some(reference),
            gift_card_code: code.as_deref(),
            ..TransitionRequest::to(
                RedemptionStatus::Delivered,
                None,
                Some("Issued by the provider"),
            )
        },
        Submission::Failed { reason } => {
            TransitionRequest::to(RedemptionStatus::Failed, None, Some(reason))
        }
    };
    let mut tx = state.store.begin().await?;
    match tx.transition(&order, request).await {
        Ok(updated) => {
            tx.commit().await?;
            Ok(updated)
        }
        Err(error) => {
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}
