//! The viewer's wallet: balance, lifetime totals, and its ledger a page at a time, filtered
//! by date and source. The same store calls as `GET /api/wallets/me` and
//! `GET /api/wallets/me/ledger`.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_store::{Page, WalletLedgerRow};

use super::{chrome, Area, Member};
use crate::format::{points, when};
use crate::listing::{query, ListingQuery, Pager};
use crate::page::{pages, render, Chrome, Failure, PageError};
use crate::WebState;

const PATH: &str = "/me/wallet";

/// The sources of wallet lines, in the order the filter offers them.
const SOURCES: &[&str] = &[
    "recognition",
    "award",
    "redemption",
    "redemption_refund",
    "expiry",
];

/// A source in words.
pub fn source_words(source: &str) -> &'static str {
    match source {
        "recognition" => "Recognition",
        "award" => "Award",
        "redemption" => "Reward order",
        "redemption_refund" => "Order refund",
        "expiry" => "Expired points",
        _ => "Other",
    }
}

/// One wallet line as the ledger table shows it.
pub struct LedgerLine {
    pub when: String,
    pub source: &'static str,
    pub description: String,
    /// Signed: `+50` or `-20`.
    pub amount: String,
    pub balance_after: String,
}

impl From<&WalletLedgerRow> for LedgerLine {
    fn from(row: &WalletLedgerRow) -> LedgerLine {
        let credit = row.transaction_type == "credit";
        LedgerLine {
            when: when(&row.created_at),
            source: source_words(&row.source),
            description: row.description.clone().unwrap_or_default(),
            amount: format!("{}{}", if credit { "+" } else { "−" }, points(row.amount)),
            balance_after: points(row.balance_after),
        }
    }
}

struct SourceOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "me/wallet.html")]
struct WalletPage {
    chrome: Chrome,
    currency_label: String,
    balance: String,
    lifetime_earned: String,
    lifetime_spent: String,
    filters: ListingQuery,
    sources: Vec<SourceOption>,
    error: Option<String>,
    rows: Vec<LedgerLine>,
    pager: Option<Pager>,
}

pages!(WalletPage);

pub async fn show(
    State(state): State<WebState>,
    Member(viewer): Member,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let filters: ListingQuery = query(raw)?;
    let chrome = || chrome(&viewer, Area::Wallet);
    let store = &state.store;
    let actor = &viewer.actor;
    let wallet = store
        .my_wallet(actor)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let tenant = store
        .tenant(actor, &wallet.tenant_id)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    // As `GET /api/wallets/me/ledger`: the viewer's own lines, whatever the role.
    let filter = filters
        .filter(Some(wallet.tenant_id.clone()), SOURCES)
        .map(|mut filter| {
            filter.user_id = Some(viewer.user.id.clone());
            filter
        });
    let listed: Result<Page<WalletLedgerRow>, Failure> = match filter {
        Ok(filter) => store
            .wallet_ledger(actor, filter)
            .await
            .map_err(Failure::from),
        Err(error) => Err(error.into()),
    };
    let (status, error, rows, pager) = match listed {
        Ok(page) => (
            StatusCode::OK,
            None,
            page.items.iter().map(LedgerLine::from).collect(),
            Some(Pager::new(&page, &filters, PATH)),
        ),
        Err(Failure::Refused(refusal)) => (refusal.status, Some(refusal.message), Vec::new(), None),
        Err(Failure::Page(error)) => return Err(error),
    };
    let sources = SOURCES
        .iter()
        .map(|&value| SourceOption {
            value,
            label: source_words(value),
            selected: filters.kind.trim() == value,
        })
        .collect();
    Ok(render(
        status,
        &WalletPage {
            chrome: chrome(),
            currency_label: tenant.currency_label,
            balance: points(wallet.balance),
            lifetime_earned: points(wallet.lifetime_earned),
            lifetime_spent: points(wallet.lifetime_spent),
            filters,
            sources,
            error,
            rows,
            pager,
        },
    ))
}
