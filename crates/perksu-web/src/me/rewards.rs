//! The rewards catalogue and ordering: cards with their prices in points and stock, a
//! category filter and search, the company pool card on top for tenant managers (the spec's
//! RewardsCatalog), and the redeem confirmation whose post places the order with the same
//! store call as `POST /api/redemptions`.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::rewards::RedemptionStatus;
use perksu_domain::{validate, Points, Role};
use perksu_store::{CatalogueQuery, CatalogueSort, OrderCommand, PricedReward, RedemptionRow};
use serde::Deserialize;

use super::{chrome, Area, Member};
use crate::format::points;
use crate::forms::{optional_positive_amount, run_movement, whole_number, CsrfForm};
use crate::listing::query;
use crate::page::{pages, redirect_with_flash, render, Chrome, Failure, PageError};
use crate::pool_card::PoolCard;
use crate::session::{random_token, Viewer};
use crate::WebState;

const CATALOGUE: &str = "/me/rewards";
/// Where a placed order is shown.
const AFTER: &str = "/me/orders";
/// The manager's pool card fragment, which the card on the catalogue refreshes from.
const POOL_CARD_URL: &str = "/manager/pool-card";

/// One price of a reward.
pub struct PriceLine {
    pub face_value: String,
    pub points: String,
    pub affordable: bool,
}

/// A reward as a catalogue card shows it.
pub struct RewardCard {
    pub id: String,
    pub name: String,
    pub brand: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub kind: &'static str,
    pub prices: Vec<PriceLine>,
    pub from_points: String,
    /// `Unlimited`, `3 left`, `Out of stock`.
    pub stock: String,
    pub out_of_stock: bool,
    /// The wallet pays for the cheapest price.
    pub affordable: bool,
    pub ships: bool,
}

fn kind_words(kind: &str) -> &'static str {
    match kind {
        "gift_card" => "Gift card",
        "merchandise" => "Merchandise",
        "charity" => "Donation",
        _ => "Experience",
    }
}

impl RewardCard {
    fn new(reward: &PricedReward, balance: Points) -> RewardCard {
        let item = &reward.item;
        let out_of_stock = item.stock.is_some_and(|stock| stock <= 0);
        RewardCard {
            id: item.id.clone(),
            name: item.name.clone(),
            brand: item.brand.clone(),
            description: item.description.clone(),
            category: item.category.clone(),
            kind: kind_words(&item.kind),
            prices: reward
                .prices
                .iter()
                .map(|(face_value, price)| PriceLine {
                    face_value: points(*face_value),
                    points: points(*price),
                    affordable: *price <= balance,
                })
                .collect(),
            from_points: points(reward.from_points()),
            stock: match item.stock {
                None => "Unlimited".to_owned(),
                Some(stock) if stock <= 0 => "Out of stock".to_owned(),
                Some(stock) => format!("{stock} left"),
            },
            out_of_stock,
            affordable: reward.from_points() <= balance,
            ships: item.kind == "merchandise",
        }
    }
}

/// Why ordering would be refused right now, in the store's words, to warn before the form.
fn paused_notice(tenant: &perksu_store::TenantRow) -> Option<&'static str> {
    if tenant.redemptions_paused {
        Some("Redemptions are paused for this company; please try again later.")
    } else if tenant.points_allocation_balance < tenant.low_balance_threshold {
        Some(
            "Redemptions are paused while the company's allocation pool is below its \
             low-balance threshold.",
        )
    } else {
        None
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CatalogueFilters {
    category: String,
    q: String,
    /// `name`, `points_asc` or `points_desc`.
    sort: String,
}

struct CategoryOption {
    name: String,
    selected: bool,
}

struct SortOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "me/rewards.html")]
struct CataloguePage {
    chrome: Chrome,
    pool_card: Option<String>,
    currency_label: String,
    balance: String,
    notice: Option<&'static str>,
    q: String,
    categories: Vec<CategoryOption>,
    sorts: Vec<SortOption>,
    filtered: bool,
    rewards: Vec<RewardCard>,
}

pages!(CataloguePage, RedeemPage);

