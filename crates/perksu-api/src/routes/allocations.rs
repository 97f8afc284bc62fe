//! Bulk allocation to many tenants and audited reversal of one allocation, under
//! `/api/v1/points`.

use std::sync::{Arc, OnceLock};

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use perksu_domain::{validate, Error};
use perksu_store::{
    BulkAllocateCommand, BulkAllocationOutcome, BulkEntry, BulkEntryOutcome, RefusedEntry,
    ReversalOutcome, ReverseAllocationCommand,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Movement};
use crate::movement;
use crate::routes::audit::AllocationLogBody;
use crate::wire::{amount, optional_positive, AmountField};
use crate::AppState;

/// The body limit of a bulk request: room for the largest one (500 entries) with a note of
/// about 1,500 characters on each. Every other request keeps the app-wide limit.
const BULK_MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bulk_allocate))
        .layer(DefaultBodyLimit::max(BULK_MAX_BODY_BYTES))
        .routes(routes!(allocation_log))
        .routes(routes!(reverse_allocation))
}

#[derive(Deserialize, ToSchema)]
pub struct BulkAllocateRequest {
    /// One entry per tenant, at most 500, no tenant twice.
    allocations: Vec<BulkAllocationItem>,
    /// Every tenant must be billed in this currency, when given.
    currency: Option<String>,
    /// The note of every entry that has none of its own.
    reference_note: Option<String>,
    /// Report what would happen and change nothing.
    #[serde(default)]
    dry_run: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct BulkAllocationItem {
    tenant_id: String,
    amount: AmountField,
    reference_note: Option<String>,
}

/// One tenant's result: what was (or would be) allocated, or why not.
#[derive(Serialize, ToSchema)]
pub struct BulkResultBody {
    tenant_id: String,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_allocated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_allocation_balance: Option<String>,
    /// Only when the allocations were committed: otherwise no log was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    allocation_log_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorBody>,
}

impl BulkResultBody {
    /// `committed`: the allocations were kept, so their log ids exist.
    fn new(entry: BulkEntryOutcome, committed: bool) -> BulkResultBody {
        let tenant_id = entry.tenant_id;
        match entry.result {
            Ok(o) => BulkResultBody {
                tenant_id,
                ok: true,
                amount_allocated: Some(amount(o.amount_allocated)),
                new_allocation_balance: Some(amount(o.new_allocation_balance)),
                allocation_log_id: committed.then_some(o.allocation_log_id),
                error: None,
            },
            Err(error) => BulkResultBody {
                tenant_id,
                ok: false,
                amount_allocated: None,
                new_allocation_balance: None,
                allocation_log_id: None,
                error: Some(ErrorBody {
                    detail: error.detail,
                    code: error.code.to_owned(),
                    request_id: None,
                }),
            },
        }
    }

    fn all(outcome: BulkAllocationOutcome, committed: bool) -> Vec<BulkResultBody> {
        outcome
            .entries
            .into_iter()
            .map(|entry| BulkResultBody::new(entry, committed))
            .collect()
    }
}

/// A committed bulk allocation, or a dry run's report.
#[derive(Serialize, ToSchema)]
pub struct BulkAllocateResponse {
    /// Every entry was (or, on a dry run, would be) allocated.
    success: bool,
    dry_run: bool,
    allocated: usize,
    refused: usize,
    /// In request order.
    results: Vec<BulkResultBody>,
}

impl BulkAllocateResponse {
    fn new(outcome: BulkAllocationOutcome, dry_run: bool) -> BulkAllocateResponse {
        let refused = outcome.refused();
        let allocated = outcome.entries.len() - refused;
        BulkAllocateResponse {
            success: refused == 0,
            dry_run,
            allocated,
            refused,
            results: BulkResultBody::all(outcome, !dry_run),
        }
    }
}

/// A bulk allocation that was refused as a whole: our error body, plus every tenant's result.
#[derive(Serialize, ToSchema)]
pub struct BulkRefusalBody {
    detail: String,
    /// `bulk_allocation_refused`.
    code: String,
    refused: usize,
    /// In request order; the entries marked `ok` would have been allocated.
    results: Vec<BulkResultBody>,
}

/// The 400 of a bulk allocation: its refusal with every entry's result, or the plain error
/// body of a request refused before any entry was looked at (malformed JSON, a bad note).
pub struct BulkBadRequestBody;

impl utoipa::PartialSchema for BulkBadRequestBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, Ref};
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(BulkRefusalBody::name()))
            .item(Ref::from_schema_name(ErrorBody::name()))
            .into()
    }
}

impl ToSchema for BulkBadRequestBody {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::Schema>)>) {
        use utoipa::PartialSchema;
        schemas.push((
            BulkRefusalBody::name().into_owned(),
            BulkRefusalBody::schema(),
        ));
        BulkRefusalBody::schemas(schemas);
        schemas.push((ErrorBody::name().into_owned(), ErrorBody::schema()));
    }
}

const BULK_REFUSED: &str = "bulk_allocation_refused";

impl BulkRefusalBody {
    fn new(outcome: BulkAllocationOutcome) -> BulkRefusalBody {
        let refused = outcome.refused();
        let total = outcome.entries.len();
        BulkRefusalBody {
            detail: format!(
                "{refused} of {total} allocations were refused, so none was made; see results"
            ),
            code: BULK_REFUSED.to_owned(),
            refused,
            results: BulkResultBody::all(outcome, false),
        }
    }

    fn error(&self) -> Error {
        Error::invalid(BULK_REFUSED, self.detail.clone())
    }
}

