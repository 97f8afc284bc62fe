//! `/me`: the wallet card (refreshed in place every 30 seconds from `/me/summary`), the latest
//! wallet lines, what the viewer gave and received, and the way to everything else.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use perksu_domain::Role;
use perksu_store::AuditFilter;

use super::wallet::LedgerLine;
use super::{chrome, Area, Member};
use crate::format::points;
use crate::page::{html, pages, render, Chrome, PageError};
use crate::pool_card::REFRESH_SECONDS;
use crate::session::Viewer;
use crate::WebState;

/// Where the wallet card is served alone.
pub const SUMMARY_URL: &str = "/me/summary";
/// Wallet lines on the home page; the wallet page has the rest.
const LATEST_LINES: i64 = 5;

/// The wallet card: balance, lifetime earned and unread notifications.
#[derive(Template)]
#[template(path = "me/summary.html")]
struct Summary {
    balance: String,
    lifetime_earned: String,
    currency_label: String,
    unread: i64,
    refresh_url: &'static str,
    refresh_seconds: u32,
}

async fn summary_card(state: &WebState, viewer: &Viewer) -> Result<Summary, PageError> {
    let chrome = || chrome(viewer, Area::Home);
    let store = &state.store;
    let wallet = store
        .my_wallet(&viewer.actor)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let tenant = store
        .tenant(&viewer.actor, &wallet.tenant_id)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let unread = store
        .unread_notifications(&viewer.actor)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    Ok(Summary {
        balance: points(wallet.balance),
        lifetime_earned: points(wallet.lifetime_earned),
        currency_label: tenant.currency_label,
        unread,
        refresh_url: SUMMARY_URL,
        refresh_seconds: REFRESH_SECONDS,
    })
}

/// The card alone, for the script that refreshes it.
pub async fn summary(
    State(state): State<WebState>,
    Member(viewer): Member,
) -> Result<Response, PageError> {
    let card = summary_card(&state, &viewer).await?;
    let mut response = html(StatusCode::OK, card.render());
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Template)]
#[template(path = "me/home.html")]
struct HomePage {
    chrome: Chrome,
    first_name: String,
    summary: String,
    currency_label: String,
    latest: Vec<LedgerLine>,
    given_count: i64,
    received_count: i64,
    points_given: String,
    points_received: String,
    allowance_remaining: Option<String>,
    is_lead: bool,
    is_manager: bool,
}

pages!(HomePage);

pub async fn show(
    State(state): State<WebState>,
    Member(viewer): Member,
) -> Result<Response, PageError> {
    let chrome = || chrome(&viewer, Area::Home);
    let store = &state.store;
    let card = summary_card(&state, &viewer).await?;
    let latest = store
        .wallet_ledger(
            &viewer.actor,
            AuditFilter {
                tenant_id: viewer.user.tenant_id.clone(),
                user_id: Some(viewer.user.id.clone()),
                limit: LATEST_LINES,
                ..AuditFilter::default()
            },
        )
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let stats = store
        .recognition_stats(&viewer.actor)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let page = HomePage {
        chrome: chrome(),
        first_name: viewer.user.first_name.clone(),
        summary: card
            .render()
            .map_err(|e| PageError::internal(e.to_string()))?,
        currency_label: card.currency_label.clone(),
        latest: latest.items.iter().map(LedgerLine::from).collect(),
        given_count: stats.given_count,
        received_count: stats.received_count,
        points_given: points(stats.points_given),
        points_received: points(stats.points_received),
        allowance_remaining: stats.allowance_remaining.map(points),
        is_lead: viewer.user.role == Role::Lead,
        is_manager: viewer.user.role == Role::TenantManager,
    };
    Ok(render(StatusCode::OK, &page))
}