pub async fn catalogue(
    State(state): State<WebState>,
    Member(viewer): Member,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let filters: CatalogueFilters = query(raw)?;
    let chrome = || chrome(&viewer, Area::Rewards);
    let store = &state.store;
    let actor = &viewer.actor;
    let stats = store
        .tenant_stats(actor, None)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let wallet = store
        .my_wallet(actor)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let sort = match filters.sort.trim() {
        "points_asc" => CatalogueSort::PointsAscending,
        "points_desc" => CatalogueSort::PointsDescending,
        _ => CatalogueSort::Name,
    };
    let category = filters.category.trim().to_owned();
    let search = filters.q.trim().to_owned();
    let listing = |category: Option<String>, search: Option<String>, sort| CatalogueQuery {
        search,
        category,
        brand: None,
        affordable_with: None,
        sort,
        include_archived: false,
    };
    let everything = store
        .catalogue(actor, listing(None, None, CatalogueSort::Name))
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let mut names: Vec<String> = everything
        .iter()
        .filter_map(|r| r.item.category.clone())
        .filter(|c| !c.trim().is_empty())
        .collect();
    names.sort_by_key(|c| c.to_lowercase());
    names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let filtered = !category.is_empty() || !search.is_empty();
    let shown = if filtered || sort != CatalogueSort::Name {
        store
            .catalogue(
                actor,
                listing(
                    (!category.is_empty()).then(|| category.clone()),
                    (!search.is_empty()).then(|| search.clone()),
                    sort,
                ),
            )
            .await
            .map_err(|e| PageError::from_store(e, chrome()))?
    } else {
        everything
    };
    let pool_card = if viewer.user.role == Role::TenantManager {
        Some(
            PoolCard::new(&stats, Some(POOL_CARD_URL))
                .html()
                .map_err(|e| PageError::internal(e.to_string()))?,
        )
    } else {
        None
    };
    let chosen_sort = filters.sort.trim();
    let page = CataloguePage {
        chrome: chrome(),
        pool_card,
        currency_label: stats.tenant.currency_label.clone(),
        balance: points(wallet.balance),
        notice: paused_notice(&stats.tenant),
        q: search,
        categories: names
            .into_iter()
            .map(|name| CategoryOption {
                selected: name.eq_ignore_ascii_case(&category),
                name,
            })
            .collect(),
        sorts: [
            ("name", "Name"),
            ("points_asc", "Price: low to high"),
            ("points_desc", "Price: high to low"),
        ]
        .into_iter()
        .map(|(value, label)| SortOption {
            value,
            label,
            selected: value == chosen_sort || (value == "name" && chosen_sort.is_empty()),
        })
        .collect(),
        filtered,
        rewards: shown
            .iter()
            .map(|r| RewardCard::new(r, wallet.balance))
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// The redeem form as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RedeemFields {
    /// Which face value, for rewards with several.
    face_value: String,
    quantity: String,
    shipping_address: String,
    form_key: String,
}

struct ValueOption {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "me/redeem.html")]
struct RedeemPage {
    chrome: Chrome,
    reward: RewardCard,
    values: Vec<ValueOption>,
    form: RedeemFields,
    error: Option<String>,
    balance: String,
    currency_label: String,
    notice: Option<&'static str>,
    confirmation_required: bool,
}

async fn redeem_page(
    state: &WebState,
    viewer: &Viewer,
    reward_id: &str,
    mut form: RedeemFields,
    error: Option<String>,
) -> Result<RedeemPage, PageError> {
    let chrome = || chrome(viewer, Area::Rewards);
    let store = &state.store;
    let reward = store
        .reward(&viewer.actor, reward_id)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let wallet = store
        .my_wallet(&viewer.actor)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let tenant = store
        .tenant(&viewer.actor, &wallet.tenant_id)
        .await
        .map_err(|e| PageError::from_store(e, chrome()))?;
    let chosen = form.face_value.trim().to_owned();
    let values = reward
        .prices
        .iter()
        .enumerate()
        .map(|(position, (face_value, price))| ValueOption {
            value: face_value.to_string(),
            label: format!(
                "{} {} for {} {}",
                points(*face_value),
                tenant.currency,
                points(*price),
                tenant.currency_label
            ),
            selected: if chosen.is_empty() {
                position == 0
            } else {
                Points::parse(&chosen).is_ok_and(|value| value == *face_value)
            },
        })
        .collect();
    if form.quantity.trim().is_empty() {
        form.quantity = "1".to_owned();
    }
    form.form_key = random_token();
    Ok(RedeemPage {
        chrome: chrome(),
        reward: RewardCard::new(&reward, wallet.balance),
        values,
        form,
        error,
        balance: points(wallet.balance),
        currency_label: tenant.currency_label.clone(),
        notice: paused_notice(&tenant),
        confirmation_required: tenant.redemption_confirmation_required,
    })
}

