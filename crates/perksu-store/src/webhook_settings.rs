//! The checks on a tenant's alert webhook settings, for the JSON API and the manager's page
//! alike: where alerts are posted and the secret that signs them.

use perksu_domain::Error;

const MAX_URL_CHARS: usize = 2000;
const MIN_SECRET_CHARS: usize = 16;
const MAX_SECRET_CHARS: usize = 256;

/// A webhook URL a tenant may configure: absolute `http` or `https` with a host, no
/// credentials in it, at most 2000 characters.
pub fn validate_webhook_url(text: &str) -> Result<String, Error> {
    let refused =
        |why: &str| Error::invalid("invalid_webhook_url", format!("alert_webhook_url {why}"));
    let text = text.trim();
    if text.chars().count() > MAX_URL_CHARS {
        return Err(refused("must be at most 2000 characters"));
    }
    let url = url::Url::parse(text).map_err(|_| refused("must be an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refused("must use http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refused("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused(
            "must not carry credentials; the secret signs each request",
        ));
    }
    Ok(url.to_string())
}

/// A signing secret: 16 to 256 characters, no surrounding whitespace.
pub fn validate_webhook_secret(text: &str) -> Result<String, Error> {
    let length = text.chars().count();
    if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&length) || text.trim() != text {
        return Err(Error::invalid(
            "invalid_webhook_secret",
            "alert_webhook_secret must be 16 to 256 characters without surrounding spaces",
        ));
    }
    Ok(text.to_owned())
}
