//! Signing in and out, and the home address that sends each role to its own pages.

use askama::Template;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use perksu_domain::Role;
use serde::Deserialize;

use crate::forms::{CsrfForm, PlainForm};
use crate::page::{pages, render, Chrome, Failure, PageError};
use crate::session::{
    clear_cookie, read_flash, set_cookie, FormToken, Viewer, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::WebState;

/// The first page of each role.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::PlatformAdmin => "/admin",
        Role::TenantManager => "/manager",
        Role::Lead => "/lead",
        Role::Employee => "/me",
    }
}

/// `/`: the viewer's home, or the login page.
pub async fn home(viewer: Result<Viewer, PageError>) -> Response {
    match viewer {
        Ok(viewer) => Redirect::to(home_of(viewer.user.role)).into_response(),
        Err(error) => error.into_response(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    login_token: String,
    email: String,
    error: Option<String>,
}

pages!(LoginPage);

/// Renders the login form with the double-submit token, setting its cookie when new.
fn login_form(
    status: StatusCode,
    headers: &HeaderMap,
    email: String,
    error: Option<String>,
) -> Response {
    let login_token = FormToken::of(headers);
    // A flash from the set-password page ("your password is set") is shown once, here.
    let chrome = Chrome {
        flash: read_flash(headers),
        ..Chrome::anonymous()
    };
    let page = LoginPage {
        chrome,
        login_token: login_token.value.clone(),
        email,
        error,
    };
    let mut response = render(status, &page);
    login_token.set_on(&mut response);
    response
}

pub async fn login_page(headers: HeaderMap, viewer: Result<Viewer, PageError>) -> Response {
    if let Ok(viewer) = viewer {
        return Redirect::to(home_of(viewer.user.role)).into_response();
    }
    login_form(StatusCode::OK, &headers, String::new(), None)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginFields {
    email: String,
    password: String,
    login_token: String,
}

pub async fn login(
    State(state): State<WebState>,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    PlainForm(form): PlainForm<LoginFields>,
) -> Response {
    if !FormToken::matches(&headers, &form.login_token) {
        // Without the cookie the browser may be refusing `Secure` cookies: say so.
        let mut response = PageError::Page {
            status: StatusCode::FORBIDDEN,
            chrome: None,
            title: "Sign-in form expired",
            message: "The sign-in form could not be accepted: its security token is missing \
                      or does not match. Reload the sign-in page and try again. If this keeps \
                      happening, open the site as https://, http://localhost or \
                      http://127.0.0.1, where the browser keeps the sign-in cookie."
                .into(),
        }
        .into_response();
        FormToken::of(&headers).set_on(&mut response);
        return response;
    }
    let address = peer.map(|Extension(ConnectInfo(peer))| peer.ip());
    match state
        .store
        .login(&form.email, &form.password, address)
        .await
    {
        Ok(login) => {
            let mut response = Redirect::to(home_of(login.user.role)).into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &login.access_token, None),
            );
            // The login token has done its job; a fresh one comes with the next login form.
            headers.append(header::SET_COOKIE, clear_cookie(LOGIN_CSRF_COOKIE));
            response
        }
        Err(error) => match Failure::from(error) {
            Failure::Refused(refusal) => {
                let mut response = login_form(
                    refusal.status,
                    &headers,
                    form.email,
                    Some(refusal.message.clone()),
                );
                refusal.add_retry_after(&mut response);
                response
            }
            Failure::Page(page) => page.into_response(),
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LogoutFields {}

/// Ends the session on the server as well as in the browser.
pub async fn logout(
    State(state): State<WebState>,
    viewer: Result<Viewer, PageError>,
    CsrfForm(_): CsrfForm<LogoutFields>,
) -> Response {
    if let Ok(viewer) = viewer {
        if let Err(error) = state.store.logout(&viewer.session_token).await {
            return PageError::internal(error.to_string()).into_response();
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_cookie(SESSION_COOKIE));
    response
}
