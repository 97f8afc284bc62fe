//! Bulk allocation: several tenants and amounts at once, typed into rows or pasted as
//! `tenant_slug,amount` lines, with a dry run that shows each pool before and after and one
//! all-or-nothing commit through the store's `bulk_allocate`, as the API's bulk endpoint.

mod form;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::{validate, Entity, Error, Points};
use perksu_store::{
    BulkAllocateCommand, BulkAllocationOutcome, BulkEntry, RefusedEntry, TenantRow,
};

use crate::format::points;
use crate::forms::{positive_amount, run_movement, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{random_token, Admin, Viewer};
use crate::WebState;

use form::BulkForm;

const PATH: &str = "/admin/allocations/bulk";
/// Tenants named in a success message; the rest are counted.
const NAMED_IN_MESSAGE: usize = 10;

/// One tenant's line in the dry run or refusal table.
struct ResultLine {
    tenant: String,
    before: String,
    amount: String,
    after: String,
    refusal: Option<String>,
}

struct TenantOption {
    slug: String,
    name: String,
}

#[derive(Template)]
#[template(path = "admin/bulk.html")]
struct BulkPage {
    chrome: Chrome,
    tenants: Vec<TenantOption>,
    rows: Vec<(String, String)>,
    lines: String,
    note: String,
    form_key: String,
    error: Option<String>,
    /// A heading for `results`: a dry run's or a refused commit's.
    results_title: String,
    results: Vec<ResultLine>,
}

pages!(BulkPage);

impl BulkPage {
    fn new(viewer: &Viewer, tenants: &[TenantRow], form: &BulkForm) -> BulkPage {
        BulkPage {
            chrome: viewer.chrome(Section::AdminBulk),
            tenants: tenants
                .iter()
                .map(|t| TenantOption {
                    slug: t.slug.clone(),
                    name: t.name.clone(),
                })
                .collect(),
            rows: form.rows_to_show(),
            lines: form.lines.clone(),
            note: form.note.clone(),
            // Each rendering gets a new key, so a commit sent twice allocates once.
            form_key: random_token(),
            error: None,
            results_title: String::new(),
            results: Vec::new(),
        }
    }
}

async fn tenants(state: &WebState, viewer: &Viewer) -> Result<Vec<TenantRow>, PageError> {
    state
        .store
        .tenants(&viewer.actor)
        .await
        .map_err(|error| PageError::from_store(error, viewer.chrome(Section::AdminBulk)))
}

pub async fn show(
    State(state): State<WebState>,
    Admin(viewer): Admin,
) -> Result<Response, PageError> {
    let tenants = tenants(&state, &viewer).await?;
    let page = BulkPage::new(&viewer, &tenants, &BulkForm::default());
    Ok(render(StatusCode::OK, &page))
}

/// The store's command for what was asked. A slug that names no tenant, or an amount that
/// does not parse, is an entry refused in its place, as the API reports a bad entry.
fn command(
    requested: &[(String, String)],
    by_slug: &HashMap<&str, &TenantRow>,
    note: Option<String>,
) -> BulkAllocateCommand {
    let entry = |(slug, amount): &(String, String)| {
        let tenant = by_slug.get(slug.as_str());
        let tenant_id = tenant.map_or_else(|| slug.clone(), |t| t.id.clone());
        let parsed = tenant
            .ok_or_else(|| Error::not_found(Entity::Tenant))
            .and_then(|_| positive_amount("Amount", amount));
        match parsed {
            Ok(amount) => Ok(BulkEntry {
                tenant_id,
                amount,
                reference_note: None,
            }),
            Err(error) => Err(RefusedEntry { tenant_id, error }),
        }
    };
    BulkAllocateCommand {
        entries: requested.iter().map(entry).collect(),
        currency: None,
        reference_note: note,
    }
}

fn result_lines(
    outcome: &BulkAllocationOutcome,
    requested: &[(String, String)],
    by_slug: &HashMap<&str, &TenantRow>,
) -> Vec<ResultLine> {
    outcome
        .entries
        .iter()
        .zip(requested)
        .map(|(entry, (slug, amount))| {
            let tenant = by_slug.get(slug.as_str());
            let name = tenant.map_or_else(|| slug.clone(), |t| format!("{} ({slug})", t.name));
            match &entry.result {
                Ok(done) => ResultLine {
                    tenant: name,
                    before: points(done.previous_balance),
                    amount: points(done.amount_allocated),
                    after: points(done.new_allocation_balance),
                    refusal: None,
                },
                Err(error) => ResultLine {
                    tenant: name,
                    before: tenant
                        .map_or_else(|| "—".to_owned(), |t| points(t.points_allocation_balance)),
                    amount: amount.clone(),
                    after: "—".to_owned(),
                    refusal: Some(error.detail.clone()),
                },
            }
        })
        .collect()
}

pub async fn submit(
    State(state): State<WebState>,
    Admin(viewer): Admin,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = BulkForm::from_pairs(pairs);
    let tenants = tenants(&state, &viewer).await?;
    let by_slug: HashMap<&str, &TenantRow> = tenants.iter().map(|t| (t.slug.as_str(), t)).collect();
    let mut page = BulkPage::new(&viewer, &tenants, &form);
    let parsed = form.requested().and_then(|requested| {
        let note = validate::note("Note", Some(&form.note))?;
        Ok((requested, note))
    });
    let (requested, note) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            let status = crate::page::status_of(error.kind);
            page.error = Some(error.detail);
            return Ok(render(status, &page));
        }
    };
    let command = command(&requested, &by_slug, note);
    if form.intent != "commit" {
        return dry_run(&state, &viewer, command, &requested, &by_slug, page).await;
    }
    let fingerprint = fingerprint(&requested, &form.note);
    let refused: Arc<OnceLock<BulkAllocationOutcome>> = Arc::default();
    let names: HashMap<String, String> = tenants
        .iter()
        .map(|t| (t.id.clone(), t.name.clone()))
        .collect();
    let sent = Sent {
        form_key: &form.form_key,
        fingerprint: &fingerprint,
        names,
    };
    match commit(&state, &viewer, sent, command, &refused).await {
        Ok(message) => Ok(redirect_with_flash(PATH, &message)),
        Err(Failure::Refused(refusal)) => {
            if let Some(outcome) = refused.get() {
                page.results_title = "Refused: nothing was allocated".into();
                page.results = result_lines(outcome, &requested, &by_slug);
            }
            page.error = Some(by_slug_words(refusal.message, &by_slug));
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

async fn dry_run(
    state: &WebState,
    viewer: &Viewer,
    command: BulkAllocateCommand,
    requested: &[(String, String)],
    by_slug: &HashMap<&str, &TenantRow>,
    mut page: BulkPage,
) -> Result<Response, PageError> {
    match state
        .store
        .dry_run_bulk_allocation(&viewer.actor, command)
        .await
        .map_err(Failure::from)
    {
        Ok(outcome) => {
            let refused = outcome.refused();
            page.results_title = if refused == 0 {
                "Dry run: every allocation would be made".into()
            } else {
                format!(
                    "Dry run: {refused} of {} would be refused, so a commit would allocate \
                     nothing",
                    outcome.entries.len()
                )
            };
            page.results = result_lines(&outcome, requested, by_slug);
            Ok(render(StatusCode::OK, &page))
        }
        Err(Failure::Refused(refusal)) => {
            page.error = Some(by_slug_words(refusal.message, by_slug));
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

/// A refusal that names a tenant by id (one named twice) names it by the slug the form used.
fn by_slug_words(message: String, by_slug: &HashMap<&str, &TenantRow>) -> String {
    by_slug.iter().fold(message, |message, (slug, tenant)| {
        message.replace(&format!("Tenant {}", tenant.id), &format!("Tenant {slug}"))
    })
}

fn fingerprint(requested: &[(String, String)], note: &str) -> String {
    let mut fingerprint = format!("POST {PATH}\n");
    for (slug, amount) in requested {
        fingerprint.push_str(&format!("{slug}={amount}\n"));
    }
    fingerprint.push_str(note.trim());
    fingerprint
}

/// Allocates every entry or none. A refused entry rolls the whole transaction back (the form
/// key's claim with it, so a corrected form runs afresh) and leaves the per-tenant results in
/// `refused` for the page.
async fn commit(
    state: &WebState,
    viewer: &Viewer,
    sent: Sent<'_>,
    command: BulkAllocateCommand,
    refused: &Arc<OnceLock<BulkAllocationOutcome>>,
) -> Result<String, Failure> {
    let actor = viewer.actor.clone();
    let slot = Arc::clone(refused);
    run_movement(
        &state.store,
        viewer,
        sent.form_key,
        sent.fingerprint,
        move |tx| {
            Box::pin(async move {
                let outcome = tx.bulk_allocate(&actor, command).await?;
                if outcome.all_allocated() {
                    return Ok(outcome);
                }
                let detail = format!(
                    "{} of {} allocations were refused, so none was made; see each tenant below",
                    outcome.refused(),
                    outcome.entries.len()
                );
                let _ = slot.set(outcome);
                Err(Error::invalid("bulk_allocation_refused", detail).into())
            })
        },
        |outcome| success_message(outcome, &sent.names),
    )
    .await
}

/// What identifies one sent form, and the tenants' names for its message.
struct Sent<'a> {
    form_key: &'a str,
    fingerprint: &'a str,
    names: HashMap<String, String>,
}

fn success_message(outcome: &BulkAllocationOutcome, names: &HashMap<String, String>) -> String {
    let done: Vec<_> = outcome
        .entries
        .iter()
        .filter_map(|entry| entry.result.as_ref().ok())
        .collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let total = done.iter().fold(Points::ZERO, |sum, o| {
        sum.checked_add(o.amount_allocated).unwrap_or(Points::MAX)
    });
    let named: Vec<String> = done
        .iter()
        .take(NAMED_IN_MESSAGE)
        .map(|o| {
            format!(
                "{} {} → {}",
                name(&o.tenant_id),
                points(o.previous_balance),
                points(o.new_allocation_balance)
            )
        })
        .collect();
    let more = done.len().saturating_sub(NAMED_IN_MESSAGE);
    let mut message = format!(
        "Allocated {} in all to {} tenant{}. Pools: {}",
        points(total),
        done.len(),
        if done.len() == 1 { "" } else { "s" },
        named.join("; ")
    );
    if more > 0 {
        message.push_str(&format!("; and {more} more"));
    }
    message.push('.');
    message
}
