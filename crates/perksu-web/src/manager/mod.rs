//! The tenant manager's pages under `/manager`: the pool card (also served alone for its
//! 30-second refresh), delegations, people and departments, budgets, history, spending charts,
//! the rewards catalogue and its order queue, and the tenant's settings.

mod alerts;
mod badges;
mod budgets;
mod delegations;
mod history;
mod orders;
mod people;
mod reward_form;
mod rewards;
mod settings;
mod spending;
mod user_import;
mod webhook;

use askama::Template;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use perksu_domain::{Points, Role, UserStatus};

use crate::format::points;
use crate::page::{html, pages, render, Chrome, PageError, Section};
use crate::pool_card::PoolCard;
use crate::session::{Manager, Viewer};
use crate::WebState;

/// Where the pool card fragment is served.
const POOL_CARD_URL: &str = "/manager/pool-card";

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/manager", get(dashboard))
        .route(POOL_CARD_URL, get(pool_card))
        .route("/manager/delegations", get(delegations::show))
        .route("/manager/delegations/delegate", post(delegations::delegate))
        .route("/manager/delegations/recall", post(delegations::recall))
        .route(
            "/manager/users",
            get(people::users).post(people::create_user),
        )
        .route(
            "/manager/users/import",
            get(user_import::show)
                .post(user_import::upload)
                .layer(DefaultBodyLimit::max(user_import::MAX_UPLOAD_BYTES)),
        )
        .route(
            "/manager/users/{id}",
            get(people::edit_user).post(people::update_user),
        )
        .route(
            "/manager/departments",
            get(people::departments).post(people::create_department),
        )
        .route("/manager/budgets", get(budgets::list).post(budgets::create))
        .route("/manager/budgets/{id}", get(budgets::show))
        .route("/manager/budgets/{id}/activate", post(budgets::activate))
        .route("/manager/budgets/{id}/close", post(budgets::close))
        .route(
            "/manager/budgets/{id}/departments",
            post(budgets::set_share),
        )
        .route("/manager/budgets/{id}/leads", post(budgets::set_lead))
        .route("/manager/history", get(history::show))
        .route("/manager/spending", get(spending::show))
        .route(
            "/manager/settings",
            get(settings::show).post(settings::update),
        )
        .route("/manager/rewards", get(rewards::list))
        .route(
            "/manager/rewards/new",
            get(rewards::new_form).post(rewards::create),
        )
        .route(
            "/manager/rewards/{id}",
            get(rewards::edit_form).post(rewards::update),
        )
        .route("/manager/rewards/{id}/retire", post(rewards::retire))
        .route(
            "/manager/settings/webhook",
            get(webhook::show).post(webhook::update),
        )
        .route("/manager/badges", get(badges::list).post(badges::create))
        .route("/manager/orders", get(orders::list))
        .route("/manager/orders/{id}/{transition}", post(orders::advance))
}

/// The pool card of the viewer's tenant.
async fn card(state: &WebState, viewer: &Viewer, refresh: bool) -> Result<PoolCard, PageError> {
    let stats = state
        .store
        .tenant_stats(&viewer.actor, None)
        .await
        .map_err(|error| PageError::from_store(error, viewer.chrome(Section::ManagerHome)))?;
    Ok(PoolCard::new(&stats, refresh.then_some(POOL_CARD_URL)))
}

/// The card alone, for the script that refreshes it in place.
async fn pool_card(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let card = card(&state, &viewer, true).await?;
    let mut response = html(StatusCode::OK, card.html());
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response.into_response())
}

#[derive(Template)]
#[template(path = "manager/dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    pool_card: String,
    currency_label: String,
    active_people: usize,
    leads: usize,
    held_by_leads: String,
    departments: usize,
    alerts: Vec<alerts::AlertLine>,
}

pages!(Dashboard);

async fn dashboard(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let chrome = || viewer.chrome(Section::ManagerHome);
    let card = card(&state, &viewer, true).await?;
    let store = &state.store;
    let users = store
        .users(&viewer.actor, None)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let departments = store
        .departments(&viewer.actor, None)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let alerts = alerts::recent(&state, &viewer, &users).await?;
    let leads: Vec<_> = users.iter().filter(|u| u.role == Role::Lead).collect();
    let held_by_leads = leads
        .iter()
        .map(|lead| lead.lead_distribution_balance)
        .try_fold(Points::ZERO, Points::checked_add)
        .unwrap_or(Points::MAX);
    let page = Dashboard {
        chrome: chrome(),
        pool_card: card
            .html()
            .map_err(|error| PageError::internal(error.to_string()))?,
        currency_label: card.currency_label.clone(),
        active_people: users
            .iter()
            .filter(|u| u.status == UserStatus::Active)
            .count(),
        leads: leads.len(),
        held_by_leads: points(held_by_leads),
        departments: departments.len(),
        alerts,
    };
    Ok(render(StatusCode::OK, &page))
}
