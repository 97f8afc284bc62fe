//! The caller's wallet under `/api/wallets/me`.

use axum::extract::State;
use axum::Json;
use perksu_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppQuery, Auth};
use crate::routes::audit::WalletLedgerBody;
use crate::wire::{amount, PageBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_wallet))
        .routes(routes!(my_ledger))
}

#[derive(Serialize, ToSchema)]
pub struct WalletBody {
    id: String,
    user_id: String,
    tenant_id: String,
    balance: String,
    lifetime_earned: String,
    lifetime_spent: String,
    updated_at: String,
}

/// The caller's balance and lifetime totals.
#[utoipa::path(get, path = "/me", tag = "Wallets",
    responses((status = 200, body = WalletBody), (status = 403, body = ErrorBody)))]
async fn my_wallet(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<WalletBody>> {
    let wallet = state.store.my_wallet(&auth.actor).await?;
    Ok(Json(WalletBody {
        id: wallet.id,
        user_id: wallet.user_id,
        tenant_id: wallet.tenant_id,
        balance: amount(wallet.balance),
        lifetime_earned: amount(wallet.lifetime_earned),
        lifetime_spent: amount(wallet.lifetime_spent),
        updated_at: wallet.updated_at.to_string(),
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct LedgerQuery {
    /// 1 to 200, default 50.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The caller's wallet lines, newest first.
#[utoipa::path(get, path = "/me/ledger", tag = "Wallets", params(LedgerQuery),
    responses((status = 200, body = PageBody<WalletLedgerBody>), (status = 403, body = ErrorBody)))]
async fn my_ledger(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<LedgerQuery>,
) -> ApiResult<Json<PageBody<WalletLedgerBody>>> {
    // Platform admins have no wallet, so no wallet lines either.
    auth.actor.own_tenant()?;
    let filter = AuditFilter {
        user_id: Some(auth.actor.user_id.clone()),
        limit: query.limit.unwrap_or(50),
        offset: query.offset.unwrap_or(0),
        ..AuditFilter::default()
    };
    let page = state.store.wallet_ledger(&auth.actor, filter).await?;
    Ok(Json(PageBody::from_page(page, WalletLedgerBody::from)))
}
