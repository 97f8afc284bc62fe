//! The viewer's notifications, newest first, and marking them all read: the same store calls
//! as `GET /api/notifications` and `POST /api/notifications/read`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::Role;
use perksu_store::{
    EXPIRY_WARNING_NOTIFICATION, LOW_BALANCE_NOTIFICATION, RECOGNITION_NOTIFICATION,
};
use serde::Deserialize;

use super::{chrome, Area, Member};
use crate::format::when;
use crate::forms::{run_write, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError};
use crate::WebState;

const PAGE: &str = "/me/notifications";
/// Notifications listed (the store's most per call).
const SHOWN: i64 = 200;

struct NotificationLine {
    title: String,
    body: String,
    when: String,
    unread: bool,
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "me/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    unread: i64,
    items: Vec<NotificationLine>,
}

pages!(NotificationsPage);

/// Where a notification of `kind` about `reference` leads.
fn link(kind: &str, reference: Option<&str>, role: Role) -> Option<String> {
    match (kind, reference) {
        (RECOGNITION_NOTIFICATION, Some(id)) => Some(format!("/me/recognitions/{id}")),
        (kind, _) if kind.starts_with("redemption") => Some("/me/orders".to_owned()),
        (EXPIRY_WARNING_NOTIFICATION, _) => Some("/me/wallet".to_owned()),
        (LOW_BALANCE_NOTIFICATION, _) => match role {
            Role::TenantManager => Some("/manager".to_owned()),
            Role::Lead => Some("/lead".to_owned()),
            _ => None,
        },
        _ => None,
    }
}

pub async fn show(
    State(state): State<WebState>,
    Member(viewer): Member,
) -> Result<Response, PageError> {
    let (items, unread) = state
        .store
        .notifications(&viewer.actor, SHOWN)
        .await
        .map_err(|e| PageError::from_store(e, chrome(&viewer, Area::Notifications)))?;
    let page = NotificationsPage {
        chrome: chrome(&viewer, Area::Notifications),
        unread,
        items: items
            .into_iter()
            .map(|n| NotificationLine {
                link: link(&n.kind, n.reference_id.as_deref(), viewer.user.role),
                unread: n.read_at.is_none(),
                when: when(&n.created_at),
                title: n.title,
                body: n.body,
            })
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReadFields {}

pub async fn mark_read(
    State(state): State<WebState>,
    Member(viewer): Member,
    CsrfForm(_form): CsrfForm<ReadFields>,
) -> Result<Response, PageError> {
    let actor = viewer.actor.clone();
    let marked = run_write(&state.store, move |tx| {
        Box::pin(async move { tx.mark_notifications_read(&actor, None).await })
    })
    .await;
    match marked {
        Ok(0) => Ok(redirect_with_flash(PAGE, "Nothing was unread.")),
        Ok(1) => Ok(redirect_with_flash(PAGE, "Marked 1 notification as read.")),
        Ok(count) => Ok(redirect_with_flash(
            PAGE,
            &format!("Marked {count} notifications as read."),
        )),
        Err(Failure::Refused(refusal)) => Err(PageError::Page {
            status: refusal.status,
            chrome: Some(Box::new(chrome(&viewer, Area::Notifications))),
            title: "Cannot mark them read",
            message: refusal.message,
        }),
        Err(Failure::Page(error)) => Err(error),
    }
}
