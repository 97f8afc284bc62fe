//! Who is looking at a page: the session cookie, the form token derived from it, and the
//! extractors that gate pages by role.
//!
//! The session is the store's own login token (the same kind the JSON API hands out as a bearer
//! token), kept in the `perksu_session` cookie: `HttpOnly` so no script can read it, `Secure`
//! (browsers treat `http://localhost` and `http://127.0.0.1` as secure, so the demo works
//! without TLS), `SameSite=Lax` so another site's form posts arrive without it.
//!
//! Every form carries `csrf_token`, the hex SHA-256 of a fixed label and the session token.
//! Another site cannot read the session cookie, so it cannot compute the token; a post whose
//! token does not match is refused with a 403 before the handler runs. The login form has no
//! session yet, so it uses a double-submit token instead: a random value in the `perksu_csrf`
//! cookie that the form must repeat.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use perksu_domain::access::Actor;
use perksu_domain::Role;
use perksu_store::UserRow;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::page::{Chrome, PageError, Section};
use crate::WebState;

pub const SESSION_COOKIE: &str = "perksu_session";
pub const LOGIN_CSRF_COOKIE: &str = "perksu_csrf";
pub const FLASH_COOKIE: &str = "perksu_flash";

/// Longest cookie value read; anything longer is ignored as garbage.
const MAX_COOKIE_VALUE_BYTES: usize = 512;
/// Longest flash message kept, in bytes of text.
const MAX_FLASH_BYTES: usize = 200;
/// Seconds a flash message waits for the page it was meant for.
const FLASH_MAX_AGE_SECONDS: i64 = 60;

/// The value of cookie `name` in the request, if sent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty() && value.len() <= MAX_COOKIE_VALUE_BYTES)
}

/// A `Set-Cookie` value for one of our cookies. Values are hex or ASCII words, so no quoting
/// is needed.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: Option<i64>) -> HeaderValue {
    let max_age = max_age_seconds
        .map(|seconds| format!("; Max-Age={seconds}"))
        .unwrap_or_default();
    let text = format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Lax{max_age}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear_cookie(name: &str) -> HeaderValue {
    set_cookie(name, "", Some(0))
}

/// 32 random bytes as hex: login form tokens and form keys.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The form token of a session.
pub fn csrf_token(session_token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"perksu-web form token v1\n");
    hasher.update(session_token.as_bytes());
    hex::encode(hasher.finalize())
}

/// Compares two tokens in time that depends only on their lengths.
pub fn tokens_match(sent: &str, expected: &str) -> bool {
    let (sent, expected) = (sent.as_bytes(), expected.as_bytes());
    if sent.len() != expected.len() {
        return false;
    }
    sent.iter()
        .zip(expected)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

/// The `Set-Cookie` value carrying a message to the next page, hex-encoded.
pub fn flash_cookie(message: &str) -> HeaderValue {
    let mut end = message.len().min(MAX_FLASH_BYTES);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    set_cookie(
        FLASH_COOKIE,
        &hex::encode(&message.as_bytes()[..end]),
        Some(FLASH_MAX_AGE_SECONDS),
    )
}

/// The message a previous request left for this page, if any.
pub fn read_flash(headers: &HeaderMap) -> Option<String> {
    let bytes = hex::decode(cookie(headers, FLASH_COOKIE)?).ok()?;
    String::from_utf8(bytes)
        .ok()
        .filter(|message| !message.is_empty())
}

/// The double-submit token of the forms sent before there is a session (sign-in,
/// set-password): the one in the request's cookie, or a new one the response must set.
pub struct FormToken {
    pub value: String,
    fresh: bool,
}

impl FormToken {
    pub fn of(headers: &HeaderMap) -> FormToken {
        match cookie(headers, LOGIN_CSRF_COOKIE) {
            Some(value) => FormToken {
                value,
                fresh: false,
            },
            None => FormToken {
                value: random_token(),
                fresh: true,
            },
        }
    }

    /// Sets the token's cookie on `response` when the request had none.
    pub fn set_on(&self, response: &mut Response) {
        if self.fresh {
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(LOGIN_CSRF_COOKIE, &self.value, None),
            );
        }
    }

    /// Whether `sent` (the form's copy) matches the request's cookie.
    pub fn matches(headers: &HeaderMap, sent: &str) -> bool {
        cookie(headers, LOGIN_CSRF_COOKIE).is_some_and(|expected| tokens_match(sent, &expected))
    }
}

/// A signed-in person, from the session cookie. Without a live session a page redirects to
/// the login page.
pub struct Viewer {
    pub user: UserRow,
    pub actor: Actor,
    pub session_token: String,
    /// The token every form on the page must carry.
    pub csrf_token: String,
    /// A message left by the previous request (a post that redirected here).
    pub flash: Option<String>,
}

impl Viewer {
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.user.first_name, self.user.last_name);
        let name = name.trim();
        if name.is_empty() {
            self.user.email.clone()
        } else {
            name.to_owned()
        }
    }

    /// The page frame for this viewer, with `section` marked in the navigation.
    pub fn chrome(&self, section: Section) -> Chrome {
        Chrome::for_viewer(self, section)
    }
}

impl FromRequestParts<WebState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Viewer, PageError> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(PageError::SignIn)?;
        let user = state
            .store
            .authenticate(&token)
            .await
            .map_err(|error| PageError::internal(error.to_string()))?
            .ok_or(PageError::SignIn)?;
        Ok(Viewer {
            actor: user.actor(),
            user,
            csrf_token: csrf_token(&token),
            session_token: token,
            flash: read_flash(&parts.headers),
        })
    }
}

/// A platform admin; anyone else gets a 403 page.
pub struct Admin(pub Viewer);

impl FromRequestParts<WebState> for Admin {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Admin, PageError> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        if viewer.user.role != Role::PlatformAdmin {
            return Err(PageError::forbidden(Some(viewer.chrome(Section::None))));
        }
        Ok(Admin(viewer))
    }
}

/// A tenant manager; anyone else gets a 403 page.
pub struct Manager(pub Viewer);

impl FromRequestParts<WebState> for Manager {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Manager, PageError> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        if viewer.user.role != Role::TenantManager || viewer.user.tenant_id.is_none() {
            return Err(PageError::forbidden(Some(viewer.chrome(Section::None))));
        }
        Ok(Manager(viewer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; perksu_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, FLASH_COOKIE), None);
    }

    #[test]
    fn form_tokens_depend_on_the_session() {
        let token = csrf_token("session-one");
        assert!(tokens_match(&token, &csrf_token("session-one")));
        assert!(!tokens_match(&token, &csrf_token("session-two")));
        assert!(!tokens_match("", &token));
    }

    #[test]
    fn a_flash_survives_the_cookie_round_trip() {
        let value = flash_cookie("Allocated 500 Points: the pool now holds 1500.");
        let text = value.to_str().unwrap_or_default();
        let encoded = text
            .split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        let mut headers = HeaderMap::new();
        let cookie_header = format!("{FLASH_COOKIE}={encoded}");
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&cookie_header).unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(
            read_flash(&headers).as_deref(),
            Some("Allocated 500 Points: the pool now holds 1500.")
        );
    }
}
