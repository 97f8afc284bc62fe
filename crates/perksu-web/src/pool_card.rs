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
    pub title: &'static str,
    pub balance: String,
    pub currency_label: String,
    pub message: String,
    pub advice: String,
    pub threshold: String,
    pub refresh_url: Option<&'static str>,
    pub refresh_seconds: u32,
}

impl PoolCard {
    pub fn new(stats: &TenantStats, refresh_url: Option<&'static str>) -> PoolCard {
        let tenant = &stats.tenant;
        let threshold = points(tenant.low_balance_threshold);
        let (title, advice) = match stats.state {
            PoolState::Empty => (
                "The pool is empty",
                "Nothing can be delegated or awarded from the pool until the platform \
                 allocates more points."
                    .to_owned(),
            ),
            PoolState::Low => (
                "The pool is running low",
                format!(
                    "It has fallen below the low-balance mark of {threshold} {}. Consider \
                     asking the platform for a top-up.",
                    tenant.currency_label
                ),
            ),
            PoolState::Ready => (
                "The pool is ready",
                "Points can be delegated to leads and awarded to people.".to_owned(),
            ),
        };
        PoolCard {
            state: stats.state.as_str(),
            state_label: pool_state_label(stats.state),
            title,
            balance: points(tenant.points_allocation_balance),
            currency_label: tenant.currency_label.clone(),
            message: stats.message.clone(),
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
