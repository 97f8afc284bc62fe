//! The spec's allocation API under `/api/v1/points`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use perksu_domain::validate;
use perksu_store::{
    AllocateCommand, AllocationOutcome, AwardCommand, AwardOutcome, ClawbackCommand,
    ClawbackOutcome, DelegateCommand, DelegationOutcome, RecallCommand, RecallOutcome,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth, Movement};
use crate::movement;
use crate::wire::{amount, optional_positive, AmountField};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(allocate_to_tenant))
        .routes(routes!(tenant_allocation_stats))
        .routes(routes!(delegate_to_lead))
        .routes(routes!(recall_from_lead))
        .routes(routes!(award_to_user))
        .routes(routes!(clawback))
}

#[derive(Deserialize, ToSchema)]
pub struct AllocateRequest {
    tenant_id: String,
    amount: AmountField,
    currency: Option<String>,
    reference_note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AllocateResponse {
    success: bool,
    tenant_id: String,
    amount_allocated: String,
    previous_balance: String,
    new_allocation_balance: String,
    currency: String,
    allocation_log_id: String,
    billing_log_id: String,
    journal_entry_id: String,
}

impl From<AllocationOutcome> for AllocateResponse {
    fn from(o: AllocationOutcome) -> Self {
        AllocateResponse {
            success: true,
            tenant_id: o.tenant_id,
            amount_allocated: amount(o.amount_allocated),
            previous_balance: amount(o.previous_balance),
            new_allocation_balance: amount(o.new_allocation_balance),
            currency: o.currency,
            allocation_log_id: o.allocation_log_id,
            billing_log_id: o.billing_log_id,
            journal_entry_id: o.journal_entry_id,
        }
    }
}

/// Allocate points from the platform to a tenant's pool (platform admin).
#[utoipa::path(post, path = "/allocate-to-tenant", tag = "Points",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = AllocateRequest,
    responses((status = 200, body = AllocateResponse), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn allocate_to_tenant(
    State(state): State<AppState>,
    auth: Auth,
    request: Movement<AllocateRequest>,
) -> ApiResult<Response> {
    let body = &request.body;
    let command = AllocateCommand {
        tenant_id: body.tenant_id.clone(),
        amount: body.amount.positive("amount")?,
        currency: body
            .currency
            .as_deref()
            .map(validate::currency)
            .transpose()?,
        reference_note: validate::note("reference_note", body.reference_note.as_deref())?,
    };
    let actor = auth.actor.clone();
    movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            tx.allocate_to_tenant(&actor, command)
                .await
                .map(AllocateResponse::from)
        })
    })
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct StatsQuery {
    /// For platform admins: the tenant to show.
    tenant_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StatsResponse {
    tenant_id: String,
    tenant_name: String,
    points_allocation_balance: String,
    currency: String,
    currency_label: String,
    status: String,
    funding_mode: String,
    low_balance_threshold: String,
    /// `empty`, `low` or `ready`.
    balance_state: String,
    message: String,
}

/// The tenant's pool, with a message saying whether it is empty, low or ready.
#[utoipa::path(get, path = "/tenant-allocation-stats", tag = "Points", params(StatsQuery),
    responses((status = 200, body = StatsResponse), (status = 404, body = ErrorBody)))]
