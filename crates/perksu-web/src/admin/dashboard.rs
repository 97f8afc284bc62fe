//! The platform admin's dashboard at `/admin`: where the points are (the totals `perksu
//! verify` checks, from `Store::verify`), allocations and awards per day over the last 90 days
//! (the tenants' usage reports added up), the tenants whose pool is low or empty, the alerts
//! that fired last, and the grid of every tenant.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Days, NaiveDate};
use perksu_domain::stats::PoolState;
use perksu_domain::Points;
use perksu_store::{
    AlertFilter, AlertRow, ReportPeriod, TenantRow, Timestamp, UsageQuery, VerifyReport,
};

use super::TenantLine;
use crate::chart::{columns, Bar};
use crate::format::{points, pool_state_label, when};
use crate::page::{pages, render, Chrome, PageError, Section};
use crate::session::{Admin, Viewer};
use crate::WebState;

/// Days drawn in the charts, ending today.
const CHART_DAYS: u64 = 90;
/// Alerts listed, newest first.
const RECENT_ALERTS: i64 = 10;

/// One of the platform's totals.
struct Total {
    label: &'static str,
    amount: String,
}

/// A tenant whose pool needs funding.
struct LowPool {
    id: String,
    name: String,
    pool: String,
    label: String,
    state: &'static str,
    state_label: &'static str,
}

struct AlertLine {
    when: String,
    tenant: String,
    account_kind: String,
    balance: String,
    threshold: String,
    webhook: String,
}

/// A chart with the same numbers as a table beside it.
struct DailyChart {
    id: &'static str,
    heading: &'static str,
    /// The table's column: what each day's number is.
    column: &'static str,
    svg: String,
    total: String,
    days: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    totals: Vec<Total>,
    violations: usize,
    charts: Vec<DailyChart>,
    low_pools: Vec<LowPool>,
    alerts: Vec<AlertLine>,
    tenants: Vec<TenantLine>,
    low_or_empty: usize,
}

pages!(DashboardPage);

pub async fn show(
    State(state): State<WebState>,
    Admin(viewer): Admin,
) -> Result<Response, PageError> {
    let failed = |error| PageError::from_store(error, viewer.chrome(Section::AdminTenants));
    let store = &state.store;
    let rows = store.tenants(&viewer.actor).await.map_err(failed)?;
    let report = store.verify().await.map_err(failed)?;
    let alerts = store
        .alerts(
            &viewer.actor,
            AlertFilter {
                limit: RECENT_ALERTS,
                ..AlertFilter::default()
            },
        )
        .await
        .map_err(failed)?;
    let days = chart_days(&state);
    let per_day = daily_usage(&state, &viewer, &rows, &days).await?;
    let tenants: Vec<TenantLine> = rows.iter().map(TenantLine::from).collect();
    let low_or_empty = tenants.iter().filter(|t| t.state != "ready").count();
    let page = DashboardPage {
        chrome: viewer.chrome(Section::AdminTenants),
        totals: totals(&report),
        violations: report.violations.len(),
        charts: vec![
            chart(
                ("allocated", "Allocations, last 90 days", "Allocated"),
                &per_day,
                |d| d.0,
            ),
            chart(
                ("awarded", "Spending, last 90 days", "Awarded"),
                &per_day,
                |d| d.1,
            ),
        ],
        low_pools: low_pools(&rows),
        alerts: alert_lines(&alerts.items, &rows),
        tenants,
        low_or_empty,
    };
    Ok(render(StatusCode::OK, &page))
}

fn totals(report: &VerifyReport) -> Vec<Total> {
    [
        ("Issued by the platform", report.issued_net),
        ("In tenant pools", report.pools_total),
        ("With leads", report.leads_total),
        ("In wallets", report.wallets_total),
        ("Held for orders", report.holds_total),
        ("Redeemed", report.redeemed_total),
    ]
    .into_iter()
    .map(|(label, amount)| Total {
        label,
        amount: points(amount),
    })
    .collect()
}

