//! Usage reports for the platform admin: one tenant over a range of dates, by day, month or
//! year, from the store's `usage_report` (the call behind `/api/v1/points/reports/usage`), as
//! tables, a chart, and a CSV download in the API's CSV shape.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::{Error, Points};
use perksu_store::{ReportPeriod, TenantRow, UsageQuery, UsageReport, UsageRow, UsageTotals};
use serde::{Deserialize, Serialize};

use crate::chart::{columns, Bar};
use crate::csv;
use crate::format::points;
use crate::listing::{query, ListingQuery};
use crate::page::{pages, render, status_of, Chrome, Failure, PageError, Section};
use crate::session::{Admin, Viewer};
use crate::WebState;

const PATH: &str = "/admin/reports";

/// The report's filters, as typed.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ReportQuery {
    tenant: String,
    /// First day, `YYYY-MM-DD`.
    from: String,
    /// Last day, inclusive.
    to: String,
    /// `day`, `month` (the default) or `year`.
    period: String,
    #[serde(skip_serializing)]
    format: String,
}

/// Every figure of a report row: its CSV column (the API's), its label, its amount.
fn figures(totals: &UsageTotals) -> [(&'static str, &'static str, Points); 13] {
    [
        ("allocated", "Allocated", totals.allocated),
        ("reversed", "Reversed", totals.reversed),
        ("clawed_back", "Clawed back", totals.clawed_back),
        ("pool_expired", "Expired in the pool", totals.pool_expired),
        ("delegated", "Delegated", totals.delegated),
        ("recalled", "Recalled", totals.recalled),
        ("awarded", "Awarded", totals.awarded()),
        (
            "awarded_from_pool",
            "Awarded from the pool",
            totals.awarded_from_pool,
        ),
        (
            "awarded_from_leads",
            "Awarded from leads",
            totals.awarded_from_leads,
        ),
        (
            "held_for_redemption",
            "Held for orders",
            totals.held_for_redemption,
        ),
        ("refunded", "Refunded", totals.refunded),
        ("redeemed", "Redeemed", totals.redeemed),
        (
            "wallet_expired",
            "Expired in wallets",
            totals.wallet_expired,
        ),
    ]
}

struct Line {
    name: String,
    period: String,
    amounts: Vec<String>,
}

impl Line {
    fn new(row: &UsageRow) -> Line {
        Line {
            name: row.scope_name.clone(),
            period: row.period.clone(),
            amounts: figures(&row.totals)
                .iter()
                .map(|(_, _, amount)| points(*amount))
                .collect(),
        }
    }
}

struct TenantOption {
    id: String,
    name: String,
}

/// A report as the page shows it.
struct Shown {
    tenant_name: String,
    label: String,
    totals: Vec<(&'static str, String)>,
    chart_svg: String,
    chart_is_empty: bool,
    /// By period, by department, by lead.
    tables: Vec<RowTable>,
    csv_link: String,
}

/// One scope's rows under a heading.
struct RowTable {
    id: &'static str,
    heading: &'static str,
    first_column: &'static str,
    /// Said instead of an empty table.
    empty: &'static str,
    lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "admin/reports.html")]
struct ReportsPage {
    chrome: Chrome,
    tenants: Vec<TenantOption>,
    filters: ReportQuery,
    headings: Vec<&'static str>,
    error: Option<String>,
    report: Option<Shown>,
}

pages!(ReportsPage);

impl ReportQuery {
    /// The store's query, with the page's inclusive last day turned into the store's
    /// exclusive end, as the history pages do.
    fn usage_query(&self) -> Result<UsageQuery, Error> {
        let period = match self.period.trim() {
            "" => ReportPeriod::Month,
            word => ReportPeriod::parse(word).ok_or_else(|| {
                Error::invalid("invalid_query", "Period must be day, month or year")
            })?,
        };
        let dates = ListingQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            ..ListingQuery::default()
        }
        .filter(None, &[])?;
        Ok(UsageQuery {
            tenant_id: Some(self.tenant.trim().to_owned()),
            from: dates.from,
            to: dates.to,
            period,
        })
    }

    fn csv_link(&self) -> String {
        match serde_urlencoded::to_string(self) {
            Ok(text) => format!("{PATH}?{text}&format=csv"),
            Err(_) => PATH.to_owned(),
        }
    }
}

