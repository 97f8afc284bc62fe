//! Everyone's own pages under `/me`: the wallet and its ledger, recognising colleagues, the
//! tenant's feed with reactions and comments, the rewards catalogue and orders, and
//! notifications. Employees, leads and tenant managers all have a wallet and recognise
//! colleagues, so all three may open them; a platform admin has no tenant and gets a 403.

mod home;
mod notifications;
mod wallet;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;
use perksu_domain::Role;

use crate::page::{Chrome, NavLink, PageError, Section};
use crate::session::Viewer;
use crate::WebState;

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/me", get(home::show))
        .route(home::SUMMARY_URL, get(home::summary))
        .route("/me/wallet", get(wallet::show))
        .route("/me/notifications", get(notifications::show))
        .route("/me/notifications/read", post(notifications::mark_read))
}

/// A user of a tenant (manager, lead or employee); a platform admin gets a 403 page.
pub struct Member(pub Viewer);

impl FromRequestParts<WebState> for Member {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Member, PageError> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        let member = matches!(
            viewer.user.role,
            Role::TenantManager | Role::Lead | Role::Employee
        );
        if !member || viewer.user.tenant_id.is_none() {
            return Err(PageError::forbidden(Some(viewer.chrome(Section::None))));
        }
        Ok(Member(viewer))
    }
}

/// Where a member's page sits in the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Home,
    Recognise,
    Feed,
    Wallet,
    Rewards,
    Orders,
    Notifications,
    Lead,
    /// A page reached from another (a recognition, a redeem confirmation).
    None,
}

/// The frame of a member's page: the member's own navigation, with a way back to the
/// manager's or lead's pages for those roles.
pub fn chrome(viewer: &Viewer, area: Area) -> Chrome {
    let mut chrome = viewer.chrome(Section::None);
    let mut links: Vec<(&'static str, &'static str, Area)> = Vec::new();
    match viewer.user.role {
        Role::TenantManager => links.push(("/manager", "Manager", Area::None)),
        Role::Lead => links.push(("/lead", "My team", Area::Lead)),
        Role::Employee | Role::PlatformAdmin => {}
    }
    links.extend([
        ("/me", "Home", Area::Home),
        ("/me/recognise", "Recognise", Area::Recognise),
        ("/me/feed", "Feed", Area::Feed),
        ("/me/wallet", "Wallet", Area::Wallet),
        ("/me/rewards", "Rewards", Area::Rewards),
        ("/me/orders", "Orders", Area::Orders),
        ("/me/notifications", "Notifications", Area::Notifications),
    ]);
    chrome.nav = links
        .into_iter()
        .map(|(href, label, link_area)| NavLink {
            href,
            label,
            current: link_area != Area::None && link_area == area,
        })
        .collect();
    chrome
}
