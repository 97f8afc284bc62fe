//! The pool card: a tenant's allocation pool and whether it is empty, low or ready to
//! distribute. The manager's home shows it and refreshes it every 30 seconds from
//! `/manager/pool-card`; the admin's tenant page shows the same card without refreshing.

use askama::Template;
use perksu_domain::stats::PoolState;
use perksu_store::TenantStats;

use crate::format::{points, pool_state_label};

/// Seconds between refreshes of the manager's card.
pub const REFRESH_SECONDS: u32 = 30;

#[derive(Template)]
#[template(path = "pool_card.html")]
pub struct PoolCard {
    /// `empty`, `low` or `ready`: the card's class and badge.
    pub state: &'static str,
    pub state_label: &'static str,
    pub balance: String,
    pub currency_label: String,
    pub advice: String,
    pub threshold: String,
    pub refresh_url: Option<&'static str>,
    pub refresh_seconds: u32,
}

impl PoolCard {
    pub fn new(stats: &TenantStats, refresh_url: Option<&'static str>) -> PoolCard {
        let tenant = &stats.tenant;
        let threshold = points(tenant.low_balance_threshold);
        let balance = points(tenant.points_allocation_balance);
        let label = &tenant.currency_label;
        let advice = match stats.state {
            PoolState::Empty => format!(
                "There are no {label} to delegate or award. Ask the platform \
                     administrator to allocate some."
            ),
            PoolState::Low => format!(
                "Only {balance} {label} left, below the low-balance mark of {threshold}. \
                     Ask the platform for a top-up before it runs out."
            ),
            PoolState::Ready => {
                format!("{balance} {label} available to delegate to leads and award to people.")
            }
        };
        PoolCard {
            state: stats.state.as_str(),
            state_label: pool_state_label(stats.state),
            balance,
            currency_label: tenant.currency_label.clone(),
            advice,
            threshold,
            refresh_url,
            refresh_seconds: REFRESH_SECONDS,
        }
    }

    /// The card as HTML, for a page to place with `|safe`.
    pub fn html(&self) -> askama::Result<String> {
        self.render()
    }
}