/// The days charted, oldest first, ending with the store's today.
fn chart_days(state: &WebState) -> Vec<NaiveDate> {
    let now = state.store.now();
    let today = NaiveDate::parse_from_str(now.as_str().get(..10).unwrap_or_default(), "%Y-%m-%d")
        .unwrap_or_default();
    (0..CHART_DAYS)
        .rev()
        .filter_map(|back| today.checked_sub_days(Days::new(back)))
        .collect()
}

fn add(total: Points, amount: Points) -> Points {
    total.checked_add(amount).unwrap_or(Points::MAX)
}

/// `(allocated, awarded)` per day across every tenant: each tenant's usage report by day,
/// the same numbers `/api/v1/points/reports/usage` gives, added up.
async fn daily_usage(
    state: &WebState,
    viewer: &Viewer,
    tenants: &[TenantRow],
    days: &[NaiveDate],
) -> Result<BTreeMap<NaiveDate, (Points, Points)>, PageError> {
    let mut per_day: BTreeMap<NaiveDate, (Points, Points)> = days
        .iter()
        .map(|day| (*day, (Points::ZERO, Points::ZERO)))
        .collect();
    let from = days
        .first()
        .and_then(|first| Timestamp::parse_filter(&first.format("%Y-%m-%d").to_string()));
    for tenant in tenants {
        let query = UsageQuery {
            tenant_id: Some(tenant.id.clone()),
            from: from.clone(),
            to: None,
            period: ReportPeriod::Day,
        };
        let report = state
            .store
            .usage_report(&viewer.actor, query)
            .await
            .map_err(|error| PageError::from_store(error, viewer.chrome(Section::AdminTenants)))?;
        for row in report.rows.iter().filter(|row| row.scope == "tenant") {
            let Ok(day) = NaiveDate::parse_from_str(&row.period, "%Y-%m-%d") else {
                continue;
            };
            if let Some((allocated, awarded)) = per_day.get_mut(&day) {
                *allocated = add(*allocated, row.totals.allocated);
                *awarded = add(*awarded, row.totals.awarded());
            }
        }
    }
    Ok(per_day)
}

/// `(id, heading, column)` name the chart; `pick` chooses its number from each day's pair.
fn chart(
    (id, heading, column): (&'static str, &'static str, &'static str),
    per_day: &BTreeMap<NaiveDate, (Points, Points)>,
    pick: impl Fn(&(Points, Points)) -> Points,
) -> DailyChart {
    let bars: Vec<Bar> = per_day
        .iter()
        .map(|(day, values)| Bar {
            label: day.format("%d %b").to_string(),
            value: pick(values),
        })
        .collect();
    let total = bars
        .iter()
        .fold(Points::ZERO, |sum, bar| add(sum, bar.value));
    let description = format!(
        "{} points in the last {CHART_DAYS} days, across every tenant; the table below lists \
         each day.",
        points(total)
    );
    DailyChart {
        id,
        heading,
        column,
        svg: columns(id, heading, &description, "points", &bars),
        total: points(total),
        days: bars
            .iter()
            .rev()
            .map(|bar| (bar.label.clone(), points(bar.value)))
            .collect(),
    }
}

fn low_pools(tenants: &[TenantRow]) -> Vec<LowPool> {
    tenants
        .iter()
        .filter(|tenant| !matches!(tenant.pool_state(), PoolState::Ready))
        .map(|tenant| LowPool {
            id: tenant.id.clone(),
            name: tenant.name.clone(),
            pool: points(tenant.points_allocation_balance),
            label: tenant.currency_label.clone(),
            state: tenant.pool_state().as_str(),
            state_label: pool_state_label(tenant.pool_state()),
        })
        .collect()
}

fn alert_lines(alerts: &[AlertRow], tenants: &[TenantRow]) -> Vec<AlertLine> {
    alerts
        .iter()
        .map(|alert| AlertLine {
            when: when(&alert.created_at),
            tenant: tenants
                .iter()
                .find(|tenant| tenant.id == alert.tenant_id)
                .map_or_else(|| alert.tenant_id.clone(), |tenant| tenant.name.clone()),
            account_kind: alert.account_kind().to_owned(),
            balance: points(alert.balance),
            threshold: points(alert.threshold),
            webhook: alert
                .webhook_status
                .clone()
                .unwrap_or_else(|| "no webhook".into()),
        })
        .collect()
}
