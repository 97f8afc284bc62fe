//! The frame around every page (top bar, navigation, flash), rendering, redirects, and the
//! error pages: what a request that cannot be served answers instead.

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use perksu_domain::{ErrorKind, Role};
use perksu_store::StoreError;

use crate::session::{clear_cookie, flash_cookie, Viewer, FLASH_COOKIE};

/// Where a page sits in the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    None,
    AdminTenants,
    AdminNewTenant,
    AdminBulk,
    AdminReports,
    ManagerHome,
    ManagerDelegations,
    ManagerPeople,
    ManagerBudgets,
    ManagerHistory,
    ManagerSpending,
    ManagerSettings,
    ManagerRewards,
    ManagerOrders,
    ManagerBadges,
}

pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What the layout shows around a page: who is signed in, the navigation, the flash.
pub struct Chrome {
    pub signed_in: bool,
    pub user_name: String,
    pub role_label: &'static str,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub nav: Vec<NavLink>,
}

impl Chrome {
    /// The frame for someone not signed in: no navigation, no logout.
    pub fn anonymous() -> Chrome {
        Chrome {
            signed_in: false,
            user_name: String::new(),
            role_label: "",
            csrf_token: String::new(),
            flash: None,
            nav: Vec::new(),
        }
    }

    pub fn for_viewer(viewer: &Viewer, section: Section) -> Chrome {
        let links: &[(&'static str, &'static str, Section)] = match viewer.user.role {
            Role::PlatformAdmin => &[
                ("/admin", "Dashboard", Section::AdminTenants),
                ("/admin/tenants/new", "New tenant", Section::AdminNewTenant),
                (
                    "/admin/allocations/bulk",
                    "Bulk allocation",
                    Section::AdminBulk,
                ),
                ("/admin/reports", "Reports", Section::AdminReports),
            ],
            Role::TenantManager => &[
                ("/manager", "Pool", Section::ManagerHome),
                (
                    "/manager/delegations",
                    "Delegations",
                    Section::ManagerDelegations,
                ),
                ("/manager/users", "People", Section::ManagerPeople),
                ("/manager/budgets", "Budgets", Section::ManagerBudgets),
                ("/manager/history", "History", Section::ManagerHistory),
                ("/manager/spending", "Spending", Section::ManagerSpending),
                ("/manager/rewards", "Rewards", Section::ManagerRewards),
                ("/manager/orders", "Orders", Section::ManagerOrders),
                ("/manager/badges", "Badges", Section::ManagerBadges),
                ("/manager/settings", "Settings", Section::ManagerSettings),
            ],
            Role::Lead | Role::Employee => &[],
        };
        Chrome {
            signed_in: true,
            user_name: viewer.display_name(),
            role_label: role_label(viewer.user.role),
            csrf_token: viewer.csrf_token.clone(),
            flash: viewer.flash.clone(),
            nav: links
                .iter()
                .map(|&(href, label, link_section)| NavLink {
                    href,
                    label,
                    current: link_section == section,
                })
                .collect(),
        }
    }
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::PlatformAdmin => "Platform admin",
        Role::TenantManager => "Tenant manager",
        Role::Lead => "Lead",
        Role::Employee => "Employee",
    }
}

/// A template with the page frame in it.
pub trait Page: Template {
    fn chrome(&self) -> &Chrome;
}

/// Implements [`Page`] for templates whose frame is the field `chrome`.
macro_rules! pages {
    ($($page:ty),+ $(,)?) => {
        $(impl $crate::page::Page for $page {
            fn chrome(&self) -> &$crate::page::Chrome {
                &self.chrome
            }
        })+
    };
}
pub(crate) use pages;

/// Renders a page with `status`. A flash shown on it is cleared, so it shows once.
pub fn render(status: StatusCode, page: &impl Page) -> Response {
    let mut response = html(status, page.render());
    if page.chrome().flash.is_some() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear_cookie(FLASH_COOKIE));
    }
    response
}

/// A rendered template as an HTML response, or a 500 if rendering failed.
pub fn html(status: StatusCode, rendered: askama::Result<String>) -> Response {
    match rendered {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(error) => PageError::internal(format!("rendering a page: {error}")).into_response(),
    }
}

