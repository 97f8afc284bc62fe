//! The tenant's reward orders for its manager, filtered by status, with a form for each move
//! the order's lifecycle allows: approve (processing), ship, mark delivered, and cancel with
//! the points refunded (rejected). The same store calls as `GET /api/redemptions` and
//! `POST /api/redemptions/{id}/status`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::rewards::RedemptionStatus;
use perksu_domain::{validate, Error};
use perksu_store::{RedemptionFilter, RedemptionRow, TransitionRequest};
use serde::Deserialize;

use crate::format::{points, when};
use crate::forms::{run_movement, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{random_token, Manager, Viewer};
use crate::WebState;

const PAGE: &str = "/manager/orders";
/// Orders shown at once, newest first.
const MAX_ORDERS: i64 = 200;

/// A move a manager may make, as it appears in the form's address.
#[derive(Clone, Copy)]
struct Transition {
    word: &'static str,
    label: &'static str,
    next: RedemptionStatus,
}

const TRANSITIONS: [Transition; 4] = [
    Transition {
        word: "approve",
        label: "Approve",
        next: RedemptionStatus::Processing,
    },
    Transition {
        word: "ship",
        label: "Mark shipped",
        next: RedemptionStatus::Shipped,
    },
    Transition {
        word: "deliver",
        label: "Mark delivered",
        next: RedemptionStatus::Delivered,
    },
    Transition {
        word: "cancel",
        label: "Cancel and refund",
        next: RedemptionStatus::Rejected,
    },
];

const STATUSES: [RedemptionStatus; 9] = RedemptionStatus::ALL;

struct OrderLine {
    id: String,
    item: String,
    quantity: i64,
    employee: String,
    cost: String,
    status: &'static str,
    ordered: String,
    tracking_number: Option<String>,
    /// The moves its lifecycle allows now.
    transitions: Vec<Transition>,
    form_key: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "manager/orders.html")]
struct OrdersPage {
    chrome: Chrome,
    currency_label: String,
    statuses: Vec<&'static str>,
    status: String,
    orders: Vec<OrderLine>,
}

pages!(OrdersPage);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OrdersQuery {
    status: String,
}

fn status_filter(word: &str) -> Result<Option<RedemptionStatus>, Error> {
    if word.is_empty() {
        return Ok(None);
    }
    RedemptionStatus::parse(word).map(Some).ok_or_else(|| {
        Error::invalid(
            "invalid_query",
            format!(
                "Status must be one of: {}",
                STATUSES.map(RedemptionStatus::as_str).join(", ")
            ),
        )
    })
}

/// A refused move, shown beside the order it was about.
struct OrderError {
    order_id: String,
    message: String,
}

async fn page(
    state: &WebState,
    viewer: &Viewer,
    status: &str,
    error: Option<OrderError>,
) -> Result<OrdersPage, PageError> {
    let chrome = || viewer.chrome(Section::ManagerOrders);
    let fail = |e| PageError::from_store(e, chrome());
    let filter = RedemptionFilter {
        status: status_filter(status).map_err(|e| fail(e.into()))?,
        limit: MAX_ORDERS,
        ..RedemptionFilter::default()
    };
    let store = &state.store;
    let rows = store
        .redemptions(&viewer.actor, filter)
        .await
        .map_err(fail)?;
    let tenant_id = viewer.actor.own_tenant().map_err(|e| fail(e.into()))?;
    let tenant = store.tenant(&viewer.actor, tenant_id).await.map_err(fail)?;
    let names: HashMap<String, String> = store
        .users(&viewer.actor, None)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|user| (user.id, format!("{} {}", user.first_name, user.last_name)))
        .collect();
    let orders = rows
        .into_iter()
        .map(|order| line(order, &names, error.as_ref()))
        .collect();
    Ok(OrdersPage {
        chrome: chrome(),
        currency_label: tenant.currency_label,
        statuses: STATUSES.map(RedemptionStatus::as_str).to_vec(),
        status: status.to_owned(),
        orders,
    })
}

fn line(
    order: RedemptionRow,
    names: &HashMap<String, String>,
    error: Option<&OrderError>,
) -> OrderLine {
    OrderLine {
        employee: names.get(&order.user_id).cloned().unwrap_or_default(),
        transitions: TRANSITIONS
            .into_iter()
            .filter(|t| order.status.can_become(t.next))
            .collect(),
        error: error
            .filter(|e| e.order_id == order.id)
            .map(|e| e.message.clone()),
        item: order.item_name,
        quantity: order.quantity,
        cost: points(order.points_cost),
        status: order.status.as_str(),
        ordered: when(&order.created_at),
        tracking_number: order.tracking_number,
        form_key: random_token(),
        id: order.id,
    }
}

pub async fn list(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Query(query): Query<OrdersQuery>,
) -> Result<Response, PageError> {
    let page = page(&state, &viewer, query.status.trim(), None).await?;
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AdvanceFields {
    form_key: String,
    tracking_number: String,
    note: String,
    /// The filter the page was showing, to return to.
    status: String,
}

/// Moves one order along, as `POST /api/redemptions/{id}/status` does.
pub async fn advance(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path((order_id, word)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<AdvanceFields>,
) -> Result<Response, PageError> {
    let filter = status_filter(form.status.trim())
        .ok()
        .flatten()
        .map(RedemptionStatus::as_str)
        .unwrap_or_default();
    let back = if filter.is_empty() {
        PAGE.to_owned()
    } else {
        format!("{PAGE}?status={filter}")
    };
    let Some(transition) = TRANSITIONS.into_iter().find(|t| t.word == word) else {
        return Err(PageError::bad_request(
            "Orders can be approved, shipped, delivered or cancelled.",
        ));
    };
    let moved = move_order(&state, &viewer, &order_id, transition, &form).await;
    match moved {
        Ok(message) => Ok(redirect_with_flash(&back, &message)),
        Err(Failure::Refused(refusal)) => {
            let error = OrderError {
                order_id,
                message: refusal.message,
            };
            let page = page(&state, &viewer, filter, Some(error)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn move_order(
    state: &WebState,
    viewer: &Viewer,
    order_id: &str,
    transition: Transition,
    form: &AdvanceFields,
) -> Result<String, Failure> {
    let note = validate::note("Note", Some(&form.note))?;
    let tracking = validate::note("Tracking number", Some(&form.tracking_number))?;
    let fingerprint = format!(
        "POST {PAGE}/{order_id}/{}\n{}\n{}",
        transition.word, form.note, form.tracking_number
    );
    let actor = viewer.actor.clone();
    let id = order_id.to_owned();
    run_movement(
        &state.store,
        viewer,
        &form.form_key,
        &fingerprint,
        move |tx| {
            Box::pin(async move {
                let request = TransitionRequest {
                    tracking_number: tracking.as_deref(),
                    ..TransitionRequest::to(transition.next, Some(&actor.user_id), note.as_deref())
                };
                tx.fulfil_order(&actor, &id, request).await
            })
        },
        |order: &RedemptionRow| {
            let refunded = if order.status.refunds() {
                format!(
                    ": {} points are back in the wallet",
                    points(order.points_cost)
                )
            } else {
                String::new()
            };
            format!(
                "The order of {} is now {}{refunded}.",
                order.item_name,
                order.status.as_str()
            )
        },
    )
    .await
}
