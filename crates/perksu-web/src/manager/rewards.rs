//! The tenant's rewards catalogue for its manager: the list with prices, stock and status, the
//! add and edit forms with a price preview, and retiring a reward. The same store calls as
//! `POST /api/rewards`, `PUT /api/rewards/{id}` and, for the markup, `PATCH /api/tenants/{id}`.
//!
//! The markup is the tenant's, not the item's: the form shows it beside the reward because it
//! decides the price, and saving a different value changes it for every reward, in the same
//! transaction as the reward itself.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_store::{CatalogueQuery, PricedReward, RewardDraft, TenantPatch, TenantRow};
use serde::Deserialize;

use super::reward_form::{preview, PricePreview, RewardForm};
use crate::format::points;
use crate::forms::{run_write, CsrfForm};
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError, Section};
use crate::session::{Manager, Viewer};
use crate::WebState;

const LIST: &str = "/manager/rewards";
const NEW: &str = "/manager/rewards/new";

struct RewardLine {
    id: String,
    name: String,
    kind: &'static str,
    price: String,
    stock: String,
    active: bool,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "gift_card" => "Gift card",
        "merchandise" => "Merchandise",
        "charity" => "Charity",
        _ => "Custom",
    }
}

impl From<PricedReward> for RewardLine {
    fn from(priced: PricedReward) -> RewardLine {
        let from = priced.from_points();
        let several = priced.prices.len() > 1;
        let item = priced.item;
        RewardLine {
            price: if several {
                format!("from {}", points(from))
            } else {
                points(from)
            },
            stock: item
                .stock
                .map_or_else(|| "Unlimited".to_owned(), |s| s.to_string()),
            active: item.status == "active",
            kind: kind_label(&item.kind),
            name: item.name,
            id: item.id,
        }
    }
}

#[derive(Template)]
#[template(path = "manager/rewards.html")]
struct RewardsPage {
    chrome: Chrome,
    currency_label: String,
    rewards: Vec<RewardLine>,
}

pages!(RewardsPage);

fn chrome(viewer: &Viewer) -> Chrome {
    viewer.chrome(Section::ManagerRewards)
}

async fn tenant(state: &WebState, viewer: &Viewer) -> Result<TenantRow, PageError> {
    let tenant_id = viewer
        .actor
        .own_tenant()
        .map_err(|e| PageError::from_store(e.into(), chrome(viewer)))?;
    state
        .store
        .tenant(&viewer.actor, tenant_id)
        .await
        .map_err(|e| PageError::from_store(e, chrome(viewer)))
}

