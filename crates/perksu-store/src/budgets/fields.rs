//! The checks on a budget's fields, and how they read in the change log.

use perksu_domain::{Error, Points};

const MAX_BUDGET_NAME_CHARS: usize = 120;

pub(super) fn check_name(value: &str) -> Result<String, Error> {
    let value = value.trim();
    let length = value.chars().count();
    if value.is_empty() {
        return Err(Error::invalid("invalid_field", "name must not be empty"));
    }
    if length > MAX_BUDGET_NAME_CHARS {
        return Err(Error::invalid(
            "invalid_field",
            format!("name must be at most {MAX_BUDGET_NAME_CHARS} characters"),
        ));
    }
    Ok(value.to_owned())
}

pub(super) fn check_fiscal_year(year: i64) -> Result<i64, Error> {
    if (2000..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(Error::invalid(
            "invalid_field",
            "fiscal_year must be between 2000 and 2100",
        ))
    }
}

pub(super) fn check_fiscal_quarter(quarter: Option<i64>) -> Result<Option<i64>, Error> {
    match quarter {
        Some(q) if !(1..=4).contains(&q) => Err(Error::invalid(
            "invalid_field",
            "fiscal_quarter must be 1, 2, 3, 4 or null",
        )),
        other => Ok(other),
    }
}

/// A calendar date written exactly as `YYYY-MM-DD`.
pub(super) fn check_expiry_date(date: Option<String>) -> Result<Option<String>, Error> {
    let Some(date) = date else {
        return Ok(None);
    };
    let date = date.trim();
    let parsed = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok();
    match parsed {
        Some(day) if day.format("%Y-%m-%d").to_string() == date => Ok(Some(date.to_owned())),
        _ => Err(Error::invalid(
            "invalid_date",
            "expiry_date must be a calendar date written as YYYY-MM-DD",
        )),
    }
}

pub(super) fn check_total(total: Points) -> Result<Points, Error> {
    if total.hundredths() < 0 {
        return Err(Error::invalid(
            "invalid_amount",
            "total_points must not be negative",
        ));
    }
    Ok(total)
}

pub(super) fn period(year: i64, quarter: Option<i64>) -> String {
    match quarter {
        Some(q) => format!("FY{year} Q{q}"),
        None => format!("FY{year}"),
    }
}

pub(super) fn or_none(value: Option<&str>) -> String {
    value.unwrap_or("none").to_owned()
}
