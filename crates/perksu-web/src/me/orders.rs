//! The viewer's own reward orders with their status, and the forms that cancel one (before
//! fulfilment starts) or confirm one with the code the company sent: the same store calls as
//! `GET /api/redemptions`, `POST /api/redemptions/{id}/cancel` and `.../confirm`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::rewards::RedemptionStatus;
use perksu_domain::Error;
use perksu_store::{Confirmation, RedemptionFilter, RedemptionRow};
use serde::Deserialize;

use super::{chrome, Area, Member};
use crate::format::{points, when};
use crate::forms::{run_movement, run_write, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError};
use crate::session::{random_token, Viewer};
use crate::WebState;

const PAGE: &str = "/me/orders";
/// Orders read for the page. A tenant manager's read returns the whole tenant's orders, of
/// which the page keeps the manager's own.
const MAX_ORDERS: i64 = 1000;

fn status_words(status: RedemptionStatus) -> &'static str {
    match status {
        RedemptionStatus::PendingConfirmation => "Waiting for your code",
        RedemptionStatus::Pending => "Ordered",
        RedemptionStatus::Processing => "Being processed",
        RedemptionStatus::Shipped => "Shipped",
        RedemptionStatus::Delivered => "Delivered",
        RedemptionStatus::Failed => "Failed, points returned",
        RedemptionStatus::Cancelled => "Cancelled, points returned",
        RedemptionStatus::Rejected => "Rejected, points returned",
        RedemptionStatus::Expired => "Expired, points returned",
    }
}

/// The badge colour of a status.
fn status_class(status: RedemptionStatus) -> &'static str {
    match status {
        RedemptionStatus::Delivered => "active",
        RedemptionStatus::PendingConfirmation => "low",
        s if s.refunds() => "closed",
        _ => "neutral",
    }
}

struct OrderLine {
    id: String,
    item: String,
    quantity: i64,
    cost: String,
    status: &'static str,
    status_label: &'static str,
    status_class: &'static str,
    ordered: String,
    fulfil_by: String,
    tracking_number: Option<String>,
    gift_card_code: Option<String>,
    can_cancel: bool,
    needs_code: bool,
    cancel_key: String,
    /// A refusal of this order's cancel or confirm form.
    error: Option<String>,
    code: String,
}

#[derive(Template)]
#[template(path = "me/orders.html")]
struct OrdersPage {
    chrome: Chrome,
    currency_label: String,
    orders: Vec<OrderLine>,
}

pages!(OrdersPage);

/// A refused form on one order: its message and the code as typed.
struct OrderError {
    order_id: String,
    message: String,
    code: String,
}

async fn page(
    state: &WebState,
    viewer: &Viewer,
    error: Option<OrderError>,
) -> Result<OrdersPage, PageError> {
    let chrome = || chrome(viewer, Area::Orders);
    let store = &state.store;
    let filter = RedemptionFilter {
        limit: MAX_ORDERS,
        ..RedemptionFilter::default()
    };
    let rows = store
        .redemptions(&viewer.actor, filter)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let tenant_id = viewer
        .actor
        .own_tenant()
        .map_err(|e| PageError::from_store(e.into(), chrome()))?;
    let tenant = store
        .tenant(&viewer.actor, tenant_id)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let orders = rows
        .into_iter()
        .filter(|order| order.user_id == viewer.user.id)
        .map(|order| {
            let (error, code) = match &error {
                Some(refused) if refused.order_id == order.id => {
                    (Some(refused.message.clone()), refused.code.clone())
                }
                _ => (None, String::new()),
            };
            OrderLine {
                can_cancel: matches!(
                    order.status,
                    RedemptionStatus::PendingConfirmation | RedemptionStatus::Pending
                ),
                needs_code: order.status == RedemptionStatus::PendingConfirmation,
                status: order.status.as_str(),
                status_label: status_words(order.status),
                status_class: status_class(order.status),
                item: order.item_name,
                quantity: order.quantity,
                cost: points(order.points_cost),
                ordered: when(&order.created_at),
                fulfil_by: when(&order.fulfil_by),
                tracking_number: order.tracking_number,
                gift_card_code: order.gift_card_code,
                cancel_key: random_token(),
                id: order.id,
                error,
                code,
            }
        })
        .collect();
    Ok(OrdersPage {
        chrome: chrome(),
        currency_label: tenant.currency_label,
        orders,
    })
}

pub async fn show(
    State(state): State<WebState>,
    Member(viewer): Member,
) -> Result<Response, PageError> {
    let page = page(&state, &viewer, None).await?;
    Ok(render(StatusCode::OK, &page))
}

/// Shows a refused cancel or confirm beside the order it was about.
async fn refused_on(
    state: &WebState,
    viewer: &Viewer,
    order_id: &str,
    failure: Failure,
    code: String,
) -> Result<Response, PageError> {
    match failure {
        Failure::Refused(refusal) => {
            let error = OrderError {
                order_id: order_id.to_owned(),
                message: refusal.message,
                code,
            };
            let page = page(state, viewer, Some(error)).await?;
            Ok(render(refusal.status, &page))
        }
        Failure::Page(error) => Err(error),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CancelFields {
    form_key: String,
}

pub async fn cancel(
    State(state): State<WebState>,
    Member(viewer): Member,
    Path(order_id): Path<String>,
    CsrfForm(form): CsrfForm<CancelFields>,
) -> Result<Response, PageError> {
    let actor = viewer.actor.clone();
    let id = order_id.clone();
    let cancelled = run_movement(
        &state.store,
        &viewer,
        &form.form_key,
        &format!("POST {PAGE}/{order_id}/cancel"),
        move |tx| Box::pin(async move { tx.cancel_order(&actor, &id).await }),
        |order: &RedemptionRow| {
            format!(
                "Cancelled your order of {}: {} points are back in your wallet.",
                order.item_name,
                points(order.points_cost)
            )
        },
    )
    .await;
    match cancelled {
        Ok(message) => Ok(redirect_with_flash(PAGE, &message)),
        Err(failure) => refused_on(&state, &viewer, &order_id, failure, String::new()).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfirmFields {
    code: String,
}

pub async fn confirm(
    State(state): State<WebState>,
    Member(viewer): Member,
    Path(order_id): Path<String>,
    CsrfForm(form): CsrfForm<ConfirmFields>,
) -> Result<Response, PageError> {
    let actor = viewer.actor.clone();
    let (id, code) = (order_id.clone(), form.code.trim().to_owned());
    // Committed whatever the code, as the API does: a wrong attempt must count.
    let outcome = run_write(&state.store, move |tx| {
        Box::pin(async move { tx.confirm_order(&actor, &id, &code).await })
    })
    .await;
    let outcome = match outcome {
        Ok(Confirmation::Confirmed(order)) => {
            let message = format!("Confirmed your order of {}.", order.item_name);
            state.fulfilment.dispatch(order).await;
            return Ok(redirect_with_flash(PAGE, &message));
        }
        Ok(Confirmation::WrongCode { attempts_left }) => Failure::from(Error::invalid(
            "wrong_confirmation_code",
            format!("That code is not correct; {attempts_left} attempt(s) left"),
        )),
        Ok(Confirmation::Ended(order)) => Failure::from(Error::conflict(
            "redemption_ended",
            format!(
                "This redemption is now {} and its points are back in your wallet",
                order.status.as_str()
            ),
        )),
        Err(failure) => failure,
    };
    refused_on(&state, &viewer, &order_id, outcome, form.code).await
}
