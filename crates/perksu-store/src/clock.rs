//! The injected clock, and the one text form every timestamp is stored in.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};

/// Where "now" comes from. Tests inject a [`FixedClock`] to step over month ends and expiry.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that says what it was last set to.
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> FixedClock {
        FixedClock(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

/// A UTC instant stored as RFC 3339 text with microseconds (`2026-02-04T10:00:00.000000Z`).
/// Every stored timestamp has this exact width, so text order is time order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(String);

impl Timestamp {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads a client's date or date-time (`2026-02-04` or RFC 3339) for a filter.
    pub fn parse_filter(text: &str) -> Option<Timestamp> {
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Some(Timestamp::from(at.with_timezone(&Utc)));
        }
        let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        Some(Timestamp::from(date.and_hms_opt(0, 0, 0)?.and_utc()))
    }

    pub(crate) fn from_stored(text: String) -> Timestamp {
        Timestamp(text)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(at: DateTime<Utc>) -> Timestamp {
        Timestamp(at.to_rfc3339_opts(SecondsFormat::Micros, true))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