pub async fn show(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let filters: ReportQuery = query(raw)?;
    let chrome = || viewer.chrome(Section::AdminReports);
    let tenants = state
        .store
        .tenants(&viewer.actor)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let mut page = ReportsPage {
        chrome: chrome(),
        tenants: tenants
            .iter()
            .map(|t| TenantOption {
                id: t.id.clone(),
                name: t.name.clone(),
            })
            .collect(),
        filters: filters.clone(),
        headings: figures(&UsageTotals::default())
            .iter()
            .map(|(_, label, _)| *label)
            .collect(),
        error: None,
        report: None,
    };
    if filters.tenant.trim().is_empty() {
        return Ok(render(StatusCode::OK, &page));
    }
    match report(&state, &viewer, &filters).await {
        Ok(report) if filters.format == "csv" => Ok(csv::download(
            &format!("usage-{}.csv", slug_of(&tenants, &report.tenant_id)),
            usage_csv(&report),
        )),
        Ok(report) => {
            page.report = Some(shown(&report, &tenants, &filters));
            Ok(render(StatusCode::OK, &page))
        }
        Err(Failure::Refused(refusal)) => {
            page.error = Some(refusal.message);
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn report(
    state: &WebState,
    viewer: &Viewer,
    filters: &ReportQuery,
) -> Result<UsageReport, Failure> {
    let usage = filters
        .usage_query()
        .map_err(|error| Failure::Refused(refusal(error)))?;
    Ok(state.store.usage_report(&viewer.actor, usage).await?)
}

fn refusal(error: Error) -> crate::page::Refusal {
    crate::page::Refusal::new(status_of(error.kind), error.detail)
}

fn slug_of(tenants: &[TenantRow], id: &str) -> String {
    tenants
        .iter()
        .find(|t| t.id == id)
        .map_or_else(|| "tenant".to_owned(), |t| t.slug.clone())
}

fn shown(report: &UsageReport, tenants: &[TenantRow], filters: &ReportQuery) -> Shown {
    let label = tenants
        .iter()
        .find(|t| t.id == report.tenant_id)
        .map_or_else(|| "points".to_owned(), |t| t.currency_label.clone());
    let scoped = |(scope, id, heading, first_column, empty)| RowTable {
        id,
        heading,
        first_column,
        empty,
        lines: report
            .rows
            .iter()
            .filter(|row| row.scope == scope)
            .map(Line::new)
            .collect(),
    };
    let bars: Vec<Bar> = report
        .rows
        .iter()
        .filter(|row| row.scope == "tenant")
        .map(|row| Bar {
            label: row.period.clone(),
            value: row.totals.awarded(),
        })
        .collect();
    let description = format!(
        "{} {label} awarded in {} over the range, per period with any movement; the table \
         below lists every figure.",
        points(report.totals.awarded()),
        report.tenant_name
    );
    Shown {
        tenant_name: report.tenant_name.clone(),
        totals: figures(&report.totals)
            .iter()
            .map(|(_, name, amount)| (*name, points(*amount)))
            .collect(),
        chart_svg: columns(
            "usage-awarded",
            "Points awarded per period",
            &description,
            &label,
            &bars,
        ),
        chart_is_empty: bars.is_empty(),
        tables: [
            (
                "tenant",
                "periods",
                "By period",
                "Tenant",
                "Nothing moved in this range.",
            ),
            (
                "department",
                "departments",
                "By department",
                "Department",
                "No department's people received or spent points in this range.",
            ),
            (
                "lead",
                "leads",
                "By lead",
                "Lead",
                "No lead's balance moved in this range.",
            ),
        ]
        .into_iter()
        .map(scoped)
        .collect(),
        csv_link: filters.csv_link(),
        label,
    }
}

/// The report as the API's CSV has it, column for column and byte for byte.
fn usage_csv(report: &UsageReport) -> String {
    let names: Vec<&str> = figures(&UsageTotals::default())
        .iter()
        .map(|(name, _, _)| *name)
        .collect();
    let mut body = format!("scope,scope_id,scope_name,period,{}\n", names.join(","));
    for row in &report.rows {
        let amounts: Vec<String> = figures(&row.totals)
            .iter()
            .map(|(_, _, amount)| amount.to_string())
            .collect();
        body.push_str(&format!(
            "{},{},{},{},{}\n",
            row.scope,
            csv::field(&row.scope_id),
            csv::field(&row.scope_name),
            row.period,
            amounts.join(",")
        ));
    }
    body
}
