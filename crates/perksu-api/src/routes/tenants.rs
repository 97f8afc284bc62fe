//! Tenants under `/api/tenants` (platform admins; tenant users may read their own).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perksu_domain::recognition::AwardTier;
use perksu_domain::{expiry, rewards, validate, Error, FundingMode, Points, TenantStatus};
use perksu_store::{NewTenant, TenantPatch, TenantRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, Auth};
use crate::movement;
use crate::webhooks;
use crate::wire::{amount, parse_word, AmountField};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tenant, list_tenants))
        .routes(routes!(get_tenant, update_tenant))
}

#[derive(Serialize, ToSchema)]
pub struct TenantBody {
    id: String,
    name: String,
    slug: String,
    currency: String,
    currency_label: String,
    /// `active` or `suspended`.
    status: String,
    /// `pool` or `legacy`.
    funding_mode: String,
    points_allocation_balance: String,
    low_balance_threshold: String,
    /// Points per unit of currency when pricing rewards.
    points_per_currency_unit: String,
    /// Markup on reward prices, in percent.
    redemption_markup_percent: String,
    redemptions_paused: bool,
    redemption_confirmation_required: bool,
    redemption_timeout_hours: i64,
    /// Lead balances below this raise a low-balance alert; null: no lead alerts.
    lead_low_balance_threshold: Option<String>,
    /// Where low-balance alerts are posted (signed JSON); null: in-app notifications only.
    alert_webhook_url: Option<String>,
    /// Whether a webhook signing secret is stored. The secret itself is never returned.
    alert_webhook_secret_set: bool,
    /// Days allocated pool points stay before returning to the platform; null: never.
    pool_expiry_days: Option<i64>,
    /// Days earned wallet points stay spendable (oldest spent first); null: never.
    wallet_expiry_days: Option<i64>,
    /// Days before wallet points expire that their owner is notified; 0: never.
    wallet_expiry_warning_days: i64,
    /// The levels an individual award picks from.
    award_tiers: Vec<AwardTierBody>,
    /// Whether employees may give points to colleagues.
    peer_to_peer_enabled: bool,
    /// The most an employee may give per calendar month (UTC); null: no allowance.
    monthly_giving_allowance: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<TenantRow> for TenantBody {
    fn from(t: TenantRow) -> Self {
        TenantBody {
            id: t.id,
            name: t.name,
            slug: t.slug,
            currency: t.currency,
            currency_label: t.currency_label,
            status: t.status.as_str().to_owned(),
            funding_mode: t.funding_mode.as_str().to_owned(),
            points_allocation_balance: amount(t.points_allocation_balance),
            low_balance_threshold: amount(t.low_balance_threshold),
            points_per_currency_unit: amount(t.points_per_currency_unit),
            redemption_markup_percent: amount(Points::from_hundredths(t.redemption_markup_bp)),
            redemptions_paused: t.redemptions_paused,
            redemption_confirmation_required: t.redemption_confirmation_required,
            redemption_timeout_hours: t.redemption_timeout_hours,
            lead_low_balance_threshold: t.lead_low_balance_threshold.map(amount),
            alert_webhook_url: t.alert_webhook_url,
            alert_webhook_secret_set: t.alert_webhook_secret_set,
            pool_expiry_days: t.pool_expiry_days,
            wallet_expiry_days: t.wallet_expiry_days,
            wallet_expiry_warning_days: t.wallet_expiry_warning_days,
            award_tiers: t
                .award_tiers
                .into_iter()
                .map(|tier| AwardTierBody {
                    name: tier.name,
                    points: amount(tier.points),
                })
                .collect(),
            peer_to_peer_enabled: t.peer_to_peer_enabled,
            monthly_giving_allowance: t.monthly_giving_allowance.map(amount),
            created_at: t.created_at.to_string(),
            updated_at: t.updated_at.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AwardTierBody {
    name: String,
    points: String,
}

#[derive(Deserialize, ToSchema)]
pub struct AwardTierField {
    name: String,
    points: AmountField,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateTenantRequest {
    name: String,
    slug: String,
    /// Default `INR`.
    currency: Option<String>,
    /// Default `Points`.
    currency_label: Option<String>,
    /// Default `pool`.
    funding_mode: Option<String>,
    /// Default 1000.
    low_balance_threshold: Option<AmountField>,
}

/// Create a tenant (platform admin). New tenants start in pool mode with an empty pool.
#[utoipa::path(post, path = "/", tag = "Tenants", request_body = CreateTenantRequest,
    responses((status = 201, body = TenantBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_tenant(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(request): AppJson<CreateTenantRequest>,
) -> ApiResult<(StatusCode, Json<TenantBody>)> {
    auth.actor.require_platform_admin()?;
    let new = NewTenant {
        name: validate::name("name", &request.name)?,
        slug: validate::slug(&request.slug)?,
        currency: validate::currency(request.currency.as_deref().unwrap_or("INR"))?,
        currency_label: validate::name(
            "currency_label",
            request.currency_label.as_deref().unwrap_or("Points"),
        )?,
        funding_mode: match request.funding_mode.as_deref() {
            None => FundingMode::Pool,
            Some(mode) => parse_word(
                "funding_mode",
                mode,
                FundingMode::parse,
                FundingMode::expected(),
            )?,
        },
        low_balance_threshold: match &request.low_balance_threshold {
            None => Points::from_whole(1000),
            Some(threshold) => threshold.non_negative("low_balance_threshold")?,
        },
    };
    let actor = auth.actor.clone();
    let tenant = movement::write(&state, move |tx| {
        Box::pin(async move { tx.create_tenant(&actor, new).await })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(TenantBody::from(tenant))))
}

/// Every tenant (platform admin).
#[utoipa::path(get, path = "/", tag = "Tenants",
    responses((status = 200, body = Vec<TenantBody>), (status = 403, body = ErrorBody)))]
async fn list_tenants(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Vec<TenantBody>>> {
    let tenants = state.store.tenants(&auth.actor).await?;
    Ok(Json(tenants.into_iter().map(TenantBody::from).collect()))
}

/// One tenant: any for a platform admin, their own for a tenant user.
#[utoipa::path(get, path = "/{id}", tag = "Tenants", params(("id" = String, Path)),
    responses((status = 200, body = TenantBody), (status = 404, body = ErrorBody)))]
async fn get_tenant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<TenantBody>> {
    Ok(Json(TenantBody::from(
        state.store.tenant(&auth.actor, &id).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateTenantRequest {
    name: Option<String>,
    currency_label: Option<String>,
    /// `active` or `suspended`.
    status: Option<String>,
    low_balance_threshold: Option<AmountField>,
    points_per_currency_unit: Option<AmountField>,
    /// 0 to 1000 percent, two decimals.
    redemption_markup_percent: Option<AmountField>,
    redemptions_paused: Option<bool>,
    redemption_confirmation_required: Option<bool>,
    /// 1 to 8760.
    #[schema(minimum = 1, maximum = 8760)]
    redemption_timeout_hours: Option<i64>,
    /// Null switches lead low-balance alerts off.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    lead_low_balance_threshold: Option<Option<AmountField>>,
    /// An http(s) URL to post low-balance alerts to; null removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    alert_webhook_url: Option<Option<String>>,
    /// 16 to 256 characters; each alert is signed with it (`x-perksu-signature`). Write-only.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    alert_webhook_secret: Option<Option<String>>,
    /// 1 to 3650 days after which unspent allocated pool points return to the platform;
    /// null: never.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pool_expiry_days: Option<Option<i64>>,
    /// 1 to 3650 days after which unspent earned wallet points expire; null: never.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    wallet_expiry_days: Option<Option<i64>>,
    /// 0 to 365 days of notice before wallet points expire; 0 sends no warning.
    wallet_expiry_warning_days: Option<i64>,
    /// 1 to 10 tiers with unique names and amounts above zero.
    award_tiers: Option<Vec<AwardTierField>>,
    /// Whether employees may give points to colleagues.
    peer_to_peer_enabled: Option<bool>,
    /// The most an employee may give per calendar month; null removes the allowance.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    monthly_giving_allowance: Option<Option<AmountField>>,
}

/// Tells a field sent as null (`Some(None)`: clear it) from one left out (`None`: keep it).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Change a tenant: a platform admin any field, its tenant manager the settings (label,
/// thresholds, alert webhook, reward pricing and redemption switches) but not its name or
/// status. Changing a threshold re-arms its low-balance alerts.
#[utoipa::path(patch, path = "/{id}", tag = "Tenants", params(("id" = String, Path)),
    request_body = UpdateTenantRequest,
    responses((status = 200, body = TenantBody), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_tenant(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    AppJson(request): AppJson<UpdateTenantRequest>,
) -> ApiResult<Json<TenantBody>> {
    let markup_bp = request
        .redemption_markup_percent
        .as_ref()
        .map(|m| m.non_negative("redemption_markup_percent"))
        .transpose()?
        .map(|percent| rewards::markup_bp("redemption_markup_percent", percent))
        .transpose()?;
    if request
        .redemption_timeout_hours
        .is_some_and(|hours| !(1..=8760).contains(&hours))
    {
        return Err(Error::invalid(
            "invalid_field",
            "redemption_timeout_hours must be 1 to 8760",
        )
        .into());
    }
    let patch = TenantPatch {
        name: request
            .name
            .as_deref()
            .map(|n| validate::name("name", n))
            .transpose()?,
        currency_label: request
            .currency_label
            .as_deref()
            .map(|l| validate::name("currency_label", l))
            .transpose()?,
        status: request
            .status
            .as_deref()
            .map(|s| parse_word("status", s, TenantStatus::parse, TenantStatus::expected()))
            .transpose()?,
        low_balance_threshold: request
            .low_balance_threshold
            .as_ref()
            .map(|t| t.non_negative("low_balance_threshold"))
            .transpose()?,
        points_per_currency_unit: request
            .points_per_currency_unit
            .as_ref()
            .map(|r| r.positive("points_per_currency_unit"))
            .transpose()?,
        redemption_markup_bp: markup_bp,
        redemptions_paused: request.redemptions_paused,
        redemption_confirmation_required: request.redemption_confirmation_required,
        redemption_timeout_hours: request.redemption_timeout_hours,
        lead_low_balance_threshold: request
            .lead_low_balance_threshold
            .map(|t| {
                t.map(|t| t.non_negative("lead_low_balance_threshold"))
                    .transpose()
            })
            .transpose()?,
        alert_webhook_url: request
            .alert_webhook_url
            .map(|url| url.as_deref().map(webhooks::validate_url).transpose())
            .transpose()?,
        alert_webhook_secret: request
            .alert_webhook_secret
            .map(|secret| secret.as_deref().map(webhooks::validate_secret).transpose())
            .transpose()?,
        pool_expiry_days: request
            .pool_expiry_days
            .map(|days| {
                days.map(|d| expiry::expiry_days("pool_expiry_days", d))
                    .transpose()
            })
            .transpose()?,
        wallet_expiry_days: request
            .wallet_expiry_days
            .map(|days| {
                days.map(|d| expiry::expiry_days("wallet_expiry_days", d))
                    .transpose()
            })
            .transpose()?,
        wallet_expiry_warning_days: request
            .wallet_expiry_warning_days
            .map(|days| expiry::warning_days("wallet_expiry_warning_days", days))
            .transpose()?,
        award_tiers: request
            .award_tiers
            .map(|tiers| {
                tiers
                    .iter()
                    .map(|tier| {
                        Ok(AwardTier {
                            name: tier.name.trim().to_owned(),
                            points: tier.points.positive("award_tiers.points")?,
                        })
                    })
                    .collect::<Result<Vec<_>, Error>>()
            })
            .transpose()?,
        peer_to_peer_enabled: request.peer_to_peer_enabled,
        monthly_giving_allowance: request
            .monthly_giving_allowance
            .map(|a| {
                a.map(|a| a.non_negative("monthly_giving_allowance"))
                    .transpose()
            })
            .transpose()?,
    };
    let actor = auth.actor.clone();
    let tenant = movement::write(&state, move |tx| {
        Box::pin(async move { tx.update_tenant(&actor, &id, patch).await })
    })
    .await?;
    Ok(Json(TenantBody::from(tenant)))
}
