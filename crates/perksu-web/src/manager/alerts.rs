//! The low-balance alerts that fired for the manager's tenant, newest first, for the
//! dashboard: the same store read as `GET /api/v1/points/alerts`.

use perksu_store::{AlertFilter, UserRow};

use crate::format::{points, when};
use crate::page::{PageError, Section};
use crate::session::Viewer;
use crate::WebState;

/// Alerts shown on the dashboard; older ones stay in the JSON API's listing.
const RECENT_ALERTS: i64 = 10;

pub struct AlertLine {
    /// "Company pool" or the lead's name.
    pub account: String,
    pub balance: String,
    pub threshold: String,
    pub fired: String,
    /// `pending`, `delivered` or `failed`; empty without a webhook.
    pub webhook: String,
}

pub async fn recent(
    state: &WebState,
    viewer: &Viewer,
    users: &[UserRow],
) -> Result<Vec<AlertLine>, PageError> {
    let filter = AlertFilter {
        tenant_id: None,
        alert_id: None,
        limit: RECENT_ALERTS,
        offset: 0,
    };
    let page = state
        .store
        .alerts(&viewer.actor, filter)
        .await
        .map_err(|e| PageError::from_store(e, viewer.chrome(Section::ManagerHome)))?;
    Ok(page
        .items
        .into_iter()
        .map(|alert| {
            let account = match alert.lead_id() {
                Some(lead_id) => users
                    .iter()
                    .find(|user| user.id == lead_id)
                    .map(|lead| format!("Lead {} {}", lead.first_name, lead.last_name))
                    .unwrap_or_else(|| "A lead".to_owned()),
                None => "Company pool".to_owned(),
            };
            AlertLine {
                account,
                balance: points(alert.balance),
                threshold: points(alert.threshold),
                fired: when(&alert.created_at),
                webhook: alert.webhook_status.unwrap_or_default(),
            }
        })
        .collect())
}
