//! Everyone's own pages under `/me`: the wallet and its ledger, recognising colleagues, the
//! tenant's feed with reactions and comments, the rewards catalogue and orders, and
//! notifications. Employees, leads and tenant managers all have a wallet and recognise
//! colleagues, so all three may open them; a platform admin has no tenant and gets a 403.

mod feed;
mod fulfilment;
mod home;
mod notifications;
mod orders;
pub(crate) mod recognise;
mod rewards;
mod wallet;

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::Router;
use perksu_domain::{Role, UserStatus};
use perksu_store::{BadgeRow, StoreResult, UserRow};

use crate::page::{Chrome, NavLink, PageError, Section};
use crate::session::Viewer;
use crate::WebState;

pub use fulfilment::{DispatchFuture, Fulfilment};

pub fn router() -> Router<WebState> {
    Router::new()
        .route("/me", get(home::show))
        .route(home::SUMMARY_URL, get(home::summary))
        .route(
            "/me/recognise",
            get(recognise::show).post(recognise::create),
        )
        .route("/me/feed", get(feed::show))
        .route("/me/recognitions/{id}", get(feed::recognition))
        .route("/me/recognitions/{id}/reactions", post(feed::react))
        .route(
            "/me/recognitions/{id}/reactions/remove",
            post(feed::unreact),
        )
        .route("/me/recognitions/{id}/comments", post(feed::comment))
        .route("/me/wallet", get(wallet::show))
        .route("/me/rewards", get(rewards::catalogue))
        .route(
            "/me/rewards/{id}/redeem",
            get(rewards::confirm_page).post(rewards::redeem),
        )
        .route("/me/orders", get(orders::show))
        .route("/me/orders/{id}/cancel", post(orders::cancel))
        .route("/me/orders/{id}/confirm", post(orders::confirm))
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

/// A person as pages name them: their name, or their email when they have none.
pub fn display_name(user: &UserRow) -> String {
    let name = format!("{} {}", user.first_name, user.last_name);
    let name = name.trim();
    if name.is_empty() {
        user.email.clone()
    } else {
        name.to_owned()
    }
}

/// The viewer's tenant's people by id, for naming givers and recipients.
pub struct People {
    by_id: HashMap<String, UserRow>,
}

impl People {
    pub async fn load(state: &WebState, viewer: &Viewer) -> StoreResult<People> {
        let users = state.store.users(&viewer.actor, None).await?;
        Ok(People {
            by_id: users.into_iter().map(|u| (u.id.clone(), u)).collect(),
        })
    }

    pub fn name(&self, user_id: &str) -> String {
        self.by_id
            .get(user_id)
            .map(display_name)
            .unwrap_or_else(|| "A former colleague".to_owned())
    }

    /// Active colleagues other than the viewer, by name, as options for a recipient field.
    pub fn colleagues(&self, viewer: &Viewer) -> Vec<Colleague> {
        let mut colleagues: Vec<Colleague> = self
            .by_id
            .values()
            .filter(|u| u.id != viewer.user.id && u.status == UserStatus::Active)
            .map(|u| Colleague {
                id: u.id.clone(),
                label: format!("{} ({})", display_name(u), u.email),
                in_my_team: u.manager_id.as_deref() == Some(viewer.user.id.as_str()),
            })
            .collect();
        colleagues.sort_by_key(|a| a.label.to_lowercase());
        colleagues
    }
}

/// One option of a recipient field.
pub struct Colleague {
    pub id: String,
    pub label: String,
    /// Reports to the viewer (their `manager_id` is the viewer).
    pub in_my_team: bool,
}

/// A badge as a page shows it.
pub struct BadgeLabel {
    pub id: String,
    pub name: String,
    pub symbol: &'static str,
    pub description: String,
}

impl From<&BadgeRow> for BadgeLabel {
    fn from(badge: &BadgeRow) -> BadgeLabel {
        BadgeLabel {
            id: badge.id.clone(),
            name: badge.name.clone(),
            symbol: badge_symbol(&badge.icon),
            description: badge.description.clone(),
        }
    }
}

/// A symbol for the icon words the system badges use; other icons show none.
fn badge_symbol(icon: &str) -> &'static str {
    match icon {
        "handshake" => "🤝",
        "lightbulb" => "💡",
        "star" => "⭐",
        "rocket" => "🚀",
        "compass" => "🧭",
        "trophy" => "🏆",
        "heart" => "❤️",
        _ => "🏅",
    }
}

/// How a recognition was paid for, in words.
pub fn funding_words(source: &str) -> &'static str {
    match source {
        "pool" => "the company pool",
        "lead_balance" => "your distribution balance",
        "lead_allocation" => "your budget allocation",
        "department_budget" => "your department's budget",
        "wallet" => "your wallet",
        _ => "no points",
    }
}

/// The type of a recognition, in words.
pub fn type_words(recognition_type: &str) -> &'static str {
    match recognition_type {
        "individual_award" => "Award",
        "group_award" => "Group award",
        "ecard" => "E-card",
        _ => "Recognition",
    }
}
