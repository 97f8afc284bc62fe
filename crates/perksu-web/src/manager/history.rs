//! The tenant's movement history from the journal: allocations in, clawbacks, delegations,
//! recalls, awards and the rest, filtered by date and type, with names instead of account
//! keys, a page at a time or as CSV.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use perksu_domain::Account;
use perksu_store::{JournalRow, Page};

use crate::csv;
use crate::format::{points, when};
use crate::listing::{every_row, query, ListingQuery, Pager};
use crate::page::{pages, render, Chrome, Failure, PageError, Section};
use crate::session::Manager;
use crate::WebState;

const PATH: &str = "/manager/history";

/// The journal's movement kinds, in the order the filter offers them.
const KINDS: &[&str] = &[
    "allocation",
    "clawback",
    "allocation_reversal",
    "pool_expiry",
    "delegation",
    "recall",
    "award",
    "recognition",
    "redemption_hold",
    "redemption",
    "redemption_refund",
    "wallet_expiry",
];

struct MovementLine {
    when: String,
    kind: String,
    from: String,
    to: String,
    amount: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "manager/history.html")]
struct HistoryPage {
    chrome: Chrome,
    filters: ListingQuery,
    kinds: &'static [&'static str],
    error: Option<String>,
    rows: Vec<MovementLine>,
    pager: Option<Pager>,
    csv_link: String,
    currency_label: String,
}

pages!(HistoryPage);

/// Names accounts for people: the pool, a lead's balance, someone's wallet.
struct Names {
    users: HashMap<String, String>,
}

impl Names {
    fn account(&self, key: &str) -> String {
        let person = |id: &str| {
            self.users
                .get(id)
                .cloned()
                .unwrap_or_else(|| "a former user".to_owned())
        };
        match Account::from_key(key) {
            Some(Account::Issuance) => "Platform".to_owned(),
            Some(Account::Budget(_)) => "Budget".to_owned(),
            Some(Account::Pool(_)) => "Company pool".to_owned(),
            Some(Account::Lead(id)) => format!("{} (lead balance)", person(&id)),
            Some(Account::Wallet(id)) => format!("{} (wallet)", person(&id)),
            Some(Account::Hold(_)) => "Reward order (held)".to_owned(),
            Some(Account::Redeemed(_)) => "Reward order (redeemed)".to_owned(),
            Some(Account::Expired(id)) => format!("{} (expired)", person(&id)),
            None => key.to_owned(),
        }
    }
}

pub async fn show(
    State(state): State<WebState>,
    Manager(viewer): Manager,
    raw: RawQuery,
) -> Result<Response, PageError> {
    let filters: ListingQuery = query(raw)?;
    let chrome = || viewer.chrome(Section::ManagerHistory);
    let store = &state.store;
    let actor = &viewer.actor;
    let stats = store
        .tenant_stats(actor, None)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let users = store
        .users(actor, None)
        .await
        .map_err(|error| PageError::from_store(error, chrome()))?;
    let names = Names {
        users: users
            .into_iter()
            .map(|user| (user.id, format!("{} {}", user.first_name, user.last_name)))
            .collect(),
    };
    let filter = filters.filter(Some(stats.tenant.id.clone()), KINDS);
    if filters.wants_csv() {
        if let Ok(filter) = filter.clone() {
            let rows = every_row(filter, |f| store.journal(actor, f))
                .await
                .map_err(|error| PageError::from_store(error, chrome()))?;
            return Ok(csv::download(
                &format!("movements-{}.csv", stats.tenant.slug),
                history_csv(&rows, &names),
            ));
        }
    }
    let listed: Result<Page<JournalRow>, Failure> = match filter {
        Ok(filter) => store.journal(actor, filter).await.map_err(Failure::from),
        Err(error) => Err(error.into()),
    };
    let (status, error, rows, pager) = match listed {
        Ok(page) => (
            StatusCode::OK,
            None,
            page.items
                .iter()
                .map(|row| MovementLine {
                    when: when(&row.created_at),
                    kind: row.kind.replace('_', " "),
                    from: names.account(&row.debit_account),
                    to: names.account(&row.credit_account),
                    amount: points(row.amount),
                    reason: row.reason.clone().unwrap_or_default(),
                })
                .collect(),
            Some(Pager::new(&page, &filters, PATH)),
        ),
        Err(Failure::Refused(refusal)) => (refusal.status, Some(refusal.message), Vec::new(), None),
        Err(Failure::Page(error)) => return Err(error),
    };
    Ok(render(
        status,
        &HistoryPage {
            chrome: chrome(),
            csv_link: filters.csv_link(PATH),
            filters,
            kinds: KINDS,
            error,
            rows,
            pager,
            currency_label: stats.tenant.currency_label,
        },
    ))
}

fn history_csv(rows: &[JournalRow], names: &Names) -> String {
    let mut body = csv::line(&[
        "id",
        "created_at",
        "kind",
        "debit_account",
        "debit_name",
        "credit_account",
        "credit_name",
        "amount",
        "actor_id",
        "reason",
        "reference_id",
    ]);
    for row in rows {
        body.push_str(&csv::line(&[
            &row.id,
            row.created_at.as_str(),
            &row.kind,
            &row.debit_account,
            &names.account(&row.debit_account),
            &row.credit_account,
            &names.account(&row.credit_account),
            &row.amount.to_string(),
            row.actor_id.as_deref().unwrap_or_default(),
            row.reason.as_deref().unwrap_or_default(),
            row.reference_id.as_deref().unwrap_or_default(),
        ]));
    }
    body
}
