//! The audit trail's listings under `/api/v1/points`: paginated, filterable, tenant-scoped.

use axum::extract::State;
use axum::Json;
use perksu_domain::Error;
use perksu_store::{AllocationLogRow, AuditFilter, BillingLogRow, JournalRow, WalletLedgerRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth};
use crate::wire::{amount, time_filter, PageBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(allocation_logs))
        .routes(routes!(billing_logs))
        .routes(routes!(wallet_ledger))
        .routes(routes!(journal))
}

/// Filters shared by the audit listings.
#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    tenant_id: Option<String>,
    /// Who acted: `allocated_by`, `admin_id`, `created_by` or the journal's `actor_id`.
    actor_id: Option<String>,
    /// `transaction_type` (billing), `source` (wallet ledger) or `kind` (journal).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
    /// Wallet ledger only: one user's lines.
    user_id: Option<String>,
    /// Inclusive start, a date (`2026-02-01`) or an RFC 3339 time.
    from: Option<String>,
    /// Exclusive end, a date or an RFC 3339 time.
    to: Option<String>,
    /// 1 to 200, default 50.
    limit: Option<i64>,
    offset: Option<i64>,
}

impl AuditQuery {
    fn into_filter(self) -> Result<AuditFilter, Error> {
        Ok(AuditFilter {
            tenant_id: self.tenant_id,
            actor_id: self.actor_id,
            kind: self.kind,
            user_id: self.user_id,
            from: time_filter("from", self.from.as_deref())?,
            to: time_filter("to", self.to.as_deref())?,
            limit: self.limit.unwrap_or(50),
            offset: self.offset.unwrap_or(0),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct AllocationLogBody {
    id: String,
    tenant_id: String,
    allocated_by: String,
    amount: String,
    currency: String,
    reference_note: Option<String>,
    previous_balance: String,
    new_balance: String,
    created_at: String,
    /// The sum of this allocation's reversals.
    reversed_amount: String,
    /// What a reversal may take back now: the part not yet reversed, at most the tenant's pool.
    reversible_amount: String,
    /// `active`, `partially_reversed` or `reversed`.
    status: String,
}

impl From<AllocationLogRow> for AllocationLogBody {
    fn from(r: AllocationLogRow) -> Self {
        AllocationLogBody {
            reversed_amount: amount(r.reversed_amount),
            reversible_amount: amount(r.reversible_amount()),
            status: r.status().as_str().to_owned(),
            id: r.id,
            tenant_id: r.tenant_id,
            allocated_by: r.allocated_by,
            amount: amount(r.amount),
            currency: r.currency,
            reference_note: r.reference_note,
            previous_balance: amount(r.previous_balance),
            new_balance: amount(r.new_balance),
            created_at: r.created_at.to_string(),
        }
    }
}

/// Allocations from the platform to tenants, newest first.
#[utoipa::path(get, path = "/allocation-logs", tag = "Audit", params(AuditQuery),
    responses((status = 200, body = PageBody<AllocationLogBody>), (status = 400, body = ErrorBody)))]
async fn allocation_logs(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<AuditQuery>,
) -> ApiResult<Json<PageBody<AllocationLogBody>>> {
    let page = state
        .store
        .allocation_logs(&auth.actor, query.into_filter()?)
        .await?;
    Ok(Json(PageBody::from_page(page, AllocationLogBody::from)))
}

#[derive(Serialize, ToSchema)]
pub struct BillingLogBody {
    id: String,
    tenant_id: String,
    admin_id: String,
    transaction_type: String,
    amount: String,
    currency: String,
    reference_note: Option<String>,
    created_at: String,
}

impl From<BillingLogRow> for BillingLogBody {
    fn from(r: BillingLogRow) -> Self {
        BillingLogBody {
            id: r.id,
            tenant_id: r.tenant_id,
            admin_id: r.admin_id,
            transaction_type: r.transaction_type,
            amount: amount(r.amount),
            currency: r.currency,
            reference_note: r.reference_note,
            created_at: r.created_at.to_string(),
        }
    }
}

/// The platform's billing trail: credit injections and clawbacks, newest first.
#[utoipa::path(get, path = "/billing-logs", tag = "Audit", params(AuditQuery),
    responses((status = 200, body = PageBody<BillingLogBody>), (status = 400, body = ErrorBody)))]
async fn billing_logs(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<AuditQuery>,
) -> ApiResult<Json<PageBody<BillingLogBody>>> {
    let page = state
        .store
        .billing_logs(&auth.actor, query.into_filter()?)
        .await?;
    Ok(Json(PageBody::from_page(page, BillingLogBody::from)))
}

#[derive(Serialize, ToSchema)]
pub struct WalletLedgerBody {
    id: String,
    tenant_id: String,
    wallet_id: String,
    user_id: String,
    /// `credit` or `debit`.
    transaction_type: String,
    /// `recognition`, `award`, ...
    source: String,
    amount: String,
    balance_after: String,
    reference_id: Option<String>,
    description: Option<String>,
    created_by: Option<String>,
    created_at: String,
}

impl From<WalletLedgerRow> for WalletLedgerBody {
    fn from(r: WalletLedgerRow) -> Self {
        WalletLedgerBody {
            id: r.id,
            tenant_id: r.tenant_id,
            wallet_id: r.wallet_id,
            user_id: r.user_id,
            transaction_type: r.transaction_type,
            source: r.source,
            amount: amount(r.amount),
            balance_after: amount(r.balance_after),
            reference_id: r.reference_id,
            description: r.description,
            created_by: r.created_by,
            created_at: r.created_at.to_string(),
        }
    }
}

/// Wallet lines: a tenant's (managers), or the caller's own (employees and leads).
#[utoipa::path(get, path = "/wallet-ledger", tag = "Audit", params(AuditQuery),
    responses((status = 200, body = PageBody<WalletLedgerBody>), (status = 400, body = ErrorBody)))]
async fn wallet_ledger(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<AuditQuery>,
) -> ApiResult<Json<PageBody<WalletLedgerBody>>> {
    let page = state
        .store
        .wallet_ledger(&auth.actor, query.into_filter()?)
        .await?;
    Ok(Json(PageBody::from_page(page, WalletLedgerBody::from)))
}

#[derive(Serialize, ToSchema)]
pub struct JournalBody {
    id: String,
    tenant_id: Option<String>,
    kind: String,
    debit_account: String,
    credit_account: String,
    amount: String,
    actor_id: Option<String>,
    reason: Option<String>,
    reference_id: Option<String>,
    created_at: String,
}

impl From<JournalRow> for JournalBody {
    fn from(r: JournalRow) -> Self {
        JournalBody {
            id: r.id,
            tenant_id: r.tenant_id,
            kind: r.kind,
            debit_account: r.debit_account,
            credit_account: r.credit_account,
            amount: amount(r.amount),
            actor_id: r.actor_id,
            reason: r.reason,
            reference_id: r.reference_id,
            created_at: r.created_at.to_string(),
        }
    }
}

/// Every movement between accounts (platform admins and tenant managers).
#[utoipa::path(get, path = "/journal", tag = "Audit", params(AuditQuery),
    responses((status = 200, body = PageBody<JournalBody>), (status = 403, body = ErrorBody)))]
async fn journal(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<AuditQuery>,
) -> ApiResult<Json<PageBody<JournalBody>>> {
    let page = state
        .store
        .journal(&auth.actor, query.into_filter()?)
        .await?;
    Ok(Json(PageBody::from_page(page, JournalBody::from)))
}
