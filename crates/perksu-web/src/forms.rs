//! Form posts: reading them (with the form token checked first), parsing their fields the way
//! the API parses JSON, and running a point movement once per submitted form.

use std::future::Future;
use std::pin::Pin;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use perksu_domain::{AmountError, Error, Points};
use perksu_store::{Claim, StoreResult, WriteTx};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::page::{Failure, PageError, Refusal};
use crate::session::{cookie, csrf_token, tokens_match, Viewer, SESSION_COOKIE};
use crate::WebState;

/// A form post whose `csrf_token` matches the session in the same request's cookie. Anything
/// else is a 403 page, and the handler never runs.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<WebState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &WebState) -> Result<CsrfForm<T>, PageError> {
        let session = cookie(request.headers(), SESSION_COOKIE);
        let body = read_body(request, state).await?;
        let pairs = pairs(&body)?;
        let sent = field(&pairs, "csrf_token");
        match (sent, session) {
            (Some(sent), Some(session)) if tokens_match(sent, &csrf_token(&session)) => {}
            _ => return Err(PageError::csrf()),
        }
        parse(&body).map(CsrfForm)
    }
}

/// A form post with no session behind it yet (the login form); the handler checks its
/// double-submit token.
pub struct PlainForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<WebState> for PlainForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &WebState) -> Result<PlainForm<T>, PageError> {
        let body = read_body(request, state).await?;
        pairs(&body)?;
        parse(&body).map(PlainForm)
    }
}

async fn read_body(request: Request, state: &WebState) -> Result<Bytes, PageError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                PageError::bad_request("The form is larger than the server accepts.")
            } else {
                PageError::bad_request("The form could not be read.")
            }
        })
}

/// The decoded fields. A NUL character is refused here: PostgreSQL cannot store it.
fn pairs(body: &[u8]) -> Result<Vec<(String, String)>, PageError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| PageError::bad_request("The form could not be read."))?;
    if pairs
        .iter()
        .any(|(name, value)| name.contains('\0') || value.contains('\0'))
    {
        return Err(PageError::bad_request(
            "The form must not contain NUL characters.",
        ));
    }
    Ok(pairs)
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, PageError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|error| PageError::bad_request(format!("The form could not be read: {error}.")))
}

/// Amount text from a form, parsed exactly as the API parses a string amount.
fn parse_amount(label: &str, text: &str) -> Result<Points, Error> {
    let text = text.trim();
    Points::parse(text).map_err(|error| {
        let error = match error {
            AmountError::NotANumber if text.starts_with('-') => AmountError::Negative,
            other => other,
        };
        Error::amount(label, error)
    })
}

/// A required amount above zero.
pub fn positive_amount(label: &str, text: &str) -> Result<Points, Error> {
    if text.trim().is_empty() {
        return Err(Error::invalid(
            "invalid_amount",
            format!("{label} is required"),
        ));
    }
    let points = parse_amount(label, text)?;
    if points.is_zero() {
        return Err(Error::amount(label, AmountError::NotPositive));
    }
    Ok(points)
}

/// An amount of zero or more; empty means zero.
pub fn non_negative_amount(label: &str, text: &str) -> Result<Points, Error> {
    if text.trim().is_empty() {
        return Ok(Points::ZERO);
    }
    parse_amount(label, text)
}

/// An amount left empty for "all of it", or one above zero.
pub fn optional_positive_amount(label: &str, text: &str) -> Result<Option<Points>, Error> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    positive_amount(label, text).map(Some)
}

/// An amount that may be cleared: empty means none.
pub fn optional_amount(label: &str, text: &str) -> Result<Option<Points>, Error> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_amount(label, text).map(Some)
}

/// A whole number from a form, or a refusal naming it.
pub fn whole_number(label: &str, text: &str) -> Result<i64, Error> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| Error::invalid("invalid_field", format!("{label} must be a whole number")))
}

/// A whole number that may be left empty.
pub fn optional_whole_number(label: &str, text: &str) -> Result<Option<i64>, Error> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    whole_number(label, text).map(Some)
}

/// A future borrowing the transaction it runs in.
pub type TxFuture<'t, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 't>>;

/// Runs a point movement from a form in one transaction, at most once per `form_key` (a random
/// key put in the form when it was rendered): a form posted twice, by a double click or a
/// retry, moves points once, and the second post gets the first one's message back.
/// `fingerprint` names the request (path and fields), so a key reused for other values is
/// refused.
pub async fn run_movement<T>(
    store: &perksu_store::Store,
    viewer: &Viewer,
    form_key: &str,
    fingerprint: &str,
    operation: impl for<'t> FnOnce(&'t mut WriteTx) -> TxFuture<'t, T>,
    message: impl FnOnce(&T) -> String,
) -> Result<String, Failure> {
    let user_id = viewer.user.id.as_str();
    let key = (!form_key.trim().is_empty()).then(|| format!("web:{}", form_key.trim()));
    let request_hash = hex::encode(Sha256::digest(fingerprint.as_bytes()));
    let mut tx = store.begin().await?;
    if let Some(key) = key.as_deref() {
        match tx.claim_idempotency_key(user_id, key, &request_hash).await {
            Ok(Claim::Fresh) => {}
            Ok(Claim::Replay { body, .. }) => {
                tx.rollback().await?;
                return Ok(body);
            }
            Ok(Claim::Mismatch) => {
                tx.rollback().await?;
                return Err(Failure::Refused(Refusal::new(
                    StatusCode::CONFLICT,
                    "This form was already sent with other values. Reload the page and try \
                     again.",
                )));
            }
            Err(error) => {
                let _ = tx.rollback().await;
                return Err(error.into());
            }
        }
    }
    let outcome = match operation(&mut tx).await {
        Ok(outcome) => outcome,
        Err(error) => {
            // Nothing the operation wrote survives, the form key's claim included.
            let _ = tx.rollback().await;
            return Err(error.into());
        }
    };
    let message = message(&outcome);
    if let Some(key) = key.as_deref() {
        if let Err(error) = tx
            .record_idempotent_response(user_id, key, StatusCode::OK.as_u16(), &message)
            .await
        {
            let _ = tx.rollback().await;
            return Err(error.into());
        }
    }
    tx.commit().await?;
    Ok(message)
}

/// Runs a write that moves no points in its own transaction.
pub async fn run_write<T>(
    store: &perksu_store::Store,
    operation: impl for<'t> FnOnce(&'t mut WriteTx) -> TxFuture<'t, T>,
) -> Result<T, Failure> {
    let mut tx = store.begin().await?;
    match operation(&mut tx).await {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            let _ = tx.rollback().await;
            Err(error.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_parsed_like_the_api_parses_them() {
        assert_eq!(
            positive_amount("Amount", " 12.5 "),
            Ok(Points::from_hundredths(1250))
        );
        assert!(positive_amount("Amount", "0").is_err());
        assert!(positive_amount("Amount", "").is_err());
        assert!(positive_amount("Amount", "1.234").is_err());
        let negative = positive_amount("Amount", "-5").err().map(|e| e.detail);
        assert_eq!(negative.as_deref(), Some("Amount must not be negative"));
        assert_eq!(optional_positive_amount("Amount", "  "), Ok(None));
        assert_eq!(non_negative_amount("Threshold", ""), Ok(Points::ZERO));
    }
}
