//! The badges people can attach to a recognition: the system's and the tenant's own, and the
//! form that adds one. The same store calls as `GET /api/badges` and `POST /api/badges`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use perksu_store::NewBadge;
use serde::Deserialize;

use crate::forms::{run_write, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{Manager, Viewer};
use crate::WebState;

const PAGE: &str = "/manager/badges";

struct BadgeLine {
    name: String,
    description: String,
    icon: String,
    system: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BadgeFields {
    name: String,
    description: String,
    icon: String,
}

#[derive(Template)]
#[template(path = "manager/badges.html")]
struct BadgesPage {
    chrome: Chrome,
    badges: Vec<BadgeLine>,
    form: BadgeFields,
    error: Option<String>,
}

pages!(BadgesPage);

async fn page(
    state: &WebState,
    viewer: &Viewer,
    form: BadgeFields,
    error: Option<String>,
) -> Result<BadgesPage, PageError> {
    let chrome = || viewer.chrome(Section::ManagerBadges);
    let badges = state
        .store
        .badges(&viewer.actor)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    Ok(BadgesPage {
        chrome: chrome(),
        badges: badges
            .into_iter()
            .map(|badge| BadgeLine {
                system: badge.tenant_id.is_none(),
                name: badge.name,
                description: badge.description,
                icon: badge.icon,
            })
            .collect(),
        form,
        error,
    })
}

pub async fn list(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let page = page(&state, &viewer, BadgeFields::default(), None).await?;
    Ok(render(StatusCode::OK, &page))
}

pub async fn create(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    CsrfForm(form): CsrfForm<BadgeFields>,
) -> Result<Response, PageError> {
    let created = match NewBadge::new(&form.name, Some(&form.description), &form.icon) {
        Ok(new) => {
            let actor = viewer.actor.clone();
            run_write(&state.store, move |tx| {
                Box::pin(async move { tx.create_badge(&actor, new).await })
            })
            .await
        }
        Err(error) => Err(Failure::from(error)),
    };
    match created {
        Ok(badge) => Ok(redirect_with_flash(
            PAGE,
            &format!("Added the badge {}.", badge.name),
        )),
        Err(Failure::Refused(refusal)) => {
            let page = page(&state, &viewer, form, Some(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}
