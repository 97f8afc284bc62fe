//! Usage reports under `/api/v1/points/reports`, as JSON or CSV.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use perksu_domain::Error;
use perksu_store::{ReportPeriod, UsageQuery, UsageReport, UsageTotals};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth};
use crate::wire::{amount, csv_field, time_filter};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(usage_report))
}

#[derive(Deserialize, IntoParams)]
pub struct UsageParams {
    /// Platform admins name the tenant; managers get their own.
    tenant_id: Option<String>,
    /// Inclusive start, a date or an RFC 3339 time.
    from: Option<String>,
    /// Exclusive end, a date or an RFC 3339 time.
    to: Option<String>,
    /// `day`, `month` (default) or `year`.
    period: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TotalsBody {
    allocated: String,
    reversed: String,
    clawed_back: String,
    pool_expired: String,
    delegated: String,
    recalled: String,
    awarded: String,
    awarded_from_pool: String,
    awarded_from_leads: String,
    held_for_redemption: String,
    refunded: String,
    redeemed: String,
    wallet_expired: String,
}

impl From<&UsageTotals> for TotalsBody {
    fn from(t: &UsageTotals) -> Self {
        TotalsBody {
            allocated: amount(t.allocated),
            reversed: amount(t.reversed),
            clawed_back: amount(t.clawed_back),
            pool_expired: amount(t.pool_expired),
            delegated: amount(t.delegated),
            recalled: amount(t.recalled),
            awarded: amount(t.awarded()),
            awarded_from_pool: amount(t.awarded_from_pool),
            awarded_from_leads: amount(t.awarded_from_leads),
            held_for_redemption: amount(t.held_for_redemption),
            refunded: amount(t.refunded),
            redeemed: amount(t.redeemed),
            wallet_expired: amount(t.wallet_expired),
        }
    }
}

impl TotalsBody {
    const CSV_HEADER: &'static str = "allocated,reversed,clawed_back,pool_expired,delegated,\
        recalled,awarded,awarded_from_pool,awarded_from_leads,held_for_redemption,refunded,\
        redeemed,wallet_expired";

    fn csv(&self) -> String {
        [
            &self.allocated,
            &self.reversed,
            &self.clawed_back,
            &self.pool_expired,
            &self.delegated,
            &self.recalled,
            &self.awarded,
            &self.awarded_from_pool,
            &self.awarded_from_leads,
            &self.held_for_redemption,
            &self.refunded,
            &self.redeemed,
            &self.wallet_expired,
        ]
        .map(String::as_str)
        .join(",")
    }
}

#[derive(Serialize, ToSchema)]
pub struct UsageRowBody {
    /// `tenant`, `department` or `lead`.
    scope: String,
    scope_id: String,
    scope_name: String,
    period: String,
    #[serde(flatten)]
    totals: TotalsBody,
}

#[derive(Serialize, ToSchema)]
pub struct UsageReportBody {
    tenant_id: String,
    tenant_name: String,
    from: Option<String>,
    to: Option<String>,
    period: String,
    totals: TotalsBody,
    rows: Vec<UsageRowBody>,
}

impl From<UsageReport> for UsageReportBody {
    fn from(report: UsageReport) -> Self {
        UsageReportBody {
            tenant_id: report.tenant_id,
            tenant_name: report.tenant_name,
            from: report.from.map(|t| t.to_string()),
            to: report.to.map(|t| t.to_string()),
            period: match report.period {
                ReportPeriod::Day => "day",
                ReportPeriod::Month => "month",
                ReportPeriod::Year => "year",
            }
            .to_owned(),
            totals: TotalsBody::from(&report.totals),
            rows: report
                .rows
                .iter()
                .map(|row| UsageRowBody {
                    scope: row.scope.to_owned(),
                    scope_id: row.scope_id.clone(),
                    scope_name: row.scope_name.clone(),
                    period: row.period.clone(),
                    totals: TotalsBody::from(&row.totals),
                })
                .collect(),
        }
    }
}

fn to_csv(report: &UsageReportBody) -> String {
    let mut csv = format!(
        "scope,scope_id,scope_name,period,{}\n",
        TotalsBody::CSV_HEADER
    );
    for row in &report.rows {
        csv.push_str(&format!(
            "{},{},{},{},{}\n",
            row.scope,
            csv_field(&row.scope_id),
            csv_field(&row.scope_name),
            row.period,
            row.totals.csv()
        ));
    }
    csv
}

/// What was allocated, delegated, awarded, redeemed, expired and clawed back in a tenant, per
/// period and per department and lead. A closed period's report is the same byte for byte
/// every time it is run.
#[utoipa::path(get, path = "/reports/usage", tag = "Reports", params(UsageParams),
    responses((status = 200, body = UsageReportBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn usage_report(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(params): AppQuery<UsageParams>,
) -> ApiResult<Response> {
    let period = match params.period.as_deref() {
        None => ReportPeriod::Month,
        Some(word) => ReportPeriod::parse(word)
            .ok_or_else(|| Error::invalid("invalid_query", "period must be day, month or year"))?,
    };
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(Error::invalid("invalid_query", "format must be json or csv").into())
        }
    };
    let query = UsageQuery {
        tenant_id: params.tenant_id,
        from: time_filter("from", params.from.as_deref())?,
        to: time_filter("to", params.to.as_deref())?,
        period,
    };
    let report = UsageReportBody::from(state.store.usage_report(&auth.actor, query).await?);
    if csv {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"usage.csv\"",
                ),
            ],
            to_csv(&report),
        )
            .into_response());
    }
    Ok(Json(report).into_response())
}