/// A 303 to `location`; one that cannot be a header value goes home instead.
pub fn see_other(location: &str) -> Response {
    let location = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// After a successful post: back to a page, with a message to show there once.
pub fn redirect_with_flash(location: &str, message: &str) -> Response {
    let mut response = see_other(location);
    response
        .headers_mut()
        .append(header::SET_COOKIE, flash_cookie(message));
    response
}

/// Headers on every page: nothing is cached, nothing loads from elsewhere, nothing frames us.
pub async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed = [
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    title: &'static str,
    message: String,
}

pages!(ErrorPage);

/// A request that gets an error page (or, unauthenticated, the login page) instead.
pub enum PageError {
    /// No live session: to the login page.
    SignIn,
    Page {
        status: StatusCode,
        chrome: Option<Box<Chrome>>,
        title: &'static str,
        message: String,
    },
}

impl PageError {
    pub fn forbidden(chrome: Option<Chrome>) -> PageError {
        PageError::Page {
            status: StatusCode::FORBIDDEN,
            chrome: chrome.map(Box::new),
            title: "Not allowed",
            message: "Your role does not give access to this page.".into(),
        }
    }

    /// A post without a valid form token: refused before anything happens.
    pub fn csrf() -> PageError {
        PageError::Page {
            status: StatusCode::FORBIDDEN,
            chrome: None,
            title: "Form expired",
            message: "This form could not be accepted because its security token is missing \
                      or out of date. Nothing was changed. Go back, reload the page and try \
                      again."
                .into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError::Page {
            status: StatusCode::BAD_REQUEST,
            chrome: None,
            title: "Bad request",
            message: message.into(),
        }
    }

    /// A failure that is not the visitor's: logged here, once, and never shown.
    pub fn internal(cause: String) -> PageError {
        tracing::error!(%cause, "page request failed");
        PageError::Page {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            chrome: None,
            title: "Something went wrong",
            message: "The server could not complete the request. Nothing you did caused \
                      this; please try again in a moment."
                .into(),
        }
    }

    /// A store failure while reading a page: a refusal becomes its own status and words.
    pub fn from_store(error: StoreError, chrome: Chrome) -> PageError {
        match Failure::from(error) {
            Failure::Refused(refusal) => PageError::Page {
                status: refusal.status,
                chrome: Some(Box::new(chrome)),
                title: match refusal.status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::FORBIDDEN => "Not allowed",
                    _ => "Cannot show this page",
                },
                message: refusal.message,
            },
            Failure::Page(page) => page,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn => Redirect::to("/login").into_response(),
            PageError::Page {
                status,
                chrome,
                title,
                message,
            } => {
                let page = ErrorPage {
                    chrome: chrome.map(|c| *c).unwrap_or_else(Chrome::anonymous),
                    title,
                    message,
                };
                match page.render() {
                    Ok(body) => (
                        status,
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        body,
                    )
                        .into_response(),
                    Err(_) => (status, title).into_response(),
                }
            }
        }
    }
}

/// A refusal to show next to the form that caused it.
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    /// For a 429: the seconds to send as `Retry-After`, as the API does.
    pub retry_after_seconds: Option<u64>,
}

impl Refusal {
    /// Adds `Retry-After` to the page showing this refusal, when it has one.
    pub fn add_retry_after(&self, response: &mut Response) {
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }

    pub fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
            retry_after_seconds: None,
        }
    }
}

/// Why a form's action did not happen: a refusal to show beside the form, or a failure that
/// gets an error page.
pub enum Failure {
    Refused(Refusal),
    Page(PageError),
}

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
    }
}

impl From<perksu_domain::Error> for Failure {
    fn from(error: perksu_domain::Error) -> Failure {
        let retry_after_seconds = match error.kind {
            ErrorKind::TooManyRequests {
                retry_after_seconds,
            } => Some(retry_after_seconds),
            _ => None,
        };
        Failure::Refused(Refusal {
            retry_after_seconds,
            ..Refusal::new(status_of(error.kind), error.detail)
        })
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Failure {
        if let Some(refusal) = error.as_refusal() {
            return Failure::from(refusal);
        }
        match error {
            StoreError::Domain(refusal) => Failure::from(refusal),
            other => Failure::Page(PageError::internal(other.to_string())),
        }
    }
}

impl From<PageError> for Failure {
    fn from(error: PageError) -> Failure {
        Failure::Page(error)
    }
}