/// Allocate to many tenants at once (platform admin): all of them, or none.
///
/// With `dry_run` the allocations run in a transaction that is rolled back, and the answer is
/// what a commit would do now (an `Idempotency-Key` is ignored, as nothing is kept). A commit
/// answers 200 when every entry was allocated, and 400 `bulk_allocation_refused` with every
/// entry's result when any was refused; then nothing was allocated.
#[utoipa::path(post, path = "/bulk-allocate", tag = "Points",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = BulkAllocateRequest,
    responses((status = 200, body = BulkAllocateResponse), (status = 400, body = BulkBadRequestBody,
                description = "`bulk_allocation_refused` with every entry's result, or a malformed request"),
              (status = 403, body = ErrorBody)))]
async fn bulk_allocate(
    State(state): State<AppState>,
    auth: Auth,
    request: Movement<BulkAllocateRequest>,
) -> ApiResult<Response> {
    let body = &request.body;
    let command = BulkAllocateCommand {
        entries: body.allocations.iter().map(bulk_entry).collect(),
        currency: body
            .currency
            .as_deref()
            .map(validate::currency)
            .transpose()?,
        reference_note: validate::note("reference_note", body.reference_note.as_deref())?,
    };
    if body.dry_run {
        let outcome = state
            .store
            .dry_run_bulk_allocation(&auth.actor, command)
            .await?;
        return Ok(Json(BulkAllocateResponse::new(outcome, true)).into_response());
    }
    // `movement::run` rolls back on an error and answers with our plain error body. A refused
    // bulk allocation must roll back too (the idempotency claim with it, so a corrected retry
    // runs afresh), but answer with every entry's result: the operation leaves them here.
    let refusal: Arc<OnceLock<BulkRefusalBody>> = Arc::default();
    let refusal_slot = Arc::clone(&refusal);
    let actor = auth.actor.clone();
    let result = movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            let outcome = tx.bulk_allocate(&actor, command).await?;
            if outcome.all_allocated() {
                return Ok(BulkAllocateResponse::new(outcome, false));
            }
            let refused = BulkRefusalBody::new(outcome);
            let error = refused.error();
            let _ = refusal_slot.set(refused);
            Err(error.into())
        })
    })
    .await;
    match (
        result,
        Arc::into_inner(refusal).and_then(OnceLock::into_inner),
    ) {
        (Err(ApiError::Refused(error)), Some(refused)) if error.code == BULK_REFUSED => {
            Ok((StatusCode::BAD_REQUEST, Json(refused)).into_response())
        }
        (result, _) => result,
    }
}

/// An entry as the store takes it, or its refusal (reported in place with the others).
fn bulk_entry(item: &BulkAllocationItem) -> Result<BulkEntry, RefusedEntry> {
    let parse = || -> Result<BulkEntry, Error> {
        Ok(BulkEntry {
            tenant_id: item.tenant_id.clone(),
            amount: item.amount.positive("amount")?,
            reference_note: validate::note("reference_note", item.reference_note.as_deref())?,
        })
    };
    parse().map_err(|error| RefusedEntry {
        tenant_id: item.tenant_id.clone(),
        error,
    })
}

/// One allocation with its reversal state. Tenant users see their own tenant's.
#[utoipa::path(get, path = "/allocation-logs/{id}", tag = "Audit", params(("id" = String, Path)),
    responses((status = 200, body = AllocationLogBody), (status = 404, body = ErrorBody)))]
async fn allocation_log(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<AllocationLogBody>> {
    let log = state.store.allocation_log(&auth.actor, &id).await?;
    Ok(Json(AllocationLogBody::from(log)))
}

#[derive(Deserialize, ToSchema)]
pub struct ReverseRequest {
    /// Absent: everything reversible.
    amount: Option<AmountField>,
    /// Why; required.
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReverseResponse {
    success: bool,
    reversal_id: String,
    amount_reversed: String,
    /// The tenant's pool after the reversal.
    new_allocation_balance: String,
    billing_log_id: String,
    journal_entry_id: String,
    /// The allocation as it stands now.
    allocation: AllocationLogBody,
}

impl From<ReversalOutcome> for ReverseResponse {
    fn from(o: ReversalOutcome) -> Self {
        ReverseResponse {
            success: true,
            reversal_id: o.reversal_id,
            amount_reversed: amount(o.amount_reversed),
            new_allocation_balance: amount(o.new_allocation_balance),
            billing_log_id: o.billing_log_id,
            journal_entry_id: o.journal_entry_id,
            allocation: AllocationLogBody::from(o.allocation),
        }
    }
}

/// Take back (part of) one allocation, pool → platform (platform admin).
///
/// Only what is not yet reversed and still in the tenant's pool can be reversed; asking for
/// more is a 400 that says how much can, and moves nothing.
#[utoipa::path(post, path = "/allocation-logs/{id}/reverse", tag = "Points",
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = ReverseRequest,
    responses((status = 200, body = ReverseResponse), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reverse_allocation(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    request: Movement<ReverseRequest>,
) -> ApiResult<Response> {
    let body = &request.body;
    let command = ReverseAllocationCommand {
        allocation_log_id: id,
        amount: optional_positive("amount", &body.amount)?,
        reason: validate::text("reason", body.reason.as_deref().unwrap_or_default())?,
    };
    let actor = auth.actor.clone();
    movement::run(&state, &auth, &request, StatusCode::OK, move |tx| {
        Box::pin(async move {
            tx.reverse_allocation(&actor, command)
                .await
                .map(ReverseResponse::from)
        })
    })
    .await
}
