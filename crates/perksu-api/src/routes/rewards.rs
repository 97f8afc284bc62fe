//! The rewards catalogue under `/api/rewards`: managers curate, everyone browses.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perksu_domain::{Error, Points};
use perksu_store::{CatalogueQuery, CatalogueSort, PricedReward, RewardDraft, RewardFields};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery, Auth};
use crate::movement;
use crate::wire::{amount, AmountField};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_reward, list_rewards))
        .routes(routes!(get_reward, update_reward))
}

#[derive(Serialize, ToSchema)]
pub struct PriceBody {
    /// Face value in the tenant's currency.
    face_value: String,
    /// What it costs in points, computed from the tenant's rate and markup.
    points: String,
}

#[derive(Serialize, ToSchema)]
pub struct RewardBody {
    id: String,
    /// `gift_card`, `merchandise`, `custom` or `charity`.
    kind: String,
    name: String,
    description: Option<String>,
    category: Option<String>,
    brand: Option<String>,
    /// One entry per orderable face value.
    prices: Vec<PriceBody>,
    /// The cheapest price, in points.
    points_from: String,
    /// `null`: unlimited.
    stock: Option<i64>,
    /// `active` or `archived`.
    status: String,
    updated_at: String,
}

impl From<PricedReward> for RewardBody {
    fn from(priced: PricedReward) -> Self {
        let points_from = amount(priced.from_points());
        let item = priced.item;
        RewardBody {
            id: item.id,
            kind: item.kind,
            name: item.name,
            description: item.description,
            category: item.category,
            brand: item.brand,
            prices: priced
                .prices
                .into_iter()
                .map(|(face_value, points)| PriceBody {
                    face_value: amount(face_value),
                    points: amount(points),
                })
                .collect(),
            points_from,
            stock: item.stock,
            status: item.status,
            updated_at: item.updated_at.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RewardRequest {
    /// `gift_card`, `merchandise`, `custom` or `charity` (fixed once created).
    kind: String,
    name: String,
    description: Option<String>,
    category: Option<String>,
    brand: Option<String>,
    /// Face value of one unit, in the tenant's currency. Gift cards give `denominations`.
    face_value: Option<AmountField>,
    #[serde(default)]
    denominations: Vec<AmountField>,
    /// Units in stock; absent for unlimited.
    stock: Option<i64>,
    /// `active` (default) or `archived`.
    status: Option<String>,
}

impl RewardRequest {
    fn into_draft(self) -> Result<RewardDraft, Error> {
        let face_value = self
            .face_value
            .as_ref()
            .map(|v| v.positive("face_value"))
            .transpose()?;
        let denominations = self
            .denominations
            .iter()
            .map(|v| v.positive("denominations"))
            .collect::<Result<Vec<Points>, Error>>()?;
        RewardDraft::new(RewardFields {
            kind: &self.kind,
            name: &self.name,
            description: self.description.as_deref(),
            category: self.category.as_deref(),
            brand: self.brand.as_deref(),
            face_value,
            denominations,
            stock: self.stock,
            status: self.status.as_deref(),
        })
    }
}

/// Add a reward to the caller's tenant's catalogue (tenant manager).
#[utoipa::path(post, path = "/", tag = "Rewards", request_body = RewardRequest,
    responses((status = 201, body = RewardBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
async fn create_reward(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(request): AppJson<RewardRequest>,
) -> ApiResult<(StatusCode, Json<RewardBody>)> {
    let draft = request.into_draft()?;
    let actor = auth.actor.clone();
    let item = movement::write(&state, move |tx| {
        Box::pin(async move { tx.create_reward(&actor, draft).await })
    })
    .await?;
    let priced = state.store.reward(&auth.actor, &item.id).await?;
    Ok((StatusCode::CREATED, Json(RewardBody::from(priced))))
}

#[derive(Deserialize, IntoParams)]
pub struct CatalogueParams {
    /// Words in the name, description or brand.
    q: Option<String>,
    category: Option<String>,
    brand: Option<String>,
    /// `name` (default), `points_asc` or `points_desc`.
    sort: Option<String>,
    /// `true`: only what the caller's wallet can pay for.
    affordable: Option<bool>,
    /// Managers: include archived items.
    include_archived: Option<bool>,
}

/// Browse the caller's tenant's catalogue, priced in points.
#[utoipa::path(get, path = "/", tag = "Rewards", params(CatalogueParams),
    responses((status = 200, body = Vec<RewardBody>), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
async fn list_rewards(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(params): AppQuery<CatalogueParams>,
) -> ApiResult<Json<Vec<RewardBody>>> {
    let sort = match params.sort.as_deref() {
        None | Some("name") => CatalogueSort::Name,
        Some("points_asc") => CatalogueSort::PointsAscending,
        Some("points_desc") => CatalogueSort::PointsDescending,
        Some(_) => {
            return Err(Error::invalid(
                "invalid_query",
                "sort must be name, points_asc or points_desc",
            )
            .into())
        }
    };
    let affordable_with = if params.affordable == Some(true) {
        Some(state.store.my_wallet(&auth.actor).await?.balance)
    } else {
        None
    };
    let query = CatalogueQuery {
        search: params.q.filter(|q| !q.trim().is_empty()),
        category: params.category,
        brand: params.brand,
        affordable_with,
        sort,
        include_archived: params.include_archived.unwrap_or(false),
    };
    let items = state.store.catalogue(&auth.actor, query).await?;
    Ok(Json(items.into_iter().map(RewardBody::from).collect()))
}

/// One reward of the caller's tenant.
#[utoipa::path(get, path = "/{id}", tag = "Rewards", params(("id" = String, Path)),
    responses((status = 200, body = RewardBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn get_reward(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RewardBody>> {
    Ok(Json(RewardBody::from(
        state.store.reward(&auth.actor, &id).await?,
    )))
}

/// Replace a reward's details, stock or status (tenant manager). The kind cannot change.
#[utoipa::path(put, path = "/{id}", tag = "Rewards", params(("id" = String, Path)),
    request_body = RewardRequest,
    responses((status = 200, body = RewardBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_reward(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    AppJson(request): AppJson<RewardRequest>,
) -> ApiResult<Json<RewardBody>> {
    let current = state.store.reward(&auth.actor, &id).await?;
    if current.item.kind != request.kind {
        return Err(Error::invalid("invalid_field", "a reward's kind cannot change").into());
    }
    let draft = request.into_draft()?;
    let actor = auth.actor.clone();
    let item_id = id.clone();
    movement::write(&state, move |tx| {
        Box::pin(async move { tx.update_reward(&actor, &item_id, draft).await })
    })
    .await?;
    Ok(Json(RewardBody::from(
        state.store.reward(&auth.actor, &id).await?,
    )))
}
