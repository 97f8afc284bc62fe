//! Checks on the text fields clients send, each returning the cleaned value or a clear 400.

use crate::error::Error;

/// Longest free text we keep (names, notes, messages): a limit on everything.
pub const MAX_TEXT_CHARS: usize = 2000;
const MAX_NAME_CHARS: usize = 200;

/// A required, trimmed, non-empty name.
pub fn name(field: &str, value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(
            "invalid_field",
            format!("{field} must not be empty"),
        ));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(
            "invalid_field",
            format!("{field} must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Optional free text (a note or a reason): trimmed, empty becomes none, bounded.
pub fn note(field: &str, value: Option<&str>) -> Result<Option<String>, Error> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::invalid(
            "invalid_field",
            format!("{field} must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// Required free text, such as a recognition message.
pub fn text(field: &str, value: &str) -> Result<String, Error> {
    note(field, Some(value))?
        .ok_or_else(|| Error::invalid("invalid_field", format!("{field} must not be empty")))
}

/// A tenant slug: lowercase letters, digits and dashes, 2 to 63 characters.
pub fn slug(value: &str) -> Result<String, Error> {
    let value = value.trim();
    let valid_chars = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if (2..=63).contains(&value.len()) && valid_chars && !value.starts_with('-') {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid(
            "invalid_slug",
            "slug must be 2 to 63 lowercase letters, digits or dashes",
        ))
    }
}

/// An email address, lowercased so that uniqueness ignores case.
pub fn email(value: &str) -> Result<String, Error> {
    let value = value.trim().to_lowercase();
    let well_formed = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        }
        None => false,
    };
    if well_formed && value.len() <= 254 && !value.contains(char::is_whitespace) {
        Ok(value)
    } else {
        Err(Error::invalid(
            "invalid_email",
            "email must be a valid address",
        ))
    }
}

pub fn password(value: &str) -> Result<(), Error> {
    let length = value.chars().count();
    if (8..=256).contains(&length) {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_password",
            "password must be 8 to 256 characters",
        ))
    }
}

/// A three-letter currency code such as INR.
pub fn currency(value: &str) -> Result<String, Error> {
    let value = value.trim().to_uppercase();
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(value)
    } else {
        Err(Error::invalid(
            "invalid_currency",
            "currency must be a three-letter code such as INR",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(email(" Ada@Example.COM "), Ok("ada@example.com".to_owned()));
        assert!(email("no-at-sign").is_err());
        assert!(email("a@b").is_err());
    }

    #[test]
    fn slugs_are_restricted() {
        assert!(slug("acme-corp").is_ok());
        assert!(slug("Acme").is_err());
        assert!(slug("-x").is_err());
    }
}
