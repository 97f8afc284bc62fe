//! Spending charts: points awarded (recognitions and awards, from the pool or from leads) per
//! day or week over the last few periods, and per department over the same range, from the
//! store's usage report.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, Days, NaiveDate};
use perksu_domain::{Error, Points};
use perksu_store::{ReportPeriod, Timestamp, UsageQuery, UsageReport};
use serde::Deserialize;

use crate::chart::{columns, rows, Bar};
use crate::format::points;
use crate::listing::query;
use crate::page::{pages, render, Chrome, Failure, PageError, Section};
use crate::session::{Manager, Viewer};
use crate::WebState;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Bucket {
    Day,
    Week,
}

impl Bucket {
    fn limits(self) -> (u32, u32, u32) {
        // (fewest, default, most) periods shown.
        match self {
            Bucket::Day => (7, 30, 90),
            Bucket::Week => (4, 12, 52),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SpendingQuery {
    /// `day` or `week`.
    period: String,
    /// How many periods, ending with the current one.
    periods: String,
}

struct Row {
    label: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "manager/spending.html")]
struct SpendingPage {
    chrome: Chrome,
    weekly: bool,
    periods: u32,
    period_choices: Vec<u32>,
    range: String,
    total: String,
    currency_label: String,
    over_time_svg: String,
    over_time: Vec<Row>,
    by_department_svg: String,
    by_department: Vec<Row>,
    error: Option<String>,
}

pages!(SpendingPage);

fn parse(query: &SpendingQuery) -> Result<(Bucket, u32), Error> {
    let bucket = match query.period.trim() {
        "" | "day" => Bucket::Day,
        "week" => Bucket::Week,
        _ => {
            return Err(Error::invalid(
                "invalid_query",
                "Period must be day or week",
            ))
        }
    };
    let (fewest, default, most) = bucket.limits();
    let periods = match query.periods.trim() {
        "" => default,
        text => text
            .parse::<u32>()
            .ok()
            .filter(|n| (fewest..=most).contains(n))
            .ok_or_else(|| {
                Error::invalid(
                    "invalid_query",
                    format!("Periods must be a whole number from {fewest} to {most}"),
                )
            })?,
    };
    Ok((bucket, periods))
}

/// The first day of each period shown, oldest first.
fn period_starts(today: NaiveDate, bucket: Bucket, periods: u32) -> Vec<NaiveDate> {
    let (last, step) = match bucket {
        Bucket::Day => (today, 1),
        Bucket::Week => (
            today - Days::new(u64::from(today.weekday().num_days_from_monday())),
            7,
        ),
    };
    (0..u64::from(periods))
        .rev()
        .filter_map(|back| last.checked_sub_days(Days::new(back * step)))
        .collect()
}

fn today(state: &WebState) -> NaiveDate {
    let now = state.store.now();
    NaiveDate::parse_from_str(now.as_str().get(..10).unwrap_or_default(), "%Y-%m-%d")
        .unwrap_or_default()
}

fn add(total: Points, amount: Points) -> Points {
    total.checked_add(amount).unwrap_or(Points::MAX)
}

pub async fn show(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let request: SpendingQuery = query(raw)?;
    let (status, error, bucket, periods) = match parse(&request) {
        Ok((bucket, periods)) => (StatusCode::OK, None, bucket, periods),
        Err(error) => (
            crate::page::status_of(error.kind),
            Some(error.detail),
            Bucket::Day,
            Bucket::Day.limits().1,
        ),
    };
    let starts = period_starts(today(&state), bucket, periods);
    let report = match report(&state, &viewer, &starts).await {
        Ok(report) => report,
        Err(Failure::Refused(refusal)) => {
            return Err(PageError::Page {
                status: refusal.status,
                chrome: Some(Box::new(viewer.chrome(Section::ManagerSpending))),
                title: "Cannot show spending",
                message: refusal.message,
            })
        }
        Err(Failure::Page(error)) => return Err(error),
    };
    let departments = state
        .store
        .departments(&viewer.actor, None)
        .await
        .map_err(|e| PageError::from_store(e, viewer.chrome(Section::ManagerSpending)))?;
    let tenant = state
        .store
        .tenant(&viewer.actor, &report.tenant_id)
        .await
        .map_err(|e| PageError::from_store(e, viewer.chrome(Section::ManagerSpending)))?;
    let label = tenant.currency_label;

    // Days into their period: the latest start on or before the day.
    let mut per_period: BTreeMap<NaiveDate, Points> =
        starts.iter().map(|start| (*start, Points::ZERO)).collect();
    let mut per_department: BTreeMap<String, (String, Points)> = departments
        .into_iter()
        .map(|d| (d.id, (d.name, Points::ZERO)))
        .collect();
    for row in &report.rows {
        let awarded = row.totals.awarded();
        match row.scope {
            "tenant" => {
                let Ok(day) = NaiveDate::parse_from_str(&row.period, "%Y-%m-%d") else {
                    continue;
                };
                if let Some((_, total)) = per_period.range_mut(..=day).next_back() {
                    *total = add(*total, awarded);
                }
            }
            "department" => {
                let entry = per_department
                    .entry(row.scope_id.clone())
                    .or_insert_with(|| (row.scope_name.clone(), Points::ZERO));
                entry.1 = add(entry.1, awarded);
            }
            _ => {}
        }
    }
    let weekly = bucket == Bucket::Week;
    let time_bars: Vec<Bar> = per_period
        .iter()
        .map(|(start, value)| Bar {
            label: if weekly {
                format!("w/c {}", start.format("%d %b"))
            } else {
                start.format("%d %b").to_string()
            },
            value: *value,
        })
        .collect();
    let mut department_bars: Vec<Bar> = per_department
        .into_values()
        .map(|(name, value)| Bar { label: name, value })
        .collect();
    department_bars.sort_by(|a, b| b.value.cmp(&a.value).then(a.label.cmp(&b.label)));
    let total = time_bars
        .iter()
        .fold(Points::ZERO, |sum, bar| add(sum, bar.value));
    let unit_word = if weekly { "week" } else { "day" };
    let range = match (starts.first(), starts.last()) {
        (Some(first), Some(_)) => format!(
            "The last {periods} {unit_word}s, from {}.",
            first.format("%d %B %Y")
        ),
        _ => String::new(),
    };
    let to_rows = |bars: &[Bar]| -> Vec<Row> {
        bars.iter()
            .map(|bar| Row {
                label: bar.label.clone(),
                amount: points(bar.value),
            })
            .collect()
    };
    let page = SpendingPage {
        chrome: viewer.chrome(Section::ManagerSpending),
        weekly,
        periods,
        period_choices: if weekly {
            vec![4, 8, 12, 26, 52]
        } else {
            vec![7, 14, 30, 60, 90]
        },
        range,
        total: points(total),
        over_time_svg: columns(
            "over-time",
            &format!("Points awarded per {unit_word}"),
            &format!("{} {label} awarded over the last {periods} {unit_word}s; the table below lists each {unit_word}.", points(total)),
            &label,
            &time_bars,
        ),
        over_time: to_rows(&time_bars),
        by_department_svg: if department_bars.is_empty() {
            String::new()
        } else {
            rows(
                "by-department",
                "Points awarded by department",
                "Points awarded to each department's people over the same range; the table below lists them.",
                &label,
                &department_bars,
            )
        },
        by_department: to_rows(&department_bars),
        currency_label: label,
        error,
    };
    Ok(render(status, &page))
}

async fn report(
    state: &WebState,
    viewer: &Viewer,
    starts: &[NaiveDate],
) -> Result<UsageReport, Failure> {
    let from = starts
        .first()
        .and_then(|first| Timestamp::parse_filter(&first.format("%Y-%m-%d").to_string()));
    Ok(state
        .store
        .usage_report(
            &viewer.actor,
            UsageQuery {
                tenant_id: None,
                from,
                to: None,
                period: ReportPeriod::Day,
            },
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_end_with_this_one() {
        let wednesday = NaiveDate::from_ymd_opt(2026, 2, 4).unwrap_or_default();
        let starts = period_starts(wednesday, Bucket::Week, 3);
        let expected: Vec<NaiveDate> = [(1, 19), (1, 26), (2, 2)]
            .iter()
            .filter_map(|(m, d)| NaiveDate::from_ymd_opt(2026, *m, *d))
            .collect();
        assert_eq!(starts, expected);
        assert_eq!(period_starts(wednesday, Bucket::Day, 7).len(), 7);
    }
}