/// The confirmation step before an order: the reward, its value, quantity and address.
pub async fn confirm_page(
    State(state): State<WebState>,
    Member(viewer): Member,
    Path(reward_id): Path<String>,
) -> Result<Response, PageError> {
    let page = redeem_page(&state, &viewer, &reward_id, RedeemFields::default(), None).await?;
    Ok(render(StatusCode::OK, &page))
}

pub async fn redeem(
    State(state): State<WebState>,
    Member(viewer): Member,
    Path(reward_id): Path<String>,
    CsrfForm(form): CsrfForm<RedeemFields>,
) -> Result<Response, PageError> {
    match place(&state, &viewer, &reward_id, &form).await {
        Ok(message) => Ok(redirect_with_flash(AFTER, &message)),
        Err(Failure::Refused(refusal)) => {
            let page =
                redeem_page(&state, &viewer, &reward_id, form, Some(refusal.message)).await?;
            Ok(render(refusal.status, &page))
        }
        Err(Failure::Page(error)) => Err(error),
    }
}

/// Places the order once per form key, then hands it to its provider after the commit, as
/// `POST /api/redemptions` does.
async fn place(
    state: &WebState,
    viewer: &Viewer,
    reward_id: &str,
    form: &RedeemFields,
) -> Result<String, Failure> {
    let quantity = if form.quantity.trim().is_empty() {
        1
    } else {
        whole_number("Quantity", &form.quantity)?
    };
    let command = OrderCommand {
        item_id: reward_id.to_owned(),
        face_value: optional_positive_amount("Value", &form.face_value)?,
        quantity,
        shipping_address: validate::note("Shipping address", Some(&form.shipping_address))?,
    };
    let tenant_id = viewer.actor.own_tenant()?;
    let label = state
        .store
        .tenant(&viewer.actor, tenant_id)
        .await?
        .currency_label;
    let fingerprint = format!(
        "POST {CATALOGUE}/{reward_id}/redeem\n{}\n{}\n{}",
        command
            .face_value
            .map(|value| value.to_string())
            .unwrap_or_default(),
        command.quantity,
        command.shipping_address.as_deref().unwrap_or_default()
    );
    let actor = viewer.actor.clone();
    let provider_for_kind = state.fulfilment.provider_for_kind();
    let mut placed: Option<RedemptionRow> = None;
    let message = run_movement(
        &state.store,
        viewer,
        &form.form_key,
        &fingerprint,
        move |tx| Box::pin(async move { tx.place_order(&actor, command, provider_for_kind).await }),
        |order| {
            placed = Some(order.clone());
            order_message(order, &label)
        },
    )
    .await?;
    if let Some(order) = placed {
        if order.status == RedemptionStatus::Pending {
            state.fulfilment.dispatch(order).await;
        }
    }
    Ok(message)
}

fn order_message(order: &RedemptionRow, label: &str) -> String {
    let what = if order.quantity == 1 {
        order.item_name.clone()
    } else {
        format!("{} × {}", order.quantity, order.item_name)
    };
    let next = if order.status == RedemptionStatus::PendingConfirmation {
        " Enter the confirmation code from your notifications below to confirm it."
    } else {
        ""
    };
    format!(
        "Ordered {what} for {} {label}; the points are held until it is delivered.{next}",
        points(order.points_cost)
    )
}
