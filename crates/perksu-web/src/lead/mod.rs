//! The lead's page under `/lead`: the distribution balance a manager delegated (and the lead's
//! allocation in the active budget, if any), the form that awards a team member, and the
//! recognitions the lead gave. Awards go through the same store call as
//! `POST /api/recognitions`, funded in the documented order: the lead balance when it covers
//! the whole amount, else the tenant's pool.

use askama::Template;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use perksu_domain::Role;
use perksu_store::{BudgetStatus, RecognitionRow, StoreResult};

use crate::format::{points, when};
use crate::forms::CsrfForm;
use crate::me::recognise::{form_options, give, FormOptions, RecognitionFields};
use crate::me::{chrome, funding_words, type_words, Area, People};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{random_token, Viewer};
use crate::WebState;

const PAGE: &str = "/lead";
const AWARD: &str = "/lead/award";
/// Recognitions read per store call while looking for the lead's own.
const BATCH: i64 = 200;
/// Batches read at most.
const MAX_BATCHES: i64 = 5;
/// Awards listed in the history.
const HISTORY_ROWS: usize = 50;

pub fn router() -> Router<WebState> {
    Router::new()
        .route(PAGE, get(show))
        .route(AWARD, post(award))
}

/// A lead of a tenant; anyone else gets a 403 page.
pub struct Lead(pub Viewer);

impl FromRequestParts<WebState> for Lead {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Lead, PageError> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        if viewer.user.role != Role::Lead || viewer.user.tenant_id.is_none() {
            return Err(PageError::forbidden(Some(viewer.chrome(Section::None))));
        }
        Ok(Lead(viewer))
    }
}

/// The lead's share of the tenant's active budget.
struct AllocationCard {
    budget: String,
    allocated: String,
    spent: String,
    remaining: String,
    expiry: Option<String>,
}

/// One recognition the lead gave.
struct AwardLine {
    id: String,
    when: String,
    recipients: String,
    kind: &'static str,
    tier: Option<String>,
    points: String,
    funding: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "lead/home.html")]
struct LeadPage {
    chrome: Chrome,
    currency_label: String,
    balance: String,
    allocation: Option<AllocationCard>,
    form: RecognitionFields,
    error: Option<String>,
    options: FormOptions,
    history: Vec<AwardLine>,
}

pages!(LeadPage);

async fn allocation(state: &WebState, viewer: &Viewer) -> StoreResult<Option<AllocationCard>> {
    let store = &state.store;
    let budgets = store
        .budgets(&viewer.actor, Some(BudgetStatus::Active))
        .await?;
    let Some(budget) = budgets.into_iter().next() else {
        return Ok(None);
    };
    let leads = store.budget_leads(&viewer.actor, &budget.id).await?;
    Ok(leads
        .into_iter()
        .find(|a| a.lead_id == viewer.user.id)
        .map(|a| AllocationCard {
            budget: budget.name.clone(),
            allocated: points(a.allocated_points),
            spent: points(a.spent_points),
            remaining: points(a.remaining_points()),
            expiry: budget.expiry_date.clone(),
        }))
}

/// The latest recognitions the lead gave, read from the tenant's recognitions the lead may
/// see (`GET /api/recognitions`).
async fn given(state: &WebState, viewer: &Viewer) -> StoreResult<Vec<RecognitionRow>> {
    let mut mine = Vec::new();
    for batch in 0..MAX_BATCHES {
        let rows = state
            .store
            .recognitions(&viewer.actor, BATCH, batch * BATCH)
            .await?;
        let fetched = rows.len() as i64;
        mine.extend(
            rows.into_iter()
                .filter(|r| r.from_user_id == viewer.user.id),
        );
        if fetched < BATCH || mine.len() >= HISTORY_ROWS {
            break;
        }
    }
    mine.truncate(HISTORY_ROWS);
    Ok(mine)
}

async fn page(
    state: &WebState,
    viewer: &Viewer,
    mut form: RecognitionFields,
    error: Option<String>,
) -> Result<LeadPage, PageError> {
    let chrome = || chrome(viewer, Area::Lead);
    let store = &state.store;
    let tenant_id = viewer
        .actor
        .own_tenant()
        .map_err(|e| PageError::from_store(e.into(), chrome()))?;
    let tenant = store
        .tenant(&viewer.actor, tenant_id)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    // Read again: the balance may have moved since the session's row was read.
    let me = store
        .user(&viewer.actor, &viewer.user.id)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let options = form_options(state, viewer, &form, true)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let allocation = allocation(state, viewer)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let people = People::load(state, viewer)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let history = given(state, viewer)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?
        .iter()
        .map(|r| AwardLine {
            id: r.id.clone(),
            when: when(&r.created_at),
            recipients: r
                .recipients
                .iter()
                .map(|share| people.name(&share.user_id))
                .collect::<Vec<_>>()
                .join(", "),
            kind: type_words(&r.recognition_type),
            tier: r.award_tier.clone(),
            points: points(r.points),
            funding: funding_words(&r.funding_source),
            message: r.message.clone(),
        })
        .collect();
    form.form_key = random_token();
    Ok(LeadPage {
        chrome: chrome(),
        currency_label: tenant.currency_label,
        balance: points(me.lead_distribution_balance),
        allocation,
        form,
        error,
        options,
        history,
    })
}

pub async fn show(
    State(state): State<WebState>,
    Lead(viewer): Lead,
) -> Result<Response, PageError> {
    let page = page(&state, &viewer, RecognitionFields::default(), None).await?;
    Ok(render(StatusCode::OK, &page))
}

pub async fn award(
    State(state): State<WebState>,
    Lead(viewer): Lead,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = RecognitionFields::from_pairs(pairs);
    match give(&state, &viewer, &form, AWARD).await {
        Ok(message) => Ok(redirect_with_flash(PAGE, &message)),
        Err(Failure::Refused(refusal)) => {
            let page = page(&state, &viewer, form, Some(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}