pub async fn list(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let tenant = tenant(&state, &viewer).await?;
    let query = CatalogueQuery {
        include_archived: true,
        ..CatalogueQuery::default()
    };
    let items = state
        .store
        .catalogue(&viewer.actor, query)
        .await
        .map_err(|e| PageError::from_store(e, chrome(&viewer)))?;
    let page = RewardsPage {
        chrome: chrome(&viewer),
        currency_label: tenant.currency_label,
        rewards: items.into_iter().map(RewardLine::from).collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// The reward being edited, for the retire form.
struct Editing {
    id: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "manager/reward_form.html")]
struct RewardFormPage {
    chrome: Chrome,
    heading: String,
    action_url: String,
    editing: Option<Editing>,
    form: RewardForm,
    kinds: [(&'static str, &'static str); 4],
    currency: String,
    currency_label: String,
    preview: Vec<PricePreview>,
    preview_basis: Option<String>,
    error: Option<String>,
    retire_error: Option<String>,
}

pages!(RewardFormPage);

const KINDS: [(&str, &str); 4] = [
    ("custom", "Custom"),
    ("merchandise", "Merchandise"),
    ("gift_card", "Gift card"),
    ("charity", "Charity"),
];

impl RewardFormPage {
    fn new(viewer: &Viewer, tenant: &TenantRow, editing: Option<&PricedReward>) -> Self {
        let (heading, action_url, form) = match editing {
            Some(priced) => (
                format!("Edit {}", priced.item.name),
                format!("{LIST}/{}", priced.item.id),
                RewardForm::of(priced, tenant),
            ),
            None => (
                "Add a reward".to_owned(),
                NEW.to_owned(),
                RewardForm::blank(tenant),
            ),
        };
        RewardFormPage {
            chrome: chrome(viewer),
            heading,
            action_url,
            editing: editing.map(|priced| Editing {
                id: priced.item.id.clone(),
                active: priced.item.status == "active",
            }),
            form,
            kinds: KINDS,
            currency: tenant.currency.clone(),
            currency_label: tenant.currency_label.clone(),
            preview: Vec::new(),
            preview_basis: None,
            error: None,
            retire_error: None,
        }
    }
}

async fn existing(
    state: &WebState,
    viewer: &Viewer,
    reward_id: &str,
) -> Result<PricedReward, PageError> {
    state
        .store
        .reward(&viewer.actor, reward_id)
        .await
        .map_err(|e| PageError::from_store(e, chrome(viewer)))
}

pub async fn new_form(
    State(state): State<WebState>,
    Manager(viewer): Manager,
) -> Result<Response, PageError> {
    let tenant = tenant(&state, &viewer).await?;
    Ok(render(
        StatusCode::OK,
        &RewardFormPage::new(&viewer, &tenant, None),
    ))
}

pub async fn edit_form(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(reward_id): Path<String>,
) -> Result<Response, PageError> {
    let tenant = tenant(&state, &viewer).await?;
    let priced = existing(&state, &viewer, &reward_id).await?;
    Ok(render(
        StatusCode::OK,
        &RewardFormPage::new(&viewer, &tenant, Some(&priced)),
    ))
}

pub async fn create(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    CsrfForm(form): CsrfForm<RewardForm>,
) -> Result<Response, PageError> {
    let tenant = tenant(&state, &viewer).await?;
    let page = RewardFormPage::new(&viewer, &tenant, None);
    submit(&state, &viewer, &tenant, page, form, None).await
}

pub async fn update(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(reward_id): Path<String>,
    CsrfForm(mut form): CsrfForm<RewardForm>,
) -> Result<Response, PageError> {
    let tenant = tenant(&state, &viewer).await?;
    let priced = existing(&state, &viewer, &reward_id).await?;
    // A reward's kind is fixed once created, as the API has it.
    form.kind = priced.item.kind.clone();
    let page = RewardFormPage::new(&viewer, &tenant, Some(&priced));
    submit(&state, &viewer, &tenant, page, form, Some(reward_id)).await
}

/// Previews the price, or saves the reward (and the markup, when it changed).
async fn submit(
    state: &WebState,
    viewer: &Viewer,
    tenant: &TenantRow,
    mut page: RewardFormPage,
    form: RewardForm,
    reward_id: Option<String>,
) -> Result<Response, PageError> {
    if form.action == "preview" {
        let status = match preview(tenant, &form) {
            Ok((lines, basis)) => {
                page.preview = lines;
                page.preview_basis = Some(basis);
                StatusCode::OK
            }
            Err(error) => {
                let status = crate::page::status_of(error.kind);
                page.error = Some(error.detail);
                status
            }
        };
        page.form = form;
        return Ok(render(status, &page));
    }
    let saved = match form
        .draft()
        .and_then(|draft| Ok((draft, form.markup_bp()?)))
    {
        Ok((draft, markup_bp)) => save(state, viewer, tenant, draft, markup_bp, reward_id).await,
        Err(error) => Err(Failure::from(error)),
    };
    match saved {
        Ok(name) => Ok(redirect_with_flash(LIST, &format!("Saved {name}."))),
        Err(Failure::Refused(refusal)) => {
            page.error = Some(refusal.message);
            page.form = form;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

/// One transaction: the tenant's markup if it changed, then the reward.
async fn save(
    state: &WebState,
    viewer: &Viewer,
    tenant: &TenantRow,
    draft: RewardDraft,
    markup_bp: i64,
    reward_id: Option<String>,
) -> Result<String, Failure> {
    let actor = viewer.actor.clone();
    let tenant_id = tenant.id.clone();
    let markup = (markup_bp != tenant.redemption_markup_bp).then_some(markup_bp);
    run_write(&state.store, move |tx| {
        Box::pin(async move {
            if let Some(markup_bp) = markup {
                let patch = TenantPatch {
                    redemption_markup_bp: Some(markup_bp),
                    ..TenantPatch::default()
                };
                tx.update_tenant(&actor, &tenant_id, patch).await?;
            }
            let item = match reward_id {
                Some(id) => tx.update_reward(&actor, &id, draft).await?,
                None => tx.create_reward(&actor, draft).await?,
            };
            Ok(item.name)
        })
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RetireFields {
    confirm: String,
}

/// Retires a reward: archived, it leaves the employees' catalogue; open orders are kept.
pub async fn retire(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    Path(reward_id): Path<String>,
    CsrfForm(fields): CsrfForm<RetireFields>,
) -> Result<Response, PageError> {
    let tenant = tenant(&state, &viewer).await?;
    let priced = existing(&state, &viewer, &reward_id).await?;
    let mut form = RewardForm::of(&priced, &tenant);
    let outcome = if fields.confirm != "yes" {
        Err(Failure::from(perksu_domain::Error::invalid(
            "confirmation_required",
            "Tick the box to confirm that this reward should be retired",
        )))
    } else {
        form.status = "archived".into();
        match form.draft() {
            Ok(draft) => {
                let markup = tenant.redemption_markup_bp;
                save(&state, &viewer, &tenant, draft, markup, Some(reward_id)).await
            }
            Err(error) => Err(error.into()),
        }
    };
    match outcome {
        Ok(name) => Ok(redirect_with_flash(
            LIST,
            &format!("Retired {name}: employees no longer see it."),
        )),
        Err(Failure::Refused(refusal)) => {
            let mut page = RewardFormPage::new(&viewer, &tenant, Some(&priced));
            page.retire_error = Some(refusal.message);
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}
