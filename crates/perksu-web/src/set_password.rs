//! `/set-password`: the page an invitation mail links to, where an invited user chooses a
//! first password and is then sent to sign in.
//!
//! There is no session yet, so the form is protected as the login form is: a double-submit
//! token in the `perksu_csrf` cookie that the form repeats. The invitation token rides in the
//! address and then in a hidden field; the page's `Referrer-Policy: same-origin` keeps it from
//! leaking to other sites. A link that cannot be used (unknown, used, replaced, expired) gets
//! a 400 page saying what to do instead of a form.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use perksu_store::{readable_instant, InvitedUser, StoreError};
use serde::Deserialize;

use crate::forms::PlainForm;
use crate::listing::query;
use crate::page::{html, redirect_with_flash, Chrome, Failure, PageError};
use crate::session::FormToken;
use crate::WebState;

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage {
    chrome: Chrome,
    form_token: String,
    token: String,
    first_name: String,
    email: String,
    tenant_name: String,
    expires: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkQuery {
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SetPasswordFields {
    token: String,
    form_token: String,
    password: String,
    password_confirmation: String,
}

/// The form for `invited`, with the double-submit token (its cookie set when new).
fn form(
    status: StatusCode,
    headers: &HeaderMap,
    token: String,
    invited: InvitedUser,
    error: Option<String>,
) -> Response {
    let form_token = FormToken::of(headers);
    let page = SetPasswordPage {
        chrome: Chrome::anonymous(),
        form_token: form_token.value.clone(),
        token,
        first_name: invited.first_name,
        email: invited.email,
        tenant_name: invited
            .tenant_name
            .unwrap_or_else(|| "Perksu Points".into()),
        expires: readable_instant(&invited.expires_at),
        error,
    };
    let mut response = html(status, page.render());
    form_token.set_on(&mut response);
    response
}

/// A refusal about the link itself (unknown, used, replaced or expired).
fn is_about_the_link(error: &StoreError) -> bool {
    matches!(error, StoreError::Domain(refusal) if refusal.code.starts_with("invitation_"))
}

/// The page for a link that cannot be used, or the error page of any other failure.
fn unusable_link(error: StoreError) -> Response {
    let expired = matches!(&error, StoreError::Domain(refusal)
        if refusal.code == "invitation_expired");
    match Failure::from(error) {
        Failure::Refused(refusal) => PageError::Page {
            status: refusal.status,
            chrome: None,
            title: if expired {
                "Invitation link expired"
            } else {
                "Invitation link not valid"
            },
            message: refusal.message,
        }
        .into_response(),
        Failure::Page(page) => page.into_response(),
    }
}

/// `GET /set-password?token=...`: the form, or the page saying the link cannot be used.
pub async fn set_password_page(
    State(state): State<WebState>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let link = match query::<LinkQuery>(raw) {
        Ok(link) => link,
        Err(error) => return error.into_response(),
    };
    match state.store.invitation(&link.token).await {
        Ok(invited) => form(StatusCode::OK, &headers, link.token, invited, None),
        Err(error) => unusable_link(error),
    }
}

/// A form whose double-submit token is missing or wrong: refused before anything is read.
fn form_token_refused(headers: &HeaderMap) -> Response {
    let mut response = PageError::csrf().into_response();
    FormToken::of(headers).set_on(&mut response);
    response
}

/// `POST /set-password`: sets the password and sends the user to sign in, or shows the form
/// again with the refusal beside it.
pub async fn set_password(
    State(state): State<WebState>,
    headers: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    PlainForm(fields): PlainForm<SetPasswordFields>,
) -> Response {
    if !FormToken::matches(&headers, &fields.form_token) {
        return form_token_refused(&headers);
    }
    let invited = match state.store.invitation(&fields.token).await {
        Ok(invited) => invited,
        Err(error) => return unusable_link(error),
    };
    if fields.password != fields.password_confirmation {
        let error = "The two passwords do not match. Type the same password twice.";
        return form(
            StatusCode::BAD_REQUEST,
            &headers,
            fields.token,
            invited,
            Some(error.into()),
        );
    }
    let address = peer.map(|Extension(ConnectInfo(peer))| peer.ip());
    let accepted = state
        .store
        .accept_invitation(&fields.token, &fields.password, address)
        .await;
    match accepted {
        Ok(()) => redirect_with_flash(
            "/login",
            &format!("Your password is set. Sign in with {}.", invited.email),
        ),
        Err(error) if is_about_the_link(&error) => unusable_link(error),
        Err(error) => match Failure::from(error) {
            Failure::Refused(refusal) => {
                let mut response = form(
                    refusal.status,
                    &headers,
                    fields.token,
                    invited,
                    Some(refusal.message.clone()),
                );
                refusal.add_retry_after(&mut response);
                response
            }
            Failure::Page(page) => page.into_response(),
        },
    }
}