async fn tenant_allocation_stats(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<StatsQuery>,
) -> ApiResult<Json<StatsResponse>> {
    let stats = state
        .store
        .tenant_stats(&auth.actor, query.tenant_id.as_deref())
        .await?;
    let tenant = stats.tenant;
    Ok(Json(StatsResponse {
        tenant_id: tenant.id,
        tenant_name: tenant.name,
        points_allocation_balance: amount(tenant.points_allocation_balance),
        currency: tenant.currency,
        currency_label: tenant.currency_label,
        status: tenant.status.as_str().to_owned(),
        funding_mode: tenant.funding_mode.as_str().to_owned(),
        low_balance_threshold: amount(tenant.low_balance_threshold),
        balance_state: stats.state.as_str().to_owned(),
        message: stats.message,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct DelegateRequest {
    lead_id: String,
    amount: AmountField,
    delegation_note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DelegateResponse {
    success: bool,
    tenant_id: String,
    lead_id: String,
    amount_delegated: String,
    new_allocation_balance: String,
    lead_distribution_balance: String,
    journal_entry_id: String,
}

impl From<DelegationOutcome> for DelegateResponse {
    fn from(o: DelegationOutcome) -> Self {
        DelegateResponse {
            success: true,
            tenant_id: o.tenant_id,
            lead_id: o.lead_id,
            amount_delegated: amount(o.amount_delegated),
            new_allocation_balance: amount(o.new_allocation_balance),
            lead_distribution_balance: amount(o.lead_distribution_balance),
            journal_entry_id: o.journal_entry_id,
        }
    }
}

/// Move points from the tenant's pool to a lead's distribution balance (tenant manager).
#[utoipa::path(post, path = "/delegate-to-lead", tag = "Points",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = DelegateRequest,
    responses((status = 200, body = DelegateResponse), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delegate_to_lead(
    State(state): State<AppState>,
    auth: Auth,
    request: Movement<DelegateRequest>,
) -> ApiResult<Response> {
    let body = &request.body;
    let command = DelegateCommand {
        lead_id: body.lead_id.clone(),
        amount: body.amount.positive("amount")?,
        delegation_note: validate::note("delegation_note", body.delegation_note.as_deref())?,
    };
    let actor = auth.actor.clone();
    movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            tx.delegate_to_lead(&actor, command)
                .await
                .map(DelegateResponse::from)
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct RecallRequest {
    lead_id: String,
    /// Absent: the lead's whole balance.
    amount: Option<AmountField>,
    note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RecallResponse {
    success: bool,
    tenant_id: String,
    lead_id: String,
    amount_recalled: String,
    new_allocation_balance: String,
    lead_distribution_balance: String,
    journal_entry_id: String,
}

impl From<RecallOutcome> for RecallResponse {
    fn from(o: RecallOutcome) -> Self {
        RecallResponse {
            success: true,
            tenant_id: o.tenant_id,
            lead_id: o.lead_id,
            amount_recalled: amount(o.amount_recalled),
            new_allocation_balance: amount(o.new_allocation_balance),
            lead_distribution_balance: amount(o.lead_distribution_balance),
            journal_entry_id: o.journal_entry_id,
        }
    }
}

/// Return a lead's delegated points to the tenant's pool (tenant manager).
#[utoipa::path(post, path = "/recall-from-lead", tag = "Points",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = RecallRequest,
    responses((status = 200, body = RecallResponse), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn recall_from_lead(
    State(state): State<AppState>,
    auth: Auth,
    request: Movement<RecallRequest>,
) -> ApiResult<Response> {
    let body = &request.body;
    let command = RecallCommand {
        lead_id: body.lead_id.clone(),
        amount: optional_positive("amount", &body.amount)?,
        note: validate::note("note", body.note.as_deref())?,
    };
    let actor = auth.actor.clone();
    movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            tx.recall_from_lead(&actor, command)
                .await
                .map(RecallResponse::from)
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct AwardRequest {
    to_user_id: String,
    amount: AmountField,
    recognition_message: String,
    recognition_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AwardResponse {
    success: bool,
    tenant_id: String,
    from_user_id: String,
    to_user_id: String,
    amount_awarded: String,
    /// `pool` or `lead_balance`.
    funding_source: String,
    /// The pool (tenant manager) or lead balance (lead) after the award.
    source_balance_after: String,
    recipient_wallet_balance: String,
    wallet_ledger_id: String,
    journal_entry_id: String,
}

impl From<AwardOutcome> for AwardResponse {
    fn from(o: AwardOutcome) -> Self {
        AwardResponse {
            success: true,
            tenant_id: o.tenant_id,
            from_user_id: o.from_user_id,
            to_user_id: o.to_user_id,
            amount_awarded: amount(o.amount_awarded),
            funding_source: o.funding_source.to_owned(),
            source_balance_after: amount(o.source_balance_after),
            recipient_wallet_balance: amount(o.recipient_wallet_balance),
            wallet_ledger_id: o.wallet_ledger_id,
            journal_entry_id: o.journal_entry_id,
        }
    }
}

/// Award points to a user's wallet: a tenant manager from the pool, a lead from their balance.
#[utoipa::path(post, path = "/award-to-user", tag = "Points",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = AwardRequest,
    responses((status = 200, body = AwardResponse), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn award_to_user(
    State(state): State<AppState>,
    auth: Auth,
    request: Movement<AwardRequest>,
) -> ApiResult<Response> {
    let body = &request.body;
    let command = AwardCommand {
        to_user_id: body.to_user_id.clone(),
        amount: body.amount.positive("amount")?,
        recognition_message: validate::text("recognition_message", &body.recognition_message)?,
        recognition_id: body.recognition_id.clone(),
    };
    let actor = auth.actor.clone();
    movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            tx.award_to_user(&actor, command)
                .await
                .map(AwardResponse::from)
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct ClawbackRequest {
    reason: Option<String>,
    /// Absent: the whole pool.
    amount: Option<AmountField>,
}

#[derive(Serialize, ToSchema)]
pub struct ClawbackResponse {
    success: bool,
    tenant_id: String,
    amount_clawed_back: String,
    new_allocation_balance: String,
    currency: String,
    billing_log_id: String,
    journal_entry_id: String,
}

impl From<ClawbackOutcome> for ClawbackResponse {
    fn from(o: ClawbackOutcome) -> Self {
        ClawbackResponse {
            success: true,
            tenant_id: o.tenant_id,
            amount_clawed_back: amount(o.amount_clawed_back),
            new_allocation_balance: amount(o.new_allocation_balance),
            currency: o.currency,
            billing_log_id: o.billing_log_id,
            journal_entry_id: o.journal_entry_id,
        }
    }
}

/// Return a tenant's pool points to the platform: all of them, or `amount` (platform admin).
#[utoipa::path(post, path = "/clawback/{tenant_id}", tag = "Points",
    params(("tenant_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = ClawbackRequest,
    responses((status = 200, body = ClawbackResponse), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn clawback(
    State(state): State<AppState>,
    auth: Auth,
    Path(tenant_id): Path<String>,
    request: Movement<ClawbackRequest>,
) -> ApiResult<Response> {
    let body = &request.body;
    let command = ClawbackCommand {
        tenant_id,
        amount: optional_positive("amount", &body.amount)?,
        reason: validate::note("reason", body.reason.as_deref())?,
    };
    let actor = auth.actor.clone();
    movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            tx.clawback(&actor, command)
                .await
                .map(ClawbackResponse::from)
        })
    })
    .await
}
