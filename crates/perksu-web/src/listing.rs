//! What the history pages share: date and type filters from the query string, paging links,
//! and reading every page of a listing for a CSV export.

use std::future::Future;

use axum::extract::RawQuery;
use chrono::NaiveDate;
use perksu_domain::Error;
use perksu_store::{AuditFilter, Page, StoreResult, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::csv::MAX_ROWS;
use crate::page::PageError;

/// Rows on one page of a history table.
pub const PAGE_SIZE: i64 = 50;
/// Rows fetched per store call while exporting.
const EXPORT_BATCH: i64 = 200;

/// A query string read into `T`; malformed text is a 400 page.
pub fn query<T: DeserializeOwned + Default>(raw: RawQuery) -> Result<T, PageError> {
    match raw.0 {
        None => Ok(T::default()),
        Some(text) => serde_urlencoded::from_str(&text)
            .map_err(|_| PageError::bad_request("The address has a malformed query string.")),
    }
}

/// The filters of a history page, as typed (so the form shows them again).
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ListingQuery {
    /// First day shown, `YYYY-MM-DD`.
    pub from: String,
    /// Last day shown, inclusive.
    pub to: String,
    /// A movement or billing type, or empty for all.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing)]
    pub offset: String,
    /// `csv` for a download of every matching row.
    #[serde(skip_serializing)]
    pub format: String,
}

impl ListingQuery {
    pub fn wants_csv(&self) -> bool {
        self.format == "csv"
    }

    pub fn offset(&self) -> i64 {
        self.offset.trim().parse::<i64>().unwrap_or(0).max(0)
    }

    /// The store filter for these fields, or a refusal naming the field that is wrong.
    /// `kinds` are the accepted type words; any other is refused.
    pub fn filter(&self, tenant_id: Option<String>, kinds: &[&str]) -> Result<AuditFilter, Error> {
        // A listing without types ignores the field.
        let kind = if kinds.is_empty() {
            ""
        } else {
            self.kind.trim()
        };
        if !kind.is_empty() && !kinds.contains(&kind) {
            return Err(Error::invalid(
                "invalid_query",
                format!("Type must be one of: {}", kinds.join(", ")),
            ));
        }
        Ok(AuditFilter {
            tenant_id,
            actor_id: None,
            kind: (!kind.is_empty()).then(|| kind.to_owned()),
            user_id: None,
            from: day_start("From", &self.from, 0)?,
            // The page's end date is inclusive; the store's is exclusive.
            to: day_start("To", &self.to, 1)?,
            limit: PAGE_SIZE,
            offset: self.offset(),
        })
    }

    /// This page's address with `offset`, keeping the filters.
    pub fn link(&self, path: &str, offset: i64) -> String {
        let mut pairs = self.pairs();
        if offset > 0 {
            pairs.push(("offset", offset.to_string()));
        }
        with_query(path, &pairs)
    }

    /// The CSV download of everything these filters match.
    pub fn csv_link(&self, path: &str) -> String {
        let mut pairs = self.pairs();
        pairs.push(("format", "csv".to_owned()));
        with_query(path, &pairs)
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        [("from", &self.from), ("to", &self.to), ("type", &self.kind)]
            .into_iter()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(name, value)| (name, value.trim().to_owned()))
            .collect()
    }
}

fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    match serde_urlencoded::to_string(pairs) {
        Ok(query) => format!("{path}?{query}"),
        Err(_) => path.to_owned(),
    }
}

/// The start of `text`'s day plus `days_after` days, or none when empty.
fn day_start(label: &str, text: &str, days_after: u64) -> Result<Option<Timestamp>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let refused = || {
        Error::invalid(
            "invalid_date",
            format!("{label} must be a date such as 2026-02-01"),
        )
    };
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| refused())?;
    let date = date
        .checked_add_days(chrono::Days::new(days_after))
        .ok_or_else(refused)?;
    Timestamp::parse_filter(&date.format("%Y-%m-%d").to_string())
        .map(Some)
        .ok_or_else(refused)
}

/// Previous and next links under a table.
pub struct Pager {
    pub summary: String,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new<T>(page: &Page<T>, query: &ListingQuery, path: &str) -> Pager {
        let shown = page.items.len() as i64;
        let summary = if page.total == 0 {
            "No rows match.".to_owned()
        } else {
            format!(
                "Rows {} to {} of {}.",
                page.offset + 1,
                page.offset + shown,
                page.total
            )
        };
        Pager {
            summary,
            previous: (page.offset > 0)
                .then(|| query.link(path, (page.offset - page.limit).max(0))),
            next: (page.offset + shown < page.total)
                .then(|| query.link(path, page.offset + page.limit)),
        }
    }
}

/// Every row a filter matches, up to [`MAX_ROWS`], fetched a batch at a time.
pub async fn every_row<T, F, Fut>(mut filter: AuditFilter, mut fetch: F) -> StoreResult<Vec<T>>
where
    F: FnMut(AuditFilter) -> Fut,
    Fut: Future<Output = StoreResult<Page<T>>>,
{
    let mut rows = Vec::new();
    filter.offset = 0;
    filter.limit = EXPORT_BATCH;
    loop {
        let page = fetch(filter.clone()).await?;
        let fetched = page.items.len() as i64;
        rows.extend(page.items);
        filter.offset += fetched;
        if fetched == 0 || filter.offset >= page.total || filter.offset >= MAX_ROWS {
            break;
        }
    }
    rows.truncate(MAX_ROWS as usize);
    Ok(rows)
}
